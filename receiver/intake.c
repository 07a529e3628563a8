/* intake.c - schema and signature checks for what devices send.  See
 * intake.h for the contract; docs/receiver-api.md for the wire format. */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fileio.h"
#include "intake.h"

#define HEX(n) INTAKE_HEX, (n), (n)

#define ID INTAKE_ID, 1, 64

const struct intake_field intake_alert_fields[] = {
	{ "v", INTAKE_UINT, 1, 1, false, "Version of the alert format (1)." },
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
	{ "list_digest", INTAKE_HEX, 16, 128, true,
	  "Fingerprint of the exact list file, as 'hashwatch db info' prints it." },
	{ "entry_id", INTAKE_STR, 0, 128, false,
	  "The list entry that matched; the list's publisher can say what it refers to." },
	{ "entry_source", INTAKE_STR, 0, 128, false,
	  "Who reported the listed image (for example a take-down programme)." },
	{ "entry_category", INTAKE_STR, 0, 64, false,
	  "The kind of harmful content the list entry belongs to." },
	{ "model", ID, false,
	  "The hash method that matched (pdq, phash, sha256, ...). Exact digests mean identical files." },
	{ "distance", INTAKE_NUM, 0, 0, false,
	  "How far the file's hash is from the listed hash; 0 is identical, small numbers mean a near-copy (PDQ matches at 31 of 256 bits or less)." },
	{ "quality", INTAKE_UINT, 0, 0, true,
	  "How much detail the image had for the hash (PDQ 0-100; below 50 is not matched). Empty for exact digests." },
	{ "dihedral_variant", INTAKE_UINT, 0, 7, true,
	  "Which rotation or mirror image of the file matched (0 = as stored)." },
	{ "region", INTAKE_REGION, 0, 0, true,
	  "Where in the image the match was found: 'whole' is the image as stored; 'inner' is a picture inside a border, letterbox bars or a screenshot frame that the scanner cut away; 'inner_outer' is the same with one frame (or the picture's own plain edge) left on." },
	{ "box", INTAKE_BOX, 0, 0, true,
	  "For an inner region: where the matching picture sits in the file's image, as x, y, width, height in pixels from the top left corner." },
	{ "confirmed", INTAKE_BOOL, 0, 0, false,
	  "Yes when a second, independent check agreed (an exact digest or a second hash method); no means a single perceptual match, which can be a false positive." },
	{ "signals", INTAKE_IDLIST, 0, 0, true,
	  "Every hash method that matched this list entry." },
	{ "threshold", INTAKE_UINT, 0, 0, true,
	  "How many distinct matches in this category the policy wants before alerting." },
	{ "match_count", INTAKE_UINT, 0, 0, true,
	  "How many distinct listed images of this category the laptop has matched." },
	{ "file_sha256", HEX(64), false,
	  "SHA-256 of the file, so an examiner can find the exact file on the laptop. It does not reveal the image." },
	{ "path", INTAKE_STR, 1, 4096, true,
	  "Where the file is on the laptop; sent only if the district's policy turns it on." },
	{ "audit_seq", INTAKE_UINT, 0, 0, false,
	  "Record number in the laptop's tamper-evident scan log when the alert was queued." },
	{ "audit_head", INTAKE_HEX, 0, 64, false,
	  "Hash of the scan log up to that record; an auditor checks the laptop's log against it." },
	{ NULL, 0, 0, 0, false, NULL },
};

