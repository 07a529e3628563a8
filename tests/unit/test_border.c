/* test_border.c - finding the picture inside uniform borders (border.h) and
 * hashing it (hasher.h, HASHER_TRIM).
 *
 * Detection is checked on synthetic images whose answer is known by
 * construction: borders of several widths and colours around a textured
 * picture, bars of different colours top and bottom, an off-centre paste,
 * nested frames, noise in the border, grey images, crop views; and images
 * that must not be trimmed: textures, gradients (a clear sky), a picture
 * with a plain stripe thinner than the minimum, plain images, tiny ones.
 * Then through the real encoder and decoder (JPEG noise, shrink-on-load),
 * the hasher's inner region, and the recall of framed copies of the PDQ
 * test images at PDQ distance 31.
 */
#include "harness.h"

#include <math.h>
#include <stdbool.h>

#include "border.h"
#include "decode.h"
#include "frames.h"
#include "hasher.h"
#include "hwdb.h"
#include "imagehash.h"
#include "pdq.h"

/* ---- synthetic images --------------------------------------------------- */

static uint32_t mix(uint32_t x, uint32_t y, uint32_t c)
{
	uint32_t h = x * 2654435761u ^ (y + 0x9e3779b9u) * 40503u ^ c * 2246822519u;
	h ^= h >> 15;
	h *= 2246822519u;
	return h ^ (h >> 13);
}

/* A photo-like texture: smooth waves plus pixel noise, different per
 * channel, so that no row or column is anywhere near uniform. */
static uint8_t texture(uint32_t x, uint32_t y, uint32_t c)
{
	double v = 128 + 55 * sin(x * 0.071 + y * 0.029 + c) +
		   40 * sin(x * 0.013 - y * 0.052 + 2.0 * c) +
		   (double)(mix(x, y, c) % 41) - 20;
	return (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : v);
}

static void alloc_img(struct hw_image *img, uint32_t w, uint32_t h, uint32_t ch)
{
	assert_int_equal(hw_image_alloc(img, w, h, ch), 0);
}

static void fill(struct hw_image *img, uint32_t x0, uint32_t y0, uint32_t w,
		 uint32_t h, const uint8_t *rgb)
{
	for (uint32_t y = y0; y < y0 + h; y++)
		for (uint32_t x = x0; x < x0 + w; x++)
			for (uint32_t c = 0; c < img->channels; c++)
				img->pixels[(size_t)y * img->stride + (size_t)x * img->channels + c] =
					rgb[c];
}

static void paint_texture(struct hw_image *img, uint32_t x0, uint32_t y0,
			  uint32_t w, uint32_t h)
{
	for (uint32_t y = y0; y < y0 + h; y++)
		for (uint32_t x = x0; x < x0 + w; x++)
			for (uint32_t c = 0; c < img->channels; c++)
				img->pixels[(size_t)y * img->stride + (size_t)x * img->channels + c] =
					texture(x, y, c);
}

/* An image of w x h: colour `bg` everywhere, the texture in `pic`. */
static void framed(struct hw_image *img, uint32_t w, uint32_t h, uint32_t ch,
		   const uint8_t *bg, struct border_box pic)
{
	alloc_img(img, w, h, ch);
	fill(img, 0, 0, w, h, bg);
	paint_texture(img, pic.x, pic.y, pic.w, pic.h);
}

static void assert_box(const struct hw_image *img, struct border_box want)
{
	struct border_box got = { 0, 0, 0, 0 };
	int r = border_find(img, NULL, &got, NULL);
	if (r != 1 || got.x != want.x || got.y != want.y || got.w != want.w ||
	    got.h != want.h)
		fail_msg("%ux%u: got %d box %u,%u,%u,%u, want 1 box %u,%u,%u,%u",
			 img->width, img->height, r, got.x, got.y, got.w, got.h,
			 want.x, want.y, want.w, want.h);
}

static void assert_none(const struct hw_image *img, const char *what)
{
	struct border_box got = { 0, 0, 0, 0 };
	int r = border_find(img, NULL, &got, NULL);
	if (r != 0)
		fail_msg("%s (%ux%u): got %d box %u,%u,%u,%u, want no border", what,
			 img->width, img->height, r, got.x, got.y, got.w, got.h);
}

static const uint8_t BLACK[3] = { 0, 0, 0 }, WHITE[3] = { 255, 255, 255 },
		     GREY[3] = { 128, 128, 128 }, RED[3] = { 200, 30, 30 },
		     BLUE[3] = { 20, 60, 160 };

/* ---- detection on synthetic images ------------------------------------- */

/* Uniform borders of 2% to 25% of each side, in several colours, RGB and
 * grey, landscape and portrait. */
static void test_uniform_borders(void **state)
{
	static const double pct[] = { 2, 3.5, 5, 8, 12, 18, 25 };
	const uint8_t *colours[] = { BLACK, WHITE, GREY, RED, BLUE };
	static const uint32_t sizes[][2] = { { 400, 300 }, { 300, 520 }, { 1000, 1000 } };
	(void)state;

	for (size_t s = 0; s < 3; s++)
		for (size_t p = 0; p < sizeof(pct) / sizeof(pct[0]); p++)
			for (uint32_t ch = 1; ch <= 3; ch += 2) {
				const uint8_t *bg = colours[(s + p + ch) % 5];
				uint32_t w = sizes[s][0], h = sizes[s][1];
				uint32_t bx = (uint32_t)(w * pct[p] / 100), by = (uint32_t)(h * pct[p] / 100);
				struct border_box pic = { bx, by, w - 2 * bx, h - 2 * by };
				struct hw_image img;
				framed(&img, w, h, ch, bg, pic);
				assert_box(&img, pic);
				hw_image_free(&img);
			}
}

/* Bars on two sides only, and bars of different colours on each side (a
 * phone screenshot's status and navigation bars). */
