/* auditverify.h - read and verify an audit log: one or more files (the
 * rotated predecessors, oldest first, then the current file) checked as one
 * hash chain, optionally against a chain head recorded elsewhere (the
 * receiver's copy), which is what catches a truncated tail.
 *
 * The verifier is also the reader: `hashwatch audit show|summary` walk the
 * records through it so that what they print is what was verified, and the
 * writer (auditlog.c) uses it to find the head of the file it continues.
 * Library code: nothing is printed; findings are returned as data.
 */
#ifndef HW_AUDITVERIFY_H
#define HW_AUDITVERIFY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "auditrec.h"

enum audit_problem_kind {
	AUDIT_OK = 0,
	AUDIT_BAD_RECORD, /* not JSON, or a member missing or malformed */
	AUDIT_BAD_START, /* the first record is neither seq 1 with a zero prev
			  * nor a rotate record: the start was cut off */
	AUDIT_SEQ_GAP, /* seq is not the previous seq + 1 */
	AUDIT_PREV_MISMATCH, /* prev is not the hash of the previous line */
	AUDIT_BAD_ROTATE, /* rotate fields disagree with the record's seq/prev */
	AUDIT_TIME_BACKWARDS, /* earlier than the previous record by more
			       * than the tolerance */
	AUDIT_ANCHOR_FORK, /* the record with the anchor's seq has another hash */
	AUDIT_ANCHOR_MISSING, /* the anchor is not in the log: truncated */
	AUDIT_ANCHOR_OLDER, /* the anchor predates the oldest record given */
};

/* Short machine name ("prev_mismatch", ...), for --json and messages. */
const char *audit_problem_name(enum audit_problem_kind kind);

struct audit_problem {
	enum audit_problem_kind kind;
	const char *file; /* borrowed from the caller's path; NULL for anchors */
	uint64_t line; /* 1-based line in file, 0 when not about a line */
	uint64_t seq; /* seq of the record, 0 when it has none */
	char detail[256];
};

struct auditverify_opts {
	/* Time may step back by this much (clock corrections) before it is a
	 * problem; negative: never a problem. */
	int64_t time_tolerance_ms;
	/* Keep going after a problem (show, summary): the offending record, if
	 * it parsed, becomes the new base of the chain, a line that did not
	 * parse is skipped.  Otherwise the walk stops at the first problem. */
	bool keep_going;
	/* Anchor: a chain head (64 hex, NULL for none) and/or a seq (0 for
	 * none) recorded elsewhere, which the log must contain. */
	const char *anchor_head;
	uint64_t anchor_seq;
};

/* Called for each record that parsed and kept the chain (and, with
 * keep_going, for records after a problem: `verified` is then false for
 * the whole rest of the walk).  A record is confirmed only by the next
 * one's prev (the last one only by an anchor), so a reader that shows
 * records should treat the one just before a problem as unverified too.
 * Return 0 to go on, or a negative errno to stop the walk with it. */
typedef int (*auditverify_fn)(const struct audit_record *rec, bool verified,
			      void *ud);

/* The walk's state and results.  Plain data: initialise with
 * auditverify_init, read the members, no destructor. */
struct auditverify {
	struct auditverify_opts opts;
	uint64_t records; /* complete records read (parsed or not) */
	uint64_t first_seq, last_seq; /* 0 when no record */
	char first_prev[AUDIT_HEAD_HEX]; /* prev of the first record */
	char head[AUDIT_HEAD_HEX]; /* hash of the last good record */
	int64_t last_time_ms;
	bool started;
	bool anchor_head_found, anchor_seq_found;
	uint64_t partial_bytes; /* unterminated bytes at the end of files */
	uint64_t problems; /* how many (more than one only with keep_going) */
	struct audit_problem problem; /* the first one */
	/* Where the current file's complete records end (bytes): what a
	 * writer keeps when it drops a partial last line. */
	uint64_t file_good_bytes;
	uint64_t file_records;
};

void auditverify_init(struct auditverify *v, const struct auditverify_opts *opts);

/* Read one file's records into the chain.  Returns 0 (look at v->problem
 * for findings), or -errno when the file could not be read, or the
 * callback's negative value.  A last line without a newline (a crash in
 * mid-write, or a write in progress) is not a record: it is counted in
 * partial_bytes and skipped, never an error.  Without keep_going, a file
 * read after a problem is not looked at. */
int auditverify_file(struct auditverify *v, const char *path, auditverify_fn fn,
		     void *ud);

/* The same for one line without its newline (file/lineno for problems). */
int auditverify_line(struct auditverify *v, const char *line, size_t len,
		     const char *file, uint64_t lineno, auditverify_fn fn, void *ud);

/* After the last file: check the anchor.  Returns true when the chain (and
 * anchor) are intact, i.e. v->problem.kind == AUDIT_OK. */
bool auditverify_finish(struct auditverify *v);

/* The files of the log at `path`, oldest first: path.N ... path.1, path
 * (those that exist).  path itself is listed even when missing if there
 * are no rotated files, so that reading it reports the error; with rotated
 * files a missing path is left out (a rotation was interrupted, and the
 * writer continues from path.1).  Returns 0 and a NULL-terminated array
 * (free with auditverify_free_files), -ENOMEM, or -E2BIG beyond 10000
 * rotated files. */
int auditverify_log_files(const char *path, char ***ret_files);
void auditverify_free_files(char **files);

/* The last complete record of one file: its seq and hash (the chain head
 * as of that file), without verifying the chain; cheap: it reads the last
 * 128 KiB only.  Returns 0, -ENODATA when the file holds no complete
 * record, -EBADMSG when its last complete line is not a record, or -errno
 * (-ENOENT: no such file). */
int auditverify_file_head(const char *file, uint64_t *ret_seq,
			  char ret_head[AUDIT_HEAD_HEX]);

/* The same for the log at `path`: its last complete record, or when path
 * is missing or empty (just rotated) that of path.1.  For the uplink, which
 * reports the head to the receiver without being the writer.  Returns as
 * auditverify_file_head. */
int auditverify_read_head(const char *path, uint64_t *ret_seq,
			  char ret_head[AUDIT_HEAD_HEX]);

#endif
