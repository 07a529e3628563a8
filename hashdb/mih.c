/* mih.c - the multi-index hash: a builder that lays out flat, sorted slot
 * arrays in one position-independent blob, a validator that makes a
 * corrupt blob harmless, and a query that answers up to 8 queries (the PDQ
 * dihedral variants) in one call with software-pipelined memory access.
 *
 * Layout (all little-endian, sections 8-byte aligned, offsets from the
 * start of the blob):
 *   header, slot descriptors,
 *   per slot: offsets[2^coarse + 1] (uint32, entry index where each coarse
 *   bucket starts), entries[n], and in FULL mode ids[n] (uint32).
 * Entries are sorted by (coarse bucket, fine key, position).  Two formats:
 *   PACKED (256-bit hashes): uint32 = fine << idbits | id, where fine is
 *     the slot key's low bits (the coarse bits are implied by the bucket)
 *     and id the hash's position; a candidate is verified by fetching
 *     hashes[id].  The builder permutes the hashes into slot 0's order so
 *     that slot 0's candidates are near each other in memory.
 *   FULL (64-bit hashes): the whole hash (uint64) plus a parallel id, so
 *     the bucket scan computes the exact distance without another fetch.
 * A slot key is `width` consecutive bits of the hash, bit i being bit i%8
 * of byte i/8; the coarse bucket is the key's top `coarse` bits.
 *
 * What a query costs is random memory: at 10M PDQ hashes one image (8
 * queries) visits ~11.1k buckets (~19k window lines and ~14k bucket-scan
 * lines, on ~9k distinct 4 kB pages) and verifies ~21k candidates (~17k
 * distinct pages of the hash array).  On the virtualised Zen 5 this was
 * measured on (nested paging; 2 MB guest pages gained 0-15%, so the host
 * seems to back guest memory with 4 kB pages) a random page is a TLB miss
 * whose walk costs more the larger the region it falls in: with
 * prefetches in flight ~5 ns in a 40 MB slot array, ~10-20 ns in the
 * 320 MB hash array, and walks barely overlap with each other.  In the
 * 10M query a bucket visit costs ~30 ns and a candidate ~17 ns, about
 * half of the time each.  So the code is about touching few pages and
 * lines and keeping misses in flight: offset tables small enough to stay
 * cached, exact fine keys found in the two aligned lines around their
 * interpolated position rather than by scanning the bucket, prefetches a
 * fixed distance ahead in every stage (including each batch's first
 * visits), verification in batches (interleaving it with the bucket
 * visits was slower: the two streams' page walks get in each other's
 * way), and branch-free filters (AVX-512 or AVX2 when the CPU has them,
 * chosen at run time; the binary still runs on any x86-64).
 *
 * Measured later (session 4): with the candidate loads replaced by loads
 * of one cached line but the same prefetches, the query took as long; with
 * the prefetches dropped it took 17% longer; with verification skipped,
 * 45% less.  So a candidate costs its page walk: walks are what a query
 * is made of, and issuing them earlier (at emission) or in address order
 * (all of an image's candidates sorted first) made it slower, as did a
 * folded 16-byte copy of the hashes, a bitmap of present keys and a
 * single three-stage pipeline for the exact visits.  What did pay was
 * fewer instructions per candidate (VPOPCNTQ, two to a vector).
 *
 * Session 5, with each part of a 530 us query replaced by loads of cached
 * memory in turn: verification ~220 us, window memory ~70, bucket-scan
 * memory ~60, offset lookups ~25, and ~160 us left with all memory
 * cached.  What paid was removing waits nothing had fetched ahead: the
 * ~3% of windows that miss part of their run scanned at the end of the
 * batch, only on the side the run goes on, prefetched (5%); batches 4x
 * longer, so fewer of their starts (2-3%); 16-bit offsets (1-3%).  All in
 * ~10% (same process, same list, alternating with session 4's code).
 * What did not pay, measured the same way: prefetching candidates as they
 * are found and verifying them a fixed distance behind (8-13% slower),
 * one-line windows with the neighbour line fetched on a miss (as fast,
 * though 7k fewer lines per image: a line in a page already walked costs
 * little), finer offset tables for exact lookups (25% slower: the tables
 * miss), all scans of a slot before its windows (5% slower), other
 * prefetch distances, other coarse widths, and 2 MB pages (from 25%
 * faster to 10% slower on this VM within an hour: it depends on how the
 * host backs the guest's memory at the time).
 *
 * Session 6 tried filter bytes (branch s6-filter): each entry of slots
 * 1..k also holds 8 bits of its hash's key in the next slot, and a
 * candidate found with slot distance d_s is dropped unless d_s plus the
 * filter bits' distance is at most rad_s + rad_next + 1.  That is exact
 * by the pigeonring principle (Qin & Xiao, ICDE 2019: some slot starts a
 * cyclic run of slots over which every partial sum of d_t - (rad_t + 1)
 * is negative), and it halves the candidates (21k to 10-12k per image at
 * 10M).  It did not pay: verification time fell only 17% (the remaining
 * candidates cost more each), and the filter bytes cost either extra lines
 * per visit (64-entry blocks with a filter line: 6-28% slower; 80-byte
 * groups: 5% faster to 11% slower) or wider lines (12 entries and their
 * filter bytes to a line, 8 of 10 slots within the size budget: 7-76%
 * slower on eleven pairs of fresh copies of the two lists, though 5-9%
 * faster on the first pair).
 * Filter bytes read only by bucket scans, from a separate array, were 4%
 * faster on the same list (in-process), for 10 bytes per entry: not worth
 * the size budget.  Measuring format changes here needs many copies of
 * each list: two copies of one list in one process differed by up to 42%,
 * and the same list in separate processes by 2x (host contention), so
 * only same-list, same-process alternation resolves a few percent.
 * Instructions count, not only memory: 40 dependency-free ALU
 * instructions added to each visit (about 12% more instructions) made the
 * query 23-25% slower, and a rewrite of the visit loop that read the same
 * lines with ~25% more instructions was 31-36% slower.  A visit's first
 * prefetch holds up retirement until its page walk is done (47% of timer
 * samples land on the instruction after it), so the reorder buffer, filled
 * behind it, bounds how many visits have walks in flight; fewer
 * instructions per visit did not help the other way, though (all window
 * prefetches of a batch issued in the tight offsets loop: 5% slower), so
 * the loop sits near the knee where walks in flight are bounded anyway.
 *
 * Session 7 measured each change in one process on one list, alternating
 * with this code over 200 rounds of 50 images (two runs of this code
 * against itself: median ratio 1.000 and 1.002, quartiles within 4%).
 * Nothing paid: the tuning constants here are at their optimum
 * (SEEK_BATCH 2048: 1.013; PF_BUCKETS 12 or 24: 1.050, 1.002; PF_CANDS
 * 24 or 48: 1.011, 0.999; CAND_BATCH 4096: 0.998), and neither the
 * window's left/right checks done on the loaded vectors (1.011) nor the
 * window's first line prefetched also from the offsets loop (1.009)
 * paid.  Nor did candidates checked first on a 16-byte half of each hash
 * kept in a 160 MB array of its own (0.99-1.01 in two runs of 8 rounds
 * of 500 images, against a whole copy and against the mapped list; a
 * random read there costs 7.6 ns against 8.9 in the 320 MB of whole
 * hashes, yet the query did not change).  Timer samples put 52% of the visit loop's time on the
 * instruction after a window's first prefetch.  Separate runs of the
 * same code on fresh copies of the 10M list, 16 runs over 90 minutes:
 * median 583 us, 494-944 us and one at 1252 us while the host was busy;
 * most runs steady within themselves to ~10%.
 *
 * Each stored hash is reported once without any dedup table: a hit found
 * through query v and slot s is reported only if v is the first query
 * within max_dist of it and s the first slot where it is within that
 * slot's radius of query v (the pigeonhole guarantees such a slot exists
 * and that the search visits it).
 */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include "mih.h"

#if !defined(__BYTE_ORDER__) || __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "mih.c reads and writes its blob as little-endian"
#endif

#define MIH_MAGIC UINT64_C(0x3148494d57480a89) /* "\x89\nHWMIH1" */
#define MIH_FORMAT 1
#define MIH_MODE_PACKED 1
#define MIH_MODE_FULL 2
#define MIH_MAX_SLOTS 32
#define MIH_MAX_WIDTH 32
#define MIH_MAX_COARSE 24
#define MIH_MAX_RADIUS 8
#define MIH_MAX_MASKS 4096 /* coarse buckets visited per slot and query */

/* Query pipeline sizes: seeks handled per batch, candidates buffered
 * before verification, and how far ahead each stage prefetches.  Each
 * batch starts with its first visits' and candidates' memory not yet
 * asked for; 1024 and 2048 (from 256 and 512) took 2-3% off the 10M
 * query in alternating runs, for ~35 kB of stack. */
#define SEEK_BATCH 1024 /* at most 65536: a visit's index is kept in 16 bits */
#define CAND_BATCH 2048
#define PF_OFFSETS 24
#define PF_BUCKETS 16
#define PF_RUN_MAX 16
#define PF_CANDS 32

#if defined(__GNUC__)
#define ALWAYS_INLINE inline __attribute__((always_inline))
#define PREFETCH(p) __builtin_prefetch((p), 0, 3)
#else
#define ALWAYS_INLINE inline
#define PREFETCH(p) ((void)(p))
#endif

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define HAVE_X86_DISPATCH 1
#define TARGET_POPCNT __attribute__((target("popcnt")))
#define TARGET_AVX2 __attribute__((target("avx2,popcnt,bmi")))
#define TARGET_AVX512 __attribute__((target("avx512f,avx2,popcnt,bmi")))
#define TARGET_AVX512VP __attribute__((target("avx512f,avx512vpopcntdq,avx2,popcnt,bmi")))
#endif

