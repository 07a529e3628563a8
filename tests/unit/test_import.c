/* test_import.c - the RFC 4180 splitter and the three list importers:
 * good inputs end up as the right entries and hashes (and survive a build
 * and a lookup), bad inputs name file:line and add nothing.
 */
#include "harness.h"

#include "csv.h"
#include "hwdb.h"
#include "import.h"

#define PDQ_A "f8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b22"
#define PDQ_B "d8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b23"
#define MD5_A "0123456789abcdef0123456789abcdef"
#define SHA1_A "0123456789abcdef0123456789abcdef01234567"
#define SHA256_A "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"

/* ---- csv.c -------------------------------------------------------------- */

struct rec {
	size_t n;
	unsigned long line;
	char f[CSV_MAX_FIELDS][64];
};

/* Split all of text; returns the number of records or the error. */
static int split(const char *text, struct rec *out, size_t cap, char *err)
{
	static struct csv_reader r;
	char *f[CSV_MAX_FIELDS];
	size_t n, k = 0;
	unsigned long line;
	int rc;

	csv_init(&r, text, strlen(text));
	while ((rc = csv_next(&r, f, CSV_MAX_FIELDS, &n, &line, err, 128)) > 0) {
		assert_true(k < cap);
		out[k].n = n;
		out[k].line = line;
		for (size_t i = 0; i < n; i++)
			snprintf(out[k].f[i], sizeof(out[k].f[i]), "%s", f[i]);
		k++;
	}
	return rc < 0 ? rc : (int)k;
}

static void test_csv_rfc4180(void **state)
{
	struct rec r[8];
	char err[128];
	(void)state;

	assert_int_equal(split("a,b,c\r\n1,,3", r, 8, err), 2);
	assert_int_equal(r[0].n, 3);
	assert_string_equal(r[0].f[2], "c");
	assert_int_equal(r[1].n, 3);
	assert_string_equal(r[1].f[1], "");
	assert_int_equal(r[1].line, 2);

	/* quoted: commas, doubled quotes, a line break inside */
	assert_int_equal(split("\"x, y\",\"say \"\"hi\"\"\",\"two\nlines\"\nnext,row\n", r, 8, err), 2);
	assert_string_equal(r[0].f[0], "x, y");
	assert_string_equal(r[0].f[1], "say \"hi\"");
	assert_string_equal(r[0].f[2], "two\nlines");
	assert_int_equal(r[1].line, 3); /* the quoted line break counts */
	assert_string_equal(r[1].f[1], "row");

	/* empty quoted field, trailing comma, BOM, blank line */
	assert_int_equal(split("\xef\xbb\xbf\"\",a,\n\nz", r, 8, err), 3);
	assert_int_equal(r[0].n, 3);
	assert_string_equal(r[0].f[0], "");
	assert_string_equal(r[0].f[1], "a");
	assert_string_equal(r[0].f[2], "");
	assert_int_equal(r[1].n, 1);
	assert_string_equal(r[1].f[0], "");
	assert_string_equal(r[2].f[0], "z");
	assert_int_equal(split("", r, 8, err), 0);
}

