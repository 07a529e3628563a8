/* test_decode.c - the decoder front (models/decode.h) on images that the
 * test makes itself with libvips' savers and libjpeg: every allowed format
 * and pixel layout (grey, RGB, alpha, palette, 16-bit, CMYK), the fast
 * mode's reductions (JPEG DCT scaling, progressive early stop, the PDQ
 * grid for the others), and hostile input: empty, text, formats outside
 * the allow-list, truncated and bit-flipped files, headers claiming huge
 * sizes, progressive scan bombs.  Nothing may reach stderr.
 */
#include "harness.h"

#include <fcntl.h>
#include <math.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>

#include <jpeglib.h>
#include <vips/vips.h>

#include "decode.h"

#define W 96
#define H 64

/* The test pattern: smooth (so lossy codecs keep it close), and different
 * in every channel. */
static uint8_t pattern(uint32_t x, uint32_t y, uint32_t c, uint32_t w, uint32_t h)
{
	switch (c) {
	case 0:
		return (uint8_t)(255 * x / (w - 1));
	case 1:
		return (uint8_t)(255 * y / (h - 1));
	case 2:
		return (uint8_t)(64 + 127 * (x + y) / (w + h - 2));
	default:
		/* alpha: never 0, where lossy encoders may drop the colour */
		return (uint8_t)(128 | (x * 7 + y * 3));
	}
}

/* A w x h image of `bands` uchar bands filled with pattern(). */
static VipsImage *make_image(uint32_t w, uint32_t h, int bands)
{
	size_t n = (size_t)w * h * (size_t)bands;
	uint8_t *px = malloc(n);
	VipsImage *im;

	assert_non_null(px);
	for (uint32_t y = 0; y < h; y++)
		for (uint32_t x = 0; x < w; x++)
			for (int c = 0; c < bands; c++)
				px[((size_t)y * w + x) * (size_t)bands + (size_t)c] =
					pattern(x, y, (uint32_t)c, w, h);
	im = vips_image_new_from_memory_copy(px, n, (int)w, (int)h, bands,
					     VIPS_FORMAT_UCHAR);
	free(px);
	assert_non_null(im);
	return im;
}

/* Save with a libvips saver chosen by suffix and options, e.g.
 * ".png[bitdepth=16]".  The caller g_free()s the bytes. */
static void *save(VipsImage *im, const char *suffix, size_t *len)
{
	void *buf = NULL;

	if (vips_image_write_to_buffer(im, suffix, &buf, len, NULL) != 0)
		fail_msg("saving %s: %s", suffix, vips_error_buffer());
	return buf;
}

/* The pattern saved with a libvips saver; for a 16-bit save the samples
 * are v * 257, which an 8-bit reduction must bring back to v. */
static void *make_file(uint32_t w, uint32_t h, int bands, const char *suffix,
		       size_t *len)
{
	VipsImage *im = make_image(w, h, bands), *wide = NULL, *tagged = NULL;
	void *buf;

	if (strstr(suffix, "bitdepth=16")) {
		assert_int_equal(vips_linear1(im, &wide, 257.0, 0.0, NULL), 0);
		assert_int_equal(vips_cast_ushort(wide, &tagged, NULL), 0);
		g_object_unref(wide);
		g_object_unref(im);
		im = NULL;
		assert_int_equal(vips_copy(tagged, &im, "interpretation",
					   bands < 3 ? VIPS_INTERPRETATION_GREY16
						     : VIPS_INTERPRETATION_RGB16, NULL), 0);
		g_object_unref(tagged);
	}
	buf = save(im, suffix, len);
	g_object_unref(im);
	return buf;
}

static int decode(const void *buf, size_t len, enum decode_mode mode,
		  struct hw_image *img, struct decode_info *info, char *err,
		  size_t errlen)
{
	struct decode_opts o = { .mode = mode };

	return decode_buffer(buf, len, &o, img, info, err, errlen);
}

/* Largest difference between img and pattern() over the channels img
 * has (grey compared with the pattern's first channel). */
static int max_error(const struct hw_image *img)
{
	int worst = 0;

	for (uint32_t y = 0; y < img->height; y++)
		for (uint32_t x = 0; x < img->width; x++)
			for (uint32_t c = 0; c < img->channels; c++) {
				int d = hw_image_px(img, x, y)[c] -
					pattern(x, y, c, img->width, img->height);
				if (abs(d) > worst)
					worst = abs(d);
			}
	return worst;
}

