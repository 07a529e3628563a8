/* test_auditlog.c - the audit log writer and verifier on real files: the
 * chain survives reopen, crashes (partial lines, kill -9) and rotation, and
 * the verifier catches each kind of tampering (a flipped bit anywhere, a
 * removed, reordered, spliced or re-chained record, a truncated tail
 * against a recorded head).
 *
 * Run with arguments it is the integration tests' log maker instead:
 *   test_auditlog --write LOG [MAX_BYTES KEEP]  (stdin: "TIME TYPE JSON")
 *   test_auditlog --loop LOG                    (append until killed)
 */
#include "harness.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>

#include "auditlog.h"
#include "auditverify.h"
#include "fileio.h"

#define TOLERANCE_MS (600 * 1000)

struct tdir {
	char dir[64];
	char log[128];
};

static void tdir_make(struct tdir *t)
{
	snprintf(t->dir, sizeof(t->dir), "/tmp/hwaudit.XXXXXX");
	assert_non_null(mkdtemp(t->dir));
	snprintf(t->log, sizeof(t->log), "%s/audit.log", t->dir);
}

/* A deterministic clock: one second per record from 2024-05-01. */
static int64_t fake_now = 1714557600000;
static int64_t fake_clock(void)
{
	return fake_now += 1000;
}

static const struct auditlog_config fake_cfg = { .now_ms = fake_clock };

static json_object *fields_i(int64_t i, size_t pad)
{
	json_object *f = json_object_new_object();
	char *p = malloc(pad + 1);
	assert_non_null(p);
	memset(p, 'x', pad);
	p[pad] = '\0';
	json_object_object_add(f, "i", json_object_new_int64(i));
	json_object_object_add(f, "pad", json_object_new_string(p));
	free(p);
	return f;
}

static void append_n(struct auditlog *log, int from, int n, size_t pad)
{
	for (int i = from; i < from + n; i++) {
		json_object *f = fields_i(i, pad);
		assert_int_equal(auditlog_append(log, "heartbeat", f, false, NULL, NULL), 0);
		json_object_put(f);
	}
}

/* A log of n records at t->log, written by the library. */
static void make_log(struct tdir *t, int n)
{
	struct auditlog *log;
	assert_int_equal(auditlog_open_with(t->log, &fake_cfg, &log), 0);
	append_n(log, 1, n, 8);
	auditlog_close(log);
}

struct lines {
	char *v[64];
	size_t n;
};

static void read_lines(const char *path, struct lines *l)
{
	char *buf, *p, *nl;
	size_t len;
	assert_int_equal(hw_read_file(path, 1 << 20, (void **)&buf, &len), 0);
	assert_true(len > 0 && buf[len - 1] == '\n');
	l->n = 0;
	for (p = buf; (nl = memchr(p, '\n', len - (size_t)(p - buf))); p = nl + 1) {
		assert_true(l->n < 64);
		l->v[l->n++] = strndup(p, (size_t)(nl - p));
	}
	free(buf);
}

static void write_lines(const char *path, const struct lines *l)
{
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	for (size_t i = 0; i < l->n; i++)
		fprintf(f, "%s\n", l->v[i]);
	assert_int_equal(fclose(f), 0);
}

/* Plain overwrite: the flip test writes thousands of versions, and
 * hw_write_atomic's fsyncs would make it slow. */
static void write_file(const char *path, const char *buf, size_t len)
{
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	assert_int_equal(fwrite(buf, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
}

static void lines_free(struct lines *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i]);
	l->n = 0;
}

/* Verify files in order against an optional anchor. */
static struct auditverify verify_files(const char *const *files, size_t n,
				       const char *anchor_head, uint64_t anchor_seq)
{
	struct auditverify v;
	struct auditverify_opts o = { .time_tolerance_ms = TOLERANCE_MS,
				      .anchor_head = anchor_head,
				      .anchor_seq = anchor_seq };
	auditverify_init(&v, &o);
	for (size_t i = 0; i < n; i++)
		assert_int_equal(auditverify_file(&v, files[i], NULL, NULL), 0);
	auditverify_finish(&v);
	return v;
}

static struct auditverify verify1(const char *path, const char *anchor_head,
				  uint64_t anchor_seq)
{
	return verify_files(&path, 1, anchor_head, anchor_seq);
}

