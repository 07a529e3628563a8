/* daemon.c - hashwatchd's life: start (state, keys, lists, workers,
 * watches), READY, reload on SIGHUP, stop on SIGTERM, and everything the
 * event loop does between files: inotify events, crawls, settle timers,
 * STATUS lines, rescans of what cannot be watched, periodic audit counts.
 *
 * Idle means idle: every timer here is armed only while there is work
 * (files settling, counters changed, folders that cannot be watched,
 * alerts waiting for disk space); with nothing happening the only wake-up
 * is sd-event's watchdog ping, and only when systemd asks for one.
 */
#include <errno.h>
#include <fnmatch.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "daemon.h"
#include "heartbeat.h"
#include "log.h"
#include "memfit.h"
#include "notify.h"
#include "policy.h"
#include "record.h"

#define CRAWL_BUDGET 256               /* entries per loop iteration */
#define CRAWL_MAX_JOBS 100000
#define STATUS_DELAY_USEC 1000000ull   /* coalesce STATUS= updates */
#define COUNTS_DELAY_USEC (600 * 1000000ull)
#define EXPAND_DELAY_USEC 250000ull    /* coalesce anchor events */
#define MAX_UNWATCHED 4096

static const char *cache_path(const struct daemon *d, char *buf, size_t len)
{
	snprintf(buf, len, "%s/scan.cache", d->cfg->state_dir);
	return buf;
}

bool daemon_excluded(const struct daemon *d, const char *path)
{
	for (size_t i = 0; i < d->cfg->nexclude; i++)
		if (fnmatch(d->cfg->exclude[i], path, 0) == 0)
			return true;
	return false;
}

static uint64_t skipped_total(const struct counters *n)
{
	uint64_t s = 0;
	for (int i = 0; i < SKIP__MAX; i++)
		s += n->skipped[i];
	return s;
}

static void status_text(struct daemon *d, char *buf, size_t len)
{
	int k = snprintf(buf, len,
			 "%s: queued=%zu scanned=%llu skipped=%llu matched=%llu alerts=%llu "
			 "watches=%zu",
			 d->ready ? "watching" : "starting", queue_length(&d->queue),
			 (unsigned long long)(d->n.scanned + d->n.not_image),
			 (unsigned long long)skipped_total(&d->n), (unsigned long long)d->n.matches,
			 (unsigned long long)d->n.alerts, watch_count(&d->watch));
	if (d->nunwatched && k > 0 && (size_t)k < len)
		snprintf(buf + k, len - (size_t)k,
			 "; %zu folder(s) NOT WATCHED (%s), rescanned every %u s", d->nunwatched,
			 d->watch_limit_reported ? "out of inotify watches: raise "
						   "fs.inotify.max_user_watches"
						 : "unreadable",
			 d->cfg->rescan_interval_s);
}

static void send_status(struct daemon *d)
{
	char s[sizeof(d->status)];
	status_text(d, s, sizeof(s));
	if (strcmp(s, d->status) != 0) {
		memcpy(d->status, s, sizeof(s));
		notify_status(s);
	}
}

static int on_status(sd_event_source *s, uint64_t usec, void *ud)
{
	(void)s;
	(void)usec;
	send_status(ud);
	return 0;
}

static void save_cache(struct daemon *d)
{
	char p[PATH_MAX];
	int r;

	if (!d->cache.dirty)
		return;
	r = scancache_save(&d->cache, cache_path(d, p, sizeof(p)));
	if (r < 0)
		log_warning("cannot save the scan cache %s: %s (unchanged files will be "
			    "hashed again after a restart)", p, strerror(-r));
}

static int on_counts(sd_event_source *s, uint64_t usec, void *ud)
{
	(void)s;
	(void)usec;
	record_counts(ud);
	save_cache(ud);
	return 0;
}

static void arm_once(struct daemon *d, sd_event_source **src, uint64_t delay,
		     sd_event_time_handler_t fn)
{
	int on = SD_EVENT_OFF;
	if (*src && sd_event_source_get_enabled(*src, &on) >= 0 && on != SD_EVENT_OFF)
		return; /* already pending: coalesce */
	if (!*src) {
		if (sd_event_add_time_relative(d->ev, src, CLOCK_MONOTONIC, delay, delay / 10,
					       fn, d) < 0)
			log_error("cannot arm a timer");
		return;
	}
	sd_event_source_set_time_relative(*src, delay);
	sd_event_source_set_enabled(*src, SD_EVENT_ONESHOT);
}

void daemon_counters_changed(struct daemon *d)
{
	arm_once(d, &d->status_timer, STATUS_DELAY_USEC, on_status);
	arm_once(d, &d->counts_timer, COUNTS_DELAY_USEC, on_counts);
}