static int setup(void **state)
{
	(void)state;
	assert_int_equal(decode_init("test_decode"), 0);
	assert_int_equal(decode_init("test_decode"), 0); /* idempotent */
	return 0;
}

/* Every allowed format and layout, exact mode: format, size, channels
 * and pixels. */
static void test_formats(void **state)
{
	static const struct {
		const char *suffix;
		int bands;           /* of the saved image */
		const char *format;  /* decode_info.format */
		uint32_t channels;   /* after decoding */
		int tolerance;       /* largest pixel error allowed */
	} cases[] = {
		{ ".png", 3, "png", 3, 0 },
		{ ".png", 1, "png", 1, 0 },
		{ ".png", 4, "png", 3, 0 },              /* alpha dropped */
		{ ".png", 2, "png", 1, 0 },              /* grey + alpha */
		{ ".png[bitdepth=16]", 3, "png", 3, 0 }, /* 16-bit */
		{ ".png[bitdepth=16]", 2, "png", 1, 0 },
		{ ".png[palette,Q=100,dither=0]", 3, "png", 3, 24 },
		{ ".jpg[Q=98]", 3, "jpeg", 3, 8 },
		{ ".jpg[Q=98]", 1, "jpeg", 1, 4 },
		{ ".jpg[Q=98,interlace]", 3, "jpeg", 3, 8 }, /* progressive */
		{ ".webp[lossless]", 3, "webp", 3, 0 },
		{ ".webp[lossless]", 4, "webp", 3, 0 },
		{ ".webp[Q=100]", 3, "webp", 3, 16 },
		{ ".gif", 3, "gif", 3, 40 },             /* 256 colours */
		{ ".tif", 3, "tiff", 3, 0 },
		{ ".tif", 4, "tiff", 3, 0 },
		{ ".tif[compression=deflate]", 1, "tiff", 1, 0 },
		{ ".avif[lossless]", 3, "heif", 3, 8 },
	};
	(void)state;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct hw_image img;
		struct decode_info info;
		char err[256];
		size_t len;
		void *buf = make_file(W, H, cases[i].bands, cases[i].suffix, &len);
		int r = decode(buf, len, DECODE_EXACT, &img, &info, err, sizeof(err));

		if (r != 0)
			fail_msg("%s, %d bands: %s", cases[i].suffix, cases[i].bands, err);
		assert_string_equal(info.format, cases[i].format);
		assert_int_equal(info.src_width, W);
		assert_int_equal(info.src_height, H);
		assert_int_equal(info.shrink, 1);
		assert_int_equal(img.width, W);
		assert_int_equal(img.height, H);
		assert_int_equal(img.channels, cases[i].channels);
		assert_int_equal(img.stride, W * cases[i].channels);
		int e = max_error(&img);
		if (e > cases[i].tolerance)
			fail_msg("%s, %d bands: pixel error %d > %d", cases[i].suffix,
				 cases[i].bands, e, cases[i].tolerance);
		hw_image_free(&img);
		g_free(buf);
	}
}

/* Alpha is dropped, not flattened: fully transparent pixels keep their
 * colour (the PDQ reference reads the colour channels as they are). */
static void test_alpha_not_flattened(void **state)
{
	VipsImage *rgb = make_image(W, H, 3), *alpha, *rgba;
	struct hw_image img;
	char err[256];
	size_t len;
	void *buf;
	(void)state;

	assert_int_equal(vips_black(&alpha, W, H, NULL), 0);
	assert_int_equal(vips_bandjoin2(rgb, alpha, &rgba, NULL), 0);
	VipsImage *u8;
	assert_int_equal(vips_cast_uchar(rgba, &u8, NULL), 0);
	buf = save(u8, ".png", &len);
	assert_int_equal(decode(buf, len, DECODE_EXACT, &img, NULL, err, sizeof(err)), 0);
	assert_int_equal(img.channels, 3);
	assert_int_equal(max_error(&img), 0);
	hw_image_free(&img);
	g_free(buf);
	g_object_unref(u8);
	g_object_unref(rgba);
	g_object_unref(alpha);
	g_object_unref(rgb);
}

/* CMYK JPEG (libvips writes Adobe's inverted CMYK): converted as the PDQ
 * reference's ImageMagick does without a profile, R = (255 - C)(255 - K)
 * / 255.  Flat patches, so that JPEG's loss stays small. */
