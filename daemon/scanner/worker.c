/* worker.c - the worker process loop (see worker.h). */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include "cvhash.h"
#include "decode.h"
#include "fileio.h"
#include "hasher.h"
#include "prio.h"
#include "proto.h"
#include "sandbox.h"
#include "worker.h"

#define WORKER_NICE 10

static uint64_t cpu_usec(void)
{
	struct rusage ru;
	if (getrusage(RUSAGE_SELF, &ru) < 0)
		return 0;
	return (uint64_t)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000000 +
	       (uint64_t)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec);
}

/* Receive one request and its descriptor.  Returns 1 with *ret_fd set, 0
 * at end of stream, -EPROTO on anything malformed. */
static int receive(int sock, struct proto_request *req, int *ret_fd)
{
	union {
		struct cmsghdr align;
		char buf[CMSG_SPACE(sizeof(int))];
	} ctl;
	struct iovec iov = { .iov_base = req, .iov_len = sizeof(*req) };
	struct msghdr mh = {
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = ctl.buf, .msg_controllen = sizeof(ctl.buf),
	};
	struct cmsghdr *c;
	ssize_t k;
	int fd = -1;

	do
		k = recvmsg(sock, &mh, MSG_CMSG_CLOEXEC);
	while (k < 0 && errno == EINTR);
	if (k == 0)
		return 0;
	if (k < 0)
		return errno == ECONNRESET ? 0 : -EPROTO;
	c = CMSG_FIRSTHDR(&mh);
	if (c && c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS &&
	    c->cmsg_len == CMSG_LEN(sizeof(int)))
		memcpy(&fd, CMSG_DATA(c), sizeof(int));
	if (fd < 0 || (mh.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) ||
	    proto_check_request(req, (size_t)k) < 0) {
		if (fd >= 0)
			close(fd);
		return -EPROTO;
	}
	*ret_fd = fd;
	return 1;
}

static void handle(int sock, const struct proto_request *req, int fd)
{
	struct decode_opts dopts = { .mode = DECODE_FAST, .max_pixels = req->max_pixels };
	struct proto_result *rep = NULL;
	struct hasher_result *res = NULL;
	char reason[PROTO_REASON_MAX] = "";
	void *buf = NULL;
	size_t len = 0;
	int r;

	prio_io_idle(req->flags & PROTO_F_BACKGROUND);
	/* Both are several KiB: keep them off the stack. */
	rep = malloc(sizeof(*rep));
	res = malloc(sizeof(*res));
	if (!rep || !res) {
		close(fd);
		_exit(2);
	}
	r = hw_read_fd(fd, req->max_bytes, &buf, &len);
	close(fd);
	if (r < 0) {
		snprintf(reason, sizeof(reason), "%s",
			 r == -EFBIG ? "file larger than max_file_size" : strerror(-r));
		proto_result_from(rep, req->seq, r, NULL, reason, 0, cpu_usec());
	} else {
		unsigned hf = ((req->flags & PROTO_F_DIHEDRAL) ? HASHER_DIHEDRAL : 0) |
			      ((req->flags & PROTO_F_TRIM) ? HASHER_TRIM : 0);
		r = hasher_run(buf, len, req->models, hf, &dopts, res, reason, sizeof(reason));
		proto_result_from(rep, req->seq, r, res, reason, len, cpu_usec());
	}
	free(buf);
	while (send(sock, rep, sizeof(*rep), MSG_NOSIGNAL) < 0 && errno == EINTR)
		;
	free(rep);
	free(res);
}

/* The models a worker may be asked for: everything but the OpenCV ones
 * unless the module is loaded. */
static uint32_t worker_models(bool opencv)
{
	uint32_t mask = 0;
	for (int id = 1; id < HW_MODEL__MAX; id++) {
		const struct hw_model_info *m = hw_model_by_id((enum hw_model_id)id);
		if (m && (opencv || m->metric != HW_METRIC_OPENCV))
			mask |= 1u << id;
	}
	return mask;
}

int worker_run(const char *argv0, int sock, const struct worker_opts *o)
{
	struct sandbox_limits lim = { .address_space = o->memory, .cpu_seconds = o->cpu_s };
	struct proto_request req;
	char err[256];
	bool opencv = false;
	int fd, r;

	/* Die with the daemon; never outlive it holding a student's file. */
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() == 1)
		return 0;
	if (setpriority(PRIO_PROCESS, 0, WORKER_NICE) < 0)
		fprintf(stderr, "hashwatchd worker: cannot lower priority: %s\n", strerror(errno));
	if (decode_init(argv0) < 0) {
		fprintf(stderr, "hashwatchd worker: the image decoder failed to initialise\n");
		return 2;
	}
	/* The module is mapped (PROT_EXEC) now or never: the sandbox forbids
	 * both the open and the mapping.  Without it, OpenCV models fail
	 * with -ENOPKG and the reason says so. */
	if (o->opencv) {
		if (cvhash_load(err, sizeof(err)) < 0)
			fprintf(stderr, "hashwatchd worker: %s\n", err);
		else
			opencv = true;
	}
	sandbox_prepare(worker_models(opencv));
	if (sandbox_enter(sock, &lim, err, sizeof(err)) < 0) {
		fprintf(stderr, "hashwatchd worker: %s\n", err);
		return 2;
	}
	if (sandbox_send_ready(sock) < 0)
		return 0; /* the daemon is gone */
	for (;;) {
		r = receive(sock, &req, &fd);
		if (r == 0)
			return 0;
		if (r < 0)
			return 3;
		handle(sock, &req, fd);
	}
}

int worker_main(const char *argv0, int sock)
{
	struct worker_opts o = { 0 };
	return worker_run(argv0, sock, &o);
}
