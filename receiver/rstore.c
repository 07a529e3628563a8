/* rstore.c - the receiver's SQLite database.  The schema lives in the
 * migrations[] table below and nowhere else; PRAGMA user_version says how
 * many of its steps a database has had. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "rstore.h"

struct group_job;

struct rstore {
	sqlite3 *db;
	pthread_mutex_t lock;
	/* A second connection, for the device-key lookup every intake request
	 * makes first: in WAL mode it reads while db commits, so requests
	 * reach the group-commit queue instead of waiting behind an fsync. */
	sqlite3 *rdb;
	pthread_mutex_t rlock;
	char *insert_alert_sql; /* built from intake_alert_fields */
	char err[256];
	/* Group commit (see group_write): the jobs waiting for a transaction,
	 * whether one is being committed, and counts for the log.  Guarded
	 * by qlock, which is never held while waiting for lock. */
	pthread_mutex_t qlock;
	pthread_cond_t qdone;
	struct group_job *queue, **queue_tail;
	bool committing;
	struct rstore_group_stats stats;
};

/* Each step runs once, in order, in its own transaction.  Never edit a
 * step that has shipped: add one. */
static const char *const migrations[] = {
	/* 1: the first schema */
	"CREATE TABLE devices ("
	" device_id TEXT PRIMARY KEY,"
	" pubkey BLOB NOT NULL CHECK (length(pubkey) = 32),"
	" enrolled_at INTEGER NOT NULL,"
	" revoked_at INTEGER);"
	"CREATE TABLE alerts ("
	" alert_id TEXT PRIMARY KEY, v INTEGER NOT NULL,"
	" device_id TEXT NOT NULL REFERENCES devices(device_id),"
	" detected_at TEXT NOT NULL, scanner_version TEXT NOT NULL,"
	" config_digest TEXT NOT NULL, list_id TEXT NOT NULL,"
	" list_version INTEGER NOT NULL, list_digest TEXT, entry_id TEXT NOT NULL,"
	" entry_source TEXT NOT NULL, entry_category TEXT NOT NULL, model TEXT NOT NULL,"
	" distance NUMERIC NOT NULL, quality INTEGER, dihedral_variant INTEGER,"
	" confirmed INTEGER NOT NULL, signals TEXT, threshold INTEGER, match_count INTEGER,"
	" file_sha256 TEXT NOT NULL, path TEXT,"
	" audit_seq INTEGER NOT NULL, audit_head TEXT NOT NULL,"
	" signed_body TEXT NOT NULL,"      /* the request body as received */
	" signed_sha256 TEXT NOT NULL,"    /* SHA-256 of the signed payload */
	" received_at INTEGER NOT NULL,"
	" status TEXT NOT NULL DEFAULT 'new' CHECK (status IN"
	"  ('new', 'acknowledged', 'closed', 'false_positive')),"
	" assignee TEXT, acknowledged_at INTEGER, acknowledged_by TEXT,"
	" closed_at INTEGER, closed_by TEXT, resolution TEXT);"
	"CREATE INDEX alerts_by_received ON alerts(received_at);"
	"CREATE INDEX alerts_by_status ON alerts(status, closed_at);"
	"CREATE TABLE fleet ("
	" device_id TEXT PRIMARY KEY REFERENCES devices(device_id),"
	" received_at INTEGER NOT NULL, reported_time INTEGER NOT NULL,"
	" scanner_version TEXT NOT NULL, lists TEXT NOT NULL,"
	" spool_depth INTEGER NOT NULL, audit_seq INTEGER NOT NULL,"
	" audit_head TEXT NOT NULL, signed_body TEXT NOT NULL);"
	/* Every (sequence number, chain head) a device reported, to see its
	 * audit log go backwards or fork. */
	"CREATE TABLE chain_points ("
	" device_id TEXT NOT NULL, seq INTEGER NOT NULL, head TEXT NOT NULL,"
	" source TEXT NOT NULL, reported_time INTEGER NOT NULL,"
	" received_at INTEGER NOT NULL, PRIMARY KEY (device_id, seq));"
	"CREATE TABLE device_flags ("
	" id INTEGER PRIMARY KEY, device_id TEXT NOT NULL, kind TEXT NOT NULL,"
	" detail TEXT NOT NULL, raised_at INTEGER NOT NULL,"
	" cleared_at INTEGER, cleared_by TEXT);"
	"CREATE TABLE users ("
	" id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE,"
	" role TEXT NOT NULL CHECK (role IN ('responder', 'auditor', 'admin')),"
	" pwhash TEXT NOT NULL, created_at INTEGER NOT NULL);"
	"CREATE TABLE credentials ("
	" secret_sha256 TEXT PRIMARY KEY,"
	" user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,"
	" is_session INTEGER NOT NULL, csrf TEXT NOT NULL, label TEXT,"
	" created_at INTEGER NOT NULL, expires INTEGER NOT NULL);"
	"CREATE TABLE notes ("
	" id INTEGER PRIMARY KEY, alert_id TEXT NOT NULL, at INTEGER NOT NULL,"
	" user TEXT NOT NULL, text TEXT NOT NULL);"
	"CREATE INDEX notes_by_alert ON notes(alert_id);"
	/* Who did what and when; holds ids, never alert contents. */
	"CREATE TABLE actions ("
	" id INTEGER PRIMARY KEY, at INTEGER NOT NULL, user TEXT NOT NULL,"
	" action TEXT NOT NULL, alert_id TEXT, detail TEXT);"
	"CREATE INDEX actions_by_alert ON actions(alert_id);",
	/* 2: where in the image the match was found (alerts before it: the
	 * whole image) and the box of an inner region, as JSON */
	"ALTER TABLE alerts ADD COLUMN region TEXT NOT NULL DEFAULT 'whole';"
	"ALTER TABLE alerts ADD COLUMN box TEXT;",
	/* 3: staff logins an admin disabled (NULL: enabled), and when a
	 * session was last used, for the idle timeout (NULL: not since it was
	 * made, so created_at counts) */
	"ALTER TABLE users ADD COLUMN disabled_at INTEGER;"
	"ALTER TABLE users ADD COLUMN disabled_by TEXT;"
	"ALTER TABLE credentials ADD COLUMN last_used INTEGER;",
};

#define ISO(col) "strftime('%Y-%m-%dT%H:%M:%SZ', " col ", 'unixepoch')"

/* Columns that hold 0/1 and are shown as JSON booleans. */
static const char *const bool_columns[] = { "confirmed", "overdue", "stale", "revoked",
						    "disabled", NULL };

static int64_t now_s(void)
{
	return (int64_t)time(NULL);
}

static int db_fail(struct rstore *st)
{
	snprintf(st->err, sizeof(st->err), "%s", sqlite3_errmsg(st->db));
	return sqlite3_extended_errcode(st->db) == SQLITE_CONSTRAINT_PRIMARYKEY ||
			       sqlite3_extended_errcode(st->db) == SQLITE_CONSTRAINT_UNIQUE
		       ? -EEXIST
		       : -EIO;
}

