/* wire.h - from a spool file to a request body.  The scanner writes each
 * alert (and its heartbeat) as a signed envelope, docs/alert-format.md:
 *
 *   {"format":"hashwatch-alert/1","payload":"<base64 of the record JSON>",
 *    "sig":"<base64 Ed25519 over those bytes>","device_pub":"<base64>"}
 *
 * and the receiver takes, docs/receiver-api.md:
 *
 *   {"alert":<the record JSON, byte for byte>,"sig":"...","device_id":"..."}
 *
 * The conversion copies the signed bytes unchanged between the two, so the
 * signature made by the scanner is the one the receiver checks: the uplink,
 * which holds no key, can repackage an alert but can neither make nor alter
 * one.  It checks only what it needs (the shape, that the payload is one
 * JSON object, the ids); the receiver checks the rest.
 */
#ifndef HW_UPLINK_WIRE_H
#define HW_UPLINK_WIRE_H

#include <stddef.h>

#include <json-c/json.h>

#define WIRE_ALERT_FORMAT "hashwatch-alert/1"
#define WIRE_HEARTBEAT_FORMAT "hashwatch-heartbeat/1"
#define WIRE_ID_MAX 65 /* ids are at most 64 bytes, + NUL */

enum wire_kind { WIRE_ALERT, WIRE_HEARTBEAT };

struct wire_msg {
	char *body;              /* the request body (owned, NUL-terminated) */
	size_t len;
	char alert_id[WIRE_ID_MAX]; /* alerts: "alert_id"; heartbeats: "" */
	char device_id[WIRE_ID_MAX];
	json_object *record;     /* the payload, parsed (owned) */
};

/* Turn the envelope text[0..len) of the given kind into a request body.
 * Returns 0 and fills *ret (wire_msg_done() it); -EBADMSG with a reason
 * in why (the file will never be deliverable: malformed, wrong format,
 * ids missing or not printable); -ENOMEM. */
int wire_from_envelope(enum wire_kind kind, const char *text, size_t len,
		       struct wire_msg *ret, char *why, size_t whylen);

/* Free what wire_from_envelope made; a zeroed message is fine. */
void wire_msg_done(struct wire_msg *m);

#endif
