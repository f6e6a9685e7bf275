/* SPDY/3.1 framing (the protocol kubelet's and crictl's streams speak after
 * an HTTP/1.1 upgrade, k8s.io/apimachinery httpstream/spdy over
 * moby/spdystream), written for peapod from the SPDY/3.1 draft: frames in
 * and out of byte buffers, no socket, so that the stream server, the unit
 * tests and the fuzz target drive it alike. Header blocks are compressed
 * with zlib and the protocol's dictionary, one compression context per
 * direction for the connection's whole life. Flow control is not enforced
 * (spdystream neither sends nor heeds WINDOW_UPDATE). */
#ifndef PEAPOD_CRI_SPDY_H
#define PEAPOD_CRI_SPDY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/error.h"

#define PP_SPDY_VERSION 3
#define PP_SPDY_HEADER_LEN 8
/* A frame's payload is 24 bits long; we refuse more than this (spdystream
 * sends data frames of 32 KiB at most, header blocks are small). */
#define PP_SPDY_MAX_FRAME (1u << 20)
/* An uncompressed header block may be this large, and hold this many
 * pairs. */
#define PP_SPDY_MAX_HEADER_BLOCK (256u << 10)
#define PP_SPDY_MAX_HEADERS 64

enum pp_spdy_type {
	PP_SPDY_DATA = 0, /* not a control frame */
	PP_SPDY_SYN_STREAM = 1,
	PP_SPDY_SYN_REPLY = 2,
	PP_SPDY_RST_STREAM = 3,
	PP_SPDY_SETTINGS = 4,
	PP_SPDY_PING = 6,
	PP_SPDY_GOAWAY = 7,
	PP_SPDY_HEADERS = 8,
	PP_SPDY_WINDOW_UPDATE = 9,
};

#define PP_SPDY_FLAG_FIN 0x01
#define PP_SPDY_FLAG_UNIDIRECTIONAL 0x02

/* RST_STREAM status codes */
#define PP_SPDY_PROTOCOL_ERROR 1
#define PP_SPDY_INVALID_STREAM 2
#define PP_SPDY_REFUSED_STREAM 3
#define PP_SPDY_CANCEL 5

struct pp_spdy_header {
	char *name; /* lowercase */
	char *value;
};

/* One frame read. Pointers are valid until the next parse on the session. */
struct pp_spdy_frame {
	enum pp_spdy_type type; /* PP_SPDY_DATA or a control type (others: unknown) */
	uint8_t flags;
	uint32_t stream_id;  /* DATA, SYN_*, RST_STREAM, HEADERS, WINDOW_UPDATE */
	uint32_t value;	     /* RST_STREAM/GOAWAY status, PING id, window delta */
	const uint8_t *data; /* DATA's payload */
	size_t len;
	struct pp_spdy_header *headers; /* SYN_STREAM, SYN_REPLY, HEADERS */
	size_t n_headers;
};

/* A growable byte buffer: what is to go out. */
struct pp_spdy_buf {
	uint8_t *data;
	size_t len, cap;
};
void pp_spdy_buf_append(struct pp_spdy_buf *b, const void *data, size_t len);
/* Drops the first n bytes. */
void pp_spdy_buf_consume(struct pp_spdy_buf *b, size_t n);
void pp_spdy_buf_free(struct pp_spdy_buf *b);

struct pp_spdy;

/* A session's compression contexts (one to read, one to write). NULL when
 * zlib cannot allocate. */
struct pp_spdy *pp_spdy_new(void);
void pp_spdy_free(struct pp_spdy *s);

/* Parses one frame from the front of in[0..len): 1 and *used (its length)
 * when a whole frame is there, 0 when more bytes are needed, -1 and err on
 * a malformed frame (a bad version, a length over PP_SPDY_MAX_FRAME, a
 * header block that does not inflate or parse), after which the session is
 * unusable: the connection is to be closed. */
int pp_spdy_parse(struct pp_spdy *s, const uint8_t *in, size_t len, struct pp_spdy_frame *f,
		  size_t *used, struct pp_error **err);

/* The frames a server sends, appended to out. */
void pp_spdy_put_syn_reply(struct pp_spdy *s, struct pp_spdy_buf *out, uint32_t stream_id,
			   const struct pp_spdy_header *h, size_t n, bool fin);
/* A client's (the tests', the fuzz corpus's). */
void pp_spdy_put_syn_stream(struct pp_spdy *s, struct pp_spdy_buf *out, uint32_t stream_id,
			    const struct pp_spdy_header *h, size_t n, uint8_t flags);
void pp_spdy_put_data(struct pp_spdy_buf *out, uint32_t stream_id, const void *data, size_t len,
		      bool fin);
void pp_spdy_put_rst(struct pp_spdy_buf *out, uint32_t stream_id, uint32_t status);
void pp_spdy_put_ping(struct pp_spdy_buf *out, uint32_t id);
void pp_spdy_put_goaway(struct pp_spdy_buf *out, uint32_t last_stream_id, uint32_t status);

/* The value of header name (case-insensitive) in a frame, or NULL. */
const char *pp_spdy_header_get(const struct pp_spdy_frame *f, const char *name);

#endif
