/* rstore.h - the receiver's database (SQLite): enrolled devices, alerts
 * with their signed bodies and triage state, fleet state from heartbeats
 * and the audit-chain checks made on them, staff users, their sessions and
 * API tokens, notes, and the record of every staff action.
 *
 * One handle is shared by all server threads; every function takes the
 * handle's lock for its duration and runs in one transaction (intake
 * writes: in a group's transaction), so a caller that got 0 from a write
 * knows it is on disk (WAL, synchronous=FULL).
 * Functions return 0 or a negative errno; -EIO means SQLite failed (the
 * message is in rstore_errmsg()).  Returned JSON is owned by the caller.
 */
#ifndef HW_RSTORE_H
#define HW_RSTORE_H

#include <stdbool.h>
#include <stdint.h>

#include <json-c/json.h>
#include <sodium.h>

#include "intake.h"

struct rstore;

/* Open (create if missing) the database at path and bring its schema to
 * the current version.  Returns 0 and *ret, -errno, or -EPROTO when the
 * file has a newer schema than this program knows. */
int rstore_open(const char *path, struct rstore **ret);
void rstore_close(struct rstore *st);

/* The last SQLite error message on this handle (for the program's log). */
const char *rstore_errmsg(struct rstore *st);

/* --- devices --------------------------------------------------------- */

/* Enroll a device with its Ed25519 public key.  -EEXIST if the id is
 * already enrolled (revoked ids stay taken: re-enroll under a new id). */
int rstore_device_enroll(struct rstore *st, const char *id,
			 const unsigned char pk[crypto_sign_PUBLICKEYBYTES]);
/* Revoke: later requests from the device are refused.  -ENOENT. */
int rstore_device_revoke(struct rstore *st, const char *id);
/* The device's key and whether it is revoked.  -ENOENT if not enrolled. */
int rstore_device_key(struct rstore *st, const char *id,
		      unsigned char ret_pk[crypto_sign_PUBLICKEYBYTES], bool *ret_revoked);
/* Every device with its fleet state and open chain flags, as an array.
 * stale_after: seconds without a heartbeat after which "stale" is true. */
int rstore_devices(struct rstore *st, int64_t stale_after, json_object **ret);

/* --- intake ---------------------------------------------------------- */

enum rstore_outcome {
	RSTORE_STORED,	  /* new, now on disk */
	RSTORE_DUPLICATE, /* same alert id and same signed bytes: nothing new */
	RSTORE_DUPLICATE_CHANGED, /* same id and match, other details (a rewrite
				   * by the scanner): nothing new */
	RSTORE_CONFLICT,  /* same alert id, a different match: refused */
	RSTORE_STALE,	  /* heartbeat not newer than the last one: refused */
};

/* Store a verified alert (rec after intake_verify) with its raw body, and
 * check its audit chain point against what the device reported before.
 * Intake writes from concurrent callers are committed in groups, one
 * transaction and one fsync for all that arrived while the previous
 * commit was under way; each call still returns 0 only once its own write
 * is committed, and on failure nothing of it is stored.
 * *ret_flag: NULL, or "fork" / "regression" when this record raised a
 * chain flag on the device (a static string). */
int rstore_alert_put(struct rstore *st, const struct intake_record *rec,
		     enum rstore_outcome *ret, const char **ret_flag);
/* Update the fleet state from a verified heartbeat, with the same chain
 * checks: a device whose reported sequence number went backwards while
 * its clock went forwards, or that reported two heads for one sequence
 * number, is flagged. */
int rstore_heartbeat_put(struct rstore *st, const struct intake_record *rec,
			 enum rstore_outcome *ret, const char **ret_flag);

/* How group commit has gone since the handle was opened: intake writes,
 * transactions they took, and the largest group (for the server's log). */
struct rstore_group_stats {
	uint64_t jobs, groups, largest;
};
void rstore_group_stats(struct rstore *st, struct rstore_group_stats *ret);

/* --- alerts for staff ------------------------------------------------ */

struct rstore_filter {
	const char *status;   /* new, acknowledged, closed, false_positive, open (= new or
				 acknowledged) or NULL for all */
	const char *category; /* exact, or NULL */
	const char *device;   /* exact, or NULL */
	int confirmed;	      /* -1 any, 0 no, 1 yes */
	int limit;	      /* 1..1000000 (callers facing the network cap it lower) */
	int64_t overdue_after; /* seconds: unacknowledged alerts older are "overdue" */
};

