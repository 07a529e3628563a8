/* receipt.c - the receipt format of receipt.h: encoder for the uplink,
 * strict parser for the scanner.  json-c does the JSON both ways. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "receipt.h"

#define RECEIPT_DEPTH 4 /* an object of scalars needs 2 */

static bool is_id_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       strchr("._:@/+-", c) != NULL;
}

static bool id_ok(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n > RECEIPT_ID_MAX)
		return false;
	for (; *s; s++)
		if (!is_id_char(*s))
			return false;
	return true;
}

/* Printable ASCII, bounded: these go into the audit log and the journal. */
static bool text_ok(const char *s, size_t max)
{
	size_t n = strlen(s);
	if (n > max)
		return false;
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s > 0x7e)
			return false;
	return true;
}

static bool head_ok(const char *s)
{
	if (strlen(s) != 64)
		return false;
	for (; *s; s++)
		if (!((*s >= '0' && *s <= '9') || (*s >= 'a' && *s <= 'f')))
			return false;
	return true;
}

static bool valid(const struct receipt *r)
{
	if (!text_ok(r->time, sizeof(r->time) - 1) || !text_ok(r->receiver, RECEIPT_TEXT_MAX))
		return false;
	if (r->kind == RECEIPT_KIND_ALERT)
		return id_ok(r->alert_id) && text_ok(r->outcome, RECEIPT_TEXT_MAX) &&
		       r->http_status >= 0 && r->http_status <= 999;
	return r->kind == RECEIPT_KIND_HEARTBEAT && head_ok(r->reported_head);
}

void receipt_add_fields(json_object *o, const struct receipt *r)
{
	if (r->kind == RECEIPT_KIND_ALERT) {
		json_object_object_add(o, "alert_id", json_object_new_string(r->alert_id));
		json_object_object_add(o, "http_status", json_object_new_int((int)r->http_status));
		json_object_object_add(o, "outcome", json_object_new_string(r->outcome));
	} else {
		json_object_object_add(o, "reported_seq", json_object_new_uint64(r->reported_seq));
		json_object_object_add(o, "reported_head",
				       json_object_new_string(r->reported_head));
		json_object_object_add(o, "ok", json_object_new_boolean(r->ok));
	}
	json_object_object_add(o, "receiver", json_object_new_string(r->receiver));
}

int receipt_format(const struct receipt *r, char **ret, size_t *ret_len)
{
	json_object *o = NULL;
	const char *s;
	char *out = NULL;
	size_t n;
	int rc = -ENOMEM;

	if (!valid(r))
		return -EINVAL;
	o = json_object_new_object();
	if (!o)
		goto out;
	json_object_object_add(o, "v", json_object_new_int(RECEIPT_VERSION));
	json_object_object_add(o, "kind", json_object_new_string(
					      r->kind == RECEIPT_KIND_ALERT ? "alert" : "heartbeat"));
	receipt_add_fields(o, r);
	json_object_object_add(o, "time", json_object_new_string(r->time));
	s = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
						      JSON_C_TO_STRING_NOSLASHESCAPE);
	if (!s)
		goto out;
	n = strlen(s);
	if (n + 1 > RECEIPT_MAX_BYTES) {
		rc = -EINVAL; /* cannot happen with the limits above */
		goto out;
	}
	out = malloc(n + 2);
	if (!out)
		goto out;
	memcpy(out, s, n);
	out[n] = '\n';
	out[n + 1] = '\0';
	*ret = out;
	*ret_len = n + 1;
	out = NULL;
	rc = 0;
out:
	free(out);
	json_object_put(o);
	return rc;
}

/* Copy the string member key into out (size outlen); false when it is
 * missing, not a string, or too long. */
static bool get_str(json_object *o, const char *key, char *out, size_t outlen)
{
	json_object *v;
	if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_string) ||
	    (size_t)json_object_get_string_len(v) >= outlen)
		return false;
	memcpy(out, json_object_get_string(v), (size_t)json_object_get_string_len(v) + 1);
	return strlen(out) == (size_t)json_object_get_string_len(v); /* no NUL inside */
}

