/* ConfigMaps and Secrets: the parser and the API server's checks
 * (manifest/config_object.h), inputs of several objects (multi-document
 * YAML, JSON, Lists), base64, the create builders (ops/objects.h) and the
 * store (objects/objects.h) on a private $PEAPOD_ROOT. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "manifest/config_object.h"
#include "manifest/manifest.h"
#include "objects/objects.h"
#include "ops/objects.h"
#include "util/base64.h"
#include "util/cleanup.h"
#include "util/fs.h"
#include "util/settings.h"

static char base[] = "/tmp/peapod-objects-test.XXXXXX";

static int setup(void **state)
{
	(void)state;
	if (mkdtemp(base) == NULL)
		return -1;
	setenv("PEAPOD_ROOT", base, 1);
	pp_settings_load(NULL);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	return pp_rm_rf(base, NULL);
}

/* Parses text; returns 0 and the set, or -1 and the error message in *msg. */
static int parse(const char *text, struct pp_manifest_set *set, char **msg)
{
	struct pp_error *err = NULL;
	int r = pp_manifest_set_parse("in.yaml", text, strlen(text), set, &err);
	if (r < 0) {
		*msg = xstrdup(err->msg);
		pp_error_free(&err);
	}
	return r;
}

/* The input must be refused with a message holding want. */
static void refused(const char *text, const char *want)
{
	struct pp_manifest_set set = {0};
	cleanup_free char *msg = NULL;
	if (parse(text, &set, &msg) == 0) {
		fprintf(stderr, "accepted, should fail with %s:\n%s\n", want, text);
		fail();
	}
	if (strstr(msg, want) == NULL) {
		fprintf(stderr, "got: %s\nwant: %s\n", msg, want);
		fail();
	}
	assert_int_equal(set.n, 0);
}

static void test_base64(void **state)
{
	(void)state;
	const char *cases[][2] = {
	    {"", ""}, {"f", "Zg=="}, {"fo", "Zm8="}, {"foo", "Zm9v"}, {"foobar", "Zm9vYmFy"}};
	for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
		cleanup_free char *e = pp_base64_encode(cases[i][0], strlen(cases[i][0]));
		assert_string_equal(e, cases[i][1]);
		cleanup_free unsigned char *d = NULL;
		size_t len = 0;
		assert_int_equal(pp_base64_decode(cases[i][1], &d, &len, NULL), 0);
		assert_int_equal(len, strlen(cases[i][0]));
		assert_memory_equal(d, cases[i][0], len);
	}
	const char *bad[] = {"Zg", "Zg=", "Z===", "Zm9v!", "Zg==Zg==", "=Zg="};
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		cleanup_error struct pp_error *err = NULL;
		unsigned char *d = NULL;
		size_t len = 0;
		assert_int_equal(pp_base64_decode(bad[i], &d, &len, &err), -1);
		assert_non_null(strstr(err->msg, "illegal base64 data at input byte"));
	}
	/* Line breaks are skipped, as Go does. */
	cleanup_free unsigned char *d = NULL;
	size_t len = 0;
	assert_int_equal(pp_base64_decode("Zm9v\nYmFy\n", &d, &len, NULL), 0);
	assert_int_equal(len, 6);
}

