/* peapod's settings: every PEAPOD_* environment variable, read once when a
 * process starts (the CLI's main; a supervisor is a fork of it and keeps
 * them) into one typed struct with its defaults, and validated there. The
 * whole list, with meanings, is README.md's settings table.
 *
 * The test knobs (settings that exist only so that the system tests run in
 * seconds) are compiled in only with PP_TEST_KNOBS (build/peapod-test); the
 * user's build ignores them. */
#ifndef PEAPOD_SETTINGS_H
#define PEAPOD_SETTINGS_H

#include <stdbool.h>
#include <stdint.h>

#include "util/error.h"

#define PP_SETTING_ROOT_DEFAULT "/var/lib/peapod"
#define PP_SETTING_RUN_DEFAULT "/run/peapod"
#define PP_SETTING_LOG_DIR_DEFAULT "/var/log/peapod"
#define PP_SETTING_NAMESPACE_DEFAULT "default"
#define PP_SETTING_CGROUP_PARENT_DEFAULT "peapod"
#define PP_SETTING_CNI_CONF_DIR_DEFAULT "/etc/peapod/cni"
/* kubelet's staticPodPath, peapod's: what `peapod node` keeps running */
#define PP_SETTING_MANIFEST_DIR_DEFAULT "/etc/peapod/manifests"
#define PP_SETTING_CNI_PATH_DEFAULT "/usr/lib/cni"
#define PP_SETTING_CNI_TIMEOUT_MS_DEFAULT (60 * 1000)
#define PP_SETTING_LOG_MAX_SIZE_DEFAULT (10LL * 1024 * 1024)
#define PP_SETTING_LOG_MAX_FILES_DEFAULT 5
#define PP_SETTING_LOG_MAX_FILES_MIN 2
/* kubelet's podPidsLimit defaults to none; a default like podman's keeps a
 * fork bomb from taking the host's 32768 pids. */
#define PP_SETTING_POD_PIDS_LIMIT_DEFAULT 4096
/* containers-registries.conf(5): podman's, so that its mirrors and
 * insecure registries hold for peapod too (drop-ins in <file>.d/) */
#define PP_SETTING_REGISTRIES_CONF_DEFAULT "/etc/containers/registries.conf"
/* Where podman and docker keep per-registry CAs (<dir>/<host:port>/\*.crt) */
#define PP_SETTING_CERTS_DIRS_DEFAULT "/etc/containers/certs.d:/etc/docker/certs.d"
/* A tar bomb stops there. */
#define PP_SETTING_IMAGE_MAX_BYTES_DEFAULT (64LL << 30)

struct pp_settings {
	/* Where things are. Strings point into the environment or are the
	 * defaults above: never NULL, never empty (but where said). */
	const char *root;	   /* PEAPOD_ROOT: images and pod data */
	const char *run_dir;	   /* PEAPOD_RUN: pod records */
	const char *log_dir;	   /* PEAPOD_LOG_DIR: containers' logs */
	const char *namespace_;	   /* PEAPOD_NAMESPACE: the CLI's default namespace */
	const char *cgroup_parent; /* PEAPOD_CGROUP_PARENT: peapod's cgroup */
	const char *seccomp_dir;   /* PEAPOD_SECCOMP_DIR; NULL: <root>/seccomp */
	const char *trace;	   /* PEAPOD_TRACE: step timing file; NULL: none */
	const char *manifest_dir;  /* PEAPOD_MANIFEST_DIR: `peapod node`'s static pods */
	/* Networking. */
	const char *network;	  /* PEAPOD_NETWORK; NULL: the default network */
	const char *cni_conf_dir; /* PEAPOD_CNI_CONF_DIR */
	const char *cni_path;	  /* PEAPOD_CNI_PATH: plugin directories, ':'-separated */
	int cni_timeout_ms;	  /* PEAPOD_CNI_TIMEOUT_MS, > 0 */
	bool net_fastpath;	  /* PEAPOD_NET_FASTPATH (0 or 1) */
	int cri_stream_port;	  /* PEAPOD_CRI_STREAM_PORT: on 127.0.0.1; 0: the kernel's pick */
	/* Limits. */
	bool cgroup_devices_bpf; /* PEAPOD_CGROUP_DEVICES=bpf: eBPF devices on a hybrid host */
	int64_t log_max_size;	 /* PEAPOD_LOG_MAX_SIZE, a quantity of bytes */
	int log_max_files;	 /* PEAPOD_LOG_MAX_FILES, >= PP_SETTING_LOG_MAX_FILES_MIN */
	int64_t pod_pids_limit;	 /* PEAPOD_POD_PIDS_LIMIT; 0: none */
	int64_t image_max_bytes; /* PEAPOD_IMAGE_MAX_BYTES, > 0 */
	/* Registries. */
	const char *registries_conf; /* PEAPOD_REGISTRIES_CONF */
	const char *certs_dirs;	     /* PEAPOD_CERTS_DIRS: ':'-separated */
	/* Test knob (PP_TEST_KNOBS only, else 1): PEAPOD_TEST_TIME_SCALE, a
	 * factor in (0, 1] on the crash-loop back-off's durations, the CRI
	 * stream tokens' life and the registry client's default time limits
	 * (stall, request, retries). */
	double test_time_scale;
	/* Test knobs (PP_TEST_KNOBS only, else NULL): fault injection at the
	 * named steps (util/fault.h): PEAPOD_FAULT "STEP:ERRNO" or "STEP:kill",
	 * PEAPOD_FAULT_ONCE a file made when the fault fires (it fires once:
	 * not while the file exists), PEAPOD_FAULT_STEPS a file each step
	 * reached appends its name to. */
	const char *fault;
	const char *fault_once;
	const char *fault_steps;
	/* Test knob (PP_TEST_KNOBS only, else 0): PEAPOD_TEST_EXEC_SETUP_DELAY_MS,
	 * a sleep of exec's CLI between the supervisor's reply and the clone
	 * (a pause then surely comes while an exec is being set up). */
	int test_exec_setup_delay_ms;
};

/* Reads every setting from the environment again. A malformed value is an
 * error naming the variable (the first one found); that setting keeps its
 * default, the others are read all the same. */
int pp_settings_load(struct pp_error **err);

/* The settings, read at the first call if pp_settings_load was not called
 * (malformed values then mean their defaults). */
const struct pp_settings *pp_settings(void);

#endif