/* Heartbeat fields; "lists" is checked on its own below. */
static const struct intake_field heartbeat_fields[] = {
	{ "v", INTAKE_UINT, 1, 1, false, NULL },
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

static int reject(struct intake_error *err, int status, const char *code,
		const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static int reject(struct intake_error *err, int status, const char *code,
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
			return reject(err, 400, "bad_schema", "field '%s' must be an integer", f->name);
		t = json_object_get_int64(v);
		if (t < 0 || t > (INT64_C(1) << 53) ||
		    (f->max && (t < (int64_t)f->min || t > (int64_t)f->max)))
			return reject(err, 400, "bad_schema", "field '%s' is out of range", f->name);
		return 0;
	case INTAKE_NUM:
		if ((!json_object_is_type(v, json_type_int) &&
		     !json_object_is_type(v, json_type_double)) ||
		    !(json_object_get_double(v) >= 0 && json_object_get_double(v) < 1e15))
			return reject(err, 400, "bad_schema", "field '%s' must be a number >= 0",
				    f->name);
		return 0;
	case INTAKE_IDLIST: {
		static const struct intake_field name = { "name", INTAKE_ID, 1, 64, false, NULL };
		if (!json_object_is_type(v, json_type_array) ||
		    json_object_array_length(v) > INTAKE_MAX_NAMES)
			return reject(err, 400, "bad_schema", "field '%s' must be a list of names",
				    f->name);
		for (size_t i = 0; i < json_object_array_length(v); i++)
			if (check_field(&name, json_object_array_get_idx(v, i), err) < 0)
				return reject(err, 400, "bad_schema", "field '%s' must be a list of names",
					    f->name);
		return 0;
	}
	case INTAKE_BOOL:
		if (!json_object_is_type(v, json_type_boolean))
			return reject(err, 400, "bad_schema", "field '%s' must be true or false", f->name);
		return 0;
	case INTAKE_REGION: {
		/* where in the image the match was found (docs/alert-format.md) */
		static const char *const regions[] = { INTAKE_REGION_DEFAULT, "inner",
						       "inner_outer" };
		for (size_t i = 0; json_object_is_type(v, json_type_string) && i < 3; i++)
			if (strcmp(json_object_get_string(v), regions[i]) == 0)
				return 0;
		return reject(err, 400, "bad_schema",
			      "field '%s' must be \"whole\", \"inner\" or \"inner_outer\"", f->name);
	}
	case INTAKE_BOX:
		if (!json_object_is_type(v, json_type_array) || json_object_array_length(v) != 4)
			return reject(err, 400, "bad_schema", "field '%s' must be [x, y, w, h]", f->name);
		for (size_t i = 0; i < 4; i++) {
			json_object *c = json_object_array_get_idx(v, i);
			t = json_object_is_type(c, json_type_int) ? json_object_get_int64(c) : -1;
			if (t < (i >= 2 ? 1 : 0) || t > INTAKE_MAX_PIXELS)
				return reject(err, 400, "bad_schema",
					      "field '%s' must be [x, y, w, h] in pixels, w and h at least 1",
					      f->name);
		}
		return 0;
	default:
		break;
	}
	if (!json_object_is_type(v, json_type_string))
		return reject(err, 400, "bad_schema", "field '%s' must be a string", f->name);
	s = json_object_get_string(v);
	n = (size_t)json_object_get_string_len(v);
	if (n < f->min || n > f->max || strlen(s) != n)
		return reject(err, 400, "bad_schema", "field '%s' must be %u to %u bytes long",
			    f->name, f->min, f->max);
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		bool ok = f->type == INTAKE_ID	  ? id_char(c)
			  : f->type == INTAKE_HEX ? (isdigit(c) || (c >= 'a' && c <= 'f'))
						  : (c >= 0x20 && c != 0x7f);
		if (!ok)
			return reject(err, 400, "bad_schema", "field '%s' has a character it may not have",
				    f->name);
	}
	if (f->type == INTAKE_TIME && intake_parse_time(s, &t) < 0)
		return reject(err, 400, "bad_schema",
			    "field '%s' must be a UTC time like 2024-05-01T09:30:00Z", f->name);
	return 0;
}

/* Check obj against a field table.  Fields the table does not name are
 * ignored, as docs/alert-format.md asks of readers (a newer scanner may add
 * some); they are not stored in columns, only in the signed original. */
static int check_object(const struct intake_field *table, json_object *obj,
			const char *what, struct intake_error *err)
{
	if (!json_object_is_type(obj, json_type_object))
		return reject(err, 400, "bad_schema", "'%s' must be an object", what);
	for (const struct intake_field *f = table; f->name; f++) {
		json_object *v = NULL;
		if (!json_object_object_get_ex(obj, f->name, &v) || !v) {
			if (f->optional)
				continue;
			return reject(err, 400, "bad_schema", "%s field '%s' is missing", what, f->name);
		}
		if (check_field(f, v, err) < 0)
			return -EINVAL;
	}
	return 0;
}

/* A box says where an inner region is: an inner region has one, the
 * whole image (or no region: an older scanner) none. */
