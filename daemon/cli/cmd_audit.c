/* cmd_audit.c - `hashwatch audit`: the auditor's tools for the scanner's
 * hash-chained log.  `verify` checks the chain (and a chain head recorded
 * elsewhere, which catches truncation), `show` prints the records as
 * sentences an auditor can read, `summary` (audit_summary.c) says what was
 * active and what happened over a period.  Everything read goes through
 * the verifier, so what is shown is what was checked, and a record after a
 * break is marked as unverified.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <json-c/json.h>

#include "audit_cli.h"
#include "cli.h"

#define DEFAULT_TOLERANCE_MS (600 * 1000)

static void help(FILE *f)
{
	fprintf(f,
		"Usage: hashwatch audit verify [--head HEX] [--seq N] [--json] [FILE...]\n"
		"       hashwatch audit show [--since T] [--until T] [--type T,...] [--json] [FILE...]\n"
		"       hashwatch audit summary [--since T] [--until T] [--json] [FILE...]\n\n"
		"Check and read the scanner's tamper-evident log (each record carries the\n"
		"SHA-256 of the one before, so the log is a hash chain).\n\n"
		"  verify   check the chain; exit 0 and print the chain head if intact,\n"
		"           exit 1 and the first broken record otherwise\n"
		"  show     the records as a table: time, seq, type, what happened\n"
		"  summary  lists active over the period, file counts, every match and\n"
		"           alert and whether it was delivered\n\n"
		"  -l, --log PATH        the log to read with its rotated files PATH.N ... PATH.1\n"
		"                        (default " AUDIT_DEFAULT_LOG ")\n"
		"  FILE...               read exactly these files, oldest first, instead\n"
		"      --head HEX        verify: the log must contain this chain head (as\n"
		"                        the receiver last saw it); catches a cut-off tail\n"
		"      --seq N           verify: ... and record N (with --head: N must be the\n"
		"                        record that hashes to HEX)\n"
		"      --time-tolerance S  a record may be up to S seconds older than the one\n"
		"                        before it (clock corrections; default 600; 'off')\n"
		"  -s, --since T         only records at or after T; T is UTC: 2024-05-01,\n"
		"                        2024-05-01T08:00[:00][Z], @UNIX-SECONDS, or 7d / 12h /\n"
		"                        30m before now\n"
		"  -u, --until T         only records before T\n"
		"  -t, --type LIST       show: only these record types (comma-separated)\n"
		"  -j, --json            verify, summary: one JSON object; show: the records\n"
		"                        themselves (JSON Lines, byte for byte)\n"
		"  -h, --help            this text\n\n"
		"Exit status: 0 the chain is intact, 1 it is broken (or does not contain\n"
		"the --head/--seq given), 2 error.  See hashwatch-audit(1) for an auditor's\n"
		"walkthrough and docs/audit-log.md for the record types.\n");
}

const char *audit_cli_time(int64_t ms, char buf[AUDIT_TIME_LEN])
{
	if (ms == INT64_MIN || ms == INT64_MAX || audit_time_format(ms, buf) < 0)
		snprintf(buf, AUDIT_TIME_LEN, "-");
	return buf;
}

void audit_cli_print_safe(FILE *f, const char *s)
{
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p < 0x20 || *p == 0x7f)
			fprintf(f, "\\x%02x", *p);
		else if (p[0] == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f)
			fprintf(f, "\\x%02x", *++p); /* C1 controls, e.g. CSI */
		else
			fputc(*p, f);
	}
}

void audit_cli_describe(const struct audit_problem *p, char *buf, size_t len)
{
	if (p->file)
		snprintf(buf, len, "%s line %llu (seq %llu): %s: %s", p->file,
			 (unsigned long long)p->line, (unsigned long long)p->seq,
			 audit_problem_name(p->kind), p->detail);
	else
		snprintf(buf, len, "%s: %s", audit_problem_name(p->kind), p->detail);
}

