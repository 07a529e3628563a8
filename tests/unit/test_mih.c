/* test_mih.c - the multi-index hash must answer exactly like the linear
 * scan (every stored hash within the distance, none beyond, each once with
 * its smallest distance), for 256-bit and 64-bit hashes, one query or the
 * 8 dihedral ones, at every distance; and a corrupt blob must be refused
 * or harmless, never read out of bounds (run under ASan by check-san). */
#include "harness.h"

#include <pthread.h>
#include <stdbool.h>

#include "mih.h"
#include "randhash.h"

#define PLANT_MAX 40

static unsigned hamming(const uint8_t *a, const uint8_t *b, unsigned bytes)
{
	unsigned d = 0;
	for (unsigned i = 0; i < bytes; i++)
		d += (unsigned)__builtin_popcount((unsigned)(a[i] ^ b[i]));
	return d;
}

/* A random list with near-duplicates planted at every distance 0..40 of
 * one query of each image (a different variant per distance). */
struct set {
	unsigned bits, nq;
	size_t n, nimg;
	uint8_t *hashes, *qs;
	uint32_t *payload;
	uint8_t *orig; /* the hashes before the builder permuted them */
	void *blob;
	size_t blob_len;
	struct mih *m;
};

static void set_fill(struct set *s, uint64_t seed, size_t n, unsigned bits, unsigned nq,
		     size_t nimg)
{
	struct rng r = { .s = seed };
	unsigned bytes = bits / 8;

	memset(s, 0, sizeof(*s));
	s->bits = bits;
	s->nq = nq;
	s->n = n;
	s->nimg = nimg;
	s->hashes = malloc(n * bytes + 1);
	s->orig = malloc(n * bytes + 1);
	s->payload = malloc(n * sizeof(uint32_t) + 1);
	s->qs = malloc(nimg * nq * bytes + 1);
	assert_non_null(s->hashes);
	assert_non_null(s->orig);
	assert_non_null(s->payload);
	assert_non_null(s->qs);
	rng_fill(&r, s->hashes, n * bytes);
	rng_fill(&r, s->qs, nimg * nq * bytes);
	for (size_t i = 0; i < n; i++)
		s->payload[i] = (uint32_t)i;
	/* Distinct positions when there is room, so that no plant is lost. */
	for (size_t img = 0, slot = 0; img < nimg && n > 0; img++)
		for (unsigned k = 0; k <= PLANT_MAX; k++, slot++) {
			size_t pos = n >= nimg * (PLANT_MAX + 1)
					     ? slot * (n / (nimg * (PLANT_MAX + 1)))
					     : rng_next(&r) % n;
			flip_bits(&r, s->qs + (img * nq + (img + k) % nq) * bytes,
				  s->hashes + pos * bytes, bits, k);
		}
}

/* Index the set's hashes (keeping a copy of them as they were). */
static void set_build(struct set *s)
{
	memcpy(s->orig, s->hashes, s->n * (s->bits / 8));
	assert_int_equal(mih_build(s->hashes, s->payload, s->n, s->bits, &s->blob, &s->blob_len),
			 0);
	assert_int_equal(s->blob_len % 8, 0);
	assert_int_equal(mih_open(s->blob, s->blob_len, s->hashes, s->n, s->bits, &s->m), 0);
}

static void set_make(struct set *s, uint64_t seed, size_t n, unsigned bits, unsigned nq,
		     size_t nimg)
{
	set_fill(s, seed, n, bits, nq, nimg);
	set_build(s);
}

static void set_free(struct set *s)
{
	mih_close(s->m);
	free(s->blob);
	free(s->hashes);
	free(s->orig);
	free(s->payload);
	free(s->qs);
}

#define HITS_CAP 8192

/* Query image img with nq queries at distance d through the index and
 * the linear scan; assert identical answers; return the hit count. */
