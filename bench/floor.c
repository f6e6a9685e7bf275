/* floor: what the kernel takes for each step of a pod's start, exec and
 * delete, done the cheapest way, for bench/floor.sh (issue #20). Every
 * measurement is repeated N times (-n, default 50) and printed as one line
 * per quantity, "KEY median min max" in milliseconds (CLOCK_MONOTONIC).
 * Needs root. The process first makes a private mount namespace of its
 * own, so no mount it makes shows on the host; the network steps run in a
 * network namespace it creates; the cgroups it makes (under PARENT in every
 * hierarchy) are removed before it exits.
 *
 *   floor [-n N] ns FLAGS          clone(FLAGS) + _exit + waitpid; FLAGS:
 *                                  comma-separated net,ipc,uts,pid,mnt
 *   floor [-n N] overlay LOWER DIR  overlay mount (LOWER, fresh DIR/upper and
 *                                  DIR/work) at DIR/merged, then umount;
 *                                  and the same with "volatile"
 *   floor [-n N] pivot ROOT        in a child: unshare(CLONE_NEWNS) + /
 *                                  private (mntns); pivot_root into ROOT +
 *                                  detach the old root (pivot); timed in
 *                                  the child
 *   floor [-n N] cgroup PARENT     mkdir of one cgroup in every hierarchy
 *                                  peapod uses; a child cloned into the
 *                                  cgroup2 one (CLONE_INTO_CGROUP) writing
 *                                  itself into each v1 `tasks`; rmdir
 *   floor [-n N] net               a new network namespace with loopback
 *                                  up; and a veth pair made with its peer
 *                                  in it (one RTM_NEWLINK), an address and
 *                                  the link up
 *   floor [-n N] spawn PROG        posix_spawn of PROG (to its exec) and
 *                                  the wait for its exit
 *   floor [-n N] setns PROG        a process in new net,ipc,uts,pid,mnt
 *                                  namespaces; into them: setns(PID) then
 *                                  vfork, setns(mnt,net,ipc,uts) + exec PROG
 *                                  in the child, wait; and setns(net,ipc,
 *                                  uts) alone, timed in a child
 *   floor [-n N] kill              pidfd_send_signal(SIGTERM) to a child
 *                                  and its wait (poll on the pidfd + waitid)
 *   floor [-n N] socket DIR        a unix-socket round trip: connect, a
 *                                  64-byte request, a 256-byte reply
 *   floor [-n N] tree DIR DIRS FILES  rename of a tree of DIRS directories
 *                                  and FILES files, and its unlinking
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <linux/veth.h>
#include <net/if.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <spawn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <linux/sched.h>

extern char **environ;

static int runs = 50;

static void die(const char *what)
{
	fprintf(stderr, "floor: %s: %s\n", what, strerror(errno));
	exit(1);
}

static double now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static void report(const char *key, double *v, int n)
{
	qsort(v, (size_t)n, sizeof(*v), cmp_double);
	double med = n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
	printf("%s %.3f %.3f %.3f\n", key, med, v[0], v[n - 1]);
	fflush(stdout);
}

static void reap(pid_t pid)
{
	int st;
	while (waitpid(pid, &st, __WALL) < 0)
		if (errno != EINTR)
			die("waitpid");
}

/* A timing child's report: the child writes n doubles on p[1] and exits
 * (child_send); the parent reads them (child_take: the child reaped, what
 * names it in the error). */
static _Noreturn void child_send(int p[2], const double *d, size_t n)
{
	size_t len = n * sizeof(*d);
	_exit(write(p[1], d, len) == (ssize_t)len ? 0 : 1);
}

static void child_take(int p[2], pid_t pid, double *d, size_t n, const char *what)
{
	close(p[1]);
	if (read(p[0], d, n * sizeof(*d)) != (ssize_t)(n * sizeof(*d))) {
		errno = EIO;
		die(what);
	}
	close(p[0]);
	reap(pid);
}

