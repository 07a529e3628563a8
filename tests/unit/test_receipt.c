/* test_receipt.c - the uplink's receipts (util/receipt.h): what the
 * encoder writes the parser reads back; the parser refuses every form of
 * damage with a reason and leaves its output alone; the encoder refuses
 * what the parser would refuse; file names. */
#include "harness.h"

#include "receipt.h"

static struct receipt alert_receipt(void)
{
	struct receipt r = { .kind = RECEIPT_KIND_ALERT, .http_status = 201 };
	snprintf(r.alert_id, sizeof(r.alert_id), "0123456789abcdef0123456789abcdef");
	snprintf(r.outcome, sizeof(r.outcome), "stored");
	snprintf(r.receiver, sizeof(r.receiver), "127.0.0.1:8443");
	snprintf(r.time, sizeof(r.time), "2026-11-22T10:00:00Z");
	return r;
}

static struct receipt heartbeat_receipt(void)
{
	struct receipt r = { .kind = RECEIPT_KIND_HEARTBEAT, .reported_seq = 42, .ok = true };
	memset(r.reported_head, 'a', 64);
	snprintf(r.receiver, sizeof(r.receiver), "receiver.example:443");
	snprintf(r.time, sizeof(r.time), "2026-11-22T10:00:00Z");
	return r;
}

static void roundtrip(const struct receipt *in)
{
	struct receipt out;
	char *text = NULL, why[128] = "";
	size_t len = 0;

	assert_int_equal(receipt_format(in, &text, &len), 0);
	assert_int_equal(strlen(text), len);
	assert_int_equal(text[len - 1], '\n');
	assert_null(memchr(text, '\n', len - 1)); /* one line */
	memset(&out, 0x55, sizeof(out));
	assert_int_equal(receipt_parse(text, len, &out, why, sizeof(why)), 0);
	assert_int_equal(out.kind, in->kind);
	assert_string_equal(out.receiver, in->receiver);
	assert_string_equal(out.time, in->time);
	if (in->kind == RECEIPT_KIND_ALERT) {
		assert_string_equal(out.alert_id, in->alert_id);
		assert_string_equal(out.outcome, in->outcome);
		assert_int_equal(out.http_status, in->http_status);
	} else {
		assert_int_equal(out.reported_seq, in->reported_seq);
		assert_string_equal(out.reported_head, in->reported_head);
		assert_int_equal(out.ok, in->ok);
	}
	/* without the final newline too */
	assert_int_equal(receipt_parse(text, len - 1, &out, why, sizeof(why)), 0);
	free(text);
}

static void test_roundtrip(void **state)
{
	(void)state;
	struct receipt a = alert_receipt(), h = heartbeat_receipt();
	roundtrip(&a);
	roundtrip(&h);
	/* ids with every character the receiver allows */
	snprintf(a.alert_id, sizeof(a.alert_id), "A-z_0.9:x@y/z+w");
	roundtrip(&a);
	h.ok = false;
	h.reported_seq = 0;
	roundtrip(&h);
}

static void refused(const char *text, const char *reason_part)
{
	struct receipt out, before;
	char why[128] = "";

	memset(&out, 0x55, sizeof(out));
	before = out;
	assert_int_equal(receipt_parse(text, strlen(text), &out, why, sizeof(why)), -EBADMSG);
	assert_memory_equal(&out, &before, sizeof(out)); /* untouched */
	if (!strstr(why, reason_part))
		fail_msg("'%s': reason '%s' does not say '%s'", text, why, reason_part);
}

#define TAIL "\"receiver\":\"r\",\"time\":\"t\""
#define HEAD64 "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"

