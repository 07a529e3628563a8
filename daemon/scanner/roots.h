/* roots.h - expanding the [scan] watch globs into the folders to watch
 * recursively (roots) and the folders to watch so that new matches are
 * noticed (anchors): for /home/ * /Pictures, /home (a new account) and
 * each /home/NAME (Pictures created at first login).
 *
 * Components before the first wildcard are the administrator's and may be
 * symlinks (/home -> /var/home); from the first wildcard on, folders belong
 * to users and symlinks are not followed.  Every root is given as its
 * realpath(), without duplicates and without roots inside other roots.
 */
#ifndef HW_SCANNER_ROOTS_H
#define HW_SCANNER_ROOTS_H

#include <stddef.h>

#define ROOTS_MAX 4096

struct roots {
	char **root;
	size_t nroot;
	char **anchor;
	size_t nanchor;
	size_t truncated; /* matches beyond ROOTS_MAX, left out */
};

/* Expand the patterns.  Returns 0 (possibly with no root at all: folders
 * may appear later) or -ENOMEM.  Free with roots_free(). */
int roots_expand(char *const *patterns, size_t n, struct roots *ret);
void roots_free(struct roots *r);

#endif
