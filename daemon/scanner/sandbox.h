/* sandbox.h - what a worker process gives up before it reads the first
 * untrusted byte (DESIGN.md invariant 4).
 *
 * A worker decodes images that anyone can put on a student's laptop, with
 * the right to read every home folder behind it.  Once sandbox_enter() has
 * returned, the process has no capabilities, cannot gain privileges
 * (PR_SET_NO_NEW_PRIVS), has rlimits on address space, CPU time, open
 * descriptors, file size and core dumps, and a default-deny seccomp filter
 * (libseccomp) that permits only what decoding an already-open descriptor
 * needs: reading descriptors it is given, replying on its socket, memory
 * that is never executable, threads (libheif's decoders start some) but
 * never processes, clocks, and exiting.  No open, no socket, no exec, no
 * ptrace.  The allow-list is the table in sandbox.c.
 *
 * A denied call is never executed: the kernel raises SIGSYS, whose handler
 * sends one sandbox_report (the call's number) on the worker's socket and
 * lets the process die of SIGSYS, so the daemon can say which call it was.
 * The handler is one-shot, and every later denied call (or any attempt to
 * catch SIGSYS again) kills the process outright.
 *
 * Sanitizer builds (ASan/UBSan, detected at compile time) cannot run under
 * an address-space limit and need a few more calls for their runtime; those
 * are added only in such builds, never in the production filter.
 */
#ifndef HW_SCANNER_SANDBOX_H
#define HW_SCANNER_SANDBOX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SANDBOX_REPORT_MAGIC 0x42535748u /* "HWSB": a call was denied */
#define SANDBOX_READY_MAGIC 0x59525748u  /* "HWRY": sandboxed, ready */

/* What a worker sends once it is in its sandbox (syscall 0), and before it
 * dies of a denied call.  Fixed size, and a different size from every
 * proto.h message, so that it cannot be taken for one. */
struct sandbox_report {
	uint32_t magic;
	int32_t syscall; /* the number the kernel saw */
	uint32_t arch;   /* AUDIT_ARCH_* of the call */
	uint32_t pad;
};

struct sandbox_limits {
	uint64_t address_space; /* RLIMIT_AS in bytes; 0 = leave as it is */
	uint64_t cpu_seconds;   /* RLIMIT_CPU; 0 = leave as it is */
};

/* True when this build is instrumented by a sanitizer (the filter then has
 * its runtime's extra calls and RLIMIT_AS is not set). */
bool sandbox_sanitizer_build(void);

/* Touch, before the filter is in place, everything that libraries load on
 * first use: hash a tiny image of each allowed format and one damaged
 * image (samples.h) with `models` (loaders, their tables, OpenSSL's
 * configuration, message catalogues, the OpenCV module's first call).
 * Call after decode_init() (and cvhash_load() when models has OpenCV
 * ones).  Returns how many samples came out as expected; one that does
 * not (a libvips without HEIF, say) is not an error: it only means there
 * was nothing to warm up for it. */
unsigned sandbox_prepare(uint32_t models);

/* Enter the sandbox for good.  sock is the worker's socket (the only one
 * it may send on; reports of denied calls go there).  Descriptors open now
 * are all it keeps, plus one slot for a received file.  Returns 0, or
 * -errno with a one-line reason in err; on failure the process must not go
 * on to read untrusted input (the caller exits). */
int sandbox_enter(int sock, const struct sandbox_limits *lim, char *err, size_t errlen);

/* Worker side, after sandbox_enter(): tell the daemon that requests may
 * come.  The daemon hands no file to a worker before this.  0 or -errno. */
int sandbox_send_ready(int sock);

enum sandbox_msg {
	SANDBOX_MSG_NONE = 0, /* not a sandbox message, whatever its bytes */
	SANDBOX_MSG_READY,
	SANDBOX_MSG_DENIED,   /* *ret_syscall set */
};

/* Daemon side: what buf[0..len) is.  *ret_syscall is written only for
 * SANDBOX_MSG_DENIED. */
enum sandbox_msg sandbox_message_parse(const void *buf, size_t len, int *ret_syscall);

/* "openat" for a call number of this machine's architecture, or "?" when
 * unknown; writes into buf (at least 32 bytes) and returns it. */
const char *sandbox_syscall_name(int nr, char *buf, size_t len);

#endif
