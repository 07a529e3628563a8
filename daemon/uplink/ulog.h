/* ulog.h - hashwatch-uplink's log: the systemd journal, with the alert id
 * as a field of its own (HASHWATCH_ALERT_ID, so that `journalctl
 * HASHWATCH_ALERT_ID=...` follows one alert), when systemd connected our
 * stderr to the journal; else one line per message on stderr.
 *
 * What may be logged: alert ids, file names in the spool, HTTP statuses
 * and the receiver's error codes.  Never an alert's content.
 */
#ifndef HW_UPLINK_ULOG_H
#define HW_UPLINK_ULOG_H

#include <stdbool.h>
#include <syslog.h>

/* MESSAGE_ID values, stable across versions, for `journalctl MESSAGE_ID=`. */
#define ULOG_MSGID_DELIVERED "56853c8028a0fc6cbca7b03112360a1a"
#define ULOG_MSGID_REJECTED  "b8e1a6d1c8d4e97f81f52d65ce25c6e6"
#define ULOG_MSGID_FAILED    "41469874f533e962889a81189b47cb3a"

/* Choose the destination (the journal when JOURNAL_STREAM names our
 * stderr, unless force_stderr) and whether LOG_DEBUG is shown. */
void ulog_setup(bool force_stderr, bool verbose);

/* Log one message; msgid and alert_id may be NULL. */
void ulog_full(int prio, const char *msgid, const char *alert_id, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

#define ulog_error(...) ulog_full(LOG_ERR, NULL, NULL, __VA_ARGS__)
#define ulog_warning(...) ulog_full(LOG_WARNING, NULL, NULL, __VA_ARGS__)
#define ulog_notice(...) ulog_full(LOG_NOTICE, NULL, NULL, __VA_ARGS__)
#define ulog_info(...) ulog_full(LOG_INFO, NULL, NULL, __VA_ARGS__)
#define ulog_debug(...) ulog_full(LOG_DEBUG, NULL, NULL, __VA_ARGS__)

#endif
