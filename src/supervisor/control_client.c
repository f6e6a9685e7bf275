/* The control socket's client side (the CLI) and its listening socket. */
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "state/podstate.h"
#include "supervisor/control.h"
#include "util/cleanup.h"

static int sock_addr(const char *path, struct sockaddr_un *addr, struct pp_error **err)
{
	*addr = (struct sockaddr_un){.sun_family = AF_UNIX};
	if (strlen(path) >= sizeof(addr->sun_path))
		return pp_error_set(err, ENAMETOOLONG, "socket path %s", path);
	strcpy(addr->sun_path, path);
	return 0;
}

int pp_ctl_connect(const char *uid, struct pp_error **err)
{
	cleanup_free char *path = pp_state_file(uid, PP_STATE_SOCKET);
	struct sockaddr_un addr;
	if (sock_addr(path, &addr, err) < 0)
		return -1;
	cleanup_close int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return pp_error_set(err, errno, "socket");
	if (connect(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0)
		return pp_error_set(err, errno, "the supervisor of pod %s does not answer", uid);
	return steal_fd(&fd);
}

int pp_ctl_call(int fd, const char *req, char **reply, int *fds, size_t *n_fds,
		struct pp_error **err)
{
	if (send(fd, req, strlen(req), MSG_NOSIGNAL) < 0)
		return pp_error_set(err, errno, "send to the supervisor");
	cleanup_free char *buf = xmalloc_buffer(PP_CTL_MAX_MSG + 1);
	union {
		char buf[CMSG_SPACE(sizeof(int) * PP_CTL_MAX_FDS)];
		struct cmsghdr align;
	} u;
	struct iovec iov = {.iov_base = buf, .iov_len = PP_CTL_MAX_MSG};
	struct msghdr msg = {.msg_iov = &iov,
			     .msg_iovlen = 1,
			     .msg_control = u.buf,
			     .msg_controllen = sizeof(u.buf)};
	ssize_t n;
	do
		n = recvmsg(fd, &msg, MSG_CMSG_CLOEXEC);
	while (n < 0 && errno == EINTR);
	if (n <= 0)
		return pp_error_set(err, n < 0 ? errno : ECONNRESET,
				    "no reply from the supervisor");
	buf[n] = '\0';
	if (n_fds != NULL)
		*n_fds = 0;
	for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c != NULL; c = CMSG_NXTHDR(&msg, c)) {
		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
			continue;
		size_t k = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		int got[PP_CTL_MAX_FDS];
		memcpy(got, CMSG_DATA(c), k * sizeof(int));
		for (size_t j = 0; j < k; j++) {
			if (fds != NULL && n_fds != NULL && *n_fds < PP_CTL_MAX_FDS)
				fds[(*n_fds)++] = got[j];
			else
				close(got[j]);
		}
	}
	if (strncmp(buf, "error ", 6) == 0) {
		for (size_t j = 0; n_fds != NULL && j < *n_fds; j++)
			close(fds[j]);
		if (n_fds != NULL)
			*n_fds = 0;
		return pp_error_set(err, 0, "%s", buf + 6);
	}
	if (reply != NULL)
		*reply = steal_ptr(&buf);
	return 0;
}

int pp_ctl_wait_closed(int fd, int timeout_ms, struct pp_error **err)
{
	char c;
	for (;;) {
		struct pollfd p = {.fd = fd, .events = POLLIN};
		int r = poll(&p, 1, timeout_ms);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return pp_error_set(err, errno, "poll");
		if (r == 0)
			return pp_error_set(err, ETIMEDOUT,
					    "timed out waiting for the pod to stop");
		ssize_t n = recv(fd, &c, 1, 0);
		if (n <= 0)
			return 0;
	}
}

int pp_ctl_listen(const char *path, struct pp_error **err)
{
	struct sockaddr_un addr;
	if (sock_addr(path, &addr, err) < 0)
		return -1;
	cleanup_close int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return pp_error_set(err, errno, "socket");
	unlink(path);
	if (bind(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0 || listen(fd, 64) < 0)
		return pp_error_set(err, errno, "listen on %s", path);
	return steal_fd(&fd);
}
