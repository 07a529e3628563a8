/* bench_images.c - `make bench` for the decode -> hash loop: images per
 * second on the real-photo corpus (env HASHWATCH_CORPUS, one path a line),
 * one core, per format and overall, best of 3 rounds, for
 *   (a)  the decode floor: the cheapest decode that touches all of a file's
 *        data (JPEG: libjpeg-turbo 1/8-scale grey; PNG: libvips full decode;
 *        WebP: libvips 1/8-scaled decode);
 *   (b)  hashwatch fast mode: hasher_run with PDQ (+ dihedral), pHash, dHash;
 *   (b') the same plus MD5 of the file bytes;
 *   (c)  the peer a developer would reach for, OpenCV imread + PHash, run as
 *        a separate program (env HASHWATCH_PEER_OPENCV, see peer_opencv.cpp)
 *        inside the same rounds, so that all figures share the machine's
 *        load at the time.
 * Every mode reads each file from the (page-cached) disk once per image,
 * as imread does.  Times are CPU time of the process (see now()).  Then the fidelity of fast mode: PDQ distance between
 * fast and exact decoding of every corpus image.
 *
 * Set HASHWATCH_BENCH_ROUNDS to change the number of rounds (default 3).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <jpeglib.h>
#include <vips/vips.h>

#include "decode.h"
#include "fileio.h"
#include "hasher.h"
#include "pdq.h"

enum fmt { FMT_JPEG, FMT_PNG, FMT_WEBP, FMT_N };
static const char *const fmt_name[FMT_N] = { "JPEG", "PNG", "WebP" };

enum mode { MODE_FLOOR, MODE_DECODE, MODE_FAST, MODE_FAST_MD5, MODE_PEER, MODE_N };
static const char *const mode_name[MODE_N] = {
	"(a)  decode floor",
	"     hashwatch fast decode alone",
	"(b)  hashwatch fast: PDQ+dih, pHash, dHash",
	"(b') the same + MD5",
	"(c)  OpenCV imread + PHash",
};

#define MAX_FILE (256u << 20)

struct corpus {
	char **path;
	enum fmt *fmt;
	size_t n;
	size_t count[FMT_N];
};

/* CPU seconds of this process: the machines that run this are shared, and
 * every mode runs in one thread, so CPU time is the time on one core
 * without the waits for other people's jobs. */
static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int fmt_of(const char *path)
{
	const char *dot = strrchr(path, '.');

	if (!dot)
		return -1;
	if (!strcasecmp(dot, ".jpg") || !strcasecmp(dot, ".jpeg"))
		return FMT_JPEG;
	if (!strcasecmp(dot, ".png"))
		return FMT_PNG;
	if (!strcasecmp(dot, ".webp"))
		return FMT_WEBP;
	return -1;
}

static int corpus_load(const char *manifest, struct corpus *c)
{
	FILE *f = fopen(manifest, "r");
	char line[4096];

	if (!f)
		return -errno;
	memset(c, 0, sizeof(*c));
	while (fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\n")] = '\0';
		int k = fmt_of(line);
		if (k < 0)
			continue;
		char **p = realloc(c->path, (c->n + 1) * sizeof(*p));
		enum fmt *q = p ? realloc(c->fmt, (c->n + 1) * sizeof(*q)) : NULL;
		if (p)
			c->path = p;
		if (q)
			c->fmt = q;
		if (!p || !q || !(c->path[c->n] = strdup(line))) {
			fclose(f);
			return -ENOMEM;
		}
		c->fmt[c->n++] = (enum fmt)k;
		c->count[k]++;
	}
	fclose(f);
	return 0;
}

static void corpus_free(struct corpus *c)
{
	for (size_t i = 0; i < c->n; i++)
		free(c->path[i]);
	free(c->path);
	free(c->fmt);
}

/* --- (a) the floor -------------------------------------------------- */

struct jerr {
	struct jpeg_error_mgr pub;
	jmp_buf jmp;
};

static void jerr_exit(j_common_ptr cinfo)
{
	longjmp(((struct jerr *)cinfo->err)->jmp, 1);
}

static void jerr_quiet(j_common_ptr cinfo)
{
	(void)cinfo;
}

/* libjpeg-turbo at 1/8 scale, grey: entropy decoding of every scan, DC-only
 * inverse DCT, no colour conversion. */