static void test_bars(void **state)
{
	struct hw_image img;
	struct border_box pic;
	(void)state;

	/* letterbox */
	pic = (struct border_box){ 0, 60, 640, 360 };
	framed(&img, 640, 480, 3, BLACK, pic);
	assert_box(&img, pic);
	hw_image_free(&img);
	/* pillarbox */
	pic = (struct border_box){ 100, 0, 440, 480 };
	framed(&img, 640, 480, 3, GREY, pic);
	assert_box(&img, pic);
	hw_image_free(&img);
	/* screenshot: white status bar, black navigation bar, blue margins */
	pic = (struct border_box){ 12, 80, 576, 900 };
	framed(&img, 600, 1100, 3, BLUE, pic);
	fill(&img, 0, 0, 600, 40, WHITE);
	fill(&img, 0, 1020, 600, 80, BLACK);
	assert_box(&img, pic);
	hw_image_free(&img);
	/* only the top */
	pic = (struct border_box){ 0, 50, 500, 350 };
	framed(&img, 500, 400, 3, RED, pic);
	assert_box(&img, pic);
	hw_image_free(&img);
}

/* A picture pasted off-centre on a larger plain canvas: four bands of
 * different widths. */
static void test_off_centre(void **state)
{
	struct hw_image img;
	struct border_box pic = { 37, 410, 300, 200 };
	(void)state;

	framed(&img, 800, 640, 3, WHITE, pic);
	assert_box(&img, pic);
	hw_image_free(&img);
	/* grey canvas, picture near the bottom-right corner */
	pic = (struct border_box){ 500, 300, 280, 200 };
	framed(&img, 800, 520, 1, GREY, pic);
	assert_box(&img, pic);
	hw_image_free(&img);
}

/* Frames inside frames are trimmed down to the picture, including side
 * bars that sit inside full-width bars. */
static void test_nested(void **state)
{
	struct hw_image img;
	struct border_box pic = { 90, 80, 420, 340 };
	(void)state;

	framed(&img, 600, 500, 3, BLACK, pic);  /* outer border 0..40 */
	fill(&img, 40, 40, 520, 420, WHITE);     /* mat 40..90 / 40..80 */
	fill(&img, 60, 60, 480, 380, RED);       /* a red frame in the mat */
	paint_texture(&img, pic.x, pic.y, pic.w, pic.h);
	assert_box(&img, pic);
	hw_image_free(&img);

	/* pillarbox bars (grey, full height) around a letterboxed picture
	 * whose bars (blue) only span the middle */
	pic = (struct border_box){ 150, 100, 500, 400 };
	framed(&img, 800, 600, 3, GREY, pic);
	fill(&img, 150, 0, 500, 100, BLUE);
	fill(&img, 150, 500, 500, 100, BLUE);
	assert_box(&img, pic);
	hw_image_free(&img);
}

/* Where a band meets the picture, in ways that once cut in the wrong
 * place; each paints the picture and what sits around it on a
 * canvas already filled with the case's colour. */
struct edge_case {
	const char *what;
	uint32_t w, h;
	const uint8_t *bg;
	struct border_box pic;
	void (*paint)(struct hw_image *img, struct border_box pic);
};

/* A thin line whose outermost line is a blend of the frame and the line
 * (as JPEG and the decoder's shrink leave it), next to a plain strip of
 * the picture's own on one side: the line is trimmed there too. */
static void paint_blended_line(struct hw_image *img, struct border_box pic)
{
	static const uint8_t BLEND[3] = { 215, 215, 215 }, LINE[3] = { 200, 200, 200 };

	fill(img, pic.x - 3, pic.y - 3, pic.w + 6, pic.h + 6, BLEND);
	fill(img, pic.x - 2, pic.y - 2, pic.w + 4, pic.h + 4, LINE);
	fill(img, pic.x, pic.y, 4, pic.h, GREY);
	paint_texture(img, pic.x + 4, pic.y, pic.w - 4, pic.h);
}

/* Bars top and bottom, and a one-pixel line of nearly their colour down
 * the image's own edges (a resizer's or the picture's darker rim): the
 * line is no frame - a one-line band backs a frame inside the image, not
 * at its edge. */
static void paint_edge_line(struct hw_image *img, struct border_box pic)
{
	static const uint8_t RIM[3] = { 110, 130, 140 };

	paint_texture(img, pic.x, pic.y, pic.w, pic.h);
	fill(img, 0, pic.y, 1, pic.h, RIM);
	fill(img, img->width - 1, pic.y, 1, pic.h, RIM);
}

/* A picture whose own margin is near the canvas colour (a white desk on a
 * cream canvas): the band ends at the jump into the margin, not at the
 * first object inside it. */
static void paint_near_colour_margin(struct hw_image *img, struct border_box pic)
{
	static const uint8_t DESK[3] = { 222, 220, 218 };

	fill(img, pic.x, pic.y, pic.w, pic.h, DESK);
	paint_texture(img, pic.x + 12, pic.y + 30, pic.w - 12, pic.h - 30);
}

/* A mat inside a black border, whose outer edge blends towards the
 * mat's colour over four lines (JPEG's chroma and the decoder's shrink):
 * the mat starts past the blend. */
static void paint_blended_mat(struct hw_image *img, struct border_box pic)
{
	static const uint8_t blend[4] = { 236, 240, 243, 246 };

	for (uint32_t k = 0; k < 4; k++) {
		uint8_t v[3] = { blend[k], blend[k], blend[k] };
		fill(img, 40 + k, 40 + k, img->width - 80 - 2 * k, img->height - 80 - 2 * k, v);
	}
	fill(img, 44, 44, img->width - 88, img->height - 88, WHITE);
	paint_texture(img, pic.x, pic.y, pic.w, pic.h);
}

/* A mat on three sides only (the picture reaches the border at the
 * bottom): its top is backed by its sides, found after it. */
