/* One file descriptor over a unix socket (SCM_RIGHTS), with a one-byte tag
 * that names what it is: a child handing its parent what only it can open
 * (a pty master of its devpts, its mount namespace). */
#ifndef PEAPOD_FDPASS_H
#define PEAPOD_FDPASS_H

/* Sends fd with tag; 0, or -1 with errno. */
int pp_fd_send(int sock, char tag, int fd);

/* The next fd on sock (received close-on-exec), its tag in *tag; flags for
 * recvmsg (MSG_DONTWAIT). -1 with errno: EAGAIN when nothing is queued,
 * EPROTO when what came carries no fd. */
int pp_fd_recv(int sock, char *tag, int flags);

#endif
