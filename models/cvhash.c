/* cvhash.c - placeholder until the OpenCV module loader lands. */
#include <errno.h>
#include <stdio.h>

#include "cvhash.h"

int cvhash_load(char *err, size_t errlen)
{
	if (err)
		snprintf(err, errlen, "OpenCV models are not built yet");
	return -ENOPKG;
}

int cvhash_compute(enum hw_model_id id, const struct hw_image *img,
		   uint8_t *out, size_t cap, size_t *ret_len)
{
	(void)id;
	(void)img;
	(void)out;
	(void)cap;
	(void)ret_len;
	return -ENOPKG;
}

double cvhash_compare(enum hw_model_id id, const uint8_t *a, const uint8_t *b,
		      size_t len)
{
	(void)id;
	(void)a;
	(void)b;
	(void)len;
	return -1;
}