/* Replace member `key` of the record in line (a new string). */
static char *edit_line(const char *line, const char *key, json_object *val)
{
	json_object *o = json_tokener_parse(line);
	assert_non_null(o);
	json_object_object_add(o, key, val);
	char *s = strdup(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
							       JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(o);
	return s;
}

/* What a forger does: recompute prev of lines[from..] so each links to the
 * line before it. */
static void rechain(struct lines *l, size_t from, size_t to)
{
	char h[AUDIT_HEAD_HEX];
	for (size_t i = from; i < to; i++) {
		if (i == 0)
			memcpy(h, audit_zero_head, AUDIT_HEAD_HEX);
		else
			audit_hash_line(l->v[i - 1], strlen(l->v[i - 1]), h);
		char *s = edit_line(l->v[i], "prev", json_object_new_string(h));
		free(l->v[i]);
		l->v[i] = s;
	}
}

static void modify_fields(struct lines *l, size_t i)
{
	json_object *f = fields_i(999, 8);
	char *s = edit_line(l->v[i], "fields", f);
	free(l->v[i]);
	l->v[i] = s;
}

static void test_time_roundtrip(void **state)
{
	char s[AUDIT_TIME_LEN];
	int64_t ms;
	(void)state;

	assert_int_equal(audit_time_format(1714557600123, s), 0);
	assert_string_equal(s, "2024-05-01T10:00:00.123Z");
	assert_int_equal(audit_time_parse(s, &ms), 0);
	assert_int_equal(ms, 1714557600123);
	assert_int_equal(audit_time_format(-1, s), 0);
	assert_string_equal(s, "1969-12-31T23:59:59.999Z");
	assert_int_equal(audit_time_parse(s, &ms), 0);
	assert_int_equal(ms, -1);
	assert_int_equal(audit_time_parse("2024-5-01T10:00:00.123Z", &ms), -EINVAL);
	assert_int_equal(audit_time_parse("2024-02-30T10:00:00.123Z", &ms), -EINVAL);
	assert_int_equal(audit_time_parse("2024-05-01T10:00:00.123+00:00", &ms), -EINVAL);
	assert_int_equal(audit_time_parse("2024-05-01 10:00:00.123Z", &ms), -EINVAL);
	assert_true(audit_type_valid("alert_queued"));
	assert_false(audit_type_valid("Alert"));
	assert_false(audit_type_valid("_x"));
	assert_false(audit_type_valid(""));
	assert_false(audit_type_valid("a-b"));
}

static void test_append_reopen_continue(void **state)
{
	struct tdir t;
	struct auditlog *log;
	char head[AUDIT_HEAD_HEX], head2[AUDIT_HEAD_HEX], h[AUDIT_HEAD_HEX];
	uint64_t seq;
	struct lines l;
	(void)state;

	tdir_make(&t);
	assert_int_equal(auditlog_open_with(t.log, &fake_cfg, &log), 0);
	assert_int_equal(auditlog_seq(log), 0);
	assert_string_equal(auditlog_head(log), audit_zero_head);
	append_n(log, 1, 3, 4);
	json_object *f = fields_i(4, 4);
	assert_int_equal(auditlog_append(log, "match", f, true, &seq, head), 0);
	json_object_put(f);
	assert_int_equal(seq, 4);
	assert_string_equal(head, auditlog_head(log));
	/* A second writer is refused while the first holds the log. */
	struct auditlog *other = NULL;
	assert_int_equal(auditlog_open(t.log, &other), -EBUSY);
	auditlog_close(log);

	struct stat st;
	assert_int_equal(stat(t.log, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0640);

	assert_int_equal(auditlog_open_with(t.log, &fake_cfg, &log), 0);
	assert_int_equal(auditlog_seq(log), 4);
	assert_string_equal(auditlog_head(log), head);
	assert_int_equal(auditlog_report(log)->records, 4);
	assert_int_equal(auditlog_report(log)->partial_bytes, 0);
	f = fields_i(5, 4);
	assert_int_equal(auditlog_append(log, "stop", f, true, &seq, head2), 0);
	json_object_put(f);
	assert_int_equal(seq, 5);
	auditlog_close(log);

	/* The chain: seq 1..5, each prev the hash of the line before. */
	read_lines(t.log, &l);
	assert_int_equal(l.n, 5);
	for (size_t i = 0; i < l.n; i++) {
		struct audit_record rec;
		assert_int_equal(audit_record_parse(l.v[i], strlen(l.v[i]), &rec, NULL, 0), 0);
		assert_int_equal(rec.seq, i + 1);
		if (i == 0)
			assert_string_equal(rec.prev, audit_zero_head);
		else {
			audit_hash_line(l.v[i - 1], strlen(l.v[i - 1]), h);
			assert_string_equal(rec.prev, h);
		}
		audit_record_release(&rec);
	}
	audit_hash_line(l.v[4], strlen(l.v[4]), h);
	assert_string_equal(h, head2);
	lines_free(&l);

	struct auditverify v = verify1(t.log, head2, 5);
	assert_int_equal(v.problem.kind, AUDIT_OK);
	assert_int_equal(v.last_seq, 5);
	assert_string_equal(v.head, head2);
	assert_int_equal(auditverify_read_head(t.log, &seq, h), 0);
	assert_int_equal(seq, 5);
	assert_string_equal(h, head2);
	hwt_rmtree(t.dir);
}

/* The library adds seq, time, type, prev and nothing else: no host, user,
 * pid or path sneaks into a record. */
static void test_record_holds_only_what_was_given(void **state)
{
	struct tdir t;
	struct auditlog *log;
	struct lines l;
	(void)state;

	tdir_make(&t);
	assert_int_equal(auditlog_open_with(t.log, &fake_cfg, &log), 0);
	json_object *f = json_object_new_object();
	json_object_object_add(f, "alert_id", json_object_new_string("a-1"));
	json_object_object_add(f, "distance", json_object_new_int(12));
	assert_int_equal(auditlog_append(log, "match", f, false, NULL, NULL), 0);
	assert_int_equal(auditlog_append(log, "heartbeat", NULL, false, NULL, NULL), 0);
	auditlog_close(log);

	read_lines(t.log, &l);
	assert_int_equal(l.n, 2);
	for (size_t i = 0; i < l.n; i++) {
		json_object *o = json_tokener_parse(l.v[i]);
		assert_non_null(o);
		assert_int_equal(json_object_object_length(o), 5);
		json_object *got = json_object_object_get(o, "fields");
		if (i == 0)
			assert_true(json_object_equal(got, f));
		else
			assert_int_equal(json_object_object_length(got), 0);
		assert_null(strstr(l.v[i], t.dir));
		json_object_put(o);
	}
	json_object_put(f);
	lines_free(&l);
	hwt_rmtree(t.dir);
}

static void test_bad_appends_leave_nothing(void **state)
{
	struct tdir t;
	struct auditlog *log;
	char big[AUDIT_MAX_LINE + 16];
	(void)state;

	tdir_make(&t);
	assert_int_equal(auditlog_open_with(t.log, &fake_cfg, &log), 0);
	append_n(log, 1, 2, 4);
	assert_int_equal(auditlog_append(log, "Bad Type", NULL, false, NULL, NULL), -EINVAL);
	assert_int_equal(auditlog_append(log, "rotate", NULL, false, NULL, NULL), -EINVAL);
	json_object *arr = json_object_new_array();
	assert_int_equal(auditlog_append(log, "match", arr, false, NULL, NULL), -EINVAL);
	json_object_put(arr);
	json_object *f = json_object_new_object();
	json_object_object_add(f, "bad", json_object_new_string("\xff\xfe"));
	assert_int_equal(auditlog_append(log, "error", f, false, NULL, NULL), -EINVAL);
	json_object_put(f);
	f = json_object_new_object();
	json_object_object_add(f, "nan", json_object_new_double(0.0 / 0.0));
	assert_int_equal(auditlog_append(log, "error", f, false, NULL, NULL), -EINVAL);
	json_object_put(f);
	memset(big, 'y', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	f = json_object_new_object();
	json_object_object_add(f, "big", json_object_new_string(big));
	assert_int_equal(auditlog_append(log, "error", f, false, NULL, NULL), -EMSGSIZE);
	json_object_put(f);
	assert_int_equal(auditlog_seq(log), 2);
	append_n(log, 3, 1, 4);
	auditlog_close(log);
	struct auditverify v = verify1(t.log, NULL, 0);
	assert_int_equal(v.problem.kind, AUDIT_OK);
	assert_int_equal(v.last_seq, 3);
	assert_int_equal(v.records, 3);
	hwt_rmtree(t.dir);
}

/* The verifier on a log held in memory, one complete line at a time, as
 * auditverify_file feeds it (an unterminated tail is not a record). */
static enum audit_problem_kind verify_mem(const char *buf, size_t len,
					  const char *anchor_head, uint64_t anchor_seq)
{
	struct auditverify v;
	struct auditverify_opts o = { .time_tolerance_ms = TOLERANCE_MS,
				      .anchor_head = anchor_head,
				      .anchor_seq = anchor_seq };
	const char *p = buf, *nl;
	uint64_t lineno = 0;

	auditverify_init(&v, &o);
	while (v.problems == 0 && (nl = memchr(p, '\n', len - (size_t)(p - buf)))) {
		assert_int_equal(auditverify_line(&v, p, (size_t)(nl - p), "mem", ++lineno,
						  NULL, NULL), 0);
		p = nl + 1;
	}
	auditverify_finish(&v);
	return v.problem.kind;
}

/* A write cut short (here by RLIMIT_FSIZE, as a full disk would) leaves
 * nothing of the record behind, and the chain goes on. */
static void test_short_write_undone(void **state)
{
	struct tdir t;
	struct auditlog *log;
	struct stat st;
	struct rlimit old, lim;
	(void)state;

	tdir_make(&t);
	assert_int_equal(auditlog_open_with(t.log, &fake_cfg, &log), 0);
	append_n(log, 1, 3, 4);
	assert_int_equal(stat(t.log, &st), 0);
	assert_int_equal(getrlimit(RLIMIT_FSIZE, &old), 0);
	signal(SIGXFSZ, SIG_IGN);
	lim = old;
	lim.rlim_cur = (rlim_t)st.st_size + 100;
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &lim), 0);
	json_object *f = fields_i(4, 300);
	int r = auditlog_append(log, "match", f, true, NULL, NULL);
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &old), 0);
	signal(SIGXFSZ, SIG_DFL);
	assert_int_equal(r, -ENOSPC);
	struct stat st2;
	assert_int_equal(stat(t.log, &st2), 0);
	assert_int_equal(st2.st_size, st.st_size);
	assert_int_equal(auditlog_seq(log), 3);
	assert_int_equal(auditlog_append(log, "match", f, true, NULL, NULL), 0);
	json_object_put(f);
	auditlog_close(log);
	struct auditverify v = verify1(t.log, NULL, 0);
	assert_int_equal(v.problem.kind, AUDIT_OK);
	assert_int_equal(v.last_seq, 4);
	assert_int_equal(v.partial_bytes, 0);
	hwt_rmtree(t.dir);
}

