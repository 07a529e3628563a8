/* spool.h - the uplink's side of the spool folder (<state>/spool), which
 * the scanner fills and the uplink empties.  The folder is the uplink's
 * only state: an alert file stays until the receiver has confirmed it, so
 * a crash or restart at any point can cause a redelivery (the receiver is
 * idempotent on alert id) but never a loss.
 *
 * Names: "<alert id>.json" is an alert; "heartbeat" (no .json: only
 * alerts end in .json, docs/alert-format.md) is the scanner's latest
 * heartbeat, replaced, never consumed; the scanner's temporary
 * files ("*.tmp.XXXXXX", renamed into place when complete), dot files,
 * folders and symlinks are left alone.  Alerts the receiver refused go to
 * "rejected/<name>" with "rejected/<name>.reason" next to them: the uplink
 * never deletes an alert that was not confirmed.
 */
#ifndef HW_UPLINK_SPOOL_H
#define HW_UPLINK_SPOOL_H

#include <limits.h>
#include <stddef.h>
#include <sys/stat.h>
#include <time.h>

#define SPOOL_HEARTBEAT_NAME "heartbeat"
#define SPOOL_REJECTED_DIR "rejected"
#define SPOOL_REJECT_COPIES 100 /* name, name.1 .. name.99 in rejected/ */

enum spool_kind { SPOOL_OTHER, SPOOL_ALERT, SPOOL_HEARTBEAT };

struct spool_entry {
	char name[NAME_MAX + 1];
	struct timespec mtime;
};

struct spool;

/* Open the spool folder (it must exist: the scanner creates it).  Returns
 * 0 and *ret (spool_close() it), or -errno (-ENOTDIR, -ENOENT, ...). */
int spool_open(const char *path, struct spool **ret);
void spool_close(struct spool *s);

/* The folder's path (lives as long as s). */
const char *spool_path(const struct spool *s);

/* What a directory entry name is, by name alone. */
enum spool_kind spool_classify(const char *name);

/* List the alert files: the max oldest (by modification time, then name)
 * in *ret, oldest first (malloc()ed, free() it; NULL when none), their
 * number in *ret_n, and how many alert files there are in all in
 * *ret_depth.  Memory is bounded by max whatever the folder holds.
 * Returns 0 or -errno (then nothing is written). */
int spool_scan(struct spool *s, size_t max, struct spool_entry **ret, size_t *ret_n,
	       size_t *ret_depth);

/* Read the regular file name (no symlinks) up to max bytes.  Returns 0,
 * *ret_buf (NUL-terminated, free() it), *ret_len and the file's stat in
 * *ret_st; -EFBIG when larger than max; -ENOENT when it is gone;
 * -EINVAL when it is not a regular file; -errno. */
int spool_read(struct spool *s, const char *name, size_t max, char **ret_buf,
	       size_t *ret_len, struct stat *ret_st);

/* Delete a delivered alert and make the deletion durable (fsync of the
 * folder).  Returns 0, -ENOENT (it was already gone) or -errno. */
int spool_remove(struct spool *s, const char *name);

/* Move name to rejected/ with reason[0..len) written (atomically) to
 * rejected/<target>.reason first, where target is name or, when that is
 * taken, name.1 .. name.99 (nothing in rejected/ is ever replaced).  Both
 * folders are fsync'ed.  On success returns 0 and, if ret_target is not
 * NULL, the name used inside rejected/.  Errors: -EEXIST (all copies
 * taken), -errno; the alert then stays in the spool. */
int spool_reject(struct spool *s, const char *name, const char *reason, size_t len,
		 char ret_target[NAME_MAX + 1]);

/* Write text[0..len) atomically as receipts/<name> (util/receipt.h),
 * replacing a receipt of that name the scanner has not taken yet.  The
 * scanner makes receipts/; the uplink never does (it would own it, and
 * the scanner could not delete what it has read).  Mode 0644: the
 * folder (2770, the scanner's and the spool group's) is what keeps
 * others out, and the scanner, not in the spool group, must read it.
 * Returns 0, -ENOENT when receipts/ does not exist (a scanner that takes
 * no receipts), or -errno; the receipt is then not written. */
int spool_put_receipt(struct spool *s, const char *name, const char *text, size_t len);

#endif
