/* frames.h - the framed-image test set that test_border and bench_border
 * make for themselves: a picture put inside uniform borders of several
 * widths and colours, letterbox and pillarbox bars, an off-centre paste on
 * a larger plain canvas, phone-screenshot-like bars (top and bottom of
 * different colours) and nested frames, then encoded as JPEG or PNG
 * through libvips so that the real decode + hash path sees it.
 * Test-only code: header-only so every test program can include it.
 */
#ifndef HW_TEST_FRAMES_H
#define HW_TEST_FRAMES_H

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <vips/vips.h>

#include "border.h"
#include "image.h"

/* Largest side of a framed image, so a table typo cannot ask for
 * gigabytes. */
#define FRM_MAX_SIDE 20000u

/* One ring around a picture: thickness of each side in pixels and a colour
 * per side.  The top and bottom bars take the full width, the left and
 * right ones the rows between them (as a phone's status bar does). */
struct frm_ring {
	uint32_t t, b, l, r;
	uint8_t top[3], bottom[3], left[3], right[3];
};

/* Put `in` (RGB) inside `ring`: *out is allocated (hw_image_free) and
 * *box, the picture's place, is moved into the new image's coordinates. */
static inline int frm_add_ring(const struct hw_image *in, const struct frm_ring *g,
			       struct hw_image *out, struct border_box *box)
{
	uint64_t w = (uint64_t)in->width + g->l + g->r;
	uint64_t h = (uint64_t)in->height + g->t + g->b;
	int r;

	if (in->channels != 3 || w > FRM_MAX_SIDE || h > FRM_MAX_SIDE)
		return -EINVAL;
	r = hw_image_alloc(out, (uint32_t)w, (uint32_t)h, 3);
	if (r < 0)
		return r;
	for (uint32_t y = 0; y < out->height; y++) {
		uint8_t *row = out->pixels + (size_t)y * out->stride;
		bool bar = y < g->t || y >= g->t + in->height;
		for (uint32_t x = 0; x < out->width; x++) {
			const uint8_t *c = y < g->t ? g->top
					   : bar    ? g->bottom
					   : x < g->l ? g->left
						      : g->right;
			if (!bar && x >= g->l && x < g->l + in->width) {
				memcpy(row + 3 * (size_t)x,
				       hw_image_px(in, x - g->l, y - g->t),
				       3 * (size_t)in->width);
				x += in->width - 1;
				continue;
			}
			memcpy(row + 3 * (size_t)x, c, 3);
		}
	}
	box->x += g->l;
	box->y += g->t;
	return 0;
}

/* Colours the kinds below draw from: black, white, greys, solid colours
 * (saturated ones test JPEG's chroma subsampling). */
static const uint8_t frm_palette[][3] = {
	{ 0, 0, 0 },       { 255, 255, 255 }, { 128, 128, 128 }, { 200, 30, 30 },
	{ 20, 60, 160 },   { 16, 16, 16 },    { 240, 230, 210 }, { 30, 150, 60 },
	{ 250, 200, 0 },   { 60, 60, 70 },
};
#define FRM_NCOLOURS (sizeof(frm_palette) / sizeof(frm_palette[0]))

enum frm_kind {
	FRM_BORDER_2,  /* uniform border, 2% of each side */
	FRM_BORDER_5,
	FRM_BORDER_12,
	FRM_BORDER_25,
	FRM_LETTERBOX, /* bars top and bottom, 15% of the height each */
	FRM_PILLARBOX, /* bars left and right, 20% of the width each */
	FRM_OFFCENTRE, /* pasted off-centre on a canvas 1.7 x 1.5 its size */
	FRM_SCREENSHOT, /* status bar (5%) and navigation bar (9%) of
			   different colours above and below */
	FRM_PHONE,     /* a tall phone screen: the picture letterboxed in a
			  third colour between the two bars */
	FRM_NESTED,    /* a mat (6%) inside a border (8%) */
	FRM_NESTED3,   /* a thin line (1%) inside a mat inside a border */
	FRM_NKINDS
};

