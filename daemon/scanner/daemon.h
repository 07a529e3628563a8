/* daemon.h - hashwatchd's state and its two halves: daemon.c (start,
 * reload, stop, signals, systemd, timers, watching and crawling) and
 * scan.c (the hot path: queue -> open -> worker -> match -> policy ->
 * alert).  One process, one sd-event loop, no threads; workers are
 * separate processes (pool.h).
 */
#ifndef HW_SCANNER_DAEMON_H
#define HW_SCANNER_DAEMON_H

#include <stdbool.h>
#include <stdint.h>

#include <systemd/sd-event.h>

#include "auditlog.h"
#include "cache.h"
#include "config.h"
#include "crawl.h"
#include "devkey.h"
#include "lists.h"
#include "matchstate.h"
#include "pool.h"
#include "queue.h"
#include "receipts.h"
#include "roots.h"
#include "watch.h"

/* Why a file was not (fully) checked; each has a counter and a name in
 * the STATUS line, the journal and the audit log's scan counts. */
enum skip_reason {
	SKIP_TOO_LARGE,  /* over max_file_size or max_pixels */
	SKIP_CORRUPT,    /* the decoder refused the bytes */
	SKIP_TIMEOUT,    /* decode_timeout_ms */
	SKIP_CRASH,      /* the worker died or broke the protocol */
	SKIP_UNREADABLE, /* open/read failed */
	SKIP_OTHER,
	SKIP__MAX
};

struct counters {
	uint64_t scanned;        /* hashed and matched against the lists */
	uint64_t not_image;      /* digests only: not a supported image */
	uint64_t cached;         /* unchanged since checked against these lists */
	uint64_t skipped[SKIP__MAX];
	uint64_t matches;        /* new (file, entry) matches */
	uint64_t alerts;         /* alert files written to the spool */
	uint64_t duplicates;     /* matches already alerted */
	uint64_t vanished;       /* gone before they could be opened */
	uint64_t queue_full;     /* events turned into rescans */
	uint64_t overflows;      /* IN_Q_OVERFLOW */
	uint64_t seccomp_kills;  /* workers killed by their sandbox */
};

struct scan_job {
	struct stat st;
	bool background;
	char path[];
};

struct daemon {
	sd_event *ev;
	char *config_path;
	struct config *cfg;

	struct list_set lists;
	uint8_t tag[LISTS_TAG_BYTES];
	double max_dist[HW_MODEL__MAX];
	uint32_t models;            /* what workers compute */

	struct watch watch;
	struct crawl crawl;
	struct queue queue;
	struct scancache cache;
	struct pool pool;
	struct matchstate *ms;
	struct auditlog *audit;
	struct devkey key;
	struct roots roots;
	struct receipts receipts;   /* from the uplink (receipts.h) */

	sd_event_source *inotify_src;
	sd_event_source *settle_timer;
	sd_event_source *crawl_defer;
	sd_event_source *status_timer;
	sd_event_source *expand_timer;
	sd_event_source *rescan_timer;
	sd_event_source *retry_timer;
	sd_event_source *counts_timer;
	sd_event_source *heartbeat_timer;

	/* folders that could not be watched or read: rescanned every
	 * rescan_interval while any is left */
	char **unwatched;
	size_t nunwatched;
	bool watch_limit_reported;

	unsigned startup_jobs;      /* folder-watching walks before READY */
	struct {                    /* crawl of the roots, for its audit records */
		const char *reason;
		unsigned pending;   /* root walks not finished */
		struct crawl_stats st;
		uint64_t cached_before;
		uint64_t start_usec;
	} session;
	const char *stop_reason;
	uint64_t started_s, counts_s; /* monotonic seconds: start, last counts */
	bool ready;
	bool rescan_wanted;         /* the queue was full: rescan the roots */
	bool stopping;
	struct counters n, n_logged;
	char status[512];
};

/* daemon.c */
int daemon_run(const char *config_path, struct config *cfg);
void daemon_counters_changed(struct daemon *d);
bool daemon_excluded(const struct daemon *d, const char *path);
/* Walk every root again; reason is one of the crawl_start reasons of
 * docs/audit-log.md (startup, list_update, overflow, queue_full, ...). */
void daemon_rescan_roots(struct daemon *d, enum crawl_prio prio, const char *reason);

/* scan.c */
void scan_dispatch(struct daemon *d);
void scan_done(void *ud, void *job, int error, const struct hasher_result *res,
	       const char *reason);
/* Write the alerts that are due (threshold reached, or left over from a
 * stop or a full disk).  Returns how many are still waiting. */
size_t scan_flush_alerts(struct daemon *d);
void scan_models(struct daemon *d);
const char *scan_skip_name(enum skip_reason r);

#endif
