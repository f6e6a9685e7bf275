/* Deployment: its ReplicaSets, one per template (NAME-<pod-template-hash>),
 * rolled by RollingUpdate or Recreate as the deployment controller does. */
#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>

#include "controller/controller.h"
#include "controller/controller_internal.h"
#include "util/cleanup.h"

static int deploy_sync(struct pp_ctrl *c, struct pp_error **err)
{
	(void)err;
	return 0;
}

const struct pp_ctrl_kind pp_ctrl_deployment = {
    .kind = PP_WL_DEPLOYMENT,
    .sync = deploy_sync,
    .owns_pods_of_children = true,
};
