#!/usr/bin/env python3
"""Registries for test_registry.c, on 127.0.0.1 only.

  registry-fixture.py fake LOG    a fake registry whose repositories misbehave
                                  on purpose (see Fake.route); every request
                                  is logged to LOG as a JSON line
  registry-fixture.py real DIR    Debian's docker-registry with its storage
                                  in DIR, filled with skopeo from an OCI
                                  layout written here
  registry-fixture.py secure DIR  the same behind TLS (a certificate for
                                  127.0.0.1 made here, its path printed) and
                                  htpasswd's Basic authentication (user, secret)
  registry-fixture.py token DIR   the same in plain HTTP with token
                                  authentication: a token server here (see
                                  TokenServer) signs RS256 JWTs; it logs each
                                  token request as a JSON line to DIR/../tokens.log
  registry-fixture.py layout LOG LAYOUT
                                  serves the images of the OCI layout LAYOUT
                                  (tags: its index's ref.name annotations) as
                                  every repository; the repository's first
                                  path component picks a fault (see
                                  layout_handler); every request is logged to LOG

Each prints one JSON line (ports, digests) when ready and runs until its
stdin closes (the test ended, or died), then stops what it started."""
import base64
import gzip
import hashlib
import http.server
import io
import json
import os
import shutil
import socket
import subprocess
import sys
import tarfile
import threading
import time

HOST = "127.0.0.1"
BLOB = b"peapod registry test blob\n" * 1024
TOKEN = "tok-1"
STALL_SECONDS = 30


def sha256(data):
    return "sha256:" + hashlib.sha256(data).hexdigest()


MANIFEST = json.dumps({
    "schemaVersion": 2,
    "mediaType": "application/vnd.oci.image.manifest.v1+json",
    "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
               "digest": sha256(b"{}"), "size": 2},
    "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip",
                "digest": sha256(BLOB), "size": len(BLOB)}],
}).encode()


class Fake:
    def __init__(self, log):
        self.log = open(log, "a", buffering=1)
        self.lock = threading.Lock()
        self.hits = {}
        self.token_port = None
        self.storage_port = None

    def record(self, port, h):
        with self.lock:
            self.log.write(json.dumps({
                "port": port, "method": h.command, "path": h.path,
                "authorization": h.headers.get("Authorization"),
                "range": h.headers.get("Range")}) + "\n")

    def hit(self, key):
        with self.lock:
            self.hits[key] = self.hits.get(key, 0) + 1
            return self.hits[key]


