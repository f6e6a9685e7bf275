/* The default network over netlink, without plugins. */
#include "net/fastpath.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <linux/if_link.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/veth.h>
#include <net/if.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include "net/ipmasq.h"
#include "net/netconf.h"
#include "net/podnet.h"
#include "util/cleanup.h"
#include "util/dir.h"
#include "util/fs.h"
#include "util/settings.h"
#include "util/netns.h"

#define NL_BUF 1024
#define LEASE_DIR_MODE 0755
#define LEASE_MODE 0644
#define LAST_RESERVED "last_reserved_ip.0"
#define IP_FORWARD "/proc/sys/net/ipv4/ip_forward"

bool pp_fastpath_enabled(void)
{
	return pp_settings()->net_fastpath;
}

/* ---- netlink ---- */

union nlreq {
	struct nlmsghdr h;
	char buf[NL_BUF];
};

static struct rtattr *nla_put(union nlreq *r, unsigned short type, const void *data, size_t len)
{
	struct nlmsghdr *h = &r->h;
	struct rtattr *a = (struct rtattr *)(void *)(r->buf + NLMSG_ALIGN(h->nlmsg_len));
	a->rta_type = type;
	a->rta_len = (unsigned short)RTA_LENGTH(len);
	if (len)
		memcpy(RTA_DATA(a), data, len);
	h->nlmsg_len = NLMSG_ALIGN(h->nlmsg_len) + RTA_ALIGN(a->rta_len);
	return a;
}

static void nla_put_str(union nlreq *h, unsigned short type, const char *s)
{
	nla_put(h, type, s, strlen(s) + 1);
}

static void nla_put_u32(union nlreq *h, unsigned short type, uint32_t v)
{
	nla_put(h, type, &v, sizeof(v));
}

static struct rtattr *nla_nest(union nlreq *h, unsigned short type)
{
	return nla_put(h, type, NULL, 0);
}

static void nla_nest_end(union nlreq *r, struct rtattr *a)
{
	a->rta_len = (unsigned short)(r->buf + r->h.nlmsg_len - (char *)a);
}

static void *nl_init(union nlreq *r, unsigned short type, unsigned short flags, size_t hdr)
{
	memset(r, 0, sizeof(*r));
	r->h.nlmsg_type = type;
	r->h.nlmsg_flags = (unsigned short)(NLM_F_REQUEST | NLM_F_ACK | flags);
	r->h.nlmsg_len = (uint32_t)NLMSG_LENGTH(hdr);
	return NLMSG_DATA(&r->h);
}

/* Sends one request and reads its ack: 0 or -errno. */
static int nl_talk(int fd, union nlreq *r)
{
	if (send(fd, &r->h, r->h.nlmsg_len, 0) < 0)
		return -errno;
	char buf[NL_BUF];
	ssize_t n = recv(fd, buf, sizeof(buf), 0);
	if (n < 0)
		return -errno;
	const struct nlmsghdr *h = (const struct nlmsghdr *)(void *)buf;
	if (!NLMSG_OK(h, (size_t)n) || h->nlmsg_type != NLMSG_ERROR)
		return -EPROTO;
	const struct nlmsgerr *e = NLMSG_DATA(h);
	return e->error;
}

static int nl_socket(void)
{
	return socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
}

static int link_set_up(int nl, int index)
{
	union nlreq r;
	struct ifinfomsg *ifi = nl_init(&r, RTM_NEWLINK, 0, sizeof(*ifi));
	ifi->ifi_index = index;
	ifi->ifi_flags = IFF_UP;
	ifi->ifi_change = IFF_UP;
	return nl_talk(nl, &r);
}

static int addr_add(int nl, int index, struct in_addr a, int prefix)
{
	union nlreq r;
	struct ifaddrmsg *ifa =
	    nl_init(&r, RTM_NEWADDR, NLM_F_CREATE | NLM_F_REPLACE, sizeof(*ifa));
	ifa->ifa_family = AF_INET;
	ifa->ifa_prefixlen = (unsigned char)prefix;
	ifa->ifa_index = (unsigned)index;
	struct in_addr brd = {htonl(ntohl(a.s_addr) | (0xffffffffu >> prefix))};
	nla_put(&r, IFA_LOCAL, &a, sizeof(a));
	nla_put(&r, IFA_ADDRESS, &a, sizeof(a));
	nla_put(&r, IFA_BROADCAST, &brd, sizeof(brd));
	return nl_talk(nl, &r);
}

