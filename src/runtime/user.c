/* The container's user, resolved as runc does: against the container's own
 * /etc/passwd and /etc/group (read after pivot_root, so never the host's;
 * NSS is not used, since it would load host libraries). */
#include <fcntl.h>
#include <grp.h>
#include <linux/openat2.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "runtime/runtime.h"
#include "util/cleanup.h"

/* passwd has 7 fields, group 4: we read the first 4 of either. */
#define ENTRY_FIELDS 4

struct entry_query {
	const char *name; /* match by name, or else by id */
	unsigned id;
	bool found;
	char *found_name;
	unsigned found_id, found_gid;
};

/* Parses a decimal id; false when s is not one. */
static bool parse_id(const char *s, unsigned *out)
{
	if (*s == '\0' || s[strspn(s, "0123456789")] != '\0')
		return false;
	errno = 0;
	unsigned long v = strtoul(s, NULL, 10);
	if (errno != 0 || v >= UINT32_MAX) /* (uid_t)-1 is no id */
		return false;
	*out = (unsigned)v;
	return true;
}

typedef int (*entry_fn)(char **fields, size_t n, void *data);

/* Calls fn on each line of a colon-separated file, split into fields, until
 * fn returns non-zero. A missing file has no entries. */
static int for_each_entry(const char *path, entry_fn fn, void *data, struct pp_error **err)
{
	/* The file is the image's: no magic link (/proc/self/fd/N of one of
	 * our fds) is followed, and only a regular file is read (a FIFO would
	 * block the setup). */
	struct open_how how = {.flags = O_RDONLY | O_NONBLOCK | O_CLOEXEC,
			       .resolve = RESOLVE_NO_MAGICLINKS};
	int fd = (int)syscall(SYS_openat2, AT_FDCWD, path, &how, sizeof(how));
	if (fd < 0)
		return errno == ENOENT ? 0 : pp_error_set(err, errno, "open %s", path);
	struct stat st;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return pp_error_set(err, EINVAL, "%s is not a regular file", path);
	}
	cleanup_fclose FILE *f = fdopen(fd, "r");
	if (f == NULL) {
		close(fd);
		return pp_error_set(err, errno, "open %s", path);
	}
	cleanup_free char *line = NULL;
	size_t cap = 0;
	while (getline(&line, &cap, f) > 0) {
		line[strcspn(line, "\n")] = '\0';
		char *fields[ENTRY_FIELDS];
		size_t n = 0;
		for (char *p = line; p != NULL && n < ENTRY_FIELDS;)
			fields[n++] = strsep(&p, ":");
		if (fn(fields, n, data) != 0)
			return 0;
	}
	return 0;
}

/* passwd: name:x:uid:gid:..., group: name:x:gid:members; both match here
 * on name or on the id in field 2. */
static int match_entry(char **f, size_t n, void *data)
{
	struct entry_query *q = data;
	unsigned id, gid = 0;
	if (n < 3 || !parse_id(f[2], &id))
		return 0;
	if (q->name != NULL ? strcmp(f[0], q->name) != 0 : id != q->id)
		return 0;
	if (n > 3)
		parse_id(f[3], &gid);
	q->found = true;
	q->found_name = xstrdup(f[0]);
	q->found_id = id;
	q->found_gid = gid;
	return 1;
}

struct group_list {
	const char *user;
	gid_t *gids;
	size_t n;
};

static void group_list_add(struct group_list *l, gid_t gid)
{
	for (size_t i = 0; i < l->n; i++)
		if (l->gids[i] == gid)
			return;
	l->gids = xrealloc(l->gids, (l->n + 1) * sizeof(gid_t));
	l->gids[l->n++] = gid;
}

/* Adds the groups that list the user as a member. */
static int add_member_group(char **f, size_t n, void *data)
{
	struct group_list *l = data;
	unsigned gid;
	if (n < 4 || !parse_id(f[2], &gid))
		return 0;
	for (char *p = f[3], *m; (m = strsep(&p, ",")) != NULL;)
		if (strcmp(m, l->user) == 0)
			group_list_add(l, gid);
	return 0;
}

/* The user part: uid, primary gid and (when in passwd) name. A numeric uid
 * missing from passwd is fine (gid 0), an unknown name is not. */
static int resolve_user_part(const struct pp_identity *id, const char *spec,
			     const char *passwd_path, struct pp_exec_user *out, char **name,
			     struct pp_error **err)
{
	struct entry_query q = {0};
	unsigned uid = 0;
	if (id->has_uid)
		uid = id->uid;
	else if (*spec != '\0' && !parse_id(spec, &uid))
		q.name = spec;
	q.id = uid;
	if (for_each_entry(passwd_path, match_entry, &q, err) < 0)
		return -1;
	if (!q.found && q.name != NULL)
		return pp_error_set(
		    err, 0, "unable to find user %s: no matching entries in passwd file", spec);
	out->uid = q.found ? q.found_id : uid;
	out->gid = q.found ? q.found_gid : 0;
	*name = q.found_name;
	return 0;
}

static int resolve_group_part(const char *group, const char *group_path, gid_t *gid,
			      struct pp_error **err)
{
	unsigned id;
	if (parse_id(group, &id)) {
		*gid = id;
		return 0;
	}
	struct entry_query q = {.name = group};
	if (for_each_entry(group_path, match_entry, &q, err) < 0)
		return -1;
	if (!q.found)
		return pp_error_set(
		    err, 0, "unable to find group %s: no matching entries in group file", group);
	free(q.found_name);
	*gid = q.found_id;
	return 0;
}

int pp_user_resolve(const struct pp_identity *id, const char *passwd_path, const char *group_path,
		    struct pp_exec_user *out, struct pp_error **err)
{
	cleanup_free char *spec = xstrdup(id->user != NULL ? id->user : "");
	cleanup_free char *name = NULL;
	char *group = strchr(spec, ':');
	if (group != NULL)
		*group++ = '\0';
	/* runAsUser replaces the image's user, group included (containerd). */
	if (id->has_uid)
		group = NULL;
	*out = (struct pp_exec_user){0};
	if (resolve_user_part(id, spec, passwd_path, out, &name, err) < 0)
		return -1;
	bool group_given = group != NULL && *group != '\0';
	if (group_given && resolve_group_part(group, group_path, &out->gid, err) < 0)
		return -1;
	if (id->has_gid)
		out->gid = id->gid;
	struct group_list l = {.user = name};
	group_list_add(&l, out->gid);
	/* As runc: the user's groups from /etc/group unless a group was named. */
	if (name != NULL && !group_given &&
	    for_each_entry(group_path, add_member_group, &l, err) < 0) {
		free(l.gids);
		return -1;
	}
	for (size_t i = 0; i < id->n_extra_gids; i++)
		group_list_add(&l, id->extra_gids[i]);
	out->groups = l.gids;
	out->n_groups = l.n;
	return 0;
}

void pp_exec_user_free(struct pp_exec_user *u)
{
	free(u->groups);
	u->groups = NULL;
	u->n_groups = 0;
}

/* Groups first: once the uid is not 0 we may no longer change them. */
int pp_user_switch(const struct pp_exec_user *u, struct pp_error **err)
{
	if (setgroups(u->n_groups, u->groups) < 0)
		return pp_error_set(err, errno, "setgroups");
	if (setresgid(u->gid, u->gid, u->gid) < 0)
		return pp_error_set(err, errno, "setresgid %u", (unsigned)u->gid);
	if (setresuid(u->uid, u->uid, u->uid) < 0)
		return pp_error_set(err, errno, "setresuid %u", (unsigned)u->uid);
	return 0;
}
