/* log.h - hashwatchd's log: the systemd journal with structured fields when
 * systemd connected our stderr to it, else one line per message on stderr
 * (foreground runs and tests).
 *
 * Privacy rule enforced by the call sites, stated here once: a path may be
 * logged only for matches and errors (HASHWATCH_PATH), never for files that
 * were simply scanned; no hash of a non-matching file is ever logged.
 */
#ifndef HW_SCANNER_LOG_H
#define HW_SCANNER_LOG_H

#include <stdbool.h>
#include <syslog.h>

/* MESSAGE_ID values, so that `journalctl MESSAGE_ID=...` finds one kind of
 * event across versions.  Never change a published one. */
#define MSGID_START        "6975354515374c70836959dc905735a0"
#define MSGID_STOP         "e03f76d6dc49400e9b9e902c0fd167bb"
#define MSGID_READY        "127ba7dc892047a69fa0a3b50bf2f0d4"
#define MSGID_RELOAD       "37bf0a68b713446ea5b5cf121d2e4da8"
#define MSGID_CONFIG_BAD   "87d9c8e30f5e49eea06affd5d83bf33a"
#define MSGID_LIST_LOADED  "eb6d2b826f16477595aefca66fc90504"
#define MSGID_LIST_REFUSED "54d8a9292c204be69f3c15879dfd59f3"
#define MSGID_MATCH        "761062aae9684e479b702eafb1a2695a"
#define MSGID_ALERT_QUEUED "57e041536d1e4e1f9f5660f72c398b93"
#define MSGID_SKIP         "cd5da120ac494317b013ceb8ee6596d4"
#define MSGID_WATCH_LIMIT  "7eb420c192d44d399ff513df81991d6a"
#define MSGID_OVERFLOW     "c489e80f21c841a8b6bf7f99dcbdf305"
#define MSGID_CRAWL        "5b809a58d8134017a17e2814d6bc499b"
#define MSGID_WORKER       "3d8c3685cc644ee9816b0647c54e5536"
#define MSGID_ERROR        "6a6e11982b5b4034bc9bad56eb90494b"
#define MSGID_ALERT_RETRY  "b747514b2a3c466082ae540509654f55"

/* Choose the destination: the journal when JOURNAL_STREAM names our
 * stderr (systemd's documented signal) unless force_stderr; else stderr.
 * verbose: also emit LOG_DEBUG messages. */
void log_setup(bool force_stderr, bool verbose);

/* Log one message.  msgid may be NULL; path (HASHWATCH_PATH) may be NULL
 * and must be NULL unless the message is about a match or an error.
 * fields: NULL or a NULL-terminated array of extra "KEY=value" journal
 * fields (KEY in capitals, HASHWATCH_ prefix). */
void log_full(int prio, const char *msgid, const char *path,
	      const char *const *fields, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));

#define log_error(...) log_full(LOG_ERR, MSGID_ERROR, NULL, NULL, __VA_ARGS__)
#define log_warning(...) log_full(LOG_WARNING, NULL, NULL, NULL, __VA_ARGS__)
#define log_notice(...) log_full(LOG_NOTICE, NULL, NULL, NULL, __VA_ARGS__)
#define log_info(...) log_full(LOG_INFO, NULL, NULL, NULL, __VA_ARGS__)
#define log_debug(...) log_full(LOG_DEBUG, NULL, NULL, NULL, __VA_ARGS__)

#endif
