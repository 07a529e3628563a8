/* bench_mih.c - the matcher benchmark of issue 3: at 1M and 10M random
 * hashes (256-bit PDQ at d <= 31 with the 8 dihedral variants per image;
 * 64-bit at d <= 8, one query per image) with near-duplicates planted at
 * every distance 0..40 from 1,000 query images, it checks that the index
 * answers exactly like the linear scan on every query, and prints build
 * time, size and resident memory per entry, and the mean and 99th
 * percentile time per image query for the index and the linear scan, with
 * their ratio (the machines are shared and noisy; only same-run ratios are
 * comparable).  The index queries run back to back, the linear scans after
 * them: a scan of the whole list between index queries would flush the
 * caches and the TLB, which a scanner's work between images does not.
 *
 * The list is laid out as the .hwdb stores it (hashes, a 4-byte payload
 * per hash, the index blob) in a memfd and mapped read-only, so queries
 * run on 4 kB page-cache pages like the daemon's.  For PDQ it also prints
 * what one random read costs in the hashes and in a slot-sized part of the
 * index (the floor under the query: ~25k random pages per image at 10M),
 * the index's mean by fifth of the images with the floor in the hashes
 * measured again before each fifth (the host's state drifts within a
 * run), and the query time without the AVX-512 filters, without VPOPCNTQ and
 * (from 1M) with the list on 2 MB pages, each on the same queries and
 * answers.
 *
 * Where the list sits in physical memory moves these figures by up to 20%
 * on a VM: an identical copy of a list file that had aged in the page cache
 * queried 20% faster than the original.  The memfd here is fresh every
 * run; a comparison of two list layouts must use fresh copies of both,
 * in alternating runs.
 *
 * Usage: bench_mih [--quick] [--images N] [--linear N] [SIZE...]
 *   SIZE defaults to 1000000 10000000; --quick is 100000 with 200 images.
 *   --linear N times the linear scan on the first N images only, and then
 *   checks the index against the linear scan on those N only.
 * Exit status: 0 if every check passed, 1 if the index ever disagreed with
 * the linear scan, 2 on error.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "bench/loadavg.h"
#include "mih.h"
#include "randhash.h"

#define PLANT_MAX 40
#define HIT_CAP 4096

static double clock_s(clockid_t id)
{
	struct timespec t;
	clock_gettime(id, &t);
	return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static double now_s(void)
{
	return clock_s(CLOCK_MONOTONIC);
}

/* CPU time of this thread: on a shared machine it leaves out the time
 * other processes had the core (not their cache pollution). */
static double cpu_s(void)
{
	return clock_s(CLOCK_THREAD_CPUTIME_ID);
}

