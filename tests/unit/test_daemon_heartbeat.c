/* test_daemon_heartbeat.c - the scanner's heartbeat file: the payload has
 * exactly the receiver's heartbeat fields, the file is a signed envelope
 * whose signature verifies over the payload bytes with the device key, a
 * rewrite replaces it atomically (no temp file left, mode 0640), limits
 * are reported, and the spool depth counts alert files only. */
#include "harness.h"

#include <sys/stat.h>

#include <json-c/json.h>
#include <sodium.h>

#include "devkey.h"
#include "fileio.h"
#include "heartbeat.h"

static const char head[] = "5e884898da28047151d0e56f8dc6292773603d0d6aabbdd62a11ef721d1542d8";

static const struct heartbeat_list two_lists[] = {
	{ "district-main", 12, "91d62bf5aa00112233445566778899aabbccddeeff00112233445566778894f5" },
	{ "ncmec-2026", 3, "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff" },
};

static struct heartbeat sample(void)
{
	struct heartbeat hb = {
		.device_id = "ASSET-0042",
		.scanner_version = "0.1.0",
		.time = { 1795330000, 438000000 },
		.lists = two_lists,
		.nlists = 2,
		.spool_depth = 3,
		.audit_seq = 41,
		.audit_head = head,
	};
	return hb;
}

static void test_payload_fields(void **state)
{
	static const char *const want[] = { "v", "device_id", "time", "scanner_version", "lists",
					    "spool_depth", "audit_seq", "audit_head" };
	struct heartbeat hb = sample();
	json_object *o = NULL, *v;
	(void)state;

	assert_int_equal(heartbeat_payload(&hb, &o), 0);
	assert_int_equal(json_object_object_length(o), 8);
	for (size_t i = 0; i < 8; i++)
		if (!json_object_object_get_ex(o, want[i], &v))
			fail_msg("field %s missing", want[i]);
	assert_string_equal(json_object_get_string(json_object_object_get(o, "time")),
			    "2026-11-22T06:46:40.438Z");
	assert_int_equal(json_object_get_int64(json_object_object_get(o, "spool_depth")), 3);
	assert_int_equal(json_object_get_int64(json_object_object_get(o, "audit_seq")), 41);
	json_object *lists = json_object_object_get(o, "lists");
	assert_int_equal(json_object_array_length(lists), 2);
	json_object *l = json_object_array_get_idx(lists, 1);
	assert_int_equal(json_object_object_length(l), 3);
	assert_string_equal(json_object_get_string(json_object_object_get(l, "id")), "ncmec-2026");
	assert_int_equal(json_object_get_int64(json_object_object_get(l, "version")), 3);
	json_object_put(o);

	/* No audit log yet: the head is the empty chain's, 64 zeros. */
	hb.audit_head = NULL;
	hb.audit_seq = 0;
	assert_int_equal(heartbeat_payload(&hb, &o), 0);
	const char *h = json_object_get_string(json_object_object_get(o, "audit_head"));
	assert_int_equal(strlen(h), 64);
	assert_int_equal(strspn(h, "0"), 64);
	json_object_put(o);
}

static void test_payload_limits(void **state)
{
	struct heartbeat_list many[HEARTBEAT_MAX_LISTS + 1];
	struct heartbeat hb = sample();
	json_object *o = NULL;
	(void)state;

	for (size_t i = 0; i <= HEARTBEAT_MAX_LISTS; i++)
		many[i] = two_lists[0];
	hb.lists = many;
	hb.nlists = HEARTBEAT_MAX_LISTS;
	assert_int_equal(heartbeat_payload(&hb, &o), 0);
	json_object_put(o);
	o = NULL;
	hb.nlists = HEARTBEAT_MAX_LISTS + 1;
	assert_int_equal(heartbeat_payload(&hb, &o), -E2BIG);
	assert_null(o);
	hb = sample();
	hb.device_id = NULL;
	assert_int_equal(heartbeat_payload(&hb, &o), -EINVAL);
	assert_null(o);
}

/* Decode and check the envelope in dir/heartbeat; returns the
 * payload bytes (free()). */
