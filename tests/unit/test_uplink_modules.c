/* test_uplink_modules.c - the uplink's modules on their own: configuration checks
 * (every key, defaults, mistakes named), back-off bounds and Retry-After,
 * the checks on an envelope before it is sent (the body is the file's
 * bytes, unchanged), and the spool on a real folder (what counts as an
 * alert, oldest first under a count limit, size limit, symlinks, deletion,
 * setting aside without ever replacing). */
#include "harness.h"

#include <fcntl.h>
#include <sys/stat.h>

#include <json-c/json.h>
#include <sodium.h>

#include "backoff.h"
#include "fileio.h"
#include "spool.h"
#include "upconf.h"
#include "wire.h"

/* ---- configuration ---- */

static const char good_conf[] = "[scan]\n"
				"watch = /home/*/Pictures\n"
				"[uplink]\n"
				"url = https://alerts.example.org:8443/hashwatch/\n"
				"ca_file = /etc/hashwatch/ca.pem\n"
				"[state]\n"
				"dir = /var/lib/hw\n";

static void assert_numbers(const struct upconf *c, unsigned timeout, unsigned rmin,
			   unsigned rmax, unsigned batch, uint64_t max_size)
{
	assert_int_equal(c->timeout_s, timeout);
	assert_int_equal(c->retry_min_s, rmin);
	assert_int_equal(c->retry_max_s, rmax);
	assert_int_equal(c->batch, batch);
	assert_int_equal(c->max_file_size, max_size);
}

static void test_conf_good_and_defaults(void **state)
{
	struct upconf *c = NULL;
	char err[512] = "";
	(void)state;

	assert_int_equal(upconf_parse(good_conf, "t.conf", &c, err, sizeof(err)), 0);
	/* the trailing '/' is dropped: paths are appended to the URL */
	assert_string_equal(c->url, "https://alerts.example.org:8443/hashwatch");
	assert_string_equal(c->ca_file, "/etc/hashwatch/ca.pem");
	assert_null(c->pin);
	assert_null(c->device_id);
	assert_string_equal(c->spool_dir, "/var/lib/hw/spool");
	assert_numbers(c, 30, 5, 600, 100, 64 * 1024);
	assert_non_null(strstr(c->uplink_state_dir, "hashwatch-uplink"));
	upconf_free(c);
	upconf_free(NULL);
}

static void test_conf_all_keys(void **state)
{
	static const char text[] =
		"[uplink]\nurl = https://10.0.0.5\ntimeout = 7\nretry_min = 2\nretry_max = 9\n"
		"batch = 3\nmax_file_size = 1M\nstate_dir = /x/u\n"
		"pin = sha256//AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=;"
		"sha256//BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBA=\n"
		"[device]\nid = ASSET-0042\n";
	struct upconf *c = NULL;
	char err[512] = "";
	(void)state;

	assert_int_equal(upconf_parse(text, "t.conf", &c, err, sizeof(err)), 0);
	assert_string_equal(c->url, "https://10.0.0.5");
	assert_numbers(c, 7, 2, 9, 3, 1024 * 1024);
	assert_string_equal(c->uplink_state_dir, "/x/u");
	assert_non_null(strstr(c->pin, ";sha256//BBBB"));
	assert_string_equal(c->device_id, "ASSET-0042");
	assert_null(c->ca_file);
	upconf_free(c);
}