const char *rstore_errmsg(struct rstore *st)
{
	return st->err;
}

static int exec(struct rstore *st, const char *sql)
{
	return sqlite3_exec(st->db, sql, NULL, NULL, NULL) == SQLITE_OK ? 0 : db_fail(st);
}

/* Prepare sql and bind the arguments described by fmt, one letter each:
 * s (const char *, NULL binds NULL), i (int64_t), b (blob: pointer and int
 * length).  Returns NULL after recording the error. */
static sqlite3_stmt *vprep(struct rstore *st, const char *sql, const char *fmt, va_list *ap)
{
	sqlite3_stmt *s = NULL;
	int rc = SQLITE_OK;

	if (sqlite3_prepare_v2(st->db, sql, -1, &s, NULL) != SQLITE_OK) {
		db_fail(st);
		return NULL;
	}
	for (int i = 1; fmt && *fmt && rc == SQLITE_OK; fmt++, i++) {
		if (*fmt == 's') {
			const char *v = va_arg(*ap, const char *);
			rc = v ? sqlite3_bind_text(s, i, v, -1, SQLITE_TRANSIENT)
			       : sqlite3_bind_null(s, i);
		} else if (*fmt == 'i') {
			rc = sqlite3_bind_int64(s, i, va_arg(*ap, int64_t));
		} else {
			const void *p = va_arg(*ap, const void *);
			rc = sqlite3_bind_blob(s, i, p, va_arg(*ap, int), SQLITE_TRANSIENT);
		}
	}
	if (rc != SQLITE_OK) {
		db_fail(st);
		sqlite3_finalize(s);
		return NULL;
	}
	return s;
}

static sqlite3_stmt *prep(struct rstore *st, const char *sql, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	sqlite3_stmt *s = vprep(st, sql, fmt, &ap);
	va_end(ap);
	return s;
}

/* Step s (which may be NULL after a failed prep) to its first row: 0 with
 * a row to read, -ENOENT when there is none, or -EIO.  The caller
 * finalizes s. */
static int first_row(struct rstore *st, sqlite3_stmt *s)
{
	int step;
	if (!s)
		return -EIO;
	step = sqlite3_step(s);
	return step == SQLITE_ROW ? 0 : step == SQLITE_DONE ? -ENOENT : db_fail(st);
}

/* Run a statement that returns no rows, and finalize it. */
static int run(struct rstore *st, sqlite3_stmt *s)
{
	int rc;
	if (!s)
		return -EIO;
	rc = sqlite3_step(s) == SQLITE_DONE ? 0 : db_fail(st);
	sqlite3_finalize(s);
	return rc;
}

/* Columns that hold JSON text and are shown as JSON. */
static const char *const json_columns[] = { "lists", "signals", "box", NULL };

static bool in_list(const char *name, const char *const *list)
{
	for (size_t i = 0; list[i]; i++)
		if (strcmp(list[i], name) == 0)
			return true;
	return false;
}

/* Turn every row of s into a JSON object keyed by column name and append
 * it to arr; finalizes s. */
static int rows_json(struct rstore *st, sqlite3_stmt *s, json_object *arr)
{
	int rc;
	if (!s)
		return -EIO;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		json_object *o = json_object_new_object();
		for (int c = 0; c < sqlite3_column_count(s); c++) {
			const char *name = sqlite3_column_name(s, c);
			json_object *v = NULL;
			bool is_bool = in_list(name, bool_columns);
			switch (sqlite3_column_type(s, c)) {
			case SQLITE_INTEGER:
				v = is_bool ? json_object_new_boolean(sqlite3_column_int(s, c) != 0)
					    : json_object_new_int64(sqlite3_column_int64(s, c));
				break;
			case SQLITE_FLOAT:
				v = json_object_new_double(sqlite3_column_double(s, c));
				break;
			case SQLITE_TEXT:
			case SQLITE_BLOB: {
				const char *t = (const char *)sqlite3_column_text(s, c);
				v = in_list(name, json_columns) ? json_tokener_parse(t)
								: json_object_new_string(t);
				break;
			}
			default:
				break;
			}
			json_object_object_add(o, name, v);
		}
		json_object_array_add(arr, o);
	}
	rc = rc == SQLITE_DONE ? 0 : db_fail(st);
	sqlite3_finalize(s);
	return rc;
}

/* Bring the schema up to date; each step in its own transaction. */
static int migrate(struct rstore *st)
{
	const int latest = (int)(sizeof(migrations) / sizeof(migrations[0]));
	sqlite3_stmt *s = prep(st, "PRAGMA user_version", NULL);
	int version, r = 0;
	char sql[64];

	if (!s)
		return -EIO;
	version = sqlite3_step(s) == SQLITE_ROW ? sqlite3_column_int(s, 0) : -1;
	sqlite3_finalize(s);
	if (version < 0)
		return db_fail(st);
	if (version > latest) {
		snprintf(st->err, sizeof(st->err),
			 "database schema %d is newer than this program's (%d)", version, latest);
		return -EPROTO;
	}
	for (int v = version; v < latest && r == 0; v++) {
		snprintf(sql, sizeof(sql), "PRAGMA user_version = %d", v + 1);
		r = exec(st, "BEGIN IMMEDIATE");
		if (r == 0)
			r = exec(st, migrations[v]);
		if (r == 0)
			r = exec(st, sql);
		r = r == 0 ? exec(st, "COMMIT") : (exec(st, "ROLLBACK"), r);
	}
	return r;
}

/* INSERT for the alert columns named in intake_alert_fields, so that a
 * field added to the schema table without a migration fails at open. */
static int build_insert(struct rstore *st)
{
	size_t cap = 2048, len;
	char *sql = malloc(cap);
	int n = 0, r = -ENOMEM;

	if (!sql)
		return -ENOMEM;
	len = (size_t)snprintf(sql, cap, "INSERT INTO alerts (");
	for (const struct intake_field *f = intake_alert_fields; f->name; f++, n++)
		len += (size_t)snprintf(sql + len, cap - len, "%s, ", f->name);
	len += (size_t)snprintf(sql + len, cap - len,
				"signed_body, signed_sha256, received_at) VALUES (");
	for (int i = 0; i < n + 3; i++)
		len += (size_t)snprintf(sql + len, cap - len, i ? ", ?" : "?");
	len += (size_t)snprintf(sql + len, cap - len, ")");
	if (len >= cap)
		goto out;
	sqlite3_stmt *s = prep(st, sql, NULL);
	if (!s) {
		r = -EPROTO;
		goto out;
	}
	sqlite3_finalize(s);
	st->insert_alert_sql = sql;
	sql = NULL;
	r = 0;
out:
	free(sql);
	return r;
}

