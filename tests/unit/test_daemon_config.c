/* test_daemon_config.c - hashwatch.conf parsing and validation: defaults,
 * every kind of bad value named with its key, repeated and unknown keys,
 * quoting, long continued lines, per-category thresholds, and the sample
 * configuration shipped in packaging/ (every key commented out) parses. */
#include "harness.h"

#include "config.h"
#include "confval.h"
#include "fileio.h"

#define MINIMAL "[scan]\nwatch = /home/*/Pictures\n[device]\nid = ASSET-1\n"

static struct config *parse_ok(const char *text)
{
	struct config *c = NULL;
	char err[512];
	int r = config_parse(text, "test.conf", &c, err, sizeof(err));
	if (r != 0)
		fail_msg("unexpected refusal: %s", err);
	return c;
}

static void expect_error(const char *text, const char *fragment)
{
	struct config *c = NULL;
	char err[512] = "";
	int r = config_parse(text, "test.conf", &c, err, sizeof(err));
	assert_int_equal(r, -EINVAL);
	assert_null(c);
	if (!strstr(err, fragment))
		fail_msg("error '%s' lacks '%s'", err, fragment);
	assert_non_null(strstr(err, "test.conf: "));
}

static void test_defaults(void **state)
{
	(void)state;
	struct config *c = parse_ok(MINIMAL);
	assert_int_equal(c->nwatch, 1);
	assert_string_equal(c->watch[0], "/home/*/Pictures");
	assert_int_equal(c->nexclude, 0);
	assert_int_equal(c->pdq_max_distance, 31);
	assert_int_equal(c->pdq_min_quality, 50);
	assert_int_equal(c->phash_max_distance, 8);
	assert_int_equal(c->dhash_max_distance, 8);
	assert_int_equal(c->min_signers, 1);
	assert_int_equal(c->min_matches, 1);
	assert_true(c->dihedral);
	assert_false(c->report_path);
	assert_int_equal(c->max_file_size, 64u << 20);
	assert_int_equal(c->max_pixels, 100000000u);
	assert_string_equal(c->lists_dir, HW_LOCALSTATEDIR "/hashwatch/lists");
	assert_string_equal(c->state_dir, HW_LOCALSTATEDIR "/hashwatch");
	assert_string_equal(c->device_id, "ASSET-1");
	assert_int_equal(strlen(c->digest_hex), 64);
	config_free(c);
}

static void test_values(void **state)
{
	(void)state;
	struct config *c = parse_ok(
		"[scan]\n"
		"watch = /home/*/Pictures \"/srv/My Photos\"\n"
		"  /home/*/Downloads\n" /* continuation line */
		"watch = /media/*\n"
		"exclude = */.cache */.thumbnails\n"
		"settle_ms = 0\n"
		"[lists]\nmin_signers = 2\n"
		"[policy]\npdq_max_distance = 20\nmin_matches = 2\nmin_matches.csam = 1\n"
		"dihedral = off\nreport_path = yes\n"
		"[limits]\nmax_file_size = 10MiB\nmax_pixels = 20M\nworkers = 3\ncpu_budget = 25\n"
		"[state]\ndir = /tmp/x\n[device]\nid = a.b_c:d-9\n");
	assert_int_equal(c->nwatch, 4);
	assert_string_equal(c->watch[1], "/srv/My Photos");
	assert_string_equal(c->watch[2], "/home/*/Downloads");
	assert_string_equal(c->watch[3], "/media/*");
	assert_int_equal(c->nexclude, 2);
	assert_int_equal(c->settle_ms, 0);
	assert_int_equal(c->min_signers, 2);
	assert_int_equal(c->pdq_max_distance, 20);
	assert_int_equal(config_min_matches(c, "csam"), 1);
	assert_int_equal(config_min_matches(c, "ncii"), 2);
	assert_false(c->dihedral);
	assert_true(c->report_path);
	assert_int_equal(c->max_file_size, 10u << 20);
	assert_int_equal(c->max_pixels, 20000000u);
	assert_int_equal(c->workers, 3);
	assert_int_equal(c->cpu_budget, 25);
	config_free(c);
}

