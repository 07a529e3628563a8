/* bench_auditlog.c - how fast the audit log appends (with and without
 * fsync) and how long the daemon's open takes on a large file, which it
 * verifies to find the chain head.  The baseline, measured in the same
 * run, is reading and SHA-256-hashing the same file in one piece: the
 * least any verifying open could do. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "auditlog.h"
#include "auditverify.h"
#include "fileio.h"

#define RECORDS 100000

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static json_object *counts(int i)
{
	json_object *f = json_object_new_object(), *sk = json_object_new_object();
	json_object_object_add(f, "period_s", json_object_new_int(600));
	json_object_object_add(f, "seen", json_object_new_int(i * 7 % 5000));
	json_object_object_add(f, "hashed", json_object_new_int(i * 3 % 4000));
	json_object_object_add(f, "cached", json_object_new_int(i % 1000));
	json_object_object_add(sk, "too_large", json_object_new_int(i % 13));
	json_object_object_add(sk, "unsupported", json_object_new_int(i % 7));
	json_object_object_add(f, "skipped", sk);
	json_object_object_add(f, "errors", json_object_new_int(0));
	return f;
}

static int append(struct auditlog *log, int n, int from, bool sync)
{
	for (int i = from; i < from + n; i++) {
		json_object *f = counts(i);
		int r = auditlog_append(log, "scan_counts", f, sync, NULL, NULL);
		json_object_put(f);
		if (r < 0)
			return r;
	}
	return 0;
}

int main(void)
{
	char dir[] = "/tmp/hwbench.XXXXXX", path[128], cmd[160];
	struct auditlog_config cfg = { .max_bytes = 1024u * 1024 * 1024 };
	struct auditlog *log;
	struct stat st;
	double t0, t_append, t_sync, t_open, t_verify, t_base;
	int r, nsync = 200;

	if (!mkdtemp(dir))
		return 1;
	snprintf(path, sizeof(path), "%s/audit.log", dir);
	if ((r = auditlog_open_with(path, &cfg, &log)) < 0)
		goto fail;
	t0 = now_s();
	if ((r = append(log, RECORDS, 0, false)) < 0)
		goto fail;
	t_append = now_s() - t0;
	t0 = now_s();
	if ((r = append(log, nsync, RECORDS, true)) < 0)
		goto fail;
	t_sync = now_s() - t0;
	auditlog_close(log);
	stat(path, &st);

	/* Baseline: read the file and hash it in one piece. */
	void *buf;
	size_t len;
	unsigned char md[32];
	t0 = now_s();
	if ((r = hw_read_file(path, (size_t)st.st_size + 1, &buf, &len)) < 0)
		goto fail;
	crypto_hash_sha256(md, buf, len);
	t_base = now_s() - t0;
	free(buf);

	t0 = now_s();
	if ((r = auditlog_open_with(path, &cfg, &log)) < 0)
		goto fail;
	t_open = now_s() - t0;
	auditlog_close(log);

	struct auditverify v;
	t0 = now_s();
	auditverify_init(&v, NULL);
	if ((r = auditverify_file(&v, path, NULL, NULL)) < 0)
		goto fail;
	t_verify = now_s() - t0;

	printf("file: %d records, %.1f MiB (%.0f bytes a record)\n", RECORDS + nsync,
	       (double)st.st_size / 1048576.0, (double)st.st_size / (RECORDS + nsync));
	printf("append, no fsync:   %8.1f us a record (%.0f records/s)\n",
	       t_append / RECORDS * 1e6, RECORDS / t_append);
	printf("append with fsync:  %8.1f us a record\n", t_sync / nsync * 1e6);
	printf("open (verify + find head) of %d records: %.3f s = %.1fx the baseline "
	       "(read + SHA-256 of the file: %.3f s)\n", RECORDS + nsync, t_open,
	       t_open / t_base, t_base);
	printf("verify alone: %.3f s; at the default 8 MiB rotation size an open verifies "
	       "at most %.0f records: about %.3f s\n", t_verify,
	       8.0 * 1048576 / ((double)st.st_size / (RECORDS + nsync)),
	       t_open * (8.0 * 1048576 / (double)st.st_size));
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 && v.problems == 0 ? 0 : 1;
fail:
	fprintf(stderr, "bench_auditlog: %s\n", strerror(-r));
	return 1;
}
