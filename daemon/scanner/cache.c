/* cache.c - the scan cache in memory (chunked entries, SipHash index) and
 * on disk (header, entries, BLAKE2b checksum). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "cache.h"
#include "fileio.h"

#define CHUNK_ENTRIES 4096
#define CACHE_MAGIC "HWSCAN01"
#define CACHE_SUM_BYTES 16

struct cache_header {
	char magic[8];
	uint8_t tag[CACHE_TAG_BYTES];
	uint64_t count;
};

static const void *entry_key(const void *item, size_t *len)
{
	*len = 2 * sizeof(uint64_t);
	return item; /* dev and ino lead the struct */
}

int scancache_init(struct scancache *c, size_t max, const uint8_t tag[CACHE_TAG_BYTES])
{
	memset(c, 0, sizeof(*c));
	c->max = max;
	memcpy(c->tag, tag, CACHE_TAG_BYTES);
	return htab_init(&c->index, entry_key, max);
}

static void drop_entries(struct scancache *c)
{
	for (size_t i = 0; i < c->nchunks; i++)
		free(c->chunks[i]);
	free(c->chunks);
	c->chunks = NULL;
	c->nchunks = 0;
	c->used = 0;
}

void scancache_free(struct scancache *c)
{
	if (!c)
		return;
	drop_entries(c);
	htab_free(&c->index);
}

void scancache_reset(struct scancache *c, const uint8_t tag[CACHE_TAG_BYTES])
{
	struct htab fresh;

	drop_entries(c);
	/* A new table rather than deleting each item: O(1) memory churn, and
	 * the old one's tombstones go with it. */
	if (htab_init(&fresh, entry_key, c->max) == 0) {
		htab_free(&c->index);
		c->index = fresh;
	} else {
		size_t pos = 0;
		void *it;
		while ((it = htab_next(&c->index, &pos))) {
			size_t len;
			const void *k = entry_key(it, &len);
			htab_del(&c->index, k, len);
		}
	}
	memcpy(c->tag, tag, CACHE_TAG_BYTES);
	c->dirty = true;
}

static void fill(struct cache_entry *e, const struct stat *st)
{
	e->dev = (uint64_t)st->st_dev;
	e->ino = (uint64_t)st->st_ino;
	e->size = st->st_size;
	e->mtime_ns = (int64_t)st->st_mtim.tv_sec * 1000000000 + st->st_mtim.tv_nsec;
	e->ctime_ns = (int64_t)st->st_ctim.tv_sec * 1000000000 + st->st_ctim.tv_nsec;
}

bool scancache_fresh(const struct scancache *c, const struct stat *st)
{
	struct cache_entry want, *e;

	fill(&want, st);
	e = htab_get(&c->index, &want, 2 * sizeof(uint64_t));
	return e && e->size == want.size && e->mtime_ns == want.mtime_ns &&
	       e->ctime_ns == want.ctime_ns;
}

static struct cache_entry *new_entry(struct scancache *c)
{
	if (c->used == c->nchunks * CHUNK_ENTRIES) {
		struct cache_entry **nc = realloc(c->chunks, (c->nchunks + 1) * sizeof(*nc));
		if (!nc)
			return NULL;
		c->chunks = nc;
		nc[c->nchunks] = malloc(CHUNK_ENTRIES * sizeof(struct cache_entry));
		if (!nc[c->nchunks])
			return NULL;
		c->nchunks++;
	}
	size_t i = c->used++;
	return &c->chunks[i / CHUNK_ENTRIES][i % CHUNK_ENTRIES];
}

static int put_entry(struct scancache *c, const struct cache_entry *want)
{
	struct cache_entry *e = htab_get(&c->index, want, 2 * sizeof(uint64_t));
	int restarted = 0, r;

	if (e) {
		*e = *want;
		c->dirty = true;
		return 0;
	}
	if (htab_count(&c->index) >= c->max) {
		uint8_t tag[CACHE_TAG_BYTES];
		memcpy(tag, c->tag, sizeof(tag));
		scancache_reset(c, tag);
		c->restarts++;
		restarted = 1;
	}
	e = new_entry(c);
	if (!e)
		return -ENOMEM;
	*e = *want;
	r = htab_put(&c->index, e);
	if (r < 0) {
		c->used--; /* give the slot back */
		return r;
	}
	c->dirty = true;
	return restarted;
}

int scancache_put(struct scancache *c, const struct stat *st)
{
	struct cache_entry want;
	fill(&want, st);
	return put_entry(c, &want);
}

int scancache_load(struct scancache *c, const char *path, bool *ret_loaded)
{
	struct cache_header h;
	unsigned char sum[CACHE_SUM_BYTES];
	void *buf = NULL;
	size_t len, need;
	int r;

	*ret_loaded = false;
	r = hw_read_file(path, sizeof(h) + (size_t)c->max * sizeof(struct cache_entry) +
				       CACHE_SUM_BYTES, &buf, &len);
	if (r == -ENOENT)
		return 0;
	if (r == -EFBIG)
		r = -EBADMSG; /* written under a larger limit: start over */
	if (r < 0)
		return r;
	r = -EBADMSG;
	if (len < sizeof(h) + CACHE_SUM_BYTES)
		goto out;
	memcpy(&h, buf, sizeof(h));
	if (memcmp(h.magic, CACHE_MAGIC, sizeof(h.magic)) != 0 || h.count > c->max)
		goto out;
	need = sizeof(h) + (size_t)h.count * sizeof(struct cache_entry);
	if (len != need + CACHE_SUM_BYTES)
		goto out;
	crypto_generichash(sum, sizeof(sum), buf, need, NULL, 0);
	if (sodium_memcmp(sum, (char *)buf + need, sizeof(sum)) != 0)
		goto out;
	r = 0;
	if (memcmp(h.tag, c->tag, CACHE_TAG_BYTES) != 0)
		goto out; /* other lists or policy: everything is stale */
	for (uint64_t i = 0; i < h.count; i++) {
		struct cache_entry e;
		memcpy(&e, (char *)buf + sizeof(h) + i * sizeof(e), sizeof(e));
		r = put_entry(c, &e);
		if (r < 0)
			goto out;
	}
	r = 0;
	c->dirty = false;
	*ret_loaded = true;
out:
	free(buf);
	return r;
}

int scancache_save(struct scancache *c, const char *path)
{
	size_t n = htab_count(&c->index), pos = 0, i = 0;
	size_t len = sizeof(struct cache_header) + n * sizeof(struct cache_entry) + CACHE_SUM_BYTES;
	struct cache_header h = { .count = n };
	struct cache_entry *e;
	char *buf = malloc(len);
	int r;

	if (!buf)
		return -ENOMEM;
	memcpy(h.magic, CACHE_MAGIC, sizeof(h.magic));
	memcpy(h.tag, c->tag, CACHE_TAG_BYTES);
	memcpy(buf, &h, sizeof(h));
	while ((e = htab_next(&c->index, &pos)))
		memcpy(buf + sizeof(h) + i++ * sizeof(*e), e, sizeof(*e));
	crypto_generichash((unsigned char *)buf + len - CACHE_SUM_BYTES, CACHE_SUM_BYTES,
			   (unsigned char *)buf, len - CACHE_SUM_BYTES, NULL, 0);
	r = hw_write_atomic(path, buf, len, 0600);
	free(buf);
	if (r == 0)
		c->dirty = false;
	return r;
}