/* Every single-bit flip anywhere in the log is caught: by the chain when
 * it is in any record but the last, by the recorded head otherwise.  The
 * flips run in memory (thousands of them); those that touch a newline,
 * where line splitting matters, also run through the file reader. */
static void test_flip_every_bit(void **state)
{
	struct tdir t;
	char *orig, *buf, head[AUDIT_HEAD_HEX];
	size_t len, last_start;
	uint64_t seq;
	(void)state;

	tdir_make(&t);
	make_log(&t, 4);
	assert_int_equal(auditverify_read_head(t.log, &seq, head), 0);
	assert_int_equal(hw_read_file(t.log, 1 << 20, (void **)&orig, &len), 0);
	assert_int_equal(verify_mem(orig, len, head, seq), AUDIT_OK);
	last_start = (size_t)((char *)memrchr(orig, '\n', len - 1) - orig) + 1;
	buf = malloc(len);
	assert_non_null(buf);
	for (size_t i = 0; i < len; i++)
		for (int b = 0; b < 8; b++) {
			memcpy(buf, orig, len);
			buf[i] ^= (char)(1 << b);
			enum audit_problem_kind chain = verify_mem(buf, len, NULL, 0);
			enum audit_problem_kind anchored = verify_mem(buf, len, head, seq);
			if (i < last_start && chain == AUDIT_OK)
				fail_msg("flip of bit %d at byte %zu not caught", b, i);
			if (anchored == AUDIT_OK)
				fail_msg("flip of bit %d at byte %zu not caught with the head", b, i);
			if (orig[i] == '\n') {
				write_file(t.log, buf, len);
				assert_int_equal(verify1(t.log, NULL, 0).problem.kind, chain);
				assert_int_equal(verify1(t.log, head, seq).problem.kind, anchored);
			}
		}
	free(buf);
	free(orig);
	hwt_rmtree(t.dir);
}

