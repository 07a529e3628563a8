/* decode.c - the decoder front: sniff the format from the bytes, refuse
 * what is not allow-listed or too large from the header alone, then hand
 * JPEG to decode_jpeg.c, still WebP in fast mode to decode_webp.c, and
 * everything else to a short libvips pipeline (load, the fast mode's grid
 * sampling, alpha dropped, to 8-bit RGB or grey) whose pixels are pulled
 * into a tightly packed hw_image in the calling thread, strip by strip:
 * no worker thread is started, and memory stays bounded by the output.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <vips/vips.h>

#include "decode.h"
#include "decode_jpeg.h"
#include "decode_webp.h"

/* Rows pulled through the pipeline per request: small enough to keep the
 * intermediate buffers in cache, large enough to amortise the per-request
 * cost. */
#define STRIP_ROWS 16

typedef int (*load_fn)(void *buf, size_t len, VipsImage **out, ...);

struct format {
	const char *loader; /* libvips class name */
	const char *base;   /* base class, unblocked by decode_init */
	const char *name;   /* decode_info.format */
	load_fn load;
};

/* The allow-list.  Everything else under VipsForeignLoad (SVG, PDF,
 * ImageMagick, Matlab, FITS, ...) is blocked by decode_init and refused
 * here again by name, in case a caller skipped decode_init. */
static const struct format formats[] = {
	{ "VipsForeignLoadJpegBuffer", "VipsForeignLoadJpeg", "jpeg", vips_jpegload_buffer },
	{ "VipsForeignLoadPngBuffer", "VipsForeignLoadPng", "png", vips_pngload_buffer },
	{ "VipsForeignLoadWebpBuffer", "VipsForeignLoadWebp", "webp", vips_webpload_buffer },
	{ "VipsForeignLoadNsgifBuffer", "VipsForeignLoadNsgif", "gif", vips_gifload_buffer },
	{ "VipsForeignLoadTiffBuffer", "VipsForeignLoadTiff", "tiff", vips_tiffload_buffer },
	{ "VipsForeignLoadHeifBuffer", "VipsForeignLoadHeif", "heif", vips_heifload_buffer },
};

/* libvips reports loader warnings (libpng, libtiff, EXIF oddities) with
 * g_warning in the "VIPS" domain; library code must not print, and every
 * failure that matters comes back as an error anyway. */
static void quiet_log(const gchar *domain, GLogLevelFlags level,
		      const gchar *message, gpointer data)
{
	(void)domain;
	(void)level;
	(void)message;
	(void)data;
}

int decode_init(const char *argv0)
{
	static bool done;

	if (done)
		return 0;
	if (VIPS_INIT(argv0 ? argv0 : "hashwatch") != 0)
		return -EIO;
	g_log_set_handler("VIPS",
			  G_LOG_LEVEL_WARNING | G_LOG_LEVEL_MESSAGE |
				  G_LOG_LEVEL_INFO | G_LOG_LEVEL_DEBUG,
			  quiet_log, NULL);
	/* Each file is decoded once: caching operations only holds memory. */
	vips_cache_set_max(0);
	/* Pixels are pulled in the calling thread (see read_pixels), and a
	 * worker process hashes one file at a time. */
	vips_concurrency_set(1);
	vips_operation_block_set("VipsForeignLoad", TRUE);
	for (size_t i = 0; i < sizeof(formats) / sizeof(formats[0]); i++)
		vips_operation_block_set(formats[i].base, FALSE);
	done = true;
	return 0;
}

/* Copy libvips' error text (one line, ";"-joined) into err and clear it. */
static void take_vips_error(char *err, size_t errlen, const char *what)
{
	const char *v = vips_error_buffer();
	size_t n;

	if (err && errlen) {
		n = (size_t)snprintf(err, errlen, "%s%s", what, *v ? ": " : "");
		for (; *v && n + 1 < errlen; v++) {
			if (*v == '\n') {
				if (!v[1])
					break;
				err[n++] = ';';
				if (n + 1 < errlen)
					err[n++] = ' ';
			} else {
				err[n++] = *v;
			}
		}
		if (n < errlen)
			err[n] = '\0';
	}
	vips_error_clear();
}

/* Replace *im by next (the result of an operation on *im). */
static void advance(VipsImage **im, VipsImage *next)
{
	g_object_unref(*im);
	*im = next;
}

/* CMYK to RGB the way the PDQ reference's decoder (ImageMagick without a
 * colour profile) does it: R = (255 - C) * (255 - K) / 255.  Embedded
 * profiles are ignored on purpose, as the reference ignores them, and so
 * that no ICC parser runs on untrusted data. */
