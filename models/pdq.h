/* pdq.h - Meta's PDQ perceptual hash (256 bits + quality), bit-exact with
 * the C++ reference in facebook/ThreatExchange pdq/cpp.
 *
 * Pipeline (reference): RGB -> float luma (0.299, 0.587, 0.114); images
 * wider or taller than 512 are first resized to 512x512 by nearest
 * neighbour (CImg's default); two passes of a Jarosz box filter, decimated
 * to 64x64; 16x16 DCT (rows/columns 1..16, no DC); threshold at the Torben
 * median; quality from the sum of neighbour gradients.  float32 throughout.
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

/* Hash an image.  Returns 0, -EINVAL (empty image) or -ENOMEM.  *ret is
 * written only on success.  Allocates scratch per call. */
int pdq_hash_image(const struct hw_image *img, struct pdq_result *ret);

/* The hash of the image and of its 7 rotations/mirrors, computed from one
 * DCT (as the reference's dihedral mode does). */
int pdq_hash_dihedral(const struct hw_image *img, struct pdq_dihedral *ret);

/* Hex as the reference prints it (64 lower-case digits). out[65]. */
void pdq_to_hex(const struct pdq_hash *h, char *out);

/* Returns 0 or -EINVAL (not 64 hex digits). */
int pdq_from_hex(const char *hex, struct pdq_hash *ret);

/* Hamming distance, hardware popcount. */
int pdq_distance(const struct pdq_hash *a, const struct pdq_hash *b);

#endif
