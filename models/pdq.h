/* pdq.h - Meta's PDQ perceptual hash (256 bits + quality), bit-exact with
 * the C++ reference in facebook/ThreatExchange pdq/cpp (pdq-photo-hasher).
 *
 * Pipeline (reference): RGB -> float luma (0.299, 0.587, 0.114); images
 * wider or taller than 512 are first resized to 512x512 by nearest
 * neighbour (CImg's default); two passes of a Jarosz box filter, decimated
 * to 64x64; 16x16 DCT (rows/columns 1..16, no DC); threshold at the Torben
 * median; quality from the sum of neighbour gradients.  float32 throughout,
 * every operation in the reference's order (no FMA), so the same pixels give
 * the same bits as the reference on any target.
 *
 * Input as the reference's decoder (CImg) hands it over: EXIF orientation is
 * not applied (the dihedral variants cover rotations), alpha is dropped.  A
 * 1-channel image is hashed from its grey values as they are, like the
 * reference's 1-spectrum path; an RGB image with equal channels goes through
 * the float weights and can differ from it in the last float bit (e.g. v =
 * 15 gives 15.000001), so now and then in a hash bit.
 */
#ifndef HW_PDQ_H
#define HW_PDQ_H

#include <stdint.h>

#include "image.h"

#define PDQ_BYTES 32
#define PDQ_BITS 256
#define PDQ_HEX_LEN 64

/* bytes[0] holds the most significant byte of the 256-bit integer, i.e.
 * the first two hex digits of the printed hash. */
struct pdq_hash {
	uint8_t bytes[PDQ_BYTES];
};

/* Dihedral variants, in the reference's --pdqdih order. */
enum pdq_dihedral_index {
	PDQ_ORIG = 0,
	PDQ_ROT90,
	PDQ_ROT180,
	PDQ_ROT270,
	PDQ_FLIPX,
	PDQ_FLIPY,
	PDQ_FLIPPLUS1,
	PDQ_FLIPMINUS1,
	PDQ_NDIHEDRAL
};

struct pdq_result {
	struct pdq_hash hash;
	int quality; /* 0..100 */
};

struct pdq_dihedral {
	struct pdq_hash v[PDQ_NDIHEDRAL];
	int quality;
};

/* Hash an image: pdq-photo-hasher's hash and quality.  Returns 0, -EINVAL
 * (NULL image or pixels, zero width or height, channels not 1 or 3, stride
 * < width * channels) or -ENOMEM; *ret is written only on success.  An
 * image under 5 pixels on a side gives, as in the reference, an all-zero
 * hash with quality 0 (and returns 0).  Honours stride, so a crop view
 * (hw_image_crop) hashes like the same pixels copied out.
 * Cost: one allocation per call of at most ~1.2 MB (the 512x512 luma
 * plane and small rows) freed before returning, ~40 KiB of stack; about
 * 0.5 ms for 512x512 RGB on a current x86-64 core.  Thread-safe: the
 * constant tables are built once (pthread_once), nothing else is shared. */
int pdq_hash_image(const struct hw_image *img, struct pdq_result *ret);

/* The hash of the image and of its 7 rotations/mirrors, computed from one
 * DCT block as the reference's dihedral mode (--pdqdih) does; v[PDQ_ORIG]
 * and quality equal pdq_hash_image()'s, with one exception kept from the
 * reference: its plain path takes an image of exactly 64x64 as already
 * downsampled, its dihedral path blurs it anyway, so for that size
 * v[PDQ_ORIG] may differ from pdq_hash_image() in a few bits.  Returns and
 * costs as pdq_hash_image(). */
int pdq_hash_dihedral(const struct hw_image *img, struct pdq_dihedral *ret);

/* Hex as the reference prints it: 64 lower-case digits and a NUL into
 * out[PDQ_HEX_LEN + 1]; bit k (DCT coefficient row k / 16, column k % 16)
 * is bit k of the 256-bit number the digits spell. */
void pdq_to_hex(const struct pdq_hash *h, char *out);

/* Parse exactly 64 hex digits (either case, nothing before or after).
 * Returns 0 or -EINVAL; *ret is written only on success. */
int pdq_from_hex(const char *hex, struct pdq_hash *ret);

/* Hamming distance (0..256): popcount of the XOR, four 64-bit words. */
int pdq_distance(const struct pdq_hash *a, const struct pdq_hash *b);

#endif
