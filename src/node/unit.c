/* How the node process starts at boot: a systemd service, or an LSB init
 * script for hosts without systemd. Both stop the node process only: the
 * pods' supervisors outlive it (KillMode=process; a pidfile holding the
 * node's PID), as pods outlive a restart of kubelet. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "node/node.h"
#include "util/cleanup.h"
#include "util/fs.h"

#define SYSTEMD_RUNNING "/run/systemd/system"
#define SYSTEMD_UNIT_PATH "/etc/systemd/system/peapod-node.service"
#define SYSV_SCRIPT_PATH "/etc/init.d/peapod-node"
#define UPDATE_RC_D "/usr/sbin/update-rc.d"
#define UNIT_MODE 0644
#define SCRIPT_MODE 0755

static const char systemd_unit[] =
    "# peapod's node process: keeps the static pods of the manifest directory\n"
    "# running (`peapod node --print-unit systemd`).\n"
    "[Unit]\n"
    "Description=peapod node: the static pods of %s\n"
    "Wants=network-online.target\n"
    "After=network-online.target local-fs.target\n"
    "\n"
    "[Service]\n"
    "Type=notify\n"
    "ExecStart=%s node%s%s\n"
    "ExecReload=/bin/kill -HUP $MAINPID\n"
    "# the pods' supervisors are in this unit's cgroup: a stop of the unit\n"
    "# stops the node process only, the pods keep running\n"
    "KillMode=process\n"
    "Restart=always\n"
    "RestartSec=2\n"
    "\n"
    "[Install]\n"
    "WantedBy=multi-user.target\n";

static const char sysv_script[] =
    "#!/bin/sh\n"
    "### BEGIN INIT INFO\n"
    "# Provides:          peapod-node\n"
    "# Required-Start:    $local_fs $network $remote_fs\n"
    "# Required-Stop:     $local_fs $network $remote_fs\n"
    "# Default-Start:     2 3 4 5\n"
    "# Default-Stop:      0 1 6\n"
    "# Short-Description: peapod node: the static pods of %s\n"
    "### END INIT INFO\n"
    "# `peapod node --print-unit sysv`. Stopping it stops the node process\n"
    "# only (its PID from the pidfile): the pods keep running.\n"
    "DAEMON=%s\n"
    "DAEMON_ARGS=\"node%s%s\"\n"
    "PIDFILE=${PIDFILE:-/run/peapod-node.pid}\n"
    "LOGFILE=${LOGFILE:-/var/log/peapod-node.log}\n"
    "[ -r /etc/default/peapod-node ] && . /etc/default/peapod-node\n"
    "[ -x \"$DAEMON\" ] || exit 5\n"
    "\n"
    "case \"$1\" in\n"
    "start)\n"
    "\techo \"Starting peapod-node\"\n"
    "\tstart-stop-daemon --start --quiet --background --make-pidfile --pidfile \"$PIDFILE\" \\\n"
    "\t\t--output \"$LOGFILE\" --exec \"$DAEMON\" -- $DAEMON_ARGS\n"
    "\t;;\n"
    "stop)\n"
    "\techo \"Stopping peapod-node\"\n"
    "\tstart-stop-daemon --stop --quiet --pidfile \"$PIDFILE\" --retry TERM/30/KILL/5 \\\n"
    "\t\t--remove-pidfile --exec \"$DAEMON\"\n"
    "\tr=$?\n"
    "\t[ $r -eq 1 ] && r=0 # was not running\n"
    "\texit $r\n"
    "\t;;\n"
    "restart|force-reload)\n"
    "\t\"$0\" stop && \"$0\" start\n"
    "\t;;\n"
    "reload)\n"
    "\tstart-stop-daemon --stop --signal HUP --quiet --pidfile \"$PIDFILE\" --exec \"$DAEMON\"\n"
    "\t;;\n"
    "status)\n"
    "\tstart-stop-daemon --status --pidfile \"$PIDFILE\" --exec \"$DAEMON\"\n"
    "\tr=$?\n"
    "\tcase $r in\n"
    "\t0) echo \"peapod-node is running (pid $(cat \"$PIDFILE\"))\" ;;\n"
    "\t*) echo \"peapod-node is not running\" ;;\n"
    "\tesac\n"
    "\texit $r\n"
    "\t;;\n"
    "*)\n"
    "\techo \"usage: $0 {start|stop|restart|reload|force-reload|status}\" >&2\n"
    "\texit 2\n"
    "\t;;\n"
    "esac\n"
    "exit $?\n";

char *pp_node_unit_text(enum pp_node_unit kind, const char *exe, const char *manifest_dir)
{
	const char *flag = manifest_dir ? " --manifests " : "";
	const char *dir = manifest_dir ? manifest_dir : "";
	const char *shown = manifest_dir ? manifest_dir : "the manifest directory";
	char *out = NULL;
	int r = kind == PP_NODE_UNIT_SYSTEMD ? asprintf(&out, systemd_unit, shown, exe, flag, dir)
					     : asprintf(&out, sysv_script, shown, exe, flag, dir);
	if (r < 0)
		abort();
	return out;
}

static int run_update_rc_d(struct pp_error **err)
{
	pid_t pid = fork();
	if (pid < 0)
		return pp_error_set(err, errno, "fork");
	if (pid == 0) {
		execl(UPDATE_RC_D, "update-rc.d", "peapod-node", "defaults", (char *)NULL);
		_exit(127);
	}
	int st = 0;
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
		return pp_error_set(err, 0, "update-rc.d peapod-node defaults failed");
	return 0;
}

int pp_node_unit_install(const char *exe, const char *manifest_dir, char **path, char **hint,
			 struct pp_error **err)
{
	struct stat st;
	bool systemd = stat(SYSTEMD_RUNNING, &st) == 0 && S_ISDIR(st.st_mode);
	enum pp_node_unit kind = systemd ? PP_NODE_UNIT_SYSTEMD : PP_NODE_UNIT_SYSV;
	const char *target = systemd ? SYSTEMD_UNIT_PATH : SYSV_SCRIPT_PATH;
	cleanup_free char *text = pp_node_unit_text(kind, exe, manifest_dir);
	if (pp_write_file_atomic(target, text, strlen(text), systemd ? UNIT_MODE : SCRIPT_MODE,
				 err) < 0)
		return -1;
	*path = xstrdup(target);
	if (systemd) {
		*hint = xstrdup("systemctl daemon-reload && systemctl enable --now peapod-node");
	} else if (access(UPDATE_RC_D, X_OK) == 0) {
		if (run_update_rc_d(err) < 0)
			return -1;
		*hint = xstrdup("service peapod-node start");
	} else {
		*hint = xstrdup("link /etc/init.d/peapod-node into your runlevels' rc?.d, then "
				"/etc/init.d/peapod-node start");
	}
	return 0;
}
