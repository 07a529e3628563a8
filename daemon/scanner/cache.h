/* cache.h - the scan cache: which file identities were already checked
 * against the current lists, so that a restart does not rehash unchanged
 * files.
 *
 * An entry is only (device, inode, size, mtime, ctime): nothing derived
 * from the file's content, ever (DESIGN.md invariant 2).  The whole cache
 * belongs to one "tag", a digest of the active lists and of the policy and
 * limits that decide a result; a different tag (new list version, new
 * threshold) makes every entry stale.  A hard limit on entries: when it is
 * reached the cache starts over (counted; the price is one rehash of each
 * file at the next crawl), it never grows without bound.
 */
#ifndef HW_SCANNER_CACHE_H
#define HW_SCANNER_CACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>

#include "htab.h"

#define CACHE_TAG_BYTES 16

struct cache_entry {
	uint64_t dev, ino;
	int64_t size, mtime_ns, ctime_ns;
};

struct scancache {
	struct htab index;            /* (dev, ino) -> entry */
	struct cache_entry **chunks;  /* entries live in fixed-size chunks */
	size_t nchunks;
	size_t used;                  /* entries handed out */
	size_t max;
	uint8_t tag[CACHE_TAG_BYTES];
	bool dirty;                   /* changed since load/save */
	uint64_t restarts;            /* times the limit made it start over */
};

/* An empty cache for `tag`, at most max entries.  0 or -ENOMEM. */
int scancache_init(struct scancache *c, size_t max, const uint8_t tag[CACHE_TAG_BYTES]);
void scancache_free(struct scancache *c);

/* Forget every entry and take a new tag (lists or policy changed). */
void scancache_reset(struct scancache *c, const uint8_t tag[CACHE_TAG_BYTES]);

/* True when this exact identity (dev, ino, size, mtime, ctime) was
 * checked under the current tag. */
bool scancache_fresh(const struct scancache *c, const struct stat *st);

/* Remember that st's identity was checked.  Returns 0, 1 if the cache was
 * full and started over first (the caller logs it), or -ENOMEM. */
int scancache_put(struct scancache *c, const struct stat *st);

/* Load from path.  A missing file, or one written under another tag, gives
 * an empty cache and 0 (*ret_loaded = false); a corrupt one -EBADMSG (the
 * cache stays empty; the caller logs and carries on). */
int scancache_load(struct scancache *c, const char *path, bool *ret_loaded);

/* Write atomically (temp, fsync, rename, fsync dir).  0 or -errno. */
int scancache_save(struct scancache *c, const char *path);

static inline size_t scancache_count(const struct scancache *c)
{
	return htab_count(&c->index);
}

#endif