static void test_conf_mistakes_named(void **state)
{
	static const struct {
		const char *text;
		const char *want; /* in the message */
	} cases[] = {
		{ "[state]\ndir = /v\n", "[uplink] url is missing" },
		{ "[uplink]\nurl = http://a.example\n", "must start with https://" },
		{ "[uplink]\nurl = ftp://a.example\n", "must start with https://" },
		{ "[uplink]\nurl = not a url\n", "[uplink] url" },
		{ "[uplink]\nurl = https://a.example/?x=1\n", "query" },
		{ "[uplink]\nurl = https://a.example/#f\n", "fragment" },
		{ "[uplink]\nurl = https://u:p@a.example/\n", "user name" },
		{ "[uplink]\nurl = https://a.example\ntimeout = 0\n", "[uplink] timeout" },
		{ "[uplink]\nurl = https://a.example\ntimeout = 121\n", "1 to 120" },
		{ "[uplink]\nurl = https://a.example\ntimeout = -1\n", "[uplink] timeout" },
		{ "[uplink]\nurl = https://a.example\nbatch = 99999999999999999999\n", "[uplink] batch" },
		{ "[uplink]\nurl = https://a.example\nmax_file_size = 10G\n", "max_file_size" },
		{ "[uplink]\nurl = https://a.example\nretry_min = 10\nretry_max = 5\n",
		  "retry_max = 5 is smaller than retry_min = 10" },
		{ "[uplink]\nurl = https://a.example\nca_file = ca.pem\n", "absolute path" },
		{ "[uplink]\nurl = https://a.example\npin = sha256//short\n", "[uplink] pin" },
		{ "[uplink]\nurl = https://a.example\npin = sha1//AAAAAAAAAAAAAAAAAAAAAAAAAAA=\n",
		  "[uplink] pin" },
		{ "[uplink]\nurl = https://a.example\nverify_peer = no\n", "unknown key 'verify_peer'" },
		{ "[uplink]\nurl = https://a.example\nurl = https://b.example\n", "given twice" },
		{ "[uplink]\nurl = https://a.example\n[device]\nid = a b\n", "[device] id" },
		{ "[uplink]\nurl = https://a.example\n[device]\nid = \n", "[device] id" },
		{ "[uplink]\nurl = https://a.example\nthis is not ini\n", "line 3" },
	};
	(void)state;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct upconf *c = NULL;
		char err[512] = "";
		int r = upconf_parse(cases[i].text, "f.conf", &c, err, sizeof(err));
		if (r != -EINVAL || !strstr(err, cases[i].want) || strncmp(err, "f.conf: ", 8) != 0)
			fail_msg("case %zu: r=%d, message '%s', expected '%s'", i, r, err,
				 cases[i].want);
		assert_null(c);
	}
}

static void test_conf_load(void **state)
{
	char dir[] = "/tmp/hwtest.XXXXXX", path[300], err[512];
	struct upconf *c = NULL;
	(void)state;

	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/h.conf", dir);
	assert_int_equal(upconf_load(path, &c, err, sizeof(err)), -ENOENT);
	assert_non_null(strstr(err, path));
	assert_int_equal(hw_write_atomic(path, good_conf, strlen(good_conf), 0600), 0);
	assert_int_equal(upconf_load(path, &c, err, sizeof(err)), 0);
	assert_string_equal(c->path, path);
	upconf_free(c);
	/* a NUL byte: not silently cut off at it */
	assert_int_equal(hw_write_atomic(path, "[uplink]\0url = x\n", 17, 0600), 0);
	assert_int_equal(upconf_load(path, &c, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "NUL"));
	hwt_rmtree(dir);
}

/* ---- back-off ---- */

static void test_backoff_bounds(void **state)
{
	const uint64_t S = BACKOFF_USEC_PER_SEC;
	struct backoff b;
	(void)state;

	backoff_init(&b, 5 * S, 600 * S);
	/* d = 5, 10, 20, ... 320, 600, 600: each delay in [d/2, d] */
	uint64_t d = 5 * S;
	for (int i = 0; i < 12; i++) {
		uint64_t got = backoff_fail(&b, 0, NULL);
		if (got < d / 2 || got > d)
			fail_msg("failure %d: delay %llu us outside [%llu, %llu]", i + 1,
				 (unsigned long long)got, (unsigned long long)(d / 2),
				 (unsigned long long)d);
		d = d * 2 > 600 * S ? 600 * S : d * 2;
	}
	backoff_reset(&b);
	uint64_t first = backoff_fail(&b, 0, NULL);
	assert_true(first >= 5 * S / 2 && first <= 5 * S);
}

static void test_backoff_jitter_spreads(void **state)
{
	const uint64_t S = BACKOFF_USEC_PER_SEC;
	uint64_t lo = UINT64_MAX, hi = 0;
	(void)state;

	/* 200 laptops failing at once must not all come back together. */
	for (int i = 0; i < 200; i++) {
		struct backoff b;
		backoff_init(&b, 60 * S, 600 * S);
		uint64_t v = backoff_fail(&b, 0, NULL);
		lo = v < lo ? v : lo;
		hi = v > hi ? v : hi;
	}
	assert_true(hi - lo > 20 * S);
}

