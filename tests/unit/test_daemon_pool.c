/* test_daemon_pool.c - the worker pool with real worker processes on real
 * socketpairs: hashes come back intact, and a worker that crashes, hangs,
 * replies with garbage or passes a descriptor back is killed and replaced,
 * with its job reported once.  The misbehaving workers are this program
 * itself, re-executed in a test-only mode that reads the first byte of the
 * file it is given to decide what to do. */
#include "harness.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <sodium.h>

#include "pool.h"
#include "proto.h"
#include "sandbox.h"
#include "worker.h"

struct outcome {
	int calls;
	int error;
	bool have_sha256;
	uint8_t sha256[32];
	char reason[256];
};

static int ready_calls;
static char a_name[] = "hashwatchd", a_worker[] = "--worker",
	    a_script[] = "--script-worker";

static void on_done(void *ud, void *job, int error, const struct hasher_result *res,
		    const char *reason)
{
	struct outcome *o = job;
	(void)ud;
	o->calls++;
	o->error = error;
	if (res && (res->mask & (1u << HW_MODEL_SHA256))) {
		o->have_sha256 = true;
		memcpy(o->sha256, res->hash[HW_MODEL_SHA256].bytes, 32);
	}
	snprintf(o->reason, sizeof(o->reason), "%s", reason ? reason : "");
}

static void on_ready(void *ud)
{
	(void)ud;
	ready_calls++;
}

/* Test-only worker: behaves according to the file's first byte. */
static int script_worker(int sock)
{
	sandbox_send_ready(sock); /* not sandboxed, but the pool waits for it */
	for (;;) {
		union {
			struct cmsghdr a;
			char b[CMSG_SPACE(sizeof(int))];
		} ctl;
		struct proto_request req;
		struct proto_result rep;
		struct iovec iov = { &req, sizeof(req) };
		struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1,
				     .msg_control = ctl.b, .msg_controllen = sizeof(ctl.b) };
		int fd = -1;
		char c = 0;
		ssize_t k = recvmsg(sock, &mh, 0);
		if (k <= 0)
			return 0;
		struct cmsghdr *cm = CMSG_FIRSTHDR(&mh);
		if (!cm)
			return 3;
		memcpy(&fd, CMSG_DATA(cm), sizeof(int));
		if (read(fd, &c, 1) != 1)
			c = 0;
		proto_result_from(&rep, req.seq, 0, NULL, NULL, 1, 0);
		switch (c) {
		case 'C':
			abort();
		case 'H':
			pause();
			break;
		case 'G':
			rep.seq++;
			break;
		case 'S': {
			char small[8] = { 0 };
			send(sock, small, sizeof(small), 0);
			continue;
		}
		case 'F': {
			/* pass the descriptor back: the daemon must refuse it */
			struct iovec v2 = { &rep, sizeof(rep) };
			struct msghdr m2 = { .msg_iov = &v2, .msg_iovlen = 1,
					     .msg_control = ctl.b, .msg_controllen = sizeof(ctl.b) };
			sendmsg(sock, &m2, 0);
			continue;
		}
		case 'M':
			rep.models = 1u << HW_MODEL_PDQ; /* a hash nobody asked for */
			break;
		case 'B':
			rep.cpu_usec = 200000; /* says it used 200 ms of CPU so far */
			break;
		}
		send(sock, &rep, sizeof(rep), 0);
		close(fd);
	}
}

static const char *self_exe(void)
{
	return "/proc/self/exe";
}

static void run_until(sd_event *ev, struct outcome *o, int calls)
{
	for (int i = 0; i < 400 && o->calls < calls; i++)
		sd_event_run(ev, 50 * 1000);
}

static int make_file(const char *dir, const char *name, const void *data, size_t len)
{
	char p[512];
	snprintf(p, sizeof(p), "%s/%s", dir, name);
	FILE *f = fopen(p, "w");
	assert_non_null(f);
	assert_int_equal(fwrite(data, 1, len, f), len);
	fclose(f);
	int fd = open(p, O_RDONLY | O_CLOEXEC);
	assert_true(fd >= 0);
	return fd;
}

static void wait_idle(sd_event *ev, struct pool *p)
{
	for (int i = 0; i < 200 && !pool_has_idle(p); i++)
		sd_event_run(ev, 50 * 1000);
	assert_true(pool_has_idle(p));
}