static void paint_open_mat(struct hw_image *img, struct border_box pic)
{
	fill(img, 40, 40, img->width - 80, img->height - 80, WHITE);
	paint_texture(img, pic.x, pic.y, pic.w, pic.h);
}

/* A flat frame around a backdrop of nearly its colour that brightens
 * slowly towards the middle (dark icons on dark grey in a dark grey
 * frame): the band drifts on like a gradient, but its flat lines end
 * where the backdrop's texture starts, and that is the frame. */
static void paint_backdrop(struct hw_image *img, struct border_box pic)
{
	for (uint32_t y = pic.y; y < pic.y + pic.h; y++)
		for (uint32_t x = pic.x; x < pic.x + pic.w; x++) {
			uint32_t dx = x - pic.x < pic.x + pic.w - 1 - x ? x - pic.x
									: pic.x + pic.w - 1 - x;
			uint32_t dy = y - pic.y < pic.y + pic.h - 1 - y ? y - pic.y
									: pic.y + pic.h - 1 - y;
			uint32_t d = dx < dy ? dx : dy;
			for (uint32_t c = 0; c < 3; c++) {
				int v = (c == 2 ? 70 : 60) + (int)(mix(x, y, c) % 5) - 2 +
					(d > 30 ? (int)(d - 30) / 2 : 0);
				img->pixels[(size_t)y * img->stride + 3 * x + c] =
					(uint8_t)(v > 255 ? 255 : v);
			}
		}
	paint_texture(img, pic.x + 150, pic.y + 150, pic.w - 300, pic.h - 300);
}

static void test_picture_edges(void **state)
{
	static const uint8_t CREAM[3] = { 240, 230, 210 }, DARK[3] = { 60, 60, 70 };
	const struct edge_case cases[] = {
		{ "blended line", 600, 500, BLUE, { 43, 43, 514, 414 }, paint_blended_line },
		{ "edge line", 300, 400, GREY, { 0, 40, 300, 300 }, paint_edge_line },
		{ "near-colour margin", 860, 610, CREAM, { 60, 160, 500, 400 },
		  paint_near_colour_margin },
		{ "blended mat", 600, 500, BLACK, { 90, 80, 420, 340 }, paint_blended_mat },
		{ "open mat", 600, 500, BLACK, { 80, 90, 440, 370 }, paint_open_mat },
		{ "backdrop", 600, 600, DARK, { 60, 60, 480, 480 }, paint_backdrop },
	};
	(void)state;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct hw_image img;
		alloc_img(&img, cases[i].w, cases[i].h, 3);
		fill(&img, 0, 0, cases[i].w, cases[i].h, cases[i].bg);
		cases[i].paint(&img, cases[i].pic);
		fprintf(stderr, "# %s\n", cases[i].what);
		assert_box(&img, cases[i].pic);
		hw_image_free(&img);
	}
}

/* The picture has a plain strip of its own in the frame's colour, with a
 * photo's noise: the band takes the strip, and the second box keeps it -
 * unless the strip starts inside the codec block next to the picture,
 * where JPEG ringing looks the same. */
static void test_own_rim(void **state)
{
	struct border_params bp;
	struct border_box box, outer;
	struct border_box pic = { 40, 40, 400, 300 };
	struct hw_image img;
	(void)state;

	for (uint32_t strip = 12; strip >= 6; strip -= 6) {
		framed(&img, 480, 380, 3, GREY, pic);
		for (uint32_t y = pic.y; y < pic.y + pic.h; y++)
			for (uint32_t x = pic.x; x < pic.x + strip; x++)
				for (uint32_t c = 0; c < 3; c++)
					img.pixels[(size_t)y * img.stride + 3 * x + c] =
						(uint8_t)(125 + mix(x, y, c) % 7);
		border_params_default(&bp);
		bp.codec_block = 0; /* lossless */
		assert_int_equal(border_find(&img, &bp, &box, &outer), 1);
		assert_int_equal(box.x, pic.x + strip);
		assert_int_equal(box.w, pic.w - strip);
		assert_memory_equal(&outer, &pic, sizeof(pic));
		/* from JPEG: a strip from x 40 to 51 crosses into the next
		 * 16-pixel block, one to 45 does not */
		bp.codec_block = 16;
		assert_int_equal(border_find(&img, &bp, &box, &outer), 1);
		assert_int_equal(box.x, pic.x + strip);
		if (strip == 12)
			assert_memory_equal(&outer, &pic, sizeof(pic));
		else
			assert_memory_equal(&outer, &box, sizeof(box));
		/* without a rim second guess */
		bp.min_rim_px = 0;
		assert_int_equal(border_find(&img, &bp, &box, &outer), 1);
		assert_memory_equal(&outer, &box, sizeof(box));
		hw_image_free(&img);
	}
}

/* JPEG-like noise in the border and a few specks (dust, a logo pixel)
 * do not hide it; a one-pixel line at the very edge does not either. */
static void test_noisy_border(void **state)
{
	struct hw_image img;
	struct border_box pic = { 40, 30, 520, 420 };
	(void)state;

	framed(&img, 600, 480, 3, GREY, pic);
	for (uint32_t y = 0; y < img.height; y++)
		for (uint32_t x = 0; x < img.width; x++) {
			if (x >= pic.x && x < pic.x + pic.w && y >= pic.y && y < pic.y + pic.h)
				continue;
			for (uint32_t c = 0; c < 3; c++) {
				uint8_t *p = &img.pixels[(size_t)y * img.stride + 3 * x + c];
				*p = (uint8_t)(*p + (int)(mix(x, y, c) % 13) - 6);
			}
		}
	/* specks: 3 per row of the top border */
	for (uint32_t y = 0; y < pic.y; y++)
		fill(&img, (y * 97) % 600, y, 1, 1, WHITE), fill(&img, (y * 31 + 7) % 600, y, 2, 1, BLACK);
	assert_box(&img, pic);
	/* a dark line along the very edge */
	fill(&img, 0, 0, 600, 1, BLACK);
	fill(&img, 0, 0, 1, 480, BLACK);
	assert_box(&img, pic);
	hw_image_free(&img);
}

