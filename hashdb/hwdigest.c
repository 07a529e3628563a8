/* hwdigest.c - the .hwdb list digest (see hwdigest.h): streaming, per
 * leaf, and one-shot forms, all built on libsodium's BLAKE2b. */
#include "hwdigest.h"

static void root_begin(crypto_generichash_state *root)
{
	crypto_generichash_init(root, NULL, 0, HWDIGEST_BYTES);
	crypto_generichash_update(root, (const unsigned char *)HWDIGEST_PREFIX,
				  sizeof(HWDIGEST_PREFIX) - 1);
}

/* Append one leaf digest as its text line. */
static void root_add(crypto_generichash_state *root, const uint8_t leaf[HWDIGEST_BYTES])
{
	char line[2 * HWDIGEST_BYTES + 1];

	sodium_bin2hex(line, sizeof(line), leaf, HWDIGEST_BYTES);
	line[2 * HWDIGEST_BYTES] = '\n';
	crypto_generichash_update(root, (const unsigned char *)line, sizeof(line));
}

void hwdigest_init(struct hwdigest *d)
{
	root_begin(&d->root);
	crypto_generichash_init(&d->leaf, NULL, 0, HWDIGEST_BYTES);
	d->fill = 0;
}

void hwdigest_update(struct hwdigest *d, const void *p, size_t n)
{
	const uint8_t *s = p;

	while (n > 0) {
		size_t k = HWDIGEST_LEAF - d->fill;
		uint8_t leaf[HWDIGEST_BYTES];

		if (k > n)
			k = n;
		crypto_generichash_update(&d->leaf, s, k);
		d->fill += k;
		s += k;
		n -= k;
		if (d->fill == HWDIGEST_LEAF && n > 0) {
			/* A leaf is closed only when more bytes follow, so that
			 * content of an exact multiple of the leaf size does not
			 * end in an empty leaf. */
			crypto_generichash_final(&d->leaf, leaf, HWDIGEST_BYTES);
			root_add(&d->root, leaf);
			crypto_generichash_init(&d->leaf, NULL, 0, HWDIGEST_BYTES);
			d->fill = 0;
		}
	}
}

void hwdigest_final(struct hwdigest *d, uint8_t out[HWDIGEST_BYTES])
{
	uint8_t leaf[HWDIGEST_BYTES];

	crypto_generichash_final(&d->leaf, leaf, HWDIGEST_BYTES);
	root_add(&d->root, leaf);
	crypto_generichash_final(&d->root, out, HWDIGEST_BYTES);
}

void hwdigest_leaf(const uint8_t *p, size_t n, uint8_t out[HWDIGEST_BYTES])
{
	crypto_generichash(out, HWDIGEST_BYTES, p, n, NULL, 0);
}

void hwdigest_root(const uint8_t (*leaves)[HWDIGEST_BYTES], size_t nleaves,
		   uint8_t out[HWDIGEST_BYTES])
{
	crypto_generichash_state root;

	root_begin(&root);
	for (size_t i = 0; i < nleaves; i++)
		root_add(&root, leaves[i]);
	crypto_generichash_final(&root, out, HWDIGEST_BYTES);
}

size_t hwdigest_nleaves(uint64_t n)
{
	return n == 0 ? 1 : (size_t)((n + HWDIGEST_LEAF - 1) / HWDIGEST_LEAF);
}

void hwdigest_buf(const uint8_t *p, size_t n, uint8_t out[HWDIGEST_BYTES])
{
	struct hwdigest d;

	hwdigest_init(&d);
	hwdigest_update(&d, p, n);
	hwdigest_final(&d, out);
}
