/* The verbs: each one's entry point, one-line purpose, help group and its
 * help (usage, examples, the meaning of each flag of its option table). A
 * new verb is one entry here; its flags' meanings go next to it. */
#include <string.h>

#include "cli/cli.h"

#define NS_FLAG                                                                                    \
	{                                                                                          \
		"namespace", "NAMESPACE",                                                          \
		    "the pod's namespace (default: $PEAPOD_NAMESPACE, else default)"               \
	}
#define ALL_NS_FLAG                                                                                \
	{                                                                                          \
		"all-namespaces", NULL, "every namespace"                                          \
	}
#define SELECTOR_FLAG                                                                              \
	{                                                                                          \
		"selector", "SELECTOR",                                                            \
		    "pods whose labels match (key=value, key!=value, key in (a,b), !key)"          \
	}
#define FIELD_FLAG                                                                                 \
	{                                                                                          \
		"field-selector", "SELECTOR", "pods whose status.phase or metadata.name match"     \
	}
#define ROOT_FLAG                                                                                  \
	{                                                                                          \
		"root", "DIR", "the image store (default: $PEAPOD_ROOT or /var/lib/peapod)"        \
	}
#define HELP_FLAG                                                                                  \
	{                                                                                          \
		"help", NULL, "this help"                                                          \
	}

/* scale and rollout */
#define WORKLOAD_NS_FLAG                                                                           \
	{                                                                                          \
		"namespace", "NAMESPACE",                                                          \
		    "the workload's namespace (default: $PEAPOD_NAMESPACE, else default)"          \
	}
/* The options of image import that rm and prune parse too (no help: not theirs). */
/* clang-format off */
#define IMAGE_IMPORT_ONLY_FLAGS                                                                    \
	{"entrypoint", NULL, NULL}, {"cmd", NULL, NULL}, {"env", NULL, NULL},                      \
	{"workdir", NULL, NULL}, {"user", NULL, NULL}, {"stop-signal", NULL, NULL}
/* clang-format on */
/* A verb's doc whose option table and short options are cli_opts_VERB and
 * cli_shorts_VERB. */
#define VERB_DOC(verb, flags, usage, examples)                                                     \
	{                                                                                          \
		usage, examples, cli_opts_##verb, cli_shorts_##verb, flags, NULL                   \
	}
#define END_FLAGS                                                                                  \
	{                                                                                          \
		NULL, NULL, NULL                                                                   \
	}

static const struct cli_flag_doc run_flags[] = {
    {"filename", "FILE", "the Pod manifest to run"},
    ROOT_FLAG,
    {"verbose", NULL, "print the pod's events as they happen"},
    {"no-prefix", NULL, "print the containers' output without the [container] prefix"},
    HELP_FLAG,
    {"network", "NAME", "the CNI network to join (default: the pod's own, or none)"},
    END_FLAGS};
static const struct cli_verb_doc run_doc = VERB_DOC(
    run, run_flags, "run -f FILE [--network NAME] [-v] [--no-prefix]",
    "  # Run a pod in the foreground, its containers' output prefixed, until it completes\n"
    "  peapod run -f pod.yaml\n");

static const struct cli_flag_doc apply_flags[] = {
    {"filename", "FILE|DIR|-", "the manifests (repeatable; - for stdin)"},
    NS_FLAG,
    {"recursive", NULL, "the directories of -f, recursively"},
    ROOT_FLAG,
    {"network", "NAME", "the CNI network the pods join"},
    {"force", NULL, "replace: delete the pods and create them anew (apply: a changed pod too)"},
    END_FLAGS};
static const struct cli_verb_doc apply_doc =
    VERB_DOC(apply, apply_flags, "apply -f FILE|DIR|- [-f ...] [-R] [-n NAMESPACE] [--force]",
	     "  # Create the pods, ConfigMaps and Secrets of a file, or update them\n"
	     "  peapod apply -f web.yaml\n"
	     "  # Every manifest under a directory\n"
	     "  peapod apply -R -f manifests/\n");
static const struct cli_verb_doc replace_doc =
    VERB_DOC(apply, apply_flags, "replace --force -f FILE|DIR|- [-f ...] [-R] [-n NAMESPACE]",
	     "  # Delete the pods of a file and create them anew\n"
	     "  peapod replace --force -f web.yaml\n");

