/* fsopen.h - opening folders and files in watched trees without following
 * symlinks anywhere in the path and without ever opening a FIFO, socket or
 * device.
 *
 * Watched folders belong to students, who can replace any folder by a
 * symlink to /etc between the event and the open: every open here refuses
 * symlinks in every component (openat2 RESOLVE_NO_SYMLINKS; on kernels
 * without openat2, O_NOFOLLOW on the last component only).  Roots are
 * resolved with realpath() when the globs are expanded, so symlinks above
 * a root that the administrator set up are fine.
 */
#ifndef HW_SCANNER_FSOPEN_H
#define HW_SCANNER_FSOPEN_H

#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>

/* Open a folder for listing.  Returns an fd (O_DIRECTORY, O_CLOEXEC) or
 * -errno (-ELOOP for a symlink). */
int fsopen_dir(const char *path);

/* Open a file to hash: lstat first (a FIFO, socket, device or symlink is
 * refused before any open), then open O_RDONLY | O_NOFOLLOW | O_NONBLOCK |
 * O_CLOEXEC (| O_NOATIME where allowed, so scanning does not touch the
 * student's access times), then fstat again.  Returns the fd and fills *st
 * from the fstat, or:
 *   -ENOENT       gone
 *   -ELOOP        a symlink somewhere in the path
 *   FSOPEN_NOTREG not a regular file (FIFO, socket, device, folder)
 *   -EFBIG        larger than max_size
 *   -errno        open failed (e.g. -EACCES)
 */
#define FSOPEN_NOTREG (-ENODEV)
int fsopen_file(const char *path, uint64_t max_size, struct stat *st);

#endif
