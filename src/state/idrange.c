#include "state/idrange.h"

#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "state/podstate.h"
#include "util/cleanup.h"
#include "util/dir.h"
#include "util/fs.h"

#define IDRANGE_DIR_MODE 0700
#define IDRANGE_FILE_MODE 0600
#define IDRANGE_LOCK ".lock"
#define IDRANGE_UID_MAX 128 /* a pod uid, with room */

/* The allocator's directory, created on first use, and its lock (flock,
 * held until the returned fd is closed). */
static int lock_dir(char **dir, struct pp_error **err)
{
	*dir = xasprintf("%s/userns", pp_run_dir());
	if (pp_mkdir_p(*dir, IDRANGE_DIR_MODE, err) < 0)
		return -1;
	cleanup_free char *lock = xasprintf("%s/%s", *dir, IDRANGE_LOCK);
	int fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, IDRANGE_FILE_MODE);
	if (fd < 0)
		return pp_error_set(err, errno, "open %s", lock);
	while (flock(fd, LOCK_EX) < 0) {
		if (errno != EINTR) {
			int e = errno;
			close(fd);
			return pp_error_set(err, e, "lock %s", lock);
		}
	}
	return fd;
}

/* Records slot for pod_uid: 1 when it is held already. */
static int take_slot(const char *dir, uint32_t slot, const char *pod_uid, struct pp_error **err)
{
	char path[PATH_MAX];
	size_t len = strlen(pod_uid);
	snprintf(path, sizeof(path), "%s/%u", dir, slot);
	cleanup_close int fd =
	    open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, IDRANGE_FILE_MODE);
	if (fd < 0 && errno == EEXIST)
		return 1;
	if (fd < 0 || write(fd, pod_uid, len) != (ssize_t)len) {
		int e = errno;
		if (fd >= 0)
			unlink(path);
		return pp_error_set(err, e, "record id range %s", path);
	}
	return 0;
}

int pp_idrange_alloc(const char *pod_uid, uint32_t *base, struct pp_error **err)
{
	cleanup_free char *dir = NULL;
	cleanup_close int lock = lock_dir(&dir, err);
	if (lock < 0)
		return pp_error_wrap(err, "user namespace id ranges");
	for (uint32_t slot = PP_IDRANGE_FIRST_SLOT; slot < PP_IDRANGE_SLOTS; slot++) {
		int r = take_slot(dir, slot, pod_uid, err);
		if (r < 0)
			return -1;
		if (r == 0) {
			*base = slot * PP_IDRANGE_SIZE;
			return 0;
		}
	}
	return pp_error_set(err, ENOSPC, "no free user namespace id range (%u in use)",
			    PP_IDRANGE_SLOTS - PP_IDRANGE_FIRST_SLOT);
}

int pp_idrange_claim(const char *pod_uid, uint32_t base, struct pp_error **err)
{
	if (base % PP_IDRANGE_SIZE != 0 || base / PP_IDRANGE_SIZE < PP_IDRANGE_FIRST_SLOT ||
	    base / PP_IDRANGE_SIZE >= PP_IDRANGE_SLOTS)
		return pp_error_set(err, EINVAL,
				    "user namespace id range at %u: not a multiple of %u between "
				    "%u and %u",
				    base, PP_IDRANGE_SIZE, PP_IDRANGE_FIRST_SLOT * PP_IDRANGE_SIZE,
				    (PP_IDRANGE_SLOTS - 1) * PP_IDRANGE_SIZE);
	cleanup_free char *dir = NULL;
	cleanup_close int lock = lock_dir(&dir, err);
	if (lock < 0)
		return pp_error_wrap(err, "user namespace id ranges");
	int r = take_slot(dir, base / PP_IDRANGE_SIZE, pod_uid, err);
	if (r == 1)
		return pp_error_set(err, EEXIST,
				    "user namespace id range at %u is held by another pod", base);
	return r;
}

/* The pod uid the range file name in dir records ("" when unreadable). */
static void holder(int dirfd, const char *name, char buf[IDRANGE_UID_MAX + 1])
{
	cleanup_close int fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	ssize_t n = fd < 0 ? -1 : read(fd, buf, IDRANGE_UID_MAX);
	buf[n < 0 ? 0 : n] = '\0';
}

/* Whether range `name`, held by pod `uid` ("" when unreadable), goes. */
typedef bool (*range_goes)(const char *uid, const void *arg);

/* Frees, under the directory's lock, every range for which goes() says so. */
static int free_ranges(range_goes goes, const void *arg, int *freed, struct pp_error **err)
{
	cleanup_free char *dir = NULL;
	cleanup_close int lock = lock_dir(&dir, err);
	if (lock < 0)
		return pp_error_wrap(err, "user namespace id ranges");
	cleanup_dir struct pp_dir d = PP_DIR_INIT;
	if (pp_dir_open(&d, dir, 0, err) < 0)
		return -1;
	int ret = 0, more;
	struct dirent *de;
	while ((more = pp_dir_next(&d, &de, ret < 0 ? NULL : err)) > 0) {
		char uid[IDRANGE_UID_MAX + 1];
		if (de->d_name[0] == '.')
			continue;
		holder(pp_dir_fd(&d), de->d_name, uid);
		if (!goes(uid, arg))
			continue;
		if (unlinkat(pp_dir_fd(&d), de->d_name, 0) < 0 && errno != ENOENT) {
			if (ret == 0)
				ret = pp_error_set(err, errno, "free id range %s/%s", dir,
						   de->d_name);
		} else if (freed != NULL) {
			(*freed)++;
		}
	}
	return more < 0 ? -1 : ret;
}

static bool held_by(const char *uid, const void *pod_uid)
{
	return strcmp(uid, pod_uid) == 0;
}

int pp_idrange_release(const char *pod_uid, struct pp_error **err)
{
	return free_ranges(held_by, pod_uid, NULL, err);
}

/* A range whose pod has no state directory any more (or whose holder
 * cannot be read). */
static bool orphaned(const char *uid, const void *unused)
{
	/* A uid is a name under pods/: nothing else may be looked up. */
	if (uid[0] != '\0' && strchr(uid, '/') == NULL && uid[0] != '.') {
		cleanup_free char *state = pp_state_dir(uid);
		if (access(state, F_OK) == 0 || errno != ENOENT)
			return false;
	}
	return true;
}

int pp_idrange_sweep(int *freed, struct pp_error **err)
{
	return free_ranges(orphaned, NULL, freed, err);
}
