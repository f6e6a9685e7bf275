/* Probe and lifecycle handlers: exec, httpGet, tcpSocket, grpc, sleep. */
#include <string.h>

#include "manifest/k8s_names.h"
#include "manifest/parse_internal.h"
#include "util/cleanup.h"

#define PORT_MAX 65535

/* IntOrString ports: a number, or the name of one of the container's ports. */
int parse_port_ref(struct pctx *c, const struct pp_ynode *n, const char *path, int32_t *port,
		   char **name)
{
	enum yscalar t = n->kind == PP_YSCALAR ? yscalar_type(n) : YS_NULL;
	int64_t v;
	if (t == YS_INT) {
		if (get_int64(c, n, path, 1, PORT_MAX, &v) < 0)
			return -1;
		*port = (int32_t)v;
		return 0;
	}
	if (t != YS_STRING)
		return perr(c, n->pos, path, "expected port number or name, got %s",
			    ynode_type_name(n));
	if (!pp_is_iana_svc_name(n->value))
		return perr(
		    c, n->pos, path,
		    "invalid port name \"%s\": at most 15 of a-z, 0-9 and '-', with a letter",
		    n->value);
	*name = xstrdup(n->value);
	return 0;
}

static int handler_port(struct pctx *c, const struct pp_ynode *n, const char *path, void *obj)
{
	struct pp_handler *h = obj;
	return parse_port_ref(c, n, path, &h->port, &h->port_name);
}

static int grpc_port(struct pctx *c, const struct pp_ynode *n, const char *path, void *obj)
{
	struct pp_handler *h = obj;
	int64_t v;
	if (get_int64(c, n, path, 1, PORT_MAX, &v) < 0)
		return -1;
	h->port = (int32_t)v;
	return 0;
}

static int http_scheme(struct pctx *c, const struct pp_ynode *n, const char *path, void *obj)
{
	static const char *const words[] = {"HTTP", "HTTPS", NULL};
	struct pp_handler *h = obj;
	int v;
	if (get_enum(c, n, path, words, &v) < 0)
		return -1;
	h->http_scheme = xstrdup(words[v]);
	return 0;
}

static const struct field header_fields[] = {
    F_STR_REQ("name", struct pp_kv, key),
    F_STR("value", struct pp_kv, value),
    F_END,
};

static int http_header(struct pctx *c, const struct pp_ynode *n, const char *path, void *elem)
{
	struct pp_kv *kv = elem;
	if (walk_map(c, n, path, header_fields, kv) < 0)
		return -1;
	if (kv->value == NULL)
		kv->value = xstrdup("");
	return 0;
}

static int http_headers(struct pctx *c, const struct pp_ynode *n, const char *path, void *obj)
{
	struct pp_handler *h = obj;
	return walk_seq(c, n, path, sizeof(struct pp_kv), (void **)&h->http_headers,
			&h->n_http_headers, http_header);
}

#define T struct pp_handler
static const struct field exec_fields[] = {F_STRV("command", T, exec_command), F_END};
static const struct field http_fields[] = {
    F_STR("path", T, http_path), F_FN_REQ("port", handler_port),    F_STR("host", T, http_host),
    F_FN("scheme", http_scheme), F_FN("httpHeaders", http_headers), F_END,
};
static const struct field tcp_fields[] = {
    F_FN_REQ("port", handler_port),
    F_STR("host", T, http_host),
    F_END,
};
static const struct field grpc_fields[] = {
    F_FN_REQ("port", grpc_port),
    F_STR("service", T, grpc_service),
    F_END,
};
static const struct field sleep_fields[] = {
    {.key = "seconds", .kind = FK_INT64, .off = offsetof(T, sleep_seconds), .required = true},
    F_END,
};
#undef T

/* One handler kind per handler, as the API server requires. */
static int set_kind(struct pctx *c, const struct pp_ynode *n, const char *path,
		    struct pp_handler *h, enum pp_handler_kind kind)
{
	if (h->kind != PP_HANDLER_NONE)
		return perr(c, n->pos, path, "may not specify more than 1 handler type");
	h->kind = kind;
	return 0;
}

int parse_handler_kind(struct pctx *c, const struct pp_ynode *n, const char *path,
		       struct pp_handler *h, enum pp_handler_kind kind)
{
	static const struct field *const tables[] = {
	    [PP_HANDLER_EXEC] = exec_fields,	  [PP_HANDLER_HTTP_GET] = http_fields,
	    [PP_HANDLER_TCP_SOCKET] = tcp_fields, [PP_HANDLER_GRPC] = grpc_fields,
	    [PP_HANDLER_SLEEP] = sleep_fields,
	};
	if (set_kind(c, n, path, h, kind) < 0 || walk_map(c, n, path, tables[kind], h) < 0)
		return -1;
	if (kind == PP_HANDLER_EXEC && (h->exec_command == NULL || h->exec_command[0] == NULL)) {
		cleanup_free char *p = path_key(path, "command");
		return perr(c, n->pos, p, "required field \"command\" is missing");
	}
	if (kind == PP_HANDLER_SLEEP && h->sleep_seconds < 0) {
		return perr_key(c, n, path, "seconds", "must be greater than or equal to 0");
	}
	return 0;
}

static int lc_exec(struct pctx *c, const struct pp_ynode *n, const char *path, void *obj)
{
	return parse_handler_kind(c, n, path, obj, PP_HANDLER_EXEC);
}
static int lc_http(struct pctx *c, const struct pp_ynode *n, const char *path, void *obj)
{
	return parse_handler_kind(c, n, path, obj, PP_HANDLER_HTTP_GET);
}
static int lc_tcp(struct pctx *c, const struct pp_ynode *n, const char *path, void *obj)
{
	return parse_handler_kind(c, n, path, obj, PP_HANDLER_TCP_SOCKET);
}
static int lc_sleep(struct pctx *c, const struct pp_ynode *n, const char *path, void *obj)
{
	return parse_handler_kind(c, n, path, obj, PP_HANDLER_SLEEP);
}

static const struct field lifecycle_handler_fields[] = {
    F_FN("exec", lc_exec),
    F_FN("httpGet", lc_http),
    F_FN("tcpSocket", lc_tcp),
    F_FN("sleep", lc_sleep),
    F_END,
};

static int lifecycle_handler(struct pctx *c, const struct pp_ynode *n, const char *path,
			     struct pp_handler *h)
{
	h->pos = n->pos;
	if (walk_map(c, n, path, lifecycle_handler_fields, h) < 0)
		return -1;
	if (h->kind == PP_HANDLER_NONE)
		return perr(c, n->pos, path,
			    "must specify a handler type (exec, httpGet, "
			    "tcpSocket or sleep)");
	return 0;
}

static int post_start(struct pctx *c, const struct pp_ynode *n, const char *path, void *obj)
{
	return lifecycle_handler(c, n, path, &((struct pp_lifecycle *)obj)->post_start);
}

static int pre_stop(struct pctx *c, const struct pp_ynode *n, const char *path, void *obj)
{
	return lifecycle_handler(c, n, path, &((struct pp_lifecycle *)obj)->pre_stop);
}

static const struct field lifecycle_fields[] = {
    F_FN("postStart", post_start),
    F_FN("preStop", pre_stop),
    F_STR("stopSignal", struct pp_lifecycle, stop_signal),
    F_END,
};

int parse_lifecycle(struct pctx *c, const struct pp_ynode *n, const char *path, void *obj)
{
	struct pp_container *ct = obj;
	return walk_map(c, n, path, lifecycle_fields, &ct->lifecycle);
}
