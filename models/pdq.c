/* pdq.c - Meta's PDQ hash, computed as the C++ reference
 * (facebook/ThreatExchange pdq/cpp, CImg front end) computes it, down to the
 * order of every float operation, so that our hashes are bit-identical to
 * the ones in the lists we receive.  The arithmetic is the reference's; the
 * loop structure is not.  The blur runs its running sums across several
 * rows (or all columns) at once so that the work pipelines or vectorises,
 * but every single sum still adds the same values in the same order.  The
 * last two blur passes only finish the 64x64 samples the decimation keeps,
 * and all scratch is one allocation per call (plus a little stack).
 */
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "pdq.h"

/* The reference shrinks anything wider or taller than this to a square of
 * this side before hashing (CImg nearest neighbour), so no buffer here is
 * ever larger than PRESCALE x PRESCALE. */
#define PRESCALE 512
/* Smaller images hash to all zeros with quality 0, as in the reference. */
#define MIN_DIM 5
#define DS 64    /* side of the blurred, decimated image */
#define NC 16    /* side of the DCT block that makes the hash */
/* Rows filtered side by side, and the column chunk the compiler
 * vectorises; scratch rows are padded to a multiple of it. */
#define LANES 8

/* float constants, as the reference's `const float` coefficients */
#define LUMA_R 0.299f
#define LUMA_G 0.587f
#define LUMA_B 0.114f

/* The reference's DCT matrix: row i is frequency i + 1 (no DC), 64 taps. */
static float dct_d[NC][DS];
static float dct_dt[DS][NC]; /* transposed, for the second product */
static pthread_once_t dct_once = PTHREAD_ONCE_INIT;

static void dct_init(void)
{
	/* A float scale times a double cosine, rounded once to float: the
	 * same expression, evaluated in the same precision, as upstream. */
	const float scale = (float)sqrt(2.0 / DS);

	for (int i = 0; i < NC; i++)
		for (int j = 0; j < DS; j++) {
			float v = (float)(scale * cos((M_PI / 2 / DS) * (i + 1) *
						      (2 * j + 1)));
			dct_d[i][j] = v;
			dct_dt[j][i] = v;
		}
}

/* Where each pixel of the image the reference hashes comes from. */
struct geom {
	uint32_t w, h;           /* after the optional 512x512 prescale */
	size_t pitch;            /* floats per scratch row: >= w, % LANES == 0 */
	uint32_t ysrc[PRESCALE]; /* source row of row y */
	size_t xoff[PRESCALE];   /* byte offset in a source row of column x */
};

static int geom_init(const struct hw_image *img, struct geom *g)
{
	uint32_t x, y;

	if (!img || !img->pixels || img->width == 0 || img->height == 0 ||
	    (img->channels != 1 && img->channels != 3) ||
	    img->stride < (size_t)img->width * img->channels)
		return -EINVAL;
	if (img->width > PRESCALE || img->height > PRESCALE) {
		/* CImg's resize(512, 512), default nearest neighbour: output
		 * x reads source floor(x * width / 512), and likewise y. */
		g->w = g->h = PRESCALE;
		for (x = 0; x < PRESCALE; x++)
			g->xoff[x] = (size_t)((uint64_t)x * img->width / PRESCALE) *
				     img->channels;
		for (y = 0; y < PRESCALE; y++)
			g->ysrc[y] = (uint32_t)((uint64_t)y * img->height / PRESCALE);
	} else {
		g->w = img->width;
		g->h = img->height;
		for (x = 0; x < g->w; x++)
			g->xoff[x] = (size_t)x * img->channels;
		for (y = 0; y < g->h; y++)
			g->ysrc[y] = y;
	}
	g->pitch = (g->w + LANES - 1) / LANES * LANES;
	return 0;
}

/* Float luma as the reference's fillFloatLumaFromRGB/-Grey: grey samples
 * are taken as they are, RGB is weighted in float, summed left to right.
 * Padding columns are zeroed so that the column passes read defined data. */
