/* fuzz_receipt.c - the receipt parser (util/receipt.h) on arbitrary bytes.
 * The scanner reads receipts from a folder the uplink's group can write:
 * whatever is there must be refused cleanly or parsed into a receipt that
 * encodes again to something the parser accepts. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "receipt.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct receipt r, again;
	char why[128], *text = NULL;
	size_t len = 0;

	if (receipt_parse((const char *)data, size, &r, why, sizeof(why)) != 0)
		return 0;
	/* what the parser accepts, the encoder writes, and it reads back the same */
	if (receipt_format(&r, &text, &len) != 0)
		abort();
	if (receipt_parse(text, len, &again, why, sizeof(why)) != 0 ||
	    memcmp(&r, &again, sizeof(r)) != 0)
		abort();
	free(text);
	return 0;
}