static int on_settle(sd_event_source *s, uint64_t usec, void *ud);

/* Arm the settle timer for the first settling file, or switch it off. */
static void arm_settle(struct daemon *d)
{
	uint64_t due = queue_next_due(&d->queue);
	if (due == UINT64_MAX) {
		sd_event_source_set_enabled(d->settle_timer, SD_EVENT_OFF);
		return;
	}
	sd_event_source_set_time(d->settle_timer, due);
	sd_event_source_set_enabled(d->settle_timer, SD_EVENT_ONESHOT);
}

static int on_settle(sd_event_source *s, uint64_t usec, void *ud)
{
	struct daemon *d = ud;
	(void)s;
	queue_settle(&d->queue, usec);
	d->n.vanished = d->queue.vanished;
	arm_settle(d);
	scan_dispatch(d);
	return 0;
}

static void kick_crawl(struct daemon *d)
{
	if (!d->crawl.blocked)
		sd_event_source_set_enabled(d->crawl_defer, SD_EVENT_ON);
}

static int on_crawl(sd_event_source *s, void *ud)
{
	struct daemon *d = ud;
	(void)s;
	if (!crawl_step(&d->crawl, CRAWL_BUDGET))
		sd_event_source_set_enabled(d->crawl_defer, SD_EVENT_OFF);
	arm_settle(d);
	scan_dispatch(d);
	return 0;
}

/* Count root walks of one crawl for its crawl_start / crawl_done records;
 * a crawl asked for while one runs joins it. */
static void session_add(struct daemon *d, const char *reason, unsigned walks)
{
	if (!walks)
		return;
	if (d->session.pending == 0) {
		memset(&d->session.st, 0, sizeof(d->session.st));
		d->session.reason = reason;
		d->session.cached_before = d->n.cached;
		sd_event_now(d->ev, CLOCK_MONOTONIC, &d->session.start_usec);
	}
	d->session.pending += walks;
	record_crawl_start(d, reason, d->roots.nroot);
}

static void add_root_walks(struct daemon *d, enum crawl_prio prio, const char *reason)
{
	unsigned added = 0;
	for (size_t i = 0; i < d->roots.nroot; i++) {
		int r = crawl_add(&d->crawl, d->roots.root[i], -1, WN_ROOT, prio, true, false);
		if (r < 0)
			log_error("cannot queue a walk of %s: %s", d->roots.root[i], strerror(-r));
		added += r == 1;
	}
	session_add(d, reason, added);
	kick_crawl(d);
}

void daemon_rescan_roots(struct daemon *d, enum crawl_prio prio, const char *reason)
{
	log_notice("rescanning %zu watched folder(s) (%s)", d->roots.nroot, reason);
	add_root_walks(d, prio, reason);
}

/* ---- inotify callbacks ---- */

static void queue_overrun(struct daemon *d)
{
	d->n.queue_full++;
	if (!d->rescan_wanted) {
		log_warning("the scan queue is full (queue_length %u): further changes will "
			    "be found by a rescan once it drains", d->cfg->queue_length);
		record_skip(d, "queue_full", d->cfg->queue_length);
	}
	d->rescan_wanted = true;
}

static void w_file(void *ud, const char *path, enum watch_file_event ev)
{
	struct daemon *d = ud;
	uint64_t now = 0;
	(void)ev;

	if (daemon_excluded(d, path))
		return;
	sd_event_now(d->ev, CLOCK_MONOTONIC, &now);
	int r = queue_push(&d->queue, path, QUEUE_EVENT, now);
	if (r == -ENOSPC)
		queue_overrun(d);
}

static void w_dir(void *ud, const char *path, struct watch_node *parent)
{
	struct daemon *d = ud;

	if (daemon_excluded(d, path))
		return;
	if (crawl_add(&d->crawl, path, parent->wd, 0, CRAWL_HIGH, false, false) < 0)
		queue_overrun(d);
	kick_crawl(d);
}

static void w_overflow(void *ud)
{
	struct daemon *d = ud;
	d->n.overflows++;
	log_full(LOG_WARNING, MSGID_OVERFLOW, NULL, NULL,
		 "the kernel dropped file events (inotify queue overflow); rescanning");
	record_error(d, "watch", "inotify queue overflow: file events were lost; "
		     "rescanning the watched folders");
	daemon_rescan_roots(d, CRAWL_HIGH, "overflow");
}

static int on_expand(sd_event_source *s, uint64_t usec, void *ud);