static char *check_file(const char *dir, const struct devkey *key)
{
	char path[512], *text = NULL;
	size_t len = 0, plen = 0, slen = 0;
	unsigned char sig[crypto_sign_BYTES];
	struct stat st;

	snprintf(path, sizeof(path), "%s/%s", dir, HEARTBEAT_FILE);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0640);
	assert_int_equal(hw_read_file(path, 65536, (void **)&text, &len), 0);
	json_object *env = json_tokener_parse(text);
	assert_non_null(env);
	assert_string_equal(json_object_get_string(json_object_object_get(env, "format")),
			    HEARTBEAT_FORMAT);
	assert_string_equal(json_object_get_string(json_object_object_get(env, "device_pub")),
			    key->pk_b64);
	const char *p64 = json_object_get_string(json_object_object_get(env, "payload"));
	const char *s64 = json_object_get_string(json_object_object_get(env, "sig"));
	char *payload = malloc(strlen(p64) + 1);
	assert_non_null(payload);
	assert_int_equal(sodium_base642bin((unsigned char *)payload, strlen(p64), p64, strlen(p64),
					   NULL, &plen, NULL, sodium_base64_VARIANT_ORIGINAL), 0);
	payload[plen] = '\0';
	assert_int_equal(sodium_base642bin(sig, sizeof(sig), s64, strlen(s64), NULL, &slen, NULL,
					   sodium_base64_VARIANT_ORIGINAL), 0);
	assert_int_equal(slen, sizeof(sig));
	assert_int_equal(crypto_sign_verify_detached(sig, (unsigned char *)payload, plen, key->pk),
			 0);
	/* a changed byte must not verify */
	payload[plen / 2] ^= 1;
	assert_int_not_equal(crypto_sign_verify_detached(sig, (unsigned char *)payload, plen,
							 key->pk), 0);
	payload[plen / 2] ^= 1;
	json_object_put(env);
	free(text);
	return payload;
}

static void test_write_and_replace(void **state)
{
	char dir[] = "/tmp/hwtest.XXXXXX", spool[300], err[256];
	struct heartbeat hb = sample();
	struct devkey key;
	json_object *want = NULL;
	int created = 0;
	(void)state;

	assert_non_null(mkdtemp(dir));
	assert_int_equal(devkey_load_or_create(dir, "ASSET-0042", &key, &created, err, sizeof(err)),
			 0);
	snprintf(spool, sizeof(spool), "%s/spool", dir);
	assert_int_equal(mkdir(spool, 0750), 0);

	assert_int_equal(heartbeat_write(spool, &hb, &key), 0);
	char *payload = check_file(spool, &key);
	assert_int_equal(heartbeat_payload(&hb, &want), 0);
	assert_string_equal(payload, json_object_to_json_string_ext(
					     want, JSON_C_TO_STRING_PLAIN |
							   JSON_C_TO_STRING_NOSLASHESCAPE));
	free(payload);
	json_object_put(want);

	/* A later heartbeat replaces the file whole; nothing else is left. */
	hb.audit_seq = 42;
	hb.time.tv_sec += 300;
	assert_int_equal(heartbeat_write(spool, &hb, &key), 0);
	payload = check_file(spool, &key);
	assert_non_null(strstr(payload, "\"audit_seq\":42"));
	free(payload);
	uint64_t depth = 99;
	assert_int_equal(heartbeat_spool_depth(spool, &depth), 0);
	assert_int_equal(depth, 0); /* the heartbeat itself is not an alert */
	char cmd[400];
	snprintf(cmd, sizeof(cmd), "test $(ls -A '%s' | wc -l) -eq 1", spool);
	assert_int_equal(system(cmd), 0);

	/* No spool folder: an error, and nothing is created. */
	assert_int_equal(heartbeat_write("/nonexistent/spool", &hb, &key), -ENOENT);
	devkey_wipe(&key);
	hwt_rmtree(dir);
}

static void test_spool_depth(void **state)
{
	static const char *const names[] = {
		"0123456789abcdef0123456789abcdef.json", "fedcba9876543210fedcba9876543210.json",
		"x.json", "heartbeat", "a.json.tmp.Ab12Cd", "heartbeat.tmp.Q1w2E3",
		".hidden.json", "notes.txt",
	};
	char dir[] = "/tmp/hwtest.XXXXXX", p[300];
	uint64_t n = 0;
	(void)state;

	assert_non_null(mkdtemp(dir));
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		snprintf(p, sizeof(p), "%s/%s", dir, names[i]);
		assert_int_equal(hw_write_atomic(p, "{}", 2, 0640), 0);
	}
	snprintf(p, sizeof(p), "%s/rejected", dir);
	assert_int_equal(mkdir(p, 0750), 0);
	snprintf(p, sizeof(p), "%s/rejected/y.json", dir);
	assert_int_equal(hw_write_atomic(p, "{}", 2, 0640), 0);
	assert_int_equal(heartbeat_spool_depth(dir, &n), 0);
	assert_int_equal(n, 3);
	n = 7;
	assert_int_equal(heartbeat_spool_depth("/nonexistent", &n), -ENOENT);
	assert_int_equal(n, 7);
	hwt_rmtree(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_payload_fields),
		cmocka_unit_test(test_payload_limits),
		cmocka_unit_test(test_write_and_replace),
		cmocka_unit_test(test_spool_depth),
	};
	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
