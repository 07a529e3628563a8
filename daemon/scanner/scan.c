/* scan.c - the hot path: a queued path is opened by the daemon (never by a
 * worker), checked against the scan cache, handed to a worker as a
 * descriptor; the hashes that come back are matched against every list,
 * grouped by the policy, remembered (matches only) and turned into signed
 * alerts in the spool.
 *
 * Order for a match, so that no alert is lost and none is sent twice:
 * audit "match" record (fsync) -> match state line with the alert and its
 * id (fsync) -> when the category's threshold is reached: spool file
 * (temp, fsync, rename, fsync dir) -> audit "alert_queued" (fsync) ->
 * "alerted" state line -> journal.  A crash anywhere leaves either a
 * rescan that finds the match again, or a pending record whose alert (same
 * id) is written, and recorded as queued, at the next start.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "alert.h"
#include "daemon.h"
#include "fileio.h"
#include "fsopen.h"
#include "log.h"
#include "policy.h"
#include "record.h"

#define RETRY_FIRST_USEC (5 * 1000000ull)
#define RETRY_MAX_USEC (300 * 1000000ull)

static const char *const skip_names[SKIP__MAX] = {
	[SKIP_TOO_LARGE] = "too_large",
	[SKIP_CORRUPT] = "corrupt",
	[SKIP_TIMEOUT] = "timeout",
	[SKIP_CRASH] = "worker_failure",
	[SKIP_UNREADABLE] = "unreadable",
	[SKIP_OTHER] = "other",
};

const char *scan_skip_name(enum skip_reason r)
{
	return r < SKIP__MAX ? skip_names[r] : "other";
}

void scan_models(struct daemon *d)
{
	/* SHA-256 always: an alert carries it, and it identifies matches */
	d->models = d->lists.models | (1u << HW_MODEL_SHA256);
	policy_thresholds(d->cfg, d->max_dist);
}

static void skip(struct daemon *d, const struct scan_job *job, enum skip_reason why,
		 const char *reason)
{
	char f0[64];
	const char *fields[] = { f0, NULL };

	d->n.skipped[why]++;
	/* A skipped file is an error for that file: its path may be logged
	 * (never a hash of it). */
	snprintf(f0, sizeof(f0), "HASHWATCH_SKIP_REASON=%s", scan_skip_name(why));
	log_full(LOG_NOTICE, MSGID_SKIP, job->path, fields, "file skipped (%s): %s",
		 scan_skip_name(why), reason ? reason : "no reason given");
}

static void open_failed(struct daemon *d, const char *path, int r)
{
	switch (r) {
	case -ENOENT:
	case -ENOTDIR:
		d->n.vanished++;
		break;
	case FSOPEN_NOTREG:
	case -ELOOP:
		break; /* FIFOs, sockets, devices, symlinks: never opened, by design */
	case -EFBIG:
		d->n.skipped[SKIP_TOO_LARGE]++;
		log_full(LOG_NOTICE, MSGID_SKIP, path, NULL,
			 "file skipped (too_large): larger than max_file_size (%llu bytes)",
			 (unsigned long long)d->cfg->max_file_size);
		break;
	default:
		d->n.skipped[SKIP_UNREADABLE]++;
		log_full(LOG_WARNING, MSGID_SKIP, path, NULL, "file skipped (unreadable): %s",
			 strerror(-r));
	}
}

