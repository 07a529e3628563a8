/* decode_jpeg.h - the JPEG path of the decoder front (internal to
 * decode.c): libjpeg-turbo directly rather than through libvips, because
 * the fast mode needs what libvips does not expose: stopping a
 * progressive JPEG after the scans that hold the reduced image, and
 * decoding only the luma channel.
 */
#ifndef HW_DECODE_JPEG_H
#define HW_DECODE_JPEG_H

#include <stddef.h>
#include <stdint.h>

#include "decode.h"

/* Decode the JPEG in buf[0..len) as decode_buffer() does (same contract,
 * same error codes; -EFBIG also for more than DECODE_JPEG_MAX_SCANS
 * scans).  max_pixels is already resolved (never 0).  *ret and *ret_info
 * are written only on success; err (may be NULL) gets a one-line reason. */
int decode_jpeg(const void *buf, size_t len, const struct decode_opts *opts,
		uint64_t max_pixels, struct hw_image *ret,
		struct decode_info *ret_info, char *err, size_t errlen);

#endif