static void test_cmyk_jpeg(void **state)
{
	static const uint8_t cmyk[][4] = {
		{ 0, 0, 0, 0 }, { 255, 0, 0, 0 }, { 0, 128, 0, 64 }, { 30, 60, 90, 120 },
	};
	(void)state;

	for (size_t i = 0; i < sizeof(cmyk) / sizeof(cmyk[0]); i++) {
		VipsImage *black, *im, *tagged;
		struct hw_image img;
		char err[256];
		size_t len;
		double ink[4] = { cmyk[i][0], cmyk[i][1], cmyk[i][2], cmyk[i][3] };

		assert_int_equal(vips_black(&black, 32, 32, "bands", 4, NULL), 0);
		assert_int_equal(vips_linear(black, &im, (double[]){ 1, 1, 1, 1 }, ink, 4,
					     "uchar", TRUE, NULL), 0);
		assert_int_equal(vips_copy(im, &tagged, "interpretation",
					   VIPS_INTERPRETATION_CMYK, NULL), 0);
		void *buf = save(tagged, ".jpg[Q=100]", &len);
		for (int mode = DECODE_FAST; mode <= DECODE_EXACT; mode++) {
			assert_int_equal(decode(buf, len, (enum decode_mode)mode, &img, NULL,
						err, sizeof(err)), 0);
			assert_int_equal(img.channels, 3);
			for (int c = 0; c < 3; c++) {
				int want = (255 - cmyk[i][c]) * (255 - cmyk[i][3]) / 255;
				int got = hw_image_px(&img, 16, 16)[c];
				if (abs(got - want) > 3)
					fail_msg("CMYK %d,%d,%d,%d channel %d: %d, want %d",
						 cmyk[i][0], cmyk[i][1], cmyk[i][2], cmyk[i][3],
						 c, got, want);
			}
			hw_image_free(&img);
		}
		g_free(buf);
		g_object_unref(tagged);
		g_object_unref(im);
		g_object_unref(black);
	}
}

/* EXIF orientation is ignored: a JPEG tagged "rotate 90" keeps its stored
 * width and height. */
static void test_exif_orientation_ignored(void **state)
{
	VipsImage *im = make_image(W, H, 3), *tagged;
	struct hw_image img;
	char err[256];
	size_t len;
	(void)state;

	assert_int_equal(vips_copy(im, &tagged, NULL), 0);
	vips_image_set_int(tagged, VIPS_META_ORIENTATION, 6);
	void *buf = save(tagged, ".jpg", &len);
	for (int mode = DECODE_FAST; mode <= DECODE_EXACT; mode++) {
		assert_int_equal(decode(buf, len, (enum decode_mode)mode, &img, NULL,
					err, sizeof(err)), 0);
		assert_int_equal(img.width, W);
		assert_int_equal(img.height, H);
		hw_image_free(&img);
	}
	g_free(buf);
	g_object_unref(tagged);
	g_object_unref(im);
}

/* Mean absolute difference between a reduced image and the s x s block
 * means of the full one, over the channels both have. */
static double block_mean_diff(const struct hw_image *small, const struct hw_image *full,
			      uint32_t s)
{
	double sum = 0;
	size_t n = 0;

	for (uint32_t y = 0; y + 1 < small->height; y++)
		for (uint32_t x = 0; x + 1 < small->width; x++) {
			double mean = 0;
			for (uint32_t dy = 0; dy < s; dy++)
				for (uint32_t dx = 0; dx < s; dx++)
					mean += hw_image_px(full, x * s + dx, y * s + dy)[0];
			mean /= (double)(s * s);
			sum += fabs(mean - hw_image_px(small, x, y)[0]);
			n++;
		}
	return sum / (double)n;
}

/* Fast mode on a large JPEG: DCT-scaled to the smallest size that keeps
 * DECODE_FAST_MIN_SIDE, baseline and progressive alike (the progressive
 * one stops after the scans it needs), close to the full decode's block
 * means; grey when the caller allows it. */
