/* The ids the CRI gives peapod's pods and containers, and finding a pod or
 * a container again from one (or from a unique prefix of one, as crictl's
 * short ids are). Nothing is stored: an id is derived from the pod's uid
 * (and the container's name), so a CRI server restarted after a SIGKILL
 * finds every sandbox and container again from the pods' records. */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "cri/cri_internal.h"
#include "ops/ops.h"
#include "state/podstate.h"
#include "util/cleanup.h"
#include "util/digest.h"
#include "util/mem.h"

static void hex_id(const char *s, char out[CRI_ID_LEN + 1])
{
	struct pp_error *err = NULL;
	/* libcrypto missing: no id can be made; an empty one matches nothing */
	if (pp_digest_hex(PP_DIGEST_SHA256, s, strlen(s), out, &err) < 0) {
		pp_error_free(&err);
		out[0] = '\0';
	}
}

void cri_sandbox_id(const char *uid, char out[CRI_ID_LEN + 1])
{
	hex_id(uid, out);
}

void cri_container_id(const char *uid, const char *name, char out[CRI_ID_LEN + 1])
{
	cleanup_free char *s = xasprintf("%s/%s", uid, name);
	hex_id(s, out);
}

/* id is a whole id or a prefix of one: 0 no match, 1 whole, 2 prefix */
static int id_match(const char *want, const char *id)
{
	size_t n = strlen(want);
	if (n == 0 || strncmp(want, id, n) != 0)
		return 0;
	return id[n] == '\0' ? 1 : 2;
}

/* The names of every container in the view's status: init, app and
 * ephemeral ones. */
static void each_container(struct json_object *obj, void (*fn)(void *, const char *), void *arg)
{
	static const char *const lists[] = {"initContainerStatuses", "containerStatuses",
					    "ephemeralContainerStatuses"};
	struct json_object *status = NULL;
	if (!json_object_object_get_ex(obj, "status", &status))
		return;
	for (size_t l = 0; l < sizeof(lists) / sizeof(lists[0]); l++) {
		struct json_object *a = NULL;
		if (!json_object_object_get_ex(status, lists[l], &a) ||
		    !json_object_is_type(a, json_type_array))
			continue;
		for (size_t i = 0; i < json_object_array_length(a); i++) {
			struct json_object *name = NULL;
			if (json_object_object_get_ex(json_object_array_get_idx(a, i), "name",
						      &name) &&
			    json_object_is_type(name, json_type_string))
				fn(arg, json_object_get_string(name));
		}
	}
}

struct find {
	const char *want;
	const char *uid;
	int matches; /* pods or containers that match */
	bool exact;
	char *container; /* the match's name */
};

static void match_container(void *arg, const char *name)
{
	struct find *f = arg;
	char id[CRI_ID_LEN + 1];
	cri_container_id(f->uid, name, id);
	int m = id_match(f->want, id);
	if (m == 0 || (f->exact && m == 2))
		return;
	if (m == 1 && !f->exact) { /* a whole id wins over prefixes */
		f->exact = true;
		f->matches = 0;
	}
	f->matches++;
	free(f->container);
	f->container = xstrdup(name);
}

static int find(const char *id, bool container, struct pp_pod_view *out, char **name,
		struct pp_error **err)
{
	struct pp_pod_view *views = NULL;
	size_t n = 0;
	if (pp_pod_views_list(NULL, &views, &n, err) < 0)
		return -1;
	struct find f = {.want = id};
	size_t hit = n;
	for (size_t i = 0; i < n; i++) {
		f.uid = views[i].uid;
		int before = f.matches;
		bool was_exact = f.exact;
		if (container) {
			each_container(views[i].obj, match_container, &f);
		} else {
			char sid[CRI_ID_LEN + 1];
			cri_sandbox_id(views[i].uid, sid);
			int m = id_match(id, sid);
			if (m == 0 || (f.exact && m == 2))
				continue;
			if (m == 1 && !f.exact) {
				f.exact = true;
				f.matches = 0;
				before = 0;
			}
			f.matches++;
		}
		if (f.matches != before || f.exact != was_exact)
			hit = i;
	}
	int r = 0;
	const char *what = container ? "container" : "sandbox";
	if (f.matches == 0 || hit == n) {
		r = pp_error_set(err, ENOENT, "%s \"%s\" not found", what, id);
	} else if (f.matches > 1) {
		r = pp_error_set(err, EINVAL, "%s id \"%s\" is ambiguous: %d %ss begin with it",
				 what, id, f.matches, what);
	} else {
		*out = views[hit];
		memset(&views[hit], 0, sizeof(views[hit]));
		if (name) {
			*name = f.container;
			f.container = NULL;
		}
	}
	free(f.container);
	pp_pod_views_free(views, n);
	return r;
}

int cri_find_sandbox(const char *id, struct pp_pod_view *out, struct pp_error **err)
{
	return find(id, false, out, NULL, err);
}

int cri_find_container(const char *id, struct pp_pod_view *out, char **name, struct pp_error **err)
{
	return find(id, true, out, name, err);
}

bool cri_view_is_cri(const struct pp_pod_view *v)
{
	cleanup_free char *path = pp_state_file(v->uid, CRI_SANDBOX_FILE);
	return access(path, F_OK) == 0;
}
