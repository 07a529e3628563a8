/* ulog.c - journal or stderr, chosen once at start (see ulog.h). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <sys/stat.h>
#include <unistd.h>

#define SD_JOURNAL_SUPPRESS_LOCATION
#include <systemd/sd-journal.h>

#include "ulog.h"

static bool to_journal;
static bool show_debug;

void ulog_setup(bool force_stderr, bool verbose)
{
	/* systemd puts "dev:ino" of the stream it gave us as stderr into
	 * JOURNAL_STREAM; if stderr still is that stream, native messages
	 * carry the alert id as a field and are not written twice. */
	const char *stream = getenv("JOURNAL_STREAM");
	unsigned long long dev = 0, ino = 0;
	struct stat st;

	to_journal = !force_stderr && stream && sscanf(stream, "%llu:%llu", &dev, &ino) == 2 &&
		     fstat(STDERR_FILENO, &st) == 0 && (unsigned long long)st.st_dev == dev &&
		     (unsigned long long)st.st_ino == ino;
	show_debug = verbose;
}

void ulog_full(int prio, const char *msgid, const char *alert_id, const char *fmt, ...)
{
	static const char *const level[] = { "emergency", "alert", "critical", "error",
					     "warning", "notice", "info", "debug" };
	char msg[2048];
	va_list ap;

	if (prio == LOG_DEBUG && !show_debug)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (to_journal) {
		char f[5][2200];
		struct iovec iov[5];
		int n = 0;
		snprintf(f[n++], sizeof(f[0]), "SYSLOG_IDENTIFIER=hashwatch-uplink");
		snprintf(f[n++], sizeof(f[0]), "MESSAGE=%s", msg);
		snprintf(f[n++], sizeof(f[0]), "PRIORITY=%d", prio);
		if (msgid)
			snprintf(f[n++], sizeof(f[0]), "MESSAGE_ID=%s", msgid);
		if (alert_id)
			snprintf(f[n++], sizeof(f[0]), "HASHWATCH_ALERT_ID=%.64s", alert_id);
		for (int i = 0; i < n; i++)
			iov[i] = (struct iovec){ .iov_base = f[i], .iov_len = strlen(f[i]) };
		sd_journal_sendv(iov, n);
		return;
	}
	/* One message, one line: a file name in the spool or a receiver's
	 * answer must not forge another line or reach a terminal raw. */
	for (char *p = msg; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = '?';
	fprintf(stderr, "hashwatch-uplink: %s: %s\n", level[prio & 7], msg);
}
