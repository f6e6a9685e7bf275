/* peapod completion bash|zsh|fish, and the hidden `peapod __complete ARGS...`
 * the scripts call: it prints the candidates for the last ARG (cobra's
 * __complete), so the three shells share one source of truth. */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "image/image.h"
#include "ops/objects.h"
#include "ops/ops.h"
#include "util/cleanup.h"

static const char bash_script[] =
    "# peapod completion for bash: source <(peapod completion bash)\n"
    "_peapod() {\n"
    "    local cur=\"${COMP_WORDS[COMP_CWORD]}\"\n"
    "    local IFS=$'\\n'\n"
    "    COMPREPLY=($(\"${COMP_WORDS[0]}\" __complete \"${COMP_WORDS[@]:1:COMP_CWORD}\" "
    "2>/dev/null))\n"
    "    return 0\n"
    "}\n"
    "complete -o default -F _peapod peapod\n";

static const char zsh_script[] =
    "#compdef peapod\n"
    "# peapod completion for zsh: peapod completion zsh > \"${fpath[1]}/_peapod\"\n"
    "_peapod() {\n"
    "  local -a candidates\n"
    "  candidates=(\"${(@f)$(${words[1]} __complete \"${(@)words[2,CURRENT]}\" "
    "2>/dev/null)}\")\n"
    "  compadd -a candidates\n"
    "}\n"
    "compdef _peapod peapod\n";

static const char fish_script[] = "# peapod completion for fish: peapod completion fish | source\n"
				  "function __peapod_complete\n"
				  "    set -l args (commandline -opc)\n"
				  "    set -e args[1]\n"
				  "    peapod __complete $args (commandline -ct) 2>/dev/null\n"
				  "end\n"
				  "complete -c peapod -f -a '(__peapod_complete)'\n";

int cmd_completion(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "peapod completion: wants one shell: bash, zsh or fish; see "
				"'peapod completion --help'\n");
		return CLI_EXIT_FAILURE;
	}
	if (strcmp(argv[1], "bash") == 0)
		fputs(bash_script, stdout);
	else if (strcmp(argv[1], "zsh") == 0)
		fputs(zsh_script, stdout);
	else if (strcmp(argv[1], "fish") == 0)
		fputs(fish_script, stdout);
	else {
		fprintf(stderr, "peapod completion: unknown shell \"%s\" (bash, zsh, fish)\n",
			argv[1]);
		return CLI_EXIT_FAILURE;
	}
	return 0;
}

static void candidate(const char *word, const char *prefix)
{
	if (strncmp(word, prefix, strlen(prefix)) == 0)
		printf("%s\n", word);
}

static void complete_pods(const char *ns, const char *prefix)
{
	cleanup_error struct pp_error *err = NULL;
	struct pp_pod_view *views = NULL;
	size_t n = 0;
	if (pp_pod_views_select(cli_namespace(ns), NULL, NULL, &views, &n, &err) < 0)
		return;
	for (size_t i = 0; i < n; i++)
		candidate(views[i].name, prefix);
	pp_pod_views_free(views, n);
}

static void complete_namespaces(const char *prefix)
{
	cleanup_error struct pp_error *err = NULL;
	struct pp_pod_view *views = NULL;
	size_t n = 0;
	candidate("default", prefix);
	if (pp_pod_views_select(NULL, NULL, NULL, &views, &n, &err) < 0)
		return;
	for (size_t i = 0; i < n; i++) {
		bool dup = strcmp(views[i].ns, "default") == 0;
		for (size_t k = 0; k < i && !dup; k++)
			dup = strcmp(views[k].ns, views[i].ns) == 0;
		if (!dup)
			candidate(views[i].ns, prefix);
	}
	pp_pod_views_free(views, n);
}

static void complete_containers(const char *ns, const char *pod, const char *prefix)
{
	static const char *const lists[] = {"initContainers", "containers", "ephemeralContainers"};
	cleanup_error struct pp_error *err = NULL;
	struct pp_pod_view v;
	if (pod == NULL || pp_pod_view_load(cli_namespace(ns), cli_pod_name(pod), &v, &err) < 0)
		return;
	pp_pod_view_attach_spec(&v);
	struct json_object *spec = cli_jget(v.obj, "spec");
	for (size_t l = 0; l < sizeof(lists) / sizeof(*lists); l++) {
		struct json_object *a = cli_jget(spec, lists[l]);
		for (size_t i = 0; a && i < json_object_array_length(a); i++)
			candidate(cli_js(json_object_array_get_idx(a, i), "name"), prefix);
	}
	pp_pod_view_free(&v);
}