int rstore_open(const char *path, struct rstore **ret)
{
	struct rstore *st = calloc(1, sizeof(*st));
	int fd, r;

	if (!st)
		return -ENOMEM;
	pthread_mutex_init(&st->lock, NULL);
	pthread_mutex_init(&st->rlock, NULL);
	pthread_mutex_init(&st->qlock, NULL);
	pthread_cond_init(&st->qdone, NULL);
	st->queue_tail = &st->queue;
	/* Create the file 0600 ourselves: SQLite would use 0644, and its WAL
	 * and shared-memory files copy the main file's mode. */
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0) {
		r = -errno;
		snprintf(st->err, sizeof(st->err), "%s", strerror(errno));
		goto fail;
	}
	close(fd);
	if (sqlite3_open_v2(path, &st->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_FULLMUTEX,
			    NULL) != SQLITE_OK) {
		r = db_fail(st);
		goto fail;
	}
	sqlite3_busy_timeout(st->db, 10000);
	sqlite3_extended_result_codes(st->db, 1);
	r = exec(st, "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL;"
		     "PRAGMA foreign_keys = ON; PRAGMA secure_delete = ON;");
	if (r == 0)
		r = migrate(st);
	if (r == 0)
		r = build_insert(st);
	if (r == 0 && sqlite3_open_v2(path, &st->rdb, SQLITE_OPEN_READWRITE | SQLITE_OPEN_FULLMUTEX,
				      NULL) != SQLITE_OK) {
		snprintf(st->err, sizeof(st->err), "%s",
			 st->rdb ? sqlite3_errmsg(st->rdb) : "out of memory");
		r = -EIO;
	}
	if (r == 0) {
		sqlite3_busy_timeout(st->rdb, 10000);
		if (sqlite3_exec(st->rdb, "PRAGMA query_only = ON", NULL, NULL, NULL) != SQLITE_OK) {
			snprintf(st->err, sizeof(st->err), "%s", sqlite3_errmsg(st->rdb));
			r = -EIO;
		}
	}
	if (r < 0)
		goto fail;
	*ret = st;
	return 0;
fail:
	/* Keep the message for the caller even though the handle goes. */
	fprintf(stderr, "hashwatch-receiver: database %s: %s\n", path, st->err);
	rstore_close(st);
	return r;
}

void rstore_close(struct rstore *st)
{
	if (!st)
		return;
	sqlite3_close(st->rdb);
	sqlite3_close(st->db);
	pthread_mutex_destroy(&st->lock);
	pthread_mutex_destroy(&st->rlock);
	pthread_mutex_destroy(&st->qlock);
	pthread_cond_destroy(&st->qdone);
	free(st->insert_alert_sql);
	free(st);
}

/* Every public function is one of these: lock, BEGIN, body, COMMIT or
 * ROLLBACK, unlock. */
#define TX_BEGIN(st)                                                           \
	int r_;                                                                \
	pthread_mutex_lock(&(st)->lock);                                       \
	r_ = exec((st), "BEGIN IMMEDIATE");                                    \
	if (r_ < 0)                                                            \
		goto tx_out
#define TX_END(st, r)                                                          \
	r_ = (r);                                                              \
	if (r_ == 0)                                                           \
		r_ = exec((st), "COMMIT");                                     \
	if (r_ < 0)                                                            \
		exec((st), "ROLLBACK");                                        \
tx_out:                                                                        \
	pthread_mutex_unlock(&(st)->lock);                                     \
	return r_

/* Group commit for the intake writes, which come from many server threads
 * at once.  Each write is a job; jobs that arrive while a transaction is
 * being committed queue up, and the first thread to find no commit under
 * way runs every queued job (up to GROUP_MAX) in one transaction, each in
 * a savepoint of its own so that one that fails is rolled back alone.  One
 * fsync then covers the group instead of one per alert.  There is no
 * waiting for company: a lone job commits at once, and groups form only
 * while the disk is busy with the previous commit, out of the requests
 * that arrived meanwhile.  A caller returns only after the COMMIT that
 * holds its job (or with an error, and then its job is not stored), so
 * nothing is acknowledged before it is on disk. */
#define GROUP_MAX 256

struct group_job {
	int (*fn)(struct rstore *st, void *arg); /* the writes, inside the transaction */
	void *arg;
	int r;
	bool done;
	struct group_job *next;
};

/* Run a group of jobs in one transaction; sets each job's r. */
static void group_commit(struct rstore *st, struct group_job *group)
{
	struct group_job *j;
	int r;

	pthread_mutex_lock(&st->lock);
	r = exec(st, "BEGIN IMMEDIATE");
	for (j = group; j; j = j->next) {
		if (r < 0) {
			j->r = r;
			continue;
		}
		j->r = exec(st, "SAVEPOINT job");
		if (j->r == 0)
			j->r = j->fn(st, j->arg);
		if (j->r < 0)
			exec(st, "ROLLBACK TO job");
		exec(st, "RELEASE job");
		/* Some errors (disk full, I/O) end the whole transaction: the
		 * jobs after it would run outside it. */
		if (j->r < 0 && sqlite3_get_autocommit(st->db))
			r = j->r;
	}
	if (r == 0)
		r = exec(st, "COMMIT");
	if (r < 0) {
		exec(st, "ROLLBACK");
		for (j = group; j; j = j->next)
			if (j->r == 0)
				j->r = r;
	}
	pthread_mutex_unlock(&st->lock);
}

/* Queue fn(st, arg) and return its result once it is committed or failed. */
static int group_write(struct rstore *st, int (*fn)(struct rstore *st, void *arg), void *arg)
{
	struct group_job job = { .fn = fn, .arg = arg }, *group, *j, *next, **cut;
	uint64_t n;
	int r;

	pthread_mutex_lock(&st->qlock);
	*st->queue_tail = &job;
	st->queue_tail = &job.next;
	while (!job.done) {
		if (st->committing) {
			pthread_cond_wait(&st->qdone, &st->qlock);
			continue;
		}
		/* Lead: take up to GROUP_MAX jobs off the queue (ours may be
		 * further back; then we go round again). */
		group = st->queue;
		for (cut = &st->queue, n = 0; *cut && n < GROUP_MAX; cut = &(*cut)->next)
			n++;
		st->queue = *cut;
		*cut = NULL;
		if (!st->queue)
			st->queue_tail = &st->queue;
		st->committing = true;
		pthread_mutex_unlock(&st->qlock);
		group_commit(st, group);
		pthread_mutex_lock(&st->qlock);
		for (j = group; j; j = next) {
			next = j->next; /* j may be gone once done is seen */
			j->done = true;
		}
		st->committing = false;
		st->stats.jobs += n;
		st->stats.groups++;
		if (n > st->stats.largest)
			st->stats.largest = n;
		pthread_cond_broadcast(&st->qdone);
	}
	r = job.r;
	pthread_mutex_unlock(&st->qlock);
	return r;
}

void rstore_group_stats(struct rstore *st, struct rstore_group_stats *ret)
{
	pthread_mutex_lock(&st->qlock);
	*ret = st->stats;
	pthread_mutex_unlock(&st->qlock);
}

