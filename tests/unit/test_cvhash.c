/* test_cvhash.c - the OpenCV module and its loader: hashes equal to what
 * OpenCV 4.6 computed from cv::imread(IMREAD_COLOR) on the PNG images of the
 * shared test data (same pixels, so exactly equal); distances on the JPEG
 * and WebP images, reported but not asserted (imread applies EXIF
 * orientation and converts CMYK its own way; the decoders may differ);
 * compare() semantics; edge sizes, strides, threads and bad arguments; an
 * OpenCV exception turned into -ENOMEM; and the loader's behaviour when the
 * module is missing or is not a hashwatch module (in a fresh process,
 * because the loader decides once per process).
 *
 * The images are decoded with libvips directly (alpha dropped, as imread
 * does: decoded_ppm/ lacks three of the seven PNGs), and a second time
 * through the project's decoder front (DECODE_EXACT) once it is built.
 */
#include "harness.h"

#include <pthread.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <vips/vips.h>

#include "cvhash.h"
#include "decode.h"
#include "fileio.h"
#include "model.h"

static const enum hw_model_id cv_models[] = {
	HW_MODEL_CV_AVERAGE,        HW_MODEL_CV_PHASH,
	HW_MODEL_CV_MARRHILDRETH,   HW_MODEL_CV_RADIALVARIANCE,
	HW_MODEL_CV_BLOCKMEAN,      HW_MODEL_CV_COLORMOMENT,
};
#define N_CV (sizeof(cv_models) / sizeof(cv_models[0]))

/* Columns of img_hash-4.6.0.csv after the path, in order. */
static const enum hw_model_id csv_models[] = {
	HW_MODEL_CV_PHASH,     HW_MODEL_CV_MARRHILDRETH,
	HW_MODEL_CV_RADIALVARIANCE, HW_MODEL_CV_BLOCKMEAN,
	HW_MODEL_CV_AVERAGE,
};
#define N_CSV (sizeof(csv_models) / sizeof(csv_models[0]))

static const char *self_exe;

/* Skip unless the module loads (make builds it; run.sh points
 * HASHWATCH_OPENCV_MODULE at it). */
static void require_module(void)
{
	char err[512];
	if (cvhash_load(err, sizeof(err)) < 0) {
		fprintf(stderr, "SKIP: %s\n", err);
		skip();
	}
}

/* A deterministic test picture: smooth gradients plus a few edges, so
 * every model has structure to hash.  `seed` varies the content. */
static void fill_picture(struct hw_image *img, unsigned seed)
{
	for (uint32_t y = 0; y < img->height; y++) {
		uint8_t *row = img->pixels + y * img->stride;
		for (uint32_t x = 0; x < img->width; x++) {
			unsigned v = (x * 255u / img->width + y * 97u / img->height +
				      ((x / 7 + y / 5 + seed) % 3) * 40u) & 255u;
			if (((x * 3 + seed * 11) / 13 + y / 9) % 4 == 0)
				v = 255 - v;
			for (uint32_t c = 0; c < img->channels; c++)
				row[x * img->channels + c] =
					(uint8_t)(v + c * (37u + seed));
		}
	}
}

static void hash_ok(enum hw_model_id id, const struct hw_image *img,
		    struct hw_hash *h)
{
	int r = hw_model_hash_image(id, img, h);
	if (r < 0)
		fprintf(stderr, "%s: %s\n", hw_model_by_id(id)->name, strerror(-r));
	assert_int_equal(r, 0);
}

/* A w x h x ch test picture (see fill_picture); the caller frees it. */
static void new_picture(struct hw_image *img, uint32_t w, uint32_t h,
			uint32_t ch, unsigned seed)
{
	assert_int_equal(hw_image_alloc(img, w, h, ch), 0);
	fill_picture(img, seed);
}