/* --- ns --------------------------------------------------------------------- */
static int parse_flags(const char *s)
{
	static const struct {
		const char *name;
		int flag;
	} t[] = {{"net", CLONE_NEWNET}, {"ipc", CLONE_NEWIPC}, {"uts", CLONE_NEWUTS},
		 {"pid", CLONE_NEWPID}, {"mnt", CLONE_NEWNS},  {"none", 0}};
	int flags = 0;
	char *copy = strdup(s), *save = NULL;
	for (char *w = strtok_r(copy, ",", &save); w; w = strtok_r(NULL, ",", &save)) {
		size_t i;
		for (i = 0; i < sizeof(t) / sizeof(t[0]) && strcmp(w, t[i].name) != 0; i++)
			;
		if (i == sizeof(t) / sizeof(t[0])) {
			fprintf(stderr, "floor: unknown namespace %s\n", w);
			exit(2);
		}
		flags |= t[i].flag;
	}
	free(copy);
	return flags;
}

static void step_ns(const char *spec)
{
	int flags = parse_flags(spec);
	double *v = calloc((size_t)runs, sizeof(double));
	for (int i = 0; i < runs; i++) {
		double t0 = now_ms();
		pid_t pid = (pid_t)syscall(SYS_clone, flags | SIGCHLD, NULL, NULL, NULL, NULL);
		if (pid < 0)
			die("clone");
		if (pid == 0)
			_exit(0);
		reap(pid);
		v[i] = now_ms() - t0;
	}
	char key[64];
	snprintf(key, sizeof(key), "ns.%s", spec);
	report(key, v, runs);
	free(v);
}

static int rm_one(const char *p, const struct stat *st, int flag, struct FTW *f)
{
	(void)st;
	(void)f;
	return (flag == FTW_DP ? rmdir(p) : unlink(p)) < 0 ? -1 : 0;
}

static void rm_tree(const char *p)
{
	if (nftw(p, rm_one, 16, FTW_DEPTH | FTW_PHYS) < 0 && errno != ENOENT)
		die("remove a tree");
}

/* --- overlay ---------------------------------------------------------------- */
static char *path2(const char *a, const char *b)
{
	char *p;
	if (asprintf(&p, "%s/%s", a, b) < 0)
		die("asprintf");
	return p;
}

static void step_overlay(const char *lower, const char *dir)
{
	char *upper = path2(dir, "upper"), *work = path2(dir, "work"),
	     *merged = path2(dir, "merged");
	char *opts[2];
	if (asprintf(&opts[0], "lowerdir=%s,upperdir=%s,workdir=%s", lower, upper, work) < 0 ||
	    asprintf(&opts[1], "%s,volatile", opts[0]) < 0)
		die("asprintf");
	double *m = calloc((size_t)runs, sizeof(double)), *u = calloc((size_t)runs, sizeof(double));
	double *mv = calloc((size_t)runs, sizeof(double)),
	       *uv = calloc((size_t)runs, sizeof(double));
	/* interleaved: plain, then volatile (no sync of the upper file system
	 * at umount), the same noise for both */
	for (int k = 0; k < 2 * runs; k++) {
		int i = k / 2, vol = k % 2;
		/* a fresh upper and work, as each container start has */
		rm_tree(upper);
		rm_tree(work);
		if (mkdir(upper, 0755) < 0 || mkdir(work, 0700) < 0 ||
		    (mkdir(merged, 0755) < 0 && errno != EEXIST))
			die("mkdir");
		double t0 = now_ms();
		if (mount("overlay", merged, "overlay", 0, opts[vol]) < 0)
			die("mount overlay");
		double t1 = now_ms();
		if (umount2(merged, 0) < 0)
			die("umount overlay");
		double t2 = now_ms();
		(vol ? mv : m)[i] = t1 - t0;
		(vol ? uv : u)[i] = t2 - t1;
	}
	report("overlay.mount", m, runs);
	report("overlay.umount", u, runs);
	report("overlay.mount.volatile", mv, runs);
	report("overlay.umount.volatile", uv, runs);
	free(m);
	free(u);
	free(mv);
	free(uv);
}