static void w_anchor(void *ud)
{
	struct daemon *d = ud;
	arm_once(d, &d->expand_timer, EXPAND_DELAY_USEC, on_expand);
}

static int on_inotify(sd_event_source *s, int fd, uint32_t revents, void *ud)
{
	struct daemon *d = ud;
	(void)s;
	(void)fd;
	(void)revents;
	int r = watch_process(&d->watch);
	if (r < 0)
		log_error("reading file events failed: %s", strerror(-r));
	arm_settle(d);
	scan_dispatch(d);
	return 0;
}

/* ---- crawl callbacks ---- */

static bool c_excluded(void *ud, const char *path)
{
	return daemon_excluded(ud, path);
}

static int c_file(void *ud, const char *path, const struct stat *st, enum crawl_prio prio)
{
	struct daemon *d = ud;
	uint64_t now = 0;
	int r;

	if (scancache_fresh(&d->cache, st)) {
		d->n.cached++;
		return 0;
	}
	sd_event_now(d->ev, CLOCK_MONOTONIC, &now);
	/* Files found by a rescan after lost events may still be being
	 * written: they settle like event files. */
	r = queue_push(&d->queue, path, prio == CRAWL_HIGH ? QUEUE_EVENT : QUEUE_CRAWL, now);
	return r == -ENOSPC ? -ENOSPC : r > 0;
}

static int on_rescan(sd_event_source *s, uint64_t usec, void *ud);

static void c_dir_error(void *ud, const char *path, int err, bool watch)
{
	struct daemon *d = ud;
	char **nv;

	for (size_t i = 0; i < d->nunwatched; i++)
		if (strcmp(d->unwatched[i], path) == 0)
			return; /* reported already; its rescan is due */
	if (watch && err == -ENOSPC) {
		if (!d->watch_limit_reported) {
			log_full(LOG_ERR, MSGID_WATCH_LIMIT, path, NULL,
				 "out of inotify watches (fs.inotify.max_user_watches): folders "
				 "from here on are NOT watched and are rescanned every %u s instead; "
				 "raise the limit", d->cfg->rescan_interval_s);
			record_error(d, "watch", "out of inotify watches: some folders are "
				     "rescanned every %u s instead of watched",
				     d->cfg->rescan_interval_s);
			d->watch_limit_reported = true;
		}
	} else if (watch) {
		log_full(LOG_WARNING, MSGID_ERROR, path, NULL, "cannot watch folder: %s; it is "
			 "rescanned every %u s", strerror(-err), d->cfg->rescan_interval_s);
	} else {
		log_full(LOG_WARNING, MSGID_ERROR, path, NULL, "cannot read folder: %s; "
			 "hashwatchd keeps running, watches the rest and tries this folder "
			 "again every %u s", strerror(-err), d->cfg->rescan_interval_s);
	}
	if (d->nunwatched >= MAX_UNWATCHED)
		return; /* the roots' rescans cover the rest */
	nv = realloc(d->unwatched, (d->nunwatched + 1) * sizeof(*nv));
	if (!nv)
		return;
	d->unwatched = nv;
	if (!(nv[d->nunwatched] = strdup(path)))
		return;
	d->nunwatched++;
	arm_once(d, &d->rescan_timer, (uint64_t)d->cfg->rescan_interval_s * 1000000ull, on_rescan);
	daemon_counters_changed(d);
}

static int on_rescan(sd_event_source *s, uint64_t usec, void *ud)
{
	struct daemon *d = ud;
	char **v = d->unwatched;
	size_t n = d->nunwatched;
	(void)s;
	(void)usec;

	/* Start from an empty list: what still fails comes back into it. */
	d->unwatched = NULL;
	d->nunwatched = 0;
	d->watch_limit_reported = false;
	for (size_t i = 0; i < n; i++) {
		crawl_add(&d->crawl, v[i], -1, WN_TREE, CRAWL_LOW, false, false);
		free(v[i]);
	}
	free(v);
	kick_crawl(d);
	return 0;
}

