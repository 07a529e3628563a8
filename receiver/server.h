/* server.h - the receiver's HTTPS server (libmicrohttpd + GnuTLS): reads
 * each request body up to a hard limit, adds the security headers every
 * response carries, and hands the request to the device intake
 * (ingest.c) or the staff dashboard and API (staff.c).
 */
#ifndef HW_SERVER_H
#define HW_SERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <json-c/json.h>
#include <microhttpd.h>

#include "rstore.h"

#define SERVER_MAX_BODY (64 * 1024)

struct server_config {
	const char *listen;   /* "ADDR:PORT" or "[ADDR6]:PORT"; port 0 picks one */
	const char *tls_cert; /* PEM files; required unless insecure_http */
	const char *tls_key;
	bool insecure_http;   /* tests only, and only on a loopback address */
	unsigned threads;     /* worker threads */
	int64_t escalate_after; /* seconds before an unacknowledged alert is overdue */
	int64_t stale_after;	/* seconds without a heartbeat before a device is stale */
	int64_t session_ttl;	/* seconds a staff login lasts */
	int64_t session_idle;	/* seconds without a request that end a login (0: never) */
};

/* One request, as the handlers see it.  body is NUL-terminated. */
struct req {
	struct MHD_Connection *conn;
	struct server *srv;
	const char *method;
	const char *url;
	char *body;
	size_t len, cap;
	bool too_big;
	char ip[64];
};

struct server {
	struct server_config cfg;
	struct rstore *st;
	struct staff *staff;
	struct MHD_Daemon *mhd;
	uint16_t port;	  /* the port bound (useful when asked for port 0) */
	char *cert, *key; /* PEM text, kept for MHD's lifetime */
};

/* Start serving on cfg->listen with st (borrowed: it must outlive the
 * server).  Returns 0 and *ret, or -errno after printing why. */
int server_start(const struct server_config *cfg, struct rstore *st, struct server **ret);
/* Stop accepting, finish running requests, free.  Accepts NULL. */
void server_stop(struct server *srv);

/* Log one line to stderr (the journal).  Never pass alert contents. */
void server_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Queue a response; these return what the MHD handler must return.
 * server_reply takes a copy of data.  extra: NULL or pairs of header
 * name and value, NULL-terminated. */
enum MHD_Result server_reply(struct req *rq, unsigned status, const char *ctype,
			     const void *data, size_t len, const char *const *extra);
/* Serialize obj (consumed) as the body of a JSON response. */
enum MHD_Result server_reply_json(struct req *rq, unsigned status, json_object *obj);
/* {"error": code, "detail": detail} */
enum MHD_Result server_reply_error(struct req *rq, unsigned status, const char *code,
				   const char *detail);

/* The request header name, or NULL. */
const char *server_header(struct req *rq, const char *name);

#endif
