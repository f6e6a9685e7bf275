/* Inputs as kubectl takes them: several documents per file, JSON, v1
 * Lists, directories of manifests; each object parsed by its kind's parser. */
#include <dirent.h>
#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "manifest/config_object.h"
#include "manifest/job.h"
#include "manifest/parse_internal.h"
#include "manifest/workload.h"
#include "util/cleanup.h"
#include "util/fs.h"

#define STDIN_NAME "<stdin>"
/* Lists inside Lists: kubectl flattens them; bounded here. */
#define MAX_LIST_DEPTH 8
/* Directories inside directories with -R. */
#define MAX_DIR_DEPTH 32

void pp_manifest_set_free(struct pp_manifest_set *set)
{
	for (size_t i = 0; i < set->n; i++) {
		pp_pod_free(set->items[i].pod);
		pp_object_free(set->items[i].object);
		pp_workload_free(set->items[i].workload);
		free(set->items[i].text);
	}
	free(set->items);
	set->items = NULL;
	set->n = 0;
}

const char *pp_manifest_item_kind(const struct pp_manifest_item *it)
{
	if (it->pod != NULL)
		return "Pod";
	if (it->workload != NULL)
		return pp_workload_kind_info(it->workload->kind)->kind;
	return pp_object_kind_name(it->object->kind);
}

static struct pp_manifest_item *new_item(struct pp_manifest_set *set)
{
	set->items = xrealloc(set->items, (set->n + 1) * sizeof(*set->items));
	struct pp_manifest_item *it = &set->items[set->n++];
	*it = (struct pp_manifest_item){0};
	return it;
}

/* A List item has no text of its own: its tree, as JSON (a YAML subset). */
struct json_object *ynode_to_json(const struct pp_ynode *n)
{
	if (n->kind == PP_YMAP) {
		struct json_object *o = json_object_new_object();
		for (size_t i = 0; i + 1 < n->n; i += 2)
			json_object_object_add(o, n->child[i]->value,
					       ynode_to_json(n->child[i + 1]));
		return o;
	}
	if (n->kind == PP_YSEQ) {
		struct json_object *a = json_object_new_array();
		for (size_t i = 0; i < n->n; i++)
			json_object_array_add(a, ynode_to_json(n->child[i]));
		return a;
	}
	switch (yscalar_type(n)) {
	case YS_NULL:
		return NULL;
	case YS_BOOL: {
		static const char *const truths[] = {"y",    "Y",    "yes", "Yes", "YES", "true",
						     "True", "TRUE", "on",  "On",  "ON"};
		bool t = false;
		for (size_t i = 0; i < sizeof(truths) / sizeof(*truths); i++)
			t = t || strcmp(n->value, truths[i]) == 0;
		return json_object_new_boolean(t);
	}
	case YS_INT: {
		bool hex = strstr(n->value, "0x") || strstr(n->value, "0X");
		return json_object_new_int64(strtoll(n->value, NULL, hex ? 16 : 10));
	}
	case YS_FLOAT:
	case YS_STRING:
	default:
		return json_object_new_string(n->value);
	}
}

