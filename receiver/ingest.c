/* ingest.c - device intake: see ingest.h and docs/receiver-api.md. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "ingest.h"
#include "intake.h"

static bool json_content_type(struct req *rq)
{
	const char *ct = server_header(rq, "Content-Type");
	size_t n = strlen("application/json");
	return ct && strncasecmp(ct, "application/json", n) == 0 &&
	       (ct[n] == '\0' || ct[n] == ';' || ct[n] == ' ');
}

static enum MHD_Result refuse(struct req *rq, const char *kind, const char *device,
			      const struct intake_error *err)
{
	server_log("refused %s from %s%s%s: %s (%s)", kind, rq->ip, device ? " device " : "",
		   device ? device : "", err->code, err->detail);
	return server_reply_error(rq, (unsigned)err->status, err->code, err->detail);
}

static enum MHD_Result refuse_with(struct req *rq, const char *kind, const char *device,
				   int status, const char *code, const char *detail)
{
	struct intake_error err = { .status = status, .code = code };
	snprintf(err.detail, sizeof(err.detail), "%s", detail);
	return refuse(rq, kind, device, &err);
}

static enum MHD_Result store_failed(struct req *rq, const char *kind)
{
	static const char *const retry[] = { "Retry-After", "30", NULL };
	static const char body[] = "{\"error\":\"storage\",\"detail\":\"the receiver "
				   "cannot store right now; retry later\"}";
	server_log("cannot store %s from %s: %s", kind, rq->ip, rstore_errmsg(rq->srv->st));
	return server_reply(rq, 503, "application/json", body, sizeof(body) - 1, retry);
}

static enum MHD_Result answer(struct req *rq, struct intake_record *rec)
{
	struct rstore *st = rq->srv->st;
	bool alert = strcmp(rec->kind, "alert") == 0;
	enum rstore_outcome outcome;
	const char *flag = NULL;
	const char *id = alert ? json_object_get_string(json_object_object_get(rec->rec, "alert_id"))
			       : NULL;
	int r = alert ? rstore_alert_put(st, rec, &outcome, &flag)
		      : rstore_heartbeat_put(st, rec, &outcome, &flag);
	json_object *o;

	if (r < 0)
		return store_failed(rq, rec->kind);
	if (flag)
		server_log("device %s: audit chain %s flagged (see the fleet view)", rec->device_id,
			   flag);
	switch (outcome) {
	case RSTORE_CONFLICT:
		return refuse_with(rq, "alert", rec->device_id, 409, "conflict",
				   "an alert with this id about a different match is already stored");
	case RSTORE_STALE:
		return refuse_with(rq, "heartbeat", rec->device_id, 409, "stale_heartbeat",
				   "a heartbeat with the same or a later time is already stored "
				   "(replayed or out of order)");
	default:
		break;
	}
	o = json_object_new_object();
	bool dup = outcome == RSTORE_DUPLICATE || outcome == RSTORE_DUPLICATE_CHANGED;
	json_object_object_add(o, "status", json_object_new_string(dup ? "duplicate" : "stored"));
	if (id)
		json_object_object_add(o, "alert_id", json_object_new_string(id));
	if (flag)
		json_object_object_add(o, "chain_flag", json_object_new_string(flag));
	if (alert)
		server_log("alert %s from device %s %s", id, rec->device_id,
			   outcome == RSTORE_DUPLICATE ? "was a redelivery (already stored)"
			   : dup ? "was written again by the scanner with changed details; "
				   "the first copy is kept"
				 : "stored");
	return server_reply_json(rq, alert && outcome == RSTORE_STORED ? 201 : 200, o);
}

enum MHD_Result ingest_handle(struct req *rq)
{
	struct intake_record rec = { 0 };
	struct intake_error err = { 0 };
	unsigned char pk[crypto_sign_PUBLICKEYBYTES];
	bool revoked = false;
	const char *kind;
	enum MHD_Result ret;
	int r;

	if (strcmp(rq->url, "/v1/alerts") == 0)
		kind = "alert";
	else if (strcmp(rq->url, "/v1/heartbeats") == 0)
		kind = "heartbeat";
	else
		return server_reply_error(rq, 404, "not_found",
					  "device endpoints are /v1/alerts and /v1/heartbeats");
	if (strcmp(rq->method, "POST") != 0) {
		static const char *const allow[] = { "Allow", "POST", NULL };
		static const char body[] = "{\"error\":\"method\",\"detail\":\"use POST\"}";
		return server_reply(rq, 405, "application/json", body, sizeof(body) - 1, allow);
	}
	if (!json_content_type(rq))
		return refuse_with(rq, kind, NULL, 415, "content_type",
				   "the body must be sent as Content-Type: application/json");
	if (intake_parse(kind, rq->body, rq->len, &rec, &err) < 0)
		return refuse(rq, kind, NULL, &err);
	r = rstore_device_key(rq->srv->st, rec.device_id, pk, &revoked);
	if (r == -ENOENT)
		ret = refuse_with(rq, kind, rec.device_id, 403, "unknown_device",
				  "this device is not enrolled on the receiver");
	else if (r < 0)
		ret = store_failed(rq, kind);
	else if (revoked)
		ret = refuse_with(rq, kind, rec.device_id, 403, "revoked_device",
				  "this device's enrolment was revoked");
	else if (intake_verify(&rec, pk, &err) < 0)
		ret = refuse(rq, kind, rec.device_id, &err);
	else if (strcmp(kind, "heartbeat") == 0 && rec.reported_time > (int64_t)time(NULL) + 86400)
		/* Stored, it would make every later heartbeat look like a replay. */
		ret = refuse_with(rq, kind, rec.device_id, 400, "bad_time",
				  "the heartbeat's time is more than a day ahead of the receiver's "
				  "clock; fix the laptop's clock");
	else
		ret = answer(rq, &rec);
	intake_record_done(&rec);
	return ret;
}