struct blob_hdr {
	uint64_t magic;
	uint64_t sum;        /* checksum of blob bytes [16, blob_len) */
	uint64_t hashes_sum; /* checksum of the n hashes it was built over */
	uint64_t blob_len;
	uint64_t n;
	uint32_t format;
	uint32_t bits;
	uint32_t mode;
	uint32_t nslots;
	uint32_t idbits;     /* PACKED: low bits of an entry holding the id */
	uint32_t dmax;       /* sum(radius + 1) over slots is > dmax */
};

struct blob_slot {
	uint32_t start;      /* first bit of the slot key */
	uint32_t width;      /* key bits */
	uint32_t radius;     /* search radius for max_dist = dmax */
	uint32_t coarse;     /* top key bits that select the bucket */
	uint64_t off_offsets;
	uint64_t off_entries;
	uint64_t off_ids;    /* FULL mode only, else 0 */
};

struct mih_slot {
	unsigned start, width, radius, coarse, fine;
	const uint32_t *offsets;
	const uint32_t *packed;  /* PACKED entries */
	const uint64_t *full;    /* FULL entries */
	const uint32_t *ids;     /* FULL ids */
	bool search;             /* find exact fine keys by interpolation */
	uint32_t *masks;         /* coarse XOR masks, by popcount */
	/* PACKED: the offsets again, in half the bytes (every visit reads two
	 * of them, and they mostly miss the cache): bucket b starts at
	 * group[b >> gshift] + rel[b]. */
	uint32_t *group;
	uint16_t *rel;
	unsigned gshift;
	uint32_t nmasks[MIH_MAX_RADIUS + 1]; /* masks of popcount <= k */
};

struct mih {
	const uint8_t *hashes;
	size_t n;
	unsigned bits, bytes, mode, nslots, idbits, dmax;
	unsigned flags;          /* the MIH_OPEN_NO_* flags it was opened with */
	struct mih_slot slot[MIH_MAX_SLOTS];
};

/* ---- small helpers ---------------------------------------------------- */

static ALWAYS_INLINE uint64_t load64(const void *p)
{
	uint64_t v;
	memcpy(&v, p, sizeof(v));
	return v;
}

static ALWAYS_INLINE unsigned popc64(uint64_t x)
{
	return (unsigned)__builtin_popcountll(x);
}

static ALWAYS_INLINE unsigned popc32(uint32_t x)
{
	return (unsigned)__builtin_popcount(x);
}

static inline uint64_t rotl64(uint64_t x, unsigned r)
{
	return (x << r) | (x >> (64 - r));
}

static inline size_t align8(size_t x)
{
	return (x + 7) & ~(size_t)7;
}

/* `width` (<= 32) bits of a hash of `bytes` bytes, from bit `start`. */
static ALWAYS_INLINE uint32_t slot_key(const uint8_t *h, unsigned bytes,
				       unsigned start, unsigned width)
{
	unsigned at = start / 8, avail = bytes - at;
	uint64_t v = 0;

	if (avail >= 8)
		v = load64(h + at);
	else
		memcpy(&v, h + at, avail);
	return (uint32_t)((v >> (start % 8)) & ((UINT64_C(1) << width) - 1));
}

static ALWAYS_INLINE unsigned hamming(const uint8_t *h, const uint64_t *q,
				      unsigned words)
{
	unsigned d = 0;

	for (unsigned w = 0; w < words; w++)
		d += popc64(load64(h + 8 * w) ^ q[w]);
	return d;
}

/* A checksum against accidental corruption (the list file's signature is
 * what stops deliberate changes): four independent multiply-rotate lanes,
 * so it runs at memory speed.  Every lane step is a bijection of both the
 * lane state and the input word, so any change confined to one 8-byte word
 * always changes the result. */
static uint64_t checksum(const uint8_t *p, size_t len, uint64_t seed)
{
	const uint64_t k1 = UINT64_C(0x9e3779b97f4a7c15);
	const uint64_t k2 = UINT64_C(0xc2b2ae3d27d4eb4f);
	uint64_t a[4] = { seed, seed ^ k1, seed ^ k2, seed + k1 + k2 };
	uint64_t h;
	size_t i = 0;

	for (; i + 32 <= len; i += 32)
		for (unsigned l = 0; l < 4; l++)
			a[l] = rotl64(a[l] ^ (load64(p + i + 8 * l) * k1), 29) * k2;
	for (unsigned l = 0; i < len; i += 8, l++) {
		uint64_t w = 0;
		memcpy(&w, p + i, len - i < 8 ? len - i : 8);
		a[l] = rotl64(a[l] ^ (w * k1), 29) * k2;
	}
	h = a[0] ^ rotl64(a[1], 16) ^ rotl64(a[2], 32) ^ rotl64(a[3], 48) ^ len;
	h ^= h >> 33;
	h *= k2;
	h ^= h >> 29;
	h *= k1;
	h ^= h >> 32;
	return h;
}

static uint64_t hashes_checksum(const uint8_t *hashes, size_t n, unsigned bytes)
{
	return checksum(hashes, n * bytes, UINT64_C(0x68617368));
}

static uint64_t blob_checksum(const uint8_t *blob, size_t len)
{
	return checksum(blob + 16, len - 16, UINT64_C(0x626c6f62));
}

/* Number of masks of at most r bits set among c bits: sum C(c, k). */
static double ball_size(unsigned c, unsigned r)
{
	double total = 0, term = 1;

	for (unsigned k = 0; k <= r && k <= c; k++) {
		total += term;
		term = term * (c - k) / (k + 1);
	}
	return total;
}

static unsigned id_bits(size_t n)
{
	unsigned b = 1;

	while (b < 32 && n > 1 && ((uint64_t)n - 1) >> b)
		b++;
	return b;
}

/* The coarse bucket of a slot key (fine may be 32). */
static ALWAYS_INLINE uint32_t key_coarse(uint32_t key, unsigned fine)
{
	return (uint32_t)((uint64_t)key >> fine);
}

/* ---- parameter choice ------------------------------------------------- */

/* The cost model behind the choice of slots, in rough nanoseconds per
 * query, measured on a virtualised Zen 5 (190 ns memory latency, nested
 * paging): with enough prefetches in flight a random cache line of a
 * large index costs ~12 ns and the lines right after it ~3 ns each; a
 * bucket visit costs ~15 ns of CPU besides, scanning an entry ~0.3 ns,
 * and an offset lookup ~2 ns while all offset tables together stay
 * cache-sized (else it is one more random line).  A PACKED candidate is
 * one random fetch of its hash plus ~8 ns to verify it.  (Measured in the
 * 10M PDQ query itself a visit costs ~30 ns and a candidate ~17 ns, page
 * walks included; those weights pick the same plan, m = 10 and m = 12
 * cost more under both, and 17 coarse bits instead of 16 measured 11%
 * slower.) */
#define COST_RANDOM 12.0
#define COST_LINE 3.0
#define COST_VISIT 15.0
#define COST_ENTRY 0.3
#define COST_TABLE_CACHED 2.0
#define COST_VERIFY 8.0
#define TABLE_CACHED_MAX (3u << 20)
/* An exact fine key in a bucket of more than WINDOW entries is looked for
 * in the WINDOW entries (two aligned cache lines) around its interpolated
 * position instead of scanning the bucket. */
#define WINDOW 32
/* Size: at most this many index bytes per entry for the entries arrays
 * (with the 32-byte hash, a 4-byte payload and ~8 bytes of list metadata
 * the list stays within 100 bytes per entry);
 * offset tables are kept to about 8 bytes per entry in all. */
#define SIZE_ENTRIES_MAX 48

struct plan {
	unsigned mode, nslots, idbits, dmax;
	struct blob_slot slot[MIH_MAX_SLOTS];
};

static double bucket_cost(double lambda, unsigned rem, unsigned fine, unsigned esz)
{
	if (rem == 0 && fine > 0 && lambda > WINDOW)
		return COST_VISIT + COST_RANDOM + COST_LINE + WINDOW * COST_ENTRY / 8;
	return COST_VISIT + COST_RANDOM + COST_LINE * (lambda * esz / 64) + COST_ENTRY * lambda;
}

/* Modelled cost of one slot for one query with the best coarse width,
 * which it stores in *ret_c; -1 if no width fits the limits. */
static double plan_slot(size_t n, unsigned mode, unsigned idbits, unsigned m,
			unsigned width, unsigned radius, unsigned *ret_c)
{
	unsigned esz = mode == MIH_MODE_PACKED ? 4 : 8;
	double best = -1, table_max = (double)n * 2.0 / m, cand = 0;

	if (width > MIH_MAX_WIDTH || radius > MIH_MAX_RADIUS)
		return -1;
	if (table_max < 4096)
		table_max = 4096;
	if (mode == MIH_MODE_PACKED)
		cand = (COST_RANDOM + COST_VERIFY) * (double)n * ball_size(width, radius) /
		       (double)(UINT64_C(1) << width);
	for (unsigned c = 0; c <= width && c <= MIH_MAX_COARSE; c++) {
		double nb = (double)(UINT64_C(1) << c), lambda = (double)n / nb, cost = cand;
		double table = nb * 4 * m <= TABLE_CACHED_MAX ? COST_TABLE_CACHED : COST_RANDOM;
		double comb = 1;

		if (ball_size(c, radius) > MIH_MAX_MASKS || nb > table_max)
			break;
		if (mode == MIH_MODE_PACKED && width - c > 32 - idbits)
			continue;
		for (unsigned k = 0; k <= radius && k <= c; k++) {
			cost += comb * (table + bucket_cost(lambda, radius - k, width - c, esz));
			comb = comb * (c - k) / (k + 1);
		}
		if (best < 0 || cost < best) {
			best = cost;
			*ret_c = c;
		}
	}
	return best;
}