static void fill_luma(const struct hw_image *img, const struct geom *g,
		      float *out, size_t opitch)
{
	for (uint32_t y = 0; y < g->h; y++) {
		const uint8_t *row = img->pixels + (size_t)g->ysrc[y] * img->stride;
		float *o = out + y * opitch;
		uint32_t x;

		if (img->channels == 3) {
			for (x = 0; x < g->w; x++) {
				const uint8_t *p = row + g->xoff[x];
				o[x] = LUMA_R * p[0] + LUMA_G * p[1] + LUMA_B * p[2];
			}
		} else {
			for (x = 0; x < g->w; x++)
				o[x] = row[g->xoff[x]];
		}
		for (x = g->w; x < opitch; x++)
			o[x] = 0.0f;
	}
}

/* The reference's Jarosz window: ceil(n / 128), i.e. half of n / 64 per
 * pass, since two passes of box filters make the tent. */
static uint32_t box_window(uint32_t n)
{
	return (n + 2 * DS - 1) / (2 * DS);
}

/* The divisor the reference's box1DFloat uses at each output position: the
 * window grows at the start and shrinks at the end. */
static void box_counts(uint32_t n, uint32_t win, float *cnt)
{
	uint32_t half = (win + 2) / 2, c = half - 1, o = 0, i;

	for (i = 0; i < win - half + 1; i++)
		cnt[o++] = (float)++c;
	for (i = 0; i < n - win; i++)
		cnt[o++] = (float)c;
	for (i = 0; i + 1 < half; i++)
		cnt[o++] = (float)--c;
}

/* box1DFloat's running sums along LANES rows at once (row r at src[r]):
 * raw[r][o] is the sum the reference divides when it writes output o.  The
 * rows are independent chains, which keeps the adder busy; each chain adds
 * and subtracts exactly what, and when, the reference does. */
static void box_row_sums(const float *const src[LANES], uint32_t n,
			 uint32_t win, float raw[LANES][PRESCALE])
{
	uint32_t half = (win + 2) / 2, ri = 0, li = 0, oi = 0, i;
	float s[LANES] = { 0 };
	int r;

	for (i = 0; i + 1 < half; i++, ri++)
		for (r = 0; r < LANES; r++)
			s[r] += src[r][ri];
	for (i = 0; i < win - half + 1; i++, ri++, oi++)
		for (r = 0; r < LANES; r++) {
			s[r] += src[r][ri];
			raw[r][oi] = s[r];
		}
	for (i = 0; i < n - win; i++, ri++, li++, oi++)
		for (r = 0; r < LANES; r++) {
			s[r] += src[r][ri];
			s[r] -= src[r][li];
			raw[r][oi] = s[r];
		}
	for (i = 0; i + 1 < half; i++, li++, oi++)
		for (r = 0; r < LANES; r++) {
			s[r] -= src[r][li];
			raw[r][oi] = s[r];
		}
}

/* Point src[] at LANES rows starting at r0; past the last row the last
 * row repeats (computed twice, harmlessly), so short images need no
 * separate path. */
static void lane_rows(const float *in, size_t pitch, uint32_t nrows,
		      uint32_t r0, const float *src[LANES])
{
	for (uint32_t r = 0; r < LANES; r++)
		src[r] = in + (size_t)(r0 + r < nrows ? r0 + r : nrows - 1) * pitch;
}

/* One blur pass along every row (boxAlongRowsFloat), full output. */
static void box_rows(const float *in, float *out, const struct geom *g,
		     uint32_t win)
{
	float raw[LANES][PRESCALE];
	float cnt[PRESCALE];
	const float *src[LANES];
	uint32_t x;

	/* padding columns: 0 / 1, so that they stay 0 */
	box_counts(g->w, win, cnt);
	for (x = g->w; x < g->pitch; x++) {
		cnt[x] = 1.0f;
		for (int r = 0; r < LANES; r++)
			raw[r][x] = 0.0f;
	}
	for (uint32_t r0 = 0; r0 < g->h; r0 += LANES) {
		uint32_t nr = g->h - r0 < LANES ? g->h - r0 : LANES;

		lane_rows(in, g->pitch, g->h, r0, src);
		box_row_sums(src, g->w, win, raw);
		for (uint32_t r = 0; r < nr; r++) {
			float *restrict o = out + (size_t)(r0 + r) * g->pitch;
			const float *restrict s = raw[r];

			for (size_t x0 = 0; x0 < g->pitch; x0 += LANES)
				for (int k = 0; k < LANES; k++)
					o[x0 + k] = s[x0 + k] / cnt[x0 + k];
		}
	}
}

