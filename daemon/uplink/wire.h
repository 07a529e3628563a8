/* wire.h - what the uplink checks in a spool file before it sends it.  The
 * scanner writes each alert (and its heartbeat) as a signed envelope,
 * docs/alert-format.md:
 *
 *   {"format":"hashwatch-alert/1","payload":"<base64 of the record JSON>",
 *    "sig":"<base64 Ed25519 over those bytes>","device_pub":"<base64>"}
 *
 * and the receiver takes exactly that as the request body
 * (docs/receiver-api.md).  The uplink sends the file's bytes unchanged: it
 * holds no key and can neither make nor alter an alert.  It looks inside
 * only to learn the ids it logs and records, and to set aside at once a
 * file that can never be delivered (not an envelope of the expected
 * format, a payload that is not one JSON object, ids missing); everything
 * else, the signature first, is the receiver's to check.
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
	const char *body;           /* the request body: the file's bytes
				     * (borrowed from the caller's text) */
	size_t len;
	char alert_id[WIRE_ID_MAX]; /* alerts: "alert_id"; heartbeats: "" */
	char device_id[WIRE_ID_MAX];
	json_object *record;        /* the payload, parsed (owned) */
};

/* Check the envelope text[0..len) of the given kind; text must outlive
 * *ret.  Returns 0 and fills *ret (wire_msg_done() it); -EBADMSG with a
 * reason in why (the file will never be deliverable: malformed, another
 * format, ids missing or not printable); -ENOMEM. */
int wire_check(enum wire_kind kind, const char *text, size_t len, struct wire_msg *ret,
	       char *why, size_t whylen);

/* Free what wire_check made; a zeroed message is fine. */
void wire_msg_done(struct wire_msg *m);

#endif
