/* proto.c - building and checking worker messages. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "proto.h"

void proto_request_init(struct proto_request *m, uint64_t seq, uint32_t models,
			uint32_t flags, uint64_t max_bytes, uint64_t max_pixels)
{
	memset(m, 0, sizeof(*m));
	m->magic = PROTO_MAGIC;
	m->type = PROTO_HASH;
	m->seq = seq;
	m->models = models;
	m->flags = flags;
	m->max_bytes = max_bytes;
	m->max_pixels = max_pixels;
}

static uint32_t known_models(void)
{
	uint32_t mask = 0;
	for (int id = 1; id < HW_MODEL__MAX; id++)
		if (hw_model_by_id((enum hw_model_id)id))
			mask |= 1u << id;
	return mask;
}

int proto_check_request(const struct proto_request *m, size_t len)
{
	if (len != sizeof(*m) || m->magic != PROTO_MAGIC || m->type != PROTO_HASH ||
	    (m->models & ~known_models()) || (m->flags & ~PROTO_F_ALL) ||
	    m->max_bytes == 0)
		return -EPROTO;
	return 0;
}

static void hashes_from(struct proto_hash out[HW_MODEL__MAX],
			const struct hw_hash in[HW_MODEL__MAX], uint32_t mask)
{
	for (int id = 1; id < HW_MODEL__MAX; id++) {
		if (!(mask & (1u << id)))
			continue;
		const struct hw_hash *h = &in[id];
		out[id].model = (uint16_t)h->model;
		out[id].len = h->len <= HW_HASH_MAX ? h->len : HW_HASH_MAX;
		out[id].quality = h->quality;
		memcpy(out[id].bytes, h->bytes, out[id].len);
	}
}

static void dihedral_from(uint8_t out[PDQ_NDIHEDRAL][PDQ_BYTES], int32_t *quality,
			  const struct pdq_dihedral *in)
{
	*quality = in->quality;
	for (int v = 0; v < PDQ_NDIHEDRAL; v++)
		memcpy(out[v], in->v[v].bytes, PDQ_BYTES);
}

static void region_from(struct proto_region *m, enum hasher_region region,
			const struct hasher_inner *in)
{
	if (!in->mask)
		return;
	m->region = (uint8_t)region;
	m->models = in->mask;
	hashes_from(m->hash, in->hash, in->mask);
	if (in->have_dihedral) {
		m->have_dihedral = 1;
		dihedral_from(m->dihedral, &m->pdq_quality, &in->pdq_dihedral);
	}
	m->x = in->box.x;
	m->y = in->box.y;
	m->w = in->box.w;
	m->h = in->box.h;
}

void proto_result_from(struct proto_result *m, uint64_t seq, int error,
		       const struct hasher_result *res, const char *reason,
		       uint64_t bytes_read, uint64_t cpu_usec)
{
	memset(m, 0, sizeof(*m));
	m->magic = PROTO_MAGIC;
	m->type = PROTO_RESULT;
	m->seq = seq;
	m->error = error;
	m->bytes_read = bytes_read;
	m->cpu_usec = cpu_usec;
	if (error && reason)
		snprintf(m->reason, sizeof(m->reason), "%s", reason);
	if (!res)
		return;
	m->models = res->mask;
	hashes_from(m->hash, res->hash, res->mask);
	if (res->have_dihedral) {
		m->have_dihedral = 1;
		dihedral_from(m->dihedral, &m->pdq_quality, &res->pdq_dihedral);
	}
	memcpy(m->format, res->info.format,
	       sizeof(m->format) < sizeof(res->info.format) ? sizeof(m->format)
							    : sizeof(res->info.format));
	m->format[sizeof(m->format) - 1] = '\0';
	m->src_width = res->info.src_width;
	m->src_height = res->info.src_height;
	m->shrink = res->info.shrink;
	/* hasher_run() leaves the regions zero when it fails */
	if (!error) {
		region_from(&m->inner[0], HASHER_INNER, &res->inner);
		region_from(&m->inner[1], HASHER_INNER_OUTER, &res->inner_outer);
	}
}

#define BAD(...)                                                               \
	do {                                                                   \
		snprintf(why, whylen, __VA_ARGS__);                            \
		return -EPROTO;                                                \
	} while (0)

/* Every hash of mask in its slot, of its model and the registry's length. */
static int hashes_check(const struct proto_hash h[HW_MODEL__MAX], uint32_t mask,
			char *why, size_t whylen)
{
	for (int id = 1; id < HW_MODEL__MAX; id++) {
		if (!(mask & (1u << id)))
			continue;
		const struct hw_model_info *info = hw_model_by_id((enum hw_model_id)id);
		if (!info || h[id].model != id || h[id].len != info->bytes ||
		    h[id].len > HW_HASH_MAX)
			BAD("hash slot %d holds model %u of %u bytes", id, h[id].model,
			    h[id].len);
		if (h[id].quality < -1 || h[id].quality > 100)
			BAD("quality %d out of range", h[id].quality);
	}
	return 0;
}

static int dihedral_check(uint8_t have, int32_t quality, uint32_t models,
			  uint32_t flags, char *why, size_t whylen)
{
	if (have > 1)
		BAD("dihedral flag %u", have);
	if (have && (!(flags & PROTO_F_DIHEDRAL) || !(models & (1u << HW_MODEL_PDQ))))
		BAD("dihedral variants that were not asked for");
	if (have && (quality < 0 || quality > 100))
		BAD("PDQ quality %d out of range", quality);
	return 0;
}