static bool get_int(json_object *o, const char *key, int64_t min, int64_t max, int64_t *out)
{
	json_object *v;
	if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_int))
		return false;
	errno = 0;
	int64_t x = json_object_get_int64(v);
	if (errno || x < min || x > max)
		return false;
	*out = x;
	return true;
}

int receipt_parse(const char *text, size_t len, struct receipt *ret, char *why, size_t whylen)
{
	struct receipt r;
	json_tokener *tok = NULL;
	json_object *o = NULL, *v;
	char kind[16];
	int64_t x;
	const char *bad = NULL;

	memset(&r, 0, sizeof(r));
	if (len > RECEIPT_MAX_BYTES) {
		bad = "larger than a receipt can be";
		goto out;
	}
	if (memchr(text, '\0', len)) {
		bad = "contains a NUL byte";
		goto out;
	}
	tok = json_tokener_new_ex(RECEIPT_DEPTH);
	if (!tok) {
		bad = "out of memory";
		goto out;
	}
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
	o = json_tokener_parse_ex(tok, text, (int)len);
	/* one object, then at most the final newline */
	if (!o || !json_object_is_type(o, json_type_object) ||
	    !(json_tokener_get_parse_end(tok) == len ||
	      (json_tokener_get_parse_end(tok) + 1 == len && text[len - 1] == '\n'))) {
		bad = "not one JSON object";
		goto out;
	}
	if (!get_int(o, "v", RECEIPT_VERSION, RECEIPT_VERSION, &x)) {
		bad = "no \"v\":1";
		goto out;
	}
	if (!get_str(o, "kind", kind, sizeof(kind))) {
		bad = "no \"kind\"";
		goto out;
	}
	if (!get_str(o, "receiver", r.receiver, sizeof(r.receiver)) ||
	    !get_str(o, "time", r.time, sizeof(r.time))) {
		bad = "\"receiver\" or \"time\" missing or too long";
		goto out;
	}
	if (strcmp(kind, "alert") == 0) {
		r.kind = RECEIPT_KIND_ALERT;
		if (!get_str(o, "alert_id", r.alert_id, sizeof(r.alert_id)) ||
		    !get_str(o, "outcome", r.outcome, sizeof(r.outcome)) ||
		    !get_int(o, "http_status", 0, 999, &x)) {
			bad = "\"alert_id\", \"outcome\" or \"http_status\" missing or wrong";
			goto out;
		}
		r.http_status = (long)x;
	} else if (strcmp(kind, "heartbeat") == 0) {
		r.kind = RECEIPT_KIND_HEARTBEAT;
		if (!get_int(o, "reported_seq", 0, INT64_MAX, &x) ||
		    !get_str(o, "reported_head", r.reported_head, sizeof(r.reported_head)) ||
		    !json_object_object_get_ex(o, "ok", &v) ||
		    !json_object_is_type(v, json_type_boolean)) {
			bad = "\"reported_seq\", \"reported_head\" or \"ok\" missing or wrong";
			goto out;
		}
		r.reported_seq = (uint64_t)x;
		r.ok = json_object_get_boolean(v);
	} else {
		bad = "unknown \"kind\"";
		goto out;
	}
	if (!valid(&r)) {
		bad = "an id, the head or a text is malformed";
		goto out;
	}
	*ret = r;
out:
	if (bad && why)
		snprintf(why, whylen, "%s", bad);
	json_object_put(o);
	if (tok) /* json-c's free does not accept NULL */
		json_tokener_free(tok);
	return bad ? -EBADMSG : 0;
}

bool receipt_name_ok(const char *name)
{
	size_t n = strlen(name);
	if (name[0] == '.' || strstr(name, ".tmp"))
		return false;
	if (strcmp(name, RECEIPT_HEARTBEAT) == 0)
		return true;
	return n > 5 && strcmp(name + n - 5, ".json") == 0;
}