static char *tree_text(const struct pp_ynode *n, size_t *len)
{
	struct json_object *j = ynode_to_json(n);
	char *s = xstrdup(json_object_to_json_string_ext(j, JSON_C_TO_STRING_PLAIN |
								JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(j);
	*len = strlen(s);
	return s;
}

static int add_object(struct pctx *c, struct pp_manifest_set *set, const struct pp_ynode *root,
		      const char *text, size_t text_len, int depth);

static int add_list(struct pctx *c, struct pp_manifest_set *set, const struct pp_ynode *root,
		    int depth)
{
	const struct pp_ynode *items = pp_ymap_get(root, "items");
	if (depth >= MAX_LIST_DEPTH)
		return perr(c, root->pos, "items", "Lists nested deeper than %d", MAX_LIST_DEPTH);
	for (size_t i = 0; i + 1 < root->n; i += 2) {
		const char *k = root->child[i]->value;
		if (strcmp(k, "apiVersion") != 0 && strcmp(k, "kind") != 0 &&
		    strcmp(k, "items") != 0 && strcmp(k, "metadata") != 0)
			return perr(c, root->child[i]->pos, k, "unknown field \"%s\"", k);
	}
	if (items == NULL || ynode_is_null(items))
		return 0;
	if (expect_kind(c, items, "items", PP_YSEQ) < 0)
		return -1;
	for (size_t i = 0; i < items->n; i++)
		if (add_object(c, set, items->child[i], NULL, 0, depth + 1) < 0)
			return -1;
	return 0;
}

static int add_pod(struct pctx *c, struct pp_manifest_set *set, const struct pp_ynode *root,
		   const char *text, size_t text_len)
{
	struct pp_pod *pod = xmalloc(sizeof(*pod));
	pod->source = xstrdup(c->source);
	struct pctx pc = {.source = c->source, .err = c->err, .pod = pod};
	if (parse_pod(&pc, root) < 0) {
		pp_pod_free(pod);
		return -1;
	}
	struct pp_manifest_item *it = new_item(set);
	it->pod = pod;
	it->pos = root->pos;
	if (text != NULL) {
		it->text = xmalloc(text_len + 1);
		memcpy(it->text, text, text_len);
		it->text[text_len] = '\0';
		it->text_len = text_len;
	} else {
		it->text = tree_text(root, &it->text_len);
	}
	return 0;
}

static int add_config(struct pctx *c, struct pp_manifest_set *set, const struct pp_ynode *root,
		      enum pp_object_kind kind)
{
	struct pp_config_object *o = xmalloc(sizeof(*o));
	o->kind = kind;
	o->source = xstrdup(c->source);
	struct pctx oc = {.source = c->source, .err = c->err, .object = o};
	if (parse_config_object(&oc, root) < 0) {
		pp_object_free(o);
		return -1;
	}
	struct pp_manifest_item *it = new_item(set);
	it->object = o;
	it->pos = root->pos;
	return 0;
}

static int add_workload(struct pctx *c, struct pp_manifest_set *set, const struct pp_ynode *root,
			enum pp_workload_kind kind)
{
	struct pp_workload *w = xmalloc(sizeof(*w));
	w->kind = kind;
	w->source = xstrdup(c->source);
	struct pctx wc = {.source = c->source, .err = c->err, .workload = w};
	if (parse_workload(&wc, root) < 0) {
		pp_workload_free(w);
		return -1;
	}
	struct pp_manifest_item *it = new_item(set);
	it->workload = w;
	it->pos = root->pos;
	it->text = tree_text(root, &it->text_len);
	return 0;
}

/* One object, by its kind (kind first, so a Deployment is named as such). */
static int add_object(struct pctx *c, struct pp_manifest_set *set, const struct pp_ynode *root,
		      const char *text, size_t text_len, int depth)
{
	if (root->kind != PP_YMAP)
		return pp_error_set(c->err, 0, "%s:%d:%d: %s must be a map, got %s", c->source,
				    root->pos.line, root->pos.col,
				    depth > 0 ? "a List's item" : "a Pod manifest",
				    ynode_type_name(root));
	const struct pp_ynode *kind = pp_ymap_get(root, "kind");
	if (kind == NULL || ynode_is_null(kind))
		return perr(c, root->pos, "kind", "required field \"kind\" is missing");
	cleanup_free char *k = NULL;
	if (get_string(c, kind, "kind", &k) < 0)
		return -1;
	if (strcmp(k, "Pod") == 0)
		return add_pod(c, set, root, text, text_len);
	if (strcmp(k, "ConfigMap") == 0)
		return add_config(c, set, root, PP_OBJ_CONFIGMAP);
	if (strcmp(k, "Secret") == 0)
		return add_config(c, set, root, PP_OBJ_SECRET);
	if (strcmp(k, "PersistentVolumeClaim") == 0)
		return add_config(c, set, root, PP_OBJ_PVC);
	if (strcmp(k, "PersistentVolume") == 0)
		return add_config(c, set, root, PP_OBJ_PV);
	if (strcmp(k, "CronJob") == 0)
		return perr(c, kind->pos, "kind", "%s", PP_CRONJOB_REFUSAL);
	for (int wk = 0; wk < PP_WL_KIND_COUNT; wk++)
		if (strcmp(k, pp_workload_kind_info(wk)->kind) == 0)
			return add_workload(c, set, root, wk);
	if (strcmp(k, "List") == 0 || (strlen(k) > 4 && strcmp(k + strlen(k) - 4, "List") == 0))
		return add_list(c, set, root, depth);
	return perr(c, kind->pos, "kind",
		    "kind \"%s\" is not supported: peapod runs Pods, Deployments, ReplicaSets, "
		    "DaemonSets and Jobs (and keeps ConfigMaps, Secrets and "
		    "PersistentVolumeClaims)",
		    k);
}

static int hexval(const char *s, size_t n, unsigned *out)
{
	*out = 0;
	for (size_t i = 0; i < n; i++) {
		char ch = s[i];
		int d = ch >= '0' && ch <= '9'	 ? ch - '0'
			: ch >= 'a' && ch <= 'f' ? ch - 'a' + 10
			: ch >= 'A' && ch <= 'F' ? ch - 'A' + 10
						 : -1;
		if (d < 0)
			return -1;
		*out = *out << 4 | (unsigned)d;
	}
	return 0;
}

/* JSON writes a character beyond U+FFFF as a UTF-16 surrogate pair
 * ("\ud83d\ude00"), which YAML's double-quoted strings do not take:
 * rewritten as YAML's "\U0001f600" before libyaml reads a JSON input. */
static char *json_surrogates_to_yaml(const char *buf, size_t len)
{
	char *out = xmalloc(len + 1);
	size_t o = 0;
	for (size_t i = 0; i < len; i++) {
		unsigned hi = 0, lo = 0;
		if (buf[i] == '\\' && i + 12 <= len && buf[i + 1] == 'u' && buf[i + 6] == '\\' &&
		    buf[i + 7] == 'u' && hexval(buf + i + 2, 4, &hi) == 0 &&
		    hexval(buf + i + 8, 4, &lo) == 0 && hi >= 0xd800 && hi < 0xdc00 &&
		    lo >= 0xdc00 && lo < 0xe000) {
			unsigned cp = 0x10000 + ((hi - 0xd800) << 10) + (lo - 0xdc00);
			o += (size_t)snprintf(out + o, 11, "\\U%08x", cp);
			i += 11;
			continue;
		}
		out[o++] = buf[i];
		if (buf[i] == '\\' && i + 1 < len)
			out[o++] = buf[++i]; /* an escaped backslash is not an escape */
	}
	out[o] = '\0';
	return out;
}

static bool looks_like_json(const char *buf, size_t len)
{
	size_t i = 0;
	while (i < len && strchr(" \t\r\n", buf[i]) != NULL)
		i++;
	return i < len && (buf[i] == '{' || buf[i] == '[');
}

int pp_manifest_set_parse(const char *source_name, const char *buf, size_t len,
			  struct pp_manifest_set *set, struct pp_error **err)
{
	const char *source = strcmp(source_name, "-") == 0 ? STDIN_NAME : source_name;
	cleanup_free char *json = NULL;
	if (len <= PP_YAML_MAX_INPUT && looks_like_json(buf, len) && memchr(buf, '\\', len)) {
		json = json_surrogates_to_yaml(buf, len);
		buf = json;
		len = strlen(json);
	}
	struct pp_ydoc *docs = NULL;
	size_t n = 0;
	if (pp_yaml_parse_docs(source, buf, len, &docs, &n, err) < 0)
		return -1;
	size_t before = set->n;
	struct pctx c = {.source = source, .err = err};
	int r = 0;
	for (size_t i = 0; i < n && r == 0; i++)
		r = add_object(&c, set, docs[i].root, buf + docs[i].start,
			       docs[i].end - docs[i].start, 0);
	pp_ydocs_free(docs, n);
	if (r < 0) {
		for (size_t i = before; i < set->n; i++) {
			pp_pod_free(set->items[i].pod);
			pp_object_free(set->items[i].object);
			pp_workload_free(set->items[i].workload);
			free(set->items[i].text);
		}
		set->n = before;
		if (before == 0) {
			free(set->items);
			set->items = NULL;
		}
	}
	return r;
}

static int load_file(const char *path, struct pp_manifest_set *set, struct pp_error **err)
{
	cleanup_free char *buf = NULL;
	size_t len = 0;
	bool in = strcmp(path, "-") == 0;
	int r = in ? pp_read_fd(0, PP_YAML_MAX_INPUT + 1, &buf, &len, err)
		   : pp_read_file(path, PP_YAML_MAX_INPUT + 1, &buf, &len, err);
	if (r < 0)
		return pp_error_wrap(err, "%s", in ? STDIN_NAME : path);
	return pp_manifest_set_parse(path, buf, len, set, err);
}

static bool manifest_ext(const char *name)
{
	const char *dot = strrchr(name, '.');
	return dot != NULL &&
	       (strcmp(dot, ".yaml") == 0 || strcmp(dot, ".yml") == 0 || strcmp(dot, ".json") == 0);
}

static int cmp_names(const struct dirent **a, const struct dirent **b)
{
	return strcmp((*a)->d_name, (*b)->d_name);
}

static int load_path(const char *path, bool recursive, int depth, bool named,
		     struct pp_manifest_set *set, struct pp_error **err);

/* A directory's entries in name order, as kubectl walks them. */
static int load_dir(const char *path, bool recursive, int depth, struct pp_manifest_set *set,
		    struct pp_error **err)
{
	struct dirent **names = NULL;
	int n = scandir(path, &names, NULL, cmp_names);
	if (n < 0)
		return pp_error_set(err, errno, "%s", path);
	int r = 0;
	for (int i = 0; i < n; i++) {
		const char *name = names[i]->d_name;
		if (r == 0 && strcmp(name, ".") != 0 && strcmp(name, "..") != 0) {
			cleanup_free char *sub = xasprintf("%s/%s", path, name);
			r = load_path(sub, recursive, depth + 1, false, set, err);
		}
		free(names[i]);
	}
	free(names);
	return r;
}

static int load_path(const char *path, bool recursive, int depth, bool named,
		     struct pp_manifest_set *set, struct pp_error **err)
{
	struct stat st;
	if (strcmp(path, "-") == 0)
		return load_file(path, set, err);
	if (stat(path, &st) < 0)
		return pp_error_set(err, errno, "%s", path);
	if (S_ISDIR(st.st_mode)) {
		if (!named && !recursive)
			return 0;
		if (depth > MAX_DIR_DEPTH)
			return pp_error_set(err, 0, "%s: directories nested deeper than %d", path,
					    MAX_DIR_DEPTH);
		return load_dir(path, recursive, depth, set, err);
	}
	if (!named && !manifest_ext(path))
		return 0;
	return load_file(path, set, err);
}

static bool is_dir(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

int pp_manifest_set_load(char *const *paths, size_t n_paths, bool recursive,
			 struct pp_manifest_set *set, struct pp_error **err)
{
	bool stdin_read = false;
	for (size_t i = 0; i < n_paths; i++) {
		if (strcmp(paths[i], "-") == 0) {
			if (stdin_read) {
				pp_manifest_set_free(set);
				return pp_error_set(err, 0, "-f -: standard input given twice");
			}
			stdin_read = true;
		}
		if (load_path(paths[i], recursive, 0, true, set, err) < 0) {
			pp_manifest_set_free(set);
			return -1;
		}
	}
	if (set->n == 0 && n_paths == 1 && strcmp(paths[0], "-") != 0 && !is_dir(paths[0]))
		return pp_error_set(err, 0, "%s:1:1: empty manifest", paths[0]);
	if (set->n == 0)
		return pp_error_set(err, 0, "no objects passed (%s%s)",
				    strcmp(paths[0], "-") == 0 ? STDIN_NAME : paths[0],
				    n_paths > 1 ? ", ..." : "");
	return 0;
}
