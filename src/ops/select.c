/* Which pods a label selector (-l) and a field selector (--field-selector)
 * pick, for get, delete, logs, describe and wait. */
#include <stdlib.h>
#include <string.h>

#include "ops/ops.h"
#include "util/labelsel.h"

const char *const pp_pod_selector_fields[] = {"metadata.name", "metadata.namespace", "status.phase",
					      NULL};

static const char *label_of(void *ctx, const char *key)
{
	struct json_object *labels = NULL, *meta = NULL, *v = NULL;
	if (!json_object_object_get_ex(ctx, "metadata", &meta) ||
	    !json_object_object_get_ex(meta, "labels", &labels) ||
	    !json_object_object_get_ex(labels, key, &v) || v == NULL)
		return NULL;
	return json_object_get_string(v);
}

static const char *field_of(void *ctx, const char *key)
{
	const struct pp_pod_view *v = ctx;
	if (strcmp(key, "metadata.name") == 0)
		return v->name;
	if (strcmp(key, "metadata.namespace") == 0)
		return v->ns;
	const char *s = pp_pod_view_str(v, key);
	return s ? s : "";
}

bool pp_pod_view_selected(const struct pp_pod_view *v, const struct pp_selector *labels,
			  const struct pp_selector *fields)
{
	return (labels == NULL || pp_selector_matches(labels, label_of, v->obj)) &&
	       (fields == NULL || pp_selector_matches(fields, field_of, (void *)v));
}

/* As the API server lists them: by namespace, then name. */
static int by_namespace_and_name(const void *a, const void *b)
{
	const struct pp_pod_view *x = a, *y = b;
	int c = strcmp(x->ns, y->ns);
	return c ? c : strcmp(x->name, y->name);
}

int pp_pod_views_select(const char *ns, const struct pp_selector *labels,
			const struct pp_selector *fields, struct pp_pod_view **views, size_t *n,
			struct pp_error **err)
{
	if (pp_pod_views_list(ns, views, n, err) < 0)
		return -1;
	size_t kept = 0;
	for (size_t i = 0; i < *n; i++) {
		pp_pod_view_attach_spec(&(*views)[i]);
		if (pp_pod_view_selected(&(*views)[i], labels, fields))
			(*views)[kept++] = (*views)[i];
		else
			pp_pod_view_free(&(*views)[i]);
	}
	*n = kept;
	if (*n > 1)
		qsort(*views, *n, sizeof(**views), by_namespace_and_name);
	return 0;
}