static void complete_images(const char *prefix)
{
	cleanup_error struct pp_error *err = NULL;
	struct pp_image_store *store = NULL;
	struct pp_image **imgs = NULL;
	size_t n = 0;
	if (pp_image_store_open(NULL, &store, &err) < 0)
		return;
	if (pp_image_list(store, &imgs, &n, &err) == 0) {
		for (size_t i = 0; i < n; i++)
			for (size_t t = 0; imgs[i]->tags && imgs[i]->tags[t]; t++)
				candidate(imgs[i]->tags[t], prefix);
		pp_image_list_free(imgs, n);
	}
	pp_image_store_free(store);
}

static void complete_objects(const char *kind_word, const char *ns, const char *prefix)
{
	int kind = cli_object_kind(kind_word);
	cleanup_error struct pp_error *err = NULL;
	struct pp_config_object **objs = NULL;
	size_t n = 0;
	if (kind < 0 ||
	    pp_object_list(kind, kind == PP_OBJ_PV ? PP_CLUSTER_SCOPE : cli_namespace(ns), &objs,
			   &n, &err) < 0)
		return;
	for (size_t i = 0; i < n; i++)
		candidate(objs[i]->name, prefix);
	pp_object_list_free(objs, n);
}

static bool is_pod_kind(const char *w)
{
	return strcmp(w, "pod") == 0 || strcmp(w, "pods") == 0 || strcmp(w, "po") == 0;
}

static void complete_flags(const struct cli_command *c, const char *prefix)
{
	if (c->doc == NULL || c->doc->opts == NULL)
		return;
	for (const struct option *o = c->doc->opts; o->name; o++) {
		if (!cli_flag_doc_of(c, o->name))
			continue;
		cleanup_free char *w = xasprintf("--%s", o->name);
		candidate(w, prefix);
	}
	candidate("--help", prefix);
}

/* The value of a flag (-n NS, --namespace=NS) among the words, or NULL. */
static const char *flag_value(char **w, int n, const char *shortf, const char *longf)
{
	size_t ll = strlen(longf);
	for (int i = 0; i < n; i++) {
		if ((strcmp(w[i], shortf) == 0 || strcmp(w[i], longf) == 0) && i + 1 < n)
			return w[i + 1];
		if (strncmp(w[i], longf, ll) == 0 && w[i][ll] == '=')
			return w[i] + ll + 1;
	}
	return NULL;
}

static bool takes_value(const struct cli_command *c, const char *word)
{
	if (c->doc == NULL || c->doc->opts == NULL || word[0] != '-' || strchr(word, '='))
		return false;
	for (const struct option *o = c->doc->opts; o->name; o++) {
		bool match = word[1] == '-' ? strcmp(word + 2, o->name) == 0
					    : word[2] == '\0' && o->val == word[1] &&
						  strchr(c->doc->shorts, word[1]);
		if (match)
			return o->has_arg == required_argument;
	}
	return false;
}

static void complete_value(const char *flag, const char *ns, const char *pod, const char *cur)
{
	if (strcmp(flag, "-c") == 0 || strcmp(flag, "--container") == 0 ||
	    strcmp(flag, "--target") == 0)
		complete_containers(ns, pod, cur);
	else if (strcmp(flag, "-n") == 0 || strcmp(flag, "--namespace") == 0)
		complete_namespaces(cur);
	else if (strcmp(flag, "--image") == 0)
		complete_images(cur);
	else if (strcmp(flag, "-o") == 0 || strcmp(flag, "--output") == 0)
		for (const char *const *f =
			 (const char *const[]){"json", "yaml", "wide", "name",
					       "jsonpath=", "custom-columns=", NULL};
		     *f; f++)
			candidate(*f, cur);
}

static const char *const kind_words[] = {
    "pods", "configmaps", "secrets", "persistentvolumeclaims", "persistentvolumes", NULL};

