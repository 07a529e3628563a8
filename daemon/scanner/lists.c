/* lists.c - trusted keys and the active list set (see lists.h). */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <sodium.h>

#include "fileio.h"
#include "lists.h"

#define PUBKEY_FILE_MAX 4096

static int decode_key_token(const char *tok, size_t len, uint8_t out[32])
{
	uint8_t buf[64];
	size_t bin_len = 0;
	const char *end = NULL;

	if (len == 64 && sodium_hex2bin(buf, sizeof(buf), tok, len, NULL, &bin_len, &end) == 0 &&
	    bin_len == 32 && end == tok + len) {
		memcpy(out, buf, 32);
		return 0;
	}
	static const int variants[] = { sodium_base64_VARIANT_ORIGINAL,
					sodium_base64_VARIANT_ORIGINAL_NO_PADDING,
					sodium_base64_VARIANT_URLSAFE,
					sodium_base64_VARIANT_URLSAFE_NO_PADDING };
	for (size_t v = 0; v < sizeof(variants) / sizeof(variants[0]); v++) {
		if (sodium_base642bin(buf, sizeof(buf), tok, len, NULL, &bin_len, &end,
				      variants[v]) == 0 &&
		    bin_len == 32 && end == tok + len) {
			memcpy(out, buf, 32);
			return 0;
		}
	}
	return -EBADMSG;
}

int lists_read_pubkey(const char *path, uint8_t out[32])
{
	char *buf = NULL;
	size_t len;
	int r = hw_read_file(path, PUBKEY_FILE_MAX, (void **)&buf, &len);

	if (r < 0)
		return r;
	r = -EBADMSG;
	for (char *line = buf; line && *line;) {
		char *next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		while (isspace((unsigned char)*line))
			line++;
		if (*line == '#') {
			line = next;
			continue;
		}
		for (char *t = line; *t;) {
			size_t tl = strcspn(t, " \t\r");
			if (tl && decode_key_token(t, tl, out) == 0) {
				r = 0;
				goto out;
			}
			t += tl;
			t += strspn(t, " \t\r");
		}
		line = next;
	}
out:
	free(buf);
	return r;
}

static int name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Sorted names in dir ending in suffix.  Returns the count or -errno. */
static int list_dir(const char *dir, const char *suffix, size_t max, char ***ret)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	char **v = NULL;
	size_t n = 0, sl = strlen(suffix);
	int r = 0;

	if (!d)
		return -errno;
	while ((de = readdir(d))) {
		size_t l = strlen(de->d_name);
		if (l <= sl || strcmp(de->d_name + l - sl, suffix) != 0 || de->d_name[0] == '.')
			continue;
		if (n == max) {
			r = -E2BIG;
			break;
		}
		char **nv = realloc(v, (n + 1) * sizeof(*v));
		if (!nv || !(nv[n] = strdup(de->d_name))) {
			v = nv ? nv : v;
			r = -ENOMEM;
			break;
		}
		v = nv;
		n++;
	}
	closedir(d);
	if (r < 0) {
		for (size_t i = 0; i < n; i++)
			free(v[i]);
		free(v);
		return r;
	}
	if (n)
		qsort(v, n, sizeof(*v), name_cmp);
	*ret = v;
	return (int)n;
}

