/* receipt.h - the uplink's receipts: how hashwatch-uplink tells hashwatchd
 * that the receiver confirmed an alert or a heartbeat, so that the
 * scanner's audit log (which has one writer, the scanner) can record the
 * delivery (docs/audit-log.md, "The uplink's records").
 *
 * A receipt is a small JSON file in <state>/spool/receipts/, written
 * atomically by the uplink (temp file, fsync, rename) and deleted by the
 * scanner once its audit record is synced:
 *
 *   <alert file name>  (e.g. "3f...e1.json")
 *     {"v":1,"kind":"alert","alert_id":"...","receiver":"host:port",
 *      "http_status":201,"outcome":"stored","time":"2026-...Z"}
 *   "heartbeat"  (no .json, like the spool's heartbeat)
 *     {"v":1,"kind":"heartbeat","reported_seq":N,"reported_head":"<hex>",
 *      "receiver":"host:port","ok":true,"time":"2026-...Z"}
 *
 * This module is the format's one implementation: the writer's encoder
 * and the reader's strict parser.  Nothing in a receipt identifies a file
 * or an image: an alert id, a host name, numbers.
 */
#ifndef HW_RECEIPT_H
#define HW_RECEIPT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define RECEIPT_DIR "receipts"        /* inside the spool */
#define RECEIPT_HEARTBEAT "heartbeat" /* the heartbeat receipt's name */
#define RECEIPT_VERSION 1
#define RECEIPT_MAX_BYTES 4096        /* a bigger file is not a receipt */
#define RECEIPT_ID_MAX 64             /* the receiver's id limit */
#define RECEIPT_TEXT_MAX 255          /* receiver, outcome */

enum receipt_kind { RECEIPT_KIND_ALERT, RECEIPT_KIND_HEARTBEAT };

struct receipt {
	enum receipt_kind kind;
	char time[32];                       /* when the receiver answered, UTC */
	char receiver[RECEIPT_TEXT_MAX + 1]; /* host[:port] */
	/* alert */
	char alert_id[RECEIPT_ID_MAX + 1];
	long http_status;
	char outcome[RECEIPT_TEXT_MAX + 1];  /* "stored", "duplicate", ... */
	/* heartbeat */
	uint64_t reported_seq;
	char reported_head[65];              /* 64 lower-case hex digits */
	bool ok;
};

/* Encode r as one line of JSON with a final newline.  Returns 0 and a
 * malloc()ed NUL-terminated text in *ret (length *ret_len); -EINVAL when a
 * member breaks the rules receipt_parse() checks (so that nothing the
 * reader would refuse is ever written); -ENOMEM. */
int receipt_format(const struct receipt *r, char **ret, size_t *ret_len);

/* Add r's kind-specific members (alert: alert_id, http_status, outcome;
 * heartbeat: reported_seq, reported_head, ok) and receiver to the JSON
 * object o: the members a receipt file and the scanner's audit record of
 * it share (each adds its own kind and time members).  r must be valid
 * (receipt_format's rules; receipt_parse's output is). */
struct json_object;
void receipt_add_fields(struct json_object *o, const struct receipt *r);

/* Parse text[0..len) strictly: one JSON object of the form above, at most
 * RECEIPT_MAX_BYTES, ids in the receiver's alphabet ([A-Za-z0-9._:@/+-],
 * at most 64 bytes), strings printable ASCII.  Unknown members are
 * ignored (a later uplink may add some).  Returns 0 and fills *ret;
 * -EBADMSG with a short reason in why; nothing is written to *ret then. */
int receipt_parse(const char *text, size_t len, struct receipt *ret, char *why, size_t whylen);

/* Whether a file name in receipts/ is a receipt to read: an alert
 * receipt ("<name>.json", named after the alert file it confirms) or the
 * heartbeat receipt; not a temp file ("*.tmp.*"), a dot file or anything
 * else. */
bool receipt_name_ok(const char *name);

#endif
