/* A docker-archive's manifest.json (archive.h): pure parsing over json-c. */
#include <json-c/json.h>
#include <string.h>

#include "image/archive.h"
#include "image/oci.h"
#include "util/cleanup.h"

bool pp_archive_member_name_ok(const char *name)
{
	if (name[0] == '\0' || name[0] == '/')
		return false;
	for (const char *p = name; *p;) {
		size_t n = strcspn(p, "/");
		if (n == 0 || (n == 2 && p[0] == '.' && p[1] == '.'))
			return false;
		p += n;
		if (*p == '/')
			p++;
	}
	return true;
}

static int member_name(struct json_object *v, const char *field, char **out, struct pp_error **err)
{
	if (v == NULL || !json_object_is_type(v, json_type_string))
		return pp_error_set(err, EINVAL, "%s: not a string", field);
	const char *s = json_object_get_string(v);
	if (strlen(s) != (size_t)json_object_get_string_len(v) || !pp_archive_member_name_ok(s))
		return pp_error_set(err, EINVAL, "%s: \"%s\" is not a relative member name", field,
				    s);
	*out = xstrdup(s);
	return 0;
}

/* An array of strings of at most max entries; names checked when members. */
static int string_array(struct json_object *arr, const char *field, size_t max, bool members,
			char ***out, size_t *n, struct pp_error **err)
{
	if (arr == NULL || !json_object_is_type(arr, json_type_array))
		return pp_error_set(err, EINVAL, "%s: not an array", field);
	size_t len = json_object_array_length(arr);
	if (len > max)
		return pp_error_set(err, EFBIG, "%s: more than %zu entries", field, max);
	char **v = xmalloc((len + 1) * sizeof(char *));
	memset(v, 0, (len + 1) * sizeof(char *));
	*out = v;
	for (size_t i = 0; i < len; i++) {
		struct json_object *e = json_object_array_get_idx(arr, i);
		cleanup_free char *f = xasprintf("%s[%zu]", field, i);
		if (members) {
			if (member_name(e, f, &v[i], err) < 0)
				return -1;
		} else if (!json_object_is_type(e, json_type_string)) {
			return pp_error_set(err, EINVAL, "%s: not a string", f);
		} else {
			v[i] = xstrdup(json_object_get_string(e));
		}
	}
	if (n != NULL)
		*n = len;
	return 0;
}

static int parse_image(struct json_object *o, size_t i, struct pp_docker_archive_image *img,
		       struct pp_error **err)
{
	struct json_object *v = NULL;
	cleanup_free char *f = xasprintf("[%zu].Config", i);
	if (!json_object_is_type(o, json_type_object))
		return pp_error_set(err, EINVAL, "[%zu]: not an object", i);
	json_object_object_get_ex(o, "Config", &v);
	if (member_name(v, f, &img->config, err) < 0)
		return -1;
	free(f);
	f = xasprintf("[%zu].Layers", i);
	v = NULL;
	json_object_object_get_ex(o, "Layers", &v);
	if (string_array(v, f, PP_OCI_LAYERS_MAX, true, &img->layers, &img->n_layers, err) < 0)
		return -1;
	free(f);
	f = xasprintf("[%zu].RepoTags", i);
	v = NULL;
	/* null or absent: an untagged image */
	if (json_object_object_get_ex(o, "RepoTags", &v) && v != NULL)
		return string_array(v, f, PP_ARCHIVE_TAGS_MAX, false, &img->repo_tags, NULL, err);
	return 0;
}

static struct json_object *parse_json(const char *what, const void *data, size_t len,
				      struct pp_error **err)
{
	if (len > PP_ARCHIVE_MANIFEST_MAX) {
		pp_error_set(err, EFBIG, "%s: more than %u bytes", what, PP_ARCHIVE_MANIFEST_MAX);
		return NULL;
	}
	struct json_tokener *tok = json_tokener_new_ex(PP_ARCHIVE_JSON_DEPTH);
	struct json_object *root = json_tokener_parse_ex(tok, data, (int)len);
	enum json_tokener_error jerr = json_tokener_get_error(tok);
	json_tokener_free(tok);
	if (root == NULL || jerr != json_tokener_success) {
		json_object_put(root);
		pp_error_set(err, EINVAL, "%s: not JSON: %s", what, json_tokener_error_desc(jerr));
		return NULL;
	}
	return root;
}

