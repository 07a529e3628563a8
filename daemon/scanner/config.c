/* config.c - table-driven INI parsing and validation.
 *
 * One table row per key says where the value goes, its type and its range;
 * the inih callback only looks rows up, so adding a key is adding a row
 * (and a paragraph in hashwatch.conf(5)).  The first error wins and is
 * reported with the section, key and what was expected.
 */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ini.h>
#include <sodium.h>

#include "config.h"
#include "confval.h"
#include "fileio.h"

enum ktype {
	K_PATH,  /* absolute path */
	K_ID,    /* device id: printable ASCII without spaces */
	K_UINT,  /* unsigned in [min, max] */
	K_SIZE,  /* bytes with K/M/G suffix */
	K_COUNT, /* count with k/M/G decimal suffix */
	K_BOOL,
	K_GLOBS, /* space-separated absolute patterns, may repeat */
	K_PATTERNS, /* space-separated fnmatch patterns, may repeat */
};

struct key {
	const char *section;
	const char *name;
	enum ktype type;
	size_t off;
	size_t noff; /* K_GLOBS, K_PATTERNS: where the count goes */
	uint64_t min, max;
	const char *def; /* default as it would be written; NULL = required */
};

#define O(f) offsetof(struct config, f)
static const struct key keys[] = {
	{ "scan", "watch", K_GLOBS, O(watch), O(nwatch), 0, 0, NULL },
	{ "scan", "exclude", K_PATTERNS, O(exclude), O(nexclude), 0, 0, "" },
	{ "scan", "settle_ms", K_UINT, O(settle_ms), 0, 0, 10000, "100" },
	{ "scan", "rescan_interval", K_UINT, O(rescan_interval_s), 0, 10, 86400, "600" },
	{ "scan", "max_depth", K_UINT, O(max_depth), 0, 1, 1000, "64" },
	{ "lists", "dir", K_PATH, O(lists_dir), 0, 0, 0, HW_LOCALSTATEDIR "/hashwatch/lists" },
	{ "lists", "trusted_keys", K_PATH, O(trusted_keys), 0, 0, 0, HW_SYSCONFDIR "/hashwatch/keys" },
	{ "lists", "min_signers", K_UINT, O(min_signers), 0, 1, 8, "1" },
	{ "policy", "pdq_max_distance", K_UINT, O(pdq_max_distance), 0, 0, 128, "31" },
	{ "policy", "pdq_min_quality", K_UINT, O(pdq_min_quality), 0, 0, 100, "50" },
	{ "policy", "phash_max_distance", K_UINT, O(phash_max_distance), 0, 0, 32, "8" },
	{ "policy", "dhash_max_distance", K_UINT, O(dhash_max_distance), 0, 0, 32, "8" },
	{ "policy", "ahash_max_distance", K_UINT, O(ahash_max_distance), 0, 0, 32, "8" },
	{ "policy", "dihedral", K_BOOL, O(dihedral), 0, 0, 0, "yes" },
	{ "policy", "trim", K_BOOL, O(trim), 0, 0, 0, "yes" },
	{ "policy", "min_matches", K_UINT, O(min_matches), 0, 1, 1000, "1" },
	{ "policy", "report_path", K_BOOL, O(report_path), 0, 0, 0, "no" },
	{ "limits", "max_file_size", K_SIZE, O(max_file_size), 0, 1024, 4ull << 30, "64M" },
	{ "limits", "max_pixels", K_COUNT, O(max_pixels), 0, 1000, 1000000000, "100M" },
	{ "limits", "queue_length", K_UINT, O(queue_length), 0, 16, 1000000, "4096" },
	{ "limits", "workers", K_UINT, O(workers), 0, 1, 64, "2" },
	{ "limits", "decode_timeout_ms", K_UINT, O(decode_timeout_ms), 0, 100, 600000, "10000" },
	{ "limits", "cpu_budget", K_UINT, O(cpu_budget), 0, 1, 100, "100" },
	{ "limits", "cache_entries", K_UINT, O(cache_entries), 0, 1000, 100000000, "1000000" },
	{ "limits", "worker_memory", K_SIZE, O(worker_memory), 0, 128ull << 20, 64ull << 30, "1G" },
	{ "limits", "worker_files", K_UINT, O(worker_files), 0, 1, 10000000, "1000" },
	{ "state", "dir", K_PATH, O(state_dir), 0, 0, 0, HW_LOCALSTATEDIR "/hashwatch" },
	{ "device", "id", K_ID, O(device_id), 0, 0, 0, NULL },
};
#undef O
#define NKEYS (sizeof(keys) / sizeof(keys[0]))
#define CATEGORY_PREFIX "min_matches."

