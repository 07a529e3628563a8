/* confval.h - the value syntax every hashwatch configuration file shares
 * (the scanner's and the uplink's sections of hashwatch.conf): sizes,
 * counts, booleans, ids, and the "file: message" error text, so that one
 * spelling of a value means the same to every program. */
#ifndef HW_CONFVAL_H
#define HW_CONFVAL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The longest device id, in bytes. */
#define CONFVAL_ID_MAX 64

/* Bytes: digits and an optional binary suffix B, K/KB/KiB, M/MB/MiB,
 * G/GB/GiB (any case).  0, -EINVAL (not that syntax) or -ERANGE; *ret is
 * written only on success. */
int confval_size(const char *s, uint64_t *ret);

/* A count: digits and an optional decimal suffix k/K (1000), M, G; case
 * matters (m would read as milli next to M). */
int confval_count(const char *s, uint64_t *ret);

/* yes/true/on/1 or no/false/off/0, any case.  0 or -EINVAL. */
int confval_bool(const char *s, bool *ret);

/* A device id: 1 to CONFVAL_ID_MAX letters, digits or "._:-" (it names
 * the laptop in alerts, logs and the receiver's tables). */
bool confval_device_id(const char *s);

/* A parser's first error: confval_fail() writes "name: message" into buf
 * (len bytes, always terminated, cut if too long) the first time and sets
 * failed; later calls change nothing, as the first problem is the one
 * worth reading. */
struct confval_error {
	const char *name; /* the file, in messages */
	char *buf;
	size_t len;
	bool failed;
};

void confval_fail(struct confval_error *e, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#endif