void scan_dispatch(struct daemon *d)
{
	struct queue_item *it;

	if (d->stopping)
		return;
	while (pool_has_idle(&d->pool) && (it = queue_pop(&d->queue))) {
		struct scan_job *job;
		struct stat st;
		int fd = fsopen_file(it->path, d->cfg->max_file_size, &st);

		if (fd < 0) {
			open_failed(d, it->path, fd);
			free(it);
			continue;
		}
		if (scancache_fresh(&d->cache, &st)) {
			d->n.cached++;
			close(fd);
			free(it);
			continue;
		}
		job = malloc(sizeof(*job) + it->pathlen + 1);
		if (!job) {
			close(fd);
			free(it);
			break;
		}
		job->st = st;
		job->background = it->origin == QUEUE_CRAWL;
		memcpy(job->path, it->path, it->pathlen + 1);
		free(it);
		uint32_t flags = (job->background ? PROTO_F_BACKGROUND : 0) |
				 (d->cfg->dihedral ? PROTO_F_DIHEDRAL : 0) |
				 (d->cfg->trim ? PROTO_F_TRIM : 0);
		int r = pool_submit(&d->pool, fd, d->models, flags, job);
		close(fd);
		if (r < 0) {
			/* the worker is being replaced; try this file again later */
			queue_push(&d->queue, job->path, job->background ? QUEUE_CRAWL : QUEUE_EVENT,
				   0);
			free(job);
			break;
		}
	}
	/* room again: let a paused crawl go on, or do the rescan owed */
	if (d->crawl.blocked && queue_length(&d->queue) < d->queue.max * 3 / 4) {
		crawl_unblock(&d->crawl);
		sd_event_source_set_enabled(d->crawl_defer, SD_EVENT_ON);
	}
	if (d->rescan_wanted && queue_length(&d->queue) < d->queue.max / 2) {
		d->rescan_wanted = false;
		daemon_rescan_roots(d, CRAWL_HIGH, "the scan queue was full");
	}
	daemon_counters_changed(d);
}

static void hexkey(crypto_generichash_state *st, uint8_t out[MATCHSTATE_KEY_BYTES])
{
	crypto_generichash_final(st, out, MATCHSTATE_KEY_BYTES);
}

static void add_str(crypto_generichash_state *st, const char *s)
{
	crypto_generichash_update(st, (const unsigned char *)s, strlen(s) + 1);
}

/* key: this file (device, inode, content) and entry; distinct: this
 * content and entry (copies count once towards a threshold). */
static void match_keys(const struct scan_job *job, const uint8_t sha256[32],
		       const char *list_id, const char *entry_id,
		       uint8_t key[MATCHSTATE_KEY_BYTES], uint8_t distinct[MATCHSTATE_KEY_BYTES])
{
	crypto_generichash_state st;
	uint64_t ident[2] = { (uint64_t)job->st.st_dev, (uint64_t)job->st.st_ino };

	crypto_generichash_init(&st, (const unsigned char *)"hw-distinct", 11,
				MATCHSTATE_KEY_BYTES);
	crypto_generichash_update(&st, sha256, 32);
	add_str(&st, list_id);
	add_str(&st, entry_id);
	hexkey(&st, distinct);
	crypto_generichash_init(&st, (const unsigned char *)"hw-file", 7, MATCHSTATE_KEY_BYTES);
	crypto_generichash_update(&st, (const unsigned char *)ident, sizeof(ident));
	crypto_generichash_update(&st, distinct, MATCHSTATE_KEY_BYTES);
	hexkey(&st, key);
}

static int write_alert(struct daemon *d, json_object *alert, struct ms_record *rec,
		       unsigned count);

/* The alert's id, from the match key rather than at random: the same file
 * and entry always get the same id.  A crash after the audit "match"
 * record but before the match state has the match makes the rescan find
 * it again; its alert then goes out under the id that the first record
 * already names, so the log shows one alert, not one "matched, never
 * queued" and a second one, and the receiver sees one alert. */
static void alert_id_for(const uint8_t key[MATCHSTATE_KEY_BYTES], char out[ALERT_ID_HEX])
{
	crypto_generichash_state st;
	uint8_t id[(ALERT_ID_HEX - 1) / 2];

	crypto_generichash_init(&st, NULL, 0, sizeof(id));
	add_str(&st, "hw-alert-id");
	crypto_generichash_update(&st, key, MATCHSTATE_KEY_BYTES);
	crypto_generichash_final(&st, id, sizeof(id));
	sodium_bin2hex(out, ALERT_ID_HEX, id, sizeof(id));
}

static json_object *jstr(const char *s)
{
	return json_object_new_string(s ? s : "");
}

static json_object *distance_json(enum hw_model_id model, double dist)
{
	const struct hw_model_info *m = hw_model_by_id(model);
	if (m && m->metric != HW_METRIC_OPENCV)
		return json_object_new_int64((int64_t)dist);
	return json_object_new_double(dist);
}