/* Every OpenCV model gives x and y the same hash. */
static void assert_same_hashes(const struct hw_image *x, const struct hw_image *y)
{
	for (size_t i = 0; i < N_CV; i++) {
		struct hw_hash a, b;
		hash_ok(cv_models[i], x, &a);
		hash_ok(cv_models[i], y, &b);
		assert_int_equal(a.len, b.len);
		assert_memory_equal(a.bytes, b.bytes, a.len);
	}
}

/* --- images ------------------------------------------------------------ */

/* What cv::imread(IMREAD_COLOR) gets from a file, via libvips: the decoded
 * samples, alpha dropped, CMYK converted (OpenCV's own CMYK formula differs:
 * those rows are only reported).  EXIF orientation is not applied (imread
 * applies it: the exif-rotn rows differ for that reason). */
static int load_vips(const char *path, struct hw_image *ret)
{
	VipsImage *in = vips_image_new_from_file(path, NULL);
	VipsImage *t = NULL;
	struct hw_image img = { 0 };
	void *mem = NULL;
	size_t len = 0;
	int r = -EIO;

	if (!in)
		goto out;
	if (vips_image_get_interpretation(in) == VIPS_INTERPRETATION_CMYK) {
		if (vips_colourspace(in, &t, VIPS_INTERPRETATION_sRGB, NULL))
			goto out;
		g_object_unref(in);
		in = t;
		t = NULL;
	}
	if (vips_image_hasalpha(in)) {
		if (vips_extract_band(in, &t, 0, "n", in->Bands - 1, NULL))
			goto out;
		g_object_unref(in);
		in = t;
		t = NULL;
	}
	if (in->BandFmt != VIPS_FORMAT_UCHAR || (in->Bands != 1 && in->Bands != 3))
		goto out;
	mem = vips_image_write_to_memory(in, &len);
	if (!mem || len != (size_t)in->Xsize * in->Ysize * in->Bands)
		goto out;
	img.width = (uint32_t)in->Xsize;
	img.height = (uint32_t)in->Ysize;
	img.channels = (uint32_t)in->Bands;
	img.stride = (size_t)img.width * img.channels;
	img.pixels = mem;
	mem = NULL;
	*ret = img;
	r = 0;
out:
	g_free(mem);
	if (in)
		g_object_unref(in);
	return r;
}

static int decode_file(const char *path, struct hw_image *ret, char *err,
		       size_t errlen)
{
	struct decode_opts o = { .mode = DECODE_EXACT };
	void *buf = NULL;
	size_t len = 0;
	int r = hw_read_file(path, 256u << 20, &buf, &len);

	if (r < 0) {
		snprintf(err, errlen, "%s", strerror(-r));
		return r;
	}
	r = decode_buffer(buf, len, &o, ret, NULL, err, errlen);
	free(buf);
	return r;
}

static int load_decoder(const char *path, struct hw_image *ret)
{
	char err[256];
	int r = decode_file(path, ret, err, sizeof(err));
	if (r < 0)
		fprintf(stderr, "%s: %s\n", path, err);
	return r;
}

static bool is_png(const char *path)
{
	size_t n = strlen(path);
	return n > 4 && strcmp(path + n - 4, ".png") == 0;
}

/* Per-model distances of the rows that are not asserted exactly. */
struct dist_stats {
	unsigned rows, equal[N_CSV];
	double sum[N_CSV], max[N_CSV];
};

/* Hash every image of the table with the loader and compare with OpenCV's
 * own output: PNG rows must be identical, the others are reported. */
