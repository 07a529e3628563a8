/* post.h - the uplink's HTTPS client: one libcurl handle, so that one TLS
 * connection to the receiver is reused from request to request; HTTP/1.1;
 * https only, no redirects; the peer's certificate and host name always
 * verified (against ca_file, or the system store), and its public key
 * checked against pin when one is configured.  Nothing here can turn
 * verification off.
 */
#ifndef HW_UPLINK_POST_H
#define HW_UPLINK_POST_H

#include <stdbool.h>
#include <stddef.h>

#include "upconf.h"

#define POST_RESPONSE_MAX 4096 /* bytes of a response body kept; the rest is
				* read and dropped, and `truncated` says so */
#define POST_ERROR_MAX 512

struct post;

struct post_result {
	long status;         /* HTTP status; 0 when there was no answer */
	long retry_after_s;  /* Retry-After in seconds (a date is turned
			      * into seconds from now); -1 when absent */
	char body[POST_RESPONSE_MAX + 1]; /* NUL-terminated */
	size_t body_len;
	bool truncated;
	bool tls_problem;    /* the failure was the receiver's identity (CA,
			      * name, pin): a configuration or an attack */
	char error[POST_ERROR_MAX]; /* when status == 0: what went wrong, in words,
			      * with what to check */
};

/* A client for cfg (borrowed: it must outlive the client).  Returns 0 and
 * *ret, or -ENOMEM / -EINVAL with a message in err (libcurl refused an
 * option, e.g. it was built without pinning support). */
int post_new(const struct upconf *cfg, struct post **ret, char *err, size_t errlen);

/* Frees the client and closes its connection; NULL is ignored. */
void post_free(struct post *p);

/* POST body[0..len) as application/json to <url><path>.  Returns 0 when
 * the receiver answered (whatever the status: see res->status), -EIO when
 * it did not (connection, TLS, time-out: res->error says which).  res is
 * always filled. */
int post_send(struct post *p, const char *path, const char *body, size_t len,
	      struct post_result *res);

#endif
