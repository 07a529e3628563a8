/* log.c - journal or stderr, chosen once at start (see log.h). */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#define SD_JOURNAL_SUPPRESS_LOCATION
#include <systemd/sd-journal.h>

#include "log.h"

#define LOG_MAX_FIELDS 16
#define LOG_LINE_MAX 2048

static bool use_journal;
static bool log_verbose;

/* systemd sets JOURNAL_STREAM=dev:ino of the stream it connected to
 * stderr; if stderr is still that stream, native journal messages are
 * better (structured fields) and do not duplicate anything. */
static bool stderr_is_journal(void)
{
	const char *e = getenv("JOURNAL_STREAM");
	unsigned long long dev, ino;
	struct stat st;

	if (!e || sscanf(e, "%llu:%llu", &dev, &ino) != 2)
		return false;
	if (fstat(STDERR_FILENO, &st) < 0)
		return false;
	return (unsigned long long)st.st_dev == dev &&
	       (unsigned long long)st.st_ino == ino;
}

void log_setup(bool force_stderr, bool verbose)
{
	use_journal = !force_stderr && stderr_is_journal();
	log_verbose = verbose;
}

static const char *level_name(int prio)
{
	switch (prio) {
	case LOG_EMERG:
	case LOG_ALERT:
	case LOG_CRIT:
	case LOG_ERR:
		return "error";
	case LOG_WARNING:
		return "warning";
	case LOG_NOTICE:
		return "notice";
	case LOG_INFO:
		return "info";
	default:
		return "debug";
	}
}

/* File names are chosen by whoever owns the folder and may hold newlines
 * or terminal escapes: on a line-oriented stream they are escaped. */
static void log_escape(const char *in, char *out, size_t cap)
{
	static const char hex[] = "0123456789abcdef";
	size_t o = 0;

	for (const unsigned char *p = (const unsigned char *)in; *p && o + 5 < cap; p++) {
		if (*p < 0x20 || *p == 0x7f || *p == '\\') {
			out[o++] = '\\';
			out[o++] = 'x';
			out[o++] = hex[*p >> 4];
			out[o++] = hex[*p & 15];
		} else {
			out[o++] = (char)*p;
		}
	}
	out[o] = '\0';
}

static void add_field(struct iovec *iov, size_t *n, char *storage, size_t cap,
		      const char *fmt, ...) __attribute__((format(printf, 5, 6)));

static void add_field(struct iovec *iov, size_t *n, char *storage, size_t cap,
		      const char *fmt, ...)
{
	va_list ap;
	int k;

	va_start(ap, fmt);
	k = vsnprintf(storage, cap, fmt, ap);
	va_end(ap);
	if (k < 0)
		return;
	iov[*n].iov_base = storage;
	iov[*n].iov_len = (size_t)k < cap ? (size_t)k : cap - 1;
	(*n)++;
}

void log_full(int prio, const char *msgid, const char *path,
	      const char *const *fields, const char *fmt, ...)
{
	char msg[LOG_LINE_MAX];
	va_list ap;

	if (prio >= LOG_DEBUG && !log_verbose)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);

	if (use_journal) {
		struct iovec iov[LOG_MAX_FIELDS + 5];
		char f_msg[LOG_LINE_MAX + 16], f_prio[32], f_id[64],
			f_path[LOG_LINE_MAX], f_ident[40];
		size_t n = 0;

		add_field(iov, &n, f_msg, sizeof(f_msg), "MESSAGE=%s", msg);
		add_field(iov, &n, f_prio, sizeof(f_prio), "PRIORITY=%d", prio);
		add_field(iov, &n, f_ident, sizeof(f_ident), "SYSLOG_IDENTIFIER=hashwatchd");
		if (msgid)
			add_field(iov, &n, f_id, sizeof(f_id), "MESSAGE_ID=%s", msgid);
		if (path)
			add_field(iov, &n, f_path, sizeof(f_path), "HASHWATCH_PATH=%s", path);
		for (size_t i = 0; fields && fields[i] && i < LOG_MAX_FIELDS; i++) {
			iov[n].iov_base = (void *)(uintptr_t)fields[i];
			iov[n].iov_len = strlen(fields[i]);
			n++;
		}
		if (sd_journal_sendv(iov, (int)n) >= 0)
			return;
		/* journald gone: fall through to stderr rather than lose it */
	}
	if (path) {
		char esc[LOG_LINE_MAX];
		log_escape(path, esc, sizeof(esc));
		fprintf(stderr, "hashwatchd: %s: %s (%s)\n", level_name(prio), msg, esc);
	} else
		fprintf(stderr, "hashwatchd: %s: %s\n", level_name(prio), msg);
}
