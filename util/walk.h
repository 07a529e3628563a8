/* walk.h - list the regular files below a set of paths for the one-shot
 * commands (hash, scan).  Symlinks are never followed (a link named on the
 * command line is, as users expect); FIFOs, sockets and devices are left
 * out; unreadable folders are reported, not fatal.
 */
#ifndef HW_WALK_H
#define HW_WALK_H

#include <stddef.h>

struct pathlist {
	char **v;
	size_t n, cap;
};

/* Called for each path that could not be read: errno-style code. */
typedef void (*walk_error_fn)(const char *path, int err, void *ud);

/* Append the regular files at or below `root` to pl, in sorted order
 * within each folder.  Returns 0 or -ENOMEM; other problems go to onerr. */
int walk_collect(const char *root, struct pathlist *pl, walk_error_fn onerr,
		 void *ud);

void pathlist_free(struct pathlist *pl);

#endif