static void test_errors(void **state)
{
	(void)state;
	expect_error("[scan]\nwatch = /x\n", "[device] id is required");
	expect_error("[device]\nid = A\n", "[scan] watch is required");
	expect_error(MINIMAL "[scan]\nwach = /x\n", "unknown key 'wach' in [scan]");
	expect_error(MINIMAL "[scna]\nwatch = /x\n", "unknown section [scna]");
	expect_error("[scan]\nwatch = Pictures\n[device]\nid = A\n",
		     "'Pictures' is not an absolute path pattern");
	expect_error("[scan]\nwatch = \"/a b\n[device]\nid = A\n", "unbalanced double quote");
	expect_error(MINIMAL "[limits]\nworkers = 0\n",
		     "[limits] workers = '0': expected a whole number from 1 to 64");
	expect_error(MINIMAL "[limits]\nworkers = 2x\n", "[limits] workers = '2x'");
	expect_error(MINIMAL "[limits]\nworkers = -1\n", "[limits] workers = '-1'");
	expect_error(MINIMAL "[limits]\nmax_file_size = 10Q\n",
		     "[limits] max_file_size = '10Q': expected a size in bytes");
	expect_error(MINIMAL "[limits]\nmax_file_size = 99999999999999999999999\n",
		     "[limits] max_file_size");
	expect_error(MINIMAL "[policy]\ndihedral = maybe\n", "[policy] dihedral = 'maybe': expected yes or no");
	expect_error(MINIMAL "[policy]\npdq_max_distance = 300\n", "[policy] pdq_max_distance = '300'");
	expect_error(MINIMAL "[policy]\nmin_matches.csam = 0\n", "[policy] min_matches.csam = '0'");
	expect_error(MINIMAL "[policy]\nmin_matches. = 2\n", "a category name");
	expect_error(MINIMAL "[policy]\nmin_matches.x = 2\nmin_matches.x = 3\n", "set twice");
	expect_error(MINIMAL "[lists]\ndir = relative/path\n",
		     "[lists] dir = 'relative/path': expected an absolute path");
	expect_error("[scan]\nwatch = /x\n[device]\nid = Alice Smith\n", "[device] id = 'Alice Smith'");
	expect_error(MINIMAL "[limits]\nworkers = 2\nworkers = 3\n", "[limits] workers is set twice");
	expect_error(MINIMAL "just words\n", "line 5: not 'key = value'");
	expect_error("watch = /x\n", "unknown section []");
}

static void test_long_lines(void **state)
{
	(void)state;
	/* a watch list longer than inih's default 200-character line */
	char *text = malloc(20000);
	size_t o = 0;
	assert_non_null(text);
	o += (size_t)snprintf(text + o, 20000 - o, "[scan]\nwatch =");
	for (int i = 0; i < 40; i++)
		o += (size_t)snprintf(text + o, 20000 - o, " /srv/share-%02d/Pictures", i);
	snprintf(text + o, 20000 - o, "\n[device]\nid = A\n");
	struct config *c = parse_ok(text);
	assert_int_equal(c->nwatch, 40);
	assert_string_equal(c->watch[39], "/srv/share-39/Pictures");
	config_free(c);
	/* over the hard line limit: refused with advice */
	memset(text, 'x', 19990);
	memcpy(text, "[scan]\nwatch = /", 16);
	text[19990] = '\0';
	expect_error(text, "longer than");
	free(text);
}

