/* fuzz_proto.c - the daemon's reading of what a worker sends it: a worker
 * decodes hostile files, so the daemon treats it as hostile too.  Any bytes
 * (as a reply to request 1 for the default models with dihedral variants
 * and the regions inside borders, or as a sandbox message) must be refused or turned into hashes the
 * matcher can take, never crash it.  proto.c and sandbox.c are built in
 * here as the receiver's unit test builds intake.c. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../daemon/scanner/proto.c"
#include "../../daemon/scanner/samples.c"
#include "../../daemon/scanner/sandbox.c"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct proto_result *m = calloc(1, sizeof(*m) + 1);
	struct hasher_result *res = malloc(sizeof(*res));
	char why[256] = "";
	int nr = -1;

	if (!m || !res)
		goto out;
	/* a copy the size of what recvmsg would have filled */
	memcpy(m, data, size < sizeof(*m) + 1 ? size : sizeof(*m) + 1);
	if (proto_check_result(m, size, 1, HW_MODELS_DEFAULT,
			       PROTO_F_DIHEDRAL | PROTO_F_TRIM, why, sizeof(why)) == 0) {
		proto_result_to(m, res);
		for (int id = 1; id < HW_MODEL__MAX; id++)
			if (((res->mask & (1u << id)) && res->hash[id].len > HW_HASH_MAX) ||
			    ((res->inner.mask & (1u << id)) && res->inner.hash[id].len > HW_HASH_MAX))
				abort();
		/* a region's box lies inside the image */
		if (res->inner.mask &&
		    ((uint64_t)res->inner.box.x + res->inner.box.w > res->info.src_width ||
		     (uint64_t)res->inner.box.y + res->inner.box.h > res->info.src_height))
			abort();
	} else if (!why[0]) {
		abort();
	}
	switch (sandbox_message_parse(data, size, &nr)) {
	case SANDBOX_MSG_DENIED:
		if (nr < 0 || nr > 4095)
			abort();
		break;
	case SANDBOX_MSG_READY:
	case SANDBOX_MSG_NONE:
		break;
	}
	/* the worker's side: a request */
	(void)proto_check_request((const struct proto_request *)(const void *)m, size);
out:
	free(m);
	free(res);
	return 0;
}
