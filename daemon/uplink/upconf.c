/* upconf.c - parse and check the uplink's part of hashwatch.conf.  One
 * table names every key, its type, bounds and default, so that parsing,
 * defaults and messages cannot drift apart. */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>
#include <ini.h>
#include <sodium.h>

#include "confval.h"
#include "fileio.h"
#include "upconf.h"

enum ktype {
	K_URL,  /* https URL, checked with libcurl's URL parser */
	K_PATH, /* absolute path */
	K_PIN,  /* sha256//BASE64[;sha256//BASE64...] */
	K_UINT, /* unsigned in [min, max] */
	K_SIZE, /* bytes (confval_size(): K, M, G suffixes), in [min, max] */
	K_ID,   /* device id: confval_device_id() */
};

struct key {
	const char *section;
	const char *name;
	enum ktype type;
	size_t off;
	uint64_t min, max;
	const char *def; /* default as it would be written; NULL: none */
	bool required;
};

#define O(f) offsetof(struct upconf, f)
static const struct key keys[] = {
	{ "uplink", "url", K_URL, O(url), 0, 0, NULL, true },
	{ "uplink", "ca_file", K_PATH, O(ca_file), 0, 0, NULL, false },
	{ "uplink", "pin", K_PIN, O(pin), 0, 0, NULL, false },
	{ "uplink", "timeout", K_UINT, O(timeout_s), 1, 120, "30", false },
	{ "uplink", "retry_min", K_UINT, O(retry_min_s), 1, 3600, "5", false },
	{ "uplink", "retry_max", K_UINT, O(retry_max_s), 1, 86400, "600", false },
	{ "uplink", "batch", K_UINT, O(batch), 1, 10000, "100", false },
	{ "uplink", "max_file_size", K_SIZE, O(max_file_size), 1024, 16u << 20, "64K", false },
	{ "uplink", "state_dir", K_PATH, O(uplink_state_dir), 0, 0,
	  HW_LOCALSTATEDIR "/hashwatch-uplink", false },
	{ "state", "dir", K_PATH, O(state_dir), 0, 0, HW_LOCALSTATEDIR "/hashwatch", false },
	{ "device", "id", K_ID, O(device_id), 0, 0, NULL, false },
};
#undef O
#define NKEYS (sizeof(keys) / sizeof(keys[0]))

struct parse_state {
	struct upconf *c;
	bool seen[NKEYS];
	struct confval_error e;
};

/* Check an https URL with libcurl's own parser (the one that will use it)
 * and return it without a trailing '/'.  Credentials, a query or a
 * fragment are refused: paths are appended to the URL, and anything in it
 * ends up in logs. */
static int check_url(const char *v, char **ret, const char **why)
{
	CURLU *u = curl_url();
	char *scheme = NULL, *host = NULL, *user = NULL, *query = NULL, *frag = NULL;
	size_t n = strlen(v);
	int r = -EINVAL;

	*why = "not a URL";
	if (!u)
		return -ENOMEM;
	if (n == 0 || n > UPCONF_URL_MAX ||
	    curl_url_set(u, CURLUPART_URL, v, CURLU_NON_SUPPORT_SCHEME) != CURLUE_OK)
		goto out;
	for (size_t i = 0; i < n; i++)
		if (isspace((unsigned char)v[i]) || iscntrl((unsigned char)v[i]))
			goto out;
	curl_url_get(u, CURLUPART_SCHEME, &scheme, 0);
	curl_url_get(u, CURLUPART_HOST, &host, 0);
	curl_url_get(u, CURLUPART_USER, &user, 0);
	curl_url_get(u, CURLUPART_QUERY, &query, 0);
	curl_url_get(u, CURLUPART_FRAGMENT, &frag, 0);
	if (!scheme || strcmp(scheme, "https") != 0) {
		*why = "must start with https:// (TLS is required)";
		goto out;
	}
	if (!host || !*host) {
		*why = "has no host";
		goto out;
	}
	if (user || query || frag) {
		*why = "must not contain a user name, a query (?...) or a fragment (#...)";
		goto out;
	}
	while (n > strlen("https://") && v[n - 1] == '/')
		n--;
	*ret = strndup(v, n);
	r = *ret ? 0 : -ENOMEM;
out:
	curl_free(scheme);
	curl_free(host);
	curl_free(user);
	curl_free(query);
	curl_free(frag);
	curl_url_cleanup(u);
	return r;
}

/* "sha256//" followed by the base64 of 32 bytes; several joined by ';', as
 * CURLOPT_PINNEDPUBLICKEY takes them. */
static bool check_pin(const char *v)
{
	static const char prefix[] = "sha256//";
	const size_t plen = sizeof(prefix) - 1;
	const char *p = v;

	do {
		const char *end = strchr(p, ';');
		size_t len = end ? (size_t)(end - p) : strlen(p);
		uint8_t digest[crypto_hash_sha256_BYTES];
		size_t dlen = 0;

		if (len <= plen || strncmp(p, prefix, plen) != 0 ||
		    sodium_base642bin(digest, sizeof(digest), p + plen, len - plen, NULL,
				      &dlen, NULL, sodium_base64_VARIANT_ORIGINAL) != 0 ||
		    dlen != sizeof(digest))
			return false;
		p = end ? end + 1 : NULL;
	} while (p);
	return true;
}

/* A whole number, or with K_SIZE a size in confval_size()'s syntax. */
static int parse_uint(const char *v, bool size, uint64_t *ret)
{
	if (!size && strspn(v, "0123456789") != strlen(v))
		return -EINVAL;
	return size ? confval_size(v, ret) : confval_count(v, ret);
}