/* The heartbeat for the uplink to send (heartbeat.h). */
static void write_heartbeat(struct daemon *d)
{
	struct heartbeat_list lists[HEARTBEAT_MAX_LISTS];
	char spool[PATH_MAX];
	struct heartbeat hb = {
		.device_id = d->cfg->device_id,
		.scanner_version = HW_VERSION,
		.lists = lists,
		.nlists = d->lists.n < HEARTBEAT_MAX_LISTS ? d->lists.n : HEARTBEAT_MAX_LISTS,
		.audit_seq = d->audit ? auditlog_seq(d->audit) : 0,
		.audit_head = d->audit ? auditlog_head(d->audit) : NULL,
	};
	int r;

	for (size_t i = 0; i < hb.nlists; i++)
		lists[i] = (struct heartbeat_list){ hwdb_list_id(d->lists.v[i].db),
						    hwdb_version(d->lists.v[i].db),
						    d->lists.v[i].digest_hex };
	clock_gettime(CLOCK_REALTIME, &hb.time);
	snprintf(spool, sizeof(spool), "%s/spool", d->cfg->state_dir);
	r = heartbeat_spool_depth(spool, &hb.spool_depth);
	if (r == 0)
		r = heartbeat_write(spool, &hb, &d->key);
	if (r < 0)
		log_warning("cannot write the heartbeat %s/%s: %s; the response team will see "
			    "this laptop go quiet", spool, HEARTBEAT_FILE, strerror(-r));
}

static int on_heartbeat(sd_event_source *s, uint64_t usec, void *ud)
{
	(void)usec;
	write_heartbeat(ud);
	sd_event_source_set_time_relative(s, HEARTBEAT_INTERVAL_USEC);
	sd_event_source_set_enabled(s, SD_EVENT_ONESHOT);
	return 0;
}

static void become_ready(struct daemon *d)
{
	d->ready = true;
	/* The first heartbeat now, then every few minutes; the wide accuracy
	 * lets sd-event put that wake-up on the per-boot aligned instant it
	 * shares with the watchdog ping and other timers. */
	write_heartbeat(d);
	if (!d->heartbeat_timer &&
	    sd_event_add_time_relative(d->ev, &d->heartbeat_timer, CLOCK_MONOTONIC,
				       HEARTBEAT_INTERVAL_USEC, HEARTBEAT_ACCURACY_USEC,
				       on_heartbeat, d) < 0)
		log_error("cannot arm the heartbeat timer; no heartbeat after this one");
	add_root_walks(d, CRAWL_LOW, "startup");
	status_text(d, d->status, sizeof(d->status));
	notify_ready(d->status);
	log_full(LOG_INFO, MSGID_READY, NULL, NULL,
		 "ready: %zu list(s), %zu root(s), %zu folder(s) watched", d->lists.n,
		 d->roots.nroot, watch_count(&d->watch));
}

static void c_done(void *ud, const char *path, const struct crawl_stats *st, bool dirs_only)
{
	struct daemon *d = ud;
	struct crawl_stats *t = &d->session.st;
	uint64_t now = 0;

	(void)path;
	if (dirs_only) {
		if (d->startup_jobs > 0 && --d->startup_jobs == 0 && !d->ready)
			become_ready(d);
		return;
	}
	t->dirs += st->dirs;
	t->files += st->files;
	t->queued += st->queued;
	t->unreadable += st->unreadable;
	t->unwatched += st->unwatched;
	t->too_deep += st->too_deep;
	if (d->session.pending == 0 || --d->session.pending > 0)
		return;
	sd_event_now(d->ev, CLOCK_MONOTONIC, &now);
	record_crawl_done(d, d->session.reason, t, d->n.cached - d->session.cached_before,
			  (now - d->session.start_usec) / 1000);
	log_full(LOG_INFO, MSGID_CRAWL, NULL, NULL,
		 "crawl (%s) done: %llu folders, %llu files, %llu to hash%s", d->session.reason,
		 (unsigned long long)t->dirs, (unsigned long long)t->files,
		 (unsigned long long)t->queued,
		 t->too_deep ? "; folders deeper than max_depth were skipped" : "");
	save_cache(d);
}

/* ---- roots ---- */

static bool has_root(const struct roots *r, const char *p)
{
	for (size_t i = 0; i < r->nroot; i++)
		if (strcmp(r->root[i], p) == 0)
			return true;
	return false;
}

/* Expand the globs again and adjust watches: new roots are crawled
 * (files in them are new to us: HIGH), vanished ones unwatched. */