/* A crop view (stride wider than its rows) is scanned in its own
 * coordinates. */
static void test_crop_view(void **state)
{
	struct hw_image img, view;
	struct border_box pic = { 100, 100, 300, 200 };
	(void)state;

	framed(&img, 600, 500, 3, WHITE, pic);
	paint_texture(&img, 0, 0, 50, 500);  /* texture outside the view */
	assert_int_equal(hw_image_crop(&img, 60, 70, 400, 300, &view), 0);
	assert_box(&view, ((struct border_box){ 40, 30, 300, 200 }));
	hw_image_free(&img);
}

/* Images that must come back untrimmed. */
static void test_not_trimmed(void **state)
{
	struct hw_image img;
	(void)state;

	/* texture */
	alloc_img(&img, 640, 480, 3);
	paint_texture(&img, 0, 0, 640, 480);
	assert_none(&img, "texture");
	hw_image_free(&img);

	/* vertical gradients (a clear sky above a textured ground) of several
	 * slopes, and a horizontal one */
	static const double slopes[] = { 0.05, 0.15, 0.3, 0.6, 1.0, 2.5 };
	for (size_t s = 0; s < sizeof(slopes) / sizeof(slopes[0]); s++) {
		alloc_img(&img, 800, 600, 3);
		paint_texture(&img, 0, 0, 800, 600);
		for (uint32_t y = 0; y < 400; y++) {
			uint8_t sky[3] = { (uint8_t)fmin(255, 90 + y * slopes[s] * 0.6),
					   (uint8_t)fmin(255, 140 + y * slopes[s] * 0.8),
					   (uint8_t)fmin(255, 200 + y * slopes[s] * 0.3) };
			fill(&img, 0, y, 800, 1, sky);
		}
		assert_none(&img, "sky gradient");
		hw_image_free(&img);
	}
	alloc_img(&img, 800, 600, 1);
	for (uint32_t x = 0; x < 800; x++) {
		uint8_t v = (uint8_t)(x * 255 / 799);
		fill(&img, x, 0, 1, 600, &v);
	}
	assert_none(&img, "horizontal gradient");
	hw_image_free(&img);

	/* a plain stripe thinner than the minimum band (1% of the side) */
	framed(&img, 1000, 800, 3, BLACK, ((struct border_box){ 10, 8, 980, 784 }));
	assert_none(&img, "1% border");
	hw_image_free(&img);

	/* plain images have no inside; nor does a picture under the minimum
	 * inner size */
	alloc_img(&img, 300, 200, 3);
	fill(&img, 0, 0, 300, 200, RED);
	assert_none(&img, "plain image");
	fill(&img, 140, 95, 10, 10, BLUE);
	assert_none(&img, "speck on a plain image");
	hw_image_free(&img);
}

static void test_tiny_and_invalid(void **state)
{
	static const uint32_t sizes[][2] = { { 1, 1 }, { 2, 2 }, { 1, 300 }, { 300, 1 },
					     { 3, 5 }, { 17, 17 }, { 40, 2 } };
	struct border_box box;
	struct hw_image img;
	(void)state;

	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++)
		for (uint32_t ch = 1; ch <= 3; ch += 2) {
			alloc_img(&img, sizes[i][0], sizes[i][1], ch);
			fill(&img, 0, 0, sizes[i][0], sizes[i][1], WHITE);
			if (sizes[i][0] > 2 && sizes[i][1] > 2)
				fill(&img, sizes[i][0] / 2, sizes[i][1] / 2, 1, 1, BLACK);
			assert_none(&img, "tiny");
			hw_image_free(&img);
		}
	alloc_img(&img, 10, 10, 3);
	img.channels = 2;
	assert_int_equal(border_find(&img, NULL, &box, NULL), -EINVAL);
	img.channels = 3;
	img.stride = 20;
	assert_int_equal(border_find(&img, NULL, &box, NULL), -EINVAL);
	hw_image_free(&img);
	assert_int_equal(border_find(&img, NULL, &box, NULL), -EINVAL); /* no pixels */
	assert_int_equal(border_find(NULL, NULL, &box, NULL), -EINVAL);
}

/* The parameters are honoured: a thinner minimum finds the 1% border the
 * defaults leave alone, max_rounds 1 stops at the outer frame. */
static void test_params(void **state)
{
	struct border_params bp;
	struct border_box box;
	struct hw_image img;
	(void)state;

	framed(&img, 1000, 800, 3, BLACK, ((struct border_box){ 10, 8, 980, 784 }));
	border_params_default(&bp);
	bp.min_band_permille = 5;
	assert_int_equal(border_find(&img, &bp, &box, NULL), 1);
	assert_int_equal(box.x, 10);
	assert_int_equal(box.h, 784);
	hw_image_free(&img);

	framed(&img, 600, 500, 3, BLACK, ((struct border_box){ 90, 80, 420, 340 }));
	fill(&img, 40, 40, 520, 420, WHITE);
	paint_texture(&img, 90, 80, 420, 340);
	border_params_default(&bp);
	bp.max_rounds = 1;
	assert_int_equal(border_find(&img, &bp, &box, NULL), 1);
	assert_int_equal(box.x, 40);
	assert_int_equal(box.w, 520);
	hw_image_free(&img);
}

/* ---- through the encoder, the decoder and the hasher --------------------- */