static size_t check_same(const struct mih *m, const struct set *s, const uint8_t *q,
			 unsigned nq, unsigned d)
{
	static struct mih_hit a[HITS_CAP], b[HITS_CAP];
	size_t na = 0, nb = 0;
	unsigned bytes = s->bits / 8;

	assert_int_equal(mih_query(m, q, nq, d, a, HITS_CAP, &na), 0);
	assert_int_equal(mih_linear_query(s->hashes, s->n, s->bits, q, nq, d, b, HITS_CAP, &nb), 0);
	assert_int_equal(na, nb);
	for (size_t i = 0; i < na; i++) {
		assert_int_equal(a[i].pos, b[i].pos);
		assert_int_equal(a[i].dist, b[i].dist);
		assert_int_equal(a[i].query, b[i].query);
	}
	/* And the linear scan itself against a byte-wise recount. */
	for (size_t i = 0; i < nb; i++) {
		const uint8_t *h = s->hashes + (size_t)b[i].pos * bytes;
		unsigned best = 1u << 30;
		assert_true(i == 0 || b[i].pos > b[i - 1].pos);
		for (unsigned v = 0; v < nq; v++) {
			unsigned dv = hamming(h, q + v * bytes, bytes);
			if (dv < best)
				best = dv;
		}
		assert_int_equal(b[i].dist, best);
		assert_true(best <= d);
	}
	return na;
}

static void check_set(const struct set *s, const unsigned *dists, size_t ndists)
{
	for (size_t img = 0; img < s->nimg; img++) {
		const uint8_t *q = s->qs + img * s->nq * (s->bits / 8);
		for (size_t k = 0; k < ndists; k++) {
			size_t nh = check_same(s->m, s, q, s->nq, dists[k]);
			/* d + 1 near-duplicates were planted within d, so the
			 * comparison is not vacuous. */
			assert_true(nh >= dists[k] + 1);
		}
	}
}

/* The same answers from views kept off VPOPCNTQ, off the AVX-512 and off
 * all vector code (the CPU running the tests picks the widest it has by
 * default, so the other paths would go untested), on the first 20
 * images. */
static void check_narrow_paths(const struct set *s, const unsigned *dists, size_t ndists)
{
	const unsigned flags[] = { MIH_OPEN_NO_VPOPCNT, MIH_OPEN_NO_AVX512, MIH_OPEN_NO_SIMD };

	for (size_t f = 0; f < sizeof(flags) / sizeof(flags[0]); f++) {
		struct set narrow = *s;

		assert_int_equal(mih_open_flags(s->blob, s->blob_len, s->hashes, s->n, s->bits,
						flags[f], &narrow.m),
				 0);
		narrow.nimg = s->nimg < 20 ? s->nimg : 20;
		check_set(&narrow, dists, ndists);
		mih_close(narrow.m);
	}
}

/* 100k hashes, nimg images of nq queries: every image checked at the
 * first nfull of dists, 20 images at the rest. */
static void exact_case(uint64_t seed, unsigned bits, unsigned nq, size_t nimg,
		       const unsigned *dists, size_t nfull, size_t ndists)
{
	struct set s;

	set_make(&s, seed, 100000, bits, nq, nimg);
	assert_int_equal(mih_max_dist(s.m), bits == 256 ? 31 : 8);
	check_set(&s, dists, nfull);
	check_narrow_paths(&s, dists, ndists);
	s.nimg = nimg < 20 ? nimg : 20;
	check_set(&s, dists + nfull, ndists - nfull);
	set_free(&s);
}

static void test_pdq_exact(void **state)
{
	const unsigned d8[] = { 31, 0, 7, 16, 30 }, d1[] = { 31, 12 };
	(void)state;

	exact_case(1, 256, 8, 200, d8, 2, 5);
	exact_case(2, 256, 1, 200, d1, 2, 2);
}

static void test_64_exact(void **state)
{
	const unsigned d[] = { 8, 0, 3, 5 };
	(void)state;

	exact_case(3, 64, 1, 200, d, 4, 4);
	exact_case(4, 64, 8, 100, d, 1, 1);
}

/* Crowded buckets: with the first 32 bits of every hash and query zero,
 * the first slot puts all 100k entries in one bucket, so the query's
 * 16-bit offsets must fall back to smaller groups (down to one bucket
 * each); answers must still equal the linear scan's. */
