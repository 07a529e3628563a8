/* cvhash.h - the OpenCV img_hash models, from an optional shared object.
 *
 * Debian's OpenCV contrib pulls Qt5, Tesseract, HDF5 and VTK, so the core
 * programs never link it.  The C++ shim (models/opencv/cvshim.cpp) is built
 * as hashwatch-opencv.so with a C ABI; this file dlopen()s it the first time
 * an OpenCV model is asked for.  Search order: $HASHWATCH_OPENCV_MODULE,
 * then HW_PKGLIBDIR/hashwatch-opencv.so (set at build time).
 */
#ifndef HW_CVHASH_H
#define HW_CVHASH_H

#include <stddef.h>
#include <stdint.h>

#include "image.h"
#include "model.h"

/* Version of the C ABI between this loader and the module. */
#define CVHASH_ABI_VERSION 1

/* Load the module if not loaded yet.  Returns 0, or -ENOPKG with a message
 * in err (what was tried and how to install it). */
int cvhash_load(char *err, size_t errlen);

/* Compute model `id` (one of HW_MODEL_CV_*) of img into out[0..cap).
 * Returns 0 and sets *ret_len, -ENOPKG (no module), -EINVAL, -ENOBUFS or
 * -EIO (OpenCV threw). */
int cvhash_compute(enum hw_model_id id, const struct hw_image *img,
		   uint8_t *out, size_t cap, size_t *ret_len);

/* The model's own compare(): Hamming for the bit hashes, the module's
 * metric for radial variance (PCC) and colour moment (L2).  Negative on
 * error. */
double cvhash_compare(enum hw_model_id id, const uint8_t *a, const uint8_t *b,
		      size_t len);

/* The symbols the module exports (C linkage), for the shim's author. */
typedef int (*cvhash_abi_version_fn)(void);
/* model: HW_MODEL_CV_* value.  rgb: width*height*channels, stride bytes per
 * row, channels 1 or 3 (RGB order).  Returns bytes written or negative. */
typedef int (*cvhash_compute_fn)(int model, const uint8_t *pixels,
				 uint32_t width, uint32_t height,
				 uint32_t channels, size_t stride, uint8_t *out,
				 size_t cap);
typedef double (*cvhash_compare_fn)(int model, const uint8_t *a,
				    const uint8_t *b, size_t len);

#endif
