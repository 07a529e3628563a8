/* fuzz_intake.c - the receiver's request parser (receiver/intake.c, built
 * in here as its unit test builds it) on arbitrary bodies: the receiver
 * faces the network, and every alert or heartbeat body goes through
 * intake_parse() before anything is stored.  Any bytes must give a checked
 * record or a refusal with a status, a code and a reason; a record that
 * parses is then verified against a key (the signature check must refuse
 * it cleanly, as no fuzzer input is signed by that key). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../receiver/intake.c"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const kinds[] = { "alert", "heartbeat" };
	static const unsigned char pk[crypto_sign_PUBLICKEYBYTES] = { 1, 2, 3 };
	char *body = malloc(size + 1);
	int64_t t;

	if (!body)
		return 0;
	memcpy(body, data, size);
	body[size] = '\0';
	for (size_t k = 0; k < 2; k++) {
		struct intake_record rec;
		struct intake_error err;
		memset(&rec, 0, sizeof(rec));
		memset(&err, 0, sizeof(err));
		if (intake_parse(kinds[k], body, size, &rec, &err) == 0) {
			if (!rec.device_id || !rec.payload)
				abort();
			(void)intake_verify(&rec, pk, &err);
		} else if (!err.code || err.status < 400 || err.status > 499) {
			abort();
		}
		intake_record_done(&rec);
	}
	(void)intake_parse_time(body, &t);
	free(body);
	return 0;
}
