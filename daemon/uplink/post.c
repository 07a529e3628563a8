/* post.c - one reusable libcurl handle for the receiver; see post.h. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "post.h"

/* Past this many response bytes the transfer is cut: no receiver answer
 * is that long, and the time-out alone would let a hostile server keep
 * the uplink reading for the whole timeout. */
#define POST_RESPONSE_ABORT (1024 * 1024)

struct post {
	const struct upconf *cfg;
	CURL *h;
	struct curl_slist *headers;
	char errbuf[CURL_ERROR_SIZE];
	size_t seen; /* response bytes of the current request */
	struct post_result *res;
};

static size_t on_body(char *ptr, size_t size, size_t nmemb, void *ud)
{
	struct post *p = ud;
	struct post_result *res = p->res;
	size_t n = size * nmemb, room = POST_RESPONSE_MAX - res->body_len;
	size_t k = n < room ? n : room;

	memcpy(res->body + res->body_len, ptr, k);
	res->body_len += k;
	res->body[res->body_len] = '\0';
	if (k < n)
		res->truncated = true;
	p->seen += n;
	return p->seen > POST_RESPONSE_ABORT ? 0 : n;
}

int post_new(const struct upconf *cfg, struct post **ret, char *err, size_t errlen)
{
	struct post *p = calloc(1, sizeof(*p));
	long connect_s = cfg->timeout_s < 10 ? (long)cfg->timeout_s : 10;
	CURLcode c = CURLE_OK;
	int r = -ENOMEM;

	if (!p || !(p->h = curl_easy_init())) {
		snprintf(err, errlen, "cannot set up libcurl: out of memory");
		goto fail;
	}
	p->cfg = cfg;
	struct curl_slist *h1 = curl_slist_append(NULL, "Content-Type: application/json");
	struct curl_slist *h2 = h1 ? curl_slist_append(h1, "Accept: application/json") : NULL;
	/* No "Expect: 100-continue" round trip before each body. */
	p->headers = h2 ? curl_slist_append(h2, "Expect:") : NULL;
	if (!p->headers) {
		curl_slist_free_all(h2 ? h2 : h1);
		snprintf(err, errlen, "cannot set up libcurl: out of memory");
		goto fail;
	}
#define SET(opt, val) \
	if (c == CURLE_OK) \
	c = curl_easy_setopt(p->h, opt, val)
	SET(CURLOPT_ERRORBUFFER, p->errbuf);
	SET(CURLOPT_NOSIGNAL, 1L);
	SET(CURLOPT_PROTOCOLS_STR, "https");
	SET(CURLOPT_FOLLOWLOCATION, 0L);
	SET(CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1);
	SET(CURLOPT_SSLVERSION, (long)CURL_SSLVERSION_TLSv1_2);
	SET(CURLOPT_SSL_VERIFYPEER, 1L);
	SET(CURLOPT_SSL_VERIFYHOST, 2L);
	if (cfg->ca_file)
		SET(CURLOPT_CAINFO, cfg->ca_file);
	if (cfg->pin)
		SET(CURLOPT_PINNEDPUBLICKEY, cfg->pin);
	SET(CURLOPT_TIMEOUT, (long)cfg->timeout_s);
	SET(CURLOPT_CONNECTTIMEOUT, connect_s);
	SET(CURLOPT_TCP_KEEPALIVE, 1L);
	SET(CURLOPT_USERAGENT, "hashwatch-uplink/" HW_VERSION);
	SET(CURLOPT_HTTPHEADER, p->headers);
	SET(CURLOPT_POST, 1L);
	SET(CURLOPT_WRITEFUNCTION, on_body);
	SET(CURLOPT_WRITEDATA, p);
#undef SET
	if (c != CURLE_OK) {
		snprintf(err, errlen, "libcurl refused an option: %s%s", curl_easy_strerror(c),
			 c == CURLE_NOT_BUILT_IN || c == CURLE_UNKNOWN_OPTION
				 ? " (this libcurl lacks a feature the configuration asks for, "
				   "e.g. pin)"
				 : "");
		r = -EINVAL;
		goto fail;
	}
	*ret = p;
	return 0;
fail:
	post_free(p);
	return r;
}

