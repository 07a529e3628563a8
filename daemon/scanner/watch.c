/* watch.c - inotify events to callbacks, and the node tree (see watch.h).
 *
 * Folder moves: IN_MOVED_FROM marks the node an orphan with the event's
 * cookie; the IN_MOVED_TO with the same cookie, which the kernel queues
 * together with it, re-attaches it under its new parent and name.  An
 * orphan still unclaimed once the event queue is drained left the tree and
 * its watches are removed.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <unistd.h>

#include "watch.h"

/* What folders are watched for: tree folders for file and folder events,
 * anchors (see watch.h) only for folder events, so that activity in a home
 * folder outside the watched trees does not wake the daemon. */
#define TREE_MASK                                                              \
	(IN_CLOSE_WRITE | IN_MOVED_TO | IN_MOVED_FROM | IN_CREATE | IN_DELETE | \
	 IN_DELETE_SELF | IN_MOVE_SELF | IN_DONT_FOLLOW | IN_ONLYDIR |          \
	 IN_EXCL_UNLINK)
#define ANCHOR_MASK                                                            \
	(IN_MOVED_TO | IN_MOVED_FROM | IN_CREATE | IN_DELETE | IN_DELETE_SELF | \
	 IN_MOVE_SELF | IN_DONT_FOLLOW | IN_ONLYDIR)
#define READ_BUF (64 * 1024)
#define MAX_NODES (16u * 1024 * 1024) /* far above any inotify limit */

static const void *node_key(const void *item, size_t *len)
{
	const struct watch_node *n = item;
	*len = sizeof(n->wd);
	return &n->wd;
}

int watch_init(struct watch *w, const struct watch_callbacks *cb)
{
	int r;

	memset(w, 0, sizeof(*w));
	w->cb = *cb;
	w->fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (w->fd < 0)
		return -errno;
	r = htab_init(&w->nodes, node_key, MAX_NODES);
	if (r < 0) {
		close(w->fd);
		w->fd = -1;
	}
	return r;
}

struct watch_node *watch_node_by_wd(const struct watch *w, int wd)
{
	return htab_get(&w->nodes, &wd, sizeof(wd));
}

static uint32_t mask_for(unsigned flags)
{
	return (flags & WN_TREE) ? TREE_MASK : ANCHOR_MASK;
}

static void detach(struct watch_node *n)
{
	if (n->parent)
		n->parent->nchildren--;
	n->parent = NULL;
}

/* Move n under parent as `name` (a folder renamed or moved in the tree).
 * Returns 0 or -ENOMEM (n is left where it was). */
static int reattach(struct watch *w, struct watch_node *n, struct watch_node *parent,
		    const char *name)
{
	char *nn = strdup(name);
	if (!nn)
		return -ENOMEM;
	detach(n);
	free(n->name);
	n->name = nn;
	n->parent = parent;
	parent->nchildren++;
	n->orphan = false;
	w->generation++;
	return 0;
}

static void free_node(struct watch *w, struct watch_node *n)
{
	htab_del(&w->nodes, &n->wd, sizeof(n->wd));
	detach(n);
	/* Children whose parent goes first (unmount, rm_watch) would keep a
	 * dangling pointer: cut them loose; they go with their own
	 * IN_IGNORED or with the subtree removal that caused this. */
	if (n->nchildren) {
		size_t pos = 0;
		struct watch_node *c;
		while ((c = htab_next(&w->nodes, &pos)))
			if (c->parent == n)
				detach(c);
	}
	free(n->name);
	free(n);
	w->generation++;
}

int watch_node_path(const struct watch_node *n, char *buf, size_t len)
{
	const struct watch_node *chain[PATH_MAX / 2];
	size_t depth = 0, o = 0;

	for (const struct watch_node *p = n; p; p = p->parent) {
		if (depth == sizeof(chain) / sizeof(chain[0]))
			return -ENAMETOOLONG;
		chain[depth++] = p;
	}
	while (depth--) {
		const char *s = chain[depth]->name;
		size_t l = strlen(s);
		bool sep = o > 0 && buf[o - 1] != '/';
		if (o + sep + l + 1 > len)
			return -ENAMETOOLONG;
		if (sep)
			buf[o++] = '/';
		memcpy(buf + o, s, l);
		o += l;
	}
	if (o == 0 || o >= len)
		return -ENAMETOOLONG;
	buf[o] = '\0';
	return 0;
}

int watch_add(struct watch *w, int dirfd, const char *path,
	      struct watch_node *parent, const char *name, unsigned flags,
	      struct watch_node **ret)
{
	struct watch_node *n;
	char proc[64];
	int wd, r;