/* Inner region slot i: empty, or a region the daemon asked for whose box
 * is a non-empty part of the image, smaller than it, and (for the second
 * slot) around the first slot's box. */
static int region_check(const struct proto_result *m, unsigned i, uint32_t models,
			uint32_t flags, char *why, size_t whylen)
{
	const struct proto_region *r = &m->inner[i];
	uint64_t x = r->x, y = r->y, w = r->w, h = r->h;

	if (!r->models) {
		if (r->region || r->have_dihedral || r->w || r->h)
			BAD("inner slot %u is empty but not zero", i);
		return 0;
	}
	if (!(flags & PROTO_F_TRIM))
		BAD("an inner region that was not asked for");
	if (m->error)
		BAD("an inner region with error %d", m->error);
	if (r->region != (i ? HASHER_INNER_OUTER : HASHER_INNER))
		BAD("region %u in inner slot %u", r->region, i);
	if (i && !m->inner[0].models)
		BAD("a second inner region without a first");
	if (r->models & ~(models & hasher_trim_models()))
		BAD("inner hashes %#x that were not asked for (%#x)", r->models,
		    models & hasher_trim_models());
	if (hashes_check(r->hash, r->models, why, whylen) < 0 ||
	    dihedral_check(r->have_dihedral, r->pdq_quality, r->models, flags, why,
			   whylen) < 0)
		return -EPROTO;
	if (w == 0 || h == 0 || x + w > m->src_width || y + h > m->src_height ||
	    (w == m->src_width && h == m->src_height))
		BAD("inner box %llux%llu+%llu+%llu outside or equal to the %ux%u image",
		    (unsigned long long)w, (unsigned long long)h, (unsigned long long)x,
		    (unsigned long long)y, m->src_width, m->src_height);
	if (i) {
		const struct proto_region *in = &m->inner[0];
		if (in->x < x || in->y < y || (uint64_t)in->x + in->w > x + w ||
		    (uint64_t)in->y + in->h > y + h)
			BAD("the second inner box does not hold the first");
	}
	return 0;
}

int proto_check_result(const struct proto_result *m, size_t len, uint64_t seq,
		       uint32_t models, uint32_t flags, char *why, size_t whylen)
{
	if (len != sizeof(*m))
		BAD("reply of %zu bytes, expected %zu", len, sizeof(*m));
	if (m->magic != PROTO_MAGIC || m->type != PROTO_RESULT)
		BAD("reply with magic %#x type %u", m->magic, m->type);
	if (m->seq != seq)
		BAD("reply for request %llu while %llu was asked",
		    (unsigned long long)m->seq, (unsigned long long)seq);
	if (m->error > 0 || m->error < -4095)
		BAD("error code %d out of range", m->error);
	if (m->models & ~models)
		BAD("hashes %#x that were not asked for (%#x)", m->models, models);
	if (hashes_check(m->hash, m->models, why, whylen) < 0 ||
	    dihedral_check(m->have_dihedral, m->pdq_quality, m->models, flags, why,
			   whylen) < 0)
		return -EPROTO;
	for (unsigned i = 0; i < PROTO_NINNER; i++)
		if (region_check(m, i, models, flags, why, whylen) < 0)
			return -EPROTO;
	if (!memchr(m->format, '\0', sizeof(m->format)) ||
	    !memchr(m->reason, '\0', sizeof(m->reason)))
		BAD("unterminated string");
	return 0;
}

static void hashes_to(struct hw_hash out[HW_MODEL__MAX],
		      const struct proto_hash in[HW_MODEL__MAX], uint32_t mask)
{
	for (int id = 1; id < HW_MODEL__MAX; id++) {
		if (!(mask & (1u << id)))
			continue;
		out[id].model = (enum hw_model_id)id;
		out[id].len = in[id].len;
		out[id].quality = in[id].quality;
		memcpy(out[id].bytes, in[id].bytes, in[id].len);
	}
}

static void dihedral_to(struct pdq_dihedral *out, int32_t quality,
			const uint8_t in[PDQ_NDIHEDRAL][PDQ_BYTES])
{
	out->quality = quality;
	for (int v = 0; v < PDQ_NDIHEDRAL; v++)
		memcpy(out->v[v].bytes, in[v], PDQ_BYTES);
}

static void region_to(const struct proto_region *m, struct hasher_inner *ret)
{
	if (!m->models)
		return;
	ret->mask = m->models;
	hashes_to(ret->hash, m->hash, m->models);
	if (m->have_dihedral) {
		ret->have_dihedral = true;
		dihedral_to(&ret->pdq_dihedral, m->pdq_quality, m->dihedral);
	}
	ret->box = (struct border_box){ m->x, m->y, m->w, m->h };
}

void proto_result_to(const struct proto_result *m, struct hasher_result *ret)
{
	memset(ret, 0, sizeof(*ret));
	ret->mask = m->models;
	hashes_to(ret->hash, m->hash, m->models);
	if (m->have_dihedral) {
		ret->have_dihedral = true;
		dihedral_to(&ret->pdq_dihedral, m->pdq_quality, m->dihedral);
	}
	snprintf(ret->info.format, sizeof(ret->info.format), "%s", m->format);
	ret->info.src_width = m->src_width;
	ret->info.src_height = m->src_height;
	ret->info.shrink = m->shrink;
	region_to(&m->inner[0], &ret->inner);
	region_to(&m->inner[1], &ret->inner_outer);
}
