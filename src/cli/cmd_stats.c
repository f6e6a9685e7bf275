/* peapod stats [POD...] (podman stats --no-stream, per container and pod)
 * and peapod top pod [POD] (kubectl top pod): CPU over a sampling window,
 * memory and pids from the pods' cgroups. */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "ops/ops.h"
#include "util/cleanup.h"

#define MIB ((uint64_t)1 << 20)

struct sample_opts {
	const char *ns;
	bool all_ns;
	int window_ms;
};

/* --interval SECONDS (fractions allowed): the sampling window. */
static int parse_window(const char *s, int *ms)
{
	char *end = NULL;
	double v = strtod(s, &end);
	if (end == s || *end != '\0' || v <= 0 || v > 3600)
		return -1;
	*ms = (int)(v * 1000);
	return *ms > 0 ? 0 : -1;
}

static void print_sample_error(void *ctx, const struct pp_error *e)
{
	cli_print_error(e);
	*(int *)ctx = CLI_EXIT_FAILURE;
}

/* Samples the pods named in names (else every pod that runs) twice. */
static int sample_pods(char **names, int n_names, const struct sample_opts *o,
		       struct pp_pod_usage **out, size_t *n_out)
{
	int status = 0;
	const char **stripped = xmalloc(sizeof(char *) * ((size_t)n_names + 1));
	for (int i = 0; i < n_names; i++)
		stripped[i] = cli_pod_name(names[i]);
	struct pp_usage_request r = {
	    .ns = n_names == 0 && o->all_ns ? NULL : cli_namespace(o->ns),
	    .names = stripped,
	    .n_names = (size_t)n_names,
	    .window_ms = o->window_ms,
	    .on_error = print_sample_error,
	    .ctx = &status,
	};
	cleanup_error struct pp_error *err = NULL;
	if (pp_pods_usage_sample(&r, out, n_out, &err) < 0) {
		cli_print_error(err);
		status = CLI_EXIT_FAILURE;
	}
	free(stripped);
	return status;
}

/* podman's sizes: decimal units, four significant digits (go-units HumanSize). */
static void human_size(uint64_t v, char *out, size_t size)
{
	static const char *const units[] = {"B", "kB", "MB", "GB", "TB", "PB"};
	double d = (double)v;
	size_t u = 0;
	while (d >= 1000.0 && u < sizeof(units) / sizeof(units[0]) - 1) {
		d /= 1000.0;
		u++;
	}
	snprintf(out, size, "%.4g%s", d, units[u]);
}

/* The flags of stats and top; its help (cli_commands.c) shows each. */
const struct option cli_opts_stats[] = {{"namespace", required_argument, NULL, 'n'},
					{"all-namespaces", no_argument, NULL, 'A'},
					{"interval", required_argument, NULL, 'i'},
					{"containers", no_argument, NULL, 'c'},
					/* podman's flag; one sample is all we print */
					{"no-stream", no_argument, NULL, 's'},
					{NULL, 0, NULL, 0}};
const char cli_shorts_stats[] = "n:Ai:";

static void stats_row(const char *pod, const char *ctr, const struct pp_usage *x)
{
	char cpu[32] = "--", mem[32] = "--", ws[32] = "--", pids[32] = "--";
	if (x->has_rate)
		snprintf(cpu, sizeof(cpu), "%.2f%%", x->cpu_percent);
	if (x->st.has_memory) {
		human_size(x->st.memory_usage, mem, sizeof(mem));
		human_size(x->st.memory_working_set, ws, sizeof(ws));
	}
	if (x->st.has_pids)
		snprintf(pids, sizeof(pids), "%" PRIu64, x->st.pids);
	printf("%-24s %-20s %-8s %-11s %-12s %s\n", pod, ctr, cpu, mem, ws, pids);
}

static int parse_common(int argc, char **argv, const char *shorts, struct sample_opts *o,
			bool *containers)
{
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, shorts, cli_opts_stats, NULL)) != -1) {
		if (c == 'n')
			o->ns = optarg;
		else if (c == 'A')
			o->all_ns = true;
		else if (c == 'i' && parse_window(optarg, &o->window_ms) == 0)
			continue;
		else if (c == 'c' && containers != NULL)
			*containers = true;
		else if (c == 's')
			continue;
		else
			return -1;
	}
	return 0;
}