/* --- pivot ------------------------------------------------------------------ */
static void step_pivot(const char *root)
{
	/* the new root must be a mount point: a bind of ROOT onto itself (in
	 * our private mount namespace) */
	if (mount(root, root, NULL, MS_BIND | MS_REC, NULL) < 0)
		die("bind the new root");
	double *ns = calloc((size_t)runs, sizeof(double)),
	       *v = calloc((size_t)runs, sizeof(double));
	for (int i = 0; i < runs; i++) {
		int p[2];
		if (pipe(p) < 0)
			die("pipe");
		pid_t pid = fork();
		if (pid < 0)
			die("fork");
		if (pid == 0) {
			double d[2], t0 = now_ms();
			if (unshare(CLONE_NEWNS) < 0 ||
			    mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
				_exit(1);
			double t1 = now_ms();
			if (chdir(root) < 0 || syscall(SYS_pivot_root, ".", ".") < 0 ||
			    umount2(".", MNT_DETACH) < 0 || chdir("/") < 0)
				_exit(1);
			d[0] = t1 - t0;
			d[1] = now_ms() - t1;
			child_send(p, d, 2);
		}
		double d[2];
		child_take(p, pid, d, 2, "pivot child");
		ns[i] = d[0];
		v[i] = d[1];
	}
	umount2(root, MNT_DETACH);
	report("mntns", ns, runs);
	report("pivot", v, runs);
	free(ns);
	free(v);
}

/* --- cgroup ----------------------------------------------------------------- */
/* The hierarchies peapod joins (src/cgroup/cgroup.c): on a hybrid host the
 * cgroup2 one first, then every v1 one mounted; on a pure v2 host only /. */
static const char *const v1_names[] = {"freezer", "pids", "memory", "cpu", "cpuacct", "devices"};

static int is_cgroup2(const char *p)
{
	char buf[256];
	snprintf(buf, sizeof(buf), "%s/cgroup.controllers", p);
	return access(buf, F_OK) == 0;
}

static pid_t clone3_into(int cgfd)
{
	struct clone_args a = {.exit_signal = SIGCHLD};
	if (cgfd >= 0) {
		a.flags = CLONE_INTO_CGROUP;
		a.cgroup = (uint64_t)cgfd;
	}
	return (pid_t)syscall(SYS_clone3, &a, sizeof(a));
}

static void step_cgroup(const char *parent)
{
	char *h[16];
	int nh = 0, v2 = -1;
	if (is_cgroup2("/sys/fs/cgroup")) {
		v2 = nh;
		h[nh++] = strdup("/sys/fs/cgroup");
	} else {
		if (is_cgroup2("/sys/fs/cgroup/unified")) {
			v2 = nh;
			h[nh++] = strdup("/sys/fs/cgroup/unified");
		}
		for (size_t i = 0; i < sizeof(v1_names) / sizeof(v1_names[0]); i++) {
			char *d = path2("/sys/fs/cgroup", v1_names[i]);
			struct stat st, up;
			char *dd = path2(d, "..");
			/* a mount point of its own (not a co-mounted link) */
			if (stat(d, &st) == 0 && stat(dd, &up) == 0 && st.st_dev != up.st_dev &&
			    !is_cgroup2(d))
				h[nh++] = d;
			else
				free(d);
			free(dd);
		}
	}
	char *par[16], *cg[16];
	for (int k = 0; k < nh; k++) {
		par[k] = path2(h[k], parent);
		if (mkdir(par[k], 0755) < 0 && errno != EEXIST)
			die("mkdir parent cgroup");
		cg[k] = path2(par[k], "floor");
	}
	double *mk = calloc((size_t)runs, sizeof(double)),
	       *jn = calloc((size_t)runs, sizeof(double)),
	       *rm = calloc((size_t)runs, sizeof(double));
	for (int i = 0; i < runs; i++) {
		double t0 = now_ms();
		for (int k = 0; k < nh; k++)
			if (mkdir(cg[k], 0755) < 0)
				die("mkdir cgroup");
		mk[i] = now_ms() - t0;
		int tasks[16], nt = 0;
		for (int k = 0; k < nh; k++)
			if (k != v2) {
				char *t = path2(cg[k], "tasks");
				if ((tasks[nt++] = open(t, O_WRONLY | O_CLOEXEC)) < 0)
					die("open tasks");
				free(t);
			}
		int cgfd = v2 >= 0 ? open(cg[v2], O_DIRECTORY | O_PATH | O_CLOEXEC) : -1;
		int p[2];
		if (pipe(p) < 0)
			die("pipe");
		pid_t pid = clone3_into(cgfd);
		if (pid < 0)
			die("clone3 into cgroup");
		if (pid == 0) {
			double c0 = now_ms();
			for (int k = 0; k < nt; k++)
				if (write(tasks[k], "0", 1) != 1)
					_exit(1);
			double d = now_ms() - c0;
			child_send(p, &d, 1);
		}
		child_take(p, pid, &jn[i], 1, "cgroup child");
		for (int k = 0; k < nt; k++)
			close(tasks[k]);
		if (cgfd >= 0)
			close(cgfd);
		t0 = now_ms();
		for (int k = nh - 1; k >= 0; k--)
			while (rmdir(cg[k]) < 0)
				if (errno != EBUSY)
					die("rmdir cgroup");
		rm[i] = now_ms() - t0;
	}
	for (int k = 0; k < nh; k++)
		rmdir(par[k]);
	printf("cgroup.hierarchies %d %d %d\n", nh, nh, nh);
	report("cgroup.mkdir", mk, runs);
	report("cgroup.join", jn, runs);
	report("cgroup.rmdir", rm, runs);
}

/* --- net -------------------------------------------------------------------- */
struct nlreq {
	struct nlmsghdr h;
	char buf[1024];
};

static struct rtattr *nla_put(struct nlmsghdr *h, int type, const void *data, size_t len)
{
	struct rtattr *a = (struct rtattr *)((char *)h + NLMSG_ALIGN(h->nlmsg_len));
	a->rta_type = (unsigned short)type;
	a->rta_len = (unsigned short)RTA_LENGTH(len);
	if (len)
		memcpy(RTA_DATA(a), data, len);
	h->nlmsg_len = NLMSG_ALIGN(h->nlmsg_len) + RTA_ALIGN(a->rta_len);
	return a;
}

static void nla_end(struct nlmsghdr *h, struct rtattr *a)
{
	a->rta_len = (unsigned short)((char *)h + h->nlmsg_len - (char *)a);
}

static void nl_call(int fd, struct nlmsghdr *h)
{
	h->nlmsg_flags |= NLM_F_REQUEST | NLM_F_ACK;
	if (send(fd, h, h->nlmsg_len, 0) < 0)
		die("netlink send");
	char buf[4096];
	ssize_t n = recv(fd, buf, sizeof(buf), 0);
	if (n < 0)
		die("netlink recv");
	struct nlmsghdr *r = (struct nlmsghdr *)buf;
	if (r->nlmsg_type == NLMSG_ERROR) {
		int e = ((struct nlmsgerr *)NLMSG_DATA(r))->error;
		if (e != 0) {
			errno = -e;
			die("netlink");
		}
	}
}

static void link_up(int nl, int ifindex)
{
	struct nlreq r = {
	    .h = {.nlmsg_len = NLMSG_LENGTH(sizeof(struct ifinfomsg)), .nlmsg_type = RTM_NEWLINK}};
	struct ifinfomsg *ifi = NLMSG_DATA(&r.h);
	ifi->ifi_index = ifindex;
	ifi->ifi_flags = IFF_UP;
	ifi->ifi_change = IFF_UP;
	nl_call(nl, &r.h);
}

static int nl_socket(void)
{
	int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	if (fd < 0)
		die("netlink socket");
	return fd;
}

static void step_net(void)
{
	/* the "host" side: a network namespace of our own */
	if (unshare(CLONE_NEWNET) < 0)
		die("unshare net");
	int host = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	int hnl = nl_socket();
	double *lo = calloc((size_t)runs, sizeof(double)),
	       *ve = calloc((size_t)runs, sizeof(double));
	for (int i = 0; i < runs; i++) {
		double t0 = now_ms();
		if (unshare(CLONE_NEWNET) < 0)
			die("unshare net");
		int pod = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
		int pnl = nl_socket();
		link_up(pnl, 1);
		lo[i] = now_ms() - t0;
		if (setns(host, CLONE_NEWNET) < 0)
			die("setns host");
		t0 = now_ms();
		/* one RTM_NEWLINK: the veth, its peer born in the pod's namespace */
		struct nlreq r = {.h = {.nlmsg_len = NLMSG_LENGTH(sizeof(struct ifinfomsg)),
					.nlmsg_type = RTM_NEWLINK,
					.nlmsg_flags = NLM_F_CREATE | NLM_F_EXCL}};
		/* a name of its own: the last one goes asynchronously */
		char host_if[32];
		snprintf(host_if, IFNAMSIZ, "vfl%d", i % 100000);
		nla_put(&r.h, IFLA_IFNAME, host_if, strlen(host_if) + 1);
		struct rtattr *li = nla_put(&r.h, IFLA_LINKINFO, NULL, 0);
		nla_put(&r.h, IFLA_INFO_KIND, "veth", 5);
		struct rtattr *data = nla_put(&r.h, IFLA_INFO_DATA, NULL, 0);
		struct rtattr *peer = nla_put(&r.h, VETH_INFO_PEER, NULL, 0);
		r.h.nlmsg_len += (unsigned)NLMSG_ALIGN(sizeof(struct ifinfomsg));
		nla_put(&r.h, IFLA_IFNAME, "eth0", 5);
		uint32_t nsfd = (uint32_t)pod;
		nla_put(&r.h, IFLA_NET_NS_FD, &nsfd, sizeof(nsfd));
		nla_end(&r.h, peer);
		nla_end(&r.h, data);
		nla_end(&r.h, li);
		nl_call(hnl, &r.h);
		link_up(hnl, (int)if_nametoindex(host_if));
		/* in the pod's namespace (its netlink socket): address, up */
		int eth0 = -1;
		{
			/* ifindex of eth0 there: the peer's index is the host side's + 1
			 * only by chance; ask with RTM_GETLINK by name */
			struct nlreq g = {.h = {.nlmsg_len = NLMSG_LENGTH(sizeof(struct ifinfomsg)),
						.nlmsg_type = RTM_GETLINK,
						.nlmsg_flags = NLM_F_REQUEST}};
			nla_put(&g.h, IFLA_IFNAME, "eth0", 5);
			if (send(pnl, &g.h, g.h.nlmsg_len, 0) < 0)
				die("netlink send");
			char buf[4096];
			if (recv(pnl, buf, sizeof(buf), 0) < 0)
				die("netlink recv");
			struct nlmsghdr *rh = (struct nlmsghdr *)buf;
			if (rh->nlmsg_type != RTM_NEWLINK) {
				errno = ENODEV;
				die("eth0 in the pod namespace");
			}
			eth0 = ((struct ifinfomsg *)NLMSG_DATA(rh))->ifi_index;
		}
		struct nlreq a = {.h = {.nlmsg_len = NLMSG_LENGTH(sizeof(struct ifaddrmsg)),
					.nlmsg_type = RTM_NEWADDR,
					.nlmsg_flags = NLM_F_CREATE | NLM_F_EXCL}};
		struct ifaddrmsg *ifa = NLMSG_DATA(&a.h);
		ifa->ifa_family = AF_INET;
		ifa->ifa_prefixlen = 24;
		ifa->ifa_index = (unsigned)eth0;
		struct in_addr ip;
		inet_pton(AF_INET, "10.199.0.2", &ip);
		nla_put(&a.h, IFA_LOCAL, &ip, sizeof(ip));
		nla_put(&a.h, IFA_ADDRESS, &ip, sizeof(ip));
		nl_call(pnl, &a.h);
		link_up(pnl, eth0);
		ve[i] = now_ms() - t0;
		/* the pod's namespace goes with its last reference, and the
		 * pair with it (asynchronously), as peapod's delete does */
		close(pnl);
		close(pod);
	}
	close(hnl);
	close(host);
	report("net.lo", lo, runs);
	report("net.veth", ve, runs);
}

/* --- spawn, setns ----------------------------------------------------------- */
static void step_spawn(const char *prog)
{
	char *argv[] = {(char *)prog, (char *)"true", NULL};
	double *sp = calloc((size_t)runs, sizeof(double)),
	       *all = calloc((size_t)runs, sizeof(double));
	for (int i = 0; i < runs; i++) {
		pid_t pid;
		double t0 = now_ms();
		int rc = posix_spawn(&pid, prog, NULL, NULL, argv, environ);
		if (rc != 0) {
			errno = rc;
			die("posix_spawn");
		}
		sp[i] = now_ms() - t0;
		reap(pid);
		all[i] = now_ms() - t0;
	}
	report("spawn.exec", sp, runs);
	report("spawn.exit", all, runs);
}

static int pidfd_open_(pid_t pid)
{
	return (int)syscall(SYS_pidfd_open, pid, 0);
}

static void step_setns(const char *prog)
{
	int ready[2];
	if (pipe(ready) < 0)
		die("pipe");
	pid_t target = (pid_t)syscall(SYS_clone,
				      CLONE_NEWNET | CLONE_NEWIPC | CLONE_NEWUTS | CLONE_NEWPID |
					  CLONE_NEWNS | SIGCHLD,
				      NULL, NULL, NULL, NULL);
	if (target < 0)
		die("clone target");
	if (target == 0) {
		close(ready[0]);
		close(ready[1]);
		for (;;)
			pause();
	}
	close(ready[1]);
	close(ready[0]);
	int tfd = pidfd_open_(target);
	int own_pid = open("/proc/self/ns/pid", O_RDONLY | O_CLOEXEC);
	if (tfd < 0 || own_pid < 0)
		die("pidfd_open");
	char *argv[] = {(char *)prog, (char *)"true", NULL};
	double *v = calloc((size_t)runs, sizeof(double)), *e = calloc((size_t)runs, sizeof(double));
	for (int i = 0; i < runs; i++) {
		double t0 = now_ms();
		if (setns(tfd, CLONE_NEWPID) < 0)
			die("setns pid");
		pid_t pid = vfork();
		if (pid == 0) {
			if (setns(tfd, CLONE_NEWNS | CLONE_NEWNET | CLONE_NEWIPC | CLONE_NEWUTS) <
			    0)
				_exit(126);
			execve(prog, argv, environ);
			_exit(127);
		}
		if (pid < 0)
			die("vfork");
		e[i] = now_ms() - t0;
		if (setns(own_pid, CLONE_NEWPID) < 0)
			die("setns back");
		int st;
		while (waitpid(pid, &st, 0) < 0)
			if (errno != EINTR)
				die("waitpid");
		if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
			errno = EINVAL;
			die("the setns child failed");
		}
		v[i] = now_ms() - t0;
	}
	/* the pod's namespaces alone (a container joins net, ipc, uts), timed
	 * in a child */
	double *j = calloc((size_t)runs, sizeof(double));
	for (int i = 0; i < runs; i++) {
		int p[2];
		if (pipe(p) < 0)
			die("pipe");
		pid_t pid = fork();
		if (pid < 0)
			die("fork");
		if (pid == 0) {
			double t0 = now_ms();
			if (setns(tfd, CLONE_NEWNET | CLONE_NEWIPC | CLONE_NEWUTS) < 0)
				_exit(1);
			double d = now_ms() - t0;
			child_send(p, &d, 1);
		}
		child_take(p, pid, &j[i], 1, "setns child");
	}
	kill(target, SIGKILL);
	reap(target);
	report("setns.join", j, runs);
	report("setns.exec", e, runs);
	report("setns.exit", v, runs);
}

