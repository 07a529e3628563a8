/* border.c - uniform bands along the edges of a decoded image (border.h).
 *
 * Every edge is handled the same way: a "line" is a row or a column of the
 * current box, walked with a byte step, and the next line inward is a fixed
 * byte offset away, so one scanner serves all four edges of any crop view
 * (stride honoured) without copying.
 */
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "border.h"

void border_params_default(struct border_params *ret)
{
	memset(ret, 0, sizeof(*ret));
	/* JPEG leaves flat areas within a few levels; 24 also absorbs the
	 * chroma wobble of saturated colours after 4:2:0 subsampling. */
	ret->tol = 24;
	/* The mean of a flat line stays within a level or two after JPEG;
	 * a sky gradient drifts past 4 after a few lines. */
	ret->mean_tol = 4;
	ret->step_mean = 12;
	ret->outlier_permille = 10;
	ret->step_outlier_permille = 100;
	ret->min_band_permille = 15;
	ret->min_band_px = 2;
	ret->step_gap_divisor = 64;
	ret->min_inner_permille = 100;
	ret->min_inner_px = 16;
	ret->max_rounds = 8;
}

enum line_class {
	LINE_BAND, /* uniform, of the band's colour */
	LINE_SOFT, /* neither: ringing next to an edge, or a slow drift */
	LINE_STEP, /* clearly not the band: the band ended here */
};

/* One edge of the current box, as lines walked from the edge inward. */
struct edge {
	const uint8_t *first; /* first pixel of the outermost line */
	ptrdiff_t step;       /* bytes from one pixel of a line to the next */
	ptrdiff_t inward;     /* bytes from one line to the next one inward */
	uint32_t n;           /* pixels per line */
	uint32_t depth;       /* lines a band may take (keeps the inside) */
	uint32_t side;        /* length of the box across the lines */
};

/* Limits for one line length, precomputed from the params. */
struct limits {
	int tol;
	uint32_t band_off, step_off; /* outlier counts */
	int mean_tol, step_mean;
};

static uint32_t permille(uint32_t n, uint32_t pm)
{
	return (uint32_t)(((uint64_t)n * pm) / 1000);
}

/* The per-channel median of a line: the band colour, robust to the few
 * pixels (a logo, a speck) that the outlier allowance lets through. */
static void line_median(const uint8_t *p, ptrdiff_t step, uint32_t n,
			uint32_t ch, int ret[3])
{
	uint32_t hist[3][256];

	memset(hist, 0, sizeof(hist[0]) * ch);
	for (uint32_t i = 0; i < n; i++, p += step)
		for (uint32_t c = 0; c < ch; c++)
			hist[c][p[c]]++;
	for (uint32_t c = 0; c < ch; c++) {
		uint32_t acc = 0, v = 0;
		while (v < 255 && (acc += hist[c][v]) * 2 < n)
			v++;
		ret[c] = (int)v;
	}
}

static int absdiff(int a, int b)
{
	return a > b ? a - b : b - a;
}

/* Classify one line against the band colour ref.  Gives up on the line as
 * soon as it has step_off outliers, so a line of a photo costs a few dozen
 * pixels, not its length. */
static enum line_class classify(const uint8_t *p, ptrdiff_t step, uint32_t n,
				uint32_t ch, const int ref[3],
				const struct limits *L)
{
	uint64_t sum[3] = { 0, 0, 0 };
	uint32_t off = 0, in;
	int worst = 0;

	if (ch == 1) {
		for (uint32_t i = 0; i < n; i++, p += step) {
			if (absdiff(p[0], ref[0]) > L->tol) {
				if (++off > L->step_off)
					return LINE_STEP;
				continue;
			}
			sum[0] += p[0];
		}
	} else {
		for (uint32_t i = 0; i < n; i++, p += step) {
			int d = absdiff(p[0], ref[0]), d1 = absdiff(p[1], ref[1]),
			    d2 = absdiff(p[2], ref[2]);
			if (d1 > d)
				d = d1;
			if (d2 > d)
				d = d2;
			if (d > L->tol) {
				if (++off > L->step_off)
					return LINE_STEP;
				continue;
			}
			sum[0] += p[0];
			sum[1] += p[1];
			sum[2] += p[2];
		}
	}
	/* step_off < n, so at least one pixel is an inlier. */
	in = n - off;
	for (uint32_t c = 0; c < ch; c++) {
		/* |mean - ref| in levels, rounded down, without division
		 * by a possibly large count in the loop above */
		uint64_t want = (uint64_t)ref[c] * in;
		uint64_t dev = sum[c] > want ? sum[c] - want : want - sum[c];
		int m = (int)(dev / in);
		if (m > worst)
			worst = m;
	}
	if (worst > L->step_mean)
		return LINE_STEP;
	if (off > L->band_off || worst > L->mean_tol)
		return LINE_SOFT;
	return LINE_BAND;
}

/* Thickness of the band along one edge, 0 when there is none (see
 * border.h for what counts). */
