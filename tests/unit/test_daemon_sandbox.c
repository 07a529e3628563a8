/* test_daemon_sandbox.c - the worker sandbox with the real filter: a
 * process that has entered it is killed by SIGSYS on open, socket, exec,
 * fork, ptrace, an executable mapping or a write to a descriptor other
 * than its socket, after reporting the call's number on its socket; what
 * decoding needs (reading descriptors, replying, memory, threads, clocks)
 * still works; /proc shows Seccomp: 2, NoNewPrivs: 1 and the rlimits.
 * Then the pool: a worker (this program re-executed, with the production
 * initialisation and sandbox) that tries open(), socket() or execve() on a
 * file is reported as "killed by seccomp (syscall N name)", its file is
 * failed once and a replacement hashes the next file; real workers are
 * recycled after worker_files files without a crash being counted. */
#include "harness.h"

#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/ptrace.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>

#include <seccomp.h>

#include "decode.h"
#include "pool.h"
#include "proto.h"
#include "sandbox.h"
#include "worker.h"

/* ---- one sandboxed child per behaviour ---- */

enum act {
	ACT_OPEN, ACT_SOCKET, ACT_EXECVE, ACT_FORK, ACT_PTRACE, ACT_MMAP_EXEC,
	ACT_MPROTECT_EXEC, ACT_WRITE_OTHER, ACT_KILL,
	/* allowed */
	ACT_DECODE_NEEDS, ACT_THREAD, ACT_CLONE3, ACT_BIG_ALLOC, ACT_WAIT,
};

static int pipe_fds[2];

static void *thread_fn(void *arg)
{
	*(int *)arg = 42;
	return NULL;
}

static int do_act(enum act a, int sock)
{
	char buf[64];
	int v = 0;

	switch (a) {
	case ACT_OPEN:
		return open("/etc/hostname", O_RDONLY);
	case ACT_SOCKET:
		return socket(AF_INET, SOCK_STREAM, 0);
	case ACT_EXECVE: {
		char *argv[] = { (char *)"true", NULL };
		return execve("/bin/true", argv, NULL);
	}
	case ACT_FORK:
		return fork() == 0 ? 99 : 0;
	case ACT_PTRACE:
		return (int)ptrace(PTRACE_TRACEME, 0, NULL, NULL);
	case ACT_MMAP_EXEC:
		return mmap(NULL, 4096, PROT_READ | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0) ==
		       MAP_FAILED;
	case ACT_MPROTECT_EXEC: {
		void *m = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		return mprotect(m, 4096, PROT_READ | PROT_EXEC);
	}
	case ACT_WRITE_OTHER:
		return (int)write(pipe_fds[1], "x", 1);
	case ACT_KILL:
		return kill(getpid(), 0);
	case ACT_DECODE_NEEDS: {
		struct stat st;
		struct timespec ts;
		struct rusage ru;
		if (read(pipe_fds[0], buf, 5) != 5 || fstat(pipe_fds[0], &st) < 0 ||
		    clock_gettime(CLOCK_MONOTONIC, &ts) < 0 || getrusage(RUSAGE_SELF, &ru) < 0 ||
		    send(sock, "ok", 2, MSG_NOSIGNAL) != 2 || write(sock, "ok", 2) != 2)
			return 1;
		char *m = malloc(64 << 20);
		if (!m)
			return 2;
		memset(m, 1, 64 << 20);
		free(m);
		return close(pipe_fds[0]) < 0 ? 3 : 0;
	}
	case ACT_THREAD: {
		pthread_t t;
		if (pthread_create(&t, NULL, thread_fn, &v) != 0 || pthread_join(t, NULL) != 0)
			return 1;
		return v == 42 ? 0 : 2;
	}
	case ACT_CLONE3:
		/* refused, not killed: glibc then falls back to clone() */
		return syscall(SYS_clone3, NULL, 0) == -1 && errno == ENOSYS ? 0 : 1;
	case ACT_BIG_ALLOC:
		/* over RLIMIT_AS: fails, does not kill */
		return malloc((size_t)512 << 20) == NULL ? 0 : 1;
	case ACT_WAIT:
		return read(pipe_fds[0], buf, 1) == 1 ? 0 : 1;
	}
	return 1;
}

