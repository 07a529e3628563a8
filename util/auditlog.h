/* auditlog.h - the writer of the tamper-evident scan log: JSON Lines, each
 * record carrying a sequence number, UTC time, type, fields and the SHA-256
 * of the previous record, so the file is a hash chain (`hashwatch audit
 * verify`; the format is in auditrec.h and docs/audit-log.md).
 *
 * One writer process (the daemon); an exclusive flock on the file catches a
 * second one.  Each record is one write() to an O_APPEND descriptor, so a
 * crash leaves at most one unfinished last line, which the next open
 * drops and reports.  The file is rotated (audit.log -> audit.log.1 -> ...)
 * when it would pass a size limit; the new file starts with a "rotate"
 * record that links to the last record of the old one, so the chain runs on
 * across files.  Not thread-safe: one thread, or the caller's lock.
 *
 * Privacy: the library adds only seq, time, type and prev to what the
 * caller passes; never put a path or a hash of an image that did not match
 * into `fields`.
 */
#ifndef HW_AUDITLOG_H
#define HW_AUDITLOG_H

#include <stdbool.h>
#include <stdint.h>

#include <json-c/json.h>

#include "auditrec.h"

#define AUDITLOG_DEFAULT_MAX_BYTES (8u * 1024 * 1024)
#define AUDITLOG_DEFAULT_KEEP 4
#define AUDITLOG_MAX_KEEP 1000

struct auditlog;

struct auditlog_config {
	/* Rotate before a record would take the file past this many bytes
	 * (0: AUDITLOG_DEFAULT_MAX_BYTES; at least 2 * AUDIT_MAX_LINE). */
	uint64_t max_bytes;
	/* Rotated files kept: path.1 .. path.keep (0: AUDITLOG_DEFAULT_KEEP;
	 * at most AUDITLOG_MAX_KEEP).  The oldest is deleted by the rename
	 * that would make it path.(keep+1). */
	unsigned keep;
	/* When the existing file's chain is broken: false, open fails with
	 * -EBADMSG; true, the file is renamed to path.broken-YYYYMMDDTHHMMSSZ
	 * (kept as evidence) and a new chain starts at seq 1, which verify
	 * and the receiver will show as a break. */
	bool set_aside_broken;
	/* Clock for record times, ms since the epoch (NULL: the real clock).
	 * For tests. */
	int64_t (*now_ms)(void);
};

/* What open found; read it with auditlog_report() to log it (the daemon
 * puts it into its start record). */
struct auditlog_report {
	uint64_t records; /* complete records in the file continued */
	uint64_t partial_bytes; /* an unfinished last line dropped (crash) */
	bool continued_rotation; /* the file was missing or empty after a
				  * rotation: the chain continues from path.1 */
	bool set_aside; /* the chain was broken; see set_aside_path */
	char set_aside_path[4096];
	char problem[300]; /* what was broken, when set_aside */
};

/* Open (create 0640 if missing) the log at path with the defaults.  Same as
 * auditlog_open_with(path, NULL, ret). */
int auditlog_open(const char *path, struct auditlog **ret);

/* Open the log at path, verify the chain of the current file to find its
 * head (seq, hash), and drop a partially written last line (truncating the
 * file to its last complete record).  If the file is missing or empty and
 * path.1 exists, the chain continues from path.1's last record (a rotation
 * was interrupted).  Returns 0 and *ret, or -EBUSY (another writer holds
 * the lock), -EBADMSG (the chain is broken and cfg->set_aside_broken is
 * off; `hashwatch audit verify` says where), -EINVAL (bad cfg), -errno.
 * cfg is copied. */
int auditlog_open_with(const char *path, const struct auditlog_config *cfg,
		       struct auditlog **ret);

/* Close; a NULL log is ignored.  Does not fsync: records appended with
 * sync=false may be lost in a power cut, by design. */
void auditlog_close(struct auditlog *log);

/* Append one record of `type` with `fields` (an object; borrowed, not
 * consumed; NULL means {}).  The record goes out in one write(); with sync
 * it is fsync'ed before returning (the daemon syncs start, stop, list,
 * match and alert records).  A record that would pass the size limit first
 * rotates the file.  On success returns 0 and, when the pointers are not
 * NULL, the record's sequence number and the new chain head (hex).
 * Errors: -EINVAL (type not [a-z][a-z0-9_]*, at most 32 chars, or
 * "rotate", which the library writes itself; fields not an object, nested
 * deeper than 16, or holding NaN/Infinity or invalid UTF-8),
 * -EMSGSIZE (the line would exceed AUDIT_MAX_LINE), -ENOSPC/-EIO (a short
 * write or failed fsync: nothing of the record stays in the file; seq and
 * head are unchanged), -errno.  If such a failure could not be undone, or a
 * rotation failed after renaming the file, the handle refuses every later
 * append with -EIO: close it and open the log again, which picks the chain
 * up from what is really in the files. */
int auditlog_append(struct auditlog *log, const char *type,
		    json_object *fields, bool sync, uint64_t *ret_seq,
		    char ret_head[AUDIT_HEAD_HEX]);

/* Current sequence number (of the last record; 0 for an empty log) and
 * chain head (hex; zeros for an empty log).  The head string lives until
 * the next append or close. */
uint64_t auditlog_seq(const struct auditlog *log);
const char *auditlog_head(const struct auditlog *log);

/* What open found (lives as long as the log). */
const struct auditlog_report *auditlog_report(const struct auditlog *log);

#endif