int rstore_device_enroll(struct rstore *st, const char *id,
			 const unsigned char pk[crypto_sign_PUBLICKEYBYTES])
{
	TX_BEGIN(st);
	int r = run(st, prep(st, "INSERT INTO devices (device_id, pubkey, enrolled_at) "
				 "VALUES (?, ?, ?)",
			     "sbi", id, pk, (int)crypto_sign_PUBLICKEYBYTES, now_s()));
	TX_END(st, r);
}

int rstore_device_revoke(struct rstore *st, const char *id)
{
	TX_BEGIN(st);
	int r = run(st, prep(st, "UPDATE devices SET revoked_at = ? "
				 "WHERE device_id = ? AND revoked_at IS NULL",
			     "is", now_s(), id));
	if (r == 0 && sqlite3_changes(st->db) == 0)
		r = -ENOENT;
	TX_END(st, r);
}

int rstore_device_key(struct rstore *st, const char *id,
		      unsigned char ret_pk[crypto_sign_PUBLICKEYBYTES], bool *ret_revoked)
{
	sqlite3_stmt *s = NULL;
	int r = -EIO, step;

	pthread_mutex_lock(&st->rlock);
	if (sqlite3_prepare_v2(st->rdb, "SELECT pubkey, revoked_at IS NOT NULL FROM devices"
					" WHERE device_id = ?",
			       -1, &s, NULL) != SQLITE_OK ||
	    sqlite3_bind_text(s, 1, id, -1, SQLITE_TRANSIENT) != SQLITE_OK)
		goto out;
	step = sqlite3_step(s);
	if (step == SQLITE_DONE)
		r = -ENOENT;
	else if (step == SQLITE_ROW && sqlite3_column_bytes(s, 0) == crypto_sign_PUBLICKEYBYTES) {
		memcpy(ret_pk, sqlite3_column_blob(s, 0), crypto_sign_PUBLICKEYBYTES);
		*ret_revoked = sqlite3_column_int(s, 1) != 0;
		r = 0;
	}
	/* else -EIO: a failed step, or a key of the wrong size (which the
	 * CHECK constraint makes impossible) */
out:
	if (r == -EIO) {
		/* st->err belongs to the writers' lock; an error here is rare
		 * enough to wait for it. */
		pthread_mutex_lock(&st->lock);
		snprintf(st->err, sizeof(st->err), "%s", sqlite3_errmsg(st->rdb));
		pthread_mutex_unlock(&st->lock);
	}
	sqlite3_finalize(s);
	pthread_mutex_unlock(&st->rlock);
	return r;
}

/* A read: lock, run one query into a new array, unlock. */
static int query_array(struct rstore *st, sqlite3_stmt *s, json_object **ret)
{
	json_object *arr = json_object_new_array();
	int r = rows_json(st, s, arr);
	if (r < 0) {
		json_object_put(arr);
		return r;
	}
	*ret = arr;
	return 0;
}

/* Lock, prepare sql with prep()'s arguments, read all rows, unlock. */
static int select_array(struct rstore *st, json_object **ret, const char *sql, const char *fmt,
			...)
{
	va_list ap;
	int r;
	pthread_mutex_lock(&st->lock);
	va_start(ap, fmt);
	r = query_array(st, vprep(st, sql, fmt, &ap), ret);
	va_end(ap);
	pthread_mutex_unlock(&st->lock);
	return r;
}

int rstore_devices(struct rstore *st, int64_t stale_after, json_object **ret)
{
	json_object *arr = NULL;
	int r;

	pthread_mutex_lock(&st->lock);
	r = query_array(
		st,
		prep(st,
		     "SELECT d.device_id, hex(d.pubkey) AS pubkey_hex,"
		     " " ISO("d.enrolled_at") " AS enrolled_at,"
		     " d.revoked_at IS NOT NULL AS revoked, " ISO("d.revoked_at") " AS revoked_at,"
		     " " ISO("f.received_at") " AS last_heartbeat,"
		     " " ISO("f.reported_time") " AS reported_time,"
		     " f.scanner_version, f.lists, f.spool_depth, f.audit_seq, f.audit_head,"
		     " (d.revoked_at IS NULL AND (f.received_at IS NULL OR f.received_at < ?1))"
		     "  AS stale,"
		     " (SELECT count(*) FROM alerts a WHERE a.device_id = d.device_id"
		     "  AND a.status IN ('new', 'acknowledged')) AS open_alerts"
		     " FROM devices d LEFT JOIN fleet f USING (device_id) ORDER BY d.device_id",
		     "i", now_s() - stale_after),
		&arr);
	for (size_t i = 0; r == 0 && i < json_object_array_length(arr); i++) {
		json_object *dev = json_object_array_get_idx(arr, i), *flags = NULL;
		r = query_array(st,
				prep(st,
				     "SELECT id, kind, detail, " ISO("raised_at") " AS raised_at"
				     " FROM device_flags WHERE device_id = ? AND cleared_at IS NULL"
				     " ORDER BY id",
				     "s",
				     json_object_get_string(json_object_object_get(dev, "device_id"))),
				&flags);
		if (r == 0)
			json_object_object_add(dev, "chain_flags", flags);
	}
	pthread_mutex_unlock(&st->lock);
	if (r < 0) {
		json_object_put(arr);
		return r;
	}
	*ret = arr;
	return 0;
}

static const char *rec_str(const struct intake_record *rec, const char *key)
{
	return json_object_get_string(json_object_object_get(rec->rec, key));
}

static int64_t rec_int(const struct intake_record *rec, const char *key)
{
	return json_object_get_int64(json_object_object_get(rec->rec, key));
}

/* Raise a flag on a device unless one of the same kind is still open. */
static int raise_flag(struct rstore *st, const char *device, const char *kind,
		      const char *detail, const char **ret_flag)
{
	sqlite3_stmt *s = prep(st, "SELECT 1 FROM device_flags WHERE device_id = ? AND kind = ?"
				   " AND cleared_at IS NULL",
			       "ss", device, kind);
	int step;
	if (!s)
		return -EIO;
	step = sqlite3_step(s);
	sqlite3_finalize(s);
	if (step == SQLITE_ROW)
		return 0;
	if (step != SQLITE_DONE)
		return db_fail(st);
	*ret_flag = kind;
	return run(st, prep(st, "INSERT INTO device_flags (device_id, kind, detail, raised_at)"
				" VALUES (?, ?, ?, ?)",
			    "sssi", device, kind, detail, now_s()));
}

/* Compare a reported (seq, head, time) with what the device reported
 * before.  Two heartbeats compare strictly; a comparison that involves an
 * alert allows a minute, because the alert's time is when the match was
 * found and its sequence number when it was logged, a moment later. */
