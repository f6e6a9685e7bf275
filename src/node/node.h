/* src/node: owns the node process (`peapod node`, comm peapod-node): one
 * long-lived process per host that keeps a manifest directory (kubelet's
 * staticPodPath) in sync with the pods of this host, and that the CRI
 * server (issue #19) joins through the event loop (loop.h). Above
 * src/ops: it creates and deletes pods through the same calls as the CLI
 * verbs, keeps no database of its own (what it made is read back from the
 * pods' annotations), and prints only through the log callback it is
 * given.
 *
 * The static pods: each *.yaml, *.yml, *.json file of the directory (no
 * dotfiles) is read as `peapod apply -f` reads it; its Pods are created
 * as kubelet creates static pods: named NAME-<host name>, annotated
 * kubernetes.io/config.source=file, kubernetes.io/config.hash (of the
 * pod as written), kubernetes.io/config.seen, and peapod.io/config.file
 * (the file, so that its removal deletes exactly its pods). A changed
 * pod (another hash) is replaced, an unchanged one left alone; a pod
 * deleted by hand or whose supervisor died is made again; a file that does
 * not parse is reported and its pods are left as they were. */
#ifndef PEAPOD_NODE_H
#define PEAPOD_NODE_H

#include <stdbool.h>
#include <sys/types.h>

#include "util/error.h"

#define PP_NODE_COMM "peapod-node"
#define PP_NODE_LOCK_FILE "node.lock" /* in PEAPOD_RUN */
#define PP_ANN_CONFIG_SOURCE "kubernetes.io/config.source"
#define PP_ANN_CONFIG_HASH "kubernetes.io/config.hash"
#define PP_ANN_CONFIG_SEEN "kubernetes.io/config.seen"
#define PP_ANN_CONFIG_FILE "peapod.io/config.file"

/* The node process's messages (one line each, no newline): the CLI writes
 * them to stderr with a timestamp. */
typedef void (*pp_node_log_fn)(void *ctx, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

struct pp_loop;
struct pp_node_opts {
	const char *manifest_dir; /* NULL: the setting (PEAPOD_MANIFEST_DIR) */
	const char *store_root;	  /* NULL: the default */
	pp_node_log_fn log;
	void *log_ctx;
	/* Optional: called once after the boot path (gc, the directory's
	 * pods), before the loop runs: where another server of the process
	 * (the CRI server, issue #19) registers its fds and timers in the
	 * loop (loop.h). -1 stops the process with its error. */
	int (*attach)(struct pp_loop *loop, void *ctx, struct pp_error **err);
	void *attach_ctx;
};

/* One node process per host: an exclusive flock on PEAPOD_RUN/node.lock
 * (the fd returned, close-on-exec). Taken: -1 with EWOULDBLOCK and
 * *holder the PID written in it (0 when unknown). */
int pp_node_lock(int *fd, pid_t *holder, struct pp_error **err);

/* The process: gc of what a reboot or a crash left, every pod of the
 * directory made, then the loop until SIGTERM or SIGINT (0; the pods keep
 * running). SIGHUP: a full resync. Takes the lock itself. */
int pp_node_run(const struct pp_node_opts *o, struct pp_error **err);

/* ---- unit.c: how the process is started at boot ---- */

enum pp_node_unit { PP_NODE_UNIT_SYSTEMD, PP_NODE_UNIT_SYSV };

/* The unit's text: a systemd service (Type=notify, KillMode=process: the
 * pods outlive a stop of the unit) or an LSB init script
 * (start-stop-daemon with a pidfile). exe: peapod's absolute path;
 * manifest_dir: NULL for the default. */
char *pp_node_unit_text(enum pp_node_unit kind, const char *exe, const char *manifest_dir);

/* Writes the unit this host uses (systemd when /run/systemd/system exists,
 * else /etc/init.d/peapod-node, registered with update-rc.d when there
 * is one); *path the file written, *hint what to run next. */
int pp_node_unit_install(const char *exe, const char *manifest_dir, char **path, char **hint,
			 struct pp_error **err);

#endif
