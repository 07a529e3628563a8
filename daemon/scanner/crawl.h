/* crawl.h - walking watched trees in small steps from the event loop:
 * the initial crawl, the rescans after a list change or an inotify
 * overflow, and the listing of every folder that appears.
 *
 * Each folder is watched (watch_add) before it is listed, so a file
 * created meanwhile is seen by the listing or by an event, never by
 * neither.  Symlinks are never followed, FIFOs/sockets/devices are never
 * opened (only lstat'ed), folders deeper than max_depth are skipped and
 * reported.  Work comes in two priorities: HIGH (folders that just
 * appeared, rescans after lost events) before LOW (initial and list-change
 * crawls, run at idle I/O priority).  A crawl pauses when the scan queue is
 * full and resumes where it stopped.
 */
#ifndef HW_SCANNER_CRAWL_H
#define HW_SCANNER_CRAWL_H

#include <dirent.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/queue.h>
#include <sys/stat.h>

#include "watch.h"

enum crawl_prio { CRAWL_HIGH = 0, CRAWL_LOW = 1 };

struct crawl_stats {
	uint64_t dirs, files, queued, unreadable, unwatched, too_deep, special;
};

struct crawl_callbacks {
	/* true: leave this path (file or folder) alone */
	bool (*excluded)(void *ud, const char *path);
	/* A regular file (lstat).  Return 1 if it was queued, 0 if not
	 * needed (e.g. cached), -ENOSPC if the queue is full: the crawl
	 * pauses and offers the same file again later. */
	int (*file)(void *ud, const char *path, const struct stat *st, enum crawl_prio prio);
	/* A folder could not be watched (watch true: err -ENOSPC when out of
	 * inotify watches) or not be read (err e.g. -EACCES).  It must be
	 * rescanned later by the caller. */
	void (*dir_error)(void *ud, const char *path, int err, bool watch);
	/* A job added with report=true finished. */
	void (*done)(void *ud, const char *path, const struct crawl_stats *st,
		     bool dirs_only);
	void *ud;
};

struct crawl_frame {
	DIR *d;
	int wd;           /* -1 when the folder could not be watched */
	unsigned depth;
	uint64_t gen;     /* watch generation the cached path belongs to */
	char *path;
};

struct crawl_job {
	TAILQ_ENTRY(crawl_job) link;
	enum crawl_prio prio;
	char *path;
	int parent_wd;    /* -1: a root */
	unsigned flags;   /* watch roles for the folder itself */
	unsigned depth;
	bool report;
	bool dirs_only;   /* only watch folders; files are left to a later pass */
	bool started;
	struct crawl_frame *frames;
	size_t nframes;
	char *pending;    /* entry to offer again after a full queue */
	struct crawl_stats stats;
};

TAILQ_HEAD(crawl_list, crawl_job);

struct crawl {
	struct watch *w;
	struct crawl_callbacks cb;
	struct crawl_list jobs[2];
	size_t njobs, max_jobs;
	unsigned max_depth;
	bool blocked;     /* paused on a full queue */
};

void crawl_init(struct crawl *c, struct watch *w, const struct crawl_callbacks *cb,
		unsigned max_depth, size_t max_jobs);
/* Drop every job (closing their folders). */
void crawl_free(struct crawl *c);

/* Walk path (recursively).  parent_wd: the watched parent folder, or -1
 * for a root (flags then include WN_ROOT).  A job for the same path that
 * has not started yet is not added twice (one of lower priority is moved
 * up).  dirs_only: watch every folder but offer no file (the daemon does
 * this first at start, so that it can say READY as soon as everything is
 * watched).  Returns 1 (a new job), 0 (merged into a waiting one),
 * -ENOSPC (max_jobs reached: the caller rescans the roots instead) or
 * -ENOMEM. */
int crawl_add(struct crawl *c, const char *path, int parent_wd, unsigned flags,
	      enum crawl_prio prio, bool report, bool dirs_only);

/* Do up to `budget` folder entries of work.  Returns true while work is
 * left that can proceed now (false: idle, or blocked on a full queue, see
 * c->blocked). */
bool crawl_step(struct crawl *c, unsigned budget);

/* Clear the blocked state (the queue has room again). */
static inline void crawl_unblock(struct crawl *c)
{
	c->blocked = false;
}

static inline bool crawl_busy(const struct crawl *c)
{
	return c->njobs > 0;
}

/* The job in progress or waiting for path at any priority. */
bool crawl_has(const struct crawl *c, const char *path);

#endif
