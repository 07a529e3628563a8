/* hwdb.h - compiled, signed hash lists (.hwdb) and matching against them.
 *
 * A list is built on the district's machine from text (import.h), signed
 * with one or more Ed25519 keys, and on a laptop only mapped read-only and
 * verified, never parsed from text.  Opening a list costs one pass over the
 * file to compute its digest (a tree of SHA-256 leaves, hashed on several
 * cores: hwdigest.h) plus one Ed25519 verification per signature; matching
 * then works straight on the mapping (multi-index hashing for Hamming
 * models, binary search for exact digests) without allocating.  Layout, trust rules
 * and the digest an auditor compares are described in docs/hwdb-format.md.
 */
#ifndef HW_HWDB_H
#define HW_HWDB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hasher.h"
#include "model.h"

#define HWDB_LIST_ID_MAX 64       /* bytes, including the NUL */
#define HWDB_DIGEST_BYTES 32      /* SHA-256 tree of the signed content */
#define HWDB_MAX_SIGNERS 8        /* signatures one file can carry */
#define HWDB_MAX_ENTRIES 200000000u /* entries per list, and hashes per model */
#define HWDB_ID_MAX 128           /* bytes of an entry id, without the NUL */
#define HWDB_LABEL_MAX 64         /* bytes of a category or source */
/* Most hits one model's query reports; hwdb_match()/hwdb_lookup() say when
 * it was reached (see there). */
#define HWDB_MATCH_LIMIT 256

/* One list entry (one known item), as given to the builder and as read
 * back.  Strings are printable UTF-8 without control characters; "" when
 * not given. */
struct hwdb_entry {
	const char *id;       /* entry id from the list */
	const char *category; /* e.g. "csam", "ncii" */
	const char *source;   /* e.g. "ncmec", "stopncii" */
};

/* The hashes of one model, as given to the builder: n hashes of the
 * model's length (model.h), contiguous, and for each the index of the
 * entry it belongs to.  Several columns may name the same model; they are
 * merged.  An entry may have hashes of several models (the "second check":
 * a PDQ hash and the SHA-256 of the same item). */
struct hwdb_column {
	enum hw_model_id model;
	const uint8_t *hashes;
	const uint32_t *entries;
	size_t n;
};

struct hwdb_build_spec {
	const char *list_id;       /* [A-Za-z0-9._-], 1..63 bytes, not "."-first */
	uint64_t version;          /* >= 1, monotonic; rollback is refused */
	uint64_t created;          /* unix seconds; 0 = now */
	const struct hwdb_entry *entries;
	size_t nentries;
	const struct hwdb_column *columns;
	size_t ncolumns;
	/* Per-model thresholds carried by the list; a negative value means
	 * the model's default (model.h). */
	double threshold[HW_MODEL__MAX];
};

/* The rule entry strings (id, category, source) must meet: printable
 * UTF-8, no control characters.  Importers check it per line so that the
 * error names the line. */
bool hwdb_text_ok(const char *s, size_t len);

/* Set every threshold of spec to "model default" (-1). */
void hwdb_spec_default_thresholds(struct hwdb_build_spec *spec);

/* Compile and write atomically to path (unsigned; mode 0644).  The same
 * spec and `created` give the same bytes, so a build can be reproduced and
 * its digest compared.  Returns 0, or -EINVAL (bad spec), -E2BIG (over a
 * limit above), -ENOMEM, -errno from writing; err gets a one-line reason.
 * On failure no file is left at path (a previous one is untouched). */
int hwdb_build(const struct hwdb_build_spec *spec, const char *path,
	       char *err, size_t errlen);

/* Trust settings for opening a list. */
struct hwdb_trust {
	const uint8_t (*keys)[32]; /* trusted Ed25519 public keys */
	size_t nkeys;
	unsigned min_signers;      /* distinct trusted keys needed (0 means 1) */
	const char *state_dir;     /* accepted versions are remembered here
				      (NULL: no rollback check) */
	bool allow_unsigned;       /* skip the signer checks (but not the
				      integrity checks): tools only, for db info /
				      lookup on one's own fresh build; never in
				      the daemon */
};

struct hwdb;

/* Map, check structure, verify digest, signatures and version.  Every
 * signature present must verify, whoever made it (a bad one means the file
 * was altered).  trust may be NULL only to mean allow_unsigned with no
 * state_dir.  Returns 0 and a handle, or:
 *   -EBADMSG       malformed, truncated, or altered (digest or signature
 *                  does not verify)
 *   -EKEYREJECTED  unsigned / no trusted signer / too few trusted signers
 *   -ESTALE        version older than the one accepted before for this list
 *                  id, or the same version with different content
 *   -EPROTONOSUPPORT  format version or model this build does not know
 *   -errno         cannot open/map, or the state file cannot be read
 * Uses up to 4 threads for the digest while it runs (none afterwards).
 * with a one-line reason in err naming which check failed ("unsigned: ...",
 * "untrusted signer: ...", "too few signers: 1 of 2 ...", "altered: ...",
 * "truncated: ...", "older version: 3 < accepted 5 ..."). */
