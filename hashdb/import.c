/* import.c - text hash lists (CSV, hex lines, pdq-photo-hasher output) into
 * the entry and per-model hash arrays hwdb_build() takes.  Lists run to
 * millions of lines, so hashes are kept as packed bytes per model (not as
 * struct hw_hash), strings are interned, and rows that name the same id
 * are found through a hash table.
 */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "csv.h"
#include "fileio.h"
#include "import.h"

#define ARENA_CHUNK (1u << 20)
#define EMPTY UINT32_MAX
#define IMPORT_LINE_MAX 4096 /* hex and pdq-csv lines */

struct column_buf {
	uint8_t *hashes;
	uint32_t *entries;
	size_t n, cap;
};

/* Strings live in chunks that never move, so entries can point at them. */
struct arena_chunk {
	struct arena_chunk *next;
	size_t used, cap;
	char data[];
};

/* Open addressing over uint32 values; the owner says what a value's key
 * is (an interned string's index, an entry's id). */
struct table {
	uint32_t *slot;
	size_t mask, used;
};

struct import_set {
	struct hwdb_entry *entries;
	size_t nentries, cap;
	struct arena_chunk *arena;
	const char **interned; /* category and source strings, deduplicated */
	size_t ninterned, interned_cap;
	struct table intern_tab; /* -> index into interned */
	struct table id_tab;     /* -> entry index, for entries with an id */
	struct column_buf col[HW_MODEL__MAX];
	struct hwdb_column spec_cols[HW_MODEL__MAX];
};

/* What a failed import restores. */
struct mark {
	size_t nentries;
	size_t ncol[HW_MODEL__MAX];
};

int import_format_parse(const char *name, enum import_format *ret)
{
	if (strcmp(name, "csv") == 0)
		*ret = IMPORT_CSV;
	else if (strcmp(name, "hex") == 0)
		*ret = IMPORT_HEX;
	else if (strcmp(name, "pdq-csv") == 0)
		*ret = IMPORT_PDQ_CSV;
	else
		return -EINVAL;
	return 0;
}

static uint64_t str_hash(const char *s)
{
	uint64_t h = 1469598103934665603ull;
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ull;
	return h;
}

/* Find key in t; keyof(s, value) gives a stored value's key.  Returns the
 * slot: holding the match, or the empty slot where key would go. */
static size_t table_find(const struct table *t, const char *key,
			 const char *(*keyof)(const struct import_set *, uint32_t),
			 const struct import_set *s)
{
	size_t j = str_hash(key) & t->mask;
	while (t->slot[j] != EMPTY && strcmp(keyof(s, t->slot[j]), key) != 0)
		j = (j + 1) & t->mask;
	return j;
}

static const char *interned_key(const struct import_set *s, uint32_t v)
{
	return s->interned[v];
}

/* Entries dropped by a failed import may still sit in the id table; they
 * read as "" (which is never looked up) until their index is reused, and
 * then as the new entry's id, which is still the right answer for it. */
static const char *id_key(const struct import_set *s, uint32_t v)
{
	return v < s->nentries ? s->entries[v].id : "";
}

/* Make room for one more value: double the table when half full.  On
 * failure the table is unchanged. */
static int table_reserve(struct table *t,
			 const char *(*keyof)(const struct import_set *, uint32_t),
			 const struct import_set *s)
{
	size_t oldn = t->slot ? t->mask + 1 : 0, n = oldn ? 2 * oldn : 64;
	uint32_t *old = t->slot;

	if (t->slot && (t->used + 1) * 2 <= oldn)
		return 0;
	t->slot = malloc(n * sizeof(*t->slot));
	if (!t->slot) {
		t->slot = old;
		return -ENOMEM;
	}
	memset(t->slot, 0xff, n * sizeof(*t->slot));
	t->mask = n - 1;
	for (size_t i = 0; i < oldn; i++)
		if (old[i] != EMPTY)
			t->slot[table_find(t, keyof(s, old[i]), keyof, s)] = old[i];
	free(old);
	return 0;
}

