/* hwdb.c - using a list: open (verify), trust and rollback checks, entry
 * metadata, adding a signature, and matching.
 *
 * Opening checks, in this order, so that the reason given is the most
 * useful one: the few header fields needed to find the signature block
 * (magic, format version, content size: "truncated"), the signature block's
 * shape, then the digest of the content ("altered", computed on several
 * threads), every signature,
 * the signers against the trusted keys ("unsigned", "untrusted signer",
 * "too few signers"), then every table, offset, length and count against
 * the file ("malformed"), and last the version against the one accepted
 * before ("older version").  Nothing is read through an offset that has
 * not been checked, so a hostile file gives -EBADMSG, never a wild read.
 * Matching then works straight on the read-only mapping.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "cvhash.h"
#include "fileio.h"
#include "hwdb_format.h"
#include "hwdigest.h"
#include "mih.h"

#define STATE_MAX 4096 /* bytes of an accepted-version record */
#define HASH_THREADS_MAX 4 /* threads that hash a list at open */

struct model_view {
	const struct hw_model_info *info;
	enum search_kind kind;
	uint32_t count;
	double threshold;
	const uint8_t *hashes;
	const uint32_t *entries;
	struct mih *mih;
};

struct hwdb {
	const uint8_t *map;
	size_t size;
	char list_id[HWDB_LIST_ID_MAX];
	uint64_t version, created, content_size;
	uint32_t nentries, nlabels;
	const uint8_t *strings;
	size_t strings_size;
	const uint8_t *labels;
	const uint8_t *entries;
	uint8_t digest[HWDB_DIGEST_BYTES];
	unsigned nsig;
	uint8_t signer[HWDB_MAX_SIGNERS][32];
	bool trusted[HWDB_MAX_SIGNERS];
	uint32_t model_mask;
	struct model_view m[HW_MODEL__MAX];
};

static void hex(const uint8_t *p, size_t n, char *out)
{
	sodium_bin2hex(out, 2 * n + 1, p, n);
}

/* ---- opening ------------------------------------------------------------ */

#define FAIL(code, ...)                                                        \
	do {                                                                   \
		snprintf(err, errlen, __VA_ARGS__);                            \
		return (code);                                                 \
	} while (0)

/* The frame: header fields needed to find the signature block, then the
 * block's shape (nothing else has been read yet). */
static int check_frame(struct hwdb *db, char *err, size_t errlen)
{
	const uint8_t *p = db->map;
	uint64_t want;
	uint32_t v;

	if (db->size == 0)
		FAIL(-EBADMSG, "truncated: the file is empty");
	if (memcmp(p, MAGIC, db->size < 8 ? db->size : 8) != 0)
		FAIL(-EBADMSG, "malformed: not a hashwatch list (bad magic number)");
	if (db->size < HEADER_SIZE)
		FAIL(-EBADMSG, "truncated: %zu bytes, shorter than the %u-byte header",
		     db->size, HEADER_SIZE);
	v = get32(p + 8);
	if (v != FORMAT_VERSION)
		FAIL(-EPROTONOSUPPORT,
		     "format version %" PRIu32 " is not supported (this hashwatch reads version %u; %s)",
		     v, FORMAT_VERSION,
		     v < FORMAT_VERSION ? "rebuild the list with 'hashwatch db build' and sign it again"
					: "upgrade hashwatch for newer lists");
	if (get32(p + 12) != HEADER_SIZE)
		FAIL(-EBADMSG, "malformed: header size %" PRIu32 ", expected %u",
		     get32(p + 12), HEADER_SIZE);
	db->content_size = get64(p + 32);
	if (db->content_size < HEADER_SIZE || db->content_size % 8)
		FAIL(-EBADMSG, "malformed: content size %" PRIu64 " in the header",
		     db->content_size);
	if (db->content_size > db->size || db->size - db->content_size < SIGBLOCK_HEAD)
		FAIL(-EBADMSG,
		     "truncated: %zu bytes, but the header says the content alone is %" PRIu64 " bytes, followed by a signature block",
		     db->size, db->content_size);
	p += db->content_size;
	if (memcmp(p, SIG_MAGIC, 8) != 0 || get32(p + 12) != 0)
		FAIL(-EBADMSG, "malformed: the signature block is missing or damaged");
	db->nsig = get32(p + 8);
	if (db->nsig > HWDB_MAX_SIGNERS)
		FAIL(-EBADMSG, "malformed: %u signatures (at most %d)", db->nsig,
		     HWDB_MAX_SIGNERS);
	want = db->content_size + SIGBLOCK_HEAD + (uint64_t)db->nsig * SIG_REC;
	if (db->size < want)
		FAIL(-EBADMSG, "truncated: %zu bytes, but %u signature(s) need %" PRIu64,
		     db->size, db->nsig, want);
	if (db->size > want)
		FAIL(-EBADMSG, "malformed: %" PRIu64 " stray bytes after the signatures",
		     db->size - want);
	return 0;
}

