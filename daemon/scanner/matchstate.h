/* matchstate.h - what the daemon remembers about matches, and only about
 * matches (DESIGN.md invariant 2 allows it): which (file, list entry)
 * pairs matched, so that the same file and entry never alert twice, even
 * across restarts; how many distinct matches each category has seen, for
 * the k-of-n threshold; and which matches still wait for their alert
 * (below the threshold, or not yet written to the spool when the daemon
 * stopped).
 *
 * <state>/matches.jsonl, one JSON object per line, appended and fsync'ed:
 *   {"t":"match","key":HEX,"distinct":HEX,"category":S,"alert":{...}}
 *   {"t":"alerted","key":HEX}
 * key identifies (device, inode, SHA-256, list id, entry id); distinct
 * identifies (SHA-256, list id, entry id), so copies of one file count
 * once towards a threshold but each copy is alerted.  A damaged or
 * partially written line is skipped and counted, never fatal.
 *
 * A line that cannot be written (a full disk) is cut off again, and its
 * record stays in memory on the unsaved list; every later write, and
 * matchstate_sync(), first writes what is unsaved.  A record whose alert
 * went out before its match line could be written is saved as one line,
 *   {"t":"match",...,"alert":null}
 * which means matched and alerted, so that the dedupe survives a restart.
 */
#ifndef HW_SCANNER_MATCHSTATE_H
#define HW_SCANNER_MATCHSTATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/queue.h>

#include <json-c/json.h>

#include "htab.h"

#define MATCHSTATE_KEY_BYTES 32
#define MATCHSTATE_MAX_RECORDS 100000
#define MATCHSTATE_MAX_CATEGORIES 256

struct ms_record {
	TAILQ_ENTRY(ms_record) link;   /* on the pending list while !alerted */
	TAILQ_ENTRY(ms_record) unsaved_link; /* on the unsaved list while unsaved */
	uint8_t key[MATCHSTATE_KEY_BYTES];
	uint8_t distinct[MATCHSTATE_KEY_BYTES];
	char *category;
	json_object *alert;            /* the alert to send; NULL once sent */
	bool alerted;
	bool match_saved;              /* its "match" line is in the file */
	bool alerted_saved;            /* its "alerted" state is in the file */
	bool unsaved;                  /* on the unsaved list */
};

TAILQ_HEAD(ms_list, ms_record);

struct ms_category {
	char *name;
	unsigned distinct;
};

struct matchstate {
	char *path;
	int fd;                        /* append; -1 if it cannot be written */
	struct htab records;           /* key -> record */
	struct htab distinct;          /* distinct key -> record (first seen) */
	struct ms_list pending;
	struct ms_list unsaved;        /* records with a line not yet written */
	size_t nunsaved;
	bool torn;                     /* a cut-short line could not be cut off */
	struct ms_category cats[MATCHSTATE_MAX_CATEGORIES];
	size_t ncats;
	uint64_t bad_lines;            /* skipped while loading */
};

/* Open and load path (created 0600 if missing).  Returns 0; or -errno if
 * it can be neither read nor created, with a message in err (the caller
 * may carry on with an empty state: no alert is lost, duplicates become
 * possible). */
int matchstate_open(const char *path, struct matchstate **ret, char *err, size_t errlen);
void matchstate_close(struct matchstate *ms);

bool matchstate_known(const struct matchstate *ms, const uint8_t key[MATCHSTATE_KEY_BYTES]);

/* Distinct matches of category so far, counting `distinct` as if added
 * (NULL: as is). */
unsigned matchstate_count(const struct matchstate *ms, const char *category,
			  const uint8_t *distinct);

/* Remember a match; takes ownership of alert.  The record is kept in
 * memory, and *ret set, even when the disk write fails: then -errno is
 * returned (the caller logs it) and the line is written by a later write
 * or matchstate_sync(). */
int matchstate_add(struct matchstate *ms, const uint8_t key[MATCHSTATE_KEY_BYTES],
		   const uint8_t distinct[MATCHSTATE_KEY_BYTES], const char *category,
		   json_object *alert, struct ms_record **ret);

/* The record's alert is in the spool: remember it and drop the alert.
 * -errno when the disk write fails; the record is remembered as alerted
 * in memory either way, and written later as for matchstate_add(). */
int matchstate_alerted(struct matchstate *ms, struct ms_record *rec);

/* Write every unsaved record, oldest first.  0 when nothing is left
 * unsaved; else -errno of the first write that failed. */
int matchstate_sync(struct matchstate *ms);

static inline size_t matchstate_unsaved(const struct matchstate *ms)
{
	return ms->nunsaved;
}

#endif
