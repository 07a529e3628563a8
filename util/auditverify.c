/* auditverify.c - walk audit log files as one hash chain and report the
 * first record that breaks it.  Files are streamed through a bounded
 * buffer (never mapped: a file truncated under a mapping would SIGBUS). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "auditverify.h"

#define READ_CHUNK (256 * 1024)
#define MAX_ROTATED 10000

static const char *const problem_names[] = {
	[AUDIT_OK] = "ok",
	[AUDIT_BAD_RECORD] = "bad_record",
	[AUDIT_BAD_START] = "bad_start",
	[AUDIT_SEQ_GAP] = "seq_gap",
	[AUDIT_PREV_MISMATCH] = "prev_mismatch",
	[AUDIT_BAD_ROTATE] = "bad_rotate",
	[AUDIT_TIME_BACKWARDS] = "time_backwards",
	[AUDIT_ANCHOR_FORK] = "anchor_fork",
	[AUDIT_ANCHOR_MISSING] = "anchor_missing",
	[AUDIT_ANCHOR_OLDER] = "anchor_older",
};

const char *audit_problem_name(enum audit_problem_kind kind)
{
	if ((size_t)kind >= sizeof(problem_names) / sizeof(problem_names[0]))
		return "unknown";
	return problem_names[kind];
}

void auditverify_init(struct auditverify *v, const struct auditverify_opts *opts)
{
	memset(v, 0, sizeof(*v));
	if (opts)
		v->opts = *opts;
	memcpy(v->head, audit_zero_head, AUDIT_HEAD_HEX);
	memcpy(v->first_prev, audit_zero_head, AUDIT_HEAD_HEX);
}

/* Count a problem; only the first one is kept in detail. */
static void add_problem(struct auditverify *v, enum audit_problem_kind kind,
			const char *file, uint64_t line, uint64_t seq,
			const char *fmt, ...) __attribute__((format(printf, 6, 7)));

static void add_problem(struct auditverify *v, enum audit_problem_kind kind,
			const char *file, uint64_t line, uint64_t seq,
			const char *fmt, ...)
{
	va_list ap;

	if (v->problems++ > 0)
		return;
	v->problem.kind = kind;
	v->problem.file = file;
	v->problem.line = line;
	v->problem.seq = seq;
	va_start(ap, fmt);
	vsnprintf(v->problem.detail, sizeof(v->problem.detail), fmt, ap);
	va_end(ap);
}

/* A rotate record repeats the link it makes, so that the file it starts
 * can be checked on its own (its predecessor may be rotated away). */
static bool rotate_consistent(const struct audit_record *rec)
{
	json_object *pseq = json_object_object_get(rec->fields, "prev_seq");
	json_object *phead = json_object_object_get(rec->fields, "prev_head");

	return json_object_is_type(pseq, json_type_int) &&
	       (uint64_t)json_object_get_int64(pseq) + 1 == rec->seq &&
	       json_object_is_type(phead, json_type_string) &&
	       strcmp(json_object_get_string(phead), rec->prev) == 0;
}