struct child {
	pid_t pid;
	int sock; /* our end: reports come here */
};

static struct child start_child(enum act a, uint64_t address_space)
{
	struct sandbox_limits lim = { .address_space = address_space, .cpu_seconds = 30 };
	struct child c;
	int sv[2];
	char err[256];

	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv), 0);
	assert_int_equal(pipe2(pipe_fds, O_CLOEXEC), 0);
	c.pid = fork();
	assert_true(c.pid >= 0);
	if (c.pid == 0) {
		close(sv[0]);
		if (sandbox_enter(sv[1], &lim, err, sizeof(err)) < 0) {
			fprintf(stderr, "%s\n", err);
			_exit(100);
		}
		_exit(do_act(a, sv[1]));
	}
	close(sv[1]);
	close(pipe_fds[0]);
	c.sock = sv[0];
	return c;
}

/* Wait for the child; returns its wait status, and the call its report
 * named (or -1) in *nr. */
static int finish_child(struct child *c, int *nr)
{
	uint8_t buf[64];
	int status = 0;
	ssize_t k;

	assert_int_equal(waitpid(c->pid, &status, 0), c->pid);
	*nr = -1;
	while ((k = recv(c->sock, buf, sizeof(buf), MSG_DONTWAIT)) > 0)
		sandbox_message_parse(buf, (size_t)k, nr);
	close(c->sock);
	close(pipe_fds[1]);
	return status;
}

static void test_denied_calls(void **state)
{
	static const struct {
		enum act a;
		long nr;
		const char *what;
	} cases[] = {
		{ ACT_OPEN, SYS_openat, "open" },
		{ ACT_SOCKET, SYS_socket, "socket" },
		{ ACT_EXECVE, SYS_execve, "execve" },
		{ ACT_FORK, SYS_clone, "fork" },
		{ ACT_PTRACE, SYS_ptrace, "ptrace" },
		{ ACT_MMAP_EXEC, SYS_mmap, "mmap PROT_EXEC" },
		{ ACT_MPROTECT_EXEC, SYS_mprotect, "mprotect PROT_EXEC" },
		{ ACT_WRITE_OTHER, SYS_write, "write to another descriptor" },
		{ ACT_KILL, SYS_kill, "kill" },
	};
	(void)state;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		/* the sanitizers' runtime writes its reports anywhere */
		if (cases[i].a == ACT_WRITE_OTHER && sandbox_sanitizer_build())
			continue;
		struct child c = start_child(cases[i].a, 0);
		int nr, st = finish_child(&c, &nr);
		if (!WIFSIGNALED(st) || WTERMSIG(st) != SIGSYS)
			fail_msg("%s: not killed by SIGSYS (status %#x)", cases[i].what, st);
		if (nr != cases[i].nr)
			fail_msg("%s: reported syscall %d, expected %ld", cases[i].what, nr,
				 cases[i].nr);
	}
}

static void test_allowed_calls(void **state)
{
	static const enum act ok[] = { ACT_DECODE_NEEDS, ACT_THREAD, ACT_CLONE3, ACT_BIG_ALLOC };
	(void)state;

	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		/* no RLIMIT_AS under the sanitizers: nothing to refuse */
		if (ok[i] == ACT_BIG_ALLOC && sandbox_sanitizer_build())
			continue;
		struct child c = start_child(ok[i], 256ull << 20);
		if (ok[i] == ACT_DECODE_NEEDS)
			assert_int_equal(write(pipe_fds[1], "hello", 5), 5);
		int nr, st = finish_child(&c, &nr);
		if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
			fail_msg("case %zu: status %#x (signal %d), report %d", i, st,
				 WIFSIGNALED(st) ? WTERMSIG(st) : 0, nr);
	}
}

