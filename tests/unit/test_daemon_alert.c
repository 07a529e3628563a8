/* test_daemon_alert.c - the device key (created once, 0600, reloaded, a
 * damaged one refused rather than replaced), the signed alert envelope
 * (verifies; any changed byte, another key or a swapped public key does
 * not), the match policy (reported model, "confirmed"), and the daemon's
 * check of worker replies. */
#include "harness.h"

#include <sys/stat.h>

#include "alert.h"
#include "devkey.h"
#include "fileio.h"
#include "policy.h"
#include "proto.h"

static void test_devkey(void **state)
{
	char dir[] = "/tmp/hwk.XXXXXX", p[128], err[512];
	struct devkey a, b;
	struct stat st;
	void *buf;
	size_t len;
	int created = -1;
	(void)state;

	assert_non_null(mkdtemp(dir));
	assert_int_equal(devkey_load_or_create(dir, "ASSET-7", &a, &created, err, sizeof(err)), 0);
	assert_int_equal(created, 1);
	snprintf(p, sizeof(p), "%s/device.key", dir);
	assert_int_equal(stat(p, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	snprintf(p, sizeof(p), "%s/device.pub", dir);
	assert_int_equal(hw_read_file(p, 4096, &buf, &len), 0);
	char want[128];
	snprintf(want, sizeof(want), "ed25519 %s ASSET-7\n", a.pk_b64);
	assert_string_equal(buf, want);
	free(buf);
	/* loaded again: the same key; a new device id rewrites device.pub */
	assert_int_equal(devkey_load_or_create(dir, "ASSET-8", &b, &created, err, sizeof(err)), 0);
	assert_int_equal(created, 0);
	assert_memory_equal(a.sk, b.sk, sizeof(a.sk));
	assert_int_equal(hw_read_file(p, 4096, &buf, &len), 0);
	assert_non_null(strstr(buf, "ASSET-8"));
	free(buf);
	/* damaged: refused, and the file is left as it was */
	snprintf(p, sizeof(p), "%s/device.key", dir);
	assert_int_equal(hw_write_atomic(p, "hashwatch-device-key-1\nshort\n", 29, 0600), 0);
	assert_int_equal(devkey_load_or_create(dir, "ASSET-8", &b, &created, err, sizeof(err)),
			 -EBADMSG);
	assert_non_null(strstr(err, "damaged"));
	assert_int_equal(hw_read_file(p, 4096, &buf, &len), 0);
	assert_int_equal(len, 29);
	free(buf);
	devkey_wipe(&a);
	devkey_wipe(&b);
	hwt_rmtree(dir);
}

static void test_envelope(void **state)
{
	char dir[] = "/tmp/hwk.XXXXXX", err[512], id[ALERT_ID_HEX], id2[ALERT_ID_HEX];
	struct devkey k, other;
	json_object *alert = json_object_new_object(), *back = NULL, *v;
	char *text = NULL;
	size_t len;
	int created;
	(void)state;

	assert_non_null(mkdtemp(dir));
	assert_int_equal(devkey_load_or_create(dir, "A", &k, &created, err, sizeof(err)), 0);
	alert_new_id(id);
	alert_new_id(id2);
	assert_int_equal(strlen(id), 32);
	assert_string_not_equal(id, id2);
	json_object_object_add(alert, "alert_id", json_object_new_string(id));
	json_object_object_add(alert, "entry_id", json_object_new_string("été/\"x\""));
	assert_int_equal(alert_envelope(alert, &k, &text, &len), 0);
	assert_int_equal(strlen(text), len);
	assert_int_equal(alert_verify(text, len, k.pk, &back), 0);
	assert_true(json_object_object_get_ex(back, "entry_id", &v));
	assert_string_equal(json_object_get_string(v), "été/\"x\"");
	json_object_put(back);

	/* another expected key: rejected */
	crypto_sign_keypair(other.pk, other.sk);
	assert_int_equal(alert_verify(text, len, other.pk, &back), -EKEYREJECTED);

	/* flip each base64 character of the payload and of the signature */
	char *p = strstr(text, "\"payload\":\"");
	assert_non_null(p);
	p += 11;
	size_t plen = strcspn(p, "\"");
	for (size_t i = 0; i < plen - 4; i += 7) {
		char saved = p[i];
		p[i] = saved == 'A' ? 'B' : 'A';
		int r = alert_verify(text, len, NULL, &back);
		assert_true(r == -EKEYREJECTED || r == -EBADMSG);
		p[i] = saved;
	}
	/* a payload re-signed by another key but claiming our device key */
	assert_int_equal(alert_verify(text, len, NULL, &back), 0);
	json_object_put(back);
	struct devkey forged = k;
	memcpy(forged.sk, other.sk, sizeof(forged.sk));
	char *text2 = NULL;
	size_t len2;
	assert_int_equal(alert_envelope(alert, &forged, &text2, &len2), 0);
	assert_int_equal(alert_verify(text2, len2, NULL, &back), -EKEYREJECTED);
	free(text2);
	assert_int_equal(alert_verify("{}", 2, NULL, &back), -EBADMSG);
	assert_int_equal(alert_verify("not json", 8, NULL, &back), -EBADMSG);

	struct timespec t = { .tv_sec = 1700000000, .tv_nsec = 123456789 };
	char when[32];
	alert_time(&t, when);
	assert_string_equal(when, "2023-11-14T22:13:20.123Z");
	free(text);
	json_object_put(alert);
	devkey_wipe(&k);
	hwt_rmtree(dir);
}

static void test_policy(void **state)
{
	struct hasher_result res;
	struct policy_hit h[8];
	(void)state;

	memset(&res, 0, sizeof(res));
	res.mask = (1u << HW_MODEL_PDQ) | (1u << HW_MODEL_SHA256) | (1u << HW_MODEL_PHASH);
	res.hash[HW_MODEL_PDQ].quality = 80;
	res.hash[HW_MODEL_SHA256].quality = -1;
	res.hash[HW_MODEL_PHASH].quality = -1;

	/* entry 1: PDQ and SHA-256 (confirmed, PDQ reported); entry 2: SHA-256
	 * alone (not confirmed); entry 3: pHash and PDQ (confirmed, PDQ);
	 * entry 4: SHA-256 and MD5, one signal (not confirmed) */
#define M(e, mod, d, v) { .entry = e, .model = mod, .distance = d, .variant = v }
	struct hwdb_match m[] = {
		M(1, HW_MODEL_SHA256, 0, -1), M(1, HW_MODEL_PDQ, 12, 3),
		M(2, HW_MODEL_SHA256, 0, -1),
		M(3, HW_MODEL_PHASH, 2, -1), M(3, HW_MODEL_PDQ, 30, 0),
		M(4, HW_MODEL_SHA256, 0, -1), M(4, HW_MODEL_MD5, 0, -1),
	};
#undef M
	size_t n = policy_group(m, 7, &res, h, 8);
	assert_int_equal(n, 4);
	assert_int_equal(h[0].entry, 1);
	assert_int_equal(h[0].model, HW_MODEL_PDQ);
	assert_int_equal(h[0].variant, 3);
	assert_int_equal(h[0].quality, 80);
	assert_true(h[0].confirmed);
	assert_int_equal(h[1].model, HW_MODEL_SHA256);
	assert_false(h[1].confirmed);
	assert_int_equal(h[1].variant, -1);
	assert_int_equal(h[2].model, HW_MODEL_PDQ);
	assert_true(h[2].confirmed);
	assert_int_equal(h[3].model, HW_MODEL_SHA256);
	assert_false(h[3].confirmed);
	/* out of room: the rest is dropped, not overrun */
	assert_int_equal(policy_group(m, 7, &res, h, 2), 2);

	struct config cfg = { .pdq_max_distance = 20, .phash_max_distance = 5,
			      .dhash_max_distance = 6, .ahash_max_distance = 7 };
	double t[HW_MODEL__MAX];
	policy_thresholds(&cfg, t);
	assert_true(t[HW_MODEL_PDQ] == 20 && t[HW_MODEL_PHASH] == 5 && t[HW_MODEL_AHASH] == 7);
	assert_true(t[HW_MODEL_SHA256] < 0 && t[HW_MODEL_CV_PHASH] < 0);
}

static void test_proto(void **state)
{
	struct proto_result m;
	struct hasher_result res, back;
	char why[256];
	uint32_t asked = (1u << HW_MODEL_PDQ) | (1u << HW_MODEL_SHA256);
	(void)state;

	memset(&res, 0, sizeof(res));
	res.mask = asked;
	res.hash[HW_MODEL_PDQ] = (struct hw_hash){ .model = HW_MODEL_PDQ, .len = 32, .quality = 77 };
	res.hash[HW_MODEL_PDQ].bytes[5] = 0xab;
	res.hash[HW_MODEL_SHA256] = (struct hw_hash){ .model = HW_MODEL_SHA256, .len = 32, .quality = -1 };
	res.have_dihedral = true;
	res.pdq_dihedral.quality = 77;
	res.pdq_dihedral.v[7].bytes[0] = 0x42;
	proto_result_from(&m, 9, 0, &res, NULL, 100, 5);
	assert_int_equal(proto_check_result(&m, sizeof(m), 9, asked, PROTO_F_DIHEDRAL, why, sizeof(why)), 0);
	proto_result_to(&m, &back);
	assert_int_equal(back.mask, asked);
	assert_int_equal(back.hash[HW_MODEL_PDQ].bytes[5], 0xab);
	assert_int_equal(back.hash[HW_MODEL_PDQ].quality, 77);
	assert_int_equal(back.pdq_dihedral.v[7].bytes[0], 0x42);

	/* each field out of line is a protocol error, never data */
	struct proto_result x;
#define EXPECT_BAD(stmt, frag)                                                          \
	do {                                                                            \
		x = m;                                                                  \
		stmt;                                                                   \
		assert_int_equal(proto_check_result(&x, sizeof(x), 9, asked, PROTO_F_DIHEDRAL, \
						    why, sizeof(why)),                  \
				 -EPROTO);                                              \
		if (!strstr(why, frag))                                                 \
			fail_msg("'%s' lacks '%s'", why, frag);                         \
	} while (0)
	EXPECT_BAD(x.magic++, "magic");
	EXPECT_BAD(x.type = PROTO_HASH, "type");
	EXPECT_BAD(x.seq = 8, "request 8");
	EXPECT_BAD(x.error = 5, "error code");
	EXPECT_BAD(x.models |= 1u << HW_MODEL_MD5, "not asked");
	EXPECT_BAD(x.hash[HW_MODEL_PDQ].len = 33, "slot");
	EXPECT_BAD(x.hash[HW_MODEL_PDQ].model = HW_MODEL_PHASH, "slot");
	EXPECT_BAD(x.hash[HW_MODEL_PDQ].quality = 101, "quality");
	EXPECT_BAD(x.have_dihedral = 2, "dihedral");
	EXPECT_BAD(x.pdq_quality = -3, "quality");
	EXPECT_BAD(memset(x.reason, 'a', sizeof(x.reason)), "unterminated");
	EXPECT_BAD(memset(x.format, 'a', sizeof(x.format)), "unterminated");
	assert_int_equal(proto_check_result(&m, sizeof(m) - 1, 9, asked, 0, why, sizeof(why)), -EPROTO);
	/* dihedral variants that were not asked for */
	assert_int_equal(proto_check_result(&m, sizeof(m), 9, asked, 0, why, sizeof(why)), -EPROTO);

	struct proto_request rq;
	proto_request_init(&rq, 1, asked, PROTO_F_BACKGROUND, 100, 100);
	assert_int_equal(proto_check_request(&rq, sizeof(rq)), 0);
	rq.flags = 0x80;
	assert_int_equal(proto_check_request(&rq, sizeof(rq)), -EPROTO);
}

/* A reply with both inner regions: round trip, then each field of a
 * region out of line (a hostile worker) is refused with a reason. */
static void test_proto_trim(void **state)
{
	struct proto_result m, x;
	struct hasher_result res, back;
	char why[256];
	const uint32_t asked = (1u << HW_MODEL_PDQ) | (1u << HW_MODEL_PHASH) |
			       (1u << HW_MODEL_SHA256);
	const uint32_t inner = (1u << HW_MODEL_PDQ) | (1u << HW_MODEL_PHASH);
	const uint32_t fl = PROTO_F_DIHEDRAL | PROTO_F_TRIM;
	(void)state;

	memset(&res, 0, sizeof(res));
	res.mask = asked;
	res.hash[HW_MODEL_PDQ] = (struct hw_hash){ .model = HW_MODEL_PDQ, .len = 32, .quality = 70 };
	res.hash[HW_MODEL_PHASH] = (struct hw_hash){ .model = HW_MODEL_PHASH, .len = 8, .quality = -1 };
	res.hash[HW_MODEL_SHA256] = (struct hw_hash){ .model = HW_MODEL_SHA256, .len = 32, .quality = -1 };
	res.info.src_width = 1000;
	res.info.src_height = 800;
	res.inner.mask = inner;
	res.inner.box = (struct border_box){ 100, 80, 800, 640 };
	res.inner.hash[HW_MODEL_PDQ] = (struct hw_hash){ .model = HW_MODEL_PDQ, .len = 32, .quality = 90 };
	res.inner.hash[HW_MODEL_PDQ].bytes[3] = 0x5a;
	res.inner.hash[HW_MODEL_PHASH] = (struct hw_hash){ .model = HW_MODEL_PHASH, .len = 8, .quality = -1 };
	res.inner.have_dihedral = true;
	res.inner.pdq_dihedral.quality = 90;
	res.inner.pdq_dihedral.v[2].bytes[31] = 0x11;
	res.inner_outer.mask = 1u << HW_MODEL_PDQ;
	res.inner_outer.box = (struct border_box){ 50, 40, 900, 720 };
	res.inner_outer.hash[HW_MODEL_PDQ] = (struct hw_hash){ .model = HW_MODEL_PDQ, .len = 32, .quality = 88 };
	proto_result_from(&m, 4, 0, &res, NULL, 100, 5);
	assert_int_equal(proto_check_result(&m, sizeof(m), 4, asked, fl, why, sizeof(why)), 0);
	proto_result_to(&m, &back);
	assert_int_equal(back.inner.mask, inner);
	assert_memory_equal(&back.inner.box, &res.inner.box, sizeof(res.inner.box));
	assert_int_equal(back.inner.hash[HW_MODEL_PDQ].bytes[3], 0x5a);
	assert_int_equal(back.inner.hash[HW_MODEL_PDQ].quality, 90);
	assert_true(back.inner.have_dihedral);
	assert_int_equal(back.inner.pdq_dihedral.v[2].bytes[31], 0x11);
	assert_int_equal(back.inner_outer.mask, 1u << HW_MODEL_PDQ);
	assert_int_equal(back.inner_outer.box.w, 900);
	assert_false(back.inner_outer.have_dihedral);
	/* a failed hash carries no region even if the hasher left one */
	proto_result_from(&x, 4, -EBADMSG, &res, "bad", 100, 5);
	assert_int_equal(x.inner[0].models, 0);
	assert_int_equal(proto_check_result(&x, sizeof(x), 4, asked, fl, why, sizeof(why)), 0);

#define EXPECT_BAD_TRIM(stmt, flags, frag)                                              \
	do {                                                                            \
		x = m;                                                                  \
		stmt;                                                                   \
		assert_int_equal(proto_check_result(&x, sizeof(x), 4, asked, flags, why, \
						    sizeof(why)),                       \
				 -EPROTO);                                              \
		if (!strstr(why, frag))                                                 \
			fail_msg("'%s' lacks '%s'", why, frag);                         \
	} while (0)
	EXPECT_BAD_TRIM((void)0, PROTO_F_DIHEDRAL, "not asked");
	EXPECT_BAD_TRIM(x.inner[0].region = HASHER_WHOLE, fl, "region 0");
	EXPECT_BAD_TRIM(x.inner[0].region = 3, fl, "region 3");
	EXPECT_BAD_TRIM(x.inner[1].region = HASHER_INNER, fl, "region 1 in inner slot 1");
	EXPECT_BAD_TRIM(x.inner[0].w = 901, fl, "outside");
	EXPECT_BAD_TRIM(x.inner[0].y = 161, fl, "outside");
	EXPECT_BAD_TRIM(x.inner[0].h = 0, fl, "outside");
	EXPECT_BAD_TRIM((x.inner[0].x = 0xffffff00u, x.inner[0].w = 0x100), fl, "outside");
	EXPECT_BAD_TRIM((x.inner[1].x = 0, x.inner[1].y = 0, x.inner[1].w = 1000,
			 x.inner[1].h = 800), fl, "equal");
	EXPECT_BAD_TRIM((x.inner[1].x = 101, x.inner[1].w = 799), fl, "does not hold");
	EXPECT_BAD_TRIM(x.inner[0].models |= 1u << HW_MODEL_SHA256, fl, "not asked");
	EXPECT_BAD_TRIM(x.inner[0].models |= 1u << HW_MODEL_DHASH, fl, "not asked");
	EXPECT_BAD_TRIM(x.inner[0].hash[HW_MODEL_PHASH].len = 32, fl, "slot");
	EXPECT_BAD_TRIM(x.inner[0].pdq_quality = 101, fl, "quality");
	EXPECT_BAD_TRIM((void)0, PROTO_F_TRIM, "dihedral");
	EXPECT_BAD_TRIM(memset(&x.inner[0], 0, sizeof(x.inner[0])), fl, "without a first");
	EXPECT_BAD_TRIM((x.inner[1].models = 0), fl, "not zero");
	EXPECT_BAD_TRIM((x.error = -EIO, x.reason[0] = 'x'), fl, "with error");
#undef EXPECT_BAD_TRIM

	/* a reply of the first layout (no inner regions, magic HWW1) */
	x = m;
	x.magic = 0x31575748u;
	assert_int_equal(proto_check_result(&x, sizeof(x), 4, asked, fl, why, sizeof(why)), -EPROTO);
	assert_int_equal(proto_check_result(&m, offsetof(struct proto_result, inner) + PROTO_REASON_MAX,
					    4, asked, fl, why, sizeof(why)), -EPROTO);
	assert_non_null(strstr(why, "bytes"));

	/* the matcher's hit in the inner region names it, with the box and
	 * the quality of the inner region's hash */
	struct hwdb_match hm[] = {
		{ .entry = 7, .model = HW_MODEL_PDQ, .distance = 4, .variant = 0,
		  .region = HASHER_INNER, .box = { 100, 80, 800, 640 } },
		{ .entry = 8, .model = HW_MODEL_SHA256, .distance = 0, .variant = -1,
		  .region = HASHER_WHOLE, .box = { 0, 0, 1000, 800 } },
	};
	struct policy_hit h[2];
	assert_int_equal(policy_group(hm, 2, &back, h, 2), 2);
	assert_int_equal(h[0].region, HASHER_INNER);
	assert_int_equal(h[0].box.x, 100);
	assert_int_equal(h[0].box.h, 640);
	assert_int_equal(h[0].quality, 90);
	assert_int_equal(h[1].region, HASHER_WHOLE);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_devkey),
		cmocka_unit_test(test_envelope),
		cmocka_unit_test(test_policy),
		cmocka_unit_test(test_proto),
		cmocka_unit_test(test_proto_trim),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
