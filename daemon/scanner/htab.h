/* htab.h - a bounded open-addressing hash table of caller-owned items,
 * keyed by bytes the item itself holds (a path, a file identity, ...).
 *
 * Keys come from file names that students choose, so the hash is keyed
 * SipHash (libsodium crypto_shorthash) with a random key per table: nobody
 * can build names that all land in one bucket.  Every table has a hard
 * item limit fixed at creation; reaching it is an error the caller reports.
 */
#ifndef HW_SCANNER_HTAB_H
#define HW_SCANNER_HTAB_H

#include <stddef.h>
#include <stdint.h>

/* Return the key bytes of an item and their length. */
typedef const void *(*htab_key_fn)(const void *item, size_t *ret_len);

struct htab_slot {
	uint64_t hash;
	void *item; /* NULL = empty; HTAB_TOMB = deleted */
};

struct htab {
	struct htab_slot *slots;
	size_t cap;       /* power of two */
	size_t n;         /* live items */
	size_t tombs;
	size_t max_items;
	htab_key_fn key;
	unsigned char sipkey[16];
};

/* Initialise an empty table holding at most max_items items.  Returns 0 or
 * -ENOMEM.  The table never owns the items. */
int htab_init(struct htab *h, htab_key_fn key, size_t max_items);

/* Free the slot array (not the items); accepts a zeroed table. */
void htab_free(struct htab *h);

/* The item with this key, or NULL. */
void *htab_get(const struct htab *h, const void *key, size_t len);

/* Insert an item whose key is not present.  Returns 0, -EEXIST (key
 * present; nothing changed), -ENOSPC (max_items reached) or -ENOMEM. */
int htab_put(struct htab *h, void *item);

/* Remove and return the item with this key, or NULL. */
void *htab_del(struct htab *h, const void *key, size_t len);

/* Iterate: start with *pos = 0; returns the next item or NULL at the end.
 * The table must not be changed during the iteration, except by
 * htab_del() of the item just returned. */
void *htab_next(const struct htab *h, size_t *pos);

static inline size_t htab_count(const struct htab *h)
{
	return h->n;
}

#endif
