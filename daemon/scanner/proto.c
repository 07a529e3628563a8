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
	for (int id = 1; id < HW_MODEL__MAX; id++) {
		if (!(res->mask & (1u << id)))
			continue;
		const struct hw_hash *h = &res->hash[id];
		m->hash[id].model = (uint16_t)h->model;
		m->hash[id].len = h->len <= HW_HASH_MAX ? h->len : HW_HASH_MAX;
		m->hash[id].quality = h->quality;
		memcpy(m->hash[id].bytes, h->bytes, m->hash[id].len);
	}
	if (res->have_dihedral) {
		m->have_dihedral = 1;
		m->pdq_quality = res->pdq_dihedral.quality;
		for (int v = 0; v < PDQ_NDIHEDRAL; v++)
			memcpy(m->dihedral[v], res->pdq_dihedral.v[v].bytes, PDQ_BYTES);
	}
	memcpy(m->format, res->info.format,
	       sizeof(m->format) < sizeof(res->info.format) ? sizeof(m->format)
							    : sizeof(res->info.format));
	m->format[sizeof(m->format) - 1] = '\0';
	m->src_width = res->info.src_width;
	m->src_height = res->info.src_height;
	m->shrink = res->info.shrink;
}

#define BAD(...)                                                               \
	do {                                                                   \
		snprintf(why, whylen, __VA_ARGS__);                            \
		return -EPROTO;                                                \
	} while (0)

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
	for (int id = 1; id < HW_MODEL__MAX; id++) {
		if (!(m->models & (1u << id)))
			continue;
		const struct hw_model_info *info = hw_model_by_id((enum hw_model_id)id);
		const struct proto_hash *h = &m->hash[id];
		if (!info || h->model != id || h->len != info->bytes || h->len > HW_HASH_MAX)
			BAD("hash slot %d holds model %u of %u bytes", id, h->model, h->len);
		if (h->quality < -1 || h->quality > 100)
			BAD("quality %d out of range", h->quality);
	}
	if (m->have_dihedral > 1)
		BAD("dihedral flag %u", m->have_dihedral);
	if (m->have_dihedral && (!(flags & PROTO_F_DIHEDRAL) ||
				 !(m->models & (1u << HW_MODEL_PDQ))))
		BAD("dihedral variants that were not asked for");
	if (m->have_dihedral && (m->pdq_quality < 0 || m->pdq_quality > 100))
		BAD("PDQ quality %d out of range", m->pdq_quality);
	if (!memchr(m->format, '\0', sizeof(m->format)) ||
	    !memchr(m->reason, '\0', sizeof(m->reason)))
		BAD("unterminated string");
	return 0;
}

void proto_result_to(const struct proto_result *m, struct hasher_result *ret)
{
	memset(ret, 0, sizeof(*ret));
	ret->mask = m->models;
	for (int id = 1; id < HW_MODEL__MAX; id++) {
		if (!(m->models & (1u << id)))
			continue;
		ret->hash[id].model = (enum hw_model_id)id;
		ret->hash[id].len = m->hash[id].len;
		ret->hash[id].quality = m->hash[id].quality;
		memcpy(ret->hash[id].bytes, m->hash[id].bytes, m->hash[id].len);
	}
	if (m->have_dihedral) {
		ret->have_dihedral = true;
		ret->pdq_dihedral.quality = m->pdq_quality;
		for (int v = 0; v < PDQ_NDIHEDRAL; v++)
			memcpy(ret->pdq_dihedral.v[v].bytes, m->dihedral[v], PDQ_BYTES);
	}
	snprintf(ret->info.format, sizeof(ret->info.format), "%s", m->format);
	ret->info.src_width = m->src_width;
	ret->info.src_height = m->src_height;
	ret->info.shrink = m->shrink;
}
