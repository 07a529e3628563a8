/* lists.h - the daemon's set of active hash lists: the trusted signer keys
 * from [lists] trusted_keys, every *.hwdb in [lists] dir opened through
 * hwdb_open() with those keys and min_signers, and the rules for a reload:
 * a list that is refused keeps its previous good version in use, and a
 * reload that would leave no list at all keeps the old set.
 */
#ifndef HW_SCANNER_LISTS_H
#define HW_SCANNER_LISTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "hwdb.h"

#define LISTS_MAX 64
#define LISTS_MAX_KEYS 64
#define LISTS_TAG_BYTES 16

struct list_slot {
	char *path;          /* file it was opened from */
	struct hwdb *db;
	uint64_t dev, ino, size;
	int64_t mtime_ns;    /* identity of the file when opened */
	char digest_hex[2 * HWDB_DIGEST_BYTES + 1];
};

struct list_set {
	struct list_slot *v;
	size_t n;
	uint32_t models;     /* models present in any list */
	uint8_t (*keys)[32]; /* trusted keys the set was checked with */
	size_t nkeys;
	unsigned min_signers;
};

/* What happened to one file during lists_load(). */
enum list_outcome {
	LIST_LOADED,   /* opened and verified (new, or a new version) */
	LIST_KEPT,     /* unchanged file, still in use */
	LIST_REFUSED,  /* refused; `kept` says if an older good one stays */
	LIST_REMOVED,  /* file gone from the folder: unloaded */
};

struct list_report {
	enum list_outcome outcome;
	const char *path;
	const struct hwdb *db; /* LOADED/KEPT: the list; REFUSED: the old one kept, or NULL */
	int error;             /* REFUSED: hwdb_open()'s code */
	const char *reason;    /* REFUSED: one line */
};

typedef void (*lists_report_fn)(void *ud, const struct list_report *rep);

/* Read one public key file as written by `hashwatch db keygen`: the first
 * token on a non-comment line that decodes (base64 or hex) to 32 bytes.
 * The only place that knows the format.  Returns 0 or -errno / -EBADMSG. */
int lists_read_pubkey(const char *path, uint8_t out[32]);

/* Load the trusted keys (*.pub in dir).  Returns the number of keys (>= 1)
 * with *ret (free()), or -ENOENT (no key: nothing could ever be trusted),
 * -errno; err says which file and why. */
int lists_load_keys(const char *dir, uint8_t (**ret)[32], char *err, size_t errlen);

/* Build the list set the configuration asks for.  `old` (may be NULL):
 * the set in use; lists in it whose file is unchanged are moved over,
 * not reopened, and a refused file's old version is kept.  Every file's
 * fate is reported through `report`.  Returns 0 with *ret filled, or:
 *   -ENOENT   no usable list at all (err says why); *ret untouched and
 *             `old` unchanged, so the caller can keep running on it;
 *   -errno    the keys or the folder cannot be read.
 * On success `old` is emptied (what was not moved over is closed). */
int lists_load(const struct config *cfg, struct list_set *old, struct list_set *ret,
	       lists_report_fn report, void *ud, char *err, size_t errlen);

/* Record each list's version as accepted (rollback protection). */
void lists_accept(const struct config *cfg, const struct list_set *s);

void lists_free(struct list_set *s);

/* A digest of the lists in use (ids, versions, content digests) and the
 * policy and limits that decide a file's result: the scan cache's tag. */
void lists_tag(const struct list_set *s, const struct config *cfg,
	       uint8_t out[LISTS_TAG_BYTES]);

#endif