/* The chain rules for one parsed record; returns the problem found. */
static enum audit_problem_kind check_chain(const struct auditverify *v,
					   const struct audit_record *rec,
					   char *detail, size_t dlen)
{
	bool rotate = strcmp(rec->type, "rotate") == 0;

	if (rotate && !rotate_consistent(rec)) {
		snprintf(detail, dlen, "rotate record: fields prev_seq/prev_head do not "
			 "match its own seq %llu and prev", (unsigned long long)rec->seq);
		return AUDIT_BAD_ROTATE;
	}
	if (!v->started) {
		if ((rec->seq == 1 && strcmp(rec->prev, audit_zero_head) == 0) || rotate)
			return AUDIT_OK;
		snprintf(detail, dlen, "the first record has seq %llu but is neither seq 1 "
			 "with a zero prev nor a rotate record: the start of the log is "
			 "missing", (unsigned long long)rec->seq);
		return AUDIT_BAD_START;
	}
	if (rec->seq != v->last_seq + 1) {
		snprintf(detail, dlen, "seq %llu follows seq %llu (expected %llu): a "
			 "record was removed, reordered or inserted",
			 (unsigned long long)rec->seq, (unsigned long long)v->last_seq,
			 (unsigned long long)v->last_seq + 1);
		return AUDIT_SEQ_GAP;
	}
	if (strcmp(rec->prev, v->head) != 0) {
		snprintf(detail, dlen, "prev is %.16s... but the previous record (seq %llu) "
			 "hashes to %.16s...: one of the two was altered, or a record was "
			 "replaced", rec->prev, (unsigned long long)v->last_seq, v->head);
		return AUDIT_PREV_MISMATCH;
	}
	if (v->opts.time_tolerance_ms >= 0 &&
	    rec->time_ms < v->last_time_ms - v->opts.time_tolerance_ms) {
		snprintf(detail, dlen, "time %s is %.1f s before the previous record's "
			 "(tolerance %.1f s)", rec->time,
			 (double)(v->last_time_ms - rec->time_ms) / 1000.0,
			 (double)v->opts.time_tolerance_ms / 1000.0);
		return AUDIT_TIME_BACKWARDS;
	}
	return AUDIT_OK;
}

static void check_anchor(struct auditverify *v, const struct audit_record *rec,
			 const char *file, uint64_t lineno)
{
	const char *ah = v->opts.anchor_head;
	uint64_t as = v->opts.anchor_seq;
	bool head_here = ah && strcmp(ah, rec->hash) == 0;

	if (head_here)
		v->anchor_head_found = true;
	if (as && rec->seq == as)
		v->anchor_seq_found = true;
	if (ah && as && (rec->seq == as) != head_here)
		add_problem(v, AUDIT_ANCHOR_FORK, file, lineno, rec->seq,
			    "the anchor says seq %llu has hash %.16s..., but the log's "
			    "record seq %llu hashes to %.16s...: the log was rewritten "
			    "(forked) after the anchor was recorded",
			    (unsigned long long)as, ah, (unsigned long long)rec->seq,
			    rec->hash);
}

int auditverify_line(struct auditverify *v, const char *line, size_t len,
		     const char *file, uint64_t lineno, auditverify_fn fn, void *ud)
{
	struct audit_record rec;
	char why[256];
	enum audit_problem_kind kind;
	int r;

	v->records++;
	v->file_records++;
	r = audit_record_parse(line, len, &rec, why, sizeof(why));
	if (r == -EBADMSG) {
		add_problem(v, AUDIT_BAD_RECORD, file, lineno, 0, "%s", why);
		return 0;
	}
	if (r < 0)
		return r;
	kind = check_chain(v, &rec, why, sizeof(why));
	if (kind != AUDIT_OK) {
		add_problem(v, kind, file, lineno, rec.seq, "%s", why);
		if (!v->opts.keep_going)
			goto out;
	}
	if (v->problems == 0)
		check_anchor(v, &rec, file, lineno);
	if (!v->started) {
		v->started = true;
		v->first_seq = rec.seq;
		memcpy(v->first_prev, rec.prev, AUDIT_HEAD_HEX);
	}
	/* Without keep_going a fork found just now still ends the walk, but
	 * the record itself is intact, so it stays part of the good prefix. */
	v->last_seq = rec.seq;
	v->last_time_ms = rec.time_ms;
	memcpy(v->head, rec.hash, AUDIT_HEAD_HEX);
	if (fn)
		r = fn(&rec, v->problems == 0, ud);
out:
	audit_record_release(&rec);
	return r;
}

static bool stopped(const struct auditverify *v)
{
	return v->problems > 0 && !v->opts.keep_going;
}

