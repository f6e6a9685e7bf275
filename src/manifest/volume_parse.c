/* spec.volumes: emptyDir, hostPath and persistentVolumeClaim here, downwardAPI, projected,
 * configMap and secret in projection_parse.c; other sources are refused by
 * name. */
#include <string.h>

#include "manifest/k8s_names.h"
#include "manifest/parse_internal.h"
#include "util/cleanup.h"

static int parse_volume_name(struct pctx *c, const struct pp_ynode *n, const char *path, void *obj)
{
	struct pp_volume *v = obj;
	v->name_pos = n->pos;
	if (get_string(c, n, path, &v->name) < 0)
		return -1;
	if (!pp_is_dns1123_label(v->name))
		return perr(c, n->pos, path, "invalid volume name \"%s\": must be a DNS-1123 label",
			    v->name);
	return 0;
}

static int parse_medium(struct pctx *c, const struct pp_ynode *n, const char *path, void *obj)
{
	static const char *const words[] = {"", "Memory", NULL};
	int v;
	if (get_enum(c, n, path, words, &v) < 0)
		return -1;
	((struct pp_volume *)obj)->medium_memory = v == 1;
	return 0;
}

static int parse_size_limit(struct pctx *c, const struct pp_ynode *n, const char *path, void *obj)
{
	return get_quantity(c, n, path, &((struct pp_volume *)obj)->size_limit);
}

static const struct field empty_dir_fields[] = {
    F_FN("medium", parse_medium),
    F_FN("sizeLimit", parse_size_limit),
    F_END,
};

static int parse_host_path_type(struct pctx *c, const struct pp_ynode *n, const char *path,
				void *obj)
{
	/* indexes match enum pp_host_path_type */
	static const char *const words[] = {
	    "",		  "DirectoryOrCreate", "Directory", "FileOrCreate", "File", "Socket",
	    "CharDevice", "BlockDevice",       NULL};
	int v;
	if (get_enum(c, n, path, words, &v) < 0)
		return -1;
	((struct pp_volume *)obj)->host_path_type = (enum pp_host_path_type)v;
	return 0;
}

static const struct field host_path_fields[] = {
    F_STR_REQ("path", struct pp_volume, host_path),
    F_FN("type", parse_host_path_type),
    F_END,
};

static int parse_host_path(struct pctx *c, const struct pp_ynode *n, const char *path, void *obj)
{
	struct pp_volume *v = obj;
	v->kind = PP_VOLUME_HOST_PATH;
	if (walk_map(c, n, path, host_path_fields, v) < 0)
		return -1;
	cleanup_free char *p = path_key(path, "path");
	struct pp_pos pos = pp_ymap_get(n, "path")->pos;
	if (v->host_path[0] != '/')
		return perr(c, pos, p, "must be an absolute path, got \"%s\"", v->host_path);
	char *copy = xasprintf("%s/", v->host_path);
	bool backstep = strstr(copy, "/../") != NULL;
	free(copy);
	if (backstep)
		return perr(c, pos, p, "must not contain '..', got \"%s\"", v->host_path);
	return 0;
}

static int parse_claim_name(struct pctx *c, const struct pp_ynode *n, const char *path, void *obj)
{
	struct pp_volume *v = obj;
	if (get_string(c, n, path, &v->claim_name) < 0)
		return -1;
	if (v->claim_name[0] == '\0')
		return perr(c, n->pos, path, "Required value");
	if (!pp_is_dns1123_subdomain(v->claim_name))
		return perr(c, n->pos, path,
			    "Invalid value: \"%s\": a lowercase RFC 1123 subdomain must consist "
			    "of lower case alphanumeric characters, '-' or '.'",
			    v->claim_name);
	return 0;
}

static const struct field claim_fields[] = {
    F_FN_REQ("claimName", parse_claim_name),
    F_BOOL("readOnly", struct pp_volume, claim_read_only),
    F_END,
};

static int parse_claim(struct pctx *c, const struct pp_ynode *n, const char *path, void *obj)
{
	((struct pp_volume *)obj)->kind = PP_VOLUME_PVC;
	return walk_map(c, n, path, claim_fields, obj);
}