static void test_fast_jpeg(void **state)
{
	const uint32_t w = 2304, h = 2048; /* 1/4 keeps 512: s = 4 */
	const char *suffixes[] = { ".jpg[Q=90]", ".jpg[Q=90,interlace]" };
	(void)state;

	for (size_t i = 0; i < 2; i++) {
		struct decode_opts fast = { .mode = DECODE_FAST };
		struct decode_opts grey = { .mode = DECODE_FAST, .grey_ok = true };
		struct hw_image full, small, y;
		struct decode_info info;
		char err[256];
		size_t len;
		void *buf = make_file(w, h, 3, suffixes[i], &len);

		assert_int_equal(decode(buf, len, DECODE_EXACT, &full, &info, err, sizeof(err)), 0);
		assert_int_equal(info.shrink, 1);
		assert_int_equal(full.width, w);
		assert_int_equal(decode_buffer(buf, len, &fast, &small, &info, err, sizeof(err)), 0);
		assert_int_equal(info.shrink, 4);
		assert_int_equal(info.src_width, w);
		assert_int_equal(small.width, w / 4);
		assert_int_equal(small.height, h / 4);
		assert_int_equal(small.channels, 3);
		double d = block_mean_diff(&small, &full, 4);
		if (d > 2.0)
			fail_msg("%s: fast differs from the block means by %.2f", suffixes[i], d);
		assert_int_equal(decode_buffer(buf, len, &grey, &y, &info, err, sizeof(err)), 0);
		assert_int_equal(y.channels, 1);
		assert_int_equal(y.width, w / 4);
		hw_image_free(&y);
		hw_image_free(&small);
		hw_image_free(&full);
		g_free(buf);
	}
}

/* Formats without a scaled decode: fast mode hands over exactly the
 * pixels of the full decode that PDQ's 512x512 grid samples. */
static void test_fast_grid(void **state)
{
	static const char *const suffixes[] = { ".png", ".webp[lossless]", ".tif", ".gif" };
	const uint32_t w = 1200, h = 700;
	(void)state;

	for (size_t i = 0; i < sizeof(suffixes) / sizeof(suffixes[0]); i++) {
		struct hw_image full, small;
		struct decode_info info;
		char err[256];
		size_t len;
		void *buf = make_file(w, h, 3, suffixes[i], &len);

		assert_int_equal(decode(buf, len, DECODE_EXACT, &full, NULL, err, sizeof(err)), 0);
		assert_int_equal(decode(buf, len, DECODE_FAST, &small, &info, err, sizeof(err)), 0);
		assert_int_equal(small.width, DECODE_FAST_GRID);
		assert_int_equal(small.height, DECODE_FAST_GRID);
		assert_int_equal(small.channels, full.channels);
		assert_int_equal(info.shrink, 3); /* 1200 / 512, rounded up */
		for (uint32_t y = 0; y < DECODE_FAST_GRID; y++)
			for (uint32_t x = 0; x < DECODE_FAST_GRID; x++) {
				const uint8_t *a = hw_image_px(&small, x, y);
				const uint8_t *b = hw_image_px(&full, decode_grid_src(x, w),
							       decode_grid_src(y, h));
				if (memcmp(a, b, full.channels) != 0)
					fail_msg("%s: grid pixel %u,%u differs", suffixes[i], x, y);
			}
		hw_image_free(&small);
		hw_image_free(&full);
		g_free(buf);
	}
}

/* Lossy WebP: the fast path converts the grid's YUV samples itself (nearest
 * chroma); close to libwebp's own RGB. */
static void test_fast_webp_lossy(void **state)
{
	const uint32_t w = 1100, h = 600;
	struct hw_image full, small;
	char err[256];
	size_t len;
	double sum = 0;
	void *buf = make_file(w, h, 3, ".webp[Q=95]", &len);
	(void)state;

	assert_int_equal(decode(buf, len, DECODE_EXACT, &full, NULL, err, sizeof(err)), 0);
	assert_int_equal(decode(buf, len, DECODE_FAST, &small, NULL, err, sizeof(err)), 0);
	assert_int_equal(small.width, DECODE_FAST_GRID);
	for (uint32_t y = 0; y < DECODE_FAST_GRID; y++)
		for (uint32_t x = 0; x < DECODE_FAST_GRID; x++)
			for (int c = 0; c < 3; c++)
				sum += abs(hw_image_px(&small, x, y)[c] -
					   hw_image_px(&full, decode_grid_src(x, w),
						       decode_grid_src(y, h))[c]);
	sum /= 3.0 * DECODE_FAST_GRID * DECODE_FAST_GRID;
	if (sum > 1.5)
		fail_msg("lossy WebP fast vs exact: mean difference %.2f", sum);
	hw_image_free(&small);
	hw_image_free(&full);
	g_free(buf);
}

