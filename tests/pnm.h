/* pnm.h - a small reader for binary PNM files (P4 bilevel, P5 grey, P6 RGB,
 * maxval 255) for tests: the PDQ fixtures in testdata/pdq/decoded_ppm are
 * the exact pixels Meta's reference hashed, stored as PNM so that a test
 * needs no image decoder.  P4 is read as CImg reads it (a set bit is black,
 * 0; a clear bit is white, 255), since those are the values the reference
 * hashed.  Test-only: header-only, no limits beyond PNM_MAX_DIM.
 */
#ifndef HW_TEST_PNM_H
#define HW_TEST_PNM_H

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "image.h"

#define PNM_MAX_DIM 20000

/* Skip whitespace and '#' comments, then read one decimal number. */
static inline int pnm_header_number(FILE *f, unsigned long *ret)
{
	unsigned long v = 0;
	int c, digits = 0;

	for (;;) {
		c = fgetc(f);
		if (c == '#') {
			while (c != '\n' && c != EOF)
				c = fgetc(f);
		} else if (c == EOF || !isspace(c)) {
			break;
		}
	}
	while (c != EOF && isdigit(c) && digits < 9) {
		v = v * 10 + (unsigned long)(c - '0');
		digits++;
		c = fgetc(f);
	}
	/* exactly one whitespace byte ends the header field */
	if (digits == 0 || digits == 9 || c == EOF || !isspace(c))
		return -EINVAL;
	*ret = v;
	return 0;
}

static inline int pnm_read_pixels(FILE *f, int kind, struct hw_image *img)
{
	if (kind != 4) {
		for (uint32_t y = 0; y < img->height; y++)
			if (fread(img->pixels + y * img->stride, 1,
				  (size_t)img->width * img->channels, f) !=
			    (size_t)img->width * img->channels)
				return -EINVAL;
		return 0;
	}
	size_t rowbytes = (img->width + 7) / 8;
	uint8_t *row = malloc(rowbytes);
	int r = 0;

	if (!row)
		return -ENOMEM;
	for (uint32_t y = 0; y < img->height && r == 0; y++) {
		if (fread(row, 1, rowbytes, f) != rowbytes) {
			r = -EINVAL;
			break;
		}
		for (uint32_t x = 0; x < img->width; x++)
			img->pixels[y * img->stride + x] =
				(row[x / 8] & (0x80 >> (x % 8))) ? 0 : 255;
	}
	free(row);
	return r;
}

/* Read a P4/P5/P6 file into a new image (free with hw_image_free).
 * Returns 0, -errno from fopen, -EINVAL (not a supported PNM, truncated)
 * or -ENOMEM.  *ret is written only on success. */
static inline int pnm_read(const char *path, struct hw_image *ret)
{
	struct hw_image img = { 0 };
	unsigned long w, h, maxval = 255;
	FILE *f = fopen(path, "rb");
	int kind, r;

	if (!f)
		return -errno;
	if (fgetc(f) != 'P') {
		r = -EINVAL;
		goto out;
	}
	kind = fgetc(f) - '0';
	if (kind < 4 || kind > 6) {
		r = -EINVAL;
		goto out;
	}
	r = pnm_header_number(f, &w);
	if (r == 0)
		r = pnm_header_number(f, &h);
	if (r == 0 && kind != 4)
		r = pnm_header_number(f, &maxval);
	if (r < 0)
		goto out;
	if (w == 0 || h == 0 || w > PNM_MAX_DIM || h > PNM_MAX_DIM ||
	    maxval != 255) {
		r = -EINVAL;
		goto out;
	}
	r = hw_image_alloc(&img, (uint32_t)w, (uint32_t)h, kind == 6 ? 3 : 1);
	if (r < 0)
		goto out;
	r = pnm_read_pixels(f, kind, &img);
	if (r < 0) {
		hw_image_free(&img);
		goto out;
	}
	*ret = img;
out:
	fclose(f);
	return r;
}

#endif
