/* pnm.h - a small PNM reader for tests: the decoder-independent fixtures in
 * testdata/pdq/decoded_ppm/ are P6 (RGB), P5 (grey) and P4 (bilevel) files
 * with maxval 255, the exact pixels a reference implementation hashed.
 * Test-only code: header-only so every test program can include it.
 */
#ifndef HW_TEST_PNM_H
#define HW_TEST_PNM_H

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "image.h"

/* Largest side accepted, so a corrupt header cannot ask for gigabytes. */
#define HWT_PNM_MAX_SIDE 20000u

/* Next header number, skipping whitespace and '#' comments.  -1 on EOF or
 * junk. */
static inline long hwt_pnm_number(FILE *f)
{
	int c;
	long v = 0;
	int digits = 0;

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
		v = v * 10 + (c - '0');
		digits++;
		c = fgetc(f);
	}
	/* the one whitespace byte after the last header field is consumed
	 * here, as the format requires */
	if (digits == 0 || (c != EOF && !isspace(c)))
		return -1;
	return v;
}

/* Read a P4/P5/P6 file into a freshly allocated image (3 channels for P6,
 * 1 otherwise; P4's 1 bits = black = 0, 0 bits = 255).  Returns 0,
 * -ENOENT/-errno when the file cannot be opened, -EINVAL for a format this
 * reader does not take, -EIO for a short file, -ENOMEM.  *ret only on
 * success; free it with hw_image_free(). */
static inline int hwt_pnm_read(const char *path, struct hw_image *ret)
{
	struct hw_image img = { 0 };
	FILE *f = fopen(path, "rb");
	long w, h, maxval = 1;
	int kind, r;

	if (!f)
		return -errno;
	if (fgetc(f) != 'P') {
		r = -EINVAL;
		goto out;
	}
	kind = fgetc(f);
	if (kind != '4' && kind != '5' && kind != '6') {
		r = -EINVAL;
		goto out;
	}
	w = hwt_pnm_number(f);
	h = hwt_pnm_number(f);
	if (kind != '4')
		maxval = hwt_pnm_number(f);
	if (w <= 0 || h <= 0 || w > HWT_PNM_MAX_SIDE || h > HWT_PNM_MAX_SIDE ||
	    (kind != '4' && maxval != 255)) {
		r = -EINVAL;
		goto out;
	}
	r = hw_image_alloc(&img, (uint32_t)w, (uint32_t)h, kind == '6' ? 3 : 1);
	if (r < 0)
		goto out;
	for (long y = 0; y < h; y++) {
		uint8_t *row = img.pixels + (size_t)y * img.stride;

		if (kind == '4') {
			uint8_t packed[(HWT_PNM_MAX_SIDE + 7) / 8];
			size_t nb = (size_t)(w + 7) / 8;

			if (fread(packed, 1, nb, f) != nb) {
				r = -EIO;
				goto out;
			}
			for (long x = 0; x < w; x++)
				row[x] = (packed[x / 8] >> (7 - x % 8) & 1) ? 0 : 255;
		} else if (fread(row, 1, img.stride, f) != img.stride) {
			r = -EIO;
			goto out;
		}
	}
	*ret = img;
	img.pixels = NULL;
	r = 0;
out:
	hw_image_free(&img);
	fclose(f);
	return r;
}

/* File name in testdata/pdq/decoded_ppm/ of an original image listed in the
 * expected CSVs: "images/" dropped, '/' -> '_', the extension replaced by
 * ".pnm" (images/misc-images/modes/1.png -> misc-images_modes_1.pnm). */
static inline void hwt_pnm_fixture_name(const char *path, char *out, size_t len)
{
	const char *p = strncmp(path, "images/", 7) == 0 ? path + 7 : path;
	const char *dot = strrchr(p, '.');
	size_t n = dot ? (size_t)(dot - p) : strlen(p);

	snprintf(out, len, "%.*s.pnm", (int)n, p);
	for (char *c = out; *c; c++)
		if (*c == '/')
			*c = '_';
}

#endif
