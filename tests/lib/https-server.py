#!/usr/bin/env python3
"""An HTTPS server for the HTTPS probe and hook tests (run by a test inside
a pod's network namespace, `nsenter --net=...`): serves the files of DIR
and appends "METHOD PATH" of each request to LOG.
  usage: https-server.py DIR PORT CERT KEY LOG"""
import functools
import http.server
import ssl
import sys


class Handler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, fmt, *args):
        pass

    def do_GET(self):
        with open(sys.argv[5], "a") as log:
            log.write(f"{self.command} {self.path}\n")
        super().do_GET()


def main():
    if len(sys.argv) != 6:
        sys.exit(__doc__)
    directory, port, cert, key = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
    server = http.server.HTTPServer(("", port), functools.partial(Handler, directory=directory))
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    server.socket = ctx.wrap_socket(server.socket, server_side=True)
    print("listening", flush=True)
    server.serve_forever()


main()
