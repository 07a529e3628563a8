/* audit_summary.c - `hashwatch audit summary`: what an auditor asks of a
 * period.  Which hash lists were in use (id, version, digest, signers),
 * how many files were looked at and why some were skipped, every match,
 * and for every alert whether it was delivered.  The whole log is read
 * (a list loaded before the period may be active in it; an alert queued in
 * it may be delivered after it); the result is one JSON object, printed as
 * is with --json or as text.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "audit_cli.h"
#include "cli.h"

/* Hard limits on what one summary holds; a hit limit is said in the
 * output ("truncated"), the counts stay exact. */
#define MAX_ITEMS 100000
#define MAX_ERRORS_LISTED 100

struct span {
	char *id;
	json_object *fields; /* of the list_loaded record */
	int64_t from, to; /* to: INT64_MAX while in use */
	bool ended_by_restart;
};

struct summary {
	struct audit_cli *c;
	struct span *spans;
	size_t nspans, cap;
	json_object *refused, *matches, *errors, *alerts, *configs;
	json_object *skipped, *skip_events, *last_heartbeat;
	char config_before[128]; /* the digest in force when the period began */
	uint64_t seen, hashed, cached, scan_errors, errors_total;
	uint64_t starts, stops, crawls, heartbeats, records;
	int64_t first_ms, last_ms;
	size_t items;
	bool truncated;
};

static json_object *field(const struct audit_record *rec, const char *key)
{
	return json_object_object_get(rec->fields, key);
}

static const char *fstr(const struct audit_record *rec, const char *key)
{
	json_object *v = field(rec, key);
	return v && !json_object_is_type(v, json_type_null) ? json_object_get_string(v) : NULL;
}

static int64_t fint(const struct audit_record *rec, const char *key)
{
	json_object *v = field(rec, key);
	return json_object_is_type(v, json_type_int) ? json_object_get_int64(v) : 0;
}

static json_object *time_json(int64_t ms)
{
	char t[AUDIT_TIME_LEN];
	return ms == INT64_MIN || ms == INT64_MAX ? NULL
						  : json_object_new_string(audit_cli_time(ms, t));
}

/* Copy the named fields of rec (those present) into a new object. */
static json_object *pick(const struct audit_record *rec, const char *const *keys)
{
	json_object *o = json_object_new_object();
	json_object_object_add(o, "time", json_object_new_string(rec->time));
	json_object_object_add(o, "seq", json_object_new_int64((int64_t)rec->seq));
	for (; *keys; keys++) {
		json_object *v = field(rec, *keys);
		if (v)
			json_object_object_add(o, *keys, json_object_get(v));
	}
	return o;
}

static bool room(struct summary *s)
{
	if (s->items >= MAX_ITEMS) {
		s->truncated = true;
		return false;
	}
	s->items++;
	return true;
}

static void add_count(json_object *map, const char *key, int64_t n)
{
	json_object *v = json_object_object_get(map, key);
	json_object_object_add(map, key,
			       json_object_new_int64((v ? json_object_get_int64(v) : 0) + n));
}

static struct span *open_span(struct summary *s, const char *id)
{
	for (size_t i = s->nspans; i-- > 0;)
		if (strcmp(s->spans[i].id, id) == 0 && s->spans[i].to == INT64_MAX)
			return &s->spans[i];
	return NULL;
}

static void end_span(struct span *sp, int64_t when, bool restart)
{
	if (sp && sp->to == INT64_MAX) {
		sp->to = when;
		sp->ended_by_restart = restart;
	}
}

static bool same_list(json_object *a, json_object *b)
{
	return json_object_equal(json_object_object_get(a, "version"),
				 json_object_object_get(b, "version")) &&
	       json_object_equal(json_object_object_get(a, "digest"),
				 json_object_object_get(b, "digest"));
}

