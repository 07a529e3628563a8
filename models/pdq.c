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

#include "model.h"
#include "pdq.h"

/* Bit-exactness needs every a * b + c rounded twice, as in the reference
 * (g++ -std=c++11, which never contracts): no fused multiply-add, even
 * where the target has one or the dialect would allow it. */
#if defined(__clang__)
#pragma STDC FP_CONTRACT OFF
#elif defined(__GNUC__)
#pragma GCC optimize("fp-contract=off")
#endif

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
/* "#pragma GCC unroll" takes no macros; its 8s are LANES. */
_Static_assert(LANES == 8, "update the unroll pragmas");

/* float constants, as the reference's `const float` coefficients */
#define LUMA_R 0.299f
#define LUMA_G 0.587f
#define LUMA_B 0.114f

/* The reference's DCT matrix: row i is frequency i + 1 (no DC), 64 taps. */
static float dct_d[NC][DS];
static float dct_dt[DS][NC]; /* transposed, for the second product */
/* luma_lut[c][v]: the float product of channel c's weight and v */
static float luma_lut[3][256];
static pthread_once_t tables_once = PTHREAD_ONCE_INIT;

static void tables_init(void)
{
	for (int v = 0; v < 256; v++) {
		luma_lut[0][v] = LUMA_R * v;
		luma_lut[1][v] = LUMA_G * v;
		luma_lut[2][v] = LUMA_B * v;
	}

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

/* Four floats (GCC/clang vector extension, SSE-sized so that it passes
 * in registers everywhere): element-wise IEEE arithmetic, the same results
 * as scalar code.  Used where the compiler cannot see the vectorisation
 * itself; a block of LANES rows is LANES / 4 of them. */
typedef float v4f __attribute__((vector_size(4 * sizeof(float))));
#define NV (LANES / 4)

static inline v4f v4_load(const float *p)
{
	v4f v;
	memcpy(&v, p, sizeof(v));
	return v;
}

static inline void v4_store(float *p, v4f v)
{
	memcpy(p, &v, sizeof(v));
}

/* Luma of row y, as the reference's fillFloatLumaFromRGB/-Grey: grey
 * samples as they are; RGB weighted in float and summed left to right (the
 * tables hold exactly the products the reference computes), into
 * out[x * step]. */
static void luma_row(const struct hw_image *img, const struct geom *g,
		     uint32_t y, float *out, size_t step)
{
	const uint8_t *row = img->pixels + (size_t)g->ysrc[y] * img->stride;
	uint32_t x;

	if (img->channels == 3) {
		for (x = 0; x < g->w; x++) {
			const uint8_t *p = row + g->xoff[x];
			out[x * step] = luma_lut[0][p[0]] + luma_lut[1][p[1]] +
					luma_lut[2][p[2]];
		}
	} else {
		for (x = 0; x < g->w; x++)
			out[x * step] = row[g->xoff[x]];
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

/* box1DFloat's running sums along LANES rows at once.  The rows come
 * interleaved (sample x of lane r at in[x * LANES + r]) so that one vector
 * add advances every row; raw gets, in the same layout, the sum the
 * reference divides when it writes output x.  Each lane adds and subtracts
 * exactly what, and when, the reference does. */
static void box_row_sums(const float *in, uint32_t n, uint32_t win, float *raw)
{
	uint32_t half = (win + 2) / 2, ri = 0, li = 0, oi = 0, i;
	v4f s[NV] = { { 0 } };
	int k;

	for (i = 0; i + 1 < half; i++, ri++)
		for (k = 0; k < NV; k++)
			s[k] += v4_load(in + ri * LANES + 4 * k);
	for (i = 0; i < win - half + 1; i++, ri++, oi++)
		for (k = 0; k < NV; k++) {
			s[k] += v4_load(in + ri * LANES + 4 * k);
			v4_store(raw + oi * LANES + 4 * k, s[k]);
		}
	for (i = 0; i < n - win; i++, ri++, li++, oi++)
		for (k = 0; k < NV; k++) {
			s[k] += v4_load(in + ri * LANES + 4 * k);
			s[k] -= v4_load(in + li * LANES + 4 * k);
			v4_store(raw + oi * LANES + 4 * k, s[k]);
		}
	for (i = 0; i + 1 < half; i++, li++, oi++)
		for (k = 0; k < NV; k++) {
			s[k] -= v4_load(in + li * LANES + 4 * k);
			v4_store(raw + oi * LANES + 4 * k, s[k]);
		}
}

/* Divide raw sample x of every lane by cnt (LANES values to out). */
static void lanes_div(const float *raw, float cnt, float out[LANES])
{
	for (int k = 0; k < NV; k++)
		v4_store(out + 4 * k, v4_load(raw + 4 * k) / cnt);
}

/* The per-call scratch, one allocation: the luma plane that the first two
 * passes work on in place, the DS sampled columns that the last two work
 * on, and a block of LANES interleaved rows with its running sums. */
struct scratch {
	float *plane; /* h x pitch */
	float *cols;  /* h x DS */
	float *in;    /* pitch x LANES */
	float *raw;   /* pitch x LANES */
};

static int scratch_alloc(const struct geom *g, struct scratch *sc)
{
	size_t plane = (size_t)g->h * g->pitch, cols = (size_t)g->h * DS;
	size_t blk = g->pitch * LANES;
	float *p = malloc((plane + cols + 2 * blk) * sizeof(float));

	if (!p)
		return -ENOMEM;
	sc->plane = p;
	sc->cols = p + plane;
	sc->in = sc->cols + cols;
	sc->raw = sc->in + blk;
	return 0;
}

/* Rows of a block of LANES starting at r0: past the last row, the input
 * repeats the last row and the output goes to a sink, so short images and
 * the last block need no separate path. */
static uint32_t block_row(const struct geom *g, uint32_t r0, uint32_t r)
{
	return r0 + r < g->h ? r0 + r : g->h - 1;
}

static void block_dst(float *base, size_t pitch, const struct geom *g,
		      uint32_t r0, float *sink, float *dst[LANES])
{
	for (uint32_t r = 0; r < LANES; r++)
		dst[r] = r0 + r < g->h ? base + (r0 + r) * pitch : sink;
}

/* First pass along rows, straight from the pixels: luma of LANES rows,
 * their box filter, into plane (h x pitch, padding columns zeroed). */
static void luma_box_rows(const struct hw_image *img, const struct geom *g,
			  uint32_t win, const struct scratch *sc)
{
	float *in = sc->in, *raw = sc->raw, cnt[PRESCALE];
	float sink[PRESCALE], *dst[LANES];

	box_counts(g->w, win, cnt);
	for (uint32_t r0 = 0; r0 < g->h; r0 += LANES) {
		uint32_t r, x;

		for (r = 0; r < LANES; r++)
			luma_row(img, g, block_row(g, r0, r), in + r, LANES);
		box_row_sums(in, g->w, win, raw);
		block_dst(sc->plane, g->pitch, g, r0, sink, dst);
		for (x = 0; x < g->w; x++) {
			float v[LANES];

			lanes_div(raw + x * LANES, cnt[x], v);
#pragma GCC unroll 8
			for (r = 0; r < LANES; r++)
				dst[r][x] = v[r];
		}
		for (r = 0; r < LANES; r++)
			for (x = g->w; x < g->pitch; x++)
				dst[r][x] = 0.0f;
	}
}

/* Second pass along rows, from the plane: only the DS columns xs[] that
 * the decimation keeps are finished (divided), into cols (h x DS). */
static void box_rows_sampled(const struct geom *g, uint32_t win,
			     const uint32_t xs[DS], const struct scratch *sc)
{
	float *in = sc->in, *raw = sc->raw, cnt[PRESCALE];
	float sink[DS], *dst[LANES];
	const float *src[LANES];

	box_counts(g->w, win, cnt);
	for (uint32_t r0 = 0; r0 < g->h; r0 += LANES) {
		uint32_t r;

		for (r = 0; r < LANES; r++)
			src[r] = sc->plane + block_row(g, r0, r) * g->pitch;
		for (uint32_t x = 0; x < g->w; x++)
#pragma GCC unroll 8
			for (r = 0; r < LANES; r++)
				in[x * LANES + r] = src[r][x];
		box_row_sums(in, g->w, win, raw);
		block_dst(sc->cols, DS, g, r0, sink, dst);
		for (int j = 0; j < DS; j++) {
			float v[LANES];

			lanes_div(raw + xs[j] * LANES, cnt[xs[j]], v);
#pragma GCC unroll 8
			for (r = 0; r < LANES; r++)
				dst[r][j] = v[r];
		}
	}
}

/* s += a (if a), s -= b (if b), over ncols (a multiple of LANES) columns.
 * Fixed-size chunks so that -O2 vectorises; per column the order of
 * operations is the reference's. */
static void col_acc(float *restrict s, const float *restrict a,
		    const float *restrict b, size_t ncols)
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
}

static void col_out(const float *restrict s, float *restrict o, float c,
		    size_t ncols)
{
	for (size_t j0 = 0; j0 < ncols; j0 += LANES)
		for (int k = 0; k < LANES; k++)
			o[j0 + k] = s[j0 + k] / c;
}

/* Rows an output row trails the oldest input row it still needs
 * (win - half + 1) are fewer than the largest window, ceil(PRESCALE / 128). */
#define COL_KEEP (PRESCALE / (2 * DS))

/* One pass along every column (boxAlongColsFloat) of n rows x ncols,
 * in place, all columns advancing together.  Before output row o
 * overwrites input row o, the input row is kept in a ring for the
 * subtraction that needs it COL_KEEP or fewer steps later. */
static void box_cols_inplace(float *buf, size_t pitch, size_t ncols,
			     uint32_t n, uint32_t win)
{
	uint32_t half = (win + 2) / 2, keep = win - half + 1;
	uint32_t ri = 0, li = 0, oi = 0, i, c = 0;
	float s[PRESCALE], ring[COL_KEEP][PRESCALE];

	memset(s, 0, ncols * sizeof(s[0]));
	for (i = 0; i + 1 < half; i++, ri++, c++)
		col_acc(s, buf + ri * pitch, NULL, ncols);
	for (i = 0; i < n; i++, oi++) {
		const float *add = i < n - half + 1 ? buf + ri++ * pitch : NULL;
		const float *sub = i > win - half ? ring[li++ % keep] : NULL;

		if (add && !sub)
			c++;
		else if (sub && !add)
			c--;
		col_acc(s, add, sub, ncols);
		memcpy(ring[oi % keep], buf + oi * pitch, ncols * sizeof(float));
		col_out(s, buf + oi * pitch, (float)c, ncols);
	}
}

/* decimateFloat's sample index: the centre of each of DS cells. */
static uint32_t decimate_index(int out, uint32_t n)
{
	return (uint32_t)(((out + 0.5) * n) / DS);
}

/* The reference's jaroszFilterFloat (two passes of rows then columns) and
 * decimateFloat, from the pixels to DS x DS. */
static void downsample(const struct hw_image *img, const struct geom *g,
		       const struct scratch *sc, float out[DS][DS])
{
	uint32_t wr = box_window(g->w), wc = box_window(g->h);
	uint32_t xs[DS];

	for (int j = 0; j < DS; j++)
		xs[j] = decimate_index(j, g->w);
	luma_box_rows(img, g, wr, sc);
	box_cols_inplace(sc->plane, g->pitch, g->pitch, g->h, wc);
	box_rows_sampled(g, wr, xs, sc);
	box_cols_inplace(sc->cols, DS, DS, g->h, wc);
	for (int i = 0; i < DS; i++)
		memcpy(out[i], sc->cols + decimate_index(i, g->h) * DS,
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
 * upstream.  Each step keeps 16 sums in vector registers and runs k in the
 * inner loop. */
static void dct64to16(const float a[DS][DS], float out[NC][NC])
{
	float t[NC][DS];
	int i, j0, k, m;

	for (i = 0; i < NC; i++)
		for (j0 = 0; j0 < DS; j0 += 16) {
			v4f acc[4] = { { 0 } };

			for (k = 0; k < DS; k++) {
				float d = dct_d[i][k];
#pragma GCC unroll 4
				for (m = 0; m < 4; m++)
					acc[m] += d * v4_load(&a[k][j0 + 4 * m]);
			}
			for (m = 0; m < 4; m++)
				v4_store(&t[i][j0 + 4 * m], acc[m]);
		}
	for (i = 0; i < NC; i++) {
		v4f acc[4] = { { 0 } };

		for (k = 0; k < DS; k++) {
			float v = t[i][k];
#pragma GCC unroll 4
			for (m = 0; m < 4; m++)
				acc[m] += v * v4_load(&dct_dt[k][4 * m]);
		}
		for (m = 0; m < 4; m++)
			v4_store(&out[i][4 * m], acc[m]);
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
	int r;

	r = geom_init(img, &g);
	if (r < 0)
		return r;
	pthread_once(&tables_once, tables_init);
	if (g.w < MIN_DIM || g.h < MIN_DIM) {
		*ret_quality = 0;
		*ret_small = true;
		return 0;
	}
	if (skip_blur_at_64 && g.w == DS && g.h == DS) {
		for (uint32_t y = 0; y < DS; y++)
			luma_row(img, &g, y, ds[y], 1);
	} else {
		struct scratch sc;

		r = scratch_alloc(&g, &sc);
		if (r < 0)
			return r;
		downsample(img, &g, &sc, ds);
		free(sc.plane);
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

/* Hex goes through the registry's generic codec (model.h), so there is one
 * hex parser in the models. */
void pdq_to_hex(const struct pdq_hash *h, char *out)
{
	struct hw_hash g = { .model = HW_MODEL_PDQ, .len = PDQ_BYTES };

	memcpy(g.bytes, h->bytes, PDQ_BYTES);
	hw_hash_to_hex(&g, out);
}

int pdq_from_hex(const char *hex, struct pdq_hash *ret)
{
	struct hw_hash g;
	int r;

	if (!hex)
		return -EINVAL;
	r = hw_hash_from_hex(HW_MODEL_PDQ, hex, &g);
	if (r < 0)
		return r;
	memcpy(ret->bytes, g.bytes, PDQ_BYTES);
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
