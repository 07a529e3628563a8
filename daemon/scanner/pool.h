/* pool.h - the daemon's side of the worker processes: start them
 * (pre-forked, re-executed as `hashwatchd --worker` so they inherit no
 * memory and no descriptor but their socket), hand each a file descriptor
 * over SCM_RIGHTS, wait for its reply under a timeout, validate it, and
 * replace any worker that crashes, hangs or breaks the protocol.
 *
 * Runs inside the daemon's sd-event loop; worker exits are watched through
 * pidfds (Linux 5.3), so no SIGCHLD handling is needed.  Each submitted job
 * ends in exactly one call of `done`, whatever happens to the worker.
 */
#ifndef HW_SCANNER_POOL_H
#define HW_SCANNER_POOL_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include <systemd/sd-event.h>

#include "hasher.h"
#include "proto.h"

/* Pool errors reported to `done` (besides the worker's own read/decode
 * errors, which are negative errno values from hasher_run). */
#define POOL_ETIMEOUT (-ETIME)         /* decode_timeout_ms exceeded */
#define POOL_ECRASH (-ECONNABORTED)    /* worker died */
#define POOL_EPROTO (-EPROTO)          /* malformed reply */

/* error: 0, a worker error or a POOL_E* code.  res: the hashes computed
 * (digests may be there even when error != 0), NULL after a POOL_E*.
 * reason: one line, never NULL when error != 0. */
typedef void (*pool_done_fn)(void *ud, void *job, int error,
			     const struct hasher_result *res, const char *reason);
/* A worker became free (after a rest, a restart). */
typedef void (*pool_ready_fn)(void *ud);
/* Something the daemon should log: a crash, a restart, back-off. */
typedef void (*pool_log_fn)(void *ud, int prio, const char *msg);
/* A worker was killed by its seccomp filter (already logged through
 * pool_log_fn); msg: "worker killed by seccomp (syscall N name)". */
typedef void (*pool_violation_fn)(void *ud, const char *msg);

struct pool_opts {
	unsigned workers;
	const char *exe;        /* binary to run; opened once at pool_start */
	char *const *argv;      /* e.g. { "hashwatchd", "--worker", NULL } */
	uint64_t timeout_usec;
	unsigned cpu_budget;    /* percent of one CPU per worker, 1..100 */
	uint64_t max_bytes;
	uint64_t max_pixels;
	pool_done_fn done;
	pool_ready_fn ready;
	pool_log_fn log;
	pool_violation_fn violation; /* may be NULL */
	void *ud;
	/* The workers' sandbox (sandbox.h), passed on their command line:
	 * RLIMIT_AS; RLIMIT_CPU (derived from timeout_usec, see pool.c);
	 * recycled after worker_files files (0 = never); OpenCV loaded. */
	uint64_t worker_memory;
	unsigned worker_files;
	bool worker_opencv;
};

/* PW_STARTING: started, not yet in its sandbox (no file goes to it). */
enum pool_wstate { PW_DEAD, PW_STARTING, PW_IDLE, PW_BUSY, PW_RESTING };

struct pool;

struct pool_worker {
	struct pool *pool;
	enum pool_wstate state;
	pid_t pid;
	int sock;
	sd_event_source *io, *timer, *child; /* child: the pidfd */
	uint64_t seq;
	uint32_t models, flags;
	void *job;
	uint64_t started_usec;  /* process start, for crash back-off */
	uint64_t last_cpu;
	unsigned quick_deaths;  /* consecutive deaths soon after start */
	unsigned jobs;
	uint64_t cpu_limit_usec; /* its RLIMIT_CPU */
	int denied_syscall;     /* from its sandbox report; -1 none */
	bool recycling;         /* killed on purpose: not a crash */
	bool recycle_after_job; /* its command line is out of date */
};

struct pool_stats {
	uint64_t jobs, crashes, timeouts, protocol_errors, spawn_failures, restarts;
	uint64_t seccomp_kills, recycled;
};

struct pool {
	sd_event *ev;
	struct pool_opts o;
	int exe_fd;
	struct pool_worker *w;
	uint64_t next_seq;
	struct pool_stats stats;
	/* the workers' command line: o.argv, then the sandbox options */
	char *argv[16];
	char arg_memory[48], arg_cpu[48];
};

/* Start o->workers workers.  Returns 0 or -errno (cannot open o->exe,
 * cannot create the first worker).  Workers that die later are restarted
 * with back-off; pool_start does not wait for them to be ready. */
int pool_start(struct pool *p, sd_event *ev, const struct pool_opts *o);

/* Kill and reap all workers, report their jobs as POOL_ECRASH ("stopped"),
 * free everything.  Accepts a zeroed pool. */
void pool_stop(struct pool *p);

/* Give fd (borrowed: the caller closes its copy afterwards) to an idle
 * worker.  Returns 0 (done will be called), -EBUSY (no idle worker) or
 * -errno (the send failed; the worker is replaced; done is not called). */
int pool_submit(struct pool *p, int fd, uint32_t models, uint32_t flags, void *job);

bool pool_has_idle(const struct pool *p);
unsigned pool_busy(const struct pool *p);

/* Change limits for later jobs (SIGHUP). */
void pool_set_limits(struct pool *p, uint64_t timeout_usec, unsigned cpu_budget,
		     uint64_t max_bytes, uint64_t max_pixels);

/* Change the workers' sandbox options (SIGHUP, lists that start or stop
 * using OpenCV models).  Workers started with other options are replaced:
 * idle ones now, busy ones when their file is done. */
void pool_set_sandbox(struct pool *p, uint64_t worker_memory, unsigned worker_files,
		      bool worker_opencv);

#endif
