/* hwkey.c - reading and writing the list-signing key files (hwkey.h). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "fileio.h"
#include "hwkey.h"

#define KEYFILE_MAX 4096
#define TAG_PUBLIC "ed25519-public"
#define TAG_SECRET "ed25519-secret"

void hwkey_to_text(const uint8_t pk[32], char out[HWKEY_TEXT_LEN])
{
	sodium_bin2base64(out, HWKEY_TEXT_LEN, pk, 32, sodium_base64_VARIANT_ORIGINAL);
}

int hwkey_generate(const char *path, bool force, uint8_t ret_pk[32], char *err,
		   size_t errlen)
{
	uint8_t pk[32], sk[64];
	char pubpath[PATH_MAX], text[512], b64[HWKEY_TEXT_LEN], seed64[HWKEY_TEXT_LEN];
	int n, r;

	if (sodium_init() < 0) {
		snprintf(err, errlen, "libsodium failed to initialise");
		return -EIO;
	}
	if (snprintf(pubpath, sizeof(pubpath), "%s.pub", path) >= (int)sizeof(pubpath)) {
		snprintf(err, errlen, "%s: path too long", path);
		return -ENAMETOOLONG;
	}
	if (!force && (access(path, F_OK) == 0 || access(pubpath, F_OK) == 0)) {
		snprintf(err, errlen,
			 "%s or %s already exists; choose another name (or --force to replace the key)",
			 path, pubpath);
		return -EEXIST;
	}
	crypto_sign_keypair(pk, sk);
	hwkey_to_text(pk, b64);
	sodium_bin2base64(seed64, sizeof(seed64), sk, 32, sodium_base64_VARIANT_ORIGINAL);
	/* Secret first: a public key without its secret would be useless. */
	n = snprintf(text, sizeof(text),
		     "# hashwatch list-signing SECRET key (Ed25519). Keep it offline and\n"
		     "# never copy it to laptops; its public half is %s.pub.\n"
		     "# public key: %s\n" TAG_SECRET " %s\n",
		     path, b64, seed64);
	r = hw_write_atomic(path, text, (size_t)n, 0600);
	sodium_memzero(text, sizeof(text));
	sodium_memzero(seed64, sizeof(seed64));
	sodium_memzero(sk, sizeof(sk));
	if (r < 0) {
		snprintf(err, errlen, "cannot write %s: %s", path, strerror(-r));
		return r;
	}
	n = snprintf(text, sizeof(text),
		     "# hashwatch list-signing public key (Ed25519). Laptops trust lists\n"
		     "# signed with it when this file is in /etc/hashwatch/keys/.\n"
		     TAG_PUBLIC " %s\n",
		     b64);
	r = hw_write_atomic(pubpath, text, (size_t)n, 0644);
	if (r < 0) {
		snprintf(err, errlen, "cannot write %s: %s", pubpath, strerror(-r));
		return r;
	}
	memcpy(ret_pk, pk, 32);
	return 0;
}

/* Find the one key line "TAG BASE64" and decode 32 bytes from it. */
static int parse_key(const char *path, char *buf, const char *tag, uint8_t out[32],
		     char *err, size_t errlen)
{
	char *save = NULL, *line, *found = NULL;
	const char *other = strcmp(tag, TAG_PUBLIC) == 0 ? TAG_SECRET : TAG_PUBLIC;
	size_t taglen = strlen(tag), n;
	const char *end;

	for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		size_t len = strlen(line);
		while (len && (line[len - 1] == '\r' || line[len - 1] == ' ' || line[len - 1] == '\t'))
			line[--len] = '\0';
		if (len == 0 || line[0] == '#')
			continue;
		if (strncmp(line, other, strlen(other)) == 0) {
			snprintf(err, errlen, "%s holds a %s key, not a %s key", path,
				 strcmp(other, TAG_SECRET) == 0 ? "secret" : "public",
				 strcmp(tag, TAG_SECRET) == 0 ? "secret" : "public");
			return -EBADMSG;
		}
		if (found || strncmp(line, tag, taglen) != 0 || line[taglen] != ' ')
			goto bad;
		found = line + taglen + 1;
	}
	if (!found ||
	    sodium_base642bin(out, 32, found, strlen(found), NULL, &n, &end,
			      sodium_base64_VARIANT_ORIGINAL) != 0 ||
	    n != 32 || *end != '\0')
		goto bad;
	return 0;