/* Small images are not reduced. */
static void test_fast_small(void **state)
{
	static const char *const suffixes[] = { ".png", ".jpg", ".webp", ".gif" };
	(void)state;

	for (size_t i = 0; i < sizeof(suffixes) / sizeof(suffixes[0]); i++) {
		struct hw_image img;
		struct decode_info info;
		char err[256];
		size_t len;
		void *buf = make_file(300, 200, 3, suffixes[i], &len);

		assert_int_equal(decode(buf, len, DECODE_FAST, &img, &info, err, sizeof(err)), 0);
		assert_int_equal(info.shrink, 1);
		assert_int_equal(img.width, 300);
		assert_int_equal(img.height, 200);
		hw_image_free(&img);
		g_free(buf);
	}
}

/* An error leaves *ret and *info as they were, and says why. */
static void expect_error(const void *buf, size_t len, int code, const char *what)
{
	static const struct hw_image sentinel = { 7, 7, 3, 21, (uint8_t *)"x" };
	for (int mode = DECODE_FAST; mode <= DECODE_EXACT; mode++) {
		struct hw_image img = sentinel;
		struct decode_info info = { "zz", 5, 5, 5 };
		char err[256] = "";
		int r = decode(buf, len, (enum decode_mode)mode, &img, &info, err, sizeof(err));

		if (r != code)
			fail_msg("%s (%s mode): got %d (%s), want %d (%s)", what,
				 mode == DECODE_FAST ? "fast" : "exact", r, err, code,
				 decode_strerror(code));
		assert_true(img.width == sentinel.width && img.height == sentinel.height &&
			    img.channels == sentinel.channels &&
			    img.stride == sentinel.stride && img.pixels == sentinel.pixels);
		assert_int_equal(info.src_width, 5);
		assert_true(strlen(err) > 0);
		assert_null(strchr(err, '\n'));
		/* NULL err and info are allowed */
		struct decode_opts o = { .mode = (enum decode_mode)mode };
		assert_int_equal(decode_buffer(buf, len, &o, &img, NULL, NULL, 0), code);
	}
}

static void test_not_images(void **state)
{
	static const char *const texts[] = {
		"hello, this is a text file named photo.jpg\n",
		"<?xml version=\"1.0\"?>\n<svg xmlns=\"http://www.w3.org/2000/svg\" "
		"width=\"100\" height=\"100\"><rect width=\"100\" height=\"100\"/></svg>\n",
		"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"10\" height=\"10\"></svg>",
		"%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n%%EOF\n",
		"%!PS-Adobe-3.0\n%%BoundingBox: 0 0 10 10\nshowpage\n",
		"P6\n4 4\n255\n012345678901234567890123456789012345678901234567",
		"P5\n2 2\n255\nabcd",
		"#?RADIANCE\nFORMAT=32-bit_rle_rgbe\n\n-Y 2 +X 2\n",
		"SIMPLE  =                    T",
	};
	VipsImage *im = make_image(8, 8, 3);
	size_t len;
	void *buf;
	(void)state;

	expect_error("", 0, -EMEDIUMTYPE, "zero-length buffer");
	expect_error(NULL, 0, -EMEDIUMTYPE, "NULL buffer");
	for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++)
		expect_error(texts[i], strlen(texts[i]), -EMEDIUMTYPE, texts[i]);
	/* formats libvips can read and we do not allow */
	static const char *const others[] = { ".jxl", ".v", ".ppm", ".csv", ".mat" };
	for (size_t i = 0; i < sizeof(others) / sizeof(others[0]); i++) {
		if (vips_image_write_to_buffer(im, others[i], &buf, &len, NULL) != 0) {
			vips_error_clear();
			continue; /* no saver for it in this libvips */
		}
		expect_error(buf, len, -EMEDIUMTYPE, others[i]);
		g_free(buf);
	}
	g_object_unref(im);
}

/* Truncated files of every format are errors, in both modes: never the
 * partial image padded with grey. */
static void test_truncated(void **state)
{
	static const char *const suffixes[] = {
		".jpg", ".jpg[interlace]", ".png", ".png[bitdepth=16]", ".webp",
		".webp[lossless]", ".gif", ".tif", ".avif",
	};
	(void)state;

	for (size_t i = 0; i < sizeof(suffixes) / sizeof(suffixes[0]); i++) {
		size_t len;
		uint8_t *buf = make_file(640, 600, 3, suffixes[i], &len);
		char what[64];

		snprintf(what, sizeof(what), "%s cut at 60%%", suffixes[i]);
		/* a progressive JPEG's fast mode may find its scans complete
		 * before the cut: cut inside the first scan instead */
		size_t cut = strstr(suffixes[i], "interlace") ? len / 8 : len * 6 / 10;
		expect_error(buf, cut, -EBADMSG, what);
		g_free(buf);
	}
}