static int chain_observe(struct rstore *st, const struct intake_record *rec,
			 const char **ret_flag)
{
	const char *dev = rec->device_id, *head = rec_str(rec, "audit_head");
	int64_t seq = rec_int(rec, "audit_seq"), t = rec->reported_time;
	int64_t is_hb = strcmp(rec->kind, "heartbeat") == 0;
	char detail[160];
	sqlite3_stmt *s;
	int r, step;

	if (strlen(head) != 64)
		return 0; /* the device keeps no audit log: nothing to compare */
	s = prep(st, "SELECT head FROM chain_points WHERE device_id = ? AND seq = ?", "si", dev,
		 seq);
	if (!s)
		return -EIO;
	step = sqlite3_step(s);
	bool fork = step == SQLITE_ROW && strcmp((const char *)sqlite3_column_text(s, 0), head);
	sqlite3_finalize(s);
	if (step != SQLITE_ROW && step != SQLITE_DONE)
		return db_fail(st);
	if (fork) {
		snprintf(detail, sizeof(detail),
			 "audit log record %lld was reported with two different chain heads "
			 "(the log was rewritten or replaced)",
			 (long long)seq);
		return raise_flag(st, dev, "fork", detail, ret_flag);
	}
	if (step == SQLITE_DONE) {
		r = run(st, prep(st, "INSERT INTO chain_points (device_id, seq, head, source,"
				     " reported_time, received_at) VALUES (?, ?, ?, ?, ?, ?)",
				 "sissii", dev, seq, head, rec->kind, t, now_s()));
		if (r < 0)
			return r;
	}
	s = prep(st,
		 "SELECT seq FROM (SELECT seq, reported_time AS t,"
		 "  CASE WHEN source = 'heartbeat' AND ?4 THEN 0 ELSE 60 END AS tol"
		 "  FROM chain_points WHERE device_id = ?1)"
		 " WHERE (seq > ?2 AND t + tol < ?3) OR (seq < ?2 AND t > ?3 + tol) LIMIT 1",
		 "siii", dev, seq, t, is_hb);
	if (!s)
		return -EIO;
	step = sqlite3_step(s);
	int64_t other = step == SQLITE_ROW ? sqlite3_column_int64(s, 0) : 0;
	sqlite3_finalize(s);
	if (step != SQLITE_ROW && step != SQLITE_DONE)
		return db_fail(st);
	if (step == SQLITE_ROW) {
		snprintf(detail, sizeof(detail),
			 "audit log went backwards: record %lld reported after record %lld "
			 "(the log was truncated, restored or reset)",
			 (long long)(seq < other ? seq : other), (long long)(seq < other ? other : seq));
		return raise_flag(st, dev, "regression", detail, ret_flag);
	}
	return 0;
}

/* The fields that say which match an alert is about.  The scanner may
 * write an alert again after a restart with the same id and, say, a newer
 * match_count: that is the same alert, acknowledged as a duplicate.  A
 * different match under a known id is a conflict. */
#define IDENTITY "device_id, detected_at, list_id, entry_id, file_sha256, model"

static bool same_identity(sqlite3_stmt *s, const struct intake_record *rec)
{
	static const char *const cols[] = { "device_id", "detected_at", "list_id",
					    "entry_id", "file_sha256", "model" };
	for (int i = 0; i < 6; i++)
		if (strcmp((const char *)sqlite3_column_text(s, i + 1), rec_str(rec, cols[i])) != 0)
			return false;
	return true;
}

/* An intake write as a group_write job: the record, and what came of it. */
struct put_job {
	const struct intake_record *rec;
	enum rstore_outcome outcome;
	const char *flag;
};

static int alert_put_job(struct rstore *st, void *arg)
{
	struct put_job *job = arg;
	const struct intake_record *rec = job->rec;
	unsigned char digest[crypto_hash_sha256_BYTES];
	char hex[2 * crypto_hash_sha256_BYTES + 1];
	sqlite3_stmt *s;
	int r, i = 1;

	crypto_hash_sha256(digest, rec->payload, rec->payload_len);
	sodium_bin2hex(hex, sizeof(hex), digest, sizeof(digest));
	job->outcome = RSTORE_STORED;
	job->flag = NULL;
	s = prep(st, "SELECT signed_sha256, " IDENTITY " FROM alerts WHERE alert_id = ?", "s",
		 rec_str(rec, "alert_id"));
	r = first_row(st, s);
	if (r == 0)
		job->outcome = strcmp((const char *)sqlite3_column_text(s, 0), hex) == 0
				       ? RSTORE_DUPLICATE
			       : same_identity(s, rec) ? RSTORE_DUPLICATE_CHANGED
						       : RSTORE_CONFLICT;
	sqlite3_finalize(s);
	if (r == -ENOENT)
		r = 0;
	if (r < 0 || job->outcome != RSTORE_STORED)
		return r;
	s = prep(st, st->insert_alert_sql, NULL);
	if (!s)
		return -EIO;
	for (const struct intake_field *f = intake_alert_fields; f->name; f++, i++) {
		json_object *v = json_object_object_get(rec->rec, f->name);
		if (!v && f->type == INTAKE_REGION)
			sqlite3_bind_text(s, i, INTAKE_REGION_DEFAULT, -1, SQLITE_STATIC);
		else if (!v)
			sqlite3_bind_null(s, i);
		else if (f->type == INTAKE_UINT ||
			 (f->type == INTAKE_NUM && json_object_is_type(v, json_type_int)))
			sqlite3_bind_int64(s, i, json_object_get_int64(v));
		else if (f->type == INTAKE_NUM)
			sqlite3_bind_double(s, i, json_object_get_double(v));
		else if (f->type == INTAKE_IDLIST || f->type == INTAKE_BOX)
			sqlite3_bind_text(s, i, json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN),
					  -1, SQLITE_TRANSIENT);
		else if (f->type == INTAKE_BOOL)
			sqlite3_bind_int(s, i, json_object_get_boolean(v));
		else
			sqlite3_bind_text(s, i, json_object_get_string(v), -1, SQLITE_TRANSIENT);
	}
	sqlite3_bind_text(s, i++, rec->body, (int)rec->body_len, SQLITE_TRANSIENT);
	sqlite3_bind_text(s, i++, hex, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(s, i, now_s());
	r = run(st, s);
	if (r == 0)
		r = chain_observe(st, rec, &job->flag);
	return r;
}

