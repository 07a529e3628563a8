/* test_conformance.c - the decoder front plus PDQ against Meta's reference
 * on its own test images (testdata/pdq): the exact mode must hand PDQ the
 * very pixels the reference's decoder did (decoded_ppm/), and give its
 * hashes (cpp_pdq.csv, cpp_pdqdih_across.csv): distance 0 for every JPEG
 * that is not CMYK, within 10 bits for the other files of quality >= 80
 * (the PDQ README's rule for other implementations).  The fast mode is held
 * to the 10 bits for every file of quality >= 80.  Distances are printed as
 * a distribution.  The hash tests skip, saying so, while PDQ is a stub.
 */
#include "harness.h"

#include "decode.h"
#include "fileio.h"
#include "hasher.h"
#include "pdq.h"
#include "pnm.h"

#define MAX_ROWS 128
#define MAX_FILE (64u << 20)

struct row {
	char path[256];           /* relative to testdata/pdq */
	int quality;
	char hex[PDQ_NDIHEDRAL][PDQ_HEX_LEN + 1];
	int nhash;                /* 1, or 8 with the dihedral variants */
};

/* Read "hash,quality,path" (nhash = 1) or the eight dihedral hashes then
 * quality and path (nhash = 8), skipping the header line. */
static size_t read_csv(const char *name, int nhash, struct row *rows)
{
	char path[512], line[1024];
	size_t n = 0;
	FILE *f;

	snprintf(path, sizeof(path), "%s/pdq/expected/measured/%s", hwt_testdata(), name);
	f = fopen(path, "r");
	assert_non_null(f);
	while (fgets(line, sizeof(line), f) && n < MAX_ROWS) {
		char *save = NULL, *tok = strtok_r(line, ",\n", &save);
		int i;

		if (!tok || strlen(tok) != PDQ_HEX_LEN)
			continue; /* header */
		for (i = 0; i < nhash && tok; i++) {
			snprintf(rows[n].hex[i], sizeof(rows[n].hex[i]), "%s", tok);
			tok = strtok_r(NULL, ",\n", &save);
		}
		assert_non_null(tok);
		rows[n].quality = (int)strtol(tok, NULL, 10);
		tok = strtok_r(NULL, ",\n", &save);
		assert_non_null(tok);
		snprintf(rows[n].path, sizeof(rows[n].path), "%s", tok);
		rows[n].nhash = nhash;
		n++;
	}
	fclose(f);
	assert_true(n > 0);
	return n;
}

static void *read_image(const char *rel, size_t *len)
{
	char path[512];
	void *buf = NULL;

	snprintf(path, sizeof(path), "%s/pdq/%s", hwt_testdata(), rel);
	if (hw_read_file(path, MAX_FILE, &buf, len) < 0)
		fail_msg("cannot read %s", path);
	return buf;
}

static bool ends_with(const char *s, const char *suffix)
{
	size_t a = strlen(s), b = strlen(suffix);

	return a >= b && strcmp(s + a - b, suffix) == 0;
}

/* The files held to distance 0: JPEGs whose colours are not CMYK. */
static bool must_be_exact(const char *path)
{
	return ends_with(path, ".jpg") && !strstr(path, "CMYK");
}

/* PDQ is still the placeholder on this branch: skip, saying why. */
static void require_pdq(void)
{
	uint8_t px[16 * 16] = { 0 };
	struct hw_image img = { 16, 16, 1, 16, px };
	struct pdq_result res;

	if (pdq_hash_image(&img, &res) == -ENOSYS) {
		fprintf(stderr, "SKIP: PDQ is not built yet (pdq_hash_image returns ENOSYS)\n");
		skip();
	}
}

/* Skip, saying why, without the shared test data. */
static void require_data(void)
{
	char dir[512];

	snprintf(dir, sizeof(dir), "%s/pdq/expected/measured", hwt_testdata());
	HWT_REQUIRE_PATH(dir);
}

static int setup(void **state)
{
	(void)state;
	return decode_init("test_conformance") == 0 ? 0 : -1;
}

/* Exact mode gives the pixels the reference's decoder gave, bit for bit,
 * for all 21 files of decoded_ppm/ (JPEG incl. CMYK and grey, PNG with
 * alpha, bilevel). */