static int default_route(int nl, int index, struct in_addr gw)
{
	union nlreq r;
	struct rtmsg *rt = nl_init(&r, RTM_NEWROUTE, NLM_F_CREATE | NLM_F_EXCL, sizeof(*rt));
	rt->rtm_family = AF_INET;
	rt->rtm_table = RT_TABLE_MAIN;
	rt->rtm_protocol = RTPROT_BOOT;
	rt->rtm_scope = RT_SCOPE_UNIVERSE;
	rt->rtm_type = RTN_UNICAST;
	nla_put(&r, RTA_GATEWAY, &gw, sizeof(gw));
	nla_put_u32(&r, RTA_OIF, (uint32_t)index);
	return nl_talk(nl, &r);
}

/* ---- the default network's numbers ---- */

struct subnet {
	uint32_t net, gw; /* host order */
	int prefix;
};

static void default_subnet(struct subnet *s)
{
	char buf[32];
	snprintf(buf, sizeof(buf), "%s", PP_NET_DEFAULT_SUBNET);
	char *slash = strchr(buf, '/');
	*slash = '\0';
	struct in_addr a, g;
	inet_pton(AF_INET, buf, &a);
	inet_pton(AF_INET, PP_NET_DEFAULT_GATEWAY, &g);
	s->prefix = atoi(slash + 1);
	s->net = ntohl(a.s_addr);
	s->gw = ntohl(g.s_addr);
}

static char *ip_str(uint32_t host_order)
{
	struct in_addr a = {htonl(host_order)};
	char buf[INET_ADDRSTRLEN];
	inet_ntop(AF_INET, &a, buf, sizeof(buf));
	return xstrdup(buf);
}

/* ---- host-local's leases ---- */

static char *lease_dir(void)
{
	cleanup_free char *data = pp_net_default_data_dir();
	return xasprintf("%s/%s", data, PP_NET_DEFAULT_NAME);
}

static int lease_lock(const char *dir, struct pp_error **err)
{
	if (pp_mkdir_p(dir, LEASE_DIR_MODE, err) < 0)
		return -1;
	cleanup_free char *p = xasprintf("%s/lock", dir);
	int fd = open(p, O_RDWR | O_CREAT | O_CLOEXEC, LEASE_MODE);
	if (fd < 0)
		return pp_error_set(err, errno, "open %s", p);
	if (flock(fd, LOCK_EX) < 0) {
		int e = errno;
		close(fd);
		return pp_error_set(err, e, "lock %s", p);
	}
	return fd;
}

/* host-local's allocator: the next free address after the last reserved
 * one, round robin over the range (network and broadcast addresses and the
 * gateway excluded). */
static int lease_acquire(const char *id, uint32_t *ip, struct pp_error **err)
{
	struct subnet s;
	default_subnet(&s);
	cleanup_free char *dir = lease_dir();
	cleanup_close int lock = lease_lock(dir, err);
	if (lock < 0)
		return -1;
	uint32_t first = s.net + 1, last = (s.net | (0xffffffffu >> s.prefix)) - 1;
	uint32_t start = first;
	cleanup_free char *lastp = xasprintf("%s/%s", dir, LAST_RESERVED);
	cleanup_free char *prev = NULL;
	struct in_addr a;
	if (pp_read_file(lastp, 64, &prev, NULL, NULL) == 0 && inet_pton(AF_INET, prev, &a) == 1 &&
	    ntohl(a.s_addr) >= first && ntohl(a.s_addr) < last)
		start = ntohl(a.s_addr) + 1;
	cleanup_free char *content = xasprintf("%s\r\n%s", id, PP_NET_IFNAME);
	for (uint32_t n = 0, cand = start; n <= last - first; n++) {
		if (cand != s.gw) {
			cleanup_free char *str = ip_str(cand);
			cleanup_free char *p = xasprintf("%s/%s", dir, str);
			cleanup_close int fd =
			    open(p, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, LEASE_MODE);
			if (fd >= 0) {
				if (write(fd, content, strlen(content)) !=
				    (ssize_t)strlen(content)) {
					int e = errno;
					unlink(p);
					return pp_error_set(err, e, "write %s", p);
				}
				if (pp_write_file_atomic(lastp, str, strlen(str), LEASE_MODE, err) <
				    0) {
					unlink(p);
					return -1;
				}
				*ip = cand;
				return 0;
			}
			if (errno != EEXIST)
				return pp_error_set(err, errno, "create %s", p);
		}
		cand = cand == last ? first : cand + 1;
	}
	return pp_error_set(err, ENOSPC, "network %s: no free address in %s", PP_NET_DEFAULT_NAME,
			    PP_NET_DEFAULT_SUBNET);
}

