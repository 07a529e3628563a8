/* test_hwdb.c - the .hwdb list file: build -> open -> match round trips
 * against a brute-force reference, and every refusal a laptop relies on
 * (unsigned, untrusted, too few signers, a flipped byte anywhere, every
 * truncation, rollback), plus mutations of the tables with a recomputed
 * digest (what a fuzzer would try) that must be refused without a crash.
 */
#include "harness.h"

#include <math.h>
#include <sys/stat.h>

#include <openssl/evp.h>
#include <sodium.h>

#include "fileio.h"
#include "hwdb.h"
#include "hwdigest.h"
#include "pdq.h"
#include "pnm.h"

#define NPDQ 3000
#define NPH 2000
#define NENT 2500

static uint64_t rng = 0x9e3779b97f4a7c15ull;

static uint64_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static void rnd_bytes(uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)rnd();
}

/* Flip `d` distinct random bits of h[0..n). */
static void flip_bits(uint8_t *h, size_t n, unsigned d)
{
	uint8_t done[352 * 8] = { 0 };
	for (unsigned k = 0; k < d;) {
		size_t b = rnd() % (n * 8);
		if (done[b])
			continue;
		done[b] = 1;
		h[b / 8] ^= (uint8_t)(1u << (b % 8));
		k++;
	}
}

static unsigned popdist(const uint8_t *a, const uint8_t *b, size_t n)
{
	unsigned d = 0;
	for (size_t i = 0; i < n; i++)
		d += (unsigned)__builtin_popcount((unsigned)(a[i] ^ b[i]));
	return d;
}

/* A list of random PDQ and pHash hashes, SHA-256 and MD5 digests, over
 * NENT entries with a few categories; kept for reference checks. */
struct fixture {
	char dir[64];
	char path[128];
	struct hwdb_entry ent[NENT];
	char ids[NENT][16];
	uint8_t pdq[NPDQ][32];
	uint32_t pdq_e[NPDQ];
	uint8_t ph[NPH][8];
	uint32_t ph_e[NPH];
	uint8_t sha[NENT][32];
	uint32_t sha_e[NENT];
	uint8_t md5[4][16];
	uint32_t md5_e[4];
	struct hwdb_column col[4];
	struct hwdb_build_spec spec;
	uint8_t pk[3][32], sk[3][64];
};

/* Lists are written with fsync (as they must be); on a busy disk that
 * dominates the run, so the scratch folder lives in memory when it can. */
static const char *scratch_base(void)
{
	return access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
}

static const char *cats[] = { "csam", "ncii", "terror" };
static const char *srcs[] = { "ncmec", "stopncii" };

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	assert_non_null(f);
	assert_true(sodium_init() >= 0);
	snprintf(f->dir, sizeof(f->dir), "%s/hwdbtest.XXXXXX", scratch_base());
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->path, sizeof(f->path), "%s/list.hwdb", f->dir);
	for (size_t i = 0; i < NENT; i++) {
		snprintf(f->ids[i], sizeof(f->ids[i]), i % 7 ? "e%zu" : "", i);
		f->ent[i].id = f->ids[i];
		f->ent[i].category = cats[i % 3];
		f->ent[i].source = srcs[i % 2];
		rnd_bytes(f->sha[i], 32);
		f->sha_e[i] = (uint32_t)i;
	}
	for (size_t i = 0; i < NPDQ; i++) {
		rnd_bytes(f->pdq[i], 32);
		f->pdq_e[i] = (uint32_t)(rnd() % NENT);
	}
	for (size_t i = 0; i < NPH; i++) {
		rnd_bytes(f->ph[i], 8);
		f->ph_e[i] = (uint32_t)(rnd() % NENT);
	}
	/* the same MD5 for two entries, to see both come back */
	for (size_t i = 0; i < 4; i++) {
		rnd_bytes(f->md5[i], 16);
		f->md5_e[i] = (uint32_t)(i * 10);
	}
	memcpy(f->md5[3], f->md5[2], 16);
	f->col[0] = (struct hwdb_column){ HW_MODEL_PDQ, &f->pdq[0][0], f->pdq_e, NPDQ };
	f->col[1] = (struct hwdb_column){ HW_MODEL_PHASH, &f->ph[0][0], f->ph_e, NPH };
	f->col[2] = (struct hwdb_column){ HW_MODEL_SHA256, &f->sha[0][0], f->sha_e, NENT };
	f->col[3] = (struct hwdb_column){ HW_MODEL_MD5, &f->md5[0][0], f->md5_e, 4 };
	f->spec.list_id = "district-test";
	f->spec.version = 7;
	f->spec.created = 1700000000;
	f->spec.entries = f->ent;
	f->spec.nentries = NENT;
	f->spec.columns = f->col;
	f->spec.ncolumns = 4;
	hwdb_spec_default_thresholds(&f->spec);
	f->spec.threshold[HW_MODEL_PHASH] = 10;
	for (int i = 0; i < 3; i++)
		crypto_sign_keypair(f->pk[i], f->sk[i]);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	hwt_rmtree(f->dir);
	free(f);
	return 0;
}

static void build_ok(const struct hwdb_build_spec *spec, const char *path)
{
	char err[256] = "";
	int r = hwdb_build(spec, path, err, sizeof(err));
	if (r < 0)
		fail_msg("build: %s", err);
}

