#include "sandbox/sandbox.h"

#include <fcntl.h>
#include <sys/mount.h>
#include <limits.h>
#include <linux/sched.h>
#include <net/if.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "net/podnet.h"
#include "sandbox/infra.h"
#include "sandbox/sysctl.h"
#include "util/cleanup.h"
#include "util/fault.h"
#include "util/fs.h"
#include "util/proc.h"
#include "util/trace.h"

#define HOST_RESOLV "/etc/resolv.conf"
#define POD_IP_LOOPBACK "127.0.0.1"

/* The pod's /dev/shm: a tmpfs made with fsopen/fsmount and never attached
 * anywhere on the host. Containers clone it in; it goes away when the last
 * fd and the last container mount of it are gone. */
static int make_shm(int64_t size, struct pp_error **err)
{
	cleanup_close int fs = fsopen("tmpfs", FSOPEN_CLOEXEC);
	if (fs < 0)
		return pp_error_set(err, errno, "fsopen tmpfs for /dev/shm");
	cleanup_free char *sz = xasprintf("%lld", (long long)size);
	if (fsconfig(fs, FSCONFIG_SET_STRING, "size", sz, 0) < 0 ||
	    fsconfig(fs, FSCONFIG_SET_STRING, "mode", "1777", 0) < 0 ||
	    fsconfig(fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0)
		return pp_error_set(err, errno, "configure tmpfs for /dev/shm");
	int mnt =
	    fsmount(fs, FSMOUNT_CLOEXEC, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC);
	if (mnt < 0)
		return pp_error_set(err, errno, "fsmount /dev/shm");
	return mnt;
}

static int write_etc_files(const struct pp_sandbox_config *cfg, struct pp_sandbox *sb,
			   struct pp_error **err)
{
	const struct pp_pod *pod = cfg->pod;
	sb->hosts_path = xasprintf("%s/hosts", cfg->state_dir);
	sb->hostname_path = xasprintf("%s/hostname", cfg->state_dir);
	sb->resolv_path = xasprintf("%s/resolv.conf", cfg->state_dir);

	cleanup_free char *hosts = pp_sandbox_hosts_content(pod, sb->pod_ip);
	if (pp_write_file_atomic(sb->hosts_path, hosts, strlen(hosts), 0644, err) < 0)
		return -1;
	/* With hostNetwork the pod has the host's UTS namespace and name. */
	char host_name[HOST_NAME_MAX + 1] = "";
	if (pod->host_network)
		gethostname(host_name, sizeof(host_name) - 1);
	cleanup_free char *hostname =
	    xasprintf("%s\n", pod->host_network ? host_name : pp_pod_hostname(pod));
	if (pp_write_file_atomic(sb->hostname_path, hostname, strlen(hostname), 0644, err) < 0)
		return -1;
	cleanup_free char *resolv = NULL;
	if (pp_sandbox_resolv_content(pod, HOST_RESOLV, &resolv, err) < 0)
		return -1;
	if (pp_write_file_atomic(sb->resolv_path, resolv, strlen(resolv), 0644, err) < 0)
		return -1;
	/* In a user namespace they are the pod's root's, as root's in any
	 * other pod: it may rewrite them (kubelet mounts them read-write). */
	const char *files[] = {sb->hosts_path, sb->hostname_path, sb->resolv_path};
	for (size_t i = 0; cfg->id_count > 0 && i < sizeof(files) / sizeof(files[0]); i++)
		if (chown(files[i], cfg->id_base, cfg->id_base) < 0)
			return pp_error_set(err, errno, "chown %s", files[i]);
	return 0;
}

/* 1. Which namespaces the pod has of its own. hostNetwork also means the
 *    host's UTS namespace, as kubelet does it. */
static struct pp_sandbox *sandbox_new(const struct pp_sandbox_config *cfg)
{
	const struct pp_pod *pod = cfg->pod;
	struct pp_sandbox *sb = xmalloc(sizeof(*sb));
	sb->infra_pidfd = -1;
	sb->infra_ready_fd = -1;
	sb->infra_proceed_fd = -1;
	sb->shm_fd = -1;
	sb->state_dir = xstrdup(cfg->state_dir);
	sb->userns_fd = -1;
	if (!pod->host_network)
		sb->join_ns |= CLONE_NEWNET | CLONE_NEWUTS;
	if (!pod->host_ipc)
		sb->join_ns |= CLONE_NEWIPC;
	if (pod->share_process_namespace && !pod->host_pid)
		sb->join_ns |= CLONE_NEWPID;
	sb->own_pid_ns = !pod->host_pid && !pod->share_process_namespace;
	return sb;
}

/* The infra process's sysctls are the pod's own namespaces': the host's
 * are never written. */
static int check_sysctls(const struct pp_pod *pod, struct pp_error **err)
{
	for (size_t i = 0; i < pod->security.n_sysctls; i++) {
		const char *name = pod->security.sysctls[i].key;
		bool net = name[0] == 'n';
		if ((net && pod->host_network) || (!net && pod->host_ipc))
			return pp_error_set(err, EINVAL,
					    "sysctl \"%s\" not allowed with %s enabled", name,
					    net ? "hostNetwork" : "hostIPC");
	}
	return 0;
}

static struct pp_infra_config infra_config(const struct pp_sandbox_config *cfg,
					   const struct pp_sandbox *sb)
{
	const struct pp_pod *pod = cfg->pod;
	return (struct pp_infra_config){
	    .sysctls = pod->security.sysctls,
	    .n_sysctls = pod->security.n_sysctls,
	    .clone_flags = sb->join_ns,
	    .hostname = pp_pod_hostname(pod),
	    .cgroup_procs_fds = cfg->cgroup_procs_fds,
	    .n_cgroup_procs_fds = cfg->n_cgroup_procs_fds,
	    .cgroup = cfg->cgroup,
	    .oom_score_adj = cfg->infra_oom_score_adj,
	    .set_oom_score_adj = cfg->set_infra_oom_score_adj,
	    .id_base = cfg->id_base,
	    .id_count = cfg->id_count,
	};
}

int pp_sandbox_begin(const struct pp_sandbox_config *cfg, struct pp_sandbox **out,
		     struct pp_error **err)
{
	*out = NULL;
	if (check_sysctls(cfg->pod, err) < 0)
		return -1;
	struct pp_sandbox *sb = sandbox_new(cfg);
	struct pp_infra_config icfg = infra_config(cfg, sb);
	if (pp_infra_clone(&icfg, &sb->infra_pid, &sb->infra_pidfd, &sb->infra_ready_fd,
			   &sb->infra_proceed_fd, err) < 0) {
		pp_sandbox_destroy(sb);
		return -1;
	}
	*out = sb;
	return 0;
}

int pp_sandbox_cgroups_made(struct pp_sandbox *sb, struct pp_error **err)
{
	return sb == NULL ? 0 : pp_infra_cgroups_made(&sb->infra_proceed_fd, err);
}

int pp_sandbox_create(const struct pp_sandbox_config *cfg, struct pp_sandbox **out,
		      struct pp_error **err)
{
	const struct pp_pod *pod = cfg->pod;
	/* begun (pp_sandbox_begin): its infra process is there */
	struct pp_sandbox *sb = *out != NULL ? *out : sandbox_new(cfg);
	*out = NULL;

	pp_trace("sandbox create");
	/* 2. The pod's /dev/shm (with hostIPC the containers use the host's). */
	if (!pod->host_ipc) {
		int64_t size = cfg->shm_size > 0 ? cfg->shm_size : PP_SHM_DEFAULT_SIZE;
		sb->shm_fd = make_shm(size, err);
		if (sb->shm_fd < 0)
			goto fail;
	}
	if (pp_fault("sandbox shm", err) < 0)
		goto fail;

	/* 3. The infra process holding the namespaces, set up (hostname,
	 *    loopback, IPC sysctls); begun, it made them meanwhile. */
	if (check_sysctls(pod, err) < 0)
		goto fail;
	struct pp_infra_config icfg = infra_config(cfg, sb);
	int r =
	    sb->infra_pidfd >= 0
		? pp_infra_setup(&icfg, sb->infra_pid, sb->infra_pidfd, &sb->infra_ready_fd, err)
		: pp_infra_start(&icfg, &sb->infra_pid, &sb->infra_pidfd, &sb->userns_fd, err);
	if (r < 0)
		goto fail;
	pp_trace("sandbox infra up");
	if (pp_fault("sandbox infra", err) < 0)
		goto fail;

	/* 4. The pod's network, in the namespace the infra process holds. */
	struct pp_pod_net_req nreq = {
	    .pod = pod, .uid = cfg->uid, .state_dir = cfg->state_dir, .infra_pid = sb->infra_pid};
	if (pp_pod_net_attach(&nreq, &sb->pod_ips, err) < 0)
		goto fail;
	sb->host_ip = pp_net_host_ip();
	/* A hostNetwork pod's IP is the host's, as kubelet reports it. */
	sb->pod_ip = xstrdup(sb->pod_ips[0]	 ? sb->pod_ips[0]
			     : pod->host_network ? sb->host_ip
						 : POD_IP_LOOPBACK);
	/* 4b. The net.* sysctls, once eth0 exists, as containerd orders them (sysctl.h). */
	if (pp_sysctl_write_net(sb->infra_pidfd, pod->security.sysctls, pod->security.n_sysctls,
				err) < 0)
		goto fail;
	pp_trace("sandbox network up");
	if (pp_fault("sandbox network", err) < 0)
		goto fail;

	/* 5. /etc files (with the pod's address), written before any container runs. */
	if (write_etc_files(cfg, sb, err) < 0 || pp_fault("sandbox etc files", err) < 0)
		goto fail;
	*out = sb;
	return 0;
fail:
	pp_sandbox_destroy(sb);
	return -1;
}

int pp_sandbox_stop(struct pp_sandbox *sb, struct pp_error **err)
{
	if (sb == NULL || sb->stopped)
		return 0;
	/* The network first, while the infra process still holds the
	 * namespace with the pod's interface (a failed DEL keeps its record
	 * for gc). */
	int ret = 0;
	if (sb->state_dir != NULL)
		ret =
		    pp_pod_net_detach(sb->state_dir, sb->infra_pidfd >= 0 ? sb->infra_pid : 0, err);
	if (sb->infra_pidfd >= 0)
		pp_pidfd_send_signal(sb->infra_pidfd, SIGKILL);
	sb->stopped = true;
	return ret;
}

void pp_sandbox_destroy(struct pp_sandbox *sb)
{
	if (sb == NULL)
		return;
	pp_sandbox_stop(sb, NULL);
	if (sb->infra_pidfd >= 0)
		pp_infra_stop(sb->infra_pidfd);
	cleanup_closep(&sb->infra_pidfd);
	cleanup_closep(&sb->infra_ready_fd);
	cleanup_closep(&sb->infra_proceed_fd);
	cleanup_closep(&sb->shm_fd);
	cleanup_closep(&sb->userns_fd);
	free(sb->hosts_path);
	free(sb->hostname_path);
	free(sb->resolv_path);
	free(sb->pod_ip);
	strv_free(sb->pod_ips);
	free(sb->host_ip);
	free(sb->state_dir);
	free(sb);
}