/* --- kill ------------------------------------------------------------------- */
static void step_kill(void)
{
	double *v = calloc((size_t)runs, sizeof(double));
	for (int i = 0; i < runs; i++) {
		int p[2];
		if (pipe(p) < 0)
			die("pipe");
		pid_t pid = fork();
		if (pid == 0) {
			close(p[0]);
			close(p[1]); /* running: the parent sees EOF */
			for (;;)
				pause();
		}
		close(p[1]);
		char c;
		if (read(p[0], &c, 1) < 0)
			die("read");
		close(p[0]);
		int fd = pidfd_open_(pid);
		if (fd < 0)
			die("pidfd_open");
		double t0 = now_ms();
		if (syscall(SYS_pidfd_send_signal, fd, SIGTERM, NULL, 0) < 0)
			die("pidfd_send_signal");
		struct pollfd pf = {.fd = fd, .events = POLLIN};
		while (poll(&pf, 1, -1) < 0)
			if (errno != EINTR)
				die("poll");
		siginfo_t si;
		if (waitid(P_PIDFD, (id_t)fd, &si, WEXITED) < 0)
			die("waitid");
		v[i] = now_ms() - t0;
		close(fd);
	}
	report("kill", v, runs);
}

/* --- socket ----------------------------------------------------------------- */
static void step_socket(const char *dir)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/floor.sock", dir);
	unlink(sa.sun_path);
	int l = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (l < 0 || bind(l, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(l, 16) < 0)
		die("listen");
	pid_t server = fork();
	if (server == 0) {
		char req[64], rep[256] = {0};
		for (;;) {
			int c = accept(l, NULL, NULL);
			if (c < 0)
				_exit(0);
			if (read(c, req, sizeof(req)) > 0 && write(c, rep, sizeof(rep)) < 0)
				_exit(1);
			close(c);
		}
	}
	close(l);
	double *v = calloc((size_t)runs, sizeof(double));
	for (int i = 0; i < runs; i++) {
		char req[64] = {0}, rep[256];
		double t0 = now_ms();
		int c = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (c < 0 || connect(c, (struct sockaddr *)&sa, sizeof(sa)) < 0)
			die("connect");
		if (write(c, req, sizeof(req)) != sizeof(req))
			die("write");
		size_t got = 0;
		while (got < sizeof(rep)) {
			ssize_t n = read(c, rep + got, sizeof(rep) - got);
			if (n <= 0)
				die("read reply");
			got += (size_t)n;
		}
		close(c);
		v[i] = now_ms() - t0;
	}
	kill(server, SIGKILL);
	reap(server);
	unlink(sa.sun_path);
	report("socket", v, runs);
}