static struct hwdb *open_ok(const char *path, const struct hwdb_trust *t)
{
	char err[256] = "";
	struct hwdb *db = NULL;
	int r = hwdb_open(path, t, &db, err, sizeof(err));
	if (r < 0)
		fail_msg("open %s: %d %s", path, r, err);
	return db;
}

static void sign_ok(const char *path, const uint8_t sk[64])
{
	char err[256] = "";
	int r = hwdb_sign(path, sk, err, sizeof(err));
	if (r < 0)
		fail_msg("sign: %d %s", r, err);
}

/* Open must fail with `code` and a reason containing `what`. */
static void open_refused(const char *path, const struct hwdb_trust *t, int code,
			 const char *what)
{
	char err[256] = "";
	struct hwdb *db = NULL;
	int r = hwdb_open(path, t, &db, err, sizeof(err));
	if (r != code || !strstr(err, what))
		fail_msg("open %s: want %d '%s', got %d '%s'", path, code, what, r, err);
	assert_null(db);
}

/* Every list hash within max_dist of q, by brute force, as a sorted list
 * of "entry*1000+distance" keys to compare with what the list returns. */
static size_t reference(const uint8_t *hashes, const uint32_t *ents, size_t n,
			size_t bytes, const uint8_t *q, unsigned max_dist,
			uint64_t *out)
{
	size_t k = 0;
	for (size_t i = 0; i < n; i++) {
		unsigned d = popdist(hashes + i * bytes, q, bytes);
		if (d <= max_dist)
			out[k++] = (uint64_t)ents[i] * 1000 + d;
	}
	return k;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

static void check_lookup(const struct hwdb *db, enum hw_model_id model,
			 const uint8_t *hashes, const uint32_t *ents, size_t n,
			 size_t bytes, const uint8_t *q, unsigned max_dist)
{
	struct hwdb_match m[HWDB_MATCH_LIMIT];
	uint64_t want[HWDB_MATCH_LIMIT], got[HWDB_MATCH_LIMIT];
	struct hw_hash h = { .model = model, .len = (uint16_t)bytes, .quality = -1 };
	size_t nw = reference(hashes, ents, n, bytes, q, max_dist, want);
	int r;

	memcpy(h.bytes, q, bytes);
	r = hwdb_lookup(db, &h, max_dist, m, HWDB_MATCH_LIMIT);
	assert_int_equal(r, (int)nw);
	for (int i = 0; i < r; i++) {
		assert_int_equal(m[i].model, model);
		got[i] = (uint64_t)m[i].entry * 1000 + (uint64_t)m[i].distance;
	}
	qsort(want, nw, sizeof(want[0]), cmp_u64);
	qsort(got, (size_t)r, sizeof(got[0]), cmp_u64);
	assert_memory_equal(want, got, nw * sizeof(want[0]));
}

static void test_roundtrip(void **state)
{
	struct fixture *f = *state;
	struct hwdb *db;
	struct hwdb_entry e;
	uint8_t q[32];

	build_ok(&f->spec, f->path);
	db = open_ok(f->path, NULL);
	assert_string_equal(hwdb_list_id(db), "district-test");
	assert_int_equal(hwdb_version(db), 7);
	assert_int_equal(hwdb_created(db), 1700000000);
	assert_int_equal(hwdb_entry_count(db), NENT);
	assert_int_equal(hwdb_model_count(db, HW_MODEL_PDQ), NPDQ);
	assert_int_equal(hwdb_model_count(db, HW_MODEL_PHASH), NPH);
	assert_int_equal(hwdb_model_count(db, HW_MODEL_SHA256), NENT);
	assert_int_equal(hwdb_model_count(db, HW_MODEL_MD5), 4);
	assert_int_equal(hwdb_model_count(db, HW_MODEL_DHASH), 0);
	assert_int_equal(hwdb_model_mask(db),
			 (1u << HW_MODEL_PDQ) | (1u << HW_MODEL_PHASH) |
				 (1u << HW_MODEL_SHA256) | (1u << HW_MODEL_MD5));
	assert_true(hwdb_threshold(db, HW_MODEL_PDQ) == 31);
	assert_true(hwdb_threshold(db, HW_MODEL_PHASH) == 10);
	assert_int_equal(hwdb_signers(db, NULL, NULL, 0), 0);
	for (uint32_t i = 0; i < NENT; i += 97) {
		assert_int_equal(hwdb_entry_get(db, i, &e), 0);
		assert_string_equal(e.id, f->ids[i]);
		assert_string_equal(e.category, cats[i % 3]);
		assert_string_equal(e.source, srcs[i % 2]);
	}
	assert_int_equal(hwdb_entry_get(db, NENT, &e), -ERANGE);

	/* near-duplicates at every distance 0..40 of planted hashes */
	for (unsigned d = 0; d <= 40; d++) {
		size_t i = rnd() % NPDQ;
		memcpy(q, f->pdq[i], 32);
		flip_bits(q, 32, d);
		check_lookup(db, HW_MODEL_PDQ, &f->pdq[0][0], f->pdq_e, NPDQ, 32, q, 31);
		check_lookup(db, HW_MODEL_PDQ, &f->pdq[0][0], f->pdq_e, NPDQ, 32, q, d);
	}
	for (unsigned d = 0; d <= 16; d++) {
		size_t i = rnd() % NPH;
		memcpy(q, f->ph[i], 8);
		flip_bits(q, 8, d);
		check_lookup(db, HW_MODEL_PHASH, &f->ph[0][0], f->ph_e, NPH, 8, q, 8);
		check_lookup(db, HW_MODEL_PHASH, &f->ph[0][0], f->ph_e, NPH, 8, q, 10);
	}
	/* exact sets: present, absent, and one digest shared by two entries */
	check_lookup(db, HW_MODEL_SHA256, &f->sha[0][0], f->sha_e, NENT, 32, f->sha[1234], 0);
	rnd_bytes(q, 32);
	check_lookup(db, HW_MODEL_SHA256, &f->sha[0][0], f->sha_e, NENT, 32, q, 0);
	check_lookup(db, HW_MODEL_MD5, &f->md5[0][0], f->md5_e, 4, 16, f->md5[2], 0);
	check_lookup(db, HW_MODEL_MD5, &f->md5[0][0], f->md5_e, 4, 16, f->md5[0], 0);
	hwdb_close(db);
	hwdb_close(NULL);
}

static void test_match_result(void **state)
{
	struct fixture *f = *state;
	struct hasher_result res;
	struct hwdb_match m[16];
	struct hwdb *db;
	size_t target = 42;
	int r;

	build_ok(&f->spec, f->path);
	db = open_ok(f->path, NULL);
	memset(&res, 0, sizeof(res));
	/* The image's own hash is far from everything; its variant 5 is
	 * 3 bits from list hash 42; its SHA-256 is entry 17's. */
	res.mask = (1u << HW_MODEL_PDQ) | (1u << HW_MODEL_SHA256) | (1u << HW_MODEL_DHASH);
	res.have_dihedral = true;
	for (int v = 0; v < 8; v++)
		rnd_bytes(res.pdq_dihedral.v[v].bytes, 32);
	memcpy(res.pdq_dihedral.v[5].bytes, f->pdq[target], 32);
	flip_bits(res.pdq_dihedral.v[5].bytes, 32, 3);
	res.hash[HW_MODEL_PDQ].model = HW_MODEL_PDQ;
	res.hash[HW_MODEL_PDQ].len = 32;
	res.hash[HW_MODEL_PDQ].quality = 90;
	memcpy(res.hash[HW_MODEL_PDQ].bytes, res.pdq_dihedral.v[0].bytes, 32);
	res.hash[HW_MODEL_SHA256].model = HW_MODEL_SHA256;
	res.hash[HW_MODEL_SHA256].len = 32;
	memcpy(res.hash[HW_MODEL_SHA256].bytes, f->sha[17], 32);
	res.hash[HW_MODEL_DHASH].model = HW_MODEL_DHASH; /* not in the list */
	res.hash[HW_MODEL_DHASH].len = 8;

	r = hwdb_match(db, &res, NULL, 50, m, 16);
	assert_int_equal(r, 2);
	assert_int_equal(m[0].model, HW_MODEL_PDQ);
	assert_int_equal(m[0].entry, f->pdq_e[target]);
	assert_true(m[0].distance == 3);
	assert_int_equal(m[0].variant, 5);
	assert_int_equal(m[1].model, HW_MODEL_SHA256);
	assert_int_equal(m[1].entry, 17);
	assert_int_equal(m[1].variant, -1);

	/* cap smaller than the count: the count is still right */
	assert_int_equal(hwdb_match(db, &res, NULL, 50, m, 1), 2);
	/* a tighter threshold from the caller drops the PDQ match */
	double maxd[HW_MODEL__MAX];
	for (int i = 0; i < HW_MODEL__MAX; i++)
		maxd[i] = -1;
	maxd[HW_MODEL_PDQ] = 2;
	assert_int_equal(hwdb_match(db, &res, maxd, 50, m, 16), 1);
	/* quality below the floor: PDQ is not queried at all */
	res.hash[HW_MODEL_PDQ].quality = 49;
	r = hwdb_match(db, &res, NULL, 50, m, 16);
	assert_int_equal(r, 1);
	assert_int_equal(m[0].model, HW_MODEL_SHA256);
	/* without dihedral variants only the image's own hash is asked */
	res.hash[HW_MODEL_PDQ].quality = 100;
	res.have_dihedral = false;
	memcpy(res.hash[HW_MODEL_PDQ].bytes, f->pdq[target], 32);
	r = hwdb_match(db, &res, NULL, 50, m, 16);
	assert_int_equal(r, 2);
	assert_int_equal(m[0].variant, 0);
	assert_true(m[0].distance == 0);
	hwdb_close(db);
}

static void test_match_limit(void **state)
{
	struct fixture *f = *state;
	enum { N = HWDB_MATCH_LIMIT + 50 };
	static uint8_t h[N][8];
	static uint32_t e[N];
	struct hwdb_entry ent = { "x", "c", "s" };
	struct hwdb_column col = { HW_MODEL_DHASH, &h[0][0], e, N };
	struct hwdb_build_spec spec = f->spec;
	struct hwdb_match m[4];
	struct hw_hash q = { .model = HW_MODEL_DHASH, .len = 8 };
	struct hwdb *db;

	for (int i = 0; i < N; i++)
		memset(h[i], 0xab, 8);
	spec.entries = &ent;
	spec.nentries = 1;
	spec.columns = &col;
	spec.ncolumns = 1;
	build_ok(&spec, f->path);
	db = open_ok(f->path, NULL);
	memset(q.bytes, 0xab, 8);
	assert_int_equal(hwdb_lookup(db, &q, -1, m, 4), HWDB_MATCH_LIMIT);
	hwdb_close(db);
}

/* db build puts every section on a 64-byte boundary (the format needs 8):
 * the mapping is page-aligned, so no 32-byte hash straddles two cache
 * lines and a candidate check reads one line.  Read from the file's own
 * header and section table (docs/hwdb-format.md). */
static void test_sections_aligned(void **state)
{
	struct fixture *f = *state;
	uint8_t *b = NULL;
	size_t len = 0;
	uint32_t nmodels, nsec;

	build_ok(&f->spec, f->path);
	assert_int_equal(hw_read_file(f->path, 64u << 20, (void **)&b, &len), 0);
	assert_true(len > 128);
	memcpy(&nmodels, b + 44, 4);
	memcpy(&nsec, b + 48, 4);
	assert_true(nsec >= 4);
	assert_true(128 + (size_t)nmodels * 48 + (size_t)nsec * 24 <= len);
	for (uint32_t i = 0; i < nsec; i++) {
		uint64_t off;
		memcpy(&off, b + 128 + (size_t)nmodels * 48 + (size_t)i * 24 + 8, 8);
		assert_true(off < len);
		assert_int_equal(off % 64, 0);
	}
	free(b);
}

static void test_build_rejects(void **state)
{
	struct fixture *f = *state;
	struct hwdb_build_spec s = f->spec;
	uint32_t bad_e = NENT;
	struct hwdb_column bad_col = { HW_MODEL_PDQ, &f->pdq[0][0], &bad_e, 1 };
	struct hwdb_entry bad_ent = { "a\nb", "", "" };
	char err[256];

	s.list_id = "../etc";
	assert_int_equal(hwdb_build(&s, f->path, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "list id"));
	s = f->spec;
	s.version = 0;
	assert_int_equal(hwdb_build(&s, f->path, err, sizeof(err)), -EINVAL);
	s = f->spec;
	s.columns = &bad_col;
	s.ncolumns = 1;
	assert_int_equal(hwdb_build(&s, f->path, err, sizeof(err)), -EINVAL);
	s = f->spec;
	s.threshold[HW_MODEL_PDQ] = 300;
	assert_int_equal(hwdb_build(&s, f->path, err, sizeof(err)), -EINVAL);
	s = f->spec;
	s.entries = &bad_ent;
	s.nentries = 1;
	s.ncolumns = 0;
	assert_int_equal(hwdb_build(&s, f->path, err, sizeof(err)), -EINVAL);
	/* nothing was left behind */
	assert_int_equal(access(f->path, F_OK), -1);
	s = f->spec;
	assert_int_equal(hwdb_build(&s, "/nonexistent-dir/x.hwdb", err, sizeof(err)), -ENOENT);
}

static void test_reproducible(void **state)
{
	struct fixture *f = *state;
	char p2[160];
	void *a, *b;
	size_t la, lb;

	snprintf(p2, sizeof(p2), "%s/again.hwdb", f->dir);
	build_ok(&f->spec, f->path);
	build_ok(&f->spec, p2);
	assert_int_equal(hw_read_file(f->path, 1 << 26, &a, &la), 0);
	assert_int_equal(hw_read_file(p2, 1 << 26, &b, &lb), 0);
	assert_int_equal(la, lb);
	assert_memory_equal(a, b, la);
	free(a);
	free(b);
}

static void test_trust(void **state)
{
	struct fixture *f = *state;
	struct hwdb_trust t = { .keys = (const uint8_t(*)[32])f->pk, .nkeys = 1, .min_signers = 1 };
	struct hwdb *db;
	uint8_t d0[32], d1[32], signer[4][32];
	bool trusted[4];
	char err[256];

	build_ok(&f->spec, f->path);
	open_refused(f->path, &t, -EKEYREJECTED, "unsigned");
	db = open_ok(f->path, NULL);
	hwdb_digest(db, d0);
	hwdb_close(db);

	sign_ok(f->path, f->sk[2]); /* a key nobody trusts */
	open_refused(f->path, &t, -EKEYREJECTED, "untrusted signer");
	sign_ok(f->path, f->sk[0]);
	db = open_ok(f->path, &t);
	/* the digest an auditor compares does not change with signatures */
	hwdb_digest(db, d1);
	assert_memory_equal(d0, d1, 32);
	assert_int_equal(hwdb_signers(db, signer, trusted, 4), 2);
	assert_memory_equal(signer[0], f->pk[2], 32);
	assert_false(trusted[0]);
	assert_memory_equal(signer[1], f->pk[0], 32);
	assert_true(trusted[1]);
	hwdb_close(db);

	assert_int_equal(hwdb_sign(f->path, f->sk[0], err, sizeof(err)), -EEXIST);
	/* two keys required: one trusted signature is too few, even when
	 * the same trusted key is listed twice */
	uint8_t twice[2][32];
	memcpy(twice[0], f->pk[0], 32);
	memcpy(twice[1], f->pk[0], 32);
	struct hwdb_trust t2 = { .keys = (const uint8_t(*)[32])twice, .nkeys = 2,
				 .min_signers = 2 };
	open_refused(f->path, &t2, -EKEYREJECTED, "too few signers: 1 of 2");
	t2.keys = (const uint8_t(*)[32])f->pk;
	open_refused(f->path, &t2, -EKEYREJECTED, "too few signers: 1 of 2");
	sign_ok(f->path, f->sk[1]);
	db = open_ok(f->path, &t2);
	hwdb_close(db);
	t2.min_signers = 3;
	open_refused(f->path, &t2, -EKEYREJECTED, "too few signers: 2 of 3");
	t2.nkeys = 3; /* now the third key is trusted too */
	db = open_ok(f->path, &t2);
	hwdb_close(db);
}

static void test_sign_limits(void **state)
{
	struct fixture *f = *state;
	char err[256];
	uint8_t pk[32], sk[64];

	build_ok(&f->spec, f->path);
	for (int i = 0; i < HWDB_MAX_SIGNERS; i++) {
		crypto_sign_keypair(pk, sk);
		sign_ok(f->path, sk);
	}
	crypto_sign_keypair(pk, sk);
	assert_int_equal(hwdb_sign(f->path, sk, err, sizeof(err)), -E2BIG);
	assert_int_equal(hwdb_sign("/nonexistent/x.hwdb", sk, err, sizeof(err)), -ENOENT);
}

/* Plain write, no fsync: thousands of mutated copies are written. */
static void write_file(const char *path, const void *p, size_t n)
{
	FILE *fp = fopen(path, "wb");
	assert_non_null(fp);
	assert_int_equal(fwrite(p, 1, n, fp), n);
	assert_int_equal(fclose(fp), 0);
}

/* A small signed list (two signatures: one trusted, one extra). */
static uint8_t *small_signed(struct fixture *f, size_t *len)
{
	struct hwdb_build_spec s = f->spec;
	void *buf;

	s.nentries = 40;
	s.ncolumns = 0;
	struct hwdb_column cols[2] = {
		{ HW_MODEL_PDQ, &f->pdq[0][0], f->sha_e, 40 },
		{ HW_MODEL_SHA256, &f->sha[0][0], f->sha_e, 40 },
	};
	s.columns = cols;
	s.ncolumns = 2;
	build_ok(&s, f->path);
	sign_ok(f->path, f->sk[0]);
	sign_ok(f->path, f->sk[2]);
	assert_int_equal(hw_read_file(f->path, 1 << 24, &buf, len), 0);
	return buf;
}

static void test_flipped_bytes(void **state)
{
	struct fixture *f = *state;
	struct hwdb_trust t = { .keys = (const uint8_t(*)[32])f->pk, .nkeys = 1, .min_signers = 1 };
	char mut[160], err[256];
	size_t len;
	uint8_t *orig = small_signed(f, &len);
	uint8_t *copy = malloc(len);
	uint64_t content;
	struct hwdb *db;

	assert_non_null(copy);
	memcpy(&content, orig + 32, 8);
	snprintf(mut, sizeof(mut), "%s/mut.hwdb", f->dir);
	db = open_ok(f->path, &t);
	hwdb_close(db);
	/* every byte, two different flips each */
	for (size_t pos = 0; pos < len; pos++) {
		for (int k = 0; k < 2; k++) {
			memcpy(copy, orig, len);
			copy[pos] ^= k ? 0x80 : 0x01;
			write_file(mut, copy, len);
			db = NULL;
			int r = hwdb_open(mut, &t, &db, err, sizeof(err));
			if (r >= 0)
				fail_msg("flip at %zu accepted", pos);
			assert_null(db);
			/* past the fields that locate the signature block, a
			 * flip is caught by the digest or a signature */
			bool locating = pos < 16 || (pos >= 32 && pos < 40) ||
					(pos >= content && pos < content + 16);
			if (!locating && !strstr(err, "altered"))
					fail_msg("flip at %zu: '%s'", pos, err);
		}
	}
	free(copy);
	free(orig);
}

/* The list digest as docs/hwdb-format.md defines it, written out here
 * with libcrypto alone: SHA-256 of the prefix and one hex line per 1 MiB
 * leaf. */
static void doc_digest(const uint8_t *p, size_t n, uint8_t out[32])
{
	EVP_MD_CTX *root = EVP_MD_CTX_new();
	uint8_t leaf[32];
	char line[65];
	size_t off = 0;

	assert_non_null(root);
	assert_int_equal(EVP_DigestInit_ex(root, EVP_sha256(), NULL), 1);
	assert_int_equal(EVP_DigestUpdate(root, "hashwatch-hwdb-tree-v1\n", 23), 1);
	do {
		size_t k = n - off < (1u << 20) ? n - off : (1u << 20);
		assert_int_equal(EVP_Digest(p + off, k, leaf, NULL, EVP_sha256(), NULL), 1);
		sodium_bin2hex(line, sizeof(line), leaf, 32);
		line[64] = '\n';
		assert_int_equal(EVP_DigestUpdate(root, line, 65), 1);
		off += k;
	} while (off < n);
	assert_int_equal(EVP_DigestFinal_ex(root, out, NULL), 1);
	EVP_MD_CTX_free(root);
}

/* The streaming digest (the builder's) at leaf boundaries, fed in odd
 * pieces, against the documented definition. */
static void test_digest_definition(void **state)
{
	const size_t leaf = 1u << 20;
	const size_t sizes[] = { 1, 128, leaf - 1, leaf, leaf + 1, 2 * leaf, 2 * leaf + 8 };
	uint8_t *buf = malloc(2 * leaf + 8), a[32], b[32], c[32];

	(void)state;
	assert_non_null(buf);
	rnd_bytes(buf, 2 * leaf + 8);
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		struct hwdigest d;
		size_t n = sizes[i], off = 0;

		doc_digest(buf, n, a);
		assert_int_equal(hwdigest_buf(buf, n, b), 0);
		assert_int_equal(hwdigest_init(&d), 0);
		while (off < n) {
			size_t k = 1 + (size_t)(rnd() % 300000);
			k = k < n - off ? k : n - off;
			hwdigest_update(&d, buf + off, k);
			off += k;
		}
		assert_int_equal(hwdigest_final(&d, c), 0);
		if (memcmp(a, b, 32) != 0 || memcmp(a, c, 32) != 0)
			fail_msg("digest of %zu bytes differs from the documented one", n);
	}
	free(buf);
}