/* Hashing the content, one leaf at a time, by whichever thread takes the
 * next one: even at ~1.4 GB/s (SHA-256 with the CPU's SHA instructions)
 * the digest is most of the open time at 10M entries, and leaves make it parallel (faulting the pages
 * in with it). */
struct hasher_job {
	const uint8_t *p;
	uint64_t content;
	size_t nleaves;
	uint8_t (*leaves)[HWDIGEST_BYTES];
	atomic_size_t next;
	atomic_bool failed;
};

static void *hash_leaves(void *arg)
{
	struct hasher_job *j = arg;

	for (;;) {
		size_t i = atomic_fetch_add(&j->next, 1);
		uint64_t off = (uint64_t)i * HWDIGEST_LEAF;

		if (i >= j->nleaves)
			break;
		if (hwdigest_leaf(j->p + off,
				  (size_t)(j->content - off < HWDIGEST_LEAF ? j->content - off
									    : HWDIGEST_LEAF),
				  j->leaves[i]) < 0)
			atomic_store(&j->failed, true);
	}
	return NULL;
}

/* Threads to hash with: the CPUs this process may use, at most
 * HASH_THREADS_MAX, at most one per leaf. */
static unsigned hash_threads(size_t nleaves)
{
	cpu_set_t set;
	unsigned n = 1;

	if (sched_getaffinity(0, sizeof(set), &set) == 0 && CPU_COUNT(&set) > 1)
		n = (unsigned)CPU_COUNT(&set);
	if (n > HASH_THREADS_MAX)
		n = HASH_THREADS_MAX;
	return n > nleaves ? (unsigned)nleaves : n;
}

/* The digest of the content.  The calling thread works too, so a refused
 * pthread_create only makes it slower. */
static int content_digest(const struct hwdb *db, uint8_t digest[HWDIGEST_BYTES],
			  char *err, size_t errlen)
{
	struct hasher_job j = { .p = db->map, .content = db->content_size };
	pthread_t th[HASH_THREADS_MAX];
	unsigned nth, started = 0;
	int r;

	j.nleaves = hwdigest_nleaves(db->content_size);
	j.leaves = malloc(j.nleaves * sizeof(*j.leaves));
	if (!j.leaves) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	atomic_init(&j.next, 0);
	atomic_init(&j.failed, false);
	madvise((void *)db->map, db->content_size, MADV_WILLNEED);
	nth = hash_threads(j.nleaves);
	for (unsigned i = 1; i < nth; i++)
		if (pthread_create(&th[started], NULL, hash_leaves, &j) == 0)
			started++;
	hash_leaves(&j);
	for (unsigned i = 0; i < started; i++)
		pthread_join(th[i], NULL);
	r = atomic_load(&j.failed) ? -EIO
		: hwdigest_root((const uint8_t(*)[HWDIGEST_BYTES])j.leaves, j.nleaves, digest);
	free(j.leaves);
	if (r < 0)
		snprintf(err, errlen, "cannot compute the list digest (libcrypto failed)");
	return r;
}

/* The digest against the one the list states,
 * then every signature. */
static int check_digest(struct hwdb *db, const uint8_t digest[HWDB_DIGEST_BYTES],
			char *err, size_t errlen)
{
	const uint8_t *p = db->map + db->content_size;
	uint8_t msg[SIGN_MSG_LEN];
	char hx[2 * HWDB_DIGEST_BYTES + 1], hy[2 * HWDB_DIGEST_BYTES + 1];

	if (sodium_memcmp(digest, p + 16, HWDB_DIGEST_BYTES) != 0) {
		hex(digest, HWDB_DIGEST_BYTES, hx);
		hex(p + 16, HWDB_DIGEST_BYTES, hy);
		FAIL(-EBADMSG, "altered: the content digest is %s but the list says %s",
		     hx, hy);
	}
	memcpy(db->digest, digest, HWDB_DIGEST_BYTES);
	sign_message(digest, msg);
	for (unsigned i = 0; i < db->nsig; i++) {
		const uint8_t *rec = p + SIGBLOCK_HEAD + i * SIG_REC;
		char b64[sodium_base64_ENCODED_LEN(32, sodium_base64_VARIANT_ORIGINAL)];
		memcpy(db->signer[i], rec, 32);
		if (crypto_sign_verify_detached(rec + 32, msg, sizeof(msg), rec) != 0) {
			sodium_bin2base64(b64, sizeof(b64), rec, 32,
					  sodium_base64_VARIANT_ORIGINAL);
			FAIL(-EBADMSG, "altered: signature %u (key %s) does not verify",
			     i + 1, b64);
		}
	}
	return 0;
}