static void test_backoff_retry_after(void **state)
{
	const uint64_t S = BACKOFF_USEC_PER_SEC;
	struct backoff b;
	bool capped = true;
	(void)state;

	backoff_init(&b, 1 * S, 2 * S);
	/* Retry-After longer than the back-off (and than its cap) wins. */
	assert_int_equal(backoff_fail(&b, 90 * S, &capped), 90 * S);
	assert_false(capped);
	/* shorter: the back-off's own delay is kept */
	uint64_t v = backoff_fail(&b, 1, &capped);
	assert_true(v >= 1 * S && v <= 2 * S);
	/* absurd: cut to an hour, and said so */
	assert_int_equal(backoff_fail(&b, 86400 * S, &capped), BACKOFF_RETRY_AFTER_MAX);
	assert_true(capped);
}

/* ---- wire ---- */

/* An envelope as the scanner writes it: pretty-printed, newline at the
 * end, around the base64 of the exact payload bytes (the signature is
 * the receiver's to check; any base64 does here). */
static char *envelope(const char *format, const char *payload)
{
	size_t plen = strlen(payload);
	size_t cap64 = sodium_base64_ENCODED_LEN(plen, sodium_base64_VARIANT_ORIGINAL);
	char *p64 = malloc(cap64), *out = malloc(cap64 + 200);

	assert_non_null(p64);
	assert_non_null(out);
	sodium_bin2base64(p64, cap64, (const unsigned char *)payload, plen,
			  sodium_base64_VARIANT_ORIGINAL);
	snprintf(out, cap64 + 200,
		 "{\n  \"format\": \"%s\",\n  \"payload\": \"%s\",\n  \"sig\": \"c2lnbmF0dXJl\",\n"
		 "  \"device_pub\": \"a2V5\"\n}\n",
		 format, p64);
	free(p64);
	return out;
}

/* Check env as kind; it must pass, and the body must be env itself: the
 * uplink sends the scanner's bytes unchanged. */
static void check_ok(enum wire_kind kind, const char *env, struct wire_msg *ret)
{
	char why[256] = "";
	if (wire_check(kind, env, strlen(env), ret, why, sizeof(why)) != 0)
		fail_msg("refused: %s", why);
	assert_ptr_equal(ret->body, env);
	assert_int_equal(ret->len, strlen(env));
	assert_non_null(ret->record);
}

static void test_wire_alert(void **state)
{
	static const char payload[] =
		"{\"v\":1,\"alert_id\":\"0123456789abcdef0123456789abcdef\",\"device_id\":\"ASSET-7\","
		"\"note\":\"a\\/b \\u00e9\",  \"distance\":12}";
	struct wire_msg m = { 0 };
	char why[256] = "";
	(void)state;

	char *env = envelope(WIRE_ALERT_FORMAT, payload);
	check_ok(WIRE_ALERT, env, &m);
	assert_string_equal(m.alert_id, "0123456789abcdef0123456789abcdef");
	assert_string_equal(m.device_id, "ASSET-7");
	assert_int_equal(json_object_get_int(json_object_object_get(m.record, "distance")), 12);
	wire_msg_done(&m);
	wire_msg_done(&m); /* twice: harmless */
	/* the same envelope is not a heartbeat */
	assert_int_equal(wire_check(WIRE_HEARTBEAT, env, strlen(env), &m, why, sizeof(why)),
			 -EBADMSG);
	assert_non_null(strstr(why, "format"));
	assert_null(m.record);
	free(env);
}

static void test_wire_heartbeat(void **state)
{
	static const char payload[] = "{\"v\":1,\"device_id\":\"ASSET-7\",\"audit_seq\":9,\"lists\":[]}";
	struct wire_msg m = { 0 };
	(void)state;

	char *env = envelope(WIRE_HEARTBEAT_FORMAT, payload);
	check_ok(WIRE_HEARTBEAT, env, &m);
	assert_string_equal(m.alert_id, "");
	assert_string_equal(m.device_id, "ASSET-7");
	wire_msg_done(&m);
	free(env);
}

