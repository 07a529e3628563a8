/* fileio.h - reading files with a hard size limit, and atomic writes
 * (temp file, fsync, rename, fsync of the directory) so that a crash or a
 * full disk never leaves a half-written file under the final name.
 */
#ifndef HW_FILEIO_H
#define HW_FILEIO_H

#include <stddef.h>
#include <sys/types.h>

/* Read all of fd (from its current offset) into a new buffer.  Returns 0
 * and sets *ret_buf (free() it) and *ret_len; -EFBIG if more than max
 * bytes; -errno on read failure.  The buffer is NUL-terminated one past
 * *ret_len for the convenience of text parsers. */
int hw_read_fd(int fd, size_t max, void **ret_buf, size_t *ret_len);

/* Open path (O_RDONLY|O_CLOEXEC|O_NOFOLLOW) and hw_read_fd() it. */
int hw_read_file(const char *path, size_t max, void **ret_buf, size_t *ret_len);

/* Write buf to path atomically with the given mode.  Returns 0 or -errno
 * (-ENOSPC on a full disk); on failure the temp file is removed and any
 * previous file at path is untouched. */
int hw_write_atomic(const char *path, const void *buf, size_t len, mode_t mode);

/* fsync the directory that contains path (after a rename or unlink). */
int hw_fsync_parent(const char *path);

#endif
