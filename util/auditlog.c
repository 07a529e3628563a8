/* auditlog.c - append records to the hash-chained audit log, rotate it
 * without breaking the chain, and pick the chain up again after a crash.
 *
 * Every state change of the file is ordered so that a crash at any point
 * leaves something the next open can continue: a record is one write()
 * (at worst a partial last line, dropped at open); rotation renames the
 * full file away before the new one exists (a missing or empty file with a
 * path.1 beside it means "continue from path.1"). */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "auditlog.h"
#include "auditverify.h"
#include "fileio.h"

struct auditlog {
	int fd;
	char *path;
	struct auditlog_config cfg;
	uint64_t seq;
	char head[AUDIT_HEAD_HEX];
	uint64_t size; /* bytes in the current file */
	/* The current file has no record yet but the chain goes on from
	 * path.1: the next append writes the rotate record first. */
	bool need_rotate_record;
	/* A failed write could not be undone: the file may hold bytes this
	 * handle does not know about, so it refuses to write more. */
	bool failed;
	struct auditlog_report report;
};

static const int open_flags = O_WRONLY | O_APPEND | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY;

static int64_t now_ms(const struct auditlog *log)
{
	return log->cfg.now_ms ? log->cfg.now_ms() : audit_now_ms();
}

/* Open (creating) the current file and take the writer's lock. */
static int open_locked(const char *path, int extra_flags, int *ret_fd)
{
	int fd = open(path, open_flags | O_CREAT | extra_flags, 0640);
	if (fd < 0)
		return -errno;
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		int r = errno == EWOULDBLOCK ? -EBUSY : -errno;
		close(fd);
		return r;
	}
	*ret_fd = fd;
	return 0;
}

static void set_head(struct auditlog *log, uint64_t seq, const char *head)
{
	log->seq = seq;
	memcpy(log->head, head, AUDIT_HEAD_HEX);
}

/* The chain of the current file is broken: keep the file as evidence under
 * a new name and start a new chain in a new file. */
static int set_aside(struct auditlog *log, const struct auditverify *v)
{
	struct auditlog_report *rep = &log->report;
	char stamp[32];
	struct tm tm;
	time_t t = (time_t)(now_ms(log) / 1000);
	int r, fd;

	gmtime_r(&t, &tm);
	strftime(stamp, sizeof(stamp), "%Y%m%dT%H%M%SZ", &tm);
	snprintf(rep->problem, sizeof(rep->problem), "line %llu (seq %llu): %s: %s",
		 (unsigned long long)v->problem.line, (unsigned long long)v->problem.seq,
		 audit_problem_name(v->problem.kind), v->problem.detail);
	for (int i = 0;; i++) {
		int n = i == 0 ? snprintf(rep->set_aside_path, sizeof(rep->set_aside_path),
					  "%s.broken-%s", log->path, stamp)
			       : snprintf(rep->set_aside_path, sizeof(rep->set_aside_path),
					  "%s.broken-%s-%d", log->path, stamp, i);
		if (n >= (int)sizeof(rep->set_aside_path))
			return -ENAMETOOLONG;
		if (access(rep->set_aside_path, F_OK) != 0)
			break;
		if (i == 100)
			return -EEXIST;
	}
	if (rename(log->path, rep->set_aside_path) < 0)
		return -errno;
	r = open_locked(log->path, O_EXCL, &fd);
	if (r < 0)
		return r;
	close(log->fd);
	log->fd = fd;
	log->size = 0;
	rep->set_aside = true;
	set_head(log, 0, audit_zero_head);
	return hw_fsync_parent(log->path);
}

/* Find the head of the current file (or of path.1), dropping a partial
 * last line. */
static int find_head(struct auditlog *log)
{
	struct auditverify v;
	struct auditverify_opts vo = { .time_tolerance_ms = -1 };
	struct stat st;
	char prev_file[PATH_MAX];
	uint64_t seq;
	char head[AUDIT_HEAD_HEX];
	int r;

	if (fstat(log->fd, &st) < 0)
		return -errno;
	log->size = (uint64_t)st.st_size;
	set_head(log, 0, audit_zero_head);
	if (log->size > 0) {
		auditverify_init(&v, &vo);
		r = auditverify_file(&v, log->path, NULL, NULL);
		if (r < 0)
			return r;
		if (v.problems > 0)
			return log->cfg.set_aside_broken ? set_aside(log, &v) : -EBADMSG;
		if (v.file_good_bytes < log->size) {
			/* A crash mid-write: the tail never was a record.
			 * Nobody was told it was written (append had not
			 * returned), so dropping it loses nothing. */
			log->report.partial_bytes = log->size - v.file_good_bytes;
			if (ftruncate(log->fd, (off_t)v.file_good_bytes) < 0 ||
			    fsync(log->fd) < 0)
				return -errno;
			log->size = v.file_good_bytes;
		}
		log->report.records = v.file_records;
		if (v.file_records > 0) {
			set_head(log, v.last_seq, v.head);
			return 0;
		}
	}
	if (snprintf(prev_file, sizeof(prev_file), "%s.1", log->path) >=
	    (int)sizeof(prev_file))
		return -ENAMETOOLONG;
	r = auditverify_file_head(prev_file, &seq, head);
	if (r == -ENOENT || r == -ENODATA)
		return 0; /* a new chain */
	if (r == -EBADMSG && log->cfg.set_aside_broken) {
		/* Nothing to set aside; a new chain, and verify will show
		 * the break between path.1 and this file. */
		snprintf(log->report.problem, sizeof(log->report.problem),
			 "the last line of the rotated file (.1) is not a record; "
			 "a new chain starts");
		return 0;
	}
	if (r < 0)
		return r;
	set_head(log, seq, head);
	log->need_rotate_record = true;
	log->report.continued_rotation = true;
	return 0;
}

