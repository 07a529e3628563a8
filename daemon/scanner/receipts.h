/* receipts.h - the scanner's side of the uplink's receipts
 * (util/receipt.h): watch <state>/spool/receipts/ with inotify, turn each
 * receipt into an audit record (alert_delivered, synced; heartbeat) and
 * delete it only once the record is in the log.  The audit log keeps one
 * writer, the scanner; the uplink, which may not write the scanner's
 * files, hands its news over through the spool it already shares.
 *
 * A crash between the record and the delete repeats the record at the
 * next start (readers take the first alert_delivered as the delivery
 * time); a receipt is never deleted unrecorded, except one that is not a
 * receipt at all, which is recorded as an error and deleted so that it
 * cannot block the folder.
 */
#ifndef HW_SCANNER_RECEIPTS_H
#define HW_SCANNER_RECEIPTS_H

#include <stdint.h>

#include <systemd/sd-event.h>

#define RECEIPTS_BATCH 64 /* receipts per event-loop iteration */

struct daemon;

struct receipts {
	int dirfd;                 /* spool/receipts/, -1 when not in use */
	int infd;                  /* inotify on it */
	sd_event_source *io, *work, *retry;
	uint64_t recorded;         /* receipts turned into records */
	uint64_t bad;              /* files that were not receipts */
	uint64_t failed;           /* kept: the audit log could not take them */
};

/* Make spool/receipts/ if missing (mode 0770, and the spool's setgid
 * group), watch it and take what is already there (from the next loop
 * iteration on).  0, or -errno with a message in err: then deliveries
 * are not recorded, and the daemon carries on (the uplink's own log
 * still has them). */
int receipts_start(struct daemon *d, char *err, size_t len);

/* Stop watching; safe on a receipts that never started (its fds set to
 * -1 first, as daemon_run does). */
void receipts_stop(struct receipts *r);

#endif