static bool key_trusted(const struct hwdb_trust *t, const uint8_t pk[32])
{
	for (size_t i = 0; t && i < t->nkeys; i++)
		if (sodium_memcmp(t->keys[i], pk, 32) == 0)
			return true;
	return false;
}

static int check_signers(struct hwdb *db, const struct hwdb_trust *t,
			 char *err, size_t errlen)
{
	unsigned need = t && t->min_signers ? t->min_signers : 1, have = 0;
	bool allow = !t || t->allow_unsigned;

	for (unsigned i = 0; i < db->nsig; i++) {
		db->trusted[i] = key_trusted(t, db->signer[i]);
		bool dup = false;
		for (unsigned j = 0; j < i; j++)
			dup |= memcmp(db->signer[j], db->signer[i], 32) == 0;
		if (db->trusted[i] && !dup)
			have++;
	}
	if (allow)
		return 0;
	if (db->nsig == 0)
		FAIL(-EKEYREJECTED,
		     "unsigned: the list carries no signature (sign it with 'hashwatch db sign')");
	if (have == 0)
		FAIL(-EKEYREJECTED,
		     "untrusted signer: none of the list's %u signature(s) is by a trusted key",
		     db->nsig);
	if (have < need)
		FAIL(-EKEYREJECTED,
		     "too few signers: %u of %u required trusted signatures", have, need);
	return 0;
}

/* A fixed-size name field: a string, then only zero bytes (one encoding
 * per name, so two files that mean the same are the same bytes). */
static bool nul_padded(const uint8_t *p, size_t n)
{
	const uint8_t *z = memchr(p, 0, n);

	if (!z)
		return false;
	for (; z < p + n; z++)
		if (*z)
			return false;
	return true;
}

/* Every string in the pool: terminated, printable. */
static bool strings_ok(const uint8_t *s, size_t n)
{
	size_t start = 0;

	if (n == 0 || s[0] != 0 || s[n - 1] != 0)
		return false;
	for (size_t i = 1; i < n; i++)
		if (s[i] == 0) {
			if (!hwdb_text_ok((const char *)s + start + 1, i - start - 1))
				return false;
			start = i;
		}
	return true;
}

struct section {
	uint64_t off, size;
	bool present;
};

static int parse_models(struct hwdb *db, const uint8_t *tab, uint32_t nmodels,
			struct section (*sec)[SEC__MAX], char *err, size_t errlen)
{
	for (uint32_t i = 0; i < nmodels; i++) {
		const uint8_t *rec = tab + i * MODEL_REC;
		char name[33];
		uint64_t tbits;
		double t;
		int r;

		memcpy(name, rec, 32);
		name[32] = '\0';
		if (!nul_padded(rec, 32))
			FAIL(-EBADMSG, "malformed: model %u has no name", i);
		const struct hw_model_info *info = hw_model_by_name(name);
		if (!info || !hwdb_text_ok(name, strlen(name)))
			FAIL(-EPROTONOSUPPORT,
			     "the list uses a model this hashwatch does not know ('%.32s'); upgrade hashwatch",
			     hwdb_text_ok(name, strlen(name)) ? name : "?");
		struct model_view *mv = &db->m[info->id];
		if (mv->info)
			FAIL(-EBADMSG, "malformed: model %s listed twice", name);
		mv->info = info;
		mv->kind = search_kind(info);
		mv->count = get32(rec + 36);
		tbits = get64(rec + 40);
		memcpy(&t, &tbits, 8);
		if (get32(rec + 32) != info->bytes || mv->count > HWDB_MAX_ENTRIES ||
		    !hwdb_threshold_ok(info, t))
			FAIL(-EBADMSG, "malformed: model %s: hash size, count or threshold", name);
		mv->threshold = t;
		const struct section *h = &sec[i][SEC_HASHES], *e = &sec[i][SEC_ENTRY_INDEX],
				     *x = &sec[i][SEC_MIH];
		if (!h->present || !e->present || x->present != (mv->kind == SEARCH_MIH))
			FAIL(-EBADMSG, "malformed: model %s lacks a section", name);
		if (h->size != (uint64_t)mv->count * info->bytes ||
		    e->size != (uint64_t)mv->count * 4)
			FAIL(-EBADMSG, "malformed: model %s: section sizes do not match %u hashes",
			     name, mv->count);
		mv->hashes = db->map + h->off;
		mv->entries = (const uint32_t *)(const void *)(db->map + e->off);
		if (mv->kind == SEARCH_MIH) {
			/* the list digest covers the index: no checksums */
			r = mih_open_flags(db->map + x->off, x->size, mv->hashes, mv->count,
					   8u * info->bytes, MIH_OPEN_DIGESTED, &mv->mih);
			if (r < 0)
				FAIL(r == -ENOMEM ? r : -EBADMSG,
				     "malformed: the %s index is damaged", name);
		}
		if (mv->kind == SEARCH_EXACT)
			for (uint32_t k = 1; k < mv->count; k++)
				if (memcmp(mv->hashes + (k - 1) * info->bytes,
					   mv->hashes + k * info->bytes, info->bytes) > 0)
					FAIL(-EBADMSG, "malformed: the %s set is not sorted", name);
		db->model_mask |= 1u << info->id;
	}
	return 0;
}

