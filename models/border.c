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
	/* The mean of a flat line wobbles by up to ~6 levels from one JPEG
	 * block row to the next for saturated colours (4:2:0 chroma); a sky
	 * gradient drifts past 8 after a few lines. */
	ret->mean_tol = 8;
	ret->step_mean = 20;
	ret->outlier_permille = 10;
	ret->step_outlier_permille = 100;
	ret->min_band_permille = 15;
	ret->min_nested_permille = 5;
	ret->min_band_px = 2;
	ret->step_gap_divisor = 64;
	ret->min_inner_permille = 100;
	ret->min_inner_px = 16;
	ret->max_rounds = 8;
	ret->lead_divisor = 32;
	ret->ring_divisor = 24;
	/* camera noise and JPEG leave a plain strip of a photo with a
	 * twentieth or more of its pixels unlike their neighbours (often
	 * half); a drawn frame has next to none */
	ret->rim_texture_permille = 50;
	ret->min_rim_px = 3;
	/* unknown source: assume JPEG at full scale */
	ret->codec_block = 16;
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
	uint32_t min_permille; /* thinnest band, relative to side */
	uint32_t min_px;       /* and in lines */
	int64_t at;            /* image coordinate of the outermost line */
	int dir;               /* +1 or -1: image coordinate of the next line */
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

static bool same_colour(const int a[3], const int b[3], uint32_t ch, int tol)
{
	for (uint32_t c = 0; c < ch; c++)
		if (absdiff(a[c], b[c]) > tol)
			return false;
	return true;
}

/* Classify one line against the band colour ref; *ret_drift (may be NULL)
 * gets how far its mean is from ref (levels, worst channel) unless it is a
 * step.  Gives up on the line as soon as it has step_off outliers, so a
 * line of a photo costs a few dozen pixels, not its length. */
static enum line_class classify(const uint8_t *p, ptrdiff_t step, uint32_t n,
				uint32_t ch, const int ref[3],
				const struct limits *L, int *ret_drift)
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
	if (ret_drift)
		*ret_drift = worst;
	if (worst > L->step_mean)
		return LINE_STEP;
	if (off > L->band_off || worst > L->mean_tol)
		return LINE_SOFT;
	return LINE_BAND;
}

static const uint8_t *line_at(const struct edge *e, uint32_t i)
{
	return e->first + (ptrdiff_t)i * e->inward;
}

/* Is this line picture rather than border?  More than step_outlier_permille
 * of its pixels far (2 * tol) from the band colour, or its mean far (2 *
 * step_mean) from it.  JPEG ringing next to the picture stays closer. */
static bool picture_line(const uint8_t *p, ptrdiff_t step, uint32_t n, uint32_t ch,
			 const int ref[3], const struct border_params *bp)
{
	uint32_t far = 0, limit = permille(n, bp->step_outlier_permille);
	int64_t sum[3] = { 0, 0, 0 };
	int tol2 = 2 * bp->tol;

	for (uint32_t i = 0; i < n; i++, p += step) {
		int d = 0;
		for (uint32_t c = 0; c < ch; c++) {
			int dc = absdiff(p[c], ref[c]);
			if (dc > d)
				d = dc;
			sum[c] += p[c] - ref[c];
		}
		if (d > tol2 && ++far > limit)
			return true;
	}
	for (uint32_t c = 0; c < ch; c++)
		if ((sum[c] < 0 ? -sum[c] : sum[c]) > (int64_t)n * 2 * bp->step_mean)
			return true;
	return false;
}

/* How much line i differs from line i - 1: the mean over its pixels of
 * the worst channel's difference, in levels times 16 so that small steps
 * count. */
static uint32_t line_change(const struct edge *e, uint32_t i, uint32_t ch)
{
	const uint8_t *a = line_at(e, i - 1), *b = line_at(e, i);
	uint64_t sum = 0;

	for (uint32_t k = 0; k < e->n; k++, a += e->step, b += e->step) {
		int d = 0;
		for (uint32_t c = 0; c < ch; c++) {
			int dc = absdiff(a[c], b[c]);
			if (dc > d)
				d = dc;
		}
		sum += (uint64_t)d;
	}
	return (uint32_t)(sum * 16 / e->n);
}