static void test_crowded_buckets(void **state)
{
	static const unsigned dists[] = { 0, 10, 31 };
	struct set s;
	(void)state;

	set_fill(&s, 91, 100000, 256, 8, 6);
	for (size_t i = 0; i < s.n; i++)
		memset(s.hashes + i * 32, 0, 4);
	for (size_t i = 0; i < s.nimg * s.nq; i++)
		memset(s.qs + i * 32, 0, 4);
	set_build(&s);
	check_set(&s, dists, sizeof(dists) / sizeof(dists[0]));
	check_narrow_paths(&s, dists, sizeof(dists) / sizeof(dists[0]));
	set_free(&s);
}

/* Beyond the index's design distance the answer comes from a linear scan:
 * still exact. */
static void test_beyond_max_dist(void **state)
{
	struct set s;
	(void)state;

	set_make(&s, 5, 3000, 256, 8, 10);
	for (size_t img = 0; img < s.nimg; img++) {
		assert_true(check_same(s.m, &s, s.qs + img * 8 * 32, 8, 40) >= 40);
		check_same(s.m, &s, s.qs + img * 8 * 32, 8, 256);
	}
	set_free(&s);
	set_make(&s, 6, 3000, 64, 1, 10);
	for (size_t img = 0; img < s.nimg; img++)
		check_same(s.m, &s, s.qs + img * 8, 1, 20);
	set_free(&s);
}

/* The builder keeps hashes and payload paired. */
static void test_permutation(void **state)
{
	struct set s;
	(void)state;

	for (unsigned bits = 64; bits <= 256; bits += 192) {
		set_make(&s, 7, 5000, bits, 1, 3);
		for (size_t i = 0; i < s.n; i++)
			assert_memory_equal(s.hashes + i * (bits / 8),
					    s.orig + (size_t)s.payload[i] * (bits / 8), bits / 8);
		set_free(&s);
	}
}

static void test_small_n(void **state)
{
	(void)state;

	for (unsigned bits = 64; bits <= 256; bits += 192)
		for (size_t n = 0; n <= 2; n++)
			for (unsigned nq = 1; nq <= 8; nq += 7) {
				struct set s;
				set_make(&s, 10 + n, n, bits, nq, 4);
				for (size_t img = 0; img < s.nimg; img++) {
					const uint8_t *q = s.qs + img * nq * (bits / 8);
					check_same(s.m, &s, q, nq, mih_max_dist(s.m));
					check_same(s.m, &s, q, nq, 0);
					check_same(s.m, &s, q, nq, bits);
				}
				set_free(&s);
			}
}

/* The slot layout, read back from mih_describe(): the number of slots,
 * their widths and radii, and how many slots the radii guarantee to find
 * a stored hash within the index's largest distance (2 if
 * sum(r + 1) - max(r + 1) exceeds it, else 1), which is what the index
 * relies on. */
struct layout {
	unsigned nslots, need, width[32], radius[32];
};

static void layout_of(const struct mih *m, struct layout *l)
{
	char d[1024], *p;
	int used = 0;
	unsigned units = 0, big = 0;

	memset(l, 0, sizeof(*l));
	assert_int_equal(mih_describe(m, d, sizeof(d)), 0);
	assert_int_equal(sscanf(d, "%u slots (bits/radius/coarse):%n", &l->nslots, &used), 1);
	assert_true(l->nslots >= 1 && l->nslots <= 32);
	p = d + used;
	for (unsigned s = 0; s < l->nslots; s++, p += used) {
		unsigned coarse;
		assert_int_equal(sscanf(p, " %u/%u/%u%n", &l->width[s], &l->radius[s], &coarse,
					&used), 3);
	}
	assert_true(strstr(p, "packed") || strstr(p, "full"));
	for (unsigned s = 0; s < l->nslots; s++) {
		units += l->radius[s] + 1;
		big = l->radius[s] + 1 > big ? l->radius[s] + 1 : big;
	}
	l->need = units - big > mih_max_dist(m) ? 2 : 1;
	assert_true(units > mih_max_dist(m));
}