int cmd_stats(int argc, char **argv)
{
	struct sample_opts o = {.window_ms = PP_STATS_WINDOW_MS};
	if (parse_common(argc, argv, cli_shorts_stats, &o, NULL) < 0) {
		fprintf(stderr, "usage: peapod stats [POD...] [-n NAMESPACE|-A] [-i SECONDS]\n");
		return CLI_EXIT_USAGE;
	}
	struct pp_pod_usage *u = NULL;
	size_t n = 0;
	int status = sample_pods(argv + optind, argc - optind, &o, &u, &n);
	if (n > 0 || status == 0) /* not after only errors */
		printf("%-24s %-20s %-8s %-11s %-12s %s\n", "POD", "CONTAINER", "CPU %",
		       "MEM USAGE", "WORKING SET", "PIDS");
	for (size_t i = 0; i < n; i++) {
		for (size_t k = 0; k < u[i].n_ctrs; k++)
			stats_row(u[i].name, u[i].ctrs[k].name, &u[i].ctrs[k].u);
		/* The whole pod, its infra process included. */
		stats_row(u[i].name, "(pod)", &u[i].pod);
	}
	pp_pod_usages_free(u, n);
	return status;
}

/* kubectl's columns: millicores, and the working set in whole Mi. */
static void top_row(const char *pod, const char *ctr, uint64_t millicores, bool has_cpu,
		    uint64_t ws, bool has_mem)
{
	char cpu[32] = "<unknown>", mem[32] = "<unknown>";
	if (has_cpu)
		snprintf(cpu, sizeof(cpu), "%" PRIu64 "m", millicores);
	if (has_mem)
		snprintf(mem, sizeof(mem), "%" PRIu64 "Mi", ws / MIB);
	if (ctr)
		printf("%-24s %-20s %-12s %s\n", pod, ctr, cpu, mem);
	else
		printf("%-24s %-12s %s\n", pod, cpu, mem);
}

int cmd_top(int argc, char **argv)
{
	struct sample_opts o = {.window_ms = PP_STATS_WINDOW_MS};
	bool containers = false;
	if (parse_common(argc, argv, cli_shorts_stats, &o, &containers) < 0 || optind >= argc ||
	    (strcmp(argv[optind], "pod") && strcmp(argv[optind], "pods") &&
	     strcmp(argv[optind], "po")) ||
	    argc - optind > 2) {
		fprintf(stderr, "usage: peapod top pod [POD] [-n NAMESPACE|-A] [--containers] "
				"[-i SECONDS]\n");
		return CLI_EXIT_USAGE;
	}
	optind++;
	struct pp_pod_usage *u = NULL;
	size_t n = 0;
	int status = sample_pods(argv + optind, argc - optind, &o, &u, &n);
	if (containers && (n > 0 || status == 0))
		printf("%-24s %-20s %-12s %s\n", "POD", "NAME", "CPU(cores)", "MEMORY(bytes)");
	else if (n > 0 || status == 0)
		printf("%-24s %-12s %s\n", "NAME", "CPU(cores)", "MEMORY(bytes)");
	for (size_t i = 0; i < n; i++) {
		/* As metrics-server: a pod's usage is the sum of its containers'. */
		uint64_t mc = 0, ws = 0;
		bool has_cpu = u[i].n_ctrs > 0, has_mem = u[i].n_ctrs > 0;
		for (size_t k = 0; k < u[i].n_ctrs; k++) {
			const struct pp_usage *x = &u[i].ctrs[k].u;
			if (containers)
				top_row(u[i].name, u[i].ctrs[k].name, x->millicores, x->has_rate,
					x->st.memory_working_set, x->st.has_memory);
			mc += x->millicores;
			ws += x->st.memory_working_set;
			has_cpu = has_cpu && x->has_rate;
			has_mem = has_mem && x->st.has_memory;
		}
		if (!containers)
			top_row(u[i].name, NULL, mc, has_cpu, ws, has_mem);
	}
	pp_pod_usages_free(u, n);
	return status;
}
