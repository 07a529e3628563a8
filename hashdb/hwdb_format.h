/* hwdb_format.h - the .hwdb layout, shared by the builder (hwdb_build.c)
 * and the reader (hwdb.c); internal to hashdb/.  docs/hwdb-format.md
 * describes the same layout for people: keep the two in step.
 *
 *   header (128 bytes) | model table | section table | sections ... |
 *   signature block (digest of everything before it + signatures)
 *
 * The digest is hwdigest.h's tree of SHA-256 leaves.
 *
 * Little-endian throughout; every section starts on a multiple of 8.
 */
#ifndef HW_HWDB_FORMAT_H
#define HW_HWDB_FORMAT_H

#include <endian.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <sys/types.h>

#include "hwdb.h"
#include "model.h"

#if __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
/* The hash, entry-index and MIH arrays are used in place from the mapping. */
#error "the .hwdb format is little-endian; this host is not"
#endif

#define MAGIC "HWDB\r\n\x1a\n" /* the PNG trick: text-mode mangling shows */
#define SIG_MAGIC "HWDBSIG1"
#define FORMAT_VERSION 2u /* 2: the digest is a tree (hwdigest.h) */
#define HEADER_SIZE 128u
#define MODEL_REC 48u
#define SECTION_REC 24u
#define SIGBLOCK_HEAD 48u
#define SIG_REC 96u
#define NO_MODEL UINT32_MAX
#define SIGN_CONTEXT "hashwatch-hwdb-v1"
#define SIGN_MSG_LEN (sizeof(SIGN_CONTEXT) - 1 + HWDB_DIGEST_BYTES)

enum section_type {
	SEC_STRINGS = 1, /* NUL-terminated strings; offset 0 is "" */
	SEC_LABELS,      /* nlabels x {u32 category, u32 source} string offsets */
	SEC_ENTRIES,     /* nentries x {u32 id string offset, u32 label} */
	SEC_HASHES,      /* count x model bytes (sorted for exact digests) */
	SEC_ENTRY_INDEX, /* count x u32: entry of each hash */
	SEC_MIH,         /* mih_build() blob over the hashes */
	SEC__MAX
};

/* How a model's hashes are searched. */
enum search_kind {
	SEARCH_MIH,     /* Hamming, 64 or 256 bits: multi-index hashing */
	SEARCH_EXACT,   /* digests: binary search in a sorted array */
	SEARCH_HAMMING, /* Hamming of another width: linear popcount scan */
	SEARCH_METRIC,  /* OpenCV's own compare(): linear scan */
};

static inline uint32_t get32(const uint8_t *p)
{
	uint32_t v;
	memcpy(&v, p, 4);
	return le32toh(v);
}

static inline uint64_t get64(const uint8_t *p)
{
	uint64_t v;
	memcpy(&v, p, 8);
	return le64toh(v);
}

static inline void put32(uint8_t *p, uint32_t v)
{
	v = htole32(v);
	memcpy(p, &v, 4);
}

static inline void put64(uint8_t *p, uint64_t v)
{
	v = htole64(v);
	memcpy(p, &v, 8);
}

static inline uint64_t align8(uint64_t v)
{
	return (v + 7) & ~(uint64_t)7;
}

/* What a signature signs: the context string, then the digest. */
static inline void sign_message(const uint8_t digest[HWDB_DIGEST_BYTES],
				uint8_t msg[SIGN_MSG_LEN])
{
	memcpy(msg, SIGN_CONTEXT, sizeof(SIGN_CONTEXT) - 1);
	memcpy(msg + sizeof(SIGN_CONTEXT) - 1, digest, HWDB_DIGEST_BYTES);
}

static inline enum search_kind search_kind(const struct hw_model_info *m)
{
	if (m->metric == HW_METRIC_EXACT)
		return SEARCH_EXACT;
	if (m->metric == HW_METRIC_HAMMING)
		return m->bytes == 8 || m->bytes == 32 ? SEARCH_MIH : SEARCH_HAMMING;
	return SEARCH_METRIC;
}

/* A list id is also a file name (the accepted-version record): only
 * [A-Za-z0-9._-], 1..63 bytes, not starting with '.'. */
bool hwdb_list_id_ok(const char *id);

/* A threshold a list may carry for model m. */
bool hwdb_threshold_ok(const struct hw_model_info *m, double t);

/* The list file being written: a temp file next to the target, renamed
 * over it only when complete (build and sign both write through it). */
struct hwdb_out;

/* Create the temp file.  NULL on failure, with *ret and a reason in err. */
struct hwdb_out *hwdb_out_new(const char *path, mode_t mode, int *ret,
			      char *err, size_t errlen);
/* Feed what follows to the list digest (hwdigest.h), or stop; a failure
 * of the digest is reported by hwdb_out_finish. */
void hwdb_out_hash_begin(struct hwdb_out *o);
void hwdb_out_hash_end(struct hwdb_out *o, uint8_t digest[HWDB_DIGEST_BYTES]);
/* Buffered write; an error is remembered and reported by finish. */
void hwdb_out_write(struct hwdb_out *o, const void *p, size_t n);
/* Flush, fsync, rename over path, fsync the folder; frees o.  Returns 0 or
 * -errno with err set (the temp file is then removed). */
int hwdb_out_finish(struct hwdb_out *o, const char *path, char *err,
		    size_t errlen);
/* Give up: remove the temp file, free o.  Accepts NULL. */
void hwdb_out_free(struct hwdb_out *o);

#endif
