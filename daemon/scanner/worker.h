/* worker.h - the worker process: receives an open file descriptor, reads
 * it (bounded), hashes it with hasher_run() and replies with proto_result.
 *
 * A worker is started as `hashwatchd --worker` with its socket on fd
 * PROTO_WORKER_FD and nothing else open.  Everything it will ever need is
 * set up before the first request is read (libvips initialised, loaders
 * registered) so that the sandbox of issue 8 can forbid open() and friends
 * from that point on: worker_sandbox() is the one place that will do it.
 * Untrusted bytes are only ever touched after it.
 */
#ifndef HW_SCANNER_WORKER_H
#define HW_SCANNER_WORKER_H

#include <stdbool.h>

/* Run the worker loop on sock until the daemon closes it.  opencv: load
 * the OpenCV module up front (the lists use its models), since nothing may
 * be loaded once the sandbox is on.  Returns the process exit status: 0 on
 * a clean end, 2 if initialisation failed, 3 on a malformed request. */
int worker_main(const char *argv0, int sock, bool opencv);

#endif