/* Flip k distinct bits of h among bits [start, start + width). */
static void flip_in(struct rng *r, uint8_t *h, unsigned start, unsigned width, unsigned k)
{
	uint8_t seen[32] = { 0 };

	assert_true(k <= width && width <= 32);
	for (unsigned done = 0; done < k;) {
		unsigned i = (unsigned)(rng_next(r) % width), b = start + i;
		if (seen[i])
			continue;
		seen[i] = 1;
		h[b / 8] ^= (uint8_t)(1u << (b % 8));
		done++;
	}
}

/* The worst cases of the pigeonhole guarantee: for every choice of `need`
 * slots (see layout_of), a stored hash that is
 * just outside the radius (radius + 1 bits) on every other slot and
 * inside it on the chosen ones, as far from the query as the index's
 * largest distance allows; and, as near misses, ones inside the radius on
 * fewer slots than the index needs (beyond that distance, so never hits).
 * The index must answer exactly like the linear scan. */
static void test_adversarial(void **state)
{
	(void)state;

	for (unsigned bits = 64; bits <= 256; bits += 192) {
		const unsigned bytes = bits / 8, nq = 8;
		const size_t n = 30000;
		struct rng r = { .s = 4242 + bits };
		struct set s = { .bits = bits, .nq = nq, .n = n, .nimg = 1 };
		struct layout l, l2;
		unsigned start[32], units = 0, dmax, planted = 0;
		size_t pos = 0, nh;
		struct mih *m0 = NULL;

		s.hashes = malloc(n * bytes);
		s.qs = malloc(nq * bytes);
		assert_non_null(s.hashes);
		assert_non_null(s.qs);
		rng_fill(&r, s.hashes, n * bytes);
		rng_fill(&r, s.qs, nq * bytes);
		/* The layout depends on n and bits only: read it off a first
		 * build, plant, then build again. */
		assert_int_equal(mih_build(s.hashes, NULL, n, bits, &s.blob, &s.blob_len), 0);
		assert_int_equal(mih_open(s.blob, s.blob_len, s.hashes, n, bits, &m0), 0);
		layout_of(m0, &l);
		dmax = mih_max_dist(m0);
		mih_close(m0);
		free(s.blob);
		for (unsigned t = 0, at = 0; t < l.nslots; t++) {
			start[t] = at;
			at += l.width[t];
			units += l.radius[t] + 1;
		}
		for (unsigned j = 0; j < l.nslots; j++)
			for (unsigned k = l.need == 2 ? j + 1 : j; k < l.nslots; k++) {
				const uint8_t *q = s.qs + (pos % nq) * bytes;
				unsigned in = l.radius[j] + 1 + (k != j ? l.radius[k] + 1 : 0);
				unsigned base = units - in, room = l.radius[j] + (k != j ? l.radius[k] : 0);
				unsigned extra = dmax > base ? dmax - base : 0;
				uint8_t *h = s.hashes + pos * bytes;

				/* Both sides of the bound: within dmax when the
				 * chosen slots are enough, beyond it otherwise. */
				assert_true(pos + 2 <= n);
				assert_true(l.need == 1 || k != j);
				if (extra > room)
					extra = room;
				memcpy(h, q, bytes);
				for (unsigned t = 0; t < l.nslots; t++)
					if (t != j && t != k)
						flip_in(&r, h, start[t], l.width[t], l.radius[t] + 1);
				if (k != j) {
					/* Split the rest evenly, or as much as
					 * fits into one of the two. */
					unsigned into_j = pos % 3 == 0 ? extra / 2
							  : pos % 3 == 1
								  ? (extra < l.radius[j] ? extra : l.radius[j])
								  : (extra > l.radius[k] ? extra - l.radius[k] : 0);
					flip_in(&r, h, start[j], l.width[j], into_j);
					flip_in(&r, h, start[k], l.width[k], extra - into_j);
				} else {
					flip_in(&r, h, start[j], l.width[j], extra);
				}
				planted += base + extra <= dmax;
				pos++;
				/* The near miss: the same, but only need - 1 of
				 * the slots inside their radius. */
				h = s.hashes + pos * bytes;
				memcpy(h, q, bytes);
				for (unsigned t = 0; t < l.nslots; t++)
					if (l.need == 1 || t != j)
						flip_in(&r, h, start[t], l.width[t], l.radius[t] + 1);
				pos++;
			}
		assert_int_equal(mih_build(s.hashes, NULL, n, bits, &s.blob, &s.blob_len), 0);
		assert_int_equal(mih_open(s.blob, s.blob_len, s.hashes, n, bits, &s.m), 0);
		layout_of(s.m, &l2);
		assert_memory_equal(&l, &l2, sizeof(l));
		/* Every planted hash within dmax is a hit (more are possible
		 * by chance), and the index agrees with the linear scan, at
		 * dmax and below it (narrower query radii). */
		nh = check_same(s.m, &s, s.qs, nq, dmax);
		assert_true(nh >= planted);
		assert_true(planted >= l.nslots - 1);
		for (unsigned d = 0; d < dmax; d++)
			check_same(s.m, &s, s.qs, nq, d);
		set_free(&s);
	}
}

