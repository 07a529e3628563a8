/* fsopen.c - symlink-free opens (see fsopen.h). */
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdbool.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "fsopen.h"

static int open_nosymlinks(const char *path, uint64_t flags)
{
	static bool no_openat2;
	struct open_how how;
	int fd;

	if (!no_openat2) {
		memset(&how, 0, sizeof(how));
		how.flags = flags;
		how.resolve = RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS;
		fd = (int)syscall(SYS_openat2, AT_FDCWD, path, &how, sizeof(how));
		if (fd >= 0)
			return fd;
		if (errno != ENOSYS)
			return -errno;
		no_openat2 = true;
	}
	fd = open(path, (int)flags);
	return fd >= 0 ? fd : -errno;
}

int fsopen_dir(const char *path)
{
	return open_nosymlinks(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
}

int fsopen_file(const char *path, uint64_t max_size, struct stat *st)
{
	static bool no_noatime;
	struct stat lst, fst;
	int fd, r;

	if (lstat(path, &lst) < 0)
		return -errno;
	if (S_ISLNK(lst.st_mode))
		return -ELOOP;
	if (!S_ISREG(lst.st_mode))
		return FSOPEN_NOTREG;
	if ((uint64_t)lst.st_size > max_size)
		return -EFBIG;
	fd = -EPERM;
	if (!no_noatime) {
		fd = open_nosymlinks(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | O_NOATIME);
		if (fd == -EPERM)
			no_noatime = true; /* not the owner and no CAP_FOWNER */
	}
	if (fd == -EPERM)
		fd = open_nosymlinks(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return fd;
	/* The path may have been swapped between lstat and open (a FIFO opens
	 * without blocking thanks to O_NONBLOCK): trust only the fstat. */
	if (fstat(fd, &fst) < 0) {
		r = -errno;
		goto fail;
	}
	if (!S_ISREG(fst.st_mode)) {
		r = FSOPEN_NOTREG;
		goto fail;
	}
	if ((uint64_t)fst.st_size > max_size) {
		r = -EFBIG;
		goto fail;
	}
	*st = fst;
	return fd;
fail:
	close(fd);
	return r;
}