void post_free(struct post *p)
{
	if (!p)
		return;
	curl_easy_cleanup(p->h);
	curl_slist_free_all(p->headers);
	free(p);
}

/* Say what failed and what to check, for the log and sd_notify STATUS. */
static void explain(const struct post *p, CURLcode c, struct post_result *res)
{
	const struct upconf *cfg = p->cfg;
	const char *detail = p->errbuf[0] ? p->errbuf : curl_easy_strerror(c);
	char *e = res->error;
	size_t n = sizeof(res->error);

	switch (c) {
	case CURLE_PEER_FAILED_VERIFICATION:
		res->tls_problem = true;
		snprintf(e, n, "TLS: the receiver's certificate was not accepted (%s); check that "
			       "%s%s holds the CA that signed it and that the certificate names the "
			       "host in url", detail, cfg->ca_file ? "ca_file = " : "the system CA store",
			 cfg->ca_file ? cfg->ca_file : "");
		break;
	case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
		res->tls_problem = true;
		snprintf(e, n, "TLS: the receiver's public key does not match pin (%s); if its key "
			       "was replaced on purpose, update pin, otherwise something is "
			       "intercepting the connection", detail);
		break;
	case CURLE_SSL_CACERT_BADFILE:
		res->tls_problem = true;
		snprintf(e, n, "TLS: cannot use ca_file = %s (%s); it must be a readable PEM file",
			 cfg->ca_file ? cfg->ca_file : "(system store)", detail);
		break;
	case CURLE_SSL_CONNECT_ERROR:
		res->tls_problem = true;
		snprintf(e, n, "TLS handshake with the receiver failed (%s)", detail);
		break;
	case CURLE_COULDNT_RESOLVE_HOST:
		snprintf(e, n, "cannot resolve the receiver's host name (%s); check url and DNS",
			 detail);
		break;
	case CURLE_COULDNT_CONNECT:
		snprintf(e, n, "cannot connect to the receiver (%s); is it running and reachable?",
			 detail);
		break;
	case CURLE_OPERATION_TIMEDOUT:
		snprintf(e, n, "the receiver did not answer within timeout = %u s (%s)",
			 cfg->timeout_s, detail);
		break;
	default:
		snprintf(e, n, "%s (%s)", curl_easy_strerror(c), detail);
		break;
	}
}

int post_send(struct post *p, const char *path, const char *body, size_t len,
	      struct post_result *res)
{
	char url[UPCONF_URL_MAX + 64];
	curl_off_t retry = 0;
	CURLcode c;

	memset(res, 0, sizeof(*res));
	res->retry_after_s = -1;
	p->errbuf[0] = '\0';
	p->seen = 0;
	p->res = res;
	snprintf(url, sizeof(url), "%s%s", p->cfg->url, path);
	c = curl_easy_setopt(p->h, CURLOPT_URL, url);
	if (c == CURLE_OK)
		c = curl_easy_setopt(p->h, CURLOPT_POSTFIELDS, body);
	if (c == CURLE_OK)
		c = curl_easy_setopt(p->h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
	if (c == CURLE_OK)
		c = curl_easy_perform(p->h);
	curl_easy_getinfo(p->h, CURLINFO_RESPONSE_CODE, &res->status);
	p->res = NULL;
	/* A response cut short by our own limit still carries its status. */
	if (c != CURLE_OK && !(c == CURLE_WRITE_ERROR && res->status > 0)) {
		res->status = 0;
		explain(p, c, res);
		return -EIO;
	}
	if (curl_easy_getinfo(p->h, CURLINFO_RETRY_AFTER, &retry) == CURLE_OK && retry > 0)
		res->retry_after_s = retry > 86400 * 365 ? 86400 * 365 : (long)retry;
	return 0;
}
