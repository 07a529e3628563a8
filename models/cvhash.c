/* cvhash.c - loads the optional OpenCV module (hashwatch-opencv.so) on first
 * use and forwards the OpenCV models to it.  The core programs never link
 * OpenCV; without the module every cv_* model fails with -ENOPKG and
 * everything else is unaffected.  See cvhash.h for where it is looked for.
 */
#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#include "cvhash.h"

#define INSTALL_HINT "install the hashwatch-opencv package to use the OpenCV models"

/* Written once, under load_once; read-only afterwards. */
static struct {
	void *handle;
	cvhash_compute_fn compute;
	cvhash_compare_fn compare;
	int status;     /* 0 loaded, -ENOPKG not */
	char msg[768];  /* why not */
} mod;

static pthread_once_t load_once = PTHREAD_ONCE_INIT;

static void *resolve(void *handle, const char *sym, const char *path)
{
	void *p;

	dlerror();
	p = dlsym(handle, sym);
	if (!p)
		snprintf(mod.msg, sizeof(mod.msg),
			 "OpenCV module %s lacks symbol %s (broken or foreign file); "
			 INSTALL_HINT, path, sym);
	return p;
}

static void load_module(void)
{
	const char *env = secure_getenv("HASHWATCH_OPENCV_MODULE");
	const char *path = env && *env ? env : HW_PKGLIBDIR "/" CVHASH_MODULE_NAME;
	cvhash_abi_version_fn version;
	const char *why;
	void *h;

	mod.status = -ENOPKG;
	/* RTLD_LOCAL: OpenCV's symbols stay out of the global namespace;
	 * RTLD_NOW: a module with unresolved symbols fails here, not mid-scan. */
	h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
	if (!h) {
		why = dlerror();
		snprintf(mod.msg, sizeof(mod.msg),
			 "cannot load the OpenCV module %s%s: %s; " INSTALL_HINT
			 "%s",
			 path, env && *env ? " (from $HASHWATCH_OPENCV_MODULE)" : "",
			 why ? why : "unknown error",
			 env && *env ? ", or unset HASHWATCH_OPENCV_MODULE" : "");
		return;
	}
	version = (cvhash_abi_version_fn)resolve(h, CVHASH_SYM_ABI_VERSION, path);
	if (!version)
		goto fail;
	if (version() != CVHASH_ABI_VERSION) {
		snprintf(mod.msg, sizeof(mod.msg),
			 "OpenCV module %s speaks ABI version %d, this program needs %d; "
			 "install the hashwatch-opencv package of the same version as hashwatch",
			 path, version(), CVHASH_ABI_VERSION);
		goto fail;
	}
	mod.compute = (cvhash_compute_fn)resolve(h, CVHASH_SYM_COMPUTE, path);
	mod.compare = (cvhash_compare_fn)resolve(h, CVHASH_SYM_COMPARE, path);
	if (!mod.compute || !mod.compare)
		goto fail;
	/* Kept open for the life of the process: hashes may be computed from
	 * any thread at any time, and OpenCV keeps per-thread state. */
	mod.handle = h;
	mod.status = 0;
	mod.msg[0] = '\0';
	return;
fail:
	mod.compute = NULL;
	mod.compare = NULL;
	dlclose(h);
}

int cvhash_load(char *err, size_t errlen)
{
	pthread_once(&load_once, load_module);
	if (mod.status < 0 && err && errlen)
		snprintf(err, errlen, "%s", mod.msg);
	return mod.status;
}

static bool is_cv_model(enum hw_model_id id)
{
	const struct hw_model_info *m = hw_model_by_id(id);
	return m && m->optional_module;
}

int cvhash_compute(enum hw_model_id id, const struct hw_image *img,
		   uint8_t *out, size_t cap, size_t *ret_len)
{
	int r;

	if (!is_cv_model(id) || !img || !img->pixels || !out || !ret_len)
		return -EINVAL;
	r = cvhash_load(NULL, 0);
	if (r < 0)
		return r;
	r = mod.compute((int)id, img->pixels, img->width, img->height,
			img->channels, img->stride, out, cap);
	if (r < 0)
		return r;
	*ret_len = (size_t)r;
	return 0;
}

double cvhash_compare(enum hw_model_id id, const uint8_t *a, const uint8_t *b,
		      size_t len)
{
	int r;

	if (!is_cv_model(id) || !a || !b)
		return -EINVAL;
	r = cvhash_load(NULL, 0);
	if (r < 0)
		return r;
	return mod.compare((int)id, a, b, len);
}