static void start_pool(sd_event **ev, struct pool *p, char **argv, unsigned workers,
		       uint64_t timeout_usec)
{
	struct pool_opts o = {
		.workers = workers, .exe = self_exe(), .argv = argv,
		.timeout_usec = timeout_usec, .cpu_budget = 100,
		.max_bytes = 1 << 20, .max_pixels = 1000000,
		.done = on_done, .ready = on_ready,
	};
	assert_int_equal(sd_event_new(ev), 0);
	assert_int_equal(pool_start(p, *ev, &o), 0);
	wait_idle(*ev, p); /* a worker takes files once it is in its sandbox */
}

static void test_real_worker_digest(void **state)
{
	char *argv[] = { a_name, a_worker, NULL };
	char dir[] = "/tmp/hwpool.XXXXXX";
	const char data[] = "not an image, but it has a SHA-256";
	uint8_t want[32];
	struct outcome o = { 0 };
	struct pool p;
	sd_event *ev;
	(void)state;

	assert_non_null(mkdtemp(dir));
	start_pool(&ev, &p, argv, 1, 5 * 1000000);
	int fd = make_file(dir, "f", data, strlen(data));
	assert_int_equal(pool_submit(&p, fd, (1u << HW_MODEL_SHA256) | (1u << HW_MODEL_MD5), 0, &o), 0);
	close(fd);
	assert_int_equal(pool_submit(&p, 0, 1u << HW_MODEL_SHA256, 0, &o), -EBUSY);
	run_until(ev, &o, 1);
	assert_int_equal(o.calls, 1);
	assert_int_equal(o.error, 0);
	assert_true(o.have_sha256);
	crypto_hash_sha256(want, (const unsigned char *)data, strlen(data));
	assert_memory_equal(o.sha256, want, 32);
	/* the descriptor went to the worker, not a copy of the path: it is
	 * still hashed after the file is unlinked */
	memset(&o, 0, sizeof(o));
	fd = make_file(dir, "g", "abc", 3);
	char p2[512];
	snprintf(p2, sizeof(p2), "%s/g", dir);
	unlink(p2);
	wait_idle(ev, &p);
	assert_int_equal(pool_submit(&p, fd, 1u << HW_MODEL_SHA256, 0, &o), 0);
	close(fd);
	run_until(ev, &o, 1);
	assert_int_equal(o.error, 0);
	crypto_hash_sha256(want, (const unsigned char *)"abc", 3);
	assert_memory_equal(o.sha256, want, 32);
	assert_int_equal(p.stats.crashes + p.stats.protocol_errors + p.stats.timeouts, 0);
	pool_stop(&p);
	sd_event_unref(ev);
	hwt_rmtree(dir);
}

static void test_worker_size_limit(void **state)
{
	char *argv[] = { a_name, a_worker, NULL };
	char dir[] = "/tmp/hwpool.XXXXXX";
	struct outcome o = { 0 };
	struct pool p;
	sd_event *ev;
	char *big = calloc(1, (1 << 20) + 10);
	(void)state;

	assert_non_null(big);
	assert_non_null(mkdtemp(dir));
	start_pool(&ev, &p, argv, 1, 5 * 1000000);
	int fd = make_file(dir, "big", big, (1 << 20) + 10);
	assert_int_equal(pool_submit(&p, fd, 1u << HW_MODEL_SHA256, 0, &o), 0);
	close(fd);
	run_until(ev, &o, 1);
	assert_int_equal(o.error, -EFBIG);
	assert_false(o.have_sha256);
	assert_non_null(strstr(o.reason, "max_file_size"));
	pool_stop(&p);
	sd_event_unref(ev);
	free(big);
	hwt_rmtree(dir);
}

/* Each misbehaviour: the job is reported once with the right error and
 * the replacement worker then hashes a good file. */
