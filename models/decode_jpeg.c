/* decode_jpeg.c - JPEG through libjpeg-turbo, for the decoder front.
 *
 * Exact mode is a plain full-size decode with libjpeg's defaults (islow
 * DCT, fancy upsampling), which gives the very pixels the PDQ reference
 * hashed.  Fast mode asks libjpeg for a 1/2, 1/4 or 1/8 scaled decode (the
 * inverse DCT then uses only the low-frequency corner of each 8x8 block),
 * decodes only the Y channel when the caller reads only luma, and for a
 * progressive JPEG stops reading as soon as every coefficient that the
 * scaled inverse DCT uses has arrived in some scan: the first scans of a
 * progressive file carry exactly that reduced image, and the later ones,
 * most of the file, only refine detail that the scaled output drops.
 *
 * Corrupt data policy: truncation and corrupt entropy-coded data are
 * errors (libjpeg would otherwise fill the rest with grey); harmless
 * oddities (extra bytes before a marker, unknown JFIF revision) are not.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jpeglib.h>
/* after jpeglib.h: which messages exist depends on jconfig.h */
#include <jerror.h>

#include "decode_jpeg.h"

/* Rows asked from libjpeg per call: lets it write straight into the output
 * rather than through its spare row buffer. */
#define ROWS_PER_READ 8

/* Heap-allocated so that nothing the error handler's longjmp lands on is an
 * automatic variable changed after setjmp. */
struct jdec {
	struct jpeg_decompress_struct c;
	struct jpeg_error_mgr jerr;
	struct jpeg_progress_mgr progress;
	jmp_buf jmp;
	int code;                /* negative errno when longjmp'ed */
	char msg[JMSG_LENGTH_MAX + 32];
	struct hw_image img;
	uint8_t *cmyk_row;       /* one row of 4-channel samples */
};

static void __attribute__((noreturn)) jdec_fail(j_common_ptr cinfo, int code)
{
	struct jdec *d = cinfo->client_data;
	char text[JMSG_LENGTH_MAX];

	(*cinfo->err->format_message)(cinfo, text);
	snprintf(d->msg, sizeof(d->msg), "%s", text);
	d->code = code;
	longjmp(d->jmp, 1);
}

static void on_error_exit(j_common_ptr cinfo)
{
	switch (cinfo->err->msg_code) {
	case JERR_OUT_OF_MEMORY:
		jdec_fail(cinfo, -ENOMEM);
	case JERR_IMAGE_TOO_BIG: /* over 65500 pixels on a side */
		jdec_fail(cinfo, -EFBIG);
	default:
		jdec_fail(cinfo, -EBADMSG);
	}
}

/* Warnings (level -1) that mean the pixels are not what the file's author
 * saved are errors; libjpeg's trace messages (level >= 0) are dropped. */
static void on_message(j_common_ptr cinfo, int level)
{
	if (level >= 0)
		return;
	switch (cinfo->err->msg_code) {
	case JWRN_JPEG_EOF:
	case JWRN_HIT_MARKER:
	case JWRN_HUFF_BAD_CODE:
	case JWRN_ARITH_BAD_CODE:
	case JWRN_MUST_RESYNC:
	case JWRN_NOT_SEQUENTIAL:
		jdec_fail(cinfo, -EBADMSG);
	default:
		cinfo->err->num_warnings++;
	}
}

static void __attribute__((noreturn)) too_many_scans(j_decompress_ptr c)
{
	struct jdec *d = c->client_data;

	snprintf(d->msg, sizeof(d->msg), "more than %d progressive scans",
		 DECODE_JPEG_MAX_SCANS);
	d->code = -EFBIG;
	longjmp(d->jmp, 1);
}

/* Called by libjpeg while it absorbs a multi-scan file. */
static void on_progress(j_common_ptr cinfo)
{
	j_decompress_ptr c = (j_decompress_ptr)cinfo;

	if (c->input_scan_number > DECODE_JPEG_MAX_SCANS)
		too_many_scans(c);
}

/* Largest libjpeg scale 1/s (s = 8, 4, 2) that keeps the shorter side at
 * DECODE_FAST_MIN_SIDE or more (libjpeg rounds the scaled size up). */