static int list_loaded(struct summary *s, const struct audit_record *rec)
{
	const char *id = fstr(rec, "list_id");
	struct span *sp;

	if (!id)
		return 0;
	end_span(open_span(s, id), rec->time_ms, false);
	/* The same list loaded again after a restart: one span, so that a
	 * laptop booted daily shows one line per list version, not 365. */
	for (size_t i = s->nspans; i-- > 0;)
		if (strcmp(s->spans[i].id, id) == 0) {
			if (s->spans[i].ended_by_restart && same_list(s->spans[i].fields, rec->fields)) {
				s->spans[i].to = INT64_MAX;
				return 0;
			}
			break;
		}
	if (!room(s))
		return 0;
	if (s->nspans == s->cap) {
		size_t cap = s->cap ? 2 * s->cap : 16;
		sp = realloc(s->spans, cap * sizeof(*sp));
		if (!sp)
			return -ENOMEM;
		s->spans = sp;
		s->cap = cap;
	}
	sp = &s->spans[s->nspans];
	sp->id = strdup(id);
	if (!sp->id)
		return -ENOMEM;
	sp->fields = json_object_get(rec->fields);
	sp->from = rec->time_ms;
	sp->to = INT64_MAX;
	sp->ended_by_restart = false;
	s->nspans++;
	return 0;
}

/* The alert's entry, created on first sight. */
static json_object *alert(struct summary *s, const char *id)
{
	json_object *a = json_object_object_get(s->alerts, id);
	if (!a && room(s)) {
		a = json_object_new_object();
		json_object_object_add(s->alerts, id, a);
	}
	return a;
}

static void alert_event(struct summary *s, const struct audit_record *rec, const char *what)
{
	const char *id = fstr(rec, "alert_id");
	json_object *a = id ? alert(s, id) : NULL;
	char key[32];

	int64_t when = rec->time_ms;
	const char *at = fstr(rec, "delivered_at");

	if (!a)
		return;
	/* A delivery is recorded when the scanner reads the uplink's receipt,
	 * which can be much later (the scanner was stopped): the receipt's own
	 * time, when it has one, says when the receiver confirmed it. */
	if (at && strcmp(what, "delivered") == 0 && audit_time_parse(at, &when) < 0)
		when = rec->time_ms;
	snprintf(key, sizeof(key), "%s_ms", what);
	if (!json_object_object_get(a, key)) {
		json_object_object_add(a, key, json_object_new_int64(when));
		snprintf(key, sizeof(key), "%s_seq", what);
		json_object_object_add(a, key, json_object_new_int64((int64_t)rec->seq));
	}
}

static void scan_counts(struct summary *s, const struct audit_record *rec)
{
	s->seen += (uint64_t)fint(rec, "seen");
	s->hashed += (uint64_t)fint(rec, "hashed");
	s->cached += (uint64_t)fint(rec, "cached");
	s->scan_errors += (uint64_t)fint(rec, "errors");
	json_object *sk = field(rec, "skipped");
	if (json_object_is_type(sk, json_type_object)) {
		json_object_object_foreach(sk, reason, n)
			if (json_object_is_type(n, json_type_int))
				add_count(s->skipped, reason, json_object_get_int64(n));
	}
}