/* The last pass along rows: only the DS columns the decimation keeps are
 * finished (divided), into out (h x DS). */
static void box_rows_sampled(const float *in, float *out, const struct geom *g,
			     uint32_t win, const uint32_t xs[DS])
{
	float raw[LANES][PRESCALE];
	float cnt[PRESCALE];
	const float *src[LANES];

	box_counts(g->w, win, cnt);
	for (uint32_t r0 = 0; r0 < g->h; r0 += LANES) {
		uint32_t nr = g->h - r0 < LANES ? g->h - r0 : LANES;

		lane_rows(in, g->pitch, g->h, r0, src);
		box_row_sums(src, g->w, win, raw);
		for (uint32_t r = 0; r < nr; r++)
			for (int j = 0; j < DS; j++)
				out[(size_t)(r0 + r) * DS + j] =
					raw[r][xs[j]] / cnt[xs[j]];
	}
}

/* s += a, s -= b, o = s / c over ncols (a multiple of LANES) columns; any
 * of a, b, o may be NULL.  Written as fixed-size chunks so that -O2
 * vectorises them; per column the order of operations is the
 * reference's. */
static void col_step(float *restrict s, const float *restrict a,
		     const float *restrict b, float *restrict o, float c,
		     size_t ncols)
{
	size_t j0;
	int k;

	if (a)
		for (j0 = 0; j0 < ncols; j0 += LANES)
			for (k = 0; k < LANES; k++)
				s[j0 + k] += a[j0 + k];
	if (b)
		for (j0 = 0; j0 < ncols; j0 += LANES)
			for (k = 0; k < LANES; k++)
				s[j0 + k] -= b[j0 + k];
	if (o)
		for (j0 = 0; j0 < ncols; j0 += LANES)
			for (k = 0; k < LANES; k++)
				o[j0 + k] = s[j0 + k] / c;
}

/* One blur pass along every column (boxAlongColsFloat) over n rows of
 * ncols columns, all columns advancing together. */
static void box_cols(const float *in, float *out, size_t pitch, size_t ncols,
		     uint32_t n, uint32_t win)
{
	uint32_t half = (win + 2) / 2, ri = 0, li = 0, oi = 0, i, c = 0;
	float s[PRESCALE];

	memset(s, 0, ncols * sizeof(s[0]));
	for (i = 0; i + 1 < half; i++, ri++, c++)
		col_step(s, in + ri * pitch, NULL, NULL, 1.0f, ncols);
	for (i = 0; i < win - half + 1; i++, ri++, oi++)
		col_step(s, in + ri * pitch, NULL, out + oi * pitch,
			 (float)++c, ncols);
	for (i = 0; i < n - win; i++, ri++, li++, oi++)
		col_step(s, in + ri * pitch, in + li * pitch, out + oi * pitch,
			 (float)c, ncols);
	for (i = 0; i + 1 < half; i++, li++, oi++)
		col_step(s, NULL, in + li * pitch, out + oi * pitch,
			 (float)--c, ncols);
}

/* decimateFloat's sample index: the centre of each of DS cells. */
static uint32_t decimate_index(int out, uint32_t n)
{
	return (uint32_t)(((out + 0.5) * n) / DS);
}

/* Blur (two passes of rows then columns) and decimate to DS x DS, as
 * jaroszFilterFloat + decimateFloat.  a and b are h x pitch floats; c is
 * 2 * h x DS. */
static void downsample(float *a, float *b, float *c, const struct geom *g,
		       float out[DS][DS])
{
	uint32_t wr = box_window(g->w), wc = box_window(g->h);
	uint32_t xs[DS];
	float *c2 = c + (size_t)g->h * DS;

	for (int j = 0; j < DS; j++)
		xs[j] = decimate_index(j, g->w);
	box_rows(a, b, g, wr);
	box_cols(b, a, g->pitch, g->pitch, g->h, wc);
	box_rows_sampled(a, c, g, wr, xs);
	box_cols(c, c2, DS, DS, g->h, wc);
	for (int i = 0; i < DS; i++)
		memcpy(out[i], c2 + (size_t)decimate_index(i, g->h) * DS,
		       sizeof(out[i]));
}

