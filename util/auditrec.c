/* auditrec.c - one audit record line: hash, time stamp, strict parse.
 * The parse is strict on purpose: the verifier hashes raw bytes, so any
 * latitude here would only let a forged line look like a record. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "auditrec.h"

const char audit_zero_head[AUDIT_HEAD_HEX] =
	"0000000000000000000000000000000000000000000000000000000000000000";

void audit_hash_line(const char *line, size_t len, char out[AUDIT_HEAD_HEX])
{
	unsigned char md[crypto_hash_sha256_BYTES];

	/* SHA-256 in libsodium needs no sodium_init(): it has a single
	 * portable implementation, so this is safe to call anywhere. */
	crypto_hash_sha256(md, (const unsigned char *)line, len);
	sodium_bin2hex(out, AUDIT_HEAD_HEX, md, sizeof(md));
}

int audit_time_format(int64_t ms, char out[AUDIT_TIME_LEN])
{
	struct tm tm;
	int64_t secs = ms / 1000, frac = ms % 1000;
	char buf[32];

	if (frac < 0) {
		frac += 1000;
		secs--;
	}
	time_t t = (time_t)secs;
	if (!gmtime_r(&t, &tm) || tm.tm_year < -1900 || tm.tm_year > 9999 - 1900)
		return -ERANGE;
	if (strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%S", &tm) != 19)
		return -ERANGE;
	snprintf(out, AUDIT_TIME_LEN, "%.19s.%03dZ", buf, (int)frac);
	return 0;
}

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

int audit_time_parse(const char *s, int64_t *ret_ms)
{
	/* The shape is fixed (digits where digits belong) so that strptime's
	 * leniency (missing leading zeros, spaces) cannot admit a second
	 * spelling of the same instant. */
	static const char shape[] = "dddd-dd-ddTdd:dd:dd.dddZ";
	struct tm tm;

	if (strlen(s) != sizeof(shape) - 1)
		return -EINVAL;
	for (size_t i = 0; i < sizeof(shape) - 1; i++)
		if (shape[i] == 'd' ? !is_digit(s[i]) : s[i] != shape[i])
			return -EINVAL;
	memset(&tm, 0, sizeof(tm));
	const char *end = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);
	if (!end || *end != '.')
		return -EINVAL;
	/* strptime accepts 2024-02-31; normalising and comparing rejects it. */
	struct tm check = tm;
	time_t t = timegm(&check);
	if (check.tm_mday != tm.tm_mday || check.tm_mon != tm.tm_mon ||
	    check.tm_hour != tm.tm_hour || check.tm_min != tm.tm_min ||
	    check.tm_sec != tm.tm_sec)
		return -EINVAL;
	*ret_ms = (int64_t)t * 1000 + (end[1] - '0') * 100 + (end[2] - '0') * 10 +
		  (end[3] - '0');
	return 0;
}

int64_t audit_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

bool audit_type_valid(const char *type)
{
	size_t n = strlen(type);

	if (n == 0 || n > AUDIT_TYPE_MAX || type[0] < 'a' || type[0] > 'z')
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((type[i] >= 'a' && type[i] <= 'z') || is_digit(type[i]) ||
		      type[i] == '_'))
			return false;
	return true;
}

bool audit_hex_valid(const char *s)
{
	size_t i;
	for (i = 0; s[i]; i++)
		if (!is_digit(s[i]) && !(s[i] >= 'a' && s[i] <= 'f'))
			return false;
	return i == AUDIT_HEAD_HEX - 1;
}

static void set_why(char *why, size_t why_len, const char *msg)
{
	if (why && why_len)
		snprintf(why, why_len, "%s", msg);
}

/* The members in the order the writer puts them. */
static const char *const members[] = { "seq", "time", "type", "fields", "prev" };

int audit_record_parse(const char *line, size_t len, struct audit_record *rec,
		       char *why, size_t why_len)
{
	struct audit_record r;
	json_tokener *tok = NULL;
	json_object *obj = NULL;
	size_t i = 0;
	int ret = -EBADMSG;

	memset(&r, 0, sizeof(r));
	if (len > AUDIT_MAX_LINE) {
		set_why(why, why_len, "line longer than the 64 KiB record limit");
		goto out;
	}
	if (memchr(line, '\0', len)) {
		set_why(why, why_len, "NUL byte in the line");
		goto out;
	}
	tok = json_tokener_new();
	if (!tok) {
		ret = -ENOMEM;
		goto out;
	}
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
	obj = json_tokener_parse_ex(tok, line, (int)len);
	if (!obj || json_tokener_get_error(tok) != json_tokener_success ||
	    json_tokener_get_parse_end(tok) != len) {
		set_why(why, why_len, "not valid JSON");
		goto out;
	}
	if (!json_object_is_type(obj, json_type_object)) {
		set_why(why, why_len, "not a JSON object");
		goto out;
	}
	json_object_object_foreach(obj, key, val) {
		(void)val;
		if (i >= sizeof(members) / sizeof(members[0]) || strcmp(key, members[i]) != 0) {
			set_why(why, why_len,
				"members are not exactly seq, time, type, fields, prev in that order");
			goto out;
		}
		i++;
	}
	if (i != sizeof(members) / sizeof(members[0])) {
		set_why(why, why_len, "a member is missing (seq, time, type, fields, prev)");
		goto out;
	}
	json_object *seq = json_object_object_get(obj, "seq");
	json_object *time = json_object_object_get(obj, "time");
	json_object *type = json_object_object_get(obj, "type");
	json_object *prev = json_object_object_get(obj, "prev");
	r.fields = json_object_object_get(obj, "fields");
	if (!json_object_is_type(seq, json_type_int) || json_object_get_int64(seq) <= 0 ||
	    json_object_get_int64(seq) == INT64_MAX) {
		set_why(why, why_len, "seq is not a positive integer");
		goto out;
	}
	if (!json_object_is_type(time, json_type_string) ||
	    audit_time_parse(json_object_get_string(time), &r.time_ms) < 0) {
		set_why(why, why_len, "time is not YYYY-MM-DDTHH:MM:SS.mmmZ");
		goto out;
	}
	if (!json_object_is_type(type, json_type_string) ||
	    !audit_type_valid(json_object_get_string(type))) {
		set_why(why, why_len, "type is not a record type name");
		goto out;
	}
	if (!json_object_is_type(r.fields, json_type_object)) {
		set_why(why, why_len, "fields is not an object");
		goto out;
	}
	if (!json_object_is_type(prev, json_type_string) ||
	    !audit_hex_valid(json_object_get_string(prev))) {
		set_why(why, why_len, "prev is not 64 lower-case hex digits");
		goto out;
	}
	r.seq = (uint64_t)json_object_get_int64(seq);
	r.time = json_object_get_string(time);
	r.type = json_object_get_string(type);
	r.prev = json_object_get_string(prev);
	r.line = line;
	r.len = len;
	audit_hash_line(line, len, r.hash);
	r.obj = obj;
	obj = NULL;
	*rec = r;
	ret = 0;
out:
	json_object_put(obj);
	if (tok) /* json-c's free does not take NULL */
		json_tokener_free(tok);
	return ret;
}

void audit_record_release(struct audit_record *rec)
{
	if (!rec)
		return;
	json_object_put(rec->obj);
	rec->obj = NULL;
}