static void test_several_documents(void **state)
{
	(void)state;
	const char *text = "---\n"
			   "apiVersion: v1\n"
			   "kind: ConfigMap\n"
			   "metadata: {name: a, namespace: ns}\n"
			   "data: {k: v, empty: }\n"
			   "binaryData: {b: AAE=}\n"
			   "---\n"
			   "---\n"
			   "apiVersion: v1\n"
			   "kind: List\n"
			   "items:\n"
			   "- apiVersion: v1\n"
			   "  kind: Secret\n"
			   "  metadata: {name: s}\n"
			   "  data: {x: eA==, y: eQ==}\n"
			   "  stringData: {x: override}\n"
			   "- apiVersion: v1\n"
			   "  kind: Pod\n"
			   "  metadata: {name: p}\n"
			   "  spec: {containers: [{name: c, image: busybox}]}\n";
	struct pp_manifest_set set = {0};
	cleanup_free char *msg = NULL;
	assert_int_equal(parse(text, &set, &msg), 0);
	assert_int_equal(set.n, 3);
	const struct pp_config_object *cm = set.items[0].object;
	assert_int_equal(cm->kind, PP_OBJ_CONFIGMAP);
	assert_string_equal(cm->namespace_, "ns");
	assert_int_equal(cm->n_items, 3);
	assert_string_equal(cm->items[0].key, "b"); /* sorted */
	assert_true(cm->items[0].binary);
	assert_int_equal(cm->items[0].len, 2);
	assert_int_equal(pp_object_find(cm, "empty")->len, 0);
	const struct pp_config_object *s = set.items[1].object;
	assert_int_equal(s->kind, PP_OBJ_SECRET);
	assert_string_equal(s->type, "Opaque");
	assert_string_equal((const char *)pp_object_find(s, "x")->value, "override");
	assert_string_equal((const char *)pp_object_find(s, "y")->value, "y");
	assert_non_null(set.items[2].pod);
	assert_string_equal(set.items[2].pod->name, "p");
	/* A List item's text is its JSON, which parses to the same pod. */
	struct pp_pod *again = NULL;
	assert_int_equal(
	    pp_spec_parse_buffer("x", set.items[2].text, set.items[2].text_len, &again, NULL), 0);
	assert_string_equal(again->containers[0].image, "busybox");
	pp_pod_free(again);
	pp_manifest_set_free(&set);
}

static void test_json_input(void **state)
{
	(void)state;
	const char *text =
	    "{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\t\"metadata\":{\"name\":\"j\"},"
	    "\"data\":{\"s\":\"\\ud83d\\ude00\",\"esc\":\"a\\\\ud83d\\/b\"}}";
	struct pp_manifest_set set = {0};
	cleanup_free char *msg = NULL;
	assert_int_equal(parse(text, &set, &msg), 0);
	assert_int_equal(set.n, 1);
	assert_string_equal((const char *)pp_object_find(set.items[0].object, "s")->value,
			    "\xf0\x9f\x98\x80");
	/* An escaped backslash is not the start of an escape. */
	assert_string_equal((const char *)pp_object_find(set.items[0].object, "esc")->value,
			    "a\\ud83d/b");
	pp_manifest_set_free(&set);
}

