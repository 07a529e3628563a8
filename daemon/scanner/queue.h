/* queue.h - the scan queue: paths waiting to be hashed, deduplicated,
 * bounded, with a settle delay for files that just changed.
 *
 * A path changed by an event (close after write, moved in, created) waits
 * until its size and mtime stay the same across one settle period, so a
 * file still being written is not hashed half-way.  Paths found by a crawl
 * are ready at once but yield to event paths (a file the student just
 * saved is checked before the backlog).  A path is in the queue at most
 * once.  The queue never holds more than `max` paths: a push beyond that
 * fails with -ENOSPC and the caller must remember to rescan instead (it
 * must never drop the event silently).
 */
#ifndef HW_SCANNER_QUEUE_H
#define HW_SCANNER_QUEUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/queue.h>

#include "htab.h"

enum queue_origin {
	QUEUE_EVENT, /* inotify: settle first, then before crawl items */
	QUEUE_CRAWL, /* initial / list-change crawl: ready at once, last */
};

struct queue_item {
	TAILQ_ENTRY(queue_item) link;
	enum queue_origin origin;
	bool ready;
	bool have_stat;
	uint64_t due_usec;  /* settling: when to look again */
	int64_t size;       /* at the last look */
	int64_t mtime_ns;
	size_t pathlen;
	char path[];
};

TAILQ_HEAD(queue_list, queue_item);

struct queue {
	struct htab index; /* path -> item */
	struct queue_list settling;
	struct queue_list ready_event;
	struct queue_list ready_crawl;
	size_t max;
	uint64_t settle_usec;
	uint64_t vanished; /* paths dropped because the file went away */
};

/* Returns 0 or -ENOMEM. */
int queue_init(struct queue *q, size_t max, unsigned settle_ms);
/* Frees every queued item; accepts a zeroed queue. */
void queue_free(struct queue *q);

/* Queue path (copied).  If it is queued already nothing is added: an event
 * for a settling item starts its settle period again from now_usec (the
 * settle counts from the last close, not from the creation), and a crawl
 * item touched by an event starts settling.  Returns 1 if added,
 * 0 if already queued, -ENOSPC if the queue is full, -ENAMETOOLONG,
 * -ENOMEM. */
int queue_push(struct queue *q, const char *path, enum queue_origin origin,
	       uint64_t now_usec);

/* Look again at settling items due by now: unchanged ones become ready,
 * changed ones wait another period, vanished ones are dropped.  Returns
 * the number that became ready. */
size_t queue_settle(struct queue *q, uint64_t now_usec);

/* When the first settling item is due; UINT64_MAX when none settles. */
uint64_t queue_next_due(const struct queue *q);

/* Take the next ready item (event items first) or NULL.  The caller owns
 * it and frees it with free(). */
struct queue_item *queue_pop(struct queue *q);

static inline size_t queue_length(const struct queue *q)
{
	return htab_count(&q->index);
}

static inline bool queue_full(const struct queue *q)
{
	return queue_length(q) >= q->max;
}

static inline bool queue_has_ready(const struct queue *q)
{
	return !TAILQ_EMPTY(&q->ready_event) || !TAILQ_EMPTY(&q->ready_crawl);
}

#endif