/* Many copies of a few hashes: huge buckets, many hits per query, and the
 * -ENOBUFS contract (the cap hits with the smallest positions). */
static void test_duplicates_and_enobufs(void **state)
{
	const size_t n = 20000;
	struct rng r = { .s = 77 };
	uint8_t *h = malloc(n * 32), q[8 * 32];
	void *blob = NULL;
	size_t len = 0, na, nb;
	struct mih *m = NULL;
	struct mih_hit a[4000], b[4000];
	(void)state;

	assert_non_null(h);
	rng_fill(&r, h, n * 32);
	rng_fill(&r, q, sizeof(q));
	/* 3000 copies of q[0], 500 hashes at distance 5 from q[3]. */
	for (size_t i = 0; i < 3000; i++)
		memcpy(h + (rng_next(&r) % n) * 32, q, 32);
	for (size_t i = 0; i < 500; i++)
		flip_bits(&r, q + 3 * 32, h + (rng_next(&r) % n) * 32, 256, 5);
	assert_int_equal(mih_build(h, NULL, n, 256, &blob, &len), 0);
	assert_int_equal(mih_open(blob, len, h, n, 256, &m), 0);

	assert_int_equal(mih_query(m, q, 8, 31, a, 4000, &na), 0);
	assert_int_equal(mih_linear_query(h, n, 256, q, 8, 31, b, 4000, &nb), 0);
	assert_int_equal(na, nb);
	assert_memory_equal(a, b, na * sizeof(*a));
	assert_true(na > 2500);

	for (size_t cap = 0; cap <= 1000; cap = cap ? cap * 10 : 1) {
		size_t ka = 12345, kb = 12345;
		assert_int_equal(mih_query(m, q, 8, 31, a, cap, &ka), -ENOBUFS);
		assert_int_equal(mih_linear_query(h, n, 256, q, 8, 31, b, cap, &kb), -ENOBUFS);
		assert_int_equal(ka, cap);
		assert_int_equal(kb, cap);
		assert_memory_equal(a, b, cap * sizeof(*a));
	}
	/* Exactly as many slots as hits is not an overflow. */
	assert_int_equal(mih_query(m, q, 8, 31, a, nb, &na), 0);
	assert_int_equal(na, nb);

	/* All hashes equal. */
	mih_close(m);
	free(blob);
	for (size_t i = 0; i < n; i++)
		memcpy(h + i * 32, q + 32, 32);
	assert_int_equal(mih_build(h, NULL, n, 256, &blob, &len), 0);
	assert_int_equal(mih_open(blob, len, h, n, 256, &m), 0);
	assert_int_equal(mih_query(m, q, 8, 0, a, 4000, &na), -ENOBUFS);
	assert_int_equal(na, 4000);
	for (size_t i = 0; i < na; i++) {
		assert_int_equal(a[i].pos, i);
		assert_int_equal(a[i].dist, 0);
		assert_int_equal(a[i].query, 1);
	}
	mih_close(m);
	free(blob);
	free(h);
}