/* Tables and sections, each checked against the content before use. */
static int parse_structure(struct hwdb *db, char *err, size_t errlen)
{
	const uint8_t *p = db->map;
	uint32_t nmodels = get32(p + 44), nsec = get32(p + 48);
	/* sections by [model slot][type]; slot HW_MODEL__MAX holds the global ones */
	struct section sec[HW_MODEL__MAX + 1][SEC__MAX];
	uint64_t end, prev;

	memset(sec, 0, sizeof(sec));
	db->version = get64(p + 16);
	db->created = get64(p + 24);
	db->nentries = get32(p + 40);
	db->nlabels = get32(p + 52);
	if (!nul_padded(p + 56, HWDB_LIST_ID_MAX))
		FAIL(-EBADMSG, "malformed: list id not terminated or not padded with zeros");
	memcpy(db->list_id, p + 56, HWDB_LIST_ID_MAX);
	if (!hwdb_list_id_ok(db->list_id))
		FAIL(-EBADMSG, "malformed: list id has characters outside A-Z a-z 0-9 . _ -");
	if (get64(p + 120) != 0)
		FAIL(-EBADMSG, "malformed: reserved header field is not zero");
	if (db->version == 0 || db->nentries > HWDB_MAX_ENTRIES ||
	    db->nlabels > db->nentries || nmodels >= HW_MODEL__MAX ||
	    nsec > 3 + 3 * nmodels)
		FAIL(-EBADMSG, "malformed: header counts out of range");
	end = HEADER_SIZE + (uint64_t)nmodels * MODEL_REC + (uint64_t)nsec * SECTION_REC;
	if (end > db->content_size)
		FAIL(-EBADMSG, "malformed: tables extend past the content");
	prev = end;
	for (uint32_t i = 0; i < nsec; i++) {
		const uint8_t *rec = p + HEADER_SIZE + nmodels * MODEL_REC + i * SECTION_REC;
		uint32_t type = get32(rec), model = get32(rec + 4);
		uint64_t off = get64(rec + 8), size = get64(rec + 16);
		bool global = type <= SEC_ENTRIES;
		if (type == 0 || type >= SEC__MAX || (global != (model == NO_MODEL)) ||
		    (!global && model >= nmodels))
			FAIL(-EBADMSG, "malformed: section %u has type %u, model %u", i,
			     type, model);
		if (off % 8 || off < prev || off > db->content_size ||
		    size > db->content_size - off)
			FAIL(-EBADMSG,
			     "malformed: section %u (%" PRIu64 "+%" PRIu64 ") is out of order or outside the content",
			     i, off, size);
		struct section *s = &sec[global ? HW_MODEL__MAX : model][type];
		if (s->present)
			FAIL(-EBADMSG, "malformed: section %u repeats an earlier one", i);
		s->present = true;
		s->off = off;
		s->size = size;
		prev = off + size;
	}
	const struct section *str = &sec[HW_MODEL__MAX][SEC_STRINGS],
			     *lab = &sec[HW_MODEL__MAX][SEC_LABELS],
			     *ent = &sec[HW_MODEL__MAX][SEC_ENTRIES];
	if (!str->present || !lab->present || !ent->present ||
	    lab->size != (uint64_t)db->nlabels * 8 || ent->size != (uint64_t)db->nentries * 8)
		FAIL(-EBADMSG, "malformed: entry tables missing or of the wrong size");
	db->strings = p + str->off;
	db->strings_size = str->size;
	db->labels = p + lab->off;
	db->entries = p + ent->off;
	if (db->strings_size > UINT32_MAX || !strings_ok(db->strings, db->strings_size))
		FAIL(-EBADMSG, "malformed: the string table is not terminated or not printable text");
	for (uint32_t i = 0; i < db->nlabels; i++)
		if (get32(db->labels + 8 * i) >= db->strings_size ||
		    get32(db->labels + 8 * i + 4) >= db->strings_size)
			FAIL(-EBADMSG, "malformed: label %u points outside the strings", i);
	return parse_models(db, p + HEADER_SIZE, nmodels, sec, err, errlen);
}

