/* receipts.c - receipts from the uplink into the audit log; see
 * receipts.h.  Order per receipt: read and parse it -> append the record
 * (fsync'ed for a delivery) -> unlink the receipt; the folder is fsync'ed
 * once per pass. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include "daemon.h"
#include "fileio.h"
#include "log.h"
#include "receipt.h"
#include "receipts.h"
#include "record.h"

#define RETRY_USEC (30 * 1000000ull) /* after the audit log refused a record */

enum outcome {
	TAKEN,   /* recorded and deleted */
	GONE,    /* deleted meanwhile */
	SKIPPED, /* cannot be read now: the others go on, this one later */
	KEEP,    /* the audit log refuses records: stop, try later */
};

/* One file: record it and delete it, or keep it when the audit log
 * cannot take the record now. */
static enum outcome take(struct daemon *d, struct receipts *rc, const char *name)
{
	struct receipt rec;
	char why[128] = "";
	void *buf = NULL;
	size_t len = 0;
	struct stat st;
	int fd, r;

	fd = openat(rc->dirfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
	if (fd < 0 && errno == ENOENT)
		return GONE;
	if (fd < 0 && errno != ELOOP) {
		log_warning("cannot open the receipt %s/spool/%s/%s: %s", d->cfg->state_dir,
			    RECEIPT_DIR, name, strerror(errno));
		rc->failed++;
		return SKIPPED;
	}
	if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) { /* a symlink, a FIFO... */
		snprintf(why, sizeof(why), "not a regular file");
		r = -EBADMSG;
	} else {
		r = hw_read_fd(fd, RECEIPT_MAX_BYTES, &buf, &len);
		if (r == -EFBIG) {
			snprintf(why, sizeof(why), "larger than %d bytes", RECEIPT_MAX_BYTES);
			r = -EBADMSG;
		} else if (r == 0) {
			r = receipt_parse(buf, len, &rec, why, sizeof(why));
		}
	}
	if (fd >= 0)
		close(fd);
	free(buf);
	if (r < 0 && r != -EBADMSG) {
		/* a read error says nothing about the receipt: keep it */
		log_warning("cannot read the receipt %s/spool/%s/%s: %s", d->cfg->state_dir,
			    RECEIPT_DIR, name, strerror(-r));
		rc->failed++;
		return SKIPPED;
	}
	if (r == 0)
		r = record_receipt(d, &rec);
	else {
		rc->bad++;
		log_warning("%s/spool/%s/%s is not a receipt from the uplink (%s); deleted",
			    d->cfg->state_dir, RECEIPT_DIR, name, why);
		record_error(d, "receipts", "receipt %s is not one (%s); deleted", name, why);
		r = 0;
	}
	if (r < 0) {
		rc->failed++;
		return KEEP;
	}
	rc->recorded++;
	if (unlinkat(rc->dirfd, name, 0) < 0 && errno != ENOENT)
		log_warning("cannot delete the receipt %s/spool/%s/%s: %s (it will be recorded "
			    "again)", d->cfg->state_dir, RECEIPT_DIR, name, strerror(errno));
	return TAKEN;
}

static int on_retry(sd_event_source *s, uint64_t usec, void *ud)
{
	struct daemon *d = ud;
	(void)s;
	(void)usec;
	sd_event_source_set_enabled(d->receipts.work, SD_EVENT_ON);
	return 0;
}

static void arm_retry(struct daemon *d)
{
	struct receipts *rc = &d->receipts;
	int r;

	if (rc->retry) {
		r = sd_event_source_set_time_relative(rc->retry, RETRY_USEC);
		if (r >= 0)
			r = sd_event_source_set_enabled(rc->retry, SD_EVENT_ONESHOT);
	} else {
		r = sd_event_add_time_relative(d->ev, &rc->retry, CLOCK_MONOTONIC, RETRY_USEC,
					       1000000, on_retry, d);
	}
	if (r < 0)
		log_error("cannot arm the receipts' retry timer: %s", strerror(-r));
}

/* One pass over the folder: at most RECEIPTS_BATCH receipts, so that a
 * flood of them cannot hold up the scan; the deferred source stays on
 * while there are more. */