static void test_refused(void **state)
{
	(void)state;
	const char *cm = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n";
	struct {
		const char *body, *want;
	} cases[] = {
	    {"data: {\".\": x}", "in.yaml:4:8: data[.]: invalid key \".\": must not be '.'"},
	    {"data: {\"..\": x}", "must not be '..'"},
	    {"data: {..x: x}", "must not start with '..'"},
	    {"data: {a/b: x}", "data[a/b]: invalid key"},
	    {"data: {k: 1}", "data[k]: expected string, got number 1"},
	    {"data: {k: v}\nbinaryData: {k: AA==}",
	     "binaryData[k]: duplicate of key present in data"},
	    {"binaryData: {k: \"A\"}", "binaryData[k]: illegal base64 data"},
	    {"immutable: maybe", "immutable: expected boolean"},
	    {"stringData: {k: v}", "unknown field \"stringData\""},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
		cleanup_free char *text = xasprintf("%s%s\n", cm, cases[i].body);
		refused(text, cases[i].want);
	}
	refused("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: Bad_Name}\n",
		"metadata.name: invalid name");
	refused("apiVersion: v1\nkind: Secret\nmetadata: {name: s}\ntype: kubernetes.io/tls\n"
		"stringData: {tls.key: k}\n",
		"in.yaml:1:1: data[tls.crt]: Required value");
	refused("apiVersion: v1\nkind: Secret\nmetadata: {name: s}\n"
		"type: kubernetes.io/dockerconfigjson\nstringData: {.dockerconfigjson: \"[1]\"}\n",
		"must be a JSON object");
	refused("apiVersion: v1\nkind: Secret\nmetadata: {name: s}\n"
		"type: kubernetes.io/basic-auth\n",
		"data[username]: Required value");
	/* A Secret's value is not echoed, even when of the wrong type. */
	struct pp_manifest_set set = {0};
	cleanup_free char *msg = NULL;
	assert_int_equal(parse("apiVersion: v1\nkind: Secret\nmetadata: {name: s}\n"
			       "stringData: {pin: 987654}\n",
			       &set, &msg),
			 -1);
	assert_non_null(strstr(msg, "in.yaml:4:19: stringData[pin]: expected string, got number"));
	assert_null(strstr(msg, "987654"));
	refused("apiVersion: apps/v1\nkind: StatefulSet\nmetadata: {name: d}\n",
		"in.yaml:2:7: kind: kind \"StatefulSet\" is not supported");
	refused("apiVersion: v1\nkind: Deployment\nmetadata: {name: d}\n",
		"in.yaml:1:13: apiVersion: apiVersion \"v1\" is not supported for kind Deployment");
	refused("apiVersion: v2\nkind: ConfigMap\nmetadata: {name: c}\n", "apiVersion \"v2\"");
	/* The bad object comes after good ones: the whole input refused. */
	refused("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: ok}\n---\n"
		"apiVersion: v1\nkind: List\nitems:\n- 3\n",
		"in.yaml:8:3: a List's item must be a map");
	/* More than 1 MiB of values. */
	size_t big = PP_OBJECT_MAX_SIZE / 2 + 16;
	char *v = xmalloc(big + 1);
	memset(v, 'a', big);
	v[big] = '\0';
	cleanup_free char *text = xasprintf("%sdata: {a: %s, b: %s}\n", cm, v, v);
	free(v);
	refused(text, "Too long: must have at most 1048576 bytes");
	/* A key at the length limit passes; one more does not. */
	char key[PP_OBJECT_KEY_MAX + 2];
	memset(key, 'k', sizeof(key) - 1);
	key[sizeof(key) - 1] = '\0';
	assert_non_null(pp_object_key_error(key));
	key[PP_OBJECT_KEY_MAX] = '\0';
	assert_null(pp_object_key_error(key));
}

static struct pp_config_object *one(const char *text)
{
	struct pp_manifest_set set = {0};
	cleanup_free char *msg = NULL;
	if (parse(text, &set, &msg) < 0)
		fail_msg("%s", msg);
	struct pp_config_object *o = steal_ptr(&set.items[0].object);
	pp_manifest_set_free(&set);
	return o;
}