/* Skip when the decoder front is the placeholder (before it lands). */
static void require_decoder(void)
{
	struct hw_image img, out;
	struct decode_opts dopts = { .mode = DECODE_FAST };
	void *buf = NULL;
	size_t len = 0;
	int r;

	alloc_img(&img, 16, 16, 3);
	fill(&img, 0, 0, 16, 16, GREY);
	assert_int_equal(frm_encode(&img, 0, &buf, &len), 0);
	hw_image_free(&img);
	r = decode_buffer(buf, len, &dopts, &out, NULL, NULL, 0);
	g_free(buf);
	if (r < 0) {
		fprintf(stderr, "SKIP: the decoder cannot decode a PNG (%s); models/decode.c "
			"is not on this branch yet\n", decode_strerror(r));
		skip();
	}
	hw_image_free(&out);
}

static void require_pdq(void)
{
	struct hw_image img;
	struct pdq_result res;
	int r;

	alloc_img(&img, 64, 64, 3);
	paint_texture(&img, 0, 0, 64, 64);
	r = pdq_hash_image(&img, &res);
	hw_image_free(&img);
	if (r == -ENOSYS) {
		fprintf(stderr, "SKIP: PDQ is the placeholder (models/pdq.c not on this "
			"branch yet)\n");
		skip();
	}
	assert_int_equal(r, 0);
}

/* Decoded, JPEG-noisy borders: the box found is within the decoder's
 * shrink factor (plus JPEG ringing) of the truth, in file pixels. */
static void test_jpeg_borders(void **state)
{
	struct decode_opts dopts = { .mode = DECODE_FAST };
	/* on the stack: a skip (a longjmp out of the test) leaks nothing */
	struct hasher_result res_store, *res = &res_store;
	struct hw_image pic, fr;
	char err[256];
	(void)state;

	require_decoder();
	alloc_img(&pic, 700, 500, 3);
	paint_texture(&pic, 0, 0, 700, 500);
	for (int k = 0; k < FRM_NKINDS; k++)
		for (int q = 0; q <= 90; q += 45) {
			struct border_box truth = { 0, 0, 0, 0 };
			void *buf = NULL;
			size_t len = 0;
			assert_int_equal(frm_make(&pic, (enum frm_kind)k, (unsigned)(k + q), &fr,
						  &truth), 0);
			assert_int_equal(frm_encode(&fr, q, &buf, &len), 0);
			assert_int_equal(hasher_run(buf, len, 1u << HW_MODEL_DHASH, HASHER_TRIM,
						    &dopts, res, err, sizeof(err)), 0);
			g_free(buf);
			/* the 1% line of nested-3 may stay; ringing and the
			 * shrink cost a few pixels */
			uint32_t slack = res->info.shrink * 2 + 3 + (k == FRM_NESTED3 ? fr.width / 100 + 2 : 0);
			struct border_box *b = &res->inner.box;
			if (!res->inner.mask || labs((long)b->x - (long)truth.x) > (long)slack ||
			    labs((long)b->y - (long)truth.y) > (long)slack ||
			    labs((long)(b->x + b->w) - (long)(truth.x + truth.w)) > (long)slack ||
			    labs((long)(b->y + b->h) - (long)(truth.y + truth.h)) > (long)slack)
				fail_msg("%s %s: inner %s box %u,%u,%u,%u, truth %u,%u,%u,%u (shrink %u)",
					 frm_kind_name((enum frm_kind)k), q ? "jpeg" : "png",
					 res->inner.mask ? "found" : "not found", b->x, b->y,
					 b->w, b->h, truth.x, truth.y, truth.w, truth.h,
					 res->info.shrink);
			hw_image_free(&fr);
		}
	hw_image_free(&pic);
}

static uint64_t h64(const struct hw_hash *h)
{
	uint64_t v = 0;
	for (int i = 0; i < 8; i++)
		v = v << 8 | h->bytes[i];
	return v;
}

/* What HASHER_TRIM adds to a result, and only when asked and relevant. */
static void test_hasher_inner(void **state)
{
	struct decode_opts dopts = { .mode = DECODE_EXACT };
	/* on the stack: a skip (a longjmp out of the test) leaks nothing */
	struct hasher_result res_store, *res = &res_store;
	struct hasher_view v[HASHER_NREGIONS];
	struct hw_image img, view;
	struct border_box pic = { 60, 45, 400, 300 };
	uint32_t mask = (1u << HW_MODEL_PHASH) | (1u << HW_MODEL_DHASH) |
			(1u << HW_MODEL_AHASH) | (1u << HW_MODEL_SHA256);
	uint64_t ph, dh, ah;
	void *buf = NULL;
	size_t len = 0;
	char err[256];
	(void)state;

	require_decoder();
	framed(&img, 520, 390, 3, WHITE, pic);
	assert_int_equal(frm_encode(&img, 0, &buf, &len), 0);

	/* without the flag: no inner region, one view */
	assert_int_equal(hasher_run(buf, len, mask, 0, &dopts, res, err, sizeof(err)), 0);
	assert_int_equal(res->inner.mask, 0);
	assert_int_equal(hasher_regions(res, v), 1);
	assert_int_equal(v[0].region, HASHER_WHOLE);

	/* with it: the 64-bit models on the inner box, not the digest; the
	 * same values as hashing the picture on its own (lossless PNG, exact
	 * decode) */
	assert_int_equal(hasher_run(buf, len, mask, HASHER_TRIM, &dopts, res, err,
				    sizeof(err)), 0);
	assert_int_equal(res->inner.mask, mask & ~(1u << HW_MODEL_SHA256));
	assert_memory_equal(&res->inner.box, &pic, sizeof(pic));
	assert_memory_equal(&res->inner.decoded_box, &pic, sizeof(pic));
	assert_int_equal(hw_image_crop(&img, pic.x, pic.y, pic.w, pic.h, &view), 0);
	assert_int_equal(imagehash_all(&view, &ph, &dh, &ah), 0);
	assert_true(h64(&res->inner.hash[HW_MODEL_PHASH]) == ph);
	assert_true(h64(&res->inner.hash[HW_MODEL_DHASH]) == dh);
	assert_true(h64(&res->inner.hash[HW_MODEL_AHASH]) == ah);
	/* and the whole image's hashes are not those */
	assert_false(h64(&res->hash[HW_MODEL_PHASH]) == ph &&
		     h64(&res->hash[HW_MODEL_DHASH]) == dh);
	assert_int_equal(hasher_regions(res, v), 2);
	assert_int_equal(v[1].region, HASHER_INNER);
	assert_ptr_equal(v[1].hash, res->inner.hash);
	assert_memory_equal(&v[1].box, &pic, sizeof(pic));

	/* only models that are not hashed inside: nothing to trim for */
	assert_int_equal(hasher_run(buf, len, 1u << HW_MODEL_SHA256, HASHER_TRIM, &dopts,
				    res, err, sizeof(err)), 0);
	assert_int_equal(res->inner.mask, 0);
	assert_int_equal(hasher_trim_models() & (1u << HW_MODEL_CV_MARRHILDRETH), 0);
	assert_int_not_equal(hasher_trim_models() & (1u << HW_MODEL_PDQ), 0);
	g_free(buf);
	hw_image_free(&img);

	/* an unbordered texture: nothing inside */
	alloc_img(&img, 300, 200, 3);
	paint_texture(&img, 0, 0, 300, 200);
	assert_int_equal(frm_encode(&img, 85, &buf, &len), 0);
	assert_int_equal(hasher_run(buf, len, mask, HASHER_TRIM, &dopts, res, err,
				    sizeof(err)), 0);
	assert_int_equal(res->inner.mask, 0);
	g_free(buf);
	hw_image_free(&img);
}