static int parse_empty_dir(struct pctx *c, const struct pp_ynode *n, const char *path, void *obj)
{
	((struct pp_volume *)obj)->kind = PP_VOLUME_EMPTY_DIR;
	return walk_map(c, n, path, empty_dir_fields, obj);
}

#define UNSUPPORTED(k)                                                                             \
	{                                                                                          \
		.key = k, .kind = FK_SKIP, .msg = "unsupported"                                    \
	}
static const struct field volume_fields[] = {
    F_FN_REQ("name", parse_volume_name),
    F_FN("emptyDir", parse_empty_dir),
    F_FN("hostPath", parse_host_path),
    F_FN("configMap", parse_config_map_volume),
    F_FN("secret", parse_secret_volume),
    F_FN("persistentVolumeClaim", parse_claim),
    F_FN("projected", parse_projected_volume),
    F_FN("downwardAPI", parse_downward_api_volume),
    UNSUPPORTED("nfs"),
    UNSUPPORTED("csi"),
    UNSUPPORTED("ephemeral"),
    UNSUPPORTED("image"),
    UNSUPPORTED("iscsi"),
    UNSUPPORTED("gitRepo"),
    UNSUPPORTED("glusterfs"),
    UNSUPPORTED("rbd"),
    UNSUPPORTED("cephfs"),
    UNSUPPORTED("flexVolume"),
    UNSUPPORTED("cinder"),
    UNSUPPORTED("flocker"),
    UNSUPPORTED("fc"),
    UNSUPPORTED("azureFile"),
    UNSUPPORTED("azureDisk"),
    UNSUPPORTED("vsphereVolume"),
    UNSUPPORTED("quobyte"),
    UNSUPPORTED("photonPersistentDisk"),
    UNSUPPORTED("portworxVolume"),
    UNSUPPORTED("scaleIO"),
    UNSUPPORTED("storageos"),
    UNSUPPORTED("gcePersistentDisk"),
    UNSUPPORTED("awsElasticBlockStore"),
    F_END,
};
#undef UNSUPPORTED

/* Exactly one source; the known sources peapod cannot serve are named. */
static int check_source(struct pctx *c, const struct pp_ynode *n, const char *path)
{
	const struct pp_ynode *first = NULL;
	for (size_t i = 0; i + 1 < n->n; i += 2) {
		const struct pp_ynode *k = n->child[i];
		if (strcmp(k->value, "name") == 0)
			continue;
		cleanup_free char *p = path_key(path, k->value);
		if (first != NULL)
			return perr(c, k->pos, p, "may not specify more than 1 volume type");
		first = k;
		if (strcmp(k->value, "emptyDir") != 0 && strcmp(k->value, "hostPath") != 0 &&
		    strcmp(k->value, "downwardAPI") != 0 && strcmp(k->value, "projected") != 0 &&
		    strcmp(k->value, "configMap") != 0 && strcmp(k->value, "secret") != 0 &&
		    strcmp(k->value, "persistentVolumeClaim") != 0)
			return perr(c, k->pos, p, "volume type \"%s\" is not supported yet",
				    k->value);
	}
	if (first == NULL)
		return perr(c, n->pos, path,
			    "must specify a volume type (emptyDir, hostPath, configMap, secret, "
			    "downwardAPI, projected or persistentVolumeClaim)");
	return 0;
}

static int parse_volume(struct pctx *c, const struct pp_ynode *n, const char *path, void *elem)
{
	struct pp_volume *v = elem;
	v->pos = n->pos;
	if (walk_map(c, n, path, volume_fields, v) < 0)
		return -1;
	return check_source(c, n, path);
}

int parse_volumes(struct pctx *c, const struct pp_ynode *n, const char *path, void *obj)
{
	struct pp_pod *pod = obj;
	return walk_seq(c, n, path, sizeof(struct pp_volume), (void **)&pod->volumes,
			&pod->n_volumes, parse_volume);
}
