/* spool.c - listing, reading, deleting and setting aside spool files;
 * see spool.h.  Everything goes through a descriptor of the folder so
 * that a rename of the path under us cannot redirect a delete. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fileio.h"
#include "receipt.h"
#include "spool.h"

struct spool {
	char *path;
	int dirfd;
};

int spool_open(const char *path, struct spool **ret)
{
	struct spool *s = calloc(1, sizeof(*s));
	int r;

	if (!s)
		return -ENOMEM;
	s->dirfd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (s->dirfd < 0) {
		r = -errno;
		goto fail;
	}
	s->path = strdup(path);
	if (!s->path) {
		r = -ENOMEM;
		goto fail;
	}
	*ret = s;
	return 0;
fail:
	spool_close(s);
	return r;
}

void spool_close(struct spool *s)
{
	if (!s)
		return;
	if (s->dirfd >= 0)
		close(s->dirfd);
	free(s->path);
	free(s);
}

const char *spool_path(const struct spool *s)
{
	return s->path;
}

static bool ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), k = strlen(suffix);
	return n >= k && strcmp(s + n - k, suffix) == 0;
}

enum spool_kind spool_classify(const char *name)
{
	if (name[0] == '.' || strstr(name, ".tmp"))
		return SPOOL_OTHER;
	if (strcmp(name, SPOOL_HEARTBEAT_NAME) == 0)
		return SPOOL_HEARTBEAT;
	return ends_with(name, ".json") && strlen(name) > strlen(".json") ? SPOOL_ALERT
									  : SPOOL_OTHER;
}

static int entry_cmp(const struct spool_entry *a, const struct spool_entry *b)
{
	if (a->mtime.tv_sec != b->mtime.tv_sec)
		return a->mtime.tv_sec < b->mtime.tv_sec ? -1 : 1;
	if (a->mtime.tv_nsec != b->mtime.tv_nsec)
		return a->mtime.tv_nsec < b->mtime.tv_nsec ? -1 : 1;
	return strcmp(a->name, b->name);
}

/* Keep v[0..*n) sorted and at most max long: insert e if it is among the
 * max oldest seen so far. */