static void run_table(int (*load)(const char *, struct hw_image *),
		      const char *loader_name)
{
	char csv[1024], line[2048];
	unsigned png_rows = 0;
	struct dist_stats st = { 0 };
	FILE *f;

	snprintf(csv, sizeof(csv), "%s/opencv/img_hash-4.6.0.csv", hwt_testdata());
	HWT_REQUIRE_PATH(csv);
	f = fopen(csv, "r");
	assert_non_null(f);
	printf("# %s: per-file distance to OpenCV (bits; radial variance: 1-PCC)\n"
	       "#   phash mh  rv     bm  avg  path\n", loader_name);
	while (fgets(line, sizeof(line), f)) {
		char *save = NULL, *rel, path[1024];
		struct hw_image img = { 0 };
		double d[N_CSV];
		bool png, same = true;

		line[strcspn(line, "\r\n")] = '\0';
		if (line[0] == '#' || strncmp(line, "path,", 5) == 0 || !line[0])
			continue;
		rel = strtok_r(line, ",", &save);
		assert_non_null(rel);
		snprintf(path, sizeof(path), "%s/pdq/%s", hwt_testdata(), rel);
		png = is_png(rel);
		if (load(path, &img) < 0)
			fail_msg("%s cannot decode %s", loader_name, path);
		for (size_t m = 0; m < N_CSV; m++) {
			const char *want = strtok_r(NULL, ",", &save);
			struct hw_hash h, ref;
			assert_non_null(want);
			hash_ok(csv_models[m], &img, &h);
			assert_int_equal(hw_hash_from_hex(csv_models[m], want, &ref), 0);
			d[m] = hw_model_distance(&h, &ref);
			assert_true(d[m] >= 0);
			if (png && d[m] != 0) {
				char hex[2 * HW_HASH_MAX + 1];
				hw_hash_to_hex(&h, hex);
				fprintf(stderr, "%s %s:\n  got  %s\n  want %s\n", rel,
					hw_model_by_id(csv_models[m])->name, hex, want);
			}
			if (d[m] != 0)
				same = false;
			if (!png) {
				st.sum[m] += d[m];
				st.max[m] = d[m] > st.max[m] ? d[m] : st.max[m];
				st.equal[m] += d[m] == 0;
			}
		}
		hw_image_free(&img);
		printf("#   %3.0f %3.0f %6.4f %3.0f %3.0f  %s%s\n", d[0], d[1], d[2],
		       d[3], d[4], rel, png ? " (PNG: must be 0)" : "");
		if (png) {
			assert_true(same);
			png_rows++;
		} else {
			st.rows++;
		}
	}
	fclose(f);
	/* The table lists 7 PNGs; all of them must have been checked. */
	assert_int_equal(png_rows, 7);
	printf("# %s: %u PNG rows identical; %u JPEG/WebP rows:\n", loader_name,
	       png_rows, st.rows);
	for (size_t m = 0; m < N_CSV && st.rows; m++)
		printf("#   %-18s equal %2u/%u  mean %.4f  max %.4f\n",
		       hw_model_by_id(csv_models[m])->name, st.equal[m], st.rows,
		       st.sum[m] / st.rows, st.max[m]);
}

static void test_reference_vips(void **state)
{
	(void)state;
	require_module();
	run_table(load_vips, "libvips load");
}

static void test_reference_decoder(void **state)
{
	char png[1024], err[256];
	struct hw_image img = { 0 };
	(void)state;

	require_module();
	snprintf(png, sizeof(png), "%s/pdq/images/misc-images/modes/L.png",
		 hwt_testdata());
	HWT_REQUIRE_PATH(png);
	/* The decoder front is another module.  Until it is built, decode.c is
	 * a placeholder that says "not built yet": skip then, and only then
	 * (any other failure of the real decoder fails here). */
	assert_int_equal(decode_init("test_cvhash"), 0);
	if (decode_file(png, &img, err, sizeof(err)) < 0) {
		if (!strstr(err, "not built yet"))
			fail_msg("%s: %s", png, err);
		fprintf(stderr, "SKIP: %s\n", err);
		skip();
	}
	hw_image_free(&img);
	run_table(load_decoder, "decode_buffer(DECODE_EXACT)");
}

/* --- sizes, equivalences, compare ------------------------------------- */

