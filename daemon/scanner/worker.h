/* worker.h - the worker process: receives an open file descriptor, reads
 * it (bounded), hashes it with hasher_run() and replies with proto_result.
 *
 * A worker is started as `hashwatchd --worker` with its socket on fd
 * PROTO_WORKER_FD and nothing else open.  Everything it will ever need is
 * set up before the first request is read (libvips initialised, loaders
 * registered, a sample of each format decoded) so that the sandbox can
 * forbid open() and friends from that point on.  Untrusted bytes are only
 * ever touched after sandbox_enter().
 */
#ifndef HW_SCANNER_WORKER_H
#define HW_SCANNER_WORKER_H

#include <stdbool.h>
#include <stdint.h>

/* What the daemon tells a worker on its command line (pool.c builds it,
 * main.c parses it). */
struct worker_opts {
	uint64_t memory;    /* RLIMIT_AS in bytes; 0 = none */
	uint64_t cpu_s;     /* RLIMIT_CPU in seconds; 0 = none */
	bool opencv;        /* load the OpenCV module before the sandbox */
};

/* Run the worker loop on sock until the daemon closes it: initialise,
 * warm up, enter the sandbox (sandbox.h), then serve requests.  Returns
 * the process exit status: 0 on a clean end, 2 if initialisation or the
 * sandbox failed, 3 on a malformed request. */
int worker_run(const char *argv0, int sock, const struct worker_opts *o);

/* worker_run() with no rlimits on memory and CPU and without OpenCV (the
 * sandbox is still entered). */
int worker_main(const char *argv0, int sock);

#endif
