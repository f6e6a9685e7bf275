/* peapod wait NAME --for=condition=Ready|delete|jsonpath='{.status.phase}'=Running
 * [--timeout 30s]: kubectl wait over the pod's status file. */
#include <getopt.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/inotify.h>
#include <unistd.h>

#include <json-c/json.h>

#include "cli/cli.h"
#include "ops/ops.h"
#include "state/podstate.h"
#include "util/cleanup.h"
#include "util/clock.h"

#define WAIT_POLL_MS 100
#define DEFAULT_TIMEOUT_S 30

enum wait_kind { WAIT_CONDITION, WAIT_DELETE, WAIT_JSONPATH };

struct wait_for {
	enum wait_kind kind;
	char *what;  /* condition type, or the jsonpath without braces */
	char *value; /* wanted value ("True" for conditions) */
};

static int parse_for(const char *s, struct wait_for *w)
{
	if (strcmp(s, "delete") == 0) {
		w->kind = WAIT_DELETE;
		return 0;
	}
	if (strncmp(s, "condition=", 10) == 0) {
		w->kind = WAIT_CONDITION;
		w->what = xstrdup(s + 10);
		char *eq = strchr(w->what, '=');
		w->value = xstrdup(eq ? eq + 1 : "True");
		if (eq)
			*eq = '\0';
		return 0;
	}
	if (strncmp(s, "jsonpath=", 9) == 0) {
		const char *p = s + 9;
		const char *close = strchr(p, '}');
		if (*p != '{' || close == NULL || close[1] != '=')
			return -1;
		w->kind = WAIT_JSONPATH;
		w->what = strndup(p + 1, (size_t)(close - p - 1));
		w->value = xstrdup(close + 2);
		return 0;
	}
	return -1;
}

/* A jsonpath of the simple form kubectl wait takes: .a.b[0].c */
static struct json_object *jsonpath(struct json_object *o, const char *path)
{
	cleanup_free char *p = xstrdup(path);
	for (char *k = p; o != NULL && *k;) {
		if (*k == '.') {
			k++;
			size_t n = strcspn(k, ".[");
			char saved = k[n];
			k[n] = '\0';
			if (!json_object_object_get_ex(o, k, &o))
				o = NULL;
			k[n] = saved;
			k += n;
		} else if (*k == '[') {
			char *end = NULL;
			long i = strtol(k + 1, &end, 10);
			if (*end != ']' || !json_object_is_type(o, json_type_array))
				return NULL;
			o = json_object_array_get_idx(o, (size_t)i);
			k = end + 1;
		} else {
			return NULL;
		}
	}
	return o;
}

static bool condition_met(struct json_object *pod, const struct wait_for *w)
{
	struct json_object *conds = jsonpath(pod, ".status.conditions");
	for (size_t i = 0; conds && i < json_object_array_length(conds); i++) {
		struct json_object *c = json_object_array_get_idx(conds, i), *t = NULL, *s = NULL;
		if (json_object_object_get_ex(c, "type", &t) &&
		    strcasecmp(json_object_get_string(t), w->what) == 0 &&
		    json_object_object_get_ex(c, "status", &s))
			return strcasecmp(json_object_get_string(s), w->value) == 0;
	}
	return false;
}

/* 1 when met, 0 not yet, -1 never (the pod is gone while waiting for it). */
static int check(const char *ns, const char *name, const struct wait_for *w)
{
	struct pp_pod_view v;
	if (pp_pod_view_load(ns, name, &v, NULL) < 0)
		return w->kind == WAIT_DELETE ? 1 : -1;
	int met = 0;
	if (w->kind == WAIT_CONDITION) {
		met = condition_met(v.obj, w);
	} else if (w->kind == WAIT_JSONPATH) {
		struct json_object *o = jsonpath(v.obj, w->what);
		met = o != NULL && strcmp(json_object_get_string(o), w->value) == 0;
	}
	pp_pod_view_free(&v);
	return met;
}