static void test_bad_args(void **state)
{
	uint8_t h[2 * 32] = { 0 }, q[9 * 32] = { 0 };
	void *blob = NULL;
	size_t len = 0, nh;
	struct mih *m = NULL;
	struct mih_hit hits[4];
	(void)state;

	assert_int_equal(mih_build(h, NULL, 2, 128, &blob, &len), -EINVAL);
	assert_int_equal(mih_build(NULL, NULL, 2, 256, &blob, &len), -EINVAL);
	assert_int_equal(mih_build(h, NULL, 2, 256, NULL, &len), -EINVAL);
	assert_int_equal(mih_build(h, NULL, (size_t)UINT32_MAX + 1, 256, &blob, &len), -E2BIG);
	assert_int_equal(mih_build(h, NULL, 2, 256, &blob, &len), 0);
	assert_int_equal(mih_open(blob, len, h, 2, 64, &m), -EBADMSG);
	assert_int_equal(mih_open(blob, len, h, 1, 256, &m), -EBADMSG);
	assert_int_equal(mih_open(blob, len, NULL, 2, 256, &m), -EINVAL);
	assert_int_equal(mih_open(blob, len, h, 2, 100, &m), -EINVAL);
	assert_int_equal(mih_open((uint8_t *)blob + 4, len - 4, h, 2, 256, &m), -EINVAL);
	assert_int_equal(mih_open(blob, len, h, 2, 256, &m), 0);
	assert_int_equal(mih_query(m, q, 0, 31, hits, 4, &nh), -EINVAL);
	assert_int_equal(mih_query(m, q, 9, 31, hits, 4, &nh), -EINVAL);
	assert_int_equal(mih_query(m, NULL, 1, 31, hits, 4, &nh), -EINVAL);
	assert_int_equal(mih_query(m, q, 1, 31, NULL, 4, &nh), -EINVAL);
	assert_int_equal(mih_query(m, q, 1, 31, hits, 4, NULL), -EINVAL);
	assert_int_equal(mih_query(NULL, q, 1, 31, hits, 4, &nh), -EINVAL);
	assert_int_equal(mih_linear_query(h, 2, 32, q, 1, 3, hits, 4, &nh), -EINVAL);
	/* Two zero hashes, a zero query: both hits at distance 0. */
	assert_int_equal(mih_query(m, q, 1, 0, hits, 4, &nh), 0);
	assert_int_equal(nh, 2);
	assert_int_equal(mih_max_dist(NULL), 0);
	{
		char d[256], tiny[8];
		assert_int_equal(mih_describe(m, d, sizeof(d)), 0);
		assert_non_null(strstr(d, "slots"));
		assert_int_equal(mih_describe(m, tiny, sizeof(tiny)), -ENOBUFS);
		assert_int_equal(strlen(tiny), sizeof(tiny) - 1);
		assert_int_equal(mih_describe(NULL, d, sizeof(d)), -EINVAL);
	}
	mih_close(m);
	mih_close(NULL);
	free(blob);
}

/* Open a corrupt copy; if it is accepted, every answer must be sane: no
 * hit that is not really within the distance, sorted, no repeats.  (With
 * the checksums intact a corrupt blob is never accepted; with resealed
 * checksums the structural checks must keep every read in bounds, which
 * ASan checks.)  Returns 1 if accepted. */
static int try_corrupt(const void *blob, size_t len, const struct set *s, bool exact)
{
	struct mih *m = NULL;
	uint64_t *copy = malloc(len + 8);
	int r, accepted = 0;

	assert_non_null(copy);
	memcpy(copy, blob, len);
	r = mih_open(copy, len, s->hashes, s->n, s->bits, &m);
	if (r == 0) {
		accepted = 1;
		for (size_t img = 0; img < s->nimg; img++) {
			const uint8_t *q = s->qs + img * s->nq * (s->bits / 8);
			static struct mih_hit hits[HITS_CAP];
			size_t nh = 0;
			unsigned d = mih_max_dist(m);
			if (exact) {
				check_same(m, s, q, s->nq, d);
				continue;
			}
			r = mih_query(m, q, s->nq, d, hits, HITS_CAP, &nh);
			assert_true(r == 0 || r == -ENOBUFS);
			for (size_t i = 0; i < nh; i++) {
				assert_true(hits[i].pos < s->n);
				assert_true(i == 0 || hits[i].pos > hits[i - 1].pos);
				assert_int_equal(hamming(s->hashes + (size_t)hits[i].pos * (s->bits / 8),
							 q + hits[i].query * (s->bits / 8), s->bits / 8),
						 hits[i].dist);
				assert_true(hits[i].dist <= d);
			}
		}
		mih_close(m);
	} else {
		assert_int_equal(r, -EBADMSG);
	}
	free(copy);
	return accepted;
}

