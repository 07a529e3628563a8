/* imagehash.h - 64-bit pHash, dHash and aHash as Python ImageHash 4.x
 * defines them, so that lists made with ImageHash match.
 *
 *   pHash: grey, resize to 32x32, 2-D DCT-II, top-left 8x8 (DC included),
 *          bit = coefficient > median of those 64.
 *   dHash: grey, resize to 9x8 (w x h), bit = pixel[x+1] > pixel[x].
 *   aHash: grey, resize to 8x8, bit = pixel > mean.
 *
 * Grey is PIL's "L" conversion (ITU-R 601-2 luma, integer rounding).  The
 * resize approximates PIL's Lanczos (ANTIALIAS); see the module's notes for
 * the measured distance to ImageHash.  The returned uint64_t holds the bit
 * string with the first array element as the most significant bit, so
 * printf("%016" PRIx64) gives ImageHash's hex.
 */
#ifndef HW_IMAGEHASH_H
#define HW_IMAGEHASH_H

#include <stdint.h>

#include "image.h"

/* Each returns 0, -EINVAL (empty image) or -ENOMEM; *ret only on success. */
int imagehash_phash(const struct hw_image *img, uint64_t *ret);
int imagehash_dhash(const struct hw_image *img, uint64_t *ret);
int imagehash_ahash(const struct hw_image *img, uint64_t *ret);

#endif
