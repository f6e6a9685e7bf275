/* Pausing a pod: its cgroup (infra and containers) is frozen, as `podman
 * pod pause` does. The supervisor keeps the pod's clocks honest meanwhile:
 * probes neither run nor time out, restarts wait, and on unpause both move
 * later by the time the pod was paused. */
#include "cgroup/cgroup_ops.h"
#include "supervisor/supervisor_internal.h"
#include "util/clock.h"

int sup_freeze(struct sup *s, struct pp_error **err)
{
	if (s->finished || s->stopping != STOP_NONE)
		return pp_error_set(err, 0, "pod %s is %s", s->pod->spec->name,
				    s->finished ? "not running" : "terminating");
	if (s->frozen)
		return 0;
	if (pp_cgroup_freeze(s->pod->cgroup, true, err) < 0)
		return pp_error_wrap(err, "pause pod %s", s->pod->spec->name);
	s->frozen = true;
	s->frozen_at = pp_monotonic_ns();
	s->dirty = true;
	sup_event(s, PP_EVENT_INFO, NULL, "Paused", "Pod paused: every process frozen");
	return 0;
}

/* Idempotent: a pod that is not paused is left alone (and err untouched). */
int sup_thaw(struct sup *s, struct pp_error **err)
{
	if (!s->frozen)
		return 0;
	if (pp_cgroup_freeze(s->pod->cgroup, false, err) < 0)
		return pp_error_wrap(err, "unpause pod %s", s->pod->spec->name);
	int64_t d = pp_monotonic_ns() - s->frozen_at;
	s->frozen = false;
	sup_probes_shift(s, d);
	for (size_t i = 0; i < s->pod->n_containers; i++)
		if (s->run[i].start_at)
			s->run[i].start_at += d;
	s->dirty = true;
	sup_event(s, PP_EVENT_INFO, NULL, "Unpaused", "Pod unpaused");
	return 0;
}
