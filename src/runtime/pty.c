/* The terminal of a container process (tty: true, exec -t): a pty of the
 * container's own devpts, made by the child and its master passed to the
 * parent over a socket, as runc does it (--console-socket). */
#include <fcntl.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "runtime/runtime.h"
#include "util/cleanup.h"

int pp_child_open_pty(uid_t uid, unsigned short rows, unsigned short cols, int sock,
		      struct pp_error **err)
{
	cleanup_close int master = open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (master < 0)
		return pp_error_set(err, errno, "tty: open /dev/ptmx");
	int unlock = 0;
	if (ioctl(master, TIOCSPTLCK, &unlock) < 0)
		return pp_error_set(err, errno, "tty: unlockpt");
	/* TIOCGPTPEER opens the slave of this very master, with no path lookup. */
	cleanup_close int slave = ioctl(master, TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (slave < 0)
		return pp_error_set(err, errno, "tty: open the pty slave");
	if (ioctl(slave, TIOCSCTTY, 0) < 0)
		return pp_error_set(err, errno, "tty: TIOCSCTTY");
	if (rows != 0 || cols != 0) {
		struct winsize ws = {.ws_row = rows, .ws_col = cols};
		if (ioctl(slave, TIOCSWINSZ, &ws) < 0)
			return pp_error_set(err, errno, "tty: set the window size");
	}
	if (fchown(slave, uid, (gid_t)-1) < 0)
		return pp_error_set(err, errno, "tty: chown the pty slave");
	char byte = 0;
	struct iovec iov = {.iov_base = &byte, .iov_len = 1};
	union {
		struct cmsghdr hdr;
		char buf[CMSG_SPACE(sizeof(int))];
	} ctl;
	memset(&ctl, 0, sizeof(ctl));
	struct msghdr msg = {.msg_iov = &iov,
			     .msg_iovlen = 1,
			     .msg_control = ctl.buf,
			     .msg_controllen = sizeof(ctl)};
	struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(c), &master, sizeof(int));
	if (sendmsg(sock, &msg, MSG_NOSIGNAL) < 0)
		return pp_error_set(err, errno, "tty: send the pty master");
	return steal_fd(&slave);
}

int pp_receive_pty_master(int sock, struct pp_error **err)
{
	char byte;
	struct iovec iov = {.iov_base = &byte, .iov_len = 1};
	union {
		struct cmsghdr hdr;
		char buf[CMSG_SPACE(sizeof(int))];
	} ctl;
	struct msghdr msg = {.msg_iov = &iov,
			     .msg_iovlen = 1,
			     .msg_control = ctl.buf,
			     .msg_controllen = sizeof(ctl)};
	ssize_t n = recvmsg(sock, &msg, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
	if (n < 0)
		return pp_error_set(err, errno, "tty: receive the pty master");
	struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
	if (n != 1 || c == NULL || c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS ||
	    c->cmsg_len != CMSG_LEN(sizeof(int)))
		return pp_error_set(err, EPROTO, "tty: no pty master from the child");
	int fd;
	memcpy(&fd, CMSG_DATA(c), sizeof(int));
	return fd;
}
