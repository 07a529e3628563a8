/* uplink.c - the delivery engine; see uplink.h for what it promises.
 *
 * Order of the steps for one alert, and why:  read and repackage (no
 * side effect) -> POST -> on a 2xx: audit record (fsync'ed) -> delete
 * the file (fsync of the folder).  A crash before the delete makes the
 * alert go out again, which the receiver answers with "duplicate"; a
 * crash can never delete an alert the receiver has not confirmed.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <curl/curl.h>

#include "auditlog.h"
#include "auditrec.h"
#include "backoff.h"
#include "post.h"
#include "receipt.h"
#include "spool.h"
#include "ulog.h"
#include "uplink.h"

struct uplink {
	const struct upconf *cfg;
	struct spool *spool;
	struct post *post;
	struct auditlog *audit;
	struct backoff backoff;
	char receiver[256]; /* host[:port] of url, for records and messages */

	struct spool_entry *queue; /* this pass's files, oldest first */
	size_t nqueue, next;
	bool scan_wanted, heartbeat_wanted;
	bool waiting; /* backing off: nothing is tried until uplink_retry() */
	bool failing; /* the last attempt failed (the audit log was told) */
	bool receipts_off; /* spool/receipts/ is missing (the journal was told) */

	/* The heartbeat file last handled, so that one version is sent once
	 * per run (the receiver also refuses a heartbeat that is not newer). */
	bool hb_known;
	struct stat hb_st;

	struct uplink_stats stats;
};

/* How an HTTP status is treated. */
enum verdict {
	V_DELIVERED, /* 2xx */
	V_RETRY,     /* no fault of this file: try again later */
	V_REFUSED,   /* the receiver refuses this very file */
};

/* code: the receiver's "error" (docs/receiver-api.md), "" when none. */
static enum verdict classify(long status, const char *code)
{
	if (status >= 200 && status < 300)
		return V_DELIVERED;
	if (status < 400 || status >= 500)
		return V_RETRY; /* 1xx/3xx: not our API; 5xx: the receiver's fault */
	switch (status) {
	case 408: /* request time-out */
	case 429: /* too many requests */
	/* These say that the URL or the path to it is wrong (no such
	 * endpoint, a proxy wanting credentials), not that this alert is:
	 * setting every alert aside for them would empty the spool into
	 * rejected/ because of one typo in url. */
	case 401:
	case 404:
	case 405:
	case 407:
	case 415:
	case 421:
		return V_RETRY;
	case 403:
		/* Not enrolled (yet): the response team can enroll the device
		 * at any time, and the receiver asks to try again later. */
		return strcmp(code, "unknown_device") == 0 ? V_RETRY : V_REFUSED;
	default:
		return V_REFUSED;
	}
}

static void utc_now(char out[32])
{
	time_t t = time(NULL);
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* The receiver's answer {"error": "...", "detail": "..."} (or
 * {"status": "..."} for a success), with fallbacks when it is not JSON. */