/* A list of several leaves (hashed on several threads): its digest is the
 * documented one, it matches, and a flipped byte in any leaf (first, last
 * and a random byte of each) is refused as altered. */
static void test_leaves(void **state)
{
	struct fixture *f = *state;
	struct hwdb_trust t = { .keys = (const uint8_t(*)[32])f->pk, .nkeys = 1, .min_signers = 1 };
	const size_t n = 40000, leaf = 1u << 20;
	uint8_t *pdq = malloc(n * 32), digest[32], want[32];
	uint32_t *ents = malloc(n * sizeof(*ents));
	struct hwdb_entry *ent = malloc(n * sizeof(*ent));
	struct hwdb_column col;
	struct hwdb_build_spec spec = f->spec;
	struct hwdb *db;
	void *buf;
	uint8_t *copy;
	size_t len, nleaves;
	uint64_t content;
	char mut[160];

	assert_true(pdq && ents && ent);
	rnd_bytes(pdq, n * 32);
	for (size_t i = 0; i < n; i++) {
		ents[i] = (uint32_t)i;
		ent[i] = (struct hwdb_entry){ "", "csam", "ncmec" };
	}
	col = (struct hwdb_column){ HW_MODEL_PDQ, pdq, ents, n };
	spec.entries = ent;
	spec.nentries = n;
	spec.columns = &col;
	spec.ncolumns = 1;
	build_ok(&spec, f->path);
	sign_ok(f->path, f->sk[0]);
	assert_int_equal(hw_read_file(f->path, 1 << 26, &buf, &len), 0);
	memcpy(&content, (uint8_t *)buf + 32, 8);
	nleaves = (content + leaf - 1) / leaf;
	assert_true(nleaves >= 3);
	db = open_ok(f->path, &t);
	hwdb_digest(db, digest);
	doc_digest(buf, content, want);
	assert_memory_equal(digest, want, 32);
	for (size_t i = 0; i < n; i += 997) {
		struct hwdb_match m[4];
		struct hw_hash h = { .model = HW_MODEL_PDQ, .len = 32, .quality = -1 };
		memcpy(h.bytes, pdq + i * 32, 32);
		assert_int_equal(hwdb_lookup(db, &h, 0, m, 4), 1);
		assert_int_equal(m[0].entry, (uint32_t)i);
	}
	hwdb_close(db);

	copy = malloc(len);
	assert_non_null(copy);
	snprintf(mut, sizeof(mut), "%s/mut.hwdb", f->dir);
	for (size_t l = 0; l < nleaves; l++) {
		size_t lo = l * leaf, hi = lo + leaf < content ? lo + leaf : content;
		size_t at[3] = { lo, hi - 1, lo + (size_t)(rnd() % (hi - lo)) };
		for (int k = 0; k < 3; k++) {
			/* the fields that locate the signature block are
			 * refused for their own reason (test_flipped_bytes) */
			if (at[k] < 16 || (at[k] >= 32 && at[k] < 40))
				continue;
			memcpy(copy, buf, len);
			copy[at[k]] ^= 0x10;
			write_file(mut, copy, len);
			open_refused(mut, &t, -EBADMSG, "altered");
		}
	}

	/* a format-1 list (BLAKE2b of the whole content) is refused with
	 * what to do */
	memcpy(copy, buf, len);
	copy[8] = 1;
	write_file(mut, copy, len);
	open_refused(mut, &t, -EPROTONOSUPPORT, "rebuild the list");
	free(copy);
	free(buf);
	free(pdq);
	free(ents);
	free(ent);
}

