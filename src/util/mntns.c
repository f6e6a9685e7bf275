#include "util/mntns.h"

#include <fcntl.h>
#include <sched.h>
#include <stdlib.h>
#include <unistd.h>

#define OWN_MNTNS "/proc/self/ns/mnt"

static void close_all(struct pp_mntns_visit *v)
{
	int *fds[] = {&v->home, &v->root, &v->cwd};
	for (size_t i = 0; i < sizeof(fds) / sizeof(fds[0]); i++) {
		if (*fds[i] >= 0)
			close(*fds[i]);
		*fds[i] = -1;
	}
}

int pp_mntns_enter(struct pp_mntns_visit *v, int target, struct pp_error **err)
{
	v->home = open(OWN_MNTNS, O_RDONLY | O_CLOEXEC);
	v->root = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
	v->cwd = open(".", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (v->home < 0 || v->root < 0 || v->cwd < 0) {
		int e = errno;
		close_all(v);
		return pp_error_set(err, e, "open our mount namespace, root and working directory");
	}
	if ((target >= 0 ? setns(target, CLONE_NEWNS) : unshare(CLONE_NEWNS)) < 0) {
		int e = errno;
		close_all(v);
		return pp_error_set(err, e, "%s",
				    target >= 0 ? "enter a mount namespace"
						: "a new mount namespace");
	}
	return 0;
}

void pp_mntns_leave(struct pp_mntns_visit *v)
{
	if (v->home < 0)
		return;
	int saved = errno;
	if (setns(v->home, CLONE_NEWNS) < 0 || fchdir(v->root) < 0 || chroot(".") < 0 ||
	    fchdir(v->cwd) < 0)
		abort();
	close_all(v);
	errno = saved;
}
