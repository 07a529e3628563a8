/* record.c - audit records (see record.h and docs/audit-log.md). */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "daemon.h"
#include "log.h"
#include "receipt.h"
#include "record.h"

int record_open(struct daemon *d, const char *path)
{
	struct auditlog_config cfg = { .set_aside_broken = true };
	return auditlog_open_with(path, &cfg, &d->audit);
}

int record_append(struct daemon *d, const char *type, json_object *fields, bool sync,
		  uint64_t *ret_seq, char *ret_head)
{
	int r;

	if (ret_seq)
		*ret_seq = 0;
	if (ret_head)
		ret_head[0] = '\0';
	if (!d->audit)
		return -ENODEV;
	r = auditlog_append(d->audit, type, fields, sync, ret_seq, ret_head);
	if (r == -EIO) {
		/* the handle gave up after a failure it could not undo: open the
		 * log again, which takes the chain up from what is on disk */
		char path[PATH_MAX];
		snprintf(path, sizeof(path), "%s/audit.log", d->cfg->state_dir);
		auditlog_close(d->audit);
		d->audit = NULL;
		if (record_open(d, path) == 0)
			r = auditlog_append(d->audit, type, fields, sync, ret_seq, ret_head);
	}
	if (r < 0 && d->audit) {
		log_error("cannot append a '%s' record to the audit log: %s", type, strerror(-r));
		/* the alert still carries where the chain stood */
		if (ret_seq)
			*ret_seq = auditlog_seq(d->audit);
		if (ret_head)
			snprintf(ret_head, AUDIT_HEAD_HEX, "%s", auditlog_head(d->audit));
	}
	return r < 0 ? r : 0;
}

static void put(struct daemon *d, const char *type, json_object *f, bool sync)
{
	record_append(d, type, f, sync, NULL, NULL);
	json_object_put(f);
}

static uint64_t monotonic_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec;
}

void record_start(struct daemon *d)
{
	json_object *f = json_object_new_object();
	const struct auditlog_report *rep = d->audit ? auditlog_report(d->audit) : NULL;

	d->started_s = monotonic_s();
	json_object_object_add(f, "version", json_object_new_string(HW_VERSION));
	json_object_object_add(f, "pid", json_object_new_int(getpid()));
	json_object_object_add(f, "device_id", json_object_new_string(d->cfg->device_id));
	json_object_object_add(f, "log_partial_bytes",
			       json_object_new_uint64(rep ? rep->partial_bytes : 0));
	if (rep && rep->set_aside) {
		json_object_object_add(f, "log_set_aside", json_object_new_string(rep->set_aside_path));
		json_object_object_add(f, "log_problem", json_object_new_string(rep->problem));
		log_error("the audit log failed verification (%s); it was moved to %s and a new "
			  "chain started", rep->problem, rep->set_aside_path);
	}
	if (rep && rep->partial_bytes)
		log_warning("the audit log ended in an unfinished record (%llu bytes, e.g. a "
			    "crash); it was dropped", (unsigned long long)rep->partial_bytes);
	put(d, "start", f, true);
}

void record_stop(struct daemon *d, const char *reason)
{
	json_object *f = json_object_new_object();
	json_object_object_add(f, "reason", json_object_new_string(reason));
	json_object_object_add(f, "uptime_s", json_object_new_uint64(monotonic_s() - d->started_s));
	put(d, "stop", f, true);
}

void record_config(struct daemon *d)
{
	json_object *f = json_object_new_object();
	json_object_object_add(f, "digest", json_object_new_string(d->cfg->digest_hex));
	json_object_object_add(f, "path", json_object_new_string(d->config_path));
	put(d, "config", f, true);
}

static void list_identity(json_object *f, const struct hwdb *db)
{
	uint8_t dg[HWDB_DIGEST_BYTES];
	char hex[2 * HWDB_DIGEST_BYTES + 1];

	hwdb_digest(db, dg);
	sodium_bin2hex(hex, sizeof(hex), dg, sizeof(dg));
	json_object_object_add(f, "list_id", json_object_new_string(hwdb_list_id(db)));
	json_object_object_add(f, "version", json_object_new_uint64(hwdb_version(db)));
	json_object_object_add(f, "digest", json_object_new_string(hex));
}

static void list_details(json_object *f, const struct hwdb *db)
{
	uint8_t keys[HWDB_MAX_SIGNERS][32];
	bool trusted[HWDB_MAX_SIGNERS];
	size_t n = hwdb_signers(db, keys, trusted, HWDB_MAX_SIGNERS);
	json_object *signers = json_object_new_array(), *models = json_object_new_array();
	char b64[sodium_base64_ENCODED_LEN(32, sodium_base64_VARIANT_ORIGINAL)];

	/* a key is named by its base64, as `hashwatch db info` names it */
	for (size_t i = 0; i < n && i < HWDB_MAX_SIGNERS; i++) {
		if (!trusted[i])
			continue;
		sodium_bin2base64(b64, sizeof(b64), keys[i], 32, sodium_base64_VARIANT_ORIGINAL);
		json_object_array_add(signers, json_object_new_string(b64));
	}
	for (int id = 1; id < HW_MODEL__MAX; id++)
		if (hwdb_model_count(db, (enum hw_model_id)id) > 0)
			json_object_array_add(models, json_object_new_string(
				hw_model_by_id((enum hw_model_id)id)->name));
	json_object_object_add(f, "signers", signers);
	json_object_object_add(f, "entries", json_object_new_uint64(hwdb_entry_count(db)));
	json_object_object_add(f, "models", models);
}

