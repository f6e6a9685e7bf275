#!/usr/bin/env python3
"""A proxy on 127.0.0.1 in front of a registry (plain HTTP) that forwards
every request, except the download of one blob: its headers and half of its
bytes come, then nothing (a pull hangs in the middle of that layer).

  slow-proxy.py UPSTREAM_HOST:PORT DIGEST

Prints its port once listening; runs until killed."""
import http.client
import http.server
import sys
import threading
import time

UPSTREAM, DIGEST = sys.argv[1], sys.argv[2]


class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *a):
        pass

    def forward(self, method):
        up = http.client.HTTPConnection(UPSTREAM, timeout=30)
        headers = {k: v for k, v in self.headers.items() if k.lower() != "host"}
        up.request(method, self.path, headers=headers)
        r = up.getresponse()
        body = r.read()
        hang = method == "GET" and self.path.endswith("/blobs/" + DIGEST) and r.status == 200
        self.send_response(r.status)
        for k, v in r.getheaders():
            if k.lower() not in ("transfer-encoding", "connection", "content-length"):
                self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if method == "HEAD":
            return
        if hang:
            self.wfile.write(body[:len(body) // 2])
            self.wfile.flush()
            while True:
                time.sleep(3600)
        self.wfile.write(body)

    def do_GET(self):
        self.forward("GET")

    def do_HEAD(self):
        self.forward("HEAD")


srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
srv.daemon_threads = True
print(srv.server_address[1], flush=True)
srv.serve_forever()