static const struct cli_flag_doc get_flags[] = {
    {"output", "FORMAT", "wide, json, yaml, name, jsonpath=TEMPLATE, custom-columns=SPEC"},
    NS_FLAG,
    ALL_NS_FLAG,
    SELECTOR_FLAG,
    FIELD_FLAG,
    {"watch", NULL, "after the list, a row each time a pod changes (and its last when deleted)"},
    {"watch-only", NULL, "only the changes, not the first list"},
    {"no-headers", NULL, "no header row"},
    {"show-labels", NULL, "a LABELS column"},
    {"label-columns", "KEY,...", "a column for each label key"},
    {"sort-by", "JSONPATH", "sort the rows by this field (e.g. .metadata.name)"},
    END_FLAGS};
static const struct cli_verb_doc get_doc =
    VERB_DOC(get, get_flags, "get KIND[,KIND...]|all [NAME...] | get KIND/NAME... [flags]",
	     "  # List the pods of the default namespace\n"
	     "  peapod get pods\n"
	     "  # Pods and ConfigMaps at once; pods and the workload kinds\n"
	     "  peapod get pods,configmaps\n"
	     "  peapod get all\n"
	     "  # One pod and one ConfigMap\n"
	     "  peapod get pod/web configmap/settings\n"
	     "  # Watch the pods labelled app=web\n"
	     "  peapod get pods -l app=web -w\n");

static const struct cli_flag_doc describe_flags[] = {NS_FLAG, ALL_NS_FLAG, SELECTOR_FLAG,
						     FIELD_FLAG, END_FLAGS};
static const struct cli_verb_doc describe_doc =
    VERB_DOC(describe, describe_flags, "describe KIND [NAME...] [-n NAMESPACE|-A] [-l SELECTOR]",
	     "  # A pod's containers, their states, its volumes and its events\n"
	     "  peapod describe pod web\n"
	     "  # Every ConfigMap of the namespace\n"
	     "  peapod describe configmaps\n");

static const struct cli_flag_doc events_flags[] = {
    NS_FLAG,
    ALL_NS_FLAG,
    {"for", "pod/NAME", "only this pod's events"},
    {"watch", NULL, "after the list, each new event"},
    END_FLAGS};
static const struct cli_verb_doc events_doc =
    VERB_DOC(events, events_flags, "events [--for pod/NAME] [-n NAMESPACE|-A] [-w]",
	     "  # The events of one pod, then the new ones as they come\n"
	     "  peapod events --for pod/web -w\n");

static const struct cli_flag_doc ns_flags[] = {NS_FLAG, END_FLAGS};
static const struct cli_verb_doc inspect_doc =
    VERB_DOC(inspect, ns_flags, "inspect [pod] NAME [-n NAMESPACE]",
	     "  # The pod's whole record as JSON\n"
	     "  peapod inspect web\n");

#define LOG_FLAGS_COMMON                                                                           \
	{"container", "NAME", "the container (default: the pod's only or first one)"}, NS_FLAG
static const struct cli_flag_doc logs_flags[] = {
    LOG_FLAGS_COMMON,
    {"follow", NULL, "stream the logs as they are written"},
    {"previous", NULL, "the logs of the container's previous run"},
    {"timestamps", NULL, "each line's time first"},
    {"tail", "N", "only the last N lines"},
    {"since", "DURATION", "only lines newer than this (5s, 2m, 1h)"},
    {"since-time", "RFC3339", "only lines after this time"},
    {"stdin", NULL, NULL},
    {"tty", NULL, NULL},
    SELECTOR_FLAG,
    FIELD_FLAG,
    {"all-containers", NULL, "every container of the pod"},
    {"prefix", NULL, "each line prefixed with [pod/NAME/CONTAINER]"},
    {"max-log-requests", "N", "with -l -f: at most N streams at once (default 5)"},
    {"limit-bytes", "N", "at most N bytes of logs"},
    END_FLAGS};
static const struct cli_verb_doc logs_doc =
    VERB_DOC(logs, logs_flags, "logs [-f] [-p] POD|-l SELECTOR [-c CONTAINER] [flags]",
	     "  # The logs of the pod's container, then follow them\n"
	     "  peapod logs -f web\n"
	     "  # The last 10 lines of every container of the pods labelled app=web\n"
	     "  peapod logs -l app=web --all-containers --prefix --tail 10\n");
