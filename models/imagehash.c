/* imagehash.c - pHash, dHash and aHash exactly as Python ImageHash 4.x
 * computes them on top of PIL (Pillow 9/10), so that hash lists made with
 * ImageHash match what the laptops compute.
 *
 * The part that decides agreement is the resize: ImageHash calls PIL's
 * Image.resize(..., LANCZOS), and a different resizer moves pixels of the
 * 8x8 image by a level or two, which flips the bits that sit near the
 * threshold.  So this file follows Pillow's ImagingResample for 8-bit grey
 * images operation by operation: the same double-precision coefficient
 * windows (support 3 scaled by the reduction factor, centre rounding by
 * truncation), normalised per window, rounded to 22-bit fixed point; a
 * horizontal pass over the rows the vertical pass will read, clipped to
 * 8 bits; then the vertical pass.  Floating-point expressions keep PIL's
 * order of operations so the coefficients come out identical.
 *
 * Work is shared: one pass over the source rows converts each row to grey
 * and feeds the horizontal pass of every requested target size (32x32,
 * 9x8, 8x8); coefficient tables are computed once per distinct
 * (input length, output length) pair; everything lives in one allocation.
 */
#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "imagehash.h"

/* PIL's PRECISION_BITS: 32-bit accumulator = 8 bits of result + 2 bits of
 * headroom for the filter's negative lobes and overshoot. */
#define PREC_BITS 22

#define LANCZOS_SUPPORT 3.0

enum { T_PHASH, T_DHASH, T_AHASH, T_COUNT };

static const uint32_t target_w[T_COUNT] = { 32, 9, 8 };
static const uint32_t target_h[T_COUNT] = { 32, 8, 8 };

/* One axis of a resize: PIL's precompute_coeffs() result in fixed point. */
struct axis {
	uint32_t in, out;
	double scale, support;
	uint32_t ksize;  /* stride of k: the longest possible window */
	int32_t *bounds; /* per output: first input index, number of taps */
	int32_t *k;      /* out * ksize coefficients, 22-bit fixed point */
};

struct target {
	bool on;
	struct axis *ax_h, *ax_v;
	uint32_t first, last; /* source rows the vertical pass reads */
	uint8_t *tmp;         /* horizontal pass output: (last-first) x w */
	uint8_t px[32 * 32];  /* the resized image, row-major */
};

static double sinc(double x)
{
	if (x == 0.0)
		return 1.0;
	x = x * M_PI;
	return sin(x) / x;
}

static double lanczos3(double x)
{
	if (-3.0 <= x && x < 3.0)
		return sinc(x) * sinc(x / 3);
	return 0.0;
}

static void axis_init(struct axis *a, uint32_t in, uint32_t out)
{
	double filterscale;

	memset(a, 0, sizeof(*a));
	a->in = in;
	a->out = out;
	/* PIL: (double)(box1 - box0) / out with a float box, exact here. */
	a->scale = (double)in / out;
	filterscale = a->scale < 1.0 ? 1.0 : a->scale;
	a->support = LANCZOS_SUPPORT * filterscale;
	a->ksize = (uint32_t)ceil(a->support) * 2 + 1;
}

/* Input window [*lo, *hi) of output sample xx, and its centre.  PIL rounds
 * by adding 0.5 and truncating toward zero, then clamps. */
static double axis_window(const struct axis *a, uint32_t xx, int32_t *lo,
			  int32_t *hi)
{
	double center = (xx + 0.5) * a->scale;
	int32_t xmin = (int32_t)(center - a->support + 0.5);
	int32_t xmax = (int32_t)(center + a->support + 0.5);

	*lo = xmin < 0 ? 0 : xmin;
	*hi = xmax > (int32_t)a->in ? (int32_t)a->in : xmax;
	return center;
}

/* Fill bounds and k.  `w` is scratch for ksize doubles.  Returns -ERANGE
 * if a window could overflow the 32-bit sums of the passes, as it would in
 * PIL: unreachable for Lanczos-3, whose normalised positive taps add up to
 * at most 1.29 (measured over every input length to 5000 for outputs 8, 9
 * and 32; long windows tend to 1.1), i.e. 255 * 1.29 * 2^22 < 2^31. */
