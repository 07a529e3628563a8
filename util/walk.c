/* walk.c - recursive file listing without following symlinks. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "walk.h"

static int push(struct pathlist *pl, const char *path)
{
	if (pl->n == pl->cap) {
		size_t ncap = pl->cap ? pl->cap * 2 : 64;
		char **nv = realloc(pl->v, ncap * sizeof(*nv));
		if (!nv)
			return -ENOMEM;
		pl->v = nv;
		pl->cap = ncap;
	}
	pl->v[pl->n] = strdup(path);
	if (!pl->v[pl->n])
		return -ENOMEM;
	pl->n++;
	return 0;
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Depth-first walk with an explicit sort of each folder's entries, so the
 * output order does not depend on the file system. */
static int walk_dir(const char *dir, struct pathlist *pl, walk_error_fn onerr,
		    void *ud)
{
	struct pathlist names = { 0 };
	DIR *d = opendir(dir);
	int r = 0;

	if (!d) {
		if (onerr)
			onerr(dir, -errno, ud);
		return 0;
	}
	for (struct dirent *e; (e = readdir(d));) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		if ((r = push(&names, e->d_name)) < 0)
			break;
	}
	closedir(d);
	if (r == 0 && names.n)
		qsort(names.v, names.n, sizeof(*names.v), cmp_names);
	for (size_t i = 0; r == 0 && i < names.n; i++) {
		size_t len = strlen(dir) + strlen(names.v[i]) + 2;
		char *p = malloc(len);
		struct stat st;
		if (!p) {
			r = -ENOMEM;
			break;
		}
		snprintf(p, len, "%s%s%s", dir,
			 dir[strlen(dir) - 1] == '/' ? "" : "/", names.v[i]);
		if (lstat(p, &st) < 0) {
			if (onerr)
				onerr(p, -errno, ud);
		} else if (S_ISDIR(st.st_mode)) {
			r = walk_dir(p, pl, onerr, ud);
		} else if (S_ISREG(st.st_mode)) {
			r = push(pl, p);
		}
		free(p);
	}
	pathlist_free(&names);
	return r;
}

int walk_collect(const char *root, struct pathlist *pl, walk_error_fn onerr,
		 void *ud)
{
	struct stat st;

	if (stat(root, &st) < 0) {
		if (onerr)
			onerr(root, -errno, ud);
		return 0;
	}
	if (S_ISDIR(st.st_mode))
		return walk_dir(root, pl, onerr, ud);
	if (S_ISREG(st.st_mode))
		return push(pl, root);
	if (onerr)
		onerr(root, -EINVAL, ud); /* FIFO, socket, device: never opened */
	return 0;
}

void pathlist_free(struct pathlist *pl)
{
	for (size_t i = 0; i < pl->n; i++)
		free(pl->v[i]);
	free(pl->v);
	pl->v = NULL;
	pl->n = pl->cap = 0;
}
