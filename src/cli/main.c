/* peapod CLI: a table of verbs; each verb parses its flags, makes one library
 * call and prints the result. */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "util/settings.h"
#include "util/trace.h"

static const struct cli_command commands[] = {
    {"run", cmd_run, "run a Pod manifest in the foreground until it completes"},
    {"apply", cmd_apply, "create pods, ConfigMaps, Secrets from manifests (-f FILE|DIR|-)"},
    {"replace", cmd_replace, "replace --force -f: delete the input's pods and create them anew"},
    {"get", cmd_get,
     "list pods, configmaps, secrets (get pods|cm|secrets|pvc|pv [NAME] [-l SEL] [-w] [-o ...])"},
    {"describe", cmd_describe, "show a pod's containers, states and events"},
    {"events", cmd_events, "list the pods' events (events [--for pod/NAME] [-w])"},
    {"inspect", cmd_inspect, "a pod's full state as JSON"},
    {"logs", cmd_logs, "print a container's logs"},
    {"attach", cmd_attach, "stream a running container's output"},
    {"exec", cmd_exec, "run a command in a running container"},
    {"cp", cmd_cp, "copy files and directories to and from a container"},
    {"port-forward", cmd_port_forward, "forward local ports to a pod's ports"},
    {"debug", cmd_debug, "add an ephemeral debug container to a running pod"},
    {"wait", cmd_wait, "wait for a condition on a pod"},
    {"delete", cmd_delete, "stop a pod and remove it; delete configmap|secret|pvc NAME"},
    {"create", cmd_create, "create configmap|secret generic|tls|docker-registry NAME"},
    {"pause", cmd_pause, "freeze every process of a pod"},
    {"unpause", cmd_unpause, "thaw a paused pod"},
    {"stats", cmd_stats, "CPU, memory and pids of running pods, per container"},
    {"top", cmd_top, "CPU and memory of running pods (top pod [POD] [--containers])"},
    {"node", cmd_node, "keep the manifest directory's static pods running (the boot path)"},
    {"gc", cmd_gc, "clean up after pods whose supervisor died, and after a reboot"},
    {"image", cmd_image, "manage local images (pull, import, ls, inspect, tag, rm)"},
    {"system", cmd_system, "what the image store and the pods use on disk (system df)"},
    /* hidden (no help): temporary, until `peapod node` serves the CRI */
    {"cri-serve", cmd_cri_serve, NULL},
    {NULL, NULL, NULL},
};

static void usage(FILE *f)
{
	fprintf(f, "usage: peapod COMMAND [ARGS...]\n\ncommands:\n");
	for (const struct cli_command *c = commands; c->name; c++)
		if (c->help)
			fprintf(f, "  %-13s %s\n", c->name, c->help);
}

int main(int argc, char **argv)
{
	/* Once, before anything reads them; a supervisor, forked later,
	 * inherits them. */
	cleanup_error struct pp_error *err = NULL;
	if (pp_settings_load(&err) < 0) {
		cli_print_error(err);
		return CLI_EXIT_USAGE;
	}
	if (argc < 2) {
		usage(stderr);
		return CLI_EXIT_USAGE;
	}
	if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0 ||
	    strcmp(argv[1], "help") == 0) {
		usage(stdout);
		return 0;
	}
	for (const struct cli_command *c = commands; c->name; c++)
		if (strcmp(argv[1], c->name) == 0) {
			pp_trace("cli %s", c->name);
			int r = c->fn(argc - 1, argv + 1);
			pp_trace("cli %s exit", c->name);
			return r;
		}
	fprintf(stderr, "peapod: unknown command \"%s\"\n", argv[1]);
	usage(stderr);
	return CLI_EXIT_USAGE;
}