static const struct cli_flag_doc attach_flags[] = {
    LOG_FLAGS_COMMON,
    {"follow", NULL, NULL},
    {"previous", NULL, NULL},
    {"timestamps", NULL, NULL},
    {"tail", NULL, NULL},
    {"since", NULL, NULL},
    {"since-time", NULL, NULL},
    {"stdin", NULL, "pass our stdin to the container (which has stdin: true)"},
    {"tty", NULL, "the container's terminal (which has tty: true)"},
    {"selector", NULL, NULL},
    {"field-selector", NULL, NULL},
    {"all-containers", NULL, NULL},
    {"prefix", NULL, NULL},
    {"max-log-requests", NULL, NULL},
    {"limit-bytes", NULL, NULL},
    END_FLAGS};
static const struct cli_verb_doc attach_doc = {
    "attach [-i] [-t] POD [-c CONTAINER]",
    "  # Stream the output of the pod's container, and type into it\n"
    "  peapod attach -it web -c shell\n",
    cli_opts_logs,
    cli_shorts_attach,
    attach_flags,
    NULL};

static const struct cli_flag_doc exec_flags[] = {
    {"container", "NAME", "the container (default: the pod's first)"},
    NS_FLAG,
    {"stdin", NULL, "pass our stdin to the command"},
    {"tty", NULL, "a terminal for the command"},
    END_FLAGS};
static const struct cli_verb_doc exec_doc =
    VERB_DOC(exec, exec_flags, "exec [-i] [-t] POD [-c CONTAINER] -- COMMAND [ARGS...]",
	     "  # A shell in the pod's container\n"
	     "  peapod exec -it web -- sh\n"
	     "  # One command in a named container\n"
	     "  peapod exec web -c app -- cat /etc/hostname\n");

static const struct cli_flag_doc cp_flags[] = {
    {"container", "NAME", "the container (default: the pod's first)"},
    NS_FLAG,
    HELP_FLAG,
    END_FLAGS};
static const struct cli_verb_doc cp_doc =
    VERB_DOC(cp, cp_flags, "cp [-c CONTAINER] [-n NAMESPACE] POD:PATH LOCAL | LOCAL POD:PATH",
	     "  # A file out of the pod's container, and a directory into it\n"
	     "  peapod cp web:/etc/nginx/nginx.conf ./nginx.conf\n"
	     "  peapod cp ./site web:/usr/share/html -c app\n");

static const struct cli_flag_doc port_forward_flags[] = {
    NS_FLAG,
    {"address", "ADDR,...", "the local addresses to listen on (default: localhost)"},
    HELP_FLAG,
    END_FLAGS};
static const struct cli_verb_doc port_forward_doc =
    VERB_DOC(port_forward, port_forward_flags,
	     "port-forward POD [LOCAL:]REMOTE... [--address ADDR] [-n NAMESPACE]",
	     "  # Local port 8080 to the pod's port 80, until Ctrl-C\n"
	     "  peapod port-forward web 8080:80\n");

static const struct cli_flag_doc debug_flags[] = {
    NS_FLAG,
    {"image", "IMAGE", "the debug container's image"},
    {"image-pull-policy", "POLICY", "Always, IfNotPresent or Never"},
    {"target", "CONTAINER", "share this container's PID namespace"},
    {"container", "NAME", "the debug container's name (default: debugger-xxxxx)"},
    {"stdin", NULL, "attach our stdin to it"},
    {"tty", NULL, "a terminal for it"},
    {"quiet", NULL, "no messages, only the container's output"},
    HELP_FLAG,
    END_FLAGS};
static const struct cli_verb_doc debug_doc =
    VERB_DOC(debug, debug_flags,
	     "debug POD -it --image IMAGE [--target CONTAINER] [-c NAME] [-- COMMAND...]",
	     "  # A busybox shell next to the pod's app container, seeing its processes\n"
	     "  peapod debug web -it --image busybox --target app -- sh\n");

static const struct cli_flag_doc wait_flags[] = {
    {"for", "CONDITION", "condition=Ready, delete, jsonpath='{...}'=VALUE"},
    {"timeout", "DURATION", "give up after this long (default 30s)"},
    NS_FLAG,
    SELECTOR_FLAG,
    FIELD_FLAG,
    {"all", NULL, "every pod of the namespace"},
    END_FLAGS};