static char *arena_dup(struct import_set *s, const char *str)
{
	size_t n = strlen(str) + 1;
	struct arena_chunk *c = s->arena;

	if (!c || c->cap - c->used < n) {
		/* small sets stay small; big ones grow to 1 MiB chunks */
		size_t cap = c ? (c->cap < ARENA_CHUNK ? 2 * c->cap : ARENA_CHUNK) : 4096;
		if (cap < n)
			cap = n;
		c = malloc(sizeof(*c) + cap);
		if (!c)
			return NULL;
		c->next = s->arena;
		c->used = 0;
		c->cap = cap;
		s->arena = c;
	}
	memcpy(c->data + c->used, str, n);
	c->used += n;
	return c->data + c->used - n;
}

static const char *intern(struct import_set *s, const char *str)
{
	size_t j;

	if (table_reserve(&s->intern_tab, interned_key, s) < 0)
		return NULL;
	j = table_find(&s->intern_tab, str, interned_key, s);
	if (s->intern_tab.slot[j] != EMPTY)
		return s->interned[s->intern_tab.slot[j]];
	if (s->ninterned == s->interned_cap) {
		size_t ncap = s->interned_cap ? 2 * s->interned_cap : 16;
		const char **n = realloc(s->interned, ncap * sizeof(*n));
		if (!n)
			return NULL;
		s->interned = n;
		s->interned_cap = ncap;
	}
	char *copy = arena_dup(s, str);
	if (!copy)
		return NULL;
	s->interned[s->ninterned] = copy;
	s->intern_tab.slot[j] = (uint32_t)s->ninterned++;
	s->intern_tab.used++;
	return copy;
}

int import_set_new(struct import_set **ret)
{
	struct import_set *s = calloc(1, sizeof(*s));

	if (!s || table_reserve(&s->intern_tab, interned_key, s) < 0 ||
	    table_reserve(&s->id_tab, id_key, s) < 0) {
		import_set_free(s);
		return -ENOMEM;
	}
	*ret = s;
	return 0;
}

void import_set_free(struct import_set *s)
{
	if (!s)
		return;
	while (s->arena) {
		struct arena_chunk *next = s->arena->next;
		free(s->arena);
		s->arena = next;
	}
	for (int i = 0; i < HW_MODEL__MAX; i++) {
		free(s->col[i].hashes);
		free(s->col[i].entries);
	}
	free(s->entries);
	free(s->interned);
	free(s->intern_tab.slot);
	free(s->id_tab.slot);
	free(s);
}

size_t import_entry_count(const struct import_set *s)
{
	return s->nentries;
}

size_t import_hash_count(const struct import_set *s, enum hw_model_id model)
{
	return (unsigned)model < HW_MODEL__MAX ? s->col[model].n : 0;
}

void import_fill_spec(struct import_set *s, struct hwdb_build_spec *spec)
{
	size_t n = 0;

	for (int id = 1; id < HW_MODEL__MAX; id++) {
		if (!s->col[id].n)
			continue;
		s->spec_cols[n].model = (enum hw_model_id)id;
		s->spec_cols[n].hashes = s->col[id].hashes;
		s->spec_cols[n].entries = s->col[id].entries;
		s->spec_cols[n].n = s->col[id].n;
		n++;
	}
	spec->entries = s->entries;
	spec->nentries = s->nentries;
	spec->columns = s->spec_cols;
	spec->ncolumns = n;
}

/* ---- one input ---------------------------------------------------------- */

struct ctx {
	struct import_set *s;
	const char *name;
	unsigned long line;
	const struct import_defaults *def;
	char *err;
	size_t errlen;
};