static enum audit_problem_kind verify_lines(struct tdir *t, struct lines *l,
					    const char *anchor, uint64_t aseq,
					    uint64_t *ret_line)
{
	write_lines(t->log, l);
	struct auditverify v = verify1(t->log, anchor, aseq);
	if (ret_line)
		*ret_line = v.problem.line;
	return v.problem.kind;
}

/* The tampering tests' fixture: a new log of 6 records in its own folder,
 * its lines, and its head (what a receiver would have recorded). */
struct tamper {
	struct tdir t;
	struct lines l;
	char head[AUDIT_HEAD_HEX];
};

static int tamper_setup(void **state)
{
	struct tamper *x = calloc(1, sizeof(*x));
	uint64_t seq;

	assert_non_null(x);
	tdir_make(&x->t);
	make_log(&x->t, 6);
	assert_int_equal(auditverify_read_head(x->t.log, &seq, x->head), 0);
	assert_int_equal(seq, 6);
	read_lines(x->t.log, &x->l);
	*state = x;
	return 0;
}

static int tamper_teardown(void **state)
{
	struct tamper *x = *state;
	lines_free(&x->l);
	hwt_rmtree(x->t.dir);
	free(x);
	return 0;
}

static void drop_line(struct lines *l, size_t i)
{
	free(l->v[i]);
	memmove(&l->v[i], &l->v[i + 1], (l->n - i - 1) * sizeof(char *));
	l->n--;
}

static void test_delete_record(void **state)
{
	struct tamper *x = *state;
	uint64_t line;

	drop_line(&x->l, 2);
	assert_int_equal(verify_lines(&x->t, &x->l, NULL, 0, &line), AUDIT_SEQ_GAP);
	assert_int_equal(line, 3);
	drop_line(&x->l, 0);
	assert_int_equal(verify_lines(&x->t, &x->l, NULL, 0, &line), AUDIT_BAD_START);
	assert_int_equal(line, 1);
}

static void test_truncate_tail(void **state)
{
	struct tamper *x = *state;
	struct lines *l = &x->l;
	char h5[AUDIT_HEAD_HEX];

	/* Intact on its own; caught against the head recorded elsewhere, or
	 * against its seq. */
	assert_int_equal(verify_lines(&x->t, l, x->head, 6, NULL), AUDIT_OK);
	drop_line(l, 5);
	assert_int_equal(verify_lines(&x->t, l, NULL, 0, NULL), AUDIT_OK);
	assert_int_equal(verify_lines(&x->t, l, x->head, 0, NULL), AUDIT_ANCHOR_MISSING);
	assert_int_equal(verify_lines(&x->t, l, NULL, 6, NULL), AUDIT_ANCHOR_MISSING);
	assert_int_equal(verify_lines(&x->t, l, x->head, 6, NULL), AUDIT_ANCHOR_MISSING);
	/* An older anchor of the same log still passes. */
	audit_hash_line(l->v[4], strlen(l->v[4]), h5);
	assert_int_equal(verify_lines(&x->t, l, h5, 5, NULL), AUDIT_OK);
}

static void test_reorder_records(void **state)
{
	struct tamper *x = *state;
	char *tmp = x->l.v[2];
	uint64_t line;

	x->l.v[2] = x->l.v[3];
	x->l.v[3] = tmp;
	assert_int_equal(verify_lines(&x->t, &x->l, NULL, 0, &line), AUDIT_SEQ_GAP);
	assert_int_equal(line, 3);
}