/* pdqImageDomainQualityMetric: count significant neighbour gradients. */
static int quality_metric(const float in[DS][DS])
{
	int sum = 0, q;

	for (int i = 0; i + 1 < DS; i++)
		for (int j = 0; j < DS; j++) {
			int d = (int)(((in[i][j] - in[i + 1][j]) * 100) / 255);
			sum += abs(d);
		}
	for (int i = 0; i < DS; i++)
		for (int j = 0; j + 1 < DS; j++) {
			int d = (int)(((in[i][j] - in[i][j + 1]) * 100) / 255);
			sum += abs(d);
		}
	q = sum / 90;
	return q > 100 ? 100 : q;
}

/* dct64To16: B = D A D^t, every sum over k in increasing k from 0.0f as
 * upstream; the loops run across j so that they vectorise. */
static void dct64to16(const float a[DS][DS], float out[NC][NC])
{
	float t[NC][DS];

	for (int i = 0; i < NC; i++) {
		for (int j = 0; j < DS; j++)
			t[i][j] = 0.0f;
		for (int k = 0; k < DS; k++) {
			float d = dct_d[i][k];
			for (int j = 0; j < DS; j++)
				t[i][j] += d * a[k][j];
		}
	}
	for (int i = 0; i < NC; i++) {
		for (int j = 0; j < NC; j++)
			out[i][j] = 0.0f;
		for (int k = 0; k < DS; k++) {
			float v = t[i][k];
			for (int j = 0; j < NC; j++)
				out[i][j] += v * dct_dt[k][j];
		}
	}
}

/* Torben Mogensen's median (as upstream's torben.cpp): the lower median
 * for an even count, found without moving or copying the data. */
static float torben_median(const float *m, int n)
{
	float min = m[0], max = m[0], guess, maxlt, mingt;
	int less, greater, equal, i, half = (n + 1) / 2;

	for (i = 1; i < n; i++) {
		if (m[i] < min)
			min = m[i];
		if (m[i] > max)
			max = m[i];
	}
	for (;;) {
		guess = (min + max) / 2;
		less = greater = equal = 0;
		maxlt = min;
		mingt = max;
		for (i = 0; i < n; i++) {
			if (m[i] < guess) {
				less++;
				if (m[i] > maxlt)
					maxlt = m[i];
			} else if (m[i] > guess) {
				greater++;
				if (m[i] < mingt)
					mingt = m[i];
			} else {
				equal++;
			}
		}
		if (less <= half && greater <= half)
			break;
		if (less > greater)
			max = maxlt;
		else
			min = mingt;
	}
	if (less >= half)
		return maxlt;
	return less + equal >= half ? guess : mingt;
}

/* Bit k = NC * i + j is set when coefficient (i, j) is above the median;
 * bit k of the 256-bit number lives in bytes[31 - k / 8]. */
static void dct_to_bits(const float dct[NC][NC], struct pdq_hash *h)
{
	float med = torben_median(&dct[0][0], NC * NC);

	memset(h, 0, sizeof(*h));
	for (int k = 0; k < NC * NC; k++)
		if (dct[k / NC][k % NC] > med)
			h->bytes[PDQ_BYTES - 1 - k / 8] |= (uint8_t)(1u << (k % 8));
}

/* Everything up to the DCT block.  skip_blur_at_64 reproduces the
 * reference's non-dihedral path, which takes a 64x64 image as already
 * downsampled; its dihedral path blurs it like any other size.  Returns 0
 * with *ret_small set when the image is below the minimum size (no DCT). */
static int pdq_dct(const struct hw_image *img, bool skip_blur_at_64,
		   float dct[NC][NC], int *ret_quality, bool *ret_small)
{
	struct geom g;
	float ds[DS][DS];
	float *scratch = NULL;
	int r;

	r = geom_init(img, &g);
	if (r < 0)
		return r;
	pthread_once(&dct_once, dct_init);
	if (g.w < MIN_DIM || g.h < MIN_DIM) {
		*ret_quality = 0;
		*ret_small = true;
		return 0;
	}
	if (skip_blur_at_64 && g.w == DS && g.h == DS) {
		fill_luma(img, &g, &ds[0][0], DS);
	} else {
		size_t plane = (size_t)g.h * g.pitch;

		scratch = malloc((2 * plane + 2 * (size_t)g.h * DS) *
				 sizeof(float));
		if (!scratch)
			return -ENOMEM;
		fill_luma(img, &g, scratch, g.pitch);
		downsample(scratch, scratch + plane, scratch + 2 * plane, &g, ds);
		free(scratch);
	}
	*ret_quality = quality_metric(ds);
	*ret_small = false;
	dct64to16(ds, dct);
	return 0;
}

