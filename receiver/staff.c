/* staff.c - dashboard, login and the staff API: see staff.h. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "staff.h"

struct staff {
	struct server *srv;
};

int staff_new(struct server *srv, struct staff **ret)
{
	struct staff *sf = calloc(1, sizeof(*sf));
	if (!sf)
		return -ENOMEM;
	sf->srv = srv;
	*ret = sf;
	return 0;
}

void staff_free(struct staff *sf)
{
	free(sf);
}

void staff_secret_hash(const char *secret, char ret_hash[65])
{
	unsigned char d[crypto_hash_sha256_BYTES];
	crypto_hash_sha256(d, (const unsigned char *)secret, strlen(secret));
	sodium_bin2hex(ret_hash, 65, d, sizeof(d));
}

void staff_secret(char ret_secret[65], char ret_hash[65])
{
	unsigned char raw[32];
	randombytes_buf(raw, sizeof(raw));
	sodium_bin2hex(ret_secret, 65, raw, sizeof(raw));
	sodium_memzero(raw, sizeof(raw));
	staff_secret_hash(ret_secret, ret_hash);
}

enum MHD_Result staff_handle(struct staff *sf, struct req *rq)
{
	return server_reply_error(rq, 404, "not_found", "no such page");
}
