/* digest.c - MD5, SHA-1 and SHA-256 of a buffer in one pass (libcrypto). */
#include <errno.h>
#include <string.h>

#include <openssl/evp.h>

#include "digest.h"

/* Feed the buffer in chunks to every requested context, so that the bytes
 * are read from memory once per chunk while they are in cache. */
#define DIGEST_CHUNK (64 * 1024)

int digest_compute(const void *buf, size_t len, unsigned which,
		   struct digest_set *ret)
{
	static const struct {
		unsigned bit;
		size_t off;
		const EVP_MD *(*md)(void);
	} algs[] = {
		{ DIGEST_MD5, offsetof(struct digest_set, md5), EVP_md5 },
		{ DIGEST_SHA1, offsetof(struct digest_set, sha1), EVP_sha1 },
		{ DIGEST_SHA256, offsetof(struct digest_set, sha256), EVP_sha256 },
	};
	enum { NALG = sizeof(algs) / sizeof(algs[0]) };
	EVP_MD_CTX *ctx[NALG] = { NULL };
	struct digest_set out;
	int r = -EIO;

	memset(&out, 0, sizeof(out));
	for (size_t i = 0; i < NALG; i++) {
		if (!(which & algs[i].bit))
			continue;
		ctx[i] = EVP_MD_CTX_new();
		if (!ctx[i]) {
			r = -ENOMEM;
			goto out;
		}
		if (EVP_DigestInit_ex(ctx[i], algs[i].md(), NULL) != 1)
			goto out;
	}
	const unsigned char *p = buf;
	for (size_t done = 0; done < len;) {
		size_t n = len - done < DIGEST_CHUNK ? len - done : DIGEST_CHUNK;
		for (size_t i = 0; i < NALG; i++)
			if (ctx[i] && EVP_DigestUpdate(ctx[i], p + done, n) != 1)
				goto out;
		done += n;
	}
	for (size_t i = 0; i < NALG; i++) {
		if (!ctx[i])
			continue;
		if (EVP_DigestFinal_ex(ctx[i], (unsigned char *)&out + algs[i].off,
				       NULL) != 1)
			goto out;
		out.which |= algs[i].bit;
	}
	*ret = out;
	r = 0;
out:
	for (size_t i = 0; i < NALG; i++)
		EVP_MD_CTX_free(ctx[i]);
	return r;
}
