/* test_receiver_intake.c - the receiver's envelope, schema and signature
 * checks (receiver/intake.c, compiled into this test because the receiver
 * is a program, not a library), with keys made by libsodium here. */
#include "harness.h"

#include "../../receiver/intake.c"

static unsigned char pk[crypto_sign_PUBLICKEYBYTES], sk[crypto_sign_SECRETKEYBYTES];

static const char alert_tmpl[] =
	"{\"v\":1,\"alert_id\":\"0123456789abcdef0123456789abcdef\","
	"\"detected_at\":\"2026-05-01T09:30:00.123Z\",\"device_id\":\"ASSET-0001\","
	"\"scanner_version\":\"0.1.0\",\"config_digest\":\"00112233445566778899aabbccddeeff\","
	"\"list_id\":\"district\",\"list_version\":7,\"entry_id\":\"E-1\",\"entry_source\":\"\","
	"\"entry_category\":\"csam\",\"model\":\"pdq\",\"distance\":%s,\"quality\":null,"
	"\"confirmed\":false,\"file_sha256\":\"%064d\",\"audit_seq\":3,"
	"\"audit_head\":\"%064d\"%s}";

/* A signed envelope of payload; the caller frees it. */
static char *envelope(const char *format, const char *payload, const unsigned char *key_sk)
{
	unsigned char sig[crypto_sign_BYTES];
	char p64[4096], s64[128], *out = malloc(8192);
	crypto_sign_detached(sig, NULL, (const unsigned char *)payload, strlen(payload), key_sk);
	sodium_bin2base64(p64, sizeof(p64), (const unsigned char *)payload, strlen(payload),
			  sodium_base64_VARIANT_ORIGINAL);
	sodium_bin2base64(s64, sizeof(s64), sig, sizeof(sig), sodium_base64_VARIANT_ORIGINAL);
	snprintf(out, 8192, "{\"format\":\"%s\",\"payload\":\"%s\",\"sig\":\"%s\"}", format, p64,
		 s64);
	return out;
}

static char *alert(const char *distance, const char *extra)
{
	static char buf[2048];
	snprintf(buf, sizeof(buf), alert_tmpl, distance, 0, 0, extra);
	return envelope(INTAKE_ALERT_FORMAT, buf, sk);
}

/* Parse (and verify, when parsing passes) one body; returns the status. */
static int check(const char *kind, const char *body, const char **ret_code)
{
	struct intake_record rec = { 0 };
	struct intake_error err = { 0 };
	int status = 0;
	if (intake_parse(kind, body, strlen(body), &rec, &err) < 0 ||
	    intake_verify(&rec, pk, &err) < 0)
		status = err.status;
	*ret_code = status ? err.code : "ok";
	intake_record_done(&rec);
	return status;
}

static void test_valid_and_numbers(void **state)
{
	const char *code;
	char *b = alert("12", "");
	assert_int_equal(check("alert", b, &code), 0);
	free(b);
	b = alert("0.071", ""); /* OpenCV models report fractional distances */
	assert_int_equal(check("alert", b, &code), 0);
	free(b);
	b = alert("-1", "");
	assert_int_equal(check("alert", b, &code), 400);
	assert_string_equal(code, "bad_schema");
	free(b);
	b = alert("\"12\"", "");
	assert_int_equal(check("alert", b, &code), 400);
	free(b);
}

static void test_unknown_and_optional_fields(void **state)
{
	const char *code;
	char *b = alert("3", ",\"path\":\"/home/s/a.jpg\",\"signals\":[\"pdq\",\"sha256\"]");
	assert_int_equal(check("alert", b, &code), 0);
	free(b);
	/* Fields a newer scanner adds are ignored (docs/alert-format.md). */
	b = alert("3", ",\"added_later\":{\"x\":1}");
	assert_int_equal(check("alert", b, &code), 0);
	free(b);
	b = alert("3", ",\"signals\":[\"pdq\",\"has space\"]");
	assert_int_equal(check("alert", b, &code), 400);
	free(b);
	b = alert("3", ",\"dihedral_variant\":8");
	assert_int_equal(check("alert", b, &code), 400);
	free(b);
}

/* Where in the image the match was found: a known region, and a box
 * exactly when the region is inside the image's borders. */
static void test_region_and_box(void **state)
{
	static const struct {
		const char *extra;
		int status;
	} cases[] = {
		{ "", 0 }, /* an older scanner: the whole image */
		{ ",\"region\":\"whole\"", 0 },
		{ ",\"region\":\"inner\",\"box\":[160,100,1600,1004]", 0 },
		{ ",\"region\":\"inner_outer\",\"box\":[0,0,1,1]", 0 },
		{ ",\"region\":null", 0 },
		{ ",\"region\":\"outer\",\"box\":[1,2,3,4]", 400 },
		{ ",\"region\":\"INNER\",\"box\":[1,2,3,4]", 400 },
		{ ",\"region\":2,\"box\":[1,2,3,4]", 400 },
		{ ",\"region\":\"inner\"", 400 },
		{ ",\"region\":\"whole\",\"box\":[1,2,3,4]", 400 },
		{ ",\"box\":[1,2,3,4]", 400 },
		{ ",\"region\":\"inner\",\"box\":[1,2,3]", 400 },
		{ ",\"region\":\"inner\",\"box\":[1,2,3,4,5]", 400 },
		{ ",\"region\":\"inner\",\"box\":[1,2,0,4]", 400 },
		{ ",\"region\":\"inner\",\"box\":[-1,2,3,4]", 400 },
		{ ",\"region\":\"inner\",\"box\":[1,2,3.5,4]", 400 },
		{ ",\"region\":\"inner\",\"box\":[1,2,\"3\",4]", 400 },
		{ ",\"region\":\"inner\",\"box\":[1,2,3,1000000001]", 400 },
		{ ",\"region\":\"inner\",\"box\":{\"x\":1}", 400 },
	};
	const char *code;
	(void)state;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *b = alert("3", cases[i].extra);
		int st = check("alert", b, &code);
		if (st != cases[i].status)
			fail_msg("%s: status %d, expected %d", cases[i].extra, st, cases[i].status);
		if (st)
			assert_string_equal(code, "bad_schema");
		free(b);
	}
}

