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

/* pHash, dHash and aHash share one grey conversion and one sweep over the
 * rows, so they are computed together. */
static int run_imagehash(const struct hw_image *img, uint32_t mask,
			 struct hasher_result *res, int *ret_failed)
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
	if (r < 0) {
		*ret_failed = HW_MODEL_PHASH;
		return r;
	}
	for (int i = 0; i < 3; i++) {
		if (!(mask & (1u << ids[i])))
			continue;
		struct hw_hash *h = &res->hash[ids[i]];
		h->model = ids[i];
		h->len = 8;
		h->quality = -1;
		for (int b = 0; b < 8; b++)
			h->bytes[b] = (uint8_t)(v[i] >> (56 - 8 * b));
		res->mask |= 1u << ids[i];
	}
	return 0;
}

int hasher_run(const void *buf, size_t len, uint32_t mask, unsigned flags,
	       const struct decode_opts *dopts, struct hasher_result *ret,
	       char *err, size_t errlen)
{
	struct hw_image img = { 0 };
	uint32_t image_mask = 0;
	int id, r;

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
	r = decode_buffer(buf, len, dopts, &img, &ret->info, err, errlen);
	if (r < 0)
		return r;
	r = run_imagehash(&img, image_mask, ret, &id);
	if (r < 0)
		goto fail;
	image_mask &= ~IMAGEHASH_MASK;
	for (id = 1; id < HW_MODEL__MAX; id++) {
		if (!(image_mask & (1u << id)))
			continue;
		if (id == HW_MODEL_PDQ && (flags & HASHER_DIHEDRAL)) {
			struct pdq_dihedral *d = &ret->pdq_dihedral;
			struct hw_hash *h = &ret->hash[id];
			r = pdq_hash_dihedral(&img, d);
			if (r < 0)
				goto fail;
			ret->have_dihedral = true;
			h->model = HW_MODEL_PDQ;
			h->len = PDQ_BYTES;
			h->quality = (int16_t)d->quality;
			memcpy(h->bytes, d->v[PDQ_ORIG].bytes, PDQ_BYTES);
		} else {
			r = hw_model_hash_image((enum hw_model_id)id, &img, &ret->hash[id]);
			if (r < 0)
				goto fail;
		}
		ret->mask |= 1u << id;
	}
	hw_image_free(&img);
	return 0;
fail:
	if (err)
		snprintf(err, errlen, "%s: %s",
			 hw_model_by_id((enum hw_model_id)id)->name,
			 r == -ENOPKG ? "the OpenCV module is not installed (install the hashwatch-opencv package)"
				      : strerror(-r));
	hw_image_free(&img);
	return r;
}
