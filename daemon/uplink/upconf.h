/* upconf.h - hashwatch-uplink's configuration.  The uplink reads the same
 * file as the scanner (/etc/hashwatch/hashwatch.conf, INI, libinih) and
 * takes from it only what it needs: [uplink] (where and how to deliver),
 * [state] dir (the spool is <dir>/spool) and [device] id.  The scanner's
 * sections ([scan], [lists], ...) are left to the scanner, which checks
 * them; every key of the three sections the uplink reads is validated
 * here, with a message naming the file, section and key and saying what is
 * expected.  hashwatch-uplink(8) documents the keys.
 */
#ifndef HW_UPLINK_UPCONF_H
#define HW_UPLINK_UPCONF_H

#include <stddef.h>
#include <stdint.h>

#define UPCONF_DEFAULT_PATH HW_SYSCONFDIR "/hashwatch/hashwatch.conf"
#define UPCONF_MAX_BYTES (1024 * 1024) /* a larger file is refused */
#define UPCONF_URL_MAX 1024
#define UPCONF_DEVICE_ID_MAX 64

struct upconf {
	char *path; /* the file this came from */

	/* [uplink] */
	char *url;            /* https://host[:port][/prefix], no trailing '/' */
	char *ca_file;        /* NULL: the system's CA store */
	char *pin;            /* NULL, or "sha256//B64[;sha256//B64...]" */
	unsigned timeout_s;   /* whole request */
	unsigned retry_min_s; /* first back-off delay (before jitter) */
	unsigned retry_max_s; /* back-off cap */
	unsigned batch;       /* alert files taken per pass of the spool */
	uint64_t max_file_size; /* spool files larger than this are refused */
	char *uplink_state_dir; /* the uplink's own state (its audit log) */

	/* [state] */
	char *state_dir; /* the scanner's state folder */
	char *spool_dir; /* <state_dir>/spool, derived */

	/* [device] */
	char *device_id; /* NULL when not set: the uplink does not need it */
};

/* Read and validate the file at path.  Returns 0 and a new config in *ret
 * (upconf_free() it); or -errno (cannot read it; -EFBIG when larger than
 * UPCONF_MAX_BYTES) / -EINVAL (bad content), with a one-line message in
 * err that names the file and, for bad content, the section and key. */
int upconf_load(const char *path, struct upconf **ret, char *err, size_t errlen);

/* The same from a string (tests); name stands for the file in messages. */
int upconf_parse(const char *text, const char *name, struct upconf **ret,
		 char *err, size_t errlen);

/* Frees everything; NULL is ignored. */
void upconf_free(struct upconf *c);

#endif