/* Bit flips anywhere: an error or an image, never a crash (run under ASan
 * by make check-san), never a hang. */
static void test_bit_flips(void **state)
{
	static const char *const suffixes[] = {
		".jpg", ".jpg[interlace]", ".png", ".webp", ".webp[lossless]", ".gif", ".tif",
	};
	(void)state;

	for (size_t i = 0; i < sizeof(suffixes) / sizeof(suffixes[0]); i++) {
		size_t len;
		uint8_t *orig = make_file(200, 150, 3, suffixes[i], &len);
		uint8_t *buf = malloc(len);
		unsigned seed = 12345;

		assert_non_null(buf);
		for (int trial = 0; trial < 60; trial++) {
			memcpy(buf, orig, len);
			for (int k = 0; k < 1 + trial % 4; k++) {
				seed = seed * 1103515245u + 12345u;
				buf[(seed >> 8) % len] ^= (uint8_t)(1u << (seed % 8));
			}
			for (int mode = DECODE_FAST; mode <= DECODE_EXACT; mode++) {
				struct hw_image img;
				char err[256];
				int r = decode(buf, len, (enum decode_mode)mode, &img, NULL,
					       err, sizeof(err));
				if (r == 0) {
					assert_true(img.width > 0 && img.height > 0);
					hw_image_free(&img);
				} else if (r != -EBADMSG && r != -EMEDIUMTYPE && r != -EFBIG) {
					fail_msg("%s flipped: unexpected %d (%s)", suffixes[i], r, err);
				}
			}
		}
		free(buf);
		g_free(orig);
	}
}

/* PNG's IHDR CRC (ISO 3309 / ITU-T V.42 polynomial), to patch a header. */
static uint32_t png_crc(const uint8_t *p, size_t n)
{
	uint32_t c = 0xffffffffu;

	for (size_t i = 0; i < n; i++) {
		c ^= p[i];
		for (int k = 0; k < 8; k++)
			c = (c >> 1) ^ (0xedb88320u & (0u - (c & 1u)));
	}
	return ~c;
}

static void put_be(uint8_t *p, uint32_t v, int bytes)
{
	for (int i = 0; i < bytes; i++)
		p[i] = (uint8_t)(v >> (8 * (bytes - 1 - i)));
}

static long max_rss_kb(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_maxrss;
}

/* A header that claims a huge image is refused from the header alone:
 * quickly and without allocating the pixels. */
static void expect_too_big(const void *buf, size_t len, const char *what)
{
	struct timespec t0, t1;
	long rss0 = max_rss_kb();

	clock_gettime(CLOCK_MONOTONIC, &t0);
	expect_error(buf, len, -EFBIG, what);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	double secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) * 1e-9;
	if (secs > 2.0)
		fail_msg("%s: refusing took %.2f s", what, secs);
	if (max_rss_kb() - rss0 > 64 * 1024)
		fail_msg("%s: memory grew by %ld kB", what, max_rss_kb() - rss0);
}