static int floor_jpeg(const void *buf, size_t len)
{
	struct jpeg_decompress_struct cinfo;
	struct jerr jerr;
	JSAMPLE *volatile row = NULL;
	volatile int r = -1;

	cinfo.err = jpeg_std_error(&jerr.pub);
	jerr.pub.error_exit = jerr_exit;
	jerr.pub.output_message = jerr_quiet;
	if (setjmp(jerr.jmp))
		goto out;
	jpeg_create_decompress(&cinfo);
	jpeg_mem_src(&cinfo, buf, (unsigned long)len);
	jpeg_read_header(&cinfo, TRUE);
	cinfo.scale_num = 1;
	cinfo.scale_denom = 8;
	cinfo.out_color_space = JCS_GRAYSCALE;
	jpeg_start_decompress(&cinfo);
	row = malloc(cinfo.output_width);
	if (!row)
		goto out;
	while (cinfo.output_scanline < cinfo.output_height) {
		JSAMPROW rows[1] = { row };
		jpeg_read_scanlines(&cinfo, rows, 1);
	}
	jpeg_finish_decompress(&cinfo);
	r = 0;
out:
	jpeg_destroy_decompress(&cinfo);
	free(row);
	return r;
}

/* Pull every pixel of a libvips image through its pipeline, in this
 * thread, into a strip that is thrown away. */
static int vips_drain(VipsImage *im)
{
	VipsRegion *reg = vips_region_new(im);
	int r = 0;

	for (int y = 0; reg && y < im->Ysize && r == 0; y += 16) {
		VipsRect strip = { 0, y, im->Xsize, VIPS_MIN(16, im->Ysize - y) };
		r = vips_region_prepare(reg, &strip);
	}
	if (reg)
		g_object_unref(reg);
	return reg ? r : -1;
}

static int floor_vips(const void *buf, size_t len, enum fmt f)
{
	VipsImage *im = NULL;
	int r;

	if (f == FMT_PNG)
		r = vips_pngload_buffer((void *)buf, len, &im, "access",
					VIPS_ACCESS_SEQUENTIAL, NULL);
	else
		r = vips_webpload_buffer((void *)buf, len, &im, "access",
					 VIPS_ACCESS_SEQUENTIAL, "scale", 0.125, NULL);
	if (r == 0)
		r = vips_drain(im);
	if (im)
		g_object_unref(im);
	vips_error_clear();
	return r;
}

/* --- (b), (b') ------------------------------------------------------ */

#define FAST_MASK ((1u << HW_MODEL_PDQ) | (1u << HW_MODEL_PHASH) | (1u << HW_MODEL_DHASH))

static int run_mode(enum mode m, const void *buf, size_t len, enum fmt f,
		    char *err, size_t errlen)
{
	struct decode_opts dopts = { .mode = DECODE_FAST };
	struct hasher_result res;
	struct hw_image img;
	int r;

	switch (m) {
	case MODE_FLOOR:
		return f == FMT_JPEG ? floor_jpeg(buf, len) : floor_vips(buf, len, f);
	case MODE_DECODE:
		/* as the hasher asks for it: luma is all these models read */
		dopts.grey_ok = true;
		r = decode_buffer(buf, len, &dopts, &img, NULL, err, errlen);
		if (r == 0)
			hw_image_free(&img);
		return r;
	case MODE_FAST:
		return hasher_run(buf, len, FAST_MASK, HASHER_DIHEDRAL, &dopts, &res,
				  err, errlen);
	case MODE_FAST_MD5:
		return hasher_run(buf, len, FAST_MASK | (1u << HW_MODEL_MD5),
				  HASHER_DIHEDRAL, &dopts, &res, err, errlen);
	default:
		return -EINVAL;
	}
}

/* One round of mode m over every file of format f: seconds; -1 when a file
 * failed (reported), -2 when a model is not built yet. */
static double time_round(const struct corpus *c, enum mode m, enum fmt f)
{
	char err[256];
	double t0 = now();

	for (size_t i = 0; i < c->n; i++) {
		void *buf;
		size_t len;
		int r;

		if (c->fmt[i] != f)
			continue;
		r = hw_read_file(c->path[i], MAX_FILE, &buf, &len);
		if (r < 0) {
			fprintf(stderr, "bench: %s: %s\n", c->path[i], strerror(-r));
			return -1;
		}
		err[0] = '\0';
		r = run_mode(m, buf, len, f, err, sizeof(err));
		free(buf);
		if (r == -ENOSYS)
			return -2; /* a model is still a stub on this branch */
		if (r < 0) {
			fprintf(stderr, "bench: %s: %s: %s\n", mode_name[m], c->path[i],
				err[0] ? err : strerror(-r));
			return -1;
		}
	}
	return now() - t0;
}

