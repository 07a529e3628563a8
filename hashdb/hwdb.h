/* hwdb.h - compiled, signed hash lists (.hwdb) and matching against them.
 *
 * A list is built on the district's machine from text (import.h), signed
 * with one or more Ed25519 keys, and on a laptop only mapped read-only and
 * verified, never parsed from text.  Layout, trust rules and the digest an
 * auditor compares are described in docs/hwdb-format.md.
 */
#ifndef HW_HWDB_H
#define HW_HWDB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hasher.h"
#include "model.h"

#define HWDB_LIST_ID_MAX 64
#define HWDB_DIGEST_BYTES 32 /* BLAKE2b-256 of the signed content */
#define HWDB_MAX_SIGNERS 8

/* One list entry, as given to the builder and as read back. */
struct hwdb_entry {
	const char *id;       /* entry id from the list ("" when none given) */
	const char *category; /* e.g. "csam", "ncii" */
	const char *source;   /* e.g. "ncmec", "stopncii" */
};

/* A hash of an entry, as given to the builder. */
struct hwdb_item {
	uint32_t entry;            /* index into the entries array */
	struct hw_hash hash;       /* model + bytes */
};

struct hwdb_build_spec {
	const char *list_id;
	uint64_t version;          /* monotonic; rollback is refused */
	uint64_t created;          /* unix seconds; 0 = now */
	const struct hwdb_entry *entries;
	size_t nentries;
	const struct hwdb_item *items;
	size_t nitems;
	/* Per-model thresholds carried by the list; a negative value means
	 * the model's default (model.h). */
	double threshold[HW_MODEL__MAX];
};

/* Compile and write atomically to path (unsigned).  Returns 0 or -errno;
 * err gets a one-line reason. */
int hwdb_build(const struct hwdb_build_spec *spec, const char *path,
	       char *err, size_t errlen);

/* Trust settings for opening a list. */
struct hwdb_trust {
	const uint8_t (*keys)[32]; /* trusted Ed25519 public keys */
	size_t nkeys;
	unsigned min_signers;      /* distinct trusted keys needed (>= 1) */
	const char *state_dir;     /* accepted versions are remembered here
				      (NULL: no rollback check) */
	bool allow_unsigned;       /* tools only (db info / lookup on one's own
				      fresh build); never in the daemon */
};

struct hwdb;

/* Map, check structure, verify signatures and version.  Returns 0, or:
 *   -EBADMSG   malformed or truncated file, or digest mismatch (altered)
 *   -EKEYREJECTED  signature by no trusted key / too few trusted signers /
 *                  unsigned
 *   -ESTALE    version older than the one accepted before for this list id
 *   -errno     cannot open/map
 * with a one-line reason in err naming which check failed. */
int hwdb_open(const char *path, const struct hwdb_trust *trust,
	      struct hwdb **ret, char *err, size_t errlen);
void hwdb_close(struct hwdb *db);

/* Record this list's version as accepted in trust->state_dir (called by
 * the daemon after it starts using the list). */
int hwdb_accept_version(const struct hwdb *db, const struct hwdb_trust *trust);

const char *hwdb_list_id(const struct hwdb *db);
uint64_t hwdb_version(const struct hwdb *db);
uint64_t hwdb_created(const struct hwdb *db);
size_t hwdb_entry_count(const struct hwdb *db);
/* Number of hashes of a model in the list. */
size_t hwdb_model_count(const struct hwdb *db, enum hw_model_id model);
double hwdb_threshold(const struct hwdb *db, enum hw_model_id model);
/* BLAKE2b-256 of the signed content; stable across added signatures. */
void hwdb_digest(const struct hwdb *db, uint8_t out[HWDB_DIGEST_BYTES]);
/* Public keys of the valid signatures (trusted or not, see *_trusted). */
size_t hwdb_signers(const struct hwdb *db, uint8_t (*out)[32], bool *trusted,
		    size_t cap);
int hwdb_entry_get(const struct hwdb *db, uint32_t entry,
		   struct hwdb_entry *ret);

/* Append a signature with the 64-byte libsodium Ed25519 secret key, writing
 * the file atomically.  Returns 0, -EEXIST (already signed by this key) or
 * -errno / -EBADMSG. */
int hwdb_sign(const char *path, const uint8_t sk[64], char *err, size_t errlen);

struct hwdb_match {
	uint32_t entry;
	enum hw_model_id model;
	double distance;
	int8_t variant;  /* PDQ dihedral variant 0..7, else -1 */
};

/* Match everything in `res` against the list: Hamming models through the
 * index (PDQ with all 8 dihedral variants when res->have_dihedral),
 * digests through the exact set.  Thresholds: max_dist[model] when >= 0,
 * else the list's.  PDQ hashes with quality below min_pdq_quality are not
 * queried.  Writes up to cap matches; returns the number found (may exceed
 * cap) or a negative error.  No allocation. */
int hwdb_match(const struct hwdb *db, const struct hasher_result *res,
	       const double max_dist[HW_MODEL__MAX], int min_pdq_quality,
	       struct hwdb_match *out, size_t cap);

/* Look up one hash (hashwatch db lookup). Same return convention. */
int hwdb_lookup(const struct hwdb *db, const struct hw_hash *h,
		double max_dist, struct hwdb_match *out, size_t cap);

#endif
