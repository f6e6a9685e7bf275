/* kubelet's atomic writer (pkg/volume/util/atomic_writer.go): owns the
 * layout of a volume directory whose files are projected from data
 * (downwardAPI, configMap, secret, projected volumes) and their updates.
 * Knows nothing of pods.
 *
 * The layout, as kubelet makes it:
 *
 *   DIR/..2026_12_06_00_07_01.123456789/   the payload, written whole
 *   DIR/..data -> ..2026_12_06_00_07_01.123456789
 *   DIR/NAME -> ..data/NAME                  each top-level name of the payload
 *
 * An update writes a new timestamped directory, then switches ..data with
 * one rename of a temporary symlink (..data_tmp), adds the new top-level
 * names, removes those no longer present and the old directory. A reader
 * going through ..data sees either the old payload or the new one, never
 * a mix. */
#ifndef PEAPOD_ATOMIC_WRITER_H
#define PEAPOD_ATOMIC_WRITER_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "util/error.h"

#define PP_AW_DATA_DIR "..data"
#define PP_AW_DATA_TMP "..data_tmp"
/* kubelet's maxPathLength and maxFileNameLength */
#define PP_AW_MAX_PATH 4096
#define PP_AW_MAX_NAME 255

/* One file of a payload. */
struct pp_aw_file {
	const char *path; /* relative to the volume, e.g. "labels" or "conf/nginx.conf" */
	const void *data;
	size_t len;
	mode_t mode; /* permission bits (07777), applied with fchmod: no umask */
	gid_t gid;   /* the file's group (kubelet's fsGroup); 0: root's, as written */
};

/* kubelet's validatePath: not empty, not absolute, at most PP_AW_MAX_PATH
 * bytes, no ".." element, no element longer than PP_AW_MAX_NAME, and the
 * first element must not start with ".." (those names are the writer's). */
int pp_aw_validate_path(const char *path, struct pp_error **err);

/* Every path valid, and after cleaning (Go's path.Clean) no duplicate and
 * no file that is also the directory of another: what pp_atomic_write
 * checks before it writes anything. */
int pp_aw_check_payload(const struct pp_aw_file *files, size_t n, struct pp_error **err);

/* Makes dir (an existing directory) hold exactly files, as above.
 * Idempotent: when the current payload already has the same paths, bytes,
 * modes and groups nothing is rewritten and *changed (may be NULL) is false (a
 * missing top-level symlink is still restored). Paths are validated and
 * cleaned first (a duplicate, or a file that is also another's directory,
 * is EINVAL); on any error nothing visible has changed and the new
 * timestamped directory is removed. Not safe against a concurrent writer
 * of the same dir: callers serialise updates of one volume. */
int pp_atomic_write(const char *dir, const struct pp_aw_file *files, size_t n, bool *changed,
		    struct pp_error **err);

/* The same on an open directory (e.g. a detached tmpfs: dirfd from
 * fsmount), which the writer reaches through /proc/self/fd. */
int pp_atomic_write_fd(int dirfd, const struct pp_aw_file *files, size_t n, bool *changed,
		       struct pp_error **err);

#endif