static double plan_cost(size_t n, struct plan *p)
{
	double total = 0;

	for (unsigned s = 0; s < p->nslots; s++) {
		struct blob_slot *sl = &p->slot[s];
		double cost = plan_slot(n, p->mode, p->idbits, p->nslots, sl->width,
					sl->radius, &sl->coarse);
		if (cost < 0)
			return -1;
		total += cost;
	}
	return total;
}

/* Try m slots: radii from the refined pigeonhole (sum(r+1) = dmax+1,
 * Norouzi et al. section 4), widths first in proportion to r+1, then moved
 * one bit at a time between slots while that lowers the modelled cost.
 * Returns the cost or -1. */
static double plan_try(size_t n, unsigned bits, unsigned m, struct plan *p)
{
	unsigned units = p->dmax + 1, base = units / m, extra = units % m, used = 0;
	unsigned entry_bytes = p->mode == MIH_MODE_PACKED ? 4 : 12;
	double cost;

	if (base == 0 || m * entry_bytes > SIZE_ENTRIES_MAX)
		return -1;
	p->nslots = m;
	for (unsigned s = 0; s < m; s++) {
		p->slot[s].radius = s < extra ? base : base - 1;
		p->slot[s].width = bits * (p->slot[s].radius + 1) / units;
		used += p->slot[s].width;
	}
	for (unsigned s = 0; used < bits; s = (s + 1) % m, used++)
		p->slot[s].width++;
	cost = plan_cost(n, p);
	for (bool moved = true; moved;) {
		moved = false;
		for (unsigned i = 0; i < m; i++)
			for (unsigned j = 0; j < m; j++) {
				double c2;
				if (i == j || p->slot[i].width <= 1)
					continue;
				p->slot[i].width--;
				p->slot[j].width++;
				c2 = plan_cost(n, p);
				if (c2 >= 0 && (cost < 0 || c2 < cost - 1e-9)) {
					cost = c2;
					moved = true;
				} else {
					p->slot[i].width++;
					p->slot[j].width--;
				}
			}
	}
	if (cost < 0)
		return -1;
	plan_cost(n, p); /* sets each slot's coarse width for the final widths */
	for (unsigned s = 0, start = 0; s < m; s++) {
		p->slot[s].start = start;
		start += p->slot[s].width;
	}
	return cost;
}

static int plan_choose(size_t n, unsigned bits, struct plan *ret)
{
	struct plan best = { 0 }, p = { 0 };
	double best_cost = -1;

	p.mode = bits == 64 ? MIH_MODE_FULL : MIH_MODE_PACKED;
	p.dmax = bits == 64 ? MIH_MAX_DIST_64 : MIH_MAX_DIST_256;
	p.idbits = p.mode == MIH_MODE_PACKED ? id_bits(n) : 0;
	for (unsigned m = 1; m <= MIH_MAX_SLOTS; m++) {
		double cost = plan_try(n, bits, m, &p);

		if (cost >= 0 && (best_cost < 0 || cost < best_cost)) {
			best_cost = cost;
			best = p;
		}
	}
	if (best_cost < 0)
		return -EINVAL;
	*ret = best;
	return 0;
}

/* ---- building --------------------------------------------------------- */

/* Reorder hashes (and payload) so that perm[i] (an old position) moves to
 * position i; follows cycles, marking done positions with perm[i] = i. */
static void permute(uint8_t *hashes, uint32_t *payload, unsigned bytes,
		    uint32_t *perm, size_t n)
{
	uint8_t tmp[32];

	for (size_t i = 0; i < n; i++) {
		size_t j = i;
		uint32_t tp;

		if (perm[i] == i)
			continue;
		memcpy(tmp, hashes + i * bytes, bytes);
		tp = payload ? payload[i] : 0;
		while (perm[j] != i) {
			size_t from = perm[j];
			memcpy(hashes + j * bytes, hashes + from * bytes, bytes);
			if (payload)
				payload[j] = payload[from];
			perm[j] = (uint32_t)j;
			j = from;
		}
		memcpy(hashes + j * bytes, tmp, bytes);
		if (payload)
			payload[j] = tp;
		perm[j] = (uint32_t)j;
	}
}

/* One stable counting-sort pass: positions from in (NULL: 0..n-1) to out
 * by the digit (keys[pos] >> shift) & (2^bits - 1).  counts (2^bits + 1)
 * ends up holding where each digit's run starts, and n. */
static void radix_pass(const uint32_t *keys, const uint32_t *in, uint32_t *out,
		       size_t n, unsigned shift, unsigned bits, uint32_t *counts)
{
	size_t nb = (size_t)1 << bits;
	uint64_t mask = nb - 1;

	memset(counts, 0, (nb + 1) * sizeof(*counts));
	for (size_t i = 0; i < n; i++)
		counts[(((uint64_t)keys[in ? in[i] : i] >> shift) & mask) + 1]++;
	for (size_t b = 0; b < nb; b++)
		counts[b + 1] += counts[b];
	/* counts[d] serves as digit d's cursor, then is shifted back. */
	for (size_t i = 0; i < n; i++) {
		uint32_t pos = in ? in[i] : (uint32_t)i;
		out[counts[((uint64_t)keys[pos] >> shift) & mask]++] = pos;
	}
	memmove(counts + 1, counts, nb * sizeof(*counts));
	counts[0] = 0;
}

#define RADIX_BITS 16

/* Positions 0..n-1 in (coarse, fine, position) order of their slot keys
 * (LSD radix sort: fine digits first, the coarse digit last, whose run
 * starts are the slot's offset table).  The result lands in order; tmp
 * (n) and counts (2^RADIX_BITS + 1) are scratch. */
static void slot_order(const uint32_t *keys, size_t n, unsigned coarse, unsigned fine,
		       uint32_t *offsets, uint32_t *order, uint32_t *tmp, uint32_t *counts)
{
	unsigned npass = (fine + RADIX_BITS - 1) / RADIX_BITS + 1, k = 0;
	const uint32_t *in = NULL;

	for (unsigned shift = 0; shift < fine; shift += RADIX_BITS, k++) {
		uint32_t *out = (npass - 1 - k) % 2 == 0 ? order : tmp;
		unsigned bits = fine - shift < RADIX_BITS ? fine - shift : RADIX_BITS;
		radix_pass(keys, in, out, n, shift, bits, counts);
		in = out;
	}
	radix_pass(keys, in, order, n, fine, coarse, offsets);
}

static size_t plan_layout(struct plan *p, size_t n)
{
	size_t off = align8(sizeof(struct blob_hdr) + p->nslots * sizeof(struct blob_slot));

	for (unsigned s = 0; s < p->nslots; s++) {
		struct blob_slot *sl = &p->slot[s];

		sl->off_offsets = off;
		off = align8(off + (((size_t)1 << sl->coarse) + 1) * 4);
		sl->off_entries = off;
		off = align8(off + n * (p->mode == MIH_MODE_FULL ? 8 : 4));
		sl->off_ids = 0;
		if (p->mode == MIH_MODE_FULL) {
			sl->off_ids = off;
			off = align8(off + n * 4);
		}
	}
	return off;
}

/* Scratch for building: keys[pos] is the current slot's key, tmp and
 * counts serve the radix sort. */
struct build_scratch {
	uint32_t *keys, *tmp, *counts;
};

static void slot_keys(const struct blob_slot *sl, const uint8_t *hashes, size_t n,
		      unsigned bytes, uint32_t *keys)
{
	for (size_t i = 0; i < n; i++)
		keys[i] = slot_key(hashes + i * bytes, bytes, sl->start, sl->width);
}

static void build_slot(const struct plan *p, const struct blob_slot *sl,
		       const uint8_t *hashes, size_t n, unsigned bytes,
		       const struct build_scratch *bs, uint8_t *blob)
{
	uint32_t *offsets = (uint32_t *)(void *)(blob + sl->off_offsets);
	unsigned fine = sl->width - sl->coarse;
	/* The entries array doubles as the sorted order. */
	uint32_t *order = (uint32_t *)(void *)(blob + sl->off_entries);

	slot_keys(sl, hashes, n, bytes, bs->keys);
	slot_order(bs->keys, n, sl->coarse, fine, offsets, order, bs->tmp, bs->counts);
	if (p->mode == MIH_MODE_FULL) {
		uint64_t *full = (uint64_t *)(void *)(blob + sl->off_entries);
		uint32_t *ids = (uint32_t *)(void *)(blob + sl->off_ids);

		/* Spread from the back so that order[] is read before the
		 * wider entries overwrite it. */
		for (size_t j = n; j-- > 0;) {
			uint32_t id = order[j];
			ids[j] = id;
			full[j] = load64(hashes + (size_t)id * bytes);
		}
	} else {
		uint32_t fmask = (uint32_t)((UINT64_C(1) << fine) - 1);

		for (size_t j = 0; j < n; j++) {
			uint32_t id = order[j];
			order[j] = (uint32_t)((uint64_t)(bs->keys[id] & fmask) << p->idbits) | id;
		}
	}
}