static int check_alert(json_object *a, struct intake_error *err)
{
	json_object *region = NULL, *box = NULL;

	if (check_object(intake_alert_fields, a, "alert", err) < 0)
		return -EINVAL;
	json_object_object_get_ex(a, "region", &region);
	json_object_object_get_ex(a, "box", &box);
	bool inner = region && strcmp(json_object_get_string(region), INTAKE_REGION_DEFAULT) != 0;
	if (inner != (box != NULL))
		return reject(err, 400, "bad_schema",
			      "alert field 'box' must be given for an inner region and only then");
	return 0;
}

static int check_heartbeat(json_object *hb, struct intake_error *err)
{
	json_object *lists;

	if (check_object(heartbeat_fields, hb, "heartbeat", err) < 0)
		return -EINVAL;
	if (!json_object_object_get_ex(hb, "lists", &lists) ||
	    !json_object_is_type(lists, json_type_array))
		return reject(err, 400, "bad_schema", "heartbeat field 'lists' must be an array");
	if (json_object_array_length(lists) > INTAKE_MAX_LISTS)
		return reject(err, 400, "bad_schema", "heartbeat has more than %d lists",
			    INTAKE_MAX_LISTS);
	for (size_t i = 0; i < json_object_array_length(lists); i++)
		if (check_object(list_fields, json_object_array_get_idx(lists, i),
				 "heartbeat list", err) < 0)
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

/* Decode base64 (padded or not) into a new NUL-terminated buffer.  Returns
 * NULL if s is not base64 or decodes to more than max bytes. */
static unsigned char *unbase64(const char *s, size_t slen, size_t max, size_t *ret_len)
{
	static const int variants[] = { sodium_base64_VARIANT_ORIGINAL,
					sodium_base64_VARIANT_ORIGINAL_NO_PADDING };
	size_t cap = slen / 4 * 3 + 3, n = 0;
	unsigned char *buf;

	if (slen > (max + 2) / 3 * 4 || !(buf = malloc(cap + 1)))
		return NULL;
	for (size_t i = 0; i < 2; i++)
		if (sodium_base642bin(buf, cap, s, slen, NULL, &n, NULL, variants[i]) == 0 &&
		    n <= max) {
			buf[n] = '\0';
			*ret_len = n;
			return buf;
		}
	free(buf);
	return NULL;
}

/* A base64 field of the envelope that must decode to exactly size bytes. */
static bool envelope_bytes(json_object *root, const char *key, unsigned char *out, size_t size)
{
	json_object *v;
	unsigned char *b;
	size_t n = 0;

	if (!json_object_object_get_ex(root, key, &v) || !json_object_is_type(v, json_type_string))
		return false;
	b = unbase64(json_object_get_string(v), (size_t)json_object_get_string_len(v), size, &n);
	if (b && n == size)
		memcpy(out, b, size);
	free(b);
	return b && n == size;
}

int intake_parse(const char *kind, const char *body, size_t len,
		 struct intake_record *ret, struct intake_error *err)
{
	struct intake_record r = { .kind = kind, .body = body, .body_len = len };
	bool alert = strcmp(kind, "alert") == 0;
	const char *format = alert ? INTAKE_ALERT_FORMAT : INTAKE_HEARTBEAT_FORMAT;
	json_object *v;
	size_t end = 0, trimmed = len;
	int rc = -EINVAL;

	if (len > INTAKE_MAX_BODY) {
		reject(err, 413, "too_large", "body is larger than %d bytes", INTAKE_MAX_BODY);
		goto out;
	}
	while (trimmed > 0 && strchr(" \t\r\n", body[trimmed - 1]))
		trimmed--;
	r.root = parse_prefix(body, trimmed, true, &end);
	if (!r.root || end != trimmed) {
		reject(err, 400, "bad_json", "body is not one valid JSON value");
		goto out;
	}
	if (!json_object_is_type(r.root, json_type_object)) {
		reject(err, 400, "bad_schema", "body must be a JSON object");
		goto out;
	}
	if (!json_object_object_get_ex(r.root, "format", &v) ||
	    !json_object_is_type(v, json_type_string) ||
	    strcmp(json_object_get_string(v), format) != 0) {
		reject(err, 400, "bad_format", "envelope field 'format' must be \"%s\" here", format);
		goto out;
	}
	if (!envelope_bytes(r.root, "sig", r.sig, sizeof(r.sig))) {
		reject(err, 400, "bad_schema", "envelope field 'sig' must be a base64 Ed25519 signature");
		goto out;
	}
	if (json_object_object_get_ex(r.root, "device_pub", NULL)) {
		if (!envelope_bytes(r.root, "device_pub", r.pub, sizeof(r.pub))) {
			reject(err, 400, "bad_schema",
			     "envelope field 'device_pub' must be a base64 Ed25519 public key");
			goto out;
		}
		r.has_pub = true;
	}
	if (!json_object_object_get_ex(r.root, "payload", &v) ||
	    !json_object_is_type(v, json_type_string) ||
	    !(r.payload = unbase64(json_object_get_string(v), (size_t)json_object_get_string_len(v),
				   INTAKE_MAX_BODY, &r.payload_len))) {
		reject(err, 400, "bad_schema", "envelope field 'payload' must be base64");
		goto out;
	}
	r.rec = parse_prefix((const char *)r.payload, r.payload_len, true, &end);
	if (!r.rec || end != r.payload_len) {
		reject(err, 400, "bad_json", "the payload is not one valid JSON value");
		goto out;
	}
	if (alert ? check_alert(r.rec, err) < 0 : check_heartbeat(r.rec, err) < 0)
		goto out;
	r.device_id = json_object_get_string(json_object_object_get(r.rec, "device_id"));
	intake_parse_time(json_object_get_string(json_object_object_get(r.rec, alert ? "detected_at"
										   : "time")),
			  &r.reported_time);
	*ret = r;
	memset(&r, 0, sizeof(r));
	rc = 0;
out:
	intake_record_done(&r);
	return rc;
}

int intake_verify(const struct intake_record *rec,
		  const unsigned char pk[crypto_sign_PUBLICKEYBYTES],
		  struct intake_error *err)
{
	if (rec->has_pub && sodium_memcmp(rec->pub, pk, crypto_sign_PUBLICKEYBYTES) != 0) {
		reject(err, 403, "bad_signature",
		     "the envelope names a key other than the one enrolled for this device");
		return -EPERM;
	}
	if (crypto_sign_verify_detached(rec->sig, rec->payload, rec->payload_len, pk) != 0) {
		reject(err, 403, "bad_signature",
		     "the signature does not verify with the key enrolled for this device");
		return -EPERM;
	}
	return 0;
}

void intake_record_done(struct intake_record *rec)
{
	if (!rec)
		return;
	json_object_put(rec->root);
	json_object_put(rec->rec);
	free(rec->payload);
	rec->root = NULL;
	rec->rec = NULL;
	rec->payload = NULL;
}

/* Decode one word as a 32-byte key, hex or base64. */
static bool key_word(const char *w, size_t wl, unsigned char pk[crypto_sign_PUBLICKEYBYTES])
{
	size_t n = 0;
	if (wl == 2 * crypto_sign_PUBLICKEYBYTES)
		return sodium_hex2bin(pk, crypto_sign_PUBLICKEYBYTES, w, wl, NULL, &n, NULL) == 0 &&
		       n == crypto_sign_PUBLICKEYBYTES;
	return sodium_base642bin(pk, crypto_sign_PUBLICKEYBYTES, w, wl, NULL, &n, NULL,
				 sodium_base64_VARIANT_ORIGINAL) == 0 &&
	       n == crypto_sign_PUBLICKEYBYTES;
}

int intake_read_pubkey(const char *path, unsigned char ret_pk[crypto_sign_PUBLICKEYBYTES],
		       char *ret_name, size_t name_size)
{
	unsigned char pk[crypto_sign_PUBLICKEYBYTES];
	char *buf = NULL, *save = NULL, *wsave = NULL;
	size_t len;
	int r;

	r = hw_read_file(path, 4096, (void **)&buf, &len);
	if (r < 0)
		return r;
	r = -EINVAL;
	for (char *line = strtok_r(buf, "\n", &save); line && r < 0;
	     line = strtok_r(NULL, "\n", &save)) {
		line += strspn(line, " \t\r");
		if (*line == '#')
			continue;
		for (char *w = strtok_r(line, " \t\r", &wsave); w; w = strtok_r(NULL, " \t\r", &wsave)) {
			if (strncmp(w, "ed25519:", 8) == 0)
				w += 8;
			if (!key_word(w, strlen(w), pk))
				continue;
			char *next = strtok_r(NULL, " \t\r", &wsave);
			if (name_size)
				snprintf(ret_name, name_size, "%s", next ? next : "");
			memcpy(ret_pk, pk, sizeof(pk));
			r = 0;
			break;
		}
	}
	free(buf);
	return r;
}