static int heartbeat_put_job(struct rstore *st, void *arg)
{
	struct put_job *job = arg;
	const struct intake_record *rec = job->rec;
	sqlite3_stmt *s;
	int r = 0;

	job->outcome = RSTORE_STORED;
	job->flag = NULL;
	s = prep(st, "SELECT reported_time FROM fleet WHERE device_id = ?", "s", rec->device_id);
	if (!s)
		return -EIO;
	int step = sqlite3_step(s);
	if (step == SQLITE_ROW && sqlite3_column_int64(s, 0) >= rec->reported_time)
		job->outcome = RSTORE_STALE;
	else if (step != SQLITE_ROW && step != SQLITE_DONE)
		r = db_fail(st);
	sqlite3_finalize(s);
	if (r < 0 || job->outcome != RSTORE_STORED)
		return r;
	r = run(st, prep(st,
			 "INSERT OR REPLACE INTO fleet (device_id, received_at, reported_time,"
			 " scanner_version, lists, spool_depth, audit_seq, audit_head, signed_body)"
			 " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
			 "siissiiss", rec->device_id, now_s(), rec->reported_time,
			 rec_str(rec, "scanner_version"),
			 json_object_to_json_string_ext(json_object_object_get(rec->rec, "lists"),
							JSON_C_TO_STRING_PLAIN),
			 rec_int(rec, "spool_depth"), rec_int(rec, "audit_seq"),
			 rec_str(rec, "audit_head"), rec->body));
	if (r == 0)
		r = chain_observe(st, rec, &job->flag);
	return r;
}

static int put(struct rstore *st, int (*fn)(struct rstore *st, void *arg),
	       const struct intake_record *rec, enum rstore_outcome *ret, const char **ret_flag)
{
	struct put_job job = { .rec = rec };
	int r = group_write(st, fn, &job);
	if (r == 0) {
		*ret = job.outcome;
		*ret_flag = job.flag;
	}
	return r;
}

int rstore_alert_put(struct rstore *st, const struct intake_record *rec,
		     enum rstore_outcome *ret, const char **ret_flag)
{
	return put(st, alert_put_job, rec, ret, ret_flag);
}

int rstore_heartbeat_put(struct rstore *st, const struct intake_record *rec,
			 enum rstore_outcome *ret, const char **ret_flag)
{
	return put(st, heartbeat_put_job, rec, ret, ret_flag);
}

/* The alert columns staff see, with times as ISO 8601 and the overdue
 * mark (?1 = the moment before which an unacknowledged alert is overdue). */
#define ALERT_COLUMNS                                                          \
	"alert_id, v, detected_at, device_id, scanner_version, config_digest,"  \
	" list_id, list_version, list_digest, entry_id, entry_source,"          \
	" entry_category, model, distance, quality, dihedral_variant, region,"  \
	" box, confirmed, signals, threshold, match_count, file_sha256, path,"       \
	" audit_seq, audit_head, " ISO("received_at") " AS received_at, status, assignee," \
	" " ISO("acknowledged_at") " AS acknowledged_at, acknowledged_by,"     \
	" " ISO("closed_at") " AS closed_at, closed_by, resolution,"           \
	" (status = 'new' AND received_at < ?1) AS overdue"

int rstore_alerts(struct rstore *st, const struct rstore_filter *f, json_object **ret)
{
	static const char *const statuses[] = { "new", "acknowledged", "closed",
						"false_positive", "open", NULL };
	const char *status = f->status;
	bool known = !status;
	int limit = f->limit < 1 ? 100 : f->limit > 1000000 ? 1000000 : f->limit;

	for (size_t i = 0; statuses[i] && !known; i++)
		known = strcmp(statuses[i], status) == 0;
	if (!known)
		return -EINVAL;
	/* A NULL filter value binds NULL and the "?N IS NULL OR" arm passes. */
	return select_array(st, ret,
			    "SELECT " ALERT_COLUMNS " FROM alerts WHERE"
			    " (?2 IS NULL OR status = ?2 OR"
			    "  (?2 = 'open' AND status IN ('new', 'acknowledged')))"
			    " AND (?3 IS NULL OR entry_category = ?3)"
			    " AND (?4 IS NULL OR device_id = ?4)"
			    " AND (?5 < 0 OR confirmed = ?5)"
			    " ORDER BY received_at DESC, rowid DESC LIMIT ?6",
			    "isssii", now_s() - f->overdue_after, status, f->category, f->device,
			    (int64_t)f->confirmed, (int64_t)limit);
}

int rstore_alert_get(struct rstore *st, const char *alert_id, int64_t overdue_after,
		     json_object **ret)
{
	json_object *arr = NULL, *obj = NULL, *sub = NULL;
	int r;

	pthread_mutex_lock(&st->lock);
	r = query_array(st,
			prep(st,
			     "SELECT " ALERT_COLUMNS ", signed_body, signed_sha256"
			     " FROM alerts WHERE alert_id = ?2",
			     "is", now_s() - overdue_after, alert_id),
			&arr);
	if (r == 0 && json_object_array_length(arr) == 0)
		r = -ENOENT;
	if (r < 0)
		goto out;
	obj = json_object_get(json_object_array_get_idx(arr, 0));
	r = query_array(st,
			prep(st,
			     "SELECT " ISO("at") " AS at, user, text FROM notes"
			     " WHERE alert_id = ? ORDER BY id",
			     "s", alert_id),
			&sub);
	if (r < 0)
		goto out;
	json_object_object_add(obj, "notes", sub);
	r = query_array(st,
			prep(st,
			     "SELECT " ISO("at") " AS at, user, action, detail FROM actions"
			     " WHERE alert_id = ? ORDER BY id",
			     "s", alert_id),
			&sub);
	if (r < 0)
		goto out;
	json_object_object_add(obj, "actions", sub);
	*ret = obj;
	obj = NULL;
out:
	pthread_mutex_unlock(&st->lock);
	json_object_put(obj);
	json_object_put(arr);
	return r;
}

static int log_action(struct rstore *st, const char *user, const char *action,
		      const char *alert_id, const char *detail)
{
	return run(st, prep(st, "INSERT INTO actions (at, user, action, alert_id, detail)"
				" VALUES (?, ?, ?, ?, ?)",
			    "issss", now_s(), user, action, alert_id, detail));
}

/* A triage step: which states it starts from, which it leads to, and the
 * UPDATE that does it (?1 time, ?2 user, ?3 argument, ?4 alert id). */
static const struct {
	const char *step, *from, *sql;
	bool needs_arg;
} triage_steps[] = {
	{ "acknowledge", "new",
	  "UPDATE alerts SET status = 'acknowledged', acknowledged_at = ?1,"
	  " acknowledged_by = ?2 WHERE alert_id = ?4",
	  false },
	{ "assign", "new acknowledged", "UPDATE alerts SET assignee = ?3 WHERE alert_id = ?4",
	  true },
	{ "note", "new acknowledged closed false_positive",
	  "INSERT INTO notes (at, user, text, alert_id) VALUES (?1, ?2, ?3, ?4)", true },
	{ "close", "new acknowledged",
	  "UPDATE alerts SET status = 'closed', closed_at = ?1, closed_by = ?2,"
	  " resolution = ?3, acknowledged_at = coalesce(acknowledged_at, ?1),"
	  " acknowledged_by = coalesce(acknowledged_by, ?2) WHERE alert_id = ?4",
	  false },
	{ "false_positive", "new acknowledged",
	  "UPDATE alerts SET status = 'false_positive', closed_at = ?1, closed_by = ?2,"
	  " resolution = ?3, acknowledged_at = coalesce(acknowledged_at, ?1),"
	  " acknowledged_by = coalesce(acknowledged_by, ?2) WHERE alert_id = ?4",
	  true },
	{ "reopen", "closed false_positive",
	  "UPDATE alerts SET status = 'acknowledged', closed_at = NULL, closed_by = NULL"
	  " WHERE alert_id = ?4",
	  false },
};

