#include "util/netns.h"

#include <fcntl.h>
#include <sched.h>
#include <stdlib.h>
#include <unistd.h>

#define OWN_NETNS "/proc/self/ns/net"

int pp_netns_enter(struct pp_netns_visit *v, int target, struct pp_error **err)
{
	if (v->home < 0) {
		v->home = open(OWN_NETNS, O_RDONLY | O_CLOEXEC);
		if (v->home < 0)
			return pp_error_set(err, errno, "open %s", OWN_NETNS);
	}
	if (setns(target, CLONE_NEWNET) < 0)
		return pp_error_set(err, errno, "enter the pod's network namespace");
	v->inside = true;
	return 0;
}

void pp_netns_leave(struct pp_netns_visit *v)
{
	if (!v->inside)
		return;
	int saved = errno;
	if (setns(v->home, CLONE_NEWNET) < 0)
		abort();
	v->inside = false;
	errno = saved;
}

void pp_netns_visit_end(struct pp_netns_visit *v)
{
	pp_netns_leave(v);
	if (v->home >= 0) {
		int saved = errno;
		close(v->home);
		v->home = -1;
		errno = saved;
	}
}