/* The accepted-version record: "<state_dir>/<list id>.accepted". */
static int state_path(const struct hwdb *db, const struct hwdb_trust *t,
		      char *out, size_t len)
{
	if (snprintf(out, len, "%s/%s.accepted", t->state_dir, db->list_id) >= (int)len)
		return -ENAMETOOLONG;
	return 0;
}

/* Read the record.  Returns 0 with *found false when there is none. */
static int state_read(const char *path, bool *found, uint64_t *version,
		      uint8_t digest[HWDB_DIGEST_BYTES])
{
	char *buf = NULL, *line, *save = NULL;
	size_t len;
	bool have_v = false, have_d = false;
	int r = hw_read_file(path, STATE_MAX, (void **)&buf, &len);

	if (r == -ENOENT) {
		*found = false;
		return 0;
	}
	if (r < 0)
		return r;
	for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *end;
		size_t dl;
		if (line[0] == '#')
			continue;
		if (strncmp(line, "version ", 8) == 0 && line[8] >= '0' && line[8] <= '9') {
			errno = 0;
			*version = strtoull(line + 8, &end, 10);
			have_v = !errno && *end == '\0';
		} else if (strncmp(line, "digest ", 7) == 0) {
			have_d = sodium_hex2bin(digest, HWDB_DIGEST_BYTES, line + 7,
						strlen(line + 7), NULL, &dl, NULL) == 0 &&
				 dl == HWDB_DIGEST_BYTES;
		}
	}
	free(buf);
	if (!have_v || !have_d)
		return -EBADMSG;
	*found = true;
	return 0;
}

static int check_rollback(const struct hwdb *db, const struct hwdb_trust *t,
			  char *err, size_t errlen)
{
	char path[PATH_MAX], hx[2 * HWDB_DIGEST_BYTES + 1];
	uint8_t digest[HWDB_DIGEST_BYTES];
	uint64_t accepted = 0;
	bool found;
	int r;

	if (!t || !t->state_dir)
		return 0;
	if ((r = state_path(db, t, path, sizeof(path))) < 0 ||
	    (r = state_read(path, &found, &accepted, digest)) < 0)
		FAIL(r, "cannot read the accepted-version record %s: %s%s", path,
		     r == -EBADMSG ? "damaged" : strerror(-r),
		     r == -EBADMSG ? " (refusing rather than risk a rollback; restore it or remove it deliberately)" : "");
	if (!found)
		return 0;
	if (db->version < accepted)
		FAIL(-ESTALE,
		     "older version: %" PRIu64 " < accepted %" PRIu64 " for list '%s' (rollback refused)",
		     db->version, accepted, db->list_id);
	if (db->version == accepted && sodium_memcmp(digest, db->digest, sizeof(digest)) != 0) {
		hex(digest, sizeof(digest), hx);
		FAIL(-ESTALE,
		     "changed list: version %" PRIu64 " of '%s' was accepted with digest %s, this file differs (a new list needs a new version)",
		     db->version, db->list_id, hx);
	}
	return 0;
}

#undef FAIL

int hwdb_open(const char *path, const struct hwdb_trust *trust,
	      struct hwdb **ret, char *err, size_t errlen)
{
	struct hwdb *db = NULL;
	struct stat st;
	uint8_t digest[HWDB_DIGEST_BYTES];
	int fd = -1, r;

	if (sodium_init() < 0) {
		snprintf(err, errlen, "libsodium failed to initialise");
		return -EIO;
	}
	db = calloc(1, sizeof(*db));
	if (!db) {
		r = -ENOMEM;
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0 || fstat(fd, &st) < 0) {
		r = -errno;
		snprintf(err, errlen, "cannot open: %s", strerror(-r));
		goto fail;
	}
	if (!S_ISREG(st.st_mode)) {
		r = -EINVAL;
		snprintf(err, errlen, "not a regular file");
		goto fail;
	}
	if ((uint64_t)st.st_size > SIZE_MAX / 2) {
		r = -EFBIG;
		snprintf(err, errlen, "file too large to load");
		goto fail;
	}
	db->size = (size_t)st.st_size;
	if (db->size) {
		void *m = mmap(NULL, db->size, PROT_READ, MAP_SHARED, fd, 0);
		if (m == MAP_FAILED) {
			r = -errno;
			snprintf(err, errlen, "cannot map: %s", strerror(-r));
			goto fail;
		}
		db->map = m;
	}
	close(fd);
	fd = -1;
	if ((r = check_frame(db, err, errlen)) < 0 ||
	    (r = content_digest(db, digest, err, errlen)) < 0 ||
	    (r = check_digest(db, digest, err, errlen)) < 0 ||
	    (r = check_signers(db, trust, err, errlen)) < 0 ||
	    (r = parse_structure(db, err, errlen)) < 0 ||
	    (r = check_rollback(db, trust, err, errlen)) < 0)
		goto fail;
	madvise((void *)db->map, db->size, MADV_RANDOM);
	*ret = db;
	return 0;
fail:
	if (fd >= 0)
		close(fd);
	hwdb_close(db);
	return r;
}

