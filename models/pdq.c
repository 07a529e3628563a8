/* pdq.c - placeholder until the PDQ model lands. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "pdq.h"

int pdq_hash_image(const struct hw_image *img, struct pdq_result *ret)
{
	(void)img;
	(void)ret;
	return -ENOSYS;
}

int pdq_hash_dihedral(const struct hw_image *img, struct pdq_dihedral *ret)
{
	(void)img;
	(void)ret;
	return -ENOSYS;
}

void pdq_to_hex(const struct pdq_hash *h, char *out)
{
	for (int i = 0; i < PDQ_BYTES; i++)
		snprintf(out + 2 * i, 3, "%02x", h->bytes[i]);
}

int pdq_from_hex(const char *hex, struct pdq_hash *ret)
{
	(void)hex;
	(void)ret;
	return -ENOSYS;
}

int pdq_distance(const struct pdq_hash *a, const struct pdq_hash *b)
{
	(void)a;
	(void)b;
	return -ENOSYS;
}
