/* intake.c - schema and signature checks for what devices send.  See
 * intake.h for the contract; docs/receiver-api.md for the wire format. */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "fileio.h"
#include "intake.h"

#define HEX(n) INTAKE_HEX, (n), (n)
#define ID INTAKE_ID, 1, 64

const struct intake_field intake_alert_fields[] = {
	{ "alert_id", HEX(32), false,
	  "Random identifier the laptop gave this alert; a redelivery carries the same id." },
	{ "detected_at", INTAKE_TIME, 20, 40, false,
	  "When the laptop found the match (UTC, from the laptop's clock)." },
	{ "device_id", ID, false,
	  "The laptop's asset tag as enrolled on this receiver (not a student's name)." },
	{ "scanner_version", INTAKE_STR, 1, 64, false,
	  "Version of the hashwatch scanner that made the match." },
	{ "config_digest", INTAKE_HEX, 16, 128, false,
	  "Fingerprint of the scanner's configuration; IT can compare it with the district's published value." },
	{ "list_id", ID, false, "Which signed hash list contained the matching entry." },
	{ "list_version", INTAKE_UINT, 0, 0, false,
	  "Version of that list; lists only move forward." },
	{ "entry_id", INTAKE_STR, 1, 128, false,
	  "The list entry that matched; the list's publisher can say what it refers to." },
	{ "entry_source", INTAKE_STR, 1, 128, false,
	  "Who reported the listed image (for example a take-down programme)." },
	{ "category", INTAKE_STR, 1, 64, false,
	  "The kind of harmful content the list entry belongs to." },
	{ "model", ID, false,
	  "The hash method that matched (pdq, phash, sha256, ...). Exact digests mean identical files." },
	{ "distance", INTAKE_UINT, 0, 0, false,
	  "How many bits differ between the file's hash and the listed hash; 0 is identical, small numbers mean a near-copy (PDQ matches at 31 of 256 or less)." },
	{ "quality", INTAKE_UINT, 0, 0, true,
	  "How much detail the image had for the hash (PDQ 0-100; below 50 is not matched). Empty for exact digests." },
	{ "confirmed", INTAKE_BOOL, 0, 0, false,
	  "Yes when a second, independent check agreed (an exact digest or a second hash method); no means a single perceptual match, which can be a false positive." },
	{ "match_count", INTAKE_UINT, 0, 0, false,
	  "How many distinct listed images of this category the laptop has matched." },
	{ "file_sha256", HEX(64), false,
	  "SHA-256 of the file, so an examiner can find the exact file on the laptop. It does not reveal the image." },
	{ "audit_seq", INTAKE_UINT, 0, 0, false,
	  "Record number in the laptop's tamper-evident scan log when the alert was queued." },
	{ "audit_head", HEX(64), false,
	  "Hash of the scan log up to that record; an auditor checks the laptop's log against it." },
	{ NULL, 0, 0, 0, false, NULL },
};

/* Heartbeat fields; "lists" is checked on its own below. */
static const struct intake_field heartbeat_fields[] = {
	{ "device_id", ID, false, NULL },
	{ "time", INTAKE_TIME, 20, 40, false, NULL },
	{ "scanner_version", INTAKE_STR, 1, 64, false, NULL },
	{ "spool_depth", INTAKE_UINT, 0, 0, false, NULL },
	{ "audit_seq", INTAKE_UINT, 0, 0, false, NULL },
	{ "audit_head", HEX(64), false, NULL },
	{ NULL, 0, 0, 0, false, NULL },
};

static const struct intake_field list_fields[] = {
	{ "id", ID, false, NULL },
	{ "version", INTAKE_UINT, 0, 0, false, NULL },
	{ "digest", INTAKE_HEX, 16, 128, false, NULL },
	{ NULL, 0, 0, 0, false, NULL },
};