static uint32_t scan_edge(const struct edge *e, uint32_t ch,
			  const struct border_params *bp)
{
	uint32_t min_band = permille(e->side, bp->min_band_permille);
	uint32_t gap = bp->step_gap_divisor ? e->side / bp->step_gap_divisor : 0;
	uint32_t last_band = 0;
	struct limits L;
	int ref[3] = { 0, 0, 0 };

	if (min_band < bp->min_band_px)
		min_band = bp->min_band_px;
	if (min_band == 0)
		min_band = 1;
	if (gap < 3)
		gap = 3;
	if (e->n == 0 || e->depth < min_band)
		return 0;
	L.tol = bp->tol;
	L.mean_tol = bp->mean_tol;
	L.step_mean = bp->step_mean;
	L.band_off = permille(e->n, bp->outlier_permille);
	L.step_off = permille(e->n, bp->step_outlier_permille);
	if (L.step_off >= e->n)
		L.step_off = e->n - 1;
	line_median(e->first, e->step, e->n, ch, ref);

	for (uint32_t i = 0; i < e->depth; i++) {
		const uint8_t *p = e->first + (ptrdiff_t)i * e->inward;
		switch (classify(p, e->step, e->n, ch, ref, &L)) {
		case LINE_BAND:
			last_band = i + 1;
			break;
		case LINE_SOFT:
			if (i + 1 - last_band > gap)
				return 0; /* drifting away: a gradient */
			break;
		case LINE_STEP:
			/* Cut at the step: the soft lines before it are the
			 * border's JPEG ringing more often than picture. */
			if (last_band < bp->min_band_px || last_band == 0 ||
			    i < min_band)
				return 0;
			return i;
		}
	}
	/* Uniform (or drifting) all the way to the inner limit: a plain image
	 * or a picture too small to hash on its own. */
	return 0;
}

/* The four edges of box as scanners; depth is filled by the caller. */
static void edge_top(const struct hw_image *img, const struct border_box *b,
		     struct edge *e)
{
	e->first = hw_image_px(img, b->x, b->y);
	e->step = (ptrdiff_t)img->channels;
	e->inward = (ptrdiff_t)img->stride;
	e->n = b->w;
	e->side = b->h;
}

static void edge_bottom(const struct hw_image *img, const struct border_box *b,
			struct edge *e)
{
	edge_top(img, b, e);
	e->first = hw_image_px(img, b->x, b->y + b->h - 1);
	e->inward = -(ptrdiff_t)img->stride;
}

static void edge_left(const struct hw_image *img, const struct border_box *b,
		      struct edge *e)
{
	e->first = hw_image_px(img, b->x, b->y);
	e->step = (ptrdiff_t)img->stride;
	e->inward = (ptrdiff_t)img->channels;
	e->n = b->h;
	e->side = b->w;
}

static void edge_right(const struct hw_image *img, const struct border_box *b,
		       struct edge *e)
{
	edge_left(img, b, e);
	e->first = hw_image_px(img, b->x + b->w - 1, b->y);
	e->inward = -(ptrdiff_t)img->channels;
}

/* Trim a pair of opposite edges (top/bottom when vertical, else
 * left/right) of *b.  Returns true when something was trimmed. */
static bool trim_pair(const struct hw_image *img, struct border_box *b,
		      bool vertical, uint32_t min_inner,
		      const struct border_params *bp)
{
	uint32_t *pos = vertical ? &b->y : &b->x;
	uint32_t *len = vertical ? &b->h : &b->w;
	struct edge e;
	uint32_t near, far;

	if (*len <= min_inner)
		return false;
	(vertical ? edge_top : edge_left)(img, b, &e);
	e.depth = *len - min_inner;
	near = scan_edge(&e, img->channels, bp);
	(vertical ? edge_bottom : edge_right)(img, b, &e);
	e.depth = *len - min_inner - near;
	far = scan_edge(&e, img->channels, bp);
	*pos += near;
	*len -= near + far;
	return near + far > 0;
}

int border_find(const struct hw_image *img, const struct border_params *params,
		struct border_box *ret_box)
{
	struct border_params def;
	struct border_box b;
	uint32_t min_w, min_h;

	if (!img || !img->pixels || img->width == 0 || img->height == 0 ||
	    (img->channels != 1 && img->channels != 3) ||
	    img->stride < (size_t)img->width * img->channels)
		return -EINVAL;
	if (!params) {
		border_params_default(&def);
		params = &def;
	}
	min_w = permille(img->width, params->min_inner_permille);
	min_h = permille(img->height, params->min_inner_permille);
	if (min_w < params->min_inner_px)
		min_w = params->min_inner_px;
	if (min_h < params->min_inner_px)
		min_h = params->min_inner_px;
	if (min_w == 0)
		min_w = 1;
	if (min_h == 0)
		min_h = 1;

	b = (struct border_box){ 0, 0, img->width, img->height };
	for (unsigned round = 0; round < params->max_rounds; round++) {
		bool changed = trim_pair(img, &b, true, min_h, params);
		changed |= trim_pair(img, &b, false, min_w, params);
		if (!changed)
			break;
	}
	if (b.w == img->width && b.h == img->height)
		return 0;
	*ret_box = b;
	return 1;
}