int hwdb_open(const char *path, const struct hwdb_trust *trust,
	      struct hwdb **ret, char *err, size_t errlen);
/* Unmap.  Accepts NULL.  Pointers from hwdb_entry_get() die here. */
void hwdb_close(struct hwdb *db);

/* Record this list's version (and digest) as accepted in trust->state_dir
 * (the daemon calls it after it starts using the list).  Never lowers a
 * recorded version.  Returns 0, -EINVAL (no state_dir) or -errno. */
int hwdb_accept_version(const struct hwdb *db, const struct hwdb_trust *trust);

const char *hwdb_list_id(const struct hwdb *db);
uint64_t hwdb_version(const struct hwdb *db);
uint64_t hwdb_created(const struct hwdb *db);
size_t hwdb_entry_count(const struct hwdb *db);
/* Number of hashes of a model in the list. */
size_t hwdb_model_count(const struct hwdb *db, enum hw_model_id model);
/* (1u << id) of every model the list holds (what to ask hasher_run for). */
uint32_t hwdb_model_mask(const struct hwdb *db);
/* The list's threshold for a model (model default when it has none). */
double hwdb_threshold(const struct hwdb *db, enum hw_model_id model);
/* The list digest (hwdigest.h) of the signed content; stable across added
 * signatures. */
void hwdb_digest(const struct hwdb *db, uint8_t out[HWDB_DIGEST_BYTES]);
/* Public keys of the signatures, with whether each is trusted by the
 * trust settings the list was opened with.  Writes up to cap; returns the
 * number of signatures. */
size_t hwdb_signers(const struct hwdb *db, uint8_t (*out)[32], bool *trusted,
		    size_t cap);
/* Entry metadata; the strings point into the mapping and live until
 * hwdb_close().  Returns 0, -ERANGE (no such entry) or -EBADMSG (entry
 * record points outside the string table). */
int hwdb_entry_get(const struct hwdb *db, uint32_t entry,
		   struct hwdb_entry *ret);

/* Append a signature with the 64-byte libsodium Ed25519 secret key.  The
 * file is checked first (structure and digest, as hwdb_open with
 * allow_unsigned) so that nobody signs an altered list, then rewritten
 * atomically.  Returns 0, -EEXIST (already signed by this key), -E2BIG
 * (HWDB_MAX_SIGNERS reached), -EBADMSG or -errno; err gets a reason. */
int hwdb_sign(const char *path, const uint8_t sk[64], char *err, size_t errlen);

struct hwdb_match {
	uint32_t entry;
	enum hw_model_id model;
	double distance;
	int8_t variant;  /* PDQ dihedral variant 0..7 (0 = as is), else -1 */
	uint8_t region;  /* enum hasher_region: which part of the image
			    matched (the whole image, or a region inside its
			    borders; see hasher_regions()) */
	struct border_box box; /* that region, in the file's pixels */
};

/* Match everything in `res` against the list: Hamming models through the
 * index (PDQ with all 8 dihedral variants in one query when
 * res->have_dihedral), digests through the exact set, other models by a
 * linear scan.  The regions inside the image's borders (HASHER_TRIM) are
 * queried the same way after the whole image; a region's hit on an
 * (entry, model) that an earlier region already hit is left out (among
 * the first cap hits), so the whole image wins.  Thresholds: max_dist[model] when max_dist is not NULL and
 * the value is >= 0, else the list's.  PDQ hashes with quality below
 * min_pdq_quality are not queried.  Writes up to cap matches (grouped by
 * model, then list order) and returns the number found, which may exceed
 * cap; a model's hits stop at HWDB_MATCH_LIMIT, so a return value >=
 * HWDB_MATCH_LIMIT means "at least that many" (a limit to report).  A
 * negative value is an error (-EBADMSG: the index is damaged).  No
 * allocation; safe to call from several threads on one handle. */
int hwdb_match(const struct hwdb *db, const struct hasher_result *res,
	       const double max_dist[HW_MODEL__MAX], int min_pdq_quality,
	       struct hwdb_match *out, size_t cap);

/* Look up one hash (hashwatch db lookup); max_dist < 0 means the list's
 * threshold.  Same return convention as hwdb_match(). */
int hwdb_lookup(const struct hwdb *db, const struct hw_hash *h,
		double max_dist, struct hwdb_match *out, size_t cap);

#endif