static void expand_roots(struct daemon *d, bool startup)
{
	struct roots nr = { 0 };
	int r = roots_expand(d->cfg->watch, d->cfg->nwatch, &nr);

	if (r < 0) {
		log_error("cannot expand the watch patterns: %s", strerror(-r));
		return;
	}
	if (nr.truncated)
		log_warning("the watch patterns match more than %d folders; %zu left out",
			    ROOTS_MAX, nr.truncated);
	watch_mark_begin(&d->watch);
	for (size_t i = 0; i < nr.nanchor; i++) {
		r = watch_add(&d->watch, -1, nr.anchor[i], NULL, nr.anchor[i], WN_ANCHOR, NULL);
		if (r == -ENOSPC)
			c_dir_error(d, nr.anchor[i], r, true);
	}
	for (size_t i = 0; i < nr.nroot; i++) {
		bool excluded = daemon_excluded(d, nr.root[i]);
		/* A root known before keeps its role and its watched tree, unless
		 * its folder was replaced meanwhile (deleted and made again
		 * before this expansion): then it is new. */
		if (!startup && has_root(&d->roots, nr.root[i]) && !excluded &&
		    watch_add(&d->watch, -1, nr.root[i], NULL, nr.root[i], WN_ROOT | WN_TREE,
			      NULL) == 0)
			continue;
		if (excluded)
			continue;
		if (startup) {
			d->startup_jobs += crawl_add(&d->crawl, nr.root[i], -1, WN_ROOT, CRAWL_HIGH,
						     true, true) == 1;
		} else {
			log_info("new watched folder %s", nr.root[i]);
			session_add(d, "new_root", crawl_add(&d->crawl, nr.root[i], -1, WN_ROOT,
							     CRAWL_HIGH, true, false) == 1);
		}
	}
	if (!startup)
		watch_mark_end(&d->watch, WN_ROOT | WN_ANCHOR);
	roots_free(&d->roots);
	d->roots = nr;
	kick_crawl(d);
	daemon_counters_changed(d);
}

static int on_expand(sd_event_source *s, uint64_t usec, void *ud)
{
	(void)s;
	(void)usec;
	expand_roots(ud, false);
	return 0;
}

/* ---- lists ---- */

/* Warn when the lists do not fit in the service's memory limits: matches
 * would then wait on the disk (memfit.h).  Without a cgroup v2 memory
 * controller there is nothing to check. */
static void check_memory(const struct daemon *d)
{
	struct memfit_limits l;
	uint64_t need = MEMFIT_HEADROOM;
	char msg[512];

	for (size_t i = 0; i < d->lists.n; i++)
		need += d->lists.v[i].size;
	if (memfit_read("/proc/self/mountinfo", "/proc/self/cgroup", &l) == 0 &&
	    memfit_short(need, &l, msg, sizeof(msg)))
		log_warning("%s", msg);
}

static void on_list_report(void *ud, const struct list_report *rep)
{
	struct daemon *d = ud;

	record_list(d, rep);
	switch (rep->outcome) {
	case LIST_LOADED:
		log_full(LOG_NOTICE, MSGID_LIST_LOADED, NULL, NULL,
			 "list %s version %llu loaded from %s (%zu entries)",
			 hwdb_list_id(rep->db), (unsigned long long)hwdb_version(rep->db),
			 rep->path, hwdb_entry_count(rep->db));
		break;
	case LIST_KEPT:
		break;
	case LIST_REFUSED:
		if (rep->db)
			log_full(LOG_ERR, MSGID_LIST_REFUSED, NULL, NULL,
				 "list %s refused: %s; keeping version %llu of list %s in use",
				 rep->path, rep->reason, (unsigned long long)hwdb_version(rep->db),
				 hwdb_list_id(rep->db));
		else
			log_full(LOG_ERR, MSGID_LIST_REFUSED, NULL, NULL, "list %s refused: %s",
				 rep->path, rep->reason);
		break;
	case LIST_REMOVED:
		log_notice("list %s (%s) is no longer in the list folder: unloaded",
			   hwdb_list_id(rep->db), rep->path);
		break;
	}
}

/* Lists, thresholds, models and the cache tag changed together: files
 * checked under the old ones must be checked again. */
static void lists_changed(struct daemon *d, const char *why)
{
	uint8_t tag[LISTS_TAG_BYTES];

	scan_models(d);
	lists_tag(&d->lists, d->cfg, tag);
	if (memcmp(tag, d->tag, sizeof(tag)) == 0)
		return;
	memcpy(d->tag, tag, sizeof(tag));
	scancache_reset(&d->cache, tag);
	daemon_rescan_roots(d, CRAWL_LOW, why);
}

/* ---- worker sandbox (sandbox.h) ---- */

/* A worker made a call its seccomp filter denies: a decoder bug at best,
 * an exploit at worst.  The pool has logged it and the file is skipped
 * with the reason; the audit log and the counters get it too. */
static void pool_violation(void *ud, const char *msg)
{
	struct daemon *d = ud;
	d->n.seccomp_kills++;
	record_error(d, "sandbox", "%s; the file is skipped and the worker replaced", msg);
	daemon_counters_changed(d);
}

/* Workers load the OpenCV module only when a list uses its models. */
static bool want_opencv(const struct daemon *d)
{
	for (int id = 1; id < HW_MODEL__MAX; id++) {
		const struct hw_model_info *m = hw_model_by_id((enum hw_model_id)id);
		if ((d->models & (1u << id)) && m && m->metric == HW_METRIC_OPENCV)
			return true;
	}
	return false;
}