static void put32(void *blob, size_t off, uint32_t v)
{
	memcpy((uint8_t *)blob + off, &v, 4);
}

static void test_corrupt(void **state)
{
	(void)state;

	for (unsigned bits = 64; bits <= 256; bits += 192) {
		struct set s;
		struct rng r = { .s = 99 + bits };
		uint8_t *b;
		size_t len, accepted = 0;

		set_make(&s, 20 + bits, 3000, bits, bits == 256 ? 8 : 1, 4);
		b = malloc(s.blob_len);
		assert_non_null(b);
		len = s.blob_len;

		/* Truncated anywhere, and one byte longer: refused. */
		for (size_t l = 0; l < len; l += l < 512 ? 1 : 997)
			assert_int_equal(try_corrupt(s.blob, l, &s, false), 0);

		/* A flipped byte anywhere: refused (checksums). */
		for (size_t i = 0; i < 1500; i++) {
			size_t at = i < 512 ? i : rng_next(&r) % len;
			memcpy(b, s.blob, len);
			b[at] ^= (uint8_t)(1u << (rng_next(&r) % 8));
			assert_int_equal(try_corrupt(b, len, &s, false), 0);
		}
		/* A flipped hash: refused too (the index no longer fits). */
		s.hashes[rng_next(&r) % (s.n * bits / 8)] ^= 4;
		assert_int_equal(try_corrupt(s.blob, len, &s, false), 0);
		set_free(&s);

		/* Resealed damage reaches the structural checks: random bytes
		 * anywhere (the header and descriptors most), then bad counts.
		 * Each is refused or harmless. */
		set_make(&s, 30 + bits, 3000, bits, bits == 256 ? 8 : 1, 4);
		for (size_t i = 0; i < 3000; i++) {
			size_t at = i < 1500 ? rng_next(&r) % 512 : rng_next(&r) % len;
			memcpy(b, s.blob, len);
			b[at % len] = (uint8_t)rng_next(&r);
			mih_reseal(b, len, s.hashes, s.n, bits);
			accepted += (size_t)try_corrupt(b, len, &s, false);
		}
		/* Header fields (bits, mode, nslots, idbits, dmax) and slot 0's
		 * width, radius, coarse width and first offset set to extremes. */
		const size_t fields[] = { 44, 48, 52, 56, 60, 64 + 4, 64 + 8, 64 + 12, 64 + 16 };
		const uint32_t values[] = { 0, 1, 33, 255, 0xffffffffu, 0x80000000u, 24, 25 };
		for (size_t f = 0; f < sizeof(fields) / sizeof(fields[0]); f++)
			for (size_t v = 0; v < sizeof(values) / sizeof(values[0]); v++) {
				memcpy(b, s.blob, len);
				put32(b, fields[f], values[v]);
				mih_reseal(b, len, s.hashes, s.n, bits);
				try_corrupt(b, len, &s, false);
			}
		for (size_t i = 0; i < 200; i++) {
			/* A word in the tables set to a large value. */
			size_t at = (1024 + rng_next(&r) % (len - 1024)) & ~(size_t)3;
			memcpy(b, s.blob, len);
			put32(b, at, (uint32_t)rng_next(&r) | 0x00fff000u);
			mih_reseal(b, len, s.hashes, s.n, bits);
			try_corrupt(b, len, &s, false);
		}
		/* The untouched blob, resealed, still answers exactly. */
		memcpy(b, s.blob, len);
		mih_reseal(b, len, s.hashes, s.n, bits);
		assert_int_equal(try_corrupt(b, len, &s, true), 1);
		/* Some damage must have been caught by the structural checks
		 * rather than all of it being accepted. */
		assert_true(accepted < 3000);
		free(b);
		set_free(&s);
	}
}

