/* roots.c - glob expansion one path component at a time (see roots.h). */
#include <dirent.h>
#include <errno.h>
#include <fnmatch.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "roots.h"

struct strv {
	char **v;
	size_t n;
};

static bool strv_has(const struct strv *s, const char *p)
{
	for (size_t i = 0; i < s->n; i++)
		if (strcmp(s->v[i], p) == 0)
			return true;
	return false;
}

/* Add a copy unless present.  Returns 0, 1 (full: not added) or -ENOMEM. */
static int strv_add(struct strv *s, const char *p)
{
	char **nv;
	if (strv_has(s, p))
		return 0;
	if (s->n >= ROOTS_MAX)
		return 1;
	nv = realloc(s->v, (s->n + 1) * sizeof(*nv));
	if (!nv)
		return -ENOMEM;
	s->v = nv;
	s->v[s->n] = strdup(p);
	if (!s->v[s->n])
		return -ENOMEM;
	s->n++;
	return 0;
}

static void strv_free(struct strv *s)
{
	for (size_t i = 0; i < s->n; i++)
		free(s->v[i]);
	free(s->v);
	s->v = NULL;
	s->n = 0;
}

static bool has_glob(const char *s)
{
	return strpbrk(s, "*?[") != NULL;
}

static void join(char *out, size_t len, const char *dir, const char *name)
{
	snprintf(out, len, "%s%s%s", dir, strcmp(dir, "/") ? "/" : "", name);
}

/* Is path a folder?  follow: symlinks allowed (administrator's part). */
static bool is_dir(const char *path, bool follow)
{
	struct stat st;
	int r = follow ? stat(path, &st) : lstat(path, &st);
	return r == 0 && S_ISDIR(st.st_mode);
}

static int expand_one(const char *pattern, struct strv *roots, struct strv *anchors,
		      size_t *truncated)
{
	char *copy = strdup(pattern), *save = NULL, *comp;
	char *comps[PATH_MAX / 2];
	size_t nc = 0, firstwild;
	struct strv cur = { 0 }, next = { 0 };
	char path[PATH_MAX];
	int r = 0;

	if (!copy)
		return -ENOMEM;
	for (comp = strtok_r(copy, "/", &save); comp && nc < sizeof(comps) / sizeof(comps[0]);
	     comp = strtok_r(NULL, "/", &save))
		comps[nc++] = comp;
	for (firstwild = 0; firstwild < nc && !has_glob(comps[firstwild]); firstwild++)
		;
	r = strv_add(&cur, "/");
	for (size_t i = 0; i < nc && r >= 0 && cur.n; i++) {
		bool follow = i < firstwild;
		for (size_t k = 0; k < cur.n && r >= 0; k++) {
			const char *d = cur.v[k];
			bool found = false;
			if (has_glob(comps[i])) {
				DIR *dir = opendir(d);
				struct dirent *de;
				while (dir && (de = readdir(dir)) && r >= 0) {
					if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0 ||
					    fnmatch(comps[i], de->d_name, FNM_PERIOD) != 0)
						continue;
					join(path, sizeof(path), d, de->d_name);
					if (!is_dir(path, false))
						continue;
					r = strv_add(&next, path);
					if (r == 1) {
						(*truncated)++;
						r = 0;
					}
				}
				if (dir)
					closedir(dir);
			} else {
				join(path, sizeof(path), d, comps[i]);
				if (is_dir(path, follow)) {
					found = true;
					r = strv_add(&next, path);
					if (r == 1) {
						(*truncated)++;
						r = 0;
					}
				}
			}
			/* Watch d if something may appear in it that changes the
			 * expansion: past the first wildcard, or a missing part. */
			if (r >= 0 && (i >= firstwild || !found)) {
				char real[PATH_MAX];
				if (realpath(d, real)) {
					r = strv_add(anchors, real);
					if (r == 1)
						r = 0;
				}
			}
		}
		strv_free(&cur);
		cur = next;
		next = (struct strv){ 0 };
	}
	for (size_t k = 0; k < cur.n && r >= 0 && nc > 0; k++) {
		char real[PATH_MAX];
		if (!realpath(cur.v[k], real))
			continue;
		r = strv_add(roots, real);
		if (r == 1) {
			(*truncated)++;
			r = 0;
		}
	}
	strv_free(&cur);
	strv_free(&next);
	free(copy);
	return r < 0 ? r : 0;
}

static bool inside(const char *path, const char *root)
{
	size_t l = strlen(root);
	if (strcmp(root, "/") == 0)
		return strcmp(path, "/") != 0;
	return strncmp(path, root, l) == 0 && path[l] == '/';
}

int roots_expand(char *const *patterns, size_t n, struct roots *ret)
{
	struct strv roots = { 0 }, anchors = { 0 }, kept = { 0 };
	size_t truncated = 0;
	int r = 0;

	for (size_t i = 0; i < n && r >= 0; i++)
		r = expand_one(patterns[i], &roots, &anchors, &truncated);
	for (size_t i = 0; i < roots.n && r >= 0; i++) {
		bool nested = false;
		for (size_t k = 0; k < roots.n && !nested; k++)
			nested = k != i && inside(roots.v[i], roots.v[k]);
		if (!nested)
			r = strv_add(&kept, roots.v[i]);
	}
	strv_free(&roots);
	if (r < 0) {
		strv_free(&kept);
		strv_free(&anchors);
		return r;
	}
	ret->root = kept.v;
	ret->nroot = kept.n;
	ret->anchor = anchors.v;
	ret->nanchor = anchors.n;
	ret->truncated = truncated;
	return 0;
}

void roots_free(struct roots *r)
{
	struct strv a = { r->root, r->nroot }, b = { r->anchor, r->nanchor };
	strv_free(&a);
	strv_free(&b);
	r->root = r->anchor = NULL;
	r->nroot = r->nanchor = 0;
}
