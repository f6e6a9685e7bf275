/* Liveness, readiness and startup probes, as kubelet runs them: each probe
 * of a running container is due every periodSeconds (the first one
 * initialDelaySeconds after the start); the startup probe goes first and
 * the others wait for it; successThreshold successes in a row make the
 * result success, failureThreshold failures in a row failure. The
 * scheduling here knows nothing of how a run is made: a transport (struct
 * probe_transport) starts it, watches its fds in the loop's epoll and hands
 * its result back through sup_probe_finish (exec: probe_child.c; tcpSocket,
 * httpGet and grpc to an address: probe_net.c, to a name: probe_child.c).
 * The timeout is a deadline of the loop's timer, so the loop never blocks
 * on one. */
#include <stdio.h>

#include "supervisor/supervisor_internal.h"
#include "util/cleanup.h"

/* The bits of a TAG_PROBE index that tell a probe's slot, and those above
 * them that carry its run's gen. */
#define PROBE_SLOT_BITS 32
#define PROBE_SLOT_MASK ((UINT64_C(1) << PROBE_SLOT_BITS) - 1)
#define PROBE_GEN_MASK (TAG_INDEX_MASK >> PROBE_SLOT_BITS)

static const char *const probe_names[N_PROBES] = {"Startup", "Liveness", "Readiness"};

const struct pp_probe *sup_probe_spec(const struct sup *s, size_t i, enum probe_kind k)
{
	const struct pp_container *c = s->pod->containers[i].spec;
	const struct pp_probe *p = k == PROBE_STARTUP	 ? &c->startup
				   : k == PROBE_LIVENESS ? &c->liveness
							 : &c->readiness;
	return p->set ? p : NULL;
}

void sup_probes_init(struct sup *s)
{
	for (size_t i = 0; i < s->pod->n_containers; i++) {
		for (size_t k = 0; k < N_PROBES; k++)
			s->run[i].probes[k] = PROBE_RUN_INIT;
		s->run[i].exec = EXEC_CACHE_INIT;
	}
}

static bool running(const struct probe_run *p)
{
	return p->transport != NULL;
}

/* The run of p is let go, whatever its transport. */
static void cancel(struct sup *s, struct probe_run *p)
{
	if (p->transport != NULL)
		p->transport->cancel(s, p);
	p->transport = NULL;
	p->deadline = 0;
}

static void schedule(struct sup *s, size_t i, enum probe_kind k, int64_t now)
{
	const struct pp_probe *spec = sup_probe_spec(s, i, k);
	struct probe_run *p = &s->run[i].probes[k];
	if (spec == NULL)
		return;
	int64_t first = s->run[i].probes_since + spec->initial_delay_seconds * PP_NSEC_PER_SEC;
	p->next_at = first > now ? first : now;
}

void sup_probes_reset(struct sup *s, size_t i)
{
	struct ctr_run *r = &s->run[i];
	int64_t now = pp_monotonic_ns();
	sup_probes_stop(s, i);
	r->probes_since = now;
	r->started = sup_probe_spec(s, i, PROBE_STARTUP) == NULL;
	r->ready = sup_probe_spec(s, i, PROBE_READINESS) == NULL;
	if (!r->started) {
		schedule(s, i, PROBE_STARTUP, now);
		return;
	}
	schedule(s, i, PROBE_LIVENESS, now);
	schedule(s, i, PROBE_READINESS, now);
}

void sup_probes_stop(struct sup *s, size_t i)
{
	struct ctr_run *r = &s->run[i];
	for (size_t k = 0; k < N_PROBES; k++) {
		uint32_t gen = r->probes[k].gen; /* still tells stale events apart */
		cancel(s, &r->probes[k]);
		r->probes[k] = PROBE_RUN_INIT;
		r->probes[k].gen = gen;
	}
	r->kill_at = 0;
}

static void earliest(int64_t *next, int64_t t)
{
	if (t && (*next == 0 || t < *next))
		*next = t;
}