static const struct cli_verb_doc wait_doc = VERB_DOC(
    wait, wait_flags, "wait [pod/]NAME...|-l SELECTOR|--all --for CONDITION [--timeout DURATION]",
    "  # Until the pod is Ready, at most a minute\n"
    "  peapod wait pod/web --for condition=Ready --timeout 60s\n");

static const struct cli_flag_doc delete_flags[] = {
    {"filename", "FILE|DIR|-", "the objects of these manifests"},
    NS_FLAG,
    {"recursive", NULL, "the directories of -f, recursively"},
    {"grace-period", "SECONDS", "the time the containers have to stop (default: the pod's)"},
    {"force", NULL, "with --grace-period=0: kill at once"},
    {"now", NULL, "--grace-period=1"},
    SELECTOR_FLAG,
    FIELD_FLAG,
    {"all", NULL, "every pod of the namespace"},
    END_FLAGS};
static const struct cli_verb_doc delete_doc =
    VERB_DOC(delete, delete_flags,
	     "delete [pod] NAME...|-l SELECTOR|--all|-f FILE | delete configmap|secret|pvc NAME...",
	     "  # Stop a pod and remove it\n"
	     "  peapod delete pod web\n"
	     "  # The objects of a manifest; a ConfigMap\n"
	     "  peapod delete -f web.yaml\n"
	     "  peapod delete configmap settings\n");

static const struct cli_flag_doc create_flags[] = {
    {"from-literal", "KEY=VALUE", "a key and its value (repeatable)"},
    {"from-file", "[KEY=]PATH", "a file's content under its name or KEY (repeatable)"},
    {"from-env-file", "PATH", "the KEY=VALUE lines of a file"},
    NS_FLAG,
    {"type", "TYPE", "the Secret's type (generic)"},
    {"cert", "PATH", "tls: the certificate (PEM)"},
    {"key", "PATH", "tls: the private key (PEM)"},
    {"docker-server", "SERVER", "docker-registry: the registry"},
    {"docker-username", "USER", "docker-registry: the user"},
    {"docker-password", "PASSWORD", "docker-registry: the password"},
    {"docker-email", "EMAIL", "docker-registry: the e-mail"},
    END_FLAGS};
static const struct cli_verb_doc create_doc =
    VERB_DOC(create, create_flags,
	     "create configmap|secret generic|secret tls|secret docker-registry NAME [flags]",
	     "  # A ConfigMap from literals, a Secret from a file\n"
	     "  peapod create configmap settings --from-literal=mode=fast\n"
	     "  peapod create secret generic creds --from-file=token=./token.txt\n");

static const struct cli_verb_doc pause_doc =
    VERB_DOC(pause, ns_flags, "pause POD... [-n NAMESPACE]",
	     "  # Freeze every process of the pod\n"
	     "  peapod pause web\n");
static const struct cli_verb_doc unpause_doc =
    VERB_DOC(pause, ns_flags, "unpause POD... [-n NAMESPACE]",
	     "  # Thaw it\n"
	     "  peapod unpause web\n");

static const struct cli_flag_doc stats_flags[] = {
    NS_FLAG,
    ALL_NS_FLAG,
    {"interval", "SECONDS", "the CPU sample's window"},
    {"containers", NULL, NULL},
    {"no-stream", NULL, "one sample (the only mode; as podman's flag)"},
    END_FLAGS};
static const struct cli_verb_doc stats_doc =
    VERB_DOC(stats, stats_flags, "stats [POD...] [-n NAMESPACE|-A] [-i SECONDS]",
	     "  # CPU, memory and pids of every running pod, per container\n"
	     "  peapod stats -A\n");
static const struct cli_flag_doc top_flags[] = {NS_FLAG,
						ALL_NS_FLAG,
						{"interval", "SECONDS", "the CPU sample's window"},
						{"containers", NULL, "a row per container"},
						{"no-stream", NULL, "one sample (the only mode)"},
						END_FLAGS};
static const struct cli_verb_doc top_doc =
    VERB_DOC(stats, top_flags, "top pod [POD] [-n NAMESPACE|-A] [--containers]",
	     "  # CPU and memory of the pods, per container\n"
	     "  peapod top pod --containers\n");

static const struct cli_flag_doc scale_flags[] = {
    {"replicas", "N", "the number of pods the workload keeps"}, WORKLOAD_NS_FLAG, END_FLAGS};