static void sandbox_opts(struct daemon *d)
{
	pool_set_sandbox(&d->pool, d->cfg->worker_memory, d->cfg->worker_files, want_opencv(d));
}

/* ---- reload ---- */

static void reload(struct daemon *d)
{
	struct config *nc = NULL;
	struct list_set nl = { 0 };
	char err[512];
	int r;

	notify_reloading();
	log_full(LOG_NOTICE, MSGID_RELOAD, NULL, NULL, "reloading %s", d->config_path);
	r = config_load(d->config_path, &nc, err, sizeof(err));
	if (r == 0 && strcmp(nc->state_dir, d->cfg->state_dir) != 0) {
		snprintf(err, sizeof(err), "%s: [state] dir cannot change while running "
			 "(restart the service to move the state)", d->config_path);
		r = -EINVAL;
	}
	if (r < 0) {
		log_full(LOG_ERR, MSGID_CONFIG_BAD, NULL, NULL,
			 "new configuration refused, keeping the one in use: %s", err);
		record_error(d, "config", "new configuration refused, the previous one is "
			     "kept: %s", err);
		goto done;
	}
	r = lists_load(nc, &d->lists, &nl, on_list_report, d, err, sizeof(err));
	if (r < 0) {
		/* d->lists is untouched: carry on with it */
		log_full(LOG_ERR, MSGID_LIST_REFUSED, NULL, NULL,
			 "%s; keeping the %zu list(s) in use", err, d->lists.n);
		record_error(d, "lists", "%s; the %zu list(s) in use are kept", err, d->lists.n);
	} else {
		d->lists = nl;
		lists_accept(nc, &d->lists);
		check_memory(d);
	}
	if (nc->workers != d->cfg->workers)
		log_notice("[limits] workers changes at the next restart (now %u)", d->cfg->workers);
	config_free(d->cfg);
	d->cfg = nc;
	record_config(d);
	d->queue.max = nc->queue_length;
	d->queue.index.max_items = nc->queue_length;
	d->queue.settle_usec = (uint64_t)nc->settle_ms * 1000;
	d->crawl.max_depth = nc->max_depth;
	d->cache.max = nc->cache_entries;
	d->cache.index.max_items = nc->cache_entries;
	pool_set_limits(&d->pool, (uint64_t)nc->decode_timeout_ms * 1000, nc->cpu_budget,
			nc->max_file_size, nc->max_pixels);
	if (devkey_load_or_create(nc->state_dir, nc->device_id, &d->key, &r, err,
				  sizeof(err)) < 0)
		log_error("%s", err);
	lists_changed(d, "list_update");
	sandbox_opts(d);
	expand_roots(d, false);
	scan_flush_alerts(d); /* thresholds may have changed */
done:
	status_text(d, d->status, sizeof(d->status));
	notify_ready(d->status);
}

/* ---- signals ---- */

static int on_signal(sd_event_source *s, const struct signalfd_siginfo *si, void *ud)
{
	struct daemon *d = ud;
	(void)s;
	if (si->ssi_signo == SIGHUP) {
		reload(d);
		return 0;
	}
	d->stop_reason = si->ssi_signo == SIGTERM ? "SIGTERM" : "SIGINT";
	log_notice("stopping on %s", d->stop_reason);
	sd_event_exit(d->ev, 0);
	return 0;
}

static void pool_log(void *ud, int prio, const char *msg)
{
	(void)ud;
	log_full(prio, MSGID_WORKER, NULL, NULL, "%s", msg);
}

static void pool_ready(void *ud)
{
	scan_dispatch(ud);
}

/* ---- start and stop ---- */

static int mkdir_state(const char *dir, const char *sub, mode_t mode, char *err, size_t len)
{
	char p[PATH_MAX];
	struct stat st;

	snprintf(p, sizeof(p), "%s%s%s", dir, sub ? "/" : "", sub ? sub : "");
	if (mkdir(p, mode) < 0 && errno != EEXIST) {
		snprintf(err, len, "cannot create %s: %s", p, strerror(errno));
		return -errno;
	}
	if (lstat(p, &st) < 0 || !S_ISDIR(st.st_mode)) {
		snprintf(err, len, "%s is not a folder", p);
		return -ENOTDIR;
	}
	return 0;
}