static void test_store(void **state)
{
	(void)state;
	enum pp_object_apply_result res;
	struct pp_config_object *o =
	    one("apiVersion: v1\nkind: Secret\nmetadata: {name: s}\nstringData: {p: pw}\n");
	cleanup_error struct pp_error *err = NULL;
	if (pp_object_apply(o, &res, &err) < 0)
		fail_msg("%s", err->msg);
	assert_int_equal(res, PP_OBJECT_CREATED);
	cleanup_free char *uid = xstrdup(o->uid);
	pp_object_free(o);
	cleanup_free char *dir = xasprintf("%s/objects/default/secrets", base);
	cleanup_free char *file = xasprintf("%s/s.json", dir);
	struct stat st;
	assert_int_equal(stat(dir, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0700);
	assert_int_equal(stat(file, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);

	o = one("apiVersion: v1\nkind: Secret\nmetadata: {name: s}\ndata: {p: cHc=}\n");
	assert_int_equal(pp_object_apply(o, &res, NULL), 0);
	assert_int_equal(res, PP_OBJECT_UNCHANGED);
	pp_object_free(o);

	struct pp_config_object *got = NULL;
	assert_int_equal(pp_object_get(PP_OBJ_SECRET, "default", "s", &got, NULL), 0);
	assert_string_equal(got->uid, uid);
	assert_string_equal((const char *)pp_object_find(got, "p")->value, "pw");
	pp_object_free(got);

	/* A type change is refused. */
	o = one("apiVersion: v1\nkind: Secret\nmetadata: {name: s}\ntype: other\n");
	assert_int_equal(pp_object_check_apply(o, &err), -1);
	assert_non_null(strstr(err->msg, "type: Invalid value: \"other\": field is immutable"));
	pp_error_free(&err);
	pp_object_free(o);

	/* immutable: data and the flag frozen; labels may change. */
	o = one("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: f}\nimmutable: true\ndata: "
		"{a: b}\n");
	assert_int_equal(pp_object_apply(o, &res, NULL), 0);
	pp_object_free(o);
	o = one("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: f, labels: {x: z}}\n"
		"immutable: true\ndata: {a: b}\n");
	assert_int_equal(pp_object_apply(o, &res, NULL), 0);
	assert_int_equal(res, PP_OBJECT_CONFIGURED);
	pp_object_free(o);
	o = one("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: f}\nimmutable: true\ndata: "
		"{a: c}\n");
	assert_int_equal(pp_object_apply(o, &res, &err), -1);
	assert_non_null(strstr(err->msg, "field is immutable when `immutable` is set"));
	pp_error_free(&err);
	pp_object_free(o);

	struct pp_config_object **list = NULL;
	size_t n = 0;
	assert_int_equal(pp_object_list(PP_OBJ_CONFIGMAP, "default", &list, &n, NULL), 0);
	assert_int_equal(n, 1);
	assert_string_equal(list[0]->name, "f");
	pp_object_list_free(list, n);
	assert_int_equal(pp_object_list(PP_OBJ_CONFIGMAP, "none", &list, &n, NULL), 0);
	assert_int_equal(n, 0);
	/* Every namespace's. */
	o = one("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a, namespace: zz}\n");
	assert_int_equal(pp_object_apply(o, &res, NULL), 0);
	pp_object_free(o);
	assert_int_equal(pp_object_list(PP_OBJ_CONFIGMAP, NULL, &list, &n, NULL), 0);
	assert_int_equal(n, 2);
	assert_string_equal(list[0]->namespace_, "default");
	assert_string_equal(list[1]->namespace_, "zz");
	pp_object_list_free(list, n);

	assert_int_equal(pp_object_delete(PP_OBJ_CONFIGMAP, "default", "f", NULL), 0);
	assert_int_equal(pp_object_delete(PP_OBJ_CONFIGMAP, "default", "f", &err),
			 PP_OBJECT_NOT_FOUND);
	assert_string_equal(err->msg, "configmaps \"f\" not found");
	pp_error_free(&err);
	assert_int_equal(pp_object_get(PP_OBJ_CONFIGMAP, "default", "f", &got, &err),
			 PP_OBJECT_NOT_FOUND);
}

static void test_build(void **state)
{
	(void)state;
	cleanup_free char *env = xasprintf("%s/app.env", base);
	const char *env_text = "\xef\xbb\xbf# c\nA=1\n  B=x\nC=a=b\r\n\nPP_UNSET_VAR_X\n";
	assert_int_equal(pp_write_file_atomic(env, env_text, strlen(env_text), 0644, NULL), 0);
	cleanup_free char *bin = xasprintf("%s/bin", base);
	assert_int_equal(pp_write_file_atomic(bin, "\xff\x00", 2, 0644, NULL), 0);
	cleanup_free char *keyed = xasprintf("k2=%s", bin);
	struct pp_object_source src[] = {
	    {PP_SOURCE_LITERAL, "lit=a=b"}, {PP_SOURCE_ENV_FILE, env}, {PP_SOURCE_FILE, keyed}};
	struct pp_config_object *o = NULL;
	cleanup_error struct pp_error *err = NULL;
	assert_int_equal(pp_object_build(PP_OBJ_CONFIGMAP, "default", "c", NULL, src, 3, &o, &err),
			 0);
	assert_string_equal((const char *)pp_object_find(o, "lit")->value, "a=b");
	assert_string_equal((const char *)pp_object_find(o, "A")->value, "1");
	assert_string_equal((const char *)pp_object_find(o, "B")->value, "x");
	assert_string_equal((const char *)pp_object_find(o, "C")->value, "a=b");
	assert_null(pp_object_find(o, "PP_UNSET_VAR_X"));
	assert_true(pp_object_find(o, "k2")->binary);
	pp_object_free(o);
}

static void test_build_errors(void **state)
{
	(void)state;
	struct pp_object_source dup[] = {{PP_SOURCE_LITERAL, "k=1"}, {PP_SOURCE_LITERAL, "k=2"}};
	struct pp_config_object *o = NULL;
	cleanup_error struct pp_error *err = NULL;
	assert_int_equal(pp_object_build(PP_OBJ_SECRET, "default", "s", NULL, dup, 2, &o, &err),
			 -1);
	assert_non_null(strstr(err->msg, "cannot add key k"));
	struct pp_object_source nokey[] = {{PP_SOURCE_LITERAL, "novalue"}};
	assert_int_equal(pp_object_build(PP_OBJ_SECRET, "default", "s", NULL, nokey, 1, &o, &err),
			 -1);
	assert_non_null(strstr(err->msg, "invalid literal source novalue"));
	assert_int_equal(pp_object_build(PP_OBJ_SECRET, "default", "Bad", NULL, NULL, 0, &o, &err),
			 -1);
	assert_non_null(strstr(err->msg, "metadata.name: Invalid value"));
	struct pp_docker_registry_args a = {.username = "u", .password = "p"};
	assert_int_equal(pp_secret_build_docker_registry("default", "r", &a, &o, NULL), 0);
	assert_string_equal(o->type, "kubernetes.io/dockerconfigjson");
	assert_non_null(strstr((const char *)pp_object_find(o, ".dockerconfigjson")->value,
			       "\"https://index.docker.io/v1/\":{\"username\":\"u\",\"password\":"
			       "\"p\",\"auth\":\"dTpw\"}"));
	pp_object_free(o);
}

static void test_env_refs_parsed(void **state)
{
	(void)state;
	const char *text = "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n"
			   "  containers:\n  - name: c\n    image: busybox\n"
			   "    envFrom:\n    - configMapRef: {name: conf}\n"
			   "    - secretRef: {name: s, optional: true}\n      prefix: P_\n"
			   "    env:\n    - name: A\n"
			   "      valueFrom: {secretKeyRef: {name: s, key: k, optional: true}}\n";
	struct pp_pod *pod = NULL;
	cleanup_error struct pp_error *err = NULL;
	if (pp_spec_parse_buffer("p.yaml", text, strlen(text), &pod, &err) < 0)
		fail_msg("%s", err->msg);
	const struct pp_container *c = &pod->containers[0];
	assert_int_equal(c->n_env_from, 2);
	assert_false(c->env_from[0].secret);
	assert_string_equal(c->env_from[0].name, "conf");
	assert_true(c->env_from[1].secret);
	assert_true(c->env_from[1].optional);
	assert_string_equal(c->env_from[1].prefix, "P_");
	assert_int_equal(c->env[0].source, PP_ENV_SECRET_KEY);
	assert_string_equal(c->env[0].ref_name, "s");
	assert_string_equal(c->env[0].ref_key, "k");
	assert_true(c->env[0].ref_optional);
	pp_pod_free(pod);
	const char *both = "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n"
			   "  containers:\n  - name: c\n    image: busybox\n"
			   "    envFrom:\n    - configMapRef: {name: conf}\n"
			   "      secretRef: {name: s}\n";
	assert_int_equal(pp_spec_parse_buffer("p.yaml", both, strlen(both), &pod, &err), -1);
	assert_non_null(strstr(err->msg, "p.yaml:9:7: spec.containers[0].envFrom[0]: may not have "
					 "more than one field"));
}

#define PVC_HEAD "apiVersion: v1\nkind: PersistentVolumeClaim\nmetadata: {name: data}\n"

/* PersistentVolumeClaims: parsed and validated as the API server does. */
static void test_pvc_parse(void **state)
{
	(void)state;
	struct pp_config_object *o =
	    one(PVC_HEAD "spec:\n  accessModes: [ReadWriteOnce, ReadOnlyMany]\n"
			 "  resources: {requests: {storage: 5Gi}, limits: {storage: 6Gi}}\n"
			 "  storageClassName: fast\n  volumeMode: Filesystem\n"
			 "status: {phase: Bound}\n");
	assert_int_equal(o->kind, PP_OBJ_PVC);
	assert_int_equal(o->access_modes, PP_ACCESS_RWO | PP_ACCESS_ROX);
	assert_string_equal(o->storage, "5Gi");
	assert_string_equal(o->storage_class, "fast");
	assert_null(o->volume_name);
	assert_string_equal(o->namespace_, "default");
	pp_object_free(o);

	refused(PVC_HEAD "spec: {resources: {requests: {storage: 1Gi}}}\n",
		"in.yaml:4:7: spec.accessModes: Required value: at least 1 access mode");
	refused(PVC_HEAD "spec: {accessModes: [ReadWriteOnce]}\n",
		"spec.resources[storage]: Required value");
	refused(PVC_HEAD "spec: {accessModes: [Sometimes], resources: {requests: {storage: 1}}}\n",
		"spec.accessModes[0]: Unsupported value: \"Sometimes\"");
	refused(PVC_HEAD "spec: {accessModes: [ReadWriteOncePod, ReadWriteOnce], resources: "
			 "{requests: {storage: 1}}}\n",
		"may not use ReadWriteOncePod with other access modes");
	refused(PVC_HEAD "spec: {accessModes: [ReadWriteOnce], resources: {requests: {storage: "
			 "lots}}}\n",
		"spec.resources.requests.storage");
	refused(PVC_HEAD "spec: {accessModes: [ReadWriteOnce], resources: {requests: {storage: "
			 "0}}}\n",
		"must be greater than zero");
	refused(PVC_HEAD "spec: {accessModes: [ReadWriteOnce], volumeMode: Block, resources: "
			 "{requests: {storage: 1}}}\n",
		"volumeMode Block is not supported");
	refused(PVC_HEAD "spec: {accessModes: [ReadWriteOnce], selector: {}, resources: "
			 "{requests: {storage: 1}}}\n",
		"spec.selector: is not supported");
	refused(PVC_HEAD "spec: {accessModes: [ReadWriteOnce], storageClassName: Bad_Name, "
			 "resources: {requests: {storage: 1}}}\n",
		"spec.storageClassName: Invalid value");
	refused(PVC_HEAD "data: {a: b}\nspec: {accessModes: [ReadWriteOnce]}\n",
		"unknown field \"data\"");
	refused(PVC_HEAD, "spec");
}

#define PV_HEAD "apiVersion: v1\nkind: PersistentVolume\nmetadata: {name: pv1, namespace: x}\n"

/* PersistentVolumes: hostPath or local, Retain, cluster-scoped; a claim
 * binds to one by volumeName when it fits. */
static void test_pv(void **state)
{
	(void)state;
	struct pp_config_object *pv =
	    one(PV_HEAD "spec:\n  capacity: {storage: 2Gi}\n  accessModes: [ReadWriteOnce]\n"
			"  local: {path: /srv/pv1}\n  storageClassName: local\n"
			"  claimRef: {name: c}\n  nodeAffinity: {}\n");
	assert_int_equal(pv->kind, PP_OBJ_PV);
	assert_string_equal(pv->namespace_, PP_CLUSTER_SCOPE);
	assert_string_equal(pv->host_path, "/srv/pv1");
	assert_string_equal(pv->claim_ns, "default");
	assert_string_equal(pv->claim_name, "c");
	enum pp_object_apply_result res;
	assert_int_equal(pp_object_apply(pv, &res, NULL), 0);
	pp_object_free(pv);

	struct pp_config_object *c =
	    one(PVC_HEAD "spec: {accessModes: [ReadWriteOnce], volumeName: pv1, storageClassName: "
			 "local, resources: {requests: {storage: 1Gi}}}\n");
	free(c->name);
	c->name = xstrdup("c");
	cleanup_free char *path = NULL;
	cleanup_error struct pp_error *err = NULL;
	if (pp_pvc_path(c, &path, &err) < 0)
		fail_msg("%s", err->msg);
	assert_string_equal(path, "/srv/pv1");
	free(path);
	path = NULL;
	free(c->storage);
	c->storage = xstrdup("3Gi");
	assert_int_equal(pp_pvc_path(c, &path, &err), -1);
	assert_non_null(strstr(err->msg, "has 2Gi, less than the claim's request 3Gi"));
	pp_error_free(&err);
	free(c->name);
	c->name = xstrdup("other");
	assert_int_equal(pp_pvc_path(c, &path, &err), -1);
	assert_non_null(strstr(err->msg, "is reserved for claim default/c"));
	pp_error_free(&err);
	pp_object_free(c);
	assert_int_equal(pp_object_delete(PP_OBJ_PV, PP_CLUSTER_SCOPE, "pv1", NULL), 0);

	refused(PV_HEAD "spec: {capacity: {storage: 1Gi}, accessModes: [ReadWriteOnce]}\n",
		"spec: Required value: must specify a volume type");
	refused(PV_HEAD "spec: {capacity: {storage: 1Gi}, accessModes: [ReadWriteOnce], "
			"hostPath: {path: rel}}\n",
		"spec.hostPath.path: Invalid value: \"rel\": must be an absolute path");
	refused(PV_HEAD "spec: {capacity: {storage: 1Gi}, accessModes: [ReadWriteOnce], "
			"hostPath: {path: /a}, local: {path: /b}}\n",
		"may not specify more than 1 volume type");
	refused(PV_HEAD "spec: {capacity: {storage: 1Gi}, accessModes: [ReadWriteOnce], "
			"hostPath: {path: /a}, persistentVolumeReclaimPolicy: Delete}\n",
		"Delete is not supported: peapod keeps a PersistentVolume's data (Retain)");
	refused(PV_HEAD "spec: {accessModes: [ReadWriteOnce], hostPath: {path: /a}}\n",
		"spec.capacity: Required value");
}

/* A claim in the store: its directory made with it and removed with it;
 * the spec immutable but for a growing request. */
static void test_pvc_store(void **state)
{
	(void)state;
	enum pp_object_apply_result res;
	cleanup_error struct pp_error *err = NULL;
	struct pp_config_object *o =
	    one(PVC_HEAD "spec: {accessModes: [ReadWriteOncePod], resources: {requests: {storage: "
			 "1Gi}}}\n");
	if (pp_object_apply(o, &res, &err) < 0)
		fail_msg("%s", err->msg);
	assert_int_equal(res, PP_OBJECT_CREATED);
	pp_object_free(o);
	cleanup_free char *dir = pp_pvc_data_dir("default", "data");
	struct stat st;
	assert_int_equal(stat(dir, &st), 0);
	assert_true(S_ISDIR(st.st_mode));
	assert_int_equal(st.st_mode & 07777, 0777);

	struct pp_config_object *got = NULL;
	assert_int_equal(pp_object_get(PP_OBJ_PVC, "default", "data", &got, NULL), 0);
	assert_int_equal(got->access_modes, PP_ACCESS_RWOP);
	assert_string_equal(got->storage, "1Gi");
	pp_object_free(got);

	o = one(PVC_HEAD "spec: {accessModes: [ReadWriteOncePod], resources: {requests: {storage: "
			 "1Gi}}}\n");
	assert_int_equal(pp_object_apply(o, &res, NULL), 0);
	assert_int_equal(res, PP_OBJECT_UNCHANGED);
	pp_object_free(o);
	o = one(PVC_HEAD "spec: {accessModes: [ReadWriteOncePod], resources: {requests: {storage: "
			 "2Gi}}}\n");
	assert_int_equal(pp_object_apply(o, &res, NULL), 0);
	assert_int_equal(res, PP_OBJECT_CONFIGURED);
	pp_object_free(o);
	o = one(PVC_HEAD "spec: {accessModes: [ReadWriteOncePod], resources: {requests: {storage: "
			 "1Gi}}}\n");
	assert_int_equal(pp_object_check_apply(o, &err), -1);
	assert_non_null(strstr(err->msg, "can not be less than status.capacity"));
	pp_error_free(&err);
	pp_object_free(o);
	o = one(PVC_HEAD "spec: {accessModes: [ReadWriteMany], resources: {requests: {storage: "
			 "2Gi}}}\n");
	assert_int_equal(pp_object_apply(o, &res, &err), -1);
	assert_non_null(strstr(err->msg, "PersistentVolumeClaim \"data\" is invalid: spec: "
					 "Forbidden: spec is immutable after creation"));
	pp_error_free(&err);
	pp_object_free(o);

	assert_int_equal(pp_object_delete(PP_OBJ_PVC, "default", "data", NULL), 0);
	assert_int_equal(stat(dir, &st), -1);
	assert_int_equal(pp_object_get(PP_OBJ_PVC, "default", "data", &got, &err),
			 PP_OBJECT_NOT_FOUND);
	assert_string_equal(err->msg, "persistentvolumeclaims \"data\" not found");
}

/* A pod's persistentVolumeClaim volume. */
static void test_pvc_volume(void **state)
{
	(void)state;
	const char *head = "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n"
			   "  containers: [{name: c, image: busybox}]\n  volumes:\n";
	cleanup_free char *ok = xasprintf(
	    "%s  - {name: d, persistentVolumeClaim: {claimName: data, readOnly: true}}\n", head);
	struct pp_pod *pod = NULL;
	struct pp_error *err = NULL;
	if (pp_spec_parse_buffer("p.yaml", ok, strlen(ok), &pod, &err) < 0)
		fail_msg("%s", err->msg);
	assert_int_equal(pod->volumes[0].kind, PP_VOLUME_PVC);
	assert_string_equal(pod->volumes[0].claim_name, "data");
	assert_true(pod->volumes[0].claim_read_only);
	pp_pod_free(pod);
	cleanup_free char *bad = xasprintf("%s  - {name: d, persistentVolumeClaim: {}}\n", head);
	assert_int_equal(pp_spec_parse_buffer("p.yaml", bad, strlen(bad), &pod, &err), -1);
	assert_non_null(strstr(err->msg, "spec.volumes[0].persistentVolumeClaim.claimName"));
	pp_error_free(&err);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_base64),	 cmocka_unit_test(test_several_documents),
	    cmocka_unit_test(test_json_input),	 cmocka_unit_test(test_refused),
	    cmocka_unit_test(test_store),	 cmocka_unit_test(test_build),
	    cmocka_unit_test(test_build_errors), cmocka_unit_test(test_env_refs_parsed),
	    cmocka_unit_test(test_pvc_parse),	 cmocka_unit_test(test_pvc_store),
	    cmocka_unit_test(test_pvc_volume),	 cmocka_unit_test(test_pv),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