static void test_sizes_match_registry(void **state)
{
	struct hw_image img = { 0 };
	uint8_t out[HW_HASH_MAX];
	(void)state;

	require_module();
	new_picture(&img, 64, 48, 3, 1);
	for (size_t i = 0; i < N_CV; i++) {
		const struct hw_model_info *m = hw_model_by_id(cv_models[i]);
		size_t n = 0;
		assert_non_null(m);
		assert_true(m->optional_module);
		assert_int_equal(cvhash_compute(cv_models[i], &img, out, sizeof(out), &n), 0);
		assert_int_equal(n, m->bytes);
		/* one byte short: refused, nothing claimed written */
		n = 12345;
		assert_int_equal(cvhash_compute(cv_models[i], &img, out, m->bytes - 1, &n),
				 -ENOBUFS);
		assert_int_equal(n, 12345);
	}
	hw_image_free(&img);
}

/* Grey given as grey must hash as imread's replicated BGR would: the shim
 * skips the replication, which is exact only if OpenCV's grey conversion is
 * exact on equal channels.  Check it for every model. */
static void test_grey_equals_replicated(void **state)
{
	struct hw_image grey = { 0 }, rgb = { 0 };
	(void)state;

	require_module();
	new_picture(&grey, 301, 217, 1, 2);
	assert_int_equal(hw_image_alloc(&rgb, 301, 217, 3), 0);
	for (size_t i = 0; i < (size_t)grey.width * grey.height; i++)
		memset(rgb.pixels + 3 * i, grey.pixels[i], 3);
	assert_same_hashes(&grey, &rgb);
	hw_image_free(&grey);
	hw_image_free(&rgb);
}

/* A crop (stride > width * channels) hashes as the same pixels copied. */
static void test_stride_honoured(void **state)
{
	struct hw_image big = { 0 }, view, copy = { 0 };
	(void)state;

	require_module();
	for (uint32_t ch = 1; ch <= 3; ch += 2) {
		new_picture(&big, 200, 150, ch, 3);
		assert_int_equal(hw_image_crop(&big, 13, 7, 151, 111, &view), 0);
		assert_int_equal(hw_image_alloc(&copy, 151, 111, ch), 0);
		for (uint32_t y = 0; y < view.height; y++)
			memcpy(copy.pixels + y * copy.stride,
			       view.pixels + y * view.stride, copy.stride);
		assert_same_hashes(&view, &copy);
		hw_image_free(&big);
		hw_image_free(&copy);
	}
}

static void test_compare(void **state)
{
	struct hw_image a = { 0 }, b = { 0 };
	(void)state;

	require_module();
	new_picture(&a, 320, 240, 3, 4);
	new_picture(&b, 320, 240, 3, 9);
	for (size_t i = 0; i < N_CV; i++) {
		struct hw_hash ha, ha2, hb;
		const char *name = hw_model_by_id(cv_models[i])->name;
		hash_ok(cv_models[i], &a, &ha);
		hash_ok(cv_models[i], &a, &ha2);
		hash_ok(cv_models[i], &b, &hb);
		/* deterministic */
		assert_memory_equal(ha.bytes, ha2.bytes, ha.len);
		double same = hw_model_distance(&ha, &ha2);
		double diff = hw_model_distance(&ha, &hb);
		double back = hw_model_distance(&hb, &ha);
		printf("# %-18s same %g, different %g\n", name, same, diff);
		assert_true(same == 0);
		assert_true(diff > 0);
		assert_true(back == diff || cv_models[i] == HW_MODEL_CV_RADIALVARIANCE);
		/* wrong length: an error, not a number */
		assert_true(cvhash_compare(cv_models[i], ha.bytes, hb.bytes, ha.len - 1) < 0);
	}
	/* a non-OpenCV model is refused */
	struct hw_hash h;
	assert_int_equal(cvhash_compute(HW_MODEL_PDQ, &a, h.bytes, sizeof(h.bytes),
					&(size_t){ 0 }), -EINVAL);
	assert_true(cvhash_compare(HW_MODEL_PHASH, h.bytes, h.bytes, 8) < 0);
	hw_image_free(&a);
	hw_image_free(&b);
}

/* Radial variance compare is shift-tolerant: a hash rotated by one byte
 * (what OpenCV's peak cross-correlation searches over) is at distance ~0. */
