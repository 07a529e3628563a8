/* mih.h - multi-index hashing (Norouzi, Punjani & Fleet 2012) for exact
 * Hamming-radius search over 64-bit and 256-bit hashes, plus the linear
 * scan it must agree with.
 *
 * The index is a position-independent byte blob (little-endian, 8-byte
 * aligned sections) that the list file stores as one section and maps
 * read-only; queries work straight on the mapping, with no allocation per
 * query.  Results are exactly the linear scan's: every stored hash within
 * max_dist, none beyond.
 */
#ifndef HW_MIH_H
#define HW_MIH_H

#include <stddef.h>
#include <stdint.h>

#define MIH_MAX_QUERIES 8 /* the 8 PDQ dihedral variants */

struct mih_hit {
	uint32_t pos;     /* position in the (possibly permuted) hash array */
	uint16_t dist;    /* smallest distance over the queries */
	uint16_t query;   /* which query gave that distance (0..nq-1) */
};

/* Build an index over n hashes of `bits` bits (64 or 256), stored
 * contiguously, bits/8 bytes each.  The builder may permute `hashes` and
 * the parallel `payload` array (one uint32_t per hash, opaque to it) in
 * place, together, for locality; callers store both as permuted.  Returns 0
 * and a malloc()ed blob, or -EINVAL / -ENOMEM / -E2BIG (n > UINT32_MAX). */
int mih_build(uint8_t *hashes, uint32_t *payload, size_t n, unsigned bits,
	      void **ret_blob, size_t *ret_len);

struct mih;

/* A read-only view of a blob over the (permuted) hashes.  Every offset and
 * length inside the blob is checked against blob_len and n, so a corrupt
 * blob gives -EBADMSG, never an out-of-bounds read.  The view borrows blob
 * and hashes: they must outlive it. */
int mih_open(const void *blob, size_t blob_len, const uint8_t *hashes,
	     size_t n, unsigned bits, struct mih **ret);
void mih_close(struct mih *m);

/* Search for the nq (1..MIH_MAX_QUERIES) queries at once (qs: nq hashes,
 * contiguous).  Each stored hash within max_dist of any query is reported
 * once, in hits[0..*ret_n), sorted by pos.  If more than cap hits exist,
 * returns -ENOBUFS with *ret_n = cap and the first cap hits.  Returns 0 on
 * success.  Thread-safe on a shared view (no hidden mutable state beyond
 * what the caller passes). */
int mih_query(const struct mih *m, const uint8_t *qs, unsigned nq,
	      unsigned max_dist, struct mih_hit *hits, size_t cap,
	      size_t *ret_n);

/* The same contract by brute force (hardware popcount), for tests and the
 * benchmark baseline. */
int mih_linear_query(const uint8_t *hashes, size_t n, unsigned bits,
		     const uint8_t *qs, unsigned nq, unsigned max_dist,
		     struct mih_hit *hits, size_t cap, size_t *ret_n);

#endif