/* Removes the lease of ip when it is id's (host-local's ReleaseByID). */
static int lease_release(const char *id, const char *ip, bool check_only, struct pp_error **err)
{
	cleanup_free char *dir = lease_dir();
	cleanup_close int lock = lease_lock(dir, err);
	if (lock < 0)
		return -1;
	cleanup_free char *p = xasprintf("%s/%s", dir, ip);
	cleanup_free char *text = NULL;
	if (pp_read_file(p, 4096, &text, NULL, NULL) < 0 || strncmp(text, id, strlen(id)) != 0 ||
	    (text[strlen(id)] != '\r' && text[strlen(id)]))
		return check_only ? pp_error_set(err, ENOENT, "no lease of %s for the pod", ip) : 0;
	if (!check_only && unlink(p) < 0 && errno != ENOENT)
		return pp_error_set(err, errno, "remove %s", p);
	return 0;
}

/* ---- the links ---- */

/* The bridge with the gateway address, up, and forwarding on (the bridge
 * plugin's isGateway). Made once; an existing one is taken as it is. */
static int ensure_bridge(int nl, const struct subnet *s, int *index, struct pp_error **err)
{
	*index = (int)if_nametoindex(PP_NET_DEFAULT_BRIDGE);
	if (*index > 0)
		return 0;
	union nlreq r;
	struct ifinfomsg *ifi = nl_init(&r, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, sizeof(*ifi));
	ifi->ifi_flags = IFF_UP;
	ifi->ifi_change = IFF_UP;
	nla_put_str(&r, IFLA_IFNAME, PP_NET_DEFAULT_BRIDGE);
	struct rtattr *li = nla_nest(&r, IFLA_LINKINFO);
	nla_put_str(&r, IFLA_INFO_KIND, "bridge");
	nla_nest_end(&r, li);
	int e = nl_talk(nl, &r);
	if (e < 0 && e != -EEXIST)
		return pp_error_set(err, -e, "create bridge %s", PP_NET_DEFAULT_BRIDGE);
	*index = (int)if_nametoindex(PP_NET_DEFAULT_BRIDGE);
	struct in_addr gw = {htonl(s->gw)};
	if (*index <= 0 || (e = addr_add(nl, *index, gw, s->prefix)) < 0)
		return pp_error_set(err, *index <= 0 ? errno : -e, "address of bridge %s",
				    PP_NET_DEFAULT_BRIDGE);
	cleanup_close int fwd = open(IP_FORWARD, O_WRONLY | O_CLOEXEC);
	if (fwd < 0 || write(fwd, "1", 1) != 1)
		return pp_error_set(err, errno, "enable %s", IP_FORWARD);
	return 0;
}

/* The veth pair in one request: host end on the bridge and up, the peer
 * created as eth0 directly in the pod's namespace. */
