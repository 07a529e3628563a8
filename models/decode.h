/* decode.h - the decoder front: file bytes -> the small pixel buffer the
 * image models need, through libvips.
 *
 * Two modes.  DECODE_EXACT decodes at full size (what Meta's reference
 * hashes).  DECODE_FAST, the default and the daemon's, lets the loader
 * shrink while decoding where the format allows it (JPEG DCT scaling 1/2..1/8,
 * WebP scaled decode) so that a 12 MP photo is never expanded to full size;
 * the result keeps at least DECODE_FAST_MIN_SIDE pixels on its shorter side
 * where the source has them.
 *
 * Only allow-listed loaders run (JPEG, PNG, WebP, GIF, TIFF, HEIF when
 * libvips has it); the header's dimensions are checked against max_pixels
 * before any pixel is decoded.  Alpha is dropped (as the PDQ reference
 * does); CMYK, 16-bit and palette images become 8-bit RGB; grey stays grey.
 * EXIF orientation is ignored (as the reference does; dihedral variants
 * cover rotations).
 */
#ifndef HW_DECODE_H
#define HW_DECODE_H

#include <stddef.h>
#include <stdint.h>

#include "image.h"

enum decode_mode {
	DECODE_FAST = 0,
	DECODE_EXACT,
};

#define DECODE_FAST_MIN_SIDE 256
#define DECODE_DEFAULT_MAX_PIXELS (100u * 1000u * 1000u)

struct decode_opts {
	enum decode_mode mode;
	uint64_t max_pixels; /* 0 = DECODE_DEFAULT_MAX_PIXELS */
};

struct decode_info {
	char format[8];       /* "jpeg", "png", "webp", "gif", "tiff", "heif" */
	uint32_t src_width;   /* dimensions the header claims */
	uint32_t src_height;
	uint32_t shrink;      /* load-time shrink factor used (1 = none) */
};

/* Initialise libvips for hashing: no operation cache, one thread per
 * caller, loaders outside the allow-list blocked.  Call once per process
 * before decode_buffer().  argv0 is passed to vips_init.  Returns 0 or
 * -EIO. */
int decode_init(const char *argv0);

/* Decode buf[0..len).  On success returns 0, fills *ret (caller frees with
 * hw_image_free) and *ret_info (may be NULL).  Errors, each with a one-line
 * reason in err (may be NULL):
 *   -EMEDIUMTYPE  not an image, or a format outside the allow-list
 *   -EFBIG        the header claims more than max_pixels
 *   -EBADMSG      corrupt or truncated image data
 *   -ENOMEM       out of memory
 */
int decode_buffer(const void *buf, size_t len, const struct decode_opts *opts,
		  struct hw_image *ret, struct decode_info *ret_info,
		  char *err, size_t errlen);

/* Text for the codes above. */
const char *decode_strerror(int code);

#endif
