/* prio.c - ioprio_set(2), which libc does not wrap. */
#include <errno.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "prio.h"

/* from <linux/ioprio.h>, which not every libc's headers carry */
#define IOPRIO_CLASS_SHIFT 13
#define IOPRIO_CLASS_BE 2
#define IOPRIO_CLASS_IDLE 3
#define IOPRIO_WHO_PROCESS 1

int prio_io_idle(bool idle)
{
	static int current = -1;
	int want = idle ? IOPRIO_CLASS_IDLE : IOPRIO_CLASS_BE;

	if (want == current)
		return 0;
	if (syscall(SYS_ioprio_set, IOPRIO_WHO_PROCESS, 0,
		    (want << IOPRIO_CLASS_SHIFT) | (idle ? 0 : 7)) < 0)
		return -errno;
	current = want;
	return 0;
}