json_object *audit_cli_problem_json(const struct auditverify *v)
{
	const struct audit_problem *p = &v->problem;
	json_object *o;

	if (p->kind == AUDIT_OK)
		return NULL;
	o = json_object_new_object();
	json_object_object_add(o, "kind", json_object_new_string(audit_problem_name(p->kind)));
	json_object_object_add(o, "file", p->file ? json_object_new_string(p->file) : NULL);
	json_object_object_add(o, "line", p->line ? json_object_new_int64((int64_t)p->line) : NULL);
	json_object_object_add(o, "seq", p->seq ? json_object_new_int64((int64_t)p->seq) : NULL);
	json_object_object_add(o, "detail", json_object_new_string(p->detail));
	json_object_object_add(o, "problems", json_object_new_int64((int64_t)v->problems));
	return o;
}

int audit_cli_walk(struct audit_cli *c, struct auditverify *v, bool keep_going,
		   auditverify_fn fn, void *ud)
{
	struct auditverify_opts o = {
		.time_tolerance_ms = c->tolerance_ms,
		.keep_going = keep_going,
		.anchor_head = c->anchor_head[0] ? c->anchor_head : NULL,
		.anchor_seq = c->anchor_seq,
	};

	auditverify_init(v, &o);
	for (char **f = c->files; *f; f++) {
		int r = auditverify_file(v, *f, fn, ud);
		if (r == -EPIPE)
			return CLI_ERROR; /* the reader went away (| head) */
		if (r < 0) {
			const char *hint = "";
			if (r == -ENOENT && c->own_files)
				hint = " (has hashwatchd run on this machine? --log PATH reads "
				       "another log)";
			else if (r == -EACCES)
				hint = " (the log is readable by root and the hashwatch group)";
			cli_error(c->sub, "%s: %s%s", *f, strerror(-r), hint);
			return CLI_ERROR;
		}
	}
	auditverify_finish(v);
	return CLI_OK;
}

/* --- verify --------------------------------------------------------- */

static const char *log_path(const struct audit_cli *c)
{
	return c->log ? c->log : AUDIT_DEFAULT_LOG;
}