static int axis_coeffs(struct axis *a, double *w)
{
	double ss = a->scale < 1.0 ? 1.0 : 1.0 / a->scale;

	for (uint32_t xx = 0; xx < a->out; xx++) {
		int32_t lo, hi, n;
		double center = axis_window(a, xx, &lo, &hi);
		double ww = 0.0;
		int32_t *k = a->k + (size_t)xx * a->ksize;
		int64_t pos = 0, neg = 0;

		n = hi - lo;
		for (int32_t x = 0; x < n; x++) {
			w[x] = lanczos3((x + lo - center + 0.5) * ss);
			ww += w[x];
		}
		for (int32_t x = 0; x < n; x++) {
			double v = ww != 0.0 ? w[x] / ww : w[x];
			double f = v * (1 << PREC_BITS);

			if (fabs(f) >= (double)INT32_MAX)
				return -ERANGE;
			k[x] = (int32_t)(v < 0 ? -0.5 + f : 0.5 + f);
			if (k[x] > 0)
				pos += k[x];
			else
				neg += k[x];
		}
		if (255 * pos + (1 << (PREC_BITS - 1)) > INT32_MAX ||
		    255 * neg < INT32_MIN)
			return -ERANGE;
		a->bounds[2 * xx] = lo;
		a->bounds[2 * xx + 1] = n;
	}
	return 0;
}

static uint8_t clip8(int32_t s)
{
	if (s < 0)
		return 0;
	s >>= PREC_BITS;
	return s > 255 ? 255 : (uint8_t)s;
}

/* One output row of PIL's horizontal 8-bit pass. */
static void resample_row(const struct axis *a, const uint8_t *src,
			 uint8_t *dst)
{
	for (uint32_t xx = 0; xx < a->out; xx++) {
		const int32_t *k = a->k + (size_t)xx * a->ksize;
		const uint8_t *p = src + a->bounds[2 * xx];
		int32_t n = a->bounds[2 * xx + 1];
		int32_t s0 = 1 << (PREC_BITS - 1), s1 = 0, s2 = 0, s3 = 0;
		int32_t i = 0;

		/* Four independent sums let the multiplies overlap (about
		 * 1.6x faster); integer addition is exact, so the total is
		 * PIL's single running sum. */
		for (; i + 4 <= n; i += 4) {
			s0 += p[i] * k[i];
			s1 += p[i + 1] * k[i + 1];
			s2 += p[i + 2] * k[i + 2];
			s3 += p[i + 3] * k[i + 3];
		}
		for (; i < n; i++)
			s0 += p[i] * k[i];
		dst[xx] = clip8(s0 + s1 + s2 + s3);
	}
}

/* PIL's vertical 8-bit pass over t->tmp (rows first..last of the
 * horizontally resampled image) into t->px. */
static void resample_columns(struct target *t, uint32_t w)
{
	const struct axis *a = t->ax_v;

	for (uint32_t yy = 0; yy < a->out; yy++) {
		const int32_t *k = a->k + (size_t)yy * a->ksize;
		const uint8_t *col = t->tmp + (size_t)(a->bounds[2 * yy] - (int32_t)t->first) * w;
		int32_t n = a->bounds[2 * yy + 1];

		for (uint32_t xx = 0; xx < w; xx++) {
			int32_t s = 1 << (PREC_BITS - 1);

			for (int32_t i = 0; i < n; i++)
				s += col[(size_t)i * w + xx] * k[i];
			t->px[yy * w + xx] = clip8(s);
		}
	}
}

/* PIL "L" from RGB: ITU-R 601-2 weights in 16-bit fixed point (they sum to
 * 65536, so grey stays grey), rounded half up. */
static void grey_row(const uint8_t *rgb, uint32_t width, uint8_t *out)
{
	for (uint32_t x = 0; x < width; x++, rgb += 3)
		out[x] = (uint8_t)((rgb[0] * 19595u + rgb[1] * 38470u +
				    rgb[2] * 7471u + 0x8000u) >> 16);
}

/* Lengths are at most 2^20 and outputs at most 32, so no size_t product
 * below can overflow on a 64-bit host; the checks keep 32-bit hosts safe. */
static int add_size(size_t *total, size_t n, size_t each)
{
	size_t bytes;

	if (each && n > (SIZE_MAX - 16) / each)
		return -ENOMEM;
	bytes = (n * each + 15) & ~(size_t)15;
	if (bytes > SIZE_MAX - *total)
		return -ENOMEM;
	*total += bytes;
	return 0;
}

static void *take(uint8_t **cursor, size_t n, size_t each)
{
	void *p = *cursor;

	*cursor += (n * each + 15) & ~(size_t)15;
	return p;
}

/* Find or add the axis (in -> out) among the n already planned. */
static struct axis *axis_get(struct axis *axes, size_t *n, uint32_t in,
			     uint32_t out)
{
	for (size_t i = 0; i < *n; i++)
		if (axes[i].in == in && axes[i].out == out)
			return &axes[i];
	axis_init(&axes[*n], in, out);
	return &axes[(*n)++];
}

