/* server.c - libmicrohttpd setup, TLS, bounded request bodies, response
 * headers, and the split between device intake and staff requests. */
#include <errno.h>
#include <netdb.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "fileio.h"
#include "ingest.h"
#include "server.h"
#include "staff.h"

/* A body larger than this is not even read to the end: the connection is
 * closed.  Up to it, the rest is read and dropped so a 413 can be sent. */
#define DISCARD_LIMIT (1024 * 1024)

/* Pages load scripts and styles only from this server, never inline, and
 * may not be framed. */
static const char csp[] = "default-src 'none'; script-src 'self'; style-src 'self'; "
			  "img-src 'self'; connect-src 'self'; form-action 'self'; "
			  "frame-ancestors 'none'; base-uri 'none'";

void server_log(const char *fmt, ...)
{
	char line[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	fprintf(stderr, "hashwatch-receiver: %s\n", line);
}

const char *server_header(struct req *rq, const char *name)
{
	return MHD_lookup_connection_value(rq->conn, MHD_HEADER_KIND, name);
}

enum MHD_Result server_reply(struct req *rq, unsigned status, const char *ctype,
			     const void *data, size_t len, const char *const *extra)
{
	struct MHD_Response *resp;
	enum MHD_Result ret;

	resp = MHD_create_response_from_buffer(len, (void *)data, MHD_RESPMEM_MUST_COPY);
	if (!resp)
		return MHD_NO;
	if (ctype)
		MHD_add_response_header(resp, "Content-Type", ctype);
	MHD_add_response_header(resp, "Cache-Control", "no-store");
	MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
	MHD_add_response_header(resp, "X-Frame-Options", "DENY");
	MHD_add_response_header(resp, "Referrer-Policy", "no-referrer");
	MHD_add_response_header(resp, "Cross-Origin-Opener-Policy", "same-origin");
	MHD_add_response_header(resp, "Cross-Origin-Resource-Policy", "same-origin");
	MHD_add_response_header(resp, "Content-Security-Policy", csp);
	if (!rq->srv->cfg.insecure_http)
		MHD_add_response_header(resp, "Strict-Transport-Security", "max-age=31536000");
	for (size_t i = 0; extra && extra[i] && extra[i + 1]; i += 2)
		MHD_add_response_header(resp, extra[i], extra[i + 1]);
	ret = MHD_queue_response(rq->conn, status, resp);
	MHD_destroy_response(resp);
	return ret;
}

enum MHD_Result server_reply_json(struct req *rq, unsigned status, json_object *obj)
{
	size_t len = 0;
	const char *s = json_object_to_json_string_length(
		obj, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, &len);
	enum MHD_Result ret = server_reply(rq, status, "application/json", s, len, NULL);
	json_object_put(obj);
	return ret;
}

enum MHD_Result server_reply_error(struct req *rq, unsigned status, const char *code,
				   const char *detail)
{
	json_object *o = json_object_new_object();
	json_object_object_add(o, "error", json_object_new_string(code));
	json_object_object_add(o, "detail", json_object_new_string(detail));
	return server_reply_json(rq, status, o);
}

static void client_ip(struct req *rq)
{
	const union MHD_ConnectionInfo *ci =
		MHD_get_connection_info(rq->conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	snprintf(rq->ip, sizeof(rq->ip), "?");
	if (ci && ci->client_addr)
		getnameinfo(ci->client_addr,
			    ci->client_addr->sa_family == AF_INET6 ? sizeof(struct sockaddr_in6)
								   : sizeof(struct sockaddr_in),
			    rq->ip, sizeof(rq->ip), NULL, 0, NI_NUMERICHOST);
}

/* Append an upload chunk, keeping the body NUL-terminated. */
static int append(struct req *rq, const char *data, size_t n)
{
	if (rq->too_big || rq->len + n > SERVER_MAX_BODY) {
		rq->too_big = true;
		rq->len += n; /* counts what was dropped */
		return rq->len > DISCARD_LIMIT ? -EFBIG : 0;
	}
	if (rq->len + n + 1 > rq->cap) {
		size_t cap = rq->cap ? rq->cap : 4096;
		while (cap < rq->len + n + 1)
			cap *= 2;
		char *b = realloc(rq->body, cap);
		if (!b)
			return -ENOMEM;
		rq->body = b;
		rq->cap = cap;
	}
	memcpy(rq->body + rq->len, data, n);
	rq->len += n;
	rq->body[rq->len] = '\0';
	return 0;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
				  const char *method, const char *version,
				  const char *upload, size_t *upload_size, void **con_cls)
{
	struct server *srv = cls;
	struct req *rq = *con_cls;

	if (!rq) {
		rq = calloc(1, sizeof(*rq));
		if (!rq)
			return MHD_NO;
		rq->conn = conn;
		rq->srv = srv;
		rq->method = method;
		rq->url = url;
		client_ip(rq);
		*con_cls = rq;
		/* A declared body over the limit is read and dropped, and the
		 * 413 sent after it: answering before the client has sent its
		 * body makes the close reset the connection, and the client
		 * may never see the answer.  Past DISCARD_LIMIT it is refused
		 * at once and the connection closed. */
		const char *cl = server_header(rq, "Content-Length");
		unsigned long long declared = cl ? strtoull(cl, NULL, 10) : 0;
		if (declared > SERVER_MAX_BODY)
			rq->too_big = true;
		if (declared > DISCARD_LIMIT) {
			server_log("refused %s %s from %s: body of %s bytes is over the limit",
				   method, url, rq->ip, cl);
			return server_reply_error(rq, 413, "too_large",
						  "the body is larger than 65536 bytes");
		}
		return MHD_YES;
	}
	if (*upload_size) {
		int r = append(rq, upload, *upload_size);
		*upload_size = 0;
		return r < 0 ? MHD_NO : MHD_YES;
	}
	if (rq->too_big) {
		server_log("refused %s %s from %s: body over the limit", method, url, rq->ip);
		return server_reply_error(rq, 413, "too_large", "the body is larger than 65536 bytes");
	}
	if (!rq->body && append(rq, "", 0) < 0)
		return MHD_NO;
	if (strncmp(url, "/v1/", 4) == 0)
		return ingest_handle(rq);
	return staff_handle(srv->staff, rq);
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
			 enum MHD_RequestTerminationCode toe)
{
	struct req *rq = *con_cls;
	if (rq) {
		free(rq->body);
		free(rq);
		*con_cls = NULL;
	}
}

/* Split "ADDR:PORT" / "[ADDR6]:PORT" and resolve it numerically. */
static int parse_listen(const char *listen, struct sockaddr_storage *ret, socklen_t *ret_len)
{
	char host[128];
	const char *colon = strrchr(listen, ':');
	struct addrinfo hints = { .ai_flags = AI_NUMERICHOST | AI_NUMERICSERV | AI_PASSIVE,
				  .ai_socktype = SOCK_STREAM },
			*ai = NULL;
	size_t hl;

	if (!colon || colon == listen)
		return -EINVAL;
	hl = (size_t)(colon - listen);
	if (listen[0] == '[' && colon[-1] == ']') {
		listen++;
		hl -= 2;
	}
	if (hl >= sizeof(host))
		return -EINVAL;
	memcpy(host, listen, hl);
	host[hl] = '\0';
	if (getaddrinfo(host, colon + 1, &hints, &ai) != 0 || !ai)
		return -EINVAL;
	memcpy(ret, ai->ai_addr, ai->ai_addrlen);
	*ret_len = ai->ai_addrlen;
	freeaddrinfo(ai);
	return 0;
}

static bool is_loopback(const struct sockaddr_storage *ss)
{
	if (ss->ss_family == AF_INET)
		return (ntohl(((const struct sockaddr_in *)ss)->sin_addr.s_addr) >> 24) == 127;
	return ss->ss_family == AF_INET6 &&
	       IN6_IS_ADDR_LOOPBACK(&((const struct sockaddr_in6 *)ss)->sin6_addr);
}

int server_start(const struct server_config *cfg, struct rstore *st, struct server **ret)
{
	struct server *srv = calloc(1, sizeof(*srv));
	struct sockaddr_storage addr;
	socklen_t alen;
	size_t n;
	unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_ERROR_LOG;
	int r;

	if (!srv)
		return -ENOMEM;
	srv->cfg = *cfg;
	srv->st = st;
	r = parse_listen(cfg->listen, &addr, &alen);
	if (r < 0) {
		server_log("--listen %s: expected ADDR:PORT with a numeric address, "
			   "e.g. 0.0.0.0:8443 or [::1]:8443",
			   cfg->listen);
		goto fail;
	}
	if (cfg->insecure_http && !is_loopback(&addr)) {
		server_log("--insecure-http is only allowed on a loopback address");
		r = -EPERM;
		goto fail;
	}
	if (!cfg->insecure_http) {
		if (!cfg->tls_cert || !cfg->tls_key) {
			server_log("--tls-cert and --tls-key are required");
			r = -EINVAL;
			goto fail;
		}
		/* MHD may keep pointers to these: they live as long as srv. */
		if ((r = hw_read_file(cfg->tls_cert, 1 << 20, (void **)&srv->cert, &n)) < 0 ||
		    (r = hw_read_file(cfg->tls_key, 1 << 20, (void **)&srv->key, &n)) < 0) {
			server_log("cannot read %s: %s", srv->cert ? cfg->tls_key : cfg->tls_cert,
				   strerror(-r));
			goto fail;
		}
		flags |= MHD_USE_TLS;
	}
	if (addr.ss_family == AF_INET6)
		flags |= MHD_USE_IPv6;
	r = staff_new(srv, &srv->staff);
	if (r < 0)
		goto fail;
	srv->mhd = MHD_start_daemon(
		flags, 0, NULL, NULL, on_request, srv, MHD_OPTION_SOCK_ADDR,
		(struct sockaddr *)&addr, MHD_OPTION_THREAD_POOL_SIZE,
		(unsigned)(cfg->threads ? cfg->threads : 4), MHD_OPTION_CONNECTION_LIMIT,
		(unsigned)1000, MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)30,
		MHD_OPTION_NOTIFY_COMPLETED, on_completed, NULL,
		srv->cert ? MHD_OPTION_HTTPS_MEM_CERT : MHD_OPTION_END, srv->cert,
		MHD_OPTION_HTTPS_MEM_KEY, srv->key, MHD_OPTION_HTTPS_PRIORITIES, "NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2",
		MHD_OPTION_END);
	if (!srv->mhd) {
		server_log("cannot listen on %s (address in use, or a bad certificate or key)",
			   cfg->listen);
		r = -EADDRINUSE;
		goto fail;
	}
	const union MHD_DaemonInfo *di = MHD_get_daemon_info(srv->mhd, MHD_DAEMON_INFO_BIND_PORT);
	srv->port = di ? di->port : 0;
	*ret = srv;
	return 0;
fail:
	server_stop(srv);
	return r;
}

void server_stop(struct server *srv)
{
	if (!srv)
		return;
	if (srv->mhd)
		MHD_stop_daemon(srv->mhd);
	staff_free(srv->staff);
	if (srv->key)
		sodium_memzero(srv->key, strlen(srv->key));
	free(srv->key);
	free(srv->cert);
	free(srv);
}
