/* hwkey.h - the Ed25519 key files that sign hash lists.
 *
 * Text files, so that a person can see what they hold and paste a public
 * key into an e-mail or a configuration review:
 *
 *   KEYFILE      (mode 0600, kept offline by whoever signs lists)
 *     # hashwatch list-signing SECRET key (Ed25519) ...
 *     ed25519-secret <base64 of the 32-byte seed>
 *   KEYFILE.pub  (copied to laptops: /etc/hashwatch/keys/)
 *     # hashwatch list-signing public key (Ed25519) ...
 *     ed25519-public <base64 of the 32-byte public key>
 *
 * Lines starting with '#' and blank lines are comments; exactly one key
 * line is allowed.  Base64 is the standard alphabet with padding; the
 * public key's base64 is also how `hashwatch db info` names signers.
 */
#ifndef HW_HWKEY_H
#define HW_HWKEY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define HWKEY_TEXT_LEN 45 /* base64 of 32 bytes + NUL */

/* Create a new key pair: the secret key at path (0600) and the public key
 * at path.pub (0644), each written atomically.  Refuses to replace either
 * file (-EEXIST) unless force.  Returns 0 and the public key, or -errno
 * with a reason in err. */
int hwkey_generate(const char *path, bool force, uint8_t ret_pk[32],
		   char *err, size_t errlen);

/* Read a public key file.  Returns 0, -EBADMSG (not a public key file; a
 * secret key file is named as such), or -errno; reason in err. */
int hwkey_read_public(const char *path, uint8_t ret_pk[32], char *err,
		      size_t errlen);

/* Trusted keys as configured: path is a public key file, or a folder whose
 * "*.pub" files are read in name order (/etc/hashwatch/keys/).  Keys are
 * appended to keys[*n..cap) and *n advanced.  Returns 0, -ENOENT (a folder
 * without any .pub file), -E2BIG (more than cap keys), or a reading error;
 * reason in err.  On error *n is unchanged. */
int hwkey_read_trusted(const char *path, uint8_t (*keys)[32], size_t cap,
		       size_t *n, char *err, size_t errlen);

/* Read a secret key file into libsodium's 64-byte form (seed || public).
 * Refuses a file that group or others can read (-EACCES), as ssh does.
 * The caller should sodium_memzero() the key after use. */
int hwkey_read_secret(const char *path, uint8_t ret_sk[64], char *err,
		      size_t errlen);

/* Base64 of a public key, as in the .pub file. */
void hwkey_to_text(const uint8_t pk[32], char out[HWKEY_TEXT_LEN]);

#endif