static void test_wire_refuses(void **state)
{
	static const struct {
		const char *payload; /* NULL: use env as the whole file */
		const char *env;
		const char *want;
	} cases[] = {
		{ NULL, "", "not a JSON object" },
		{ NULL, "[1,2]", "not a JSON object" },
		{ NULL, "{\"format\":\"hashwatch-alert/1\",\"payload\":\"e30=\"", "not a JSON object" },
		{ NULL, "{\"format\":\"hashwatch-alert/1\"} trailing", "not a JSON object" },
		{ NULL, "{\"format\":\"hashwatch-alert/2\",\"payload\":\"e30=\",\"sig\":\"x\"}", "format" },
		{ NULL, "{\"format\":\"hashwatch-alert/1\",\"sig\":\"x\"}", "'payload'" },
		{ NULL, "{\"format\":\"hashwatch-alert/1\",\"payload\":\"e30=\"}", "'sig'" },
		{ NULL, "{\"format\":\"hashwatch-alert/1\",\"payload\":\"!!\",\"sig\":\"x\"}", "base64" },
		{ "{\"alert_id\":\"a1\"}", NULL, "device_id" },
		{ "{\"device_id\":\"D\"}", NULL, "alert_id" },
		{ "{\"device_id\":\"D\",\"alert_id\":\"a b\"}", NULL, "alert_id" },
		{ "{\"device_id\":\"D\",\"alert_id\":\"a\\nb\"}", NULL, "alert_id" },
		{ "{\"device_id\":\"D\",\"alert_id\":17}", NULL, "alert_id" },
		{ "{\"device_id\":\"D\",\"alert_id\":\"a1\"}{}", NULL, "exactly one JSON object" },
		{ "[\"device_id\"]", NULL, "exactly one JSON object" },
		{ "{\"device_id\":\"D\",\"alert_id\":\"\xff\"}", NULL, "exactly one JSON object" },
	};
	(void)state;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct wire_msg m = { 0 };
		char why[256] = "";
		char *env = cases[i].payload ? envelope(WIRE_ALERT_FORMAT, cases[i].payload)
					     : strdup(cases[i].env);
		int r = wire_check(WIRE_ALERT, env, strlen(env), &m, why, sizeof(why));
		if (r != -EBADMSG || !strstr(why, cases[i].want))
			fail_msg("case %zu: r=%d why='%s', expected '%s'", i, r, why, cases[i].want);
		assert_null(m.record);
		free(env);
	}
	/* A NUL inside the file is refused, not read up to. */
	struct wire_msg m = { 0 };
	char why[64];
	assert_int_equal(wire_check(WIRE_ALERT, "{}\0{}", 5, &m, why, sizeof(why)), -EBADMSG);
}

/* ---- spool ---- */

static void put(const char *dir, const char *name, const char *text, time_t mtime)
{
	char p[512];
	snprintf(p, sizeof(p), "%s/%s", dir, name);
	assert_int_equal(hw_write_atomic(p, text, strlen(text), 0640), 0);
	if (mtime) {
		struct timespec ts[2] = { { mtime, 0 }, { mtime, 0 } };
		assert_int_equal(utimensat(AT_FDCWD, p, ts, 0), 0);
	}
}

static void test_spool_classify(void **state)
{
	(void)state;
	assert_int_equal(spool_classify("0123abcd.json"), SPOOL_ALERT);
	assert_int_equal(spool_classify("heartbeat"), SPOOL_HEARTBEAT);
	assert_int_equal(spool_classify("0123abcd.json.tmp.Ab12Cd"), SPOOL_OTHER);
	assert_int_equal(spool_classify("heartbeat.tmp.Ab12Cd"), SPOOL_OTHER);
	assert_int_equal(spool_classify(".hidden.json"), SPOOL_OTHER);
	assert_int_equal(spool_classify(".json"), SPOOL_OTHER);
	assert_int_equal(spool_classify("x.tmp.json"), SPOOL_OTHER);
	assert_int_equal(spool_classify("rejected"), SPOOL_OTHER);
	assert_int_equal(spool_classify("a.json.reason"), SPOOL_OTHER);
}

