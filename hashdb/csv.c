/* csv.c - RFC 4180 record splitting (see csv.h for the accepted grammar). */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "csv.h"

void csv_init(struct csv_reader *r, const char *buf, size_t len)
{
	r->p = buf;
	r->end = buf + len;
	r->line = 1;
	if (len >= 3 && memcmp(buf, "\xef\xbb\xbf", 3) == 0)
		r->p += 3;
}

/* A line break at p: "\r\n" or "\n" (a lone "\r" is data).  Returns its
 * length, 0 when p is not at a line break. */
static size_t line_break(const char *p, const char *end)
{
	if (p < end && *p == '\n')
		return 1;
	if (end - p >= 2 && p[0] == '\r' && p[1] == '\n')
		return 2;
	return 0;
}

/* Append one byte of field text; false when the record buffer is full
 * (one byte is always kept for the field's terminating NUL). */
static bool put(struct csv_reader *r, size_t *used, char c)
{
	if (*used + 1 >= sizeof(r->buf))
		return false;
	r->buf[(*used)++] = c;
	return true;
}

int csv_next(struct csv_reader *r, char **fields, size_t maxfields,
	     size_t *ret_n, unsigned long *ret_line, char *err, size_t errlen)
{
	const char *p = r->p, *end = r->end;
	unsigned long start_line = r->line;
	size_t nf = 0, used = 0;
	int ret = -EBADMSG;

	if (p >= end)
		return 0;
	for (;;) {
		/* One field per iteration; p is at its first byte. */
		if (nf == maxfields) {
			snprintf(err, errlen, "more than %zu fields", maxfields);
			ret = -E2BIG;
			goto fail;
		}
		if (used >= sizeof(r->buf))
			goto too_long;
		fields[nf++] = r->buf + used;
		if (p < end && *p == '"') {
			for (p++;; p++) {
				if (p >= end) {
					snprintf(err, errlen,
						 "quoted field %zu is not closed (it runs to the end of the input)",
						 nf);
					r->line = start_line; /* where to look */
					goto fail;
				}
				if (*p == '"' && !(p + 1 < end && p[1] == '"'))
					break;
				if (*p == '"')
					p++; /* "" stands for one " */
				else if (*p == '\n')
					r->line++;
				if (*p == '\0')
					goto nul;
				if (!put(r, &used, *p))
					goto too_long;
			}
			p++; /* the closing quote */
			if (p < end && *p != ',' && !line_break(p, end)) {
				snprintf(err, errlen,
					 "text after the closing quote of field %zu", nf);
				goto fail;
			}
		} else {
			for (; p < end && *p != ',' && !line_break(p, end); p++) {
				if (*p == '"') {
					snprintf(err, errlen,
						 "quote inside unquoted field %zu (quote the whole field and double the quote)",
						 nf);
					goto fail;
				}
				if (*p == '\0')
					goto nul;
				if (!put(r, &used, *p))
					goto too_long;
			}
		}
		r->buf[used++] = '\0';
		if (p < end && *p == ',') {
			p++;
			continue;
		}
		/* End of record: a line break or the end of the input. */
		size_t lb = line_break(p, end);
		if (lb) {
			p += lb;
			r->line++;
		}
		break;
	}
	r->p = p;
	*ret_n = nf;
	*ret_line = start_line;
	return 1;
nul:
	snprintf(err, errlen, "NUL byte in field %zu", nf);
	goto fail;
too_long:
	snprintf(err, errlen, "record longer than %d bytes", CSV_MAX_RECORD);
	ret = -E2BIG;
fail:
	r->p = end;
	*ret_line = r->line;
	return ret;
}
