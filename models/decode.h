/* decode.h - the decoder front: file bytes -> the small pixel buffer the
 * image models need.  JPEG goes through libjpeg-turbo directly
 * (decode_jpeg.c), WebP in fast mode through libwebp (decode_webp.c), the
 * rest through libvips.
 *
 * Two modes.  DECODE_EXACT decodes at full size and gives the pixels Meta's
 * reference hashes (ImageMagick's decoding: alpha dropped, not flattened;
 * CMYK converted without a colour profile; 16-bit scaled to 8; palette
 * expanded; grey stays grey).  DECODE_FAST, the default and the daemon's,
 * decodes as little as the models need: JPEG at 1/2, 1/4 or 1/8 scale in
 * the DCT domain (a progressive JPEG only up to the scans that hold that
 * scale) and only as luma when the caller allows it, the other formats in
 * full but kept only at the pixels PDQ's reference samples (see
 * DECODE_FAST_GRID), so the models get a buffer of at most 512x512 or a
 * JPEG scaled to about that size.  Images that need no reduction are
 * decoded as in exact mode.
 *
 * Only allow-listed formats are decoded (JPEG, PNG, WebP, GIF, TIFF, HEIF
 * when libvips has it; sniffed from the bytes, never from a file name),
 * and the header's dimensions are checked against max_pixels before any
 * pixel is decoded.  EXIF orientation is ignored, as the reference ignores
 * it (the PDQ dihedral variants cover rotations), and so are embedded
 * colour profiles.
 *
 * The decoder never prints: libvips' warnings are silenced by decode_init,
 * and errors come back as codes with a one-line reason.
 */
#ifndef HW_DECODE_H
#define HW_DECODE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "image.h"

enum decode_mode {
	DECODE_FAST = 0,
	DECODE_EXACT,
};

/* PDQ's reference point-samples anything wider or taller than 512 onto a
 * 512x512 grid (CImg nearest neighbour: output x reads source x * W / 512)
 * before it filters, so its hash of a finely textured image depends on
 * exactly which pixels it picked.  The fast mode keeps that: formats
 * without a scaled decode are decoded in full and point-sampled onto the
 * same grid, which gives PDQ the very pixels a full decode would; and
 * JPEG's DCT scaling stops at DECODE_FAST_MIN_SIDE, so that each pixel
 * PDQ samples is the mean of a block no larger than the grid's step
 * (measured on the corpus of make bench: at 256 the fast-vs-exact PDQ
 * distance of 5 of the 40 JPEGs is 10 to 24 bits, at 512 at most 10, for
 * a quarter more decoding time). */
#define DECODE_FAST_GRID 512
#define DECODE_FAST_MIN_SIDE 512

/* Source row (or column) of grid row i for a side of len pixels. */
static inline uint32_t decode_grid_src(uint32_t i, uint32_t len)
{
	return (uint32_t)((uint64_t)i * len / DECODE_FAST_GRID);
}

#define DECODE_DEFAULT_MAX_PIXELS (100u * 1000u * 1000u)
/* More progressive scans than this is a decompression bomb (each scan can
 * cost a pass over every block); ordinary encoders write about 10. */
#define DECODE_JPEG_MAX_SCANS 100

struct decode_opts {
	enum decode_mode mode;
	uint64_t max_pixels; /* 0 = DECODE_DEFAULT_MAX_PIXELS */
	/* Fast mode only: the caller's models read nothing but Rec. 601 luma
	 * (PDQ, pHash/dHash/aHash, OpenCV's grey hashes), so a 1-channel image
	 * may be returned where that is cheaper (JPEG: the Y channel, which is
	 * that luma; chroma is then never transformed). */
	bool grey_ok;
};

struct decode_info {
	char format[8];       /* "jpeg", "png", "webp", "gif", "tiff", "heif" */
	uint32_t src_width;   /* dimensions the header claims */
	uint32_t src_height;
	uint32_t shrink;      /* reduction of the fast mode (1 = none): JPEG's
	                       * DCT scale 2/4/8; for the point-sampled formats
	                       * the larger side's step, rounded up */
};

/* Initialise libvips for hashing: no operation cache, one thread per
 * caller, loaders outside the allow-list blocked, libvips' warnings kept
 * off stderr (for the whole process: they go through GLib's log).  Call
 * once per process, before any thread is started and before
 * decode_buffer(); later calls do nothing.  argv0 is passed to vips_init.
 * Returns 0 or -EIO. */
int decode_init(const char *argv0);

/* Decode buf[0..len) (opts may be NULL: fast mode, default limit).  On
 * success returns 0, fills *ret with a tightly packed (stride = width *
 * channels) 1- or 3-channel image that the caller frees with
 * hw_image_free, and *ret_info (may be NULL).  Pixels are pulled in the
 * calling thread; buf is only read, and not referenced after the return.
 * Errors, each with a one-line reason in err (may be NULL; errlen bytes):
 *   -EMEDIUMTYPE  empty, not an image, or a format outside the allow-list
 *   -EFBIG        a limit: the header claims more than max_pixels (or a
 *                 side over 65500 for JPEG), or a JPEG has more than
 *                 DECODE_JPEG_MAX_SCANS progressive scans
 *   -EBADMSG      corrupt or truncated image data
 *   -ENOMEM       out of memory
 * *ret and *ret_info are untouched on error. */
int decode_buffer(const void *buf, size_t len, const struct decode_opts *opts,
		  struct hw_image *ret, struct decode_info *ret_info,
		  char *err, size_t errlen);

/* Text for the codes above (static storage). */
const char *decode_strerror(int code);

#endif
