/* ingest.h - the device endpoints, POST /v1/alerts and POST /v1/heartbeats:
 * content type, schema, enrolment, signature, then the store.  Every
 * refusal is a 4xx with {"error", "detail"} and one log line naming only
 * ids; a storage failure is a 503 with Retry-After so the uplink retries.
 */
#ifndef HW_INGEST_H
#define HW_INGEST_H

#include "server.h"

/* Answer one request whose URL starts with /v1/. */
enum MHD_Result ingest_handle(struct req *rq);

#endif