static void test_radialvariance_is_pcc(void **state)
{
	struct hw_image a = { 0 };
	struct hw_hash h, rot;
	(void)state;

	require_module();
	new_picture(&a, 160, 120, 3, 5);
	hash_ok(HW_MODEL_CV_RADIALVARIANCE, &a, &h);
	rot = h;
	for (size_t i = 0; i < h.len; i++)
		rot.bytes[(i + 1) % h.len] = h.bytes[i];
	double d = hw_model_distance(&h, &rot);
	assert_true(d >= 0 && d < 1e-6);
	hw_image_free(&a);
}

/* Worker of test_threads: hash and compare every model, many times, and
 * check against the single-threaded results in `want`. */
struct thread_job {
	const struct hw_image *img;
	const struct hw_hash *want;
	int bad;
};

static void *thread_worker(void *arg)
{
	struct thread_job *job = arg;

	for (int round = 0; round < 3; round++) {
		for (size_t i = 0; i < N_CV; i++) {
			struct hw_hash h;
			if (hw_model_hash_image(cv_models[i], job->img, &h) < 0 ||
			    memcmp(h.bytes, job->want[i].bytes, h.len) != 0 ||
			    hw_model_distance(&h, &job->want[i]) != 0)
				job->bad++;
		}
	}
	return NULL;
}

/* The module is used from the scanner's worker threads at once. */
static void test_threads(void **state)
{
	struct hw_image img = { 0 };
	struct hw_hash want[N_CV];
	struct thread_job jobs[4];
	pthread_t t[4];
	(void)state;

	require_module();
	new_picture(&img, 400, 300, 3, 10);
	for (size_t i = 0; i < N_CV; i++)
		hash_ok(cv_models[i], &img, &want[i]);
	for (int k = 0; k < 4; k++) {
		jobs[k] = (struct thread_job){ &img, want, 0 };
		assert_int_equal(pthread_create(&t[k], NULL, thread_worker, &jobs[k]), 0);
	}
	for (int k = 0; k < 4; k++) {
		assert_int_equal(pthread_join(t[k], NULL), 0);
		assert_int_equal(jobs[k].bad, 0);
	}
	hw_image_free(&img);
}

/* 1x1, 4x4, 5x5, very wide, very tall, grey and RGB: OpenCV resizes
 * everything to its working size, so every model hashes all of them. */
static void test_edge_sizes(void **state)
{
	static const uint32_t dims[][2] = {
		{ 1, 1 }, { 4, 4 }, { 5, 5 }, { 3000, 1 }, { 1, 3000 },
		{ 2000, 3 }, { 3, 2000 },
	};
	(void)state;

	require_module();
	for (size_t d = 0; d < sizeof(dims) / sizeof(dims[0]); d++) {
		for (uint32_t ch = 1; ch <= 3; ch += 2) {
			struct hw_image img = { 0 };
			new_picture(&img, dims[d][0], dims[d][1], ch, 6);
			for (size_t i = 0; i < N_CV; i++) {
				struct hw_hash h;
				hash_ok(cv_models[i], &img, &h);
				assert_int_equal(h.len, hw_model_by_id(cv_models[i])->bytes);
			}
			hw_image_free(&img);
		}
	}
}

static void test_bad_arguments(void **state)
{
	struct hw_image img = { 0 };
	uint8_t out[HW_HASH_MAX];
	size_t n = 0;
	(void)state;

	require_module();
	new_picture(&img, 10, 10, 3, 7);
	img.channels = 2;
	assert_int_equal(cvhash_compute(HW_MODEL_CV_PHASH, &img, out, sizeof(out), &n),
			 -EINVAL);
	img.channels = 3;
	img.stride = 29; /* < 10 * 3 */
	assert_int_equal(cvhash_compute(HW_MODEL_CV_PHASH, &img, out, sizeof(out), &n),
			 -EINVAL);
	img.stride = 30;
	img.width = 0;
	assert_int_equal(cvhash_compute(HW_MODEL_CV_PHASH, &img, out, sizeof(out), &n),
			 -EINVAL);
	img.width = 10;
	assert_int_equal(cvhash_compute(HW_MODEL_CV_PHASH, NULL, out, sizeof(out), &n),
			 -EINVAL);
	hw_image_free(&img);
}