/* The line of /proc/PID/FILE that starts with key, value trimmed. */
static bool proc_line(pid_t pid, const char *file, const char *key, char *out, size_t len)
{
	char p[64], line[256];
	bool found = false;
	snprintf(p, sizeof(p), "/proc/%d/%s", (int)pid, file);
	FILE *f = fopen(p, "r");
	if (!f)
		return false;
	while (!found && fgets(line, sizeof(line), f))
		if (strncmp(line, key, strlen(key)) == 0) {
			const char *v = line + strlen(key);
			while (*v == ' ' || *v == '\t' || *v == ':')
				v++;
			snprintf(out, len, "%s", v);
			out[strcspn(out, "\n")] = '\0';
			found = true;
		}
	fclose(f);
	return found;
}

static void test_proc_shows_sandbox(void **state)
{
	char v[128];
	(void)state;

	struct child c = start_child(ACT_WAIT, 256ull << 20);
	/* wait until the filter is on */
	for (int i = 0; i < 200; i++) {
		if (proc_line(c.pid, "status", "Seccomp", v, sizeof(v)) && strcmp(v, "2") == 0)
			break;
		usleep(10 * 1000);
	}
	assert_string_equal(v, "2");
	assert_true(proc_line(c.pid, "status", "NoNewPrivs", v, sizeof(v)));
	assert_string_equal(v, "1");
	assert_true(proc_line(c.pid, "status", "CapEff", v, sizeof(v)));
	assert_string_equal(v, "0000000000000000");
	assert_true(proc_line(c.pid, "status", "CapAmb", v, sizeof(v)));
	assert_string_equal(v, "0000000000000000");
	assert_true(proc_line(c.pid, "limits", "Max core file size", v, sizeof(v)));
	assert_true(strncmp(v, "0 ", 2) == 0);
	assert_true(proc_line(c.pid, "limits", "Max cpu time", v, sizeof(v)));
	assert_true(strncmp(v, "30 ", 3) == 0);
	assert_true(proc_line(c.pid, "limits", "Max open files", v, sizeof(v)));
	assert_true(strtol(v, NULL, 10) < 1024);
	if (!sandbox_sanitizer_build()) {
		assert_true(proc_line(c.pid, "limits", "Max address space", v, sizeof(v)));
		assert_true(strncmp(v, "268435456 ", 10) == 0);
		assert_true(proc_line(c.pid, "limits", "Max file size", v, sizeof(v)));
		assert_true(strncmp(v, "0 ", 2) == 0);
	}
	assert_int_equal(write(pipe_fds[1], "x", 1), 1);
	int nr, st = finish_child(&c, &nr);
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
}

static void test_message_parse(void **state)
{
	struct sandbox_report m = { SANDBOX_REPORT_MAGIC, 257, seccomp_arch_native(), 0 };
	uint8_t big[sizeof(m) + 1] = { 0 };
	int nr = -7;
	(void)state;

	assert_int_equal(sandbox_message_parse(&m, sizeof(m), &nr), SANDBOX_MSG_DENIED);
	assert_int_equal(nr, 257);
	nr = -7;
	memcpy(big, &m, sizeof(m));
	assert_int_equal(sandbox_message_parse(big, sizeof(big), &nr), SANDBOX_MSG_NONE);
	assert_int_equal(sandbox_message_parse(&m, sizeof(m) - 1, &nr), SANDBOX_MSG_NONE);
	m.magic ^= 1;
	assert_int_equal(sandbox_message_parse(&m, sizeof(m), &nr), SANDBOX_MSG_NONE);
	m.magic ^= 1;
	m.syscall = -1;
	assert_int_equal(sandbox_message_parse(&m, sizeof(m), &nr), SANDBOX_MSG_NONE);
	m.syscall = 5000;
	assert_int_equal(sandbox_message_parse(&m, sizeof(m), &nr), SANDBOX_MSG_NONE);
	m.syscall = 1;
	m.arch ^= 0x1000;
	assert_int_equal(sandbox_message_parse(&m, sizeof(m), &nr), SANDBOX_MSG_NONE);
	assert_int_equal(nr, -7); /* written only for a denied call */
	/* ready: its own magic, call 0 */
	m = (struct sandbox_report){ SANDBOX_READY_MAGIC, 0, seccomp_arch_native(), 0 };
	assert_int_equal(sandbox_message_parse(&m, sizeof(m), &nr), SANDBOX_MSG_READY);
	m.syscall = 2;
	assert_int_equal(sandbox_message_parse(&m, sizeof(m), &nr), SANDBOX_MSG_NONE);
	assert_int_equal(nr, -7);
}