struct parse_state {
	struct config *c;
	bool seen[NKEYS];
	struct confval_error e;
};

/* Split on blanks; "double quotes" keep spaces inside one pattern.
 * Appends to *v / *n.  Returns 0, -EINVAL (unbalanced quote), -E2BIG or
 * -ENOMEM. */
static int split_patterns(const char *s, char ***v, size_t *n)
{
	while (*s) {
		const char *start, *end;
		char **nv, *tok;

		while (*s == ' ' || *s == '\t')
			s++;
		if (!*s)
			break;
		if (*s == '"') {
			start = ++s;
			end = strchr(s, '"');
			if (!end)
				return -EINVAL;
			s = end + 1;
		} else {
			start = s;
			while (*s && *s != ' ' && *s != '\t')
				s++;
			end = s;
		}
		if (end == start)
			continue;
		if (*n >= CONFIG_MAX_GLOBS)
			return -E2BIG;
		tok = strndup(start, (size_t)(end - start));
		if (!tok)
			return -ENOMEM;
		nv = realloc(*v, (*n + 1) * sizeof(**v));
		if (!nv) {
			free(tok);
			return -ENOMEM;
		}
		*v = nv;
		(*v)[(*n)++] = tok;
	}
	return 0;
}

static int set_category(struct parse_state *ps, const char *cat, const char *value)
{
	struct config *c = ps->c;
	struct config_category *nc;
	unsigned long long v;
	char *end;

	if (!*cat || strlen(cat) > 64) {
		confval_fail(&ps->e, "[policy] %s%s: a category name (1 to 64 characters) must follow '%s'",
		     CATEGORY_PREFIX, cat, CATEGORY_PREFIX);
		return -EINVAL;
	}
	for (size_t i = 0; i < c->ncategories; i++)
		if (strcmp(c->categories[i].name, cat) == 0) {
			confval_fail(&ps->e, "[policy] %s%s is set twice", CATEGORY_PREFIX, cat);
			return -EINVAL;
		}
	errno = 0;
	v = strtoull(value, &end, 10);
	if (!isdigit((unsigned char)*value) || *end || errno || v < 1 || v > 1000) {
		confval_fail(&ps->e, "[policy] %s%s = '%s': expected a whole number from 1 to 1000",
		     CATEGORY_PREFIX, cat, value);
		return -EINVAL;
	}
	if (c->ncategories >= CONFIG_MAX_CATEGORIES) {
		confval_fail(&ps->e, "[policy] too many %sCATEGORY keys (at most %d)", CATEGORY_PREFIX,
		     CONFIG_MAX_CATEGORIES);
		return -E2BIG;
	}
	nc = realloc(c->categories, (c->ncategories + 1) * sizeof(*nc));
	if (!nc)
		return -ENOMEM;
	c->categories = nc;
	nc[c->ncategories].name = strdup(cat);
	if (!nc[c->ncategories].name)
		return -ENOMEM;
	nc[c->ncategories].min_matches = (unsigned)v;
	c->ncategories++;
	return 0;
}

/* Store one value according to its row.  Returns 0 or -EINVAL (message
 * already set) / -ENOMEM. */
