/* fuzz_hasher.c - the image -> hash path exactly as a worker runs it on a
 * file's bytes: hasher_run() with every built-in model, the 8 PDQ dihedral
 * variants and the fast decode, after decode_init() as the worker calls it.
 * Every loader on the allow-list, the header checks and the models see
 * arbitrary bytes; any input must give hashes or a clean error, never a
 * crash, a leak or a read out of bounds.  The pixel limit is lower than
 * the daemon's default so that the fuzzer spends its time on parsing, not
 * on decoding large legitimate images. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "decode.h"
#include "hasher.h"

#define FUZZ_MAX_PIXELS (4u * 1000u * 1000u)

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	return decode_init((*argv)[0]) < 0 ? 1 : 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct decode_opts dopts = { .mode = DECODE_FAST, .max_pixels = FUZZ_MAX_PIXELS };
	struct hasher_result *res = malloc(sizeof(*res));
	char err[160];

	if (!res)
		return 0;
	int r = hasher_run(data, size, HW_MODELS_DEFAULT, HASHER_DIHEDRAL, &dopts, res, err,
			   sizeof(err));
	/* a failure always says why, and digests are there either way */
	if ((r < 0 && !err[0]) || !(res->mask & (1u << HW_MODEL_SHA256)))
		abort();
	free(res);
	return 0;
}
