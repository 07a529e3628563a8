/* auditlog.h - the tamper-evident scan log: JSON Lines, each record
 * carrying a sequence number, UTC time, type, fields and the SHA-256 of the
 * previous record, so the file is a hash chain (`hashwatch audit verify`).
 *
 * Writers: the daemon (and, through it or on its own, the uplink).
 * Never put a hash of an image that did not match into a record.
 */
#ifndef HW_AUDITLOG_H
#define HW_AUDITLOG_H

#include <stdbool.h>
#include <stdint.h>

#include <json-c/json.h>

#define AUDIT_HEAD_HEX 65 /* 64 hex digits + NUL */

struct auditlog;

/* Open (create 0640 if missing) the log at path and find the chain head,
 * reporting and skipping a partially written last line.  Returns 0 or
 * -errno / -EBADMSG (the existing chain is broken: the caller decides). */
int auditlog_open(const char *path, struct auditlog **ret);
void auditlog_close(struct auditlog *log);

/* Append one record of `type` with `fields` (an object; borrowed, not
 * consumed; may be NULL).  sync: fsync before returning (always for match
 * and alert records).  On success returns 0 and, when the pointers are not
 * NULL, the record's sequence number and the new chain head (hex). */
int auditlog_append(struct auditlog *log, const char *type,
		    json_object *fields, bool sync, uint64_t *ret_seq,
		    char ret_head[AUDIT_HEAD_HEX]);

/* Current sequence number (of the last record) and chain head. */
uint64_t auditlog_seq(const struct auditlog *log);
const char *auditlog_head(const struct auditlog *log);

#endif