/* --- fresh processes: the loader decides once per process --------------- */

#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define HWT_HAS_ASAN 1
#endif
#endif
#ifndef HWT_HAS_ASAN
#define HWT_HAS_ASAN 0
#endif

#define CHILD_NOMODULE "--child-loader"
#define CHILD_OOM "--child-oom"

/* In the child: what the loader says with the module the parent chose,
 * one value per line, then the message. */
static int child_loader(void)
{
	struct hw_image img = { 0 };
	struct hw_hash h;
	char err[512] = "";
	int load, comp, md5;
	double cmp;

	load = cvhash_load(err, sizeof(err));
	if (hw_image_alloc(&img, 8, 8, 3) < 0)
		return 2;
	fill_picture(&img, 8);
	comp = hw_model_hash_image(HW_MODEL_CV_PHASH, &img, &h);
	cmp = cvhash_compare(HW_MODEL_CV_PHASH, h.bytes, h.bytes, 8);
	md5 = hw_model_hash_bytes(HW_MODEL_MD5, "abc", 3, &h);
	printf("%d\n%d\n%d\n%d\n%s\n", load, comp, (int)cmp, md5, err);
	hw_image_free(&img);
	return 0;
}

/* In the child: make OpenCV run out of address space mid-hash (its
 * allocator throws), then lift the limit and hash again.  Prints both
 * results. */
static int child_oom(void)
{
	struct hw_image small = { 0 }, big = { 0 };
	struct hw_hash h;
	struct rlimit old, lim;
	unsigned long pages = 0;
	int first, oom, after;
	FILE *f;

	if (hw_image_alloc(&small, 64, 64, 3) < 0 ||
	    hw_image_alloc(&big, 3000, 2000, 3) < 0)
		return 2;
	fill_picture(&small, 1);
	fill_picture(&big, 2);
	/* everything OpenCV sets up once is set up now */
	first = hw_model_hash_image(HW_MODEL_CV_COLORMOMENT, &small, &h);
	f = fopen("/proc/self/statm", "r");
	if (!f || fscanf(f, "%lu", &pages) != 1 || getrlimit(RLIMIT_AS, &old) < 0)
		return 2;
	fclose(f);
	/* 4 MB of room: less than the 18 MB BGR copy of `big` needs */
	lim = old;
	lim.rlim_cur = pages * (rlim_t)sysconf(_SC_PAGESIZE) + (4u << 20);
	if (setrlimit(RLIMIT_AS, &lim) < 0)
		return 2;
	oom = hw_model_hash_image(HW_MODEL_CV_COLORMOMENT, &big, &h);
	if (setrlimit(RLIMIT_AS, &old) < 0)
		return 2;
	after = hw_model_hash_image(HW_MODEL_CV_COLORMOMENT, &big, &h);
	printf("%d\n%d\n%d\n", first, oom, after);
	hw_image_free(&small);
	hw_image_free(&big);
	return 0;
}

/* Run this program as a child (`flag` picks the role) with
 * HASHWATCH_OPENCV_MODULE=module; returns its standard output in out. */