/* The best PDQ distance of res's regions (whole first) to ref, each
 * region counting only with quality >= 50; d[] gets each region's. */
static int best_region(const struct hasher_result *res, const struct pdq_hash *ref,
		       int d[HASHER_NREGIONS])
{
	struct hasher_view v[HASHER_NREGIONS];
	unsigned nv = hasher_regions(res, v);
	int best = 999;

	for (unsigned i = 0; i < HASHER_NREGIONS; i++)
		d[i] = 999;
	for (unsigned i = 0; i < nv; i++) {
		if (v[i].hash[HW_MODEL_PDQ].quality < 50)
			continue;
		d[i] = pdq_distance((const void *)v[i].hash[HW_MODEL_PDQ].bytes, ref);
		if (d[i] < best)
			best = d[i];
	}
	return best;
}

/* Framed copies of the PDQ test images, through the daemon's path (fast
 * decode), compared with two hashes of the unframed picture: the PDQ of
 * its pixels (what a list made from the original holds), and the PDQ of
 * the unframed picture sent through the same encoder and decoder (which
 * takes out what the codec and the reduced decode cost on their own).  A
 * copy is found when the whole image or a region inside its borders is
 * within 31 bits.  Without trimming almost none is found; with it at
 * least 95% against either (0.983 measured on both: the misses are two
 * frames of grey 128 around pictures with a grey strip of their own that
 * lies in the JPEG block next to the frame, where it cannot be told from
 * ringing, and q0122 in a phone frame, whose PDQ moves by 56 bits at the
 * decoder's shrink although the box is exact).  tests/bench/bench_border.c
 * measures the same on the real-photo corpus. */
static void test_recall_pdq_images(void **state)
{
	static const char *const files[] = {
		"bridge-mods/aaa-orig.jpg",
		"reg-test-input/labelme-subset/q0122.jpg",
		"reg-test-input/labelme-subset/q0291.jpg",
		"reg-test-input/labelme-subset/q0746.jpg",
		"reg-test-input/labelme-subset/q1050.jpg",
		"reg-test-input/labelme-subset/q2821.jpg",
		"reg-test-input/pen-and-coaster.png",
		"misc-images/c.png",
	};
	struct decode_opts dopts = { .mode = DECODE_FAST };
	/* on the stack: a skip (a longjmp out of the test) leaks nothing */
	struct hasher_result res_store, *res = &res_store;
	unsigned n = 0, found_pix = 0, found_path = 0, found_off = 0;
	unsigned per_kind[FRM_NKINDS] = { 0 };
	char path[1024], err[256];
	(void)state;

	require_decoder();
	require_pdq();
	for (size_t f = 0; f < sizeof(files) / sizeof(files[0]); f++) {
		struct hw_image pic;
		struct pdq_result ref;
		struct pdq_hash ref_path[2];
		snprintf(path, sizeof(path), "%s/pdq/images/%s", hwt_testdata(), files[f]);
		HWT_REQUIRE_PATH(path);
		/* 512 px keeps the test quick under the sanitizers */
		assert_int_equal(frm_load(path, 512, &pic), 0);
		assert_int_equal(pdq_hash_image(&pic, &ref), 0);
		assert_true(ref.quality >= 50);
		for (int fmt = 0; fmt < 2; fmt++) {
			void *buf = NULL;
			size_t len = 0;
			assert_int_equal(frm_encode(&pic, fmt ? 80 : 0, &buf, &len), 0);
			assert_int_equal(hasher_run(buf, len, 1u << HW_MODEL_PDQ, 0, &dopts,
						    res, err, sizeof(err)), 0);
			g_free(buf);
			memcpy(ref_path[fmt].bytes, res->hash[HW_MODEL_PDQ].bytes, PDQ_BYTES);
		}
		for (int k = 0; k < FRM_NKINDS; k++)
			for (int fmt = 0; fmt < 2; fmt++) {
				struct hw_image fr;
				struct border_box truth = { 0, 0, 0, 0 };
				int d[HASHER_NREGIONS], dp[HASHER_NREGIONS];
				void *buf = NULL;
				size_t len = 0;
				assert_int_equal(frm_make(&pic, (enum frm_kind)k,
							  (unsigned)(f * 5 + k + 80 * fmt), &fr,
							  &truth), 0);
				assert_int_equal(frm_encode(&fr, fmt ? 80 : 0, &buf, &len), 0);
				hw_image_free(&fr);
				assert_int_equal(hasher_run(buf, len, 1u << HW_MODEL_PDQ,
							    HASHER_TRIM, &dopts, res, err,
							    sizeof(err)), 0);
				g_free(buf);
				bool pix = best_region(res, &ref.hash, d) <= 31;
				bool via = best_region(res, &ref_path[fmt], dp) <= 31;
				if (!pix || !via)
					fprintf(stderr, "# missed %s %s %s: whole %d/%d, inner %d/%d, "
						"inner_outer %d/%d (pixels/same path); box %u,%u,%u,%u, "
						"truth %u,%u,%u,%u\n",
						files[f], frm_kind_name((enum frm_kind)k),
						fmt ? "jpeg" : "png", d[0], dp[0], d[1], dp[1], d[2],
						dp[2], res->inner.box.x, res->inner.box.y,
						res->inner.box.w, res->inner.box.h, truth.x, truth.y,
						truth.w, truth.h);
				n++;
				found_off += d[0] <= 31;
				found_pix += pix;
				found_path += via;
				per_kind[k] += via;
			}
		hw_image_free(&pic);
	}
	fprintf(stderr, "# recall at PDQ distance 31 over %u framed copies: %.3f against "
		"the unframed picture through the same path, %.3f against its pixels, "
		"%.3f without trimming\n", n, (double)found_path / n, (double)found_pix / n,
		(double)found_off / n);
	for (int k = 0; k < FRM_NKINDS; k++)
		fprintf(stderr, "#   %-12s %u of %zu\n", frm_kind_name((enum frm_kind)k),
			per_kind[k], 2 * sizeof(files) / sizeof(files[0]));
	assert_true(found_path >= 0.95 * n);
	assert_true(found_pix >= 0.95 * n);
	assert_true(found_off <= 0.2 * n);
}