static int cmyk_to_rgb(VipsImage **im)
{
	VipsImage *cmy = NULL, *k = NULL, *inv = NULL, *prod = NULL, *out = NULL;
	int r = -1;

	if (vips_invert(*im, &inv, NULL) ||
	    vips_extract_band(inv, &cmy, 0, "n", 3, NULL) ||
	    vips_extract_band(inv, &k, 3, NULL) ||
	    vips_multiply(cmy, k, &prod, NULL) ||
	    vips_linear1(prod, &out, 1.0 / 255.0, 0.0, "uchar", TRUE, NULL))
		goto out;
	vips_image_set_int(out, "interpretation", VIPS_INTERPRETATION_sRGB);
	advance(im, out);
	out = NULL;
	r = 0;
out:
	VIPS_UNREF(cmy);
	VIPS_UNREF(k);
	VIPS_UNREF(inv);
	VIPS_UNREF(prod);
	VIPS_UNREF(out);
	return r;
}

/* Bring any loaded image to 8-bit grey (1 band) or RGB (3 bands): alpha
 * dropped without flattening, CMYK converted, 16-bit and float scaled. */
static int to_8bit(VipsImage **im)
{
	VipsImage *t;
	VipsInterpretation interp;
	int want;

	if ((*im)->Coding != VIPS_CODING_NONE) {
		if (vips_colourspace(*im, &t, VIPS_INTERPRETATION_sRGB, NULL))
			return -1;
		advance(im, t);
	}
	if (vips_image_hasalpha(*im) && (*im)->Bands > 1) {
		if (vips_extract_band(*im, &t, 0, "n", (*im)->Bands - 1, NULL))
			return -1;
		advance(im, t);
	}
	interp = vips_image_guess_interpretation(*im);
	if (interp == VIPS_INTERPRETATION_CMYK && (*im)->Bands >= 4) {
		if ((*im)->BandFmt != VIPS_FORMAT_UCHAR) {
			if (vips_cast_uchar(*im, &t, NULL))
				return -1;
			advance(im, t);
		}
		if (cmyk_to_rgb(im))
			return -1;
		interp = VIPS_INTERPRETATION_sRGB;
	}
	want = (*im)->Bands < 3 ? VIPS_INTERPRETATION_B_W : VIPS_INTERPRETATION_sRGB;
	if (((*im)->BandFmt != VIPS_FORMAT_UCHAR || (int)interp != want) &&
	    interp != VIPS_INTERPRETATION_MULTIBAND &&
	    vips_colourspace_issupported(*im)) {
		if (vips_colourspace(*im, &t, (VipsInterpretation)want, NULL))
			return -1;
		advance(im, t);
	}
	if ((*im)->Bands != 1 && (*im)->Bands != 3) {
		if (vips_extract_band(*im, &t, 0, "n", (*im)->Bands >= 3 ? 3 : 1, NULL))
			return -1;
		advance(im, t);
	}
	if ((*im)->BandFmt != VIPS_FORMAT_UCHAR) {
		if (vips_cast_uchar(*im, &t, NULL))
			return -1;
		advance(im, t);
	}
	return 0;
}

/* Run the pipeline ending in `im` into out->pixels, STRIP_ROWS rows at a
 * time, in this thread. */
static int read_pixels(VipsImage *im, struct hw_image *out)
{
	VipsRegion *src = NULL, *dst = NULL;
	VipsImage *mem = NULL;
	VipsRect all = { 0, 0, (int)out->width, (int)out->height };
	int r = -1;

	mem = vips_image_new_from_memory(out->pixels, out->stride * out->height,
					 (int)out->width, (int)out->height,
					 (int)out->channels, VIPS_FORMAT_UCHAR);
	if (!mem)
		goto out;
	src = vips_region_new(im);
	dst = vips_region_new(mem);
	if (!src || !dst || vips_region_image(dst, &all))
		goto out;
	for (int y = 0; y < all.height; y += STRIP_ROWS) {
		VipsRect strip = { 0, y, all.width,
				   VIPS_MIN(STRIP_ROWS, all.height - y) };
		if (vips_region_prepare_to(src, dst, &strip, 0, y))
			goto out;
	}
	r = 0;
out:
	VIPS_UNREF(src);
	VIPS_UNREF(dst);
	VIPS_UNREF(mem);
	return r;
}

/* Only the allowed loaders look at the bytes.  vips_foreign_find_load_buffer
 * would ask every loader's sniffer, blocked ones too (in libvips 8.14), and
 * ImageMagick's initialises ImageMagick and loads its coder modules on the
 * first bytes it does not know: code outside the allow-list, and in a
 * sandboxed worker a denied open(). */
