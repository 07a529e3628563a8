/* sandbox.c - the worker's sandbox (see sandbox.h): capabilities dropped,
 * PR_SET_NO_NEW_PRIVS, rlimits, then the seccomp allow-list in rules[].
 *
 * The list was found by tracing a worker through every allowed format
 * (strace -f) and keeping what decoding an open descriptor needs, with
 * arguments pinned where a call could reach outside the process: replies
 * go only to the worker's socket, memory is never mapped executable, and
 * clone() must create a thread of this process.  Anything else raises
 * SIGSYS without being executed.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <linux/capability.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <seccomp.h>

#include "hasher.h"
#include "samples.h"
#include "sandbox.h"

#if defined(__SANITIZE_ADDRESS__)
#define SANDBOX_SANITIZER 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(undefined_behavior_sanitizer)
#define SANDBOX_SANITIZER 1
#endif
#endif
#ifndef SANDBOX_SANITIZER
#define SANDBOX_SANITIZER 0
#endif

/* clone() flags of a thread (what pthread_create passes, besides the TLS
 * and tid bookkeeping flags, which are not checked), and every flag whose
 * presence would make it something else: a process, a vfork, a traced
 * child, a new namespace, or a child that signals on exit. */
#define THREAD_FLAGS                                                           \
	(CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND | CLONE_THREAD |    \
	 CLONE_SYSVSEM)
#define CHECKED_FLAGS                                                          \
	(THREAD_FLAGS | CSIGNAL | CLONE_VFORK | CLONE_PARENT | CLONE_PTRACE |   \
	 CLONE_UNTRACED | CLONE_NEWNS | CLONE_NEWCGROUP | CLONE_NEWUTS |       \
	 CLONE_NEWIPC | CLONE_NEWUSER | CLONE_NEWPID | CLONE_NEWNET |          \
	 CLONE_IO | CLONE_PIDFD)

/* int arguments: the kernel sees 64 bits, the caller set 32 */
#define INT_MASK 0xffffffffull

enum cond { ANY, IF_MASKED, ON_SOCK };

struct rule {
	const char *name;
	enum cond cond;
	unsigned arg;    /* IF_MASKED: (args[arg] & mask) == value */
	uint64_t mask, value;
	int fail;        /* not 0: refuse with this errno instead of allowing */
};

#define ALLOW(n) { n, ANY, 0, 0, 0, 0 }
#define ALLOW_IF(n, a, m, v) { n, IF_MASKED, a, m, v, 0 }
#define ALLOW_ON_SOCK(n) { n, ON_SOCK, 0, INT_MASK, 0, 0 }
#define REFUSE(n, e) { n, ANY, 0, 0, 0, e }

static const struct rule rules[] = {
	/* the request socket, the files it brings, the reply */
	ALLOW_ON_SOCK("recvmsg"),
	ALLOW_ON_SOCK("sendmsg"),
	ALLOW_ON_SOCK("sendto"),
	ALLOW_ON_SOCK("write"),
	ALLOW_IF("write", 0, INT_MASK, STDERR_FILENO), /* GLib's criticals */
	ALLOW("read"), /* only the socket, stdio and a received file are open */
	ALLOW("lseek"),
	ALLOW("close"),
	ALLOW("fstat"),
	/* glibc's fstat(); the path is not checked (a pointer), so a stat of
	 * a named file is possible: it gives sizes and dates, never bytes */
	ALLOW_IF("newfstatat", 3, INT_MASK, AT_EMPTY_PATH),
	/* memory, never executable */
	ALLOW_IF("mmap", 2, PROT_EXEC, 0),
	ALLOW_IF("mprotect", 2, PROT_EXEC, 0),
	ALLOW("munmap"),
	ALLOW("mremap"),
	ALLOW("brk"),
	ALLOW("madvise"),
	/* threads (libheif starts some per HEIF decode), never processes;
	 * clone3's flags are out of reach of a filter, so it fails and glibc
	 * falls back to clone() */
	ALLOW_IF("clone", 0, CHECKED_FLAGS, THREAD_FLAGS),
	REFUSE("clone3", ENOSYS),
	ALLOW("set_robust_list"),
	ALLOW("rseq"),
	ALLOW("futex"),
	ALLOW("sched_yield"),
	ALLOW("sched_getaffinity"), /* decoders size their thread pools */
	ALLOW_IF("prctl", 0, INT_MASK, PR_SET_NAME), /* GLib names its threads */
	ALLOW("gettid"),
	ALLOW("getpid"),
	ALLOW("rt_sigprocmask"),
	ALLOW("rt_sigreturn"),
	ALLOW("restart_syscall"),
	ALLOW("exit"),
	ALLOW("exit_group"),
	/* time, the CPU budget, lowering its own I/O priority */
	ALLOW("clock_gettime"),
	ALLOW("clock_nanosleep"),
	ALLOW("gettimeofday"),
	ALLOW_IF("getrusage", 0, INT_MASK, RUSAGE_SELF),
	ALLOW_IF("ioprio_set", 1, INT_MASK, 0), /* who = 0: itself */
	ALLOW("sysinfo"), /* libvips sizes its caches from it */
};