static int fast_scale(uint32_t w, uint32_t h)
{
	uint32_t side = w < h ? w : h;
	int s;

	for (s = 8; s > 1; s /= 2)
		if ((side + (uint32_t)s - 1) / (uint32_t)s >= DECODE_FAST_MIN_SIDE)
			break;
	return s;
}

/* Whether every coefficient of the top-left n x n corner of the blocks has
 * arrived, at any precision, according to libjpeg's coef_bits (-1 = none
 * yet; indexed in zigzag order, which walks the anti-diagonals r + c = s,
 * downwards on odd s and upwards on even s). */
static bool corner_present(const int *bits, int n)
{
	int k = 0;

	for (int s = 0; s <= 2 * (DCTSIZE - 1); s++) {
		int lo = s > DCTSIZE - 1 ? s - (DCTSIZE - 1) : 0;
		int hi = s < DCTSIZE - 1 ? s : DCTSIZE - 1;
		for (int i = 0; i <= hi - lo; i++, k++) {
			int r = (s & 1) ? lo + i : hi - i;
			if (r < n && s - r < n && bits[k] < 0)
				return false;
		}
	}
	return true;
}

static bool scaled_image_complete(j_decompress_ptr c)
{
	for (int ci = 0; ci < c->num_components; ci++) {
		const jpeg_component_info *comp = &c->comp_info[ci];
		if (comp->component_needed &&
		    !corner_present(c->coef_bits[ci], comp->DCT_scaled_size))
			return false;
	}
	return true;
}

/* Buffered-image mode: absorb scans until the scaled output is complete,
 * the file ends, or the scan limit is hit. */
static void absorb_needed_scans(j_decompress_ptr c)
{
	for (;;) {
		int st = jpeg_consume_input(c);
		if (st == JPEG_SUSPENDED || st == JPEG_REACHED_EOI)
			return;
		if (c->input_scan_number > DECODE_JPEG_MAX_SCANS)
			too_many_scans(c);
		if (st == JPEG_SCAN_COMPLETED && scaled_image_complete(c))
			return;
	}
}

/* CMYK as ImageMagick converts it without a colour profile (which is what
 * the PDQ reference saw): R = (255 - C) * (255 - K) / 255, rounded.
 * Adobe's files store the samples inverted. */
static void cmyk_to_rgb(const uint8_t *in, uint8_t *out, uint32_t width,
			bool inverted)
{
	for (uint32_t x = 0; x < width; x++, in += 4, out += 3) {
		unsigned k = inverted ? in[3] : 255u - in[3];
		for (int i = 0; i < 3; i++) {
			unsigned v = inverted ? in[i] : 255u - in[i];
			out[i] = (uint8_t)((v * k + 127) / 255);
		}
	}
}

static void read_rows(struct jdec *d)
{
	j_decompress_ptr c = &d->c;
	struct hw_image *img = &d->img;

	while (c->output_scanline < c->output_height) {
		JSAMPROW rows[ROWS_PER_READ];
		JDIMENSION y = c->output_scanline, n;

		if (d->cmyk_row) {
			rows[0] = d->cmyk_row;
			n = jpeg_read_scanlines(c, rows, 1);
			if (n == 1)
				cmyk_to_rgb(d->cmyk_row, img->pixels + (size_t)y * img->stride,
					    img->width, c->saw_Adobe_marker);
		} else {
			JDIMENSION want = c->output_height - y;
			if (want > ROWS_PER_READ)
				want = ROWS_PER_READ;
			for (JDIMENSION i = 0; i < want; i++)
				rows[i] = img->pixels + (size_t)(y + i) * img->stride;
			n = jpeg_read_scanlines(c, rows, want);
		}
		if (n == 0) { /* only a suspending source does this; ours never */
			snprintf(d->msg, sizeof(d->msg), "libjpeg returned no rows");
			d->code = -EBADMSG;
			longjmp(d->jmp, 1);
		}
	}
}

/* Everything that can longjmp.  Returns 0 or an error that needed no
 * longjmp (limit, unsupported colour space, allocation). */
