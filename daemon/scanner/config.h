/* config.h - hashwatchd's configuration: /etc/hashwatch/hashwatch.conf
 * (INI, read with libinih), every key validated with a message naming it.
 * hashwatch.conf(5) documents each key; packaging/hashwatch.conf is the
 * commented sample.  The loader only parses and checks values; whether the
 * folders, lists and keys it names exist is checked by whoever uses them.
 */
#ifndef HW_SCANNER_CONFIG_H
#define HW_SCANNER_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CONFIG_DEFAULT_PATH HW_SYSCONFDIR "/hashwatch/hashwatch.conf"
#define CONFIG_MAX_BYTES (1024 * 1024)
#define CONFIG_MAX_GLOBS 256
#define CONFIG_MAX_CATEGORIES 64

struct config_category {
	char *name;
	unsigned min_matches;
};

struct config {
	char *path;                 /* file this came from */
	uint8_t digest[32];         /* SHA-256 of the file's bytes */
	char digest_hex[65];

	/* [scan] */
	char **watch;               /* absolute glob patterns */
	size_t nwatch;
	char **exclude;             /* fnmatch patterns on full paths */
	size_t nexclude;
	unsigned settle_ms;
	unsigned rescan_interval_s; /* unwatchable folders, root re-checks */
	unsigned max_depth;

	/* [lists] */
	char *lists_dir;
	char *trusted_keys;
	unsigned min_signers;

	/* [policy] */
	unsigned pdq_max_distance;
	unsigned pdq_min_quality;
	unsigned phash_max_distance;
	unsigned dhash_max_distance;
	unsigned ahash_max_distance;
	bool dihedral;
	unsigned min_matches;       /* default k for every category */
	struct config_category *categories;
	size_t ncategories;
	bool report_path;

	/* [limits] */
	uint64_t max_file_size;
	uint64_t max_pixels;
	unsigned queue_length;
	unsigned workers;
	unsigned decode_timeout_ms;
	unsigned cpu_budget;        /* percent of one CPU per worker */
	unsigned cache_entries;
	uint64_t worker_memory;     /* RLIMIT_AS of each worker (sandbox.h) */
	unsigned worker_files;      /* files before a worker is replaced */

	/* [state] */
	char *state_dir;

	/* [device] */
	char *device_id;
};

/* Read and validate the file at path.  Returns 0 and a new config in *ret
 * (config_free() it); or -errno (cannot read) / -EINVAL (bad content) with
 * a one-line message in err naming the file, and for bad content the
 * section and key, and saying what is expected. */
int config_load(const char *path, struct config **ret, char *err, size_t errlen);

/* The same from a string (tests, fuzzing); name is used in messages. */
int config_parse(const char *text, const char *name, struct config **ret,
		 char *err, size_t errlen);

void config_free(struct config *c);

/* k for a category: its own min_matches.CATEGORY, else min_matches. */
unsigned config_min_matches(const struct config *c, const char *category);

#endif
