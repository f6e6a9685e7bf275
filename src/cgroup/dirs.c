/* Where a cgroup's control files are, for each layout. */
#include "cgroup/cgroup_ops.h"

#include "util/cleanup.h"

#define CGROUP_ROOT "/sys/fs/cgroup"

char *pp_cgroup_unified_dir_of(const char *path)
{
	enum pp_cgroup_layout layout;
	if (pp_cgroup_layout(&layout, NULL) < 0)
		return NULL;
	switch (layout) {
	case PP_CGROUP_V2:
		return xasprintf(CGROUP_ROOT "%s", path);
	case PP_CGROUP_HYBRID:
		return xasprintf(CGROUP_ROOT "/unified%s", path);
	case PP_CGROUP_V1:
	default:
		return NULL;
	}
}

char *pp_cgroup_v1_dir_of(const char *path, const char *controller)
{
	enum pp_cgroup_layout layout;
	if (pp_cgroup_layout(&layout, NULL) < 0 || layout == PP_CGROUP_V2)
		return NULL;
	return xasprintf(CGROUP_ROOT "/%s%s", controller, path);
}

char *pp_cgroup_unified_dir(const struct pp_cgroup *cg)
{
	return pp_cgroup_unified_dir_of(pp_cgroup_path(cg));
}

char *pp_cgroup_v1_dir(const struct pp_cgroup *cg, const char *controller)
{
	return pp_cgroup_v1_dir_of(pp_cgroup_path(cg), controller);
}