static void test_spool_scan_oldest_first(void **state)
{
	char dir[] = "/tmp/hwtest.XXXXXX", p[512];
	struct spool *s = NULL;
	struct spool_entry *v = NULL;
	size_t n = 0, depth = 0;
	time_t base = 1700000000;
	(void)state;

	assert_non_null(mkdtemp(dir));
	assert_int_equal(spool_open(dir, &s), 0);
	assert_string_equal(spool_path(s), dir);
	/* empty */
	assert_int_equal(spool_scan(s, 4, &v, &n, &depth), 0);
	assert_null(v);
	assert_int_equal(n, 0);
	assert_int_equal(depth, 0);
	/* 40 alerts with shuffled ages (two share one, the name decides),
	 * plus files that are not alerts */
	for (int i = 0; i < 40; i++) {
		char name[32];
		snprintf(name, sizeof(name), "a%02d.json", i);
		put(dir, name, "{}", base + (i * 7) % 40 - (i == 39 ? 1 : 0));
	}
	put(dir, "heartbeat", "{}", base - 100);
	put(dir, "old.json.tmp.XyZ123", "{}", base - 100);
	snprintf(p, sizeof(p), "%s/rejected.json", dir);
	assert_int_equal(mkdir(p, 0700), 0);
	snprintf(p, sizeof(p), "%s/link.json", dir);
	assert_int_equal(symlink("/etc/passwd", p), 0);

	assert_int_equal(spool_scan(s, 5, &v, &n, &depth), 0);
	assert_int_equal(n, 5);
	assert_int_equal(depth, 40);
	/* ages: i*7 % 40 is a permutation of 0..39 (7 * 23 = 1 mod 40, so age
	 * k is file 23k mod 40); a39 is moved from 33 to 32, a16's age */
	static const char *const want[] = { "a00.json", "a23.json", "a06.json", "a29.json",
					    "a12.json" };
	for (size_t i = 0; i < 5; i++)
		assert_string_equal(v[i].name, want[i]);
	for (size_t i = 1; i < n; i++)
		assert_true(v[i - 1].mtime.tv_sec <= v[i].mtime.tv_sec);
	free(v);
	/* a limit larger than the folder: all, still sorted */
	assert_int_equal(spool_scan(s, 1000, &v, &n, &depth), 0);
	assert_int_equal(n, 40);
	for (size_t i = 1; i < n; i++)
		assert_true(v[i - 1].mtime.tv_sec < v[i].mtime.tv_sec ||
			    (v[i - 1].mtime.tv_sec == v[i].mtime.tv_sec &&
			     strcmp(v[i - 1].name, v[i].name) < 0));
	free(v);
	assert_int_equal(spool_scan(s, 0, &v, &n, &depth), -EINVAL);
	spool_close(s);
	spool_close(NULL);
	hwt_rmtree(dir);
}

static void test_spool_read_remove(void **state)
{
	char dir[] = "/tmp/hwtest.XXXXXX", p[512];
	struct spool *s = NULL;
	struct stat st;
	char *buf = NULL;
	size_t len = 0;
	(void)state;

	assert_non_null(mkdtemp(dir));
	assert_int_equal(spool_open(dir, &s), 0);
	put(dir, "a.json", "0123456789", 0);
	assert_int_equal(spool_read(s, "a.json", 10, &buf, &len, &st), 0);
	assert_int_equal(len, 10);
	assert_int_equal(st.st_size, 10);
	assert_string_equal(buf, "0123456789");
	free(buf);
	assert_int_equal(spool_read(s, "a.json", 9, &buf, &len, &st), -EFBIG);
	assert_int_equal(spool_read(s, "gone.json", 9, &buf, &len, &st), -ENOENT);
	snprintf(p, sizeof(p), "%s/l.json", dir);
	assert_int_equal(symlink("a.json", p), 0);
	assert_int_equal(spool_read(s, "l.json", 100, &buf, &len, &st), -EINVAL);
	snprintf(p, sizeof(p), "%s/d.json", dir);
	assert_int_equal(mkfifo(p, 0600), 0);
	assert_int_equal(spool_read(s, "d.json", 100, &buf, &len, &st), -EINVAL);
	assert_int_equal(spool_remove(s, "a.json"), 0);
	assert_int_equal(spool_remove(s, "a.json"), -ENOENT);
	spool_close(s);
	assert_int_equal(spool_open("/nonexistent/spool", &s), -ENOENT);
	hwt_rmtree(dir);
}

