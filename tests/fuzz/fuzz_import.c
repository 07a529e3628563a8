/* fuzz_import.c - the list importers and the RFC 4180 splitter on
 * arbitrary bytes.  Lists come from other organisations' exports; a bad
 * one must give an error naming the line, never a crash, a leak or a
 * half-filled set.  The first byte picks the format and, for hex, the
 * model; the rest is the input.  A second import into the same set checks
 * that a failed one leaves it as it was.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "csv.h"
#include "import.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct import_defaults def = { "fuzz", "fuzz" };
	static struct csv_reader rd;
	struct import_set *s = NULL;
	struct hwdb_build_spec spec = { 0 };
	char err[512], *f[CSV_MAX_FIELDS];
	size_t n, before;
	unsigned long line;
	enum import_format fmt;
	enum hw_model_id alg;

	if (size < 1)
		return 0;
	fmt = (enum import_format)(data[0] % 3);
	alg = (enum hw_model_id)(1 + (data[0] >> 2) % (HW_MODEL__MAX - 1));
	data++;
	size--;

	csv_init(&rd, (const char *)data, size);
	while (csv_next(&rd, f, CSV_MAX_FIELDS, &n, &line, err, sizeof(err)) > 0)
		;

	if (import_set_new(&s) < 0)
		return 0;
	(void)import_buffer(s, "fuzz", (const char *)data, size, fmt, alg, &def, err, sizeof(err));
	before = import_entry_count(s);
	if (import_buffer(s, "fuzz", (const char *)data, size, fmt, alg, &def, err,
			  sizeof(err)) < 0 &&
	    import_entry_count(s) != before)
		abort(); /* a failed import changed the set */
	import_fill_spec(s, &spec);
	for (size_t i = 0; i < spec.nentries; i++)
		if (!hwdb_text_ok(spec.entries[i].id, strlen(spec.entries[i].id)))
			abort(); /* an unprintable id got through */
	import_set_free(s);
	return 0;
}