static void set_value(struct parse_state *ps, const struct key *k, const char *value)
{
	void *field = (char *)ps->c + k->off;
	char **str = field;
	const char *why = NULL;
	uint64_t n = 0;
	int r;

	switch (k->type) {
	case K_URL: {
		char *url = NULL;
		r = check_url(value, &url, &why);
		if (r == 0) {
			free(*str);
			*str = url;
		} else if (r == -ENOMEM)
			confval_fail(&ps->e, "out of memory");
		else if (r < 0)
			confval_fail(&ps->e, "[%s] %s = '%s': %s; write e.g. https://alerts.district.example",
			     k->section, k->name, value, why);
		return;
	}
	case K_UINT:
	case K_SIZE:
		r = parse_uint(value, k->type == K_SIZE, &n);
		if (r < 0 || n < k->min || n > k->max)
			confval_fail(&ps->e, "[%s] %s = '%s': expected %s from %llu to %llu", k->section,
			     k->name, value,
			     k->type == K_SIZE ? "a size in bytes (suffix K, M or G allowed)"
					       : "a whole number",
			     (unsigned long long)k->min, (unsigned long long)k->max);
		else if (k->type == K_SIZE)
			*(uint64_t *)field = n;
		else
			*(unsigned *)field = (unsigned)n;
		return;
	case K_PATH:
		why = value[0] == '/' ? NULL : "expected an absolute path";
		break;
	case K_PIN:
		why = check_pin(value) ? NULL
				       : "expected sha256// and the base64 of the SHA-256 of the "
					 "receiver's public key (several joined by ';'); "
					 "hashwatch-uplink(8) shows how to compute it";
		break;
	case K_ID:
		why = confval_device_id(value) ? NULL
				      : "expected 1 to 64 letters, digits or ._:- (the asset "
					"tag the receiver enrolled)";
		break;
	}
	if (why) {
		confval_fail(&ps->e, "[%s] %s = '%s': %s", k->section, k->name, value, why);
		return;
	}
	free(*str);
	*str = strdup(value);
	if (!*str)
		confval_fail(&ps->e, "out of memory");
}

static int on_key(void *user, const char *section, const char *name, const char *value)
{
	struct parse_state *ps = user;
	bool our_section = false;

	for (size_t i = 0; i < NKEYS; i++) {
		if (strcmp(section, keys[i].section) != 0)
			continue;
		our_section = true;
		if (strcmp(name, keys[i].name) != 0)
			continue;
		if (ps->seen[i])
			confval_fail(&ps->e, "[%s] %s is given twice; keep one", section, name);
		ps->seen[i] = true;
		set_value(ps, &keys[i], value);
		return 1;
	}
	/* The scanner's sections belong to the scanner, which checks them. */
	if (our_section)
		confval_fail(&ps->e, "unknown key '%s' in [%s]; hashwatch-uplink(8) lists the keys", name,
		     section);
	return 1;
}

int upconf_parse(const char *text, const char *name, struct upconf **ret, char *err,
		 size_t errlen)
{
	struct parse_state ps = { .e = { .name = name, .buf = err, .len = errlen } };
	int line, r = -EINVAL;

	ps.c = calloc(1, sizeof(*ps.c));
	if (!ps.c)
		return -ENOMEM;
	ps.c->path = strdup(name);
	if (!ps.c->path) {
		r = -ENOMEM;
		goto out;
	}
	line = ini_parse_string(text, on_key, &ps);
	if (line > 0)
		confval_fail(&ps.e, "line %d: not 'key = value', '[section]' or a comment", line);
	else if (line < 0)
		confval_fail(&ps.e, "out of memory");
	for (size_t i = 0; i < NKEYS && !ps.e.failed; i++) {
		if (ps.seen[i])
			continue;
		if (keys[i].required)
			confval_fail(&ps.e, "[%s] %s is missing; write e.g. [%s] %s = https://alerts.district.example",
			     keys[i].section, keys[i].name, keys[i].section, keys[i].name);
		else if (keys[i].def)
			set_value(&ps, &keys[i], keys[i].def);
	}
	if (!ps.e.failed && ps.c->retry_max_s < ps.c->retry_min_s)
		confval_fail(&ps.e, "[uplink] retry_max = %u is smaller than retry_min = %u",
		     ps.c->retry_max_s, ps.c->retry_min_s);
	if (!ps.e.failed) {
		size_t n = strlen(ps.c->state_dir) + sizeof("/spool");
		ps.c->spool_dir = malloc(n);
		if (!ps.c->spool_dir)
			confval_fail(&ps.e, "out of memory");
		else
			snprintf(ps.c->spool_dir, n, "%s/spool", ps.c->state_dir);
	}
	if (ps.e.failed)
		goto out;
	*ret = ps.c;
	ps.c = NULL;
	r = 0;
out:
	upconf_free(ps.c);
	return r;
}

int upconf_load(const char *path, struct upconf **ret, char *err, size_t errlen)
{
	char *text = NULL;
	size_t len;
	int r;

	r = hw_read_file(path, UPCONF_MAX_BYTES, (void **)&text, &len);
	if (r < 0) {
		snprintf(err, errlen, "%s: cannot read it: %s%s", path, strerror(-r),
			 r == -EFBIG ? " (larger than 1 MiB)" : "");
		return r;
	}
	if (strlen(text) != len) {
		snprintf(err, errlen, "%s: contains a NUL byte; is it a text file?", path);
		r = -EINVAL;
	} else {
		r = upconf_parse(text, path, ret, err, errlen);
	}
	free(text);
	return r;
}

void upconf_free(struct upconf *c)
{
	if (!c)
		return;
	free(c->path);
	free(c->url);
	free(c->ca_file);
	free(c->pin);
	free(c->uplink_state_dir);
	free(c->state_dir);
	free(c->spool_dir);
	free(c->device_id);
	free(c);
}