static void test_exact_pixels(void **state)
{
	static struct row rows[MAX_ROWS];
	size_t n, compared = 0;
	(void)state;

	require_data();
	n = read_csv("cpp_pdq.csv", 1, rows);
	for (size_t i = 0; i < n; i++) {
		char pnm[512], flat[256];
		struct hw_image want, got;
		struct decode_opts o = { .mode = DECODE_EXACT };
		char err[256];
		size_t len;
		/* decoded_ppm name: "images/" dropped, '/' -> '_', .pnm */
		snprintf(flat, sizeof(flat), "%s", rows[i].path + strlen("images/"));
		for (char *p = flat; *p; p++)
			if (*p == '/')
				*p = '_';
		*strrchr(flat, '.') = '\0';
		snprintf(pnm, sizeof(pnm), "%s/pdq/decoded_ppm/%s.pnm", hwt_testdata(), flat);
		if (hwt_pnm_read(pnm, &want) < 0)
			continue; /* only 21 files have their decoded pixels */
		void *buf = read_image(rows[i].path, &len);
		if (decode_buffer(buf, len, &o, &got, NULL, err, sizeof(err)) != 0)
			fail_msg("%s: %s", rows[i].path, err);
		assert_int_equal(got.width, want.width);
		assert_int_equal(got.height, want.height);
		/* ImageMagick writes a grey-looking RGB JPEG as P5; compare
		 * every channel against the grey value then */
		for (uint32_t y = 0; y < want.height; y++)
			for (uint32_t x = 0; x < want.width; x++)
				for (uint32_t c = 0; c < 3; c++) {
					uint8_t a = hw_image_px(&got, x, y)[got.channels == 3 ? c : 0];
					uint8_t b = hw_image_px(&want, x, y)[want.channels == 3 ? c : 0];
					if (a != b)
						fail_msg("%s: pixel %u,%u channel %u is %u, reference %u",
							 rows[i].path, x, y, c, a, b);
				}
		hw_image_free(&got);
		hw_image_free(&want);
		free(buf);
		compared++;
	}
	print_message("# exact decode identical to the reference's pixels: %zu files\n", compared);
	assert_int_equal(compared, 21);
}

struct tally {
	int count[PDQ_BITS + 1];
	int n;
};

static void tally_print(const struct tally *t, const char *what)
{
	print_message("# PDQ distance to the reference, %s (%d hashes):", what, t->n);
	for (int d = 0; d <= PDQ_BITS; d++)
		if (t->count[d])
			print_message(" %d bits: %d", d, t->count[d]);
	print_message("\n");
}

/* Hash every row's file in `mode` and hold each variant to the rules. */
static void check_rows(const struct row *rows, size_t n, enum decode_mode mode,
		       const char *what)
{
	struct tally t = { { 0 }, 0 };
	int failures = 0;

	for (size_t i = 0; i < n; i++) {
		struct decode_opts o = { .mode = mode };
		struct hasher_result res;
		char err[256];
		size_t len;
		void *buf = read_image(rows[i].path, &len);
		int r = hasher_run(buf, len, 1u << HW_MODEL_PDQ,
				   rows[i].nhash > 1 ? HASHER_DIHEDRAL : 0, &o, &res,
				   err, sizeof(err));

		free(buf);
		if (r != 0)
			fail_msg("%s: %s", rows[i].path, err);
		for (int v = 0; v < rows[i].nhash; v++) {
			struct pdq_hash got, want;
			assert_int_equal(pdq_from_hex(rows[i].hex[v], &want), 0);
			memcpy(got.bytes, rows[i].nhash > 1 ? res.pdq_dihedral.v[v].bytes
							    : res.hash[HW_MODEL_PDQ].bytes,
			       PDQ_BYTES);
			int d = pdq_distance(&got, &want);
			bool exact = mode == DECODE_EXACT && must_be_exact(rows[i].path);
			t.count[d]++;
			t.n++;
			bool bad = (exact && d != 0) || (rows[i].quality >= 80 && d > 10);
			if (bad || d > 10)
				print_message("# %s variant %d: %d bits (quality %d)%s\n",
					      rows[i].path, v, d, rows[i].quality,
					      bad ? "" : ", below quality 80: not held");
			failures += bad;
		}
		if (mode == DECODE_EXACT && must_be_exact(rows[i].path) &&
		    res.hash[HW_MODEL_PDQ].quality != rows[i].quality) {
			print_message("# %s: quality %d, reference %d\n", rows[i].path,
				      res.hash[HW_MODEL_PDQ].quality, rows[i].quality);
			failures++;
		}
	}
	tally_print(&t, what);
	assert_int_equal(failures, 0);
}

/* One reference CSV hashed in one mode. */
static void check_csv(const char *csv, int nhash, enum decode_mode mode,
		      const char *what)
{
	static struct row rows[MAX_ROWS];

	require_data();
	require_pdq();
	check_rows(rows, read_csv(csv, nhash, rows), mode, what);
}

static void test_pdq_exact(void **state)
{
	(void)state;
	check_csv("cpp_pdq.csv", 1, DECODE_EXACT, "exact decode");
}

static void test_pdq_fast(void **state)
{
	(void)state;
	check_csv("cpp_pdq.csv", 1, DECODE_FAST, "fast decode");
}

static void test_pdq_dihedral_exact(void **state)
{
	(void)state;
	check_csv("cpp_pdqdih_across.csv", PDQ_NDIHEDRAL, DECODE_EXACT,
		  "dihedral variants, exact decode");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_exact_pixels),
		cmocka_unit_test(test_pdq_exact),
		cmocka_unit_test(test_pdq_fast),
		cmocka_unit_test(test_pdq_dihedral_exact),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}
