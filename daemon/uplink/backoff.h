/* backoff.h - when to try the receiver again after a failure: exponential
 * back-off with jitter, capped, and never earlier than the receiver asked
 * for with Retry-After.
 *
 * The delay after the n-th consecutive failure is drawn uniformly from
 * [d/2, d] with d = min(max, min * 2^(n-1)): doubling spreads a fleet of
 * laptops that lost the receiver at the same moment, the jitter keeps them
 * from coming back in step, and the lower half-bound keeps one laptop from
 * hammering.  A Retry-After is honoured up to BACKOFF_RETRY_AFTER_MAX, so
 * that a wrong header cannot hold alerts back for days.
 */
#ifndef HW_UPLINK_BACKOFF_H
#define HW_UPLINK_BACKOFF_H

#include <stdbool.h>
#include <stdint.h>

#define BACKOFF_USEC_PER_SEC UINT64_C(1000000)
#define BACKOFF_RETRY_AFTER_MAX (3600 * BACKOFF_USEC_PER_SEC) /* one hour */

struct backoff {
	uint64_t min_usec, max_usec;
	unsigned failures; /* consecutive, since the last success */
};

/* min_usec > 0, max_usec >= min_usec. */
void backoff_init(struct backoff *b, uint64_t min_usec, uint64_t max_usec);

/* Count a failure and return the delay before the next attempt (usec).
 * retry_after_usec: what the receiver asked for (0: nothing).  When the
 * request was cut to BACKOFF_RETRY_AFTER_MAX, *ret_capped (if not NULL) is
 * set to true, else false, so that the caller can report it. */
uint64_t backoff_fail(struct backoff *b, uint64_t retry_after_usec, bool *ret_capped);

/* A success: the next failure starts again from min. */
void backoff_reset(struct backoff *b);

#endif