int64_t sup_probes_next(const struct sup *s)
{
	int64_t next = 0;
	if (s->stopping != STOP_NONE || s->frozen)
		return 0;
	for (size_t i = 0; i < pp_pod_n_all(s->pod); i++) {
		const struct ctr_run *r = &s->run[i];
		earliest(&next, r->kill_at);
		for (size_t k = 0; k < N_PROBES; k++)
			earliest(&next, running(&r->probes[k]) ? r->probes[k].deadline
							       : r->probes[k].next_at);
	}
	return next;
}

/* A liveness or startup probe failed for good: the container is stopped as
 * a delete would, and restarts (or not) per restartPolicy when it exits. */
static void kill_container(struct sup *s, size_t i, enum probe_kind k)
{
	const struct pp_probe *spec = sup_probe_spec(s, i, k);
	const char *name = s->pod->containers[i].spec->name;
	int64_t grace = spec->termination_grace_period_seconds >= 0
			    ? spec->termination_grace_period_seconds
			    : s->pod->spec->termination_grace_period_seconds;
	sup_event(s, PP_EVENT_INFO, name, "Killing",
		  "Container %s failed %s probe, will be restarted", name,
		  k == PROBE_STARTUP ? "startup" : "liveness");
	sup_probes_stop(s, i);
	sup_stop_container(s, i, grace == 0);
	if (grace > 0)
		s->run[i].kill_at = pp_monotonic_ns() + grace * PP_NSEC_PER_SEC;
}

static void on_success(struct sup *s, size_t i, enum probe_kind k, int64_t now)
{
	struct ctr_run *r = &s->run[i];
	if (k == PROBE_STARTUP && !r->started) {
		r->started = true;
		r->probes[k].next_at = 0;
		s->dirty = true;
		schedule(s, i, PROBE_LIVENESS, now);
		schedule(s, i, PROBE_READINESS, now);
	} else if (k == PROBE_READINESS && !r->ready) {
		r->ready = true;
		s->dirty = true;
	}
}

static void count_result(struct sup *s, size_t i, enum probe_kind k, bool ok, const char *msg)
{
	const struct pp_probe *spec = sup_probe_spec(s, i, k);
	struct probe_run *p = &s->run[i].probes[k];
	const char *name = s->pod->containers[i].spec->name;
	int64_t now = pp_monotonic_ns();
	p->next_at = now + spec->period_seconds * PP_NSEC_PER_SEC;
	if (ok) {
		p->failures = 0;
		if (++p->successes >= spec->success_threshold) {
			p->successes = spec->success_threshold;
			on_success(s, i, k, now);
		}
		return;
	}
	p->successes = 0;
	sup_event(s, PP_EVENT_WARNING, name, "Unhealthy", "%s probe failed: %s", probe_names[k],
		  msg);
	if (++p->failures < spec->failure_threshold)
		return;
	p->failures = spec->failure_threshold;
	if (k == PROBE_READINESS) {
		if (s->run[i].ready)
			s->dirty = true;
		s->run[i].ready = false;
	} else {
		kill_container(s, i, k);
	}
}

/* ---- running one ---- */

void sup_probe_finish(struct sup *s, size_t i, enum probe_kind k, bool ok, const char *msg)
{
	cancel(s, &s->run[i].probes[k]);
	count_result(s, i, k, ok, msg);
}

uint64_t sup_probe_tag(struct sup *s, size_t i, enum probe_kind k)
{
	struct probe_run *p = &s->run[i].probes[k];
	p->gen++;
	return TAG(TAG_PROBE, (uint64_t)(i * N_PROBES + k) | ((uint64_t)p->gen & PROBE_GEN_MASK)
								 << PROBE_SLOT_BITS);
}