/* MIH_OPEN_DIGESTED (a list file whose digest covers the index) skips
 * the checksums but none of the structural checks. */
static void test_open_digested(void **state)
{
	struct set s;
	struct mih *m = NULL;
	uint8_t *b;
	uint32_t w;

	(void)state;
	set_make(&s, 77, 3000, 256, 8, 4);
	b = malloc(s.blob_len);
	assert_non_null(b);
	assert_int_equal(mih_open_flags(s.blob, s.blob_len, s.hashes, s.n, 256, 0x100, &m),
			 -EINVAL);
	assert_null(m);

	/* a wrong checksum alone: refused by default, accepted and exact
	 * when the caller vouches for the bytes */
	memcpy(b, s.blob, s.blob_len);
	b[8] ^= 1;
	assert_int_equal(mih_open(b, s.blob_len, s.hashes, s.n, 256, &m), -EBADMSG);
	assert_int_equal(mih_open_flags(b, s.blob_len, s.hashes, s.n, 256, MIH_OPEN_DIGESTED, &m),
			 0);
	for (size_t img = 0; img < s.nimg; img++)
		check_same(m, &s, s.qs + img * s.nq * 32, s.nq, 31);
	mih_close(m);
	m = NULL;

	/* an entry naming a hash past n (the last word of the last slot's
	 * entries: all ones) is refused either way */
	memcpy(b, s.blob, s.blob_len);
	w = UINT32_MAX;
	memcpy(b + s.blob_len - 4, &w, 4);
	assert_int_equal(mih_open_flags(b, s.blob_len, s.hashes, s.n, 256, MIH_OPEN_DIGESTED, &m),
			 -EBADMSG);
	assert_null(m);
	free(b);
	set_free(&s);
}

struct thread_arg {
	const struct set *s;
	size_t first;
	int failures;
};

static void *thread_main(void *p)
{
	struct thread_arg *t = p;
	const struct set *s = t->s;

	for (size_t img = t->first; img < s->nimg; img += 4) {
		struct mih_hit a[512], b[512];
		size_t na = 0, nb = 0;
		const uint8_t *q = s->qs + img * s->nq * 32;
		if (mih_query(s->m, q, s->nq, 31, a, 512, &na) != 0 ||
		    mih_linear_query(s->hashes, s->n, 256, q, s->nq, 31, b, 512, &nb) != 0 ||
		    na != nb || memcmp(a, b, na * sizeof(*a)) != 0)
			t->failures++;
	}
	return NULL;
}

/* One view, four threads at once. */
static void test_threads(void **state)
{
	struct set s;
	pthread_t th[4];
	struct thread_arg args[4];
	(void)state;

	set_make(&s, 40, 20000, 256, 8, 40);
	for (size_t i = 0; i < 4; i++) {
		args[i] = (struct thread_arg){ .s = &s, .first = i };
		assert_int_equal(pthread_create(&th[i], NULL, thread_main, &args[i]), 0);
	}
	for (size_t i = 0; i < 4; i++) {
		assert_int_equal(pthread_join(th[i], NULL), 0);
		assert_int_equal(args[i].failures, 0);
	}
	set_free(&s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pdq_exact),
		cmocka_unit_test(test_64_exact),
		cmocka_unit_test(test_beyond_max_dist),
		cmocka_unit_test(test_crowded_buckets),
		cmocka_unit_test(test_permutation),
		cmocka_unit_test(test_small_n),
		cmocka_unit_test(test_adversarial),
		cmocka_unit_test(test_duplicates_and_enobufs),
		cmocka_unit_test(test_bad_args),
		cmocka_unit_test(test_corrupt),
		cmocka_unit_test(test_open_digested),
		cmocka_unit_test(test_threads),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
