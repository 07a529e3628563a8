/* hwdigest.c - the .hwdb list digest (see hwdigest.h): streaming, per
 * leaf, and one-shot forms, all on libcrypto's SHA-256. */
#include <errno.h>

#include <openssl/evp.h>

#include "hwdigest.h"

static const char hexdig[] = "0123456789abcdef";

/* One leaf digest as its text line. */
static void leaf_line(const uint8_t leaf[HWDIGEST_BYTES], char line[2 * HWDIGEST_BYTES + 1])
{
	for (unsigned i = 0; i < HWDIGEST_BYTES; i++) {
		line[2 * i] = hexdig[leaf[i] >> 4];
		line[2 * i + 1] = hexdig[leaf[i] & 15];
	}
	line[2 * HWDIGEST_BYTES] = '\n';
}

static int root_begin(EVP_MD_CTX *root)
{
	if (EVP_DigestInit_ex(root, EVP_sha256(), NULL) != 1 ||
	    EVP_DigestUpdate(root, HWDIGEST_PREFIX, sizeof(HWDIGEST_PREFIX) - 1) != 1)
		return -EIO;
	return 0;
}

static int root_add(EVP_MD_CTX *root, const uint8_t leaf[HWDIGEST_BYTES])
{
	char line[2 * HWDIGEST_BYTES + 1];

	leaf_line(leaf, line);
	return EVP_DigestUpdate(root, line, sizeof(line)) == 1 ? 0 : -EIO;
}

static int ctx_final(EVP_MD_CTX *c, uint8_t out[HWDIGEST_BYTES])
{
	unsigned int len = 0;

	if (EVP_DigestFinal_ex(c, out, &len) != 1 || len != HWDIGEST_BYTES)
		return -EIO;
	return 0;
}

int hwdigest_init(struct hwdigest *d)
{
	d->fill = 0;
	d->err = 0;
	d->leaf = EVP_MD_CTX_new();
	d->root = EVP_MD_CTX_new();
	if (!d->leaf || !d->root) {
		hwdigest_free(d);
		return -ENOMEM;
	}
	if (root_begin(d->root) < 0 || EVP_DigestInit_ex(d->leaf, EVP_sha256(), NULL) != 1) {
		hwdigest_free(d);
		return -EIO;
	}
	return 0;
}

void hwdigest_update(struct hwdigest *d, const void *p, size_t n)
{
	const uint8_t *s = p;

	while (n > 0 && !d->err) {
		size_t k = HWDIGEST_LEAF - d->fill;
		uint8_t leaf[HWDIGEST_BYTES];

		if (k > n)
			k = n;
		if (EVP_DigestUpdate(d->leaf, s, k) != 1)
			d->err = -EIO;
		d->fill += k;
		s += k;
		n -= k;
		if (d->fill == HWDIGEST_LEAF && n > 0 && !d->err) {
			/* A leaf is closed only when more bytes follow, so that
			 * content of an exact multiple of the leaf size does not
			 * end in an empty leaf. */
			if (ctx_final(d->leaf, leaf) < 0 || root_add(d->root, leaf) < 0 ||
			    EVP_DigestInit_ex(d->leaf, EVP_sha256(), NULL) != 1)
				d->err = -EIO;
			d->fill = 0;
		}
	}
}

int hwdigest_final(struct hwdigest *d, uint8_t out[HWDIGEST_BYTES])
{
	uint8_t leaf[HWDIGEST_BYTES];
	int r = d->leaf && d->root ? d->err : -EIO;

	if (r == 0 && (ctx_final(d->leaf, leaf) < 0 || root_add(d->root, leaf) < 0 ||
		       ctx_final(d->root, out) < 0))
		r = -EIO;
	hwdigest_free(d);
	return r;
}

void hwdigest_free(struct hwdigest *d)
{
	EVP_MD_CTX_free(d->leaf);
	EVP_MD_CTX_free(d->root);
	d->leaf = d->root = NULL;
}

int hwdigest_leaf(const uint8_t *p, size_t n, uint8_t out[HWDIGEST_BYTES])
{
	unsigned int len = 0;

	if (EVP_Digest(p, n, out, &len, EVP_sha256(), NULL) != 1 || len != HWDIGEST_BYTES)
		return -EIO;
	return 0;
}

int hwdigest_root(const uint8_t (*leaves)[HWDIGEST_BYTES], size_t nleaves,
		  uint8_t out[HWDIGEST_BYTES])
{
	EVP_MD_CTX *root = EVP_MD_CTX_new();
	int r = root ? root_begin(root) : -ENOMEM;

	for (size_t i = 0; r == 0 && i < nleaves; i++)
		r = root_add(root, leaves[i]);
	if (r == 0)
		r = ctx_final(root, out);
	EVP_MD_CTX_free(root);
	return r;
}

size_t hwdigest_nleaves(uint64_t n)
{
	return n == 0 ? 1 : (size_t)((n + HWDIGEST_LEAF - 1) / HWDIGEST_LEAF);
}

int hwdigest_buf(const uint8_t *p, size_t n, uint8_t out[HWDIGEST_BYTES])
{
	struct hwdigest d;
	int r = hwdigest_init(&d);

	if (r < 0)
		return r;
	hwdigest_update(&d, p, n);
	return hwdigest_final(&d, out);
}
