/* audit_cli.h - what the parts of `hashwatch audit` share: the options,
 * the walk over the log's files through the verifier, and printing text
 * that came from a log (which must not reach a terminal raw: a forged
 * record could carry escape sequences).
 */
#ifndef HW_AUDIT_CLI_H
#define HW_AUDIT_CLI_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "auditverify.h"

#define AUDIT_DEFAULT_LOG HW_LOCALSTATEDIR "/hashwatch/audit.log"

struct audit_cli {
	const char *sub; /* "audit verify", "audit show", "audit summary" */
	bool json;
	const char *log; /* --log: a log and its rotated predecessors */
	char **files; /* what is read, oldest first; NULL-terminated */
	bool own_files; /* files came from auditverify_log_files */
	int64_t since_ms, until_ms; /* INT64_MIN / INT64_MAX when not given */
	const char *types; /* --type: comma-separated, NULL for all */
	char anchor_head[AUDIT_HEAD_HEX];
	uint64_t anchor_seq;
	int64_t tolerance_ms;
};

/* Walk the files through the verifier (keep_going for show and summary),
 * calling fn for each record.  Returns 0, or CLI_ERROR after printing why
 * a file could not be read. */
int audit_cli_walk(struct audit_cli *c, struct auditverify *v, bool keep_going,
		   auditverify_fn fn, void *ud);

/* Print s, with control characters (C0, DEL, C1) escaped as \xNN. */
void audit_cli_print_safe(FILE *f, const char *s);

/* A field value in words ("a, b" for an array, "yes"/"no", "?" for
 * none), cut to len. */
void audit_cli_words(json_object *v, char *buf, size_t len);

/* "file line N (seq S): name: detail" for a problem, into buf. */
void audit_cli_describe(const struct audit_problem *p, char *buf, size_t len);

/* The problem as a JSON object (new reference), or NULL for none. */
json_object *audit_cli_problem_json(const struct auditverify *v);

/* Format ms as RFC 3339 (UTC) into buf, "-" for INT64_MIN/MAX. */
const char *audit_cli_time(int64_t ms, char buf[AUDIT_TIME_LEN]);

int audit_cli_summary(struct audit_cli *c);

#endif