/* --- tree ------------------------------------------------------------------- */
static void step_tree(const char *dir, int ndirs, int nfiles)
{
	char *a = path2(dir, "tree"), *b = path2(dir, "tree.gone");
	double *mv = calloc((size_t)runs, sizeof(double)),
	       *rm = calloc((size_t)runs, sizeof(double));
	for (int i = 0; i < runs; i++) {
		/* ndirs directories, a tree of 4 a level, files spread over them */
		if (mkdir(a, 0755) < 0)
			die("mkdir tree");
		char **d = calloc((size_t)ndirs + 1, sizeof(char *));
		d[0] = strdup(a);
		for (int k = 1; k < ndirs; k++) {
			char name[32];
			snprintf(name, sizeof(name), "d%d", k);
			d[k] = path2(d[(k - 1) / 4], name);
			if (mkdir(d[k], 0755) < 0)
				die("mkdir");
		}
		for (int k = 0; k < nfiles; k++) {
			char name[32];
			snprintf(name, sizeof(name), "f%d", k);
			char *f = path2(d[k % (ndirs > 0 ? ndirs : 1)], name);
			int fd = open(f, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
			if (fd < 0 || write(fd, "x\n", 2) != 2)
				die("create");
			close(fd);
			free(f);
		}
		for (int k = 0; k < ndirs; k++)
			free(d[k]);
		free(d);
		double t0 = now_ms();
		if (rename(a, b) < 0)
			die("rename");
		mv[i] = now_ms() - t0;
		t0 = now_ms();
		rm_tree(b);
		rm[i] = now_ms() - t0;
	}
	report("tree.rename", mv, runs);
	report("tree.unlink", rm, runs);
}

int main(int argc, char **argv)
{
	int opt;
	while ((opt = getopt(argc, argv, "+n:")) != -1) {
		if (opt == 'n' && atoi(optarg) > 0)
			runs = atoi(optarg);
		else {
			fprintf(stderr, "usage: floor [-n N] STEP [ARGS...] (see bench/floor.c)\n");
			return 2;
		}
	}
	argc -= optind;
	argv += optind;
	if (argc < 1) {
		fprintf(stderr, "usage: floor [-n N] STEP [ARGS...] (see bench/floor.c)\n");
		return 2;
	}
	/* every mount of ours in a mount namespace of our own, seen nowhere else */
	if (unshare(CLONE_NEWNS) < 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
		die("a private mount namespace");
	const char *s = argv[0];
	if (strcmp(s, "ns") == 0 && argc == 2)
		step_ns(argv[1]);
	else if (strcmp(s, "overlay") == 0 && argc == 3)
		step_overlay(argv[1], argv[2]);
	else if (strcmp(s, "pivot") == 0 && argc == 2)
		step_pivot(argv[1]);
	else if (strcmp(s, "cgroup") == 0 && argc == 2)
		step_cgroup(argv[1]);
	else if (strcmp(s, "net") == 0 && argc == 1)
		step_net();
	else if (strcmp(s, "spawn") == 0 && argc == 2)
		step_spawn(argv[1]);
	else if (strcmp(s, "setns") == 0 && argc == 2)
		step_setns(argv[1]);
	else if (strcmp(s, "kill") == 0 && argc == 1)
		step_kill();
	else if (strcmp(s, "socket") == 0 && argc == 2)
		step_socket(argv[1]);
	else if (strcmp(s, "tree") == 0 && argc == 4)
		step_tree(argv[1], atoi(argv[2]), atoi(argv[3]));
	else {
		fprintf(stderr, "floor: unknown step or arguments: %s (see bench/floor.c)\n", s);
		return 2;
	}
	return 0;
}
