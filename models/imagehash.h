/* imagehash.h - 64-bit pHash, dHash and aHash as Python ImageHash 4.x
 * defines them, so that lists made with ImageHash match.
 *
 *   pHash: grey, resize to 32x32, 2-D DCT-II, top-left 8x8 (DC included),
 *          bit = coefficient > median of those 64.
 *   dHash: grey, resize to 9x8 (w x h), bit = pixel[x+1] > pixel[x].
 *   aHash: grey, resize to 8x8, bit = pixel > mean.
 *
 * Grey is PIL's "L" conversion (ITU-R 601-2 luma in 16-bit fixed point);
 * 1-channel input is taken as grey already.  The resize is PIL's Lanczos
 * (ANTIALIAS) resample reproduced step for step: the same coefficient
 * windows, the same 22-bit fixed-point rounding and 8-bit clipping between
 * the horizontal and the vertical pass, so the small images match PIL's
 * pixel for pixel given the same grey input.  The returned uint64_t holds
 * the bit string with the first array element as the most significant bit,
 * so printf("%016" PRIx64) gives ImageHash's hex.
 *
 * Where the exact DCT of an image has coefficients that are exactly equal
 * (a constant or mirror-symmetric image), this module computes them
 * exactly equal, while scipy's FFT leaves rounding noise of ~1e-13 that
 * decides ImageHash's bits; such synthetic images are the only place the
 * two pHashes can differ given the same pixels.
 *
 * All functions are reentrant (no static state) and allocate one block per
 * call: about 50 bytes per image row for the intermediate images, one grey
 * row, and the resampling coefficients (see IMAGEHASH_MAX_SIDE).
 */
#ifndef HW_IMAGEHASH_H
#define HW_IMAGEHASH_H

#include <stdint.h>

#include "image.h"

/* Largest width or height accepted.  The resampling tables take about 24
 * bytes per source column for each target width (and per row for each
 * target height), so this bounds one call's memory to well under 200 MB;
 * the decoder's pixel-count limit keeps real calls far smaller (a
 * 4000x3000 photo needs about 0.7 MB). */
#define IMAGEHASH_MAX_SIDE (1u << 20)

/* Each returns 0; -EINVAL for an empty image, a side over
 * IMAGEHASH_MAX_SIDE, channels other than 1 or 3, a stride shorter than a
 * row or a NULL pixel pointer; -ENOMEM; or -ERANGE if a resampling window
 * could overflow PIL's 32-bit sums (a guard: Lanczos-3 never does).  *ret
 * only on success. */
int imagehash_phash(const struct hw_image *img, uint64_t *ret);
int imagehash_dhash(const struct hw_image *img, uint64_t *ret);
int imagehash_ahash(const struct hw_image *img, uint64_t *ret);

/* The three at once, sharing the grey conversion and one pass over the
 * pixels (what the hot loop wants).  A NULL out-pointer skips that hash and
 * its work; all NULL is allowed and only validates `img`.  Same returns as
 * above; no out-pointer is written unless all succeed. */
int imagehash_all(const struct hw_image *img, uint64_t *ret_phash,
		  uint64_t *ret_dhash, uint64_t *ret_ahash);

#endif
