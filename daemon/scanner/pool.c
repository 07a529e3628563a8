/* pool.c - worker processes under sd-event (see pool.h).
 *
 * Each worker has one socket, one timer (timeout while busy, rest while
 * resting under the CPU budget, back-off while dead) and one child source.
 * Whatever ends a worker (EOF, a bad reply, a timeout), the job is reported
 * once and the process is killed; the child source then reaps it and
 * starts its replacement.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/pidfd.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "pool.h"
#include "sandbox.h"

#define BACKOFF_MIN_USEC (500 * 1000ull)
#define BACKOFF_MAX_USEC (60 * 1000000ull)
#define QUICK_DEATH_USEC (2 * 1000000ull)
#define TIMER_ACCURACY_USEC 1000
#define REAP_RETRY_USEC (100 * 1000ull)
/* A worker's RLIMIT_CPU: ten times the per-file timeout, at least a
 * minute.  It is recycled once it has used half of it, so that only a
 * worker that escapes the timeout (or a file decoded by many threads at
 * once) ever meets the limit. */
#define WORKER_CPU_MIN_S 60
#define WORKER_CPU_TIMEOUTS 10
/* Initialising libvips, warming up its loaders and entering the sandbox
 * takes a second or two on a busy laptop; a worker not ready by then is
 * stuck. */
#define WORKER_START_USEC (30 * 1000000ull)

extern char **environ;