static void test_rechain_modified_record(void **state)
{
	struct tamper *x = *state;
	struct lines *l = &x->l;
	uint64_t line;

	modify_fields(l, 2);
	assert_int_equal(verify_lines(&x->t, l, NULL, 0, &line), AUDIT_PREV_MISMATCH);
	assert_int_equal(line, 4);
	/* Re-chained, but not the records after it. */
	rechain(l, 2, 3);
	assert_int_equal(verify_lines(&x->t, l, NULL, 0, &line), AUDIT_PREV_MISMATCH);
	assert_int_equal(line, 4);
	/* All of them: only a head recorded elsewhere catches that. */
	rechain(l, 2, l->n);
	assert_int_equal(verify_lines(&x->t, l, NULL, 0, NULL), AUDIT_OK);
	assert_int_equal(verify_lines(&x->t, l, x->head, 6, &line), AUDIT_ANCHOR_FORK);
	assert_int_equal(line, 6);
	assert_int_equal(verify_lines(&x->t, l, x->head, 0, NULL), AUDIT_ANCHOR_MISSING);
}

static void test_splice_two_logs(void **state)
{
	struct tamper *x = *state;
	void *other;
	uint64_t line;

	/* The first half of one log, the second half of another. */
	fake_now += 3600 * 1000;
	tamper_setup(&other);
	struct tamper *y = other;
	for (size_t i = 3; i < 6; i++) {
		char *tmp = x->l.v[i];
		x->l.v[i] = y->l.v[i];
		y->l.v[i] = tmp;
	}
	assert_int_equal(verify_lines(&x->t, &x->l, NULL, 0, &line), AUDIT_PREV_MISMATCH);
	assert_int_equal(line, 4);
	tamper_teardown(&other);
}

/* Lines no writer produces: a NUL byte, a line far beyond the record
 * limit (longer than the reader's buffer), JSON that is not a record. */
static void test_garbage_lines(void **state)
{
	struct tamper *x = *state;
	struct tdir *t = &x->t;
	struct lines *l = &x->l;
	uint64_t line;
	size_t big = 3 * AUDIT_MAX_LINE + 300 * 1024;

	free(l->v[1]);
	l->v[1] = malloc(big + 1);
	assert_non_null(l->v[1]);
	memset(l->v[1], '{', big);
	l->v[1][big] = '\0';
	assert_int_equal(verify_lines(t, l, NULL, 0, &line), AUDIT_BAD_RECORD);
	assert_int_equal(line, 2);
	/* Going on past it (as show does): the line after the long one is
	 * line 3, and the chain picks up again there. */
	struct auditverify v;
	struct auditverify_opts o = { .time_tolerance_ms = -1, .keep_going = true };
	auditverify_init(&v, &o);
	assert_int_equal(auditverify_file(&v, t->log, NULL, NULL), 0);
	assert_int_equal(v.records, 6);
	assert_int_equal(v.problems, 2); /* the long line, then a prev mismatch */
	assert_int_equal(v.last_seq, 6);
	free(l->v[1]);
	l->v[1] = strdup("[1,2,3]");
	assert_int_equal(verify_lines(t, l, NULL, 0, &line), AUDIT_BAD_RECORD);
	write_lines(t->log, l);
	char *buf;
	size_t len;
	assert_int_equal(hw_read_file(t->log, 1 << 20, (void **)&buf, &len), 0);
	char *p = strstr(buf, "[1,2,3]");
	assert_non_null(p);
	p[1] = '\0'; /* a NUL inside the line */
	write_file(t->log, buf, len);
	free(buf);
	v = verify1(t->log, NULL, 0);
	assert_int_equal(v.problem.kind, AUDIT_BAD_RECORD);
	assert_non_null(strstr(v.problem.detail, "NUL"));
}

static int64_t clock_ms[8];
static size_t clock_i;
static int64_t list_clock(void)
{
	return clock_ms[clock_i++];
}