/* ---- matching the regions against a list (hwdb_match) ------------------ */

/* A list of one entry per given PDQ hash (and pHash when ph != NULL),
 * built unsigned in a temp folder and opened for tools. */
static struct hwdb *one_list(char *dir, size_t dirlen, const uint8_t (*pdq)[32],
			     const uint8_t (*ph)[8], size_t n)
{
	static const char *const ids[] = { "picture-0", "picture-1", "picture-2" };
	struct hwdb_entry ent[3];
	uint32_t ents[3] = { 0, 1, 2 };
	struct hwdb_column cols[2] = {
		{ HW_MODEL_PDQ, &pdq[0][0], ents, n },
		{ HW_MODEL_PHASH, ph ? &ph[0][0] : NULL, ents, n },
	};
	struct hwdb_build_spec spec = { 0 };
	struct hwdb_trust trust = { .allow_unsigned = true };
	struct hwdb *db = NULL;
	char path[256], err[256] = "";

	assert_true(n <= 3);
	snprintf(dir, dirlen, "/tmp/test_border.XXXXXX");
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/list.hwdb", dir);
	for (size_t i = 0; i < n; i++)
		ent[i] = (struct hwdb_entry){ ids[i], "test", "border" };
	hwdb_spec_default_thresholds(&spec);
	spec.list_id = "border-test";
	spec.version = 1;
	spec.created = 1700000000;
	spec.entries = ent;
	spec.nentries = n;
	spec.columns = cols;
	spec.ncolumns = ph ? 2 : 1;
	if (hwdb_build(&spec, path, err, sizeof(err)) < 0)
		fail_msg("build: %s", err);
	if (hwdb_open(path, &trust, &db, err, sizeof(err)) < 0)
		fail_msg("open: %s", err);
	return db;
}

static void set_hash(struct hw_hash *h, enum hw_model_id id, const uint8_t *bytes,
		     uint16_t len, int16_t quality)
{
	h->model = id;
	h->len = len;
	h->quality = quality;
	memcpy(h->bytes, bytes, len);
}

/* An inner region with only a PDQ hash (quality 90). */
static void set_region(struct hasher_inner *in, struct border_box box, const uint8_t *pdq)
{
	in->mask = 1u << HW_MODEL_PDQ;
	in->box = box;
	set_hash(&in->hash[HW_MODEL_PDQ], HW_MODEL_PDQ, pdq, 32, 90);
}

/* Regions are matched like the whole image and each hit says where it
 * was; an entry the whole image already hit is not repeated for a region;
 * the PDQ quality floor applies to each region's own quality.  (Made-up
 * hashes: no decoder involved.) */
