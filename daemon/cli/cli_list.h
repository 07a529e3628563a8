/* cli_list.h - what `hashwatch db` and `hashwatch scan` share: trusted-key
 * options, opening a list with them, number parsing and the names the
 * commands print (times, PDQ dihedral variants).
 */
#ifndef HW_CLI_LIST_H
#define HW_CLI_LIST_H

#include <stdbool.h>
#include <stdint.h>

#include "hwdb.h"

#define CLI_MAX_TRUST 64 /* trusted keys one command takes */

/* --trust, --min-signers, --state-dir, as given on the command line. */
struct cli_trust {
	uint8_t keys[CLI_MAX_TRUST][32];
	size_t nkeys;
	unsigned min_signers;
	const char *state_dir;
	bool allow_unsigned;
};

/* Add the key file, or the folder of *.pub files, at path.  Prints the
 * problem (as "hashwatch SUBCMD: ...") and returns -1 on failure. */
int cli_trust_add(struct cli_trust *t, const char *subcmd, const char *path);

/* The hwdb_trust view of t (borrows t's keys). */
void cli_trust_view(const struct cli_trust *t, struct hwdb_trust *out);

/* Exit code for a hwdb_open() failure: CLI_NEGATIVE when the list was
 * refused (malformed, altered, untrusted, rolled back, unsupported),
 * CLI_ERROR when it could not be read at all. */
int cli_open_exit(int r);

/* Decimal number in [min, max].  Returns 0 or -EINVAL. */
int cli_parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *ret);

/* "2024-05-01T10:00:00Z" */
void cli_format_time(uint64_t t, char out[32]);

/* "orig", "rot90", ... for a PDQ dihedral variant; NULL when v < 0. */
const char *cli_variant_name(int v);

/* A distance or threshold as JSON: an integer when it is whole (bits for
 * most models), else a number.  The caller owns the object. */
struct json_object *cli_json_distance(double d);

/* Lower-case hex of the list digest. */
void cli_digest_hex(const struct hwdb *db, char out[2 * HWDB_DIGEST_BYTES + 1]);

#endif
