/* memfit.h - do the lists fit in the service's memory limit?
 *
 * hashwatchd matches on its lists where they lie in memory (about 90 bytes
 * per PDQ entry: a 10M-entry list is 880 MB).  A cgroup limit below that
 * (systemd's MemoryHigh= or MemoryMax=) makes the kernel drop list pages
 * and read them back from disk in the middle of matches: a scan that took
 * under a millisecond per image then takes seconds.  The daemon checks
 * after every list load and says so in the journal, with the fix. */
#ifndef HASHWATCH_MEMFIT_H
#define HASHWATCH_MEMFIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MEMFIT_NONE UINT64_MAX /* no limit ("max") */

/* What the daemon needs besides its lists: itself, its scan cache and the
 * memory its workers use while decoding. */
#define MEMFIT_HEADROOM ((uint64_t)256 << 20)

struct memfit_limits {
	uint64_t high, max; /* bytes, or MEMFIT_NONE */
};

/* This process's cgroup v2 memory.high and memory.max, found from
 * `mountinfo` (/proc/self/mountinfo: where cgroup2 is mounted) and
 * `cgroup` (/proc/self/cgroup: the "0::" line).  0, -ENOENT when there is
 * no cgroup v2 memory controller for this process (cgroup v1, or a
 * process outside any service), -EBADMSG for a value it cannot read, or
 * -errno. */
int memfit_read(const char *mountinfo, const char *cgroup, struct memfit_limits *ret);

/* Whether `need` bytes exceed a limit; if so, a message naming the limit,
 * both sizes and what to do, in msg. */
bool memfit_short(uint64_t need, const struct memfit_limits *l, char *msg, size_t len);

#endif
