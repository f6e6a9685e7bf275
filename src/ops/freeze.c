/* What `peapod pause` and `unpause` do: a request to the pod's supervisor, which freezes or
 * thaws the pod's cgroup and records it in status.json. */
#include "ops/ops.h"
#include "supervisor/control.h"
#include "util/cleanup.h"

int pp_pod_freeze(const char *ns, const char *name, bool freeze, struct pp_error **err)
{
	struct pp_pod_view v;
	if (pp_pod_view_load(ns, name, &v, err) < 0)
		return -1;
	int ret = 0;
	if (v.finished || !v.alive) {
		ret = pp_error_set(err, 0, "pod \"%s\" is not running", name);
	} else {
		cleanup_close int fd = pp_ctl_connect(v.uid, err);
		if (fd < 0 ||
		    pp_ctl_call(fd, freeze ? "freeze" : "thaw", NULL, NULL, NULL, err) < 0)
			ret = pp_pod_ctl_failed(&v, err);
	}
	pp_pod_view_free(&v);
	return ret;
}