static const struct cli_verb_doc scale_doc =
    VERB_DOC(scale, scale_flags, "scale deployment|replicaset NAME --replicas N [-n NAMESPACE]",
	     "  # Keep 5 pods of the Deployment web\n"
	     "  peapod scale deployment web --replicas 5\n");

static const struct cli_flag_doc rollout_flags[] = {
    WORKLOAD_NS_FLAG,
    {"timeout", "DURATION", "status: give up after this long (seconds, or with s or m)"},
    END_FLAGS};
static const struct cli_verb_doc rollout_doc =
    VERB_DOC(rollout, rollout_flags,
	     "rollout status|restart deployment/NAME [--timeout DURATION] [-n NAMESPACE]",
	     "  # Wait until the Deployment web's new pods are all available\n"
	     "  peapod rollout status deployment/web\n"
	     "  # Replace its pods, a few at a time, by its strategy\n"
	     "  peapod rollout restart deployment/web\n");

static const struct cli_flag_doc node_flags[] = {
    {"manifests", "DIR",
     "the static pods' directory (default: $PEAPOD_MANIFEST_DIR, else /etc/peapod/manifests)"},
    {"print-unit", "systemd|sysv", "print the unit that starts it at boot"},
    {"install-unit", NULL, "write that unit where this host's init reads it"},
    {"cri", NULL, "also serve the CRI (runtime.v1 and image services) for kubelet and crictl"},
    {"cri-socket", "PATH", "the CRI socket (implies --cri; default: $PEAPOD_RUN/cri.sock)"},
    HELP_FLAG,
    END_FLAGS};
static const struct cli_verb_doc node_doc = VERB_DOC(
    node, node_flags,
    "node [--manifests DIR] [--cri] [--cri-socket PATH] | node --print-unit systemd|sysv | node "
    "--install-unit",
    "  # Keep the pods of /etc/peapod/manifests running; at boot, gc first\n"
    "  peapod node\n"
    "  # The same, and the CRI for kubelet on /run/peapod/cri.sock\n"
    "  peapod node --cri\n"
    "  # Start it at boot\n"
    "  peapod node --install-unit\n");

static const struct option no_opts[] = {{NULL, 0, NULL, 0}};
static const struct cli_flag_doc no_flags[] = {END_FLAGS};
static const struct cli_verb_doc gc_doc = {
    "gc",
    "  # After a reboot or a crashed supervisor: the pods' mounts, cgroups, netns\n"
    "  peapod gc\n",
    no_opts,
    "",
    no_flags,
    NULL};

static const struct cli_verb_doc image_doc = {
    "image SUBCOMMAND [ARGS...]",
    "  # Pull an image, list the images\n"
    "  peapod image pull docker.io/library/busybox:1.36\n"
    "  peapod image ls\n",
    NULL,
    NULL,
    NULL,
    "  pull      pull an image from a registry\n"
    "  import    make an image from tarballs or directories\n"
    "  load      load a docker-archive or oci-archive\n"
    "  save      write an image as an archive\n"
    "  ls        list the images (also: list, images)\n"
    "  inspect   an image's config and layers\n"
    "  tag       another name for an image\n"
    "  rm        remove an image (also: remove)\n"
    "  prune     remove the images no pod and no tag uses\n"};
static const struct cli_verb_doc system_doc = {
    "system df [-v]",
    "  # What the images and the pods use on disk\n"
    "  peapod system df -v\n",
    NULL,
    NULL,
    NULL,
    "  df        disk usage of the image store and the pods\n"};

static const struct cli_flag_doc version_flags[] = {
    {"output", "json|yaml", "as a document"},
    {"client", NULL, "only the client's version (as kubectl's)"},
    HELP_FLAG,
    END_FLAGS};
static const struct cli_verb_doc version_doc =
    VERB_DOC(version, version_flags, "version [-o json|yaml]",
	     "  # peapod's version, its store's format and the kernel features it found\n"
	     "  peapod version\n"
	     "  peapod version -o json\n");
static const struct cli_verb_doc completion_doc = {
    "completion bash|zsh|fish",
    "  # Load the completion in the current bash, or for every new one\n"
    "  source <(peapod completion bash)\n"
    "  peapod completion bash > /etc/bash_completion.d/peapod\n"
    "  # zsh, fish\n"
    "  peapod completion zsh > \"${fpath[1]}/_peapod\"\n"
    "  peapod completion fish > ~/.config/fish/completions/peapod.fish\n",
    no_opts,
    "",
    no_flags,
    NULL};