static inline const char *frm_kind_name(enum frm_kind k)
{
	static const char *const names[FRM_NKINDS] = {
		"border-2%", "border-5%", "border-12%", "border-25%", "letterbox",
		"pillarbox", "off-centre", "screenshot", "phone",  "nested",
		"nested-3",
	};
	return (unsigned)k < FRM_NKINDS ? names[k] : "?";
}

static inline uint32_t frm_pct(uint32_t side, double pct)
{
	double v = side * pct / 100.0 + 0.5;
	return v < 1 ? 1 : (uint32_t)v;
}

static inline void frm_fill(struct frm_ring *g, const uint8_t *c)
{
	memcpy(g->top, c, 3);
	memcpy(g->bottom, c, 3);
	memcpy(g->left, c, 3);
	memcpy(g->right, c, 3);
}

/* The rings of `kind` for a w x h picture, innermost first; `seed` picks
 * the colours.  Returns the number of rings (<= 3). */
static inline unsigned frm_rings(enum frm_kind kind, uint32_t w, uint32_t h,
				 unsigned seed, struct frm_ring g[3])
{
	const uint8_t *c0 = frm_palette[seed % FRM_NCOLOURS];
	const uint8_t *c1 = frm_palette[(seed + 3) % FRM_NCOLOURS];
	const uint8_t *c2 = frm_palette[(seed + 7) % FRM_NCOLOURS];
	static const double border_pct[] = { 2, 5, 12, 25 };
	unsigned n = 1;

	memset(g, 0, 3 * sizeof(*g));
	frm_fill(&g[0], c0);
	switch (kind) {
	case FRM_BORDER_2:
	case FRM_BORDER_5:
	case FRM_BORDER_12:
	case FRM_BORDER_25: {
		double p = border_pct[kind - FRM_BORDER_2];
		g[0].t = g[0].b = frm_pct(h, p);
		g[0].l = g[0].r = frm_pct(w, p);
		break;
	}
	case FRM_LETTERBOX:
		frm_fill(&g[0], frm_palette[seed % 2 ? 5 : 0]);
		g[0].t = g[0].b = frm_pct(h, 15);
		break;
	case FRM_PILLARBOX:
		g[0].l = g[0].r = frm_pct(w, 20);
		break;
	case FRM_OFFCENTRE:
		g[0].l = frm_pct(w, 10);
		g[0].r = frm_pct(w, 60);
		g[0].t = frm_pct(h, 40);
		g[0].b = frm_pct(h, 10);
		break;
	case FRM_SCREENSHOT:
		memcpy(g[0].bottom, c1, 3);
		g[0].t = frm_pct(h, 5);
		g[0].b = frm_pct(h, 9);
		break;
	case FRM_PHONE: {
		/* screen of about 9:19.5 around the picture's width */
		uint32_t screen = w * 2 > h ? w * 2 - h : 0;
		g[0].t = g[0].b = screen / 2 + frm_pct(h, 2);
		frm_fill(&g[1], c1);
		memcpy(g[1].bottom, c2, 3);
		g[1].t = frm_pct(h + g[0].t + g[0].b, 4);
		g[1].b = frm_pct(h + g[0].t + g[0].b, 7);
		n = 2;
		break;
	}
	case FRM_NESTED:
		g[0].t = g[0].b = frm_pct(h, 6);
		g[0].l = g[0].r = frm_pct(w, 6);
		frm_fill(&g[1], c1);
		g[1].t = g[1].b = frm_pct(h, 8);
		g[1].l = g[1].r = frm_pct(w, 8);
		n = 2;
		break;
	case FRM_NESTED3:
		g[0].t = g[0].b = frm_pct(h, 1);
		g[0].l = g[0].r = frm_pct(w, 1);
		frm_fill(&g[1], c1);
		g[1].t = g[1].b = frm_pct(h, 6);
		g[1].l = g[1].r = frm_pct(w, 6);
		frm_fill(&g[2], c2);
		g[2].t = g[2].b = frm_pct(h, 6);
		g[2].l = g[2].r = frm_pct(w, 6);
		n = 3;
		break;
	default:
		return 0;
	}
	return n;
}