/* The line where the picture starts, given the last band line (`from` is
 * the first line after it) and the first line that is clearly not band
 * (`step`).  Between them and a little past the step lie lines that are
 * neither: JPEG ringing of the border next to the picture (up to a chroma
 * block, 16 pixels before any shrink-on-load), a line where the decoder's
 * shrink blended border and picture, or the picture itself when its edge
 * is near the border's colour (a white desk on a cream canvas).  Ringing
 * and blends change little from line to line; the edge between border and
 * picture is where the lines change most.  So: walk on from the step to
 * the first line that looks like picture (at most side / ring_divisor
 * lines; the step itself when there is none), and cut at the line, from
 * `from` to one past that, that differs most from the line before it
 * (the later one on a tie: a blend line splits the edge in two). */
static uint32_t picture_start(const struct edge *e, uint32_t ch, const int ref[3],
			      uint32_t from, uint32_t step,
			      const struct border_params *bp)
{
	uint32_t limit = bp->ring_divisor ? e->side / bp->ring_divisor : 0;
	uint32_t p = step, j, best, most = 0;

	if (limit > e->depth - step)
		limit = e->depth - step;
	for (j = 0; j < limit; j++)
		if (picture_line(line_at(e, step + j), e->step, e->n, ch, ref, bp))
			break;
	if (j < limit)
		p = step + j;
	if (p + 1 < e->depth)
		p++;
	if (from == 0)
		from = 1;
	best = step;
	for (j = from; j <= p; j++) {
		uint32_t c = line_change(e, j, ch);
		if (c >= most) {
			most = c;
			best = j;
		}
	}
	return best;
}

/* Pixels of line i that differ from the next one along it (by a level or
 * more in any channel). */
static uint32_t line_texture(const struct edge *e, uint32_t i, uint32_t ch)
{
	const uint8_t *p = line_at(e, i);
	uint32_t n = 0;

	for (uint32_t k = 1; k < e->n; k++, p += e->step)
		n += memcmp(p, p + e->step, ch) != 0;
	return n;
}

/* Where the flat part of a band ends: a frame that someone drew is flat -
 * every pixel of a line alike, in PNG and in JPEG's flat blocks alike -
 * while a plain part of a photo (a grey pad, a dark backdrop, a wall) has
 * some texture even when it stays within the band's tolerance.  When the
 * band's uniform lines (up to last_band) are flat up to a line and
 * textured from it on, for at least min_rim_px lines, and the flat part
 * alone has min_band lines, returns that line, else 0. */
static uint32_t flat_end(const struct edge *e, uint32_t ch, uint32_t last_band,
			 uint32_t min_band, const struct border_params *bp)
{
	uint32_t textured = permille(e->n, bp->rim_texture_permille);
	uint32_t flat = permille(e->n, bp->outlier_permille) + 4;
	uint32_t f = last_band;

	if (!bp->min_rim_px)
		return 0;
	if (textured <= flat)
		textured = flat + 1;
	while (f > 0 && line_texture(e, f - 1, ch) >= textured)
		f--;
	if (f == 0 || f < min_band || last_band - f < bp->min_rim_px ||
	    line_texture(e, f - 1, ch) > flat)
		return 0;
	return f;
}

/* The picture's own plain rim at the inner end of a band of `thick` lines
 * (flat_end()): the textured lines up to the cut may be picture.  Returns
 * how many lines from the cut back, else 0. */
static uint32_t band_rim(const struct edge *e, uint32_t ch, uint32_t last_band,
			 uint32_t thick, uint32_t min_band,
			 const struct border_params *bp)
{
	uint32_t f = flat_end(e, ch, last_band, min_band, bp);
	int64_t outer, inner;

	if (!f)
		return 0;
	/* JPEG rings in the frame next to a strong edge, but only inside the
	 * codec block the edge is in and, through the decoder's chroma
	 * upsampling, one pixel before it: texture that starts there is
	 * ringing, not a rim. */
	outer = e->at + e->dir * (int64_t)(f + 1);
	inner = e->at + e->dir * (int64_t)(thick - 1);
	if (bp->codec_block && outer / bp->codec_block == inner / bp->codec_block)
		return 0;
	return thick - f;
}

