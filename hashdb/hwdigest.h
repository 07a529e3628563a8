/* hwdigest.h - the list digest of a .hwdb file (format 2): a two-level
 * SHA-256 tree, so that a laptop can verify a large list on all its cores
 * while a district auditor can still recompute it with sha256sum.
 *
 * The signed content is cut into leaves of HWDIGEST_LEAF bytes (the last
 * one shorter, never empty).  Each leaf's digest is SHA-256 of its bytes;
 * the list digest is SHA-256 of the text HWDIGEST_PREFIX followed by one
 * line per leaf, in order: 64 lowercase hex digits and "\n" (what
 * `split -b 1M --filter='sha256sum | cut -c1-64'` prints).  Every leaf is
 * committed in its place, so changing, moving, adding or dropping any byte
 * changes the digest; the prefix keeps the root input from being anything
 * else's.  SHA-256 comes from libcrypto, which uses the CPU's SHA
 * instructions where it has them (~1.4 GB/s a core, against ~0.55 GB/s for
 * libsodium's BLAKE2b).  docs/hwdb-format.md shows the recipe.
 */
#ifndef HW_HWDIGEST_H
#define HW_HWDIGEST_H

#include <stddef.h>
#include <stdint.h>

#define HWDIGEST_BYTES 32
#define HWDIGEST_LEAF ((size_t)1 << 20)
#define HWDIGEST_PREFIX "hashwatch-hwdb-tree-v1\n"

/* A digest computed as the bytes stream past (the builder's writer). */
struct hwdigest {
	void *leaf, *root; /* libcrypto digest contexts */
	size_t fill;       /* bytes in the current leaf */
	int err;           /* first failure, reported by final */
};

/* Start; returns 0 or -ENOMEM (d then needs no hwdigest_free, but may be
 * given it). */
int hwdigest_init(struct hwdigest *d);
void hwdigest_update(struct hwdigest *d, const void *p, size_t n);
/* The digest of everything given to update, and d freed.  Returns 0 or
 * -ENOMEM/-EIO if libcrypto failed on the way (out is then unset). */
int hwdigest_final(struct hwdigest *d, uint8_t out[HWDIGEST_BYTES]);
/* Free without a result.  Accepts a zeroed or finished d. */
void hwdigest_free(struct hwdigest *d);

/* One leaf's digest (n <= HWDIGEST_LEAF), and the list digest from all
 * leaf digests in order: the two halves of a digest whose leaves are
 * computed in parallel.  Thread-safe.  Return 0 or -EIO. */
int hwdigest_leaf(const uint8_t *p, size_t n, uint8_t out[HWDIGEST_BYTES]);
int hwdigest_root(const uint8_t (*leaves)[HWDIGEST_BYTES], size_t nleaves,
		  uint8_t out[HWDIGEST_BYTES]);

/* The number of leaves of n content bytes (at least 1). */
size_t hwdigest_nleaves(uint64_t n);

/* The digest of n bytes at once, in the calling thread (tests, fuzzing).
 * Returns 0 or -ENOMEM/-EIO. */
int hwdigest_buf(const uint8_t *p, size_t n, uint8_t out[HWDIGEST_BYTES]);

#endif