int mih_build(uint8_t *hashes, uint32_t *payload, size_t n, unsigned bits,
	      void **ret_blob, size_t *ret_len)
{
	struct plan p;
	struct blob_hdr hdr = { 0 };
	struct build_scratch bs = { 0 };
	unsigned bytes = bits / 8;
	uint8_t *blob = NULL;
	size_t len, nalloc = n ? n : 1;
	int r;

	if ((bits != 64 && bits != 256) || (n > 0 && !hashes) || !ret_blob || !ret_len)
		return -EINVAL;
	if (n > UINT32_MAX)
		return -E2BIG;
	r = plan_choose(n, bits, &p);
	if (r < 0)
		goto out;
	len = plan_layout(&p, n);
	blob = calloc(1, len);
	bs.keys = malloc(nalloc * sizeof(*bs.keys));
	bs.tmp = malloc(nalloc * sizeof(*bs.tmp));
	bs.counts = malloc((((size_t)1 << RADIX_BITS) + 1) * sizeof(*bs.counts));
	if (!blob || !bs.keys || !bs.tmp || !bs.counts) {
		r = -ENOMEM;
		goto out;
	}
	if (p.mode == MIH_MODE_PACKED && n > 0) {
		/* Store the hashes in slot 0's order: slot 0's entries then
		 * point at consecutive hashes.  tmp receives the order. */
		const struct blob_slot *sl = &p.slot[0];
		uint32_t *scratch = (uint32_t *)(void *)(blob + sl->off_entries);

		slot_keys(sl, hashes, n, bytes, bs.keys);
		slot_order(bs.keys, n, sl->coarse, sl->width - sl->coarse,
			   (uint32_t *)(void *)(blob + sl->off_offsets), bs.tmp, scratch,
			   bs.counts);
		permute(hashes, payload, bytes, bs.tmp, n);
	}
	for (unsigned s = 0; s < p.nslots; s++)
		build_slot(&p, &p.slot[s], hashes, n, bytes, &bs, blob);

	hdr.magic = MIH_MAGIC;
	hdr.hashes_sum = hashes_checksum(hashes, n, bytes);
	hdr.blob_len = len;
	hdr.n = n;
	hdr.format = MIH_FORMAT;
	hdr.bits = bits;
	hdr.mode = p.mode;
	hdr.nslots = p.nslots;
	hdr.idbits = p.idbits;
	hdr.dmax = p.dmax;
	memcpy(blob, &hdr, sizeof(hdr));
	memcpy(blob + sizeof(hdr), p.slot, p.nslots * sizeof(struct blob_slot));
	hdr.sum = blob_checksum(blob, len);
	memcpy(blob + offsetof(struct blob_hdr, sum), &hdr.sum, sizeof(hdr.sum));

	*ret_blob = blob;
	*ret_len = len;
	blob = NULL;
	r = 0;
out:
	free(bs.keys);
	free(bs.tmp);
	free(bs.counts);
	free(blob);
	return r;
}

void mih_reseal(void *blob, size_t blob_len, const uint8_t *hashes, size_t n,
		unsigned bits)
{
	uint64_t sum;

	if (!blob || blob_len < sizeof(struct blob_hdr) || (bits != 64 && bits != 256))
		return;
	sum = hashes_checksum(hashes, hashes ? n : 0, bits / 8);
	memcpy((uint8_t *)blob + offsetof(struct blob_hdr, hashes_sum), &sum, sizeof(sum));
	sum = blob_checksum(blob, blob_len);
	memcpy((uint8_t *)blob + offsetof(struct blob_hdr, sum), &sum, sizeof(sum));
}

/* ---- opening: every number is checked before it is used -------------- */

static int masks_make(struct mih_slot *sl)
{
	size_t cap = (size_t)ball_size(sl->coarse, sl->radius), k = 0;

	sl->masks = malloc(cap * sizeof(*sl->masks));
	if (!sl->masks)
		return -ENOMEM;
	for (unsigned pc = 0; pc <= sl->radius; pc++) {
		if (pc <= sl->coarse) {
			/* All c-bit values with pc bits set, in increasing
			 * order (Gosper's next-combination step). */
			uint64_t v = (UINT64_C(1) << pc) - 1, end = UINT64_C(1) << sl->coarse;
			while (v < end && k < cap) {
				uint64_t low = v & -v, ripple = v + low;
				sl->masks[k++] = (uint32_t)v;
				if (v == 0)
					break;
				v = ripple | (((v ^ ripple) >> 2) / low);
			}
		}
		sl->nmasks[pc] = (uint32_t)k;
	}
	return 0;
}

/* The slot parameters alone, before any of them is used as a size. */
static bool slot_params_ok(const struct blob_slot *bs, unsigned start,
			   unsigned bits, unsigned mode, unsigned idbits)
{
	if (bs->start != start || bs->width == 0 || bs->width > MIH_MAX_WIDTH ||
	    bs->width > bits - start || bs->coarse > bs->width ||
	    bs->coarse > MIH_MAX_COARSE || bs->radius > MIH_MAX_RADIUS ||
	    ball_size(bs->coarse, bs->radius) > MIH_MAX_MASKS)
		return false;
	return mode != MIH_MODE_PACKED || bs->width - bs->coarse <= 32 - idbits;
}

/* The tables of one slot: offsets must be a monotone partition of 0..n,
 * and every id must name a hash. */
/* The largest of a[i] & mask: a loop the compiler vectorises, since
 * these checks read the whole index at open. */
static uint32_t max_masked(const uint32_t *a, size_t n, uint32_t mask)
{
	uint32_t mx = 0;

	for (size_t i = 0; i < n; i++) {
		uint32_t x = a[i] & mask;
		mx = x > mx ? x : mx;
	}
	return mx;
}

static bool monotone(const uint32_t *a, size_t n)
{
	uint32_t bad = 0;

	for (size_t i = 0; i + 1 < n; i++)
		bad |= a[i] > a[i + 1];
	return !bad;
}

/* The 16-bit offsets: steps from every 2^gshift-th offset, at the largest
 * gshift <= REL_GROUP_SHIFT where every step fits (at 0 all steps are 0).
 * 1-3% off the 10M query in alternating runs, for ~0.15 B per entry. */
#define REL_GROUP_SHIFT 6
static int rel_make(struct mih_slot *sl, size_t nb)
{
	unsigned g = REL_GROUP_SHIFT;

	for (; g > 0; g--) {
		bool fits = true;
		for (size_t b = 0; b <= nb && fits; b++)
			fits = sl->offsets[b] - sl->offsets[b >> g << g] <= UINT16_MAX;
		if (fits)
			break;
	}
	sl->gshift = g;
	sl->group = malloc(((nb >> g) + 1) * sizeof(*sl->group));
	sl->rel = malloc((nb + 1) * sizeof(*sl->rel));
	if (!sl->group || !sl->rel)
		return -ENOMEM;
	for (size_t k = 0; k <= nb >> g; k++)
		sl->group[k] = sl->offsets[k << g];
	for (size_t b = 0; b <= nb; b++)
		sl->rel[b] = (uint16_t)(sl->offsets[b] - sl->group[b >> g]);
	return 0;
}

static int slot_open(struct mih *m, struct mih_slot *sl, const struct blob_slot *bs,
		     const uint8_t *blob)
{
	size_t nb = (size_t)1 << bs->coarse;
	const uint32_t *ids;
	uint32_t idmask = UINT32_MAX;

	sl->start = bs->start;
	sl->width = bs->width;
	sl->radius = bs->radius;
	sl->coarse = bs->coarse;
	sl->fine = bs->width - bs->coarse;
	sl->search = m->mode == MIH_MODE_PACKED && sl->fine > 0;
	sl->offsets = (const uint32_t *)(const void *)(blob + bs->off_offsets);
	if (sl->offsets[0] != 0 || sl->offsets[nb] != m->n || !monotone(sl->offsets, nb + 1))
		return -EBADMSG;
	if (m->mode == MIH_MODE_FULL) {
		sl->full = (const uint64_t *)(const void *)(blob + bs->off_entries);
		sl->ids = ids = (const uint32_t *)(const void *)(blob + bs->off_ids);
	} else {
		idmask = (uint32_t)((UINT64_C(1) << m->idbits) - 1);
		sl->packed = ids = (const uint32_t *)(const void *)(blob + bs->off_entries);
	}
	/* Every id must name a hash (n == 0 has no entries to check). */
	if (m->n > 0 && max_masked(ids, m->n, idmask) >= m->n)
		return -EBADMSG;
	if (m->mode == MIH_MODE_PACKED) {
		int r = rel_make(sl, nb);
		if (r < 0)
			return r;
	}
	return masks_make(sl);
}

/* Header checks that need nothing but the header. */
static bool hdr_ok(const struct blob_hdr *h, size_t blob_len, size_t n, unsigned bits)
{
	if (h->magic != MIH_MAGIC || h->format != MIH_FORMAT || h->blob_len != blob_len ||
	    h->bits != bits || h->n != n || n > UINT32_MAX || blob_len % 8 != 0 ||
	    h->nslots == 0 || h->nslots > MIH_MAX_SLOTS || h->dmax > bits)
		return false;
	if (h->mode == MIH_MODE_PACKED)
		return h->idbits >= 1 && h->idbits <= 32 &&
		       ((uint64_t)(n ? n - 1 : 0) >> h->idbits) == 0;
	return h->mode == MIH_MODE_FULL && bits == 64 && h->idbits == 0;
}

int mih_open(const void *blob, size_t blob_len, const uint8_t *hashes,
	     size_t n, unsigned bits, struct mih **ret)
{
	return mih_open_flags(blob, blob_len, hashes, n, bits, 0, ret);
}

