#!/usr/bin/env python3
"""The images tests/system/pull.bats pulls, as an OCI layout skopeo pushes.

  make-oci-layout.py ROOTFS LAYOUT

writes into LAYOUT (created) two images for this host's platform:
  tag "1": ROOTFS (gzip), then a layer adding /app/greeting and /app/gone
           (gzip), then an uncompressed layer whiting out /app/gone and
           adding /app/extra; config Entrypoint ["/bin/sh", "-c"], a Cmd that
           prints what the test checks, Env, WorkingDir /app, User app;
  tag "2": the same base layer (so a pull of both downloads it once) and a
           layer adding /app/two;
  tag "3": the same base layer and a layer adding /app/three, which the
           test corrupts in the registry's storage;
  tag "multi": an index of image 1 claimed for linux/s390x, image 1 again as
           a BuildKit attestation, and image 2 for this host's platform;
  tag "vol": the same base layer and a layer with /data/seed (owned by
           1000:1000), /data/sub/deep, /rel/r and /over/x; config Volumes
           "/data", "rel" (relative: taken from the root), "/over/" and
           "/empty" (nothing in the image there), a Label and ExposedPorts.
Prints the base layer's digest, then tag 3's own layer's."""
import gzip
import hashlib
import io
import json
import os
import platform
import sys
import tarfile

ARCH = {"x86_64": "amd64", "aarch64": "arm64", "armv7l": "arm", "i686": "386"}


def sha256(data):
    return "sha256:" + hashlib.sha256(data).hexdigest()


def write_blob(layout, data):
    d = sha256(data)
    with open(os.path.join(layout, "blobs", "sha256", d.split(":")[1]), "wb") as f:
        f.write(data)
    return d


def tar_of(rootfs=None, files=(), owner=None):
    """files: (name, text) pairs; owner: {name: uid} (gid the same)."""
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as tar:
        if rootfs:
            tar.add(rootfs, arcname=".")
        for name, text in files:
            info = tarfile.TarInfo(name)
            info.size = len(text)
            info.mode = 0o644
            info.uid = info.gid = (owner or {}).get(name, 0)
            tar.addfile(info, io.BytesIO(text))
    return raw.getvalue()


def layer(layout, tar, compress):
    blob = gzip.compress(tar, mtime=0) if compress else tar
    mt = "application/vnd.oci.image.layer.v1.tar" + ("+gzip" if compress else "")
    return {"mediaType": mt, "digest": write_blob(layout, blob), "size": len(blob)}, sha256(tar)


def image(layout, layers, config):
    machine = platform.machine()
    cfg = json.dumps({"architecture": ARCH.get(machine, machine), "os": "linux",
                      "config": config,
                      "rootfs": {"type": "layers", "diff_ids": [d for _, d in layers]}}).encode()
    manifest = json.dumps({
        "schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                   "digest": write_blob(layout, cfg), "size": len(cfg)},
        "layers": [desc for desc, _ in layers]}).encode()
    return {"mediaType": "application/vnd.oci.image.manifest.v1+json",
            "digest": write_blob(layout, manifest), "size": len(manifest)}


def main(rootfs, layout):
    os.makedirs(os.path.join(layout, "blobs", "sha256"))
    base = layer(layout, tar_of(rootfs), True)
    two = layer(layout, tar_of(files=(("app/greeting", b"hello from layer 2\n"),
                                      ("app/gone", b"whited out by layer 3\n"))), True)
    three = layer(layout, tar_of(files=(("app/.wh.gone", b""),
                                        ("app/extra", b"from layer 3\n"))), False)
    img1 = image(layout, [base, two, three], {
        "Entrypoint": ["/bin/sh", "-c"],
        "Cmd": ["cat greeting extra; test -e gone && echo gone-is-there; "
                "echo \"$GREETING in $(pwd) as $(id -u)\""],
        "Env": ["PATH=/bin", "GREETING=config env"],
        "WorkingDir": "/app", "User": "app"})
    img2 = image(layout, [base, layer(layout, tar_of(files=(("app/two", b"image two\n"),)), True)],
                 {"Cmd": ["cat", "/app/two"], "Env": ["PATH=/bin"]})
    three_only = layer(layout, tar_of(files=(("app/three", b"image three\n"),)), True)
    img3 = image(layout, [base, three_only], {"Cmd": ["cat", "/app/three"]})
    img3["annotations"] = {"org.opencontainers.image.ref.name": "3"}
    vol_layer = layer(layout, tar_of(files=(
        ("data/seed", b"seeded from the image\n"), ("data/sub/deep", b"deep\n"),
        ("rel/r", b"relative volume\n"), ("over/x", b"hidden by the pod's mount\n")),
        owner={"data/seed": 1000}), True)
    img_vol = image(layout, [base, vol_layer], {
        "Cmd": ["sh", "-c", "ls /data"], "Env": ["PATH=/bin"],
        "Volumes": {"/data": {}, "rel": {}, "/over/": {}, "/empty": {}},
        "Labels": {"org.example.test": "volumes"}, "ExposedPorts": {"8080/tcp": {}}})
    img_vol["annotations"] = {"org.opencontainers.image.ref.name": "vol"}
    machine = platform.machine()
    multi = json.dumps({
        "schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json",
        "manifests": [
            dict(img1, platform={"os": "linux", "architecture": "s390x"}),
            dict(img1, platform={"os": "unknown", "architecture": "unknown"},
                 annotations={"vnd.docker.reference.type": "attestation-manifest"}),
            dict(img2, platform={"os": "linux", "architecture": ARCH.get(machine, machine)})]
    }).encode()
    top = {"mediaType": "application/vnd.oci.image.index.v1+json",
           "digest": write_blob(layout, multi), "size": len(multi),
           "annotations": {"org.opencontainers.image.ref.name": "multi"}}
    img1["annotations"] = {"org.opencontainers.image.ref.name": "1"}
    img2["annotations"] = {"org.opencontainers.image.ref.name": "2"}
    with open(os.path.join(layout, "index.json"), "w") as f:
        json.dump({"schemaVersion": 2, "manifests": [img1, img2, img3, top, img_vol]}, f)
    with open(os.path.join(layout, "oci-layout"), "w") as f:
        json.dump({"imageLayoutVersion": "1.0.0"}, f)
    print(base[0]["digest"])
    print(three_only[0]["digest"])


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