void hwdb_close(struct hwdb *db)
{
	if (!db)
		return;
	for (int i = 0; i < HW_MODEL__MAX; i++)
		mih_close(db->m[i].mih);
	if (db->map)
		munmap((void *)db->map, db->size);
	free(db);
}

int hwdb_accept_version(const struct hwdb *db, const struct hwdb_trust *trust)
{
	char path[PATH_MAX], text[512], hx[2 * HWDB_DIGEST_BYTES + 1];
	uint8_t digest[HWDB_DIGEST_BYTES];
	uint64_t accepted = 0;
	bool found;
	int r, n;

	if (!trust || !trust->state_dir)
		return -EINVAL;
	if ((r = state_path(db, trust, path, sizeof(path))) < 0)
		return r;
	r = state_read(path, &found, &accepted, digest);
	if (r < 0)
		return r; /* a damaged record is for a person to look at */
	if (found && accepted >= db->version)
		return 0;
	hex(db->digest, sizeof(db->digest), hx);
	n = snprintf(text, sizeof(text),
		     "# hashwatch: newest accepted version of list '%s'; older ones are refused\n"
		     "version %" PRIu64 "\ndigest %s\n",
		     db->list_id, db->version, hx);
	return hw_write_atomic(path, text, (size_t)n, 0644);
}

/* ---- accessors ---------------------------------------------------------- */

const char *hwdb_list_id(const struct hwdb *db)
{
	return db->list_id;
}

uint64_t hwdb_version(const struct hwdb *db)
{
	return db->version;
}

uint64_t hwdb_created(const struct hwdb *db)
{
	return db->created;
}

size_t hwdb_entry_count(const struct hwdb *db)
{
	return db->nentries;
}

size_t hwdb_model_count(const struct hwdb *db, enum hw_model_id model)
{
	if ((unsigned)model >= HW_MODEL__MAX || !db->m[model].info)
		return 0;
	return db->m[model].count;
}

uint32_t hwdb_model_mask(const struct hwdb *db)
{
	return db->model_mask;
}

double hwdb_threshold(const struct hwdb *db, enum hw_model_id model)
{
	const struct hw_model_info *m;

	if ((unsigned)model < HW_MODEL__MAX && db->m[model].info)
		return db->m[model].threshold;
	m = hw_model_by_id(model);
	return m ? m->default_threshold : 0;
}

void hwdb_digest(const struct hwdb *db, uint8_t out[HWDB_DIGEST_BYTES])
{
	memcpy(out, db->digest, HWDB_DIGEST_BYTES);
}

size_t hwdb_signers(const struct hwdb *db, uint8_t (*out)[32], bool *trusted,
		    size_t cap)
{
	for (size_t i = 0; i < db->nsig && i < cap; i++) {
		if (out)
			memcpy(out[i], db->signer[i], 32);
		if (trusted)
			trusted[i] = db->trusted[i];
	}
	return db->nsig;
}

int hwdb_entry_get(const struct hwdb *db, uint32_t entry, struct hwdb_entry *ret)
{
	uint32_t id, label, cat, src;

	if (entry >= db->nentries)
		return -ERANGE;
	id = get32(db->entries + 8 * (size_t)entry);
	label = get32(db->entries + 8 * (size_t)entry + 4);
	if (id >= db->strings_size || label >= db->nlabels)
		return -EBADMSG;
	cat = get32(db->labels + 8 * (size_t)label);
	src = get32(db->labels + 8 * (size_t)label + 4);
	ret->id = (const char *)db->strings + id;
	ret->category = (const char *)db->strings + cat;
	ret->source = (const char *)db->strings + src;
	return 0;
}

/* ---- signing ------------------------------------------------------------ */

