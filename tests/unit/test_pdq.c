/* test_pdq.c - the PDQ model against Meta's C++ reference (hashes and
 * qualities it produced on the exact pixels in testdata/pdq/decoded_ppm,
 * and its dihedral variants), plus edge sizes, crop views, grey versus RGB,
 * hex round trips and distances. */
#include "harness.h"

#include <ctype.h>
#include <dirent.h>
#include <stdbool.h>

#include "pdq.h"
#include "pnm.h"

#define LINE_MAX_LEN 2048
#define MAX_FIELDS 12

/* Split a CSV line (no quoting in these files) in place. */
static int split_csv(char *line, char *fields[MAX_FIELDS])
{
	int n = 0;
	char *p = line;

	line[strcspn(line, "\r\n")] = '\0';
	while (n < MAX_FIELDS) {
		fields[n++] = p;
		p = strchr(p, ',');
		if (!p)
			break;
		*p++ = '\0';
	}
	return n;
}

/* A decimal field of the expected files; -1 when it is not one. */
static int parse_int(const char *s)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < 0 || v > 1000)
		return -1;
	return (int)v;
}

static void pdq_dir(char *buf, size_t len, const char *sub)
{
	snprintf(buf, len, "%s/pdq/%s", hwt_testdata(), sub);
}

/* Deterministic pseudo-random pixels (an LCG, no libc state). */
static uint32_t lcg(uint32_t *s)
{
	*s = *s * 1664525u + 1013904223u;
	return *s >> 8;
}

static void fill_random(struct hw_image *img, uint32_t seed)
{
	for (uint32_t y = 0; y < img->height; y++)
		for (size_t x = 0; x < (size_t)img->width * img->channels; x++)
			img->pixels[y * img->stride + x] = (uint8_t)lcg(&seed);
}

/* A smooth random picture: 6x6 random values per channel, bilinearly
 * interpolated, so that hashes have structure at every scale PDQ sees. */
static void fill_smooth(struct hw_image *img, uint32_t seed)
{
	float g[3][6][6];

	for (int c = 0; c < 3; c++)
		for (int i = 0; i < 6; i++)
			for (int j = 0; j < 6; j++)
				g[c][i][j] = (float)(lcg(&seed) % 256);
	for (uint32_t y = 0; y < img->height; y++)
		for (uint32_t x = 0; x < img->width; x++) {
			float fx = img->width > 1 ? 5.0f * x / (img->width - 1) : 0;
			float fy = img->height > 1 ? 5.0f * y / (img->height - 1) : 0;
			int ix = fx >= 5 ? 4 : (int)fx, iy = fy >= 5 ? 4 : (int)fy;

			fx -= ix;
			fy -= iy;
			for (uint32_t c = 0; c < img->channels; c++) {
				float v = (1 - fx) * (1 - fy) * g[c][iy][ix] +
					  fx * (1 - fy) * g[c][iy][ix + 1] +
					  (1 - fx) * fy * g[c][iy + 1][ix] +
					  fx * fy * g[c][iy + 1][ix + 1];
				img->pixels[y * img->stride + x * img->channels + c] =
					(uint8_t)v;
			}
		}
}

static void test_conformance_decoded(void **state)
{
	char dir[1024], csv[1024], path[2048], line[LINE_MAX_LEN];
	int checked = 0, files = 0;
	(void)state;

	pdq_dir(dir, sizeof(dir), "decoded_ppm");
	pdq_dir(csv, sizeof(csv), "expected/measured/cpp_pdq_from_decoded_pnm.csv");
	HWT_REQUIRE_PATH(dir);
	HWT_REQUIRE_PATH(csv);

	FILE *f = fopen(csv, "r");
	assert_non_null(f);
	assert_non_null(fgets(line, sizeof(line), f));
	assert_string_equal(strtok(line, "\r\n"), "pdq_hash,quality,path");
	while (fgets(line, sizeof(line), f)) {
		char *fld[MAX_FIELDS], hex[PDQ_HEX_LEN + 1];
		struct hw_image img = { 0 };
		struct pdq_result res;
		struct pdq_hash want;

		assert_int_equal(split_csv(line, fld), 3);
		assert_int_equal(pdq_from_hex(fld[0], &want), 0);
		pdq_dir(path, sizeof(path), fld[2]);
		assert_int_equal(hwt_pnm_read(path, &img), 0);
		assert_int_equal(pdq_hash_image(&img, &res), 0);
		pdq_to_hex(&res.hash, hex);
		if (strcmp(hex, fld[0]) != 0 || res.quality != parse_int(fld[1]))
			fail_msg("%s: got %s,%d want %s,%s (distance %d)", fld[2],
				 hex, res.quality, fld[0], fld[1],
				 pdq_distance(&res.hash, &want));
		hw_image_free(&img);
		checked++;
	}
	fclose(f);

	/* every fixture in the folder must have been checked */
	DIR *d = opendir(dir);
	assert_non_null(d);
	for (struct dirent *e; (e = readdir(d));) {
		if (!strstr(e->d_name, ".pnm"))
			continue;
		files++;
	}
	closedir(d);
	assert_true(checked > 0);
	assert_int_equal(files, checked);
	fprintf(stderr, "# pdq: %d/%d decoded fixtures at distance 0, quality equal\n",
		checked, files);
}

