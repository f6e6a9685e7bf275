/* Pausing a pod: its cgroup (infra and containers) is frozen, as `podman
 * pod pause` does. The supervisor keeps the pod's clocks honest meanwhile:
 * probes neither run nor time out, restarts wait, and on unpause both move
 * later by the time the pod was paused.
 *
 * Pause and exec go one after the other. exec's CLI starts its process
 * itself, born into the container's cgroup (clone3 CLONE_INTO_CGROUP, or
 * the v1 freezer's tasks file): frozen there before it reaches its exec,
 * it would hold the CLI in the kernel's vfork wait until an unpause, which
 * may never come. So an exec is refused while the pod is paused or a pause
 * waits, and a pause waits (its reply deferred, SUP_PAUSE_WAIT_NS at most)
 * for the execs being set up: a CLI keeps its control connection open from
 * the reply until its process has exec'd. */
#include <stdio.h>

#include "cgroup/cgroup_ops.h"
#include "supervisor/supervisor_internal.h"
#include "util/cleanup.h"
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

static bool execs_being_set_up(const struct sup *s)
{
	for (size_t k = 0; k < MAX_CLIENTS; k++)
		if (s->exec_setup[k])
			return true;
	return false;
}

static bool pause_waiting(const struct sup *s)
{
	for (size_t k = 0; k < MAX_CLIENTS; k++)
		if (s->pause_waits[k])
			return true;
	return false;
}

/* Every waiting pause answered: "ok" when msg is NULL. */
static void answer_pauses(struct sup *s, const char *msg)
{
	for (size_t k = 0; k < MAX_CLIENTS; k++)
		if (s->pause_waits[k]) {
			s->pause_waits[k] = false;
			sup_ctl_reply(s, k, msg);
		}
	s->pause_deadline = 0;
}

/* The pause now, recorded in status.json before the CLI returns; err says
 * why not. */
static void pause_now(struct sup *s, struct pp_error **err)
{
	if (sup_freeze(s, err) == 0)
		sup_write_status(s);
}

void sup_pause_request(struct sup *s, size_t k)
{
	if (!s->frozen && !s->finished && s->stopping == STOP_NONE && execs_being_set_up(s)) {
		s->pause_waits[k] = true;
		if (s->pause_deadline == 0)
			s->pause_deadline = pp_monotonic_ns() + SUP_PAUSE_WAIT_NS;
		return;
	}
	cleanup_error struct pp_error *err = NULL;
	pause_now(s, &err);
	sup_ctl_reply(s, k, err ? err->msg : NULL);
}

void sup_unpause_request(struct sup *s, size_t k)
{
	cleanup_error struct pp_error *err = NULL;
	if (s->pause_deadline != 0) {
		/* in the order they came: the pause, then this unpause */
		cleanup_free char *msg =
		    xasprintf("pause of pod %s cancelled by an unpause (an exec was being set up)",
			      s->pod->spec->name);
		answer_pauses(s, msg);
		sup_ctl_reply(s, k, NULL);
		return;
	}
	if (!s->frozen) {
		cleanup_free char *msg = xasprintf("pod %s is not paused", s->pod->spec->name);
		sup_ctl_reply(s, k, msg);
		return;
	}
	if (sup_thaw(s, &err) < 0) {
		sup_ctl_reply(s, k, err->msg);
		return;
	}
	/* what waited for the thaw (a start that came due) goes on */
	sup_advance(s);
	sup_write_status(s);
	sup_ctl_reply(s, k, NULL);
}

const char *sup_exec_refusal(const struct sup *s)
{
	if (s->frozen)
		return "is paused";
	return s->pause_deadline != 0 ? "is being paused" : NULL;
}

void sup_pause_client_gone(struct sup *s, size_t k)
{
	s->exec_setup[k] = false;
	s->pause_waits[k] = false;
	if (s->pause_deadline == 0 || execs_being_set_up(s))
		return;
	if (!pause_waiting(s)) {
		/* whoever asked is gone: nothing to do it for */
		s->pause_deadline = 0;
		return;
	}
	cleanup_error struct pp_error *err = NULL;
	pause_now(s, &err);
	answer_pauses(s, err ? err->msg : NULL);
}

void sup_pause_timer(struct sup *s, int64_t now)
{
	if (s->pause_deadline == 0 || now < s->pause_deadline)
		return;
	cleanup_free char *msg =
	    xasprintf("pod %s not paused: an exec into it is still being set "
		      "up after %llds (try again)",
		      s->pod->spec->name, (long long)(SUP_PAUSE_WAIT_NS / PP_NSEC_PER_SEC));
	answer_pauses(s, msg);
}

void sup_pause_cancel(struct sup *s, const char *why)
{
	if (s->pause_deadline != 0)
		answer_pauses(s, why);
}