static const struct format *find_format(const void *buf, size_t len)
{
	const struct format *found = NULL;
	char nick[32];

	for (size_t i = 0; !found && i < sizeof(formats) / sizeof(formats[0]); i++) {
		snprintf(nick, sizeof(nick), "%sload_buffer", formats[i].name);
		if (vips_type_find("VipsOperation", nick) &&
		    vips_foreign_is_a_buffer(nick, buf, len))
			found = &formats[i];
	}
	vips_error_clear();
	return found;
}

/* When no loader takes the bytes: do they still start like one of the
 * allowed formats?  Then the file is damaged (a TIFF cut before its
 * directory, say), which is worth telling apart from "not an image". */
static const char *allowed_signature(const uint8_t *p, size_t len)
{
	static const struct {
		size_t off, len;
		const char *bytes, *name;
	} sig[] = {
		{ 0, 3, "\xff\xd8\xff", "JPEG" },
		{ 0, 8, "\x89PNG\r\n\x1a\n", "PNG" },
		{ 0, 4, "GIF8", "GIF" },
		{ 8, 4, "WEBP", "WebP" },
		{ 0, 4, "II*\0", "TIFF" },
		{ 0, 4, "MM\0*", "TIFF" },
		{ 4, 4, "ftyp", "HEIF" },
	};

	for (size_t i = 0; i < sizeof(sig) / sizeof(sig[0]); i++)
		if (len >= sig[i].off + sig[i].len &&
		    memcmp(p + sig[i].off, sig[i].bytes, sig[i].len) == 0)
			return sig[i].name;
	return NULL;
}

/* The fast mode's point sampling (see DECODE_FAST_GRID): pull only the
 * grid's source rows out of the loader (which still decodes every row,
 * sequentially, but hands over only these) and keep only the grid's
 * columns of each, in a small memory image with the same bands, sample
 * format and interpretation.  Returns 0 with *ret set, or -1 on a libvips
 * or allocation error. */
static int grid_sample(VipsImage *in, VipsImage **ret)
{
	const uint32_t w = (uint32_t)in->Xsize, h = (uint32_t)in->Ysize;
	const size_t pel = (size_t)VIPS_IMAGE_SIZEOF_PEL(in);
	const size_t orow = DECODE_FAST_GRID * pel;
	uint8_t *out = malloc(orow * DECODE_FAST_GRID);
	VipsRegion *reg = vips_region_new(in);
	uint32_t have = UINT32_MAX;
	int r = -1;

	if (!out || !reg) {
		if (reg)
			vips_error("hashwatch", "out of memory");
		goto out;
	}
	for (uint32_t oy = 0; oy < DECODE_FAST_GRID; oy++) {
		uint32_t sy = decode_grid_src(oy, h);
		uint8_t *dst = out + oy * orow;
		if (sy == have) { /* an image under 512 rows repeats rows */
			memcpy(dst, dst - orow, orow);
			continue;
		}
		VipsRect line = { 0, (int)sy, (int)w, 1 };
		if (vips_region_prepare(reg, &line))
			goto out;
		const uint8_t *src = (const uint8_t *)VIPS_REGION_ADDR(reg, 0, (int)sy);
		for (uint32_t ox = 0; ox < DECODE_FAST_GRID; ox++)
			memcpy(dst + ox * pel, src + decode_grid_src(ox, w) * pel, pel);
		have = sy;
	}
	*ret = vips_image_new_from_memory_copy(out, orow * DECODE_FAST_GRID,
					       DECODE_FAST_GRID, DECODE_FAST_GRID,
					       in->Bands, in->BandFmt);
	if (!*ret)
		goto out;
	(*ret)->Type = in->Type;
	r = 0;
out:
	VIPS_UNREF(reg);
	free(out);
	return r;
}

