/* mih.h - multi-index hashing (Norouzi, Punjani & Fleet 2012) for exact
 * Hamming-radius search over 64-bit and 256-bit hashes, plus the linear
 * scan it must agree with.
 *
 * The index is a position-independent byte blob (little-endian, 8-byte
 * aligned sections) that the list file stores as one section and maps
 * read-only; queries work straight on the mapping, with no allocation per
 * query.  Results are exactly the linear scan's: every stored hash within
 * max_dist, none beyond.
 *
 * How it works, in short: the hash is cut into m disjoint substrings
 * ("slots") with radii r_s such that sum(r_s + 1) > D, so a stored hash
 * within D of a query is within r_s of it on at least one slot
 * (pigeonhole).  Each slot is a flat array of entries sorted by the slot's
 * top bits (a "coarse" bucket, found through an offset table); a query
 * visits every coarse bucket within r_s of its own and filters the entries
 * there on the remaining bits.  The parameters (m, widths, radii, coarse
 * bits) are chosen per index from n by a cost model and stored in the blob.
 * The builder supports D = MIH_MAX_DIST_256 for 256-bit hashes and
 * MIH_MAX_DIST_64 for 64-bit ones; a query with a larger max_dist is still
 * answered exactly, by a linear scan (slow), and a smaller one visits fewer
 * buckets.
 */
#ifndef HW_MIH_H
#define HW_MIH_H

#include <stddef.h>
#include <stdint.h>

#define MIH_MAX_QUERIES 8 /* the 8 PDQ dihedral variants */
#define MIH_MAX_DIST_256 31 /* PDQ: Meta's recommended match threshold */
#define MIH_MAX_DIST_64 8   /* pHash/dHash/aHash default threshold */

struct mih_hit {
	uint32_t pos;     /* position in the (possibly permuted) hash array */
	uint16_t dist;    /* smallest distance over the queries */
	uint16_t query;   /* which query gave that distance (0..nq-1; the
			     lowest index on a tie) */
};

/* Build an index over n hashes of `bits` bits (64 or 256), stored
 * contiguously, bits/8 bytes each.  The builder may permute `hashes` and
 * the parallel `payload` array (one uint32_t per hash, opaque to it; NULL
 * when the caller keeps none) in place, together, for locality; callers
 * store both as permuted, and mih_open must be given the permuted hashes.
 * On failure the arrays are unchanged.  Returns 0 and a malloc()ed blob
 * (the caller free()s it; its length is a multiple of 8; about 44-49
 * bytes per hash), or -EINVAL / -ENOMEM / -E2BIG (n > UINT32_MAX).
 * Allocates about 8*n bytes besides the blob while it works (10M PDQ
 * hashes: ~10 s). */
int mih_build(uint8_t *hashes, uint32_t *payload, size_t n, unsigned bits,
	      void **ret_blob, size_t *ret_len);

struct mih;

/* A read-only view of a blob over the (permuted) hashes.  blob must be
 * 8-byte aligned (-EINVAL otherwise); hashes need no alignment.  Every
 * offset, length and count inside the blob is checked against blob_len and
 * n, so a corrupt blob gives -EBADMSG, never an out-of-bounds read; the
 * blob also carries checksums of itself and of the hashes it was built
 * over, so accidental corruption of either (a flipped byte anywhere) gives
 * -EBADMSG rather than silently wrong answers.  This reads every byte of
 * blob and hashes once (~4 GB/s: about 0.2 s for 10M PDQ hashes already
 * in memory).  The view borrows
 * blob and hashes: they must outlive it.  Returns 0, -EINVAL, -EBADMSG or
 * -ENOMEM.  A view allocates a few kB of tables, and for 256-bit hashes a
 * 16-bit copy of the offset tables (~2 bytes per coarse bucket and slot:
 * 1.5 MB, 0.15 B per entry, at 10M PDQ hashes). */
int mih_open(const void *blob, size_t blob_len, const uint8_t *hashes,
	     size_t n, unsigned bits, struct mih **ret);

/* mih_open with flags: MIH_OPEN_DIGESTED skips the two checksums, for a
 * caller that has just verified blob and hashes with a cryptographic
 * digest of its own (the list file's): the structural checks, which keep
 * every read in bounds, still run.  MIH_OPEN_NO_VPOPCNT keeps the view's
 * queries off the AVX-512 VPOPCNTQ candidate check, MIH_OPEN_NO_AVX512
 * off all AVX-512 code, MIH_OPEN_NO_SIMD off all vector code (AVX2 and
 * AVX-512), even on a CPU that has them: the answers are the same, only
 * slower; for tests and benchmarks that check every path. */
#define MIH_OPEN_DIGESTED 1u
#define MIH_OPEN_NO_AVX512 2u
#define MIH_OPEN_NO_SIMD 4u
#define MIH_OPEN_NO_VPOPCNT 8u
int mih_open_flags(const void *blob, size_t blob_len, const uint8_t *hashes,
		   size_t n, unsigned bits, unsigned flags, struct mih **ret);
void mih_close(struct mih *m);

/* Largest max_dist the index answers without falling back to a linear
 * scan. */
unsigned mih_max_dist(const struct mih *m);

/* One line describing the index parameters (slots, radii, coarse bits),
 * for diagnostics.  Returns 0, -EINVAL, or -ENOBUFS if len was too short
 * (buf then holds a truncated, terminated line). */
int mih_describe(const struct mih *m, char *buf, size_t len);

/* Search for the nq (1..MIH_MAX_QUERIES) queries at once (qs: nq hashes,
 * contiguous).  Each stored hash within max_dist of any query is reported
 * once, in hits[0..*ret_n), sorted by pos.  If more than cap hits exist,
 * returns -ENOBUFS with *ret_n = cap and the cap hits with the smallest
 * pos.  Returns 0 on success, -EINVAL on bad arguments.  Thread-safe on a
 * shared view (no hidden mutable state beyond what the caller passes); uses
 * about 16 kB of stack and no heap. */
int mih_query(const struct mih *m, const uint8_t *qs, unsigned nq,
	      unsigned max_dist, struct mih_hit *hits, size_t cap,
	      size_t *ret_n);

/* The same contract by brute force (hardware popcount when the CPU has
 * it), for tests and the benchmark baseline: one pass over the array
 * answers all nq queries. */
int mih_linear_query(const uint8_t *hashes, size_t n, unsigned bits,
		     const uint8_t *qs, unsigned nq, unsigned max_dist,
		     struct mih_hit *hits, size_t cap, size_t *ret_n);

/* Recompute the checksums in a blob after it was edited on purpose, so
 * that tests and fuzz targets can reach the structural checks behind them.
 * Does nothing when blob_len is too short to hold a header.  Never needed
 * in normal use. */
void mih_reseal(void *blob, size_t blob_len, const uint8_t *hashes,
		size_t n, unsigned bits);

#endif
