/* The on-disk record of the pods: paths, locks, the names index, status. */
#include "state/podstate.h"

#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "util/cleanup.h"
#include "util/dir.h"
#include "util/fs.h"
#include "util/settings.h"

#define STATE_DIR_MODE 0700
#define NAMES_DIR_MODE 0700
#define MAX_STATUS_BYTES (4 * 1024 * 1024)
/* A lock's holder is most often a supervisor a moment from its exit
 * (delete and run wait for it to release the record): the first tries come
 * soon after each other, then one every LOCK_POLL_MAX_US. */
#define LOCK_POLL_FIRST_US 50
#define LOCK_POLL_MAX_US 5000
/* A .new- record without its lock file is left alone this long: its maker
 * may be between its mkdir and its open. */
#define NEW_RECORD_GRACE_S 60

const char *pp_run_dir(void)
{
	return pp_settings()->run_dir;
}

const char *pp_log_root(void)
{
	return pp_settings()->log_dir;
}

char *pp_state_dir(const char *uid)
{
	return xasprintf("%s/pods/%s", pp_run_dir(), uid);
}

char *pp_state_file(const char *uid, const char *file)
{
	return xasprintf("%s/pods/%s/%s", pp_run_dir(), uid, file);
}

char *pp_pod_log_dir(const char *ns, const char *name, const char *uid)
{
	return xasprintf("%s/pods/%s_%s_%s", pp_log_root(), ns, name, uid);
}

static int open_lock(const char *uid, int flags, struct pp_error **err)
{
	cleanup_free char *path = pp_state_file(uid, PP_STATE_LOCK);
	int fd = open(path, O_RDWR | O_CLOEXEC | flags, 0600);
	if (fd < 0)
		return pp_error_set(err, errno, "open %s", path);
	return fd;
}

int pp_state_create(const char *uid, int *lock_fd, struct pp_error **err)
{
	cleanup_free char *pods = xasprintf("%s/pods", pp_run_dir());
	cleanup_free char *dir = pp_state_dir(uid);
	/* Made and locked under a dot name, then renamed into place: gc never
	 * sees a record whose lock is free because it is not taken yet. */
	cleanup_free char *tmp = xasprintf("%s/%s%s", pods, PP_STATE_NEW_PREFIX, uid);
	cleanup_free char *lock = xasprintf("%s/%s", tmp, PP_STATE_LOCK);
	cleanup_free char *groups = xasprintf("%s/%s", pp_run_dir(), PP_GROUPS_NAME);
	if (pp_mkdir_p(pods, STATE_DIR_MODE, err) < 0)
		return -1;
	if (access(dir, F_OK) == 0)
		return pp_error_set(err, EEXIST, "a pod with uid %s exists already", uid);
	if (pp_mkdir_grouped(tmp, groups, STATE_DIR_MODE, true, err) < 0)
		return -1;
	int fd = open(lock, O_RDWR | O_CLOEXEC | O_CREAT | O_EXCL, 0600);
	if (fd < 0 || flock(fd, LOCK_EX | LOCK_NB) < 0 ||
	    renameat2(AT_FDCWD, tmp, AT_FDCWD, dir, RENAME_NOREPLACE) < 0) {
		int saved = errno;
		cleanup_closep(&fd);
		pp_rm_rf(tmp, NULL);
		return pp_error_set(
		    err, saved, saved == EEXIST ? "a pod with uid %s exists already" : "lock %s",
		    saved == EEXIST ? uid : dir);
	}
	*lock_fd = fd;
	return 0;
}

bool pp_state_is_locked(const char *uid)
{
	cleanup_close int fd = open_lock(uid, 0, NULL);
	if (fd < 0)
		return false;
	if (flock(fd, LOCK_SH | LOCK_NB) < 0)
		return errno == EWOULDBLOCK;
	return false;
}

int pp_state_lock(const char *uid, int timeout_ms, struct pp_error **err)
{
	cleanup_close int fd = open_lock(uid, 0, err);
	if (fd < 0)
		return -1;
	long waited_us = 0;
	for (long step = LOCK_POLL_FIRST_US;;
	     step = step * 2 < LOCK_POLL_MAX_US ? step * 2 : LOCK_POLL_MAX_US) {
		if (flock(fd, LOCK_EX | LOCK_NB) == 0)
			return steal_fd(&fd);
		if (errno != EWOULDBLOCK && errno != EINTR)
			return pp_error_set(err, errno, "lock the state of pod %s", uid);
		if (timeout_ms >= 0 && waited_us >= timeout_ms * 1000L)
			return pp_error_set(err, EWOULDBLOCK, "pod %s is busy", uid);
		nanosleep(&(struct timespec){.tv_nsec = step * 1000}, NULL);
		waited_us += step;
	}
}