/* Is word one of the space-separated words in list? */
static bool word_in(const char *word, const char *list)
{
	size_t n = strlen(word);
	for (const char *p = list; (p = strstr(p, word)) != NULL; p += n)
		if ((p == list || p[-1] == ' ') && (p[n] == ' ' || p[n] == '\0'))
			return true;
	return false;
}

int rstore_alert_triage(struct rstore *st, const char *alert_id, const char *user,
			const char *step, const char *arg)
{
	size_t k, nsteps = sizeof(triage_steps) / sizeof(triage_steps[0]);
	char status[32] = "";
	sqlite3_stmt *s;
	int r = 0;

	for (k = 0; k < nsteps && strcmp(triage_steps[k].step, step); k++)
		;
	if (k == nsteps || (triage_steps[k].needs_arg && (!arg || !*arg)) ||
	    (arg && strlen(arg) > 4000))
		return -EINVAL;
	if (arg && !*arg)
		arg = NULL;
	TX_BEGIN(st);
	s = prep(st, "SELECT status FROM alerts WHERE alert_id = ?", "s", alert_id);
	if (!s) {
		r = -EIO;
		goto done;
	}
	if (sqlite3_step(s) == SQLITE_ROW)
		snprintf(status, sizeof(status), "%s", sqlite3_column_text(s, 0));
	sqlite3_finalize(s);
	if (!*status) {
		r = -ENOENT;
		goto done;
	}
	if (!word_in(status, triage_steps[k].from)) {
		r = -EALREADY;
		goto done;
	}
	if (strcmp(step, "assign") == 0) {
		char role[RSTORE_ROLE_MAX];
		s = prep(st, "SELECT role FROM users WHERE name = ? AND disabled_at IS NULL", "s",
			 arg);
		if (!s) {
			r = -EIO;
			goto done;
		}
		if (sqlite3_step(s) == SQLITE_ROW)
			snprintf(role, sizeof(role), "%s", sqlite3_column_text(s, 0));
		else
			r = -EINVAL;
		sqlite3_finalize(s);
		if (r == 0 && strcmp(role, "auditor") == 0)
			r = -EINVAL; /* auditors cannot act on alerts */
		if (r < 0)
			goto done;
	}
	r = run(st, prep(st, triage_steps[k].sql, "isss", now_s(), user, arg, alert_id));
	/* The action log gets the assignee's name, never note or reason text
	 * (those belong to the alert and are purged with it). */
	if (r == 0)
		r = log_action(st, user, step, alert_id, strcmp(step, "assign") == 0 ? arg : NULL);
done:
	TX_END(st, r);
}

int rstore_action(struct rstore *st, const char *user, const char *action,
		  const char *alert_id, const char *detail)
{
	TX_BEGIN(st);
	int r = log_action(st, user, action, alert_id, detail);
	TX_END(st, r);
}

int rstore_actions(struct rstore *st, int limit, json_object **ret)
{
	return select_array(st, ret,
			    "SELECT " ISO("at") " AS at, user, action, alert_id, detail"
			    " FROM actions ORDER BY id DESC LIMIT ?",
			    "i", (int64_t)(limit < 1 || limit > 10000 ? 500 : limit));
}

int rstore_flags_clear(struct rstore *st, const char *device_id, const char *user)
{
	TX_BEGIN(st);
	int r = run(st, prep(st, "UPDATE device_flags SET cleared_at = ?, cleared_by = ?"
				 " WHERE device_id = ? AND cleared_at IS NULL",
			     "iss", now_s(), user, device_id));
	if (r == 0 && sqlite3_changes(st->db) == 0)
		r = -ENOENT;
	if (r == 0)
		r = log_action(st, user, "clear_chain_flags", NULL, device_id);
	TX_END(st, r);
}

static bool role_ok(const char *role)
{
	return word_in(role, "responder auditor admin") && !strchr(role, ' ');
}

int rstore_user_add(struct rstore *st, const char *name, const char *role,
		    const char *pwhash, const char *by)
{
	if (!role_ok(role) || !*name || strlen(name) > 64)
		return -EINVAL;
	TX_BEGIN(st);
	int r = run(st, prep(st, "INSERT INTO users (name, role, pwhash, created_at)"
				 " VALUES (?, ?, ?, ?)",
			     "sssi", name, role, pwhash, now_s()));
	if (r == 0)
		r = log_action(st, by, "user_add", NULL, name);
	TX_END(st, r);
}

int rstore_user_passwd(struct rstore *st, const char *name, const char *pwhash,
		       const char *by)
{
	TX_BEGIN(st);
	int r = run(st, prep(st, "UPDATE users SET pwhash = ? WHERE name = ?", "ss", pwhash,
			     name));
	if (r == 0 && sqlite3_changes(st->db) == 0)
		r = -ENOENT;
	/* A new password ends every session of the user. */
	if (r == 0)
		r = run(st, prep(st, "DELETE FROM credentials WHERE is_session = 1 AND user_id ="
				     " (SELECT id FROM users WHERE name = ?)",
				 "s", name));
	if (r == 0)
		r = log_action(st, by, "user_passwd", NULL, name);
	TX_END(st, r);
}

int rstore_user_get(struct rstore *st, const char *name, char ret_role[RSTORE_ROLE_MAX],
		    char ret_pwhash[crypto_pwhash_STRBYTES], bool *ret_disabled)
{
	sqlite3_stmt *s;
	int r = -EIO;

	pthread_mutex_lock(&st->lock);
	s = prep(st, "SELECT role, pwhash, disabled_at IS NOT NULL FROM users WHERE name = ?", "s",
		 name);
	r = first_row(st, s);
	if (r == 0 && (size_t)sqlite3_column_bytes(s, 1) < crypto_pwhash_STRBYTES) {
		snprintf(ret_role, RSTORE_ROLE_MAX, "%s", sqlite3_column_text(s, 0));
		snprintf(ret_pwhash, crypto_pwhash_STRBYTES, "%s", sqlite3_column_text(s, 1));
		*ret_disabled = sqlite3_column_int(s, 2) != 0;
	} else if (r == 0) {
		r = -EINVAL; /* not a hash crypto_pwhash_str() made */
	}
	sqlite3_finalize(s);
	pthread_mutex_unlock(&st->lock);
	return r;
}

int rstore_users(struct rstore *st, json_object **ret)
{
	return select_array(st, ret,
			    "SELECT name, role, " ISO("created_at") " AS created_at,"
			    " disabled_at IS NOT NULL AS disabled,"
			    " " ISO("disabled_at") " AS disabled_at, disabled_by"
			    " FROM users ORDER BY name",
			    NULL);
}