static void test_huge_headers(void **state)
{
	size_t len;
	uint8_t *buf;
	(void)state;

	/* PNG: IHDR says 100000 x 100000 (10^10 pixels) */
	buf = make_file(64, 64, 3, ".png", &len);
	assert_memory_equal(buf + 12, "IHDR", 4);
	put_be(buf + 16, 100000, 4);
	put_be(buf + 20, 100000, 4);
	put_be(buf + 29, png_crc(buf + 12, 17), 4);
	expect_too_big(buf, len, "PNG claiming 100000x100000");
	g_free(buf);

	/* JPEG: SOF holds 16-bit sizes; 65000 x 65000 is over the limit, and
	 * 65535 over libjpeg's own maximum side */
	static const uint32_t sides[] = { 65000, 65535 };
	for (int progressive = 0; progressive < 2; progressive++)
		for (size_t s = 0; s < 2; s++) {
			buf = make_file(64, 64, 3, progressive ? ".jpg[interlace]" : ".jpg", &len);
			size_t i;
			for (i = 2; i + 9 < len; i++)
				if (buf[i] == 0xff && (buf[i + 1] == 0xc0 || buf[i + 1] == 0xc2))
					break;
			assert_true(i + 9 < len);
			put_be(buf + i + 5, sides[s], 2); /* height */
			put_be(buf + i + 7, sides[s], 2); /* width */
			expect_too_big(buf, len, sides[s] == 65000 ? "JPEG claiming 65000x65000"
								   : "JPEG claiming 65535x65535");
			g_free(buf);
		}

	/* WebP (lossy): the VP8 frame header's 14-bit sizes say 16383 x 16383,
	 * and so does the VP8X canvas (width - 1, 24 bits) in front of it */
	buf = make_file(64, 64, 3, ".webp", &len);
	bool frame = false;
	for (size_t at = 12; at + 8 <= len;) {
		uint32_t size = buf[at + 4] | buf[at + 5] << 8 | (uint32_t)buf[at + 6] << 16 |
				(uint32_t)buf[at + 7] << 24;
		if (!memcmp(buf + at, "VP8X", 4)) {
			static const uint8_t canvas[6] = { 0xfe, 0x3f, 0, 0xfe, 0x3f, 0 };
			memcpy(buf + at + 12, canvas, 6);
		} else if (!memcmp(buf + at, "VP8 ", 4)) {
			static const uint8_t dims[4] = { 0xff, 0x3f, 0xff, 0x3f };
			assert_int_equal(buf[at + 11], 0x9d);
			memcpy(buf + at + 14, dims, 4);
			frame = true;
		}
		at += 8 + size + (size & 1);
	}
	assert_true(frame);
	expect_too_big(buf, len, "WebP claiming 16383x16383");
	g_free(buf);

	/* GIF: the logical screen and the first image descriptor say
	 * 65535 x 65535 */
	buf = make_file(64, 64, 3, ".gif", &len);
	size_t at = 13;
	if (buf[10] & 0x80) /* global colour table */
		at += 3u << ((buf[10] & 7) + 1);
	while (at < len && buf[at] == 0x21) { /* extensions: label, sub-blocks */
		at += 2;
		while (at < len && buf[at])
			at += buf[at] + 1u;
		at++;
	}
	assert_true(at + 9 < len);
	assert_int_equal(buf[at], 0x2c);
	memset(buf + 6, 0xff, 4);
	memset(buf + at + 5, 0xff, 4);
	expect_too_big(buf, len, "GIF claiming 65535x65535");
	g_free(buf);
}

/* max_pixels is honoured by every format. */
static void test_max_pixels(void **state)
{
	static const char *const suffixes[] = { ".jpg", ".png", ".webp", ".gif", ".tif", ".avif" };
	(void)state;

	for (size_t i = 0; i < sizeof(suffixes) / sizeof(suffixes[0]); i++) {
		size_t len;
		void *buf = make_file(100, 100, 3, suffixes[i], &len);
		for (int mode = DECODE_FAST; mode <= DECODE_EXACT; mode++) {
			struct decode_opts under = { .mode = (enum decode_mode)mode, .max_pixels = 9999 };
			struct decode_opts at = { .mode = (enum decode_mode)mode, .max_pixels = 10000 };
			struct hw_image img;
			char err[256];

			assert_int_equal(decode_buffer(buf, len, &under, &img, NULL, err, sizeof(err)),
					 -EFBIG);
			assert_non_null(strstr(err, "100x100"));
			assert_int_equal(decode_buffer(buf, len, &at, &img, NULL, err, sizeof(err)), 0);
			hw_image_free(&img);
		}
		g_free(buf);
	}
}

/* A grey progressive JPEG of 128 scans (a hand-written script): the DC
 * scan at half precision, every AC band alone at half precision then
 * refined, the DC refinement last.  With corner_last the bands 1..4 (the
 * 1/4-scale corner: zigzag 1, 2, 4) come after all the others. */
