/* hasher.c - digests, one decode, then every requested image model. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "digest.h"
#include "hasher.h"
#include "imagehash.h"

static int run_digests(const void *buf, size_t len, uint32_t mask,
		       struct hasher_result *res)
{
	static const struct {
		enum hw_model_id id;
		unsigned bit;
		size_t off;
	} map[] = {
		{ HW_MODEL_MD5, DIGEST_MD5, offsetof(struct digest_set, md5) },
		{ HW_MODEL_SHA1, DIGEST_SHA1, offsetof(struct digest_set, sha1) },
		{ HW_MODEL_SHA256, DIGEST_SHA256, offsetof(struct digest_set, sha256) },
	};
	struct digest_set d;
	unsigned which = 0;
	int r;

	for (size_t i = 0; i < 3; i++)
		if (mask & (1u << map[i].id))
			which |= map[i].bit;
	if (!which)
		return 0;
	r = digest_compute(buf, len, which, &d);
	if (r < 0)
		return r;
	for (size_t i = 0; i < 3; i++) {
		if (!(which & map[i].bit))
			continue;
		const struct hw_model_info *m = hw_model_by_id(map[i].id);
		struct hw_hash *h = &res->hash[map[i].id];
		h->model = map[i].id;
		h->len = m->bytes;
		h->quality = -1;
		memcpy(h->bytes, (const uint8_t *)&d + map[i].off, m->bytes);
		res->mask |= 1u << map[i].id;
	}
	return 0;
}

#define IMAGEHASH_MASK                                                         \
	((1u << HW_MODEL_PHASH) | (1u << HW_MODEL_DHASH) | (1u << HW_MODEL_AHASH))

/* Where one region's image hashes go: the whole image's fields of
 * hasher_result, or its `inner` member (same fields, another struct). */
struct region_out {
	uint32_t *mask;
	struct hw_hash *hash;
	bool *have_dihedral;
	struct pdq_dihedral *dihedral;
};

/* pHash, dHash and aHash share one grey conversion and one sweep over the
 * rows, so they are computed together. */
static int run_imagehash(const struct hw_image *img, uint32_t mask,
			 const struct region_out *out)
{
	static const enum hw_model_id ids[3] = { HW_MODEL_PHASH, HW_MODEL_DHASH,
						 HW_MODEL_AHASH };
	uint64_t v[3];
	int r;

	if (!(mask & IMAGEHASH_MASK))
		return 0;
	r = imagehash_all(img, (mask & (1u << ids[0])) ? &v[0] : NULL,
			  (mask & (1u << ids[1])) ? &v[1] : NULL,
			  (mask & (1u << ids[2])) ? &v[2] : NULL);
	if (r < 0)
		return r;
	for (int i = 0; i < 3; i++) {
		if (!(mask & (1u << ids[i])))
			continue;
		struct hw_hash *h = &out->hash[ids[i]];
		h->model = ids[i];
		h->len = 8;
		h->quality = -1;
		for (int b = 0; b < 8; b++)
			h->bytes[b] = (uint8_t)(v[i] >> (56 - 8 * b));
		*out->mask |= 1u << ids[i];
	}
	return 0;
}

/* Every image model of `mask` on img.  On failure *ret_failed names the
 * model that failed. */
static int run_image_models(const struct hw_image *img, uint32_t mask,
			    unsigned flags, const struct region_out *out,
			    int *ret_failed)
{
	int id, r;

	r = run_imagehash(img, mask, out);
	if (r < 0) {
		*ret_failed = HW_MODEL_PHASH;
		return r;
	}
	mask &= ~IMAGEHASH_MASK;
	for (id = 1; id < HW_MODEL__MAX; id++) {
		if (!(mask & (1u << id)))
			continue;
		if (id == HW_MODEL_PDQ && (flags & HASHER_DIHEDRAL)) {
			struct hw_hash *h = &out->hash[id];
			r = pdq_hash_dihedral(img, out->dihedral);
			if (r < 0)
				break;
			*out->have_dihedral = true;
			h->model = HW_MODEL_PDQ;
			h->len = PDQ_BYTES;
			h->quality = (int16_t)out->dihedral->quality;
			memcpy(h->bytes, out->dihedral->v[PDQ_ORIG].bytes, PDQ_BYTES);
		} else {
			r = hw_model_hash_image((enum hw_model_id)id, img, &out->hash[id]);
			if (r < 0)
				break;
		}
		*out->mask |= 1u << id;
	}
	if (r < 0)
		*ret_failed = id;
	return r;
}

uint32_t hasher_trim_models(void)
{
	uint32_t mask = 0;

	for (int id = 1; id < HW_MODEL__MAX; id++) {
		const struct hw_model_info *m = hw_model_by_id((enum hw_model_id)id);
		if (m && m->kind == HW_KIND_IMAGE && m->metric == HW_METRIC_HAMMING &&
		    (id == HW_MODEL_PDQ || m->bytes == 8))
			mask |= 1u << id;
	}
	return mask;
}

/* Decoded coordinate v of a side of `dec` pixels, in the file's `src`
 * pixels.  Exact when the decoder did not shrink. */
static uint32_t to_src(uint32_t v, uint32_t dec, uint32_t src)
{
	if (dec == 0 || src == 0 || dec == src)
		return v;
	return (uint32_t)(((uint64_t)v * src + dec / 2) / dec);
}

/* The block of the lossy codec the image came from, in decoded pixels
 * (border.h): JPEG's 16-pixel 4:2:0 chroma block, and WebP's and HEIF's
 * 16-pixel macroblocks as the common case, shrunk with the decode; 0 for
 * the lossless formats. */