static int set_value(struct parse_state *ps, const struct key *k, const char *value)
{
	void *field = (char *)ps->c + k->off;
	uint64_t v = 0;
	int r = 0;

	switch (k->type) {
	case K_PATH:
		if (value[0] != '/') {
			confval_fail(&ps->e, "[%s] %s = '%s': expected an absolute path (starting with /)",
			     k->section, k->name, value);
			return -EINVAL;
		}
		break;
	case K_ID:
		if (!confval_device_id(value)) {
			confval_fail(&ps->e, "[%s] %s = '%s': expected 1 to %d characters among "
				 "letters, digits and . _ : - (an asset tag, not a person's name)",
			     k->section, k->name, value, CONFVAL_ID_MAX);
			return -EINVAL;
		}
		break;
	case K_UINT:
	case K_SIZE:
	case K_COUNT: {
		char *end = NULL;
		if (k->type == K_SIZE)
			r = confval_size(value, &v);
		else if (k->type == K_COUNT)
			r = confval_count(value, &v);
		else {
			errno = 0;
			v = strtoull(value, &end, 10);
			r = (!isdigit((unsigned char)*value) || *end || errno) ? -EINVAL : 0;
		}
		if (r < 0 || v < k->min || v > k->max) {
			confval_fail(&ps->e, "[%s] %s = '%s': expected %s from %" PRIu64 " to %" PRIu64 "%s",
			     k->section, k->name, value,
			     k->type == K_SIZE ? "a size in bytes" : "a whole number",
			     k->min, k->max,
			     k->type == K_SIZE ? " (suffixes K, M, G allowed)" :
			     k->type == K_COUNT ? " (suffixes k, M, G allowed)" : "");
			return -EINVAL;
		}
		if (k->type == K_UINT)
			*(unsigned *)field = (unsigned)v;
		else
			*(uint64_t *)field = v;
		return 0;
	}
	case K_BOOL:
		if (confval_bool(value, (bool *)field) < 0) {
			confval_fail(&ps->e, "[%s] %s = '%s': expected yes or no", k->section, k->name, value);
			return -EINVAL;
		}
		return 0;
	case K_GLOBS:
	case K_PATTERNS: {
		char ***v_ = (char ***)field;
		size_t *n_ = (size_t *)(void *)((char *)ps->c + k->noff);
		size_t before = *n_;
		r = split_patterns(value, v_, n_);
		if (r == -EINVAL)
			confval_fail(&ps->e, "[%s] %s: unbalanced double quote in '%s'", k->section, k->name, value);
		else if (r == -E2BIG)
			confval_fail(&ps->e, "[%s] %s: more than %d patterns", k->section, k->name,
			     CONFIG_MAX_GLOBS);
		if (r < 0)
			return r;
		for (size_t i = before; k->type == K_GLOBS && i < *n_; i++)
			if ((*v_)[i][0] != '/') {
				confval_fail(&ps->e, "[%s] %s: '%s' is not an absolute path pattern "
					 "(write e.g. /home/*/Pictures)", k->section, k->name, (*v_)[i]);
				return -EINVAL;
			}
		return 0;
	}
	}
	/* string types */
	char **s = (char **)field;
	free(*s);
	*s = strdup(value);
	return *s ? 0 : -ENOMEM;
}

static int on_key(void *user, const char *section, const char *name, const char *value)
{
	struct parse_state *ps = user;
	size_t plen = strlen(CATEGORY_PREFIX);

	if (ps->e.failed)
		return 1;
	if (strcmp(section, "policy") == 0 && strncmp(name, CATEGORY_PREFIX, plen) == 0) {
		int r = set_category(ps, name + plen, value);
		if (r < 0 && !ps->e.failed)
			confval_fail(&ps->e, "%s", strerror(-r));
		return 1;
	}
	for (size_t i = 0; i < NKEYS; i++) {
		const struct key *k = &keys[i];
		if (strcmp(section, k->section) != 0 || strcmp(name, k->name) != 0)
			continue;
		if (ps->seen[i] && k->type != K_GLOBS && k->type != K_PATTERNS) {
			confval_fail(&ps->e, "[%s] %s is set twice (or continued on an indented line); "
				 "keep one", section, name);
			return 1;
		}
		ps->seen[i] = true;
		int r = set_value(ps, k, value);
		if (r < 0 && !ps->e.failed)
			confval_fail(&ps->e, "[%s] %s: %s", section, name, strerror(-r));
		return 1;
	}
	/* The file is shared with hashwatch-uplink, which reads and checks
	 * [uplink] itself (hashwatch-uplink --check-config); the scanner has
	 * no use for it and must not refuse a file that has it. */
	if (strcmp(section, "uplink") == 0)
		return 1;
	bool known_section = false;
	for (size_t i = 0; i < NKEYS; i++)
		if (strcmp(section, keys[i].section) == 0)
			known_section = true;
	if (!known_section)
		confval_fail(&ps->e, "unknown section [%s] (key '%s'); known sections are [scan], "
			 "[lists], [policy], [limits], [state] and [device] ([uplink] is "
			 "hashwatch-uplink's)",
		     section, name);
	else
		confval_fail(&ps->e, "unknown key '%s' in [%s]; see hashwatch.conf(5) for the keys",
		     name, section);
	return 1;
}