int auditlog_open_with(const char *path, const struct auditlog_config *cfg,
		       struct auditlog **ret)
{
	struct auditlog *log = NULL;
	int r;

	log = calloc(1, sizeof(*log));
	if (!log)
		return -ENOMEM;
	log->fd = -1;
	if (cfg)
		log->cfg = *cfg;
	if (!log->cfg.max_bytes)
		log->cfg.max_bytes = AUDITLOG_DEFAULT_MAX_BYTES;
	if (!log->cfg.keep)
		log->cfg.keep = AUDITLOG_DEFAULT_KEEP;
	if (log->cfg.max_bytes < 2 * AUDIT_MAX_LINE || log->cfg.keep > AUDITLOG_MAX_KEEP) {
		r = -EINVAL;
		goto fail;
	}
	log->path = strdup(path);
	if (!log->path) {
		r = -ENOMEM;
		goto fail;
	}
	r = open_locked(path, 0, &log->fd);
	if (r < 0)
		goto fail;
	r = find_head(log);
	if (r < 0)
		goto fail;
	/* The file may have just been created: make its name durable. */
	r = hw_fsync_parent(path);
	if (r < 0)
		goto fail;
	*ret = log;
	return 0;
fail:
	auditlog_close(log);
	return r;
}

int auditlog_open(const char *path, struct auditlog **ret)
{
	return auditlog_open_with(path, NULL, ret);
}

void auditlog_close(struct auditlog *log)
{
	if (!log)
		return;
	if (log->fd >= 0)
		close(log->fd);
	free(log->path);
	free(log);
}

/* Standard JSON has no NaN or Infinity (json-c would write them, and most
 * readers would refuse the line), and a record nests only so deep. */
static bool fields_portable(json_object *o, int depth)
{
	if (depth > 16)
		return false;
	switch (json_object_get_type(o)) {
	case json_type_double:
		return isfinite(json_object_get_double(o));
	case json_type_object: {
		json_object_object_foreach(o, key, val) {
			(void)key;
			if (!fields_portable(val, depth + 1))
				return false;
		}
		return true;
	}
	case json_type_array:
		for (size_t i = 0; i < json_object_array_length(o); i++)
			if (!fields_portable(json_object_array_get_idx(o, i), depth + 1))
				return false;
		return true;
	default:
		return true;
	}
}

/* Serialise the next record; *ret_line (free it) ends with a newline that
 * *ret_len includes; hash is the record's hash. */
static int format_line(const struct auditlog *log, const char *type,
		       json_object *fields, char **ret_line, size_t *ret_len,
		       char hash[AUDIT_HEAD_HEX])
{
	json_object *o = json_object_new_object();
	char when[AUDIT_TIME_LEN];
	struct audit_record check;
	char *line = NULL;
	int r;

	if (!o)
		return -ENOMEM;
	r = audit_time_format(now_ms(log), when);
	if (r < 0)
		goto out;
	json_object_object_add(o, "seq", json_object_new_int64((int64_t)log->seq + 1));
	json_object_object_add(o, "time", json_object_new_string(when));
	json_object_object_add(o, "type", json_object_new_string(type));
	json_object_object_add(o, "fields",
			       fields ? json_object_get(fields) : json_object_new_object());
	json_object_object_add(o, "prev", json_object_new_string(log->head));
	const char *s = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
							       JSON_C_TO_STRING_NOSLASHESCAPE);
	if (!s) {
		r = -ENOMEM;
		goto out;
	}
	size_t len = strlen(s);
	if (len > AUDIT_MAX_LINE) {
		r = -EMSGSIZE;
		goto out;
	}
	/* Write only what the verifier will accept (this catches invalid
	 * UTF-8 in strings). */
	r = audit_record_parse(s, len, &check, NULL, 0);
	if (r < 0) {
		r = r == -EBADMSG ? -EINVAL : r;
		goto out;
	}
	memcpy(hash, check.hash, AUDIT_HEAD_HEX);
	audit_record_release(&check);
	line = malloc(len + 1);
	if (!line) {
		r = -ENOMEM;
		goto out;
	}
	memcpy(line, s, len);
	line[len] = '\n';
	*ret_line = line;
	*ret_len = len + 1;
out:
	json_object_put(o);
	return r;
}