static int open_audit(struct daemon *d, char *err, size_t len)
{
	char p[PATH_MAX];
	int r;

	snprintf(p, sizeof(p), "%s/audit.log", d->cfg->state_dir);
	r = record_open(d, p);
	if (r == -EBUSY)
		snprintf(err, len, "the audit log %s is held by another process (is another "
			 "hashwatchd running with the same state folder?)", p);
	else if (r < 0)
		snprintf(err, len, "cannot open the audit log %s: %s", p, strerror(-r));
	return r;
}

static int start(struct daemon *d, char *err, size_t len)
{
	struct pool_opts po;
	static char a0[] = "hashwatchd", a1[] = "--worker";
	static char *wargv[] = { a0, a1, NULL };
	char p[PATH_MAX];
	bool loaded;
	int r, created;

	if ((r = mkdir_state(d->cfg->state_dir, NULL, 0750, err, len)) < 0 ||
	    (r = mkdir_state(d->cfg->state_dir, "spool", 0750, err, len)) < 0)
		return r;
	if ((r = open_audit(d, err, len)) < 0)
		return r;
	record_start(d);
	record_config(d);
	r = devkey_load_or_create(d->cfg->state_dir, d->cfg->device_id, &d->key, &created, err, len);
	if (r < 0)
		return r;
	if (created)
		log_notice("created the device key %s/device.key; enroll %s/device.pub with "
			   "the receiver", d->cfg->state_dir, d->cfg->state_dir);
	snprintf(p, sizeof(p), "%s/matches.jsonl", d->cfg->state_dir);
	r = matchstate_open(p, &d->ms, err, len);
	if (r < 0)
		return r;
	if (d->ms->bad_lines)
		log_warning("%s: %llu damaged line(s) skipped (e.g. cut short by a crash)", p,
			    (unsigned long long)d->ms->bad_lines);
	r = lists_load(d->cfg, NULL, &d->lists, on_list_report, d, err, len);
	if (r < 0)
		return r;
	lists_accept(d->cfg, &d->lists);
	check_memory(d);
	scan_models(d);
	lists_tag(&d->lists, d->cfg, d->tag);
	r = scancache_init(&d->cache, d->cfg->cache_entries, d->tag);
	if (r < 0)
		return r;
	r = scancache_load(&d->cache, cache_path(d, p, sizeof(p)), &loaded);
	if (r < 0)
		log_warning("the scan cache %s is damaged (%s); every file is checked again",
			    p, strerror(-r));
	r = queue_init(&d->queue, d->cfg->queue_length, d->cfg->settle_ms);
	if (r < 0)
		return r;
	po = (struct pool_opts){
		.workers = d->cfg->workers, .exe = "/proc/self/exe", .argv = wargv,
		.timeout_usec = (uint64_t)d->cfg->decode_timeout_ms * 1000,
		.cpu_budget = d->cfg->cpu_budget, .max_bytes = d->cfg->max_file_size,
		.max_pixels = d->cfg->max_pixels, .done = scan_done, .ready = pool_ready,
		.log = pool_log, .violation = pool_violation, .ud = d,
		.worker_memory = d->cfg->worker_memory, .worker_files = d->cfg->worker_files,
		.worker_opencv = want_opencv(d),
	};
	r = pool_start(&d->pool, d->ev, &po);
	if (r < 0) {
		snprintf(err, len, "cannot start the worker processes: %s", strerror(-r));
		return r;
	}
	struct watch_callbacks wcb = { w_file, w_dir, w_overflow, w_anchor, d };
	r = watch_init(&d->watch, &wcb);
	if (r < 0) {
		snprintf(err, len, "cannot use inotify: %s", strerror(-r));
		return r;
	}
	struct crawl_callbacks ccb = { c_excluded, c_file, c_dir_error, c_done, d };
	crawl_init(&d->crawl, &d->watch, &ccb, d->cfg->max_depth, CRAWL_MAX_JOBS);
	if ((r = sd_event_add_io(d->ev, &d->inotify_src, d->watch.fd, EPOLLIN, on_inotify, d)) < 0 ||
	    (r = sd_event_add_defer(d->ev, &d->crawl_defer, on_crawl, d)) < 0 ||
	    (r = sd_event_source_set_priority(d->crawl_defer, SD_EVENT_PRIORITY_IDLE)) < 0 ||
	    (r = sd_event_add_time(d->ev, &d->settle_timer, CLOCK_MONOTONIC, UINT64_MAX,
				   1000, on_settle, d)) < 0 ||
	    (r = sd_event_add_signal(d->ev, NULL, SIGTERM, on_signal, d)) < 0 ||
	    (r = sd_event_add_signal(d->ev, NULL, SIGINT, on_signal, d)) < 0 ||
	    (r = sd_event_add_signal(d->ev, NULL, SIGHUP, on_signal, d)) < 0) {
		snprintf(err, len, "cannot set up the event loop: %s", strerror(-r));
		return r;
	}
	sd_event_source_set_enabled(d->crawl_defer, SD_EVENT_OFF);
	sd_event_source_set_enabled(d->settle_timer, SD_EVENT_OFF);
	/* WATCHDOG=1 from a timer of the loop, only if WatchdogSec= is set */
	sd_event_set_watchdog(d->ev, true);
	expand_roots(d, true);
	if (d->roots.nroot == 0)
		log_warning("no folder matches the watch patterns yet; waiting for one to appear");
	if (d->startup_jobs == 0)
		become_ready(d);
	scan_flush_alerts(d); /* alerts left over from the last run */
	if (receipts_start(d, err, len) < 0) {
		log_error("%s: deliveries confirmed by the uplink are not recorded in the audit "
			  "log (the uplink's own log has them)", err);
		record_error(d, "receipts", "%s", err);
		err[0] = '\0';
	}
	return 0;
}

