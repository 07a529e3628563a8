/* fuzz_config.c - hashwatchd's configuration parser (daemon/scanner/
 * config.c, built in here as the receiver's unit test builds intake.c) on
 * arbitrary text: a configuration is written by people and pushed by
 * management tools, and a bad one must be refused with a message, never
 * crash the daemon or its reload.  A configuration that parses is used
 * the way the daemon uses it (category thresholds looked up). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../daemon/scanner/config.c"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct config *c = NULL;
	char err[512];
	char *text;
	uint64_t v;

	if (size > CONFIG_MAX_BYTES)
		return 0;
	text = malloc(size + 1);
	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	if (config_parse(text, "fuzz.conf", &c, err, sizeof(err)) == 0) {
		for (size_t i = 0; i < c->ncategories; i++)
			if (config_min_matches(c, c->categories[i].name) != c->categories[i].min_matches)
				abort();
		(void)config_min_matches(c, "no such category");
		config_free(c);
	} else if (!err[0]) {
		abort(); /* a refusal always says why */
	}
	/* the size and count parsers on the raw text too */
	(void)confval_size(text, &v);
	(void)confval_count(text, &v);
	free(text);
	return 0;
}