def handler(fake, role):
    class H(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *a):
            pass

        def send(self, status, body=b"", headers=(), length=None):
            self.send_response(status)
            for k, v in headers:
                self.send_header(k, v)
            self.send_header("Content-Length", str(len(body) if length is None else length))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)

        def errors(self, status, code, msg, headers=()):
            body = json.dumps({"errors": [{"code": code, "message": msg}]}).encode()
            self.send(status, body, [("Content-Type", "application/json")] + list(headers))

        def do_HEAD(self):
            self.do_GET()

        def do_GET(self):
            fake.record(self.server.server_port, self)
            if role == "storage":  # where the redirect goes: no auth asked
                return self.send(200, BLOB)
            if self.path.startswith("/token"):
                # repository short/...'s tokens last a second; the others' the
                # token spec's example
                life = 1 if "short%2F" in self.path else 300
                return self.send(200, json.dumps({"token": TOKEN, "expires_in": life}).encode(),
                                 [("Content-Type", "application/json")])
            parts = self.path.split("/")  # "", "v2", ns, name, kind, ref
            if len(parts) != 6 or parts[1] != "v2":
                return self.errors(404, "NAME_UNKNOWN", "no such thing")
            repo, kind, ref = parts[2] + "/" + parts[3], parts[4], parts[5]
            ns = parts[2]
            if not self.authorized(ns, repo):
                return
            if kind == "manifests":
                return self.manifest(ns, ref)
            if ref != sha256(BLOB):
                return self.errors(404, "BLOB_UNKNOWN", "blob unknown to registry")
            return self.blob(ns, repo)

        def authorized(self, ns, repo):
            auth = self.headers.get("Authorization")
            realm = "http://%s:%d/token" % (HOST, fake.token_port)
            bearer = 'Bearer realm="%s",service="fake",scope="repository:%s:pull"' % (realm, repo)
            if ns in ("auth", "redirect", "short") and auth != "Bearer " + TOKEN:
                self.errors(401, "UNAUTHORIZED", "authentication required",
                            [("WWW-Authenticate", bearer)])
                return False
            if ns == "refuse":
                self.errors(401, "UNAUTHORIZED", "access to the repository denied",
                            [("WWW-Authenticate", bearer)])
                return False
            if ns == "basic" and auth != "Basic dXNlcjpzZWNyZXQ=":  # user:secret
                self.errors(401, "UNAUTHORIZED", "authentication required",
                            [("WWW-Authenticate", 'Basic realm="fake"')])
                return False
            return True

        def manifest(self, ns, ref):
            digest = sha256(MANIFEST)
            if ns == "baddigest":
                digest = sha256(b"something else")
            if ns == "endless":
                self.send_response(200)
                self.send_header("Content-Type", "application/vnd.oci.image.manifest.v1+json")
                self.send_header("Content-Length", str(64 << 20))
                self.end_headers()
                try:
                    for _ in range(1024):
                        self.wfile.write(b" " * 65536)
                except OSError:
                    pass
                self.close_connection = True
                return
            if ns == "flaky503" and fake.hit("m503") == 1:
                return self.errors(503, "UNAVAILABLE", "try later")
            self.send(200, MANIFEST, [("Content-Type", "application/vnd.oci.image.manifest.v1+json"),
                                      ("Docker-Content-Digest", digest)])

        def blob(self, ns, repo):
            n = fake.hit(repo)
            rng = self.headers.get("Range")
            if ns == "flaky429" and n == 1:
                return self.errors(429, "TOOMANYREQUESTS", "slow down", [("Retry-After", "1")])
            if ns == "flaky503" and n == 1:
                return self.errors(503, "UNAVAILABLE", "try later")
            if ns == "down":
                return self.errors(500, "UNKNOWN", "storage is down")
            if ns == "wrong":
                return self.send(200, BLOB.upper())
            if ns == "redirect":
                return self.send(307, b"", [("Location", "http://%s:%d/store/blob" %
                                             (HOST, fake.storage_port))])
            if ns in ("drop", "norange", "stall") and rng is None:
                # the headers promise the whole blob; half of it comes
                self.send_response(200)
                self.send_header("Content-Length", str(len(BLOB)))
                self.end_headers()
                self.wfile.write(BLOB[:len(BLOB) // 2])
                self.wfile.flush()
                if ns == "stall":
                    time.sleep(STALL_SECONDS)
                self.close_connection = True
                self.connection.shutdown(socket.SHUT_RDWR)
                return
            if ns == "drop" and rng:
                first = int(rng.split("=")[1].rstrip("-"))
                return self.send(206, BLOB[first:], [
                    ("Content-Range", "bytes %d-%d/%d" % (first, len(BLOB) - 1, len(BLOB)))])
            self.send(200, BLOB)
    return H


class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        pass  # the client hung up (a stall's timeout, a cut manifest): expected


def serve(fake, role):
    srv = Server((HOST, 0), handler(fake, role))
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    return srv


def run_fake(log):
    fake = Fake(log)
    main = serve(fake, "registry")
    fake.token_port = main.server_port  # the token realm: the registry's own /token
    fake.storage_port = serve(fake, "storage").server_port
    print(json.dumps({"port": main.server_port, "storage_port": fake.storage_port,
                      "blob": sha256(BLOB), "size": len(BLOB),
                      "manifest": sha256(MANIFEST)}), flush=True)
    sys.stdin.read()


def write_blob(layout, data):
    d = sha256(data)
    with open(os.path.join(layout, "blobs", "sha256", d.split(":")[1]), "wb") as f:
        f.write(data)
    return d


def oci_layout(layout):
    """A layer of a few files, a config and a manifest, as skopeo reads them."""
    os.makedirs(os.path.join(layout, "blobs", "sha256"))
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for name, text in (("etc/hello", b"hello\n"), ("etc/motd", b"peapod\n"),
                           ("bin/tool", b"#!/bin/sh\necho tool\n")):
            info = tarfile.TarInfo(name)
            info.size = len(text)
            info.mtime = 0
            tar.addfile(info, io.BytesIO(text))
    layer = gzip.compress(raw.getvalue(), mtime=0)
    config = json.dumps({"architecture": "amd64", "os": "linux",
                         "config": {"Cmd": ["/bin/tool"]},
                         "rootfs": {"type": "layers",
                                    "diff_ids": [sha256(raw.getvalue())]}}).encode()
    manifest = json.dumps({
        "schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                   "digest": write_blob(layout, config), "size": len(config)},
        "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip",
                    "digest": write_blob(layout, layer), "size": len(layer)}]}).encode()
    index = {"schemaVersion": 2, "manifests": [{
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "digest": write_blob(layout, manifest), "size": len(manifest),
        "annotations": {"org.opencontainers.image.ref.name": "v1"}}]}
    with open(os.path.join(layout, "index.json"), "w") as f:
        json.dump(index, f)
    with open(os.path.join(layout, "oci-layout"), "w") as f:
        json.dump({"imageLayoutVersion": "1.0.0"}, f)
    return {"layer": sha256(layer), "layer_size": len(layer),
            "config": sha256(config), "config_size": len(config)}