static long vmrss_kb(void)
{
	FILE *f = fopen("/proc/self/status", "r");
	char line[256];
	long kb = -1;

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (strncmp(line, "VmRSS:", 6) == 0)
			kb = strtol(line + 6, NULL, 10);
	fclose(f);
	return kb;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

struct stats {
	double mean, p99;
};

static struct stats stats_of(double *t, size_t n)
{
	struct stats s = { 0, 0 };
	if (n == 0)
		return s;
	for (size_t i = 0; i < n; i++)
		s.mean += t[i];
	s.mean /= (double)n;
	qsort(t, n, sizeof(*t), cmp_double);
	s.p99 = t[(n * 99 + 99) / 100 - 1];
	return s;
}

static void print_times(const char *what, double *tm, double *tl, size_t nimg, size_t nlin)
{
	struct stats sm = stats_of(tm, nimg), sl = stats_of(tl, nlin);

	printf("    %s: index mean %7.1f us p99 %7.1f us | linear mean %6.2f ms p99 %6.2f ms"
	       " | mean ratio %.0fx\n", what, sm.mean * 1e6, sm.p99 * 1e6, sl.mean * 1e3,
	       sl.p99 * 1e3, sm.mean > 0 ? sl.mean / sm.mean : 0);
}

/* The index's mean by fifth of the images (in the order they ran), to
 * print beside the random-read floor measured right before each: whether
 * the host's state changed during the run, and how the query time
 * follows the floor.  Sorts each fifth of cm in place (stats_of), which
 * leaves the whole run's mean and p99 as they were. */
static void fifth_means(double *cm, size_t fifth, double ret_us[5])
{
	for (size_t k = 0; k < 5; k++)
		ret_us[k] = stats_of(cm + k * fifth, fifth).mean * 1e6;
}

static void print_fifths(const double us[5], const double floor_ns[5])
{
	printf("    cpu : index mean by fifth of the images: %.0f %.0f %.0f %.0f %.0f us; "
	       "random-read floor in the hashes before each: %.1f %.1f %.1f %.1f %.1f ns\n",
	       us[0], us[1], us[2], us[3], us[4], floor_ns[0], floor_ns[1], floor_ns[2],
	       floor_ns[3], floor_ns[4]);
}

static long status_kb(const char *path, const char *key)
{
	FILE *f = fopen(path, "r");
	char line[256];
	size_t kl = strlen(key);
	long kb = -1;

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (strncmp(line, key, kl) == 0)
			kb = strtol(line + kl, NULL, 10);
	fclose(f);
	return kb;
}

/* What a random read costs on this machine, for comparison with the
 * query: reads of one 8-byte word at random 64-byte-aligned offsets in
 * [p, p + len), each prefetched 16 reads ahead (as the query prefetches),
 * in ns per read, the best of 5 rounds of new offsets (the first round
 * after a sweep of the whole list is much slower).  At 10M PDQ hashes a
 * query reads ~25k distinct 4 kB pages, most of them once, so this times
 * page walks as much as memory. */
static double random_read_ns(const uint8_t *p, size_t len, struct rng *rng)
{
	enum { NREAD = 32768, AHEAD = 16 };
	static size_t off[NREAD];
	volatile uint64_t sink = 0;
	uint64_t sum = 0, w;
	double best = -1;

	if (len < 64)
		return 0;
	for (unsigned round = 0; round < 5; round++) {
		double c0, t;

		for (size_t i = 0; i < NREAD; i++)
			off[i] = (rng_next(rng) % (len / 64)) * 64;
		c0 = cpu_s();
		for (size_t i = 0; i < NREAD; i++) {
			if (i + AHEAD < NREAD)
				__builtin_prefetch(p + off[i + AHEAD]);
			memcpy(&w, p + off[i], sizeof(w));
			sum += w;
		}
		t = cpu_s() - c0;
		best = best < 0 || t < best ? t : best;
	}
	sink = sum;
	(void)sink;
	return best / NREAD * 1e9;
}

/* Time the image queries on view m2 (CPU time per image into tc, its mean
 * and p99 into *ret), back to back like the main timing, then compare
 * each answer with view m's in an untimed pass (a query timed right after
 * another view's query of the same image measured ~1.5x slower, even with
 * identical views).  Returns the number of images whose answers
 * differed. */
static long time_view(const struct mih *m2, const struct mih *m, const uint8_t *qs,
		      size_t nimg, unsigned nq, unsigned bits, unsigned d, struct mih_hit *h1,
		      struct mih_hit *h2, double *tc, struct stats *ret)
{
	long diff = 0;

	for (size_t img = 0; img < nimg; img++) {
		size_t n2 = 0;
		double c0 = cpu_s();

		(void)mih_query(m2, qs + img * nq * (bits / 8), nq, d, h2, HIT_CAP, &n2);
		tc[img] = cpu_s() - c0;
	}
	for (size_t img = 0; img < nimg; img++) {
		const uint8_t *q = qs + img * nq * (bits / 8);
		size_t n1 = 0, n2 = 0;
		int r1 = mih_query(m, q, nq, d, h1, HIT_CAP, &n1);
		int r2 = mih_query(m2, q, nq, d, h2, HIT_CAP, &n2);

		diff += r1 != r2 || n1 != n2 || (n1 && memcmp(h1, h2, n1 * sizeof(*h1)) != 0);
	}
	*ret = stats_of(tc, nimg);
	return diff;
}

/* The same image queries on the same list with some vector code turned
 * off (flags: MIH_OPEN_NO_VPOPCNT or MIH_OPEN_NO_AVX512): what it gains,
 * measured in the same run right after the main timing (the linear
 * scans, run later, leave the index queries after them slower for a
 * while).  Returns the number of images whose answer differed, or -1. */
static long bench_narrow(const struct mih *m, const uint8_t *map, size_t off_blob,
			 size_t blob_len, size_t n, unsigned bits, unsigned flags,
			 const uint8_t *qs, size_t nimg, unsigned nq, unsigned d,
			 struct mih_hit *h1, struct mih_hit *h2, double *tc, struct stats *ret)
{
	struct mih *m2 = NULL;
	long diff;

	if (mih_open_flags(map + off_blob, blob_len, map, n, bits, MIH_OPEN_DIGESTED | flags,
			   &m2) < 0)
		return -1;
	diff = time_view(m2, m, qs, nimg, nq, bits, d, h1, h2, tc, ret);
	mih_close(m2);
	return diff;
}

/* The same image queries with a copy of the list in anonymous memory
 * asked to sit on 2 MB pages: how much of the query time goes to address
 * translation (4 kB page-cache pages make nearly every random access a
 * TLB miss; in a VM that is a nested page walk).  Answers must not change.
 * Returns the number of images whose answer differed, or -1. */
static long bench_hugepages(const struct mih *m, const uint8_t *map, size_t map_len,
			    size_t off_blob, size_t blob_len, size_t n, unsigned bits,
			    const uint8_t *qs, size_t nimg, unsigned nq, unsigned d,
			    struct mih_hit *h1, struct mih_hit *h2, double *tc)
{
	const size_t huge = (size_t)2 << 20;
	size_t len = (map_len + huge - 1) & ~(huge - 1);
	uint8_t *raw, *a;
	struct mih *m2 = NULL;
	struct stats st;
	long diff, thp_kb;

	raw = mmap(NULL, len + huge, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (raw == MAP_FAILED)
		return -1;
	a = (uint8_t *)(((uintptr_t)raw + huge - 1) & ~(uintptr_t)(huge - 1));
	(void)madvise(a, len, MADV_HUGEPAGE);
	memcpy(a, map, map_len);
	if (mih_open(a + off_blob, blob_len, a, n, bits, &m2) < 0) {
		munmap(raw, len + huge);
		return -1;
	}
	thp_kb = status_kb("/proc/self/smaps_rollup", "AnonHugePages:");
	diff = time_view(m2, m, qs, nimg, nq, bits, d, h1, h2, tc, &st);
	printf("    cpu : index mean %7.1f us p99 %7.1f us with the list copied to anonymous "
	       "memory on 2 MB pages (%ld MB of them)\n", st.mean * 1e6, st.p99 * 1e6,
	       thp_kb / 1024);
	mih_close(m2);
	munmap(raw, len + huge);
	return diff;
}

struct config {
	size_t images;  /* query images */
	size_t linear;  /* images timed (and cross-checked) with the linear scan */
};

/* One size and hash width: build, lay out, check, time.  Returns 0, 1 on
 * a mismatch, 2 on error. */
static int bench_one(size_t n, unsigned bits, const struct config *cfg)
{
	unsigned bytes = bits / 8, nq = bits == 256 ? 8 : 1;
	unsigned d = bits == 256 ? MIH_MAX_DIST_256 : MIH_MAX_DIST_64;
	size_t nimg = cfg->images, nlin = cfg->linear < nimg ? cfg->linear : nimg;
	struct rng rng = { .s = 0x5eed0000 + n + bits };
	uint8_t *hashes = NULL, *qs = NULL, *map = MAP_FAILED;
	uint32_t *payload = NULL;
	void *blob = NULL;
	size_t blob_len = 0, map_len = 0, off_payload, off_blob;
	struct mih *m = NULL;
	struct mih_hit *h1 = NULL, *h2 = NULL;
	double *tm = NULL, *tl = NULL, *cm = NULL, *cl = NULL, t0, c0, t_build, t_open, t_map;
	long rss0, rss1;
	char desc[512];
	size_t mismatches = 0, total_hits = 0;
	struct stats narrow = { 0, 0 }, novp = { 0, 0 };
	long narrow_diff = 0, novp_diff = 0;
	size_t fifth = nimg / 5;
	double floor_ns[5] = { 0 }, fifth_us[5] = { 0 };
	int fd = -1, rc = 2, r;

	hashes = malloc(n * bytes);
	payload = malloc(n * sizeof(*payload));
	qs = malloc(nimg * nq * bytes);
	h1 = malloc(HIT_CAP * sizeof(*h1));
	h2 = malloc(HIT_CAP * sizeof(*h2));
	tm = malloc(nimg * sizeof(*tm));
	tl = malloc(nimg * sizeof(*tl));
	cm = malloc(nimg * sizeof(*cm));
	cl = malloc(nimg * sizeof(*cl));
	if (!hashes || !payload || !qs || !h1 || !h2 || !tm || !tl || !cm || !cl) {
		fprintf(stderr, "bench_mih: out of memory\n");
		goto out;
	}
	rng_fill(&rng, hashes, n * bytes);
	rng_fill(&rng, qs, nimg * nq * bytes);
	for (size_t i = 0; i < n; i++)
		payload[i] = (uint32_t)i;
	/* Plant near-duplicates at 0..40 of one variant of each image, at
	 * random positions. */
	for (size_t img = 0; img < nimg && n > 0; img++)
		for (unsigned k = 0; k <= PLANT_MAX && k <= bits; k++) {
			size_t pos = rng_next(&rng) % n;
			const uint8_t *q = qs + (img * nq + (img + k) % nq) * bytes;
			flip_bits(&rng, q, hashes + pos * bytes, bits, k);
		}

	t0 = now_s();
	r = mih_build(hashes, payload, n, bits, &blob, &blob_len);
	t_build = now_s() - t0;
	if (r < 0) {
		fprintf(stderr, "bench_mih: mih_build: %s\n", strerror(-r));
		goto out;
	}

	/* The list file: hashes, payload, blob, each 8-byte aligned. */
	off_payload = (n * bytes + 7) & ~(size_t)7;
	off_blob = (off_payload + n * 4 + 7) & ~(size_t)7;
	map_len = off_blob + blob_len;
	fd = memfd_create("bench_mih", MFD_CLOEXEC);
	if (fd < 0 || ftruncate(fd, (off_t)map_len) < 0 ||
	    pwrite(fd, hashes, n * bytes, 0) != (ssize_t)(n * bytes) ||
	    pwrite(fd, payload, n * 4, (off_t)off_payload) != (ssize_t)(n * 4) ||
	    pwrite(fd, blob, blob_len, (off_t)off_blob) != (ssize_t)blob_len) {
		fprintf(stderr, "bench_mih: memfd: %s\n", strerror(errno));
		goto out;
	}
	free(hashes);
	hashes = NULL;
	free(payload);
	payload = NULL;
	free(blob);
	blob = NULL;
	rss0 = vmrss_kb();
	/* Map the whole list and fault every page in first (as a list
	 * loader that checks a signature over the file does), so that the
	 * open time below is the index's own validation. */
	t0 = now_s();
	map = mmap(NULL, map_len, PROT_READ, MAP_SHARED | MAP_POPULATE, fd, 0);
	t_map = now_s() - t0;
	if (map == MAP_FAILED) {
		fprintf(stderr, "bench_mih: mmap: %s\n", strerror(errno));
		goto out;
	}
	{
		volatile uint8_t sink = 0;
		for (size_t i = 0; i < map_len; i += 4096)
			sink ^= map[i];
		(void)sink;
	}
	t0 = now_s();
	r = mih_open(map + off_blob, blob_len, map, n, bits, &m);
	t_open = now_s() - t0;
	if (r < 0) {
		fprintf(stderr, "bench_mih: mih_open: %s\n", strerror(-r));
		goto out;
	}
	rss1 = vmrss_kb();

	mih_describe(m, desc, sizeof(desc));
	printf("%u-bit, n=%zu: build %.2f s; map+fault the list %.0f ms, then mih_open "
	       "(validate + checksums) %.0f ms\n  index: %s\n", bits, n, t_build, t_map * 1e3,
	       t_open * 1e3, desc);
	printf("  size: index %.1f B/entry; list file (hash + 4 B payload + index) "
	       "%.1f B/entry, %.1f with the hwdb's ~8 B entry metadata\n",
	       (double)blob_len / (double)(n ? n : 1), (double)map_len / (double)(n ? n : 1),
	       (double)map_len / (double)(n ? n : 1) + 8);
	printf("  resident after touching every page: %.1f B/entry (VmRSS +%ld kB)\n",
	       (double)(rss1 - rss0) * 1024 / (double)(n ? n : 1), rss1 - rss0);
	if (bits == 256) {
		/* Random reads in the hash array (where candidates are
		 * verified) and in a slot-sized part of the index (where
		 * buckets are visited): the floor under the query's time. */
		size_t slot_len = n * 4 < blob_len ? n * 4 : blob_len; /* one slot's entries */
		double h_ns = floor_ns[0] = random_read_ns(map, n * bytes, &rng);
		double s_ns = random_read_ns(map + off_blob, slot_len, &rng);
		printf("  random 64-byte reads, 16 prefetched ahead: %.1f ns each in the %.0f MB of "
		       "hashes, %.1f ns in %.1f MB of the index\n",
		       h_ns, (double)(n * bytes) / 1e6, s_ns, (double)slot_len / 1e6);
	}

	/* The index queries back to back first (as a scanner makes them),
	 * then the linear scans, each checked against the index's answer
	 * again: a linear scan of the whole list right before each index
	 * query would flush the caches and the TLB first. */
	for (size_t img = 0; img < nimg; img++) {
		size_t n1 = 0;

		/* The host's state drifts within a run: the random-read floor
		 * again before each fifth of the images (it takes ~2 ms). */
		if (bits == 256 && fifth > 0 && img > 0 && img % fifth == 0 && img / fifth < 5)
			floor_ns[img / fifth] = random_read_ns(map, n * bytes, &rng);
		t0 = now_s();
		c0 = cpu_s();
		(void)mih_query(m, qs + img * nq * bytes, nq, d, h1, HIT_CAP, &n1);
		cm[img] = cpu_s() - c0;
		tm[img] = now_s() - t0;
	}
	/* cl is scratch until the linear scans fill it. */
	if (bits == 256) {
		narrow_diff = bench_narrow(m, map, off_blob, blob_len, n, bits, MIH_OPEN_NO_AVX512,
					   qs, nimg, nq, d, h1, h2, cl, &narrow);
		novp_diff = bench_narrow(m, map, off_blob, blob_len, n, bits, MIH_OPEN_NO_VPOPCNT,
					 qs, nimg, nq, d, h1, h2, cl, &novp);
	}
	for (size_t img = 0; img < nlin; img++) {
		const uint8_t *q = qs + img * nq * bytes;
		size_t n1 = 0, n2 = 0;
		int r1, r2;

		r1 = mih_query(m, q, nq, d, h1, HIT_CAP, &n1);
		t0 = now_s();
		c0 = cpu_s();
		r2 = mih_linear_query(map, n, bits, q, nq, d, h2, HIT_CAP, &n2);
		cl[img] = cpu_s() - c0;
		tl[img] = now_s() - t0;
		total_hits += n2;
		if (r1 != r2 || n1 != n2 || (n1 && memcmp(h1, h2, n1 * sizeof(*h1)) != 0)) {
			if (mismatches++ < 5)
				fprintf(stderr, "  MISMATCH image %zu: index %d/%zu hits, linear %d/%zu\n",
					img, r1, n1, r2, n2);
		}
	}
	printf("  per image query (%u quer%s, d <= %u; %zu images, linear on %zu):\n",
	       nq, nq > 1 ? "ies" : "y", d, nimg, nlin);
	fifth_means(cm, fifth, fifth_us); /* before print_times sorts cm whole */
	print_times("wall", tm, tl, nimg, nlin);
	print_times("cpu ", cm, cl, nimg, nlin);
	if (bits == 256 && fifth > 0)
		print_fifths(fifth_us, floor_ns);
	if (nq == 1 && nimg >= 8) {
		/* 64-bit lists may be checked in all 8 orientations too:
		 * groups of 8 images' queries as one call. */
		for (size_t g = 0; g + 8 <= nimg; g += 8) {
			size_t n1 = 0;
			c0 = cpu_s();
			mih_query(m, qs + g * bytes, 8, d, h1, HIT_CAP, &n1);
			cm[g / 8] = cpu_s() - c0;
		}
		{
			struct stats st = stats_of(cm, nimg / 8);
			printf("    cpu : index mean %7.1f us p99 %7.1f us with 8 queries per call\n",
			       st.mean * 1e6, st.p99 * 1e6);
		}
	}
	if (bits == 256) {
		printf("    cpu : index mean %7.1f us p99 %7.1f us without the AVX-512 filters "
		       "(AVX2 at most; timed right after the first)\n", narrow.mean * 1e6,
		       narrow.p99 * 1e6);
		printf("    cpu : index mean %7.1f us p99 %7.1f us without VPOPCNTQ (scalar popcounts "
		       "check the candidates; timed after that)\n", novp.mean * 1e6, novp.p99 * 1e6);
		if (narrow_diff != 0 || novp_diff != 0)
			fprintf(stderr, "  MISMATCH or error without AVX-512 (%ld) or VPOPCNTQ (%ld)\n",
				narrow_diff, novp_diff);
		mismatches += narrow_diff != 0 || novp_diff != 0;
	}
	if (n >= 1000000) {
		long diff = bench_hugepages(m, map, map_len, off_blob, blob_len, n, bits, qs, nimg,
					    nq, d, h1, h2, cm);
		if (diff != 0)
			fprintf(stderr, "  MISMATCH or error on 2 MB pages (%ld)\n", diff);
		mismatches += diff != 0;
	}
	printf("  exactness: %zu of %zu images checked against the linear scan, %zu "
	       "hits in all, %zu mismatches -> %s\n",
	       nlin, nimg, total_hits, mismatches, mismatches ? "FAIL" : "ok");
	fflush(stdout);
	rc = mismatches ? 1 : 0;
out:
	mih_close(m);
	if (map != MAP_FAILED)
		munmap(map, map_len);
	if (fd >= 0)
		close(fd);
	free(blob);
	free(hashes);
	free(payload);
	free(qs);
	free(h1);
	free(h2);
	free(tm);
	free(tl);
	free(cm);
	free(cl);
	return rc;
}

int main(int argc, char **argv)
{
	struct config cfg = { .images = 1000, .linear = 1000 };
	size_t sizes[8];
	unsigned nsizes = 0;
	int rc = 0;

	for (int i = 1; i < argc; i++) {
		char *end;
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
			printf("usage: bench_mih [--quick] [--images N] [--linear N] [SIZE...]\n"
			       "Checks the MIH index against the linear scan and times both\n"
			       "(default sizes 1000000 10000000, 1000 images).\n");
			return 0;
		} else if (strcmp(argv[i], "--quick") == 0) {
			cfg.images = cfg.linear = 200;
			sizes[0] = 100000;
			nsizes = 1;
		} else if ((strcmp(argv[i], "--images") == 0 || strcmp(argv[i], "--linear") == 0) &&
			   i + 1 < argc) {
			unsigned long long v = strtoull(argv[i + 1], &end, 10);
			if (*end || v == 0) {
				fprintf(stderr, "bench_mih: bad count %s\n", argv[i + 1]);
				return 2;
			}
			*(argv[i][2] == 'i' ? &cfg.images : &cfg.linear) = (size_t)v;
			i++;
		} else {
			unsigned long long v = strtoull(argv[i], &end, 10);
			if (*end || v > UINT32_MAX || nsizes == 8) {
				fprintf(stderr, "bench_mih: bad size %s (try --help)\n", argv[i]);
				return 2;
			}
			sizes[nsizes++] = (size_t)v;
		}
	}
	bench_print_loadavg();
	if (nsizes == 0) {
		sizes[0] = 1000000;
		sizes[1] = 10000000;
		nsizes = 2;
	}
	for (unsigned bi = 0; bi < 2; bi++)
		for (unsigned i = 0; i < nsizes; i++) {
			int r = bench_one(sizes[i], bi == 0 ? 256 : 64, &cfg);
			if (r > rc)
				rc = r;
		}
	return rc;
}