static void test_sizes(void **state)
{
	uint64_t v;
	(void)state;
	assert_int_equal(confval_size("64M", &v), 0);
	assert_int_equal(v, 64u << 20);
	assert_int_equal(confval_size("1kib", &v), 0);
	assert_int_equal(v, 1024);
	assert_int_equal(confval_size("2G", &v), 0);
	assert_int_equal(v, 2ull << 30);
	assert_int_equal(confval_size("", &v), -EINVAL);
	assert_int_equal(confval_size(" 5", &v), -EINVAL);
	assert_int_equal(confval_size("99999999999999999999G", &v), -ERANGE);
	assert_int_equal(confval_count("50M", &v), 0);
	assert_int_equal(v, 50000000);
	assert_int_equal(confval_count("3k", &v), 0);
	assert_int_equal(v, 3000);
	assert_int_equal(confval_count("3m", &v), -EINVAL);
}

/* [uplink] belongs to hashwatch-uplink, which shares the file: the scanner
 * accepts it whatever it holds, and still refuses unknown sections. */
static void test_uplink_section(void **state)
{
	(void)state;
	struct config *c = parse_ok(MINIMAL "[uplink]\nurl = https://alerts.example\n"
					    "retry_min = 5\nnot_a_scanner_key = 1\n");
	assert_string_equal(c->device_id, "ASSET-1");
	config_free(c);
	expect_error(MINIMAL "[uplinks]\nurl = https://x\n", "unknown section [uplinks]");
}

static void test_digest_and_load(void **state)
{
	char dir[] = "/tmp/hwconf.XXXXXX", p[256], err[512];
	struct config *a = NULL, *b = NULL;
	(void)state;

	assert_non_null(mkdtemp(dir));
	snprintf(p, sizeof(p), "%s/hw.conf", dir);
	assert_int_equal(hw_write_atomic(p, MINIMAL, strlen(MINIMAL), 0644), 0);
	assert_int_equal(config_load(p, &a, err, sizeof(err)), 0);
	assert_int_equal(hw_write_atomic(p, MINIMAL "\n", strlen(MINIMAL) + 1, 0644), 0);
	assert_int_equal(config_load(p, &b, err, sizeof(err)), 0);
	/* the digest is of the bytes: any change shows */
	assert_string_not_equal(a->digest_hex, b->digest_hex);
	config_free(a);
	config_free(b);
	unlink(p);
	assert_int_equal(config_load(p, &a, err, sizeof(err)), -ENOENT);
	assert_non_null(strstr(err, "--config FILE"));
	hwt_rmtree(dir);
}

/* The sample shipped with the package: valid, every key documented. */
static void test_sample(void **state)
{
	struct config *c = NULL;
	char err[512];
	void *buf = NULL;
	size_t len;
	(void)state;

	if (access("packaging/hashwatch.conf", R_OK) != 0) {
		fprintf(stderr, "SKIP: packaging/hashwatch.conf not found (run from the top folder)\n");
		skip();
	}
	assert_int_equal(config_load("packaging/hashwatch.conf", &c, err, sizeof(err)), 0);
	config_free(c);
	assert_int_equal(hw_read_file("packaging/hashwatch.conf", 1 << 20, &buf, &len), 0);
	static const char *const keys[] = {
		"watch", "exclude", "settle_ms", "rescan_interval", "max_depth", "dir",
		"trusted_keys", "min_signers", "pdq_max_distance", "pdq_min_quality",
		"phash_max_distance", "dhash_max_distance", "ahash_max_distance", "dihedral",
		"min_matches", "report_path", "max_file_size", "max_pixels", "queue_length",
		"workers", "decode_timeout_ms", "cpu_budget", "cache_entries", "id",
	};
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		char pat[64];
		snprintf(pat, sizeof(pat), "\n%s = ", keys[i]);
		char pat2[64];
		snprintf(pat2, sizeof(pat2), "\n;%s = ", keys[i]);
		if (!strstr(buf, pat) && !strstr(buf, pat2))
			fail_msg("packaging/hashwatch.conf does not show key %s", keys[i]);
	}
	free(buf);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_values),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_long_lines),
		cmocka_unit_test(test_sizes),
		cmocka_unit_test(test_uplink_section),
		cmocka_unit_test(test_digest_and_load),
		cmocka_unit_test(test_sample),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
