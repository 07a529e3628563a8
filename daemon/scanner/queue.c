/* queue.c - three FIFO lists (settling, ready from events, ready from
 * crawls) plus a path index.  Settle delays are all equal, so appending to
 * the settling list keeps it sorted by due time: no heap needed. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "queue.h"

static const void *item_key(const void *item, size_t *len)
{
	const struct queue_item *it = item;
	*len = it->pathlen;
	return it->path;
}

int queue_init(struct queue *q, size_t max, unsigned settle_ms)
{
	memset(q, 0, sizeof(*q));
	TAILQ_INIT(&q->settling);
	TAILQ_INIT(&q->ready_event);
	TAILQ_INIT(&q->ready_crawl);
	q->max = max;
	q->settle_usec = (uint64_t)settle_ms * 1000;
	return htab_init(&q->index, item_key, max);
}

static struct queue_list *list_of(struct queue *q, const struct queue_item *it)
{
	if (!it->ready)
		return &q->settling;
	return it->origin == QUEUE_EVENT ? &q->ready_event : &q->ready_crawl;
}

void queue_free(struct queue *q)
{
	struct queue_list *lists[3];
	if (!q || !q->index.slots)
		return;
	lists[0] = &q->settling;
	lists[1] = &q->ready_event;
	lists[2] = &q->ready_crawl;
	for (int i = 0; i < 3; i++) {
		struct queue_item *it;
		while ((it = TAILQ_FIRST(lists[i]))) {
			TAILQ_REMOVE(lists[i], it, link);
			free(it);
		}
	}
	htab_free(&q->index);
}

/* Record size and mtime; false if the path is gone. */
static bool look(struct queue_item *it)
{
	struct stat st;
	if (fstatat(AT_FDCWD, it->path, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return false;
	it->size = st.st_size;
	it->mtime_ns = (int64_t)st.st_mtim.tv_sec * 1000000000 + st.st_mtim.tv_nsec;
	it->have_stat = true;
	return true;
}

static void start_settling(struct queue *q, struct queue_item *it, uint64_t now)
{
	it->origin = QUEUE_EVENT;
	if (q->settle_usec == 0) {
		it->ready = true;
	} else {
		it->ready = false;
		it->have_stat = false;
		look(it);
		it->due_usec = now + q->settle_usec;
	}
	TAILQ_INSERT_TAIL(list_of(q, it), it, link);
}

int queue_push(struct queue *q, const char *path, enum queue_origin origin,
	       uint64_t now_usec)
{
	size_t len = strlen(path);
	struct queue_item *it;
	int r;

	if (len >= PATH_MAX)
		return -ENAMETOOLONG;
	it = htab_get(&q->index, path, len);
	if (it) {
		/* Another event for a settling file (IN_CREATE, then the writer's
		 * IN_CLOSE_WRITE) starts its settle period again from now: counted
		 * from the creation, the look at its end would see the bytes written
		 * since and wait a second period.  A crawl item touched by an event
		 * starts settling. */
		if (origin == QUEUE_EVENT && (!it->ready || it->origin == QUEUE_CRAWL)) {
			TAILQ_REMOVE(list_of(q, it), it, link);
			start_settling(q, it, now_usec);
		}
		return 0;
	}
	if (queue_full(q))
		return -ENOSPC;
	it = calloc(1, sizeof(*it) + len + 1);
	if (!it)
		return -ENOMEM;
	memcpy(it->path, path, len + 1);
	it->pathlen = len;
	r = htab_put(&q->index, it);
	if (r < 0) {
		free(it);
		return r;
	}
	if (origin == QUEUE_EVENT) {
		start_settling(q, it, now_usec);
	} else {
		it->origin = QUEUE_CRAWL;
		it->ready = true;
		TAILQ_INSERT_TAIL(&q->ready_crawl, it, link);
	}
	return 1;
}

size_t queue_settle(struct queue *q, uint64_t now_usec)
{
	struct queue_item *it;
	size_t moved = 0;

	while ((it = TAILQ_FIRST(&q->settling)) && it->due_usec <= now_usec) {
		bool had = it->have_stat;
		int64_t size = it->size, mtime = it->mtime_ns;

		TAILQ_REMOVE(&q->settling, it, link);
		if (!look(it)) {
			htab_del(&q->index, it->path, it->pathlen);
			free(it);
			q->vanished++;
			continue;
		}
		if (had && size == it->size && mtime == it->mtime_ns) {
			it->ready = true;
			TAILQ_INSERT_TAIL(&q->ready_event, it, link);
			moved++;
		} else {
			it->due_usec = now_usec + q->settle_usec;
			TAILQ_INSERT_TAIL(&q->settling, it, link);
		}
	}
	return moved;
}

uint64_t queue_next_due(const struct queue *q)
{
	const struct queue_item *it = TAILQ_FIRST(&q->settling);
	return it ? it->due_usec : UINT64_MAX;
}

struct queue_item *queue_pop(struct queue *q)
{
	struct queue_item *it = TAILQ_FIRST(&q->ready_event);
	struct queue_list *l = &q->ready_event;

	if (!it) {
		it = TAILQ_FIRST(&q->ready_crawl);
		l = &q->ready_crawl;
	}
	if (!it)
		return NULL;
	TAILQ_REMOVE(l, it, link);
	htab_del(&q->index, it->path, it->pathlen);
	return it;
}