static void test_csv_errors(void **state)
{
	struct rec r[8];
	char err[128], big[CSV_MAX_RECORD + 64];
	(void)state;

	assert_int_equal(split("a,\"open\nb,c\n", r, 8, err), -EBADMSG);
	assert_non_null(strstr(err, "not closed"));
	assert_int_equal(split("ok\na\"b,c\n", r, 8, err), -EBADMSG);
	assert_non_null(strstr(err, "quote inside unquoted field 1"));
	assert_int_equal(split("\"a\"b,c\n", r, 8, err), -EBADMSG);
	assert_non_null(strstr(err, "after the closing quote"));
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	assert_int_equal(split(big, r, 8, err), -E2BIG);
	/* exactly full: the limit is the record buffer, NUL included */
	big[CSV_MAX_RECORD - 1] = '\0';
	assert_int_equal(split(big, r, 8, err), 1);
	big[CSV_MAX_RECORD - 1] = 'x';
	big[CSV_MAX_RECORD] = '\0';
	assert_int_equal(split(big, r, 8, err), -E2BIG);
	/* many empty fields: each costs its NUL */
	for (size_t i = 0; i < sizeof(big) - 1; i++)
		big[i] = ',';
	assert_int_equal(split(big, r, 8, err), -E2BIG);

	/* NUL inside a field, quoted or not */
	static struct csv_reader rd;
	char *f[4];
	size_t n;
	unsigned long line;
	csv_init(&rd, "a,b\0c\n", 6);
	assert_int_equal(csv_next(&rd, f, 4, &n, &line, err, sizeof(err)), -EBADMSG);
	csv_init(&rd, "\"a\0\"\n", 5);
	assert_int_equal(csv_next(&rd, f, 4, &n, &line, err, sizeof(err)), -EBADMSG);
	/* too many fields for the caller */
	csv_init(&rd, "a,b,c,d,e\n", 10);
	assert_int_equal(csv_next(&rd, f, 4, &n, &line, err, sizeof(err)), -E2BIG);
	/* after an error, the reader is at its end */
	assert_int_equal(csv_next(&rd, f, 4, &n, &line, err, sizeof(err)), 0);
}

/* ---- import.c ----------------------------------------------------------- */

static struct import_set *new_set(void)
{
	struct import_set *s = NULL;
	assert_int_equal(import_set_new(&s), 0);
	return s;
}

static int imp(struct import_set *s, const char *text, enum import_format fmt,
	       enum hw_model_id alg, char *err)
{
	static const struct import_defaults def = { "csam", "district" };
	return import_buffer(s, "list.txt", text, strlen(text), fmt, alg, &def, err, 256);
}

static void test_import_csv(void **state)
{
	struct import_set *s = new_set();
	struct hwdb_build_spec spec = { 0 };
	char err[256] = "";
	(void)state;

	const char *csv =
		"id,algorithm,hash,category,source,md5,sha256\r\n"
		"n-1,pdq," PDQ_A ",\"ncii, adult\",stopncii,,\r\n"
		"n-1,PDQ," PDQ_B ",\"ncii, adult\",stopncii,," SHA256_A "\r\n"
		"n-2,phash,0123456789ABCDEF,,ncmec," MD5_A ",\r\n"
		",md5," MD5_A ",,,,\r\n"
		"\r\n";
	assert_int_equal(imp(s, csv, IMPORT_CSV, HW_MODEL_NONE, err), 0);
	/* n-1 twice is one entry; the unnamed row is its own */
	assert_int_equal(import_entry_count(s), 3);
	assert_int_equal(import_hash_count(s, HW_MODEL_PDQ), 2);
	assert_int_equal(import_hash_count(s, HW_MODEL_PHASH), 1);
	assert_int_equal(import_hash_count(s, HW_MODEL_MD5), 2);
	assert_int_equal(import_hash_count(s, HW_MODEL_SHA256), 1);
	import_fill_spec(s, &spec);
	assert_int_equal(spec.nentries, 3);
	assert_string_equal(spec.entries[0].id, "n-1");
	assert_string_equal(spec.entries[0].category, "ncii, adult");
	assert_string_equal(spec.entries[0].source, "stopncii");
	/* defaults fill what a row leaves empty */
	assert_string_equal(spec.entries[1].category, "csam");
	assert_string_equal(spec.entries[1].source, "ncmec");
	assert_string_equal(spec.entries[2].id, "");
	assert_string_equal(spec.entries[2].source, "district");
	assert_int_equal(spec.ncolumns, 4);
	for (size_t c = 0; c < spec.ncolumns; c++) {
		if (spec.columns[c].model == HW_MODEL_PHASH) {
			assert_int_equal(spec.columns[c].hashes[0], 0x01);
			assert_int_equal(spec.columns[c].hashes[7], 0xef);
			assert_int_equal(spec.columns[c].entries[0], 1);
		}
		if (spec.columns[c].model == HW_MODEL_SHA256)
			assert_int_equal(spec.columns[c].entries[0], 0);
		if (spec.columns[c].model == HW_MODEL_PDQ) {
			assert_int_equal(spec.columns[c].entries[0], 0);
			assert_int_equal(spec.columns[c].entries[1], 0);
			assert_int_equal(spec.columns[c].hashes[32], 0xd8);
		}
	}
	import_set_free(s);
	import_set_free(NULL);
}