/* [x, y, w, h] in the file's pixels: where inside its frame the matched
 * picture is (metadata about the listed picture, not the file's content). */
static json_object *box_json(const struct border_box *b)
{
	json_object *a = json_object_new_array_ext(4);
	const uint32_t v[4] = { b->x, b->y, b->w, b->h };

	for (int i = 0; a && i < 4; i++)
		json_object_array_add(a, json_object_new_int64(v[i]));
	return a;
}

/* The alert object (DESIGN.md fields), minus match_count, which is set
 * when it is written. */
static json_object *build_alert(struct daemon *d, const struct list_slot *ls,
				const struct hwdb_entry *e, const struct policy_hit *h,
				const uint8_t key[MATCHSTATE_KEY_BYTES], const char *sha_hex,
				const char *path, unsigned k)
{
	json_object *a = json_object_new_object(), *sig = json_object_new_array();
	char id[ALERT_ID_HEX], when[32];
	struct timespec now;

	if (!a || !sig) {
		json_object_put(a);
		json_object_put(sig);
		return NULL;
	}
	alert_id_for(key, id);
	clock_gettime(CLOCK_REALTIME, &now);
	alert_time(&now, when);
	for (int m = 1; m < HW_MODEL__MAX; m++)
		if (h->models & (1u << m))
			json_object_array_add(sig, jstr(hw_model_by_id((enum hw_model_id)m)->name));
	json_object_object_add(a, "v", json_object_new_int(ALERT_PAYLOAD_VERSION));
	json_object_object_add(a, "alert_id", jstr(id));
	json_object_object_add(a, "detected_at", jstr(when));
	json_object_object_add(a, "device_id", jstr(d->cfg->device_id));
	json_object_object_add(a, "scanner_version", jstr(HW_VERSION));
	json_object_object_add(a, "config_digest", jstr(d->cfg->digest_hex));
	json_object_object_add(a, "list_id", jstr(hwdb_list_id(ls->db)));
	json_object_object_add(a, "list_version", json_object_new_uint64(hwdb_version(ls->db)));
	json_object_object_add(a, "list_digest", jstr(ls->digest_hex));
	json_object_object_add(a, "entry_id", jstr(e->id));
	json_object_object_add(a, "entry_source", jstr(e->source));
	json_object_object_add(a, "entry_category", jstr(e->category));
	json_object_object_add(a, "model", jstr(hw_model_by_id(h->model)->name));
	json_object_object_add(a, "distance", distance_json(h->model, h->distance));
	json_object_object_add(a, "quality", h->quality >= 0 ? json_object_new_int(h->quality) : NULL);
	json_object_object_add(a, "dihedral_variant",
			       h->variant >= 0 ? json_object_new_int(h->variant) : NULL);
	json_object_object_add(a, "region", jstr(hasher_region_name(h->region)));
	if (h->region != HASHER_WHOLE)
		json_object_object_add(a, "box", box_json(&h->box));
	json_object_object_add(a, "confirmed", json_object_new_boolean(h->confirmed));
	json_object_object_add(a, "signals", sig);
	json_object_object_add(a, "threshold", json_object_new_int((int)k));
	json_object_object_add(a, "file_sha256", jstr(sha_hex));
	if (d->cfg->report_path)
		json_object_object_add(a, "path", jstr(path));
	return a;
}

/* The audit "match" record: the alert's identifying fields (never a
 * path unless report_path), alert_id null while below the threshold. */
static json_object *match_record(json_object *alert, bool due, unsigned count, unsigned k)
{
	static const char *const keep[] = {
		"list_id", "list_version", "entry_id", "entry_category", "model",
		"distance", "quality", "region", "box", "confirmed", "file_sha256",
		"path",
	};
	json_object *f = json_object_new_object(), *v;

	for (size_t i = 0; f && i < sizeof(keep) / sizeof(keep[0]); i++)
		if (json_object_object_get_ex(alert, keep[i], &v))
			json_object_object_add(f, keep[i], json_object_get(v));
	if (f && json_object_object_get_ex(alert, "alert_id", &v))
		json_object_object_add(f, "alert_id", due ? json_object_get(v) : NULL);
	if (f) {
		json_object_object_add(f, "category_count", json_object_new_int((int)count));
		json_object_object_add(f, "threshold", json_object_new_int((int)k));
	}
	return f;
}

