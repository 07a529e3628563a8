/* notify.h - talking to systemd (Type=notify): READY=1, RELOADING=1,
 * STOPPING=1 and STATUS= lines.  Without NOTIFY_SOCKET every call is a
 * no-op, so the daemon runs the same in a terminal.  WATCHDOG=1 is sent by
 * sd-event itself (sd_event_set_watchdog), from a timer, only when the
 * unit sets WatchdogSec=.
 */
#ifndef HW_SCANNER_NOTIFY_H
#define HW_SCANNER_NOTIFY_H

void notify_ready(const char *status);
/* RELOADING=1 with MONOTONIC_USEC= (what Type=notify-reload expects). */
void notify_reloading(void);
void notify_stopping(void);
void notify_status(const char *status);

#endif