int mih_open_flags(const void *blob, size_t blob_len, const uint8_t *hashes,
		   size_t n, unsigned bits, unsigned flags, struct mih **ret)
{
	const uint8_t *b = blob;
	struct blob_hdr hdr;
	struct plan p, layout;
	struct mih *m = NULL;
	unsigned start = 0, units = 0;
	int r = -EBADMSG;

	if (!blob || !ret || (bits != 64 && bits != 256) || (n > 0 && !hashes) ||
	    (uintptr_t)blob % 8 != 0 ||
	    (flags & ~(MIH_OPEN_DIGESTED | MIH_OPEN_NO_AVX512 | MIH_OPEN_NO_SIMD |
		       MIH_OPEN_NO_VPOPCNT)))
		return -EINVAL;
	if (blob_len < sizeof(hdr))
		return -EBADMSG;
	memcpy(&hdr, b, sizeof(hdr));
	if (!hdr_ok(&hdr, blob_len, n, bits) ||
	    blob_len < sizeof(hdr) + hdr.nslots * sizeof(struct blob_slot))
		return -EBADMSG;
	if (!(flags & MIH_OPEN_DIGESTED) &&
	    (blob_checksum(b, blob_len) != hdr.sum ||
	     hashes_checksum(hashes, n, bits / 8) != hdr.hashes_sum))
		return -EBADMSG;
	p = (struct plan){ .mode = hdr.mode, .nslots = hdr.nslots, .idbits = hdr.idbits,
			   .dmax = hdr.dmax };
	memcpy(p.slot, b + sizeof(hdr), hdr.nslots * sizeof(struct blob_slot));
	for (unsigned s = 0; s < p.nslots; s++) {
		if (!slot_params_ok(&p.slot[s], start, bits, p.mode, p.idbits))
			return -EBADMSG;
		start += p.slot[s].width;
		units += p.slot[s].radius + 1;
	}
	/* The slots must tile the hash, the radii must cover dmax, and the
	 * sections must sit exactly where the builder puts them. */
	layout = p;
	if (start != bits || units < hdr.dmax + 1 || plan_layout(&layout, n) != blob_len)
		return -EBADMSG;
	for (unsigned s = 0; s < p.nslots; s++)
		if (memcmp(&layout.slot[s], &p.slot[s], sizeof(p.slot[s])) != 0)
			return -EBADMSG;

	m = calloc(1, sizeof(*m));
	if (!m)
		return -ENOMEM;
	m->hashes = hashes;
	m->n = n;
	m->bits = bits;
	m->bytes = bits / 8;
	m->mode = hdr.mode;
	m->nslots = hdr.nslots;
	m->idbits = hdr.idbits;
	m->dmax = hdr.dmax;
	m->flags = flags & (MIH_OPEN_NO_AVX512 | MIH_OPEN_NO_SIMD | MIH_OPEN_NO_VPOPCNT);
	for (unsigned s = 0; s < p.nslots; s++) {
		r = slot_open(m, &m->slot[s], &p.slot[s], b);
		if (r < 0)
			goto out;
	}
	*ret = m;
	m = NULL;
	r = 0;
out:
	mih_close(m);
	return r;
}

void mih_close(struct mih *m)
{
	if (!m)
		return;
	for (unsigned s = 0; s < MIH_MAX_SLOTS; s++) {
		free(m->slot[s].masks);
		free(m->slot[s].group);
		free(m->slot[s].rel);
	}
	free(m);
}

unsigned mih_max_dist(const struct mih *m)
{
	return m ? m->dmax : 0;
}

int mih_describe(const struct mih *m, char *buf, size_t len)
{
	size_t at = 0;
	int w;

	if (!m || !buf || len == 0)
		return -EINVAL;
	w = snprintf(buf, len, "%u slots (bits/radius/coarse):", m->nslots);
	for (unsigned s = 0; w >= 0 && (size_t)w < len - at && s < m->nslots; s++) {
		at += (size_t)w;
		w = snprintf(buf + at, len - at, " %u/%u/%u", m->slot[s].width,
			     m->slot[s].radius, m->slot[s].coarse);
	}
	if (w >= 0 && (size_t)w < len - at) {
		at += (size_t)w;
		w = snprintf(buf + at, len - at, ", %s entries, exact to d <= %u",
			     m->mode == MIH_MODE_FULL ? "full" : "packed", m->dmax);
	}
	return w >= 0 && (size_t)w < len - at ? 0 : -ENOBUFS;
}

/* ---- hit collection ------------------------------------------------- */

/* Hits go straight into the caller's array.  Past cap, the array becomes
 * a max-heap on pos that keeps the cap smallest positions. */
struct hitbuf {
	struct mih_hit *hits;
	size_t cap, n;
	bool overflow;
};

static void heap_down(struct mih_hit *h, size_t n, size_t i)
{
	for (;;) {
		size_t l = 2 * i + 1, big = i;
		struct mih_hit t;

		if (l < n && h[l].pos > h[big].pos)
			big = l;
		if (l + 1 < n && h[l + 1].pos > h[big].pos)
			big = l + 1;
		if (big == i)
			return;
		t = h[i];
		h[i] = h[big];
		h[big] = t;
		i = big;
	}
}

static void hitbuf_add(struct hitbuf *hb, uint32_t pos, unsigned dist, unsigned q)
{
	struct mih_hit hit = { .pos = pos, .dist = (uint16_t)dist, .query = (uint16_t)q };

	if (hb->n < hb->cap) {
		hb->hits[hb->n++] = hit;
		return;
	}
	if (!hb->overflow) {
		hb->overflow = true;
		for (size_t i = hb->cap / 2; i-- > 0;)
			heap_down(hb->hits, hb->cap, i);
	}
	if (hb->cap > 0 && pos < hb->hits[0].pos) {
		hb->hits[0] = hit;
		heap_down(hb->hits, hb->cap, 0);
	}
}

static int hit_cmp(const void *a, const void *b)
{
	uint32_t x = ((const struct mih_hit *)a)->pos, y = ((const struct mih_hit *)b)->pos;

	return (x > y) - (x < y);
}

static int hitbuf_finish(struct hitbuf *hb, size_t *ret_n)
{
	if (hb->n > 1)
		qsort(hb->hits, hb->n, sizeof(*hb->hits), hit_cmp);
	*ret_n = hb->n;
	return hb->overflow ? -ENOBUFS : 0;
}

static int query_args_ok(const uint8_t *qs, unsigned nq, const struct mih_hit *hits,
			 size_t cap, const size_t *ret_n)
{
	return qs && nq >= 1 && nq <= MIH_MAX_QUERIES && (hits || cap == 0) && ret_n;
}

/* ---- linear scan ------------------------------------------------------ */

/* The smallest distance from h to the nq queries, and which query (the
 * lowest index on a tie). */
static ALWAYS_INLINE unsigned nearest(const uint8_t *h, unsigned words,
				      const uint64_t (*qw)[4], unsigned nq, unsigned *ret_q)
{
	unsigned best = UINT32_MAX, bq = 0;

	for (unsigned v = 0; v < nq; v++) {
		unsigned d = hamming(h, qw[v], words);
		if (d < best) {
			best = d;
			bq = v;
		}
	}
	*ret_q = bq;
	return best;
}

static ALWAYS_INLINE int linear_body(const uint8_t *hashes, size_t n, unsigned words,
				     const uint64_t (*qw)[4], unsigned nq,
				     unsigned max_dist, struct hitbuf *hb)
{
	for (size_t i = 0; i < n; i++) {
		const uint8_t *h = hashes + i * 8 * words;
		uint64_t w[4];
		unsigned best = UINT32_MAX, bq;

		/* The minimum alone (no branch per query); which query gave
		 * it is worked out only for the rare hit. */
		for (unsigned k = 0; k < words; k++)
			w[k] = load64(h + 8 * k);
		for (unsigned v = 0; v < nq; v++) {
			unsigned d = 0;
			for (unsigned k = 0; k < words; k++)
				d += popc64(w[k] ^ qw[v][k]);
			best = d < best ? d : best;
		}
		if (best > max_dist)
			continue;
		if (hb->n == hb->cap) {
			/* Positions only grow: the first cap are final. */
			hb->overflow = true;
			break;
		}
		best = nearest(h, words, qw, nq, &bq);
		hitbuf_add(hb, (uint32_t)i, best, bq);
	}
	return 0;
}

static int linear_generic(const uint8_t *hashes, size_t n, unsigned words,
			  const uint64_t (*qw)[4], unsigned nq, unsigned max_dist,
			  struct hitbuf *hb)
{
	return words == 4 ? linear_body(hashes, n, 4, qw, nq, max_dist, hb)
			  : linear_body(hashes, n, 1, qw, nq, max_dist, hb);
}

#ifdef HAVE_X86_DISPATCH
TARGET_POPCNT static int linear_popcnt(const uint8_t *hashes, size_t n, unsigned words,
				       const uint64_t (*qw)[4], unsigned nq,
				       unsigned max_dist, struct hitbuf *hb)
{
	return words == 4 ? linear_body(hashes, n, 4, qw, nq, max_dist, hb)
			  : linear_body(hashes, n, 1, qw, nq, max_dist, hb);
}
#endif

static void load_queries(const uint8_t *qs, unsigned nq, unsigned words, uint64_t (*qw)[4])
{
	for (unsigned v = 0; v < nq; v++)
		for (unsigned w = 0; w < words; w++)
			qw[v][w] = load64(qs + (size_t)(v * words + w) * 8);
}

int mih_linear_query(const uint8_t *hashes, size_t n, unsigned bits,
		     const uint8_t *qs, unsigned nq, unsigned max_dist,
		     struct mih_hit *hits, size_t cap, size_t *ret_n)
{
	struct hitbuf hb = { .hits = hits, .cap = cap };
	uint64_t qw[MIH_MAX_QUERIES][4];
	unsigned words = bits / 64;

	if ((bits != 64 && bits != 256) || (n > 0 && !hashes) || n > UINT32_MAX ||
	    !query_args_ok(qs, nq, hits, cap, ret_n))
		return -EINVAL;
	load_queries(qs, nq, words, qw);
#ifdef HAVE_X86_DISPATCH
	if (__builtin_cpu_supports("popcnt"))
		linear_popcnt(hashes, n, words, (const uint64_t(*)[4])qw, nq, max_dist, &hb);
	else
#endif
		linear_generic(hashes, n, words, (const uint64_t(*)[4])qw, nq, max_dist, &hb);
	return hitbuf_finish(&hb, ret_n);
}

/* ---- the index query -------------------------------------------------- */

struct qctx {
	const struct mih *m;
	unsigned nq, d;
	int rad[MIH_MAX_SLOTS];           /* this query's slot radii; -1: skip */
	uint64_t qw[MIH_MAX_QUERIES][4];
	uint32_t qkey[MIH_MAX_QUERIES][MIH_MAX_SLOTS];
	struct hitbuf hb;
};

/* Radii for max_dist d <= dmax: shrink the widest radii until
 * sum(rad + 1) = d + 1, which keeps the pigeonhole argument. */
