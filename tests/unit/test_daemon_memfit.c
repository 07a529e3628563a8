/* test_daemon_memfit.c - the check that the lists fit in the service's
 * memory limits: cgroup v2 limits read through the mount table and the
 * process's cgroup line (real files in a temp folder laid out as the
 * kernel lays them out), "max" as no limit, a process without a cgroup v2
 * memory controller as nothing to check, a damaged value refused, and the
 * warning naming the limit that is short, both sizes and the fix. */
#include "harness.h"

#include <limits.h>
#include <sys/stat.h>

#include "memfit.h"

struct fx {
	char dir[64], mountinfo[128], cgroup[128], unit[256];
};

static void put(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	assert_int_equal(fclose(f), 0);
}

static void put_in(const struct fx *x, const char *name, const char *text)
{
	char p[PATH_MAX];
	snprintf(p, sizeof(p), "%s/%s", x->unit, name);
	put(p, text);
}

/* A cgroup2 mount at DIR/cg (after a cgroup v1 line that must be passed
 * over), the process in /system.slice/hashwatchd.service, with limits of
 * 512 MiB (high) and 1 GiB (max) as systemd writes them. */
static int setup(void **state)
{
	struct fx *x = calloc(1, sizeof(*x));
	char p[PATH_MAX], text[1024];

	assert_non_null(x);
	snprintf(x->dir, sizeof(x->dir), "/tmp/hw-memfit-XXXXXX");
	assert_non_null(mkdtemp(x->dir));
	snprintf(x->mountinfo, sizeof(x->mountinfo), "%s/mountinfo", x->dir);
	snprintf(x->cgroup, sizeof(x->cgroup), "%s/cgroup", x->dir);
	snprintf(x->unit, sizeof(x->unit), "%s/cg/system.slice/hashwatchd.service", x->dir);
	snprintf(p, sizeof(p), "mkdir -p '%s'", x->unit);
	assert_int_equal(system(p), 0);
	snprintf(text, sizeof(text),
		 "22 1 254:0 / / rw,relatime shared:1 - ext4 /dev/vda rw\n"
		 "31 25 0:27 / /sys/fs/cgroup/memory rw,nosuid shared:9 - cgroup cgroup rw,memory\n"
		 "30 25 0:26 / %s/cg rw,nosuid,nodev,noexec,relatime shared:4 - cgroup2 cgroup2 "
		 "rw,nsdelegate,memory_recursiveprot\n",
		 x->dir);
	put(x->mountinfo, text);
	put(x->cgroup, "0::/system.slice/hashwatchd.service\n");
	put_in(x, "memory.high", "536870912\n");
	put_in(x, "memory.max", "1073741824\n");
	*state = x;
	return 0;
}

static int teardown(void **state)
{
	struct fx *x = *state;
	hwt_rmtree(x->dir);
	free(x);
	return 0;
}

static void test_reads_limits(void **state)
{
	struct fx *x = *state;
	struct memfit_limits l = { 0, 0 };

	assert_int_equal(memfit_read(x->mountinfo, x->cgroup, &l), 0);
	assert_true(l.high == (uint64_t)512 << 20);
	assert_true(l.max == (uint64_t)1 << 30);
	put_in(x, "memory.high", "max\n");
	put_in(x, "memory.max", "max\n");
	assert_int_equal(memfit_read(x->mountinfo, x->cgroup, &l), 0);
	assert_true(l.high == MEMFIT_NONE && l.max == MEMFIT_NONE);
}

static void test_nothing_to_check(void **state)
{
	struct fx *x = *state;
	struct memfit_limits l;
	char p[PATH_MAX];

	/* no memory controller in the group (its files are absent) */
	snprintf(p, sizeof(p), "%s/memory.high", x->unit);
	assert_int_equal(unlink(p), 0);
	assert_int_equal(memfit_read(x->mountinfo, x->cgroup, &l), -ENOENT);
	/* a process in no cgroup v2 group */
	put_in(x, "memory.high", "536870912\n");
	put(x->cgroup, "12:memory:/system.slice/hashwatchd.service\n");
	assert_int_equal(memfit_read(x->mountinfo, x->cgroup, &l), -ENOENT);
	/* no cgroup2 file system mounted */
	put(x->cgroup, "0::/system.slice/hashwatchd.service\n");
	put(x->mountinfo, "22 1 254:0 / / rw,relatime shared:1 - ext4 /dev/vda rw\n");
	assert_int_equal(memfit_read(x->mountinfo, x->cgroup, &l), -ENOENT);
}

static void test_damaged_value(void **state)
{
	struct fx *x = *state;
	struct memfit_limits l;
	static const char *const bad[] = { "12abc\n", "-5\n", "\n", "" };

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		put_in(x, "memory.max", bad[i]);
		assert_int_equal(memfit_read(x->mountinfo, x->cgroup, &l), -EBADMSG);
	}
}

static void test_this_process(void **state)
{
	struct memfit_limits l = { 0, 0 };
	int r = memfit_read("/proc/self/mountinfo", "/proc/self/cgroup", &l);
	(void)state;

	/* Whatever this machine runs (cgroup v1 or v2, in a service or not),
	 * the real files parse: limits, or nothing to check. */
	if (r != 0 && r != -ENOENT)
		fail_msg("memfit_read on this process: %s", strerror(-r));
	if (r == 0)
		assert_true(l.high > 0 && l.max > 0);
}

static void test_warning(void **state)
{
	const uint64_t mib = 1 << 20;
	struct memfit_limits l = { 512 * mib, 1024 * mib };
	char msg[512];
	(void)state;

	assert_false(memfit_short(400 * mib, &l, msg, sizeof(msg)));
	assert_false(memfit_short(512 * mib, &l, msg, sizeof(msg)));

	assert_true(memfit_short(900 * mib, &l, msg, sizeof(msg)));
	assert_non_null(strstr(msg, "need about 900 MiB"));
	assert_non_null(strstr(msg, "MemoryHigh is 512 MiB"));
	assert_null(strstr(msg, "MemoryMax"));
	assert_non_null(strstr(msg, "systemctl edit hashwatchd"));
	assert_non_null(strstr(msg, "MemoryHigh=960M")); /* rounded up to 64 MiB */

	assert_true(memfit_short(1100 * mib, &l, msg, sizeof(msg)));
	assert_non_null(strstr(msg, "MemoryHigh is 512 MiB and MemoryMax 1024 MiB"));
	assert_non_null(strstr(msg, "MemoryHigh=1152M MemoryMax=1664M"));

	l.high = MEMFIT_NONE;
	assert_true(memfit_short(1100 * mib, &l, msg, sizeof(msg)));
	assert_non_null(strstr(msg, "MemoryMax is 1024 MiB"));
	assert_null(strstr(msg, "MemoryHigh"));
	l.max = MEMFIT_NONE;
	assert_false(memfit_short(UINT64_MAX / 2, &l, msg, sizeof(msg)));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_reads_limits, setup, teardown),
		cmocka_unit_test_setup_teardown(test_nothing_to_check, setup, teardown),
		cmocka_unit_test_setup_teardown(test_damaged_value, setup, teardown),
		cmocka_unit_test(test_this_process),
		cmocka_unit_test(test_warning),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
