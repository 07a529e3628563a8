/* hwdb_build.c - compiling a list: entry strings deduplicated into one
 * string table and (category, source) pairs into labels, each model's
 * hashes gathered into one array (sorted for exact digests, indexed by MIH
 * for 64/256-bit Hamming models), everything laid out as hwdb_format.h
 * says and written through a temp file that is renamed into place only
 * when complete, hashing the content on the way (the list digest).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "fileio.h"
#include "hwdb_format.h"
#include "hwdigest.h"
#include "mih.h"

/* Entry strings must print safely in a terminal, a log and JSON: valid
 * UTF-8 without control characters (C0, DEL, C1). */
bool hwdb_text_ok(const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s, *end = p + n;

	while (p < end) {
		unsigned c = *p, len, cp;
		if (c < 0x80) {
			if (c < 0x20 || c == 0x7f)
				return false;
			p++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf) {
			len = 2;
			cp = c & 0x1f;
		} else if (c >= 0xe0 && c <= 0xef) {
			len = 3;
			cp = c & 0x0f;
		} else if (c >= 0xf0 && c <= 0xf4) {
			len = 4;
			cp = c & 0x07;
		} else {
			return false;
		}
		if ((size_t)(end - p) < len)
			return false;
		for (unsigned i = 1; i < len; i++) {
			if ((p[i] & 0xc0) != 0x80)
				return false;
			cp = cp << 6 | (p[i] & 0x3f);
		}
		/* overlong forms, surrogates, beyond U+10FFFF, C1 controls */
		if ((len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
		    (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff ||
		    (cp >= 0x80 && cp < 0xa0))
			return false;
		p += len;
	}
	return true;
}

bool hwdb_list_id_ok(const char *id)
{
	size_t n = strlen(id);

	if (n == 0 || n >= HWDB_LIST_ID_MAX || id[0] == '.')
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = id[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-'))
			return false;
	}
	return true;
}

static double model_threshold(const struct hw_model_info *m, double t)
{
	return t < 0 ? m->default_threshold : t;
}

bool hwdb_threshold_ok(const struct hw_model_info *m, double t)
{
	if (!isfinite(t) || t < 0)
		return false;
	return m->metric != HW_METRIC_HAMMING || t <= 8.0 * m->bytes;
}

/* ---- atomic output file ------------------------------------------------ */

/* A temp file next to the target, renamed over it only when complete, so
 * a crash or a full disk never leaves a half-written list under its name.
 * Writes are buffered and, while `hashing`, fed to the tree digest that
 * becomes the list digest (hwdigest.h). */
struct hwdb_out {
	int fd;
	int err;
	bool hashing;
	uint64_t off;
	size_t blen;
	struct hwdigest st;
	char tmp[PATH_MAX];
	uint8_t buf[1 << 16];
};

struct hwdb_out *hwdb_out_new(const char *path, mode_t mode, int *ret, char *err,
			   size_t errlen)
{
	struct hwdb_out *o = calloc(1, sizeof(*o));
	int r;

	if (!o) {
		*ret = -ENOMEM;
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	o->fd = -1;
	if (snprintf(o->tmp, sizeof(o->tmp), "%s.tmp.XXXXXX", path) >= (int)sizeof(o->tmp)) {
		r = -ENAMETOOLONG;
		goto fail;
	}
	o->fd = mkostemp(o->tmp, O_CLOEXEC);
	if (o->fd < 0 || fchmod(o->fd, mode) < 0) {
		r = -errno;
		goto fail;
	}
	return o;
fail:
	if (o->fd >= 0) {
		close(o->fd);
		unlink(o->tmp);
	}
	free(o);
	*ret = r;
	snprintf(err, errlen, "cannot create a file next to %s: %s", path, strerror(-r));
	return NULL;
}

static void out_flush(struct hwdb_out *o)
{
	size_t done = 0;

	while (!o->err && done < o->blen) {
		ssize_t k = write(o->fd, o->buf + done, o->blen - done);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			o->err = k < 0 ? -errno : -EIO;
		else
			done += (size_t)k;
	}
	o->blen = 0;
}

void hwdb_out_write(struct hwdb_out *o, const void *p, size_t n)
{
	const uint8_t *s = p;

	if (o->hashing)
		hwdigest_update(&o->st, s, n);
	o->off += n;
	while (n > 0 && !o->err) {
		size_t k = sizeof(o->buf) - o->blen;
		if (k > n)
			k = n;
		memcpy(o->buf + o->blen, s, k);
		o->blen += k;
		s += k;
		n -= k;
		if (o->blen == sizeof(o->buf))
			out_flush(o);
	}
}

/* Sections start on a cache line (SECTION_ALIGN; the format asks only for
 * 8 bytes): a 32-byte PDQ hash then never straddles two lines, nor two
 * pages, and each random read of one is one line. */
#define SECTION_ALIGN 64
static size_t align_section(size_t x)
{
	return (x + SECTION_ALIGN - 1) & ~(size_t)(SECTION_ALIGN - 1);
}

static void out_pad_section(struct hwdb_out *o)
{
	static const uint8_t zero[SECTION_ALIGN];
	hwdb_out_write(o, zero, align_section(o->off) - o->off);
}

void hwdb_out_hash_begin(struct hwdb_out *o)
{
	int r = hwdigest_init(&o->st);

	if (r < 0 && !o->err)
		o->err = r;
	o->hashing = r == 0;
}

void hwdb_out_hash_end(struct hwdb_out *o, uint8_t digest[HWDB_DIGEST_BYTES])
{
	int r = o->hashing ? hwdigest_final(&o->st, digest) : -EIO;

	if (r < 0 && !o->err)
		o->err = r;
	o->hashing = false;
}

int hwdb_out_finish(struct hwdb_out *o, const char *path, char *err, size_t errlen)
{
	int r;

	out_flush(o);
	r = o->err;
	if (!r && fsync(o->fd) < 0)
		r = -errno;
	if (close(o->fd) < 0 && !r)
		r = -errno;
	if (!r && rename(o->tmp, path) < 0)
		r = -errno;
	if (r)
		unlink(o->tmp);
	else
		r = hw_fsync_parent(path);
	hwdigest_free(&o->st);
	free(o);
	if (r < 0)
		snprintf(err, errlen, "cannot write %s: %s", path, strerror(-r));
	return r;
}

void hwdb_out_free(struct hwdb_out *o)
{
	if (!o)
		return;
	close(o->fd);
	unlink(o->tmp);
	hwdigest_free(&o->st);
	free(o);
}

/* ---- builder ------------------------------------------------------------ */

/* Open addressing over uint32 values (string offsets or label indexes);
 * the caller compares keys, so one table type serves both. */
struct table {
	uint32_t *slot;
	size_t mask;
	size_t used;
};

#define EMPTY_SLOT UINT32_MAX

static int table_init(struct table *t, size_t expect)
{
	size_t n = 64;
	while (n < expect * 2)
		n *= 2;
	t->slot = malloc(n * sizeof(*t->slot));
	if (!t->slot)
		return -ENOMEM;
	memset(t->slot, 0xff, n * sizeof(*t->slot));
	t->mask = n - 1;
	t->used = 0;
	return 0;
}

static uint64_t fnv1a(const void *p, size_t n)
{
	const uint8_t *s = p;
	uint64_t h = 1469598103934665603ull;
	for (size_t i = 0; i < n; i++)
		h = (h ^ s[i]) * 1099511628211ull;
	return h;
}

/* Deduplicated string pool: what SEC_STRINGS holds. */
struct strpool {
	char *buf;
	size_t len, cap;
	struct table t;
};

static int pool_grow_table(struct strpool *sp)
{
	struct table nt;
	int r = table_init(&nt, (sp->t.mask + 1));
	if (r < 0)
		return r;
	for (size_t i = 0; i <= sp->t.mask; i++) {
		uint32_t off = sp->t.slot[i];
		if (off == EMPTY_SLOT)
			continue;
		size_t j = fnv1a(sp->buf + off, strlen(sp->buf + off)) & nt.mask;
		while (nt.slot[j] != EMPTY_SLOT)
			j = (j + 1) & nt.mask;
		nt.slot[j] = off;
	}
	nt.used = sp->t.used;
	free(sp->t.slot);
	sp->t = nt;
	return 0;
}

static int pool_intern(struct strpool *sp, const char *s, uint32_t *ret)
{
	size_t n = strlen(s), j;
	int r;

	if (n == 0) {
		*ret = 0;
		return 0;
	}
	if ((sp->t.used + 1) * 2 > sp->t.mask + 1) {
		r = pool_grow_table(sp);
		if (r < 0)
			return r;
	}
	for (j = fnv1a(s, n) & sp->t.mask; sp->t.slot[j] != EMPTY_SLOT;
	     j = (j + 1) & sp->t.mask)
		if (strcmp(sp->buf + sp->t.slot[j], s) == 0) {
			*ret = sp->t.slot[j];
			return 0;
		}
	if (sp->len + n + 1 > UINT32_MAX)
		return -E2BIG;
	if (sp->len + n + 1 > sp->cap) {
		size_t ncap = sp->cap * 2 > sp->len + n + 1 ? sp->cap * 2 : sp->len + n + 1;
		char *nb = realloc(sp->buf, ncap);
		if (!nb)
			return -ENOMEM;
		sp->buf = nb;
		sp->cap = ncap;
	}
	memcpy(sp->buf + sp->len, s, n + 1);
	sp->t.slot[j] = (uint32_t)sp->len;
	sp->t.used++;
	*ret = (uint32_t)sp->len;
	sp->len += n + 1;
	return 0;
}

/* Distinct (category, source) pairs: what SEC_LABELS holds.  Few. */
struct labels {
	uint32_t (*pair)[2];
	size_t n, cap;
	struct table t;
};

static int labels_intern(struct labels *l, uint32_t cat, uint32_t src,
			 uint32_t *ret)
{
	uint32_t key[2] = { cat, src };
	size_t j;

	if ((l->n + 1) * 2 > l->t.mask + 1) {
		/* Rehash into a table twice the size. */
		struct table nt;
		int r = table_init(&nt, l->t.mask + 1);
		if (r < 0)
			return r;
		for (size_t i = 0; i < l->n; i++) {
			j = fnv1a(l->pair[i], sizeof(l->pair[i])) & nt.mask;
			while (nt.slot[j] != EMPTY_SLOT)
				j = (j + 1) & nt.mask;
			nt.slot[j] = (uint32_t)i;
		}
		free(l->t.slot);
		l->t = nt;
	}
	for (j = fnv1a(key, sizeof(key)) & l->t.mask; l->t.slot[j] != EMPTY_SLOT;
	     j = (j + 1) & l->t.mask)
		if (memcmp(l->pair[l->t.slot[j]], key, sizeof(key)) == 0) {
			*ret = l->t.slot[j];
			return 0;
		}
	if (l->n == l->cap) {
		size_t ncap = l->cap ? l->cap * 2 : 16;
		void *np = realloc(l->pair, ncap * sizeof(*l->pair));
		if (!np)
			return -ENOMEM;
		l->pair = np;
		l->cap = ncap;
	}
	memcpy(l->pair[l->n], key, sizeof(key));
	l->t.slot[j] = (uint32_t)l->n;
	*ret = (uint32_t)l->n++;
	return 0;
}

struct built_model {
	const struct hw_model_info *info;
	size_t count;
	double threshold;
	uint8_t *hashes;
	uint32_t *entries;
	void *blob;
	size_t blob_len;
};

static int cmp_record(const void *a, const void *b, void *len)
{
	return memcmp(a, b, *(size_t *)len);
}

/* Sort (hash, entry) pairs by hash, then entry, for binary search and
 * for a build that does not depend on the input order of equal hashes. */
static int sort_exact(struct built_model *bm)
{
	size_t bytes = bm->info->bytes, stride = bytes + 4;
	uint8_t *rec = malloc(bm->count * stride);

	if (!rec && bm->count)
		return -ENOMEM;
	for (size_t i = 0; i < bm->count; i++) {
		memcpy(rec + i * stride, bm->hashes + i * bytes, bytes);
		/* big-endian so that memcmp orders entries numerically */
		uint32_t e = htobe32(bm->entries[i]);
		memcpy(rec + i * stride + bytes, &e, 4);
	}
	qsort_r(rec, bm->count, stride, cmp_record, &stride);
	for (size_t i = 0; i < bm->count; i++) {
		uint32_t e;
		memcpy(bm->hashes + i * bytes, rec + i * stride, bytes);
		memcpy(&e, rec + i * stride + bytes, 4);
		bm->entries[i] = be32toh(e);
	}
	free(rec);
	return 0;
}

static int gather_model(const struct hwdb_build_spec *spec,
			const struct hw_model_info *info, size_t count,
			struct built_model *bm, char *err, size_t errlen)
{
	size_t bytes = info->bytes, k = 0;
	int r;

	bm->info = info;
	bm->count = count;
	bm->threshold = model_threshold(info, spec->threshold[info->id]);
	bm->hashes = malloc(count * bytes);
	bm->entries = malloc(count * sizeof(uint32_t));
	if (!bm->hashes || !bm->entries)
		return -ENOMEM;
	for (size_t c = 0; c < spec->ncolumns; c++) {
		const struct hwdb_column *col = &spec->columns[c];
		if (col->model != info->id)
			continue;
		memcpy(bm->hashes + k * bytes, col->hashes, col->n * bytes);
		for (size_t i = 0; i < col->n; i++)
			bm->entries[k + i] = htole32(col->entries[i]);
		k += col->n;
	}
	switch (search_kind(info)) {
	case SEARCH_EXACT:
		return sort_exact(bm);
	case SEARCH_MIH:
		r = mih_build(bm->hashes, bm->entries, count, 8u * info->bytes,
			      &bm->blob, &bm->blob_len);
		if (r < 0)
			snprintf(err, errlen, "cannot build the %s index: %s",
				 info->name, strerror(-r));
		return r;
	default:
		return 0;
	}
}

static int check_spec(const struct hwdb_build_spec *spec,
		      size_t count[HW_MODEL__MAX], char *err, size_t errlen)
{
	if (!spec->list_id || !hwdb_list_id_ok(spec->list_id)) {
		snprintf(err, errlen,
			 "list id must be 1 to %d characters of A-Z a-z 0-9 . _ - (not starting with '.')",
			 HWDB_LIST_ID_MAX - 1);
		return -EINVAL;
	}
	if (spec->version == 0) {
		snprintf(err, errlen, "list version must be 1 or more");
		return -EINVAL;
	}
	if (spec->nentries > HWDB_MAX_ENTRIES) {
		snprintf(err, errlen, "%zu entries: more than the limit of %u",
			 spec->nentries, HWDB_MAX_ENTRIES);
		return -E2BIG;
	}
	for (size_t i = 0; i < spec->nentries; i++) {
		const struct hwdb_entry *e = &spec->entries[i];
		const char *f[3] = { e->id ? e->id : "", e->category ? e->category : "",
				     e->source ? e->source : "" };
		static const char *names[3] = { "id", "category", "source" };
		for (int j = 0; j < 3; j++) {
			size_t n = strlen(f[j]), max = j ? HWDB_LABEL_MAX : HWDB_ID_MAX;
			if (n > max || !hwdb_text_ok(f[j], n)) {
				snprintf(err, errlen,
					 "entry %zu: %s is longer than %zu bytes or not printable UTF-8",
					 i, names[j], max);
				return -EINVAL;
			}
		}
	}
	memset(count, 0, HW_MODEL__MAX * sizeof(count[0]));
	for (size_t c = 0; c < spec->ncolumns; c++) {
		const struct hwdb_column *col = &spec->columns[c];
		const struct hw_model_info *m = hw_model_by_id(col->model);
		if (!m || col->model == HW_MODEL_NONE) {
			snprintf(err, errlen, "column %zu: unknown model %d", c, (int)col->model);
			return -EINVAL;
		}
		for (size_t i = 0; i < col->n; i++)
			if (col->entries[i] >= spec->nentries) {
				snprintf(err, errlen, "%s hash %zu names entry %u of %zu",
					 m->name, i, col->entries[i], spec->nentries);
				return -EINVAL;
			}
		count[m->id] += col->n;
		if (count[m->id] > HWDB_MAX_ENTRIES) {
			snprintf(err, errlen, "more than %u %s hashes", HWDB_MAX_ENTRIES, m->name);
			return -E2BIG;
		}
	}
	for (int id = 1; id < HW_MODEL__MAX; id++) {
		const struct hw_model_info *m = hw_model_by_id((enum hw_model_id)id);
		double t = spec->threshold[id];
		if (m && count[id] && t >= 0 && !hwdb_threshold_ok(m, t)) {
			snprintf(err, errlen, "threshold %g for %s is out of range", t, m->name);
			return -EINVAL;
		}
	}
	return 0;
}

void hwdb_spec_default_thresholds(struct hwdb_build_spec *spec)
{
	for (int i = 0; i < HW_MODEL__MAX; i++)
		spec->threshold[i] = -1;
}

static void put_section(uint8_t *rec, uint32_t type, uint32_t model,
			uint64_t off, uint64_t size)
{
	put32(rec, type);
	put32(rec + 4, model);
	put64(rec + 8, off);
	put64(rec + 16, size);
}

struct section_out {
	uint32_t type, model;
	const void *p; /* NULL: the labels, encoded while writing */
	uint64_t size;
};

static void add_section(struct section_out *sec, unsigned *n, uint32_t type,
			uint32_t model, const void *p, uint64_t size)
{
	sec[*n].type = type;
	sec[*n].model = model;
	sec[*n].p = p;
	sec[*n].size = size;
	(*n)++;
}

/* Lay out and write the file.  Sections follow the tables in this order:
 * strings, labels, entries, then per model: hashes, entry index, index. */
static int write_list(const struct hwdb_build_spec *spec, const char *path,
		      const struct strpool *sp, const struct labels *lb,
		      const uint8_t *entries, struct built_model *bm,
		      unsigned nmodels, char *err, size_t errlen)
{
	struct section_out sec[3 + 3 * HW_MODEL__MAX];
	uint8_t head[HEADER_SIZE] = { 0 }, sig[SIGBLOCK_HEAD] = { 0 };
	uint8_t *tables = NULL;
	struct hwdb_out *o = NULL;
	unsigned nsec = 0;
	uint64_t off;
	size_t tlen;
	int r;

	add_section(sec, &nsec, SEC_STRINGS, NO_MODEL, sp->buf, sp->len);
	add_section(sec, &nsec, SEC_LABELS, NO_MODEL, NULL, lb->n * 8);
	add_section(sec, &nsec, SEC_ENTRIES, NO_MODEL, entries, spec->nentries * 8);
	for (unsigned i = 0; i < nmodels; i++) {
		add_section(sec, &nsec, SEC_HASHES, i, bm[i].hashes,
			    bm[i].count * bm[i].info->bytes);
		add_section(sec, &nsec, SEC_ENTRY_INDEX, i, bm[i].entries, bm[i].count * 4);
		if (bm[i].blob)
			add_section(sec, &nsec, SEC_MIH, i, bm[i].blob, bm[i].blob_len);
	}
	tlen = nmodels * MODEL_REC + nsec * SECTION_REC;
	tables = calloc(1, tlen);
	if (!tables) {
		r = -ENOMEM;
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	for (unsigned i = 0; i < nmodels; i++) {
		uint8_t *rec = tables + i * MODEL_REC;
		uint64_t tbits;
		memcpy(rec, bm[i].info->name, strlen(bm[i].info->name));
		put32(rec + 32, bm[i].info->bytes);
		put32(rec + 36, (uint32_t)bm[i].count);
		memcpy(&tbits, &bm[i].threshold, 8);
		put64(rec + 40, tbits);
	}
	off = align_section(HEADER_SIZE + tlen);
	for (unsigned i = 0; i < nsec; i++) {
		put_section(tables + nmodels * MODEL_REC + i * SECTION_REC, sec[i].type,
			    sec[i].model, off, sec[i].size);
		off = align_section(off + sec[i].size);
	}
	memcpy(head, MAGIC, 8);
	put32(head + 8, FORMAT_VERSION);
	put32(head + 12, HEADER_SIZE);
	put64(head + 16, spec->version);
	put64(head + 24, spec->created ? spec->created : (uint64_t)time(NULL));
	put64(head + 32, off); /* content size: the signature block starts here */
	put32(head + 40, (uint32_t)spec->nentries);
	put32(head + 44, nmodels);
	put32(head + 48, nsec);
	put32(head + 52, (uint32_t)lb->n);
	memcpy(head + 56, spec->list_id, strlen(spec->list_id));

	o = hwdb_out_new(path, 0644, &r, err, errlen);
	if (!o)
		goto out;
	hwdb_out_hash_begin(o);
	hwdb_out_write(o, head, sizeof(head));
	hwdb_out_write(o, tables, tlen);
	for (unsigned i = 0; i < nsec; i++) {
		out_pad_section(o);
		if (sec[i].type == SEC_LABELS) {
			for (size_t k = 0; k < lb->n; k++) {
				uint8_t rec[8];
				put32(rec, lb->pair[k][0]);
				put32(rec + 4, lb->pair[k][1]);
				hwdb_out_write(o, rec, 8);
			}
		} else {
			hwdb_out_write(o, sec[i].p, sec[i].size);
		}
	}
	out_pad_section(o);
	hwdb_out_hash_end(o, sig + 16);
	memcpy(sig, SIG_MAGIC, 8);
	hwdb_out_write(o, sig, sizeof(sig));
	r = hwdb_out_finish(o, path, err, errlen);
	o = NULL;
out:
	hwdb_out_free(o);
	free(tables);
	return r;
}

int hwdb_build(const struct hwdb_build_spec *spec, const char *path,
	       char *err, size_t errlen)
{
	size_t count[HW_MODEL__MAX];
	struct built_model bm[HW_MODEL__MAX];
	struct strpool sp = { 0 };
	struct labels lb = { 0 };
	uint8_t *entries = NULL;
	unsigned nmodels = 0;
	int r;

	memset(bm, 0, sizeof(bm));
	if (sodium_init() < 0) {
		snprintf(err, errlen, "libsodium failed to initialise");
		return -EIO;
	}
	r = check_spec(spec, count, err, errlen);
	if (r < 0)
		return r;
	sp.cap = 4096;
	sp.buf = malloc(sp.cap);
	entries = malloc(spec->nentries * 8 + 8);
	if (!sp.buf || !entries || table_init(&sp.t, 1024) < 0 ||
	    table_init(&lb.t, 16) < 0) {
		r = -ENOMEM;
		goto nomem;
	}
	sp.buf[0] = '\0';
	sp.len = 1;
	for (size_t i = 0; i < spec->nentries; i++) {
		const struct hwdb_entry *e = &spec->entries[i];
		uint32_t id, cat, src, label;
		if ((r = pool_intern(&sp, e->id ? e->id : "", &id)) < 0 ||
		    (r = pool_intern(&sp, e->category ? e->category : "", &cat)) < 0 ||
		    (r = pool_intern(&sp, e->source ? e->source : "", &src)) < 0 ||
		    (r = labels_intern(&lb, cat, src, &label)) < 0)
			goto nomem;
		put32(entries + 8 * i, id);
		put32(entries + 8 * i + 4, label);
	}
	for (int id = 1; id < HW_MODEL__MAX; id++) {
		if (!count[id])
			continue;
		r = gather_model(spec, hw_model_by_id((enum hw_model_id)id), count[id],
				 &bm[nmodels++], err, errlen);
		if (r == -ENOMEM)
			goto nomem;
		if (r < 0)
			goto out;
	}
	r = write_list(spec, path, &sp, &lb, entries, bm, nmodels, err, errlen);
	goto out;
nomem:
	snprintf(err, errlen, r == -E2BIG ? "entry strings exceed 4 GiB" : "out of memory");
out:
	for (unsigned i = 0; i < HW_MODEL__MAX; i++) {
		free(bm[i].hashes);
		free(bm[i].entries);
		free(bm[i].blob);
	}
	free(sp.buf);
	free(sp.t.slot);
	free(lb.pair);
	free(lb.t.slot);
	free(entries);
	return r;
}
