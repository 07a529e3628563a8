/* uplink.h - the delivery engine of hashwatch-uplink: take alert files
 * from the spool oldest first, send each to the receiver, delete it only
 * after a 2xx, set it aside in spool/rejected/ with the reason when the
 * receiver refuses it, back off (with jitter, honouring Retry-After) when
 * the receiver cannot be reached or is busy, and send the scanner's
 * heartbeat when it is new.  Every delivery, refusal, heartbeat and the
 * start of a run of failures goes into the uplink's own hash-chained audit
 * log, <[uplink] state_dir>/uplink-audit.log.
 *
 * The engine does one unit of work per uplink_step() call and never
 * sleeps, so that the same code serves the event loop (hashwatch-uplink,
 * which calls it from a deferred event and keeps its watchdog fed between
 * files) and --once (which calls it until it is idle or must wait).
 */
#ifndef HW_UPLINK_UPLINK_H
#define HW_UPLINK_UPLINK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "upconf.h"
#include "wire.h"

#define UPLINK_AUDIT_NAME "uplink-audit.log"

enum uplink_state {
	UPLINK_BUSY, /* there is more to do now: call uplink_step() again */
	UPLINK_IDLE, /* nothing to do until uplink_want_*() */
	UPLINK_WAIT, /* an attempt failed: call uplink_retry() after the delay */
};

struct uplink_stats {
	uint64_t delivered;   /* alerts confirmed by the receiver */
	uint64_t rejected;    /* alerts moved to spool/rejected/ */
	uint64_t failures;    /* failed attempts (each one backed off) */
	uint64_t heartbeats;  /* heartbeats the receiver took */
	size_t depth;         /* alert files in the spool, as last seen */
	time_t last_delivery; /* 0: none since start */
	char last_alert[WIRE_ID_MAX];
	char last_error[600]; /* "" once an attempt has worked again */
};

struct uplink;

/* Open the spool, the HTTPS client and the audit log (creating
 * [uplink] state_dir if needed) and append a "start" record.  cfg is
 * borrowed and must outlive the engine.  Returns 0 and *ret, or -errno
 * with a one-line message in err (-EBUSY: another uplink holds the audit
 * log, so two would send the same spool). */
int uplink_new(const struct upconf *cfg, struct uplink **ret, char *err, size_t errlen);

/* Append a "stop" record and free everything; NULL is ignored. */
void uplink_free(struct uplink *u);

/* Something changed in the spool: an alert file arrived (or the folder
 * must be read again), or heartbeat was replaced. */
void uplink_want_scan(struct uplink *u);
void uplink_want_heartbeat(struct uplink *u);

/* Do one unit of work (read the spool, deliver one file, or send the
 * heartbeat).  On UPLINK_WAIT, *ret_delay_usec is how long to wait before
 * uplink_retry(); further steps return UPLINK_WAIT until then. */
enum uplink_state uplink_step(struct uplink *u, uint64_t *ret_delay_usec);

/* The back-off delay is over: the next step tries again. */
void uplink_retry(struct uplink *u);
bool uplink_waiting(const struct uplink *u);

const struct uplink_stats *uplink_stats(const struct uplink *u);

/* One line for sd_notify STATUS= and --once: spool depth, last delivery,
 * last error. */
void uplink_status(const struct uplink *u, char *buf, size_t len);

#endif
