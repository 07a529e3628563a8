/* fuzz_hwdb.c - the .hwdb loader on arbitrary bytes.  Laptops map lists
 * that came over the network; before the signature check says who made a
 * list, the loader has already read its header, and a signed list from a
 * buggy builder is still untrusted input to the parser.  So: any bytes
 * must give a clean refusal or a usable list, never a crash or a wild read.
 *
 * The MIH index checksums and then the digest are recomputed over the
 * mutated content first (where the header locates them), so that
 * mutations reach the table, section and index checks rather than all
 * stopping at "altered".  The list is opened without
 * signer checks; whatever opens is then used: every entry read, and a
 * lookup of a few hashes for every model it holds.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <sodium.h>

#include "hwdb.h"
#include "hwdigest.h"
#include "mih.h"

static void use(const struct hwdb *db, const uint8_t *data, size_t size)
{
	struct hwdb_match m[8];
	struct hwdb_entry e;
	struct hw_hash h;

	for (uint32_t i = 0; i < hwdb_entry_count(db) && i < 100000; i++)
		(void)hwdb_entry_get(db, i, &e);
	for (int id = 1; id < HW_MODEL__MAX; id++) {
		const struct hw_model_info *mi = hw_model_by_id((enum hw_model_id)id);
		if (!mi || !(hwdb_model_mask(db) & (1u << id)))
			continue;
		memset(&h, 0, sizeof(h));
		h.model = mi->id;
		h.len = mi->bytes;
		/* all zeros, and the input's first bytes (often a stored hash) */
		(void)hwdb_lookup(db, &h, -1, m, 8);
		memcpy(h.bytes, data, size < mi->bytes ? size : mi->bytes);
		(void)hwdb_lookup(db, &h, -1, m, 8);
		(void)hwdb_lookup(db, &h, 1e9, m, 8);
	}
}

static uint32_t rd32(const uint8_t *p)
{
	uint32_t v;
	memcpy(&v, p, 4);
	return v;
}

static uint64_t rd64(const uint8_t *p)
{
	uint64_t v;
	memcpy(&v, p, 8);
	return v;
}

/* Reseal every MIH section whose model record and hash section the
 * header locates inside the input (layout: docs/hwdb-format.md). */
static void reseal(uint8_t *p, size_t size)
{
	uint32_t nmodels, nsec;
	size_t tab;

	if (size < 128)
		return;
	nmodels = rd32(p + 44);
	nsec = rd32(p + 48);
	tab = 128 + (size_t)nmodels * 48;
	if (nmodels > 16 || nsec > 64 || tab + (size_t)nsec * 24 > size)
		return;
	for (uint32_t i = 0; i < nsec; i++) {
		const uint8_t *s = p + tab + i * 24;
		uint32_t model = rd32(s + 4);
		uint64_t off = rd64(s + 8), len = rd64(s + 16);
		if (rd32(s) != 6 || model >= nmodels || off % 8 || off > size || len > size - off)
			continue;
		for (uint32_t k = 0; k < nsec; k++) {
			const uint8_t *h = p + tab + k * 24;
			uint32_t bytes = rd32(p + 128 + model * 48 + 32);
			uint32_t count = rd32(p + 128 + model * 48 + 36);
			uint64_t hoff = rd64(h + 8), hlen = rd64(h + 16);
			if (rd32(h) == 4 && rd32(h + 4) == model && (bytes == 8 || bytes == 32) &&
			    hoff <= size && hlen <= size - hoff && hlen == (uint64_t)count * bytes)
				mih_reseal(p + off, len, p + hoff, count, bytes * 8);
		}
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *copy = malloc(size + 1);
	char path[64], err[512];
	struct hwdb *db = NULL;
	uint64_t content;
	int fd;

	if (!copy || sodium_init() < 0)
		goto out;
	memcpy(copy, data, size);
	reseal(copy, size);
	if (size >= 40) {
		memcpy(&content, copy + 32, 8);
		if (content <= size && size - content >= 48)
			(void)hwdigest_buf(copy, content, copy + content + 16);
	}
	/* hwdb_open() takes a path: an in-memory file keeps the disk out */
	fd = memfd_create("hwdb", MFD_CLOEXEC);
	if (fd < 0)
		goto out;
	if (write(fd, copy, size) == (ssize_t)size) {
		snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
		if (hwdb_open(path, NULL, &db, err, sizeof(err)) == 0) {
			use(db, data, size);
			hwdb_close(db);
		}
	}
	close(fd);
out:
	free(copy);
	return 0;
}