static int verify(struct audit_cli *c)
{
	struct auditverify v;
	char t[AUDIT_TIME_LEN], what[600];
	size_t nfiles = 0;
	int r = audit_cli_walk(c, &v, false, NULL, NULL);

	if (r != CLI_OK)
		return r;
	while (c->files[nfiles])
		nfiles++;
	bool ok = v.problem.kind == AUDIT_OK;
	bool rotated_start = v.started && v.first_seq > 1;
	if (c->json) {
		json_object *o = json_object_new_object(), *files = json_object_new_array();
		for (char **f = c->files; *f; f++)
			json_object_array_add(files, json_object_new_string(*f));
		json_object_object_add(o, "intact", json_object_new_boolean(ok));
		json_object_object_add(o, "files", files);
		json_object_object_add(o, "records", json_object_new_int64((int64_t)v.records));
		json_object_object_add(o, "first_seq", json_object_new_int64((int64_t)v.first_seq));
		json_object_object_add(o, "last_seq", json_object_new_int64((int64_t)v.last_seq));
		json_object_object_add(o, "head", json_object_new_string(v.head));
		json_object_object_add(o, "last_time", v.started
			? json_object_new_string(audit_cli_time(v.last_time_ms, t)) : NULL);
		json_object_object_add(o, "starts_after_rotation",
				       json_object_new_boolean(rotated_start));
		json_object_object_add(o, "partial_tail_bytes",
				       json_object_new_int64((int64_t)v.partial_bytes));
		if (c->anchor_head[0] || c->anchor_seq) {
			json_object *a = json_object_new_object();
			json_object_object_add(a, "head", c->anchor_head[0]
				? json_object_new_string(c->anchor_head) : NULL);
			json_object_object_add(a, "seq", c->anchor_seq
				? json_object_new_int64((int64_t)c->anchor_seq) : NULL);
			json_object_object_add(a, "found", json_object_new_boolean(ok));
			json_object_object_add(o, "anchor", a);
		}
		json_object_object_add(o, "problem", audit_cli_problem_json(&v));
		puts(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY |
							       JSON_C_TO_STRING_NOSLASHESCAPE));
		json_object_put(o);
		return ok ? CLI_OK : CLI_NEGATIVE;
	}
	if (!ok) {
		audit_cli_describe(&v.problem, what, sizeof(what));
		printf("BROKEN: ");
		audit_cli_print_safe(stdout, what);
		printf("\n");
		if (v.started && v.problem.file)
			printf("intact before it: seq %llu..%llu, chain head %s\n"
			       "(each record is confirmed by the next one's prev, so seq %llu, "
			       "just before the break, may be the one that was altered)\n",
			       (unsigned long long)v.first_seq, (unsigned long long)v.last_seq,
			       v.head, (unsigned long long)v.last_seq);
		else if (v.started)
			printf("the chain itself is intact: seq %llu..%llu, chain head %s\n",
			       (unsigned long long)v.first_seq, (unsigned long long)v.last_seq,
			       v.head);
		printf("Keep copies of the files as evidence (cp -a) before anything else\n"
		       "writes to them, and report this to whoever is responsible for the device.\n");
		return CLI_NEGATIVE;
	}
	if (!v.started) {
		printf("intact: %zu file%s, no records yet\n", nfiles, nfiles == 1 ? "" : "s");
		return CLI_OK;
	}
	printf("intact: %zu file%s, %llu records, seq %llu..%llu\n", nfiles,
	       nfiles == 1 ? "" : "s", (unsigned long long)v.records,
	       (unsigned long long)v.first_seq, (unsigned long long)v.last_seq);
	printf("chain head: %s\n", v.head);
	printf("last record: seq %llu at %s\n", (unsigned long long)v.last_seq,
	       audit_cli_time(v.last_time_ms, t));
	if (c->anchor_head[0] || c->anchor_seq)
		printf("anchor found: the log still holds %s%s%s; nothing up to it was cut off "
		       "or rewritten\n", c->anchor_seq ? "seq " : "",
		       c->anchor_seq ? (snprintf(what, sizeof(what), "%llu",
						 (unsigned long long)c->anchor_seq), what) : "",
		       c->anchor_head[0] ? (c->anchor_seq ? " with that head" : "that head") : "");
	else
		printf("Compare the chain head with the one the receiver last reported for\n"
		       "this device (hashwatch audit verify --head HEX catches a cut-off tail).\n");
	if (c->own_files && nfiles > 0 && strcmp(c->files[nfiles - 1], log_path(c)) != 0)
		printf("note: %s itself is missing: a rotation was interrupted; hashwatchd "
		       "continues the chain from %s.1 when it next starts\n", log_path(c),
		       log_path(c));
	if (rotated_start)
		printf("note: the chain starts at seq %llu with a rotate record: older files "
		       "were rotated away and are not checked\n", (unsigned long long)v.first_seq);
	if (v.partial_bytes)
		printf("note: the last line is incomplete (%llu bytes): a crash in mid-write or "
		       "a write in progress; it is not a record and was not checked\n",
		       (unsigned long long)v.partial_bytes);
	return CLI_OK;
}

/* --- show ------------------------------------------------------------ */

/* One sentence per record type.  {key} is the field's value ("?" when
 * missing); [...] is left out unless every field named in it is present
 * and not null, 0 or "".  Types not listed print their fields as JSON. */
