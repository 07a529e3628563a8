/* staff.c - dashboard pages, login, sessions, CSRF, roles and the staff
 * JSON API: see staff.h and docs/receiver-api.md. */
#include <errno.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "staff.h"
#include "www.h"

#define COOKIE "__Host-hw_session"
#define LOGIN_FAILS 5		 /* failed logins per user or address ... */
#define LOGIN_WINDOW (15 * 60)	 /* ... in this many seconds, then 429 */
#define LIMIT_SLOTS 256
#define HASHING_AT_ONCE 2	 /* argon2id takes 64 MiB each */

struct limit_slot {
	char key[96];
	unsigned fails;
	time_t since;
};

struct staff {
	struct server *srv;
	pthread_mutex_t lock;
	struct limit_slot limits[LIMIT_SLOTS];
	sem_t hashing;
	char dummy_hash[crypto_pwhash_STRBYTES]; /* for unknown users: same cost */
};

int staff_new(struct server *srv, struct staff **ret)
{
	struct staff *sf = calloc(1, sizeof(*sf));
	if (!sf)
		return -ENOMEM;
	sf->srv = srv;
	pthread_mutex_init(&sf->lock, NULL);
	sem_init(&sf->hashing, 0, HASHING_AT_ONCE);
	*ret = sf;
	return 0;
}

void staff_free(struct staff *sf)
{
	if (!sf)
		return;
	pthread_mutex_destroy(&sf->lock);
	sem_destroy(&sf->hashing);
	free(sf);
}

void staff_secret_hash(const char *secret, char ret_hash[65])
{
	unsigned char d[crypto_hash_sha256_BYTES];
	crypto_hash_sha256(d, (const unsigned char *)secret, strlen(secret));
	sodium_bin2hex(ret_hash, 65, d, sizeof(d));
}

void staff_secret(char ret_secret[65], char ret_hash[65])
{
	unsigned char raw[32];
	randombytes_buf(raw, sizeof(raw));
	sodium_bin2hex(ret_secret, 65, raw, sizeof(raw));
	sodium_memzero(raw, sizeof(raw));
	staff_secret_hash(ret_secret, ret_hash);
}

/* --- login rate limits ------------------------------------------------ */

/* The slot for key, or the oldest one recycled for it.  Under sf->lock. */
static struct limit_slot *limit_slot(struct staff *sf, const char *key, time_t now)
{
	struct limit_slot *oldest = &sf->limits[0];
	for (size_t i = 0; i < LIMIT_SLOTS; i++) {
		struct limit_slot *s = &sf->limits[i];
		if (strcmp(s->key, key) == 0) {
			if (now - s->since > LOGIN_WINDOW) {
				s->fails = 0;
				s->since = now;
			}
			return s;
		}
		if (s->since < oldest->since)
			oldest = s;
	}
	snprintf(oldest->key, sizeof(oldest->key), "%s", key);
	oldest->fails = 0;
	oldest->since = now;
	return oldest;
}

/* Seconds until user or ip may try again (0: now).  fail: count one more
 * failure for both; reset: forget the user's failures. */
static long limit_check(struct staff *sf, const char *user, const char *ip, int what)
{
	char ukey[96], ikey[96];
	time_t now = time(NULL);
	long wait = 0;

	snprintf(ukey, sizeof(ukey), "u:%s", user);
	snprintf(ikey, sizeof(ikey), "a:%s", ip);
	pthread_mutex_lock(&sf->lock);
	struct limit_slot *u = limit_slot(sf, ukey, now), *a = limit_slot(sf, ikey, now);
	if (what > 0) {
		u->fails++;
		a->fails++;
	} else if (what < 0) {
		u->fails = 0;
	}
	if (u->fails >= LOGIN_FAILS)
		wait = LOGIN_WINDOW - (long)(now - u->since);
	if (a->fails >= LOGIN_FAILS * 4 && LOGIN_WINDOW - (long)(now - a->since) > wait)
		wait = LOGIN_WINDOW - (long)(now - a->since);
	pthread_mutex_unlock(&sf->lock);
	return wait;
}

/* --- helpers ---------------------------------------------------------- */

static bool is(const char *a, const char *b)
{
	return strcmp(a, b) == 0;
}