static void test_signatures(void **state)
{
	unsigned char pk2[crypto_sign_PUBLICKEYBYTES], sk2[crypto_sign_SECRETKEYBYTES];
	char payload[2048], *b;
	const char *code;

	crypto_sign_keypair(pk2, sk2);
	snprintf(payload, sizeof(payload), alert_tmpl, "5", 0, 0, "");
	b = envelope(INTAKE_ALERT_FORMAT, payload, sk2);
	assert_int_equal(check("alert", b, &code), 403);
	assert_string_equal(code, "bad_signature");
	free(b);
	/* A heartbeat envelope is not an alert, even when signed. */
	b = envelope(INTAKE_HEARTBEAT_FORMAT, payload, sk);
	assert_int_equal(check("alert", b, &code), 400);
	assert_string_equal(code, "bad_format");
	free(b);
	/* Trailing bytes after the payload's object are refused. */
	strncat(payload, " x", sizeof(payload) - strlen(payload) - 1);
	b = envelope(INTAKE_ALERT_FORMAT, payload, sk);
	assert_int_equal(check("alert", b, &code), 400);
	assert_string_equal(code, "bad_json");
	free(b);
}

static void test_heartbeat(void **state)
{
	static const char hb[] =
		"{\"v\":1,\"device_id\":\"ASSET-0001\",\"time\":\"2026-05-01T09:30:00Z\","
		"\"scanner_version\":\"0.1.0\",\"lists\":[{\"id\":\"d\",\"version\":2,"
		"\"digest\":\"00112233445566778899aabbccddeeff\"}],\"spool_depth\":0,"
		"\"audit_seq\":9,\"audit_head\":\"%064d\"}";
	char payload[1024], *b;
	const char *code;

	snprintf(payload, sizeof(payload), hb, 0);
	b = envelope(INTAKE_HEARTBEAT_FORMAT, payload, sk);
	assert_int_equal(check("heartbeat", b, &code), 0);
	free(b);
}

static void test_times(void **state)
{
	int64_t t;
	assert_int_equal(intake_parse_time("1970-01-01T00:00:00Z", &t), -EINVAL); /* < 2000 */
	assert_int_equal(intake_parse_time("2026-05-01T09:30:00Z", &t), 0);
	assert_int_equal(t, 1777627800);
	assert_int_equal(intake_parse_time("2026-05-01T09:30:00.5Z", &t), 0);
	assert_int_equal(intake_parse_time("2026-04-31T09:30:00Z", &t), -EINVAL);
	assert_int_equal(intake_parse_time("2026-05-01 09:30:00Z", &t), -EINVAL);
	assert_int_equal(intake_parse_time("2026-05-01T09:30:00+01:00", &t), -EINVAL);
	assert_int_equal(intake_parse_time("2026-05-01T09:30:00.Z", &t), -EINVAL);
}

static void test_pubkey_files(void **state)
{
	char dir[] = "/tmp/hw-intake-XXXXXX", path[64], name[72], b64[64], hex[65];
	unsigned char got[crypto_sign_PUBLICKEYBYTES];
	FILE *f;

	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/device.pub", dir);
	sodium_bin2base64(b64, sizeof(b64), pk, sizeof(pk), sodium_base64_VARIANT_ORIGINAL);
	sodium_bin2hex(hex, sizeof(hex), pk, sizeof(pk));

	f = fopen(path, "w");
	fprintf(f, "# comment\n\ned25519 %s ASSET-0001\n", b64);
	fclose(f);
	assert_int_equal(intake_read_pubkey(path, got, name, sizeof(name)), 0);
	assert_memory_equal(got, pk, sizeof(pk));
	assert_string_equal(name, "ASSET-0001");

	f = fopen(path, "w");
	fprintf(f, "%s\n", hex);
	fclose(f);
	memset(got, 0, sizeof(got));
	assert_int_equal(intake_read_pubkey(path, got, name, sizeof(name)), 0);
	assert_memory_equal(got, pk, sizeof(pk));
	assert_string_equal(name, "");

	f = fopen(path, "w");
	fprintf(f, "ed25519 %.20s ASSET-0001\n", b64); /* truncated key */
	fclose(f);
	assert_int_equal(intake_read_pubkey(path, got, name, sizeof(name)), -EINVAL);
	hwt_rmtree(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_valid_and_numbers),
		cmocka_unit_test(test_unknown_and_optional_fields),
		cmocka_unit_test(test_region_and_box),
		cmocka_unit_test(test_signatures),
		cmocka_unit_test(test_heartbeat),
		cmocka_unit_test(test_times),
		cmocka_unit_test(test_pubkey_files),
	};
	if (sodium_init() < 0)
		return 1;
	crypto_sign_keypair(pk, sk);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