int pdq_hash_image(const struct hw_image *img, struct pdq_result *ret)
{
	float dct[NC][NC];
	struct pdq_result res;
	bool small;
	int r;

	r = pdq_dct(img, true, dct, &res.quality, &small);
	if (r < 0)
		return r;
	if (small)
		memset(&res.hash, 0, sizeof(res.hash));
	else
		dct_to_bits(dct, &res.hash);
	*ret = res;
	return 0;
}

/* The dihedral transforms act on the DCT block directly (upstream's
 * dct16OriginalTo*): a mirror negates the odd-frequency coefficients
 * along its axis (frequency index i + 1, so even i), a transpose swaps the
 * axes.  flip[a] says whether axis a is mirrored, before any transpose. */
static void dct_dihedral(const float in[NC][NC], bool flip_rows,
			 bool flip_cols, bool transpose, float out[NC][NC])
{
	for (int i = 0; i < NC; i++)
		for (int j = 0; j < NC; j++) {
			bool neg = (flip_rows && !(i & 1)) != (flip_cols && !(j & 1));
			float v = neg ? -in[i][j] : in[i][j];

			if (transpose)
				out[j][i] = v;
			else
				out[i][j] = v;
		}
}

int pdq_hash_dihedral(const struct hw_image *img, struct pdq_dihedral *ret)
{
	/* flip rows (vertical mirror), flip columns, transpose; in
	 * enum pdq_dihedral_index order */
	static const bool xf[PDQ_NDIHEDRAL][3] = {
		[PDQ_ORIG] = { false, false, false },
		[PDQ_ROT90] = { false, true, true },
		[PDQ_ROT180] = { true, true, false },
		[PDQ_ROT270] = { true, false, true },
		[PDQ_FLIPX] = { true, false, false },
		[PDQ_FLIPY] = { false, true, false },
		[PDQ_FLIPPLUS1] = { false, false, true },
		[PDQ_FLIPMINUS1] = { true, true, true },
	};
	float dct[NC][NC], aux[NC][NC];
	struct pdq_dihedral res;
	bool small;
	int r;

	r = pdq_dct(img, false, dct, &res.quality, &small);
	if (r < 0)
		return r;
	for (int v = 0; v < PDQ_NDIHEDRAL; v++) {
		if (small) {
			memset(&res.v[v], 0, sizeof(res.v[v]));
			continue;
		}
		dct_dihedral(dct, xf[v][0], xf[v][1], xf[v][2], aux);
		dct_to_bits(aux, &res.v[v]);
	}
	*ret = res;
	return 0;
}

void pdq_to_hex(const struct pdq_hash *h, char *out)
{
	static const char digits[] = "0123456789abcdef";

	for (int i = 0; i < PDQ_BYTES; i++) {
		out[2 * i] = digits[h->bytes[i] >> 4];
		out[2 * i + 1] = digits[h->bytes[i] & 15];
	}
	out[PDQ_HEX_LEN] = '\0';
}

static int hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int pdq_from_hex(const char *hex, struct pdq_hash *ret)
{
	struct pdq_hash h;

	if (!hex)
		return -EINVAL;
	for (int i = 0; i < PDQ_BYTES; i++) {
		int hi, lo;

		/* a NUL ends the scan here: hex_value('\0') is -1 */
		hi = hex_value(hex[2 * i]);
		if (hi < 0)
			return -EINVAL;
		lo = hex_value(hex[2 * i + 1]);
		if (lo < 0)
			return -EINVAL;
		h.bytes[i] = (uint8_t)(hi << 4 | lo);
	}
	if (hex[PDQ_HEX_LEN] != '\0')
		return -EINVAL;
	*ret = h;
	return 0;
}

int pdq_distance(const struct pdq_hash *a, const struct pdq_hash *b)
{
	int d = 0;

	for (int i = 0; i < PDQ_BYTES; i += 8) {
		uint64_t x, y;

		memcpy(&x, a->bytes + i, 8);
		memcpy(&y, b->bytes + i, 8);
		d += __builtin_popcountll(x ^ y);
	}
	return d;
}