static int summary_one(const struct audit_record *rec, bool verified, void *ud)
{
	static const char *const match_keys[] = { "alert_id", "list_id", "list_version",
		"entry_id", "model", "distance", "quality", "confirmed", NULL };
	static const char *const refused_keys[] = { "path", "reason", NULL };
	static const char *const error_keys[] = { "where", "message", NULL };
	struct summary *s = ud;
	const char *t = rec->type;
	bool in = rec->time_ms >= s->c->since_ms && rec->time_ms < s->c->until_ms;
	(void)verified;

	if (in) {
		if (!s->records++)
			s->first_ms = rec->time_ms;
		s->last_ms = rec->time_ms;
	}
	if (strcmp(t, "start") == 0 || strcmp(t, "stop") == 0) {
		for (size_t i = 0; i < s->nspans; i++)
			end_span(&s->spans[i], rec->time_ms, true);
		if (in && t[2] == 'a')
			s->starts++;
		else if (in)
			s->stops++;
	} else if (strcmp(t, "config") == 0 && fstr(rec, "digest")) {
		if (!in && rec->time_ms < s->c->since_ms)
			snprintf(s->config_before, sizeof(s->config_before), "%s", fstr(rec, "digest"));
		else if (in && !json_object_object_get(s->configs, fstr(rec, "digest")))
			json_object_object_add(s->configs, fstr(rec, "digest"),
					       json_object_new_string(rec->time));
	} else if (strcmp(t, "list_loaded") == 0) {
		return list_loaded(s, rec);
	} else if (strcmp(t, "list_removed") == 0 && fstr(rec, "list_id")) {
		end_span(open_span(s, fstr(rec, "list_id")), rec->time_ms, false);
	} else if (strcmp(t, "list_refused") == 0 && in && room(s)) {
		json_object_array_add(s->refused, pick(rec, refused_keys));
	} else if (strcmp(t, "crawl_start") == 0 && in) {
		s->crawls++;
	} else if (strcmp(t, "scan_counts") == 0 && in) {
		scan_counts(s, rec);
	} else if (strcmp(t, "skip") == 0 && in) {
		add_count(s->skip_events, fstr(rec, "reason") ? fstr(rec, "reason") : "?", 1);
	} else if (strcmp(t, "match") == 0) {
		if (in && room(s))
			json_object_array_add(s->matches, pick(rec, match_keys));
		if (in)
			alert_event(s, rec, "matched");
	} else if (strcmp(t, "alert_queued") == 0) {
		alert_event(s, rec, "queued");
	} else if (strcmp(t, "alert_delivered") == 0) {
		alert_event(s, rec, "delivered");
	} else if (strcmp(t, "heartbeat") == 0 && in) {
		s->heartbeats++;
		json_object_put(s->last_heartbeat);
		s->last_heartbeat = pick(rec, (const char *const[]){ "receiver", "reported_seq",
								    "reported_head", NULL });
	} else if (strcmp(t, "error") == 0 && in) {
		if (s->errors_total++ < MAX_ERRORS_LISTED)
			json_object_array_add(s->errors, pick(rec, error_keys));
	}
	return 0;
}

static bool in_period(const struct audit_cli *c, json_object *a, const char *key)
{
	json_object *v = json_object_object_get(a, key);
	int64_t ms = json_object_get_int64(v);
	return v && ms >= c->since_ms && ms < c->until_ms;
}

/* alerts: id -> {matched_ms, queued_ms, delivered_ms, *_seq}; keep those
 * with an event in the period, with times written out and a status. */
static json_object *alerts_json(const struct summary *s, uint64_t *ret_undelivered)
{
	json_object *out = json_object_new_array();
	uint64_t undelivered = 0;

	json_object_object_foreach(s->alerts, id, a) {
		if (!in_period(s->c, a, "matched_ms") && !in_period(s->c, a, "queued_ms") &&
		    !in_period(s->c, a, "delivered_ms"))
			continue;
		json_object *q = json_object_object_get(a, "queued_ms");
		json_object *d = json_object_object_get(a, "delivered_ms");
		json_object *o = json_object_new_object();
		const char *status = d ? "delivered" : q ? "queued, not delivered"
						 : "matched, never queued";
		undelivered += !d;
		json_object_object_add(o, "alert_id", json_object_new_string(id));
		json_object_object_add(o, "status", json_object_new_string(status));
		json_object_object_add(o, "queued", q ? time_json(json_object_get_int64(q)) : NULL);
		json_object_object_add(o, "queued_seq",
				       json_object_get(json_object_object_get(a, "queued_seq")));
		json_object_object_add(o, "delivered", d ? time_json(json_object_get_int64(d)) : NULL);
		json_object_object_add(o, "delivered_seq",
				       json_object_get(json_object_object_get(a, "delivered_seq")));
		json_object_array_add(out, o);
	}
	*ret_undelivered = undelivered;
	return out;
}