/* What scanning one edge found. */
struct band {
	uint32_t thick;  /* lines to trim; 0: no band */
	uint32_t stop;   /* line where the scan stopped (relative) */
	uint32_t uniform; /* lines up to the last uniform one (relative) */
	uint32_t rim;    /* of thick, the lines at its inner end that may be
			    the picture's own plain rim (0: none) */
	bool plain;      /* band lines all the way to the depth limit */
	int colour[3];
};

static void set_limits(const struct edge *e, const struct border_params *bp,
		       struct limits *L)
{
	L->tol = bp->tol;
	L->mean_tol = bp->mean_tol;
	L->step_mean = bp->step_mean;
	/* plus a few pixels: where the line crosses the blended edges of the
	 * frames at its two ends */
	L->band_off = permille(e->n, bp->outlier_permille) + 4;
	L->step_off = permille(e->n, bp->step_outlier_permille);
	if (L->step_off >= e->n)
		L->step_off = e->n - 1;
}

/* Is line i uniform around its own median colour (written to ret)? */
static bool self_uniform(const struct edge *e, uint32_t i, uint32_t ch,
			 const struct limits *L, int ret[3])
{
	line_median(line_at(e, i), e->step, e->n, ch, ret);
	return classify(line_at(e, i), e->step, e->n, ch, ret, L, NULL) == LINE_BAND;
}

/* The band that starts at the outermost line of e (see border.h for what
 * counts), of colour `fixed` when not NULL, else of the outermost line's
 * median colour.  Its uniform lines must reach `factor` times the minimum
 * band: a gradient then drifts through the soft range (mean_tol to
 * step_mean) over more lines than the gap allows. */
static void scan_band(const struct edge *e, uint32_t ch,
		      const struct border_params *bp, const int *fixed,
		      uint32_t factor, struct band *ret)
{
	uint32_t min_band = permille(e->side, e->min_permille);
	uint32_t gap = bp->step_gap_divisor ? e->side / bp->step_gap_divisor : 0;
	uint32_t ring = bp->ring_divisor ? e->side / bp->ring_divisor : 0;
	uint32_t last_band = 0, i;
	int prev_drift = 0, band_drift = 0, jump = 0, soft_lo = 0, soft_hi = 0;
	bool wobble = false;
	struct limits L;

	memset(ret, 0, sizeof(*ret));
	if (min_band < e->min_px)
		min_band = e->min_px;
	if (min_band == 0)
		min_band = 1;
	if (gap < 3)
		gap = 3;
	if (ring < gap)
		ring = gap;
	if (e->n == 0 || e->depth < min_band)
		return;
	set_limits(e, bp, &L);
	if (fixed)
		memcpy(ret->colour, fixed, sizeof(ret->colour));
	else
		line_median(e->first, e->step, e->n, ch, ret->colour);

	for (i = 0; i < e->depth; i++) {
		int drift = 0;
		enum line_class c = classify(line_at(e, i), e->step, e->n, ch,
					     ret->colour, &L, &drift);
		if (c == LINE_BAND) {
			last_band = i + 1;
			band_drift = drift;
			wobble = false;
			prev_drift = 0;
		} else if (c == LINE_SOFT) {
			/* A gradient drifts further from the band colour
			 * with every line; JPEG ringing goes back and forth,
			 * and may last a chroma block. */
			if (i == last_band) {
				jump = drift - band_drift;
				soft_lo = soft_hi = drift;
			}
			if (drift < soft_lo)
				soft_lo = drift;
			if (drift > soft_hi)
				soft_hi = drift;
			if (drift + 1 < prev_drift)
				wobble = true;
			prev_drift = drift;
			if (i + 1 - last_band > (wobble ? ring : gap)) {
				/* Drifting on: a gradient - unless the drift
				 * started with a jump from a flat band of the
				 * outermost frame's minimum, which is a border
				 * next to picture of nearly its colour (a night
				 * sky in a black frame); a few lines before a
				 * jump are rather a blend. */
				uint32_t outermost = permille(e->side, bp->min_band_permille);
				if (outermost < bp->min_band_px)
					outermost = bp->min_band_px;
				if (outermost < factor * min_band)
					outermost = factor * min_band;
				if (jump >= L.mean_tol / 2 && last_band >= outermost)
					ret->thick = last_band;
				/* or, when the drift came after flat lines
				 * turned textured, a flat frame around a
				 * backdrop of nearly its colour (dark icons
				 * on dark grey in a dark grey frame): cut
				 * where the texture starts */
				else
					ret->thick = flat_end(e, ch, last_band, outermost, bp);
				if (ret->thick)
					last_band = ret->thick;
				break;
			}
		} else {
			/* Cut at the step, or before it (picture_start()):
			 * the soft lines before it are the border's JPEG
			 * ringing more often than picture.  But soft lines
			 * that start with a jump and then keep their distance
			 * are picture of nearly the border's colour (a desk on
			 * a cream canvas): ringing grows towards the edge, a
			 * blend is a line or two of changing colour (and so is
			 * a band of no more than two lines: see scan_edge()
			 * for the lines after such a blend).  A band
			 * of a single line (allowed for the thin line of a
			 * nested frame) counts only before picture: before a
			 * uniform line it is the blend where two frames meet. */
			int other[3];
			bool held = last_band > 2 && i >= last_band + 2 && jump >= L.mean_tol &&
				    soft_hi - soft_lo <= L.mean_tol / 2;
			if (last_band >= factor * min_band &&
			    (last_band >= bp->min_band_px ||
			     !self_uniform(e, i, ch, &L, other)))
				ret->thick = held ? last_band
						  : picture_start(e, ch, ret->colour, last_band,
								  i, bp);
			break;
		}
	}
	if (ret->thick && bp->min_rim_px)
		ret->rim = band_rim(e, ch, last_band, ret->thick, min_band, bp);
	ret->stop = i;
	ret->uniform = last_band;
	/* Uniform all the way to the inner limit: a plain image, or a picture
	 * too small to hash on its own. */
	ret->plain = i == e->depth && last_band + ring >= i;
}

