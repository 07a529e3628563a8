/* memfit.c - the lists' memory against the cgroup's limits (memfit.h). */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fileio.h"
#include "memfit.h"

/* The first line of a file that `take` accepts: take returns -ENOENT to
 * pass a line over, else its result (0: out is filled) ends the search. */
static int first_line(const char *path, int (*take)(char *line, char *out, size_t len),
		      char *out, size_t len)
{
	FILE *f = fopen(path, "re");
	char line[4096];
	int r = -ENOENT;

	if (!f)
		return -errno;
	while (r == -ENOENT && fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\n")] = '\0';
		r = take(line, out, len);
	}
	fclose(f);
	return r;
}

static int copy_out(const char *s, char *out, size_t len)
{
	return (size_t)snprintf(out, len, "%s", s) >= len ? -ENAMETOOLONG : 0;
}

/* A mountinfo line of the cgroup2 file system (its type follows " - "):
 * its mount point, the fifth field. */
static int take_cgroup2_mount(char *line, char *out, size_t len)
{
	char *sep = strstr(line, " - "), *save = NULL, *tok;
	unsigned field = 0;

	if (!sep || strncmp(sep + 3, "cgroup2 ", 8) != 0)
		return -ENOENT;
	*sep = '\0';
	for (tok = strtok_r(line, " ", &save); tok && ++field < 5; tok = strtok_r(NULL, " ", &save))
		;
	return tok ? copy_out(tok, out, len) : -EBADMSG;
}

/* The "0::PATH" line of /proc/self/cgroup: the cgroup v2 path. */
static int take_cgroup2_path(char *line, char *out, size_t len)
{
	return strncmp(line, "0::", 3) == 0 ? copy_out(line + 3, out, len) : -ENOENT;
}

/* A memory.high or memory.max file: a byte count or "max". */
static int read_limit(const char *path, uint64_t *ret)
{
	char *buf, *end;
	size_t len;
	unsigned long long v;
	int r = hw_read_file(path, 64, (void **)&buf, &len);

	if (r < 0)
		return r == -EFBIG ? -EBADMSG : r;
	buf[strcspn(buf, "\n")] = '\0';
	errno = 0;
	v = strtoull(buf, &end, 10);
	if (strcmp(buf, "max") == 0)
		*ret = MEMFIT_NONE;
	else if (errno || end == buf || *end || buf[0] == '-')
		r = -EBADMSG;
	else
		*ret = v;
	free(buf);
	return r;
}

int memfit_read(const char *mountinfo, const char *cgroup, struct memfit_limits *ret)
{
	char mnt[PATH_MAX], rel[PATH_MAX], path[2 * PATH_MAX + 32];
	int r;

	if ((r = first_line(mountinfo, take_cgroup2_mount, mnt, sizeof(mnt))) < 0 ||
	    (r = first_line(cgroup, take_cgroup2_path, rel, sizeof(rel))) < 0)
		return r;
	snprintf(path, sizeof(path), "%s%s/memory.high", mnt, rel);
	if ((r = read_limit(path, &ret->high)) < 0)
		return r;
	snprintf(path, sizeof(path), "%s%s/memory.max", mnt, rel);
	return read_limit(path, &ret->max);
}

bool memfit_short(uint64_t need, const struct memfit_limits *l, char *msg, size_t len)
{
	bool high = l->high != MEMFIT_NONE && need > l->high;
	bool max = l->max != MEMFIT_NONE && need > l->max;
	/* need in MiB, rounded up to a multiple of 64 */
	uint64_t mib = ((need + ((uint64_t)64 << 20) - 1) >> 20) & ~(uint64_t)63;
	char limits[128], fix[128];

	if (!high && !max)
		return false;
	if (high && max) {
		snprintf(limits, sizeof(limits),
			 "MemoryHigh is %" PRIu64 " MiB and MemoryMax %" PRIu64 " MiB",
			 l->high >> 20, l->max >> 20);
		snprintf(fix, sizeof(fix), "MemoryHigh=%" PRIu64 "M MemoryMax=%" PRIu64 "M", mib,
			 mib + 512);
	} else if (high) {
		snprintf(limits, sizeof(limits), "MemoryHigh is %" PRIu64 " MiB", l->high >> 20);
		snprintf(fix, sizeof(fix), "MemoryHigh=%" PRIu64 "M", mib);
	} else {
		snprintf(limits, sizeof(limits), "MemoryMax is %" PRIu64 " MiB", l->max >> 20);
		snprintf(fix, sizeof(fix), "MemoryMax=%" PRIu64 "M", mib + 512);
	}
	snprintf(msg, len,
		 "the lists and the scanner need about %" PRIu64 " MiB of memory, but this "
		 "service's %s: the kernel will drop list pages and read them back from disk "
		 "during matches, which makes every scan slow.  Raise %s (systemctl edit "
		 "hashwatchd, then under [Service]: %s) or use smaller lists",
		 need >> 20, limits, high && max ? "them" : "it", fix);
	return true;
}
