/* prio.h - I/O scheduling class of the calling thread, so that crawls and
 * background hashing only use the disk when nobody else wants it. */
#ifndef HW_SCANNER_PRIO_H
#define HW_SCANNER_PRIO_H

#include <stdbool.h>

/* idle: the IDLE class; else best-effort at the lowest level (7).  Best
 * effort: returns 0 or -errno, and the caller carries on either way.
 * Repeated calls with the same value make no system call. */
int prio_io_idle(bool idle);

#endif
