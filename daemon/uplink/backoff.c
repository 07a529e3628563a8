/* backoff.c - exponential back-off with jitter; see backoff.h. */
#include <sodium.h>

#include "backoff.h"

void backoff_init(struct backoff *b, uint64_t min_usec, uint64_t max_usec)
{
	b->min_usec = min_usec ? min_usec : 1;
	b->max_usec = max_usec < b->min_usec ? b->min_usec : max_usec;
	b->failures = 0;
}

uint64_t backoff_fail(struct backoff *b, uint64_t retry_after_usec, bool *ret_capped)
{
	uint64_t d = b->min_usec;
	bool capped = false;

	/* The shift stops at the cap, so it cannot overflow. */
	for (unsigned i = 1; i < b->failures + 1 && d < b->max_usec; i++)
		d *= 2;
	if (d > b->max_usec)
		d = b->max_usec;
	if (b->failures < 64)
		b->failures++;
	/* Uniform in [d/2, d] at millisecond resolution (randombytes_uniform
	 * takes 32 bits; d/2 in ms fits for any cap below 49 days). */
	uint64_t half_ms = d / 2 / 1000;
	uint64_t jitter_ms = half_ms ? randombytes_uniform((uint32_t)(half_ms + 1)) : 0;
	uint64_t delay = d - d / 2 + jitter_ms * 1000;
	if (delay > d)
		delay = d;
	if (retry_after_usec > BACKOFF_RETRY_AFTER_MAX) {
		retry_after_usec = BACKOFF_RETRY_AFTER_MAX;
		capped = true;
	}
	if (delay < retry_after_usec)
		delay = retry_after_usec;
	if (ret_capped)
		*ret_capped = capped;
	return delay;
}

void backoff_reset(struct backoff *b)
{
	b->failures = 0;
}