/* One round of the OpenCV peer: it prints "FORMAT SECONDS" per format. */
static int peer_round(const char *peer, const char *manifest, double secs[FMT_N])
{
	char cmd[8192], line[256], name[32];
	double s;
	int got = 0;
	FILE *p;

	/* its libpng warnings would clutter the table; a failure shows in
	 * the exit status (run it by hand to see why) */
	snprintf(cmd, sizeof(cmd), "'%s' '%s' 2>/dev/null", peer, manifest);
	p = popen(cmd, "r");
	if (!p)
		return -errno;
	while (fgets(line, sizeof(line), p))
		if (sscanf(line, "%31s %lf", name, &s) == 2)
			for (int f = 0; f < FMT_N; f++)
				if (!strcasecmp(name, fmt_name[f])) {
					secs[f] = s;
					got |= 1 << f;
				}
	if (pclose(p) != 0 || got != (1 << FMT_N) - 1)
		return -EIO;
	return 0;
}

static void print_cell(double v, int decimals)
{
	if (v > 0)
		printf(" %8.*f", decimals, v);
	else
		printf(" %8s", "n/a");
}

static double ratio(double a, double b)
{
	return a > 0 && b > 0 ? a / b : 0;
}

static void print_table(const struct corpus *c, double best[MODE_N][FMT_N],
			bool have_peer)
{
	double rate[MODE_N][FMT_N + 1];

	for (int m = 0; m < MODE_N; m++) {
		double total = 0;
		bool all = true;
		for (int f = 0; f < FMT_N; f++) {
			rate[m][f] = best[m][f] > 0 ? (double)c->count[f] / best[m][f] : 0;
			total += best[m][f];
			all = all && (best[m][f] > 0 || c->count[f] == 0);
		}
		/* overall = all images over the sum of the per-format bests */
		rate[m][FMT_N] = all && total > 0 ? (double)c->n / total : 0;
	}
	printf("\nimages per CPU second, one thread, best of the rounds (%zu JPEG, %zu PNG, %zu WebP)\n",
	       c->count[FMT_JPEG], c->count[FMT_PNG], c->count[FMT_WEBP]);
	printf("%-44s %8s %8s %8s %8s\n", "", "JPEG", "PNG", "WebP", "overall");
	for (int m = 0; m < MODE_N; m++) {
		if (m == MODE_PEER && !have_peer)
			continue;
		printf("%-44s", mode_name[m]);
		for (int f = 0; f <= FMT_N; f++)
			print_cell(rate[m][f], 1);
		printf("\n");
	}
	static const struct {
		const char *label;
		enum mode num, den;
	} ratios[] = {
		{ "ratio (b)/(a)   target >= 0.85 per format", MODE_FAST, MODE_FLOOR },
		{ "ratio (b')/(a)", MODE_FAST_MD5, MODE_FLOOR },
		{ "ratio decode alone/(a)", MODE_DECODE, MODE_FLOOR },
		{ "ratio (b)/(c)   target >= 1.25 overall", MODE_FAST, MODE_PEER },
	};
	for (size_t i = 0; i < sizeof(ratios) / sizeof(ratios[0]); i++) {
		if (ratios[i].den == MODE_PEER && !have_peer)
			continue;
		printf("%-44s", ratios[i].label);
		for (int f = 0; f <= FMT_N; f++)
			print_cell(ratio(rate[ratios[i].num][f], rate[ratios[i].den][f]), 2);
		printf("\n");
	}
}

static int cmp_int(const void *a, const void *b)
{
	return *(const int *)a - *(const int *)b;
}

