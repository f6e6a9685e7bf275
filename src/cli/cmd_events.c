/* peapod events: kubectl events over the pods' events files: LAST SEEN,
 * TYPE, REASON, OBJECT, MESSAGE, oldest first; --for pod/NAME; -w follows
 * (woken by the files growing: ops/watch.c). */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "ops/events.h"
#include "ops/ops.h"
#include "util/cleanup.h"

struct ev_row {
	char *time, *ns, *object, *type, *reason, *message;
};

struct ev_list {
	struct ev_row *rows;
	size_t n;
	const struct pp_pod_view *pod; /* whose events are being read */
};

static void collect(void *ctx, const struct pp_pod_event *e)
{
	struct ev_list *l = ctx;
	l->rows = xrealloc(l->rows, sizeof(*l->rows) * (l->n + 1));
	l->rows[l->n++] = (struct ev_row){
	    .time = xstrdup(e->time ? e->time : ""),
	    .ns = xstrdup(l->pod->ns),
	    .object = xasprintf("Pod/%s", l->pod->name),
	    .type = xstrdup(e->type ? e->type : "Normal"),
	    .reason = xstrdup(e->reason ? e->reason : ""),
	    .message = xstrdup(e->message ? e->message : ""),
	};
}

static int by_time(const void *a, const void *b)
{
	return strcmp(((const struct ev_row *)a)->time, ((const struct ev_row *)b)->time);
}

/* Where each pod's events file was read up to (events -w). */
struct offsets {
	char **uids;
	long *at;
	size_t n;
};

static long *offset_of(struct offsets *o, const char *uid)
{
	for (size_t i = 0; i < o->n; i++)
		if (strcmp(o->uids[i], uid) == 0)
			return &o->at[i];
	o->uids = xrealloc(o->uids, sizeof(*o->uids) * (o->n + 1));
	o->at = xrealloc(o->at, sizeof(*o->at) * (o->n + 1));
	o->uids[o->n] = xstrdup(uid);
	o->at[o->n] = 0;
	return &o->at[o->n++];
}

static void read_new(const struct cli_select *sel, const char *for_pod, struct offsets *off,
		     struct ev_list *l)
{
	struct pp_pod_view *views = NULL;
	size_t n = 0;
	if (cli_select_pods(sel, 0, &views, &n) != 0)
		return;
	for (size_t i = 0; i < n; i++) {
		if (for_pod != NULL && strcmp(views[i].name, for_pod) != 0)
			continue;
		l->pod = &views[i];
		(void)pp_pod_events_read(views[i].uid, offset_of(off, views[i].uid), collect, l,
					 NULL);
	}
	pp_pod_views_free(views, n);
	if (l->n > 1)
		qsort(l->rows, l->n, sizeof(*l->rows), by_time);
}

/* The flags of events; its help (cli_commands.c) shows each. */
const struct option cli_opts_events[] = {{"namespace", required_argument, NULL, 'n'},
					 {"all-namespaces", no_argument, NULL, 'A'},
					 {"for", required_argument, NULL, 'F'},
					 {"watch", no_argument, NULL, 'w'},
					 {NULL, 0, NULL, 0}};
const char cli_shorts_events[] = "n:Aw";

static void print_rows(struct ev_list *l, bool all_ns, bool header, int *w)
{
	/* kubectl's tabwriter: columns as wide as their widest cell, 3 apart */
	for (size_t i = 0; i < l->n; i++) {
		char age[32];
		cli_human_age(l->rows[i].time, age, sizeof(age));
		const char *cells[] = {l->rows[i].ns, age, l->rows[i].type, l->rows[i].reason,
				       l->rows[i].object};
		for (size_t c = 0; c < 5; c++)
			w[c] = (int)strlen(cells[c]) > w[c] ? (int)strlen(cells[c]) : w[c];
	}
	if (header) {
		if (all_ns)
			printf("%-*s   ", w[0], "NAMESPACE");
		printf("%-*s   %-*s   %-*s   %-*s   %s\n", w[1], "LAST SEEN", w[2], "TYPE", w[3],
		       "REASON", w[4], "OBJECT", "MESSAGE");
	}
	for (size_t i = 0; i < l->n; i++) {
		struct ev_row *r = &l->rows[i];
		char age[32];
		cli_human_age(r->time, age, sizeof(age));
		if (all_ns)
			printf("%-*s   ", w[0], r->ns);
		printf("%-*s   %-*s   %-*s   %-*s   %s\n", w[1], age, w[2], r->type, w[3],
		       r->reason, w[4], r->object, r->message);
		free(r->time);
		free(r->ns);
		free(r->object);
		free(r->type);
		free(r->reason);
		free(r->message);
	}
	fflush(stdout);
	free(l->rows);
	*l = (struct ev_list){0};
}

int cmd_events(int argc, char **argv)
{
	struct cli_select sel = {.labels = ""}; /* every pod */
	const char *for_pod = NULL;
	bool watch = false;
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, cli_shorts_events, cli_opts_events, NULL)) != -1) {
		if (c == 'n') {
			sel.ns = optarg;
		} else if (c == 'A') {
			sel.all_ns = true;
		} else if (c == 'w') {
			watch = true;
		} else if (c == 'F') {
			const char *slash = strchr(optarg, '/');
			if (slash == NULL ||
			    (strncmp(optarg, "pod/", 4) != 0 && strncmp(optarg, "pods/", 5) != 0 &&
			     strncmp(optarg, "po/", 3) != 0)) {
				fprintf(stderr,
					"error: --for must be in resource/name form (pod/NAME), "
					"not \"%s\"\n",
					optarg);
				return CLI_EXIT_USAGE;
			}
			for_pod = slash + 1;
		} else {
			return CLI_EXIT_USAGE;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "usage: peapod events [-n NS|-A] [--for pod/NAME] [-w]\n");
		return CLI_EXIT_USAGE;
	}
	if (for_pod != NULL && !watch) { /* a pod that is not: exit 1 naming it */
		cleanup_error struct pp_error *err = NULL;
		struct pp_pod_view v;
		if (pp_pod_view_load(cli_namespace(sel.ns), for_pod, &v, &err) < 0) {
			cli_print_error(err);
			return CLI_EXIT_FAILURE;
		}
		pp_pod_view_free(&v);
	}
	struct offsets off = {0};
	struct ev_list l = {0};
	int w[5] = {(int)strlen("NAMESPACE"), (int)strlen("LAST SEEN"), (int)strlen("TYPE"),
		    (int)strlen("REASON"), (int)strlen("OBJECT")};
	read_new(&sel, for_pod, &off, &l);
	bool header = l.n > 0;
	if (l.n == 0 && !watch)
		cli_no_resources(&sel);
	print_rows(&l, sel.all_ns, header, w);
	int status = 0;
	if (watch) {
		cleanup_error struct pp_error *err = NULL;
		struct pp_pod_watch *pw = NULL;
		if (pp_pod_watch_open(&pw, &err) < 0) {
			cli_print_error(err);
			status = CLI_EXIT_FAILURE;
		}
		while (pw != NULL && pp_pod_watch_next(pw, &err) == 0) {
			read_new(&sel, for_pod, &off, &l);
			bool first = !header && l.n > 0;
			header = header || first;
			print_rows(&l, sel.all_ns, first, w);
		}
		pp_pod_watch_free(pw);
	}
	for (size_t i = 0; i < off.n; i++)
		free(off.uids[i]);
	free(off.uids);
	free(off.at);
	return status;
}
