/* record.h - the daemon's audit-log records, one function per record type
 * of docs/audit-log.md, so that the field names live in one place.
 *
 * Privacy (DESIGN.md invariants 2 and 6): no record names or hashes a file
 * that did not match; skips and errors carry a reason, never a path.
 * When the audit log cannot be written the daemon logs that and carries on:
 * an alert is never held back for the audit log's sake.
 */
#ifndef HW_SCANNER_RECORD_H
#define HW_SCANNER_RECORD_H

#include <stdbool.h>
#include <stdint.h>

#include <json-c/json.h>

#include "crawl.h"
#include "lists.h"

struct daemon;

/* Open the audit log at path into d->audit.  A log whose chain is broken
 * is set aside (kept as evidence) and a new chain started; the start
 * record says so.  Returns 0 or -EBUSY (another writer) / -errno. */
int record_open(struct daemon *d, const char *path);

/* Append one record (fields borrowed, may be NULL).  When ret_seq /
 * ret_head are given they receive the record's sequence number and the
 * chain head after it (0 and "" without an audit log).  Returns 0 when
 * the record is in the log (synced if sync), else -errno (logged here;
 * -ENODEV: no audit log is open). */
int record_append(struct daemon *d, const char *type, json_object *fields, bool sync,
		   uint64_t *ret_seq, char *ret_head);

void record_start(struct daemon *d);
void record_stop(struct daemon *d, const char *reason);
void record_config(struct daemon *d);
void record_list(struct daemon *d, const struct list_report *rep);
void record_crawl_start(struct daemon *d, const char *reason, size_t roots);
void record_crawl_done(struct daemon *d, const char *reason, const struct crawl_stats *st,
		       uint64_t cached, uint64_t duration_ms);
/* scan_counts with what changed since the last one; nothing if nothing. */
void record_counts(struct daemon *d);
void record_skip(struct daemon *d, const char *reason, uint64_t limit);
void record_error(struct daemon *d, const char *where, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* alert_delivered (synced) or heartbeat, from an uplink receipt; returns
 * what record_append returned, so the receipt is deleted only after. */
struct receipt;
int record_receipt(struct daemon *d, const struct receipt *rc);

#endif