/* scan_band() from line `from` of e on; thickness counted from the edge. */
static void scan_band_from(const struct edge *e, uint32_t from, uint32_t ch,
			   const struct border_params *bp, const int *fixed,
			   uint32_t factor, struct band *ret)
{
	struct edge in = *e;

	in.first = line_at(e, from);
	in.depth -= from;
	in.at += e->dir * (int64_t)from;
	scan_band(&in, ch, bp, fixed, factor, ret);
	if (ret->thick)
		ret->thick += from;
}

/* Does a band of its own colour start at line s: s uniform, and the next
 * two lines of the same colour, within half the mean tolerance?  The
 * colour goes to ret. */
static bool stable_start(const struct edge *e, uint32_t s, uint32_t ch,
			 const struct limits *L, int ret[3])
{
	int drift = 0;

	if (s + 2 >= e->depth || !self_uniform(e, s, ch, L, ret))
		return false;
	/* Held closely: blended lines step through the colours between two
	 * frames by a few levels a line. */
	for (uint32_t i = s + 1; i <= s + 2; i++)
		if (classify(line_at(e, i), e->step, e->n, ch, ret, L, &drift) != LINE_BAND ||
		    drift > L->mean_tol / 2)
			return false;
	return true;
}

/* The band along one edge.  Where two frames meet (and, after a cut, at
 * the start of the next frame) JPEG leaves lines that blend both colours:
 * up to a chroma block, 16 pixels, before any shrink-on-load; shrinking
 * blends one line more.  So when the band of the outermost line's colour
 * does not make it, but that line is uniform (a blend, not a photo's
 * edge), the band may start a few lines in: first one or two lines in,
 * with that line's colour, when the band of the outermost line stopped
 * right after it (a single blended line); then up to side / lead_divisor
 * lines in (at least 2), at the first line whose colour the next two
 * lines keep.  Past the first two lines it must then have twice the
 * minimum band of uniform lines: the lines skipped could have been the
 * start of a gradient. */