static int fail(struct ctx *c, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int fail(struct ctx *c, int code, const char *fmt, ...)
{
	va_list ap;
	int n = snprintf(c->err, c->errlen, "%s:%lu: ", c->name, c->line);

	if (n >= 0 && (size_t)n < c->errlen) {
		va_start(ap, fmt);
		vsnprintf(c->err + n, c->errlen - (size_t)n, fmt, ap);
		va_end(ap);
	}
	return code;
}

static char *trim(char *s)
{
	size_t n;

	while (*s == ' ' || *s == '\t')
		s++;
	n = strlen(s);
	while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r'))
		s[--n] = '\0';
	return s;
}

static int check_text(struct ctx *c, const char *what, const char *v, size_t max)
{
	size_t n = strlen(v);

	if (n > max)
		return fail(c, -EINVAL, "%s is %zu bytes long, at most %zu allowed", what, n, max);
	if (!hwdb_text_ok(v, n))
		return fail(c, -EINVAL, "%s contains control characters or is not UTF-8", what);
	return 0;
}

/* The entry for a row: the existing one with the same id, or a new one.
 * id may be "" (always new). */
static int get_entry(struct ctx *c, const char *id, const char *cat,
		     const char *src, uint32_t *ret)
{
	struct import_set *s = c->s;
	const char *icat, *isrc;
	size_t j = 0;
	int r;

	if (!*cat && c->def && c->def->category)
		cat = c->def->category;
	if (!*src && c->def && c->def->source)
		src = c->def->source;
	if ((r = check_text(c, "id", id, HWDB_ID_MAX)) < 0 ||
	    (r = check_text(c, "category", cat, HWDB_LABEL_MAX)) < 0 ||
	    (r = check_text(c, "source", src, HWDB_LABEL_MAX)) < 0)
		return r;
	if (*id) {
		if (table_reserve(&s->id_tab, id_key, s) < 0)
			return fail(c, -ENOMEM, "out of memory");
		j = table_find(&s->id_tab, id, id_key, s);
		if (s->id_tab.slot[j] != EMPTY) {
			const struct hwdb_entry *e = &s->entries[s->id_tab.slot[j]];
			if (strcmp(e->category, cat) != 0 || strcmp(e->source, src) != 0)
				return fail(c, -EINVAL,
					    "id '%s' appeared before with category '%s' and source '%s', here '%s' and '%s'",
					    id, e->category, e->source, cat, src);
			*ret = s->id_tab.slot[j];
			return 0;
		}
	}
	if (s->nentries >= HWDB_MAX_ENTRIES)
		return fail(c, -E2BIG, "more than %u entries", HWDB_MAX_ENTRIES);
	if (s->nentries == s->cap) {
		size_t ncap = s->cap ? 2 * s->cap : 1024;
		struct hwdb_entry *n = realloc(s->entries, ncap * sizeof(*n));
		if (!n)
			return fail(c, -ENOMEM, "out of memory");
		s->entries = n;
		s->cap = ncap;
	}
	icat = intern(s, cat);
	isrc = intern(s, src);
	s->entries[s->nentries].id = *id ? arena_dup(s, id) : "";
	if (!icat || !isrc || !s->entries[s->nentries].id)
		return fail(c, -ENOMEM, "out of memory");
	s->entries[s->nentries].category = icat;
	s->entries[s->nentries].source = isrc;
	if (*id) {
		s->id_tab.slot[j] = (uint32_t)s->nentries;
		s->id_tab.used++;
	}
	*ret = (uint32_t)s->nentries++;
	return 0;
}

static int add_hash(struct ctx *c, enum hw_model_id model, const char *hexstr,
		    uint32_t entry)
{
	const struct hw_model_info *m = hw_model_by_id(model);
	struct column_buf *col = &c->s->col[model];
	struct hw_hash h;

	if (hw_hash_from_hex(model, hexstr, &h) < 0)
		return fail(c, -EINVAL, "'%.80s' is not a %s hash (%u hex digits)", hexstr,
			    m->name, 2u * m->bytes);
	if (col->n >= HWDB_MAX_ENTRIES)
		return fail(c, -E2BIG, "more than %u %s hashes", HWDB_MAX_ENTRIES, m->name);
	if (col->n == col->cap) {
		size_t ncap = col->cap ? 2 * col->cap : 1024;
		uint8_t *nh = realloc(col->hashes, ncap * m->bytes);
		if (nh)
			col->hashes = nh;
		uint32_t *ne = nh ? realloc(col->entries, ncap * sizeof(*ne)) : NULL;
		if (!ne)
			return fail(c, -ENOMEM, "out of memory");
		col->entries = ne;
		col->cap = ncap;
	}
	memcpy(col->hashes + col->n * m->bytes, h.bytes, m->bytes);
	col->entries[col->n++] = entry;
	return 0;
}

enum csv_col { COL_ALGORITHM, COL_HASH, COL_ID, COL_CATEGORY, COL_SOURCE,
	       COL_MD5, COL_SHA1, COL_SHA256, COL__MAX };

static const char *const col_names[COL__MAX] = {
	"algorithm", "hash", "id", "category", "source", "md5", "sha1", "sha256"
};

static int csv_header(struct ctx *c, char **f, size_t nf, int idx[COL__MAX])
{
	for (int k = 0; k < COL__MAX; k++)
		idx[k] = -1;
	for (size_t i = 0; i < nf; i++) {
		char *name = trim(f[i]);
		int k;
		for (char *p = name; *p; p++)
			*p = (char)tolower((unsigned char)*p);
		for (k = 0; k < COL__MAX && strcmp(name, col_names[k]) != 0; k++)
			;
		if (k == COL__MAX)
			return fail(c, -EINVAL,
				    "unknown column '%.40s' (known: algorithm, hash, id, category, source, md5, sha1, sha256)",
				    name);
		if (idx[k] >= 0)
			return fail(c, -EINVAL, "column '%s' appears twice", name);
		idx[k] = (int)i;
	}
	if (idx[COL_ALGORITHM] < 0 || idx[COL_HASH] < 0)
		return fail(c, -EINVAL,
			    "the first line must be a header naming at least the columns algorithm and hash");
	return 0;
}

static int csv_row(struct ctx *c, char **f, const int idx[COL__MAX])
{
	static const enum hw_model_id digest_model[3] = { HW_MODEL_MD5, HW_MODEL_SHA1,
							  HW_MODEL_SHA256 };
	const char *v[COL__MAX];
	const struct hw_model_info *m;
	char alg[32];
	uint32_t entry;
	int r;

	for (int k = 0; k < COL__MAX; k++)
		v[k] = idx[k] >= 0 ? trim(f[idx[k]]) : "";
	snprintf(alg, sizeof(alg), "%s", v[COL_ALGORITHM]);
	for (char *p = alg; *p; p++)
		*p = (char)tolower((unsigned char)*p);
	m = hw_model_by_name(alg);
	if (!m)
		return fail(c, -EINVAL,
			    "unknown algorithm '%.40s' ('hashwatch hash --list-models' shows the names)",
			    v[COL_ALGORITHM]);
	if (!*v[COL_HASH])
		return fail(c, -EINVAL, "the hash is empty");
	if ((r = get_entry(c, v[COL_ID], v[COL_CATEGORY], v[COL_SOURCE], &entry)) < 0 ||
	    (r = add_hash(c, m->id, v[COL_HASH], entry)) < 0)
		return r;
	for (int k = 0; k < 3; k++)
		if (*v[COL_MD5 + k] &&
		    (r = add_hash(c, digest_model[k], v[COL_MD5 + k], entry)) < 0)
			return r;
	return 0;
}

static int import_csv(struct ctx *c, const char *buf, size_t len)
{
	struct csv_reader *rd = malloc(sizeof(*rd));
	char *f[CSV_MAX_FIELDS], why[160];
	int idx[COL__MAX], r;
	size_t nf, header_nf = 0, rows = 0;

	if (!rd)
		return fail(c, -ENOMEM, "out of memory");
	csv_init(rd, buf, len);
	while ((r = csv_next(rd, f, CSV_MAX_FIELDS, &nf, &c->line, why, sizeof(why))) > 0) {
		if (nf == 1 && *trim(f[0]) == '\0')
			continue; /* blank line */
		if (!header_nf) {
			if ((r = csv_header(c, f, nf, idx)) < 0)
				goto out;
			header_nf = nf;
			continue;
		}
		if (nf != header_nf) {
			r = fail(c, -EINVAL, "%zu fields, but the header has %zu", nf, header_nf);
			goto out;
		}
		if ((r = csv_row(c, f, idx)) < 0)
			goto out;
		rows++;
	}
	if (r < 0) {
		r = fail(c, r == -E2BIG ? r : -EINVAL, "%s", why);
		goto out;
	}
	if (!rows)
		r = fail(c, -EINVAL, "no hashes (a header and at least one row are needed)");
out:
	free(rd);
	return r;
}

/* Quality as pdq-photo-hasher prints it: an integer 0..100. */
static bool quality_ok(const char *q)
{
	int v = 0;

	if (!*q || strlen(q) > 3)
		return false;
	for (; *q; q++) {
		if (*q < '0' || *q > '9')
			return false;
		v = v * 10 + (*q - '0');
	}
	return v <= 100;
}

/* One line of the hex or pdq-csv formats (NUL-terminated, without its
 * line break).  *seen counts hash lines so far; *first is true until the
 * first line that is not blank (the only place a header may be). */
static int line_row(struct ctx *c, char *line, enum import_format fmt,
		    enum hw_model_id model, size_t *seen, bool *first)
{
	bool header_ok = *first;
	char *s = trim(line), *hash = s;
	uint32_t entry;
	int r;

	if (!*s || (fmt == IMPORT_HEX && *s == '#'))
		return 0;
	*first = false;
	if (fmt == IMPORT_PDQ_CSV) {
		char *q = strchr(s, ',');
		if (!q)
			return fail(c, -EINVAL, "expected hash,quality,path");
		*q++ = '\0';
		char *path = strchr(q, ',');
		if (path)
			*path = '\0';
		hash = trim(s);
		q = trim(q);
		if (header_ok && strcasecmp(hash, "hash") == 0)
			return 0; /* the optional header */
		if (!quality_ok(q))
			return fail(c, -EINVAL, "quality '%.20s' is not a number from 0 to 100", q);
	}
	if ((r = get_entry(c, "", "", "", &entry)) < 0 ||
	    (r = add_hash(c, model, hash, entry)) < 0)
		return r;
	(*seen)++;
	return 0;
}

static int import_lines(struct ctx *c, const char *buf, size_t len,
			enum import_format fmt, enum hw_model_id model)
{
	const char *p = buf, *end = buf + len;
	char line[IMPORT_LINE_MAX + 1];
	size_t seen = 0;
	bool first = true;
	int r;

	if (len >= 3 && memcmp(buf, "\xef\xbb\xbf", 3) == 0)
		p += 3;
	for (c->line = 1; p < end; c->line++) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = (size_t)((nl ? nl : end) - p);
		if (n > IMPORT_LINE_MAX)
			return fail(c, -E2BIG, "line longer than %d bytes", IMPORT_LINE_MAX);
		if (memchr(p, '\0', n))
			return fail(c, -EINVAL, "NUL byte (is this a text file?)");
		memcpy(line, p, n);
		line[n] = '\0';
		if ((r = line_row(c, line, fmt, model, &seen, &first)) < 0)
			return r;
		p += n + 1;
	}
	if (!seen)
		return fail(c, -EINVAL, "no hashes found");
	return 0;
}