static void test_match_regions(void **state)
{
	/* 8 bits set, 64 bits set: far apart (> 31 bits) and from 0xaa.. */
	static const uint8_t a[2][32] = { { 0x11, 0x22, 0x33 },
					  { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff } };
	struct hasher_result *res = calloc(1, sizeof(*res));
	struct hwdb_match m[8];
	struct hwdb *db;
	char dir[64];
	uint8_t far[32];
	(void)state;

	assert_non_null(res);
	memset(far, 0xaa, sizeof(far));
	db = one_list(dir, sizeof(dir), a, NULL, 2);

	/* entry 0 only inside (box 10,20,300,200), entry 1 nowhere */
	res->mask = 1u << HW_MODEL_PDQ;
	res->info.src_width = 400;
	res->info.src_height = 300;
	set_hash(&res->hash[HW_MODEL_PDQ], HW_MODEL_PDQ, far, 32, 90);
	set_region(&res->inner, (struct border_box){ 10, 20, 300, 200 }, a[0]);
	assert_int_equal(hwdb_match(db, res, NULL, 50, m, 8), 1);
	assert_int_equal(m[0].entry, 0);
	assert_int_equal(m[0].region, HASHER_INNER);
	assert_int_equal(m[0].box.x, 10);
	assert_int_equal(m[0].box.h, 200);

	/* too flat inside: not queried */
	res->inner.hash[HW_MODEL_PDQ].quality = 20;
	assert_int_equal(hwdb_match(db, res, NULL, 50, m, 8), 0);
	res->inner.hash[HW_MODEL_PDQ].quality = 90;

	/* the whole image hits entry 0 as well: reported once, as whole */
	set_hash(&res->hash[HW_MODEL_PDQ], HW_MODEL_PDQ, a[0], 32, 90);
	assert_int_equal(hwdb_match(db, res, NULL, 50, m, 8), 1);
	assert_int_equal(m[0].region, HASHER_WHOLE);
	assert_int_equal(m[0].box.x, 0);
	assert_int_equal(m[0].box.w, 400);

	/* whole hits 0, the region one frame out hits 1: both, each with
	 * its region */
	set_region(&res->inner_outer, (struct border_box){ 5, 5, 390, 290 }, a[1]);
	assert_int_equal(hwdb_match(db, res, NULL, 50, m, 8), 2);
	assert_int_equal(m[0].entry, 0);
	assert_int_equal(m[0].region, HASHER_WHOLE);
	assert_int_equal(m[1].entry, 1);
	assert_int_equal(m[1].region, HASHER_INNER_OUTER);
	assert_int_equal(m[1].box.w, 390);

	/* a lookup of one hash has no region */
	assert_int_equal(hwdb_lookup(db, &res->inner.hash[HW_MODEL_PDQ], -1, m, 8), 1);
	assert_int_equal(m[0].region, HASHER_WHOLE);
	hwdb_close(db);
	hwt_rmtree(dir);
	free(res);
}

/* The whole path: a list made from a picture's pixels (PDQ and pHash), a
 * framed copy of it through the encoder, the decoder and HASHER_TRIM; the
 * match names the inner region and its box. */
static void test_match_framed(void **state)
{
	struct decode_opts dopts = { .mode = DECODE_FAST };
	/* on the stack: a skip (a longjmp out of the test) leaks nothing */
	struct hasher_result res_store, *res = &res_store;
	struct hw_image pic, fr;
	struct border_box truth = { 0, 0, 0, 0 };
	struct pdq_result ref;
	struct hwdb_match m[8];
	struct hwdb *db;
	uint8_t pdq[1][32], ph[1][8];
	uint64_t p64;
	void *buf = NULL;
	size_t len = 0;
	char path[1024], dir[64], err[256];
	int n, regions = 0;
	(void)state;

	require_decoder();
	require_pdq();
	snprintf(path, sizeof(path), "%s/pdq/images/bridge-mods/aaa-orig.jpg", hwt_testdata());
	HWT_REQUIRE_PATH(path);
	assert_int_equal(frm_load(path, 512, &pic), 0);
	assert_int_equal(pdq_hash_image(&pic, &ref), 0);
	assert_int_equal(imagehash_phash(&pic, &p64), 0);
	memcpy(pdq[0], ref.hash.bytes, 32);
	for (int i = 0; i < 8; i++)
		ph[0][i] = (uint8_t)(p64 >> (56 - 8 * i));
	db = one_list(dir, sizeof(dir), pdq, ph, 1);

	assert_int_equal(frm_make(&pic, FRM_BORDER_12, 1, &fr, &truth), 0);
	assert_int_equal(frm_encode(&fr, 85, &buf, &len), 0);
	hw_image_free(&fr);
	/* without trimming the framed copy is not found */
	assert_int_equal(hasher_run(buf, len, (1u << HW_MODEL_PDQ) | (1u << HW_MODEL_PHASH),
				    HASHER_DIHEDRAL, &dopts, res, err, sizeof(err)), 0);
	assert_int_equal(hwdb_match(db, res, NULL, 50, m, 8), 0);
	/* with it, through the inner region */
	assert_int_equal(hasher_run(buf, len, (1u << HW_MODEL_PDQ) | (1u << HW_MODEL_PHASH),
				    HASHER_DIHEDRAL | HASHER_TRIM, &dopts, res, err,
				    sizeof(err)), 0);
	g_free(buf);
	n = hwdb_match(db, res, NULL, 50, m, 8);
	assert_true(n >= 1);
	for (int i = 0; i < n; i++) {
		assert_int_equal(m[i].entry, 0);
		assert_int_not_equal(m[i].region, HASHER_WHOLE);
		if (m[i].model == HW_MODEL_PDQ) {
			assert_int_equal(m[i].variant, 0);
			assert_true(labs((long)m[i].box.x - (long)truth.x) <= 8);
			assert_true(labs((long)m[i].box.w - (long)truth.w) <= 16);
			regions++;
		}
	}
	assert_int_equal(regions, 1);
	hwdb_close(db);
	hwt_rmtree(dir);
	hw_image_free(&pic);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_uniform_borders),
		cmocka_unit_test(test_bars),
		cmocka_unit_test(test_off_centre),
		cmocka_unit_test(test_nested),
		cmocka_unit_test(test_picture_edges),
		cmocka_unit_test(test_own_rim),
		cmocka_unit_test(test_noisy_border),
		cmocka_unit_test(test_crop_view),
		cmocka_unit_test(test_not_trimmed),
		cmocka_unit_test(test_tiny_and_invalid),
		cmocka_unit_test(test_params),
		cmocka_unit_test(test_jpeg_borders),
		cmocka_unit_test(test_hasher_inner),
		cmocka_unit_test(test_recall_pdq_images),
		cmocka_unit_test(test_match_regions),
		cmocka_unit_test(test_match_framed),
	};

	if (decode_init("test_border") < 0) {
		fprintf(stderr, "cannot initialise libvips\n");
		return 1;
	}
	return cmocka_run_group_tests(tests, NULL, NULL);
}