static const struct {
	const char *type, *tmpl;
} sentences[] = {
	{ "start", "hashwatchd {version} started (pid {pid})[; the log's last line was "
		   "incomplete after a crash: {log_partial_bytes} bytes dropped][; the "
		   "previous log was BROKEN ({log_problem}) and set aside as {log_set_aside}]" },
	{ "stop", "hashwatchd stopped[ ({reason})][ after {uptime_s} s]" },
	{ "config", "configuration loaded[ from {path}], digest {digest}" },
	{ "list_loaded", "list {list_id} version {version} loaded[: {entries} entries], "
			 "digest {digest}[, signed by {signers}]" },
	{ "list_refused", "list file {path} REFUSED: {reason}" },
	{ "list_removed", "list {list_id}[ version {version}] no longer in use[: {reason}]" },
	{ "crawl_start", "crawl started[ ({reason})][ over {roots} folders]" },
	{ "crawl_done", "crawl finished: {seen} files seen, {hashed} hashed[, {cached} "
			"unchanged][, skipped: {skipped}][, {errors} errors][ in {duration_ms} ms]" },
	{ "scan_counts", "[in the last {period_s} s: ]{seen} files seen, {hashed} hashed"
			 "[, {cached} unchanged][, skipped: {skipped}][, {errors} errors]" },
	{ "skip", "a file was skipped: {reason}[ (limit {limit})][: {path}]" },
	{ "match", "MATCH with list {list_id}[ version {list_version}] entry {entry_id}: "
		   "{model} distance {distance}[, confirmed: {confirmed}][ -> alert {alert_id}]" },
	{ "alert_queued", "alert {alert_id} queued for delivery[, distinct matches: "
			  "{matches}][, it carries seq {audit_seq}]" },
	{ "alert_delivered", "alert {alert_id} delivered[ to {receiver}]" },
	{ "heartbeat", "heartbeat[ to {receiver}]: reported seq {reported_seq}, head "
		       "{reported_head}" },
	{ "error", "ERROR[ in {where}]: {message}" },
	{ "rotate", "log continued from {prev_file} (its last record: seq {prev_seq}, "
		    "head {prev_head})" },
};

struct sbuf {
	char s[2048];
	size_t n;
};

static void sb_add(struct sbuf *b, const char *s, size_t len)
{
	size_t room = sizeof(b->s) - 1 - b->n;
	if (len > room)
		len = room;
	memcpy(b->s + b->n, s, len);
	b->n += len;
	b->s[b->n] = '\0';
}

/* A field value in words: strings as they are, booleans yes/no, arrays
 * "a, b", objects "k v, k v", numbers as JSON writes them. */
static void sb_value(struct sbuf *b, json_object *v)
{
	const char *s;
	bool first = true;

	switch (json_object_get_type(v)) {
	case json_type_null:
		sb_add(b, "?", 1);
		return;
	case json_type_boolean:
		s = json_object_get_boolean(v) ? "yes" : "no";
		break;
	case json_type_array:
		for (size_t i = 0; i < json_object_array_length(v); i++) {
			if (i)
				sb_add(b, ", ", 2);
			sb_value(b, json_object_array_get_idx(v, i));
		}
		return;
	case json_type_object: {
		json_object_object_foreach(v, key, val) {
			if (!first)
				sb_add(b, ", ", 2);
			first = false;
			sb_add(b, key, strlen(key));
			sb_add(b, " ", 1);
			sb_value(b, val);
		}
		return;
	}
	default:
		s = json_object_get_string(v);
	}
	sb_add(b, s, strlen(s));
}

void audit_cli_words(json_object *v, char *buf, size_t len)
{
	struct sbuf b = { .n = 0 };

	b.s[0] = '\0';
	sb_value(&b, v);
	snprintf(buf, len, "%s", b.s);
}

static bool present(json_object *v)
{
	switch (json_object_get_type(v)) {
	case json_type_null:
		return false;
	case json_type_int:
		return json_object_get_int64(v) != 0;
	case json_type_string:
		return json_object_get_string_len(v) > 0;
	default:
		return true;
	}
}

/* Render tmpl[0..len) with the fields; returns false when an optional
 * group's field is absent (the caller drops the group). */