/* One write(); on failure remove whatever part reached the file. */
static int write_line(struct auditlog *log, const char *line, size_t len, bool sync)
{
	ssize_t n;
	int r = 0;

	do
		n = write(log->fd, line, len);
	while (n < 0 && errno == EINTR);
	if (n == (ssize_t)len && (!sync || fdatasync(log->fd) == 0)) {
		log->size += len;
		return 0;
	}
	r = n < 0 ? -errno : n == (ssize_t)len ? -EIO : -ENOSPC;
	/* A short write or a failed fsync: take the bytes back so that the
	 * file and this handle agree on the head. */
	if (ftruncate(log->fd, (off_t)log->size) < 0)
		log->failed = true;
	return r;
}

static int rotate(struct auditlog *log);

/* Format, rotate first if the record would not fit (never for the rotate
 * record itself: it starts an empty file), write, advance the head. */
static int append_line(struct auditlog *log, const char *type, json_object *fields,
		       bool sync, bool may_rotate, char hash[AUDIT_HEAD_HEX])
{
	char *line = NULL;
	size_t len;
	int r;

	r = format_line(log, type, fields, &line, &len, hash);
	if (r < 0)
		goto out;
	if (may_rotate && log->size > 0 && log->size + len > log->cfg.max_bytes) {
		/* The record's seq and prev change with the rotate record
		 * written before it: format it again. */
		free(line);
		line = NULL;
		r = rotate(log);
		if (r < 0)
			goto out;
		r = format_line(log, type, fields, &line, &len, hash);
		if (r < 0)
			goto out;
	}
	r = write_line(log, line, len, sync);
	if (r == 0)
		set_head(log, log->seq + 1, hash);
out:
	free(line);
	return r;
}

static int write_rotate_record(struct auditlog *log)
{
	json_object *f = json_object_new_object();
	const char *base = strrchr(log->path, '/');
	char prev_file[NAME_MAX + 8], hash[AUDIT_HEAD_HEX];
	int r;

	if (!f)
		return -ENOMEM;
	snprintf(prev_file, sizeof(prev_file), "%s.1", base ? base + 1 : log->path);
	json_object_object_add(f, "prev_seq", json_object_new_int64((int64_t)log->seq));
	json_object_object_add(f, "prev_head", json_object_new_string(log->head));
	json_object_object_add(f, "prev_file", json_object_new_string(prev_file));
	r = append_line(log, "rotate", f, true, false, hash);
	if (r == 0)
		log->need_rotate_record = false;
	json_object_put(f);
	return r;
}

static int rename_rotated(const char *path, unsigned from, unsigned to)
{
	char a[PATH_MAX], b[PATH_MAX];

	if ((from ? snprintf(a, sizeof(a), "%s.%u", path, from)
		  : snprintf(a, sizeof(a), "%s", path)) >= (int)sizeof(a) ||
	    snprintf(b, sizeof(b), "%s.%u", path, to) >= (int)sizeof(b))
		return -ENAMETOOLONG;
	if (rename(a, b) < 0 && errno != ENOENT)
		return -errno;
	return 0;
}

/* path -> path.1 -> ... -> path.keep (the old path.keep is replaced), then
 * a new path whose first record links back to the last one of path.1. */
static int rotate(struct auditlog *log)
{
	int fd, r;

	/* The old file must be complete on disk before its name changes. */
	if (fsync(log->fd) < 0)
		return -errno;
	for (unsigned i = log->cfg.keep; i > 1; i--) {
		r = rename_rotated(log->path, i - 1, i);
		if (r < 0)
			return r;
	}
	r = rename_rotated(log->path, 0, 1);
	if (r < 0)
		return r;
	r = open_locked(log->path, O_EXCL, &fd);
	if (r < 0) {
		/* The handle's file is now path.1: writing on would put
		 * records where a reopen would not look for them. */
		log->failed = true;
		return r;
	}
	close(log->fd);
	log->fd = fd;
	log->size = 0;
	log->need_rotate_record = true;
	r = hw_fsync_parent(log->path);
	if (r < 0)
		return r;
	return write_rotate_record(log);
}

int auditlog_append(struct auditlog *log, const char *type, json_object *fields,
		    bool sync, uint64_t *ret_seq, char ret_head[AUDIT_HEAD_HEX])
{
	char hash[AUDIT_HEAD_HEX];
	int r;

	if (!audit_type_valid(type) || strcmp(type, "rotate") == 0 ||
	    (fields && (!json_object_is_type(fields, json_type_object) ||
			!fields_portable(fields, 0))))
		return -EINVAL;
	if (log->failed)
		return -EIO;
	if (log->need_rotate_record) {
		r = write_rotate_record(log);
		if (r < 0)
			return r;
	}
	r = append_line(log, type, fields, sync, true, hash);
	if (r < 0)
		return r;
	if (ret_seq)
		*ret_seq = log->seq;
	if (ret_head)
		memcpy(ret_head, log->head, AUDIT_HEAD_HEX);
	return 0;
}

uint64_t auditlog_seq(const struct auditlog *log)
{
	return log->seq;
}

const char *auditlog_head(const struct auditlog *log)
{
	return log->head;
}

const struct auditlog_report *auditlog_report(const struct auditlog *log)
{
	return &log->report;
}