static void *progressive_jpeg(uint32_t w, uint32_t h, bool corner_last,
			      int *ret_scans, size_t *ret_len)
{
	struct jpeg_compress_struct c;
	struct jpeg_error_mgr jerr;
	jpeg_scan_info *scans = calloc(2 + 2 * 63, sizeof(*scans));
	unsigned char *out = NULL;
	unsigned long outlen = 0;
	uint8_t *row = malloc(w);
	int n = 0;

	assert_non_null(scans);
	assert_non_null(row);
	c.err = jpeg_std_error(&jerr);
	jpeg_create_compress(&c);
	jpeg_mem_dest(&c, &out, &outlen);
	c.image_width = w;
	c.image_height = h;
	c.input_components = 1;
	c.in_color_space = JCS_GRAYSCALE;
	jpeg_set_defaults(&c);
	scans[n++] = (jpeg_scan_info){ 1, { 0 }, 0, 0, 0, 1 };
	for (int group = 0; group < 2; group++) {
		int lo = corner_last ? (group ? 1 : 5) : (group ? 64 : 1);
		int hi = corner_last ? (group ? 4 : 63) : (group ? 63 : 63);
		for (int pass = 0; pass < 2; pass++)
			for (int band = lo; band <= hi; band++)
				scans[n++] = (jpeg_scan_info){ 1, { 0 }, band, band, pass,
							       pass ? 0 : 1 };
	}
	scans[n++] = (jpeg_scan_info){ 1, { 0 }, 0, 0, 1, 0 };
	c.scan_info = scans;
	c.num_scans = n;
	jpeg_start_compress(&c, TRUE);
	for (uint32_t y = 0; y < h; y++) {
		JSAMPROW rows[1] = { row };
		for (uint32_t x = 0; x < w; x++)
			row[x] = pattern(x, y, 0, w, h);
		jpeg_write_scanlines(&c, rows, 1);
	}
	jpeg_finish_compress(&c);
	jpeg_destroy_compress(&c);
	free(row);
	free(scans);
	*ret_scans = n;
	*ret_len = outlen;
	return out;
}

/* More than DECODE_JPEG_MAX_SCANS scans is refused as a bomb, unless the
 * fast mode has all it needs before the limit. */
static void test_scan_bomb(void **state)
{
	struct decode_opts fast = { .mode = DECODE_FAST, .grey_ok = true };
	struct hw_image img;
	struct decode_info info;
	char err[256];
	size_t len;
	int scans;
	uint8_t *buf;
	(void)state;

	buf = progressive_jpeg(2048, 2048, false, &scans, &len);
	assert_true(scans > DECODE_JPEG_MAX_SCANS);
	assert_int_equal(decode(buf, len, DECODE_EXACT, &img, NULL, err, sizeof(err)), -EFBIG);
	assert_non_null(strstr(err, "scans"));
	/* 1/4 scale needs the DC scan and bands 1..4, the first five scans */
	assert_int_equal(decode_buffer(buf, len, &fast, &img, &info, err, sizeof(err)), 0);
	assert_int_equal(info.shrink, 4);
	assert_int_equal(img.width, 512);
	assert_true(max_error(&img) <= 8);
	hw_image_free(&img);
	free(buf);

	buf = progressive_jpeg(2048, 2048, true, &scans, &len);
	assert_int_equal(decode_buffer(buf, len, &fast, &img, &info, err, sizeof(err)), -EFBIG);
	assert_non_null(strstr(err, "scans"));
	free(buf);
}

/* The decoder never writes to stderr (libvips, libpng, libjpeg, libtiff
 * warnings included): run the hostile cases with fd 2 redirected. */
static void test_silent(void **state)
{
	char path[] = "/tmp/test_decode_stderr_XXXXXX";
	int fd = mkstemp(path), saved = dup(2);
	struct stat st;
	(void)state;

	assert_true(fd >= 0 && saved >= 0);
	fflush(stderr);
	assert_int_equal(dup2(fd, 2), 2);
	test_not_images(state);
	test_truncated(state);
	test_huge_headers(state);
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	assert_int_equal(fstat(fd, &st), 0);
	close(fd);
	unlink(path);
	assert_int_equal(st.st_size, 0);
}

static void test_strerror(void **state)
{
	(void)state;
	assert_string_not_equal(decode_strerror(-EFBIG), decode_strerror(-EBADMSG));
	assert_non_null(decode_strerror(-EMEDIUMTYPE));
	assert_non_null(decode_strerror(12345));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_formats),
		cmocka_unit_test(test_alpha_not_flattened),
		cmocka_unit_test(test_cmyk_jpeg),
		cmocka_unit_test(test_exif_orientation_ignored),
		cmocka_unit_test(test_fast_jpeg),
		cmocka_unit_test(test_fast_grid),
		cmocka_unit_test(test_fast_webp_lossy),
		cmocka_unit_test(test_fast_small),
		cmocka_unit_test(test_not_images),
		cmocka_unit_test(test_truncated),
		cmocka_unit_test(test_bit_flips),
		cmocka_unit_test(test_huge_headers),
		cmocka_unit_test(test_max_pixels),
		cmocka_unit_test(test_scan_bomb),
		cmocka_unit_test(test_silent),
		cmocka_unit_test(test_strerror),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}