static bool render(struct sbuf *b, const char *tmpl, size_t len, json_object *fields,
		   bool optional)
{
	for (size_t i = 0; i < len; i++) {
		if (tmpl[i] == '[') {
			const char *close = memchr(tmpl + i, ']', len - i);
			size_t glen = (size_t)(close - (tmpl + i)) - 1, mark = b->n;
			if (!render(b, tmpl + i + 1, glen, fields, true)) {
				b->n = mark;
				b->s[mark] = '\0';
			}
			i += glen + 1;
		} else if (tmpl[i] == '{') {
			const char *close = memchr(tmpl + i, '}', len - i);
			char key[64];
			snprintf(key, sizeof(key), "%.*s", (int)(close - (tmpl + i)) - 1, tmpl + i + 1);
			json_object *v = json_object_object_get(fields, key);
			if (optional && !present(v))
				return false;
			sb_value(b, v);
			i = (size_t)(close - tmpl);
		} else {
			sb_add(b, tmpl + i, 1);
		}
	}
	return true;
}

static void sentence(const struct audit_record *rec, struct sbuf *b)
{
	b->n = 0;
	b->s[0] = '\0';
	for (size_t i = 0; i < sizeof(sentences) / sizeof(sentences[0]); i++)
		if (strcmp(rec->type, sentences[i].type) == 0) {
			render(b, sentences[i].tmpl, strlen(sentences[i].tmpl), rec->fields, false);
			return;
		}
	const char *s = json_object_to_json_string_ext(rec->fields, JSON_C_TO_STRING_PLAIN |
								     JSON_C_TO_STRING_NOSLASHESCAPE);
	sb_add(b, s, strlen(s));
}

static bool type_selected(const char *types, const char *type)
{
	size_t n = strlen(type);
	for (const char *p = types; p && *p;) {
		const char *e = strchr(p, ',');
		size_t len = e ? (size_t)(e - p) : strlen(p);
		if (len == n && strncmp(p, type, n) == 0)
			return true;
		p = e ? e + 1 : p + len;
	}
	return !types;
}

/* A record is confirmed by the next one's prev, so each table row waits
 * for the next record (or the end) before it is printed: a row gets the
 * '!' mark when a problem turned up by then. */
struct show_state {
	struct audit_cli *c;
	const struct auditverify *v;
	uint64_t shown;
	char *pending; /* the formatted row; pending[MARK_AT] is the mark */
};

#define MARK_AT 25

static void flush_row(struct show_state *s)
{
	if (!s->pending)
		return;
	s->pending[MARK_AT] = s->v->problems > 0 ? '!' : ' ';
	fputs(s->pending, stdout);
	free(s->pending);
	s->pending = NULL;
}

static int show_one(const struct audit_record *rec, bool verified, void *ud)
{
	struct show_state *s = ud;
	struct sbuf b;
	size_t size;
	(void)verified;

	flush_row(s);
	if (rec->time_ms < s->c->since_ms || rec->time_ms >= s->c->until_ms ||
	    !type_selected(s->c->types, rec->type))
		return 0;
	if (s->shown++ == 0 && !s->c->json)
		printf("%-24s %8s  %-15s %s\n", "TIME (UTC)", "SEQ", "TYPE", "WHAT");
	if (s->c->json) {
		fwrite(rec->line, 1, rec->len, stdout);
		fputc('\n', stdout);
		return ferror(stdout) ? -EPIPE : 0;
	}
	FILE *m = open_memstream(&s->pending, &size);
	if (!m)
		return -ENOMEM;
	sentence(rec, &b);
	fprintf(m, "%-24s  %7llu  %-15s ", rec->time, (unsigned long long)rec->seq, rec->type);
	audit_cli_print_safe(m, b.s);
	fputc('\n', m);
	if (fclose(m) != 0 || size <= MARK_AT) {
		free(s->pending);
		s->pending = NULL;
		return -ENOMEM;
	}
	return ferror(stdout) ? -EPIPE : 0;
}

