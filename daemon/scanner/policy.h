/* policy.h - from the matcher's raw matches to decisions (DESIGN.md,
 * "Match policy"): matches are grouped per list entry; the reported match
 * is the best perceptual one (PDQ first), else the exact digest; a match is
 * confirmed when a second independent signal agrees on the same entry (an
 * exact digest and a perceptual model, or two perceptual models; two
 * digests of the same bytes are one signal).  Distances, PDQ quality and
 * the dihedral variants are applied by hwdb_match() with the thresholds
 * from policy_thresholds().  A hit says which region of the image the
 * reported match was found in (the whole image, or inside its borders,
 * hasher_regions()).  Counting towards the per-category threshold
 * and the dedupe live in matchstate.h.
 */
#ifndef HW_SCANNER_POLICY_H
#define HW_SCANNER_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "hasher.h"
#include "hwdb.h"

#define POLICY_MAX_MATCHES 64 /* raw matches read per list and file */

struct policy_hit {
	uint32_t entry;
	enum hw_model_id model;  /* the match reported */
	double distance;
	int quality;             /* of the reported model's hash, -1 if none */
	int variant;             /* PDQ dihedral variant 0..7, else -1 */
	enum hasher_region region; /* where the reported match was found */
	struct border_box box;   /* that region in the file's pixels (the
				    whole image's for HASHER_WHOLE) */
	uint32_t models;         /* every model that matched this entry */
	bool confirmed;
};

/* Per-model maximum distances from the configuration (negative: the
 * list's own threshold). */
void policy_thresholds(const struct config *cfg, double out[HW_MODEL__MAX]);

/* Group n raw matches (one list) by entry into out[0..cap).  res: the
 * hashes that were matched (for the quality, of the reported match's
 * region).  Returns the number of hits
 * written. */
size_t policy_group(const struct hwdb_match *m, size_t n,
		    const struct hasher_result *res, struct policy_hit *out,
		    size_t cap);

#endif