/* The input must fail with "list.txt:LINE:" and `what`, adding nothing. */
static void bad(enum import_format fmt, enum hw_model_id alg, const char *text,
		unsigned line, const char *what)
{
	struct import_set *s = new_set();
	char err[256] = "", want[32];

	/* something good first: it must survive the failed import */
	assert_int_equal(imp(s, PDQ_A "\n", IMPORT_HEX, HW_MODEL_PDQ, err), 0);
	int r = imp(s, text, fmt, alg, err);
	snprintf(want, sizeof(want), "list.txt:%u: ", line);
	if (r >= 0 || strncmp(err, want, strlen(want)) != 0 || !strstr(err, what))
		fail_msg("want '%s...%s', got %d '%s'", want, what, r, err);
	assert_int_equal(import_entry_count(s), 1);
	assert_int_equal(import_hash_count(s, HW_MODEL_PDQ), 1);
	for (int m = 0; m < HW_MODEL__MAX; m++)
		if (m != HW_MODEL_PDQ)
			assert_int_equal(import_hash_count(s, (enum hw_model_id)m), 0);
	import_set_free(s);
}

static void test_import_csv_errors(void **state)
{
	(void)state;
	bad(IMPORT_CSV, 0, "hash,category\n" PDQ_A ",x\n", 1, "algorithm and hash");
	bad(IMPORT_CSV, 0, "algorithm,hash,colour\npdq," PDQ_A ",red\n", 1, "unknown column 'colour'");
	bad(IMPORT_CSV, 0, "algorithm,hash,Hash\n", 1, "appears twice");
	bad(IMPORT_CSV, 0, "algorithm,hash\npdq," PDQ_A "\nfoo,00\n", 3, "unknown algorithm 'foo'");
	bad(IMPORT_CSV, 0, "algorithm,hash\npdq," PDQ_A "\npdq,abc\n", 3, "not a pdq hash (64 hex digits)");
	bad(IMPORT_CSV, 0, "algorithm,hash\npdq," PDQ_A "0\n", 2, "not a pdq hash");
	bad(IMPORT_CSV, 0, "algorithm,hash\nmd5,zz23456789abcdef0123456789abcdef\n", 2, "not a md5 hash");
	bad(IMPORT_CSV, 0, "algorithm,hash\npdq,\n", 2, "hash is empty");
	bad(IMPORT_CSV, 0, "algorithm,hash\npdq," PDQ_A ",extra\n", 2, "3 fields, but the header has 2");
	bad(IMPORT_CSV, 0, "algorithm,hash,md5\npdq," PDQ_A ",123\n", 2, "not a md5 hash");
	/* a record is reported on the line it starts on */
	bad(IMPORT_CSV, 0, "algorithm,hash,id\n\npdq," PDQ_A ",\"a\nb\"\n", 3, "control characters");
	bad(IMPORT_CSV, 0, "algorithm,hash,id\npdq," PDQ_A ",\"open\n", 2, "not closed");
	bad(IMPORT_CSV, 0, "algorithm,hash,id\npdq," PDQ_A ",a\"b\n", 2, "quote inside");
	bad(IMPORT_CSV, 0, "algorithm,hash,id,category\npdq," PDQ_A ",a,x\npdq," PDQ_B ",a,y\n", 3,
	    "id 'a' appeared before with category 'x'");
	bad(IMPORT_CSV, 0, "algorithm,hash,category\npdq," PDQ_A ",\"tab\there\"\n", 2, "control characters");
	bad(IMPORT_CSV, 0, "algorithm,hash,source\npdq," PDQ_A ",\xff\xfe\n", 2, "not UTF-8");
	char longid[300], id[HWDB_ID_MAX + 2];
	memset(id, 'a', HWDB_ID_MAX + 1);
	id[HWDB_ID_MAX + 1] = '\0';
	snprintf(longid, sizeof(longid), "algorithm,hash,id\npdq," PDQ_A ",%s\n", id);
	bad(IMPORT_CSV, 0, longid, 2, "id is 129 bytes long");
	bad(IMPORT_CSV, 0, "algorithm,hash\n\n", 2, "no hashes");
}