static void test_conformance_dihedral(void **state)
{
	char csv[1024], line[LINE_MAX_LEN], name[512], path[2048];
	int checked = 0;
	(void)state;

	pdq_dir(csv, sizeof(csv), "expected/measured/cpp_pdqdih_across.csv");
	HWT_REQUIRE_PATH(csv);
	FILE *f = fopen(csv, "r");
	assert_non_null(f);
	assert_non_null(fgets(line, sizeof(line), f));
	while (fgets(line, sizeof(line), f)) {
		char *fld[MAX_FIELDS];
		struct hw_image img = { 0 };
		struct pdq_dihedral res;

		assert_int_equal(split_csv(line, fld), PDQ_NDIHEDRAL + 2);
		hwt_pnm_fixture_name(fld[PDQ_NDIHEDRAL + 1], name, sizeof(name));
		snprintf(path, sizeof(path), "%s/pdq/decoded_ppm/%s", hwt_testdata(),
			 name);
		if (access(path, R_OK) != 0)
			continue; /* no decoded fixture for this original */
		assert_int_equal(hwt_pnm_read(path, &img), 0);
		assert_int_equal(pdq_hash_dihedral(&img, &res), 0);
		for (int v = 0; v < PDQ_NDIHEDRAL; v++) {
			char hex[PDQ_HEX_LEN + 1];

			pdq_to_hex(&res.v[v], hex);
			if (strcmp(hex, fld[v]) != 0)
				fail_msg("%s variant %d: got %s want %s", name, v,
					 hex, fld[v]);
		}
		assert_int_equal(res.quality, parse_int(fld[PDQ_NDIHEDRAL]));
		hw_image_free(&img);
		checked++;
	}
	fclose(f);
	if (checked == 0) {
		fprintf(stderr, "SKIP: no decoded fixture matches a row of %s\n", csv);
		skip();
	}
	fprintf(stderr, "# pdq: dihedral variants identical for %d decoded fixtures\n",
		checked);
}

static void alloc_image(struct hw_image *img, uint32_t w, uint32_t h, uint32_t c)
{
	assert_int_equal(hw_image_alloc(img, w, h, c), 0);
}

static bool hash_is_zero(const struct pdq_hash *h)
{
	static const struct pdq_hash zero;
	return memcmp(h, &zero, sizeof(zero)) == 0;
}

/* Below 5x5 the reference gives an all-zero hash of quality 0. */
static void test_too_small(void **state)
{
	static const uint32_t sizes[][2] = { { 1, 1 }, { 4, 4 }, { 4, 100 }, { 100, 4 } };
	(void)state;

	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		struct hw_image img;
		struct pdq_result r = { .quality = -1 };
		struct pdq_dihedral d = { .quality = -1 };

		alloc_image(&img, sizes[i][0], sizes[i][1], 3);
		fill_random(&img, 7);
		assert_int_equal(pdq_hash_image(&img, &r), 0);
		assert_true(hash_is_zero(&r.hash));
		assert_int_equal(r.quality, 0);
		assert_int_equal(pdq_hash_dihedral(&img, &d), 0);
		for (int v = 0; v < PDQ_NDIHEDRAL; v++)
			assert_true(hash_is_zero(&d.v[v]));
		assert_int_equal(d.quality, 0);
		hw_image_free(&img);
	}
}