static void scan_edge(const struct edge *e, uint32_t ch,
		      const struct border_params *bp, struct band *ret)
{
	uint32_t max_lead = bp->lead_divisor ? e->side / bp->lead_divisor : 0;
	struct limits L;
	int colour[3];

	memset(ret, 0, sizeof(*ret));
	if (e->n == 0 || e->depth == 0)
		return;
	if (max_lead < 2)
		max_lead = 2;
	set_limits(e, bp, &L);
	/* the outermost line's colour; then, when that colour held for no
	 * more than two lines (a blend of two frames, however far the lines
	 * after it stay near it), the next line's (a thin frame line may be
	 * no thicker than that) */
	for (uint32_t s = 0; s <= 2 && s < e->depth; s++) {
		scan_band_from(e, s, ch, bp, NULL, 1, ret);
		if (ret->thick || ret->plain || ret->stop == 0 || ret->uniform > 2)
			break;
	}
	/* a start further in only when this one's colour held for no more
	 * lines than a blend can take: a long uniform walk that failed (a
	 * gradient, a flat part of a photo) is not walked again */
	if (ret->thick || ret->plain || ret->stop == 0 || ret->uniform > max_lead)
		return;
	for (uint32_t s = 1; s <= max_lead; s++) {
		if (!stable_start(e, s, ch, &L, colour))
			continue;
		scan_band_from(e, s, ch, bp, colour, s <= 2 ? 1 : 2, ret);
		if (!ret->thick && !ret->plain)
			memset(ret, 0, sizeof(*ret));
		return;
	}
	memset(ret, 0, sizeof(*ret));
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
	e->at = b->y;
	e->dir = 1;
}

static void edge_bottom(const struct hw_image *img, const struct border_box *b,
			struct edge *e)
{
	edge_top(img, b, e);
	e->first = hw_image_px(img, b->x, b->y + b->h - 1);
	e->inward = -(ptrdiff_t)img->stride;
	e->at = (int64_t)b->y + b->h - 1;
	e->dir = -1;
}

static void edge_left(const struct hw_image *img, const struct border_box *b,
		      struct edge *e)
{
	e->first = hw_image_px(img, b->x, b->y);
	e->step = (ptrdiff_t)img->stride;
	e->inward = (ptrdiff_t)img->channels;
	e->n = b->h;
	e->side = b->w;
	e->at = b->x;
	e->dir = 1;
}

static void edge_right(const struct hw_image *img, const struct border_box *b,
		       struct edge *e)
{
	edge_left(img, b, e);
	e->first = hw_image_px(img, b->x + b->w - 1, b->y);
	e->inward = -(ptrdiff_t)img->channels;
	e->at = (int64_t)b->x + b->w - 1;
	e->dir = -1;
}

/* The colours of the bands accepted in the current round. */
struct round {
	int colour[4][3];
	unsigned n;
	bool first; /* the outermost frame: the first edges with a band are
		       taken as they come */
};

/* Is a band of this colour backed by one already accepted this round? */
static bool seen(const struct round *rd, const int colour[3], uint32_t ch, int tol)
{
	for (unsigned i = 0; i < rd->n; i++)
		if (same_colour(rd->colour[i], colour, ch, tol))
			return true;
	return false;
}

enum trim_result { TRIM_NONE, TRIM_DONE, TRIM_PLAIN };

/* Trim a pair of opposite edges (top/bottom when vertical, else
 * left/right) of *b.  Which bands count: the first ones found around the
 * image as they are (screenshot bars of two colours, a single bar, a canvas
 * with four widths); after that only a band backed by another of its
 * colour, on the opposite edge or already taken this round.  A mat, a frame,
 * the margins of a phone screen or a canvas go round the picture; a plain
 * sky, floor or backdrop of the picture itself is usually on one side, in
 * its own colour. */