static void plan_radii(struct qctx *c)
{
	const struct mih *m = c->m;
	unsigned units = 0;

	for (unsigned s = 0; s < m->nslots; s++) {
		c->rad[s] = (int)m->slot[s].radius;
		units += m->slot[s].radius + 1;
	}
	while (units > c->d + 1) {
		unsigned big = 0;
		for (unsigned s = 1; s < m->nslots; s++)
			if (c->rad[s] >= c->rad[big])
				big = s;
		c->rad[big]--;
		units--;
	}
}

/* The hash h, found through query v in slot s, is within d of query v.
 * Report it if (v, s) is the first pair that finds it.  (Rare: every call
 * sits behind an unlikely branch.) */
static ALWAYS_INLINE void hit_found(struct qctx *c, const uint8_t *h, uint32_t pos,
				    unsigned v, unsigned s, unsigned dv)
{
	const struct mih *m = c->m;
	unsigned words = m->bits / 64, best = dv, bq = v;

	/* Slot s must be the first within its radius (tested first: cheaper
	 * than the other queries' distances, and a near hash is found by
	 * most of the slots).  A FULL bucket also holds hashes outside slot
	 * s's radius, which a later slot reports. */
	for (unsigned t = 0; t <= s; t++) {
		const struct mih_slot *sl = &m->slot[t];
		bool within = c->rad[t] >= 0 &&
			      popc32(slot_key(h, m->bytes, sl->start, sl->width) ^
				     c->qkey[v][t]) <= (unsigned)c->rad[t];
		if (within != (t == s))
			return;
	}
	for (unsigned u = 0; u < c->nq; u++) {
		unsigned du;
		if (u == v)
			continue;
		du = hamming(h, c->qw[u], words);
		if (u < v && du <= c->d)
			return;
		if (du < best) {
			best = du;
			bq = u;
		}
	}
	hitbuf_add(&c->hb, pos, best, bq);
}

/* Candidates waiting for verification, as parallel arrays (the id, and
 * the query that found it), with room past CAND_BATCH for the whole-vector
 * stores of the SIMD filters. */
#define CAND_SLACK 32
struct cands {
	uint32_t id[CAND_BATCH + CAND_SLACK];
	uint8_t v[CAND_BATCH + CAND_SLACK];
};

/* Which filters the query may use; chosen once per query from the CPU.
 * Ordered: each level has all the code of the one before it. */
enum simd_level { SIMD_NONE, SIMD_AVX2, SIMD_AVX512, SIMD_AVX512VP };

/* Verify a batch of candidates, prefetching PF_CANDS ahead: a steady
 * stream of prefetches keeps the most misses in flight (a burst of them
 * would overflow the miss buffers, and the CPU drops prefetches then). */
static ALWAYS_INLINE void verify_words(struct qctx *c, unsigned s, const struct cands *cd,
					size_t nc, unsigned words)
{
	const uint8_t *const hashes = c->m->hashes;
	const uint64_t(*const qw)[4] = c->qw;
	const unsigned bytes = words * 8, d = c->d;

	for (size_t i = 0; i < nc && i < PF_CANDS; i++)
		PREFETCH(hashes + (size_t)cd->id[i] * bytes);
	for (size_t i = 0; i < nc; i++) {
		const uint8_t *h = hashes + (size_t)cd->id[i] * bytes;
		unsigned dv;

		if (i + PF_CANDS < nc)
			PREFETCH(hashes + (size_t)cd->id[i + PF_CANDS] * bytes);
		dv = hamming(h, qw[cd->v[i]], words);
		if (__builtin_expect(dv <= d, 0))
			hit_found(c, h, cd->id[i], cd->v[i], s, dv);
	}
}

#ifdef HAVE_X86_DISPATCH
/* The distances of two 256-bit hashes at h0 and h1 to queries q0 and q1
 * (VPOPCNTQ), in lanes 0 and 4 of the result. */
TARGET_AVX512VP static inline __m512i dist2_avx512vp(const uint8_t *h0, const uint8_t *h1,
						     const uint64_t *q0, const uint64_t *q1)
{
	__m512i x = _mm512_inserti64x4(
		_mm512_castsi256_si512(_mm256_loadu_si256((const __m256i *)(const void *)h0)),
		_mm256_loadu_si256((const __m256i *)(const void *)h1), 1);
	__m512i q = _mm512_inserti64x4(
		_mm512_castsi256_si512(_mm256_loadu_si256((const __m256i *)(const void *)q0)),
		_mm256_loadu_si256((const __m256i *)(const void *)q1), 1);
	__m512i p = _mm512_popcnt_epi64(_mm512_xor_si512(x, q));

	/* Sum the four words of each half: pairs, then pairs of pairs. */
	p = _mm512_add_epi64(p, _mm512_shuffle_epi32(p, (_MM_PERM_ENUM)0x4e));
	return _mm512_add_epi64(p, _mm512_shuffle_i64x2(p, p, 0xb1));
}

/* verify_words for 256-bit hashes, two candidates per vector: fewer
 * instructions per candidate than four scalar popcounts (12% off the 10M
 * query in alternating runs), and a branch only for the rare pair that
 * holds a hit.  An odd last candidate is paired with itself, its second
 * lane masked off. */
TARGET_AVX512VP static inline void verify_avx512vp(struct qctx *c, unsigned s,
						   const struct cands *cd, size_t nc)
{
	const uint8_t *const hashes = c->m->hashes;
	const __m512i vd = _mm512_set1_epi64((long long)c->d);
	size_t i;

	for (i = 0; i < nc && i < PF_CANDS; i++)
		PREFETCH(hashes + (size_t)cd->id[i] * 32);
	for (i = 0; i < nc; i += 2) {
		const size_t j = i + 1 < nc ? i + 1 : i;
		const uint8_t *h[2] = { hashes + (size_t)cd->id[i] * 32,
					hashes + (size_t)cd->id[j] * 32 };
		__m512i dist;
		__mmask8 pass;

		for (size_t f = i + PF_CANDS; f < i + PF_CANDS + 2 && f < nc; f++)
			PREFETCH(hashes + (size_t)cd->id[f] * 32);
		dist = dist2_avx512vp(h[0], h[1], c->qw[cd->v[i]], c->qw[cd->v[j]]);
		pass = _mm512_cmple_epu64_mask(dist, vd) & (j > i ? 0x11 : 0x01);
		if (__builtin_expect(pass != 0, 0)) {
			uint64_t dd[8];

			_mm512_storeu_si512((void *)dd, dist);
			for (unsigned k = 0; k < 2; k++)
				if (pass & (1u << (4 * k)))
					hit_found(c, h[k], cd->id[i + k], cd->v[i + k], s,
						  (unsigned)dd[4 * k]);
		}
	}
}
#endif

static ALWAYS_INLINE void verify_packed(struct qctx *c, unsigned s, enum simd_level simd,
					const struct cands *cd, size_t nc)
{
#ifdef HAVE_X86_DISPATCH
	if (simd == SIMD_AVX512VP && c->m->bits == 256) {
		verify_avx512vp(c, s, cd, nc);
		return;
	}
#else
	(void)simd;
#endif
	if (c->m->bits == 256)
		verify_words(c, s, cd, nc, 4);
	else
		verify_words(c, s, cd, nc, 1);
}

/* A FULL entry within d of query v: confirm it on the hash array itself,
 * so that even a damaged index never reports a wrong distance. */
static void full_hit(struct qctx *c, uint32_t id, unsigned v, unsigned s)
{
	const uint8_t *h = c->m->hashes + (size_t)id * 8;
	unsigned dv = hamming(h, c->qw[v], 1);

	if (dv <= c->d)
		hit_found(c, h, id, v, s, dv);
}

/* Prefetch the cache lines of [from, to), at most PF_RUN_MAX of them
 * (the hardware prefetcher does not start on runs this short). */
static ALWAYS_INLINE void prefetch_run(const void *from, const void *to)
{
	uintptr_t a = (uintptr_t)from & ~(uintptr_t)63, end = (uintptr_t)to;

	for (unsigned k = 0; a < end && k < PF_RUN_MAX; a += 64, k++)
		PREFETCH((const void *)a);
}

/* Append the entries of e[k..end) whose fine key is within rem of qf as
 * candidates, without a branch per entry (whether an entry passes is
 * unpredictable).  The caller guarantees room for end - k more. */
static ALWAYS_INLINE size_t filter_entries(const uint32_t *e, size_t k, size_t end,
					   uint32_t qf, uint32_t fm, uint32_t idmask,
					   unsigned rem, uint8_t qv, struct cands *cd, size_t nc)
{
	for (; k < end; k++) {
		uint32_t x = e[k];
		cd->id[nc] = x & idmask;
		cd->v[nc] = qv;
		nc += popc32((x ^ qf) & fm) <= rem;
	}
	return nc;
}

/* Candidates from the entries w[i] with bit i set in mask. */
static ALWAYS_INLINE size_t emit_mask(const uint32_t *w, uint64_t mask, uint32_t idmask,
				      uint8_t qv, struct cands *cd, size_t nc)
{
	while (mask) {
		cd->id[nc] = w[__builtin_ctzll(mask)] & idmask;
		cd->v[nc] = qv;
		nc++;
		mask &= mask - 1;
	}
	return nc;
}

#ifdef HAVE_X86_DISPATCH
/* popcount(x) <= rem for 8 lanes, rem <= 2: clearing the lowest set bit
 * rem times leaves 0. */
TARGET_AVX2 static inline unsigned within_avx2(__m256i x, unsigned rem)
{
	const __m256i one = _mm256_set1_epi32(1);

	if (rem >= 1)
		x = _mm256_and_si256(x, _mm256_sub_epi32(x, one));
	if (rem >= 2)
		x = _mm256_and_si256(x, _mm256_sub_epi32(x, one));
	return (unsigned)_mm256_movemask_ps(_mm256_castsi256_ps(
		_mm256_cmpeq_epi32(x, _mm256_setzero_si256())));
}