static void test_time_and_rotate_rules(void **state)
{
	struct tdir t;
	struct auditlog *log;
	struct lines l;
	uint64_t line;
	const struct auditlog_config cfg = { .now_ms = list_clock };
	(void)state;

	/* A clock that steps back 10 minutes and 1 s: beyond the tolerance. */
	tdir_make(&t);
	clock_ms[0] = 1714557600000;
	clock_ms[1] = 1714557601000;
	clock_ms[2] = 1714557601000 - TOLERANCE_MS - 1000;
	clock_ms[3] = 1714557601000 - TOLERANCE_MS + 1000;
	clock_i = 0;
	assert_int_equal(auditlog_open_with(t.log, &cfg, &log), 0);
	append_n(log, 1, 2, 4);
	/* Within tolerance of the previous record is fine. */
	append_n(log, 3, 1, 4);
	auditlog_close(log);
	struct auditverify v = verify1(t.log, NULL, 0);
	assert_int_equal(v.problem.kind, AUDIT_TIME_BACKWARDS);
	assert_int_equal(v.problem.line, 3);
	struct auditverify_opts o = { .time_tolerance_ms = -1 };
	auditverify_init(&v, &o);
	assert_int_equal(auditverify_file(&v, t.log, NULL, NULL), 0);
	assert_true(auditverify_finish(&v));

	/* A file that starts with a rotate record is a valid start; one whose
	 * fields disagree with its seq/prev is not. */
	read_lines(t.log, &l);
	json_object *f = json_object_new_object();
	json_object_object_add(f, "prev_seq", json_object_new_int(0));
	json_object_object_add(f, "prev_head", json_object_new_string(audit_zero_head));
	char *s = edit_line(l.v[0], "fields", f);
	char *s2 = edit_line(s, "type", json_object_new_string("rotate"));
	free(s);
	free(l.v[0]);
	l.v[0] = s2;
	while (l.n > 2) /* drop the time step back */
		free(l.v[--l.n]);
	rechain(&l, 1, l.n);
	assert_int_equal(verify_lines(&t, &l, NULL, 0, NULL), AUDIT_OK);
	f = json_object_new_object();
	json_object_object_add(f, "prev_seq", json_object_new_int(7));
	json_object_object_add(f, "prev_head", json_object_new_string(audit_zero_head));
	s = edit_line(l.v[0], "fields", f);
	free(l.v[0]);
	l.v[0] = s;
	rechain(&l, 1, l.n);
	assert_int_equal(verify_lines(&t, &l, NULL, 0, &line), AUDIT_BAD_ROTATE);
	assert_int_equal(line, 1);
	lines_free(&l);
	hwt_rmtree(t.dir);
}

static void test_partial_last_line(void **state)
{
	struct tdir t;
	struct auditlog *log;
	char head[AUDIT_HEAD_HEX], h2[AUDIT_HEAD_HEX];
	uint64_t seq, seq2;
	struct stat st;
	(void)state;

	tdir_make(&t);
	make_log(&t, 3);
	assert_int_equal(auditverify_read_head(t.log, &seq, head), 0);
	assert_int_equal(stat(t.log, &st), 0);
	/* A crash in mid-write: half a record, no newline. */
	const char half[] = "{\"seq\":4,\"time\":\"2024-05-01T10:00:09.000Z\",\"ty";
	int fd = open(t.log, O_WRONLY | O_APPEND);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, half, sizeof(half) - 1), (ssize_t)sizeof(half) - 1);
	close(fd);

	/* The verifier passes every complete record and reports the rest. */
	struct auditverify v = verify1(t.log, head, seq);
	assert_int_equal(v.problem.kind, AUDIT_OK);
	assert_int_equal(v.partial_bytes, sizeof(half) - 1);
	assert_int_equal(auditverify_read_head(t.log, &seq2, h2), 0);
	assert_string_equal(h2, head);

	/* The writer reports it, drops it, and the chain goes on. */
	assert_int_equal(auditlog_open_with(t.log, &fake_cfg, &log), 0);
	assert_int_equal(auditlog_report(log)->partial_bytes, sizeof(half) - 1);
	assert_int_equal(auditlog_seq(log), 3);
	assert_string_equal(auditlog_head(log), head);
	append_n(log, 4, 1, 4);
	auditlog_close(log);
	struct stat st2;
	assert_int_equal(stat(t.log, &st2), 0);
	assert_true(st2.st_size > st.st_size);
	v = verify1(t.log, head, seq);
	assert_int_equal(v.problem.kind, AUDIT_OK);
	assert_int_equal(v.partial_bytes, 0);
	assert_int_equal(v.last_seq, 4);

	/* A file holding nothing but a partial line starts a new chain. */
	assert_int_equal(hw_write_atomic(t.log, half, sizeof(half) - 1, 0640), 0);
	assert_int_equal(auditlog_open_with(t.log, &fake_cfg, &log), 0);
	assert_int_equal(auditlog_report(log)->partial_bytes, sizeof(half) - 1);
	assert_int_equal(auditlog_seq(log), 0);
	append_n(log, 1, 1, 4);
	auditlog_close(log);
	v = verify1(t.log, NULL, 0);
	assert_int_equal(v.problem.kind, AUDIT_OK);
	assert_int_equal(v.last_seq, 1);
	hwt_rmtree(t.dir);
}

static void test_broken_log_on_open(void **state)
{
	struct tdir t;
	struct auditlog *log = NULL;
	struct lines l;
	struct auditlog_config cfg = fake_cfg;
	(void)state;

	tdir_make(&t);
	make_log(&t, 4);
	read_lines(t.log, &l);
	modify_fields(&l, 1);
	write_lines(t.log, &l);
	lines_free(&l);
	assert_int_equal(auditlog_open_with(t.log, &cfg, &log), -EBADMSG);
	assert_null(log);
	cfg.set_aside_broken = true;
	assert_int_equal(auditlog_open_with(t.log, &cfg, &log), 0);
	const struct auditlog_report *rep = auditlog_report(log);
	assert_true(rep->set_aside);
	assert_non_null(strstr(rep->problem, "prev_mismatch"));
	assert_int_equal(access(rep->set_aside_path, R_OK), 0);
	assert_int_equal(auditlog_seq(log), 0);
	append_n(log, 1, 1, 4);
	auditlog_close(log);
	struct auditverify v = verify1(t.log, NULL, 0);
	assert_int_equal(v.problem.kind, AUDIT_OK);
	assert_int_equal(v.last_seq, 1);
	hwt_rmtree(t.dir);
}