static void test_truncated(void **state)
{
	struct fixture *f = *state;
	struct hwdb_trust t = { .keys = (const uint8_t(*)[32])f->pk, .nkeys = 1, .min_signers = 1 };
	char mut[160], err[256];
	size_t len;
	uint8_t *orig = small_signed(f, &len);
	struct hwdb *db;

	snprintf(mut, sizeof(mut), "%s/cut.hwdb", f->dir);
	for (size_t n = 0; n < len; n += (n < 200 || len - n < 300) ? 1 : 7) {
		write_file(mut, orig, n);
		db = NULL;
		int r = hwdb_open(mut, &t, &db, err, sizeof(err));
		if (r != -EBADMSG || !strstr(err, "truncated"))
			fail_msg("cut to %zu of %zu: %d '%s'", n, len, r, err);
		assert_null(db);
	}
	/* and appended garbage is not ignored */
	uint8_t *longer = malloc(len + 1);
	memcpy(longer, orig, len);
	longer[len] = 0;
	write_file(mut, longer, len + 1);
	open_refused(mut, &t, -EBADMSG, "stray bytes");
	free(longer);
	free(orig);
}

static void test_rollback(void **state)
{
	struct fixture *f = *state;
	char sdir[160], rec[200];
	struct hwdb_trust t = { .keys = (const uint8_t(*)[32])f->pk, .nkeys = 1, .min_signers = 1 };
	struct hwdb *db;

	snprintf(sdir, sizeof(sdir), "%s/state", f->dir);
	assert_int_equal(mkdir(sdir, 0700), 0);
	t.state_dir = sdir;
	f->spec.version = 5;
	build_ok(&f->spec, f->path);
	sign_ok(f->path, f->sk[0]);
	db = open_ok(f->path, &t);
	assert_int_equal(hwdb_accept_version(db, &t), 0);
	hwdb_close(db);
	/* the same file again (a restart) is fine */
	db = open_ok(f->path, &t);
	hwdb_close(db);

	f->spec.version = 4;
	build_ok(&f->spec, f->path);
	sign_ok(f->path, f->sk[0]);
	open_refused(f->path, &t, -ESTALE, "older version: 4 < accepted 5");
	/* without a state folder there is no rollback check */
	t.state_dir = NULL;
	db = open_ok(f->path, &t);
	assert_int_equal(hwdb_accept_version(db, &t), -EINVAL);
	hwdb_close(db);
	t.state_dir = sdir;

	/* a different list under an accepted version number */
	f->spec.version = 5;
	f->spec.created++;
	build_ok(&f->spec, f->path);
	sign_ok(f->path, f->sk[0]);
	open_refused(f->path, &t, -ESTALE, "changed list");

	f->spec.version = 6;
	build_ok(&f->spec, f->path);
	sign_ok(f->path, f->sk[0]);
	db = open_ok(f->path, &t);
	assert_int_equal(hwdb_accept_version(db, &t), 0);
	hwdb_close(db);
	f->spec.version = 5;
	f->spec.created--;
	build_ok(&f->spec, f->path);
	sign_ok(f->path, f->sk[0]);
	open_refused(f->path, &t, -ESTALE, "older version: 5 < accepted 6");

	/* a damaged record refuses rather than guesses */
	snprintf(rec, sizeof(rec), "%s/district-test.accepted", sdir);
	write_file(rec, "version x\n", 10);
	open_refused(f->path, &t, -EBADMSG, "damaged");
	f->spec.version = 7;
}