/* Odd shapes: no crash (ASan watches), quality in range, deterministic,
 * and the dihedral original equals the plain hash (not for 64x64: see
 * test_64x64). */
static void test_edge_sizes(void **state)
{
	static const uint32_t sizes[][2] = {
		{ 5, 5 },     { 6, 5 },    { 1000, 1 }, { 1, 1000 }, { 513, 2 },
		{ 2, 513 },   { 513, 513 }, { 512, 5 },  { 63, 65 },  { 129, 7 },
		{ 4000, 3 },  { 100000, 1 },
	};
	(void)state;

	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		for (uint32_t ch = 1; ch <= 3; ch += 2) {
			struct hw_image img;
			struct pdq_result a, b;
			struct pdq_dihedral d;

			alloc_image(&img, sizes[i][0], sizes[i][1], ch);
			fill_random(&img, (uint32_t)i + 1);
			assert_int_equal(pdq_hash_image(&img, &a), 0);
			assert_int_equal(pdq_hash_image(&img, &b), 0);
			assert_memory_equal(&a, &b, sizeof(a));
			assert_in_range(a.quality, 0, 100);
			assert_int_equal(pdq_hash_dihedral(&img, &d), 0);
			assert_memory_equal(&d.v[PDQ_ORIG], &a.hash, sizeof(a.hash));
			assert_int_equal(d.quality, a.quality);
			/* at most half the coefficients are above the (lower)
			 * median; fewer when there are ties (1x1000 grey: every
			 * coefficient is a rounding residue of 0) */
			int ones = pdq_distance(&a.hash, &(struct pdq_hash){ { 0 } });
			assert_in_range(ones, 1, 128);
			hw_image_free(&img);
		}
	}
}

/* A uniform image: every coefficient is (near) zero, quality 0. */
static void test_flat(void **state)
{
	struct hw_image img;
	struct pdq_result r;
	(void)state;

	alloc_image(&img, 200, 150, 3);
	memset(img.pixels, 128, img.stride * img.height);
	assert_int_equal(pdq_hash_image(&img, &r), 0);
	assert_int_equal(r.quality, 0);
	hw_image_free(&img);
}

/* The reference's plain path takes a 64x64 image as already downsampled;
 * its dihedral path blurs it anyway.  Both are reproduced: the results may
 * differ by a few bits, never by much. */
static void test_64x64(void **state)
{
	struct hw_image img;
	struct pdq_result r;
	struct pdq_dihedral d;
	(void)state;

	alloc_image(&img, 64, 64, 3);
	fill_smooth(&img, 11);
	assert_int_equal(pdq_hash_image(&img, &r), 0);
	assert_int_equal(pdq_hash_dihedral(&img, &d), 0);
	assert_in_range(pdq_distance(&r.hash, &d.v[PDQ_ORIG]), 0, 8);
	assert_in_range(r.quality, 1, 100);
	hw_image_free(&img);
}

/* A crop view (stride > width * channels) hashes like the same pixels
 * copied into a tight buffer, with and without the 512 prescale. */
static void test_crop_view(void **state)
{
	static const uint32_t cases[][6] = {
		/* parent w, h, crop x, y, w, h */
		{ 300, 200, 17, 23, 150, 100 },
		{ 900, 700, 31, 5, 600, 550 },
		{ 700, 300, 1, 1, 698, 298 },
	};
	(void)state;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		for (uint32_t ch = 1; ch <= 3; ch += 2) {
			const uint32_t *c = cases[i];
			struct hw_image parent, view, tight;
			struct pdq_result a, b;
			struct pdq_dihedral da, db;

			alloc_image(&parent, c[0], c[1], ch);
			fill_random(&parent, 99 + (uint32_t)i);
			assert_int_equal(hw_image_crop(&parent, c[2], c[3], c[4], c[5], &view), 0);
			assert_true(view.stride > (size_t)view.width * ch);
			alloc_image(&tight, c[4], c[5], ch);
			for (uint32_t y = 0; y < c[5]; y++)
				memcpy(tight.pixels + y * tight.stride,
				       view.pixels + y * view.stride, (size_t)c[4] * ch);
			assert_int_equal(pdq_hash_image(&view, &a), 0);
			assert_int_equal(pdq_hash_image(&tight, &b), 0);
			assert_memory_equal(&a, &b, sizeof(a));
			assert_int_equal(pdq_hash_dihedral(&view, &da), 0);
			assert_int_equal(pdq_hash_dihedral(&tight, &db), 0);
			assert_memory_equal(&da, &db, sizeof(da));
			/* and the crop is not the parent */
			assert_int_equal(pdq_hash_image(&parent, &b), 0);
			assert_memory_not_equal(&a.hash, &b.hash, sizeof(a.hash));
			hw_image_free(&tight);
			hw_image_free(&parent);
		}
	}
}

