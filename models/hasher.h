/* hasher.h - one call from file bytes to every requested hash: digests of
 * the bytes, one decode, then each image model on the same pixels.  This is
 * the decode -> hash half of the hot loop; the CLI, the one-shot scan and
 * the daemon's workers all go through it.
 */
#ifndef HW_HASHER_H
#define HW_HASHER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "border.h"
#include "decode.h"
#include "model.h"
#include "pdq.h"

#define HASHER_DIHEDRAL (1u << 0) /* also the 8 PDQ dihedral variants */
#define HASHER_TRIM (1u << 1)     /* also hash the picture inside uniform
				     borders (border.h), into `inner` */

/* The hashes of a region inside the borders, when HASHER_TRIM found
 * some: PDQ (with its dihedral variants under HASHER_DIHEDRAL) and the
 * 64-bit Hamming models (hasher_trim_models()) among those asked for.  A
 * listed picture that arrives framed matches here instead of on the whole
 * image. */
struct hasher_inner {
	uint32_t mask;                      /* 0: no such region, or none of
					       the models asked for is one
					       hashed inside */
	struct border_box box;              /* in the file's pixels (the
					       header's size; scaled from the
					       decoded size when the decoder
					       shrank, so +-shrink pixels) */
	struct border_box decoded_box;      /* in the decoded pixels */
	struct hw_hash hash[HW_MODEL__MAX]; /* indexed by enum hw_model_id */
	bool have_dihedral;
	struct pdq_dihedral pdq_dihedral;
};

struct hasher_result {
	uint32_t mask;                      /* (1u << id) of models computed */
	struct hw_hash hash[HW_MODEL__MAX]; /* indexed by enum hw_model_id */
	bool have_dihedral;
	struct pdq_dihedral pdq_dihedral;   /* when HASHER_DIHEDRAL and pdq */
	struct decode_info info;            /* zero when no image model ran */
	/* HASHER_TRIM: the region inside all the frames found, and, when
	 * border_find()'s two boxes differ, the second guess around it: one
	 * frame out when frames inside frames were trimmed (the picture when
	 * the innermost "frame" was its own), or the inner region with the
	 * picture's own plain rim that a single frame's bands took.  Zero
	 * when not asked for or not found. */
	struct hasher_inner inner;
	struct hasher_inner inner_outer;
};

/* Which region of an image a set of hashes describes. */
enum hasher_region {
	HASHER_WHOLE = 0,
	HASHER_INNER = 1,       /* inside all frames */
	HASHER_INNER_OUTER = 2, /* around INNER: one frame out, or with the
				   picture's own plain rim */
};
#define HASHER_NREGIONS 3

/* The region's name in alerts, audit records and `hashwatch hash --json`:
 * "whole", "inner" or "inner_outer" (a static string). */
const char *hasher_region_name(enum hasher_region r);

/* One region's hashes as a matcher reads them, so that the inner region
 * is queried exactly like the whole image.  Pointers into the result. */
struct hasher_view {
	enum hasher_region region;
	uint32_t mask;
	const struct hw_hash *hash;          /* [HW_MODEL__MAX] */
	bool have_dihedral;
	const struct pdq_dihedral *pdq_dihedral;
	struct border_box box;               /* the region's box (file
						pixels); the whole image's for
						WHOLE */
};

/* Fill views[] with the regions res has hashes for: the whole image
 * first, then the inner region and the inner_outer one, each when it was
 * hashed.  Returns the count (1 to 3).  The views live as long as res.
 *
 * What a matcher (hwdb_match) does with them: query every view exactly as
 * the whole image - each model of view.mask with its threshold, PDQ with
 * its 8 dihedral variants when view.have_dihedral, the PDQ quality floor
 * applied to the view's own quality - and record with each hit the view's
 * region and box.  A hit of an inner region for an (entry, model) that an
 * earlier view already hit is not reported again: the whole image wins,
 * so an alert names an inner box only when the picture was found inside a
 * frame and not as it is. */
unsigned hasher_regions(const struct hasher_result *res,
			struct hasher_view views[HASHER_NREGIONS]);

/* The models hashed on the inner region when asked for: PDQ and the 64-bit
 * Hamming image models (pHash, dHash, aHash, OpenCV average and pHash). */
uint32_t hasher_trim_models(void);

/* Hash buf[0..len) with the models in `mask`.  Byte models (digests) are
 * always computed, even when the image does not decode; image models need
 * a successful decode.  With HASHER_TRIM the same decoded pixels are
 * searched for borders (border_find()), and when there are some the models
 * of hasher_trim_models() in `mask` run again on the inner box, and on the
 * inner_outer box when it differs (views, no copy, no second decode).
 * Returns 0; or a negative code from decode_buffer() / the models with a
 * one-line reason in err, in which case ret->mask still tells which
 * digests were computed (the inner regions are then zero).  `ret` is
 * always initialised. */
int hasher_run(const void *buf, size_t len, uint32_t mask, unsigned flags,
	       const struct decode_opts *dopts, struct hasher_result *ret,
	       char *err, size_t errlen);

#endif
