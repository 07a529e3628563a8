/* wire.c - spool envelope to request body; see wire.h. */
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

int wire_from_envelope(enum wire_kind kind, const char *text, size_t len,
		       struct wire_msg *ret, char *why, size_t whylen)
{
	const char *want = kind == WIRE_ALERT ? WIRE_ALERT_FORMAT : WIRE_HEARTBEAT_FORMAT;
	const char *key = kind == WIRE_ALERT ? "alert" : "heartbeat";
	struct wire_msg m = { 0 };
	json_object *env, *sig_obj, *dev_obj = NULL;
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
	if (!payload64 || !json_object_object_get_ex(env, "sig", &sig_obj) ||
	    !json_object_is_type(sig_obj, json_type_string)) {
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
	/* json-c reads past whitespace after a value; the receiver checks
	 * the signature over the object up to its closing brace. */
	if (!m.record || !json_object_is_type(m.record, json_type_object) ||
	    payload[plen - 1] != '}') {
		snprintf(why, whylen, "'payload' is not exactly one JSON object");
		goto out;
	}
	if (!copy_id(get_string(m.record, "device_id"), m.device_id)) {
		snprintf(why, whylen, "the %s has no valid 'device_id'", key);
		goto out;
	}
	if (kind == WIRE_ALERT && !copy_id(get_string(m.record, "alert_id"), m.alert_id)) {
		snprintf(why, whylen, "the alert has no valid 'alert_id'");
		goto out;
	}
	/* {"<key>":<payload>,"sig":<sig>,"device_id":<id>}; the two strings
	 * are re-encoded by json-c, the payload is copied as signed. */
	dev_obj = json_object_new_string(m.device_id);
	const int plain = JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE;
	const char *sig_json = json_object_to_json_string_ext(sig_obj, plain);
	const char *dev_json = dev_obj ? json_object_to_json_string_ext(dev_obj, plain) : NULL;
	if (!sig_json || !dev_json) {
		r = -ENOMEM;
		goto out;
	}
	size_t need = strlen(key) + plen + strlen(sig_json) + strlen(dev_json) + 32;
	m.body = malloc(need);
	if (!m.body) {
		r = -ENOMEM;
		goto out;
	}
	int k1 = snprintf(m.body, need, "{\"%s\":", key);
	memcpy(m.body + k1, payload, plen);
	int k2 = snprintf(m.body + k1 + plen, need - (size_t)k1 - plen,
			  ",\"sig\":%s,\"device_id\":%s}", sig_json, dev_json);
	m.len = (size_t)k1 + plen + (size_t)k2;
	*ret = m;
	memset(&m, 0, sizeof(m));
	r = 0;
out:
	wire_msg_done(&m);
	json_object_put(dev_obj);
	json_object_put(env);
	free(payload);
	return r;
}

void wire_msg_done(struct wire_msg *m)
{
	if (!m)
		return;
	free(m->body);
	json_object_put(m->record);
	memset(m, 0, sizeof(*m));
}
