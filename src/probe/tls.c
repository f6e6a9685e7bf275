/* OpenSSL through dlopen (see tls.h): the table keeps <openssl/ssl.h>'s
 * types, so calls are checked as direct calls would be. */
#include <arpa/inet.h>
#include <dlfcn.h>
#include <errno.h>
#include <stdbool.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <stdio.h>
#include <string.h>

#include "probe/tls.h"
#include "util/cleanup.h"

#define LIBSSL_SONAME "libssl.so.3"

#define PP_SSL_FUNCS(X)                                                                            \
	X(TLS_client_method)                                                                       \
	X(SSL_CTX_new)                                                                             \
	X(SSL_CTX_set_verify)                                                                      \
	X(SSL_CTX_set_options)                                                                     \
	X(SSL_new)                                                                                 \
	X(SSL_free)                                                                                \
	X(SSL_set_fd)                                                                              \
	X(SSL_ctrl)                                                                                \
	X(SSL_connect)                                                                             \
	X(SSL_read)                                                                                \
	X(SSL_write)                                                                               \
	X(SSL_get_error)                                                                           \
	X(ERR_get_error)                                                                           \
	X(ERR_peek_error)                                                                          \
	X(ERR_reason_error_string)                                                                 \
	X(ERR_clear_error)

static struct {
#define PP_SSL_DECL(f) __typeof__(f) *f;
	PP_SSL_FUNCS(PP_SSL_DECL)
#undef PP_SSL_DECL
} api;
static SSL_CTX *ctx; /* one per process, never freed: kept with the library */

struct pp_tls {
	SSL *ssl;
	char error[256];
};

static int load(struct pp_error **err)
{
	if (ctx != NULL)
		return 0;
	/* libcrypto's symbols come with libssl's: dlsym searches its dependencies */
	void *h = dlopen(LIBSSL_SONAME, RTLD_NOW | RTLD_LOCAL);
	if (h == NULL)
		return pp_error_set(err, 0, "load %s (Debian package libssl3): %s", LIBSSL_SONAME,
				    dlerror());
#define PP_SSL_LOAD(f)                                                                             \
	if ((*(void **)&api.f = dlsym(h, #f)) == NULL) {                                           \
		dlclose(h);                                                                        \
		return pp_error_set(err, 0, "%s lacks %s", LIBSSL_SONAME, #f);                     \
	}
	PP_SSL_FUNCS(PP_SSL_LOAD)
#undef PP_SSL_LOAD
	ctx = api.SSL_CTX_new(api.TLS_client_method());
	if (ctx == NULL) {
		dlclose(h);
		return pp_error_set(err, 0, "%s: SSL_CTX_new failed", LIBSSL_SONAME);
	}
	/* kubelet: InsecureSkipVerify, the certificate is not checked */
	api.SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
	/* a server that closes without close_notify ends the response, as
	 * for Go's client */
	api.SSL_CTX_set_options(ctx, SSL_OP_IGNORE_UNEXPECTED_EOF);
	return 0;
}

static bool is_address(const char *s)
{
	unsigned char buf[sizeof(struct in6_addr)];
	return inet_pton(AF_INET, s, buf) == 1 || inet_pton(AF_INET6, s, buf) == 1;
}

int pp_tls_new(int fd, const char *server_name, struct pp_tls **out, struct pp_error **err)
{
	if (load(err) < 0)
		return -1;
	struct pp_tls *t = xmalloc(sizeof(*t));
	t->ssl = api.SSL_new(ctx);
	if (t->ssl == NULL || api.SSL_set_fd(t->ssl, fd) != 1) {
		pp_tls_free(t);
		return pp_error_set(err, 0, "TLS: cannot make a connection");
	}
	if (server_name && server_name[0] && !is_address(server_name))
		api.SSL_ctrl(t->ssl, SSL_CTRL_SET_TLSEXT_HOSTNAME, TLSEXT_NAMETYPE_host_name,
			     (void *)server_name);
	*out = t;
	return 0;
}

void pp_tls_free(struct pp_tls *t)
{
	if (t == NULL)
		return;
	if (t->ssl)
		api.SSL_free(t->ssl);
	free(t);
}

/* What a call's return r means: PP_TLS_WANT_*, or PP_TLS_ERROR with why. */
static int outcome(struct pp_tls *t, int r)
{
	int e = errno;
	switch (api.SSL_get_error(t->ssl, r)) {
	case SSL_ERROR_WANT_READ:
		return PP_TLS_WANT_READ;
	case SSL_ERROR_WANT_WRITE:
		return PP_TLS_WANT_WRITE;
	case SSL_ERROR_SYSCALL:
		if (api.ERR_peek_error() == 0) {
			snprintf(t->error, sizeof(t->error), "%s",
				 r == 0 || e == 0 ? "EOF" : strerror(e));
			break;
		}
		/* OpenSSL says what */
		__attribute__((fallthrough));
	default: {
		const char *why = api.ERR_reason_error_string(api.ERR_get_error());
		snprintf(t->error, sizeof(t->error), "tls: %s", why ? why : "handshake failure");
	}
	}
	api.ERR_clear_error();
	return PP_TLS_ERROR;
}

int pp_tls_handshake(struct pp_tls *t)
{
	api.ERR_clear_error();
	errno = 0;
	int r = api.SSL_connect(t->ssl);
	return r == 1 ? 0 : outcome(t, r);
}

ssize_t pp_tls_write(struct pp_tls *t, const void *buf, size_t len)
{
	api.ERR_clear_error();
	errno = 0;
	int r = api.SSL_write(t->ssl, buf, len > INT32_MAX ? INT32_MAX : (int)len);
	return r > 0 ? r : outcome(t, r);
}

ssize_t pp_tls_read(struct pp_tls *t, void *buf, size_t len)
{
	api.ERR_clear_error();
	errno = 0;
	int r = api.SSL_read(t->ssl, buf, len > INT32_MAX ? INT32_MAX : (int)len);
	if (r > 0)
		return r;
	if (api.SSL_get_error(t->ssl, r) == SSL_ERROR_ZERO_RETURN)
		return 0; /* the server closed the TLS session */
	return outcome(t, r);
}

const char *pp_tls_error(const struct pp_tls *t)
{
	return t->error;
}