static void on_match(struct daemon *d, const struct scan_job *job,
		     const struct hasher_result *res, const struct list_slot *ls,
		     const struct policy_hit *h)
{
	uint8_t key[MATCHSTATE_KEY_BYTES], distinct[MATCHSTATE_KEY_BYTES];
	char sha_hex[65], head[AUDIT_HEAD_HEX] = "";
	struct hwdb_entry e;
	struct ms_record *rec = NULL;
	json_object *alert, *af;
	uint64_t seq = 0;
	unsigned k, count;
	int r;

	if (!(res->mask & (1u << HW_MODEL_SHA256)))
		return; /* cannot happen: the worker always computes it */
	if (hwdb_entry_get(ls->db, h->entry, &e) < 0) {
		log_error("list %s: entry %u cannot be read; match ignored",
			  hwdb_list_id(ls->db), h->entry);
		return;
	}
	if (!e.category || !*e.category)
		e.category = "uncategorised";
	match_keys(job, res->hash[HW_MODEL_SHA256].bytes, hwdb_list_id(ls->db),
		   e.id ? e.id : "", key, distinct);
	if (matchstate_known(d->ms, key)) {
		d->n.duplicates++;
		return;
	}
	sodium_bin2hex(sha_hex, sizeof(sha_hex), res->hash[HW_MODEL_SHA256].bytes, 32);
	k = config_min_matches(d->cfg, e.category);
	count = matchstate_count(d->ms, e.category, distinct);
	alert = build_alert(d, ls, &e, h, key, sha_hex, job->path, k);
	if (!alert) {
		log_error("out of memory recording a match");
		return;
	}
	af = match_record(alert, count >= k, count, k);
	record_append(d, "match", af, true, &seq, head);
	json_object_put(af);
	json_object_object_add(alert, "audit_seq", json_object_new_uint64(seq));
	json_object_object_add(alert, "audit_head", jstr(head));
	json_object_get(alert); /* kept in case the match state cannot take it */
	r = matchstate_add(d->ms, key, distinct, e.category, alert, &rec);
	if (r < 0 && rec)
		log_error("cannot save the match in %s: %s; hashwatchd keeps running with "
			  "it in memory and saves it when it can", d->ms->path, strerror(-r));
	if (r < 0 && !rec && r != -EEXIST) {
		/* Not even in memory (the match state is full): no dedupe and no
		 * threshold for it, but the alert is not lost. */
		log_error("the match state is full (%d records): this match is alerted "
			  "without dedupe", MATCHSTATE_MAX_RECORDS);
		int w = write_alert(d, alert, NULL, count);
		if (w < 0)
			log_error("cannot write the alert for this match: %s", strerror(-w));
	}
	json_object_put(alert);
	d->n.matches++;
	char f_list[128], f_entry[160], f_model[48];
	snprintf(f_list, sizeof(f_list), "HASHWATCH_LIST_ID=%s", hwdb_list_id(ls->db));
	snprintf(f_entry, sizeof(f_entry), "HASHWATCH_ENTRY_ID=%s", e.id ? e.id : "");
	snprintf(f_model, sizeof(f_model), "HASHWATCH_MODEL=%s", hw_model_by_id(h->model)->name);
	const char *fields[] = { f_list, f_entry, f_model, NULL };
	log_full(LOG_WARNING, MSGID_MATCH, job->path, fields,
		 "match: list %s entry %s (%s distance %g, %s, region %s); category %s: "
		 "%u distinct match(es), alert threshold %u",
		 hwdb_list_id(ls->db), e.id ? e.id : "?", hw_model_by_id(h->model)->name,
		 h->distance, h->confirmed ? "confirmed" : "unconfirmed", hasher_region_name(h->region),
		 e.category, count, k);
}