/* argv[1..argc-1]: the words after "peapod", the last the one completed. */
int cmd_complete(int argc, char **argv)
{
	if (argc < 2)
		return 0;
	char **w = argv + 1;
	int n = argc - 1;
	const char *cur = w[n - 1];
	if (n == 1) {
		for (const struct cli_command *c = cli_commands; c->name; c++)
			if (c->group != CLI_GROUP_HIDDEN)
				candidate(c->name, cur);
		return 0;
	}
	const struct cli_command *c = cli_find_command(w[0]);
	if (c == NULL)
		return 0;
	const char *ns = flag_value(w, n - 1, "-n", "--namespace");
	/* the positional words before the current one */
	const char *pos[8];
	int n_pos = 0;
	for (int i = 1; i < n - 1; i++) {
		if (strcmp(w[i], "--") == 0)
			break;
		if (w[i][0] == '-') {
			i += takes_value(c, w[i]);
			continue;
		}
		if (n_pos < 8)
			pos[n_pos++] = w[i];
	}
	/* image pull --...: the subcommand's flags */
	char *sub_argv[] = {(char *)c->name, n_pos > 0 ? (char *)pos[0] : NULL, NULL};
	const struct cli_command *sub = n_pos > 0 ? cli_find_subcommand(c, 2, sub_argv) : NULL;
	if (sub != NULL) {
		if (n >= 3 && takes_value(sub, w[n - 2]))
			return 0;
		if (cur[0] == '-') {
			complete_flags(sub, cur);
			return 0;
		}
	}
	if (n >= 3 && takes_value(c, w[n - 2])) {
		const char *pod = NULL;
		for (int i = 0; i < n_pos && pod == NULL; i++)
			if (!is_pod_kind(pos[i]))
				pod = pos[i];
		complete_value(w[n - 2], ns, pod, cur);
		return 0;
	}
	if (cur[0] == '-') {
		complete_flags(c, cur);
		return 0;
	}
	const char *v = c->name;
	if (strcmp(v, "get") == 0 || strcmp(v, "describe") == 0 || strcmp(v, "delete") == 0) {
		if (n_pos == 0) {
			for (size_t i = 0; kind_words[i]; i++)
				candidate(kind_words[i], cur);
			if (strcmp(v, "get") == 0)
				candidate("all", cur);
			if (strcmp(v, "delete") == 0)
				complete_pods(ns, cur);
		} else if (is_pod_kind(pos[0])) {
			complete_pods(ns, cur);
		} else {
			complete_objects(pos[0], ns, cur);
		}
	} else if (strcmp(v, "completion") == 0 && n_pos == 0) {
		candidate("bash", cur);
		candidate("zsh", cur);
		candidate("fish", cur);
	} else if (strcmp(v, "help") == 0 && n_pos == 0) {
		for (const struct cli_command *k = cli_commands; k->name; k++)
			if (k->group != CLI_GROUP_HIDDEN)
				candidate(k->name, cur);
	} else if (strcmp(v, "create") == 0) {
		if (n_pos == 0) {
			candidate("configmap", cur);
			candidate("secret", cur);
		} else if (n_pos == 1 && strcmp(pos[0], "secret") == 0) {
			candidate("generic", cur);
			candidate("tls", cur);
			candidate("docker-registry", cur);
		}
	} else if (strcmp(v, "image") == 0) {
		static const char *const subs[] = {"pull",    "import", "load", "save",	 "ls",
						   "inspect", "tag",	"rm",	"prune", NULL};
		if (n_pos == 0)
			for (size_t i = 0; subs[i]; i++)
				candidate(subs[i], cur);
		else if (strcmp(pos[0], "pull") != 0 && strcmp(pos[0], "import") != 0 &&
			 strcmp(pos[0], "load") != 0)
			complete_images(cur);
	} else if (strcmp(v, "top") == 0) {
		if (n_pos == 0)
			candidate("pod", cur);
		else
			complete_pods(ns, cur);
	} else if (strcmp(v, "system") == 0) {
		if (n_pos == 0)
			candidate("df", cur);
	} else if (strcmp(v, "run") != 0 && strcmp(v, "apply") != 0 && strcmp(v, "replace") != 0 &&
		   strcmp(v, "gc") != 0 && strcmp(v, "version") != 0 && strcmp(v, "events") != 0) {
		/* the verbs on pods: logs, exec, attach, cp, port-forward, ... */
		if (n_pos == 0 || strcmp(v, "pause") == 0 || strcmp(v, "unpause") == 0 ||
		    strcmp(v, "stats") == 0)
			complete_pods(ns, cur);
	}
	return 0;
}
