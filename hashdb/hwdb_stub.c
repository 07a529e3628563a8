/* hwdb_stub.c - TEMPORARY, owned by the daemon branch: lets hashwatchd
 * link until the real hashdb/hwdb.c lands on main; delete it then.  Every
 * call fails with -ENOSYS so that nothing can mistake it for a list. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "hwdb.h"

#define STUB_MSG "the hash list module (hashdb/hwdb.c) is not built yet"

static void stub_err(char *err, size_t errlen)
{
	if (err && errlen)
		snprintf(err, errlen, STUB_MSG);
}

int hwdb_build(const struct hwdb_build_spec *spec, const char *path, char *err, size_t errlen)
{
	(void)spec;
	(void)path;
	stub_err(err, errlen);
	return -ENOSYS;
}

int hwdb_open(const char *path, const struct hwdb_trust *trust, struct hwdb **ret,
	      char *err, size_t errlen)
{
	(void)path;
	(void)trust;
	(void)ret;
	stub_err(err, errlen);
	return -ENOSYS;
}

void hwdb_close(struct hwdb *db)
{
	(void)db;
}

int hwdb_accept_version(const struct hwdb *db, const struct hwdb_trust *trust)
{
	(void)db;
	(void)trust;
	return -ENOSYS;
}

const char *hwdb_list_id(const struct hwdb *db)
{
	(void)db;
	return "";
}

uint64_t hwdb_version(const struct hwdb *db)
{
	(void)db;
	return 0;
}

uint64_t hwdb_created(const struct hwdb *db)
{
	(void)db;
	return 0;
}

size_t hwdb_entry_count(const struct hwdb *db)
{
	(void)db;
	return 0;
}

size_t hwdb_model_count(const struct hwdb *db, enum hw_model_id model)
{
	(void)db;
	(void)model;
	return 0;
}

double hwdb_threshold(const struct hwdb *db, enum hw_model_id model)
{
	(void)db;
	(void)model;
	return -1;
}

void hwdb_digest(const struct hwdb *db, uint8_t out[HWDB_DIGEST_BYTES])
{
	(void)db;
	memset(out, 0, HWDB_DIGEST_BYTES);
}

size_t hwdb_signers(const struct hwdb *db, uint8_t (*out)[32], bool *trusted, size_t cap)
{
	(void)db;
	(void)out;
	(void)trusted;
	(void)cap;
	return 0;
}

int hwdb_entry_get(const struct hwdb *db, uint32_t entry, struct hwdb_entry *ret)
{
	(void)db;
	(void)entry;
	(void)ret;
	return -ENOSYS;
}

int hwdb_sign(const char *path, const uint8_t sk[64], char *err, size_t errlen)
{
	(void)path;
	(void)sk;
	stub_err(err, errlen);
	return -ENOSYS;
}

int hwdb_match(const struct hwdb *db, const struct hasher_result *res,
	       const double max_dist[HW_MODEL__MAX], int min_pdq_quality,
	       struct hwdb_match *out, size_t cap)
{
	(void)db;
	(void)res;
	(void)max_dist;
	(void)min_pdq_quality;
	(void)out;
	(void)cap;
	return -ENOSYS;
}

int hwdb_lookup(const struct hwdb *db, const struct hw_hash *h, double max_dist,
		struct hwdb_match *out, size_t cap)
{
	(void)db;
	(void)h;
	(void)max_dist;
	(void)out;
	(void)cap;
	return -ENOSYS;
}
