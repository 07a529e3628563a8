/* hasher.h - one call from file bytes to every requested hash: digests of
 * the bytes, one decode, then each image model on the same pixels.  This is
 * the decode -> hash half of the hot loop; the CLI, the one-shot scan and
 * the daemon's workers all go through it.
 */
#ifndef HW_HASHER_H
#define HW_HASHER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "decode.h"
#include "model.h"
#include "pdq.h"

#define HASHER_DIHEDRAL (1u << 0) /* also the 8 PDQ dihedral variants */

struct hasher_result {
	uint32_t mask;                      /* (1u << id) of models computed */
	struct hw_hash hash[HW_MODEL__MAX]; /* indexed by enum hw_model_id */
	bool have_dihedral;
	struct pdq_dihedral pdq_dihedral;   /* when HASHER_DIHEDRAL and pdq */
	struct decode_info info;            /* zero when no image model ran */
};

/* Hash buf[0..len) with the models in `mask`.  Byte models (digests) are
 * always computed, even when the image does not decode; image models need
 * a successful decode.  Returns 0; or a negative code from decode_buffer()
 * / the models with a one-line reason in err, in which case ret->mask
 * still tells which digests were computed.  `ret` is always initialised. */
int hasher_run(const void *buf, size_t len, uint32_t mask, unsigned flags,
	       const struct decode_opts *dopts, struct hasher_result *ret,
	       char *err, size_t errlen);

#endif