static void test_import_hex(void **state)
{
	struct import_set *s = new_set();
	struct hwdb_build_spec spec = { 0 };
	char err[256] = "";
	(void)state;

	assert_int_equal(imp(s, "# a list\r\n" SHA1_A "\r\n\r\n  " SHA1_A "  \n" SHA1_A,
			     IMPORT_HEX, HW_MODEL_SHA1, err), 0);
	assert_int_equal(import_entry_count(s), 3);
	assert_int_equal(import_hash_count(s, HW_MODEL_SHA1), 3);
	import_fill_spec(s, &spec);
	assert_string_equal(spec.entries[2].category, "csam");
	assert_string_equal(spec.entries[2].source, "district");
	assert_string_equal(spec.entries[2].id, "");
	import_set_free(s);

	bad(IMPORT_HEX, HW_MODEL_SHA1, SHA1_A "\n\n" SHA1_A "x\n", 3, "not a sha1 hash (40 hex digits)");
	bad(IMPORT_HEX, HW_MODEL_SHA1, "# only a comment\n", 2, "no hashes");
	s = new_set();
	assert_int_equal(import_buffer(s, "nul", SHA1_A "\n\0\n", 43, IMPORT_HEX, HW_MODEL_SHA1,
				       NULL, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "nul:2: NUL byte (is this a text file?)");
	assert_int_equal(import_entry_count(s), 0);
	import_set_free(s);

	s = new_set();
	assert_int_equal(imp(s, PDQ_A "\n", IMPORT_HEX, HW_MODEL_NONE, err), -EINVAL);
	assert_non_null(strstr(err, "--algorithm"));
	import_set_free(s);
}

static void test_import_pdq_csv(void **state)
{
	struct import_set *s = new_set();
	char err[256] = "";
	(void)state;

	/* header optional, paths with commas and quotes are not split */
	assert_int_equal(imp(s, "hash,quality,path\n" PDQ_A ",100,/a/b,c\"d.jpg\n" PDQ_B ",0,x.png\n",
			     IMPORT_PDQ_CSV, HW_MODEL_NONE, err), 0);
	assert_int_equal(imp(s, PDQ_A ",49,y.jpg\r\n", IMPORT_PDQ_CSV, HW_MODEL_NONE, err), 0);
	assert_int_equal(import_hash_count(s, HW_MODEL_PDQ), 3);
	import_set_free(s);

	bad(IMPORT_PDQ_CSV, 0, PDQ_A ",100,a\n" PDQ_A ",101,b\n", 2, "quality '101'");
	bad(IMPORT_PDQ_CSV, 0, PDQ_A ",x,a\n", 1, "quality 'x'");
	bad(IMPORT_PDQ_CSV, 0, PDQ_A "\n", 1, "hash,quality,path");
	bad(IMPORT_PDQ_CSV, 0, "hash,quality,path\n", 2, "no hashes");
	bad(IMPORT_PDQ_CSV, 0, "hash,quality,path\nhash,quality,path\n", 2, "quality 'quality'");
}

static void test_import_file(void **state)
{
	char dir[] = "/tmp/hwimport.XXXXXX", path[128], out[160], err[256] = "";
	struct import_set *s = new_set();
	struct hwdb_build_spec spec = { 0 };
	struct hwdb_match m[4];
	struct hwdb_entry e;
	struct hw_hash h;
	struct hwdb *db = NULL;
	FILE *fp;
	(void)state;

	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/list.csv", dir);
	snprintf(out, sizeof(out), "%s/list.hwdb", dir);
	assert_int_equal(import_file(s, path, IMPORT_CSV, HW_MODEL_NONE, NULL, err, sizeof(err)),
			 -ENOENT);
	assert_non_null(strstr(err, path));
	fp = fopen(path, "w");
	assert_non_null(fp);
	fputs("algorithm,hash,id,category,source,sha256\npdq," PDQ_A ",case-9,csam,ncmec," SHA256_A "\n", fp);
	fclose(fp);
	assert_int_equal(import_file(s, path, IMPORT_CSV, HW_MODEL_NONE, NULL, err, sizeof(err)), 0);

	/* through the builder and back */
	import_fill_spec(s, &spec);
	hwdb_spec_default_thresholds(&spec);
	spec.list_id = "t";
	spec.version = 1;
	assert_int_equal(hwdb_build(&spec, out, err, sizeof(err)), 0);
	assert_int_equal(hwdb_open(out, NULL, &db, err, sizeof(err)), 0);
	assert_int_equal(hw_hash_from_hex(HW_MODEL_PDQ, PDQ_B, &h), 0);
	assert_int_equal(hwdb_lookup(db, &h, -1, m, 4), 1); /* 2 bits apart */
	assert_true(m[0].distance == 2);
	assert_int_equal(hwdb_entry_get(db, m[0].entry, &e), 0);
	assert_string_equal(e.id, "case-9");
	assert_string_equal(e.category, "csam");
	assert_string_equal(e.source, "ncmec");
	assert_int_equal(hw_hash_from_hex(HW_MODEL_SHA256, SHA256_A, &h), 0);
	assert_int_equal(hwdb_lookup(db, &h, -1, m, 4), 1);
	assert_int_equal(m[0].model, HW_MODEL_SHA256);
	hwdb_close(db);
	import_set_free(s);
	hwt_rmtree(dir);

	enum import_format f;
	assert_int_equal(import_format_parse("pdq-csv", &f), 0);
	assert_int_equal(f, IMPORT_PDQ_CSV);
	assert_int_equal(import_format_parse("xml", &f), -EINVAL);
}

/* Many rows with and without ids: tables grow, ids still merge. */
static void test_import_many(void **state)
{
	struct import_set *s = new_set();
	size_t cap = 20000 * 100, len = 0;
	char *text = malloc(cap), err[256] = "";
	(void)state;

	len += (size_t)snprintf(text, cap, "algorithm,hash,id\n");
	for (int i = 0; i < 20000; i++) {
		char id[16] = "";
		if (i % 2)
			snprintf(id, sizeof(id), "id%d", i % 5000);
		len += (size_t)snprintf(text + len, cap - len, "phash,%016x,%s\n", i, id);
	}
	assert_int_equal(import_buffer(s, "many", text, len, IMPORT_CSV, HW_MODEL_NONE, NULL,
				       err, sizeof(err)), 0);
	/* odd rows use 2500 distinct ids (odd i % 5000), even rows have none */
	assert_int_equal(import_entry_count(s), 10000 + 2500);
	assert_int_equal(import_hash_count(s, HW_MODEL_PHASH), 20000);
	free(text);
	import_set_free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_csv_rfc4180),
		cmocka_unit_test(test_csv_errors),
		cmocka_unit_test(test_import_csv),
		cmocka_unit_test(test_import_csv_errors),
		cmocka_unit_test(test_import_hex),
		cmocka_unit_test(test_import_pdq_csv),
		cmocka_unit_test(test_import_file),
		cmocka_unit_test(test_import_many),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
