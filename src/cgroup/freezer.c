/* Freezing and thawing a cgroup: cgroup v2's cgroup.freeze (on the unified
 * hierarchy, also on the hybrid layout) or the v1 freezer. */
#include "cgroup/cgroup_ops.h"

#include <fcntl.h>
#include <poll.h>
#include <string.h>
#include <time.h>

#include "util/cleanup.h"
#include "util/clock.h"
#include "util/fs.h"

/* v1: FREEZING turns into FROZEN asynchronously; poll its state this often. */
#define FREEZER_V1_POLL_NS (1000 * 1000)

static int write_str(const char *file, const char *value, struct pp_error **err)
{
	cleanup_close int fd = open(file, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return pp_error_set(err, errno, "open %s", file);
	size_t len = strlen(value);
	if (write(fd, value, len) != (ssize_t)len)
		return pp_error_set(err, errno, "write %s to %s", value, file);
	return 0;
}

/* The value of "key N" in a flat-keyed cgroup file, -1 when absent. */
static long long keyed_value(const char *text, const char *key)
{
	size_t klen = strlen(key);
	for (const char *p = text; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL)
		if (strncmp(p, key, klen) == 0 && p[klen] == ' ')
			return strtoll(p + klen + 1, NULL, 10);
	return -1;
}

static int v2_frozen(const char *dir)
{
	cleanup_free char *events = xasprintf("%s/cgroup.events", dir);
	cleanup_free char *text = NULL;
	if (pp_read_file(events, 4096, &text, NULL, NULL) < 0)
		return -1;
	return keyed_value(text, "frozen") == 1;
}

/* cgroup.events is pollable (POLLPRI) and changes when "frozen" flips. */
static int v2_freeze(const char *dir, bool frozen, struct pp_error **err)
{
	cleanup_free char *file = xasprintf("%s/cgroup.freeze", dir);
	cleanup_free char *events = xasprintf("%s/cgroup.events", dir);
	cleanup_close int efd = open(events, O_RDONLY | O_CLOEXEC);
	if (efd < 0)
		return pp_error_set(err, errno, "open %s", events);
	if (write_str(file, frozen ? "1" : "0", err) < 0)
		return -1;
	int64_t deadline = pp_monotonic_ms() + PP_CGROUP_FREEZE_TIMEOUT_MS;
	for (;;) {
		int state = v2_frozen(dir);
		if (state < 0)
			return pp_error_set(err, errno, "read %s", events);
		if (state == (int)frozen)
			return 0;
		int left = pp_ms_left(deadline);
		if (left == 0)
			return pp_error_set(err, ETIMEDOUT, "%s did not become %s", dir,
					    frozen ? "frozen" : "thawed");
		struct pollfd p = {.fd = efd, .events = POLLPRI};
		if (poll(&p, 1, left) < 0 && errno != EINTR)
			return pp_error_set(err, errno, "poll %s", events);
	}
}

static int v1_state(const char *dir, char *buf, size_t size)
{
	cleanup_free char *file = xasprintf("%s/freezer.state", dir);
	cleanup_free char *text = NULL;
	if (pp_read_file(file, 64, &text, NULL, NULL) < 0)
		return -1;
	snprintf(buf, size, "%s", text);
	buf[strcspn(buf, "\n")] = '\0';
	return 0;
}

/* As runc does: write FROZEN until freezer.state reads FROZEN (a write while
 * FREEZING restarts the walk over tasks that forked meanwhile). */
static int v1_freeze(const char *dir, bool frozen, struct pp_error **err)
{
	cleanup_free char *file = xasprintf("%s/freezer.state", dir);
	const char *want = frozen ? "FROZEN" : "THAWED";
	const struct timespec wait = {0, FREEZER_V1_POLL_NS};
	int64_t deadline = pp_monotonic_ms() + PP_CGROUP_FREEZE_TIMEOUT_MS;
	for (;;) {
		if (write_str(file, want, err) < 0)
			return -1;
		char state[32];
		if (v1_state(dir, state, sizeof(state)) < 0)
			return pp_error_set(err, errno, "read %s", file);
		if (strcmp(state, want) == 0)
			return 0;
		if (pp_monotonic_ms() >= deadline)
			return pp_error_set(err, ETIMEDOUT, "%s stays %s", dir, state);
		nanosleep(&wait, NULL);
	}
}

int pp_cgroup_freeze(const struct pp_cgroup *cg, bool frozen, struct pp_error **err)
{
	cleanup_free char *dir = pp_cgroup_unified_dir(cg);
	bool v2 = dir != NULL;
	if (!v2)
		dir = pp_cgroup_v1_dir(cg, "freezer");
	if (dir == NULL)
		return pp_error_set(err, ENOTSUP, "no freezer for cgroup %s", pp_cgroup_path(cg));
	int ret = v2 ? v2_freeze(dir, frozen, err) : v1_freeze(dir, frozen, err);
	if (ret < 0 && frozen) {
		/* Half frozen is worse than not at all: undo it. */
		if (v2)
			v2_freeze(dir, false, NULL);
		else
			v1_freeze(dir, false, NULL);
	}
	return ret < 0 ? pp_error_wrap(err, frozen ? "freeze" : "thaw") : 0;
}