static int show(struct audit_cli *c)
{
	struct auditverify v;
	struct show_state s = { .c = c, .v = &v };
	char what[600];
	int r = audit_cli_walk(c, &v, true, show_one, &s);

	flush_row(&s);
	if (r != CLI_OK)
		return r;
	if (!c->json && s.shown == 0)
		printf("no records%s\n", c->types || c->since_ms != INT64_MIN ||
					 c->until_ms != INT64_MAX ? " match the filters" : "");
	if (v.problem.kind != AUDIT_OK) {
		audit_cli_describe(&v.problem, what, sizeof(what));
		fprintf(stderr, "hashwatch audit: WARNING: the chain is broken (%llu problem%s); "
			"the first: ", (unsigned long long)v.problems, v.problems == 1 ? "" : "s");
		audit_cli_print_safe(stderr, what);
		fprintf(stderr, "\n%s'hashwatch audit verify' tells more.\n",
			c->json ? "" : "Records from the one before it on are marked '!' "
				       "(not verified). ");
		return CLI_NEGATIVE;
	}
	return CLI_OK;
}

/* --- options --------------------------------------------------------- */

/* UTC times for --since/--until: see help(). */
static int parse_when(const char *s, int64_t *ret_ms)
{
	static const char *const formats[] = {
		"%Y-%m-%dT%H:%M:%S", "%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M:%S",
		"%Y-%m-%d %H:%M", "%Y-%m-%d",
	};
	char *end;
	struct tm tm;

	if (s[0] == '@') {
		errno = 0;
		long long secs = strtoll(s + 1, &end, 10);
		if (errno || end == s + 1 || *end)
			return -EINVAL;
		*ret_ms = secs * 1000;
		return 0;
	}
	errno = 0;
	unsigned long long n = strtoull(s, &end, 10);
	if (!errno && end != s && s[0] != '-' && end[0] && !end[1] && n < 1000000) {
		int64_t unit = end[0] == 'd' ? 86400000 : end[0] == 'h' ? 3600000
			     : end[0] == 'm' ? 60000 : 0;
		if (unit) {
			*ret_ms = audit_now_ms() - (int64_t)n * unit;
			return 0;
		}
	}
	for (size_t i = 0; i < sizeof(formats) / sizeof(formats[0]); i++) {
		memset(&tm, 0, sizeof(tm));
		end = strptime(s, formats[i], &tm);
		if (!end)
			continue;
		int64_t ms = 0;
		if (end[0] == '.' && end[1] >= '0' && end[1] <= '9' && end[2] >= '0' &&
		    end[2] <= '9' && end[3] >= '0' && end[3] <= '9') {
			ms = (end[1] - '0') * 100 + (end[2] - '0') * 10 + (end[3] - '0');
			end += 4;
		}
		if (end[0] == 'Z')
			end++;
		if (*end)
			continue;
		*ret_ms = (int64_t)timegm(&tm) * 1000 + ms;
		return 0;
	}
	return -EINVAL;
}

static int parse_head(const char *s, char out[AUDIT_HEAD_HEX])
{
	char buf[AUDIT_HEAD_HEX];
	size_t n = strlen(s);

	if (n != AUDIT_HEAD_HEX - 1)
		return -EINVAL;
	for (size_t i = 0; i <= n; i++)
		buf[i] = (s[i] >= 'A' && s[i] <= 'F') ? (char)(s[i] - 'A' + 'a') : s[i];
	if (!audit_hex_valid(buf))
		return -EINVAL;
	memcpy(out, buf, AUDIT_HEAD_HEX);
	return 0;
}

/* Fill c from the options and pick the files.  Returns -1 to go on with
 * the subcommand, or the exit status to stop with (--help, a bad option). */
