/* containers and initContainers: one pp_container each. */
#include <ctype.h>
#include <string.h>

#include "manifest/k8s_names.h"
#include "manifest/parse_internal.h"
#include "util/cleanup.h"
#include "util/image_reference.h"

#define PORT_MAX 65535
#define DEFAULT_TERMINATION_MESSAGE_PATH "/dev/termination-log"
#define DEFAULT_TERMINATION_MESSAGE_POLICY "File"

static int parse_container_name(struct pctx *c, const struct pp_ynode *n, const char *path,
				void *obj)
{
	struct pp_container *ct = obj;
	ct->name_pos = n->pos;
	if (get_string(c, n, path, &ct->name) < 0)
		return -1;
	if (!pp_is_dns1123_label(ct->name))
		return perr(c, n->pos, path,
			    "invalid container name \"%s\": must be a DNS-1123 label (at most 63 "
			    "characters of a-z, 0-9 and '-', starting and ending alphanumeric)",
			    ct->name);
	return 0;
}

static int parse_pull_policy(struct pctx *c, const struct pp_ynode *n, const char *path, void *obj)
{
	static const char *const words[] = {"Always", "IfNotPresent", "Never", NULL};
	int v;
	if (get_enum(c, n, path, words, &v) < 0)
		return -1;
	((struct pp_container *)obj)->pull_policy = (enum pp_pull_policy)(v + PP_PULL_ALWAYS);
	return 0;
}

static int parse_working_dir(struct pctx *c, const struct pp_ynode *n, const char *path, void *obj)
{
	struct pp_container *ct = obj;
	if (get_string(c, n, path, &ct->working_dir) < 0)
		return -1;
	if (ct->working_dir[0] != '/')
		return perr(c, n->pos, path, "must be an absolute path, got \"%s\"",
			    ct->working_dir);
	return 0;
}

static int parse_message_policy(struct pctx *c, const struct pp_ynode *n, const char *path,
				void *obj)
{
	static const char *const words[] = {"File", "FallbackToLogsOnError", NULL};
	int v;
	if (get_enum(c, n, path, words, &v) < 0)
		return -1;
	struct pp_container *ct = obj;
	free(ct->termination_message_policy);
	ct->termination_message_policy = xstrdup(words[v]);
	return 0;
}

static int parse_container_restart(struct pctx *c, const struct pp_ynode *n, const char *path,
				   void *obj)
{
	static const char *const words[] = {"Always", NULL};
	struct pp_container *ct = obj;
	int v;
	if (!ct->is_init)
		return perr(c, n->pos, path,
			    "may not be set for non-init containers (only an init "
			    "container with restartPolicy Always, a sidecar)");
	if (get_enum(c, n, path, words, &v) < 0)
		return -1;
	ct->has_restart_policy = true;
	ct->restart_policy = PP_RESTART_ALWAYS;
	return 0;
}

static int parse_liveness(struct pctx *c, const struct pp_ynode *n, const char *path, void *obj)
{
	return parse_probe(c, n, path, &((struct pp_container *)obj)->liveness);
}
static int parse_readiness(struct pctx *c, const struct pp_ynode *n, const char *path, void *obj)
{
	return parse_probe(c, n, path, &((struct pp_container *)obj)->readiness);
}
static int parse_startup(struct pctx *c, const struct pp_ynode *n, const char *path, void *obj)
{
	return parse_probe(c, n, path, &((struct pp_container *)obj)->startup);
}

/* ---- ports ---- */
static int parse_port_name(struct pctx *c, const struct pp_ynode *n, const char *path, void *obj)
{
	struct pp_port *p = obj;
	p->name_pos = n->pos;
	if (get_string(c, n, path, &p->name) < 0)
		return -1;
	if (!pp_is_iana_svc_name(p->name))
		return perr(
		    c, n->pos, path,
		    "invalid port name \"%s\": at most 15 of a-z, 0-9 and '-', with a letter, "
		    "no leading, trailing or double '-'",
		    p->name);
	return 0;
}

static int parse_protocol(struct pctx *c, const struct pp_ynode *n, const char *path, void *obj)
{
	static const char *const words[] = {"TCP", "UDP", "SCTP", NULL};
	int v;
	if (get_enum(c, n, path, words, &v) < 0)
		return -1;
	((struct pp_port *)obj)->protocol = (enum pp_protocol)v;
	return 0;
}

static int parse_host_ip(struct pctx *c, const struct pp_ynode *n, const char *path, void *obj)
{
	struct pp_port *p = obj;
	if (get_string(c, n, path, &p->host_ip) < 0)
		return -1;
	if (!pp_is_ip(p->host_ip))
		return perr(c, n->pos, path, "invalid IP address \"%s\"", p->host_ip);
	return 0;
}

static const struct field port_fields[] = {
    {.key = "containerPort",
     .kind = FK_INT32,
     .off = offsetof(struct pp_port, container_port),
     .min = 1,
     .max = PORT_MAX,
     .required = true},
    {.key = "hostPort",
     .kind = FK_INT32,
     .off = offsetof(struct pp_port, host_port),
     .min = 1,
     .max = PORT_MAX},
    F_FN("name", parse_port_name),
    F_FN("protocol", parse_protocol),
    F_FN("hostIP", parse_host_ip),
    F_END,
};

static int parse_port(struct pctx *c, const struct pp_ynode *n, const char *path, void *elem)
{
	((struct pp_port *)elem)->pos = n->pos;
	return walk_map(c, n, path, port_fields, elem);
}