int auditverify_file(struct auditverify *v, const char *path, auditverify_fn fn,
		     void *ud)
{
	const size_t cap = AUDIT_MAX_LINE + 1 + READ_CHUNK;
	char *buf = NULL;
	size_t have = 0;
	uint64_t off = 0, lineno = 0; /* off: file offset of buf[0] */
	bool overlong = false;
	int fd = -1, r = 0;

	v->file_good_bytes = 0;
	v->file_records = 0;
	if (stopped(v))
		return 0;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return -errno;
	buf = malloc(cap);
	if (!buf) {
		r = -ENOMEM;
		goto out;
	}
	for (;;) {
		ssize_t n = read(fd, buf + have, cap - have);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			r = -errno;
			goto out;
		}
		if (n == 0)
			break;
		have += (size_t)n;
		size_t start = 0;
		char *nl;
		while ((nl = memchr(buf + start, '\n', have - start))) {
			size_t len = (size_t)(nl - (buf + start));
			if (overlong) {
				overlong = false; /* the end of a line reported already */
			} else {
				r = auditverify_line(v, buf + start, len, path, ++lineno, fn, ud);
				if (r < 0)
					goto out;
			}
			start += len + 1;
			v->file_good_bytes = off + start;
			if (stopped(v))
				goto out;
		}
		if (start == 0 && have == cap) {
			/* No newline in a full buffer: far beyond the record
			 * limit.  Report it once and drop bytes up to its end. */
			if (!overlong) {
				v->records++;
				v->file_records++;
				add_problem(v, AUDIT_BAD_RECORD, path, ++lineno, 0,
					    "line longer than the 64 KiB record limit");
				if (stopped(v))
					goto out;
			}
			overlong = true;
			off += have;
			have = 0;
			continue;
		}
		memmove(buf, buf + start, have - start);
		off += start;
		have -= start;
	}
	/* Whatever follows the last newline was never a complete record. */
	v->partial_bytes += (off + have) - v->file_good_bytes;
out:
	free(buf);
	close(fd);
	return r;
}

bool auditverify_finish(struct auditverify *v)
{
	const char *ah = v->opts.anchor_head;
	uint64_t as = v->opts.anchor_seq;

	if (v->problems > 0 || (!ah && !as))
		return v->problems == 0;
	if ((!ah || v->anchor_head_found) && (!as || v->anchor_seq_found))
		return true;
	if (as && v->started && v->first_seq > as)
		add_problem(v, AUDIT_ANCHOR_OLDER, NULL, 0, as,
			    "the anchor (seq %llu) is older than the oldest record "
			    "given (seq %llu): give the rotated files that hold it",
			    (unsigned long long)as, (unsigned long long)v->first_seq);
	else if (as && !v->anchor_seq_found)
		add_problem(v, AUDIT_ANCHOR_MISSING, NULL, 0, as,
			    "the log ends at seq %llu but the anchor says seq %llu was "
			    "written: records were removed from the end (truncated)",
			    (unsigned long long)v->last_seq, (unsigned long long)as);
	else
		add_problem(v, AUDIT_ANCHOR_MISSING, NULL, 0, as,
			    "no record hashes to the anchor %.16s...: the log was "
			    "truncated or rewritten after the anchor was recorded", ah);
	return false;
}

static int cmp_desc(const void *a, const void *b)
{
	unsigned long x = *(const unsigned long *)a, y = *(const unsigned long *)b;
	return x < y ? 1 : x > y ? -1 : 0;
}

/* "N" with no sign, no leading zero and no trailing bytes. */
static bool parse_suffix(const char *s, unsigned long *ret)
{
	char *end;

	if (s[0] < '1' || s[0] > '9')
		return false;
	errno = 0;
	unsigned long n = strtoul(s, &end, 10);
	if (errno || *end)
		return false;
	*ret = n;
	return true;
}