static const struct cli_verb_doc help_doc = {"help [COMMAND]",
					     "  # The verbs, then one verb's flags\n"
					     "  peapod help\n"
					     "  peapod help get\n",
					     no_opts,
					     "",
					     no_flags,
					     NULL};

/* image import, rm and prune parse one table; each takes its part. */
static const struct cli_flag_doc image_import_flags[] = {
    {"entrypoint", "JSON|WORD", "the image's entrypoint"},
    {"cmd", "JSON|WORD", "the image's command"},
    {"env", "K=V", "an environment variable (repeatable)"},
    {"workdir", "DIR", "the working directory (absolute)"},
    {"user", "USER", "the user the image runs as"},
    {"stop-signal", "SIG", "the image's stop signal"},
    ROOT_FLAG,
    {"force", NULL, NULL},
    HELP_FLAG,
    END_FLAGS};
static const struct cli_verb_doc image_import_doc =
    VERB_DOC(image, image_import_flags, "image import SRC... REF [flags]",
	     "  # A root filesystem directory as an image; two layers, the first lowest\n"
	     "  peapod image import ./rootfs busybox:1.36\n"
	     "  peapod image import ./base ./app app:1 --cmd '[\"/app\"]'\n");
static const struct cli_flag_doc image_rm_flags[] = {
    IMAGE_IMPORT_ONLY_FLAGS,
    ROOT_FLAG,
    {"force", NULL, "untag it even while a pod runs it"},
    HELP_FLAG,
    END_FLAGS};
static const struct cli_verb_doc image_rm_doc =
    VERB_DOC(image, image_rm_flags, "image rm REF... [--force]",
	     "  # Remove an image no pod runs\n"
	     "  peapod image rm busybox:1.36\n");
static const struct cli_flag_doc image_prune_flags[] = {
    IMAGE_IMPORT_ONLY_FLAGS, ROOT_FLAG, {"force", NULL, NULL}, HELP_FLAG, END_FLAGS};
static const struct cli_verb_doc image_prune_doc =
    VERB_DOC(image, image_prune_flags, "image prune",
	     "  # Untagged images, and the layers and blobs nothing uses\n"
	     "  peapod image prune\n");
static const struct cli_flag_doc image_pull_flags[] = {
    {"platform", "OS/ARCH[/VARIANT]", "the platform to pick from an index (default: this host's)"},
    {"creds", "USER:PASS", "the registry's credentials"},
    {"authfile", "FILE", "the credentials file (default: $REGISTRY_AUTH_FILE, podman's)"},
    {"tls-verify", "true|false", "false: plain HTTP to the registry (default: true)"},
    ROOT_FLAG,
    {"quiet", NULL, "only the image id"},
    HELP_FLAG,
    END_FLAGS};
static const struct cli_verb_doc image_pull_doc =
    VERB_DOC(image_pull, image_pull_flags, "image pull [flags] REF",
	     "  # An image from a registry; from a local one over plain HTTP\n"
	     "  peapod image pull quay.io/team/app:1\n"
	     "  peapod image pull --tls-verify=false 127.0.0.1:5000/app:1\n");
static const struct cli_flag_doc image_ls_flags[] = {
    {"digests", NULL, "a DIGEST column"},
    {"quiet", NULL, "only the image ids"},
    {"output", "json", "as podman's --format json"},
    {"format", "json", "the same as --output"},
    ROOT_FLAG,
    HELP_FLAG,
    END_FLAGS};
static const struct cli_verb_doc image_ls_doc =
    VERB_DOC(image_ls, image_ls_flags, "image ls [--digests] [-q] [-o json]",
	     "  # The images, newest first\n"
	     "  peapod image ls --digests\n");
static const struct cli_flag_doc image_root_flags[] = {ROOT_FLAG, HELP_FLAG, END_FLAGS};
static const struct cli_verb_doc image_inspect_doc =
    VERB_DOC(image_root, image_root_flags, "image inspect IMAGE...",
	     "  # An image's config and layers as JSON, as podman's\n"
	     "  peapod image inspect busybox:1.36\n");
static const struct cli_verb_doc image_tag_doc =
    VERB_DOC(image_root, image_root_flags, "image tag SOURCE TARGET...",
	     "  # Another name for an image\n"
	     "  peapod image tag busybox:1.36 mybox:latest\n");