/* The libvips path: every allowed format but JPEG. */
static int decode_vips(const struct format *fmt, const void *buf, size_t len,
		       const struct decode_opts *opts, uint64_t max_pixels,
		       struct hw_image *ret, struct decode_info *info,
		       char *err, size_t errlen)
{
	struct hw_image img = { 0 };
	VipsImage *im = NULL, *t = NULL;
	void *data = (void *)buf; /* libvips' loaders take non-const pointers */
	int r;

	/* Header only: the loaders are lazy, no pixel is decoded yet. */
	if (fmt->load(data, len, &im, "access", VIPS_ACCESS_SEQUENTIAL,
		      "fail_on", VIPS_FAIL_ON_ERROR, NULL)) {
		r = -EBADMSG;
		take_vips_error(err, errlen, "bad image header");
		goto out;
	}
	info->src_width = (uint32_t)im->Xsize;
	info->src_height = (uint32_t)im->Ysize;
	if ((uint64_t)info->src_width * info->src_height > max_pixels) {
		r = -EFBIG;
		if (err)
			snprintf(err, errlen, "image is %ux%u, more than the limit of %llu pixels",
				 info->src_width, info->src_height,
				 (unsigned long long)max_pixels);
		goto out;
	}
	if (opts->mode == DECODE_FAST &&
	    (info->src_width > DECODE_FAST_GRID || info->src_height > DECODE_FAST_GRID)) {
		uint32_t big = VIPS_MAX(info->src_width, info->src_height);
		if (im->Coding != VIPS_CODING_NONE) { /* packed LAB TIFF: rare */
			if (vips_colourspace(im, &t, VIPS_INTERPRETATION_sRGB, NULL))
				goto vips_fail;
			advance(&im, t);
		}
		if (grid_sample(im, &t))
			goto vips_fail;
		advance(&im, t);
		info->shrink = (big + DECODE_FAST_GRID - 1) / DECODE_FAST_GRID;
	}
	if (to_8bit(&im))
		goto vips_fail;
	r = hw_image_alloc(&img, (uint32_t)im->Xsize, (uint32_t)im->Ysize,
			   (uint32_t)im->Bands);
	if (r < 0) {
		if (err)
			snprintf(err, errlen, "cannot allocate %dx%d pixels", im->Xsize, im->Ysize);
		goto out;
	}
	if (read_pixels(im, &img))
		goto vips_fail;
	*ret = img;
	img.pixels = NULL;
	r = 0;
	goto out;
vips_fail:
	r = -EBADMSG;
	take_vips_error(err, errlen, "corrupt image data");
out:
	VIPS_UNREF(im);
	hw_image_free(&img);
	return r;
}

/* WebP: libwebp reads the header first (libvips' loader allocates the
 * whole canvas while it reads it); the fast mode decodes still images
 * itself, libvips the rest (animations: their first frame). */
static int decode_webp(const struct format *fmt, const void *buf, size_t len,
		       const struct decode_opts *opts, uint64_t max_pixels,
		       struct hw_image *ret, struct decode_info *info,
		       char *err, size_t errlen)
{
	int r;

	if (opts->mode == DECODE_FAST)
		r = decode_webp_fast(buf, len, max_pixels, ret, info, err, errlen);
	else
		r = decode_webp_header(buf, len, max_pixels, NULL, err, errlen);
	if (r == -ENOTSUP || (r == 0 && opts->mode == DECODE_EXACT))
		r = decode_vips(fmt, buf, len, opts, max_pixels, ret, info, err, errlen);
	return r;
}

int decode_buffer(const void *buf, size_t len, const struct decode_opts *opts,
		  struct hw_image *ret, struct decode_info *ret_info,
		  char *err, size_t errlen)
{
	static const struct decode_opts defaults = { DECODE_FAST, 0, false };
	const struct format *fmt;
	struct decode_info info = { { 0 }, 0, 0, 1 };
	struct hw_image img;
	uint64_t max_pixels;
	int r;

	if (!opts)
		opts = &defaults;
	max_pixels = opts->max_pixels ? opts->max_pixels : DECODE_DEFAULT_MAX_PIXELS;
	if (err && errlen)
		err[0] = '\0';
	if (!buf || len == 0) {
		if (err)
			snprintf(err, errlen, "empty file");
		return -EMEDIUMTYPE;
	}
	fmt = find_format(buf, len);
	if (!fmt) {
		const char *damaged = allowed_signature(buf, len);
		if (err && damaged)
			snprintf(err, errlen, "damaged %s file: no decoder accepts it", damaged);
		else if (err)
			snprintf(err, errlen, "not an image in an allowed format (JPEG, PNG, WebP, GIF, TIFF, HEIF)");
		return damaged ? -EBADMSG : -EMEDIUMTYPE;
	}
	snprintf(info.format, sizeof(info.format), "%s", fmt->name);
	if (fmt->load == vips_jpegload_buffer)
		r = decode_jpeg(buf, len, opts, max_pixels, &img, &info, err, errlen);
	else if (fmt->load == vips_webpload_buffer)
		r = decode_webp(fmt, buf, len, opts, max_pixels, &img, &info, err, errlen);
	else
		r = decode_vips(fmt, buf, len, opts, max_pixels, &img, &info, err, errlen);
	if (r < 0)
		return r;
	*ret = img;
	if (ret_info)
		*ret_info = info;
	return 0;
}

const char *decode_strerror(int code)
{
	switch (code) {
	case 0:
		return "success";
	case -EMEDIUMTYPE:
		return "not an image, or a format outside the allow-list";
	case -EFBIG:
		return "image dimensions over the pixel limit";
	case -EBADMSG:
		return "corrupt or truncated image data";
	case -ENOMEM:
		return "out of memory";
	default:
		return code < 0 ? strerror(-code) : "unknown decoder status";
	}
}