static int cmp_repo(const void *a, const void *b)
{
	return strcmp(((const struct pp_docker_archive_repo *)a)->name,
		      ((const struct pp_docker_archive_repo *)b)->name);
}

int pp_docker_archive_parse_repositories(const void *data, size_t len,
					 struct pp_docker_archive_repo **out, size_t *n,
					 struct pp_error **err)
{
	struct json_object *root = parse_json("repositories", data, len, err);
	if (root == NULL)
		return -1;
	struct pp_docker_archive_repo *r = NULL;
	size_t count = 0;
	int ret = 0;
	if (!json_object_is_type(root, json_type_object)) {
		json_object_put(root);
		return pp_error_set(err, EINVAL, "repositories: not an object");
	}
	json_object_object_foreach(root, repo, tags)
	{
		if (!json_object_is_type(tags, json_type_object)) {
			ret = pp_error_set(err, EINVAL, "repositories.%s: not an object", repo);
			break;
		}
		json_object_object_foreach(tags, tag, id)
		{
			if (!json_object_is_type(id, json_type_string)) {
				ret = pp_error_set(err, EINVAL, "repositories.%s.%s: not a string",
						   repo, tag);
				break;
			}
			if (count == PP_ARCHIVE_TAGS_MAX) {
				ret = pp_error_set(err, EFBIG, "repositories: more than %d tags",
						   PP_ARCHIVE_TAGS_MAX);
				break;
			}
			r = xrealloc(r, (count + 1) * sizeof(*r));
			r[count].name = xasprintf("%s:%s", repo, tag);
			r[count++].id = xstrdup(json_object_get_string(id));
		}
		if (ret < 0)
			break;
	}
	json_object_put(root);
	if (ret < 0) {
		pp_docker_archive_repos_free(r, count);
		return -1;
	}
	if (count > 1)
		qsort(r, count, sizeof(*r), cmp_repo);
	*out = r;
	*n = count;
	return 0;
}

void pp_docker_archive_repos_free(struct pp_docker_archive_repo *r, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(r[i].name);
		free(r[i].id);
	}
	free(r);
}

int pp_docker_archive_parse_manifest(const void *data, size_t len,
				     struct pp_docker_archive_manifest **out, struct pp_error **err)
{
	struct json_object *root = parse_json("manifest.json", data, len, err);
	if (root == NULL)
		return -1;
	int ret = 0;
	struct pp_docker_archive_manifest *m = xmalloc(sizeof(*m));
	memset(m, 0, sizeof(*m));
	size_t n = json_object_is_type(root, json_type_array) ? json_object_array_length(root) : 0;
	if (!json_object_is_type(root, json_type_array) || n == 0)
		ret = pp_error_set(err, EINVAL, "manifest.json: not a non-empty array");
	else if (n > PP_ARCHIVE_IMAGES_MAX)
		ret = pp_error_set(err, EFBIG, "manifest.json: more than %d images",
				   PP_ARCHIVE_IMAGES_MAX);
	if (ret == 0) {
		m->images = xmalloc(n * sizeof(*m->images));
		memset(m->images, 0, n * sizeof(*m->images));
		m->n_images = n;
		for (size_t i = 0; i < n && ret == 0; i++)
			ret =
			    parse_image(json_object_array_get_idx(root, i), i, &m->images[i], err);
		if (ret < 0)
			pp_error_wrap(err, "manifest.json");
	}
	json_object_put(root);
	if (ret < 0) {
		pp_docker_archive_manifest_free(m);
		return -1;
	}
	*out = m;
	return 0;
}

void pp_docker_archive_manifest_free(struct pp_docker_archive_manifest *m)
{
	if (m == NULL)
		return;
	for (size_t i = 0; i < m->n_images; i++) {
		free(m->images[i].config);
		strv_free(m->images[i].repo_tags);
		strv_free(m->images[i].layers);
	}
	free(m->images);
	free(m);
}