static void answer_fields(const struct post_result *res, char *code, size_t clen, char *detail,
			  size_t dlen)
{
	json_object *o = res->truncated ? NULL : json_tokener_parse(res->body), *v;

	snprintf(code, clen, "http_%ld", res->status);
	snprintf(detail, dlen, "%.*s", (int)(dlen - 1), res->body);
	if (o && json_object_is_type(o, json_type_object)) {
		if (json_object_object_get_ex(o, "error", &v) ||
		    json_object_object_get_ex(o, "status", &v))
			snprintf(code, clen, "%s", json_object_get_string(v));
		if (json_object_object_get_ex(o, "detail", &v))
			snprintf(detail, dlen, "%s", json_object_get_string(v));
		else
			detail[0] = '\0';
	}
	/* The detail comes from the network and goes into the log, STATUS
	 * and the reason file: one line, no control characters. */
	for (char *p = detail; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = ' ';
	for (char *p = code; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = ' ';
	json_object_put(o);
}

/* Append an audit record; a failure is logged, not fatal: the receiver
 * holds what was delivered, and holding alerts back because the local
 * log is full would be the worse outcome. */
static void audit(struct uplink *u, const char *type, json_object *fields, bool sync)
{
	int r = auditlog_append(u->audit, type, fields, sync, NULL, NULL);
	if (r < 0)
		ulog_error("cannot append a '%s' record to %s/%s: %s", type,
			   u->cfg->uplink_state_dir, UPLINK_AUDIT_NAME, strerror(-r));
	json_object_put(fields);
}

static json_object *fields_new(void)
{
	return json_object_new_object();
}

static void add_str(json_object *f, const char *key, const char *v)
{
	if (f && v)
		json_object_object_add(f, key, json_object_new_string(v));
}

static void add_int(json_object *f, const char *key, int64_t v)
{
	if (f)
		json_object_object_add(f, key, json_object_new_int64(v));
}

/* An attempt failed for a reason that is not the file's: keep everything,
 * back off, and tell the audit log when a run of failures starts. */
static enum uplink_state fail(struct uplink *u, long retry_after_s, uint64_t *ret_delay,
			      const char *alert_id, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));

static enum uplink_state fail(struct uplink *u, long retry_after_s, uint64_t *ret_delay,
			      const char *alert_id, const char *fmt, ...)
{
	uint64_t ra = retry_after_s > 0 ? (uint64_t)retry_after_s * BACKOFF_USEC_PER_SEC : 0;
	bool capped = false;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(u->stats.last_error, sizeof(u->stats.last_error), fmt, ap);
	va_end(ap);
	uint64_t delay = backoff_fail(&u->backoff, ra, &capped);
	u->stats.failures++;
	ulog_full(u->failing ? LOG_WARNING : LOG_ERR, ULOG_MSGID_FAILED, alert_id,
		  "%s; %zu alert(s) wait in the spool, next attempt in %.1f s%s%s",
		  u->stats.last_error, u->stats.depth, (double)delay / 1e6,
		  retry_after_s > 0 ? " (the receiver asked for Retry-After)" : "",
		  capped ? " (Retry-After cut to one hour)" : "");
	if (!u->failing) {
		json_object *f = fields_new();
		add_str(f, "where", "uplink");
		add_str(f, "message", u->stats.last_error);
		audit(u, "error", f, true);
	}
	u->failing = true;
	u->waiting = true;
	/* Start from a fresh listing when we come back: files may have been
	 * added, and the same order is kept. */
	u->next = u->nqueue;
	u->scan_wanted = true;
	*ret_delay = delay;
	return UPLINK_WAIT;
}

static void worked(struct uplink *u)
{
	backoff_reset(&u->backoff);
	if (u->failing)
		ulog_notice("the receiver at %s takes deliveries again", u->receiver);
	u->failing = false;
	u->stats.last_error[0] = '\0';
}

/* Set an alert aside in spool/rejected/ with the reason.  http_status 0
 * means the uplink itself found the file undeliverable. */
static enum uplink_state refuse(struct uplink *u, const struct spool_entry *e,
				const char *alert_id, long http_status, const char *code,
				const char *detail, uint64_t *ret_delay)
{
	char now[32], target[NAME_MAX + 1];
	json_object *reason = json_object_new_object();
	const char *text;
	int r;

	utc_now(now);
	add_str(reason, "file", e->name);
	add_str(reason, "alert_id", alert_id);
	add_str(reason, "rejected_at", now);
	add_str(reason, "receiver", u->receiver);
	add_int(reason, "http_status", http_status);
	add_str(reason, "error", code);
	add_str(reason, "detail", detail);
	text = reason ? json_object_to_json_string_ext(reason, JSON_C_TO_STRING_PRETTY |
								       JSON_C_TO_STRING_NOSLASHESCAPE)
		      : NULL;
	char *line = text ? malloc(strlen(text) + 2) : NULL;
	if (line) /* a text file ends in a newline */
		snprintf(line, strlen(text) + 2, "%s\n", text);
	r = line ? spool_reject(u->spool, e->name, line, strlen(line), target) : -ENOMEM;
	free(line);
	json_object_put(reason);
	if (r == -ENOENT)
		return UPLINK_BUSY; /* gone meanwhile: nothing to keep */
	if (r < 0)
		return fail(u, 0, ret_delay, alert_id,
			    "alert file %s was refused (%s) but cannot be moved to %s/%s: %s",
			    e->name, code, spool_path(u->spool), SPOOL_REJECTED_DIR, strerror(-r));
	u->stats.rejected++;
	if (u->stats.depth)
		u->stats.depth--;
	ulog_full(LOG_ERR, ULOG_MSGID_REJECTED, alert_id,
		  "ALERT %s NOT DELIVERED: %s (%s%s%s); the file is kept as %s/%s/%s with the "
		  "reason next to it; once the cause is fixed, move it back into %s to send it "
		  "again", alert_id ? alert_id : e->name,
		  http_status ? "the receiver refused it" : "the spool file is not deliverable",
		  code, *detail ? ": " : "", detail, spool_path(u->spool), SPOOL_REJECTED_DIR,
		  target, spool_path(u->spool));
	json_object *f = fields_new();
	add_str(f, "alert_id", alert_id);
	add_str(f, "file", e->name);
	add_str(f, "receiver", u->receiver);
	add_int(f, "http_status", http_status);
	add_str(f, "error", code);
	add_str(f, "detail", detail);
	audit(u, "alert_rejected", f, true);
	return UPLINK_BUSY;
}

/* Tell the scanner what the receiver confirmed (util/receipt.h), so that
 * its own audit log records it.  A failure costs the scanner's log that
 * record, never the delivery: the receiver and this log hold it. */
static void put_receipt(struct uplink *u, const char *name, struct receipt *rc)
{
	char *text = NULL;
	size_t len = 0;
	int r;

	snprintf(rc->receiver, sizeof(rc->receiver), "%s", u->receiver);
	/* the audit log's own time form, which `hashwatch audit summary` reads */
	if (audit_time_format(audit_now_ms(), rc->time) < 0)
		utc_now(rc->time);
	/* the outcome is the receiver's word: printable ASCII only */
	for (char *p = rc->outcome; *p; p++)
		if ((unsigned char)*p < 0x20 || (unsigned char)*p > 0x7e)
			*p = '?';
	r = receipt_format(rc, &text, &len);
	if (r == 0)
		r = spool_put_receipt(u->spool, name, text, len);
	free(text);
	if (r == -ENOENT) {
		if (!u->receipts_off)
			ulog_warning("%s/%s does not exist, so the scanner's audit log does not "
				     "record deliveries (hashwatchd makes it when it starts; so "
				     "does systemd-tmpfiles --create)", spool_path(u->spool),
				     RECEIPT_DIR);
		u->receipts_off = true;
		return;
	}
	u->receipts_off = false;
	if (r < 0)
		ulog_warning("cannot write the receipt %s/%s/%s for the scanner: %s (its audit "
			     "log will not show this delivery; this uplink's log does)",
			     spool_path(u->spool), RECEIPT_DIR, name, strerror(-r));
}

static enum uplink_state delivered(struct uplink *u, const struct spool_entry *e,
				   const struct wire_msg *m, const struct post_result *res,
				   uint64_t *ret_delay)
{
	char code[64], detail[256];
	int r;

	answer_fields(res, code, sizeof(code), detail, sizeof(detail));
	json_object *f = fields_new();
	add_str(f, "alert_id", m->alert_id);
	add_str(f, "receiver", u->receiver);
	add_int(f, "http_status", res->status);
	add_str(f, "outcome", code); /* "stored" or "duplicate" */
	audit(u, "alert_delivered", f, true);
	/* the receipt before the delete: a crash between the two sends the
	 * alert again and writes the same receipt again, never none */
	struct receipt rc = { .kind = RECEIPT_KIND_ALERT, .http_status = res->status };
	snprintf(rc.alert_id, sizeof(rc.alert_id), "%s", m->alert_id);
	snprintf(rc.outcome, sizeof(rc.outcome), "%s", code);
	put_receipt(u, e->name, &rc);
	r = spool_remove(u->spool, e->name);
	if (r < 0 && r != -ENOENT)
		return fail(u, 0, ret_delay, m->alert_id,
			    "alert %s was delivered but %s/%s cannot be deleted: %s (it will be "
			    "sent again; the receiver ignores the repeat)",
			    m->alert_id, spool_path(u->spool), e->name, strerror(-r));
	worked(u);
	u->stats.delivered++;
	if (u->stats.depth)
		u->stats.depth--;
	u->stats.last_delivery = time(NULL);
	snprintf(u->stats.last_alert, sizeof(u->stats.last_alert), "%s", m->alert_id);
	ulog_full(LOG_NOTICE, ULOG_MSGID_DELIVERED, m->alert_id,
		  "alert %s delivered to %s (HTTP %ld, %s)", m->alert_id, u->receiver, res->status,
		  code);
	return UPLINK_BUSY;
}

/* One file on its way out: the bytes read, the request made from them and
 * the receiver's answer.  Zero it first; attempt_done() frees it. */
struct attempt {
	char *text;
	size_t len;
	struct stat st;
	struct wire_msg m;
	struct post_result *res;
	char why[POST_ERROR_MAX];
	char code[64], detail[256];
};

static void attempt_done(struct attempt *a)
{
	free(a->text);
	wire_msg_done(&a->m);
	free(a->res);
}

/* POST the prepared body.  Returns 0 when the receiver answered (code and
 * detail filled from the answer), else -1 with the reason in a->why. */
static int attempt_post(struct uplink *u, struct attempt *a, const char *path)
{
	a->res = malloc(sizeof(*a->res));
	if (!a->res) {
		snprintf(a->why, sizeof(a->why), "out of memory");
		return -1;
	}
	if (post_send(u->post, path, a->m.body, a->m.len, a->res) < 0) {
		snprintf(a->why, sizeof(a->why), "%s", a->res->error);
		return -1;
	}
	answer_fields(a->res, a->code, sizeof(a->code), a->detail, sizeof(a->detail));
	return 0;
}

/* The delay the receiver asked for, on the answers where it may ask. */
static long asked_delay(const struct post_result *res)
{
	return res->status == 429 || res->status == 503 ? res->retry_after_s : 0;
}

static enum uplink_state deliver(struct uplink *u, const struct spool_entry *e,
				 uint64_t *ret_delay)
{
	struct attempt a = { 0 };
	enum uplink_state st = UPLINK_BUSY;
	int r;

	r = spool_read(u->spool, e->name, u->cfg->max_file_size, &a.text, &a.len, &a.st);
	if (r == -ENOENT || r == -EINVAL)
		goto out; /* gone since the listing, or not a regular file: not ours */
	if (r == -EFBIG) {
		snprintf(a.why, sizeof(a.why), "larger than max_file_size = %llu bytes",
			 (unsigned long long)u->cfg->max_file_size);
		st = refuse(u, e, NULL, 0, "too_large", a.why, ret_delay);
		goto out;
	}
	if (r < 0) {
		st = fail(u, 0, ret_delay, NULL, "cannot read %s/%s: %s", spool_path(u->spool),
			  e->name, strerror(-r));
		goto out;
	}
	r = wire_check(WIRE_ALERT, a.text, a.len, &a.m, a.why, sizeof(a.why));
	if (r == -EBADMSG) {
		st = refuse(u, e, NULL, 0, "bad_envelope", a.why, ret_delay);
		goto out;
	}
	if (r < 0) {
		st = fail(u, 0, ret_delay, NULL, "cannot prepare %s: %s", e->name, strerror(-r));
		goto out;
	}
	const char *id = a.m.alert_id;
	if (u->cfg->device_id && strcmp(u->cfg->device_id, a.m.device_id) != 0)
		ulog_full(LOG_WARNING, NULL, id,
			  "alert %s was signed as device '%s' but [device] id is '%s'; it is sent "
			  "as signed", id, a.m.device_id, u->cfg->device_id);
	if (attempt_post(u, &a, "/v1/alerts") < 0) {
		st = fail(u, 0, ret_delay, id, "alert %s not delivered: %s", id, a.why);
		goto out;
	}
	switch (classify(a.res->status, a.code)) {
	case V_DELIVERED:
		st = delivered(u, e, &a.m, a.res, ret_delay);
		break;
	case V_REFUSED:
		st = refuse(u, e, id, a.res->status, a.code, a.detail, ret_delay);
		break;
	case V_RETRY:
		st = fail(u, asked_delay(a.res), ret_delay, id, "alert %s not delivered: the "
			  "receiver answered HTTP %ld (%s%s%s)", id, a.res->status, a.code,
			  *a.detail ? ": " : "", a.detail);
		break;
	}
out:
	attempt_done(&a);
	return st;
}

static bool same_file(const struct stat *a, const struct stat *b)
{
	return a->st_dev == b->st_dev && a->st_ino == b->st_ino && a->st_size == b->st_size &&
	       a->st_mtim.tv_sec == b->st_mtim.tv_sec && a->st_mtim.tv_nsec == b->st_mtim.tv_nsec;
}

static void heartbeat_record(struct uplink *u, const struct attempt *a, bool ok)
{
	json_object *f = fields_new(), *v;

	if (!f)
		return;
	if (json_object_object_get_ex(a->m.record, "audit_seq", &v))
		json_object_object_add(f, "reported_seq", json_object_get(v));
	if (json_object_object_get_ex(a->m.record, "audit_head", &v))
		json_object_object_add(f, "reported_head", json_object_get(v));
	add_str(f, "receiver", u->receiver);
	json_object_object_add(f, "ok", json_object_new_boolean(ok));
	if (!ok)
		add_str(f, "error", a->code);
	audit(u, "heartbeat", f, false);

	struct receipt rc = { .kind = RECEIPT_KIND_HEARTBEAT, .ok = ok };
	if (json_object_object_get_ex(a->m.record, "audit_seq", &v))
		rc.reported_seq = (uint64_t)json_object_get_int64(v);
	if (json_object_object_get_ex(a->m.record, "audit_head", &v))
		snprintf(rc.reported_head, sizeof(rc.reported_head), "%s",
			 json_object_get_string(v));
	put_receipt(u, RECEIPT_HEARTBEAT, &rc);
}

static enum uplink_state heartbeat(struct uplink *u, uint64_t *ret_delay)
{
	struct attempt a = { 0 };
	enum uplink_state st = UPLINK_BUSY;
	int r;

	r = spool_read(u->spool, SPOOL_HEARTBEAT_NAME, u->cfg->max_file_size, &a.text, &a.len,
		       &a.st);
	if (r == -ENOENT)
		goto out; /* the scanner has not written one yet */
	if (r < 0) {
		ulog_error("cannot read %s/%s: %s", spool_path(u->spool), SPOOL_HEARTBEAT_NAME,
			   strerror(-r));
		goto out; /* the next heartbeat replaces it */
	}
	if (u->hb_known && same_file(&a.st, &u->hb_st))
		goto out;
	u->hb_known = true;
	u->hb_st = a.st;
	r = wire_check(WIRE_HEARTBEAT, a.text, a.len, &a.m, a.why, sizeof(a.why));
	if (r < 0) {
		ulog_error("%s/%s is not a heartbeat the uplink can send: %s", spool_path(u->spool),
			   SPOOL_HEARTBEAT_NAME, r == -EBADMSG ? a.why : strerror(-r));
		goto out;
	}
	if (attempt_post(u, &a, "/v1/heartbeats") < 0 || classify(a.res->status, a.code) == V_RETRY) {
		u->hb_known = false; /* not sent: this one again after the back-off */
		if (a.res && a.res->status)
			snprintf(a.why, sizeof(a.why), "the receiver answered HTTP %ld (%s)",
				 a.res->status, a.code);
		st = fail(u, a.res ? asked_delay(a.res) : 0, ret_delay, NULL,
			  "heartbeat not sent: %s", a.why);
		goto out;
	}
	worked(u);
	/* 409: the receiver has one as new (a restart sent it again). */
	bool delivered = classify(a.res->status, a.code) == V_DELIVERED;
	bool ok = delivered || a.res->status == 409;
	if (delivered)
		u->stats.heartbeats++;
	if (ok)
		ulog_info("heartbeat sent to %s (HTTP %ld, %s)", u->receiver, a.res->status,
			  a.code);
	else
		ulog_error("the receiver refused the heartbeat: HTTP %ld (%s%s%s)", a.res->status,
			   a.code, *a.detail ? ": " : "", a.detail);
	heartbeat_record(u, &a, ok);
out:
	attempt_done(&a);
	return st;
}

static enum uplink_state scan(struct uplink *u, uint64_t *ret_delay)
{
	struct spool_entry *q = NULL;
	size_t n = 0, depth = 0;
	int r;

	u->scan_wanted = false;
	r = spool_scan(u->spool, u->cfg->batch, &q, &n, &depth);
	if (r < 0)
		return fail(u, 0, ret_delay, NULL, "cannot list %s: %s", spool_path(u->spool),
			    strerror(-r));
	free(u->queue);
	u->queue = q;
	u->nqueue = n;
	u->next = 0;
	u->stats.depth = depth;
	/* More than one batch: read the folder again after this one, so that
	 * memory stays bounded and the oldest still go first. */
	if (depth > n)
		u->scan_wanted = true;
	return UPLINK_BUSY;
}

enum uplink_state uplink_step(struct uplink *u, uint64_t *ret_delay_usec)
{
	uint64_t delay = 0;
	enum uplink_state st;

	if (u->waiting)
		return UPLINK_WAIT;
	if (u->next < u->nqueue)
		st = deliver(u, &u->queue[u->next++], &delay);
	else if (u->scan_wanted)
		st = scan(u, &delay);
	else if (u->heartbeat_wanted) {
		u->heartbeat_wanted = false;
		st = heartbeat(u, &delay);
		if (st == UPLINK_WAIT)
			u->heartbeat_wanted = true;
	} else
		return UPLINK_IDLE;
	if (st == UPLINK_WAIT)
		*ret_delay_usec = delay;
	return st;
}

void uplink_want_scan(struct uplink *u)
{
	u->scan_wanted = true;
}

void uplink_want_heartbeat(struct uplink *u)
{
	u->heartbeat_wanted = true;
}

void uplink_retry(struct uplink *u)
{
	u->waiting = false;
}

bool uplink_waiting(const struct uplink *u)
{
	return u->waiting;
}

const struct uplink_stats *uplink_stats(const struct uplink *u)
{
	return &u->stats;
}

void uplink_status(const struct uplink *u, char *buf, size_t len)
{
	char when[32] = "none since start";
	struct tm tm;

	if (u->stats.last_delivery) {
		gmtime_r(&u->stats.last_delivery, &tm);
		strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
	}
	snprintf(buf, len, "%zu alert(s) in the spool; %llu delivered, %llu rejected; "
			   "last delivery: %s%s%s; last error: %s",
		 u->stats.depth, (unsigned long long)u->stats.delivered,
		 (unsigned long long)u->stats.rejected, when, u->stats.last_alert[0] ? " " : "",
		 u->stats.last_alert, u->stats.last_error[0] ? u->stats.last_error : "none");
}

/* host[:port] of the URL, for records and messages (no path: the
 * receiver is what an auditor needs). */
static void receiver_name(const char *url, char *out, size_t len)
{
	CURLU *h = curl_url();
	char *host = NULL, *port = NULL;

	snprintf(out, len, "%s", url);
	if (h && curl_url_set(h, CURLUPART_URL, url, 0) == CURLUE_OK &&
	    curl_url_get(h, CURLUPART_HOST, &host, 0) == CURLUE_OK) {
		if (curl_url_get(h, CURLUPART_PORT, &port, 0) == CURLUE_OK)
			snprintf(out, len, "%s:%s", host, port);
		else
			snprintf(out, len, "%s", host);
	}
	curl_free(host);
	curl_free(port);
	curl_url_cleanup(h);
}

int uplink_new(const struct upconf *cfg, struct uplink **ret, char *err, size_t errlen)
{
	struct auditlog_config acfg = { .set_aside_broken = true };
	struct uplink *u = calloc(1, sizeof(*u));
	char path[PATH_MAX];
	int r;

	if (!u) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	u->cfg = cfg;
	backoff_init(&u->backoff, cfg->retry_min_s * BACKOFF_USEC_PER_SEC,
		     cfg->retry_max_s * BACKOFF_USEC_PER_SEC);
	receiver_name(cfg->url, u->receiver, sizeof(u->receiver));
	r = spool_open(cfg->spool_dir, &u->spool);
	if (r < 0) {
		snprintf(err, errlen, "cannot open the spool %s: %s%s", cfg->spool_dir, strerror(-r),
			 r == -ENOENT ? " (hashwatchd creates it on its first start; check "
					"[state] dir)"
				      : "");
		goto fail;
	}
	r = post_new(cfg, &u->post, err, errlen);
	if (r < 0)
		goto fail;
	if (mkdir(cfg->uplink_state_dir, 0750) < 0 && errno != EEXIST) {
		r = -errno;
		snprintf(err, errlen, "cannot create [uplink] state_dir = %s: %s",
			 cfg->uplink_state_dir, strerror(-r));
		goto fail;
	}
	snprintf(path, sizeof(path), "%s/%s", cfg->uplink_state_dir, UPLINK_AUDIT_NAME);
	r = auditlog_open_with(path, &acfg, &u->audit);
	if (r < 0) {
		snprintf(err, errlen, "cannot open the audit log %s: %s%s", path, strerror(-r),
			 r == -EBUSY ? " (another hashwatch-uplink is running on it)" : "");
		goto fail;
	}
	const struct auditlog_report *rep = auditlog_report(u->audit);
	if (rep->set_aside)
		ulog_error("the audit log %s had a broken chain (%s); it was kept as %s and a new "
			   "chain starts; `hashwatch audit verify` shows the break",
			   path, rep->problem, rep->set_aside_path);
	if (rep->partial_bytes)
		ulog_warning("the audit log %s ended in an unfinished record (%llu bytes, from a "
			     "crash); it was dropped", path,
			     (unsigned long long)rep->partial_bytes);
	json_object *f = fields_new();
	add_str(f, "program", "hashwatch-uplink");
	add_str(f, "version", HW_VERSION);
	add_str(f, "receiver", u->receiver);
	audit(u, "uplink_start", f, true);
	u->scan_wanted = true;
	u->heartbeat_wanted = true;
	*ret = u;
	return 0;
fail:
	uplink_free(u);
	return r;
}

void uplink_free(struct uplink *u)
{
	if (!u)
		return;
	if (u->audit) {
		json_object *f = fields_new();
		add_int(f, "delivered", (int64_t)u->stats.delivered);
		add_int(f, "rejected", (int64_t)u->stats.rejected);
		add_int(f, "failures", (int64_t)u->stats.failures);
		audit(u, "uplink_stop", f, true);
	}
	auditlog_close(u->audit);
	post_free(u->post);
	spool_close(u->spool);
	free(u->queue);
	free(u);
}