static int fail(struct intake_error *err, int status, const char *code,
		const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static int fail(struct intake_error *err, int status, const char *code,
		const char *fmt, ...)
{
	va_list ap;
	err->status = status;
	err->code = code;
	va_start(ap, fmt);
	vsnprintf(err->detail, sizeof(err->detail), fmt, ap);
	va_end(ap);
	return -EINVAL;
}

int intake_parse_time(const char *s, int64_t *ret)
{
	static const char shape[] = "dddd-dd-ddTdd:dd:dd";
	int v[6] = { 0 }, idx = 0;
	size_t i;

	for (i = 0; shape[i]; i++) {
		if (shape[i] == 'd') {
			if (!isdigit((unsigned char)s[i]))
				return -EINVAL;
			v[idx] = v[idx] * 10 + (s[i] - '0');
		} else if (s[i] != shape[i]) {
			return -EINVAL;
		} else {
			idx++;
		}
	}
	if (s[i] == '.') {
		size_t start = ++i;
		while (isdigit((unsigned char)s[i]))
			i++;
		if (i == start || i - start > 9)
			return -EINVAL;
	}
	if (s[i] != 'Z' || s[i + 1] != '\0')
		return -EINVAL;
	if (v[0] < 2000 || v[0] > 9999 || v[1] < 1 || v[1] > 12 || v[2] < 1 ||
	    v[2] > 31 || v[3] > 23 || v[4] > 59 || v[5] > 60)
		return -EINVAL;
	struct tm tm = { .tm_year = v[0] - 1900, .tm_mon = v[1] - 1, .tm_mday = v[2],
			 .tm_hour = v[3], .tm_min = v[4], .tm_sec = v[5] };
	time_t t = timegm(&tm);
	if (t == (time_t)-1 || tm.tm_mday != v[2]) /* 31 April normalises away */
		return -EINVAL;
	*ret = (int64_t)t;
	return 0;
}

static bool id_char(unsigned char c)
{
	return isalnum(c) || strchr("._:@/+-", c) != NULL;
}

static int check_field(const struct intake_field *f, json_object *v,
		       struct intake_error *err)
{
	const char *s;
	size_t n;
	int64_t t;

	switch (f->type) {
	case INTAKE_UINT:
		if (!json_object_is_type(v, json_type_int))
			return fail(err, 400, "bad_schema", "field '%s' must be an integer", f->name);
		t = json_object_get_int64(v);
		if (t < 0 || t > (INT64_C(1) << 53))
			return fail(err, 400, "bad_schema", "field '%s' is out of range", f->name);
		return 0;
	case INTAKE_BOOL:
		if (!json_object_is_type(v, json_type_boolean))
			return fail(err, 400, "bad_schema", "field '%s' must be true or false", f->name);
		return 0;
	default:
		break;
	}
	if (!json_object_is_type(v, json_type_string))
		return fail(err, 400, "bad_schema", "field '%s' must be a string", f->name);
	s = json_object_get_string(v);
	n = (size_t)json_object_get_string_len(v);
	if (n < f->min || n > f->max || strlen(s) != n)
		return fail(err, 400, "bad_schema", "field '%s' must be %u to %u bytes long",
			    f->name, f->min, f->max);
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		bool ok = f->type == INTAKE_ID	  ? id_char(c)
			  : f->type == INTAKE_HEX ? (isdigit(c) || (c >= 'a' && c <= 'f'))
						  : (c >= 0x20 && c != 0x7f);
		if (!ok)
			return fail(err, 400, "bad_schema", "field '%s' has a character it may not have",
				    f->name);
	}
	if (f->type == INTAKE_TIME && intake_parse_time(s, &t) < 0)
		return fail(err, 400, "bad_schema",
			    "field '%s' must be a UTC time like 2024-05-01T09:30:00Z", f->name);
	return 0;
}

/* Check obj against a field table; keys not in the table are refused, so
 * that nothing unexpected (a file path, say) is stored by accident. */
static int check_object(const struct intake_field *table, json_object *obj,
			const char *what, const char *const *extra,
			struct intake_error *err)
{
	if (!json_object_is_type(obj, json_type_object))
		return fail(err, 400, "bad_schema", "'%s' must be an object", what);
	for (const struct intake_field *f = table; f->name; f++) {
		json_object *v = NULL;
		if (!json_object_object_get_ex(obj, f->name, &v) || !v) {
			if (f->optional)
				continue;
			return fail(err, 400, "bad_schema", "%s field '%s' is missing", what, f->name);
		}
		if (check_field(f, v, err) < 0)
			return -EINVAL;
	}
	json_object_object_foreach(obj, key, val) {
		(void)val;
		bool known = false;
		for (const struct intake_field *f = table; f->name && !known; f++)
			known = strcmp(f->name, key) == 0;
		for (size_t i = 0; extra && extra[i] && !known; i++)
			known = strcmp(extra[i], key) == 0;
		if (!known)
			return fail(err, 400, "bad_schema", "%s has an unknown field (%.40s)", what, key);
	}
	return 0;
}