def free_port():
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def htpasswd_line(user, password):
    """user:bcrypt, as distribution's htpasswd wants (libxcrypt's $2b$); the
    lowest cost, as every request checks it."""
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        import crypt
    return "%s:%s\n" % (user, crypt.crypt(password, crypt.mksalt(crypt.METHOD_BLOWFISH, rounds=16)))


def secure_config(workdir):
    """TLS with a fresh certificate for 127.0.0.1, and htpasswd auth."""
    cert, key = os.path.join(workdir, "cert.pem"), os.path.join(workdir, "key.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                    "ec_paramgen_curve:prime256v1", "-nodes", "-days", "1", "-subj",
                    "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
                    "-keyout", key, "-out", cert], check=True, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL)
    users = os.path.join(workdir, "htpasswd")
    with open(users, "w") as f:
        f.write(htpasswd_line("user", "secret"))
    return cert, ("  tls:\n    certificate: %s\n    key: %s\n"
                  "auth:\n  htpasswd:\n    realm: peapod-test\n    path: %s\n" % (cert, key, users))


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def libtrust_key_id(spki_der):
    """The key ID distribution looks a token's "kid" up by (libtrust's:
    base32 of the first 240 bits of the SHA-256 of the public key's DER, in
    groups of 4)."""
    b32 = base64.b32encode(hashlib.sha256(spki_der).digest()[:30]).decode().rstrip("=")
    return ":".join(b32[i:i + 4] for i in range(0, len(b32), 4))