/* Alerts newest first (by time received), each an object of every field
 * plus received_at, status, assignee, overdue. */
int rstore_alerts(struct rstore *st, const struct rstore_filter *f, json_object **ret);
/* One alert with its notes, staff actions and signed body.  -ENOENT. */
int rstore_alert_get(struct rstore *st, const char *alert_id, int64_t overdue_after,
		     json_object **ret);

/* A triage step by user: "acknowledge", "assign" (arg: user name),
 * "note" (arg: text), "close" (arg: optional text), "false_positive" (arg:
 * reason, required), "reopen".  Recorded in the action log in the same
 * transaction.  -ENOENT (no alert), -EINVAL (bad step or argument),
 * -EALREADY (the alert is already in that state). */
int rstore_alert_triage(struct rstore *st, const char *alert_id, const char *user,
			const char *step, const char *arg);

/* Record a staff action that changes nothing else (login, logout, export).
 * alert_id may be NULL.  detail must not hold alert contents. */
int rstore_action(struct rstore *st, const char *user, const char *action,
		  const char *alert_id, const char *detail);
/* The newest `limit` staff actions, newest first. */
int rstore_actions(struct rstore *st, int limit, json_object **ret);

/* Clear a device's chain flags (an admin looked into it). */
int rstore_flags_clear(struct rstore *st, const char *device_id, const char *user);

/* --- staff ----------------------------------------------------------- */

#define RSTORE_ROLE_MAX 16

/* Add a user with a crypto_pwhash_str() hash; recorded in the action log
 * as done by `by` (e.g. "cli:root").  -EEXIST, -EINVAL (role). */
int rstore_user_add(struct rstore *st, const char *name, const char *role,
		    const char *pwhash, const char *by);
/* Replace a user's password hash (ending the user's sessions), recorded as
 * done by `by`.  -ENOENT. */
int rstore_user_passwd(struct rstore *st, const char *name, const char *pwhash,
		       const char *by);
/* Look a user up for login: role, password hash and whether an admin
 * disabled the login.  -ENOENT. */
int rstore_user_get(struct rstore *st, const char *name, char ret_role[RSTORE_ROLE_MAX],
		    char ret_pwhash[crypto_pwhash_STRBYTES], bool *ret_disabled);
/* Every user (name, role, created_at, disabled, disabled_at, disabled_by)
 * as an array. */
int rstore_users(struct rstore *st, json_object **ret);
/* Disable (enable false) or enable a user's login, recorded in the action
 * log as done by `by` (e.g. "cli:root").  Disabling deletes every session
 * and API token of the user in the same transaction; enabling restores
 * the login only (new tokens must be made).  -ENOENT (no such user),
 * -EALREADY (already in that state), -EPERM (the last enabled admin). */
int rstore_user_enable(struct rstore *st, const char *name, bool enable, const char *by);

/* A credential is a login session (with a CSRF token) or an API token;
 * only the SHA-256 of its secret is stored.  expires 0 = never. */
struct rstore_principal {
	char user[65];
	char role[RSTORE_ROLE_MAX];
	char csrf[65]; /* empty for API tokens */
	bool is_session;
	int64_t expires;
};
/* -ENOENT (no such user), -EPERM (the user is disabled). */
int rstore_cred_add(struct rstore *st, const char *secret_hash, const char *user,
		    bool is_session, const char *csrf, int64_t expires, const char *label);
/* -ENOENT when unknown, expired, the user no longer exists or is
 * disabled, or (sessions only, session_idle > 0) unused for session_idle
 * seconds.  A session found in use has its last-used time written, at most
 * once a minute (more often when session_idle is under two minutes), so
 * the idle timeout slides without a write on every request.  API tokens
 * have no idle timeout. */
int rstore_cred_get(struct rstore *st, const char *secret_hash, int64_t session_idle,
		    struct rstore_principal *ret);
int rstore_cred_del(struct rstore *st, const char *secret_hash);

/* --- retention ------------------------------------------------------- */

/* Delete alerts closed (or marked false positive) more than `days` days
 * ago, with their notes, plus expired sessions and old chain points.
 * *ret_count: alerts deleted. */
int rstore_purge(struct rstore *st, int days, int *ret_count);

#endif