static int check_heartbeat(json_object *hb, struct intake_error *err)
{
	static const char *const extra[] = { "lists", NULL };
	json_object *lists;

	if (check_object(heartbeat_fields, hb, "heartbeat", extra, err) < 0)
		return -EINVAL;
	if (!json_object_object_get_ex(hb, "lists", &lists) ||
	    !json_object_is_type(lists, json_type_array))
		return fail(err, 400, "bad_schema", "heartbeat field 'lists' must be an array");
	if (json_object_array_length(lists) > INTAKE_MAX_LISTS)
		return fail(err, 400, "bad_schema", "heartbeat has more than %d lists",
			    INTAKE_MAX_LISTS);
	for (size_t i = 0; i < json_object_array_length(lists); i++)
		if (check_object(list_fields, json_object_array_get_idx(lists, i),
				 "heartbeat list", NULL, err) < 0)
			return -EINVAL;
	return 0;
}

/* Parse one JSON value from buf[0..len) and return it with the offset
 * where it ended.  NULL when the bytes do not start with a value.  json-c's
 * strict mode refuses anything after the value, so it is used only for a
 * whole body; a span inside a body is parsed leniently and must then equal
 * the strictly parsed record anyway. */
static json_object *parse_prefix(const char *buf, size_t len, bool strict, size_t *ret_end)
{
	json_tokener *tok = json_tokener_new_ex(16);
	json_object *obj = NULL;

	if (!tok || len > INT32_MAX)
		goto out;
	json_tokener_set_flags(tok, (strict ? JSON_TOKENER_STRICT : 0) | JSON_TOKENER_VALIDATE_UTF8);
	obj = json_tokener_parse_ex(tok, buf, (int)len);
	if (obj)
		*ret_end = json_tokener_get_parse_end(tok);
out:
	json_tokener_free(tok);
	return obj;
}

static int decode_sig(const char *s, unsigned char sig[crypto_sign_BYTES])
{
	size_t n = 0, slen = strlen(s);
	if (slen == 2 * crypto_sign_BYTES)
		return sodium_hex2bin(sig, crypto_sign_BYTES, s, slen, NULL, &n, NULL) == 0 &&
			       n == crypto_sign_BYTES ? 0 : -EINVAL;
	if (sodium_base642bin(sig, crypto_sign_BYTES, s, slen, NULL, &n, NULL,
			      sodium_base64_VARIANT_ORIGINAL) == 0 && n == crypto_sign_BYTES)
		return 0;
	if (sodium_base642bin(sig, crypto_sign_BYTES, s, slen, NULL, &n, NULL,
			      sodium_base64_VARIANT_ORIGINAL_NO_PADDING) == 0 &&
	    n == crypto_sign_BYTES)
		return 0;
	return -EINVAL;
}

int intake_parse(const char *kind, const char *body, size_t len,
		 struct intake_record *ret, struct intake_error *err)
{
	struct intake_record r = { .kind = kind, .body = body, .body_len = len };
	json_object *v;
	size_t end = 0;
	int rc = -EINVAL;

	if (len > INTAKE_MAX_BODY) {
		fail(err, 413, "too_large", "body is larger than %d bytes", INTAKE_MAX_BODY);
		goto out;
	}
	size_t trimmed = len;
	while (trimmed > 0 && strchr(" \t\r\n", body[trimmed - 1]))
		trimmed--;
	r.root = parse_prefix(body, trimmed, true, &end);
	if (!r.root) {
		fail(err, 400, "bad_json", "body is not valid JSON");
		goto out;
	}
	if (end != trimmed) {
		fail(err, 400, "bad_json", "body has bytes after the JSON value");
		goto out;
	}
	if (!json_object_is_type(r.root, json_type_object)) {
		fail(err, 400, "bad_schema", "body must be a JSON object");
		goto out;
	}
	json_object_object_foreach(r.root, key, val) {
		(void)val;
		if (strcmp(key, kind) != 0 && strcmp(key, "sig") != 0 &&
		    strcmp(key, "device_id") != 0) {
			fail(err, 400, "bad_schema", "envelope has an unknown field (%.40s)", key);
			goto out;
		}
	}
	if (!json_object_object_get_ex(r.root, kind, &r.rec)) {
		fail(err, 400, "bad_schema", "envelope has no '%s' object", kind);
		goto out;
	}
	if (!json_object_object_get_ex(r.root, "device_id", &v) ||
	    !json_object_is_type(v, json_type_string)) {
		fail(err, 400, "bad_schema", "envelope field 'device_id' is missing");
		goto out;
	}
	r.device_id = json_object_get_string(v);
	if (!json_object_object_get_ex(r.root, "sig", &v) ||
	    !json_object_is_type(v, json_type_string) ||
	    decode_sig(json_object_get_string(v), r.sig) < 0) {
		fail(err, 400, "bad_schema",
		     "envelope field 'sig' must be a base64 Ed25519 signature");
		goto out;
	}
	if (strcmp(kind, "alert") == 0 ? check_object(intake_alert_fields, r.rec, "alert",
						      NULL, err) < 0
				       : check_heartbeat(r.rec, err) < 0)
		goto out;
	json_object_object_get_ex(r.rec, "device_id", &v);
	if (strcmp(json_object_get_string(v), r.device_id) != 0) {
		fail(err, 400, "bad_schema", "envelope and %s name different devices", kind);
		goto out;
	}
	json_object_object_get_ex(r.rec, strcmp(kind, "alert") == 0 ? "detected_at" : "time", &v);
	intake_parse_time(json_object_get_string(v), &r.reported_time);
	*ret = r;
	r.root = NULL;
	rc = 0;
out:
	json_object_put(r.root);
	return rc;
}

