/* confval.c - value syntax shared by the configuration parsers (see
 * confval.h). */
#include <ctype.h>
#include <stdarg.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "confval.h"

struct suffix {
	const char *suffix;
	uint64_t mul;
};

/* digits, then exactly one of the suffixes (compared without case if
 * nocase) */
static int parse_scaled(const char *s, const struct suffix *sfx, size_t n, bool nocase,
			uint64_t *ret)
{
	char *end;
	unsigned long long v;

	if (!isdigit((unsigned char)*s))
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno)
		return -ERANGE;
	for (size_t i = 0; i < n; i++) {
		if ((nocase ? strcasecmp(end, sfx[i].suffix) : strcmp(end, sfx[i].suffix)) != 0)
			continue;
		if (v > UINT64_MAX / sfx[i].mul)
			return -ERANGE;
		*ret = v * sfx[i].mul;
		return 0;
	}
	return -EINVAL;
}

int confval_size(const char *s, uint64_t *ret)
{
	static const struct suffix sfx[] = {
		{ "", 1 }, { "B", 1 },
		{ "K", 1ull << 10 }, { "KB", 1ull << 10 }, { "KIB", 1ull << 10 },
		{ "M", 1ull << 20 }, { "MB", 1ull << 20 }, { "MIB", 1ull << 20 },
		{ "G", 1ull << 30 }, { "GB", 1ull << 30 }, { "GIB", 1ull << 30 },
	};
	return parse_scaled(s, sfx, sizeof(sfx) / sizeof(sfx[0]), true, ret);
}

int confval_count(const char *s, uint64_t *ret)
{
	static const struct suffix sfx[] = {
		{ "", 1 }, { "k", 1000 }, { "K", 1000 }, { "M", 1000000 }, { "G", 1000000000 },
	};
	return parse_scaled(s, sfx, sizeof(sfx) / sizeof(sfx[0]), false, ret);
}

int confval_bool(const char *s, bool *ret)
{
	static const char *const yes[] = { "yes", "true", "on", "1" };
	static const char *const no[] = { "no", "false", "off", "0" };

	for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		if (strcasecmp(s, yes[i]) == 0) {
			*ret = true;
			return 0;
		}
		if (strcasecmp(s, no[i]) == 0) {
			*ret = false;
			return 0;
		}
	}
	return -EINVAL;
}

bool confval_device_id(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > CONFVAL_ID_MAX)
		return false;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && !strchr("._:-", *s))
			return false;
	return true;
}

void confval_fail(struct confval_error *e, const char *fmt, ...)
{
	va_list ap;
	int k;

	if (e->failed)
		return;
	e->failed = true;
	if (e->len == 0)
		return;
	k = snprintf(e->buf, e->len, "%s: ", e->name);
	if (k < 0 || (size_t)k >= e->len)
		return;
	va_start(ap, fmt);
	vsnprintf(e->buf + k, e->len - (size_t)k, fmt, ap);
	va_end(ap);
}
