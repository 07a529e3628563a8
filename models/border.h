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
 * within `tol` of the band's colour (the median colour of its first line)
 * except for a few outliers, and whose mean stays within `mean_tol` of it.
 * Each edge has its own colour (a screenshot's status bar and navigation
 * bar differ).  A band counts only when
 *   - it is at least min_band_permille of the side and min_band_px thick,
 *     so that ordinary photos are not trimmed at random;
 *   - it ends at a clear step (a line far from the band colour) within a few
 *     lines of its last uniform line: a smooth gradient (a clear sky) drifts
 *     away from its first line's colour steadily and is not a band, while
 *     JPEG ringing next to the picture goes back and forth and is allowed
 *     for up to side / ring_divisor lines.  The cut is where the lines
 *     change most between the last uniform line and the first that looks
 *     like picture (ringing and blends change little from line to line);
 *     lines that jump away from the band colour and then hold their
 *     distance are picture of nearly its colour (a desk on a cream canvas)
 *     and the cut is at the jump; and a band that drifts on after its
 *     flat lines turned textured (below) is a flat frame around a backdrop
 *     of nearly its colour, cut where the texture starts;
 *   - the box left inside keeps min_inner_permille and min_inner_px of each
 *     side (a plain image has no inside).
 * A band may start a line or a few in, where JPEG and the decoder's shrink
 * blended two frames' colours (a colour that holds for at most two lines).
 *
 * Trimming repeats on the box found (a mat or a thin line inside a border,
 * side bars inside full-width bars, the margins of a phone screen inside
 * its bars), at most max_rounds times.  The outermost frame is taken as it
 * comes; after the first band, a band counts only when another band of its
 * colour backs it, on the opposite edge or already taken in the same round
 * (the top and bottom are looked at again once the sides are taken), as
 * frames go round the picture while a picture's own plain sky or backdrop
 * is usually on one side.  Such backed bands may be as thin as
 * min_nested_permille and one line, except at the image's own edge, where
 * a single line is a resizer's or the picture's rim, not a frame.
 *
 * A second box is returned for the cases the evidence leaves open.  With
 * frames inside frames it is the box one frame out: the innermost "frame"
 * can be the picture's own (a padded picture framed again).  With a single
 * frame it keeps the picture's own plain rim when the innermost bands took
 * one: a drawn frame is flat (every pixel of a line alike), a photo's plain
 * strip in the same colour has texture, so a band whose lines turn from
 * flat to textured for min_rim_px lines or more may end in picture.  JPEG
 * ringing looks the same inside the codec block next to the picture, so
 * texture that starts there (codec_block) is not taken for a rim.
 *
 * Cost: each line is scanned from one end and given up as soon as too many
 * of its pixels are off, so an image without bands costs a few lines per
 * edge and a bordered one the border's area plus a few dozen lines.
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
	uint16_t step_gap_divisor;    /* lines drifting away from the band
					 colour before the step: at most side /
					 divisor (at least 3) */
	uint16_t min_inner_permille;  /* smallest box left inside */
	uint16_t min_inner_px;
	uint16_t max_rounds;          /* nested frames trimmed at most this
					 many times */
	uint16_t ring_divisor;        /* JPEG ringing before the step, and the
					 cut moving over it to the picture: at
					 most side / divisor lines */
	uint16_t lead_divisor;        /* a band may start up to side / divisor
					 lines in (at least 2): lines where two
					 frames blend */
	uint16_t rim_texture_permille; /* a band line with this many pixels
					  unlike their neighbour is textured:
					  maybe the picture's own plain rim */
	uint16_t min_rim_px;          /* textured lines that make a rim after
					 flat ones (0: no rim second guess) */
	uint16_t codec_block;         /* pixels of the image per block of the
					 lossy codec it came from, blocks
					 aligned to its origin (JPEG: 16 at
					 full scale, for 4:2:0 chroma); 0 for
					 a lossless source */
};

/* The defaults the hasher uses (tuned on tests/bench/bench_border.c). */
void border_params_default(struct border_params *ret);

/* Look for bands along the edges of img.  params NULL means the defaults.
 * Returns 1 when bands were found and writes *ret_box, the box inside all
 * of them (strictly smaller than the image, inside it), and *ret_outer (may
 * be NULL), the second guess that contains *ret_box: when frames inside
 * frames were trimmed, the box one frame out (before the last trimming
 * round) - the picture when the innermost "frame" was its own, a padded
 * picture framed again, a picture whose plain sky and floor have one
 * colour; else, when the bands next to the picture ended in a textured
 * plain rim, *ret_box with that rim; else *ret_box again.  Returns 0 when
 * there are none (an image too small to have a
 * border of the minimum size gives 0), -EINVAL for an image without pixels
 * or with channels other than 1 or 3.  Allocates nothing; reentrant. */
int border_find(const struct hw_image *img, const struct border_params *params,
		struct border_box *ret_box, struct border_box *ret_outer);

#endif
