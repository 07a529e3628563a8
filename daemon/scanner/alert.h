/* alert.h - alert records: what the response team receives for a match
 * (the fields in DESIGN.md, "Alert record"), as JSON, signed with the
 * device key, in the envelope that docs/alert-format.md defines:
 *
 *   {"format":"hashwatch-alert/1","payload":"<base64 of the alert JSON>",
 *    "sig":"<base64 Ed25519 signature of those exact bytes>",
 *    "device_pub":"<base64 public key>"}
 *
 * The payload travels as base64 of its exact bytes so that anyone can
 * check the signature without re-serialising JSON the same way.
 */
#ifndef HW_SCANNER_ALERT_H
#define HW_SCANNER_ALERT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <json-c/json.h>

#include "devkey.h"

#define ALERT_ID_HEX 33 /* 128 random bits in hex + NUL */
#define ALERT_FORMAT "hashwatch-alert/1"
#define ALERT_PAYLOAD_VERSION 1

/* A new random alert id. */
void alert_new_id(char out[ALERT_ID_HEX]);

/* "2024-05-01T12:34:56.789Z" for t. out must hold 32 bytes. */
void alert_time(const struct timespec *t, char out[32]);

/* The signed envelope for the alert object (borrowed).  Returns 0 and a
 * malloc()ed NUL-terminated text in *ret (length *ret_len), or -ENOMEM. */
int alert_envelope(json_object *alert, const struct devkey *key, char **ret,
		   size_t *ret_len);

/* The same envelope for another signed record of the device: the
 * heartbeat (heartbeat.h), format "hashwatch-heartbeat/1". */
int alert_envelope_format(const char *format, json_object *alert, const struct devkey *key,
			  char **ret, size_t *ret_len);

/* Check an envelope (tests, tools): the signature must verify with the
 * public key inside it, and if want_pub is not NULL that key must be it.
 * Returns 0 and the parsed alert object in *ret (json_object_put it), or
 * -EBADMSG (malformed) / -EKEYREJECTED (bad signature or other key). */
int alert_verify(const char *text, size_t len, const uint8_t *want_pub,
		 json_object **ret);

#endif