static void test_misbehaving_workers(void **state)
{
	char *argv[] = { a_name, a_script, NULL };
	static const struct {
		char c;
		int error;
		const char *reason;
	} cases[] = {
		{ 'C', POOL_ECRASH, "signal 6" },
		{ 'H', POOL_ETIMEOUT, "decode_timeout_ms" },
		{ 'G', POOL_EPROTO, "request" },
		{ 'S', POOL_EPROTO, "bytes" },
		{ 'F', POOL_EPROTO, "descriptors" },
		{ 'M', POOL_EPROTO, "not asked" },
	};
	char dir[] = "/tmp/hwpool.XXXXXX";
	struct pool p;
	sd_event *ev;
	(void)state;

	assert_non_null(mkdtemp(dir));
	/* long enough that a loaded machine does not turn a crash into a
	 * timeout, short enough to wait for the hanging case */
	start_pool(&ev, &p, argv, 1, 1500 * 1000);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct outcome o = { 0 };
		char name[8] = { cases[i].c, 0 };
		wait_idle(ev, &p);
		int fd = make_file(dir, name, name, 1);
		assert_int_equal(pool_submit(&p, fd, 1u << HW_MODEL_SHA256, 0, &o), 0);
		close(fd);
		run_until(ev, &o, 1);
		/* let any late event arrive: still exactly one report */
		for (int k = 0; k < 5; k++)
			sd_event_run(ev, 20 * 1000);
		assert_int_equal(o.calls, 1);
		assert_int_equal(o.error, cases[i].error);
		if (!strstr(o.reason, cases[i].reason))
			fail_msg("case %c: reason '%s' lacks '%s'", cases[i].c, o.reason,
				 cases[i].reason);
		/* and the replacement works */
		struct outcome ok = { 0 };
		wait_idle(ev, &p);
		fd = make_file(dir, "ok", "x", 1);
		assert_int_equal(pool_submit(&p, fd, 1u << HW_MODEL_SHA256, 0, &ok), 0);
		close(fd);
		run_until(ev, &ok, 1);
		assert_int_equal(ok.calls, 1);
		assert_int_equal(ok.error, 0);
	}
	assert_int_equal(p.stats.crashes, 1);
	assert_int_equal(p.stats.timeouts, 1);
	assert_int_equal(p.stats.protocol_errors, 4);
	pool_stop(&p);
	sd_event_unref(ev);
	hwt_rmtree(dir);
}

/* pool_stop reports a job in flight and leaves no process behind. */
static void test_stop_reaps(void **state)
{
	char *argv[] = { a_name, a_script, NULL };
	char dir[] = "/tmp/hwpool.XXXXXX";
	struct outcome o = { 0 };
	struct pool p;
	sd_event *ev;
	pid_t pids[2];
	(void)state;

	assert_non_null(mkdtemp(dir));
	start_pool(&ev, &p, argv, 2, 60 * 1000000);
	pids[0] = p.w[0].pid;
	pids[1] = p.w[1].pid;
	int fd = make_file(dir, "H", "H", 1);
	assert_int_equal(pool_submit(&p, fd, 1u << HW_MODEL_SHA256, 0, &o), 0);
	close(fd);
	for (int k = 0; k < 3; k++)
		sd_event_run(ev, 20 * 1000);
	pool_stop(&p);
	assert_int_equal(o.calls, 1);
	assert_int_equal(o.error, POOL_ECRASH);
	for (int i = 0; i < 2; i++)
		assert_int_equal(kill(pids[i], 0), -1);
	sd_event_unref(ev);
	hwt_rmtree(dir);
}

/* cpu_budget: a worker that used 200 ms of CPU at a 50% budget rests
 * about 200 ms before it takes the next file. */
static void test_cpu_budget(void **state)
{
	char *argv[] = { a_name, a_script, NULL };
	char dir[] = "/tmp/hwpool.XXXXXX";
	struct outcome o = { 0 };
	struct pool p;
	sd_event *ev;
	uint64_t t0, t1;
	(void)state;

	assert_non_null(mkdtemp(dir));
	start_pool(&ev, &p, argv, 1, 5 * 1000000);
	pool_set_limits(&p, 5 * 1000000, 50, 1 << 20, 1000000);
	wait_idle(ev, &p);
	int fd = make_file(dir, "B", "B", 1);
	assert_int_equal(pool_submit(&p, fd, 1u << HW_MODEL_SHA256, 0, &o), 0);
	close(fd);
	run_until(ev, &o, 1);
	assert_int_equal(o.error, 0);
	assert_false(pool_has_idle(&p)); /* resting */
	assert_int_equal(p.w[0].state, PW_RESTING);
	sd_event_now(ev, CLOCK_MONOTONIC, &t0);
	wait_idle(ev, &p);
	sd_event_now(ev, CLOCK_MONOTONIC, &t1);
	assert_true(t1 - t0 >= 150000 && t1 - t0 < 2000000);
	pool_stop(&p);
	sd_event_unref(ev);
	hwt_rmtree(dir);
}

int main(int argc, char **argv)
{
	sigset_t ss;

	if (argc > 1 && strcmp(argv[1], "--worker") == 0)
		return worker_main(argv[0], PROTO_WORKER_FD);
	if (argc > 1 && strcmp(argv[1], "--script-worker") == 0)
		return script_worker(PROTO_WORKER_FD);
	sigemptyset(&ss);
	sigaddset(&ss, SIGCHLD);
	sigprocmask(SIG_BLOCK, &ss, NULL);
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_real_worker_digest),
		cmocka_unit_test(test_worker_size_limit),
		cmocka_unit_test(test_misbehaving_workers),
		cmocka_unit_test(test_stop_reaps),
		cmocka_unit_test(test_cpu_budget),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