static const struct cli_flag_doc image_load_flags[] = {
    {"input", "FILE|DIR|-", "the archive or OCI layout (default: stdin)"},
    {"output", NULL, NULL},
    {"format", NULL, NULL},
    ROOT_FLAG,
    {"quiet", NULL, "no progress, only the names loaded"},
    HELP_FLAG,
    END_FLAGS};
static const struct cli_verb_doc image_load_doc = {
    "image load [-i FILE|DIR|-] [-q]",
    "  # A docker-archive or oci-archive, as podman load\n"
    "  peapod image load -i app.tar\n",
    cli_opts_image_archive,
    cli_shorts_image_load,
    image_load_flags,
    NULL};
static const struct cli_flag_doc image_save_flags[] = {
    {"input", NULL, NULL},
    {"output", "FILE|-", "the archive (default: stdout when not a terminal)"},
    {"format", "FORMAT", "docker-archive (default) or oci-archive"},
    ROOT_FLAG,
    {"quiet", NULL, NULL},
    HELP_FLAG,
    END_FLAGS};
static const struct cli_verb_doc image_save_doc = {
    "image save [-o FILE|-] [--format docker-archive|oci-archive] IMAGE...",
    "  # An image as a docker-archive\n"
    "  peapod image save -o app.tar app:1\n",
    cli_opts_image_archive,
    cli_shorts_image_save,
    image_save_flags,
    NULL};
static const struct cli_flag_doc system_df_flags[] = {
    {"verbose", NULL, "per image: SHARED SIZE and UNIQUE SIZE"}, ROOT_FLAG, HELP_FLAG, END_FLAGS};
static const struct cli_verb_doc system_df_doc =
    VERB_DOC(system_df, system_df_flags, "system df [-v]",
	     "  # What the images and the pods use on disk\n"
	     "  peapod system df -v\n");

const struct cli_command cli_subcommands[] = {
    {"image pull", cmd_image, "pull an image from a registry", CLI_GROUP_IMAGE, &image_pull_doc},
    {"image import", cmd_image, "make an image from directories or tarballs", CLI_GROUP_IMAGE,
     &image_import_doc},
    {"image load", cmd_image, "load a docker-archive or oci-archive", CLI_GROUP_IMAGE,
     &image_load_doc},
    {"image save", cmd_image, "write an image as an archive", CLI_GROUP_IMAGE, &image_save_doc},
    {"image ls", cmd_image, "list the images", CLI_GROUP_IMAGE, &image_ls_doc},
    {"image list", cmd_image, "list the images", CLI_GROUP_IMAGE, &image_ls_doc},
    {"image images", cmd_image, "list the images", CLI_GROUP_IMAGE, &image_ls_doc},
    {"image inspect", cmd_image, "an image's config and layers", CLI_GROUP_IMAGE,
     &image_inspect_doc},
    {"image tag", cmd_image, "another name for an image", CLI_GROUP_IMAGE, &image_tag_doc},
    {"image rm", cmd_image, "remove an image", CLI_GROUP_IMAGE, &image_rm_doc},
    {"image remove", cmd_image, "remove an image", CLI_GROUP_IMAGE, &image_rm_doc},
    {"image prune", cmd_image, "remove what no image or pod uses", CLI_GROUP_IMAGE,
     &image_prune_doc},
    {"system df", cmd_system, "disk usage of the image store and the pods", CLI_GROUP_IMAGE,
     &system_df_doc},
    {NULL, NULL, NULL, CLI_GROUP_OTHER, NULL},
};

