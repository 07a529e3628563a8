/* htab.c - linear probing with tombstones; grows at 70% use. */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "htab.h"

static const char htab_tomb_marker;
#define HTAB_TOMB ((void *)(uintptr_t)&htab_tomb_marker)

static uint64_t hash_key(const struct htab *h, const void *key, size_t len)
{
	unsigned char out[crypto_shorthash_BYTES];
	uint64_t v;

	crypto_shorthash(out, key, len, h->sipkey);
	memcpy(&v, out, sizeof(v));
	return v;
}

int htab_init(struct htab *h, htab_key_fn key, size_t max_items)
{
	memset(h, 0, sizeof(*h));
	if (sodium_init() < 0)
		return -ENOMEM;
	h->cap = 16;
	h->slots = calloc(h->cap, sizeof(*h->slots));
	if (!h->slots)
		return -ENOMEM;
	h->key = key;
	h->max_items = max_items;
	randombytes_buf(h->sipkey, sizeof(h->sipkey));
	return 0;
}

void htab_free(struct htab *h)
{
	if (!h)
		return;
	free(h->slots);
	h->slots = NULL;
	h->cap = h->n = h->tombs = 0;
}

static bool same_key(const struct htab *h, const void *item, const void *key,
		     size_t len)
{
	size_t ilen;
	const void *ikey = h->key(item, &ilen);
	return ilen == len && memcmp(ikey, key, len) == 0;
}

/* Slot index holding the key, or SIZE_MAX. */
static size_t find(const struct htab *h, uint64_t hv, const void *key, size_t len)
{
	size_t mask = h->cap - 1;
	for (size_t i = hv & mask, probes = 0; probes < h->cap; i = (i + 1) & mask, probes++) {
		struct htab_slot *s = &h->slots[i];
		if (!s->item)
			return SIZE_MAX;
		if (s->item != HTAB_TOMB && s->hash == hv && same_key(h, s->item, key, len))
			return i;
	}
	return SIZE_MAX;
}

/* Put item in the first free or deleted slot; true if it was deleted. */
static bool place(struct htab_slot *slots, size_t cap, uint64_t hv, void *item)
{
	size_t mask = cap - 1, i = hv & mask;
	bool tomb;

	while (slots[i].item && slots[i].item != HTAB_TOMB)
		i = (i + 1) & mask;
	tomb = slots[i].item == HTAB_TOMB;
	slots[i].hash = hv;
	slots[i].item = item;
	return tomb;
}

static int resize(struct htab *h, size_t ncap)
{
	struct htab_slot *ns = calloc(ncap, sizeof(*ns));
	if (!ns)
		return -ENOMEM;
	for (size_t i = 0; i < h->cap; i++)
		if (h->slots[i].item && h->slots[i].item != HTAB_TOMB)
			place(ns, ncap, h->slots[i].hash, h->slots[i].item);
	free(h->slots);
	h->slots = ns;
	h->cap = ncap;
	h->tombs = 0;
	return 0;
}

void *htab_get(const struct htab *h, const void *key, size_t len)
{
	size_t i;
	if (!h->slots)
		return NULL;
	i = find(h, hash_key(h, key, len), key, len);
	return i == SIZE_MAX ? NULL : h->slots[i].item;
}

int htab_put(struct htab *h, void *item)
{
	size_t len;
	const void *key = h->key(item, &len);
	uint64_t hv = hash_key(h, key, len);
	int r;

	if (find(h, hv, key, len) != SIZE_MAX)
		return -EEXIST;
	if (h->n >= h->max_items)
		return -ENOSPC;
	if ((h->n + h->tombs + 1) * 10 > h->cap * 7) {
		/* Rebuild in place when tombstones, not items, fill the table. */
		size_t ncap = (h->n + 1) * 10 > h->cap * 5 ? h->cap * 2 : h->cap;
		r = resize(h, ncap);
		if (r < 0)
			return r;
	}
	if (place(h->slots, h->cap, hv, item))
		h->tombs--;
	h->n++;
	return 0;
}

void *htab_del(struct htab *h, const void *key, size_t len)
{
	size_t i;
	void *item;

	if (!h->slots)
		return NULL;
	i = find(h, hash_key(h, key, len), key, len);
	if (i == SIZE_MAX)
		return NULL;
	item = h->slots[i].item;
	h->slots[i].item = HTAB_TOMB;
	h->n--;
	h->tombs++;
	return item;
}

void *htab_next(const struct htab *h, size_t *pos)
{
	while (h->slots && *pos < h->cap) {
		void *item = h->slots[(*pos)++].item;
		if (item && item != HTAB_TOMB)
			return item;
	}
	return NULL;
}
