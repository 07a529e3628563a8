/* heartbeat.h - the scanner's heartbeat: <state>/spool/heartbeat (no
 * ".json": in the spool only alerts end in .json), a small signed file that tells the response team's receiver (through the
 * uplink, which cannot read anything else of the scanner) that this device
 * is alive, which hash lists it uses, how many alerts wait in its spool and
 * where its audit chain stands, so that the fleet view shows stale devices,
 * old lists and an audit chain that goes backwards.
 *
 * Same envelope as an alert (docs/alert-format.md) with the format
 * "hashwatch-heartbeat/1"; the payload is exactly the receiver's heartbeat
 * schema (docs/receiver-api.md):
 *
 *   {"v":1,"device_id":"...","time":"2026-11-22T07:03:11.438Z",
 *    "scanner_version":"...","lists":[{"id":"...","version":N,
 *    "digest":"<hex>"}],"spool_depth":N,"audit_seq":N,"audit_head":"<hex>"}
 *
 * The file is replaced atomically (the uplink sends it when it changed and
 * never deletes it).  Nothing in it identifies a file or an image.
 */
#ifndef HW_SCANNER_HEARTBEAT_H
#define HW_SCANNER_HEARTBEAT_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <json-c/json.h>

#include "devkey.h"

#define HEARTBEAT_FORMAT "hashwatch-heartbeat/1"
#define HEARTBEAT_FILE "heartbeat"
#define HEARTBEAT_PAYLOAD_VERSION 1
#define HEARTBEAT_MAX_LISTS 64 /* the receiver refuses more */
/* How often the daemon rewrites it, and how late the timer may fire: a
 * wide accuracy lets sd-event move the wake-up onto the aligned instant it
 * shares with the watchdog ping and other timers, so that an idle laptop
 * does not wake up for the heartbeat alone. */
#define HEARTBEAT_INTERVAL_USEC (300ull * 1000000)
#define HEARTBEAT_ACCURACY_USEC (60ull * 1000000)

struct heartbeat_list {
	const char *id;
	uint64_t version;
	const char *digest; /* hex, as `hashwatch db info` prints it */
};

/* The pieces; every pointer is borrowed for the duration of the call. */
struct heartbeat {
	const char *device_id;
	const char *scanner_version;
	struct timespec time;               /* CLOCK_REALTIME */
	const struct heartbeat_list *lists; /* the active lists */
	size_t nlists;
	uint64_t spool_depth;               /* alerts waiting (heartbeat_spool_depth) */
	uint64_t audit_seq;                 /* 0 and NULL head: no audit log */
	const char *audit_head;             /* 64 hex digits, or NULL */
};

/* The payload object.  Returns 0 and *ret (json_object_put it), -E2BIG
 * (more than HEARTBEAT_MAX_LISTS lists), -EINVAL (a required string is
 * NULL) or -ENOMEM. */
int heartbeat_payload(const struct heartbeat *hb, json_object **ret);

/* Alert files in spool_dir ("*.json" but the heartbeat, no temp files or
 * dot files), for spool_depth.  Returns 0 and *ret, or -errno. */
int heartbeat_spool_depth(const char *spool_dir, uint64_t *ret);

/* Build, sign with key and write spool_dir/heartbeat atomically
 * (temp file, fsync, rename, fsync of the folder; mode 0640).  Returns 0
 * or -errno (the previous heartbeat file, if any, is then untouched). */
int heartbeat_write(const char *spool_dir, const struct heartbeat *hb,
		    const struct devkey *key);

#endif