static int parse_opts(struct audit_cli *c, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "log", required_argument, NULL, 'l' },
		{ "head", required_argument, NULL, 'H' },
		{ "seq", required_argument, NULL, 'S' },
		{ "time-tolerance", required_argument, NULL, 'T' },
		{ "since", required_argument, NULL, 's' },
		{ "until", required_argument, NULL, 'u' },
		{ "type", required_argument, NULL, 't' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	bool is_verify = strcmp(c->sub, "audit verify") == 0;
	bool is_show = strcmp(c->sub, "audit show") == 0;
	char *end;
	int ch;

	while ((ch = getopt_long(argc, argv, "l:s:u:t:jh", longopts, NULL)) != -1) {
		const char *only = NULL;
		switch (ch) {
		case 'l': c->log = optarg; break;
		case 'j': c->json = true; break;
		case 'H':
			only = is_verify ? NULL : "verify";
			if (!only && parse_head(optarg, c->anchor_head) < 0) {
				cli_error(c->sub, "--head needs 64 hex digits (a chain head), not '%s'",
					  optarg);
				return CLI_ERROR;
			}
			break;
		case 'S':
			only = is_verify ? NULL : "verify";
			errno = 0;
			c->anchor_seq = strtoull(optarg, &end, 10);
			if (!only && (errno || end == optarg || *end || c->anchor_seq == 0 ||
				      optarg[0] == '-')) {
				cli_error(c->sub, "--seq needs a record number (1 or more), not '%s'",
					  optarg);
				return CLI_ERROR;
			}
			break;
		case 'T':
			if (strcmp(optarg, "off") == 0) {
				c->tolerance_ms = -1;
				break;
			}
			errno = 0;
			double secs = strtod(optarg, &end);
			if (errno || end == optarg || *end || !(secs >= 0 && secs < 1e9)) {
				cli_error(c->sub, "--time-tolerance needs seconds or 'off', not '%s'",
					  optarg);
				return CLI_ERROR;
			}
			c->tolerance_ms = (int64_t)(secs * 1000);
			break;
		case 's':
		case 'u':
			only = is_verify ? "show and summary" : NULL;
			if (!only && parse_when(optarg, ch == 's' ? &c->since_ms : &c->until_ms) < 0) {
				cli_error(c->sub, "--%s: cannot read the time '%s' (try 2024-05-01, "
					  "2024-05-01T08:00Z or 7d)", ch == 's' ? "since" : "until",
					  optarg);
				return CLI_ERROR;
			}
			break;
		case 't':
			only = is_show ? NULL : "show";
			c->types = optarg;
			break;
		case 'h':
			help(stdout);
			return CLI_OK;
		default:
			fprintf(stderr, "Try 'hashwatch audit --help'.\n");
			return CLI_ERROR;
		}
		if (only) {
			const struct option *o = longopts;
			while (o->name && o->val != ch)
				o++;
			cli_error(c->sub, "--%s is for %s only; see --help", o->name, only);
			return CLI_ERROR;
		}
	}
	if (optind < argc && c->log) {
		cli_error(c->sub, "give either --log or files, not both");
		return CLI_ERROR;
	}
	if (optind < argc) {
		c->files = argv + optind;
		return -1; /* go on */
	}
	int r = auditverify_log_files(log_path(c), &c->files);
	if (r < 0) {
		cli_error(c->sub, "listing the log files: %s", strerror(-r));
		return CLI_ERROR;
	}
	c->own_files = true;
	return -1;
}

int cmd_audit(int argc, char **argv)
{
	static const struct {
		const char *name, *full;
		int (*fn)(struct audit_cli *);
	} subs[] = {
		{ "verify", "audit verify", verify },
		{ "show", "audit show", show },
		{ "summary", "audit summary", audit_cli_summary },
	};
	struct audit_cli c = {
		.since_ms = INT64_MIN,
		.until_ms = INT64_MAX,
		.tolerance_ms = DEFAULT_TOLERANCE_MS,
	};
	int r = CLI_ERROR;

	if (argc < 2) {
		help(stderr);
		return CLI_ERROR;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
	    strcmp(argv[1], "help") == 0) {
		help(stdout);
		return CLI_OK;
	}
	for (size_t i = 0; i < sizeof(subs) / sizeof(subs[0]); i++) {
		if (strcmp(argv[1], subs[i].name) != 0)
			continue;
		c.sub = subs[i].full;
		r = parse_opts(&c, argc - 1, argv + 1);
		if (r < 0)
			r = subs[i].fn(&c);
		if (c.own_files)
			auditverify_free_files(c.files);
		fflush(stdout);
		return r;
	}
	cli_error("audit", "unknown subcommand '%s'; try verify, show or summary", argv[1]);
	return CLI_ERROR;
}
