/* image.h - the pixel buffer that the decoder hands to every image model.
 *
 * One struct, no behaviour: 8-bit samples, 1 (grey) or 3 (RGB) channels,
 * interleaved, rows `stride` bytes apart.  A crop of an image (used to hash
 * the region inside a border) is the same struct pointing into the parent's
 * pixels with a smaller width/height; models must honour `stride` and never
 * assume stride == width * channels.
 */
#ifndef HW_IMAGE_H
#define HW_IMAGE_H

#include <stddef.h>
#include <stdint.h>

struct hw_image {
	uint32_t width;
	uint32_t height;
	uint32_t channels; /* 1 = grey, 3 = RGB; alpha is dropped by the decoder */
	size_t stride;     /* bytes from one row to the next */
	uint8_t *pixels;   /* owned by whoever filled the struct */
};

/* Pointer to sample c of pixel (x, y).  No bounds check. */
static inline const uint8_t *hw_image_px(const struct hw_image *img,
					 uint32_t x, uint32_t y)
{
	return img->pixels + (size_t)y * img->stride + (size_t)x * img->channels;
}

/* Allocate pixels for a width x height x channels image (stride = width *
 * channels).  Returns 0 or -ENOMEM / -EINVAL (zero or overflowing size).
 * On failure *img is left unchanged. */
int hw_image_alloc(struct hw_image *img, uint32_t width, uint32_t height,
		   uint32_t channels);

/* Free the pixels of an image made by hw_image_alloc; accepts NULL and an
 * already-freed (zeroed) image. */
void hw_image_free(struct hw_image *img);

/* A view of the rectangle (x, y, w, h) of `parent`; shares its pixels.
 * Returns 0, or -EINVAL if the rectangle is empty or outside the parent. */
int hw_image_crop(const struct hw_image *parent, uint32_t x, uint32_t y,
		  uint32_t w, uint32_t h, struct hw_image *ret_view);

#endif