static int parse_ports(struct pctx *c, const struct pp_ynode *n, const char *path, void *obj)
{
	struct pp_container *ct = obj;
	return walk_seq(c, n, path, sizeof(struct pp_port), (void **)&ct->ports, &ct->n_ports,
			parse_port);
}

#define T struct pp_container
static const struct field container_fields[] = {
    F_FN_REQ("name", parse_container_name),
    F_STR_REQ("image", T, image),
    F_FN("imagePullPolicy", parse_pull_policy),
    F_STRV("command", T, command),
    F_STRV("args", T, args),
    F_FN("workingDir", parse_working_dir),
    F_FN("env", parse_env),
    F_FN("envFrom", parse_env_from),
    F_FN("ports", parse_ports),
    F_FN("volumeMounts", parse_volume_mounts),
    F_FN("resources", parse_resources),
    F_FN("livenessProbe", parse_liveness),
    F_FN("readinessProbe", parse_readiness),
    F_FN("startupProbe", parse_startup),
    F_FN("lifecycle", parse_lifecycle),
    F_FN("securityContext", parse_container_security),
    F_STR("terminationMessagePath", T, termination_message_path),
    F_FN("terminationMessagePolicy", parse_message_policy),
    F_BOOL("stdin", T, stdin_open),
    F_BOOL("stdinOnce", T, stdin_once),
    F_BOOL("tty", T, tty),
    F_FN("restartPolicy", parse_container_restart),
    F_IGN("resizePolicy", PP_YSEQ),
    F_IGN("volumeDevices", PP_YSEQ),
    F_END,
};
#undef T

static int field_error(struct pctx *c, const struct pp_ynode *n, const char *path, const char *key,
		       const char *msg)
{
	return perr_key(c, n, path, key, "%s", msg);
}

static int check_probes(struct pctx *c, const struct pp_ynode *n, const char *path,
			const struct pp_container *ct)
{
	static const char *const probes[] = {"livenessProbe", "readinessProbe", "startupProbe",
					     "lifecycle"};
	bool sidecar = ct->is_init && ct->has_restart_policy;
	for (size_t i = 0; ct->is_init && !sidecar && i < sizeof(probes) / sizeof(probes[0]); i++)
		if (pp_ymap_get(n, probes[i]) && !ynode_is_null(pp_ymap_get(n, probes[i])))
			return field_error(c, n, path, probes[i],
					   "may not be set for init containers without "
					   "restartPolicy Always");
	const struct pp_probe *must_be_one[] = {&ct->liveness, &ct->startup};
	const char *names[] = {"livenessProbe", "startupProbe"};
	for (size_t i = 0; i < 2; i++) {
		if (!must_be_one[i]->set || must_be_one[i]->success_threshold == 1)
			continue;
		cleanup_free char *p = path_key(path, names[i]);
		return field_error(c, pp_ymap_get(n, names[i]), p, "successThreshold", "must be 1");
	}
	if (ct->readiness.set && ct->readiness.termination_grace_period_seconds != -1) {
		cleanup_free char *p = path_key(path, "readinessProbe");
		return field_error(c, pp_ymap_get(n, "readinessProbe"), p,
				   "terminationGracePeriodSeconds",
				   "must not be set for readiness probes");
	}
	return 0;
}

static int parse_container(struct pctx *c, const struct pp_ynode *n, const char *path,
			   struct pp_container *ct)
{
	ct->pos = n->pos;
	if (walk_map(c, n, path, container_fields, ct) < 0)
		return -1;
	if (ct->image[0] == '\0')
		return field_error(c, n, path, "image", "must not be empty");
	if (isspace((unsigned char)ct->image[0]) ||
	    isspace((unsigned char)ct->image[strlen(ct->image) - 1]))
		return field_error(c, n, path, "image",
				   "must not have leading or trailing whitespace");
	cleanup_error struct pp_error *ref_err = NULL;
	cleanup_image_ref struct pp_image_ref ref;
	if (pp_image_ref_parse(ct->image, &ref, &ref_err) < 0)
		return field_error(c, n, path, "image", ref_err->msg);
	if (ct->termination_message_path == NULL)
		ct->termination_message_path = xstrdup(DEFAULT_TERMINATION_MESSAGE_PATH);
	if (ct->termination_message_policy == NULL)
		ct->termination_message_policy = xstrdup(DEFAULT_TERMINATION_MESSAGE_POLICY);
	return check_probes(c, n, path, ct);
}

static int parse_app_container(struct pctx *c, const struct pp_ynode *n, const char *path,
			       void *elem)
{
	return parse_container(c, n, path, elem);
}

static int parse_init_container(struct pctx *c, const struct pp_ynode *n, const char *path,
				void *elem)
{
	((struct pp_container *)elem)->is_init = true;
	return parse_container(c, n, path, elem);
}

int parse_containers(struct pctx *c, const struct pp_ynode *n, const char *path, void *obj)
{
	struct pp_pod *pod = obj;
	if (walk_seq(c, n, path, sizeof(struct pp_container), (void **)&pod->containers,
		     &pod->n_containers, parse_app_container) < 0)
		return -1;
	if (pod->n_containers == 0)
		return perr(c, n->pos, path, "must have at least one container");
	return 0;
}

int parse_init_containers(struct pctx *c, const struct pp_ynode *n, const char *path, void *obj)
{
	struct pp_pod *pod = obj;
	return walk_seq(c, n, path, sizeof(struct pp_container), (void **)&pod->init_containers,
			&pod->n_init_containers, parse_init_container);
}