static void keep_oldest(struct spool_entry *v, size_t *n, size_t max, const struct spool_entry *e)
{
	size_t lo = 0, hi = *n;

	if (*n == max && entry_cmp(e, &v[max - 1]) >= 0)
		return;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (entry_cmp(&v[mid], e) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	size_t tail = (*n == max ? max - 1 : *n) - lo;
	memmove(&v[lo + 1], &v[lo], tail * sizeof(*v));
	v[lo] = *e;
	if (*n < max)
		(*n)++;
}

int spool_scan(struct spool *s, size_t max, struct spool_entry **ret, size_t *ret_n,
	       size_t *ret_depth)
{
	struct spool_entry *v = NULL, e;
	size_t n = 0, depth = 0;
	struct dirent *de;
	struct stat st;
	DIR *d = NULL;
	int fd, r = 0;

	if (max == 0)
		return -EINVAL;
	v = malloc(max * sizeof(*v));
	fd = openat(s->dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (!v || fd < 0) {
		r = v ? -errno : -ENOMEM;
		if (fd >= 0)
			close(fd);
		goto out;
	}
	d = fdopendir(fd);
	if (!d) {
		r = -errno;
		close(fd);
		goto out;
	}
	for (;;) {
		errno = 0;
		de = readdir(d);
		if (!de) {
			r = -errno;
			break;
		}
		if (spool_classify(de->d_name) != SPOOL_ALERT)
			continue;
		/* Gone since readdir (delivered by a previous us, or removed):
		 * skip; not a regular file: not ours. */
		if (fstatat(s->dirfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
		    !S_ISREG(st.st_mode))
			continue;
		depth++;
		snprintf(e.name, sizeof(e.name), "%s", de->d_name);
		e.mtime = st.st_mtim;
		keep_oldest(v, &n, max, &e);
	}
	if (r < 0)
		goto out;
	*ret = n ? v : NULL;
	if (n)
		v = NULL;
	*ret_n = n;
	*ret_depth = depth;
out:
	if (d)
		closedir(d);
	free(v);
	return r;
}

int spool_read(struct spool *s, const char *name, size_t max, char **ret_buf,
	       size_t *ret_len, struct stat *ret_st)
{
	struct stat st;
	void *buf = NULL;
	size_t len = 0;
	int fd, r;

	fd = openat(s->dirfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
	if (fd < 0)
		return errno == ELOOP ? -EINVAL : -errno;
	if (fstat(fd, &st) < 0) {
		r = -errno;
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		r = -EINVAL;
		goto out;
	}
	r = hw_read_fd(fd, max, &buf, &len);
	if (r < 0)
		goto out;
	*ret_buf = buf;
	*ret_len = len;
	*ret_st = st;
out:
	close(fd);
	return r;
}

int spool_remove(struct spool *s, const char *name)
{
	if (unlinkat(s->dirfd, name, 0) < 0)
		return -errno;
	return fsync(s->dirfd) < 0 ? -errno : 0;
}

/* Is name (or its .reason) already present in the folder dfd? */
static bool taken(int dfd, const char *name, const char *reason_name)
{
	return faccessat(dfd, name, F_OK, AT_SYMLINK_NOFOLLOW) == 0 ||
	       faccessat(dfd, reason_name, F_OK, AT_SYMLINK_NOFOLLOW) == 0;
}

int spool_reject(struct spool *s, const char *name, const char *reason, size_t len,
		 char ret_target[NAME_MAX + 1])
{
	char target[NAME_MAX + 1], rname[NAME_MAX + 16], path[PATH_MAX];
	int rfd = -1, r;

	if (mkdirat(s->dirfd, SPOOL_REJECTED_DIR, 0750) < 0 && errno != EEXIST)
		return -errno;
	rfd = openat(s->dirfd, SPOOL_REJECTED_DIR, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
	if (rfd < 0)
		return -errno;
	r = -EEXIST;
	for (int i = 0; i < SPOOL_REJECT_COPIES; i++) {
		if (i == 0)
			snprintf(target, sizeof(target), "%s", name);
		else if (snprintf(target, sizeof(target), "%s.%d", name, i) >= (int)sizeof(target))
			break;
		snprintf(rname, sizeof(rname), "%s.reason", target);
		if (taken(rfd, target, rname))
			continue;
		/* The reason first: a crash between the two steps leaves the
		 * alert in the spool (tried again), never a file without why. */
		if (snprintf(path, sizeof(path), "%s/%s/%s", s->path, SPOOL_REJECTED_DIR, rname) >=
		    (int)sizeof(path)) {
			r = -ENAMETOOLONG;
			break;
		}
		r = hw_write_atomic(path, reason, len, 0640);
		if (r < 0)
			break;
		if (renameat2(s->dirfd, name, rfd, target, RENAME_NOREPLACE) < 0) {
			r = -errno;
			unlinkat(rfd, rname, 0);
			if (r == -EEXIST)
				continue;
			break;
		}
		r = fsync(rfd) < 0 || fsync(s->dirfd) < 0 ? -errno : 0;
		if (r == 0 && ret_target)
			memcpy(ret_target, target, sizeof(target));
		break;
	}
	close(rfd);
	return r;
}

int spool_put_receipt(struct spool *s, const char *name, const char *text, size_t len)
{
	char path[PATH_MAX];
	struct stat st;

	if (fstatat(s->dirfd, RECEIPT_DIR, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return -errno;
	if (!S_ISDIR(st.st_mode))
		return -ENOTDIR;
	if (snprintf(path, sizeof(path), "%s/%s/%s", s->path, RECEIPT_DIR, name) >=
	    (int)sizeof(path))
		return -ENAMETOOLONG;
	return hw_write_atomic(path, text, len, 0644);
}