static int create_veth(int nl, const char *host, int bridge, int netns_fd)
{
	union nlreq r;
	struct ifinfomsg *ifi = nl_init(&r, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, sizeof(*ifi));
	ifi->ifi_flags = IFF_UP;
	ifi->ifi_change = IFF_UP;
	nla_put_str(&r, IFLA_IFNAME, host);
	nla_put_u32(&r, IFLA_MASTER, (uint32_t)bridge);
	struct rtattr *li = nla_nest(&r, IFLA_LINKINFO);
	nla_put_str(&r, IFLA_INFO_KIND, "veth");
	struct rtattr *data = nla_nest(&r, IFLA_INFO_DATA);
	struct rtattr *peer = nla_nest(&r, VETH_INFO_PEER);
	struct ifinfomsg pifi = {0};
	memcpy(r.buf + r.h.nlmsg_len, &pifi, sizeof(pifi));
	r.h.nlmsg_len += (uint32_t)NLMSG_ALIGN(sizeof(pifi));
	nla_put_str(&r, IFLA_IFNAME, PP_NET_IFNAME);
	nla_put_u32(&r, IFLA_NET_NS_FD, (uint32_t)netns_fd);
	nla_nest_end(&r, peer);
	nla_nest_end(&r, data);
	nla_nest_end(&r, li);
	return nl_talk(nl, &r);
}

/* hairpinMode: traffic from the pod to its own hostPort comes back to it. */
static int set_hairpin(int nl, int index)
{
	union nlreq r;
	struct ifinfomsg *ifi = nl_init(&r, RTM_SETLINK, 0, sizeof(*ifi));
	ifi->ifi_family = AF_BRIDGE;
	ifi->ifi_index = index;
	struct rtattr *pi = nla_nest(&r, IFLA_PROTINFO | NLA_F_NESTED);
	unsigned char on = 1;
	nla_put(&r, IFLA_BRPORT_MODE, &on, sizeof(on));
	nla_nest_end(&r, pi);
	return nl_talk(nl, &r);
}

static void delete_link(int nl, const char *name)
{
	int index = (int)if_nametoindex(name);
	if (index <= 0)
		return;
	union nlreq r;
	struct ifinfomsg *ifi = nl_init(&r, RTM_DELLINK, 0, sizeof(*ifi));
	ifi->ifi_index = index;
	nl_talk(nl, &r);
}

/* A netlink socket in the pod's namespace (a socket keeps the namespace it
 * was made in), and eth0's index there. */
static int pod_socket(int netns_fd, int *eth0, struct pp_error **err)
{
	cleanup_netns_visit struct pp_netns_visit visit = PP_NETNS_VISIT_INIT;
	if (pp_netns_enter(&visit, netns_fd, err) < 0)
		return -1;
	int nl = nl_socket();
	int saved = errno;
	*eth0 = (int)if_nametoindex(PP_NET_IFNAME);
	pp_netns_leave(&visit);
	if (nl < 0)
		return pp_error_set(err, saved, "netlink socket in the pod");
	if (*eth0 <= 0) {
		close(nl);
		return pp_error_set(err, ENODEV, "no %s in the pod", PP_NET_IFNAME);
	}
	return nl;
}

static int pod_side(int netns_fd, uint32_t ip, const struct subnet *s, struct pp_error **err)
{
	int eth0 = 0;
	cleanup_close int nl = pod_socket(netns_fd, &eth0, err);
	if (nl < 0)
		return -1;
	struct in_addr a = {htonl(ip)}, gw = {htonl(s->gw)};
	int e = link_set_up(nl, eth0);
	if (e == 0)
		e = addr_add(nl, eth0, a, s->prefix);
	if (e == 0)
		e = default_route(nl, eth0, gw);
	return e < 0 ? pp_error_set(err, -e, "configure %s in the pod", PP_NET_IFNAME) : 0;
}

static struct json_object *make_result(const char *host, uint32_t ip, const struct subnet *s,
				       const char *netns)
{
	struct json_object *r = json_object_new_object(), *ifs = json_object_new_array();
	const char *names[] = {PP_NET_DEFAULT_BRIDGE, host, PP_NET_IFNAME};
	for (int i = 0; i < 3; i++) {
		struct json_object *itf = json_object_new_object();
		json_object_object_add(itf, "name", json_object_new_string(names[i]));
		if (i == 2)
			json_object_object_add(itf, "sandbox", json_object_new_string(netns));
		json_object_array_add(ifs, itf);
	}
	cleanup_free char *addr = ip_str(ip);
	cleanup_free char *cidr = xasprintf("%s/%d", addr, s->prefix);
	cleanup_free char *gw = ip_str(s->gw);
	struct json_object *ipo = json_object_new_object(), *ips = json_object_new_array();
	json_object_object_add(ipo, "interface", json_object_new_int(2));
	json_object_object_add(ipo, "address", json_object_new_string(cidr));
	json_object_object_add(ipo, "gateway", json_object_new_string(gw));
	json_object_array_add(ips, ipo);
	struct json_object *route = json_object_new_object(), *routes = json_object_new_array();
	json_object_object_add(route, "dst", json_object_new_string("0.0.0.0/0"));
	json_object_array_add(routes, route);
	json_object_object_add(r, "cniVersion", json_object_new_string("1.0.0"));
	json_object_object_add(r, "interfaces", ifs);
	json_object_object_add(r, "ips", ips);
	json_object_object_add(r, "routes", routes);
	json_object_object_add(r, "dns", json_object_new_object());
	return r;
}