const struct cli_command cli_commands[] = {
    {"run", cmd_run, "run a Pod manifest in the foreground until it completes", CLI_GROUP_BASIC,
     &run_doc},
    {"create", cmd_create, "create configmap|secret generic|tls|docker-registry NAME",
     CLI_GROUP_BASIC, &create_doc},
    {"get", cmd_get, "list pods, configmaps, secrets, pvc, pv", CLI_GROUP_BASIC, &get_doc},
    {"delete", cmd_delete, "stop pods and remove them; delete configmap|secret|pvc NAME",
     CLI_GROUP_BASIC, &delete_doc},
    {"top", cmd_top, "CPU and memory of running pods", CLI_GROUP_CLUSTER, &top_doc},
    {"scale", cmd_scale, "set a Deployment's or ReplicaSet's replicas", CLI_GROUP_CLUSTER,
     &scale_doc},
    {"rollout", cmd_rollout, "a Deployment's rollout: status, restart", CLI_GROUP_CLUSTER,
     &rollout_doc},
    {"gc", cmd_gc, "clean up after pods whose supervisor died, and after a reboot",
     CLI_GROUP_CLUSTER, &gc_doc},
    {"node", cmd_node, "keep the manifest directory's static pods running (the boot path)",
     CLI_GROUP_CLUSTER, &node_doc},
    {"describe", cmd_describe, "show the details of pods and other objects, with events",
     CLI_GROUP_TROUBLESHOOT, &describe_doc},
    {"logs", cmd_logs, "print the logs of a pod's containers", CLI_GROUP_TROUBLESHOOT, &logs_doc},
    {"attach", cmd_attach, "stream a running container's output (and input)",
     CLI_GROUP_TROUBLESHOOT, &attach_doc},
    {"exec", cmd_exec, "run a command in a running container", CLI_GROUP_TROUBLESHOOT, &exec_doc},
    {"port-forward", cmd_port_forward, "forward local ports to a pod's ports",
     CLI_GROUP_TROUBLESHOOT, &port_forward_doc},
    {"cp", cmd_cp, "copy files and directories to and from a container", CLI_GROUP_TROUBLESHOOT,
     &cp_doc},
    {"debug", cmd_debug, "add an ephemeral debug container to a running pod",
     CLI_GROUP_TROUBLESHOOT, &debug_doc},
    {"events", cmd_events, "list the pods' events", CLI_GROUP_TROUBLESHOOT, &events_doc},
    {"inspect", cmd_inspect, "a pod's full state as JSON", CLI_GROUP_TROUBLESHOOT, &inspect_doc},
    {"stats", cmd_stats, "CPU, memory and pids of running pods, per container",
     CLI_GROUP_TROUBLESHOOT, &stats_doc},
    {"apply", cmd_apply, "create or update pods, ConfigMaps, Secrets from manifests",
     CLI_GROUP_ADVANCED, &apply_doc},
    {"replace", cmd_replace, "delete the input's pods and create them anew (--force)",
     CLI_GROUP_ADVANCED, &replace_doc},
    {"wait", cmd_wait, "wait for a condition on pods", CLI_GROUP_ADVANCED, &wait_doc},
    {"pause", cmd_pause, "freeze every process of a pod", CLI_GROUP_ADVANCED, &pause_doc},
    {"unpause", cmd_unpause, "thaw a paused pod", CLI_GROUP_ADVANCED, &unpause_doc},
    {"image", cmd_image, "manage local images (pull, import, ls, inspect, tag, rm, ...)",
     CLI_GROUP_IMAGE, &image_doc},
    {"system", cmd_system, "what the image store and the pods use on disk (system df)",
     CLI_GROUP_IMAGE, &system_doc},
    {"completion", cmd_completion, "print a bash, zsh or fish completion script", CLI_GROUP_OTHER,
     &completion_doc},
    {"help", cmd_help, "the verbs, or one verb's help", CLI_GROUP_OTHER, &help_doc},
    {"version", cmd_version, "peapod's version, its store's format, the kernel's features",
     CLI_GROUP_OTHER, &version_doc},
    {"__complete", cmd_complete, "completion candidates for ARGS (the scripts call it)",
     CLI_GROUP_HIDDEN, NULL},
    {NULL, NULL, NULL, CLI_GROUP_OTHER, NULL},
};

const struct cli_command *cli_find_command(const char *name)
{
	for (const struct cli_command *c = cli_commands; c->name; c++)
		if (strcmp(c->name, name) == 0)
			return c;
	for (const struct cli_command *c = cli_subcommands; c->name; c++)
		if (strcmp(c->name, name) == 0)
			return c;
	return NULL;
}

const struct cli_command *cli_find_subcommand(const struct cli_command *c, int argc, char **argv)
{
	size_t len = strlen(c->name);
	if (argc < 2)
		return NULL;
	for (const struct cli_command *s = cli_subcommands; s->name; s++)
		if (strncmp(s->name, c->name, len) == 0 && s->name[len] == ' ' &&
		    strcmp(s->name + len + 1, argv[1]) == 0)
			return s;
	return NULL;
}
