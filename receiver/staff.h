/* staff.h - the response team's side of the receiver: login with
 * argon2id passwords, session cookies (HttpOnly, Secure, SameSite=Strict)
 * with a CSRF token for every state-changing request, bearer API tokens for
 * a SIEM, roles (responder, auditor = read-only, admin), the dashboard's
 * pages and static files, and the JSON API under /api/.
 *
 * Unauthenticated requests get 401 (API) or a redirect to /login (pages)
 * and never any alert data.
 */
#ifndef HW_STAFF_H
#define HW_STAFF_H

#include "server.h"

struct staff;

/* Per-server state (login rate limits).  Returns 0 or -ENOMEM. */
int staff_new(struct server *srv, struct staff **ret);
void staff_free(struct staff *sf);

/* Answer one request that is not a device request. */
enum MHD_Result staff_handle(struct staff *sf, struct req *rq);

/* Make a random secret (64 hex digits) and its SHA-256 (hex), as stored
 * for sessions and API tokens. */
void staff_secret(char ret_secret[65], char ret_hash[65]);
/* SHA-256 of a presented secret, in hex. */
void staff_secret_hash(const char *secret, char ret_hash[65]);

#endif