static json_object *lists_json(const struct summary *s)
{
	static const char *const keys[] = { "list_id", "version", "digest", "signers",
					    "entries", "models" };
	json_object *out = json_object_new_array();

	for (size_t i = 0; i < s->nspans; i++) {
		const struct span *sp = &s->spans[i];
		if (sp->from >= s->c->until_ms || sp->to < s->c->since_ms)
			continue;
		json_object *o = json_object_new_object();
		for (size_t k = 0; k < sizeof(keys) / sizeof(keys[0]); k++)
			json_object_object_add(o, keys[k],
					       json_object_get(json_object_object_get(sp->fields, keys[k])));
		json_object_object_add(o, "loaded", time_json(sp->from));
		json_object_object_add(o, "until", time_json(sp->to));
		json_object_array_add(out, o);
	}
	return out;
}

static json_object *build(struct summary *s, const struct auditverify *v)
{
	json_object *o = json_object_new_object(), *x;
	uint64_t undelivered;

	x = json_object_new_object();
	json_object_object_add(x, "since", time_json(s->c->since_ms));
	json_object_object_add(x, "until", time_json(s->c->until_ms));
	json_object_object_add(x, "records", json_object_new_int64((int64_t)s->records));
	json_object_object_add(x, "first_record", s->records ? time_json(s->first_ms) : NULL);
	json_object_object_add(x, "last_record", s->records ? time_json(s->last_ms) : NULL);
	json_object_object_add(o, "period", x);

	x = json_object_new_object();
	json_object_object_add(x, "intact", json_object_new_boolean(v->problems == 0));
	json_object_object_add(x, "first_seq", json_object_new_int64((int64_t)v->first_seq));
	json_object_object_add(x, "last_seq", json_object_new_int64((int64_t)v->last_seq));
	json_object_object_add(x, "head", json_object_new_string(v->head));
	json_object_object_add(x, "problem", audit_cli_problem_json(v));
	json_object_object_add(o, "chain", x);

	json_object_object_add(o, "starts", json_object_new_int64((int64_t)s->starts));
	json_object_object_add(o, "stops", json_object_new_int64((int64_t)s->stops));
	x = json_object_new_array();
	if (s->config_before[0])
		json_object_array_add(x, json_object_new_string(s->config_before));
	json_object_object_foreach(s->configs, digest, when) {
		(void)when;
		if (strcmp(digest, s->config_before) != 0)
			json_object_array_add(x, json_object_new_string(digest));
	}
	json_object_object_add(o, "config_digests", x);
	json_object_object_add(o, "lists", lists_json(s));
	json_object_object_add(o, "lists_refused", json_object_get(s->refused));

	x = json_object_new_object();
	json_object_object_add(x, "seen", json_object_new_int64((int64_t)s->seen));
	json_object_object_add(x, "hashed", json_object_new_int64((int64_t)s->hashed));
	json_object_object_add(x, "cached", json_object_new_int64((int64_t)s->cached));
	json_object_object_add(x, "errors", json_object_new_int64((int64_t)s->scan_errors));
	json_object_object_add(x, "skipped", json_object_get(s->skipped));
	json_object_object_add(x, "skip_records", json_object_get(s->skip_events));
	json_object_object_add(x, "crawls", json_object_new_int64((int64_t)s->crawls));
	json_object_object_add(o, "files", x);

	json_object_object_add(o, "matches", json_object_get(s->matches));
	json_object_object_add(o, "alerts", alerts_json(s, &undelivered));
	json_object_object_add(o, "alerts_not_delivered", json_object_new_int64((int64_t)undelivered));
	x = json_object_new_object();
	json_object_object_add(x, "count", json_object_new_int64((int64_t)s->heartbeats));
	json_object_object_add(x, "last", json_object_get(s->last_heartbeat));
	json_object_object_add(o, "heartbeats", x);
	json_object_object_add(o, "errors_total", json_object_new_int64((int64_t)s->errors_total));
	json_object_object_add(o, "errors", json_object_get(s->errors));
	json_object_object_add(o, "truncated", json_object_new_boolean(s->truncated));
	return o;
}