/* Recompute the digest of a mutated file so that the structure checks,
 * not the digest, are what meet the mutation. */
static void fix_digest(uint8_t *p, size_t len)
{
	uint64_t content;
	memcpy(&content, p + 32, 8);
	if (content > len || len - content < 48)
		return;
	assert_int_equal(hwdigest_buf(p, content, p + content + 16), 0);
}

static void test_mutations(void **state)
{
	struct fixture *f = *state;
	char mut[160], err[256];
	size_t len;
	uint8_t *orig, *copy;
	struct hwdb *db;
	struct hwdb_build_spec s = f->spec;
	void *buf;
	int accepted = 0;

	s.nentries = 60;
	struct hwdb_column cols[3] = {
		{ HW_MODEL_PDQ, &f->pdq[0][0], f->sha_e, 60 },
		{ HW_MODEL_PHASH, &f->ph[0][0], f->sha_e, 60 },
		{ HW_MODEL_SHA256, &f->sha[0][0], f->sha_e, 60 },
	};
	s.columns = cols;
	s.ncolumns = 3;
	build_ok(&s, f->path);
	assert_int_equal(hw_read_file(f->path, 1 << 24, &buf, &len), 0);
	orig = buf;
	copy = malloc(len);
	snprintf(mut, sizeof(mut), "%s/mut.hwdb", f->dir);
	for (int iter = 0; iter < 3000; iter++) {
		uint64_t content;
		memcpy(copy, orig, len);
		memcpy(&content, copy + 32, 8);
		/* mostly the header and tables, sometimes anywhere */
		int nflips = 1 + (int)(rnd() % 3);
		for (int k = 0; k < nflips; k++) {
			size_t pos = rnd() % 4 ? 40 + rnd() % 400 : rnd() % content;
			if (pos >= content)
				pos = rnd() % content;
			if (rnd() % 2)
				copy[pos] ^= (uint8_t)(1u << (rnd() % 8));
			else
				copy[pos] = (uint8_t)rnd();
		}
		fix_digest(copy, len);
		write_file(mut, copy, len);
		db = NULL;
		if (hwdb_open(mut, NULL, &db, err, sizeof(err)) < 0) {
			assert_null(db);
			continue;
		}
		/* whatever was accepted must be safe to use */
		accepted++;
		struct hwdb_entry e;
		struct hwdb_match m[8];
		struct hw_hash h = { .model = HW_MODEL_PDQ, .len = 32 };
		for (uint32_t i = 0; i < hwdb_entry_count(db); i++)
			(void)hwdb_entry_get(db, i, &e);
		memcpy(h.bytes, f->pdq[3], 32);
		(void)hwdb_lookup(db, &h, 31, m, 8);
		h.model = HW_MODEL_SHA256;
		memcpy(h.bytes, f->sha[3], 32);
		(void)hwdb_lookup(db, &h, -1, m, 8);
		hwdb_close(db);
	}
	/* some mutations hit unchecked bytes (padding, hash values); most
	 * must not get through */
	assert_true(accepted < 3000);
	print_message("mutations: %d of 3000 opened\n", accepted);
	free(copy);
	free(orig);
}