/* filter_entries, 8 entries at a time, for rem <= 2.  Reads whole vectors
 * up to 7 entries past end, which the caller guarantees are readable. */
TARGET_AVX2 static inline size_t filter_avx2(const uint32_t *e, size_t k, size_t end,
					     uint32_t qf, uint32_t fm, uint32_t idmask,
					     unsigned rem, uint8_t qv, struct cands *cd,
					     size_t nc)
{
	const __m256i vqf = _mm256_set1_epi32((int)qf), vfm = _mm256_set1_epi32((int)fm);

	for (; k < end; k += 8) {
		__m256i x = _mm256_and_si256(_mm256_xor_si256(
			_mm256_loadu_si256((const __m256i *)(const void *)(e + k)), vqf), vfm);
		unsigned mask = within_avx2(x, rem);
		if (end - k < 8)
			mask &= (1u << (end - k)) - 1;
		nc = emit_mask(e + k, mask, idmask, qv, cd, nc);
	}
	return nc;
}

/* Bit i set if w[i] has fine key qf, for the 32 entries of two aligned
 * cache lines. */
TARGET_AVX2 static inline uint64_t window_mask_avx2(const uint32_t *w, uint32_t qf, uint32_t fm)
{
	const __m256i vqf = _mm256_set1_epi32((int)qf), vfm = _mm256_set1_epi32((int)fm);
	uint64_t mask = 0;

	for (unsigned i = 0; i < WINDOW; i += 8) {
		__m256i x = _mm256_and_si256(
			_mm256_load_si256((const __m256i *)(const void *)(w + i)), vfm);
		mask |= (uint64_t)(unsigned)_mm256_movemask_ps(_mm256_castsi256_ps(
				_mm256_cmpeq_epi32(x, vqf))) << i;
	}
	return mask;
}

/* The AVX-512 filters: 16 entries per vector, and the passing ids
 * compressed into a register and stored whole, so that neither the scan
 * nor the emission branches on the data. */
TARGET_AVX512 static inline size_t emit16_avx512(__m512i x, __mmask16 pass, uint32_t idmask,
						 uint8_t qv, struct cands *cd, size_t nc)
{
	__m512i ids = _mm512_maskz_compress_epi32(pass, _mm512_and_si512(
							  x, _mm512_set1_epi32((int)idmask)));

	_mm512_storeu_si512((void *)(cd->id + nc), ids);
	_mm_storeu_si128((__m128i *)(void *)(cd->v + nc), _mm_set1_epi8((char)qv));
	return nc + (unsigned)__builtin_popcount((unsigned)pass);
}

/* filter_entries for rem <= 2, 16 entries at a time; the last vector's
 * load is masked, so it reads nothing past end. */
TARGET_AVX512 static inline size_t filter_avx512(const uint32_t *e, size_t k, size_t end,
						 uint32_t qf, uint32_t fm, uint32_t idmask,
						 unsigned rem, uint8_t qv, struct cands *cd,
						 size_t nc)
{
	const __m512i vqf = _mm512_set1_epi32((int)qf), vfm = _mm512_set1_epi32((int)fm);
	const __m512i one = _mm512_set1_epi32(1);

	for (; k < end; k += 16) {
		__mmask16 live = end - k >= 16 ? (__mmask16)0xffff
					       : (__mmask16)((1u << (end - k)) - 1);
		__m512i x = _mm512_maskz_loadu_epi32(live, e + k);
		__m512i y = _mm512_and_si512(_mm512_xor_si512(x, vqf), vfm);

		if (rem >= 1)
			y = _mm512_and_si512(y, _mm512_sub_epi32(y, one));
		if (rem >= 2)
			y = _mm512_and_si512(y, _mm512_sub_epi32(y, one));
		nc = emit16_avx512(x, _mm512_mask_testn_epi32_mask(live, y, y), idmask, qv, cd,
				   nc);
	}
	return nc;
}

/* The entries of the two aligned lines at w in the lanes given (bit i:
 * w[i]) whose fine key is qf. */
TARGET_AVX512 static inline size_t window_avx512(const uint32_t *w, uint64_t lanes, uint32_t qf,
						 uint32_t fm, uint32_t idmask, uint8_t qv,
						 struct cands *cd, size_t nc)
{
	const __m512i vqf = _mm512_set1_epi32((int)qf), vfm = _mm512_set1_epi32((int)fm);
	__m512i x0 = _mm512_load_si512((const void *)w);
	__m512i x1 = _mm512_load_si512((const void *)(w + 16));
	__mmask16 m0 = _mm512_mask_cmpeq_epi32_mask((__mmask16)lanes,
						    _mm512_and_si512(x0, vfm), vqf);
	__mmask16 m1 = _mm512_mask_cmpeq_epi32_mask((__mmask16)(lanes >> 16),
						    _mm512_and_si512(x1, vfm), vqf);

	nc = emit16_avx512(x0, m0, idmask, qv, cd, nc);
	return emit16_avx512(x1, m1, idmask, qv, cd, nc);
}
#endif

/* The filter the CPU can run best. */
static ALWAYS_INLINE size_t filter_best(enum simd_level simd, const uint32_t *e, size_t k,
					size_t end, size_t total, uint32_t qf, uint32_t fm,
					uint32_t idmask, unsigned rem, uint8_t qv,
					struct cands *cd, size_t nc)
{
#ifdef HAVE_X86_DISPATCH
	if (simd >= SIMD_AVX512 && rem <= 2)
		return filter_avx512(e, k, end, qf, fm, idmask, rem, qv, cd, nc);
	if (simd == SIMD_AVX2 && rem <= 2 && end + 7 <= total)
		return filter_avx2(e, k, end, qf, fm, idmask, rem, qv, cd, nc);
#endif
	return filter_entries(e, k, end, qf, fm, idmask, rem, qv, cd, nc);
}

/* The candidates of a window: the entries of the 32 at w in the given
 * lanes whose fine key is qf. */
static ALWAYS_INLINE size_t window_best(enum simd_level simd, const uint32_t *w, uint64_t lanes,
					uint32_t qf, uint32_t fm, uint32_t idmask, uint8_t qv,
					struct cands *cd, size_t nc)
{
	uint64_t mask = 0;

#ifdef HAVE_X86_DISPATCH
	if (simd >= SIMD_AVX512)
		return window_avx512(w, lanes, qf, fm, idmask, qv, cd, nc);
	if (simd == SIMD_AVX2)
		return emit_mask(w, window_mask_avx2(w, qf, fm) & lanes, idmask, qv, cd, nc);
#endif
	for (unsigned i = 0; i < WINDOW; i++)
		mask |= (uint64_t)((w[i] & fm) == qf) << i;
	return emit_mask(w, mask & lanes, idmask, qv, cd, nc);
}

/* Scan e[k..end) into the candidate batch, verifying the batch whenever
 * it fills (a bucket may hold more entries than the batch). */
static ALWAYS_INLINE size_t scan_run(struct qctx *c, unsigned s, enum simd_level simd,
				     const uint32_t *e, size_t k, size_t end, uint32_t qf,
				     uint32_t fm, uint32_t idmask, unsigned rem, uint8_t qv,
				     struct cands *cd, size_t nc)
{
	while (k < end) {
		size_t take = end - k, room = CAND_BATCH - nc;
		if (take > room) {
			verify_packed(c, s, simd, cd, nc);
			nc = 0;
			take = take < CAND_BATCH ? take : CAND_BATCH;
		}
		nc = filter_best(simd, e, k, k + take, c->m->n, qf, fm, idmask, rem, qv, cd, nc);
		k += take;
	}
	return nc;
}

/* Prefetch what visit f of a batch will read: its window, or its bucket. */
static ALWAYS_INLINE void prefetch_visit(const uint32_t *const *win, const uint32_t *packed,
					 const uint32_t *lo, const uint32_t *hi, size_t f)
{
	if (win[f]) {
		PREFETCH(win[f]);
		PREFETCH(win[f] + WINDOW / 2);
	} else {
		prefetch_run(&packed[lo[f]], &packed[hi[f]]);
	}
}

/* One PACKED slot: visit the coarse buckets within rad of each query's
 * key, in batches: compute the buckets, look up their offsets (small
 * tables that mostly stay cached) and where to read, then prefetch each
 * bucket PF_BUCKETS visits ahead while filtering the current one into the
 * candidate batch, which is verified whenever it fills.
 *
 * Buckets are sorted by fine key and their keys are uniform, so an exact
 * fine key sits near lo + (hi - lo) * key / 2^fine, give or take
 * sqrt(hi - lo) / 2: reading only the two aligned cache lines around
 * that guess almost always covers its run, which is checked.  When it
 * does not (~3% of windows at 10M), the run goes on past the window's
 * first or last entry, and only that side of the bucket needs scanning.
 * Those scans would wait for memory that nothing fetched ahead, so they
 * are set aside, their part of the bucket prefetched, and done at the end
 * of the batch (5% off the 10M query, in alternating runs). */