static char *name_path(const char *ns, const char *name)
{
	return xasprintf("%s/names/%s/%s", pp_run_dir(), ns, name);
}

int pp_name_claim(const char *ns, const char *name, const char *uid, struct pp_error **err)
{
	cleanup_free char *names = xasprintf("%s/names", pp_run_dir());
	cleanup_free char *dir = xasprintf("%s/%s", names, ns);
	cleanup_free char *path = name_path(ns, name);
	cleanup_free char *tmp = xasprintf("%s/.%s.%s", dir, name, uid);
	cleanup_free char *text = xasprintf("%s\n", uid);
	if (pp_mkdir_apart(names, NAMES_DIR_MODE, err) < 0 ||
	    pp_mkdir_p(dir, NAMES_DIR_MODE, err) < 0 ||
	    pp_write_file_atomic(tmp, text, strlen(text), 0600, err) < 0)
		return -1;
	/* link(2) fails when the name exists: of two claims, exactly one wins,
	 * and the winner's file is complete from the start. */
	int ret = link(tmp, path);
	int saved = errno;
	unlink(tmp);
	if (ret < 0 && saved == EEXIST)
		return pp_error_set(err, 0, "pods \"%s\" already exists in namespace \"%s\"", name,
				    ns);
	if (ret < 0)
		return pp_error_set(err, saved, "claim the name %s/%s", ns, name);
	return 0;
}

int pp_name_lookup(const char *ns, const char *name, char **uid, struct pp_error **err)
{
	cleanup_free char *path = name_path(ns, name);
	char *text = NULL;
	size_t len = 0;
	cleanup_error struct pp_error *e = NULL;
	if (strchr(name, '/') != NULL || pp_read_file(path, 256, &text, &len, &e) < 0) {
		if (e == NULL || e->status == ENOENT)
			return pp_error_set(err, ENOENT,
					    "pods \"%s\" not found in namespace \"%s\"", name, ns);
		return pp_error_set(err, e->status, "%s", e->msg);
	}
	text[strcspn(text, "\n")] = '\0';
	*uid = text;
	return 0;
}

void pp_name_release(const char *ns, const char *name, const char *uid)
{
	char *cur = NULL;
	if (pp_name_lookup(ns, name, &cur, NULL) == 0 && strcmp(cur, uid) == 0) {
		cleanup_free char *path = name_path(ns, name);
		unlink(path);
	}
	free(cur);
}

int pp_state_read_status(const char *uid, struct json_object **out, struct pp_error **err)
{
	cleanup_free char *path = pp_state_file(uid, PP_STATE_STATUS);
	cleanup_free char *text = NULL;
	size_t len = 0;
	if (pp_read_file(path, MAX_STATUS_BYTES, &text, &len, err) < 0)
		return -1;
	*out = json_tokener_parse(text);
	if (*out == NULL)
		return pp_error_set(err, EINVAL, "%s: not valid JSON", path);
	return 0;
}

static int ref_cmp(const void *a, const void *b)
{
	const struct pp_pod_ref *x = a, *y = b;
	int c = strcmp(x->ns, y->ns);
	return c ? c : strcmp(x->name, y->name);
}

static void list_ns(const char *ns, struct pp_pod_ref **refs, size_t *n)
{
	cleanup_free char *dir = xasprintf("%s/names/%s", pp_run_dir(), ns);
	/* a namespace whose names cannot be read has no pods to show */
	cleanup_dir struct pp_dir d = PP_DIR_INIT;
	struct dirent *de;
	if (pp_dir_open(&d, dir, 0, NULL) < 0)
		return;
	while (pp_dir_next(&d, &de, NULL) > 0) {
		if (de->d_name[0] == '.')
			continue;
		char *uid = NULL;
		if (pp_name_lookup(ns, de->d_name, &uid, NULL) < 0)
			continue;
		*refs = xrealloc(*refs, sizeof(**refs) * (*n + 1));
		(*refs)[(*n)++] = (struct pp_pod_ref){xstrdup(ns), xstrdup(de->d_name), uid};
	}
}