static int on_work(sd_event_source *s, void *ud)
{
	struct daemon *d = ud;
	struct receipts *rc = &d->receipts;
	unsigned n = 0, taken = 0;
	bool more = false, kept = false, skipped = false;
	struct dirent *de;
	DIR *dir;
	int fd;

	fd = openat(rc->dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	dir = fd >= 0 ? fdopendir(fd) : NULL;
	if (!dir) {
		log_error("cannot read %s/spool/%s: %s", d->cfg->state_dir, RECEIPT_DIR,
			  strerror(errno));
		if (fd >= 0)
			close(fd);
		sd_event_source_set_enabled(s, SD_EVENT_OFF);
		return 0;
	}
	while ((de = readdir(dir)) != NULL) {
		if (!receipt_name_ok(de->d_name))
			continue;
		if (n++ == RECEIPTS_BATCH) {
			more = true;
			break;
		}
		enum outcome o = take(d, rc, de->d_name);
		taken += o == TAKEN;
		skipped |= o == SKIPPED;
		if (o == KEEP) {
			kept = true;
			break; /* the audit log is failing: try later */
		}
	}
	closedir(dir);
	if (taken && fsync(rc->dirfd) < 0)
		log_warning("cannot sync %s/spool/%s: %s", d->cfg->state_dir, RECEIPT_DIR,
			    strerror(errno));
	if (kept || skipped) {
		log_error("receipts from the uplink wait in %s/spool/%s: %s; trying again in "
			  "%llu s", d->cfg->state_dir, RECEIPT_DIR,
			  kept ? "the audit log cannot record them now" : "some cannot be read",
			  RETRY_USEC / 1000000);
		arm_retry(d);
	}
	sd_event_source_set_enabled(s, more && !kept ? SD_EVENT_ON : SD_EVENT_OFF);
	return 0;
}

static int on_io(sd_event_source *s, int fd, uint32_t revents, void *ud)
{
	struct daemon *d = ud;
	char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
	(void)s;
	(void)revents;

	/* The events only say "look again" (an overflow says the same):
	 * the folder is read whole. */
	while (read(fd, buf, sizeof(buf)) > 0)
		;
	sd_event_source_set_enabled(d->receipts.work, SD_EVENT_ON);
	return 0;
}

int receipts_start(struct daemon *d, char *err, size_t len)
{
	struct receipts *rc = &d->receipts;
	char p[PATH_MAX];
	struct stat st;
	int r;

	rc->dirfd = rc->infd = -1;
	snprintf(p, sizeof(p), "%s/spool/%s", d->cfg->state_dir, RECEIPT_DIR);
	if (mkdir(p, 0770) == 0) {
		/* the uplink writes here: group-writable whatever the umask,
		 * and in the spool's group when the spool is setgid */
		if (lstat(p, &st) < 0 || chmod(p, 0770 | (st.st_mode & S_ISGID)) < 0) {
			r = -errno;
			snprintf(err, len, "cannot set the mode of %s: %s", p, strerror(errno));
			goto fail;
		}
	} else if (errno != EEXIST) {
		r = -errno;
		snprintf(err, len, "cannot create %s: %s", p, strerror(errno));
		goto fail;
	}
	rc->dirfd = open(p, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
	rc->infd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (rc->dirfd < 0 || rc->infd < 0 ||
	    inotify_add_watch(rc->infd, p, IN_MOVED_TO | IN_CLOSE_WRITE | IN_ONLYDIR) < 0) {
		r = -errno;
		snprintf(err, len, "cannot watch %s: %s", p, strerror(errno));
		goto fail;
	}
	if ((r = sd_event_add_io(d->ev, &rc->io, rc->infd, EPOLLIN, on_io, d)) < 0 ||
	    (r = sd_event_add_defer(d->ev, &rc->work, on_work, d)) < 0 ||
	    (r = sd_event_source_set_priority(rc->work, SD_EVENT_PRIORITY_IDLE)) < 0) {
		snprintf(err, len, "cannot watch %s: %s", p, strerror(-r));
		goto fail;
	}
	return 0; /* the deferred source starts enabled: what is there is taken */
fail:
	receipts_stop(rc);
	return r;
}

void receipts_stop(struct receipts *rc)
{
	rc->io = sd_event_source_disable_unref(rc->io);
	rc->work = sd_event_source_disable_unref(rc->work);
	rc->retry = sd_event_source_disable_unref(rc->retry);
	if (rc->infd >= 0)
		close(rc->infd);
	if (rc->dirfd >= 0)
		close(rc->dirfd);
	rc->infd = rc->dirfd = -1;
}