static int parse_timeout(const char *s, int64_t *ms)
{
	char *end = NULL;
	double v = strtod(s, &end);
	double mult = *end == '\0' || strcmp(end, "s") == 0 ? 1000
		      : strcmp(end, "ms") == 0		    ? 1
		      : strcmp(end, "m") == 0		    ? 60000
		      : strcmp(end, "h") == 0		    ? 3600000
							    : -1;
	if (end == s || v < 0 || mult < 0)
		return -1;
	*ms = (int64_t)(v * mult);
	return 0;
}

/* Polls the condition until it holds, the pod is gone or the time is up. */
static int wait_until(const char *ns, const char *name, const struct wait_for *wf,
		      int64_t timeout_ms)
{
	const struct wait_for w = *wf;
	int64_t deadline = pp_monotonic_ms() + timeout_ms;
	cleanup_close int ino = -1;
	for (;;) {
		int r = check(ns, name, &w);
		if (r > 0) {
			printf("pod/%s %s\n", name,
			       w.kind == WAIT_DELETE ? "deleted" : "condition met");
			return 0;
		}
		if (r < 0) {
			fprintf(stderr, "peapod: pods \"%s\" not found\n", name);
			return CLI_EXIT_FAILURE;
		}
		if (pp_monotonic_ms() >= deadline) {
			fprintf(stderr, "peapod: timed out waiting for the condition on pods/%s\n",
				name);
			return CLI_EXIT_FAILURE;
		}
		/* Woken by each new status.json (it is renamed into place) or
		 * the end of the state directory; a slow poll covers whatever
		 * inotify misses. Made only once we have to wait: the close of
		 * an inotify with a watch waits for an SRCU grace period (~15 ms
		 * here), the whole cost of a wait that finds the pod ready. */
		if (ino < 0 && (ino = inotify_init1(IN_CLOEXEC | IN_NONBLOCK)) >= 0) {
			char *uid = NULL;
			if (pp_name_lookup(ns, name, &uid, NULL) == 0) {
				cleanup_free char *dir = pp_state_dir(uid);
				inotify_add_watch(ino, dir,
						  IN_MOVED_TO | IN_DELETE_SELF | IN_CLOSE_WRITE);
			}
			free(uid);
			continue; /* what changed before the watch */
		}
		struct pollfd p = {.fd = ino, .events = POLLIN};
		int left = pp_ms_left(deadline);
		poll(&p, 1, left < WAIT_POLL_MS ? left : WAIT_POLL_MS);
		char events[4096];
		while (ino >= 0 && read(ino, events, sizeof(events)) > 0)
			;
	}
}

int cmd_wait(int argc, char **argv)
{
	static const struct option longopts[] = {{"for", required_argument, NULL, 'F'},
						 {"timeout", required_argument, NULL, 'T'},
						 {"namespace", required_argument, NULL, 'n'},
						 {NULL, 0, NULL, 0}};
	struct wait_for w = {0};
	int64_t timeout_ms = DEFAULT_TIMEOUT_S * 1000;
	const char *ns = NULL, *for_arg = NULL;
	int c, status = CLI_EXIT_USAGE;
	optind = 1;
	while ((c = getopt_long(argc, argv, "n:", longopts, NULL)) != -1) {
		if (c == 'F')
			for_arg = optarg;
		else if (c == 'T' && parse_timeout(optarg, &timeout_ms) == 0)
			continue;
		else if (c == 'n')
			ns = optarg;
		else
			goto usage;
	}
	if (optind < argc &&
	    (strcmp(argv[optind], "pod") == 0 || strcmp(argv[optind], "pods") == 0))
		optind++;
	if (for_arg == NULL || parse_for(for_arg, &w) < 0 || optind + 1 != argc)
		goto usage;
	const char *name = cli_pod_name(argv[optind]);
	status = wait_until(cli_namespace(ns), name, &w, timeout_ms);
	free(w.what);
	free(w.value);
	return status;
usage:
	free(w.what);
	free(w.value);
	fprintf(stderr,
		"usage: peapod wait NAME --for=condition=Ready|delete|jsonpath='{.path}'=VALUE "
		"[--timeout 30s]\n");
	return CLI_EXIT_USAGE;
}