bad:
	snprintf(err, errlen, "%s is not a hashwatch %s key file (expected one line '%s BASE64')",
		 path, strcmp(tag, TAG_SECRET) == 0 ? "secret" : "public", tag);
	return -EBADMSG;
}

int hwkey_read_public(const char *path, uint8_t ret_pk[32], char *err, size_t errlen)
{
	char *buf = NULL;
	size_t len;
	int r = hw_read_file(path, KEYFILE_MAX, (void **)&buf, &len);

	if (r < 0) {
		snprintf(err, errlen, "cannot read public key %s: %s", path,
			 r == -EFBIG ? "too large for a key file" : strerror(-r));
		return r;
	}
	r = parse_key(path, buf, TAG_PUBLIC, ret_pk, err, errlen);
	free(buf);
	return r;
}

static int pub_suffix(const struct dirent *d)
{
	size_t n = strlen(d->d_name);
	return n > 4 && d->d_name[0] != '.' && strcmp(d->d_name + n - 4, ".pub") == 0;
}

int hwkey_read_trusted(const char *path, uint8_t (*keys)[32], size_t cap,
		       size_t *n, char *err, size_t errlen)
{
	struct dirent **names = NULL;
	struct stat st;
	size_t k = *n;
	int count, r = 0;

	if (stat(path, &st) < 0) {
		r = -errno;
		snprintf(err, errlen, "cannot read trusted key %s: %s", path, strerror(-r));
		return r;
	}
	if (!S_ISDIR(st.st_mode)) {
		if (k >= cap) {
			snprintf(err, errlen, "more than %zu trusted keys", cap);
			return -E2BIG;
		}
		r = hwkey_read_public(path, keys[k], err, errlen);
		if (r == 0)
			*n = k + 1;
		return r;
	}
	count = scandir(path, &names, pub_suffix, alphasort);
	if (count < 0) {
		r = -errno;
		snprintf(err, errlen, "cannot list %s: %s", path, strerror(-r));
		return r;
	}
	if (count == 0) {
		snprintf(err, errlen, "%s holds no public key files (*.pub)", path);
		r = -ENOENT;
	}
	for (int i = 0; i < count; i++) {
		char file[PATH_MAX];
		if (r == 0 && k >= cap) {
			snprintf(err, errlen, "more than %zu trusted keys", cap);
			r = -E2BIG;
		}
		if (r == 0 && snprintf(file, sizeof(file), "%s/%s", path, names[i]->d_name) >=
				      (int)sizeof(file)) {
			snprintf(err, errlen, "%s: path too long", path);
			r = -ENAMETOOLONG;
		}
		if (r == 0)
			r = hwkey_read_public(file, keys[k++], err, errlen);
		free(names[i]);
	}
	free(names);
	if (r == 0)
		*n = k;
	return r;
}

int hwkey_read_secret(const char *path, uint8_t ret_sk[64], char *err, size_t errlen)
{
	uint8_t seed[32], pk[32];
	struct stat st;
	char *buf = NULL;
	size_t len = 0;
	int fd, r;

	if (sodium_init() < 0) {
		snprintf(err, errlen, "libsodium failed to initialise");
		return -EIO;
	}
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0 || fstat(fd, &st) < 0) {
		r = -errno;
		snprintf(err, errlen, "cannot read secret key %s: %s", path, strerror(-r));
		goto out;
	}
	r = hw_read_fd(fd, KEYFILE_MAX, (void **)&buf, &len);
	if (r < 0) {
		snprintf(err, errlen, "cannot read secret key %s: %s", path,
			 r == -EFBIG ? "too large for a key file" : strerror(-r));
		goto out;
	}
	/* Parse before the permission check, so that a public key given by
	 * mistake is named as such rather than sent to chmod. */
	r = parse_key(path, buf, TAG_SECRET, seed, err, errlen);
	if (r == 0 && (st.st_mode & 077)) {
		r = -EACCES;
		snprintf(err, errlen,
			 "secret key %s can be read by other users (mode %03o); run 'chmod 600 %s'",
			 path, (unsigned)(st.st_mode & 0777), path);
	}
	if (r == 0)
		crypto_sign_seed_keypair(pk, ret_sk, seed);
out:
	if (buf) {
		sodium_memzero(buf, len);
		free(buf);
	}
	sodium_memzero(seed, sizeof(seed));
	if (fd >= 0)
		close(fd);
	return r;
}
