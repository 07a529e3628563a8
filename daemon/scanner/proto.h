/* proto.h - the messages between hashwatchd and its worker processes.
 *
 * One request, one reply, both fixed-size structs of fixed-width fields on
 * a SOCK_SEQPACKET socketpair (so a message arrives whole or not at all).
 * The request carries the file as an already-open descriptor (SCM_RIGHTS);
 * the worker never opens anything.  The reply carries only hashes, quality,
 * the decoder's header facts and an error code with a short reason; no
 * pixels.  Under PROTO_F_TRIM it also carries the hashes of up to two
 * regions inside the image's uniform borders with their boxes (hasher.h,
 * `inner` and `inner_outer`).  The daemon treats the worker as hostile: proto_check_result()
 * checks magic, type, length, sequence number, and that every hash is one
 * it asked for with the registry's length, and that an inner region is one
 * it asked for, of a model hashed inside borders, in its slot, with a
 * non-empty box inside the image that is smaller than the image; any
 * mismatch means the worker is killed, never that its bytes are used.
 */
#ifndef HW_SCANNER_PROTO_H
#define HW_SCANNER_PROTO_H

#include <stddef.h>
#include <stdint.h>

#include "hasher.h"
#include "model.h"
#include "pdq.h"

/* "HWW2": the reply with inner regions.  The version is in the magic so
 * that a reply of another layout is refused by its magic as well as by its
 * length. */
#define PROTO_MAGIC 0x32575748u
#define PROTO_WORKER_FD 3       /* where a worker finds its socket */
#define PROTO_REASON_MAX 160

enum proto_type {
	PROTO_HASH = 1,   /* daemon -> worker, with one fd */
	PROTO_RESULT = 2, /* worker -> daemon */
};

#define PROTO_F_DIHEDRAL 0x1u   /* also the 8 PDQ dihedral variants */
#define PROTO_F_BACKGROUND 0x2u /* crawl item: idle I/O class */
#define PROTO_F_TRIM 0x4u       /* also hash inside uniform borders */
#define PROTO_F_ALL (PROTO_F_DIHEDRAL | PROTO_F_BACKGROUND | PROTO_F_TRIM)
#define PROTO_NINNER 2          /* inner[0]: HASHER_INNER,
				   inner[1]: HASHER_INNER_OUTER */

struct proto_request {
	uint32_t magic;
	uint32_t type;
	uint64_t seq;
	uint32_t models;     /* (1u << hw_model_id) to compute */
	uint32_t flags;      /* PROTO_F_* */
	uint64_t max_bytes;  /* read at most this much of the fd */
	uint64_t max_pixels; /* refuse larger images from the header */
};

struct proto_hash {
	uint16_t model;
	uint16_t len;
	int16_t quality;
	uint16_t pad;
	uint8_t bytes[HW_HASH_MAX];
};

/* One region inside the borders.  An empty slot is all zero. */
struct proto_region {
	uint8_t region;       /* enum hasher_region of the slot; 0 if empty */
	uint8_t have_dihedral;
	uint8_t pad[2];
	uint32_t models;      /* which hash[] slots are filled; 0 if empty */
	int32_t pdq_quality;
	uint32_t x, y, w, h;  /* the box in the file's pixels */
	uint8_t dihedral[PDQ_NDIHEDRAL][PDQ_BYTES];
	struct proto_hash hash[HW_MODEL__MAX];
};

struct proto_result {
	uint32_t magic;
	uint32_t type;
	uint64_t seq;
	int32_t error;        /* 0 or a negative errno from read/decode/model */
	uint32_t models;      /* which hash[] slots are filled */
	uint8_t have_dihedral;
	uint8_t pad[3];
	int32_t pdq_quality;
	uint8_t dihedral[PDQ_NDIHEDRAL][PDQ_BYTES];
	char format[8];       /* decoder's format name, NUL-padded */
	uint32_t src_width;
	uint32_t src_height;
	uint32_t shrink;
	uint32_t pad2;
	uint64_t bytes_read;
	uint64_t cpu_usec;    /* worker's total CPU time so far (budget) */
	struct proto_hash hash[HW_MODEL__MAX];
	struct proto_region inner[PROTO_NINNER]; /* PROTO_F_TRIM, no error */
	char reason[PROTO_REASON_MAX]; /* NUL-terminated when error != 0 */
};

/* Fill a request.  All bytes are written (no uninitialised padding). */
void proto_request_init(struct proto_request *m, uint64_t seq, uint32_t models,
			uint32_t flags, uint64_t max_bytes, uint64_t max_pixels);

/* Worker side: 0 if a request is well-formed, else -EPROTO. */
int proto_check_request(const struct proto_request *m, size_t len);

/* Worker side: fill a reply from hasher_run()'s output. */
void proto_result_from(struct proto_result *m, uint64_t seq, int error,
		       const struct hasher_result *res, const char *reason,
		       uint64_t bytes_read, uint64_t cpu_usec);

/* Daemon side: check a reply of len bytes against what was asked.  Returns
 * 0, or -EPROTO with a one-line description in why. */
int proto_check_result(const struct proto_result *m, size_t len, uint64_t seq,
		       uint32_t models, uint32_t flags, char *why, size_t whylen);

/* Daemon side, after proto_check_result() == 0: the hashes as the
 * matcher takes them (the inner regions into ret->inner and
 * ret->inner_outer; their decoded_box is left zero, the daemon never sees
 * decoded pixels). */
void proto_result_to(const struct proto_result *m, struct hasher_result *ret);

#endif
