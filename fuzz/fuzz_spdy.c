/* libFuzzer entry for what a client of the CRI's streaming server sends
 * (anyone who can reach 127.0.0.1): the first byte picks the parser.
 *   even: the rest is an HTTP/1.1 request head (src/cri/stream_http.c),
 *         parsed, then checked for the upgrade and a protocol;
 *   odd:  the rest is the byte stream after the upgrade: SPDY/3.1 frames
 *         (src/cri/spdy.c) parsed one after the other in one session (its
 *         header decompression carrying from frame to frame), each
 *         SYN_STREAM's headers compressed back into a SYN_REPLY.
 * Nothing may crash, hang or leak. */
#include <stddef.h>
#include <stdint.h>

#include "cri/spdy.h"
#include "cri/stream_http.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const ours[] = {"v4.channel.k8s.io", "portforward.k8s.io", NULL};

static void http(const uint8_t *data, size_t size)
{
	struct pp_http_request req;
	struct pp_error *err = NULL;
	if (pp_http_request_parse((const char *)data, size, &req, &err) > 0) {
		(void)pp_http_wants_spdy(&req);
		(void)pp_http_negotiate(&req, ours);
	}
	pp_http_request_free(&req);
	pp_error_free(&err);
}

static void spdy(const uint8_t *data, size_t size)
{
	struct pp_spdy *s = pp_spdy_new();
	struct pp_spdy_buf out = {0};
	if (s == NULL)
		return;
	size_t off = 0;
	for (;;) {
		struct pp_spdy_frame f;
		size_t used = 0;
		struct pp_error *err = NULL;
		int r = pp_spdy_parse(s, data + off, size - off, &f, &used, &err);
		pp_error_free(&err);
		if (r <= 0)
			break;
		if (f.type == PP_SPDY_SYN_STREAM) {
			(void)pp_spdy_header_get(&f, "streamtype");
			pp_spdy_put_syn_reply(s, &out, f.stream_id, f.headers, f.n_headers, false);
		}
		out.len = 0;
		off += used;
	}
	pp_spdy_buf_free(&out);
	pp_spdy_free(s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	if (data[0] % 2 == 0)
		http(data + 1, size - 1);
	else
		spdy(data + 1, size - 1);
	return 0;
}