static void stop(struct daemon *d)
{
	d->stopping = true;
	notify_stopping();
	pool_stop(&d->pool);
	if (d->cfg && d->cache.index.slots)
		save_cache(d);
	if (d->ms && matchstate_unsaved(d->ms) && matchstate_sync(d->ms) < 0)
		log_error("%zu match record(s) could not be saved in %s before the stop: "
			  "those files may alert a second time after the next start",
			  matchstate_unsaved(d->ms), d->ms->path);
	if (d->cfg) {
		record_counts(d);
		record_stop(d, d->stop_reason ? d->stop_reason : "error");
	}
	receipts_stop(&d->receipts);
	auditlog_close(d->audit);
	crawl_free(&d->crawl);
	watch_free(&d->watch);
	queue_free(&d->queue);
	scancache_free(&d->cache);
	matchstate_close(d->ms);
	lists_free(&d->lists);
	roots_free(&d->roots);
	for (size_t i = 0; i < d->nunwatched; i++)
		free(d->unwatched[i]);
	free(d->unwatched);
	devkey_wipe(&d->key);
	sd_event_source_disable_unref(d->inotify_src);
	sd_event_source_disable_unref(d->crawl_defer);
	sd_event_source_disable_unref(d->settle_timer);
	sd_event_source_disable_unref(d->status_timer);
	sd_event_source_disable_unref(d->counts_timer);
	sd_event_source_disable_unref(d->heartbeat_timer);
	sd_event_source_disable_unref(d->expand_timer);
	sd_event_source_disable_unref(d->rescan_timer);
	sd_event_source_disable_unref(d->retry_timer);
	config_free(d->cfg);
	free(d->config_path);
	sd_event_unref(d->ev);
}

int daemon_run(const char *config_path, struct config *cfg)
{
	struct daemon d;
	char err[2 * PATH_MAX] = "";
	sigset_t ss;
	int r;

	memset(&d, 0, sizeof(d));
	d.cfg = cfg;
	d.watch.fd = -1;
	d.receipts.dirfd = d.receipts.infd = -1;
	d.config_path = strdup(config_path);
	/* sd-event reads these through a signalfd; SIGCHLD for the workers */
	sigemptyset(&ss);
	sigaddset(&ss, SIGTERM);
	sigaddset(&ss, SIGINT);
	sigaddset(&ss, SIGHUP);
	sigaddset(&ss, SIGCHLD);
	sigprocmask(SIG_BLOCK, &ss, NULL);
	r = sd_event_new(&d.ev);
	if (r < 0 || !d.config_path) {
		log_error("cannot set up the event loop: %s", strerror(r < 0 ? -r : ENOMEM));
		config_free(cfg);
		free(d.config_path);
		return 2;
	}
	log_full(LOG_INFO, MSGID_START, NULL, NULL, "hashwatchd %s starting with %s (device %s)",
		 HW_VERSION, config_path, cfg->device_id);
	r = start(&d, err, sizeof(err));
	if (r < 0) {
		log_full(LOG_ERR, MSGID_ERROR, NULL, NULL, "refusing to start: %s",
			 err[0] ? err : strerror(-r));
		record_error(&d, "start", "refused to start: %s", err[0] ? err : strerror(-r));
		stop(&d);
		return 2;
	}
	r = sd_event_loop(d.ev);
	log_full(LOG_INFO, MSGID_STOP, NULL, NULL, "stopping: %llu files checked, %llu alerts",
		 (unsigned long long)(d.n.scanned + d.n.not_image), (unsigned long long)d.n.alerts);
	stop(&d);
	return r < 0 ? 2 : 0;
}
