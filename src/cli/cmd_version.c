/* peapod version [-o json|yaml] (and --version): the client's version, the
 * image store's format, and the kernel features peapod found. */
#include <json-c/json.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "ops/features.h"

#ifndef PEAPOD_VERSION
#define PEAPOD_VERSION "unknown"
#endif

/* The flags of version; its help (cli_commands.c) shows each. */
const struct option cli_opts_version[] = {{"output", required_argument, NULL, 'o'},
					  {"client", no_argument, NULL, 'C'},
					  {"help", no_argument, NULL, 'h'},
					  {NULL, 0, NULL, 0}};
const char cli_shorts_version[] = "o:h";

static struct json_object *features_doc(const struct pp_features *f)
{
	struct json_object *o = json_object_new_object();
	json_object_object_add(o, "kernel", json_object_new_string(f->kernel));
	json_object_object_add(o, "cgroupLayout", json_object_new_string(f->cgroup_layout));
	const struct {
		const char *key;
		bool v;
	} b[] = {{"idmappedMounts", f->idmapped_mounts},
		 {"seccomp", f->seccomp},
		 {"seccompUserNotify", f->seccomp_notify},
		 {"userNamespaces", f->user_namespaces},
		 {"pidfd", f->pidfd},
		 {"clone3IntoCgroup", f->clone3_into_cgroup},
		 {"overlayfs", f->overlayfs},
		 {"isal", f->isal}};
	for (size_t i = 0; i < sizeof(b) / sizeof(*b); i++)
		json_object_object_add(o, b[i].key, json_object_new_boolean(b[i].v));
	return o;
}

static void print_text(const struct pp_features *f, bool client_only)
{
	printf("Client Version: %s\n", PEAPOD_VERSION);
	if (client_only)
		return;
	printf("Store Format: %d\n", pp_store_format_version());
	printf("Kernel: %s\n", f->kernel);
	printf("Features:\n");
	printf("  cgroup layout:      %s\n", f->cgroup_layout);
	printf("  idmapped mounts:    %s\n", f->idmapped_mounts ? "yes" : "no");
	printf("  seccomp:            %s%s\n", f->seccomp ? "yes" : "no",
	       f->seccomp ? (f->seccomp_notify ? " (user notify: yes)" : " (user notify: no)")
			  : "");
	printf("  user namespaces:    %s\n", f->user_namespaces ? "yes" : "no");
	printf("  pidfd:              %s\n", f->pidfd ? "yes" : "no");
	printf("  clone3 into cgroup: %s\n", f->clone3_into_cgroup ? "yes" : "no");
	printf("  overlayfs:          %s\n", f->overlayfs ? "yes" : "no");
	printf("  isa-l:              %s\n", f->isal ? "yes" : "no");
}

int cmd_version(int argc, char **argv)
{
	const char *format = NULL;
	bool client_only = false;
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, cli_shorts_version, cli_opts_version, NULL)) != -1) {
		if (c == 'o')
			format = optarg;
		else if (c == 'C')
			client_only = true;
		else if (c == 'h')
			return cli_print_verb_help(stdout, "version");
		else
			return CLI_EXIT_FAILURE;
	}
	if (optind < argc) {
		fprintf(stderr,
			"peapod version: takes no arguments; see 'peapod version --help'\n");
		return CLI_EXIT_FAILURE;
	}
	if (format && strcmp(format, "json") != 0 && strcmp(format, "yaml") != 0) {
		fprintf(stderr, "peapod version: --output must be 'yaml' or 'json', not \"%s\"\n",
			format);
		return CLI_EXIT_FAILURE;
	}
	struct pp_features f;
	pp_features_probe(&f);
	if (format == NULL) {
		print_text(&f, client_only);
		return 0;
	}
	struct json_object *doc = json_object_new_object();
	struct json_object *client = json_object_new_object();
	json_object_object_add(client, "gitVersion", json_object_new_string(PEAPOD_VERSION));
	json_object_object_add(doc, "clientVersion", client);
	if (!client_only) {
		json_object_object_add(doc, "storeFormat",
				       json_object_new_int(pp_store_format_version()));
		json_object_object_add(doc, "features", features_doc(&f));
	}
	if (strcmp(format, "json") == 0)
		printf("%s\n", json_object_to_json_string_ext(doc, JSON_C_TO_STRING_PRETTY |
								       JSON_C_TO_STRING_SPACED));
	else
		cli_print_yaml(doc);
	json_object_put(doc);
	return 0;
}