/* Grey samples are used as they are; RGB with equal channels goes through
 * the float luma weights, which return v exactly for most but not all v
 * (e.g. 0.299f*15 + 0.587f*15 + 0.114f*15 = 15.000001f).  So: identical
 * hashes when every value is one the weights reproduce, close otherwise. */
static void test_grey_vs_rgb(void **state)
{
	uint8_t exact[256];
	int nexact = 0;
	(void)state;

	for (int v = 0; v < 256; v++)
		if (0.299f * v + 0.587f * v + 0.114f * v == (float)v)
			exact[nexact++] = (uint8_t)v;
	assert_in_range(nexact, 128, 255); /* some, not all */

	for (int pass = 0; pass < 2; pass++) {
		struct hw_image grey, rgb;
		struct pdq_result a, b;

		alloc_image(&grey, 640, 480, 1);
		alloc_image(&rgb, 640, 480, 3);
		fill_smooth(&grey, 12);
		for (size_t i = 0; i < (size_t)640 * 480; i++) {
			uint8_t v = grey.pixels[i];
			if (pass == 0)
				v = exact[v % nexact];
			grey.pixels[i] = v;
			memset(rgb.pixels + 3 * i, v, 3);
		}
		assert_int_equal(pdq_hash_image(&grey, &a), 0);
		assert_int_equal(pdq_hash_image(&rgb, &b), 0);
		if (pass == 0) {
			assert_memory_equal(&a, &b, sizeof(a));
		} else {
			assert_in_range(pdq_distance(&a.hash, &b.hash), 0, 4);
			assert_in_range(abs(a.quality - b.quality), 0, 1);
		}
		hw_image_free(&grey);
		hw_image_free(&rgb);
	}
}

/* Pixel (x, y) of variant t of a w x h image comes from source pixel
 * *sx, *sy.  The reference's names, read off its DCT sign rules (the first
 * DCT index is vertical): flipx mirrors top-bottom, flipy left-right,
 * flipplus1 is the transpose, flipminus1 the anti-transpose, rot90 turns
 * counter-clockwise. */
static void dihedral_source(int t, uint32_t w, uint32_t h, uint32_t x,
			    uint32_t y, uint32_t *sx, uint32_t *sy)
{
	switch (t) {
	case PDQ_ROT90: *sx = w - 1 - y; *sy = x; break;
	case PDQ_ROT180: *sx = w - 1 - x; *sy = h - 1 - y; break;
	case PDQ_ROT270: *sx = y; *sy = h - 1 - x; break;
	case PDQ_FLIPX: *sx = x; *sy = h - 1 - y; break;
	case PDQ_FLIPY: *sx = w - 1 - x; *sy = y; break;
	case PDQ_FLIPPLUS1: *sx = y; *sy = x; break;
	case PDQ_FLIPMINUS1: *sx = w - 1 - y; *sy = h - 1 - x; break;
	default: *sx = x; *sy = y; break;
	}
}

/* The dihedral variants mean what their names say: hashing the turned or
 * mirrored pixels lands nearer that variant than any other (not on it: the
 * blur window and the decimation grid are not symmetric; measured 0..44
 * bits here, the others 44..100). */
