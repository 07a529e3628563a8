/* cli_list.c - helpers shared by `hashwatch db` and `hashwatch scan`. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <json-c/json.h>

#include "cli.h"
#include "cli_list.h"
#include "hwkey.h"

int cli_trust_add(struct cli_trust *t, const char *subcmd, const char *path)
{
	char err[512];

	if (hwkey_read_trusted(path, t->keys, CLI_MAX_TRUST, &t->nkeys, err, sizeof(err)) < 0) {
		cli_error(subcmd, "%s", err);
		return -1;
	}
	return 0;
}

void cli_trust_view(const struct cli_trust *t, struct hwdb_trust *out)
{
	out->keys = (const uint8_t(*)[32])t->keys;
	out->nkeys = t->nkeys;
	out->min_signers = t->min_signers ? t->min_signers : 1;
	out->state_dir = t->state_dir;
	out->allow_unsigned = t->allow_unsigned;
}

int cli_open_exit(int r)
{
	switch (r) {
	case -EBADMSG:
	case -EKEYREJECTED:
	case -ESTALE:
	case -EPROTONOSUPPORT:
		return CLI_NEGATIVE;
	default:
		return CLI_ERROR;
	}
}

int cli_parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *ret)
{
	char *end;
	unsigned long long v;

	if (!s || *s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || *end || v < min || v > max)
		return -EINVAL;
	*ret = v;
	return 0;
}

void cli_format_time(uint64_t t, char out[32])
{
	time_t tt = (time_t)t;
	struct tm tm;

	if ((uint64_t)tt != t || !gmtime_r(&tt, &tm) ||
	    strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		snprintf(out, 32, "@%llu", (unsigned long long)t);
}

const char *cli_variant_name(int v)
{
	static const char *const names[] = { "orig", "rot90", "rot180", "rot270",
					     "flipx", "flipy", "flipplus1", "flipminus1" };
	return v >= 0 && v < 8 ? names[v] : NULL;
}

void cli_digest_hex(const struct hwdb *db, char out[2 * HWDB_DIGEST_BYTES + 1])
{
	static const char digits[] = "0123456789abcdef";
	uint8_t d[HWDB_DIGEST_BYTES];

	hwdb_digest(db, d);
	for (int i = 0; i < HWDB_DIGEST_BYTES; i++) {
		out[2 * i] = digits[d[i] >> 4];
		out[2 * i + 1] = digits[d[i] & 15];
	}
	out[2 * HWDB_DIGEST_BYTES] = '\0';
}

struct json_object *cli_json_distance(double d)
{
	if (d >= 0 && d < 1e15 && d == (double)(int64_t)d)
		return json_object_new_int64((int64_t)d);
	return json_object_new_double(d);
}