/* ---- through the pool ---- */

/* A worker that initialises and sandboxes itself as the real one does,
 * then hashes files, except that on a file starting with 'o', 's' or 'e'
 * it tries open(), socket() or execve() first. */
static int violating_worker(const char *argv0, int sock)
{
	struct sandbox_limits lim = { .cpu_seconds = 60 };
	struct proto_result *rep = malloc(sizeof(*rep));
	struct hasher_result *res = malloc(sizeof(*res));
	char err[256];

	if (!rep || !res || decode_init(argv0) < 0)
		return 2;
	sandbox_prepare(HW_MODELS_DEFAULT);
	if (sandbox_enter(sock, &lim, err, sizeof(err)) < 0 || sandbox_send_ready(sock) < 0) {
		fprintf(stderr, "%s\n", err);
		return 2;
	}
	for (;;) {
		union {
			struct cmsghdr a;
			char b[CMSG_SPACE(sizeof(int))];
		} ctl;
		struct proto_request req;
		struct iovec iov = { &req, sizeof(req) };
		struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1,
				     .msg_control = ctl.b, .msg_controllen = sizeof(ctl.b) };
		char c = 0;
		int fd = -1;
		if (recvmsg(sock, &mh, 0) <= 0)
			return 0;
		struct cmsghdr *cm = CMSG_FIRSTHDR(&mh);
		if (!cm)
			return 3;
		memcpy(&fd, CMSG_DATA(cm), sizeof(int));
		if (read(fd, &c, 1) != 1)
			c = 0;
		if (c == 'o')
			open("/etc/hostname", O_RDONLY);
		else if (c == 's')
			socket(AF_INET, SOCK_DGRAM, 0);
		else if (c == 'e')
			execl("/bin/true", "true", (char *)NULL);
		int r = hasher_run(&c, 1, req.models, 0, NULL, res, err, sizeof(err));
		proto_result_from(rep, req.seq, r, res, err, 1, 0);
		send(sock, rep, sizeof(*rep), MSG_NOSIGNAL);
		close(fd);
	}
}

struct outcome {
	int calls, error;
	char reason[256];
};

static int violations;
static char violation_msg[256];

static void on_done(void *ud, void *job, int error, const struct hasher_result *res,
		    const char *reason)
{
	struct outcome *o = job;
	(void)ud;
	(void)res;
	o->calls++;
	o->error = error;
	snprintf(o->reason, sizeof(o->reason), "%s", reason ? reason : "");
}

static void on_violation(void *ud, const char *msg)
{
	(void)ud;
	violations++;
	snprintf(violation_msg, sizeof(violation_msg), "%s", msg);
}

static char a_name[] = "hashwatchd", a_worker[] = "--worker", a_violating[] = "--violating-worker";

static void start_pool(sd_event **ev, struct pool *p, char **argv, unsigned files)
{
	struct pool_opts o = {
		.workers = 1, .exe = "/proc/self/exe", .argv = argv,
		.timeout_usec = 10 * 1000000, .cpu_budget = 100,
		.max_bytes = 1 << 20, .max_pixels = 1000000,
		.done = on_done, .violation = on_violation, .worker_files = files,
	};
	assert_int_equal(sd_event_new(ev), 0);
	assert_int_equal(pool_start(p, *ev, &o), 0);
}