	/* IN_MASK_ADD: a folder watched already (in another role) keeps the
	 * events it had; masks only ever grow. */
	if (dirfd >= 0) {
		snprintf(proc, sizeof(proc), "/proc/self/fd/%d", dirfd);
		wd = inotify_add_watch(w->fd, proc,
				       (mask_for(flags) & ~(uint32_t)IN_DONT_FOLLOW) | IN_MASK_ADD);
		if (wd < 0 && errno == ENOENT) /* no /proc: fall back to the path */
			wd = inotify_add_watch(w->fd, path, mask_for(flags) | IN_MASK_ADD);
	} else {
		wd = inotify_add_watch(w->fd, path, mask_for(flags) | IN_MASK_ADD);
	}
	if (wd < 0)
		return -errno;
	n = watch_node_by_wd(w, wd);
	if (n) {
		n->flags |= flags;
		n->marked |= flags;
		/* A folder found again under a tree parent while it sat as a
		 * top node (or orphan) takes its place in the tree. */
		if (parent && n->parent != parent && n != parent)
			reattach(w, n, parent, name);
		if (ret)
			*ret = n;
		return 0;
	}
	n = calloc(1, sizeof(*n));
	if (!n) {
		r = -ENOMEM;
		goto fail;
	}
	n->wd = wd;
	n->flags = flags;
	n->marked = flags;
	n->name = strdup(parent ? name : path);
	if (!n->name) {
		r = -ENOMEM;
		goto fail;
	}
	r = htab_put(&w->nodes, n);
	if (r < 0)
		goto fail;
	n->parent = parent;
	if (parent)
		parent->nchildren++;
	if (ret)
		*ret = n;
	return 1;
fail:
	if (n)
		free(n->name);
	free(n);
	inotify_rm_watch(w->fd, wd);
	return r;
}

static bool under(const struct watch_node *n, const struct watch_node *top)
{
	for (; n; n = n->parent)
		if (n == top)
			return true;
	return false;
}

void watch_remove_subtree(struct watch *w, struct watch_node *top)
{
	struct watch_node **all = NULL, *n;
	size_t pos = 0, cnt = 0, cap = 0;

	/* Collect first, free after: ancestry must stay readable while the
	 * table is searched. */
	while ((n = htab_next(&w->nodes, &pos))) {
		if (n == top || !under(n, top))
			continue;
		if (cnt == cap) {
			size_t ncap = cap ? cap * 2 : 64;
			struct watch_node **na = realloc(all, ncap * sizeof(*na));
			if (!na)
				break; /* out of memory: the rest stays watched */
			all = na;
			cap = ncap;
		}
		all[cnt++] = n;
	}
	for (size_t i = 0; i < cnt; i++) {
		inotify_rm_watch(w->fd, all[i]->wd);
		htab_del(&w->nodes, &all[i]->wd, sizeof(all[i]->wd));
	}
	for (size_t i = 0; i < cnt; i++) {
		/* the kernel's IN_IGNORED for these wds will find no node */
		free(all[i]->name);
		free(all[i]);
	}
	free(all);
	inotify_rm_watch(w->fd, top->wd);
	top->nchildren = 0;
	free_node(w, top);
}

void watch_mark_begin(struct watch *w)
{
	struct watch_node *n;
	size_t pos = 0;
	while ((n = htab_next(&w->nodes, &pos)))
		n->marked = 0;
}

/* Remove (with its subtree) every node for which doomed() says so.
 * doomed() may also change the node; it must answer false for a node it
 * has already dealt with, since the scan restarts after each removal (the
 * table changes under it). */
static void remove_where(struct watch *w, bool (*doomed)(struct watch_node *, unsigned),
			 unsigned arg)
{
	bool again = true;
	while (again) {
		struct watch_node *n;
		size_t pos = 0;
		again = false;
		while ((n = htab_next(&w->nodes, &pos))) {
			if (!doomed(n, arg))
				continue;
			watch_remove_subtree(w, n);
			again = true;
			break;
		}
	}
}

/* Drop the roles in mask the node was not given again; true if none is
 * left. */
static bool lost_roles(struct watch_node *n, unsigned mask)
{
	unsigned lost = n->flags & mask & ~n->marked;
	if (!lost)
		return false;
	n->flags &= ~lost;
	if ((lost & WN_ROOT) && !n->parent)
		n->flags &= ~WN_TREE;
	return n->flags == 0;
}

void watch_mark_end(struct watch *w, unsigned mask)
{
	remove_where(w, lost_roles, mask);
}

void watch_free(struct watch *w)
{
	struct watch_node *n;
	size_t pos = 0;

	if (!w || !w->nodes.slots) {
		if (w && w->fd > 0)
			close(w->fd);
		return;
	}
	while ((n = htab_next(&w->nodes, &pos))) {
		free(n->name);
		free(n);
	}
	htab_free(&w->nodes);
	if (w->fd >= 0)
		close(w->fd);
	w->fd = -1;
}

