/* imagehash.c - placeholder until the ImageHash models land. */
#include <errno.h>

#include "imagehash.h"

int imagehash_phash(const struct hw_image *img, uint64_t *ret)
{
	(void)img;
	(void)ret;
	return -ENOSYS;
}

int imagehash_dhash(const struct hw_image *img, uint64_t *ret)
{
	(void)img;
	(void)ret;
	return -ENOSYS;
}

int imagehash_ahash(const struct hw_image *img, uint64_t *ret)
{
	(void)img;
	(void)ret;
	return -ENOSYS;
}