static void rollback(struct import_set *s, const struct mark *m)
{
	s->nentries = m->nentries;
	for (int i = 0; i < HW_MODEL__MAX; i++)
		s->col[i].n = m->ncol[i];
}

int import_buffer(struct import_set *s, const char *name, const char *buf,
		  size_t len, enum import_format fmt, enum hw_model_id algorithm,
		  const struct import_defaults *defaults, char *err, size_t errlen)
{
	struct ctx c = { s, name, 0, defaults, err, errlen };
	struct mark m;
	int r;

	m.nentries = s->nentries;
	for (int i = 0; i < HW_MODEL__MAX; i++)
		m.ncol[i] = s->col[i].n;
	if (fmt == IMPORT_PDQ_CSV)
		algorithm = HW_MODEL_PDQ;
	if (fmt != IMPORT_CSV && (!hw_model_by_id(algorithm) || algorithm == HW_MODEL_NONE)) {
		snprintf(err, errlen, "%s: the hex format needs an algorithm (--algorithm)", name);
		return -EINVAL;
	}
	if (fmt == IMPORT_CSV)
		r = import_csv(&c, buf, len);
	else
		r = import_lines(&c, buf, len, fmt, algorithm);
	if (r < 0)
		rollback(s, &m);
	return r;
}

int import_file(struct import_set *s, const char *path, enum import_format fmt,
		enum hw_model_id algorithm, const struct import_defaults *defaults,
		char *err, size_t errlen)
{
	void *buf = NULL;
	size_t len = 0;
	int r;

	if (strcmp(path, "-") == 0)
		r = hw_read_fd(STDIN_FILENO, IMPORT_MAX_FILE, &buf, &len);
	else
		r = hw_read_file(path, IMPORT_MAX_FILE, &buf, &len);
	if (r < 0) {
		snprintf(err, errlen, "%s: %s", path,
			 r == -EFBIG ? "larger than 4 GiB; split the list" : strerror(-r));
		return r;
	}
	r = import_buffer(s, strcmp(path, "-") == 0 ? "(stdin)" : path, buf, len, fmt,
			  algorithm, defaults, err, errlen);
	free(buf);
	return r;
}
