/* crawl.c - resumable recursive walks (see crawl.h).
 *
 * A job keeps a stack of open folders.  Between steps the event loop runs
 * and folders may move or vanish: a frame remembers its folder's watch
 * descriptor and rebuilds its path from the node when the watch tree has
 * changed, and gives up on a folder whose node is gone.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "crawl.h"
#include "fsopen.h"
#include "prio.h"

void crawl_init(struct crawl *c, struct watch *w, const struct crawl_callbacks *cb,
		unsigned max_depth, size_t max_jobs)
{
	memset(c, 0, sizeof(*c));
	c->w = w;
	c->cb = *cb;
	c->max_depth = max_depth;
	c->max_jobs = max_jobs;
	TAILQ_INIT(&c->jobs[CRAWL_HIGH]);
	TAILQ_INIT(&c->jobs[CRAWL_LOW]);
}

static void pop_frame(struct crawl_job *j)
{
	struct crawl_frame *f = &j->frames[--j->nframes];
	closedir(f->d);
	free(f->path);
}

static void job_free(struct crawl_job *j)
{
	while (j->nframes)
		pop_frame(j);
	free(j->frames);
	free(j->pending);
	free(j->path);
	free(j);
}

static void job_remove(struct crawl *c, struct crawl_job *j)
{
	TAILQ_REMOVE(&c->jobs[j->prio], j, link);
	c->njobs--;
	job_free(j);
}

void crawl_free(struct crawl *c)
{
	struct crawl_job *j;
	if (!c || !c->w)
		return;
	for (int p = 0; p < 2; p++)
		while ((j = TAILQ_FIRST(&c->jobs[p])))
			job_remove(c, j);
}

static struct crawl_job *find(const struct crawl *c, const char *path, bool unstarted)
{
	struct crawl_job *j;
	for (int p = 0; p < 2; p++)
		TAILQ_FOREACH(j, &c->jobs[p], link)
			if ((!unstarted || !j->started) && strcmp(j->path, path) == 0)
				return j;
	return NULL;
}

bool crawl_has(const struct crawl *c, const char *path)
{
	return find(c, path, false) != NULL;
}

int crawl_add(struct crawl *c, const char *path, int parent_wd, unsigned flags,
	      enum crawl_prio prio, bool report, bool dirs_only)
{
	struct crawl_job *j = find(c, path, true);

	if (j && j->dirs_only != dirs_only)
		j = NULL; /* a different kind of walk: both are needed */
	if (j) {
		if (prio < j->prio) {
			TAILQ_REMOVE(&c->jobs[j->prio], j, link);
			j->prio = prio;
			TAILQ_INSERT_TAIL(&c->jobs[prio], j, link);
		}
		j->report |= report;
		j->flags |= flags;
		return 0;
	}
	if (c->njobs >= c->max_jobs)
		return -ENOSPC;
	j = calloc(1, sizeof(*j));
	if (!j)
		return -ENOMEM;
	j->path = strdup(path);
	if (!j->path) {
		free(j);
		return -ENOMEM;
	}
	j->prio = prio;
	j->parent_wd = parent_wd;
	j->flags = flags;
	j->report = report;
	j->dirs_only = dirs_only;
	TAILQ_INSERT_TAIL(&c->jobs[prio], j, link);
	c->njobs++;
	return 1;
}

static unsigned node_depth(const struct watch_node *n)
{
	unsigned d = 0;
	for (; n && n->parent; n = n->parent)
		d++;
	return d;
}

/* Take ownership of fd (a folder) as the job's new top frame. */
static int push_frame(struct crawl *c, struct crawl_job *j, int fd, int wd,
		      unsigned depth, const char *path)
{
	struct crawl_frame *nf, *f;
	DIR *d;

	nf = realloc(j->frames, (j->nframes + 1) * sizeof(*nf));
	if (!nf) {
		close(fd);
		return -ENOMEM;
	}
	j->frames = nf;
	d = fdopendir(fd);
	if (!d) {
		int r = -errno;
		close(fd);
		return r;
	}
	f = &j->frames[j->nframes];
	f->path = strdup(path);
	if (!f->path) {
		closedir(d);
		return -ENOMEM;
	}
	f->d = d;
	f->wd = wd;
	f->depth = depth;
	f->gen = c->w->generation;
	j->nframes++;
	j->stats.dirs++;
	return 0;
}

/* Watch and open one folder; on success it becomes the top frame. */
static void enter(struct crawl *c, struct crawl_job *j, int fd, const char *path,
		  const char *name, struct watch_node *parent, unsigned flags,
		  unsigned depth)
{
	struct watch_node *node = NULL;
	int r = watch_add(c->w, fd, path, parent, parent ? name : path, flags | WN_TREE, &node);

	if (r < 0) {
		/* Out of watches (or the folder vanished): list it anyway so
		 * that what is there now is scanned; the caller rescans it
		 * later. */
		j->stats.unwatched++;
		c->cb.dir_error(c->cb.ud, path, r, true);
		node = NULL;
	}
	if (push_frame(c, j, fd, node ? node->wd : -1, depth, path) < 0)
		j->stats.unreadable++;
}