int intake_verify(struct intake_record *rec,
		  const unsigned char pk[crypto_sign_PUBLICKEYBYTES],
		  struct intake_error *err)
{
	char key[32];
	size_t klen;
	const char *p = rec->body, *end = rec->body + rec->body_len;

	/* Find each place where the key "<kind>" is followed by ':' and an
	 * object.  Inside a JSON string an unescaped quote cannot occur, so
	 * a match is the key itself; json-c parses the value and tells where
	 * it ends.  The first span that both verifies and parses to the
	 * checked record wins. */
	klen = (size_t)snprintf(key, sizeof(key), "\"%s\"", rec->kind);
	while ((p = memmem(p, (size_t)(end - p), key, klen)) != NULL) {
		const char *q = p + klen;
		p += klen;
		while (q < end && strchr(" \t\r\n", *q))
			q++;
		if (q >= end || *q != ':')
			continue;
		q++;
		while (q < end && strchr(" \t\r\n", *q))
			q++;
		if (q >= end || *q != '{')
			continue;
		size_t span = 0;
		json_object *o = parse_prefix(q, (size_t)(end - q), false, &span);
		/* json-c consumes the whitespace after a value: the span ends at
		 * the object's closing brace. */
		while (span > 0 && q[span - 1] != '}')
			span--;
		bool same = o && json_object_equal(o, rec->rec);
		json_object_put(o);
		if (!same)
			continue;
		if (crypto_sign_verify_detached(rec->sig, (const unsigned char *)q, span, pk) == 0) {
			rec->span_off = (size_t)(q - rec->body);
			rec->span_len = span;
			return 0;
		}
	}
	fail(err, 403, "bad_signature",
	     "the signature does not verify with the key enrolled for this device");
	return -EPERM;
}

void intake_record_done(struct intake_record *rec)
{
	if (!rec)
		return;
	json_object_put(rec->root);
	rec->root = NULL;
	rec->rec = NULL;
}

int intake_read_pubkey(const char *path,
		       unsigned char ret_pk[crypto_sign_PUBLICKEYBYTES])
{
	unsigned char pk[crypto_sign_PUBLICKEYBYTES];
	char *buf = NULL, *save = NULL;
	size_t len, n = 0;
	int r;

	r = hw_read_file(path, 4096, (void **)&buf, &len);
	if (r < 0)
		return r;
	r = -EINVAL;
	for (char *line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		while (*line && isspace((unsigned char)*line))
			line++;
		if (!*line || *line == '#')
			continue;
		/* Take the last word, so "ed25519 BASE64" or "ed25519:HEX" work too. */
		char *e = line + strlen(line);
		while (e > line && isspace((unsigned char)e[-1]))
			*--e = '\0';
		char *w = e;
		while (w > line && !isspace((unsigned char)w[-1]) && w[-1] != ':')
			w--;
		size_t wl = strlen(w);
		if (wl == 2 * sizeof(pk))
			r = sodium_hex2bin(pk, sizeof(pk), w, wl, NULL, &n, NULL);
		else
			r = sodium_base642bin(pk, sizeof(pk), w, wl, NULL, &n, NULL,
					      sodium_base64_VARIANT_ORIGINAL);
		r = (r == 0 && n == sizeof(pk)) ? 0 : -EINVAL;
		break;
	}
	if (r == 0)
		memcpy(ret_pk, pk, sizeof(pk));
	free(buf);
	return r;
}