int hwdb_sign(const char *path, const uint8_t sk[64], char *err, size_t errlen)
{
	uint8_t pk[32], head[SIGBLOCK_HEAD] = { 0 }, rec[SIG_REC];
	uint8_t msg[SIGN_MSG_LEN];
	struct hwdb *db = NULL;
	struct hwdb_out *o = NULL;
	struct stat st;
	int r;

	r = hwdb_open(path, NULL, &db, err, errlen);
	if (r < 0)
		return r;
	crypto_sign_ed25519_sk_to_pk(pk, sk);
	for (unsigned i = 0; i < db->nsig; i++)
		if (memcmp(db->signer[i], pk, 32) == 0) {
			snprintf(err, errlen, "already signed by this key");
			r = -EEXIST;
			goto out;
		}
	if (db->nsig >= HWDB_MAX_SIGNERS) {
		snprintf(err, errlen, "already carries %d signatures, the most a list can",
			 HWDB_MAX_SIGNERS);
		r = -E2BIG;
		goto out;
	}
	sign_message(db->digest, msg);
	memcpy(rec, pk, 32);
	crypto_sign_detached(rec + 32, NULL, msg, sizeof(msg), sk);
	/* Check our own work: a key file whose public half does not belong
	 * to the secret half would otherwise produce a list nobody accepts. */
	if (crypto_sign_verify_detached(rec + 32, msg, sizeof(msg), pk) != 0) {
		snprintf(err, errlen, "the secret key is damaged (its signature does not verify)");
		r = -EINVAL;
		goto out;
	}
	memcpy(head, SIG_MAGIC, 8);
	put32(head + 8, db->nsig + 1);
	memcpy(head + 16, db->digest, HWDB_DIGEST_BYTES);
	/* the new file keeps the old one's permissions */
	o = hwdb_out_new(path, stat(path, &st) == 0 ? st.st_mode & 0777 : 0644, &r, err, errlen);
	if (!o)
		goto out;
	hwdb_out_write(o, db->map, db->content_size);
	hwdb_out_write(o, head, sizeof(head));
	hwdb_out_write(o, db->map + db->content_size + SIGBLOCK_HEAD, (size_t)db->nsig * SIG_REC);
	hwdb_out_write(o, rec, sizeof(rec));
	r = hwdb_out_finish(o, path, err, errlen);
out:
	hwdb_close(db);
	return r;
}

/* ---- matching ----------------------------------------------------------- */

struct sink {
	struct hwdb_match *out;
	size_t cap, n;
	const struct hasher_view *view; /* region being queried (NULL: lookup) */
};

/* Did an earlier region already report (entry, model)? */
static bool reported(const struct sink *s, uint32_t e, enum hw_model_id model)
{
	for (size_t i = 0; i < s->n && i < s->cap; i++)
		if (s->out[i].entry == e && s->out[i].model == model &&
		    s->out[i].region != s->view->region)
			return true;
	return false;
}

static int emit(const struct hwdb *db, const struct model_view *mv, uint32_t pos,
		double dist, int variant, struct sink *s)
{
	uint32_t e;

	if (pos >= mv->count)
		return -EBADMSG;
	e = le32toh(mv->entries[pos]);
	if (e >= db->nentries)
		return -EBADMSG;
	if (s->view && s->view->region != HASHER_WHOLE && reported(s, e, mv->info->id))
		return 0;
	if (s->n < s->cap) {
		struct hwdb_match *m = &s->out[s->n];
		memset(m, 0, sizeof(*m));
		m->entry = e;
		m->model = mv->info->id;
		m->distance = dist;
		m->variant = (int8_t)variant;
		if (s->view) {
			m->region = (uint8_t)s->view->region;
			m->box = s->view->box;
		}
	}
	s->n++;
	return 0;
}

static unsigned hamming(const uint8_t *a, const uint8_t *b, size_t n)
{
	unsigned d = 0;
	size_t i = 0;

	for (; i + 8 <= n; i += 8) {
		uint64_t x, y;
		memcpy(&x, a + i, 8);
		memcpy(&y, b + i, 8);
		d += (unsigned)__builtin_popcountll(x ^ y);
	}
	for (; i < n; i++)
		d += (unsigned)__builtin_popcount((unsigned)(a[i] ^ b[i]));
	return d;
}