static void plog(struct pool *p, int prio, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void plog(struct pool *p, int prio, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	if (!p->o.log)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	p->o.log(p->o.ud, prio, msg);
}

static uint64_t now_usec(struct pool *p)
{
	uint64_t t = 0;
	sd_event_now(p->ev, CLOCK_MONOTONIC, &t);
	return t;
}

static int arm_timer(struct pool_worker *w, uint64_t usec_from_now)
{
	struct pool *p = w->pool;
	int r = sd_event_source_set_time(w->timer, now_usec(p) + usec_from_now);
	if (r >= 0)
		r = sd_event_source_set_enabled(w->timer, SD_EVENT_ONESHOT);
	return r;
}

static void disarm_timer(struct pool_worker *w)
{
	if (w->timer)
		sd_event_source_set_enabled(w->timer, SD_EVENT_OFF);
}

/* Report the current job, if any, as failed. */
static void fail_job(struct pool_worker *w, int error, const char *reason)
{
	struct pool *p = w->pool;
	void *job = w->job;

	if (w->state != PW_BUSY)
		return;
	w->job = NULL;
	w->state = PW_DEAD;
	disarm_timer(w);
	p->o.done(p->o.ud, job, error, NULL, reason);
}

/* Stop talking to a worker: the pidfd source reaps it and respawns.  The
 * signal goes first, so that the worker never runs on to see its socket
 * close (and, say, exit through handlers that take their time). */
static void kill_worker(struct pool_worker *w)
{
	if (w->pid > 0)
		kill(w->pid, SIGKILL);
	w->io = sd_event_source_disable_unref(w->io);
	if (w->sock >= 0) {
		close(w->sock);
		w->sock = -1;
	}
	if (w->state != PW_BUSY)
		w->state = PW_DEAD;
	disarm_timer(w);
}

#ifndef P_PIDFD
#define P_PIDFD 3
#endif

static int on_reply(sd_event_source *s, int fd, uint32_t revents, void *ud);
static int on_exit_fd(sd_event_source *s, int fd, uint32_t revents, void *ud);
static int reap(struct pool_worker *w);

static uint64_t worker_cpu_s(const struct pool *p)
{
	uint64_t s = (p->o.timeout_usec + 999999) / 1000000 * WORKER_CPU_TIMEOUTS;
	return s < WORKER_CPU_MIN_S ? WORKER_CPU_MIN_S : s;
}

/* The workers' command line: the caller's argv, then the sandbox's
 * options for main.c (a test's own worker mode ignores them). */
static void build_argv(struct pool *p)
{
	static char opencv[] = "--worker-opencv";
	size_t n = 0;

	while (n < sizeof(p->argv) / sizeof(p->argv[0]) - 4 && p->o.argv[n]) {
		p->argv[n] = p->o.argv[n];
		n++;
	}
	snprintf(p->arg_cpu, sizeof(p->arg_cpu), "--worker-cpu=%llu",
		 (unsigned long long)worker_cpu_s(p));
	p->argv[n++] = p->arg_cpu;
	if (p->o.worker_memory) {
		snprintf(p->arg_memory, sizeof(p->arg_memory), "--worker-memory=%llu",
			 (unsigned long long)p->o.worker_memory);
		p->argv[n++] = p->arg_memory;
	}
	if (p->o.worker_opencv)
		p->argv[n++] = opencv;
	p->argv[n] = NULL;
}

/* Replace a worker that did nothing wrong (files or CPU used up, new
 * options): no crash is counted and no back-off applies. */
static void recycle(struct pool_worker *w)
{
	w->recycling = true;
	w->pool->stats.recycled++;
	w->state = PW_DEAD; /* its job, if any, has been answered */
	kill_worker(w);
}

static bool spent(const struct pool_worker *w)
{
	const struct pool *p = w->pool;
	return w->recycle_after_job || (p->o.worker_files && w->jobs >= p->o.worker_files) ||
	       w->last_cpu >= w->cpu_limit_usec / 2;
}

/* A worker killed by SIGSYS sent the call's number first, unless it died
 * before it could; the report may still be waiting on the socket. */
static void take_report(struct pool_worker *w)
{
	uint8_t buf[sizeof(struct sandbox_report) + 1];

	for (int i = 0; i < 4 && w->sock >= 0 && w->denied_syscall < 0; i++) {
		ssize_t k = recv(w->sock, buf, sizeof(buf), MSG_DONTWAIT);
		if (k <= 0)
			break;
		if (sandbox_message_parse(buf, (size_t)k, &w->denied_syscall) != SANDBOX_MSG_DENIED)
			w->denied_syscall = -1;
	}
}

static int spawn(struct pool_worker *w)
{
	struct pool *p = w->pool;
	int sv[2] = { -1, -1 }, pidfd;
	pid_t pid;
	int r;

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
		return -errno;
	pid = fork();
	if (pid < 0) {
		r = -errno;
		close(sv[0]);
		close(sv[1]);
		return r;
	}
	if (pid == 0) {
		sigset_t none;
		/* The daemon blocks the signals sd-event reads from a signalfd;
		 * a blocked mask survives exec, so clear it. */
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		if (sv[1] == PROTO_WORKER_FD) {
			if (fcntl(sv[1], F_SETFD, 0) < 0)
				_exit(127);
		} else if (dup2(sv[1], PROTO_WORKER_FD) < 0) {
			_exit(127);
		}
		/* close-on-exec: the worker keeps its socket and stdio only */
		if (p->exe_fd != PROTO_WORKER_FD + 1 &&
		    dup3(p->exe_fd, PROTO_WORKER_FD + 1, O_CLOEXEC) < 0)
			_exit(127);
		close_range(PROTO_WORKER_FD + 2, ~0u, 0);
		execveat(PROTO_WORKER_FD + 1, "", p->argv, environ, AT_EMPTY_PATH);
		_exit(127);
	}
	close(sv[1]);
	w->pid = pid;
	w->sock = sv[0];
	w->started_usec = now_usec(p);
	w->last_cpu = 0;
	w->jobs = 0;
	w->cpu_limit_usec = worker_cpu_s(p) * 1000000;
	w->denied_syscall = -1;
	w->recycling = false;
	w->recycle_after_job = false;
	/* A pidfd of our own, read from the loop: the exit is noticed and
	 * reaped exactly once, with no SIGCHLD handling involved. */
	pidfd = pidfd_open(pid, 0);
	r = pidfd < 0 ? -errno : sd_event_add_io(p->ev, &w->io, w->sock, EPOLLIN, on_reply, w);
	if (r >= 0)
		r = sd_event_add_io(p->ev, &w->child, pidfd, EPOLLIN, on_exit_fd, w);
	if (r >= 0) {
		sd_event_source_set_io_fd_own(w->child, true);
		pidfd = -1;
	}
	if (r < 0) {
		if (pidfd >= 0)
			close(pidfd);
		kill_worker(w);
		w->child = sd_event_source_disable_unref(w->child);
		waitpid(pid, NULL, 0);
		w->pid = 0;
		w->state = PW_DEAD;
		return r;
	}
	/* idle once it says it is in its sandbox (on_reply) */
	w->state = PW_STARTING;
	arm_timer(w, WORKER_START_USEC);
	return 0;
}

static int on_timer(sd_event_source *s, uint64_t usec, void *ud)
{
	struct pool_worker *w = ud;
	struct pool *p = w->pool;
	char reason[128];
	int r;

	(void)s;
	(void)usec;
	switch (w->state) {
	case PW_BUSY:
		p->stats.timeouts++;
		snprintf(reason, sizeof(reason),
			 "decoding took longer than decode_timeout_ms (%llu ms); worker killed",
			 (unsigned long long)(p->o.timeout_usec / 1000));
		plog(p, LOG_WARNING, "worker %d: %s", (int)w->pid, reason);
		kill_worker(w);
		fail_job(w, POOL_ETIMEOUT, reason);
		break;
	case PW_RESTING:
		w->state = PW_IDLE;
		if (p->o.ready)
			p->o.ready(p->o.ud);
		break;
	case PW_STARTING:
		plog(p, LOG_ERR, "worker %d did not enter its sandbox within %llu s; replacing it",
		     (int)w->pid, (unsigned long long)(WORKER_START_USEC / 1000000));
		kill_worker(w);
		break;
	case PW_DEAD:
		if (w->pid > 0) {
			/* its exit was signalled but it was not reapable yet */
			if (reap(w) == 0)
				arm_timer(w, REAP_RETRY_USEC);
			break;
		}
		/* back-off over: try again */
		r = spawn(w);
		if (r < 0) {
			p->stats.spawn_failures++;
			plog(p, LOG_ERR, "cannot start a worker: %s; retrying", strerror(-r));
			arm_timer(w, BACKOFF_MAX_USEC);
		} else {
			p->stats.restarts++;
		}
		break;
	case PW_IDLE:
		break;
	}
	return 0;
}

static void on_child(struct pool_worker *w, const siginfo_t *si)
{
	struct pool *p = w->pool;
	char reason[128], name[64];
	uint64_t lived = now_usec(p) - w->started_usec, delay;
	bool had_job = w->state == PW_BUSY;
	bool seccomp = si->si_code != CLD_EXITED && si->si_status == SIGSYS;

	if (seccomp) {
		take_report(w);
		p->stats.seccomp_kills++;
		if (w->denied_syscall >= 0)
			snprintf(reason, sizeof(reason), "worker killed by seccomp (syscall %d %s)",
				 w->denied_syscall,
				 sandbox_syscall_name(w->denied_syscall, name, sizeof(name)));
		else
			snprintf(reason, sizeof(reason),
				 "worker killed by seccomp (SIGSYS; the call was not reported)");
	} else if (si->si_code == CLD_EXITED) {
		snprintf(reason, sizeof(reason), "worker exited with status %d", si->si_status);
	} else {
		snprintf(reason, sizeof(reason), "worker killed by signal %d (%s)",
			 si->si_status, strsignal(si->si_status));
	}
	if (w->state == PW_BUSY) {
		p->stats.crashes++;
		plog(p, LOG_WARNING, "worker %d: %s while hashing a file", (int)w->pid, reason);
		kill_worker(w);
		fail_job(w, POOL_ECRASH, reason);
	} else if (w->sock >= 0) {
		/* died while idle: not expected either */
		p->stats.crashes++;
		plog(p, LOG_WARNING, "worker %d: %s while idle", (int)w->pid, reason);
		kill_worker(w);
	}
	if (seccomp && p->o.violation)
		p->o.violation(p->o.ud, reason);
	w->child = sd_event_source_disable_unref(w->child);
	w->pid = 0;
	w->state = PW_DEAD;
	/* A worker that dies on its own soon after starting (it cannot
	 * initialise) would otherwise be restarted in a tight loop.  Deaths
	 * on a file do not count: a folder of hostile files must not be able
	 * to push the restarts back.  Nor do workers replaced on purpose. */
	if (!had_job && lived < QUICK_DEATH_USEC && !w->recycling)
		w->quick_deaths++;
	else
		w->quick_deaths = 0;
	w->recycling = false;
	delay = 0;
	if (w->quick_deaths > 0) {
		delay = BACKOFF_MIN_USEC << (w->quick_deaths < 8 ? w->quick_deaths - 1 : 7);
		if (delay > BACKOFF_MAX_USEC)
			delay = BACKOFF_MAX_USEC;
		if (w->quick_deaths > 1)
			plog(p, LOG_ERR, "worker died %u times right after starting; next try in %llu ms",
			     w->quick_deaths, (unsigned long long)(delay / 1000));
	}
	arm_timer(w, delay);
}

/* Reap the worker if it has exited.  Returns 1 if it was, 0 if not yet. */
static int reap(struct pool_worker *w)
{
	siginfo_t si;
	int fd = w->child ? sd_event_source_get_io_fd(w->child) : -1;

	memset(&si, 0, sizeof(si));
	if (fd < 0 || waitid((idtype_t)P_PIDFD, (id_t)fd, &si, WEXITED | WNOHANG) < 0 ||
	    si.si_pid == 0)
		return 0;
	on_child(w, &si);
	return 1;
}

/* The worker's pidfd is readable: it has exited. */
static int on_exit_fd(sd_event_source *s, int fd, uint32_t revents, void *ud)
{
	struct pool_worker *w = ud;

	(void)fd;
	(void)revents;
	if (reap(w))
		return 0;
	/* Readable but not reapable yet (e.g. a debugger holds it): look
	 * again from the timer instead of spinning on a level-triggered fd. */
	sd_event_source_set_enabled(s, SD_EVENT_OFF);
	if (w->state != PW_BUSY) {
		w->state = PW_DEAD;
		arm_timer(w, REAP_RETRY_USEC);
	}
	return 0;
}

static void protocol_error(struct pool_worker *w, const char *why)
{
	struct pool *p = w->pool;
	char reason[256];

	p->stats.protocol_errors++;
	snprintf(reason, sizeof(reason), "malformed reply from worker: %s; worker killed", why);
	plog(p, LOG_ERR, "worker %d: %s", (int)w->pid, reason);
	kill_worker(w);
	fail_job(w, POOL_EPROTO, reason);
}

static int on_reply(sd_event_source *s, int fd, uint32_t revents, void *ud)
{
	struct pool_worker *w = ud;
	struct pool *p = w->pool;
	struct proto_result *rep;
	struct hasher_result *res = NULL;
	struct iovec iov;
	struct msghdr mh = { 0 };
	char why[256];
	void *job;
	ssize_t k;
	uint64_t cpu, rest = 0;
	int nr;

	(void)s;
	(void)revents;
	/* one byte more than a reply, to see an oversized one */
	rep = malloc(sizeof(*rep) + 1);
	if (!rep) {
		protocol_error(w, "out of memory reading the reply");
		return 0;
	}
	iov.iov_base = rep;
	iov.iov_len = sizeof(*rep) + 1;
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	k = recvmsg(fd, &mh, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
	if (k < 0 && (errno == EAGAIN || errno == EINTR))
		goto out;
	if (k <= 0) {
		/* EOF: the worker is gone; on_child reports how. */
		w->io = sd_event_source_disable_unref(w->io);
		if (w->pid > 0)
			kill(w->pid, SIGKILL);
		goto out;
	}
	switch (sandbox_message_parse(rep, (size_t)k, &nr)) {
	case SANDBOX_MSG_DENIED:
		/* it is dying of SIGSYS: on_child reports it */
		w->denied_syscall = nr;
		goto out;
	case SANDBOX_MSG_READY:
		if (w->state != PW_STARTING) {
			protocol_error(w, "a second 'ready'");
			goto out;
		}
		disarm_timer(w);
		w->state = PW_IDLE;
		if (p->o.ready)
			p->o.ready(p->o.ud);
		goto out;
	case SANDBOX_MSG_NONE:
		break;
	}
	if (w->state == PW_STARTING) {
		protocol_error(w, "a reply before 'ready'");
		goto out;
	}
	if (w->state != PW_BUSY) {
		protocol_error(w, "a reply nobody asked for");
		goto out;
	}
	if (mh.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) {
		protocol_error(w, "oversized reply or descriptors attached");
		goto out;
	}
	if (proto_check_result(rep, (size_t)k, w->seq, w->models, w->flags, why,
			       sizeof(why)) < 0) {
		protocol_error(w, why);
		goto out;
	}
	res = malloc(sizeof(*res));
	if (!res) {
		protocol_error(w, "out of memory");
		goto out;
	}
	proto_result_to(rep, res);
	/* CPU budget: rest in proportion to the CPU time this file took. */
	cpu = rep->cpu_usec >= w->last_cpu ? rep->cpu_usec - w->last_cpu : 0;
	w->last_cpu = rep->cpu_usec;
	if (p->o.cpu_budget < 100)
		rest = cpu * (100 - p->o.cpu_budget) / p->o.cpu_budget;
	job = w->job;
	w->job = NULL;
	w->jobs++;
	w->quick_deaths = 0;
	disarm_timer(w);
	if (spent(w)) {
		recycle(w);
	} else if (rest > 1000) {
		w->state = PW_RESTING;
		arm_timer(w, rest);
	} else {
		w->state = PW_IDLE;
	}
	p->o.done(p->o.ud, job, rep->error, res, rep->error ? rep->reason : NULL);
	if (w->state == PW_IDLE && p->o.ready)
		p->o.ready(p->o.ud);
out:
	free(res);
	free(rep);
	return 0;
}

int pool_start(struct pool *p, sd_event *ev, const struct pool_opts *o)
{
	int r = 0;

	memset(p, 0, sizeof(*p));
	p->ev = sd_event_ref(ev);
	p->o = *o;
	p->next_seq = 1;
	build_argv(p);
	p->exe_fd = open(o->exe, O_PATH | O_CLOEXEC);
	if (p->exe_fd < 0) {
		r = -errno;
		goto fail;
	}
	p->w = calloc(o->workers, sizeof(*p->w));
	if (!p->w) {
		r = -ENOMEM;
		goto fail;
	}
	for (unsigned i = 0; i < o->workers; i++) {
		struct pool_worker *w = &p->w[i];
		w->pool = p;
		w->sock = -1;
		w->state = PW_DEAD;
		r = sd_event_add_time(ev, &w->timer, CLOCK_MONOTONIC, 0,
				      TIMER_ACCURACY_USEC, on_timer, w);
		if (r < 0)
			goto fail;
		sd_event_source_set_enabled(w->timer, SD_EVENT_OFF);
		r = spawn(w);
		if (r < 0 && i == 0)
			goto fail;
		if (r < 0) {
			p->stats.spawn_failures++;
			arm_timer(w, BACKOFF_MIN_USEC);
		}
	}
	return 0;
fail:
	pool_stop(p);
	return r;
}

void pool_stop(struct pool *p)
{
	if (!p || !p->ev)
		return;
	for (unsigned i = 0; p->w && i < p->o.workers; i++) {
		struct pool_worker *w = &p->w[i];
		if (!w->pool)
			continue;
		kill_worker(w);
		fail_job(w, POOL_ECRASH, "the daemon is stopping");
		if (w->pid > 0)
			waitpid(w->pid, NULL, 0);
		w->child = sd_event_source_disable_unref(w->child); /* closes the pidfd */
		w->timer = sd_event_source_disable_unref(w->timer);
	}
	free(p->w);
	if (p->exe_fd > 0)
		close(p->exe_fd);
	sd_event_unref(p->ev);
	memset(p, 0, sizeof(*p));
}

int pool_submit(struct pool *p, int fd, uint32_t models, uint32_t flags, void *job)
{
	union {
		struct cmsghdr align;
		char buf[CMSG_SPACE(sizeof(int))];
	} ctl;
	struct proto_request req;
	struct iovec iov = { .iov_base = &req, .iov_len = sizeof(req) };
	struct msghdr mh = {
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = ctl.buf, .msg_controllen = sizeof(ctl.buf),
	};
	struct cmsghdr *c;
	struct pool_worker *w = NULL;
	ssize_t k;
	int r;

	for (unsigned i = 0; i < p->o.workers && !w; i++)
		if (p->w[i].state == PW_IDLE)
			w = &p->w[i];
	if (!w)
		return -EBUSY;
	memset(&ctl, 0, sizeof(ctl));
	c = CMSG_FIRSTHDR(&mh);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(c), &fd, sizeof(int));
	w->seq = p->next_seq++;
	w->models = models;
	w->flags = flags;
	proto_request_init(&req, w->seq, models, flags, p->o.max_bytes, p->o.max_pixels);
	do
		k = sendmsg(w->sock, &mh, MSG_NOSIGNAL | MSG_DONTWAIT);
	while (k < 0 && errno == EINTR);
	if (k != (ssize_t)sizeof(req)) {
		r = k < 0 ? -errno : -EIO;
		plog(p, LOG_WARNING, "worker %d: cannot send it a file: %s; replacing it",
		     (int)w->pid, strerror(-r));
		kill_worker(w);
		return r;
	}
	w->job = job;
	w->state = PW_BUSY;
	p->stats.jobs++;
	r = arm_timer(w, p->o.timeout_usec);
	if (r < 0) {
		/* without a timer a hang would go unnoticed: give up on it */
		kill_worker(w);
		fail_job(w, POOL_ECRASH, "cannot arm the decode timeout");
	}
	return 0;
}

bool pool_has_idle(const struct pool *p)
{
	for (unsigned i = 0; i < p->o.workers; i++)
		if (p->w[i].state == PW_IDLE)
			return true;
	return false;
}

unsigned pool_busy(const struct pool *p)
{
	unsigned n = 0;
	for (unsigned i = 0; i < p->o.workers; i++)
		n += p->w[i].state == PW_BUSY;
	return n;
}

void pool_set_limits(struct pool *p, uint64_t timeout_usec, unsigned cpu_budget,
		     uint64_t max_bytes, uint64_t max_pixels)
{
	p->o.timeout_usec = timeout_usec;
	p->o.cpu_budget = cpu_budget;
	p->o.max_bytes = max_bytes;
	p->o.max_pixels = max_pixels;
	build_argv(p); /* a new timeout: later workers get its CPU limit */
}

void pool_set_sandbox(struct pool *p, uint64_t worker_memory, unsigned worker_files,
		      bool worker_opencv)
{
	bool changed = p->o.worker_memory != worker_memory || p->o.worker_opencv != worker_opencv;

	p->o.worker_memory = worker_memory;
	p->o.worker_files = worker_files;
	p->o.worker_opencv = worker_opencv;
	build_argv(p);
	for (unsigned i = 0; changed && i < p->o.workers; i++) {
		struct pool_worker *w = &p->w[i];
		if (w->state == PW_IDLE || w->state == PW_RESTING || w->state == PW_STARTING)
			recycle(w);
		else if (w->state == PW_BUSY)
			w->recycle_after_job = true;
	}
}