static void test_refusals(void **state)
{
	(void)state;
	refused("", "not one JSON object");
	refused("[1]", "not one JSON object");
	refused("{\"v\":1,\"kind\":\"alert\"} {}", "not one JSON object");
	refused("{\"v\":1,\"kind\":\"alert\"}\nx", "not one JSON object");
	refused("{\"v\":2,\"kind\":\"alert\"}", "\"v\":1");
	refused("{\"v\":\"1\",\"kind\":\"alert\"}", "\"v\":1");
	refused("{\"v\":1," TAIL "}", "kind");
	refused("{\"v\":1,\"kind\":\"parcel\"," TAIL "}", "unknown");
	refused("{\"v\":1,\"kind\":\"alert\"}", "receiver");
	refused("{\"v\":1,\"kind\":\"alert\"," TAIL ",\"alert_id\":\"a b\",\"outcome\":\"stored\","
		"\"http_status\":201}", "malformed");
	refused("{\"v\":1,\"kind\":\"alert\"," TAIL ",\"alert_id\":\"\",\"outcome\":\"stored\","
		"\"http_status\":201}", "malformed");
	refused("{\"v\":1,\"kind\":\"alert\"," TAIL ",\"alert_id\":\"a\",\"outcome\":\"stored\","
		"\"http_status\":1000}", "http_status");
	refused("{\"v\":1,\"kind\":\"alert\"," TAIL ",\"alert_id\":\"a\",\"outcome\":\"st\\u0007\","
		"\"http_status\":201}", "malformed");
	refused("{\"v\":1,\"kind\":\"alert\",\"receiver\":\"r\\u0000x\",\"time\":\"t\","
		"\"alert_id\":\"a\",\"outcome\":\"s\",\"http_status\":201}", "receiver");
	/* 65 bytes: one more than an id may have */
	refused("{\"v\":1,\"kind\":\"alert\"," TAIL ",\"alert_id\":\"" HEAD64 "a\",\"outcome\":\"s\","
		"\"http_status\":201}", "alert_id");
	refused("{\"v\":1,\"kind\":\"heartbeat\"," TAIL ",\"reported_seq\":-1,\"reported_head\":\""
		HEAD64 "\",\"ok\":true}", "reported_seq");
	refused("{\"v\":1,\"kind\":\"heartbeat\"," TAIL ",\"reported_seq\":1,\"reported_head\":\""
		"ABC\",\"ok\":true}", "malformed");
	refused("{\"v\":1,\"kind\":\"heartbeat\"," TAIL ",\"reported_seq\":1,\"reported_head\":\""
		HEAD64 "\",\"ok\":1}", "ok");
	refused("{\"v\":1,\"kind\":\"alert\",\"x\":[[[[[[1]]]]]]}", "not one JSON object");

	/* a NUL byte, and a file bigger than a receipt */
	struct receipt out;
	char why[64], big[RECEIPT_MAX_BYTES + 2];
	assert_int_equal(receipt_parse("{}\0{}", 5, &out, why, sizeof(why)), -EBADMSG);
	memset(big, ' ', sizeof(big));
	big[0] = '{';
	big[sizeof(big) - 1] = '}';
	assert_int_equal(receipt_parse(big, sizeof(big), &out, why, sizeof(why)), -EBADMSG);
	assert_non_null(strstr(why, "larger"));
	/* unknown members are ignored: a later uplink may add some */
	const char *later = "{\"v\":1,\"kind\":\"alert\"," TAIL ",\"alert_id\":\"a\",\"outcome\":\"s\","
			    "\"http_status\":200,\"new\":{\"x\":1}}";
	assert_int_equal(receipt_parse(later, strlen(later), &out, why, sizeof(why)), 0);
	assert_string_equal(out.alert_id, "a");
}

static void test_format_refuses(void **state)
{
	(void)state;
	char *text = (char *)"untouched";
	size_t len = 7;
	struct receipt a = alert_receipt(), h = heartbeat_receipt();

	snprintf(a.alert_id, sizeof(a.alert_id), "has space");
	assert_int_equal(receipt_format(&a, &text, &len), -EINVAL);
	a = alert_receipt();
	snprintf(a.outcome, sizeof(a.outcome), "caf\xc3\xa9");
	assert_int_equal(receipt_format(&a, &text, &len), -EINVAL);
	h.reported_head[10] = 'G';
	assert_int_equal(receipt_format(&h, &text, &len), -EINVAL);
	assert_string_equal(text, "untouched");
	assert_int_equal(len, 7);
}

static void test_names(void **state)
{
	(void)state;
	assert_true(receipt_name_ok("0123abcd.json"));
	assert_true(receipt_name_ok(RECEIPT_HEARTBEAT));
	assert_false(receipt_name_ok(".json"));
	assert_false(receipt_name_ok(".hidden.json"));
	assert_false(receipt_name_ok("0123.json.tmp.Ab12Cd"));
	assert_false(receipt_name_ok("heartbeat.tmp.Ab12Cd"));
	assert_false(receipt_name_ok("notes.txt"));
	assert_false(receipt_name_ok("a.json~"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_roundtrip),
		cmocka_unit_test(test_refusals),
		cmocka_unit_test(test_format_refuses),
		cmocka_unit_test(test_names),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