/* First position whose hash is >= q in a sorted set. */
static size_t lower_bound(const struct model_view *mv, const uint8_t *q)
{
	size_t lo = 0, hi = mv->count, bytes = mv->info->bytes;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (memcmp(mv->hashes + mid * bytes, q, bytes) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* Search one model for nq queries (contiguous); hits go to the sink, at
 * most HWDB_MATCH_LIMIT of them. */
static int query_model(const struct hwdb *db, const struct model_view *mv,
		       const uint8_t *qs, unsigned nq, double thr, struct sink *s)
{
	size_t bytes = mv->info->bytes, found = 0, start = s->n;
	bool pdq = mv->info->id == HW_MODEL_PDQ;
	int r = 0;

	switch (mv->kind) {
	case SEARCH_MIH: {
		struct mih_hit hits[HWDB_MATCH_LIMIT];
		double bits = 8.0 * (double)bytes;
		unsigned maxd = (unsigned)(thr > bits ? bits : thr);
		r = mih_query(mv->mih, qs, nq, maxd, hits, HWDB_MATCH_LIMIT, &found);
		if (r < 0 && r != -ENOBUFS)
			return r;
		r = 0;
		for (size_t i = 0; i < found && r == 0; i++)
			r = emit(db, mv, hits[i].pos, hits[i].dist,
				 pdq ? hits[i].query : -1, s);
		return r;
	}
	case SEARCH_EXACT:
		for (size_t i = lower_bound(mv, qs);
		     i < mv->count && s->n - start < HWDB_MATCH_LIMIT &&
		     memcmp(mv->hashes + i * bytes, qs, bytes) == 0 && r == 0;
		     i++)
			r = emit(db, mv, (uint32_t)i, 0, -1, s);
		return r;
	case SEARCH_HAMMING:
	case SEARCH_METRIC:
		for (size_t i = 0; i < mv->count && s->n - start < HWDB_MATCH_LIMIT && r == 0;
		     i++) {
			double best = -1;
			int variant = -1;
			for (unsigned q = 0; q < nq; q++) {
				double d = mv->kind == SEARCH_HAMMING
						   ? hamming(mv->hashes + i * bytes, qs + q * bytes, bytes)
						   : cvhash_compare(mv->info->id, qs + q * bytes,
								    mv->hashes + i * bytes, bytes);
				if (d >= 0 && d <= thr && (best < 0 || d < best)) {
					best = d;
					variant = pdq ? (int)q : -1;
				}
			}
			if (best >= 0)
				r = emit(db, mv, (uint32_t)i, best, variant, s);
		}
		return r;
	}
	return -EINVAL;
}

/* Query one region's hashes (see hwdb_match). */
static int match_view(const struct hwdb *db, const struct hasher_view *v,
		      const double max_dist[HW_MODEL__MAX], int min_pdq_quality,
		      struct sink *s)
{
	uint32_t mask = v->mask & db->model_mask;

	s->view = v;
	for (int id = 1; id < HW_MODEL__MAX; id++) {
		const struct model_view *mv = &db->m[id];
		const struct hw_hash *h = &v->hash[id];
		const uint8_t *qs = h->bytes;
		unsigned nq = 1;
		double thr;
		int r;

		if (!(mask & (1u << id)) || h->len != mv->info->bytes)
			continue;
		if (id == HW_MODEL_PDQ) {
			if (h->quality < min_pdq_quality)
				continue;
			if (v->have_dihedral) {
				qs = v->pdq_dihedral->v[0].bytes;
				nq = PDQ_NDIHEDRAL;
			}
		}
		thr = max_dist && max_dist[id] >= 0 ? max_dist[id] : mv->threshold;
		r = query_model(db, mv, qs, nq, thr, s);
		if (r < 0)
			return r;
	}
	return 0;
}

int hwdb_match(const struct hwdb *db, const struct hasher_result *res,
	       const double max_dist[HW_MODEL__MAX], int min_pdq_quality,
	       struct hwdb_match *out, size_t cap)
{
	struct sink s = { out, cap, 0, NULL };
	struct hasher_view v[HASHER_NREGIONS];
	unsigned nv = hasher_regions(res, v);

	for (unsigned i = 0; i < nv; i++) {
		int r = match_view(db, &v[i], max_dist, min_pdq_quality, &s);
		if (r < 0)
			return r;
	}
	return s.n > INT_MAX ? INT_MAX : (int)s.n;
}

int hwdb_lookup(const struct hwdb *db, const struct hw_hash *h, double max_dist,
		struct hwdb_match *out, size_t cap)
{
	struct sink s = { out, cap, 0, NULL };
	const struct model_view *mv;
	int r;

	if ((unsigned)h->model >= HW_MODEL__MAX)
		return -EINVAL;
	mv = &db->m[h->model];
	if (!mv->info)
		return 0;
	if (h->len != mv->info->bytes)
		return -EINVAL;
	r = query_model(db, mv, h->bytes, 1, max_dist >= 0 ? max_dist : mv->threshold, &s);
	return r < 0 ? r : (int)s.n;
}