static void test_dihedral_meaning(void **state)
{
	static const uint32_t sizes[][2] = { { 100, 80 }, { 300, 200 }, { 640, 480 } };
	(void)state;

	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		for (uint32_t ch = 1; ch <= 3; ch += 2) {
			uint32_t w = sizes[i][0], h = sizes[i][1];
			struct hw_image img;
			struct pdq_dihedral d;

			alloc_image(&img, w, h, ch);
			fill_smooth(&img, 20 + (uint32_t)i);
			assert_int_equal(pdq_hash_dihedral(&img, &d), 0);
			for (int t = 0; t < PDQ_NDIHEDRAL; t++) {
				bool swap = t == PDQ_ROT90 || t == PDQ_ROT270 ||
					    t == PDQ_FLIPPLUS1 || t == PDQ_FLIPMINUS1;
				struct hw_image o;
				struct pdq_result r;

				alloc_image(&o, swap ? h : w, swap ? w : h, ch);
				for (uint32_t y = 0; y < o.height; y++)
					for (uint32_t x = 0; x < o.width; x++) {
						uint32_t sx, sy;

						dihedral_source(t, w, h, x, y, &sx, &sy);
						memcpy(o.pixels + y * o.stride + x * ch,
						       img.pixels + sy * img.stride + sx * ch, ch);
					}
				assert_int_equal(pdq_hash_image(&o, &r), 0);
				int near = pdq_distance(&r.hash, &d.v[t]), far = PDQ_BITS;
				for (int v = 0; v < PDQ_NDIHEDRAL; v++) {
					int dist = pdq_distance(&r.hash, &d.v[v]);
					if (v != t && dist < far)
						far = dist;
				}
				assert_in_range(near, 0, 48);
				assert_true(near < far);
				hw_image_free(&o);
			}
			hw_image_free(&img);
		}
	}
}

/* Over 512 on a side, the reference hashes CImg's nearest-neighbour
 * 512x512 resize: output x reads floor(x * width / 512).  Hashing the big
 * image must equal hashing that resize done here. */
static void test_prescale(void **state)
{
	static const uint32_t sizes[][2] = { { 1000, 700 }, { 513, 100 }, { 300, 4000 } };
	(void)state;

	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		uint32_t w = sizes[i][0], h = sizes[i][1];
		struct hw_image big, small;
		struct pdq_result a, b;

		alloc_image(&big, w, h, 3);
		fill_random(&big, 40 + (uint32_t)i);
		alloc_image(&small, 512, 512, 3);
		for (uint32_t y = 0; y < 512; y++)
			for (uint32_t x = 0; x < 512; x++)
				memcpy(small.pixels + y * small.stride + x * 3,
				       big.pixels + (size_t)(y * h / 512) * big.stride +
					       (size_t)(x * w / 512) * 3, 3);
		assert_int_equal(pdq_hash_image(&big, &a), 0);
		assert_int_equal(pdq_hash_image(&small, &b), 0);
		assert_memory_equal(&a, &b, sizeof(a));
		hw_image_free(&big);
		hw_image_free(&small);
	}
}

static void test_bad_input(void **state)
{
	struct hw_image img;
	struct pdq_result r, before;
	struct pdq_dihedral d;
	(void)state;

	memset(&before, 0xa5, sizeof(before));
	r = before;
	alloc_image(&img, 10, 10, 3);
	fill_random(&img, 3);

	struct hw_image bad = img;
	bad.channels = 4;
	assert_int_equal(pdq_hash_image(&bad, &r), -EINVAL);
	bad = img;
	bad.stride = 29;
	assert_int_equal(pdq_hash_image(&bad, &r), -EINVAL);
	bad = img;
	bad.width = 0;
	assert_int_equal(pdq_hash_image(&bad, &r), -EINVAL);
	bad = img;
	bad.pixels = NULL;
	assert_int_equal(pdq_hash_image(&bad, &r), -EINVAL);
	assert_int_equal(pdq_hash_dihedral(&bad, &d), -EINVAL);
	assert_int_equal(pdq_hash_image(NULL, &r), -EINVAL);
	assert_memory_equal(&r, &before, sizeof(r));
	hw_image_free(&img);
}