static void free_names(char **v, int n)
{
	for (int i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

int lists_load_keys(const char *dir, uint8_t (**ret)[32], char *err, size_t errlen)
{
	uint8_t (*keys)[32] = NULL;
	char **names = NULL, path[PATH_MAX];
	int n, r, nk = 0;

	n = list_dir(dir, ".pub", LISTS_MAX_KEYS, &names);
	if (n < 0) {
		snprintf(err, errlen, "cannot read the trusted keys folder %s: %s", dir,
			 n == -E2BIG ? "more than 64 keys" : strerror(-n));
		return n;
	}
	if (n == 0) {
		snprintf(err, errlen, "no trusted list signing key (*.pub) in %s; copy the "
			 "district's public key there (hashwatch db keygen writes one)", dir);
		free_names(names, n);
		return -ENOENT;
	}
	keys = calloc((size_t)n, sizeof(*keys));
	if (!keys) {
		free_names(names, n);
		return -ENOMEM;
	}
	for (int i = 0; i < n; i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		r = lists_read_pubkey(path, keys[nk]);
		if (r < 0) {
			snprintf(err, errlen, "trusted key %s: %s", path,
				 r == -EBADMSG ? "no Ed25519 public key in it" : strerror(-r));
			free(keys);
			free_names(names, n);
			return r;
		}
		nk++;
	}
	free_names(names, n);
	*ret = keys;
	return nk;
}

static void slot_free(struct list_slot *s)
{
	hwdb_close(s->db);
	free(s->path);
	memset(s, 0, sizeof(*s));
}

void lists_free(struct list_set *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->n; i++)
		slot_free(&s->v[i]);
	free(s->v);
	free(s->keys);
	memset(s, 0, sizeof(*s));
}

static struct list_slot *find_slot(struct list_set *s, const char *path)
{
	for (size_t i = 0; s && i < s->n; i++)
		if (s->v[i].db && strcmp(s->v[i].path, path) == 0)
			return &s->v[i];
	return NULL;
}

static bool same_file(const struct list_slot *s, const struct stat *st)
{
	return s->dev == (uint64_t)st->st_dev && s->ino == (uint64_t)st->st_ino &&
	       s->size == (uint64_t)st->st_size &&
	       s->mtime_ns == (int64_t)st->st_mtim.tv_sec * 1000000000 + st->st_mtim.tv_nsec;
}

static void set_identity(struct list_slot *s, const struct stat *st)
{
	uint8_t d[HWDB_DIGEST_BYTES];
	s->dev = (uint64_t)st->st_dev;
	s->ino = (uint64_t)st->st_ino;
	s->size = (uint64_t)st->st_size;
	s->mtime_ns = (int64_t)st->st_mtim.tv_sec * 1000000000 + st->st_mtim.tv_nsec;
	hwdb_digest(s->db, d);
	sodium_bin2hex(s->digest_hex, sizeof(s->digest_hex), d, sizeof(d));
}

static uint32_t models_of(const struct hwdb *db)
{
	uint32_t m = 0;
	for (int id = 1; id < HW_MODEL__MAX; id++)
		if (hwdb_model_count(db, (enum hw_model_id)id) > 0)
			m |= 1u << id;
	return m;
}

/* Use old's slot k for path in the new set (sharing its db until the
 * outcome is known: lists_load() then hands it over or gives it back). */
static int borrow(struct list_set *s, size_t *from, struct list_set *old,
		  struct list_slot *prev, const char *path)
{
	struct list_slot *slot = &s->v[s->n];
	*slot = *prev;
	slot->path = strdup(path);
	if (!slot->path) {
		slot->db = NULL;
		return -ENOMEM;
	}
	from[s->n++] = (size_t)(prev - old->v) + 1;
	return 0;
}

int lists_load(const struct config *cfg, struct list_set *old, struct list_set *ret,
	       lists_report_fn report, void *ud, char *err, size_t errlen)
{
	struct list_set s = { 0 };
	char **names = NULL, path[PATH_MAX], why[256];
	size_t *from = NULL; /* new slot -> 1 + old slot it shares, or 0 */
	bool trust_same;
	int n = 0, r;

	r = lists_load_keys(cfg->trusted_keys, &s.keys, err, errlen);
	if (r < 0)
		return r;
	s.nkeys = (size_t)r;
	s.min_signers = cfg->min_signers;
	trust_same = old && old->keys && old->nkeys == s.nkeys &&
		     old->min_signers == s.min_signers &&
		     memcmp(old->keys, s.keys, s.nkeys * 32) == 0;
	n = list_dir(cfg->lists_dir, ".hwdb", LISTS_MAX, &names);
	if (n < 0) {
		snprintf(err, errlen, "cannot read the list folder %s: %s", cfg->lists_dir,
			 n == -E2BIG ? "more than 64 lists" : strerror(-n));
		r = n;
		n = 0;
		goto fail;
	}
	s.v = calloc((size_t)n + 1, sizeof(*s.v));
	from = calloc((size_t)n + 1, sizeof(*from));
	if (!s.v || !from) {
		r = -ENOMEM;
		goto fail;
	}
	struct hwdb_trust trust = {
		.keys = (const uint8_t(*)[32])s.keys, .nkeys = s.nkeys,
		.min_signers = cfg->min_signers, .state_dir = cfg->state_dir,
		.allow_unsigned = false,
	};
	for (int i = 0; i < n; i++) {
		struct list_slot *slot = &s.v[s.n], *prev;
		struct list_report rep = { .path = path };
		struct stat st;

		snprintf(path, sizeof(path), "%s/%s", cfg->lists_dir, names[i]);
		prev = find_slot(old, path);
		if (stat(path, &st) == 0 && prev && trust_same && same_file(prev, &st)) {
			r = borrow(&s, from, old, prev, path);
			if (r < 0)
				goto fail;
			rep.outcome = LIST_KEPT;
			rep.db = prev->db;
			report(ud, &rep);
			continue;
		}
		why[0] = '\0';
		r = hwdb_open(path, &trust, &slot->db, why, sizeof(why));
		if (r == 0 && stat(path, &st) == 0) {
			slot->path = strdup(path);
			if (!slot->path) {
				hwdb_close(slot->db);
				slot->db = NULL;
				r = -ENOMEM;
				goto fail;
			}
			set_identity(slot, &st);
			s.n++;
			rep.outcome = LIST_LOADED;
			rep.db = slot->db;
			report(ud, &rep);
			continue;
		}
		if (r == 0) { /* vanished between open and stat: take it next time */
			hwdb_close(slot->db);
			slot->db = NULL;
			r = -ENOENT;
			snprintf(why, sizeof(why), "the file vanished while it was opened");
		}
		rep.outcome = LIST_REFUSED;
		rep.error = r;
		rep.reason = why[0] ? why : strerror(-r);
		/* A bad new version must not take the good old one down with it,
		 * unless the trust changed: then the old one is no longer good. */
		if (prev && trust_same) {
			r = borrow(&s, from, old, prev, path);
			if (r < 0)
				goto fail;
			rep.db = prev->db;
		}
		report(ud, &rep);
	}
	if (s.n == 0) {
		snprintf(err, errlen, "no usable hash list in %s (%s)", cfg->lists_dir,
			 n == 0 ? "the folder holds no *.hwdb file"
				: "every list was refused, see above");
		r = -ENOENT;
		goto fail;
	}
	for (size_t i = 0; i < s.n; i++)
		s.models |= models_of(s.v[i].db);
	/* Hand the shared lists over; what stays in `old` is gone from the
	 * folder (or its trust changed) and is closed. */
	for (size_t i = 0; i < s.n; i++)
		if (from[i])
			old->v[from[i] - 1].db = NULL;
	for (size_t i = 0; old && i < old->n; i++) {
		if (!old->v[i].db)
			continue;
		struct list_report rep = { .outcome = LIST_REMOVED, .path = old->v[i].path,
					   .db = old->v[i].db };
		report(ud, &rep);
	}
	if (old)
		lists_free(old);
	free(from);
	free_names(names, n);
	*ret = s;
	return 0;
fail:
	/* Give the shared lists back: `old` stays whole and usable. */
	for (size_t i = 0; from && i < s.n; i++)
		if (from[i])
			s.v[i].db = NULL;
	free(from);
	free_names(names, n);
	lists_free(&s);
	return r;
}

void lists_accept(const struct config *cfg, const struct list_set *s)
{
	struct hwdb_trust trust = {
		.keys = (const uint8_t(*)[32])s->keys, .nkeys = s->nkeys,
		.min_signers = cfg->min_signers, .state_dir = cfg->state_dir,
	};
	for (size_t i = 0; i < s->n; i++)
		hwdb_accept_version(s->v[i].db, &trust);
}

void lists_tag(const struct list_set *s, const struct config *cfg,
	       uint8_t out[LISTS_TAG_BYTES])
{
	crypto_generichash_state st;
	uint64_t v[12];

	crypto_generichash_init(&st, NULL, 0, LISTS_TAG_BYTES);
	for (size_t i = 0; i < s->n; i++) {
		const char *id = hwdb_list_id(s->v[i].db);
		uint64_t ver = hwdb_version(s->v[i].db);
		crypto_generichash_update(&st, (const unsigned char *)id, strlen(id) + 1);
		crypto_generichash_update(&st, (const unsigned char *)&ver, sizeof(ver));
		crypto_generichash_update(&st, (const unsigned char *)s->v[i].digest_hex,
					  sizeof(s->v[i].digest_hex));
	}
	/* everything that can turn the same bytes into a different result */
	v[0] = cfg->pdq_max_distance;
	v[1] = cfg->pdq_min_quality;
	v[2] = cfg->phash_max_distance;
	v[3] = cfg->dhash_max_distance;
	v[4] = cfg->ahash_max_distance;
	v[5] = cfg->dihedral;
	v[6] = cfg->max_file_size;
	v[7] = cfg->max_pixels;
	v[8] = s->models;
	v[9] = 1; /* bump when the daemon's own matching rules change */
	v[10] = 0;
	v[11] = 0;
	crypto_generichash_update(&st, (const unsigned char *)v, sizeof(v));
	crypto_generichash_final(&st, out, LISTS_TAG_BYTES);
}
