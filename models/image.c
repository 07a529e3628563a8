/* image.c - allocation and cropping of hw_image buffers. */
#include <errno.h>
#include <stdlib.h>

#include "image.h"

int hw_image_alloc(struct hw_image *img, uint32_t width, uint32_t height,
		   uint32_t channels)
{
	if (width == 0 || height == 0 || (channels != 1 && channels != 3))
		return -EINVAL;
	size_t stride = (size_t)width * channels;
	if ((size_t)height > SIZE_MAX / stride)
		return -EINVAL;
	uint8_t *p = malloc(stride * height);
	if (!p)
		return -ENOMEM;
	img->width = width;
	img->height = height;
	img->channels = channels;
	img->stride = stride;
	img->pixels = p;
	return 0;
}

void hw_image_free(struct hw_image *img)
{
	if (!img)
		return;
	free(img->pixels);
	img->pixels = NULL;
	img->width = img->height = 0;
}

int hw_image_crop(const struct hw_image *parent, uint32_t x, uint32_t y,
		  uint32_t w, uint32_t h, struct hw_image *ret_view)
{
	if (w == 0 || h == 0 || x >= parent->width || y >= parent->height ||
	    w > parent->width - x || h > parent->height - y)
		return -EINVAL;
	ret_view->width = w;
	ret_view->height = h;
	ret_view->channels = parent->channels;
	ret_view->stride = parent->stride;
	ret_view->pixels = parent->pixels + (size_t)y * parent->stride +
			   (size_t)x * parent->channels;
	return 0;
}
