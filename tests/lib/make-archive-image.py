#!/usr/bin/env python3
"""The image tests/system/archives.bats moves between peapod, podman and
skopeo, as an OCI layout.

  make-archive-image.py ROOTFS LAYOUT NAME [--docker25]

writes into LAYOUT (created) one image named NAME (index.json's
org.opencontainers.image.ref.name): ROOTFS as an uncompressed layer, then a
gzip layer with /data/a, /data/hard (a hardlink to it), /data/ping (with a
security.capability xattr: cap_net_raw+ep), /home/new, a whiteout of /srv and
an opaque /home (hiding /home/app). --docker25 adds a manifest.json beside
index.json, as Docker 25+'s `docker save` writes (RepoTags NAME, members
under blobs/sha256/). Prints the config's digest."""
import gzip
import hashlib
import io
import json
import os
import platform
import struct
import sys
import tarfile

ARCH = {"x86_64": "amd64", "aarch64": "arm64", "armv7l": "arm", "i686": "386"}
# struct vfs_cap_data, revision 2, effective: CAP_NET_RAW (13) permitted
CAP = struct.pack("<IIIII", 0x02000001, 1 << 13, 0, 0, 0)


def sha256(data):
    return "sha256:" + hashlib.sha256(data).hexdigest()


def write_blob(layout, data):
    d = sha256(data)
    with open(os.path.join(layout, "blobs", "sha256", d.split(":")[1]), "wb") as f:
        f.write(data)
    return d


def add(tar, name, data=b"", **kw):
    info = tarfile.TarInfo(name)
    info.size = len(data)
    info.mode = kw.get("mode", 0o644)
    info.mtime = 1700000000
    for k, v in kw.items():
        if k != "mode":
            setattr(info, k, v)
    tar.addfile(info, io.BytesIO(data) if data else None)


def top_layer():
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as tar:
        add(tar, "data", type=tarfile.DIRTYPE, mode=0o755)
        add(tar, "data/a", b"same contents\n")
        add(tar, "data/hard", type=tarfile.LNKTYPE, linkname="data/a")
        ping = tarfile.TarInfo("data/ping")
        ping.size, ping.mode, ping.mtime = 5, 0o755, 1700000000
        ping.pax_headers = {"SCHILY.xattr.security.capability":
                            CAP.decode("utf-8", "surrogateescape")}
        tar.addfile(ping, io.BytesIO(b"ping\n"))
        add(tar, ".wh.srv")
        add(tar, "home", type=tarfile.DIRTYPE, mode=0o755)
        add(tar, "home/.wh..wh..opq")
        add(tar, "home/new", b"new home\n")
    return raw.getvalue()


def base_layer(rootfs):
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as tar:
        tar.add(rootfs, arcname=".")
    return raw.getvalue()


def main(rootfs, layout, name, docker25):
    os.makedirs(os.path.join(layout, "blobs", "sha256"))
    base = base_layer(rootfs)
    top = top_layer()
    top_gz = gzip.compress(top, mtime=0)
    machine = platform.machine()
    cfg = json.dumps({
        "architecture": ARCH.get(machine, machine), "os": "linux",
        "config": {"Env": ["PATH=/bin"], "Cmd": ["sh", "-c", "cat /data/a"]},
        "rootfs": {"type": "layers", "diff_ids": [sha256(base), sha256(top)]}}).encode()
    layers = [("application/vnd.oci.image.layer.v1.tar", base),
              ("application/vnd.oci.image.layer.v1.tar+gzip", top_gz)]
    descs = [{"mediaType": mt, "digest": write_blob(layout, b), "size": len(b)}
             for mt, b in layers]
    config = write_blob(layout, cfg)
    manifest = json.dumps({
        "schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                   "digest": config, "size": len(cfg)},
        "layers": descs}).encode()
    entry = {"mediaType": "application/vnd.oci.image.manifest.v1+json",
             "digest": write_blob(layout, manifest), "size": len(manifest),
             "annotations": {"org.opencontainers.image.ref.name": name}}
    with open(os.path.join(layout, "index.json"), "w") as f:
        json.dump({"schemaVersion": 2, "manifests": [entry]}, f)
    with open(os.path.join(layout, "oci-layout"), "w") as f:
        json.dump({"imageLayoutVersion": "1.0.0"}, f)
    if docker25:
        with open(os.path.join(layout, "manifest.json"), "w") as f:
            json.dump([{"Config": "blobs/sha256/" + config.split(":")[1],
                        "RepoTags": [name],
                        "Layers": ["blobs/sha256/" + d["digest"].split(":")[1]
                                   for d in descs]}], f)
    print(config)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], sys.argv[3], "--docker25" in sys.argv[4:])