static void test_not_a_list(void **state)
{
	struct fixture *f = *state;
	char p[160];

	snprintf(p, sizeof(p), "%s/text.hwdb", f->dir);
	write_file(p, "algorithm,hash\npdq,00\n", 22);
	open_refused(p, NULL, -EBADMSG, "not a hashwatch list");
	open_refused(f->dir, NULL, -EINVAL, "not a regular file");
	open_refused("/nonexistent/x.hwdb", NULL, -ENOENT, "cannot open");
}

/* Real PDQ hashes of Meta's test images (the decoded pixels, so no decoder
 * is involved): a list of all of them; the photo turned by 90 degrees is
 * found as the original through a dihedral variant, and every image finds
 * itself as variant 0 at distance 0. */
static void test_real_pdq(void **state)
{
	static const char *names[] = {
		"reg-test-input_dih_bridge-1-original.pnm",
		"reg-test-input_labelme-subset_q0003.pnm",
		"reg-test-input_labelme-subset_q0122.pnm",
		"reg-test-input_pen-and-coaster.pnm",
		"misc-images_c.pnm",
	};
	enum { N = sizeof(names) / sizeof(names[0]) };
	struct fixture *f = *state;
	struct hasher_result *res = calloc(N + 1, sizeof(*res));
	uint8_t hashes[N][32];
	uint32_t ents[N];
	struct hwdb_entry ent[N];
	struct hwdb_column col = { HW_MODEL_PDQ, &hashes[0][0], ents, N };
	struct hwdb_build_spec spec = f->spec;
	struct hwdb_match m[8];
	struct hwdb *db;
	char path[1024];

	assert_non_null(res);
	for (int i = 0; i <= N; i++) {
		struct hw_image img = { 0 };
		const char *name = i < N ? names[i] : "reg-test-input_dih_bridge-2-rotate-90.pnm";
		snprintf(path, sizeof(path), "%s/pdq/decoded_ppm/%s", hwt_testdata(), name);
		if (access(path, R_OK) != 0) {
			free(res);
			HWT_REQUIRE_PATH(path);
		}
		assert_int_equal(hwt_pnm_read(path, &img), 0);
		assert_int_equal(pdq_hash_dihedral(&img, &res[i].pdq_dihedral), 0);
		hw_image_free(&img);
		res[i].mask = 1u << HW_MODEL_PDQ;
		res[i].have_dihedral = true;
		res[i].hash[HW_MODEL_PDQ].model = HW_MODEL_PDQ;
		res[i].hash[HW_MODEL_PDQ].len = 32;
		res[i].hash[HW_MODEL_PDQ].quality = (int16_t)res[i].pdq_dihedral.quality;
		memcpy(res[i].hash[HW_MODEL_PDQ].bytes, res[i].pdq_dihedral.v[0].bytes, 32);
		if (i < N) {
			memcpy(hashes[i], res[i].pdq_dihedral.v[0].bytes, 32);
			ents[i] = (uint32_t)i;
			ent[i] = (struct hwdb_entry){ names[i], "test", "meta" };
		}
	}
	spec.entries = ent;
	spec.nentries = N;
	spec.columns = &col;
	spec.ncolumns = 1;
	build_ok(&spec, f->path);
	db = open_ok(f->path, NULL);
	for (int i = 0; i < N; i++) {
		int r = hwdb_match(db, &res[i], NULL, 0, m, 8);
		assert_true(r >= 1);
		assert_int_equal(m[0].entry, i); /* the test images are far apart */
		assert_true(m[0].distance == 0);
		assert_int_equal(m[0].variant, 0);
	}
	/* the turned photo: as is it is far from the original, through a
	 * variant it is near */
	struct hwdb_match one;
	struct hw_hash h = res[N].hash[HW_MODEL_PDQ];
	assert_int_equal(hwdb_lookup(db, &h, -1, &one, 1), 0);
	int r = hwdb_match(db, &res[N], NULL, 0, m, 8);
	assert_int_equal(r, 1);
	assert_int_equal(m[0].entry, 0);
	assert_true(m[0].distance <= 31);
	assert_true(m[0].variant > 0);
	print_message("turned photo: variant %d, distance %g\n", m[0].variant, m[0].distance);
	hwdb_close(db);
	free(res);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_roundtrip, setup, teardown),
		cmocka_unit_test_setup_teardown(test_match_result, setup, teardown),
		cmocka_unit_test_setup_teardown(test_match_limit, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sections_aligned, setup, teardown),
		cmocka_unit_test_setup_teardown(test_build_rejects, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reproducible, setup, teardown),
		cmocka_unit_test_setup_teardown(test_trust, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sign_limits, setup, teardown),
		cmocka_unit_test_setup_teardown(test_flipped_bytes, setup, teardown),
		cmocka_unit_test(test_digest_definition),
		cmocka_unit_test_setup_teardown(test_leaves, setup, teardown),
		cmocka_unit_test_setup_teardown(test_truncated, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rollback, setup, teardown),
		cmocka_unit_test_setup_teardown(test_mutations, setup, teardown),
		cmocka_unit_test_setup_teardown(test_not_a_list, setup, teardown),
		cmocka_unit_test_setup_teardown(test_real_pdq, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