static enum trim_result trim_pair(const struct hw_image *img, struct border_box *b,
				  bool vertical, struct round *rd, uint32_t min_inner,
				  const struct border_params *bp, uint32_t rim[2])
{
	uint32_t *pos = vertical ? &b->y : &b->x;
	uint32_t *len = vertical ? &b->h : &b->w;
	uint32_t ch = img->channels;
	struct band near, far;
	struct edge e;
	bool pair;

	if (*len <= min_inner)
		return TRIM_NONE;
	(vertical ? edge_top : edge_left)(img, b, &e);
	/* A band that must be backed by another (see above) may be thinner:
	 * the line or mat of a nested frame, down to one line - but not at
	 * the image's own edge, where resizers and encoders leave a line of
	 * their own (and a picture its darker rim) that is no frame. */
	e.min_permille = rd->first ? bp->min_band_permille : bp->min_nested_permille;
	e.min_px = rd->first || *pos == 0 ? bp->min_band_px : 1;
	e.depth = *len - min_inner;
	scan_edge(&e, ch, bp, &near);
	if (near.plain)
		return TRIM_PLAIN;
	(vertical ? edge_bottom : edge_right)(img, b, &e);
	e.min_px = rd->first || *pos + *len == (vertical ? img->height : img->width)
			   ? bp->min_band_px : 1;
	e.depth = *len - min_inner - near.thick;
	scan_edge(&e, ch, bp, &far);
	if (far.plain)
		return TRIM_PLAIN;
	pair = near.thick && far.thick && same_colour(near.colour, far.colour, ch, bp->tol);
	if (!rd->first && !pair) {
		if (!seen(rd, near.colour, ch, bp->tol))
			near.thick = 0;
		if (!seen(rd, far.colour, ch, bp->tol))
			far.thick = 0;
	}
	if (!near.thick && !far.thick)
		return TRIM_NONE;
	if (near.thick)
		memcpy(rd->colour[rd->n++], near.colour, sizeof(near.colour));
	if (far.thick)
		memcpy(rd->colour[rd->n++], far.colour, sizeof(far.colour));
	rd->first = false;
	/* the band that trimmed a side last is the one next to the picture */
	if (near.thick)
		rim[0] = near.rim;
	if (far.thick)
		rim[1] = far.rim;
	*pos += near.thick;
	*len -= near.thick + far.thick;
	return TRIM_DONE;
}

int border_find(const struct hw_image *img, const struct border_params *params,
		struct border_box *ret_box, struct border_box *ret_outer)
{
	struct border_params def;
	struct border_box b, outer;
	uint32_t min_w, min_h, rim[4] = { 0, 0, 0, 0 }; /* top, bottom, left, right */

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
	outer = b; /* the box before the last round that trimmed, or after the
		      first when it was the only one */
	for (unsigned r = 0; r < params->max_rounds; r++) {
		struct round rd = { .n = 0, .first = r == 0 };
		struct border_box before = b;
		uint32_t rim_before[4];
		memcpy(rim_before, rim, sizeof(rim));
		enum trim_result v = trim_pair(img, &b, true, &rd, min_h, params, rim);
		enum trim_result h = v == TRIM_PLAIN ? TRIM_NONE
				     : trim_pair(img, &b, false, &rd, min_w, params, rim + 2);
		/* The sides of a mat can back its top and bottom only once
		 * they are taken: look at those again. */
		if (v == TRIM_NONE && h == TRIM_DONE && r > 0)
			v = trim_pair(img, &b, true, &rd, min_h, params, rim);
		if (v == TRIM_PLAIN || h == TRIM_PLAIN) {
			/* Nothing worth hashing inside this round's box. */
			if (r == 0)
				return 0;
			b = before;
			memcpy(rim, rim_before, sizeof(rim));
			break;
		}
		if (v == TRIM_NONE && h == TRIM_NONE)
			break;
		outer = r > 0 ? before : b;
	}
	if (b.w == img->width && b.h == img->height)
		return 0;
	/* With a single frame, the second guess is the picture with the plain
	 * rim of its own that the innermost bands took. */
	if (memcmp(&outer, &b, sizeof(b)) == 0 && (rim[0] || rim[1] || rim[2] || rim[3]))
		outer = (struct border_box){ b.x - rim[2], b.y - rim[0],
					     b.w + rim[2] + rim[3], b.h + rim[0] + rim[1] };
	*ret_box = b;
	if (ret_outer)
		*ret_outer = outer;
	return 1;
}
