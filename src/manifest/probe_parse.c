/* livenessProbe, readinessProbe, startupProbe. */
#include "manifest/parse_internal.h"
#include "util/cleanup.h"

/* Defaults the API server fills in for zero values. */
#define PROBE_DEFAULT_TIMEOUT 1
#define PROBE_DEFAULT_PERIOD 10
#define PROBE_DEFAULT_SUCCESS 1
#define PROBE_DEFAULT_FAILURE 3

static int probe_exec(struct pctx *c, const struct pp_ynode *n, const char *path, void *obj)
{
	return parse_handler_kind(c, n, path, &((struct pp_probe *)obj)->handler, PP_HANDLER_EXEC);
}
static int probe_http(struct pctx *c, const struct pp_ynode *n, const char *path, void *obj)
{
	return parse_handler_kind(c, n, path, &((struct pp_probe *)obj)->handler,
				  PP_HANDLER_HTTP_GET);
}
static int probe_tcp(struct pctx *c, const struct pp_ynode *n, const char *path, void *obj)
{
	return parse_handler_kind(c, n, path, &((struct pp_probe *)obj)->handler,
				  PP_HANDLER_TCP_SOCKET);
}
static int probe_grpc(struct pctx *c, const struct pp_ynode *n, const char *path, void *obj)
{
	return parse_handler_kind(c, n, path, &((struct pp_probe *)obj)->handler, PP_HANDLER_GRPC);
}

#define T struct pp_probe
static const struct field probe_fields[] = {
    F_FN("exec", probe_exec),
    F_FN("httpGet", probe_http),
    F_FN("tcpSocket", probe_tcp),
    F_FN("grpc", probe_grpc),
    F_I32("initialDelaySeconds", T, initial_delay_seconds, 0),
    F_I32("timeoutSeconds", T, timeout_seconds, 0),
    F_I32("periodSeconds", T, period_seconds, 0),
    F_I32("successThreshold", T, success_threshold, 0),
    F_I32("failureThreshold", T, failure_threshold, 0),
    F_I64("terminationGracePeriodSeconds", T, termination_grace_period_seconds, 1),
    F_END,
};
#undef T

static void default_if_zero(int32_t *v, int32_t def)
{
	if (*v == 0)
		*v = def;
}

int parse_probe(struct pctx *c, const struct pp_ynode *n, const char *path, struct pp_probe *p)
{
	p->set = true;
	p->pos = n->pos;
	p->termination_grace_period_seconds = -1;
	if (walk_map(c, n, path, probe_fields, p) < 0)
		return -1;
	if (p->handler.kind == PP_HANDLER_NONE)
		return perr(c, n->pos, path,
			    "must specify a handler type (exec, httpGet, tcpSocket or grpc)");
	p->handler.pos = n->pos;
	default_if_zero(&p->timeout_seconds, PROBE_DEFAULT_TIMEOUT);
	default_if_zero(&p->period_seconds, PROBE_DEFAULT_PERIOD);
	default_if_zero(&p->success_threshold, PROBE_DEFAULT_SUCCESS);
	default_if_zero(&p->failure_threshold, PROBE_DEFAULT_FAILURE);
	return 0;
}
