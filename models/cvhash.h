/* cvhash.h - the OpenCV img_hash models, from an optional shared object.
 *
 * Debian's OpenCV contrib pulls Qt5, Tesseract, HDF5 and VTK, so the core
 * programs never link it.  The C++ shim (models/opencv/cvshim.cpp) is built
 * as hashwatch-opencv.so with a C ABI; this file dlopen()s it the first time
 * an OpenCV model is asked for (or when cvhash_load() is called, which a
 * sandboxed process should do before it locks down open/mmap).  Where it is
 * looked for: $HASHWATCH_OPENCV_MODULE when set and non-empty (and only
 * there: an explicit path that fails must not silently fall back to another,
 * possibly older, installed module), else HW_PKGLIBDIR/hashwatch-opencv.so
 * (set at build time).  The environment variable is ignored in setuid/setgid
 * processes (secure_getenv).  Once loaded the module stays loaded for the
 * life of the process.  All functions are thread-safe.
 */
#ifndef HW_CVHASH_H
#define HW_CVHASH_H

#include <stddef.h>
#include <stdint.h>

#include "image.h"
#include "model.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Version of the C ABI between this loader and the module.  Bump it when a
 * signature or the meaning of a hash's bytes changes. */
#define CVHASH_ABI_VERSION 1

/* File name of the module, in HW_PKGLIBDIR. */
#define CVHASH_MODULE_NAME "hashwatch-opencv.so"

/* Load the module if not loaded yet; the first call decides for the life of
 * the process (a failed load is not retried).  Returns 0, or -ENOPKG with
 * a one-line message in err (may be NULL) that says which file was tried,
 * why it failed and that the hashwatch-opencv package provides it. */
int cvhash_load(char *err, size_t errlen);

/* Compute model `id` (one of HW_MODEL_CV_*) of img into out[0..cap).
 * The image is hashed as cv::imread(path, IMREAD_COLOR) would have handed
 * it to OpenCV (BGR, grey replicated), with OpenCV's default parameters.
 * Returns 0 and sets *ret_len (the registry's size for the model), or
 * -ENOPKG (no module), -EINVAL (not an OpenCV model, bad image), -ENOBUFS
 * (cap too small), -ENOMEM or -EIO (OpenCV failed).  out and *ret_len are
 * written only on success. */
int cvhash_compute(enum hw_model_id id, const struct hw_image *img,
		   uint8_t *out, size_t cap, size_t *ret_len);

/* Distance between two hashes of model `id`, lower = closer, 0 for equal
 * hashes: the model's own compare() -- Hamming bits for the bit hashes,
 * 1 - peak cross-correlation for radial variance, OpenCV's scaled L2
 * (10000 * L2 of the 42 moments) for colour moment.  len must be the
 * model's size.  Returns a negative errno (as a double) on error: -ENOPKG,
 * -EINVAL (wrong model or length), -EIO. */
double cvhash_compare(enum hw_model_id id, const uint8_t *a, const uint8_t *b,
		      size_t len);

/* The module's C ABI.  These are exported by hashwatch-opencv.so only and
 * resolved with dlsym() by cvhash.c; nothing may link against them.
 *
 * hashwatch_cv_abi_version: returns CVHASH_ABI_VERSION as the module was
 * built; the loader refuses a module whose version differs.
 *
 * hashwatch_cv_compute: model is a HW_MODEL_CV_* value; pixels point to
 * height rows of width * channels bytes, stride bytes apart; channels 1
 * (grey) or 3 (RGB order).  Writes the hash to out[0..cap) and returns the
 * number of bytes written, or -EINVAL, -ENOBUFS, -ENOMEM, -EIO.  The bytes
 * are OpenCV's output Mat as is, except colour moment: its 42 doubles are
 * stored little-endian whatever the host.  No C++ exception ever leaves it.
 *
 * hashwatch_cv_compare: as cvhash_compare() above (minus -ENOPKG). */
typedef int (*cvhash_abi_version_fn)(void);
typedef int (*cvhash_compute_fn)(int model, const uint8_t *pixels,
				 uint32_t width, uint32_t height,
				 uint32_t channels, size_t stride, uint8_t *out,
				 size_t cap);
typedef double (*cvhash_compare_fn)(int model, const uint8_t *a,
				    const uint8_t *b, size_t len);

#define CVHASH_SYM_ABI_VERSION "hashwatch_cv_abi_version"
#define CVHASH_SYM_COMPUTE "hashwatch_cv_compute"
#define CVHASH_SYM_COMPARE "hashwatch_cv_compare"

int hashwatch_cv_abi_version(void);
int hashwatch_cv_compute(int model, const uint8_t *pixels, uint32_t width,
			 uint32_t height, uint32_t channels, size_t stride,
			 uint8_t *out, size_t cap);
double hashwatch_cv_compare(int model, const uint8_t *a, const uint8_t *b,
			    size_t len);

#ifdef __cplusplus
}
#endif

#endif