/* PDQ distance between fast and exact decoding of each corpus image. */
static void fidelity(const struct corpus *c)
{
	int *dist = calloc(c->n ? c->n : 1, sizeof(int));
	size_t n = 0;
	char err[256];

	if (!dist)
		return;
	for (size_t i = 0; i < c->n; i++) {
		struct decode_opts fast = { .mode = DECODE_FAST }, exact = { .mode = DECODE_EXACT };
		struct hasher_result a, b;
		const uint32_t mask = 1u << HW_MODEL_PDQ;
		void *buf;
		size_t len;
		int r;

		if (hw_read_file(c->path[i], MAX_FILE, &buf, &len) < 0)
			continue;
		r = hasher_run(buf, len, mask, 0, &fast, &a, err, sizeof(err));
		if (r == 0)
			r = hasher_run(buf, len, mask, 0, &exact, &b, err, sizeof(err));
		free(buf);
		if (r == -ENOSYS) {
			printf("\nfidelity: SKIP: PDQ is not built yet (pdq_hash_image returns ENOSYS)\n");
			free(dist);
			return;
		}
		if (r < 0) {
			printf("fidelity: %s: %s\n", c->path[i], err);
			continue;
		}
		dist[n] = (int)hw_model_distance(&a.hash[HW_MODEL_PDQ], &b.hash[HW_MODEL_PDQ]);
		if (dist[n] > 8)
			printf("fidelity: %s: fast vs exact PDQ distance %d (quality %d/%d)\n",
			       c->path[i], dist[n], a.hash[HW_MODEL_PDQ].quality,
			       b.hash[HW_MODEL_PDQ].quality);
		n++;
	}
	if (n) {
		qsort(dist, n, sizeof(int), cmp_int);
		size_t p95 = (size_t)((double)(n - 1) * 0.95 + 0.5);
		printf("\nfidelity, PDQ bits fast vs exact over %zu images: median %d, "
		       "p90 %d, p95 %d (target <= 8), max %d\n",
		       n, dist[n / 2], dist[(size_t)((double)(n - 1) * 0.9 + 0.5)],
		       dist[p95], dist[n - 1]);
		printf("histogram:");
		for (size_t i = 0; i < n;) {
			size_t j = i;
			while (j < n && dist[j] == dist[i])
				j++;
			printf(" %d:%zu", dist[i], j - i);
			i = j;
		}
		printf("\n");
	}
	free(dist);
}

int main(int argc, char **argv)
{
	const char *manifest = getenv("HASHWATCH_CORPUS");
	const char *peer = getenv("HASHWATCH_PEER_OPENCV");
	const char *rounds_env = getenv("HASHWATCH_BENCH_ROUNDS");
	double best[MODE_N][FMT_N];
	int rounds = rounds_env ? (int)strtol(rounds_env, NULL, 10) : 3;
	bool have_peer = peer && *peer;
	struct corpus c;
	int rc = 0;

	(void)argc;
	if (!manifest || !*manifest || corpus_load(manifest, &c) < 0 || c.n == 0) {
		printf("SKIP: no corpus manifest (set HASHWATCH_CORPUS, or run `make bench`, "
		       "which builds it with ../shared/bench/corpus.sh)\n");
		return 0;
	}
	if (decode_init(argv[0]) < 0) {
		fprintf(stderr, "bench: cannot initialise libvips\n");
		return 1;
	}
	if (rounds < 1)
		rounds = 1;
	for (int m = 0; m < MODE_N; m++)
		for (int f = 0; f < FMT_N; f++)
			best[m][f] = 0;
	if (!have_peer)
		printf("note: HASHWATCH_PEER_OPENCV not set, the OpenCV peer (c) is left out\n");

	for (int round = 0; round < rounds; round++) {
		for (int m = 0; m < MODE_N; m++) {
			double secs[FMT_N];
			if (m == MODE_PEER) {
				if (!have_peer)
					continue;
				if (peer_round(peer, manifest, secs) < 0) {
					fprintf(stderr, "bench: the OpenCV peer %s failed\n", peer);
					have_peer = false;
					rc = 1;
					continue;
				}
			} else {
				for (int f = 0; f < FMT_N; f++)
					secs[f] = c.count[f] ? time_round(&c, (enum mode)m, (enum fmt)f) : 0;
			}
			for (int f = 0; f < FMT_N; f++) {
				if (secs[f] < 0) {
					rc |= secs[f] == -1;
					continue;
				}
				if (best[m][f] == 0 || secs[f] < best[m][f])
					best[m][f] = secs[f];
			}
		}
		fprintf(stderr, "bench: round %d of %d done\n", round + 1, rounds);
	}
	print_table(&c, best, have_peer);
	fidelity(&c);
	corpus_free(&c);
	return rc;
}