static ALWAYS_INLINE void slot_packed(struct qctx *c, unsigned s, enum simd_level simd)
{
	const struct mih *m = c->m;
	const struct mih_slot *sl = &m->slot[s];
	const uint32_t *const group = sl->group, *const packed = sl->packed;
	const uint16_t *const rel = sl->rel;
	const unsigned gshift = sl->gshift;
	const uint32_t *const masks = sl->masks;
	const bool search = sl->search;
	const unsigned fine = sl->fine, idbits = m->idbits, nq = c->nq;
	const uint32_t idmask = (uint32_t)((UINT64_C(1) << idbits) - 1), fm = ~idmask;
	const uint32_t nmask = sl->nmasks[c->rad[s]], r = (uint32_t)c->rad[s];
	const uintptr_t lines_lo = (uintptr_t)packed, lines_hi = (uintptr_t)(packed + m->n);
	uint32_t bucket[SEEK_BATCH], lo[SEEK_BATCH], hi[SEEK_BATCH];
	const uint32_t *win[SEEK_BATCH];
	uint8_t vs[SEEK_BATCH], rems[SEEK_BATCH];
	uint16_t later[SEEK_BATCH]; /* visits whose window missed part of the run */
	struct cands cd;
	uint32_t qcoarse[MIH_MAX_QUERIES], qfine[MIH_MAX_QUERIES], qt[MIH_MAX_QUERIES];
	size_t nc = 0;
	unsigned v = 0, i = 0;

	for (unsigned u = 0; u < nq; u++) {
		qcoarse[u] = key_coarse(c->qkey[u][s], fine);
		qt[u] = c->qkey[u][s] & (uint32_t)((UINT64_C(1) << fine) - 1);
		qfine[u] = (uint32_t)((uint64_t)qt[u] << idbits);
	}
	while (v < nq) {
		size_t cnt = 0, nlater = 0;

		for (; cnt < SEEK_BATCH && v < nq; cnt++) {
			uint32_t mask = masks[i];
			bucket[cnt] = qcoarse[v] ^ mask;
			vs[cnt] = (uint8_t)v;
			rems[cnt] = (uint8_t)(r - popc32(mask));
			if (++i == nmask) {
				i = 0;
				v++;
			}
		}
		for (size_t j = 0; j < cnt; j++) {
			uint32_t l, h;

			if (j + PF_OFFSETS < cnt)
				PREFETCH(&rel[bucket[j + PF_OFFSETS]]);
			l = lo[j] = group[bucket[j] >> gshift] + rel[bucket[j]];
			h = hi[j] = group[(bucket[j] + 1) >> gshift] + rel[bucket[j] + 1];
			win[j] = NULL;
			if (search && rems[j] == 0 && h - l > WINDOW) {
				/* The two aligned lines whose middle is nearest
				 * the guess g: 8 to 24 entries either side. */
				uint32_t g = l + (uint32_t)(((uint64_t)(h - l) * qt[vs[j]]) >> fine);
				uintptr_t a = ((uintptr_t)(packed + g) - 32) & ~(uintptr_t)63;
				if (a >= lines_lo && a + WINDOW * 4 <= lines_hi)
					win[j] = (const uint32_t *)a;
			}
		}
		/* The first visits of the batch are prefetched here, the rest
		 * while the batch is worked through. */
		for (size_t f = 0; f < cnt && f < PF_BUCKETS; f++)
			prefetch_visit(win, packed, lo, hi, f);
		for (size_t j = 0; j < cnt; j++) {
			const uint32_t *w = win[j], qf = qfine[vs[j]];
			const uint8_t qv = vs[j];

			if (j + PF_BUCKETS < cnt)
				prefetch_visit(win, packed, lo, hi, j + PF_BUCKETS);
			if (nc + WINDOW > CAND_BATCH) {
				verify_packed(c, s, simd, &cd, nc);
				nc = 0;
			}
			if (w) {
				/* The in-bucket part [a, b) of the window.  The
				 * bucket is sorted, so no entry before a has key
				 * qf if packed[a] is below it, and none from b
				 * on if packed[b - 1] is above it. */
				size_t w0 = (size_t)(w - packed);
				size_t a = w0 > lo[j] ? w0 : lo[j];
				size_t b = w0 + WINDOW < hi[j] ? w0 + WINDOW : hi[j];
				bool left = a == lo[j] || (packed[a] & fm) < qf;
				bool right = b == hi[j] || (packed[b - 1] & fm) > qf;
				if (left && right) {
					uint64_t lanes = ((UINT64_C(2) << (b - 1 - w0)) - 1) &
							 ~((UINT64_C(1) << (a - w0)) - 1);
					nc = window_best(simd, w, lanes, qf, fm, idmask, qv, &cd, nc);
					continue;
				}
				if (left)
					lo[j] = (uint32_t)a;
				else if (right)
					hi[j] = (uint32_t)b;
				prefetch_run(&packed[lo[j]], &packed[hi[j]]);
				later[nlater++] = (uint16_t)j;
				continue;
			}
			nc = scan_run(c, s, simd, packed, lo[j], hi[j], qf, fm, idmask, rems[j],
				      qv, &cd, nc);
		}
		for (size_t k = 0; k < nlater; k++) {
			size_t j = later[k];

			nc = scan_run(c, s, simd, packed, lo[j], hi[j], qfine[vs[j]], fm, idmask,
				      rems[j], vs[j], &cd, nc);
		}
	}
	verify_packed(c, s, simd, &cd, nc);
}

/* One FULL slot: the same visits, but an entry is the whole 64-bit hash,
 * so a bucket scan is the verification. */
static ALWAYS_INLINE void slot_full(struct qctx *c, unsigned s)
{
	const struct mih *m = c->m;
	const struct mih_slot *sl = &m->slot[s];
	const uint32_t *const offsets = sl->offsets, *const masks = sl->masks;
	const uint64_t *const full = sl->full;
	const unsigned fine = sl->fine, nq = c->nq, d = c->d;
	const uint32_t nmask = sl->nmasks[c->rad[s]];
	uint32_t bucket[SEEK_BATCH], lo[SEEK_BATCH], hi[SEEK_BATCH];
	uint8_t vs[SEEK_BATCH];
	unsigned v = 0, i = 0;

	while (v < nq) {
		size_t cnt = 0;

		for (; cnt < SEEK_BATCH && v < nq; cnt++) {
			bucket[cnt] = key_coarse(c->qkey[v][s], fine) ^ masks[i];
			vs[cnt] = (uint8_t)v;
			if (++i == nmask) {
				i = 0;
				v++;
			}
		}
		for (size_t j = 0; j < cnt; j++) {
			if (j + PF_OFFSETS < cnt)
				PREFETCH(&offsets[bucket[j + PF_OFFSETS]]);
			lo[j] = offsets[bucket[j]];
			hi[j] = offsets[bucket[j] + 1];
		}
		for (size_t j = 0; j < cnt && j < PF_BUCKETS; j++)
			prefetch_run(&full[lo[j]], &full[hi[j]]);
		for (size_t j = 0; j < cnt; j++) {
			const uint64_t q = c->qw[vs[j]][0];

			if (j + PF_BUCKETS < cnt)
				prefetch_run(&full[lo[j + PF_BUCKETS]], &full[hi[j + PF_BUCKETS]]);
			for (uint32_t e = lo[j]; e < hi[j]; e++)
				if (popc64(full[e] ^ q) <= d)
					full_hit(c, sl->ids[e], vs[j], s);
		}
	}
}

static ALWAYS_INLINE void query_body(struct qctx *c, enum simd_level simd)
{
	for (unsigned s = 0; s < c->m->nslots; s++) {
		if (c->rad[s] < 0)
			continue;
		if (c->m->mode == MIH_MODE_FULL)
			slot_full(c, s);
		else
			slot_packed(c, s, simd);
	}
}

static void query_generic(struct qctx *c)
{
	query_body(c, SIMD_NONE);
}

#ifdef HAVE_X86_DISPATCH
TARGET_POPCNT static void query_popcnt(struct qctx *c)
{
	query_body(c, SIMD_NONE);
}

TARGET_AVX2 static void query_avx2(struct qctx *c)
{
	query_body(c, SIMD_AVX2);
}

TARGET_AVX512 static void query_avx512(struct qctx *c)
{
	query_body(c, SIMD_AVX512);
}

TARGET_AVX512VP static void query_avx512vp(struct qctx *c)
{
	query_body(c, SIMD_AVX512VP);
}

/* The widest filters the CPU runs and the view's flags allow. */
static enum simd_level simd_pick(unsigned flags)
{
	if (flags & MIH_OPEN_NO_SIMD || !__builtin_cpu_supports("avx2") ||
	    !__builtin_cpu_supports("popcnt") || !__builtin_cpu_supports("bmi"))
		return SIMD_NONE;
	if (flags & MIH_OPEN_NO_AVX512 || !__builtin_cpu_supports("avx512f"))
		return SIMD_AVX2;
	if (flags & MIH_OPEN_NO_VPOPCNT || !__builtin_cpu_supports("avx512vpopcntdq"))
		return SIMD_AVX512;
	return SIMD_AVX512VP;
}
#endif

int mih_query(const struct mih *m, const uint8_t *qs, unsigned nq,
	      unsigned max_dist, struct mih_hit *hits, size_t cap,
	      size_t *ret_n)
{
	struct qctx c;
#ifdef HAVE_X86_DISPATCH
	enum simd_level simd;
#endif

	if (!m || !query_args_ok(qs, nq, hits, cap, ret_n))
		return -EINVAL;
	if (max_dist > m->dmax)
		return mih_linear_query(m->hashes, m->n, m->bits, qs, nq, max_dist,
					hits, cap, ret_n);
	c.m = m;
	c.nq = nq;
	c.d = max_dist;
	c.hb = (struct hitbuf){ .hits = hits, .cap = cap };
	load_queries(qs, nq, m->bits / 64, c.qw);
	for (unsigned v = 0; v < nq; v++)
		for (unsigned s = 0; s < m->nslots; s++)
			c.qkey[v][s] = slot_key(qs + (size_t)v * m->bytes, m->bytes,
						m->slot[s].start, m->slot[s].width);
	plan_radii(&c);
#ifdef HAVE_X86_DISPATCH
	simd = simd_pick(m->flags);
	if (simd == SIMD_AVX512VP)
		query_avx512vp(&c);
	else if (simd == SIMD_AVX512)
		query_avx512(&c);
	else if (simd == SIMD_AVX2)
		query_avx2(&c);
	else if (__builtin_cpu_supports("popcnt"))
		query_popcnt(&c);
	else
#endif
		query_generic(&c);
	return hitbuf_finish(&c.hb, ret_n);
}