class TokenServer:
    """A token server as distribution's token auth expects (docs: "Token
    Authentication Specification"): GET /token?service=S&scope=S... With
    Basic user:secret it grants what the scopes ask; anonymous, pull on
    repositories under public/ only; a wrong password is a 401. Each request
    is logged: {"account", "scopes", "status"}."""
    SERVICE = "peapod-registry"
    ISSUER = "peapod-token-issuer"
    USER, PASSWORD = "user", "secret"

    def __init__(self, workdir, log):
        self.key = os.path.join(workdir, "token-key.pem")
        self.cert = os.path.join(workdir, "token-cert.pem")
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                        "-subj", "/CN=peapod token issuer", "-keyout", self.key,
                        "-out", self.cert], check=True, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL)
        spki = subprocess.run(["openssl", "pkey", "-in", self.key, "-pubout", "-outform", "DER"],
                              check=True, stdout=subprocess.PIPE).stdout
        self.kid = libtrust_key_id(spki)
        self.log = open(log, "a", buffering=1)
        self.lock = threading.Lock()
        self.count = 0

    def sign(self, claims):
        header = b64url(json.dumps({"typ": "JWT", "alg": "RS256", "kid": self.kid}).encode())
        payload = b64url(json.dumps(claims).encode())
        signing_input = ("%s.%s" % (header, payload)).encode()
        sig = subprocess.run(["openssl", "dgst", "-sha256", "-sign", self.key], input=signing_input,
                             check=True, stdout=subprocess.PIPE).stdout
        return "%s.%s" % (signing_input.decode(), b64url(sig))

    def answer(self, query, authorization):
        """(status, body) for one token request."""
        from urllib.parse import parse_qs
        q = parse_qs(query)
        scopes = q.get("scope", [])
        account = None
        if authorization and authorization.startswith("Basic "):
            user, _, password = base64.b64decode(authorization[6:]).decode().partition(":")
            if (user, password) != (self.USER, self.PASSWORD):
                return 401, account or user, scopes, json.dumps({"errors": [{
                    "code": "UNAUTHORIZED", "message": "wrong user name or password"}]})
            account = user
        access = []
        for scope in scopes:
            kind, _, rest = scope.partition(":")
            name, _, actions = rest.rpartition(":")
            granted = [a for a in actions.split(",")
                       if account or (a == "pull" and name.startswith("public/"))]
            access.append({"type": kind, "name": name, "actions": granted})
        now = int(time.time())
        with self.lock:
            self.count += 1
            jti = "peapod-%d" % self.count
        token = self.sign({"iss": self.ISSUER, "sub": account or "", "aud": self.SERVICE,
                           "exp": now + 300, "nbf": now - 10, "iat": now, "jti": jti,
                           "access": access})
        return 200, account, scopes, json.dumps({"token": token, "expires_in": 300,
                                                 "issued_at": time.strftime(
                                                     "%Y-%m-%dT%H:%M:%SZ", time.gmtime(now))})

    def serve(self):
        server = self

        class H(http.server.BaseHTTPRequestHandler):
            def log_message(self, *a):
                pass

            def do_GET(self):
                path, _, query = self.path.partition("?")
                if path != "/token":
                    self.send_response(404)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                status, account, scopes, body = server.answer(
                    query, self.headers.get("Authorization"))
                server.log.write(json.dumps({"account": account, "scopes": scopes,
                                             "status": status}) + "\n")
                data = body.encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        httpd = http.server.ThreadingHTTPServer((HOST, 0), H)
        threading.Thread(target=httpd.serve_forever, daemon=True).start()
        return httpd.server_port

    def config(self, port):
        return ("auth:\n  token:\n    realm: http://%s:%d/token\n    service: %s\n"
                "    issuer: %s\n    rootcertbundle: %s\n"
                % (HOST, port, self.SERVICE, self.ISSUER, self.cert))


