/* A pod's imagePullSecrets made credentials for a pull, as kubelet's
 * image manager does (pkg/kubelet/images, credentialprovider/secrets):
 * each named Secret of the pod's namespace, of type
 * kubernetes.io/dockerconfigjson or kubernetes.io/dockercfg, into one
 * keyring (src/pull/credentials.h); a Secret that cannot be read is told in
 * a FailedToRetrieveImagePullSecret event and the pull goes on without it.
 * The values stay in the supervisor's memory (and its pull child's, a
 * fork): never in an event, a log, a command line or an environment. */
#include <string.h>

#include "objects/objects.h"
#include "pull/credentials.h"
#include "supervisor/supervisor_internal.h"
#include "util/cleanup.h"
#include "util/image_reference.h"

static int add_secret(struct pp_keyring *kr, const struct pp_config_object *o,
		      struct pp_error **err)
{
	bool json = strcmp(o->type, "kubernetes.io/dockerconfigjson") == 0;
	bool cfg = strcmp(o->type, "kubernetes.io/dockercfg") == 0;
	if (!json && !cfg)
		return 0; /* kubelet passes other types over */
	const struct pp_data_item *it =
	    pp_object_find(o, json ? ".dockerconfigjson" : ".dockercfg");
	if (it == NULL || it->len == 0)
		return 0;
	cleanup_free char *what =
	    xasprintf("secret \"%s\" (%s)", o->name, json ? ".dockerconfigjson" : ".dockercfg");
	return pp_keyring_add(kr, (const char *)it->value, it->len, cfg, what, err);
}

int sup_pull_credentials(struct sup *s, const char *image, struct pp_keyring *kr,
			 const struct pp_credential ***creds, size_t *n, struct pp_error **err)
{
	const struct pp_pod *pod = s->pod->spec;
	*creds = NULL;
	*n = 0;
	cleanup_free char *missing = NULL;
	for (size_t i = 0; i < pod->n_image_pull_secrets; i++) {
		const char *name = pod->image_pull_secrets[i].name;
		if (name == NULL || *name == '\0')
			continue;
		struct pp_config_object *o = NULL;
		struct pp_error *e = NULL;
		int r = pp_object_get(PP_OBJ_SECRET, pod->namespace_, name, &o, &e);
		pp_error_free(&e);
		if (r < 0) {
			char *m = missing ? xasprintf("%s, %s", missing, name) : xstrdup(name);
			free(missing);
			missing = m;
			continue;
		}
		r = add_secret(kr, o, err);
		pp_object_free(o);
		if (r < 0)
			return -1;
	}
	if (missing)
		sup_event(s, PP_EVENT_WARNING, NULL, "FailedToRetrieveImagePullSecret",
			  "Unable to retrieve some image pull secrets (%s); attempting to pull the "
			  "image may not succeed.",
			  missing);
	if (kr->n == 0)
		return 0;
	struct pp_image_ref ref = {0};
	if (pp_image_ref_parse(image, &ref, err) < 0)
		return -1;
	cleanup_free char *repo = pp_image_ref_repository(&ref);
	pp_image_ref_free(&ref);
	pp_keyring_lookup(kr, repo, creds, n);
	return 0;
}
