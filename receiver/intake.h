/* intake.h - checking what a device sends before anything is stored: the
 * signed envelope
 *
 *   {"format": "hashwatch-alert/1" | "hashwatch-heartbeat/1",
 *    "payload": "<base64 of the record's JSON bytes>",
 *    "sig": "<base64 Ed25519 signature over exactly those bytes>",
 *    "device_pub": "<base64 public key>"}          (optional)
 *
 * (the scanner's docs/alert-format.md), every field of the record against
 * a fixed schema, and the signature with the key enrolled for the device the
 * record names.
 *
 * This module knows nothing of HTTP or SQLite; it turns bytes into a checked
 * record or into a rejection with a reason a person can read.  The schema
 * table below is the single place that names the alert fields: the store
 * derives its INSERT from it.
 */
#ifndef HW_INTAKE_H
#define HW_INTAKE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <json-c/json.h>
#include <sodium.h>

#define INTAKE_MAX_BODY (64 * 1024) /* bytes; larger bodies are refused */
#define INTAKE_MAX_LISTS 64	    /* lists in one heartbeat */
#define INTAKE_MAX_NAMES 16	    /* names in an INTAKE_IDLIST field */
#define INTAKE_ALERT_FORMAT "hashwatch-alert/1"
#define INTAKE_HEARTBEAT_FORMAT "hashwatch-heartbeat/1"

enum intake_type {
	INTAKE_STR,  /* printable ASCII/UTF-8 text, no control characters */
	INTAKE_ID,   /* [A-Za-z0-9._:@/+-], a device, list or model name */
	INTAKE_HEX,  /* lowercase hex, length in [min, max] */
	INTAKE_UINT, /* integer 0 .. 2^53 (exact in every JSON reader); in
		      * [min, max] when max is not 0 */
	INTAKE_NUM,  /* number >= 0, integer or not (OpenCV distances) */
	INTAKE_IDLIST, /* array of up to INTAKE_MAX_NAMES INTAKE_ID strings */
	INTAKE_BOOL,
	INTAKE_TIME, /* UTC, RFC 3339: 2024-05-01T09:30:00Z (fraction allowed) */
	INTAKE_REGION, /* "whole", "inner" or "inner_outer"; when absent the
			* store keeps INTAKE_REGION_DEFAULT */
	INTAKE_BOX,  /* [x, y, w, h]: four integers 0 .. INTAKE_MAX_PIXELS, w and
		      * h at least 1 (a region of the file's image, in pixels) */
};

#define INTAKE_MAX_PIXELS 1000000000u /* a box coordinate at most this */
#define INTAKE_REGION_DEFAULT "whole"  /* alerts of scanners before trimming */

struct intake_field {
	const char *name; /* JSON key and SQL column name */
	enum intake_type type;
	unsigned min, max; /* string length bounds (bytes), or UINT range */
	bool optional;	   /* may be absent or null */
	const char *meaning; /* plain words for the dashboard */
};

/* The alert record's fields, in display order; terminated by name == NULL. */
extern const struct intake_field intake_alert_fields[];

/* Why a body was refused: an HTTP status and a short machine-readable code,
 * with a sentence for the log and the response.  Never contains field
 * values, only field names. */
struct intake_error {
	int status;	  /* 400, 403, 409, 413, 415 */
	const char *code; /* "bad_json", "bad_schema", "bad_signature", ... */
	char detail[160];
};

/* A parsed envelope whose record passed the schema check.  The signature
 * is checked separately (intake_verify) because the key depends on the
 * device the record names. */
struct intake_record {
	json_object *root;	 /* the envelope (owned) */
	json_object *rec;	 /* the record parsed from the payload (owned) */
	const char *kind;	 /* "alert" or "heartbeat" */
	const char *device_id;	 /* borrowed from rec */
	unsigned char *payload;	 /* the signed bytes, NUL-terminated (owned) */
	size_t payload_len;
	unsigned char sig[crypto_sign_BYTES];
	unsigned char pub[crypto_sign_PUBLICKEYBYTES]; /* device_pub, if has_pub */
	bool has_pub;
	const char *body;	 /* the caller's body bytes (borrowed) */
	size_t body_len;
	int64_t reported_time;	 /* detected_at / time, seconds since the epoch */
};

/* Parse and schema-check a body of kind "alert" or "heartbeat".  body must
 * stay alive and unchanged as long as *ret is used.  Returns 0 and fills
 * *ret (release with intake_record_done), or -EINVAL and fills *err. */
int intake_parse(const char *kind, const char *body, size_t len,
		 struct intake_record *ret, struct intake_error *err);

/* Check the signature over the payload with the device's enrolled public
 * key (and, when the envelope names a key, that it is the same one).
 * Returns 0, or -EPERM and fills *err. */
int intake_verify(const struct intake_record *rec,
		  const unsigned char pk[crypto_sign_PUBLICKEYBYTES],
		  struct intake_error *err);

/* Free what intake_parse allocated; accepts a zeroed record. */
void intake_record_done(struct intake_record *rec);

/* Parse "YYYY-MM-DDTHH:MM:SS[.frac]Z" into seconds since the epoch.
 * Returns 0 or -EINVAL. */
int intake_parse_time(const char *s, int64_t *ret);

/* Read a device public key file: the first word, on a line that is not
 * blank or a '#' comment, that is the base64 or hex of 32 bytes.  The
 * scanner writes "ed25519 <base64> <device id>"; the word after the key,
 * if any, is copied to ret_name (size name_size; "" if none).  Returns 0,
 * -EINVAL (no key in the file), or -errno. */
int intake_read_pubkey(const char *path, unsigned char ret_pk[crypto_sign_PUBLICKEYBYTES],
		       char *ret_name, size_t name_size);

#endif