static void run_child(const char *flag, const char *module, char *out,
		      size_t outlen)
{
	int fd[2], status;
	size_t got = 0;
	ssize_t n;
	pid_t pid;

	assert_int_equal(pipe(fd), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		dup2(fd[1], 1);
		close(fd[0]);
		close(fd[1]);
		setenv("HASHWATCH_OPENCV_MODULE", module, 1);
		execl(self_exe, self_exe, flag, (char *)NULL);
		_exit(127);
	}
	close(fd[1]);
	while (got < outlen - 1 &&
	       (n = read(fd[0], out + got, outlen - 1 - got)) > 0)
		got += (size_t)n;
	out[got] = '\0';
	close(fd[0]);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

/* The loader child's four numbers and its message. */
static void loader_child(const char *module, int v[4], const char **msg)
{
	static char out[2048];
	const char *p = out;

	run_child(CHILD_NOMODULE, module, out, sizeof(out));
	assert_int_equal(sscanf(out, "%d\n%d\n%d\n%d\n", &v[0], &v[1], &v[2], &v[3]), 4);
	for (int i = 0; i < 4; i++) {
		p = strchr(p, '\n');
		assert_non_null(p);
		p++;
	}
	*msg = p;
	printf("# HASHWATCH_OPENCV_MODULE=%s: %s", module, p);
}

static void test_module_missing(void **state)
{
	const char *msg;
	int v[4];
	(void)state;

	loader_child("/nonexistent/hashwatch-opencv.so", v, &msg);
	assert_int_equal(v[0], -ENOPKG);  /* cvhash_load */
	assert_int_equal(v[1], -ENOPKG);  /* an OpenCV model */
	assert_int_equal(v[2], -ENOPKG);  /* compare */
	assert_int_equal(v[3], 0);        /* the rest works */
	assert_non_null(strstr(msg, "/nonexistent/hashwatch-opencv.so"));
	assert_non_null(strstr(msg, "HASHWATCH_OPENCV_MODULE"));
	assert_non_null(strstr(msg, "hashwatch-opencv package"));
}

/* A shared object that is not our module (libm): refused by name. */
static void test_module_foreign(void **state)
{
	const char *msg;
	int v[4];
	(void)state;

	loader_child("libm.so.6", v, &msg);
	assert_int_equal(v[0], -ENOPKG);
	assert_int_equal(v[1], -ENOPKG);
	assert_int_equal(v[3], 0);
	assert_non_null(strstr(msg, CVHASH_SYM_ABI_VERSION));
	assert_non_null(strstr(msg, "hashwatch-opencv package"));
}

/* OpenCV throws when an allocation fails: the shim must turn that into
 * -ENOMEM and stay usable. */
static void test_exception_becomes_errno(void **state)
{
	char out[256];
	int first, oom, after;
	const char *module = getenv("HASHWATCH_OPENCV_MODULE");
	(void)state;

	require_module();
#if defined(__SANITIZE_ADDRESS__) || HWT_HAS_ASAN
	/* ASan reserves terabytes of shadow address space up front. */
	fprintf(stderr, "SKIP: an address-space limit cannot be combined with ASan\n");
	skip();
#endif
	run_child(CHILD_OOM, module ? module : "", out, sizeof(out));
	assert_int_equal(sscanf(out, "%d\n%d\n%d\n", &first, &oom, &after), 3);
	printf("# under a 4 MB address-space margin: %s; lifted: %s\n",
	       strerror(-oom), after == 0 ? "ok" : strerror(-after));
	assert_int_equal(first, 0);
	assert_int_equal(oom, -ENOMEM);
	assert_int_equal(after, 0);
}

int main(int argc, char **argv)
{
	static char exe[4096];
	ssize_t n;

	if (argc == 2 && strcmp(argv[1], CHILD_NOMODULE) == 0)
		return child_loader();
	if (argc == 2 && strcmp(argv[1], CHILD_OOM) == 0)
		return child_oom();
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n <= 0)
		return 2;
	exe[n] = '\0';
	self_exe = exe;
	if (VIPS_INIT(argv[0]))
		return 2;

	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_module_missing),
		cmocka_unit_test(test_module_foreign),
		cmocka_unit_test(test_exception_becomes_errno),
		cmocka_unit_test(test_sizes_match_registry),
		cmocka_unit_test(test_grey_equals_replicated),
		cmocka_unit_test(test_stride_honoured),
		cmocka_unit_test(test_compare),
		cmocka_unit_test(test_radialvariance_is_pcc),
		cmocka_unit_test(test_threads),
		cmocka_unit_test(test_edge_sizes),
		cmocka_unit_test(test_bad_arguments),
		cmocka_unit_test(test_reference_vips),
		cmocka_unit_test(test_reference_decoder),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