static void test_spool_reject_never_replaces(void **state)
{
	char dir[] = "/tmp/hwtest.XXXXXX", p[512], target[NAME_MAX + 1];
	struct spool *s = NULL;
	char *buf = NULL;
	size_t len = 0;
	(void)state;

	assert_non_null(mkdtemp(dir));
	assert_int_equal(spool_open(dir, &s), 0);
	for (int i = 0; i < 3; i++) {
		char reason[32], want[64];
		snprintf(reason, sizeof(reason), "reason %d\n", i);
		put(dir, "x.json", i == 1 ? "second" : "content", 0);
		assert_int_equal(spool_reject(s, "x.json", reason, strlen(reason), target), 0);
		if (i == 0)
			snprintf(want, sizeof(want), "x.json");
		else
			snprintf(want, sizeof(want), "x.json.%d", i);
		assert_string_equal(target, want);
		snprintf(p, sizeof(p), "%s/rejected/%s.reason", dir, want);
		assert_int_equal(hw_read_file(p, 100, (void **)&buf, &len), 0);
		assert_string_equal(buf, reason);
		free(buf);
	}
	/* the first copy is untouched by the later ones */
	snprintf(p, sizeof(p), "%s/rejected/x.json", dir);
	assert_int_equal(hw_read_file(p, 100, (void **)&buf, &len), 0);
	assert_string_equal(buf, "content");
	free(buf);
	snprintf(p, sizeof(p), "%s/rejected/x.json.1", dir);
	assert_int_equal(hw_read_file(p, 100, (void **)&buf, &len), 0);
	assert_string_equal(buf, "second");
	free(buf);
	snprintf(p, sizeof(p), "%s/x.json", dir);
	assert_int_equal(access(p, F_OK), -1);
	/* nothing to move: the stray reason is not left behind */
	assert_int_equal(spool_reject(s, "none.json", "r", 1, target), -ENOENT);
	snprintf(p, sizeof(p), "%s/rejected/none.json.reason", dir);
	assert_int_equal(access(p, F_OK), -1);
	/* all copies taken: -EEXIST, the alert stays in the spool */
	put(dir, "y.json", "y", 0);
	for (int i = 0; i < SPOOL_REJECT_COPIES; i++) {
		char name[64];
		if (i == 0)
			snprintf(name, sizeof(name), "rejected/y.json");
		else
			snprintf(name, sizeof(name), "rejected/y.json.%d", i);
		put(dir, name, "old", 0);
	}
	assert_int_equal(spool_reject(s, "y.json", "r", 1, target), -EEXIST);
	snprintf(p, sizeof(p), "%s/y.json", dir);
	assert_int_equal(access(p, F_OK), 0);
	spool_close(s);
	hwt_rmtree(dir);
}

/* Receipts for the scanner: only into a receipts/ the scanner made, never
 * making it; replaced whole; readable by the scanner (0644). */
static void test_spool_receipts(void **state)
{
	char dir[] = "/tmp/hwtest.XXXXXX", p[512];
	struct spool *s = NULL;
	struct stat st;
	void *buf = NULL;
	size_t len = 0;
	(void)state;

	assert_non_null(mkdtemp(dir));
	assert_int_equal(spool_open(dir, &s), 0);
	assert_int_equal(spool_put_receipt(s, "a.json", "one\n", 4), -ENOENT);
	snprintf(p, sizeof(p), "%s/receipts", dir);
	assert_int_equal(stat(p, &st), -1); /* not made by the uplink */
	put(dir, "receipts", "a file, not a folder", 0);
	assert_int_equal(spool_put_receipt(s, "a.json", "one\n", 4), -ENOTDIR);
	assert_int_equal(unlink(p), 0);
	assert_int_equal(mkdir(p, 0770), 0);
	assert_int_equal(spool_put_receipt(s, "a.json", "one\n", 4), 0);
	assert_int_equal(spool_put_receipt(s, "a.json", "two!\n", 5), 0);
	snprintf(p, sizeof(p), "%s/receipts/a.json", dir);
	assert_int_equal(hw_read_file(p, 100, &buf, &len), 0);
	assert_int_equal(len, 5);
	assert_memory_equal(buf, "two!\n", 5);
	free(buf);
	assert_int_equal(stat(p, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0644);
	/* the alert files are untouched and receipts/ is not an alert */
	assert_int_equal(spool_classify("receipts"), SPOOL_OTHER);
	spool_close(s);
	hwt_rmtree(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_conf_good_and_defaults),
		cmocka_unit_test(test_conf_all_keys),
		cmocka_unit_test(test_conf_mistakes_named),
		cmocka_unit_test(test_conf_load),
		cmocka_unit_test(test_backoff_bounds),
		cmocka_unit_test(test_backoff_jitter_spreads),
		cmocka_unit_test(test_backoff_retry_after),
		cmocka_unit_test(test_wire_alert),
		cmocka_unit_test(test_wire_heartbeat),
		cmocka_unit_test(test_wire_refuses),
		cmocka_unit_test(test_spool_classify),
		cmocka_unit_test(test_spool_scan_oldest_first),
		cmocka_unit_test(test_spool_read_remove),
		cmocka_unit_test(test_spool_reject_never_replaces),
		cmocka_unit_test(test_spool_receipts),
	};
	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
