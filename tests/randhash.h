/* randhash.h - reproducible random hashes for tests and benchmarks: a
 * seeded generator (splitmix64) and near-duplicates at an exact Hamming
 * distance.  Header-only so that unit tests (cmocka) and benchmarks (no
 * cmocka) can both include it. */
#ifndef HW_TEST_RANDHASH_H
#define HW_TEST_RANDHASH_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

struct rng {
	uint64_t s;
};

static inline uint64_t rng_next(struct rng *r)
{
	uint64_t z = (r->s += UINT64_C(0x9e3779b97f4a7c15));
	z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
	z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
	return z ^ (z >> 31);
}

static inline void rng_fill(struct rng *r, uint8_t *p, size_t len)
{
	for (size_t i = 0; i < len; i += 8) {
		uint64_t v = rng_next(r);
		memcpy(p + i, &v, len - i < 8 ? len - i : 8);
	}
}

/* out = h (bits/8 bytes) with exactly k distinct bits flipped (k <= bits). */
static inline void flip_bits(struct rng *r, const uint8_t *h, uint8_t *out, unsigned bits,
			     unsigned k)
{
	memcpy(out, h, bits / 8);
	for (unsigned done = 0; done < k;) {
		unsigned b = (unsigned)(rng_next(r) % bits);
		if ((h[b / 8] ^ out[b / 8]) & (1u << (b % 8)))
			continue;
		out[b / 8] ^= (uint8_t)(1u << (b % 8));
		done++;
	}
}

#endif
