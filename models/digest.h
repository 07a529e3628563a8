/* digest.h - exact digests (MD5, SHA-1, SHA-256) of a file's bytes,
 * through OpenSSL libcrypto's EVP interface, computed in one pass.
 */
#ifndef HW_DIGEST_H
#define HW_DIGEST_H

#include <stddef.h>
#include <stdint.h>

#define DIGEST_MD5 (1u << 0)
#define DIGEST_SHA1 (1u << 1)
#define DIGEST_SHA256 (1u << 2)

struct digest_set {
	unsigned which; /* DIGEST_* bits that were computed */
	uint8_t md5[16];
	uint8_t sha1[20];
	uint8_t sha256[32];
};

/* Compute the digests named in `which` over buf[0..len).  Returns 0 or
 * -ENOMEM / -EIO (libcrypto failure).  *ret written only on success. */
int digest_compute(const void *buf, size_t len, unsigned which,
		   struct digest_set *ret);

#endif
