/* import.h - read hash lists from the text formats they arrive in and
 * collect them into what hwdb_build() compiles.
 *
 * Formats:
 *   IMPORT_CSV      RFC 4180 CSV with a header row.  Required columns
 *                   `algorithm` (a model name, model.h) and `hash` (hex);
 *                   optional `id`, `category`, `source`, and `md5`, `sha1`,
 *                   `sha256`: exact digests of the same item, stored as
 *                   extra hashes of the same entry (the second check).
 *                   Rows with the same non-empty id are one entry (several
 *                   hashes of one item) and must agree on category/source.
 *   IMPORT_HEX      one hash per line in hex, the model given by the
 *                   caller; blank lines and lines starting with '#' are
 *                   skipped.
 *   IMPORT_PDQ_CSV  `hash,quality,path` as Meta's pdq-photo-hasher and
 *                   `hashwatch hash --models pdq` print, header optional.
 *                   Those tools do not quote the path, so a line is split
 *                   at its first two commas only; the path (a file on the
 *                   machine that hashed it) is not imported.
 * Entries without a category or source get the caller's defaults.
 *
 * All or nothing: a file with any bad line adds nothing to the set, and the
 * error names the file and line ("list.csv:12: ...").
 */
#ifndef HW_IMPORT_H
#define HW_IMPORT_H

#include <stddef.h>

#include "hwdb.h"
#include "model.h"

#define IMPORT_MAX_FILE (4ull << 30) /* bytes per input file */

enum import_format {
	IMPORT_CSV,
	IMPORT_HEX,
	IMPORT_PDQ_CSV,
};

/* "csv", "hex", "pdq-csv".  Returns 0 or -EINVAL. */
int import_format_parse(const char *name, enum import_format *ret);

struct import_defaults {
	const char *category; /* NULL or "" for none */
	const char *source;
};

struct import_set;

/* Returns 0 or -ENOMEM. */
int import_set_new(struct import_set **ret);
/* Accepts NULL. */
void import_set_free(struct import_set *s);

/* Add the hashes of one input.  `algorithm` is required for IMPORT_HEX and
 * ignored otherwise (CSV rows name theirs; pdq-csv is PDQ).  `name` is
 * what errors call the input.  Returns 0, or on any bad line -EINVAL
 * (-E2BIG over a limit, -ENOMEM) with "name:line: reason" in err, and the
 * set as it was before the call. */
int import_buffer(struct import_set *s, const char *name, const char *buf,
		  size_t len, enum import_format fmt, enum hw_model_id algorithm,
		  const struct import_defaults *defaults, char *err,
		  size_t errlen);

/* import_buffer() on the contents of a file (at most IMPORT_MAX_FILE
 * bytes); "-" reads standard input.  -errno when it cannot be read. */
int import_file(struct import_set *s, const char *path,
		enum import_format fmt, enum hw_model_id algorithm,
		const struct import_defaults *defaults, char *err,
		size_t errlen);

size_t import_entry_count(const struct import_set *s);
size_t import_hash_count(const struct import_set *s, enum hw_model_id model);

/* Point spec->entries/nentries and spec->columns/ncolumns at the set's
 * arrays (other fields untouched).  They stay valid until the set is
 * changed or freed. */
void import_fill_spec(struct import_set *s, struct hwdb_build_spec *spec);

#endif