static struct watch_node *find_child(struct watch *w, struct watch_node *parent,
				     const char *name)
{
	struct watch_node *n;
	size_t pos = 0;

	if (!parent->nchildren)
		return NULL;
	while ((n = htab_next(&w->nodes, &pos)))
		if (n->parent == parent && strcmp(n->name, name) == 0)
			return n;
	return NULL;
}

static struct watch_node *find_orphan(struct watch *w, uint32_t cookie)
{
	struct watch_node *n;
	size_t pos = 0;
	while ((n = htab_next(&w->nodes, &pos)))
		if (n->orphan && n->orphan_cookie == cookie)
			return n;
	return NULL;
}

static void dir_event(struct watch *w, struct watch_node *n,
		      const struct inotify_event *ev, const char *path)
{
	if (ev->mask & IN_MOVED_FROM) {
		struct watch_node *c = find_child(w, n, ev->name);
		if (c) {
			c->orphan = true;
			c->orphan_cookie = ev->cookie;
		}
		return;
	}
	if (ev->mask & IN_MOVED_TO) {
		struct watch_node *o = find_orphan(w, ev->cookie);
		if (o && reattach(w, o, n, ev->name) == 0)
			return;
	}
	if (ev->mask & (IN_CREATE | IN_MOVED_TO))
		w->cb.dir(w->cb.ud, path, n);
}

static void dispatch(struct watch *w, const struct inotify_event *ev, bool *sweep)
{
	struct watch_node *n;
	char path[PATH_MAX];

	if (ev->mask & IN_Q_OVERFLOW) {
		w->overflows++;
		w->cb.overflow(w->cb.ud);
		return;
	}
	n = watch_node_by_wd(w, ev->wd);
	if (!n)
		return; /* removed by us; the kernel's late events */
	if (ev->mask & IN_IGNORED) {
		if (!n->parent && (n->flags & (WN_ROOT | WN_ANCHOR)))
			w->cb.anchor(w->cb.ud);
		free_node(w, n);
		return;
	}
	if (ev->mask & (IN_DELETE_SELF | IN_MOVE_SELF)) {
		/* A top node's path is now wrong or gone; inner folders are
		 * handled through their parent's MOVED_FROM/TO. */
		if (!n->parent) {
			if (ev->mask & IN_MOVE_SELF)
				watch_remove_subtree(w, n);
			w->cb.anchor(w->cb.ud);
		}
		return;
	}
	if (!ev->len)
		return;
	if ((n->flags & WN_ANCHOR) && (ev->mask & IN_ISDIR) &&
	    (ev->mask & (IN_CREATE | IN_MOVED_TO | IN_MOVED_FROM | IN_DELETE)))
		w->cb.anchor(w->cb.ud);
	if (!(n->flags & WN_TREE) || n->orphan)
		return;
	if (watch_node_path(n, path, sizeof(path)) < 0)
		return;
	size_t l = strlen(path);
	if (snprintf(path + l, sizeof(path) - l, "%s%s", l > 1 ? "/" : "", ev->name) >=
	    (int)(sizeof(path) - l))
		return;
	if (ev->mask & IN_ISDIR) {
		dir_event(w, n, ev, path);
		if (ev->mask & IN_MOVED_FROM)
			*sweep = true;
		return;
	}
	if (ev->mask & IN_CLOSE_WRITE)
		w->cb.file(w->cb.ud, path, WATCH_FILE_WRITTEN);
	else if (ev->mask & IN_MOVED_TO)
		w->cb.file(w->cb.ud, path, WATCH_FILE_MOVED);
	else if (ev->mask & IN_CREATE)
		w->cb.file(w->cb.ud, path, WATCH_FILE_CREATED);
}

static bool is_orphan(struct watch_node *n, unsigned unused)
{
	(void)unused;
	return n->orphan;
}

/* Folders moved out of every tree: stop watching them. */
static void sweep_orphans(struct watch *w)
{
	remove_where(w, is_orphan, 0);
}

int watch_process(struct watch *w)
{
	char buf[READ_BUF] __attribute__((aligned(__alignof__(struct inotify_event))));
	bool sweep = false;

	for (;;) {
		ssize_t k = read(w->fd, buf, sizeof(buf));
		if (k < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN)
				break;
			return -errno;
		}
		if (k == 0)
			break;
		for (char *p = buf; p < buf + k;) {
			const struct inotify_event *ev = (const struct inotify_event *)(void *)p;
			dispatch(w, ev, &sweep);
			p += sizeof(*ev) + ev->len;
		}
	}
	if (sweep)
		sweep_orphans(w);
	return 0;
}
