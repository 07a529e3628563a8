/* decode_webp.c - WebP's fast mode: a full decode with libwebp into its
 * native planes (YUV 4:2:0 for lossy files, which costs about what its
 * scaled decode does; RGB for lossless ones), then only the pixels on the
 * PDQ grid are converted, so that PDQ sees what it would in a full
 * decode.  Alpha is not decoded (dropped, as everywhere).  Chroma is taken
 * from the nearest sample instead of libwebp's interpolation: luma, all
 * that the hashes read, does not depend on it.  The result stays RGB even
 * when the caller would take grey: PDQ computes luma in float from RGB, and
 * a luma rounded to 8 bits here moved PDQ by up to 14 bits on a dark,
 * low-contrast texture of the corpus (6 from RGB).
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include <webp/decode.h>

#include "decode_webp.h"

static const char *status_text(VP8StatusCode st)
{
	switch (st) {
	case VP8_STATUS_OUT_OF_MEMORY:
		return "out of memory";
	case VP8_STATUS_INVALID_PARAM:
		return "invalid parameter";
	case VP8_STATUS_BITSTREAM_ERROR:
		return "corrupt bitstream";
	case VP8_STATUS_UNSUPPORTED_FEATURE:
		return "unsupported feature";
	case VP8_STATUS_SUSPENDED:
	case VP8_STATUS_NOT_ENOUGH_DATA:
		return "truncated data";
	default:
		return "decoder error";
	}
}

static inline uint8_t clip8(int v)
{
	return (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : v);
}

/* ITU-R BT.601 studio-range YCbCr to RGB, as VP8 defines its colours. */
static void yuv_to_rgb(int y, int u, int v, uint8_t rgb[3])
{
	int c = 298 * (y - 16) + 128, d = u - 128, e = v - 128;

	rgb[0] = clip8((c + 409 * e) >> 8);
	rgb[1] = clip8((c - 100 * d - 208 * e) >> 8);
	rgb[2] = clip8((c + 516 * d) >> 8);
}

/* Fill img (DECODE_FAST_GRID square, allocated) with the grid samples of
 * the decoded w x h buffer. */
static void sample(const WebPDecBuffer *b, uint32_t w, uint32_t h,
		   struct hw_image *img)
{
	for (uint32_t oy = 0; oy < img->height; oy++) {
		uint32_t sy = decode_grid_src(oy, h);
		uint8_t *dst = img->pixels + (size_t)oy * img->stride;
		for (uint32_t ox = 0; ox < img->width; ox++) {
			uint32_t sx = decode_grid_src(ox, w);
			if (b->colorspace == MODE_YUV) {
				const WebPYUVABuffer *p = &b->u.YUVA;
				yuv_to_rgb(p->y[(size_t)sy * (size_t)p->y_stride + sx],
					   p->u[(size_t)(sy / 2) * (size_t)p->u_stride + sx / 2],
					   p->v[(size_t)(sy / 2) * (size_t)p->v_stride + sx / 2],
					   dst);
			} else {
				const WebPRGBABuffer *p = &b->u.RGBA;
				memcpy(dst, p->rgba + (size_t)sy * (size_t)p->stride + (size_t)sx * 3, 3);
			}
			dst += 3;
		}
	}
}

int decode_webp_header(const void *buf, size_t len, uint64_t max_pixels,
		       WebPBitstreamFeatures *ret, char *err, size_t errlen)
{
	WebPBitstreamFeatures f;
	VP8StatusCode st = WebPGetFeatures(buf, len, &f);

	if (st != VP8_STATUS_OK) {
		if (err)
			snprintf(err, errlen, "bad WebP header: %s", status_text(st));
		return -EBADMSG;
	}
	if ((uint64_t)f.width * (uint64_t)f.height > max_pixels) {
		if (err)
			snprintf(err, errlen, "image is %dx%d, more than the limit of %llu pixels",
				 f.width, f.height, (unsigned long long)max_pixels);
		return -EFBIG;
	}
	if (ret)
		*ret = f;
	return 0;
}

int decode_webp_fast(const void *buf, size_t len, uint64_t max_pixels,
		     struct hw_image *ret, struct decode_info *ret_info,
		     char *err, size_t errlen)
{
	struct decode_info info = { "webp", 0, 0, 1 };
	struct hw_image img = { 0 };
	WebPDecoderConfig cfg;
	VP8StatusCode st;
	uint32_t w, h;
	int r;

	if (!WebPInitDecoderConfig(&cfg)) {
		if (err)
			snprintf(err, errlen, "libwebp version mismatch");
		return -EIO;
	}
	r = decode_webp_header(buf, len, max_pixels, &cfg.input, err, errlen);
	if (r < 0)
		return r;
	w = (uint32_t)cfg.input.width;
	h = (uint32_t)cfg.input.height;
	if (cfg.input.has_animation || (w <= DECODE_FAST_GRID && h <= DECODE_FAST_GRID))
		return -ENOTSUP;
	info.src_width = w;
	info.src_height = h;
	info.shrink = ((w > h ? w : h) + DECODE_FAST_GRID - 1) / DECODE_FAST_GRID;
	cfg.output.colorspace = cfg.input.format == 2 ? MODE_RGB : MODE_YUV;
	st = WebPDecode(buf, len, &cfg);
	if (st != VP8_STATUS_OK) {
		r = st == VP8_STATUS_OUT_OF_MEMORY ? -ENOMEM : -EBADMSG;
		if (err)
			snprintf(err, errlen, "WebP: %s", status_text(st));
		goto out;
	}
	r = hw_image_alloc(&img, DECODE_FAST_GRID, DECODE_FAST_GRID, 3);
	if (r < 0) {
		if (err)
			snprintf(err, errlen, "out of memory");
		goto out;
	}
	sample(&cfg.output, w, h, &img);
	*ret = img;
	img.pixels = NULL;
	if (ret_info)
		*ret_info = info;
	r = 0;
out:
	WebPFreeDecBuffer(&cfg.output);
	hw_image_free(&img);
	return r;
}