static void match_all(struct daemon *d, const struct scan_job *job,
		      const struct hasher_result *res)
{
	struct hwdb_match m[POLICY_MAX_MATCHES];
	struct policy_hit hits[POLICY_MAX_MATCHES];

	for (size_t i = 0; i < d->lists.n; i++) {
		const struct list_slot *ls = &d->lists.v[i];
		int n = hwdb_match(ls->db, res, d->max_dist, (int)d->cfg->pdq_min_quality, m,
				   POLICY_MAX_MATCHES);
		if (n < 0) {
			log_error("list %s: matching failed: %s", hwdb_list_id(ls->db), strerror(-n));
			continue;
		}
		if ((size_t)n > POLICY_MAX_MATCHES) {
			log_warning("list %s: %d matches for one file, only the first %d are used",
				    hwdb_list_id(ls->db), n, POLICY_MAX_MATCHES);
			n = POLICY_MAX_MATCHES;
		}
		size_t nh = policy_group(m, (size_t)n, res, hits, POLICY_MAX_MATCHES);
		for (size_t k = 0; k < nh; k++)
			on_match(d, job, res, ls, &hits[k]);
	}
}

void scan_done(void *ud, void *jobp, int error, const struct hasher_result *res,
	       const char *reason)
{
	struct daemon *d = ud;
	struct scan_job *job = jobp;
	bool cache_it = true;

	if (d->stopping) {
		free(job); /* the pool is being stopped: nothing to report */
		return;
	}
	/* Digests may have come back even when the image did not decode:
	 * lists of exact digests still apply. */
	if (res && res->mask)
		match_all(d, job, res);
	switch (error) {
	case 0:
		d->n.scanned++;
		break;
	case -EMEDIUMTYPE:
		d->n.not_image++;
		break;
	case -EFBIG:
		skip(d, job, SKIP_TOO_LARGE, reason);
		break;
	case -EBADMSG:
		skip(d, job, SKIP_CORRUPT, reason);
		break;
	case POOL_ETIMEOUT:
		skip(d, job, SKIP_TIMEOUT, reason);
		cache_it = false;
		break;
	case POOL_ECRASH:
	case POOL_EPROTO:
		skip(d, job, SKIP_CRASH, reason);
		cache_it = false;
		break;
	default:
		skip(d, job, error == -EIO || error == -EACCES ? SKIP_UNREADABLE : SKIP_OTHER,
		     reason ? reason : strerror(-error));
		cache_it = false;
	}
	if (cache_it && !d->stopping) {
		int r = scancache_put(&d->cache, &job->st);
		if (r == 1)
			log_notice("the scan cache reached cache_entries (%u) and started over",
				   d->cfg->cache_entries);
	}
	free(job);
	scan_flush_alerts(d);
	scan_dispatch(d);
}

static bool valid_alert_id(const char *id)
{
	if (strlen(id) != ALERT_ID_HEX - 1)
		return false;
	for (; *id; id++)
		if (!strchr("0123456789abcdef", *id))
			return false;
	return true;
}

/* Sign the alert object and write it to the spool, then record that it
 * is there.  rec: its match-state record, or NULL when the match could
 * not be remembered (the alert still goes out).  0 or -errno. */
