/* fuzz_auditverify.c - the audit log reader on arbitrary bytes: every
 * line goes through the record parser and the chain checks (once stopping
 * at the first problem as `verify` does, once going on as `show` does),
 * and the whole input through the tail reader that finds the head.  The
 * verifier reads logs an attacker may have edited, so it must never
 * crash, leak or read out of bounds. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "auditverify.h"

static int count(const struct audit_record *rec, bool verified, void *ud)
{
	(void)verified;
	*(uint64_t *)ud += rec->seq & 1;
	return 0;
}

static void walk(const uint8_t *data, size_t size, bool keep_going)
{
	struct auditverify v;
	struct auditverify_opts o = { .time_tolerance_ms = 600000, .keep_going = keep_going,
				      .anchor_seq = 3 };
	uint64_t n = 0, line = 0;
	const char *p = (const char *)data, *end = p + size, *nl;

	auditverify_init(&v, &o);
	while (p < end && (nl = memchr(p, '\n', (size_t)(end - p)))) {
		auditverify_line(&v, p, (size_t)(nl - p), "fuzz", ++line, count, &n);
		p = nl + 1;
	}
	auditverify_finish(&v);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char path[] = "/tmp/fuzz_audit.XXXXXX";
	uint64_t seq;
	char head[AUDIT_HEAD_HEX];

	walk(data, size, false);
	walk(data, size, true);
	int fd = mkstemp(path);
	if (fd < 0)
		return 0;
	if (write(fd, data, size) == (ssize_t)size)
		auditverify_file_head(path, &seq, head);
	close(fd);
	unlink(path);
	return 0;
}