void sup_probe_event(struct sup *s, uint64_t index)
{
	size_t slot = (size_t)(index & PROBE_SLOT_MASK);
	size_t i = slot / N_PROBES;
	enum probe_kind k = (enum probe_kind)(slot % N_PROBES);
	if (i >= s->pod->n_containers)
		return;
	struct probe_run *p = &s->run[i].probes[k];
	if (!running(p) || ((uint64_t)p->gen & PROBE_GEN_MASK) != index >> PROBE_SLOT_BITS)
		return; /* an event of an fd that is gone */
	p->transport->on_event(s, i, k);
}

/* kubelet's event for a success with a warning (a redirect not followed). */
void sup_probe_warning(struct sup *s, size_t i, enum probe_kind k, const char *msg)
{
	const char *name = s->pod->containers[i].spec->name;
	sup_event(s, PP_EVENT_WARNING, name, "ProbeWarning", "%s probe warning: %s", probe_names[k],
		  msg);
}

/* ---- starting one ---- */

/* Who runs a probe, in the order they are asked: tcpSocket, httpGet and
 * grpc in the supervisor when they go to an address, else a helper. */
static const struct probe_transport *const exec_transports[] = {&sup_probe_exec, NULL};
static const struct probe_transport *const net_transports[] = {&sup_probe_socket, &sup_probe_helper,
							       NULL};

static void run_probe(struct sup *s, size_t i, enum probe_kind k, int64_t now)
{
	const struct pp_probe *spec = sup_probe_spec(s, i, k);
	struct probe_run *p = &s->run[i].probes[k];
	cleanup_error struct pp_error *err = NULL;
	const struct probe_transport *const *t =
	    spec->handler.kind == PP_HANDLER_EXEC ? exec_transports : net_transports;
	int r = PROBE_DECLINED;
	p->next_at = 0;
	for (; *t != NULL && r == PROBE_DECLINED; t++) {
		p->transport = *t;
		r = (*t)->start(s, i, k, &err);
	}
	if (r == 0) {
		p->deadline = now + spec->timeout_seconds * PP_NSEC_PER_SEC;
		return;
	}
	cancel(s, p);
	count_result(s, i, k, false, r < 0 ? err->msg : "no transport for the probe");
}

void sup_probes_shift(struct sup *s, int64_t d)
{
	for (size_t i = 0; i < pp_pod_n_all(s->pod); i++) {
		struct ctr_run *r = &s->run[i];
		if (r->kill_at)
			r->kill_at += d;
		for (size_t k = 0; k < N_PROBES; k++) {
			if (r->probes[k].deadline)
				r->probes[k].deadline += d;
			if (r->probes[k].next_at)
				r->probes[k].next_at += d;
		}
	}
}

void sup_probes_timer(struct sup *s, int64_t now)
{
	/* A frozen container cannot answer: no probe runs or times out. */
	if (s->stopping != STOP_NONE || s->frozen)
		return;
	for (size_t i = 0; i < pp_pod_n_all(s->pod); i++) {
		struct ctr_run *r = &s->run[i];
		if (r->kill_at && now >= r->kill_at) {
			r->kill_at = 0;
			sup_stop_container(s, i, true);
		}
		if (s->pod->containers[i].state != PP_CTR_RUNNING)
			continue;
		for (size_t k = 0; k < N_PROBES; k++) {
			struct probe_run *p = &r->probes[k];
			if (running(p) && now >= p->deadline) {
				const struct pp_probe *spec =
				    sup_probe_spec(s, i, (enum probe_kind)k);
				cancel(s, p);
				char msg[64];
				if (spec->handler.kind == PP_HANDLER_GRPC)
					snprintf(msg, sizeof(msg),
						 "timeout: health rpc did not complete within %ds",
						 spec->timeout_seconds);
				else
					snprintf(msg, sizeof(msg), "timed out after %ds",
						 spec->timeout_seconds);
				count_result(s, i, (enum probe_kind)k, false, msg);
			} else if (!running(p) && p->next_at && now >= p->next_at) {
				run_probe(s, i, (enum probe_kind)k, now);
			}
		}
	}
}