/* The sanitizers' runtime, in sanitizer builds only: its reports, its
 * alternate signal stacks, its thread bookkeeping. */
static const struct rule sanitizer_rules[] = {
	ALLOW("sigaltstack"),
	ALLOW("prctl"),
	ALLOW("getppid"),
	ALLOW("write"),
	ALLOW("readlink"),
	ALLOW("sched_getparam"),
	ALLOW("tgkill"),
	ALLOW("rt_sigaction"),
};

bool sandbox_sanitizer_build(void)
{
	return SANDBOX_SANITIZER;
}

unsigned sandbox_prepare(uint32_t models)
{
	struct decode_opts dopts = { .mode = DECODE_FAST };
	struct hasher_result *res = malloc(sizeof(*res));
	char err[160];
	unsigned ok = 0;

	if (!res)
		return 0;
	for (size_t i = 0; i < samples_count; i++) {
		const struct sample *s = &samples[i];
		int r = hasher_run(s->bytes, s->len, models, HASHER_DIHEDRAL | HASHER_TRIM,
				   &dopts, res, err,
				   sizeof(err));
		if (s->format ? r == 0 && strcmp(res->info.format, s->format) == 0 : r < 0)
			ok++;
	}
	free(res);
	return ok;
}

/* ---- reporting a denied call ---- */

static int report_sock = -1;

/* One-shot (SA_RESETHAND): tell the daemon which call it was, then make
 * one more denied call (openat is never allowed, and would fail harmlessly
 * on a NULL path if it were), whose SIGSYS, now with the default action,
 * kills the process. */
static void on_sigsys(int sig, siginfo_t *si, void *uc)
{
	struct sandbox_report m = { SANDBOX_REPORT_MAGIC, si->si_syscall, si->si_arch, 0 };

	(void)sig;
	(void)uc;
	send(report_sock, &m, sizeof(m), MSG_NOSIGNAL | MSG_DONTWAIT);
	syscall(SYS_openat, AT_FDCWD, NULL, O_RDONLY);
	_exit(128 + SIGSYS);
}

int sandbox_send_ready(int sock)
{
	struct sandbox_report m = { SANDBOX_READY_MAGIC, 0, seccomp_arch_native(), 0 };
	ssize_t k;

	do
		k = send(sock, &m, sizeof(m), MSG_NOSIGNAL);
	while (k < 0 && errno == EINTR);
	return k == (ssize_t)sizeof(m) ? 0 : k < 0 ? -errno : -EIO;
}

enum sandbox_msg sandbox_message_parse(const void *buf, size_t len, int *ret_syscall)
{
	struct sandbox_report m;

	if (len != sizeof(m))
		return SANDBOX_MSG_NONE;
	memcpy(&m, buf, sizeof(m));
	if (m.arch != seccomp_arch_native() || m.pad != 0)
		return SANDBOX_MSG_NONE;
	if (m.magic == SANDBOX_READY_MAGIC && m.syscall == 0)
		return SANDBOX_MSG_READY;
	if (m.magic != SANDBOX_REPORT_MAGIC || m.syscall < 0 || m.syscall > 4095)
		return SANDBOX_MSG_NONE;
	*ret_syscall = m.syscall;
	return SANDBOX_MSG_DENIED;
}

const char *sandbox_syscall_name(int nr, char *buf, size_t len)
{
	char *name = seccomp_syscall_resolve_num_arch(SCMP_ARCH_NATIVE, nr);
	snprintf(buf, len, "%s", name ? name : "?");
	free(name);
	return buf;
}

/* ---- entering ---- */

/* The highest descriptor open now (the received file will take the
 * lowest free number, at most one above it). */
static int highest_fd(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	int max = STDERR_FILENO;

	if (!d) {
		for (int fd = 0; fd < 1024; fd++)
			if (fcntl(fd, F_GETFD) >= 0)
				max = fd;
		return max;
	}
	while ((e = readdir(d))) {
		char *end;
		long fd = strtol(e->d_name, &end, 10);
		if (*end == '\0' && end != e->d_name && fd != dirfd(d) && fd > max)
			max = (int)fd;
	}
	closedir(d);
	return max;
}

static void *nothing(void *arg)
{
	return arg;
}

/* glibc installs its thread-cancellation signal handler (rt_sigaction,
 * which the filter denies) when the first thread is created: have that
 * happen now, for the decoders that start threads later. */
static int first_thread(void)
{
	pthread_t t;
	int r = pthread_create(&t, NULL, nothing, NULL);
	if (r == 0)
		r = pthread_join(t, NULL);
	return -r;
}