void record_list(struct daemon *d, const struct list_report *rep)
{
	json_object *f = json_object_new_object();

	switch (rep->outcome) {
	case LIST_LOADED:
		list_identity(f, rep->db);
		list_details(f, rep->db);
		json_object_object_add(f, "path", json_object_new_string(rep->path));
		put(d, "list_loaded", f, true);
		return;
	case LIST_KEPT:
		json_object_put(f);
		return; /* unchanged: recorded when it was loaded */
	case LIST_REFUSED:
		json_object_object_add(f, "path", json_object_new_string(rep->path));
		json_object_object_add(f, "reason", json_object_new_string(rep->reason));
		if (rep->db) {
			json_object_object_add(f, "kept_list_id",
					       json_object_new_string(hwdb_list_id(rep->db)));
			json_object_object_add(f, "kept_version",
					       json_object_new_uint64(hwdb_version(rep->db)));
		}
		put(d, "list_refused", f, true);
		return;
	case LIST_REMOVED:
		list_identity(f, rep->db);
		json_object_object_add(f, "reason",
				       json_object_new_string("removed from the list folder"));
		put(d, "list_removed", f, true);
		return;
	}
	json_object_put(f);
}

void record_crawl_start(struct daemon *d, const char *reason, size_t roots)
{
	json_object *f = json_object_new_object();
	json_object_object_add(f, "reason", json_object_new_string(reason));
	json_object_object_add(f, "roots", json_object_new_uint64(roots));
	put(d, "crawl_start", f, false);
}

void record_crawl_done(struct daemon *d, const char *reason, const struct crawl_stats *st,
		       uint64_t cached, uint64_t duration_ms)
{
	json_object *f = json_object_new_object();
	json_object_object_add(f, "reason", json_object_new_string(reason));
	json_object_object_add(f, "seen", json_object_new_uint64(st->files));
	json_object_object_add(f, "hashed", json_object_new_uint64(st->queued));
	json_object_object_add(f, "cached", json_object_new_uint64(cached));
	json_object_object_add(f, "folders", json_object_new_uint64(st->dirs));
	json_object_object_add(f, "errors",
			       json_object_new_uint64(st->unreadable + st->unwatched));
	json_object_object_add(f, "too_deep", json_object_new_uint64(st->too_deep));
	json_object_object_add(f, "duration_ms", json_object_new_uint64(duration_ms));
	put(d, "crawl_done", f, false);
}

void record_counts(struct daemon *d)
{
	const struct counters *a = &d->n, *b = &d->n_logged;
	json_object *f, *sk;
	uint64_t now = monotonic_s();

	if (memcmp(a, b, sizeof(*a)) == 0)
		return;
	f = json_object_new_object();
	sk = json_object_new_object();
	json_object_object_add(f, "period_s", json_object_new_uint64(
		now - (d->counts_s ? d->counts_s : d->started_s)));
	json_object_object_add(f, "seen", json_object_new_uint64(
		(a->scanned + a->not_image + a->cached) - (b->scanned + b->not_image + b->cached)));
	json_object_object_add(f, "hashed", json_object_new_uint64(
		(a->scanned + a->not_image) - (b->scanned + b->not_image)));
	json_object_object_add(f, "not_image", json_object_new_uint64(a->not_image - b->not_image));
	json_object_object_add(f, "cached", json_object_new_uint64(a->cached - b->cached));
	for (int i = 0; i < SKIP__MAX; i++)
		if (a->skipped[i] != b->skipped[i])
			json_object_object_add(sk, scan_skip_name((enum skip_reason)i),
					       json_object_new_uint64(a->skipped[i] - b->skipped[i]));
	json_object_object_add(f, "skipped", sk);
	json_object_object_add(f, "errors", json_object_new_uint64(
		a->skipped[SKIP_CRASH] - b->skipped[SKIP_CRASH]));
	json_object_object_add(f, "matches", json_object_new_uint64(a->matches - b->matches));
	json_object_object_add(f, "alerts", json_object_new_uint64(a->alerts - b->alerts));
	json_object_object_add(f, "queue_full", json_object_new_uint64(a->queue_full - b->queue_full));
	json_object_object_add(f, "inotify_overflows",
			       json_object_new_uint64(a->overflows - b->overflows));
	if (a->seccomp_kills != b->seccomp_kills)
		json_object_object_add(f, "seccomp_kills",
				       json_object_new_uint64(a->seccomp_kills - b->seccomp_kills));
	put(d, "scan_counts", f, false);
	d->n_logged = d->n;
	d->counts_s = now;
}

void record_skip(struct daemon *d, const char *reason, uint64_t limit)
{
	json_object *f = json_object_new_object();
	json_object_object_add(f, "reason", json_object_new_string(reason));
	if (limit)
		json_object_object_add(f, "limit", json_object_new_uint64(limit));
	put(d, "skip", f, false);
}

void record_error(struct daemon *d, const char *where, const char *fmt, ...)
{
	json_object *f = json_object_new_object();
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	json_object_object_add(f, "where", json_object_new_string(where));
	json_object_object_add(f, "message", json_object_new_string(msg));
	put(d, "error", f, true);
}

int record_receipt(struct daemon *d, const struct receipt *rc)
{
	json_object *f = json_object_new_object();
	int r;

	if (!f)
		return -ENOMEM;
	receipt_add_fields(f, rc);
	if (rc->kind == RECEIPT_KIND_ALERT) {
		json_object_object_add(f, "delivered_at", json_object_new_string(rc->time));
		r = record_append(d, "alert_delivered", f, true, NULL, NULL);
	} else {
		json_object_object_add(f, "sent_at", json_object_new_string(rc->time));
		r = record_append(d, "heartbeat", f, false, NULL, NULL);
	}
	json_object_put(f);
	return r;
}
