/* watch.h - recursive folder watching with the raw inotify API.
 *
 * One node per watched folder, keyed by watch descriptor, linked to its
 * parent so that a folder moved inside the tree keeps its watches (the
 * kernel's watch follows the inode) and only its name changes.  This
 * module turns events into callbacks and keeps the node tree right; it
 * never lists a folder itself: the crawler (crawl.h) adds a watch with
 * watch_add() and only then lists the folder, so nothing created between
 * the two steps is missed.
 *
 * Roles of a node: TREE (inside a watched root: files and subfolders
 * matter), ROOT (the top of a tree) and ANCHOR (a folder on the way to a
 * glob's matches, e.g. /home for /home/ * /Pictures: a new account there
 * means the globs must be expanded again).
 */
#ifndef HW_SCANNER_WATCH_H
#define HW_SCANNER_WATCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "htab.h"

#define WN_TREE 0x1u
#define WN_ROOT 0x2u
#define WN_ANCHOR 0x4u

struct watch_node {
	int wd;
	unsigned flags;
	struct watch_node *parent; /* NULL for a top node (root or anchor) */
	char *name;                /* component; absolute path for top nodes */
	size_t nchildren;
	uint32_t orphan_cookie;    /* moved away; waiting for its MOVED_TO */
	bool orphan;
	unsigned marked;           /* roles given since watch_mark_begin() */
};

enum watch_file_event {
	WATCH_FILE_WRITTEN, /* IN_CLOSE_WRITE */
	WATCH_FILE_MOVED,   /* IN_MOVED_TO */
	WATCH_FILE_CREATED, /* IN_CREATE (e.g. a hard link: no close follows) */
};

struct watch_callbacks {
	/* A file in a tree folder changed. */
	void (*file)(void *ud, const char *path, enum watch_file_event ev);
	/* A folder appeared in a tree folder (created, or moved in from
	 * outside): list it.  parent is its parent's node. */
	void (*dir)(void *ud, const char *path, struct watch_node *parent);
	/* The kernel dropped events (IN_Q_OVERFLOW): rescan every root. */
	void (*overflow)(void *ud);
	/* Something changed at an anchor, or a root went away: expand the
	 * watch globs again. */
	void (*anchor)(void *ud);
	void *ud;
};

struct watch {
	int fd;                 /* inotify instance, non-blocking */
	struct htab nodes;      /* wd -> node */
	struct watch_callbacks cb;
	uint64_t generation;    /* bumped whenever a node's path changes */
	uint64_t overflows;
};

/* Returns 0 or -errno (inotify_init1 failed, e.g. EMFILE). */
int watch_init(struct watch *w, const struct watch_callbacks *cb);
/* Remove every watch and free every node; accepts a zeroed struct. */
void watch_free(struct watch *w);

/* Watch a folder.  dirfd >= 0: the folder already opened (O_DIRECTORY |
 * O_NOFOLLOW), watched through /proc/self/fd so that exactly that folder
 * is watched; else path is watched with IN_DONT_FOLLOW | IN_ONLYDIR.
 * parent/name: where it sits in a tree (parent NULL: a top node and name
 * is its absolute path).  A folder already watched keeps its node and
 * gains `flags`.  Returns 1 (a new node) or 0 (watched already) and the
 * node in *ret (may be NULL), or -ENOSPC (out of inotify watches: the
 * caller must fall back to rescans and say so loudly), -EACCES, -ENOENT,
 * -ENOTDIR, -ENOMEM. */
int watch_add(struct watch *w, int dirfd, const char *path,
	      struct watch_node *parent, const char *name, unsigned flags,
	      struct watch_node **ret);

/* Read and dispatch every pending event.  Returns 0 or -errno on a read
 * error other than EAGAIN. */
int watch_process(struct watch *w);

/* Stop watching a node and everything below it. */
void watch_remove_subtree(struct watch *w, struct watch_node *n);

/* Expanding the globs again: watch_mark_begin(), then watch_add() every
 * root and anchor found, then watch_mark_end(mask): a node that had a role
 * in mask and was not given it again loses it, and a top node left without
 * ROOT stops being a tree; nodes left with no role are removed with their
 * subtree. */
void watch_mark_begin(struct watch *w);
void watch_mark_end(struct watch *w, unsigned mask);

struct watch_node *watch_node_by_wd(const struct watch *w, int wd);

/* Write the absolute path of n to buf.  Returns 0 or -ENAMETOOLONG. */
int watch_node_path(const struct watch_node *n, char *buf, size_t len);

static inline size_t watch_count(const struct watch *w)
{
	return htab_count(&w->nodes);
}

#endif