/* One value of an integer query (the first column of its first row). */
static int query_int(struct rstore *st, sqlite3_stmt *s, int64_t *ret)
{
	int r = first_row(st, s);
	if (r == 0)
		*ret = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	return r;
}

int rstore_user_enable(struct rstore *st, const char *name, bool enable, const char *by)
{
	int64_t disabled = 0, is_admin = 0, other_admins = 1;

	TX_BEGIN(st);
	int r = query_int(st, prep(st, "SELECT disabled_at IS NOT NULL FROM users WHERE name = ?",
				   "s", name),
			  &disabled);
	if (r == 0 && (disabled != 0) == !enable)
		r = -EALREADY;
	if (r == 0 && !enable)
		r = query_int(st, prep(st, "SELECT role = 'admin' FROM users WHERE name = ?", "s",
				       name),
			      &is_admin);
	if (r == 0 && is_admin)
		r = query_int(st, prep(st, "SELECT count(*) FROM users WHERE role = 'admin'"
					   " AND disabled_at IS NULL AND name != ?",
				       "s", name),
			      &other_admins);
	if (r == 0 && other_admins == 0)
		r = -EPERM; /* nobody would be left to administer the dashboard */
	if (r == 0)
		r = run(st, enable ? prep(st, "UPDATE users SET disabled_at = NULL, disabled_by = NULL"
					      " WHERE name = ?",
					  "s", name)
				   : prep(st, "UPDATE users SET disabled_at = ?, disabled_by = ?"
					      " WHERE name = ?",
					  "iss", now_s(), by, name));
	/* Every session and API token of a disabled user ends now; enabling
	 * the login again does not bring them back. */
	if (r == 0 && !enable)
		r = run(st, prep(st, "DELETE FROM credentials WHERE user_id ="
				     " (SELECT id FROM users WHERE name = ?)",
				 "s", name));
	if (r == 0)
		r = log_action(st, by, enable ? "user_enable" : "user_disable", NULL, name);
	TX_END(st, r);
}

int rstore_cred_add(struct rstore *st, const char *secret_hash, const char *user,
		    bool is_session, const char *csrf, int64_t expires, const char *label)
{
	int64_t disabled = 0;

	TX_BEGIN(st);
	int r = query_int(st, prep(st, "SELECT disabled_at IS NOT NULL FROM users WHERE name = ?",
				   "s", user),
			  &disabled);
	if (r == 0 && disabled)
		r = -EPERM;
	if (r == 0)
		r = run(st, prep(st,
				 "INSERT INTO credentials (secret_sha256, user_id, is_session, csrf,"
				 " label, created_at, expires)"
				 " SELECT ?, id, ?, ?, ?, ?, ? FROM users WHERE name = ?",
				 "sissiis", secret_hash, (int64_t)is_session, csrf ? csrf : "",
				 label, now_s(), expires, user));
	TX_END(st, r);
}

/* How often a session's last-used time is written: once a minute, or
 * more often for an idle timeout under two minutes (tests), so that the
 * recorded time is never more than half the timeout behind. */
static int64_t touch_every(int64_t idle)
{
	return idle >= 120 ? 60 : idle >= 2 ? idle / 2 : 1;
}

int rstore_cred_get(struct rstore *st, const char *secret_hash, int64_t session_idle,
		    struct rstore_principal *ret)
{
	int64_t now = now_s(), last;
	sqlite3_stmt *s;
	int r = -EIO;

	pthread_mutex_lock(&st->lock);
	s = prep(st,
		 "SELECT u.name, u.role, c.csrf, c.is_session, c.expires,"
		 " coalesce(c.last_used, c.created_at)"
		 " FROM credentials c JOIN users u ON u.id = c.user_id"
		 " WHERE c.secret_sha256 = ? AND (c.expires = 0 OR c.expires > ?)"
		 " AND u.disabled_at IS NULL",
		 "si", secret_hash, now);
	r = first_row(st, s);
	if (r == 0) {
		struct rstore_principal p = { .is_session = sqlite3_column_int(s, 3) != 0,
					      .expires = sqlite3_column_int64(s, 4) };
		snprintf(p.user, sizeof(p.user), "%s", sqlite3_column_text(s, 0));
		snprintf(p.role, sizeof(p.role), "%s", sqlite3_column_text(s, 1));
		snprintf(p.csrf, sizeof(p.csrf), "%s", sqlite3_column_text(s, 2));
		last = sqlite3_column_int64(s, 5);
		if (p.is_session && session_idle > 0 && now - last >= session_idle)
			r = -ENOENT; /* idle too long; purge deletes it later */
		else
			*ret = p;
	}
	sqlite3_finalize(s);
	/* Slide the idle timeout, writing at most every touch_every seconds
	 * rather than on every request.  A failed write is not worth failing
	 * the request for: the session would only end a little earlier. */
	if (r == 0 && ret->is_session && session_idle > 0 && now - last >= touch_every(session_idle))
		run(st, prep(st, "UPDATE credentials SET last_used = ? WHERE secret_sha256 = ?", "is",
			     now, secret_hash));
	pthread_mutex_unlock(&st->lock);
	return r;
}

int rstore_cred_del(struct rstore *st, const char *secret_hash)
{
	TX_BEGIN(st);
	int r = run(st, prep(st, "DELETE FROM credentials WHERE secret_sha256 = ?", "s",
			     secret_hash));
	TX_END(st, r);
}

int rstore_purge(struct rstore *st, int days, int *ret_count)
{
	int64_t cutoff = now_s() - (int64_t)days * 86400;
	int count = 0;

	if (days < 0)
		return -EINVAL;
	TX_BEGIN(st);
	int r = run(st, prep(st,
			     "DELETE FROM notes WHERE alert_id IN (SELECT alert_id FROM alerts"
			     " WHERE status IN ('closed', 'false_positive') AND closed_at <= ?)",
			     "i", cutoff));
	if (r == 0)
		r = run(st, prep(st,
				 "DELETE FROM alerts WHERE status IN ('closed', 'false_positive')"
				 " AND closed_at <= ?",
				 "i", cutoff));
	if (r == 0)
		count = sqlite3_changes(st->db);
	if (r == 0)
		r = run(st, prep(st, "DELETE FROM credentials WHERE expires > 0 AND expires <= ?",
				 "i", now_s()));
	/* Old chain points go too, except each device's latest, which later
	 * reports are compared with. */
	if (r == 0)
		r = run(st, prep(st,
				 "DELETE FROM chain_points WHERE received_at <= ? AND seq <"
				 " (SELECT max(seq) FROM chain_points c"
				 "  WHERE c.device_id = chain_points.device_id)",
				 "i", cutoff));
	if (r == 0 && count > 0) {
		char detail[64];
		snprintf(detail, sizeof(detail), "%d alerts older than %d days", count, days);
		r = log_action(st, "(retention)", "purge", NULL, detail);
	}
	if (r == 0)
		*ret_count = count;
	TX_END(st, r);
}