static void test_hex(void **state)
{
	const char *ref = "d8f8f0cee0f4a84f0637022a078f67f0b36e2ed596621e1d33e6339c4e9c9b22";
	char hex[PDQ_HEX_LEN + 1], upper[PDQ_HEX_LEN + 1];
	struct pdq_hash h, g, keep;
	uint32_t seed = 5;
	(void)state;

	assert_int_equal(pdq_from_hex(ref, &h), 0);
	assert_int_equal(h.bytes[0], 0xd8);
	assert_int_equal(h.bytes[31], 0x22);
	pdq_to_hex(&h, hex);
	assert_string_equal(hex, ref);
	for (int i = 0; i <= PDQ_HEX_LEN; i++)
		upper[i] = (char)toupper((unsigned char)ref[i]);
	assert_int_equal(pdq_from_hex(upper, &g), 0);
	assert_memory_equal(&g, &h, sizeof(h));

	for (int n = 0; n < 100; n++) {
		for (int i = 0; i < PDQ_BYTES; i++)
			h.bytes[i] = (uint8_t)lcg(&seed);
		pdq_to_hex(&h, hex);
		assert_int_equal(strlen(hex), PDQ_HEX_LEN);
		assert_int_equal(pdq_from_hex(hex, &g), 0);
		assert_memory_equal(&g, &h, sizeof(h));
	}

	keep = g;
	char bad[PDQ_HEX_LEN + 2];
	assert_int_equal(pdq_from_hex("", &g), -EINVAL);
	assert_int_equal(pdq_from_hex(NULL, &g), -EINVAL);
	memcpy(bad, ref, PDQ_HEX_LEN - 1);
	bad[PDQ_HEX_LEN - 1] = '\0'; /* 63 digits */
	assert_int_equal(pdq_from_hex(bad, &g), -EINVAL);
	memcpy(bad, ref, PDQ_HEX_LEN);
	bad[PDQ_HEX_LEN] = '0'; /* 65 digits */
	bad[PDQ_HEX_LEN + 1] = '\0';
	assert_int_equal(pdq_from_hex(bad, &g), -EINVAL);
	bad[PDQ_HEX_LEN] = '\n'; /* trailing newline */
	assert_int_equal(pdq_from_hex(bad, &g), -EINVAL);
	memcpy(bad, ref, PDQ_HEX_LEN + 1);
	bad[10] = 'g';
	assert_int_equal(pdq_from_hex(bad, &g), -EINVAL);
	bad[10] = ' ';
	assert_int_equal(pdq_from_hex(bad, &g), -EINVAL);
	assert_memory_equal(&g, &keep, sizeof(g));
}

/* Bit k of the reference's Hash256 (word k / 16, bit k % 16, printed from
 * word 15 down) is bit k of the 256-bit number; check one bit per word
 * position against the hex string. */
static void test_distance_and_bits(void **state)
{
	struct pdq_hash zero = { { 0 } }, ones, h;
	char hex[PDQ_HEX_LEN + 1];
	(void)state;

	memset(&ones, 0xff, sizeof(ones));
	assert_int_equal(pdq_distance(&zero, &zero), 0);
	assert_int_equal(pdq_distance(&zero, &ones), 256);
	assert_int_equal(pdq_distance(&ones, &zero), 256);
	for (int k = 0; k < PDQ_BITS; k++) {
		h = zero;
		h.bytes[PDQ_BYTES - 1 - k / 8] = (uint8_t)(1u << (k % 8));
		assert_int_equal(pdq_distance(&zero, &h), 1);
		assert_int_equal(pdq_distance(&ones, &h), 255);
		pdq_to_hex(&h, hex);
		/* word w = k / 16 is printed at hex offset (15 - w) * 4 */
		int w = k / 16, b = k % 16;
		char want[5];
		snprintf(want, sizeof(want), "%04x", 1u << b);
		assert_memory_equal(hex + (15 - w) * 4, want, 4);
	}
	struct pdq_hash a, b2;
	assert_int_equal(pdq_from_hex("d8f8f0cee0f4a84f0637022a078f67f0b36e2ed596621e1d33e6339c4e9c9b22", &a), 0);
	assert_int_equal(pdq_from_hex("d8f8f0cee0f4a84f0637022a038f67f0b36e2ed596631e1d33e6339c4e9c9b22", &b2), 0);
	assert_int_equal(pdq_distance(&a, &b2), 2); /* --details delta=2 */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_conformance_decoded),
		cmocka_unit_test(test_conformance_dihedral),
		cmocka_unit_test(test_too_small),
		cmocka_unit_test(test_edge_sizes),
		cmocka_unit_test(test_flat),
		cmocka_unit_test(test_64x64),
		cmocka_unit_test(test_crop_view),
		cmocka_unit_test(test_grey_vs_rgb),
		cmocka_unit_test(test_dihedral_meaning),
		cmocka_unit_test(test_prescale),
		cmocka_unit_test(test_bad_input),
		cmocka_unit_test(test_hex),
		cmocka_unit_test(test_distance_and_bits),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