/* --- text ------------------------------------------------------------ */

static const char *js(json_object *o, const char *key)
{
	json_object *v = json_object_object_get(o, key);
	return v && !json_object_is_type(v, json_type_null) ? json_object_get_string(v) : "-";
}

/* printf for values taken from the log: they go through the escaper. */
static void put(const char *s)
{
	audit_cli_print_safe(stdout, s);
}

static int64_t ji(json_object *o, const char *key)
{
	return json_object_get_int64(json_object_object_get(o, key));
}

static void print_counts(json_object *map)
{
	bool first = true;
	json_object_object_foreach(map, reason, n) {
		printf("%s", first ? "" : ", ");
		put(reason);
		printf(" %lld", (long long)json_object_get_int64(n));
		first = false;
	}
}

/* "  TIME what: why" for each event of an array (refused lists, errors). */
static void print_events(json_object *arr, const char *what, const char *why)
{
	for (size_t i = 0; i < json_object_array_length(arr); i++) {
		json_object *a = json_object_array_get_idx(arr, i);
		printf("  %s ", js(a, "time"));
		put(js(a, what));
		printf(": ");
		put(js(a, why));
		printf("\n");
	}
}

static void print_text(json_object *o)
{
	json_object *x = json_object_object_get(o, "period"), *a;
	size_t n;

	printf("Audit summary, %s .. %s (UTC)\n", js(x, "since"), js(x, "until"));
	printf("  %lld records in the period", (long long)ji(x, "records"));
	if (ji(x, "records"))
		printf(", %s .. %s", js(x, "first_record"), js(x, "last_record"));
	x = json_object_object_get(o, "chain");
	if (json_object_get_boolean(json_object_object_get(x, "intact")))
		printf("\nChain: intact, seq %lld..%lld, head %s\n", (long long)ji(x, "first_seq"),
		       (long long)ji(x, "last_seq"), js(x, "head"));
	else {
		json_object *p = json_object_object_get(x, "problem");
		printf("\nChain: BROKEN at %s line %s (seq %s): %s: ", js(p, "file"),
		       js(p, "line"), js(p, "seq"), js(p, "kind"));
		put(js(p, "detail"));
		printf("\n  The record before the break and all after it are counted below but "
		       "are NOT verified.\n");
	}
	printf("\nScanner: %lld starts, %lld stops; configuration digest%s:",
	       (long long)ji(o, "starts"), (long long)ji(o, "stops"),
	       json_object_array_length(json_object_object_get(o, "config_digests")) == 1 ? "" : "s");
	x = json_object_object_get(o, "config_digests");
	for (size_t i = 0; i < json_object_array_length(x); i++) {
		printf(" ");
		put(json_object_get_string(json_object_array_get_idx(x, i)));
	}
	x = json_object_object_get(o, "lists");
	n = json_object_array_length(x);
	printf("\n\nHash lists in use in the period: %zu\n", n);
	for (size_t i = 0; i < n; i++) {
		a = json_object_array_get_idx(x, i);
		printf("  ");
		put(js(a, "list_id"));
		printf(" version ");
		put(js(a, "version"));
		printf(", %s entries, from %s until %s\n    digest ", js(a, "entries"),
		       js(a, "loaded"), json_object_object_get(a, "until") ? js(a, "until")
									   : "the end of the log");
		put(js(a, "digest"));
		char signers[1024];
		audit_cli_words(json_object_object_get(a, "signers"), signers, sizeof(signers));
		printf("\n    signed by ");
		put(signers);
		printf("\n");
	}
	x = json_object_object_get(o, "lists_refused");
	if (json_object_array_length(x))
		printf("Lists refused: %zu\n", json_object_array_length(x));
	print_events(x, "path", "reason");
	x = json_object_object_get(o, "files");
	printf("\nFiles: %lld seen, %lld hashed, %lld unchanged since an earlier check, "
	       "%lld errors; %lld crawls\n", (long long)ji(x, "seen"), (long long)ji(x, "hashed"),
	       (long long)ji(x, "cached"), (long long)ji(x, "errors"), (long long)ji(x, "crawls"));
	printf("  skipped by reason: ");
	if (json_object_object_length(json_object_object_get(x, "skipped")))
		print_counts(json_object_object_get(x, "skipped"));
	else
		printf("none");
	if (json_object_object_length(json_object_object_get(x, "skip_records"))) {
		printf("\n  skip records: ");
		print_counts(json_object_object_get(x, "skip_records"));
	}
	x = json_object_object_get(o, "matches");
	n = json_object_array_length(x);
	printf("\n\nMatches: %zu\n", n);
	for (size_t i = 0; i < n; i++) {
		a = json_object_array_get_idx(x, i);
		printf("  %s seq %s list ", js(a, "time"), js(a, "seq"));
		put(js(a, "list_id"));
		printf(" entry ");
		put(js(a, "entry_id"));
		printf(" %s distance %s, confirmed %s, alert ", js(a, "model"), js(a, "distance"),
		       js(a, "confirmed"));
		put(js(a, "alert_id"));
		printf("\n");
	}
	x = json_object_object_get(o, "alerts");
	n = json_object_array_length(x);
	printf("\nAlerts: %zu, of which %lld NOT delivered\n", n,
	       (long long)ji(o, "alerts_not_delivered"));
	for (size_t i = 0; i < n; i++) {
		a = json_object_array_get_idx(x, i);
		printf("  ");
		put(js(a, "alert_id"));
		printf(": %s (queued %s, delivered %s)\n", js(a, "status"), js(a, "queued"),
		       js(a, "delivered"));
	}
	x = json_object_object_get(o, "heartbeats");
	printf("\nHeartbeats: %lld", (long long)ji(x, "count"));
	if (json_object_object_get(x, "last"))
		printf(", the last at %s reported seq %s", js(json_object_object_get(x, "last"), "time"),
		       js(json_object_object_get(x, "last"), "reported_seq"));
	printf("\nErrors: %lld\n", (long long)ji(o, "errors_total"));
	print_events(json_object_object_get(o, "errors"), "where", "message");
	if (json_object_get_boolean(json_object_object_get(o, "truncated")))
		printf("\nNote: more than %d lists, matches and alerts: the lists above are cut "
		       "short (the counts are complete); narrow the period with --since/--until.\n",
		       MAX_ITEMS);
}