/* Submit a file holding `bytes` and run the loop until it is answered. */
static void run_file(sd_event *ev, struct pool *p, const char *bytes, struct outcome *o)
{
	char path[] = "/tmp/hwsbx.XXXXXX";
	int fd = mkstemp(path);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, bytes, strlen(bytes)), (ssize_t)strlen(bytes));
	lseek(fd, 0, SEEK_SET);
	unlink(path);
	for (int i = 0; i < 200 && !pool_has_idle(p); i++)
		sd_event_run(ev, 50 * 1000);
	assert_int_equal(pool_submit(p, fd, 1u << HW_MODEL_SHA256, 0, o), 0);
	close(fd);
	for (int i = 0; i < 400 && o->calls < 1; i++)
		sd_event_run(ev, 50 * 1000);
	for (int k = 0; k < 5; k++)
		sd_event_run(ev, 20 * 1000);
	assert_int_equal(o->calls, 1);
}

static void test_pool_reports_violation(void **state)
{
	static const struct {
		const char *bytes;
		long nr;
	} cases[] = { { "o", SYS_openat }, { "s", SYS_socket }, { "e", SYS_execve } };
	char *argv[] = { a_name, a_violating, NULL };
	struct pool p;
	sd_event *ev;
	(void)state;

	violations = 0;
	start_pool(&ev, &p, argv, 0);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct outcome o = { 0 }, ok = { 0 };
		char name[64], want[128];
		run_file(ev, &p, cases[i].bytes, &o);
		assert_int_equal(o.error, POOL_ECRASH);
		snprintf(want, sizeof(want), "worker killed by seccomp (syscall %ld %s)",
			 cases[i].nr, sandbox_syscall_name((int)cases[i].nr, name, sizeof(name)));
		if (!strstr(o.reason, want))
			fail_msg("reason '%s' lacks '%s'", o.reason, want);
		assert_int_equal(violations, (int)i + 1);
		assert_non_null(strstr(violation_msg, want));
		/* the replacement hashes the next file */
		run_file(ev, &p, "fine", &ok);
		assert_int_equal(ok.error, 0);
	}
	assert_int_equal(p.stats.seccomp_kills, 3);
	assert_int_equal(p.stats.crashes, 3);
	assert_int_equal(p.stats.protocol_errors + p.stats.timeouts, 0);
	pool_stop(&p);
	sd_event_unref(ev);
}

static void test_pool_recycles(void **state)
{
	char *argv[] = { a_name, a_worker, NULL };
	struct pool p;
	sd_event *ev;
	pid_t first;
	int changes = 0;
	(void)state;

	start_pool(&ev, &p, argv, 2);
	first = p.w[0].pid;
	for (int i = 0; i < 5; i++) {
		struct outcome o = { 0 };
		pid_t before;
		for (int k = 0; k < 200 && !pool_has_idle(&p); k++)
			sd_event_run(ev, 50 * 1000);
		before = p.w[0].pid;
		run_file(ev, &p, "some bytes", &o);
		assert_int_equal(o.error, 0);
		changes += before != first;
		first = before;
	}
	assert_true(p.stats.recycled >= 2);
	assert_true(changes >= 2);
	assert_int_equal(p.stats.crashes + p.stats.seccomp_kills + p.stats.protocol_errors, 0);
	pool_stop(&p);
	sd_event_unref(ev);
}

int main(int argc, char **argv)
{
	sigset_t ss;

	if (argc > 1 && strcmp(argv[1], "--worker") == 0)
		return worker_main(argv[0], PROTO_WORKER_FD);
	if (argc > 1 && strcmp(argv[1], "--violating-worker") == 0)
		return violating_worker(argv[0], PROTO_WORKER_FD);
	sigemptyset(&ss);
	sigaddset(&ss, SIGCHLD);
	sigprocmask(SIG_BLOCK, &ss, NULL);
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_message_parse),
		cmocka_unit_test(test_denied_calls),
		cmocka_unit_test(test_allowed_calls),
		cmocka_unit_test(test_proc_shows_sandbox),
		cmocka_unit_test(test_pool_reports_violation),
		cmocka_unit_test(test_pool_recycles),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