static uint16_t codec_block(const struct decode_info *info)
{
	static const char *const lossless[] = { "png", "gif", "tiff" };
	uint32_t shrink = info->shrink ? info->shrink : 1;

	for (size_t i = 0; i < sizeof(lossless) / sizeof(lossless[0]); i++)
		if (strcmp(info->format, lossless[i]) == 0)
			return 0;
	return (uint16_t)(shrink >= 8 ? 2 : 16 / shrink);
}

/* Hash the box b of img into *in. */
static int hash_region(const struct hw_image *img, struct border_box b,
		       uint32_t mask, unsigned flags, const struct decode_info *info,
		       struct hasher_inner *in, int *ret_failed)
{
	struct region_out out = { &in->mask, in->hash, &in->have_dihedral,
				  &in->pdq_dihedral };
	struct hw_image view;
	int r;

	r = hw_image_crop(img, b.x, b.y, b.w, b.h, &view);
	if (r == 0)
		r = run_image_models(&view, mask, flags, &out, ret_failed);
	if (r < 0) {
		memset(in, 0, sizeof(*in));
		return r;
	}
	in->decoded_box = b;
	in->box.x = to_src(b.x, img->width, info->src_width);
	in->box.y = to_src(b.y, img->height, info->src_height);
	in->box.w = to_src(b.x + b.w, img->width, info->src_width) - in->box.x;
	in->box.h = to_src(b.y + b.h, img->height, info->src_height) - in->box.y;
	return 0;
}

/* The hashes of the picture inside the borders of img, if it has any. */
static int run_inner(const struct hw_image *img, uint32_t mask, unsigned flags,
		     struct hasher_result *res, int *ret_failed)
{
	struct border_params bp;
	struct border_box b, outer;
	int r;

	mask &= hasher_trim_models();
	if (!mask)
		return 0;
	border_params_default(&bp);
	bp.codec_block = codec_block(&res->info);
	r = border_find(img, &bp, &b, &outer);
	if (r <= 0)
		return r;
	r = hash_region(img, b, mask, flags, &res->info, &res->inner, ret_failed);
	if (r == 0 && memcmp(&b, &outer, sizeof(b)) != 0)
		r = hash_region(img, outer, mask, flags, &res->info, &res->inner_outer,
				ret_failed);
	if (r < 0)
		memset(&res->inner, 0, sizeof(res->inner));
	return r;
}

unsigned hasher_regions(const struct hasher_result *res,
			struct hasher_view views[HASHER_NREGIONS])
{
	const struct hasher_inner *in[2] = { &res->inner, &res->inner_outer };
	unsigned n = 0;

	views[n++] = (struct hasher_view){
		.region = HASHER_WHOLE,
		.mask = res->mask,
		.hash = res->hash,
		.have_dihedral = res->have_dihedral,
		.pdq_dihedral = &res->pdq_dihedral,
		.box = { 0, 0, res->info.src_width, res->info.src_height },
	};
	for (int i = 0; i < 2; i++)
		if (in[i]->mask)
			views[n++] = (struct hasher_view){
				.region = i ? HASHER_INNER_OUTER : HASHER_INNER,
				.mask = in[i]->mask,
				.hash = in[i]->hash,
				.have_dihedral = in[i]->have_dihedral,
				.pdq_dihedral = &in[i]->pdq_dihedral,
				.box = in[i]->box,
			};
	return n;
}

int hasher_run(const void *buf, size_t len, uint32_t mask, unsigned flags,
	       const struct decode_opts *dopts, struct hasher_result *ret,
	       char *err, size_t errlen)
{
	struct region_out whole = { &ret->mask, ret->hash, &ret->have_dihedral,
				    &ret->pdq_dihedral };
	struct hw_image img = { 0 };
	struct decode_opts dec = { DECODE_FAST, 0, false };
	uint32_t image_mask = 0;
	int id = HW_MODEL_NONE, r;

	memset(ret, 0, sizeof(*ret));
	r = run_digests(buf, len, mask, ret);
	if (r < 0) {
		if (err)
			snprintf(err, errlen, "digest failed: %s", strerror(-r));
		return r;
	}
	for (id = 1; id < HW_MODEL__MAX; id++) {
		const struct hw_model_info *m = hw_model_by_id((enum hw_model_id)id);
		if ((mask & (1u << id)) && m && m->kind == HW_KIND_IMAGE)
			image_mask |= 1u << id;
	}
	if (!image_mask)
		return 0;
	if (dopts)
		dec = *dopts;
	/* Every image model but OpenCV's colour moments reads only luma. */
	if (!(image_mask & (1u << HW_MODEL_CV_COLORMOMENT)))
		dec.grey_ok = true;
	r = decode_buffer(buf, len, &dec, &img, &ret->info, err, errlen);
	if (r < 0)
		return r;
	r = run_image_models(&img, image_mask, flags, &whole, &id);
	if (r == 0 && (flags & HASHER_TRIM))
		r = run_inner(&img, image_mask, flags, ret, &id);
	if (r < 0 && err) {
		const struct hw_model_info *m = hw_model_by_id((enum hw_model_id)id);
		snprintf(err, errlen, "%s: %s", m ? m->name : "border",
			 r == -ENOPKG ? "the OpenCV module is not installed (install the hashwatch-opencv package)"
				      : strerror(-r));
	}
	hw_image_free(&img);
	return r;
}

const char *hasher_region_name(enum hasher_region r)
{
	switch (r) {
	case HASHER_INNER:
		return "inner";
	case HASHER_INNER_OUTER:
		return "inner_outer";
	case HASHER_WHOLE:
		break;
	}
	return "whole";
}