static void start(struct crawl *c, struct crawl_job *j)
{
	struct watch_node *parent = NULL;
	unsigned depth = 0;
	const char *name;
	int fd;

	j->started = true;
	if (j->parent_wd >= 0) {
		parent = watch_node_by_wd(c->w, j->parent_wd);
		if (!parent)
			return; /* the parent went away meanwhile: so did this */
		depth = node_depth(parent) + 1;
		if (depth > c->max_depth) {
			j->stats.too_deep++;
			return;
		}
	}
	if (c->cb.excluded(c->cb.ud, j->path))
		return;
	fd = fsopen_dir(j->path);
	if (fd < 0) {
		if (fd != -ENOENT && fd != -ENOTDIR) {
			j->stats.unreadable++;
			c->cb.dir_error(c->cb.ud, j->path, fd, false);
		}
		return;
	}
	name = strrchr(j->path, '/');
	name = name && name[1] ? name + 1 : j->path;
	enter(c, j, fd, j->path, name, parent, j->flags, depth);
}

/* The frame's current path, or NULL if its folder is no longer watched. */
static const char *frame_path(struct crawl *c, struct crawl_frame *f)
{
	char buf[PATH_MAX];
	struct watch_node *n;
	char *np;

	if (f->wd < 0 || f->gen == c->w->generation)
		return f->path;
	n = watch_node_by_wd(c->w, f->wd);
	if (!n || n->orphan || watch_node_path(n, buf, sizeof(buf)) < 0)
		return NULL;
	np = strdup(buf);
	if (!np)
		return f->path;
	free(f->path);
	f->path = np;
	f->gen = c->w->generation;
	return f->path;
}

/* One entry of the top frame.  Returns false when the queue is full. */
static bool one_entry(struct crawl *c, struct crawl_job *j)
{
	struct crawl_frame *f = &j->frames[j->nframes - 1];
	char name[NAME_MAX + 1], full[PATH_MAX];
	const char *dir = frame_path(c, f);
	unsigned char type = DT_UNKNOWN;
	struct stat st;
	int r;

	if (!dir) {
		pop_frame(j);
		return true;
	}
	if (j->pending) {
		snprintf(name, sizeof(name), "%s", j->pending);
		free(j->pending);
		j->pending = NULL;
	} else {
		struct dirent *de;
		errno = 0;
		de = readdir(f->d);
		if (!de) {
			pop_frame(j);
			return true;
		}
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			return true;
		snprintf(name, sizeof(name), "%s", de->d_name);
		type = de->d_type;
	}
	if (snprintf(full, sizeof(full), "%s%s%s", dir, strcmp(dir, "/") ? "/" : "", name) >=
	    (int)sizeof(full))
		return true;
	if (c->cb.excluded(c->cb.ud, full))
		return true;
	if (j->dirs_only && type != DT_DIR && type != DT_UNKNOWN)
		return true;
	if (type == DT_UNKNOWN || type == DT_REG) {
		if (fstatat(dirfd(f->d), name, &st, AT_SYMLINK_NOFOLLOW) < 0)
			return true; /* gone meanwhile */
		type = S_ISREG(st.st_mode) ? DT_REG : S_ISDIR(st.st_mode) ? DT_DIR : DT_LNK;
	}
	if (type == DT_REG && j->dirs_only)
		return true;
	if (type == DT_REG) {
		r = c->cb.file(c->cb.ud, full, &st, j->prio);
		if (r == -ENOSPC) {
			j->pending = strdup(name);
			if (j->pending)
				c->blocked = true;
			return !j->pending;
		}
		j->stats.files++;
		if (r > 0)
			j->stats.queued++;
		return true;
	}
	if (type != DT_DIR) {
		j->stats.special++; /* symlinks, FIFOs, sockets, devices: never opened */
		return true;
	}
	if (f->depth + 1 > c->max_depth) {
		j->stats.too_deep++;
		return true;
	}
	r = openat(dirfd(f->d), name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (r < 0) {
		if (errno != ENOENT && errno != ENOTDIR && errno != ELOOP) {
			j->stats.unreadable++;
			c->cb.dir_error(c->cb.ud, full, -errno, false);
		}
		return true;
	}
	/* `f` may move when frames grow: read what is needed first */
	struct watch_node *parent = f->wd >= 0 ? watch_node_by_wd(c->w, f->wd) : NULL;
	enter(c, j, r, full, name, parent, 0, f->depth + 1);
	return true;
}

bool crawl_step(struct crawl *c, unsigned budget)
{
	while (budget > 0 && !c->blocked) {
		struct crawl_job *j = TAILQ_FIRST(&c->jobs[CRAWL_HIGH]);
		if (!j)
			j = TAILQ_FIRST(&c->jobs[CRAWL_LOW]);
		if (!j)
			break;
		prio_io_idle(j->prio == CRAWL_LOW);
		if (!j->started)
			start(c, j);
		while (budget > 0 && j->nframes > 0) {
			budget--;
			if (!one_entry(c, j))
				break;
		}
		if (j->nframes == 0 && !j->pending) {
			if (j->report)
				c->cb.done(c->cb.ud, j->path, &j->stats, j->dirs_only);
			job_remove(c, j);
		}
	}
	prio_io_idle(false);
	return c->njobs > 0 && !c->blocked;
}
