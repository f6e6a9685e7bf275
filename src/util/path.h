/* Safe resolution of paths that come from images and manifests. A path read
 * from an image (a mount target, a working directory) or a subPath is never
 * resolved on the host: every lookup goes through openat2 relative to an fd of
 * the root it must stay in, so a symlink planted in an image (/data -> /etc,
 * or -> ../../../../host) can never make peapod touch the host. */
#ifndef PEAPOD_PATH_H
#define PEAPOD_PATH_H

#include <stdbool.h>
#include <sys/types.h>

#include "util/error.h"

/* Opens path inside rootfd as if rootfd were "/": absolute symlinks and ".."
 * are clamped to rootfd (RESOLVE_IN_ROOT) and magic links (/proc/self/...) are
 * refused. flags are the open flags of the result (O_PATH, O_DIRECTORY, ...);
 * O_CLOEXEC is always added.
 * When create_mode is not 0, missing components are created inside the root
 * (directories with create_mode; the last one as an empty file with
 * create_mode & 0666 when create_file), following dangling symlinks inside the
 * root the way the kernel would resolve them. Returns the fd, or -1 and err. */
int pp_path_open_in_root(int rootfd, const char *path, int flags, mode_t create_mode,
			 bool create_file, struct pp_error **err);

/* Opens path beneath dirfd (subPath): a symlink or ".." that would leave
 * dirfd fails (EXDEV) instead of being clamped, and so does a magic link.
 * Returns the fd, or -1 and err. */
int pp_path_open_beneath(int dirfd, const char *path, int flags, struct pp_error **err);

/* The path made absolute and lexically clean, as Go's filepath.Clean of
 * "/" + p: "data", "/data/", "//a/./b/../c", "/../x" -> "/data", "/data",
 * "/a/c", "/x"; "" -> "/". For paths an image names (its Volumes, which
 * containerd takes from the root when relative). Caller frees. */
char *pp_path_clean(const char *p);

#endif
