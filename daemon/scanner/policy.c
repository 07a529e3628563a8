/* policy.c - grouping matches per entry, choosing the reported one,
 * deciding "confirmed". */
#include <string.h>

#include "policy.h"

void policy_thresholds(const struct config *cfg, double out[HW_MODEL__MAX])
{
	for (int i = 0; i < HW_MODEL__MAX; i++)
		out[i] = -1;
	out[HW_MODEL_PDQ] = cfg->pdq_max_distance;
	out[HW_MODEL_PHASH] = cfg->phash_max_distance;
	out[HW_MODEL_DHASH] = cfg->dhash_max_distance;
	out[HW_MODEL_AHASH] = cfg->ahash_max_distance;
}

static bool is_digest(enum hw_model_id id)
{
	const struct hw_model_info *m = hw_model_by_id(id);
	return m && m->kind == HW_KIND_BYTES;
}

/* Lower is better: PDQ first, then perceptual models by distance as a
 * share of their length, then digests (SHA-256 first). */
static double rank(const struct hwdb_match *m)
{
	const struct hw_model_info *info = hw_model_by_id(m->model);
	if (!info)
		return 1e9;
	if (m->model == HW_MODEL_PDQ)
		return m->distance / 256.0;
	if (info->kind == HW_KIND_IMAGE)
		return 1.0 + (info->metric == HW_METRIC_HAMMING && info->bytes
				      ? m->distance / (8.0 * info->bytes)
				      : 0.5);
	return m->model == HW_MODEL_SHA256 ? 3.0 : m->model == HW_MODEL_SHA1 ? 3.1 : 3.2;
}

/* The quality of a model's hash in one region of res, -1 if none. */
static int region_quality(const struct hasher_result *res, enum hasher_region region,
			  enum hw_model_id model)
{
	struct hasher_view v[HASHER_NREGIONS];
	unsigned n = hasher_regions(res, v);

	for (unsigned i = 0; i < n; i++)
		if (v[i].region == region)
			return (v[i].mask & (1u << model)) ? v[i].hash[model].quality : -1;
	return -1;
}

size_t policy_group(const struct hwdb_match *m, size_t n,
		    const struct hasher_result *res, struct policy_hit *out,
		    size_t cap)
{
	size_t nh = 0;

	for (size_t i = 0; i < n; i++) {
		struct policy_hit *h = NULL;
		for (size_t k = 0; k < nh && !h; k++)
			if (out[k].entry == m[i].entry)
				h = &out[k];
		if (!h) {
			if (nh == cap)
				continue;
			h = &out[nh++];
			memset(h, 0, sizeof(*h));
			h->entry = m[i].entry;
			h->model = HW_MODEL_NONE;
		}
		h->models |= 1u << m[i].model;
		struct hwdb_match cur = { .model = h->model, .distance = h->distance };
		if (h->model == HW_MODEL_NONE || rank(&m[i]) < rank(&cur)) {
			h->model = m[i].model;
			h->distance = m[i].distance;
			h->variant = m[i].variant;
			h->region = (enum hasher_region)m[i].region;
			h->box = m[i].box;
		}
	}
	for (size_t k = 0; k < nh; k++) {
		struct policy_hit *h = &out[k];
		unsigned perceptual = 0, digests = 0;
		for (int id = 1; id < HW_MODEL__MAX; id++) {
			if (!(h->models & (1u << id)))
				continue;
			if (is_digest((enum hw_model_id)id))
				digests++;
			else
				perceptual++;
		}
		h->confirmed = perceptual >= 2 || (perceptual >= 1 && digests >= 1);
		h->quality = region_quality(res, h->region, h->model);
		if (h->model != HW_MODEL_PDQ)
			h->variant = -1;
	}
	return nh;
}