/* Frame picture `in` (RGB) as `kind`.  *out (allocated) and *ret_box (the
 * picture's place in it) are written on success. */
static inline int frm_make(const struct hw_image *in, enum frm_kind kind,
			   unsigned seed, struct hw_image *out,
			   struct border_box *ret_box)
{
	struct frm_ring g[3];
	struct border_box box = { 0, 0, in->width, in->height };
	struct hw_image cur = *in, next = { 0 };
	unsigned n = frm_rings(kind, in->width, in->height, seed, g);
	int r = n ? 0 : -EINVAL;

	for (unsigned i = 0; i < n; i++) {
		r = frm_add_ring(&cur, &g[i], &next, &box);
		if (r < 0)
			break;
		if (cur.pixels != in->pixels)
			hw_image_free(&cur);
		cur = next;
	}
	if (r < 0) {
		if (cur.pixels != in->pixels)
			hw_image_free(&cur);
		return r;
	}
	*out = cur;
	*ret_box = box;
	return 0;
}

/* Encode an RGB or grey image: JPEG at quality q (1..100), or PNG when
 * q == 0.  *buf is g_malloc()ed: release with g_free(). */
static inline int frm_encode(const struct hw_image *img, int q, void **buf,
			     size_t *len)
{
	VipsImage *im;
	int r;

	im = vips_image_new_from_memory(img->pixels, img->stride * img->height,
					(int)img->width, (int)img->height,
					(int)img->channels, VIPS_FORMAT_UCHAR);
	if (!im)
		return -ENOMEM;
	if (q > 0)
		r = vips_jpegsave_buffer(im, buf, len, "Q", q, "strip", TRUE, NULL);
	else
		r = vips_pngsave_buffer(im, buf, len, "compression", 1, "strip",
					TRUE, NULL);
	g_object_unref(im);
	if (r) {
		vips_error_clear();
		return -EIO;
	}
	return 0;
}

/* Load an image file as 8-bit RGB, shrunk (never enlarged) to at most
 * max_side pixels on its longer side; alpha is flattened onto black as the
 * decoder drops it.  *ret is allocated (hw_image_free). */
static inline int frm_load(const char *path, int max_side, struct hw_image *ret)
{
	VipsImage *t[4] = { NULL, NULL, NULL, NULL };
	VipsImage *im;
	void *mem = NULL;
	size_t len = 0;
	int r = -EIO;

	if (vips_thumbnail(path, &t[0], max_side, "size", VIPS_SIZE_DOWN, NULL))
		goto out;
	im = t[0];
	if (vips_image_hasalpha(im)) {
		if (vips_flatten(im, &t[1], NULL))
			goto out;
		im = t[1];
	}
	if (vips_colourspace(im, &t[2], VIPS_INTERPRETATION_sRGB, NULL) ||
	    vips_cast_uchar(t[2], &t[3], NULL))
		goto out;
	im = t[3];
	if (vips_image_get_bands(im) != 3)
		goto out;
	mem = vips_image_write_to_memory(im, &len);
	if (!mem)
		goto out;
	r = hw_image_alloc(ret, (uint32_t)vips_image_get_width(im),
			   (uint32_t)vips_image_get_height(im), 3);
	if (r == 0)
		memcpy(ret->pixels, mem, ret->stride * ret->height);
out:
	g_free(mem);
	for (int i = 3; i >= 0; i--)
		if (t[i])
			g_object_unref(t[i]);
	if (r < 0)
		vips_error_clear();
	return r;
}

#endif