static int jdec_run(struct jdec *d, const void *buf, size_t len,
		    const struct decode_opts *opts, uint64_t max_pixels,
		    struct decode_info *info)
{
	j_decompress_ptr c = &d->c;
	bool fast = opts->mode == DECODE_FAST;
	uint32_t channels;
	int r;

	jpeg_mem_src(c, buf, (unsigned long)len);
	if (jpeg_read_header(c, TRUE) != JPEG_HEADER_OK) {
		snprintf(d->msg, sizeof(d->msg), "JPEG stream holds tables but no image");
		return -EBADMSG;
	}
	info->src_width = c->image_width;
	info->src_height = c->image_height;
	if ((uint64_t)c->image_width * c->image_height > max_pixels) {
		snprintf(d->msg, sizeof(d->msg),
			 "image is %ux%u, more than the limit of %llu pixels",
			 c->image_width, c->image_height, (unsigned long long)max_pixels);
		return -EFBIG;
	}
	/* Fast mode at scale 1 is the exact decode: the pixels cost the same,
	 * and rounding them to grey here would move PDQ on small images. */
	int scale = fast ? fast_scale(c->image_width, c->image_height) : 1;
	switch (c->jpeg_color_space) {
	case JCS_GRAYSCALE:
		c->out_color_space = JCS_GRAYSCALE;
		channels = 1;
		break;
	case JCS_YCbCr:
	case JCS_RGB:
		channels = scale > 1 && opts->grey_ok ? 1 : 3;
		c->out_color_space = channels == 1 ? JCS_GRAYSCALE : JCS_RGB;
		break;
	case JCS_CMYK:
	case JCS_YCCK:
		c->out_color_space = JCS_CMYK;
		channels = 3;
		break;
	default:
		snprintf(d->msg, sizeof(d->msg), "unsupported JPEG colour space (%d components)",
			 c->num_components);
		return -EBADMSG;
	}
	info->shrink = (uint32_t)scale;
	if (scale > 1) {
		c->scale_num = 1;
		c->scale_denom = (unsigned)scale;
		c->buffered_image = c->progressive_mode;
		/* Smoothing guesses missing low AC terms from neighbouring DC
		 * values; every term the scaled inverse DCT reads has arrived
		 * by the time the early stop stops. */
		c->do_block_smoothing = FALSE;
	}
	jpeg_start_decompress(c);
	if (c->out_color_space == JCS_CMYK) {
		d->cmyk_row = malloc((size_t)c->output_width * 4);
		if (!d->cmyk_row)
			return -ENOMEM;
	}
	r = hw_image_alloc(&d->img, c->output_width, c->output_height, channels);
	if (r < 0) {
		snprintf(d->msg, sizeof(d->msg), "cannot allocate %ux%u pixels",
			 c->output_width, c->output_height);
		return r == -EINVAL ? -EBADMSG : r;
	}
	if (c->buffered_image) {
		absorb_needed_scans(c);
		jpeg_start_output(c, c->input_scan_number);
	}
	read_rows(d);
	return 0;
}

int decode_jpeg(const void *buf, size_t len, const struct decode_opts *opts,
		uint64_t max_pixels, struct hw_image *ret,
		struct decode_info *ret_info, char *err, size_t errlen)
{
	struct decode_info info = { "jpeg", 0, 0, 1 };
	struct jdec *d = calloc(1, sizeof(*d));
	int r;

	if (!d) {
		if (err)
			snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	d->c.err = jpeg_std_error(&d->jerr);
	d->jerr.error_exit = on_error_exit;
	d->jerr.emit_message = on_message;
	d->progress.progress_monitor = on_progress;
	d->c.client_data = d;
	if (setjmp(d->jmp)) {
		r = d->code;
		goto out;
	}
	jpeg_create_decompress(&d->c); /* keeps err and client_data */
	d->c.progress = &d->progress;
	r = jdec_run(d, buf, len, opts, max_pixels, &info);
	if (r == 0) {
		*ret = d->img;
		d->img.pixels = NULL;
		if (ret_info)
			*ret_info = info;
	}
out:
	if (r < 0 && err)
		snprintf(err, errlen, "%s", d->msg);
	jpeg_destroy_decompress(&d->c);
	hw_image_free(&d->img);
	free(d->cmyk_row);
	free(d);
	return r;
}