void config_free(struct config *c)
{
	if (!c)
		return;
	free(c->path);
	for (size_t i = 0; i < c->nwatch; i++)
		free(c->watch[i]);
	free(c->watch);
	for (size_t i = 0; i < c->nexclude; i++)
		free(c->exclude[i]);
	free(c->exclude);
	for (size_t i = 0; i < c->ncategories; i++)
		free(c->categories[i].name);
	free(c->categories);
	free(c->lists_dir);
	free(c->trusted_keys);
	free(c->state_dir);
	free(c->device_id);
	free(c);
}

/* Lines longer than this are a mistake, not a configuration. */
#define CONFIG_MAX_LINE 16384

int config_parse(const char *text, const char *name, struct config **ret,
		 char *err, size_t errlen)
{
	struct parse_state ps = { .e = { .name = name, .buf = err, .len = errlen } };
	struct config *c = calloc(1, sizeof(*c));
	int r, line;

	if (err && errlen)
		err[0] = '\0';
	if (!c)
		return -ENOMEM;
	ps.c = c;
	/* Debian's libinih lets these be set at run time: lines up to 16 KiB
	 * (long watch lists) instead of 200 characters. */
	ini_use_stack = false;
	ini_allow_realloc = true;
	ini_max_line = CONFIG_MAX_LINE;

	const char *p = text;
	for (line = 1; *p; line++) {
		const char *nl = strchr(p, '\n');
		size_t len = nl ? (size_t)(nl - p) : strlen(p);
		if (len + 3 > CONFIG_MAX_LINE) {
			confval_fail(&ps.e, "line %d is longer than %d characters; continue a long "
				  "watch list on indented lines", line, CONFIG_MAX_LINE - 3);
			r = -EINVAL;
			goto out;
		}
		p += len + (nl ? 1 : 0);
	}
	line = ini_parse_string(text, on_key, &ps);
	if (ps.e.failed) {
		r = -EINVAL;
		goto out;
	}
	if (line == -2) {
		r = -ENOMEM;
		goto out;
	}
	if (line != 0) {
		confval_fail(&ps.e, "line %d: not 'key = value', '[section]' or a comment", line);
		r = -EINVAL;
		goto out;
	}
	for (size_t i = 0; i < NKEYS; i++) {
		if (ps.seen[i])
			continue;
		if (!keys[i].def) {
			confval_fail(&ps.e, "[%s] %s is required (see hashwatch.conf(5))",
			     keys[i].section, keys[i].name);
			r = -EINVAL;
			goto out;
		}
		r = set_value(&ps, &keys[i], keys[i].def);
		if (r < 0)
			goto out;
	}
	if (c->nwatch == 0) {
		confval_fail(&ps.e, "[scan] watch lists no folder; give at least one pattern such "
			  "as /home/*/Pictures");
		r = -EINVAL;
		goto out;
	}
	c->path = strdup(name);
	if (!c->path) {
		r = -ENOMEM;
		goto out;
	}
	crypto_hash_sha256(c->digest, (const unsigned char *)text, strlen(text));
	sodium_bin2hex(c->digest_hex, sizeof(c->digest_hex), c->digest, sizeof(c->digest));
	*ret = c;
	c = NULL;
	r = 0;
out:
	if (r < 0 && !ps.e.failed)
		confval_fail(&ps.e, "%s", strerror(-r));
	config_free(c);
	return r;
}

int config_load(const char *path, struct config **ret, char *err, size_t errlen)
{
	void *buf = NULL;
	size_t len;
	int r;

	r = hw_read_file(path, CONFIG_MAX_BYTES, &buf, &len);
	if (r < 0) {
		snprintf(err, errlen, "%s: cannot read the configuration: %s%s", path,
			 r == -EFBIG ? "larger than 1 MiB" : strerror(-r),
			 r == -ENOENT ? " (give another file with --config FILE)" : "");
		return r;
	}
	if (memchr(buf, '\0', len)) {
		snprintf(err, errlen, "%s: contains a NUL byte; not a text file", path);
		free(buf);
		return -EINVAL;
	}
	r = config_parse(buf, path, ret, err, errlen);
	free(buf);
	return r;
}

unsigned config_min_matches(const struct config *c, const char *category)
{
	for (size_t i = 0; category && i < c->ncategories; i++)
		if (strcmp(c->categories[i].name, category) == 0)
			return c->categories[i].min_matches;
	return c->min_matches;
}
