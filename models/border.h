/* border.h - find the picture inside uniform borders, letterbox bars,
 * screenshot frames or a plain canvas, so that it can be hashed on its own.
 *
 * PDQ and the 64-bit hashes describe the whole picture: a listed image that
 * arrives with a border added, letterboxed, pasted onto a plain background
 * or inside a phone screenshot's bars no longer matches.  border_find()
 * looks at the decoded pixels (no second decode) for bands of near-constant
 * colour along each edge and returns the box inside them; the hasher then
 * hashes that box too (hasher.h, HASHER_TRIM).
 *
 * A band is a run of lines (rows for the top and bottom edges, columns for
 * the left and right ones) starting at the edge, each of whose pixels lies
 * within `tol` of the band's colour (the median colour of the outermost
 * line) except for a few outliers, and whose mean stays within `mean_tol`
 * of it.  Each edge has its own colour (a screenshot's status bar and
 * navigation bar differ).  A band counts only when
 *   - it is at least min_band_permille of the side and min_band_px thick,
 *     so that ordinary photos are not trimmed at random;
 *   - it ends at a clear step (a line far from the band colour) within a few
 *     lines of its last uniform line: a smooth gradient (a clear sky) drifts
 *     away from its first line's colour slowly and is not a band;
 *   - the box left inside keeps min_inner_permille and min_inner_px of each
 *     side (a plain image has no inside).
 * Trimming repeats on the box found (a frame inside a mat inside a border,
 * side bars inside full-width bars), at most max_rounds times.
 *
 * Cost: each line is scanned from one end and given up as soon as too many
 * of its pixels are off, so an image without bands costs about one line per
 * edge and a bordered one the border's area plus a few lines.
 */
#ifndef HW_BORDER_H
#define HW_BORDER_H

#include <stdint.h>

#include "image.h"

/* A rectangle of an image: columns x..x+w-1, rows y..y+h-1. */
struct border_box {
	uint32_t x, y, w, h;
};

struct border_params {
	uint8_t tol;                  /* per-channel distance of a band pixel
					 from the band colour (levels) */
	uint8_t mean_tol;             /* a band line's mean (over its inliers)
					 may drift this far from the colour */
	uint8_t step_mean;            /* a line whose mean is this far off
					 ends a band with a clear step */
	uint16_t outlier_permille;    /* pixels of a band line allowed off */
	uint16_t step_outlier_permille; /* a line with more off ends a band
					   with a clear step */
	uint16_t min_band_permille;   /* thinnest band, relative to the side */
	uint16_t min_nested_permille; /* thinnest band that another band of its
					 colour backs (a frame's inner line) */
	uint16_t min_band_px;
	uint16_t step_gap_divisor;    /* lines between the last uniform line and
					 the step: at most side / divisor (at
					 least 3); covers JPEG ringing */
	uint16_t min_inner_permille;  /* smallest box left inside */
	uint16_t min_inner_px;
	uint16_t max_rounds;          /* nested frames trimmed at most this
					 many times */
	uint16_t ring_divisor;        /* the cut may move side / divisor lines
					 past the first non-band line, over
					 JPEG ringing, to the picture */
	uint16_t lead_divisor;        /* a band may start side / divisor
					 lines in (at least 2): lines where
					 two frames blend */
};

/* The defaults the hasher uses (tuned on tests/bench/bench_border.c). */
void border_params_default(struct border_params *ret);

/* Look for bands along the edges of img.  params NULL means the defaults.
 * Returns 1 when bands were found and writes *ret_box, the box inside all
 * of them (strictly smaller than the image, inside it), and *ret_outer (may
 * be NULL), the box inside the outermost frame only: it differs from
 * *ret_box when frames inside frames were trimmed, and is the picture when
 * those inner "frames" were its own (a padded picture framed again, a
 * picture with a plain sky and floor of one colour).  Returns 0 when there
 * are none (an image too small to have a border of the minimum size gives
 * 0), -EINVAL for an image without pixels or with channels other than 1 or
 * 3.  Allocates nothing; reentrant. */
int border_find(const struct hw_image *img, const struct border_params *params,
		struct border_box *ret_box, struct border_box *ret_outer);

#endif