static int write_alert(struct daemon *d, json_object *alert, struct ms_record *rec,
		       unsigned count)
{
	char path[PATH_MAX], *text = NULL, id[ALERT_ID_HEX] = "";
	size_t len;
	json_object *v, *f;
	int r;

	if (json_object_object_get_ex(alert, "alert_id", &v))
		snprintf(id, sizeof(id), "%s", json_object_get_string(v));
	if (!valid_alert_id(id)) {
		/* the id names the spool file: never a path from the state file */
		log_error("a stored alert had a malformed id; it gets a new one");
		alert_new_id(id);
		json_object_object_add(alert, "alert_id", jstr(id));
	}
	json_object_object_add(alert, "match_count", json_object_new_int((int)count));
	r = alert_envelope(alert, &d->key, &text, &len);
	if (r < 0)
		return r;
	snprintf(path, sizeof(path), "%s/spool/%s.json", d->cfg->state_dir, id);
	r = hw_write_atomic(path, text, len, 0640);
	free(text);
	if (r < 0)
		return r;
	f = json_object_new_object();
	json_object_object_add(f, "alert_id", jstr(id));
	static const char *const carried[] = { "match_count", "audit_seq", "audit_head" };
	static const char *const as[] = { "matches", "audit_seq", "audit_head" };
	for (size_t i = 0; i < 3; i++)
		if (json_object_object_get_ex(alert, carried[i], &v))
			json_object_object_add(f, as[i], json_object_get(v));
	/* The audit record before the state line: a crash between the two
	 * queues the alert again (same id, same file) and repeats the record,
	 * whereas the other order could leave a queued alert unrecorded. */
	record_append(d, "alert_queued", f, true, NULL, NULL);
	json_object_put(f);
	if (rec) { /* this frees the alert object: nothing of it is used after */
		r = matchstate_alerted(d->ms, rec);
		if (r < 0)
			log_error("cannot save in %s that alert %s was queued: %s; hashwatchd "
				  "keeps running with it in memory and saves it when it can",
				  d->ms->path, id, strerror(-r));
	}
	char f_id[64];
	snprintf(f_id, sizeof(f_id), "HASHWATCH_ALERT_ID=%s", id);
	const char *fields[] = { f_id, NULL };
	log_full(LOG_WARNING, MSGID_ALERT_QUEUED, NULL, fields, "alert %s queued in %s/spool",
		 id, d->cfg->state_dir);
	d->n.alerts++;
	return 0;
}

/* Write one remembered alert to the spool.  0 or -errno. */
static int emit(struct daemon *d, struct ms_record *rec)
{
	return write_alert(d, rec->alert, rec, matchstate_count(d->ms, rec->category, NULL));
}

static int on_retry(sd_event_source *s, uint64_t usec, void *ud)
{
	(void)s;
	(void)usec;
	scan_flush_alerts(ud);
	return 0;
}

size_t scan_flush_alerts(struct daemon *d)
{
	static uint64_t backoff = RETRY_FIRST_USEC;
	struct ms_record *rec, *next;
	size_t waiting = 0;
	int first_error = 0, saved;

	for (rec = TAILQ_FIRST(&d->ms->pending); rec; rec = next) {
		next = TAILQ_NEXT(rec, link);
		if (matchstate_count(d->ms, rec->category, NULL) <
		    config_min_matches(d->cfg, rec->category))
			continue; /* below the category's threshold: not due */
		int r = rec->alert ? emit(d, rec) : 0;
		if (r < 0) {
			waiting++;
			if (!first_error)
				first_error = r;
		}
	}
	/* the alerts written just now may have saved the rest, or not */
	saved = matchstate_unsaved(d->ms) ? matchstate_sync(d->ms) : 0;
	if (!waiting && saved == 0) {
		backoff = RETRY_FIRST_USEC;
		if (d->retry_timer)
			sd_event_source_set_enabled(d->retry_timer, SD_EVENT_OFF);
		return 0;
	}
	if (waiting)
		log_full(LOG_ERR, MSGID_ALERT_RETRY, NULL, NULL,
			 "%zu alert(s) cannot be written to %s/spool: %s; hashwatchd keeps "
			 "running, keeps them in memory and tries again in %llu s", waiting,
			 d->cfg->state_dir, strerror(-first_error),
			 (unsigned long long)(backoff / 1000000));
	if (saved < 0)
		log_full(LOG_ERR, MSGID_ALERT_RETRY, NULL, NULL,
			 "%zu match record(s) cannot be saved in %s: %s; hashwatchd keeps "
			 "running, keeps them in memory and tries again in %llu s",
			 matchstate_unsaved(d->ms), d->ms->path, strerror(-saved),
			 (unsigned long long)(backoff / 1000000));
	if (!d->retry_timer)
		sd_event_add_time_relative(d->ev, &d->retry_timer, CLOCK_MONOTONIC, backoff,
					   100000, on_retry, d);
	else {
		sd_event_source_set_time_relative(d->retry_timer, backoff);
		sd_event_source_set_enabled(d->retry_timer, SD_EVENT_ONESHOT);
	}
	backoff = backoff * 2 > RETRY_MAX_USEC ? RETRY_MAX_USEC : backoff * 2;
	return waiting;
}
