/* devkey.h - the device's Ed25519 signing key, with which every alert is
 * signed so that a receiver accepts alerts only from enrolled devices.
 *
 * <state>/device.key (0600): the line "hashwatch-device-key-1" and the
 * base64 of libsodium's 64-byte secret key.  Created on first start.
 * <state>/device.pub (0644): one line "ed25519 <base64 public key>
 * <device id>", which `hashwatch-receiver enroll` reads; rewritten when
 * the device id changes.  docs/alert-format.md describes both.
 */
#ifndef HW_SCANNER_DEVKEY_H
#define HW_SCANNER_DEVKEY_H

#include <stddef.h>
#include <stdint.h>

#include <sodium.h>

struct devkey {
	uint8_t sk[crypto_sign_SECRETKEYBYTES];
	uint8_t pk[crypto_sign_PUBLICKEYBYTES];
	char pk_b64[64];
};

/* Load the key from state_dir, or create it (and device.pub) if there is
 * none.  *ret_created says which.  Returns 0, or -errno / -EBADMSG (a
 * key file exists but is damaged: never replaced silently, since enrolled
 * receivers know the old public key) with a one-line message in err. */
int devkey_load_or_create(const char *state_dir, const char *device_id,
			  struct devkey *ret, int *ret_created, char *err, size_t errlen);

/* Detached signature over msg[0..len). */
void devkey_sign(const struct devkey *k, const void *msg, size_t len,
		 uint8_t sig[crypto_sign_BYTES]);

/* Wipe the secret key. */
void devkey_wipe(struct devkey *k);

#endif