int pp_fastpath_add(const char *container_id, pid_t infra_pid, struct json_object **result,
		    struct pp_error **err)
{
	struct subnet s;
	default_subnet(&s);
	cleanup_free char *netns = xasprintf("/proc/%d/ns/net", (int)infra_pid);
	cleanup_close int nsfd = open(netns, O_RDONLY | O_CLOEXEC);
	if (nsfd < 0)
		return pp_error_set(err, errno, "open %s", netns);
	cleanup_close int nl = nl_socket();
	if (nl < 0)
		return pp_error_set(err, errno, "netlink socket");
	uint32_t rnd = 0;
	if (getrandom(&rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd))
		return pp_error_set(err, errno, "getrandom");
	char host[IFNAMSIZ];
	snprintf(host, sizeof(host), "veth%08x", rnd);
	uint32_t ip = 0;
	int bridge = 0, e;
	if (ensure_bridge(nl, &s, &bridge, err) < 0 || lease_acquire(container_id, &ip, err) < 0)
		return -1;
	cleanup_free char *ipstr = ip_str(ip);
	cleanup_free char *cidr = xasprintf("%s/%d", ipstr, s.prefix);
	if ((e = create_veth(nl, host, bridge, nsfd)) < 0) {
		pp_error_set(err, -e, "create veth %s", host);
		goto undo;
	}
	int index = (int)if_nametoindex(host);
	if (index <= 0 || (e = set_hairpin(nl, index)) < 0) {
		pp_error_set(err, index <= 0 ? errno : -e, "hairpin mode on %s", host);
		goto undo;
	}
	if (pod_side(nsfd, ip, &s, err) < 0)
		goto undo;
	if (pp_ipmasq_add(PP_NET_DEFAULT_NAME, container_id, cidr, err) < 0)
		goto undo;
	*result = make_result(host, ip, &s, netns);
	return 0;
undo:
	delete_link(nl, host);
	lease_release(container_id, ipstr, false, NULL);
	return -1;
}

int pp_fastpath_del(const char *container_id, struct pp_error **err)
{
	cleanup_free char *dir = lease_dir();
	cleanup_dir struct pp_dir d = PP_DIR_INIT;
	if (pp_dir_open(&d, dir, PP_DIR_MISSING_OK, err) < 0)
		return -1;
	int ret = 0, r;
	struct dirent *de;
	while ((r = pp_dir_next(&d, &de, ret < 0 ? NULL : err)) > 0) {
		struct in_addr a;
		if (inet_pton(AF_INET, de->d_name, &a) == 1 &&
		    lease_release(container_id, de->d_name, false, ret < 0 ? NULL : err) < 0)
			ret = -1;
	}
	return r < 0 ? -1 : ret;
}

int pp_fastpath_check(const char *container_id, const char *ip, pid_t infra_pid,
		      struct pp_error **err)
{
	if (lease_release(container_id, ip, true, err) < 0)
		return -1;
	cleanup_free char *netns = xasprintf("/proc/%d/ns/net", (int)infra_pid);
	cleanup_close int nsfd = open(netns, O_RDONLY | O_CLOEXEC);
	if (nsfd < 0)
		return pp_error_set(err, errno, "open %s", netns);
	int eth0 = 0;
	cleanup_close int nl = pod_socket(nsfd, &eth0, err);
	return nl < 0 ? -1 : 0;
}