int auditverify_log_files(const char *path, char ***ret_files)
{
	char dir[PATH_MAX];
	const char *slash = strrchr(path, '/'), *base = slash ? slash + 1 : path;
	size_t blen = strlen(base), n = 0, cap = 16;
	unsigned long *nums = NULL;
	char **files = NULL;
	DIR *d = NULL;
	struct dirent *de;
	int r = 0;

	if (slash)
		snprintf(dir, sizeof(dir), "%.*s", (int)(slash - path + (slash == path)), path);
	else
		snprintf(dir, sizeof(dir), ".");
	nums = malloc(cap * sizeof(*nums));
	if (!nums)
		return -ENOMEM;
	d = opendir(dir);
	while (d && (de = readdir(d))) {
		unsigned long num;
		if (strncmp(de->d_name, base, blen) != 0 || de->d_name[blen] != '.' ||
		    !parse_suffix(de->d_name + blen + 1, &num))
			continue;
		if (n == MAX_ROTATED) {
			r = -E2BIG;
			goto out;
		}
		if (n == cap) {
			unsigned long *g = realloc(nums, 2 * cap * sizeof(*nums));
			if (!g) {
				r = -ENOMEM;
				goto out;
			}
			nums = g;
			cap *= 2;
		}
		nums[n++] = num;
	}
	qsort(nums, n, sizeof(*nums), cmp_desc);
	files = calloc(n + 2, sizeof(*files));
	if (!files) {
		r = -ENOMEM;
		goto out;
	}
	/* A rotation interrupted between its renames leaves no current file;
	 * the writer's next open continues the chain from path.1. */
	bool current = n == 0 || access(path, F_OK) == 0 || errno != ENOENT;
	for (size_t i = 0; i < n + current; i++) {
		if (i < n)
			r = asprintf(&files[i], "%s.%lu", path, nums[i]);
		else
			r = (files[i] = strdup(path)) ? 0 : -1;
		if (r < 0) {
			files[i] = NULL;
			r = -ENOMEM;
			goto out;
		}
	}
	r = 0;
	*ret_files = files;
	files = NULL;
out:
	if (d)
		closedir(d);
	free(nums);
	auditverify_free_files(files);
	return r;
}

void auditverify_free_files(char **files)
{
	if (!files)
		return;
	for (char **f = files; *f; f++)
		free(*f);
	free(files);
}

int auditverify_file_head(const char *file, uint64_t *ret_seq,
			  char ret_head[AUDIT_HEAD_HEX])
{
	/* Room for a partial last write (at most one record and its newline)
	 * plus the complete record before it and the newline before that. */
	const size_t window = 2 * (AUDIT_MAX_LINE + 1) + 1;
	struct audit_record rec;
	struct stat st;
	char *buf = NULL;
	int fd, r;

	fd = open(file, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0) {
		r = -errno;
		goto out;
	}
	size_t want = (uint64_t)st.st_size < window ? (size_t)st.st_size : window;
	off_t from = st.st_size - (off_t)want;
	buf = malloc(want + 1);
	if (!buf) {
		r = -ENOMEM;
		goto out;
	}
	ssize_t got = pread(fd, buf, want, from);
	if (got < 0) {
		r = -errno;
		goto out;
	}
	char *end = memrchr(buf, '\n', (size_t)got);
	if (!end) {
		r = -ENODATA;
		goto out;
	}
	char *start = memrchr(buf, '\n', (size_t)(end - buf));
	if (!start && from > 0) {
		r = -EBADMSG; /* the last line is longer than any record */
		goto out;
	}
	start = start ? start + 1 : buf;
	r = audit_record_parse(start, (size_t)(end - start), &rec, NULL, 0);
	if (r < 0)
		goto out;
	*ret_seq = rec.seq;
	memcpy(ret_head, rec.hash, AUDIT_HEAD_HEX);
	audit_record_release(&rec);
out:
	free(buf);
	close(fd);
	return r;
}

int auditverify_read_head(const char *path, uint64_t *ret_seq,
			  char ret_head[AUDIT_HEAD_HEX])
{
	char prev[PATH_MAX];
	int r = auditverify_file_head(path, ret_seq, ret_head);

	if (r != -ENOENT && r != -ENODATA)
		return r;
	if (snprintf(prev, sizeof(prev), "%s.1", path) >= (int)sizeof(prev))
		return -ENAMETOOLONG;
	return auditverify_file_head(prev, ret_seq, ret_head);
}