static enum MHD_Result redirect_login(struct req *rq)
{
	static const char *const loc[] = { "Location", "/login", NULL };
	return server_reply(rq, 302, "text/plain", "", 0, loc);
}

/* Parse a JSON object request body; NULL if it is not one. */
static json_object *body_object(struct req *rq)
{
	json_tokener *tok = json_tokener_new_ex(8);
	json_object *o = NULL;
	if (!tok)
		return NULL;
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
	o = json_tokener_parse_ex(tok, rq->body, (int)rq->len);
	if (o && (!json_object_is_type(o, json_type_object) ||
		  json_tokener_get_parse_end(tok) != rq->len)) {
		json_object_put(o);
		o = NULL;
	}
	json_tokener_free(tok);
	return o;
}

/* A string member of o, or NULL (also when it is not a string). */
static const char *member(json_object *o, const char *key)
{
	json_object *v;
	if (!o || !json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

/* Who is asking: a bearer API token, or a session cookie.  0 or -ENOENT. */
static int authenticate(struct staff *sf, struct req *rq, struct rstore_principal *ret)
{
	const char *auth = server_header(rq, "Authorization");
	const char *cookie = MHD_lookup_connection_value(rq->conn, MHD_COOKIE_KIND, COOKIE);
	char hash[65];
	struct rstore_principal p;

	if (auth && strncasecmp(auth, "Bearer ", 7) == 0 && strlen(auth + 7) == 64) {
		staff_secret_hash(auth + 7, hash);
		if (rstore_cred_get(sf->srv->st, hash, sf->srv->cfg.session_idle, &p) == 0 && !p.is_session) {
			*ret = p;
			return 0;
		}
		return -ENOENT;
	}
	if (cookie && strlen(cookie) == 64) {
		staff_secret_hash(cookie, hash);
		if (rstore_cred_get(sf->srv->st, hash, sf->srv->cfg.session_idle, &p) == 0 && p.is_session) {
			*ret = p;
			return 0;
		}
	}
	return -ENOENT;
}

static bool can_triage(const struct rstore_principal *p)
{
	return is(p->role, "responder") || is(p->role, "admin");
}

/* --- login and logout ------------------------------------------------- */

static enum MHD_Result login(struct staff *sf, struct req *rq)
{
	json_object *in = body_object(rq), *out;
	const char *user = member(in, "user"), *pw = member(in, "password");
	char role[RSTORE_ROLE_MAX], hash[crypto_pwhash_STRBYTES];
	char secret[65], secret_hash[65], csrf[65], csrf_hash[65], cookie[200];
	enum MHD_Result ret;
	bool known, good, disabled = false;
	long wait;
	int r;

	if (!user || !pw || strlen(user) > 64 || strlen(pw) > 1024) {
		ret = server_reply_error(rq, 400, "bad_request", "send {\"user\", \"password\"}");
		goto out;
	}
	wait = limit_check(sf, user, rq->ip, 0);
	if (wait > 0) {
		char secs[24];
		snprintf(secs, sizeof(secs), "%ld", wait);
		const char *const hdr[] = { "Retry-After", secs, NULL };
		static const char body[] = "{\"error\":\"rate_limited\",\"detail\":\"too many failed "
					   "logins; wait and try again\"}";
		server_log("login refused for %s from %s: rate limited", user, rq->ip);
		ret = server_reply(rq, 429, "application/json", body, sizeof(body) - 1, hdr);
		goto out;
	}
	known = rstore_user_get(sf->srv->st, user, role, hash, &disabled) == 0;
	sem_wait(&sf->hashing);
	if (!known) {
		/* Spend the same time on an unknown name as on a wrong password. */
		pthread_mutex_lock(&sf->lock);
		if (!*sf->dummy_hash &&
		    crypto_pwhash_str(sf->dummy_hash, "x", 1, crypto_pwhash_OPSLIMIT_INTERACTIVE,
				      crypto_pwhash_MEMLIMIT_INTERACTIVE) != 0)
			sf->dummy_hash[0] = '\0'; /* out of memory: verify fails fast */
		snprintf(hash, sizeof(hash), "%s", sf->dummy_hash);
		pthread_mutex_unlock(&sf->lock);
	}
	good = crypto_pwhash_str_verify(hash, pw, strlen(pw)) == 0 && known;
	sem_post(&sf->hashing);
	/* A disabled login is refused exactly like a wrong password (after
	 * the same work), so the answer does not tell whether the password
	 * was right; only the log says why. */
	if (!good || disabled) {
		limit_check(sf, user, rq->ip, 1);
		server_log("login %s for %s from %s", disabled ? "refused (account disabled)" : "failed",
			   user, rq->ip);
		ret = server_reply_error(rq, 401, "bad_login", "wrong user name or password");
		goto out;
	}
	limit_check(sf, user, rq->ip, -1);
	staff_secret(secret, secret_hash);
	staff_secret(csrf, csrf_hash);
	r = rstore_cred_add(sf->srv->st, secret_hash, user, true, csrf,
			    (int64_t)time(NULL) + sf->srv->cfg.session_ttl, "session");
	if (r == -EPERM) { /* disabled since the look-up above */
		server_log("login refused for %s from %s: account disabled", user, rq->ip);
		ret = server_reply_error(rq, 401, "bad_login", "wrong user name or password");
		goto out;
	}
	if (r < 0) {
		ret = server_reply_error(rq, 503, "storage", "cannot start a session; try again");
		goto out;
	}
	rstore_action(sf->srv->st, user, "login", NULL, rq->ip);
	server_log("login: %s (%s) from %s", user, role, rq->ip);
	snprintf(cookie, sizeof(cookie),
		 COOKIE "=%s; Path=/; Max-Age=%lld; HttpOnly; Secure; SameSite=Strict", secret,
		 (long long)sf->srv->cfg.session_ttl);
	out = json_object_new_object();
	json_object_object_add(out, "user", json_object_new_string(user));
	json_object_object_add(out, "role", json_object_new_string(role));
	json_object_object_add(out, "csrf", json_object_new_string(csrf));
	{
		const char *const hdr[] = { "Set-Cookie", cookie, NULL };
		const char *s = json_object_to_json_string_ext(out, JSON_C_TO_STRING_PLAIN);
		ret = server_reply(rq, 200, "application/json", s, strlen(s), hdr);
	}
	json_object_put(out);
	sodium_memzero(secret, sizeof(secret));
	sodium_memzero(cookie, sizeof(cookie));
out:
	json_object_put(in);
	return ret;
}

static enum MHD_Result logout(struct staff *sf, struct req *rq, const struct rstore_principal *p)
{
	static const char *const hdr[] = {
		"Set-Cookie", COOKIE "=; Path=/; Max-Age=0; HttpOnly; Secure; SameSite=Strict", NULL
	};
	const char *cookie = MHD_lookup_connection_value(rq->conn, MHD_COOKIE_KIND, COOKIE);
	char hash[65];
	if (cookie) {
		staff_secret_hash(cookie, hash);
		rstore_cred_del(sf->srv->st, hash);
	}
	rstore_action(sf->srv->st, p->user, "logout", NULL, NULL);
	return server_reply(rq, 200, "application/json", "{\"status\":\"logged_out\"}",
			    strlen("{\"status\":\"logged_out\"}"), hdr);
}

/* --- the API ---------------------------------------------------------- */

static enum MHD_Result reply_store_error(struct req *rq, int r)
{
	switch (r) {
	case -ENOENT:
		return server_reply_error(rq, 404, "not_found", "no such alert or device");
	case -EINVAL:
		return server_reply_error(rq, 400, "bad_request", "a value is missing or not allowed");
	case -EALREADY:
		return server_reply_error(rq, 409, "wrong_state",
					  "the alert is not in a state where this step applies");
	default:
		server_log("database error: %s", rstore_errmsg(rq->srv->st));
		return server_reply_error(rq, 503, "storage", "the database failed; try again");
	}
}

static enum MHD_Result reply_array(struct req *rq, int r, json_object *arr)
{
	return r < 0 ? reply_store_error(rq, r) : server_reply_json(rq, 200, arr);
}

static enum MHD_Result list_alerts(struct staff *sf, struct req *rq, json_object *filter)
{
	struct rstore_filter f = { .confirmed = -1, .limit = 200,
				   .overdue_after = sf->srv->cfg.escalate_after };
	const char *conf, *limit;
	json_object *arr = NULL;
	int r;

	/* GET takes only the enumerated filters in the URL; filters that name
	 * a device or category come in a POST body, so that no alert data
	 * ends up in URLs (and proxy or browser logs). */
	if (filter) {
		f.status = member(filter, "status");
		f.category = member(filter, "category");
		f.device = member(filter, "device");
		conf = member(filter, "confirmed");
		limit = member(filter, "limit");
	} else {
		f.status = MHD_lookup_connection_value(rq->conn, MHD_GET_ARGUMENT_KIND, "status");
		conf = MHD_lookup_connection_value(rq->conn, MHD_GET_ARGUMENT_KIND, "confirmed");
		limit = MHD_lookup_connection_value(rq->conn, MHD_GET_ARGUMENT_KIND, "limit");
	}
	if (f.status && (!*f.status || is(f.status, "all")))
		f.status = NULL;
	if (f.category && !*f.category)
		f.category = NULL;
	if (f.device && !*f.device)
		f.device = NULL;
	if (conf && *conf)
		f.confirmed = is(conf, "yes") || is(conf, "true") ? 1 : 0;
	if (limit) {
		char *end;
		long n = strtol(limit, &end, 10);
		f.limit = (*end || n < 1) ? 200 : n > 1000 ? 1000 : (int)n;
	}
	r = rstore_alerts(sf->srv->st, &f, &arr);
	return reply_array(rq, r, arr);
}

static enum MHD_Result alert_detail(struct staff *sf, struct req *rq, const char *id,
				    const struct rstore_principal *p, bool export)
{
	json_object *a = NULL;
	int r = rstore_alert_get(sf->srv->st, id, sf->srv->cfg.escalate_after, &a);
	if (r < 0)
		return reply_store_error(rq, r);
	if (!export)
		return server_reply_json(rq, 200, a);
	rstore_action(sf->srv->st, p->user, "export_json", id, NULL);
	char disp[96];
	snprintf(disp, sizeof(disp), "attachment; filename=\"alert-%s.json\"", id);
	const char *const hdr[] = { "Content-Disposition", disp, NULL };
	size_t len;
	const char *s = json_object_to_json_string_length(
		a, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE, &len);
	enum MHD_Result ret = server_reply(rq, 200, "application/json", s, len, hdr);
	json_object_put(a);
	return ret;
}

static enum MHD_Result triage(struct staff *sf, struct req *rq, const char *id,
			      const struct rstore_principal *p)
{
	json_object *in = body_object(rq);
	const char *step = member(in, "step"), *arg = member(in, "arg");
	enum MHD_Result ret;
	int r;

	if (!step) {
		ret = server_reply_error(rq, 400, "bad_request", "send {\"step\", \"arg\"}");
	} else if ((r = rstore_alert_triage(sf->srv->st, id, p->user, step, arg)) < 0) {
		ret = reply_store_error(rq, r);
	} else {
		server_log("alert %s: %s by %s", id, step, p->user);
		ret = alert_detail(sf, rq, id, p, false);
	}
	json_object_put(in);
	return ret;
}

static enum MHD_Result fields(struct req *rq)
{
	json_object *arr = json_object_new_array();
	for (const struct intake_field *f = intake_alert_fields; f->name; f++) {
		json_object *o = json_object_new_object();
		json_object_object_add(o, "name", json_object_new_string(f->name));
		json_object_object_add(o, "meaning", json_object_new_string(f->meaning));
		json_object_array_add(arr, o);
	}
	return server_reply_json(rq, 200, arr);
}

static enum MHD_Result session_info(struct staff *sf, struct req *rq,
				    const struct rstore_principal *p)
{
	json_object *o = json_object_new_object();
	json_object_object_add(o, "user", json_object_new_string(p->user));
	json_object_object_add(o, "role", json_object_new_string(p->role));
	if (p->is_session)
		json_object_object_add(o, "csrf", json_object_new_string(p->csrf));
	json_object_object_add(o, "escalate_minutes",
			       json_object_new_int64(sf->srv->cfg.escalate_after / 60));
	json_object_object_add(o, "stale_minutes",
			       json_object_new_int64(sf->srv->cfg.stale_after / 60));
	return server_reply_json(rq, 200, o);
}

/* "/api/alerts/ID[/SUFFIX]": copy a valid alert id (32 hex) to id and
 * return the suffix ("" when none), or NULL. */
static const char *alert_path(const char *rest, char id[33])
{
	size_t n = strspn(rest, "0123456789abcdef");
	if (n != 32 || (rest[n] != '\0' && rest[n] != '/'))
		return NULL;
	memcpy(id, rest, 32);
	id[32] = '\0';
	return rest + n;
}

/* "PREFIX NAME/ACTION" (NAME not empty, no '/', shorter than cap):
 * copy NAME to name and return ACTION, or NULL. */
static const char *object_action(const char *url, const char *prefix, char *name, size_t cap)
{
	size_t lp = strlen(prefix), n;
	const char *slash;

	if (strncmp(url, prefix, lp) != 0 || !(slash = strchr(url + lp, '/')))
		return NULL;
	n = (size_t)(slash - (url + lp));
	if (n == 0 || n >= cap)
		return NULL;
	memcpy(name, url + lp, n);
	name[n] = '\0';
	return slash + 1;
}

/* POST /api/users/NAME/disable|enable (admins): what `hashwatch-receiver
 * user disable|enable` does, from the dashboard.  An admin cannot disable
 * their own login (another admin must), and the last enabled admin stays. */
static enum MHD_Result user_enable(struct staff *sf, struct req *rq,
				   const struct rstore_principal *p, const char *name, bool enable)
{
	int r;

	if (!is(p->role, "admin"))
		return server_reply_error(rq, 403, "forbidden", "only an admin disables or enables users");
	if (!enable && is(name, p->user))
		return server_reply_error(rq, 409, "own_login",
					  "you cannot disable your own login; ask another admin");
	r = rstore_user_enable(sf->srv->st, name, enable, p->user);
	switch (r) {
	case 0:
		server_log("user %s %s by %s", name, enable ? "enabled" : "disabled", p->user);
		return server_reply_json(rq, 200, json_object_new_object());
	case -ENOENT:
		return server_reply_error(rq, 404, "not_found", "no such user");
	case -EALREADY:
		return server_reply_error(rq, 409, "wrong_state", enable ? "the user is already enabled"
									 : "the user is already disabled");
	case -EPERM:
		return server_reply_error(rq, 409, "last_admin",
					  "this is the last enabled admin; enable or add another admin first");
	default:
		return reply_store_error(rq, r);
	}
}

static enum MHD_Result api(struct staff *sf, struct req *rq)
{
	const char *url = rq->url;
	bool post = is(rq->method, "POST"), get = is(rq->method, "GET");
	struct rstore_principal p;
	json_object *arr = NULL, *in;
	char id[33], name[72];
	const char *rest;
	int r;

	if (post && is(url, "/api/login"))
		return login(sf, rq);
	if (authenticate(sf, rq, &p) < 0)
		return server_reply_error(rq, 401, "unauthenticated",
					  "log in, or send 'Authorization: Bearer TOKEN'");
	if (!post && !get)
		return server_reply_error(rq, 405, "method", "use GET or POST");
	/* A browser sends the session cookie by itself; only our own page
	 * knows the CSRF token.  Bearer tokens are never sent by a browser on
	 * its own, so they need none. */
	if (post && p.is_session) {
		const char *tok = server_header(rq, "X-CSRF-Token");
		if (!tok || strlen(tok) != strlen(p.csrf) ||
		    sodium_memcmp(tok, p.csrf, strlen(p.csrf)) != 0)
			return server_reply_error(rq, 403, "csrf",
						  "missing or wrong X-CSRF-Token; reload the page");
	}
	if (get && is(url, "/api/session"))
		return session_info(sf, rq, &p);
	if (post && is(url, "/api/logout"))
		return logout(sf, rq, &p);
	if (get && is(url, "/api/fields"))
		return fields(rq);
	if (get && is(url, "/api/alerts"))
		return list_alerts(sf, rq, NULL);
	if (post && is(url, "/api/alerts/search")) {
		in = body_object(rq);
		enum MHD_Result ret = in ? list_alerts(sf, rq, in)
					 : server_reply_error(rq, 400, "bad_request",
							      "send a JSON object of filters");
		json_object_put(in);
		return ret;
	}
	if (strncmp(url, "/api/alerts/", 12) == 0 && (rest = alert_path(url + 12, id)) != NULL) {
		if (get && is(rest, ""))
			return alert_detail(sf, rq, id, &p, false);
		if (get && is(rest, "/export"))
			return alert_detail(sf, rq, id, &p, true);
		if (post && is(rest, "/triage"))
			return can_triage(&p) ? triage(sf, rq, id, &p)
					      : server_reply_error(rq, 403, "forbidden",
								   "your role is read-only");
	}
	if (get && is(url, "/api/devices")) {
		r = rstore_devices(sf->srv->st, sf->srv->cfg.stale_after, &arr);
		return reply_array(rq, r, arr);
	}
	if (post && (rest = object_action(url, "/api/devices/", name, sizeof(name))) &&
	    is(rest, "clear-flags")) {
		if (!is(p.role, "admin"))
			return server_reply_error(rq, 403, "forbidden", "only an admin clears flags");
		r = rstore_flags_clear(sf->srv->st, name, p.user);
		return r < 0 ? reply_store_error(rq, r)
			     : server_reply_json(rq, 200, json_object_new_object());
	}
	if (post && (rest = object_action(url, "/api/users/", name, sizeof(name))) &&
	    (is(rest, "disable") || is(rest, "enable")))
		return user_enable(sf, rq, &p, name, is(rest, "enable"));
	if (get && is(url, "/api/actions")) {
		if (is(p.role, "responder"))
			return server_reply_error(rq, 403, "forbidden",
						  "the staff action log is for admins and auditors");
		r = rstore_actions(sf->srv->st, 1000, &arr);
		return reply_array(rq, r, arr);
	}
	if (get && is(url, "/api/users")) {
		r = rstore_users(sf->srv->st, &arr);
		return reply_array(rq, r, arr);
	}
	return server_reply_error(rq, 404, "not_found", "no such API endpoint");
}

/* --- pages ------------------------------------------------------------ */

static enum MHD_Result report(struct staff *sf, struct req *rq, const char *id,
			      const struct rstore_principal *p)
{
	json_object *a = NULL;
	char *html = NULL;
	size_t len = 0;
	enum MHD_Result ret;
	int r = rstore_alert_get(sf->srv->st, id, sf->srv->cfg.escalate_after, &a);

	if (r < 0)
		return reply_store_error(rq, r);
	r = www_report(a, p->user, &html, &len);
	if (r < 0) {
		ret = server_reply_error(rq, 500, "report", "cannot build the report");
	} else {
		rstore_action(sf->srv->st, p->user, "export_report", id, NULL);
		ret = server_reply(rq, 200, "text/html; charset=utf-8", html, len, NULL);
	}
	json_object_put(a);
	free(html);
	return ret;
}

enum MHD_Result staff_handle(struct staff *sf, struct req *rq)
{
	const struct www_asset *asset;
	struct rstore_principal p;
	const char *url = rq->url;
	char id[33];

	if (strncmp(url, "/api/", 5) == 0)
		return api(sf, rq);
	if (!is(rq->method, "GET") && !is(rq->method, "HEAD"))
		return server_reply_error(rq, 405, "method", "pages are read with GET");
	if (is(url, "/favicon.ico")) /* browsers ask for it; there is none */
		return server_reply(rq, 204, NULL, "", 0, NULL);
	asset = www_find(is(url, "/") ? "/index.html" : is(url, "/login") ? "/login.html" : url);
	if (asset && asset->public)
		return server_reply(rq, 200, asset->ctype, asset->data, asset->len, NULL);
	/* Everything else needs a login session (not an API token). */
	if (authenticate(sf, rq, &p) < 0 || !p.is_session)
		return redirect_login(rq);
	if (asset)
		return server_reply(rq, 200, asset->ctype, asset->data, asset->len, NULL);
	if (strncmp(url, "/report/", 8) == 0 && alert_path(url + 8, id) &&
	    *alert_path(url + 8, id) == '\0')
		return report(sf, rq, id, &p);
	return server_reply_error(rq, 404, "not_found", "no such page");
}
