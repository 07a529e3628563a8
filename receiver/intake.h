/* intake.h - checking what a device sends before anything is stored: the
 * envelope ({"alert"|"heartbeat": {...}, "sig": "...", "device_id": "..."}),
 * every field of the record against a fixed schema, and the Ed25519
 * signature over the exact bytes of the record as they appear in the body.
 *
 * This module knows nothing of HTTP or SQLite; it turns bytes into a checked
 * record or into a rejection with a reason a person can read.  The schema
 * table below is the single place that names the alert fields: the store
 * derives its columns from it.
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

enum intake_type {
	INTAKE_STR,  /* printable ASCII/UTF-8 text, no control characters */
	INTAKE_ID,   /* [A-Za-z0-9._:@/+-], a device, list or model name */
	INTAKE_HEX,  /* lowercase hex, length in [min, max] */
	INTAKE_UINT, /* integer 0 .. 2^53 (exact in every JSON reader) */
	INTAKE_BOOL,
	INTAKE_TIME, /* UTC, RFC 3339: 2024-05-01T09:30:00Z (fraction allowed) */
};

struct intake_field {
	const char *name; /* JSON key and SQL column name */
	enum intake_type type;
	unsigned min, max; /* string length bounds (bytes) */
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

/* A parsed envelope whose schema is valid.  The signature is checked
 * separately (intake_verify) because the key depends on the device. */
struct intake_record {
	json_object *root;	 /* the whole body, parsed (owned) */
	json_object *rec;	 /* root's "alert" or "heartbeat" (borrowed) */
	const char *kind;	 /* "alert" or "heartbeat" */
	const char *device_id;	 /* borrowed from root */
	unsigned char sig[crypto_sign_BYTES];
	const char *body;	 /* the caller's body bytes (borrowed) */
	size_t body_len;
	size_t span_off, span_len; /* the signed bytes, once verified */
	int64_t reported_time;	 /* detected_at / time, seconds since epoch */
};

/* Parse and schema-check a body of kind "alert" or "heartbeat".  body must
 * stay alive and unchanged as long as *ret is used.  Returns 0 and fills
 * *ret (release with intake_record_done), or -EINVAL and fills *err. */
int intake_parse(const char *kind, const char *body, size_t len,
		 struct intake_record *ret, struct intake_error *err);

/* Check rec's signature with the device's public key.  The signed bytes
 * are the record object exactly as it appears in the body; they must also
 * parse to the same object the schema check saw (so that a duplicate key
 * cannot smuggle a second, unsigned record).  Returns 0 and sets
 * span_off/span_len, or -EPERM and fills *err. */
int intake_verify(struct intake_record *rec,
		  const unsigned char pk[crypto_sign_PUBLICKEYBYTES],
		  struct intake_error *err);

/* Free what intake_parse allocated; accepts a zeroed record. */
void intake_record_done(struct intake_record *rec);

/* Parse "YYYY-MM-DDTHH:MM:SS[.frac]Z" into seconds since the epoch.
 * Returns 0 or -EINVAL. */
int intake_parse_time(const char *s, int64_t *ret);

/* Read a device public key file: 32 bytes of Ed25519 public key as base64
 * or hex on one line, blank lines and lines starting with '#' ignored.
 * Returns 0, -EINVAL (not a key), or -errno. */
int intake_read_pubkey(const char *path,
		       unsigned char ret_pk[crypto_sign_PUBLICKEYBYTES]);

#endif