static int drop_capabilities(void)
{
	struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct none[2];

	memset(none, 0, sizeof(none));
	/* the ambient set is what the service handed down through exec */
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL)
		return -errno;
	if (syscall(SYS_capset, &h, none) < 0)
		return -errno;
	return 0;
}

static int set_limit(int resource, uint64_t value)
{
	struct rlimit rl = { (rlim_t)value, (rlim_t)value };
	return setrlimit(resource, &rl) < 0 ? -errno : 0;
}

static int set_limits(const struct sandbox_limits *lim, int maxfd, const char **what)
{
	int r;

	if ((r = set_limit(RLIMIT_CORE, 0)) < 0) {
		*what = "RLIMIT_CORE";
		return r;
	}
	if ((r = set_limit(RLIMIT_NOFILE, (uint64_t)maxfd + 2)) < 0) {
		*what = "RLIMIT_NOFILE";
		return r;
	}
	if (lim->cpu_seconds && (r = set_limit(RLIMIT_CPU, lim->cpu_seconds)) < 0) {
		*what = "RLIMIT_CPU";
		return r;
	}
	/* The sanitizers reserve terabytes of address space for their shadow
	 * memory, and write their reports to stderr, which a test may have
	 * pointed at a file. */
	if (SANDBOX_SANITIZER)
		return 0;
	if (lim->address_space && (r = set_limit(RLIMIT_AS, lim->address_space)) < 0) {
		*what = "RLIMIT_AS";
		return r;
	}
	if ((r = set_limit(RLIMIT_FSIZE, 0)) < 0) {
		*what = "RLIMIT_FSIZE";
		return r;
	}
	return 0;
}

static int add_rule(scmp_filter_ctx ctx, const struct rule *ru, int sock)
{
	uint32_t action = ru->fail ? SCMP_ACT_ERRNO((uint32_t)ru->fail) : SCMP_ACT_ALLOW;
	int nr = seccomp_syscall_resolve_name(ru->name);

	if (nr == __NR_SCMP_ERROR)
		return 0; /* not a call of this architecture */
	switch (ru->cond) {
	case ANY:
		return seccomp_rule_add(ctx, action, nr, 0);
	case IF_MASKED:
		return seccomp_rule_add(ctx, action, nr, 1,
					SCMP_CMP(ru->arg, SCMP_CMP_MASKED_EQ, ru->mask, ru->value));
	case ON_SOCK:
		return seccomp_rule_add(ctx, action, nr, 1,
					SCMP_CMP(ru->arg, SCMP_CMP_MASKED_EQ, ru->mask,
						 (uint64_t)sock));
	}
	return -EINVAL;
}

static int load_filter(int sock, const char **what)
{
	scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_TRAP);
	int r = -ENOMEM;

	*what = "seccomp_init";
	if (!ctx)
		goto out;
	/* a call through another architecture's entry (int 0x80 on x86-64)
	 * is never reported, only killed */
	*what = "seccomp attributes";
	if ((r = seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_KILL_PROCESS)) < 0 ||
	    (r = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_TSYNC, 1)) < 0)
		goto out;
	*what = "seccomp rules";
	for (size_t i = 0; i < sizeof(rules) / sizeof(rules[0]); i++)
		if ((r = add_rule(ctx, &rules[i], sock)) < 0)
			goto out;
	for (size_t i = 0; SANDBOX_SANITIZER && i < sizeof(sanitizer_rules) / sizeof(sanitizer_rules[0]); i++)
		if ((r = add_rule(ctx, &sanitizer_rules[i], sock)) < 0)
			goto out;
	*what = "seccomp_load";
	r = seccomp_load(ctx);
out:
	seccomp_release(ctx);
	return r < 0 ? r : 0;
}

int sandbox_enter(int sock, const struct sandbox_limits *lim, char *err, size_t errlen)
{
	struct sigaction sa;
	const char *what = "";
	int r;

	if ((r = first_thread()) < 0) {
		what = "starting a thread";
		goto fail;
	}
	if ((r = drop_capabilities()) < 0) {
		what = "dropping capabilities";
		goto fail;
	}
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) {
		r = -errno;
		what = "PR_SET_NO_NEW_PRIVS";
		goto fail;
	}
	/* a write past RLIMIT_FSIZE fails with EFBIG instead of killing */
	signal(SIGXFSZ, SIG_IGN);
	if ((r = set_limits(lim, highest_fd(), &what)) < 0)
		goto fail;
	report_sock = sock;
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = on_sigsys;
	sa.sa_flags = SA_SIGINFO | SA_RESETHAND;
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGSYS, &sa, NULL) < 0) {
		r = -errno;
		what = "the SIGSYS handler";
		goto fail;
	}
	if ((r = load_filter(sock, &what)) < 0)
		goto fail;
	return 0;
fail:
	snprintf(err, errlen, "cannot enter the sandbox: %s: %s", what, strerror(-r));
	return r;
}