static void test_rotation_keeps_chain(void **state)
{
	struct tdir t;
	struct auditlog *log;
	struct auditlog_config cfg = { .max_bytes = 2 * AUDIT_MAX_LINE, .keep = 2,
				       .now_ms = fake_clock };
	char **files = NULL, head[AUDIT_HEAD_HEX], p[256];
	uint64_t seq;
	struct stat st;
	(void)state;

	tdir_make(&t);
	assert_int_equal(auditlog_open_with(t.log, &cfg, &log), 0);
	append_n(log, 1, 600, 1000); /* ~1.1 KiB a record: about 5 files */
	uint64_t end = auditlog_seq(log); /* 600 and a rotate record a file */
	assert_true(end >= 600 + 4);
	auditlog_close(log);

	assert_int_equal(auditverify_log_files(t.log, &files), 0);
	size_t n = 0;
	while (files[n])
		n++;
	assert_int_equal(n, 3); /* keep=2: path.2, path.1, path */
	snprintf(p, sizeof(p), "%s.2", t.log);
	assert_string_equal(files[0], p);
	assert_string_equal(files[2], t.log);
	snprintf(p, sizeof(p), "%s.3", t.log);
	assert_int_equal(access(p, F_OK), -1);
	for (size_t i = 0; i < n; i++) {
		assert_int_equal(stat(files[i], &st), 0);
		assert_true((uint64_t)st.st_size <= cfg.max_bytes);
	}

	/* The files verify as one chain, which starts with the rotate record
	 * of the oldest kept file (the first files are rotated away). */
	struct auditverify v = verify_files((const char *const *)files, n, NULL, 0);
	assert_int_equal(v.problem.kind, AUDIT_OK);
	assert_int_equal(v.last_seq, end);
	assert_true(v.first_seq > 1);
	assert_int_equal(auditverify_read_head(t.log, &seq, head), 0);
	assert_string_equal(v.head, head);
	/* An anchor in a rotated-away file cannot be checked: said so. */
	v = verify_files((const char *const *)files, n, NULL, 1);
	assert_int_equal(v.problem.kind, AUDIT_ANCHOR_OLDER);

	/* The wrong order, or a missing middle file, breaks the link. */
	const char *swapped[] = { files[0], files[2], files[1] };
	v = verify_files(swapped, 3, NULL, 0);
	assert_int_equal(v.problem.kind, AUDIT_SEQ_GAP);
	const char *gap[] = { files[0], files[2] };
	v = verify_files(gap, 2, NULL, 0);
	assert_int_equal(v.problem.kind, AUDIT_SEQ_GAP);

	/* A rotation interrupted after the rename: no current file.  The
	 * writer continues from path.1 with a rotate record. */
	assert_int_equal(rename(files[1], files[0]), 0);
	assert_int_equal(rename(files[2], files[1]), 0);
	char **now;
	assert_int_equal(auditverify_log_files(t.log, &now), 0);
	assert_string_equal(now[0], files[0]);
	assert_string_equal(now[1], files[1]); /* no current file listed */
	assert_null(now[2]);
	v = verify_files((const char *const *)now, 2, NULL, 0);
	assert_int_equal(v.problem.kind, AUDIT_OK);
	auditverify_free_files(now);
	assert_int_equal(auditlog_open_with(t.log, &cfg, &log), 0);
	assert_true(auditlog_report(log)->continued_rotation);
	assert_int_equal(auditlog_seq(log), end);
	assert_int_equal(auditverify_read_head(t.log, &seq, head), 0); /* from .1 */
	assert_int_equal(seq, end);
	assert_string_equal(auditlog_head(log), head);
	append_n(log, 1000, 1, 10);
	assert_int_equal(auditlog_seq(log), end + 2); /* rotate record + this */
	auditlog_close(log);
	v = verify_files((const char *const *)files, n, head, end);
	assert_int_equal(v.problem.kind, AUDIT_OK);
	assert_int_equal(v.last_seq, end + 2);
	auditverify_free_files(files);
	hwt_rmtree(t.dir);
}

/* The kill -9 loop: a child appends (with rotation) until it is killed at
 * a random moment; after each kill every complete record verifies and
 * nothing that was complete goes away. */
static void child_append_forever(const char *path, uint64_t max_bytes, int ready_fd)
{
	struct auditlog_config cfg = { .max_bytes = max_bytes, .keep = 3 };
	struct auditlog *log;

	if (auditlog_open_with(path, &cfg, &log) != 0)
		_exit(3);
	/* Tell the parent the open (which repairs the last kill's damage)
	 * is done, so that each kill lands among appends. */
	if (ready_fd >= 0 && (write(ready_fd, "r", 1) != 1 || close(ready_fd) != 0))
		_exit(5);
	for (int64_t i = 0;; i++) {
		json_object *f = fields_i(i, (size_t)(i * 37 % 1500));
		if (auditlog_append(log, i % 8 ? "scan_counts" : "match", f, i % 8 == 0,
				    NULL, NULL) != 0)
			_exit(4);
		json_object_put(f);
	}
}