int pp_pod_list(const char *ns, struct pp_pod_ref **out, size_t *n, struct pp_error **err)
{
	*out = NULL;
	*n = 0;
	if (ns != NULL) {
		list_ns(ns, out, n);
	} else {
		cleanup_free char *dir = xasprintf("%s/names", pp_run_dir());
		cleanup_dir struct pp_dir d = PP_DIR_INIT;
		struct dirent *de;
		int more;
		if (pp_dir_open(&d, dir, PP_DIR_MISSING_OK, err) < 0)
			return -1;
		while ((more = pp_dir_next(&d, &de, err)) > 0)
			if (de->d_name[0] != '.')
				list_ns(de->d_name, out, n);
		if (more < 0) {
			pp_pod_refs_free(*out, *n);
			*out = NULL;
			*n = 0;
			return -1;
		}
	}
	if (*n > 1)
		qsort(*out, *n, sizeof(**out), ref_cmp);
	return 0;
}

void pp_pod_refs_free(struct pp_pod_ref *refs, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(refs[i].ns);
		free(refs[i].name);
		free(refs[i].uid);
	}
	free(refs);
}

void pp_state_discard_paths(const char *ns, const char *name, const char *uid,
			    char *dirs[PP_STATE_DISCARD_N], char *trashes[PP_STATE_DISCARD_N])
{
	dirs[0] = pp_pod_log_dir(ns, name, uid);
	dirs[1] = pp_state_dir(uid);
	trashes[0] = xasprintf("%s/%s/%s", pp_log_root(), PP_TRASH_NAME, strrchr(dirs[0], '/') + 1);
	trashes[1] = xasprintf("%s/%s/%s", pp_run_dir(), PP_TRASH_NAME, uid);
}

int pp_state_remove(const char *ns, const char *name, const char *uid, struct pp_error **err)
{
	char *dirs[PP_STATE_DISCARD_N], *trashes[PP_STATE_DISCARD_N];
	/* Out of the way at once, unlinked by a short-lived child. */
	pp_state_discard_paths(ns, name, uid, dirs, trashes);
	int ret = pp_discard_dirs((const char *const *)dirs, (const char *const *)trashes,
				  PP_STATE_DISCARD_N, err);
	pp_name_release(ns, name, uid);
	for (size_t i = 0; i < PP_STATE_DISCARD_N; i++) {
		free(dirs[i]);
		free(trashes[i]);
	}
	return ret;
}

static bool uid_named(const struct pp_pod_ref *refs, size_t n, const char *uid)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(refs[i].uid, uid) == 0)
			return true;
	return false;
}

/* A pods/.new-<uid> directory: removed when its maker is gone. */
static void sweep_new(int podsfd, const char *pods, const char *entry)
{
	cleanup_free char *dir = xasprintf("%s/%s", pods, entry);
	cleanup_free char *lock = xasprintf("%s/%s", dir, PP_STATE_LOCK);
	cleanup_close int fd = open(lock, O_RDWR | O_CLOEXEC);
	struct stat st;
	if (fd >= 0 ? flock(fd, LOCK_EX | LOCK_NB) < 0
		    : (fstatat(podsfd, entry, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
		       time(NULL) - st.st_mtime < NEW_RECORD_GRACE_S))
		return;
	pp_rm_rf(dir, NULL);
}

int pp_state_orphans(char ***uids, struct pp_error **err)
{
	*uids = NULL;
	struct pp_pod_ref *refs = NULL;
	size_t n_refs = 0;
	if (pp_pod_list(NULL, &refs, &n_refs, err) < 0)
		return -1;
	cleanup_free char *pods = xasprintf("%s/pods", pp_run_dir());
	cleanup_dir struct pp_dir d = PP_DIR_INIT;
	if (pp_dir_open(&d, pods, PP_DIR_MISSING_OK, err) < 0) {
		pp_pod_refs_free(refs, n_refs);
		return -1;
	}
	char **out = xmalloc(sizeof(char *));
	out[0] = NULL;
	size_t n = 0;
	struct dirent *de;
	int r;
	while ((r = pp_dir_next(&d, &de, err)) > 0) {
		if (strncmp(de->d_name, PP_STATE_NEW_PREFIX, strlen(PP_STATE_NEW_PREFIX)) == 0) {
			sweep_new(pp_dir_fd(&d), pods, de->d_name);
			continue;
		}
		if (de->d_name[0] == '.' || uid_named(refs, n_refs, de->d_name))
			continue;
		out = xrealloc(out, (n + 2) * sizeof(char *));
		out[n++] = xstrdup(de->d_name);
		out[n] = NULL;
	}
	pp_pod_refs_free(refs, n_refs);
	if (r < 0) {
		strv_free(out);
		return -1;
	}
	*uids = out;
	return 0;
}
