/* devkey.c - device key files (see devkey.h). */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "devkey.h"
#include "fileio.h"

#define KEY_HEADER "hashwatch-device-key-1"

static int write_pub(const char *state_dir, const struct devkey *k, const char *device_id)
{
	char path[PATH_MAX], line[256];
	void *old = NULL;
	size_t oldlen = 0;
	int n, r;

	snprintf(path, sizeof(path), "%s/device.pub", state_dir);
	n = snprintf(line, sizeof(line), "ed25519 %s %s\n", k->pk_b64, device_id);
	if (n < 0 || (size_t)n >= sizeof(line))
		return -ENAMETOOLONG;
	if (hw_read_file(path, 4096, &old, &oldlen) == 0 && oldlen == (size_t)n &&
	    memcmp(old, line, oldlen) == 0) {
		free(old);
		return 0; /* unchanged: do not touch the disk */
	}
	free(old);
	r = hw_write_atomic(path, line, (size_t)n, 0644);
	return r;
}

int devkey_load_or_create(const char *state_dir, const char *device_id,
			  struct devkey *ret, int *ret_created, char *err, size_t errlen)
{
	char path[PATH_MAX], b64[sodium_base64_ENCODED_LEN(crypto_sign_SECRETKEYBYTES,
							  sodium_base64_VARIANT_ORIGINAL)];
	char text[sizeof(KEY_HEADER) + sizeof(b64) + 4];
	struct devkey k;
	char *buf = NULL;
	size_t len, binlen;
	struct stat st;
	int created = 0, r;

	if (sodium_init() < 0) {
		snprintf(err, errlen, "libsodium failed to initialise");
		return -EIO;
	}
	snprintf(path, sizeof(path), "%s/device.key", state_dir);
	r = hw_read_file(path, 4096, (void **)&buf, &len);
	if (r == -ENOENT) {
		crypto_sign_keypair(k.pk, k.sk);
		sodium_bin2base64(b64, sizeof(b64), k.sk, sizeof(k.sk),
				  sodium_base64_VARIANT_ORIGINAL);
		int n = snprintf(text, sizeof(text), "%s\n%s\n", KEY_HEADER, b64);
		r = hw_write_atomic(path, text, (size_t)n, 0600);
		sodium_memzero(text, sizeof(text));
		sodium_memzero(b64, sizeof(b64));
		if (r < 0) {
			snprintf(err, errlen, "cannot create the device key %s: %s", path,
				 strerror(-r));
			goto out;
		}
		created = 1;
	} else if (r < 0) {
		snprintf(err, errlen, "cannot read the device key %s: %s", path, strerror(-r));
		goto out;
	} else {
		char *nl = strchr(buf, '\n');
		r = -EBADMSG;
		if (!nl || (size_t)(nl - buf) != strlen(KEY_HEADER) ||
		    memcmp(buf, KEY_HEADER, strlen(KEY_HEADER)) != 0 ||
		    sodium_base642bin(k.sk, sizeof(k.sk), nl + 1, strcspn(nl + 1, "\r\n"), NULL,
				      &binlen, NULL, sodium_base64_VARIANT_ORIGINAL) != 0 ||
		    binlen != sizeof(k.sk)) {
			snprintf(err, errlen, "the device key %s is damaged; it is not replaced "
				 "automatically because receivers know its public key: move it "
				 "away to create a new one and enroll the device again", path);
			goto out;
		}
		crypto_sign_ed25519_sk_to_pk(k.pk, k.sk);
		if (stat(path, &st) == 0 && (st.st_mode & 077)) {
			/* readable by others: tighten, it signs this device's alerts */
			chmod(path, 0600);
		}
	}
	sodium_bin2base64(k.pk_b64, sizeof(k.pk_b64), k.pk, sizeof(k.pk),
			  sodium_base64_VARIANT_ORIGINAL);
	r = write_pub(state_dir, &k, device_id);
	if (r < 0) {
		snprintf(err, errlen, "cannot write %s/device.pub: %s", state_dir, strerror(-r));
		goto out;
	}
	*ret = k;
	*ret_created = created;
	r = 0;
out:
	sodium_memzero(&k, sizeof(k));
	if (buf) {
		sodium_memzero(buf, len);
		free(buf);
	}
	return r;
}

void devkey_sign(const struct devkey *k, const void *msg, size_t len,
		 uint8_t sig[crypto_sign_BYTES])
{
	crypto_sign_detached(sig, NULL, msg, len, k->sk);
}

void devkey_wipe(struct devkey *k)
{
	if (k)
		sodium_memzero(k, sizeof(*k));
}
