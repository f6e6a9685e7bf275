/* src/cri: owns the Kubernetes CRI server (runtime.v1 over gRPC on a unix
 * socket, issue #19): the socket and its connections (cri_server.c), gRPC
 * over HTTP/2 (grpc.h, grpc_conn.c, libnghttp2), the messages (api.proto,
 * compiled by protoc-c at build time) and the RPCs (cri_methods.c: the
 * table; cri_runtime.c: RuntimeService; cri_image.c: ImageService on the
 * image store and src/pull).
 * Above src/image, src/pull and src/net; nothing below includes it.
 * Single-threaded and non-blocking (a PullImage runs in a forked child,
 * cri_job_start, whose pipe is in the server's epoll set); another event
 * loop drives it: it watches
 * pp_cri_server_fd() for EPOLLIN and calls pp_cri_server_on_ready(). Never
 * prints or exits. */
#ifndef PEAPOD_CRI_H
#define PEAPOD_CRI_H

#include <stdint.h>

#include "util/error.h"

/* The socket when none is given: <PEAPOD_RUN>/cri.sock, so
 * /run/peapod/cri.sock by default. */
#define PP_CRI_SOCKET_NAME "cri.sock"
#define PP_CRI_SOCKET_MODE 0660
/* Connections served at once; one more is accepted and closed at once. */
#define PP_CRI_MAX_CONNS 256

struct pp_cri_server;

/* The default socket path (a new string). */
char *pp_cri_default_socket(void);

/* Makes the socket at path (NULL: the default; its directory made if
 * missing), mode PP_CRI_SOCKET_MODE, and opens the image store. Refused
 * (EADDRINUSE, the error names path) when another server holds it: a
 * peapod server holds path".lock" (a POSIX record lock, so a child forked
 * from the server does not inherit it), and a socket some other process
 * answers on is not taken over; a stale socket is replaced. */
int pp_cri_server_open(const char *path, struct pp_cri_server **out, struct pp_error **err);

/* The one descriptor the caller's loop watches for EPOLLIN (an epoll
 * descriptor of the server's own, over the socket and its connections). */
int pp_cri_server_fd(const struct pp_cri_server *srv);

/* Handles what is ready on fd (pp_cri_server_fd's) without blocking:
 * accepts, reads, answers, writes, closes. A client's fault never fails
 * it; -1 only when the server itself cannot go on (its epoll fails). */
int pp_cri_server_on_ready(struct pp_cri_server *srv, int fd, uint32_t events,
			   struct pp_error **err);

/* Closes every connection and the socket, removes the socket file and
 * releases the lock. NULL is fine. */
void pp_cri_server_close(struct pp_cri_server *srv);

/* In a child forked from the server's process that does not exec: closes
 * the server's descriptors without touching the socket file, so that the
 * child holds no connection or listening socket open. */
void pp_cri_server_forget(struct pp_cri_server *srv);

#endif
