/* wire.c - the checks on a spool file before it is sent; see wire.h. */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "wire.h"

/* Parse buf[0..len) as exactly one JSON value (json-c allows whitespace
 * after it) in valid UTF-8. */
static json_object *parse_whole(const char *buf, size_t len)
{
	json_tokener *tok;
	json_object *o = NULL;

	if (len > INT_MAX || memchr(buf, '\0', len))
		return NULL;
	tok = json_tokener_new();
	if (!tok)
		return NULL;
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
	o = json_tokener_parse_ex(tok, buf, (int)len);
	if (o && json_tokener_get_parse_end(tok) != len) {
		json_object_put(o);
		o = NULL;
	}
	json_tokener_free(tok);
	return o;
}

static const char *get_string(json_object *obj, const char *key)
{
	json_object *v;
	if (!json_object_object_get_ex(obj, key, &v) || !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

/* An id goes into logs, the audit log and file names: the receiver's id
 * alphabet, bounded. */
static bool copy_id(const char *v, char out[WIRE_ID_MAX])
{
	size_t n = v ? strlen(v) : 0;
	if (n == 0 || n >= WIRE_ID_MAX)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!isalnum((unsigned char)v[i]) && !strchr("._:@/+-", v[i]))
			return false;
	memcpy(out, v, n + 1);
	return true;
}

int wire_check(enum wire_kind kind, const char *text, size_t len, struct wire_msg *ret,
	       char *why, size_t whylen)
{
	const char *want = kind == WIRE_ALERT ? WIRE_ALERT_FORMAT : WIRE_HEARTBEAT_FORMAT;
	const char *what = kind == WIRE_ALERT ? "alert" : "heartbeat";
	struct wire_msg m = { .body = text, .len = len };
	json_object *env;
	const char *format, *payload64;
	char *payload = NULL;
	size_t plen = 0;
	int r = -EBADMSG;

	env = parse_whole(text, len);
	if (!env || !json_object_is_type(env, json_type_object)) {
		snprintf(why, whylen, "not a JSON object (a damaged or foreign file)");
		goto out;
	}
	format = get_string(env, "format");
	if (!format || strcmp(format, want) != 0) {
		snprintf(why, whylen, "format is '%.40s', expected '%s'", format ? format : "",
			 want);
		goto out;
	}
	payload64 = get_string(env, "payload");
	if (!payload64 || !get_string(env, "sig")) {
		snprintf(why, whylen, "the envelope has no 'payload' or 'sig' string");
		goto out;
	}
	size_t cap = strlen(payload64) + 1;
	payload = malloc(cap);
	if (!payload) {
		r = -ENOMEM;
		goto out;
	}
	if (sodium_base642bin((unsigned char *)payload, cap, payload64, cap - 1, NULL, &plen,
			      NULL, sodium_base64_VARIANT_ORIGINAL) != 0) {
		snprintf(why, whylen, "'payload' is not base64");
		goto out;
	}
	m.record = parse_whole(payload, plen);
	if (!m.record || !json_object_is_type(m.record, json_type_object)) {
		snprintf(why, whylen, "'payload' is not exactly one JSON object");
		goto out;
	}
	if (!copy_id(get_string(m.record, "device_id"), m.device_id)) {
		snprintf(why, whylen, "the %s has no valid 'device_id'", what);
		goto out;
	}
	if (kind == WIRE_ALERT && !copy_id(get_string(m.record, "alert_id"), m.alert_id)) {
		snprintf(why, whylen, "the alert has no valid 'alert_id'");
		goto out;
	}
	*ret = m;
	memset(&m, 0, sizeof(m));
	r = 0;
out:
	wire_msg_done(&m);
	json_object_put(env);
	free(payload);
	return r;
}

void wire_msg_done(struct wire_msg *m)
{
	if (!m)
		return;
	json_object_put(m->record);
	memset(m, 0, sizeof(*m));
}
