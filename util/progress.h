/* progress.h - a one-line progress bar on stderr, drawn only when stderr
 * is a terminal, redrawn at most 10 times a second.
 */
#ifndef HW_PROGRESS_H
#define HW_PROGRESS_H

#include <stdbool.h>
#include <stdint.h>

struct progress {
	bool enabled;
	uint64_t total; /* 0 = unknown: show a count, not a bar */
	uint64_t done;
	uint64_t last_draw_ms;
	const char *label;
};

/* enabled when stderr is a tty and `quiet` is false. */
void progress_init(struct progress *p, const char *label, uint64_t total,
		   bool quiet);
void progress_step(struct progress *p, uint64_t n);
/* Erase the bar (call before printing a result line and at the end). */
void progress_clear(struct progress *p);

#endif
