/* A CRI sandbox's pod cgroup under the parent kubelet gives (its cgroupfs
 * driver: "/kubepods/besteffort/pod<uid>"), and the ledger of what peapod
 * made there.
 *
 * kubelet usually makes the parent itself; when it has not (or crictl
 * names one nobody made), peapod makes the missing levels. They are
 * peapod's to remove, and only they: kubelet's levels never go. Two
 * sandboxes may share a level one of them made, and a record may be lost
 * in a crash; so what peapod made outside its own parent is written down
 * node-wide, in <run>/cgroup-made ("level <path>" and "pod <path>" lines),
 * before it is made:
 *   - a pod's removal removes its cgroup, then each level above it the
 *     ledger lists, deepest first, while they are empty;
 *   - gc removes the pod cgroups the ledger lists whose record is gone,
 *     and the listed levels that are empty.
 * Every change of the ledger, and the mkdirs it announces, happen under
 * one lock (<run>/cgroup-made.lock), so that no level is removed between
 * a new sandbox's check and its mkdir. Both files are on /run, as the
 * cgroups are: a reboot takes both. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "cgroup/cgroup.h"
#include "pod/pod_internal.h"
#include "state/podstate.h"
#include "util/cleanup.h"
#include "util/fs.h"

#define LEDGER_FILE "cgroup-made"
#define LEDGER_LOCK "cgroup-made.lock"
#define LEDGER_MAX (4 << 20)
#define LEVEL "level"
#define POD "pod"

/* The state file that says where a CRI sandbox's pod cgroup is: its
 * parent, written before the cgroup is made, so that its removal finds it
 * after a crash too. */
#define CGROUP_PARENT_FILE "cgroup-parent"
#define CGROUP_PARENT_FILE_MAX 2048

struct ledger {
	int lock;
	char **lines; /* "<kind> <path>" */
	size_t n;
	bool changed;
};

static void ledger_close(struct ledger *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->lines[i]);
	free(l->lines);
	if (l->lock >= 0)
		close(l->lock);
	*l = (struct ledger){.lock = -1};
}

#define cleanup_ledger __attribute__((cleanup(ledger_close)))

static char *ledger_path(const char *name)
{
	return xasprintf("%s/%s", pp_run_dir(), name);
}

/* Takes the lock and reads the ledger. */
static int ledger_open(struct ledger *l, struct pp_error **err)
{
	*l = (struct ledger){.lock = -1};
	cleanup_free char *lock = ledger_path(LEDGER_LOCK);
	cleanup_free char *file = ledger_path(LEDGER_FILE);
	l->lock = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (l->lock < 0)
		return pp_error_set(err, errno, "open %s", lock);
	while (flock(l->lock, LOCK_EX) < 0)
		if (errno != EINTR)
			return pp_error_set(err, errno, "lock %s", lock);
	if (access(file, F_OK) < 0)
		return 0;
	cleanup_free char *text = NULL;
	if (pp_read_file(file, LEDGER_MAX, &text, NULL, err) < 0)
		return -1;
	char *save = NULL;
	for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		l->lines = xrealloc(l->lines, sizeof(char *) * (l->n + 1));
		l->lines[l->n++] = xstrdup(line);
	}
	return 0;
}

static ssize_t ledger_find(const struct ledger *l, const char *kind, const char *path)
{
	size_t k = strlen(kind);
	for (size_t i = 0; i < l->n; i++)
		if (strncmp(l->lines[i], kind, k) == 0 && l->lines[i][k] == ' ' &&
		    strcmp(l->lines[i] + k + 1, path) == 0)
			return (ssize_t)i;
	return -1;
}

static void ledger_add(struct ledger *l, const char *kind, const char *path)
{
	if (ledger_find(l, kind, path) >= 0)
		return;
	l->lines = xrealloc(l->lines, sizeof(char *) * (l->n + 1));
	l->lines[l->n++] = xasprintf("%s %s", kind, path);
	l->changed = true;
}

static void ledger_del(struct ledger *l, const char *kind, const char *path)
{
	ssize_t i = ledger_find(l, kind, path);
	if (i < 0)
		return;
	free(l->lines[i]);
	memmove(&l->lines[i], &l->lines[i + 1], sizeof(char *) * (l->n - (size_t)i - 1));
	l->n--;
	l->changed = true;
}

static int ledger_save(struct ledger *l, struct pp_error **err)
{
	if (!l->changed)
		return 0;
	cleanup_free char *file = ledger_path(LEDGER_FILE);
	if (l->n == 0) {
		if (unlink(file) < 0 && errno != ENOENT)
			return pp_error_set(err, errno, "remove %s", file);
		l->changed = false;
		return 0;
	}
	size_t len = 0;
	for (size_t i = 0; i < l->n; i++)
		len += strlen(l->lines[i]) + 1;
	cleanup_free char *text = xmalloc(len + 1);
	char *p = text;
	for (size_t i = 0; i < l->n; i++)
		p += sprintf(p, "%s\n", l->lines[i]);
	if (pp_write_file_atomic(file, text, len, 0600, err) < 0)
		return -1;
	l->changed = false;
	return 0;
}

