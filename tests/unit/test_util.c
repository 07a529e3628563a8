/* test_util.c - bounded reads, atomic writes, file walking, the model
 * registry and hex round trips. */
#include "harness.h"

#include <sys/stat.h>

#include "confval.h"
#include "fileio.h"
#include "model.h"
#include "walk.h"

static void test_read_limit(void **state)
{
	char dir[] = "/tmp/hwtest.XXXXXX";
	char path[256];
	void *buf = NULL;
	size_t len = 0;
	(void)state;

	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/f", dir);
	assert_int_equal(hw_write_atomic(path, "hello", 5, 0600), 0);
	assert_int_equal(hw_read_file(path, 5, &buf, &len), 0);
	assert_int_equal(len, 5);
	assert_memory_equal(buf, "hello", 5);
	free(buf);
	assert_int_equal(hw_read_file(path, 4, &buf, &len), -EFBIG);
	struct stat st;
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(hw_read_file("/nonexistent/x", 10, &buf, &len), -ENOENT);
	hwt_rmtree(dir);
}

static void test_atomic_write_failure_leaves_old(void **state)
{
	void *buf = NULL;
	size_t len;
	(void)state;
	/* A folder that does not exist: the write fails, nothing is created. */
	assert_int_equal(hw_write_atomic("/nonexistent-dir/x", "a", 1, 0600), -ENOENT);
	assert_int_equal(hw_read_file("/nonexistent-dir/x", 10, &buf, &len), -ENOENT);
}

static void test_walk(void **state)
{
	char dir[] = "/tmp/hwtest.XXXXXX";
	char p[512];
	struct pathlist pl = { 0 };
	(void)state;

	assert_non_null(mkdtemp(dir));
	snprintf(p, sizeof(p), "%s/b", dir);
	assert_int_equal(mkdir(p, 0700), 0);
	snprintf(p, sizeof(p), "%s/b/z.jpg", dir);
	assert_int_equal(hw_write_atomic(p, "x", 1, 0600), 0);
	snprintf(p, sizeof(p), "%s/a.png", dir);
	assert_int_equal(hw_write_atomic(p, "x", 1, 0600), 0);
	snprintf(p, sizeof(p), "%s/link", dir);
	assert_int_equal(symlink("/etc/passwd", p), 0);
	snprintf(p, sizeof(p), "%s/fifo", dir);
	assert_int_equal(mkfifo(p, 0600), 0);
	assert_int_equal(walk_collect(dir, &pl, NULL, NULL), 0);
	assert_int_equal(pl.n, 2); /* no symlink, no FIFO */
	assert_non_null(strstr(pl.v[0], "/a.png"));
	assert_non_null(strstr(pl.v[1], "/b/z.jpg"));
	pathlist_free(&pl);
	hwt_rmtree(dir);
}

static void test_registry(void **state)
{
	uint32_t mask;
	char bad[32];
	(void)state;

	assert_int_equal(hw_model_by_name("pdq")->bytes, 32);
	assert_int_equal(hw_model_by_name("phash")->bytes, 8);
	assert_null(hw_model_by_name("nope"));
	assert_int_equal(hw_model_parse_list("pdq,md5", &mask, bad, sizeof(bad)), 0);
	assert_int_equal(mask, (1u << HW_MODEL_PDQ) | (1u << HW_MODEL_MD5));
	assert_int_equal(hw_model_parse_list("pdq,bogus", &mask, bad, sizeof(bad)), -EINVAL);
	assert_string_equal(bad, "bogus");
	assert_int_equal(hw_model_parse_list("", &mask, bad, sizeof(bad)), -EINVAL);
}

static void test_hex_roundtrip_and_distance(void **state)
{
	struct hw_hash a, b;
	char hex[2 * HW_HASH_MAX + 1];
	(void)state;

	assert_int_equal(hw_hash_from_hex(HW_MODEL_PHASH, "aca29c1c33dc23d7", &a), 0);
	hw_hash_to_hex(&a, hex);
	assert_string_equal(hex, "aca29c1c33dc23d7");
	assert_int_equal(hw_hash_from_hex(HW_MODEL_PHASH, "aca29c1c33dc23d6", &b), 0);
	assert_true(hw_model_distance(&a, &b) == 1.0);
	assert_int_equal(hw_hash_from_hex(HW_MODEL_PHASH, "aca29c1c33dc23d", &b), -EINVAL);
	assert_int_equal(hw_hash_from_hex(HW_MODEL_PHASH, "aca29c1c33dc23dg", &b), -EINVAL);
	assert_int_equal(hw_hash_from_hex(HW_MODEL_MD5, "d41d8cd98f00b204e9800998ecf8427e", &b), 0);
	assert_true(hw_model_distance(&a, &b) < 0); /* different models */
}

static void test_digests(void **state)
{
	struct hw_hash h;
	char hex[65];
	(void)state;
	assert_int_equal(hw_model_hash_bytes(HW_MODEL_SHA256, "abc", 3, &h), 0);
	hw_hash_to_hex(&h, hex);
	assert_string_equal(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	assert_int_equal(hw_model_hash_bytes(HW_MODEL_MD5, "", 0, &h), 0);
	hw_hash_to_hex(&h, hex);
	assert_string_equal(hex, "d41d8cd98f00b204e9800998ecf8427e");
	assert_int_equal(hw_model_hash_bytes(HW_MODEL_SHA1, "abc", 3, &h), 0);
	hw_hash_to_hex(&h, hex);
	assert_string_equal(hex, "a9993e364706816aba3e25717850c26c9cd0d89d");
}

/* The value syntax both configuration parsers share. */
static void test_confval(void **state)
{
	bool b = false;
	char id[CONFVAL_ID_MAX + 2];

	(void)state;
	assert_int_equal(confval_bool("On", &b), 0);
	assert_true(b);
	assert_int_equal(confval_bool("0", &b), 0);
	assert_false(b);
	assert_int_equal(confval_bool("maybe", &b), -EINVAL);
	assert_true(confval_device_id("ASSET-0001"));
	assert_true(confval_device_id("lab.3:b_2"));
	assert_false(confval_device_id(""));
	assert_false(confval_device_id("a/b"));
	assert_false(confval_device_id("a b"));
	memset(id, 'x', sizeof(id) - 1);
	id[sizeof(id) - 1] = '\0';
	assert_false(confval_device_id(id));
	id[CONFVAL_ID_MAX] = '\0';
	assert_true(confval_device_id(id));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_read_limit),
		cmocka_unit_test(test_atomic_write_failure_leaves_old),
		cmocka_unit_test(test_walk),
		cmocka_unit_test(test_registry),
		cmocka_unit_test(test_hex_roundtrip_and_distance),
		cmocka_unit_test(test_digests),
		cmocka_unit_test(test_confval),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
