/* csv.h - an RFC 4180 record splitter for the hash-list importers.
 *
 * Hash lists arrive as CSV exported from spreadsheets and case-management
 * tools, so fields may be quoted, contain commas, doubled quotes or line
 * breaks.  This reader splits a buffer that is already in memory into
 * records and fields; it does not interpret them (import.c does).  Rules:
 * fields are separated by ',' and records by CRLF or LF; a field that
 * starts with '"' is quoted and ends at the next lone '"', where '""'
 * stands for one '"'; after a closing quote only ',' or a line break may
 * follow; a '"' inside an unquoted field is an error (it is almost always a
 * mangled export, and guessing would import a wrong hash).  A UTF-8 byte
 * order mark at the start of the buffer is skipped.  NUL bytes are refused.
 */
#ifndef HW_CSV_H
#define HW_CSV_H

#include <stddef.h>

#define CSV_MAX_FIELDS 32      /* per record */
#define CSV_MAX_RECORD 8192    /* bytes of unquoted field text per record */

struct csv_reader {
	const char *p, *end;
	unsigned long line;        /* line number of p (1-based) */
	char buf[CSV_MAX_RECORD];  /* field text of the current record */
};

/* Start reading buf[0..len).  The buffer is borrowed: it must outlive the
 * reader. */
void csv_init(struct csv_reader *r, const char *buf, size_t len);

/* Split the next record.  On success returns 1 and sets fields[0..*ret_n)
 * to NUL-terminated strings that live in r->buf until the next call, and
 * *ret_line to the line the record starts on.  Returns 0 at the end of the
 * input, or a negative error with *ret_line set to the offending line and
 * a reason in err:
 *   -EBADMSG  unterminated quote, stray quote, text after a closing quote,
 *             NUL byte
 *   -E2BIG    more than maxfields fields or CSV_MAX_RECORD bytes
 * A blank line is returned as one empty field.  After an error the reader
 * must not be used again. */
int csv_next(struct csv_reader *r, char **fields, size_t maxfields,
	     size_t *ret_n, unsigned long *ret_line, char *err, size_t errlen);

#endif