int audit_cli_summary(struct audit_cli *c)
{
	struct summary s = { .c = c };
	struct auditverify v;
	json_object *out = NULL;
	int r;

	s.refused = json_object_new_array();
	s.matches = json_object_new_array();
	s.errors = json_object_new_array();
	s.alerts = json_object_new_object();
	s.configs = json_object_new_object();
	s.skipped = json_object_new_object();
	s.skip_events = json_object_new_object();
	r = audit_cli_walk(c, &v, true, summary_one, &s);
	if (r != CLI_OK)
		goto out;
	out = build(&s, &v);
	if (c->json)
		puts(json_object_to_json_string_ext(out, JSON_C_TO_STRING_PRETTY |
								 JSON_C_TO_STRING_NOSLASHESCAPE));
	else
		print_text(out);
	r = v.problems ? CLI_NEGATIVE : CLI_OK;
out:
	json_object_put(out);
	for (size_t i = 0; i < s.nspans; i++) {
		free(s.spans[i].id);
		json_object_put(s.spans[i].fields);
	}
	free(s.spans);
	json_object_put(s.refused);
	json_object_put(s.matches);
	json_object_put(s.errors);
	json_object_put(s.alerts);
	json_object_put(s.configs);
	json_object_put(s.skipped);
	json_object_put(s.skip_events);
	json_object_put(s.last_heartbeat);
	return r;
}
