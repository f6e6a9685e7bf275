/* get -w: woken by the pods' records changing (inotify), never polling. A
 * supervisor renames each new status.json into its state directory; apply
 * links a name into names/<ns>/ and makes the state directory; delete
 * removes both. The watches are laid again after each wake, on whatever
 * directories exist by then. Appends to a pod's events file wake it too
 * (events -w). */
#include <poll.h>
#include <stdlib.h>
#include <unistd.h>
#include <sys/inotify.h>

#include "ops/ops.h"
#include "state/podstate.h"
#include "util/cleanup.h"
#include "util/dir.h"

#define WATCH_MASK                                                                                 \
	(IN_CREATE | IN_MOVED_TO | IN_CLOSE_WRITE | IN_MODIFY | IN_DELETE | IN_MOVED_FROM)
#define INOTIFY_BUF 8192

struct pp_pod_watch {
	int fd;
};

/* dir and each directory in it */
static void watch_dir_and_children(int fd, const char *dir)
{
	if (inotify_add_watch(fd, dir, WATCH_MASK) < 0)
		return;
	cleanup_dir struct pp_dir d = PP_DIR_INIT;
	struct dirent *de;
	if (pp_dir_open(&d, dir, PP_DIR_MISSING_OK, NULL) < 0)
		return;
	while (pp_dir_next(&d, &de, NULL) > 0) {
		if (de->d_type != DT_DIR && de->d_type != DT_UNKNOWN)
			continue;
		cleanup_free char *sub = xasprintf("%s/%s", dir, de->d_name);
		(void)inotify_add_watch(fd, sub, WATCH_MASK);
	}
}

static void watch_all(int fd)
{
	const char *run = pp_run_dir();
	(void)inotify_add_watch(fd, run, WATCH_MASK);
	cleanup_free char *pods = xasprintf("%s/pods", run);
	cleanup_free char *names = xasprintf("%s/names", run);
	watch_dir_and_children(fd, pods);
	watch_dir_and_children(fd, names);
}

int pp_pod_watch_open(struct pp_pod_watch **out, struct pp_error **err)
{
	int fd = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
	if (fd < 0)
		return pp_error_set(err, errno, "inotify_init1");
	*out = xmalloc(sizeof(**out));
	(*out)->fd = fd;
	watch_all(fd);
	return 0;
}

int pp_pod_watch_next(struct pp_pod_watch *w, struct pp_error **err)
{
	struct pollfd p = {.fd = w->fd, .events = POLLIN};
	if (poll(&p, 1, -1) < 0)
		return pp_error_set(err, errno, "poll on inotify");
	char buf[INOTIFY_BUF] __attribute__((aligned(__alignof__(struct inotify_event))));
	while (read(w->fd, buf, sizeof(buf)) > 0)
		;
	watch_all(w->fd);
	return 0;
}

void pp_pod_watch_free(struct pp_pod_watch *w)
{
	if (w == NULL)
		return;
	close(w->fd);
	free(w);
}
