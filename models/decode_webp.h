/* decode_webp.h - the fast path for WebP in the decoder front (internal
 * to decode.c): libwebp directly, because libvips' full-size WebP decode
 * converts every pixel to RGB (and costs four times its scaled decode),
 * while the fast mode only needs the pixels on DECODE_FAST_GRID.
 */
#ifndef HW_DECODE_WEBP_H
#define HW_DECODE_WEBP_H

#include <stddef.h>
#include <stdint.h>

#include <webp/decode.h>

#include "decode.h"

/* Read the header and check its size against max_pixels (resolved, never
 * 0).  Returns 0 (and *ret when not NULL), -EBADMSG or -EFBIG with a
 * reason in err.  Called before libvips sees a WebP: its loader allocates
 * the whole canvas while it reads the header. */
int decode_webp_header(const void *buf, size_t len, uint64_t max_pixels,
		       WebPBitstreamFeatures *ret, char *err, size_t errlen);

/* Decode the still WebP in buf[0..len) in fast mode, as decode_buffer()
 * does (same contract and error codes), or return -ENOTSUP, touching
 * nothing, for what the caller hands to libvips instead: an animation (its
 * first frame), or an image within the grid, which fast mode decodes
 * exactly as it costs no more.  max_pixels is already resolved (never 0). */
int decode_webp_fast(const void *buf, size_t len, uint64_t max_pixels,
		     struct hw_image *ret, struct decode_info *ret_info,
		     char *err, size_t errlen);

#endif
