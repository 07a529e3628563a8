/* progress.c - terminal progress bar. */
#include <stdio.h>
#include <time.h>
#include <unistd.h>

#include "progress.h"

static uint64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

void progress_init(struct progress *p, const char *label, uint64_t total,
		   bool quiet)
{
	p->enabled = !quiet && isatty(STDERR_FILENO);
	p->total = total;
	p->done = 0;
	p->last_draw_ms = 0;
	p->label = label;
}

static void draw(struct progress *p)
{
	enum { WIDTH = 30 };
	if (p->total) {
		unsigned fill = (unsigned)(p->done * WIDTH / (p->total ? p->total : 1));
		char bar[WIDTH + 1];
		for (unsigned i = 0; i < WIDTH; i++)
			bar[i] = i < fill ? '#' : '.';
		bar[WIDTH] = '\0';
		fprintf(stderr, "\r%s [%s] %llu/%llu (%u%%)", p->label, bar,
			(unsigned long long)p->done, (unsigned long long)p->total,
			(unsigned)(p->done * 100 / p->total));
	} else {
		fprintf(stderr, "\r%s %llu", p->label, (unsigned long long)p->done);
	}
	fflush(stderr);
}

void progress_step(struct progress *p, uint64_t n)
{
	p->done += n;
	if (!p->enabled)
		return;
	uint64_t t = now_ms();
	if (t - p->last_draw_ms < 100 && p->done != p->total)
		return;
	p->last_draw_ms = t;
	draw(p);
}

void progress_clear(struct progress *p)
{
	if (p->enabled)
		fprintf(stderr, "\r\033[K");
}