def run_real(workdir, secure=False, token=False):
    port = free_port()
    storage = os.path.join(workdir, "storage")
    config = os.path.join(workdir, "config.yml")
    cert, extra = secure_config(workdir) if secure else (None, "")
    token_server = None
    if token:
        token_log = os.path.join(os.path.dirname(os.path.abspath(workdir)), "tokens.log")
        token_server = TokenServer(workdir, token_log)
        token_port = token_server.serve()
        extra = token_server.config(token_port)
    with open(config, "w") as f:
        f.write("version: 0.1\nlog:\n  level: error\nstorage:\n  filesystem:\n"
                "    rootdirectory: %s\n  delete:\n    enabled: true\n"
                "http:\n  addr: %s:%d\n%s" % (storage, HOST, port, extra))
    reg = subprocess.Popen(["docker-registry", "serve", config], stdout=subprocess.DEVNULL,
                           stderr=open(os.path.join(workdir, "registry.log"), "w"))
    try:
        for _ in range(100):
            try:
                socket.create_connection((HOST, port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.05)
        layout = os.path.join(workdir, "layout")
        out = oci_layout(layout)
        creds = ["--dest-creds", "user:secret"] if secure or token else []
        repos = ["public/app", "team/app"] if token else ["team/app"]
        for repo in repos:
            subprocess.run(["skopeo", "copy", "--quiet", "--dest-tls-verify=false"] + creds +
                           ["oci:%s:v1" % layout, "docker://%s:%d/%s:v1" % (HOST, port, repo)],
                           check=True, stdout=subprocess.DEVNULL)
        with open(os.path.join(layout, "index.json")) as f:
            out["manifest"] = json.load(f)["manifests"][0]["digest"]
        out["port"] = port
        if cert:
            out["ca_file"] = cert
        if token_server:
            out["token_port"] = token_port
            out["token_log"] = token_log
        print(json.dumps(out), flush=True)
        sys.stdin.read()
    finally:
        reg.kill()
        reg.wait()
        shutil.rmtree(workdir, ignore_errors=True)


def layout_handler(fake, layout):
    """ok/...: served as distribution serves (Range answered with 206);
    stall/...: a blob of more than LAYOUT_FAULT_MIN bytes sends half its
    bytes and stalls for STALL_SECONDS (a pull to kill mid-download);
    norange/...: such a blob's first GET is cut halfway, and a Range
    request is answered with the whole blob (200), as some CDNs do;
    endless/...: every blob is an endless stream (no Content-Length, bytes
    until the client hangs up); endlessm/...: every manifest is;
    stallm/...: a manifest sends its headers and half its bytes, then
    stalls for STALL_SECONDS."""
    with open(os.path.join(layout, "index.json")) as f:
        index = json.load(f)
    tags = {m.get("annotations", {}).get("org.opencontainers.image.ref.name"): m
            for m in index["manifests"]}

    def read_blob(digest):
        path = os.path.join(layout, "blobs", "sha256", digest.split(":", 1)[-1])
        if "/" in digest or not os.path.isfile(path):
            return None
        with open(path, "rb") as f:
            return f.read()

    class H(handler(fake, "registry")):
        def do_GET(self):
            fake.record(self.server.server_port, self)
            parts = self.path.split("/")  # "", "v2", fault, name, kind, ref
            if self.path == "/v2/":
                return self.send(200, b"{}", [("Content-Type", "application/json")])
            if len(parts) != 6 or parts[1] != "v2":
                return self.errors(404, "NAME_UNKNOWN", "no such thing")
            fault, kind, ref = parts[2], parts[4], parts[5]
            if (fault, kind) in (("endless", "blobs"), ("endlessm", "manifests")):
                return self.endless(kind)
            if kind == "manifests":
                desc = tags.get(ref) or {"digest": ref, "mediaType": None}
                data = read_blob(desc["digest"]) if desc.get("digest") else None
                if data is None:
                    return self.errors(404, "MANIFEST_UNKNOWN", "manifest unknown")
                mt = desc["mediaType"] or json.loads(data).get("mediaType")
                if fault == "stallm":
                    return self.stall(data, mt)
                return self.send(200, data, [("Content-Type", mt),
                                             ("Docker-Content-Digest", sha256(data))])
            data = read_blob(ref)
            if data is None:
                return self.errors(404, "BLOB_UNKNOWN", "blob unknown to registry")
            rng = self.headers.get("Range")
            big = len(data) > LAYOUT_FAULT_MIN
            n = fake.hit(parts[2] + "/" + parts[3] + "@" + ref)
            if big and (fault == "stall" or (fault == "norange" and n == 1)):
                self.send_response(200)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data[:len(data) // 2])
                self.wfile.flush()
                if fault == "stall":
                    time.sleep(STALL_SECONDS)
                self.close_connection = True
                self.connection.shutdown(socket.SHUT_RDWR)
                return
            if rng and fault == "ok":
                first = int(rng.split("=")[1].rstrip("-"))
                return self.send(206, data[first:], [
                    ("Content-Range", "bytes %d-%d/%d" % (first, len(data) - 1, len(data)))])
            self.send(200, data)

        def endless(self, kind):
            self.send_response(200)
            if kind == "manifests":
                self.send_header("Content-Type", "application/vnd.oci.image.manifest.v1+json")
            self.send_header("Connection", "close")
            self.end_headers()
            self.close_connection = True
            if self.command == "HEAD":
                return
            chunk = (b'{"schemaVersion": 2, "layers": [' if kind == "manifests" else b"") + \
                b" " * 65536
            try:
                while True:
                    self.wfile.write(chunk)
                    chunk = b" " * 65536
            except OSError:
                pass

        def stall(self, data, mt):
            self.send_response(200)
            self.send_header("Content-Type", mt)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            if self.command == "HEAD":
                return
            self.wfile.write(data[:len(data) // 2])
            self.wfile.flush()
            time.sleep(STALL_SECONDS)
            self.close_connection = True
            try:
                self.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
    return H


LAYOUT_FAULT_MIN = 4096


def run_layout(log, layout):
    fake = Fake(log)
    srv = Server((HOST, 0), layout_handler(fake, layout))
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    print(json.dumps({"port": srv.server_port}), flush=True)
    sys.stdin.read()


if __name__ == "__main__":
    if sys.argv[1] == "layout":
        run_layout(sys.argv[2], sys.argv[3])
        sys.exit(0)
    {"fake": run_fake, "real": run_real,
     "secure": lambda d: run_real(d, secure=True),
     "token": lambda d: run_real(d, token=True)}[sys.argv[1]](sys.argv[2])