/* 2*cos(pi*k*(2m+1)/64) for k < 8, m < 16: scipy's unnormalised DCT-II
 * kernel for N = 32, the half that the folding below needs. */
static void dct_table(double c[8][16])
{
	for (int k = 0; k < 8; k++)
		for (int m = 0; m < 16; m++)
			c[k][m] = 2.0 * cos(M_PI * k * (2 * m + 1) / 64.0);
}

static double dot(const double *a, const double *b, int n)
{
	double s = 0.0;

	for (int i = 0; i < n; i++)
		s += a[i] * b[i];
	return s;
}

/* Outputs 0..7 of the 32-point DCT-II of x (elements `sx` apart) into y
 * (elements `sy` apart).  Folding the input in halves three times (sums
 * for the even outputs, differences for the odd ones) uses the kernel's
 * symmetry, so what cancels exactly in the mathematics (a constant or
 * mirrored signal) cancels exactly here instead of leaving rounding noise
 * that would decide bits against a median of zeros. */
static void dct32_low8(const double *x, size_t sx, const double c[8][16],
		       double *y, size_t sy)
{
	double u1[16], v1[16], u2[8], v2[8], u3[4], v3[4];

	for (int m = 0; m < 16; m++) {
		u1[m] = x[m * sx] + x[(31 - m) * sx];
		v1[m] = x[m * sx] - x[(31 - m) * sx];
	}
	for (int k = 1; k < 8; k += 2)
		y[k * sy] = dot(c[k], v1, 16);
	for (int m = 0; m < 8; m++) {
		u2[m] = u1[m] + u1[15 - m];
		v2[m] = u1[m] - u1[15 - m];
	}
	y[2 * sy] = dot(c[2], v2, 8);
	y[6 * sy] = dot(c[6], v2, 8);
	for (int m = 0; m < 4; m++) {
		u3[m] = u2[m] + u2[7 - m];
		v3[m] = u2[m] - u2[7 - m];
	}
	y[4 * sy] = dot(c[4], v3, 4);
	y[0] = 2.0 * (u3[0] + u3[1] + u3[2] + u3[3]);
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* ImageHash phash: scipy.fftpack.dct along axis 0, then axis 1, keep the
 * top-left 8x8, bit = value > numpy.median (mean of the two middle
 * values). */
static uint64_t phash_bits(const uint8_t px[32 * 32])
{
	double c[8][16], in[32 * 32], rows[8 * 32], d[64], sorted[64], med;
	uint64_t h = 0;

	dct_table(c);
	for (int i = 0; i < 32 * 32; i++)
		in[i] = px[i];
	for (int col = 0; col < 32; col++) /* axis 0: down each column */
		dct32_low8(in + col, 32, c, rows + col, 32);
	for (int k = 0; k < 8; k++) /* axis 1: along each kept row */
		dct32_low8(rows + k * 32, 1, c, d + k * 8, 1);
	memcpy(sorted, d, sizeof(sorted));
	qsort(sorted, 64, sizeof(double), cmp_double);
	med = (sorted[31] + sorted[32]) / 2;
	for (int i = 0; i < 64; i++)
		h = h << 1 | (d[i] > med);
	return h;
}

static uint64_t dhash_bits(const uint8_t px[9 * 8])
{
	uint64_t h = 0;

	for (int r = 0; r < 8; r++)
		for (int x = 0; x < 8; x++)
			h = h << 1 | (px[r * 9 + x + 1] > px[r * 9 + x]);
	return h;
}

/* numpy.mean of 64 small integers is exact: pixel > sum/64 <=> 64*pixel >
 * sum. */
static uint64_t ahash_bits(const uint8_t px[8 * 8])
{
	uint32_t sum = 0;
	uint64_t h = 0;

	for (int i = 0; i < 64; i++)
		sum += px[i];
	for (int i = 0; i < 64; i++)
		h = h << 1 | (64u * px[i] > sum);
	return h;
}

static bool image_ok(const struct hw_image *img)
{
	return img && img->pixels && img->width > 0 && img->height > 0 &&
	       img->width <= IMAGEHASH_MAX_SIDE &&
	       img->height <= IMAGEHASH_MAX_SIDE &&
	       (img->channels == 1 || img->channels == 3) &&
	       img->stride >= (size_t)img->width * img->channels;
}

int imagehash_all(const struct hw_image *img, uint64_t *ret_phash,
		  uint64_t *ret_dhash, uint64_t *ret_ahash)
{
	struct target t[T_COUNT];
	struct axis axes[2 * T_COUNT];
	size_t naxes = 0, total = 0, kmax = 0;
	uint32_t y0 = UINT32_MAX, y1 = 0;
	uint8_t *block = NULL, *cur, *grey = NULL;
	double *scratch;
	int r;

	if (!image_ok(img))
		return -EINVAL;
	memset(t, 0, sizeof(t));
	t[T_PHASH].on = ret_phash != NULL;
	t[T_DHASH].on = ret_dhash != NULL;
	t[T_AHASH].on = ret_ahash != NULL;

	/* Plan: axes, the source rows each target reads, buffer sizes. */
	for (int i = 0; i < T_COUNT; i++) {
		int32_t lo, hi, unused;

		if (!t[i].on)
			continue;
		t[i].ax_h = axis_get(axes, &naxes, img->width, target_w[i]);
		t[i].ax_v = axis_get(axes, &naxes, img->height, target_h[i]);
		/* PIL's ybox_first / ybox_last. */
		axis_window(t[i].ax_v, 0, &lo, &unused);
		axis_window(t[i].ax_v, target_h[i] - 1, &unused, &hi);
		t[i].first = (uint32_t)lo;
		t[i].last = (uint32_t)hi;
		y0 = t[i].first < y0 ? t[i].first : y0;
		y1 = t[i].last > y1 ? t[i].last : y1;
		r = add_size(&total, t[i].last - t[i].first, target_w[i]);
		if (r < 0)
			goto out;
	}
	if (naxes == 0) {
		r = 0;
		goto out;
	}
	for (size_t i = 0; i < naxes; i++) {
		kmax = axes[i].ksize > kmax ? axes[i].ksize : kmax;
		r = add_size(&total, (size_t)axes[i].out * 2, sizeof(int32_t));
		if (r >= 0)
			r = add_size(&total, (size_t)axes[i].out * axes[i].ksize,
				     sizeof(int32_t));
		if (r < 0)
			goto out;
	}
	r = add_size(&total, kmax, sizeof(double));
	if (r >= 0 && img->channels == 3)
		r = add_size(&total, img->width, 1);
	if (r < 0)
		goto out;

	block = malloc(total);
	if (!block) {
		r = -ENOMEM;
		goto out;
	}
	cur = block;
	scratch = take(&cur, kmax, sizeof(double));
	for (size_t i = 0; i < naxes; i++) {
		axes[i].bounds = take(&cur, (size_t)axes[i].out * 2, sizeof(int32_t));
		axes[i].k = take(&cur, (size_t)axes[i].out * axes[i].ksize,
				 sizeof(int32_t));
		r = axis_coeffs(&axes[i], scratch);
		if (r < 0)
			goto out;
	}
	for (int i = 0; i < T_COUNT; i++)
		if (t[i].on)
			t[i].tmp = take(&cur, t[i].last - t[i].first, target_w[i]);
	if (img->channels == 3)
		grey = take(&cur, img->width, 1);

	/* Horizontal pass: one sweep over the source rows for all targets.
	 * PIL skips a pass whose length does not change; so do we. */
	for (uint32_t y = y0; y < y1; y++) {
		const uint8_t *row = img->pixels + (size_t)y * img->stride;

		if (grey) {
			grey_row(row, img->width, grey);
			row = grey;
		}
		for (int i = 0; i < T_COUNT; i++) {
			uint8_t *dst;

			if (!t[i].on || y < t[i].first || y >= t[i].last)
				continue;
			dst = t[i].tmp + (size_t)(y - t[i].first) * target_w[i];
			if (img->width == target_w[i])
				memcpy(dst, row, target_w[i]);
			else
				resample_row(t[i].ax_h, row, dst);
		}
	}
	for (int i = 0; i < T_COUNT; i++) {
		if (!t[i].on)
			continue;
		if (img->height == target_h[i]) /* tmp holds every row */
			memcpy(t[i].px, t[i].tmp, (size_t)target_w[i] * target_h[i]);
		else
			resample_columns(&t[i], target_w[i]);
	}

	if (ret_phash)
		*ret_phash = phash_bits(t[T_PHASH].px);
	if (ret_dhash)
		*ret_dhash = dhash_bits(t[T_DHASH].px);
	if (ret_ahash)
		*ret_ahash = ahash_bits(t[T_AHASH].px);
	r = 0;
out:
	free(block);
	return r;
}

int imagehash_phash(const struct hw_image *img, uint64_t *ret)
{
	return imagehash_all(img, ret, NULL, NULL);
}

int imagehash_dhash(const struct hw_image *img, uint64_t *ret)
{
	return imagehash_all(img, NULL, ret, NULL);
}

int imagehash_ahash(const struct hw_image *img, uint64_t *ret)
{
	return imagehash_all(img, NULL, NULL, ret);
}
