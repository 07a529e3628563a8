/* model.h - the registry of hash models and one entry point to run them.
 *
 * Every hash hashwatch knows has a row here: its name as users type it
 * (`--models pdq,phash`), whether it hashes pixels or file bytes, how two
 * hashes are compared and its default match threshold.  Callers that do not
 * care which model they run use hw_model_hash_image()/hw_model_hash_bytes();
 * the daemon's hot loop calls the per-model functions (pdq.h, imagehash.h,
 * digest.h) directly.
 *
 * Byte order of a hash: hw_hash.bytes holds the hash as its hex form reads,
 * first byte = first two hex digits.  For PDQ that is the 256-bit big-endian
 * integer Meta's tools print; for pHash/dHash/aHash it is ImageHash's
 * bit string (first bit of the 8x8 array = most significant bit).
 */
#ifndef HW_MODEL_H
#define HW_MODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "image.h"

enum hw_model_id {
	HW_MODEL_NONE = 0,
	HW_MODEL_PDQ,
	HW_MODEL_PHASH,
	HW_MODEL_DHASH,
	HW_MODEL_AHASH,
	HW_MODEL_MD5,
	HW_MODEL_SHA1,
	HW_MODEL_SHA256,
	/* OpenCV img_hash family: computed by the optional module (cvhash.h) */
	HW_MODEL_CV_AVERAGE,
	HW_MODEL_CV_PHASH,
	HW_MODEL_CV_MARRHILDRETH,
	HW_MODEL_CV_RADIALVARIANCE,
	HW_MODEL_CV_BLOCKMEAN,
	HW_MODEL_CV_COLORMOMENT,
	HW_MODEL__MAX
};

enum hw_model_kind {
	HW_KIND_IMAGE, /* hashes decoded pixels */
	HW_KIND_BYTES, /* hashes the file's bytes */
};

enum hw_metric {
	HW_METRIC_HAMMING, /* bit distance, threshold in bits */
	HW_METRIC_EXACT,   /* equal bytes */
	HW_METRIC_OPENCV,  /* the module's own compare() (e.g. L2, PCC) */
};

struct hw_model_info {
	enum hw_model_id id;
	const char *name;        /* as typed on the command line and in lists */
	enum hw_model_kind kind;
	enum hw_metric metric;
	uint16_t bytes;          /* length of the hash in bytes */
	double default_threshold; /* match if distance <= this */
	bool optional_module;    /* needs the OpenCV module */
	const char *description; /* one line, for --help and man pages */
};

#define HW_HASH_MAX 352 /* largest hash: colour moment, 42 doubles */

struct hw_hash {
	enum hw_model_id model;
	uint16_t len;      /* bytes used in `bytes` */
	int16_t quality;   /* 0..100 where the model has one, else -1 */
	uint8_t bytes[HW_HASH_MAX];
};

/* Lookup.  NULL when unknown. */
const struct hw_model_info *hw_model_by_name(const char *name);
const struct hw_model_info *hw_model_by_id(enum hw_model_id id);

/* All models in registry order, for listing.  *ret_count is set. */
const struct hw_model_info *hw_model_all(size_t *ret_count);

/* Parse "pdq,phash,md5" (or "all", "default") into a bitmask of
 * (1u << id).  Returns 0, or -EINVAL with the offending name copied to
 * `bad` (NUL-terminated, truncated to badlen). */
int hw_model_parse_list(const char *list, uint32_t *ret_mask, char *bad,
			size_t badlen);

/* The models `hashwatch hash` runs when --models is not given. */
#define HW_MODELS_DEFAULT                                                      \
	((1u << HW_MODEL_PDQ) | (1u << HW_MODEL_PHASH) |                       \
	 (1u << HW_MODEL_DHASH) | (1u << HW_MODEL_AHASH) |                     \
	 (1u << HW_MODEL_MD5) | (1u << HW_MODEL_SHA1) |                        \
	 (1u << HW_MODEL_SHA256))

/* Compute an image model's hash.  Returns 0, -EINVAL (not an image model or
 * bad image), -ENOMEM, or -ENOPKG (OpenCV module not installed).  *ret is
 * written only on success. */
int hw_model_hash_image(enum hw_model_id id, const struct hw_image *img,
			struct hw_hash *ret);

/* Compute a byte model's hash (digest) of buf[0..len). */
int hw_model_hash_bytes(enum hw_model_id id, const void *buf, size_t len,
			struct hw_hash *ret);

/* Distance between two hashes of the same model: bits for Hamming models,
 * 0 or 1 for exact ones, the module's metric for OpenCV models.  Negative
 * on mismatched model/length. */
double hw_model_distance(const struct hw_hash *a, const struct hw_hash *b);

/* Lower-case hex of the hash; out must hold 2 * len + 1 bytes. */
void hw_hash_to_hex(const struct hw_hash *h, char *out);

/* Parse hex for `model` (length must match).  Returns 0 or -EINVAL. */
int hw_hash_from_hex(enum hw_model_id model, const char *hex,
		     struct hw_hash *ret);

#endif
