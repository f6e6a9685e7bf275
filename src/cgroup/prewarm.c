/* Starting the cgroup migration's grace period early (see cgroup.h). */
#include <fcntl.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "cgroup/cgroup_internal.h"
#include "util/cleanup.h"
#include "util/proc.h"

pid_t pp_cgroup_prewarm(void)
{
	const struct cg_host *h = NULL;
	if (getenv("PEAPOD_NO_PREWARM") != NULL || cg_host(&h, NULL) < 0 || h->n_member == 0)
		return -1;
	const char *parent = getenv("PEAPOD_CGROUP_PARENT");
	cleanup_free char *procs =
	    xasprintf("%s/%s/cgroup.procs", h->member[h->n_member - 1],
		      parent != NULL && *parent != '\0' ? parent : CGROUP_DEFAULT_PARENT);
	/* Only where peapod's parent exists already: nothing is created. */
	int fd = open(procs, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	pid_t pid = fork();
	if (pid == 0) {
		prctl(PR_SET_NAME, "peapod-prewarm", 0, 0, 0);
		pp_stdio_to_devnull();
		/* It moves itself in ("0") and is gone: the parent cgroup is
		 * left as it was. A refusal (v2's no-internal-processes rule)
		 * comes after the wait, which is all that is wanted. */
		(void)!write(fd, "0", 1);
		_exit(0);
	}
	close(fd);
	return pid;
}