static void test_kill9_loop(void **state)
{
	struct tdir t;
	struct timespec t0, t1;
	uint64_t last = 0, partial_seen = 0;
	(void)state;

	tdir_make(&t);
	srand((unsigned)time(NULL));
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (int k = 0; k < 50; k++) {
		int pfd[2];
		char ready;
		assert_int_equal(pipe(pfd), 0);
		pid_t pid = fork();
		assert_true(pid >= 0);
		if (pid == 0) {
			close(pfd[0]);
			child_append_forever(t.log, 2 * AUDIT_MAX_LINE, pfd[1]);
		}
		close(pfd[1]);
		assert_int_equal(read(pfd[0], &ready, 1), 1);
		close(pfd[0]);
		usleep((useconds_t)(rand() % 20000));
		assert_int_equal(kill(pid, SIGKILL), 0);
		int status;
		assert_int_equal(waitpid(pid, &status, 0), pid);
		if (!WIFSIGNALED(status))
			fail_msg("writer exited by itself (status %d) on round %d", status, k);
		char **files;
		size_t n = 0;
		assert_int_equal(auditverify_log_files(t.log, &files), 0);
		while (files[n])
			n++;
		struct auditverify v = verify_files((const char *const *)files, n, NULL, 0);
		auditverify_free_files(files);
		if (v.problem.kind != AUDIT_OK)
			fail_msg("round %d: %s at line %llu: %s", k,
				 audit_problem_name(v.problem.kind),
				 (unsigned long long)v.problem.line, v.problem.detail);
		assert_true(v.last_seq >= last);
		last = v.last_seq;
		partial_seen += v.partial_bytes > 0;
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	double secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	fprintf(stderr, "# kill -9 x50: %llu records, %llu kills left a partial line, %.1f s\n",
		(unsigned long long)last, (unsigned long long)partial_seen, secs);
	assert_true(last > 50);
	hwt_rmtree(t.dir);
}

/* --write LOG [MAX_BYTES KEEP]: stdin lines "TIME TYPE JSON" become records
 * with those times; prints "SEQ HEAD" of the last one. */
static int64_t stdin_time;
static int64_t stdin_clock(void)
{
	return stdin_time;
}

static int tool_write(int argc, char **argv)
{
	struct auditlog_config cfg = { .now_ms = stdin_clock };
	struct auditlog *log;
	char *line = NULL;
	size_t cap = 0;
	int r;

	if (argc == 5) {
		cfg.max_bytes = strtoull(argv[3], NULL, 10);
		cfg.keep = (unsigned)strtoul(argv[4], NULL, 10);
	}
	r = auditlog_open_with(argv[2], &cfg, &log);
	if (r < 0) {
		fprintf(stderr, "open %s: %s\n", argv[2], strerror(-r));
		return 2;
	}
	while (getline(&line, &cap, stdin) > 0) {
		char when[AUDIT_TIME_LEN + 1], type[64];
		int off = 0;
		if (sscanf(line, "%24s %63s %n", when, type, &off) != 2 ||
		    audit_time_parse(when, &stdin_time) < 0) {
			fprintf(stderr, "bad input line: %s", line);
			return 2;
		}
		json_object *f = json_tokener_parse(line + off);
		r = auditlog_append(log, type, f, false, NULL, NULL);
		json_object_put(f);
		if (r < 0) {
			fprintf(stderr, "append: %s\n", strerror(-r));
			return 2;
		}
	}
	free(line);
	printf("%llu %s\n", (unsigned long long)auditlog_seq(log), auditlog_head(log));
	auditlog_close(log);
	return 0;
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_time_roundtrip),
		cmocka_unit_test(test_append_reopen_continue),
		cmocka_unit_test(test_record_holds_only_what_was_given),
		cmocka_unit_test(test_bad_appends_leave_nothing),
		cmocka_unit_test(test_short_write_undone),
		cmocka_unit_test(test_flip_every_bit),
		cmocka_unit_test_setup_teardown(test_delete_record, tamper_setup, tamper_teardown),
		cmocka_unit_test_setup_teardown(test_truncate_tail, tamper_setup, tamper_teardown),
		cmocka_unit_test_setup_teardown(test_reorder_records, tamper_setup, tamper_teardown),
		cmocka_unit_test_setup_teardown(test_rechain_modified_record, tamper_setup, tamper_teardown),
		cmocka_unit_test_setup_teardown(test_splice_two_logs, tamper_setup, tamper_teardown),
		cmocka_unit_test_setup_teardown(test_garbage_lines, tamper_setup, tamper_teardown),
		cmocka_unit_test(test_time_and_rotate_rules),
		cmocka_unit_test(test_partial_last_line),
		cmocka_unit_test(test_broken_log_on_open),
		cmocka_unit_test(test_rotation_keeps_chain),
		cmocka_unit_test(test_kill9_loop),
	};
	if (argc >= 3 && strcmp(argv[1], "--write") == 0)
		return tool_write(argc, argv);
	if (argc == 3 && strcmp(argv[1], "--loop") == 0)
		child_append_forever(argv[2], AUDITLOG_DEFAULT_MAX_BYTES, -1);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