int pp_pod_cgroup_create_at_parent(struct pp_pod_instance *pod, const char *cgname,
				   struct pp_error **err)
{
	const char *parent = pod->spec->cri_cgroup_parent;
	if (pp_cgroup_check_parent(parent, err) < 0)
		return -1;
	cleanup_free char *record = xasprintf("%s/" CGROUP_PARENT_FILE, pod->state_dir);
	cleanup_free char *text = xasprintf("%s\n", parent);
	if (pp_write_file_atomic(record, text, strlen(text), 0600, err) < 0)
		return -1;
	cleanup_ledger struct ledger l = {.lock = -1};
	if (ledger_open(&l, err) < 0)
		return -1;
	/* The levels missing in every hierarchy, top first, then the pod's
	 * cgroup: written down before they are made. */
	cleanup_free char *level = xstrdup(parent);
	for (char *p = strchr(level + 1, '/');; p = strchr(p + 1, '/')) {
		if (p)
			*p = '\0';
		if (pp_cgroup_path_missing(level))
			ledger_add(&l, LEVEL, level);
		if (p == NULL)
			break;
		*p = '/';
	}
	cleanup_free char *path = xasprintf("%s/%s", parent, cgname);
	ledger_add(&l, POD, path);
	if (ledger_save(&l, err) < 0)
		return -1;
	return pp_cgroup_create_pod_at(parent, cgname, &pod->cgroup, err);
}

/* After pod_path's removal: its ledger line, and the levels above it the
 * ledger lists, deepest first, while they are empty. */
static int remove_levels(const char *parent, const char *pod_path, struct pp_error **err)
{
	cleanup_ledger struct ledger l = {.lock = -1};
	if (ledger_open(&l, err) < 0)
		return -1;
	ledger_del(&l, POD, pod_path);
	cleanup_free char *level = xstrdup(parent);
	int ret = 0;
	while (level[0] == '/' && level[1] != '\0' && ledger_find(&l, LEVEL, level) >= 0) {
		int gone = pp_cgroup_remove_empty_path(level, err);
		if (gone <= 0) {
			ret = gone;
			break;
		}
		ledger_del(&l, LEVEL, level);
		*strrchr(level, '/') = '\0';
	}
	if (ledger_save(&l, ret < 0 ? NULL : err) < 0)
		return -1;
	return ret < 0 ? -1 : 0;
}

/* The pod cgroup parent/name with its processes, then remove_levels. */
static int remove_at(const char *parent, const char *name, struct pp_error **err)
{
	if (pp_cgroup_remove_pod_at(parent, name, err) < 0)
		return -1;
	cleanup_free char *path = xasprintf("%s/%s", parent, name);
	return remove_levels(parent, path, err);
}

int pp_pod_cgroup_remove_at_parent(const char *state_dir, const char *cgname, struct pp_error **err)
{
	cleanup_free char *record = xasprintf("%s/" CGROUP_PARENT_FILE, state_dir);
	cleanup_free char *parent = NULL;
	if (access(record, F_OK) < 0)
		return 0;
	if (pp_read_file(record, CGROUP_PARENT_FILE_MAX, &parent, NULL, err) < 0)
		return -1;
	parent[strcspn(parent, "\n")] = '\0';
	return remove_at(parent, cgname, err);
}

/* The uid of a ledger's pod path ("<parent>/pod-<uid>"), or NULL. */
static const char *pod_uid(const char *path)
{
	const char *base = strrchr(path, '/');
	return base && strncmp(base + 1, "pod-", 4) == 0 && base[5] ? base + 5 : NULL;
}

/* Longer paths first: a level before the levels above it. */
static int deeper_first(const void *a, const void *b)
{
	size_t la = strlen(*(char *const *)a), lb = strlen(*(char *const *)b);
	return la < lb ? 1 : la > lb ? -1 : 0;
}

/* The paths of the ledger's lines of that kind. */
static char **paths_of(const struct ledger *l, const char *kind)
{
	size_t k = strlen(kind), n = 0;
	char **v = xmalloc(sizeof(char *) * (l->n + 1));
	for (size_t i = 0; i < l->n; i++)
		if (strncmp(l->lines[i], kind, k) == 0 && l->lines[i][k] == ' ')
			v[n++] = xstrdup(l->lines[i] + k + 1);
	v[n] = NULL;
	return v;
}

int pp_pod_cgroup_parents_gc(struct pp_error **err)
{
	/* Under the lock throughout: a sandbox whose record appears after
	 * the check below waits for it before its mkdirs (its record comes
	 * first), so gc never takes a live sandbox's cgroup. */
	cleanup_ledger struct ledger l = {.lock = -1};
	if (ledger_open(&l, err) < 0)
		return -1;
	int ret = 0;
	/* Pods whose record is gone: their cgroups, with their processes. */
	cleanup_strv char **pods = paths_of(&l, POD);
	for (size_t i = 0; pods[i] != NULL; i++) {
		const char *uid = pod_uid(pods[i]);
		cleanup_free char *state = uid ? pp_state_dir(uid) : NULL;
		if (state == NULL || access(state, F_OK) == 0)
			continue;
		cleanup_free char *parent = xstrdup(pods[i]);
		*strrchr(parent, '/') = '\0';
		if (pp_cgroup_remove_pod_at(parent, uid - strlen("pod-"), ret < 0 ? NULL : err) < 0)
			ret = -1;
		else
			ledger_del(&l, POD, pods[i]);
	}
	/* Then the levels left empty: the deepest first (the longest path),
	 * so that a level's removal lets the one above it go. */
	cleanup_strv char **levels = paths_of(&l, LEVEL);
	size_t n_levels = 0;
	while (levels[n_levels] != NULL)
		n_levels++;
	qsort(levels, n_levels, sizeof(char *), deeper_first);
	for (size_t i = 0; i < n_levels; i++) {
		int gone = pp_cgroup_remove_empty_path(levels[i], ret < 0 ? NULL : err);
		if (gone < 0)
			ret = -1;
		else if (gone == 1)
			ledger_del(&l, LEVEL, levels[i]);
	}
	if (ledger_save(&l, ret < 0 ? NULL : err) < 0)
		return -1;
	return ret;
}
