/* auditrec.h - the record format of the audit log, shared by the writer
 * (auditlog.c) and the reader (auditverify.c): how one record line is
 * hashed, how its time is written, and how a line is parsed back into a
 * record with every member checked.  docs/audit-log.md is the
 * specification; this is its single implementation.
 *
 * A record is one line of UTF-8 JSON, an object with exactly these members
 * in this order:  {"seq":N,"time":"YYYY-MM-DDTHH:MM:SS.mmmZ","type":"...",
 * "fields":{...},"prev":"<64 hex>"}.  The hash of a record is the SHA-256
 * of the line's exact bytes without its newline; `prev` holds the hash of
 * the previous record (all zeros for the first record of a chain), and the
 * hash of the last record is the chain head.
 */
#ifndef HW_AUDITREC_H
#define HW_AUDITREC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <json-c/json.h>

#define AUDIT_HEAD_HEX 65 /* 64 hex digits + NUL */
#define AUDIT_TIME_LEN 25 /* "2024-05-01T12:34:56.789Z" + NUL */
#define AUDIT_TYPE_MAX 32 /* longest record type name */
/* Hard limit of one record line (without its newline).  The writer refuses
 * a bigger record (-EMSGSIZE); the reader reports a longer line as broken. */
#define AUDIT_MAX_LINE (64 * 1024)

/* The `prev` of the first record of a chain, and the head of an empty log. */
extern const char audit_zero_head[AUDIT_HEAD_HEX];

/* A parsed record.  Every pointer is borrowed from `obj` (or from the line
 * given to audit_record_parse) and lives as long as both do. */
struct audit_record {
	uint64_t seq;
	int64_t time_ms; /* milliseconds since the epoch, UTC */
	const char *time; /* as written */
	const char *type;
	json_object *fields; /* an object */
	const char *prev; /* 64 lower-case hex digits */
	char hash[AUDIT_HEAD_HEX]; /* hash of this line: the head after it */
	json_object *obj; /* the whole record; owned by the record */
	const char *line; /* the raw bytes, not NUL-terminated */
	size_t len;
};

/* Lower-case hex SHA-256 of line[0..len) into out. */
void audit_hash_line(const char *line, size_t len, char out[AUDIT_HEAD_HEX]);

/* Format ms since the epoch as RFC 3339 UTC with milliseconds.  Returns 0,
 * or -ERANGE for a time outside years 0000..9999. */
int audit_time_format(int64_t ms, char out[AUDIT_TIME_LEN]);

/* Parse exactly the form audit_time_format writes.  Returns 0 or -EINVAL. */
int audit_time_parse(const char *s, int64_t *ret_ms);

/* Current UTC time in ms (CLOCK_REALTIME). */
int64_t audit_now_ms(void);

/* A valid record type: 1..AUDIT_TYPE_MAX of [a-z0-9_], starting with a
 * letter. */
bool audit_type_valid(const char *type);

/* Exactly 64 lower-case hex digits. */
bool audit_hex_valid(const char *s);

/* Parse and check one line (without its newline).  On success returns 0
 * and fills *rec (release with audit_record_release); -EBADMSG when the
 * line is not a well-formed record, with a short reason in why (which may
 * be NULL); -ENOMEM. */
int audit_record_parse(const char *line, size_t len, struct audit_record *rec,
		       char *why, size_t why_len);

/* Drop the parsed object; accepts a record that was never filled. */
void audit_record_release(struct audit_record *rec);

#endif
