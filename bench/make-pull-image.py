#!/usr/bin/env python3
"""The image `make bench-pull` pulls, as an OCI layout skopeo pushes.

  make-pull-image.py LAYOUT [MB] [LAYERS]

writes into LAYOUT (created) one image, tag "bench", of LAYERS (5) gzip
layers holding MB (200) megabytes of this machine's own files in all:
copies of /usr/lib/x86_64-linux-gnu, /usr/share, /usr/lib/python3.11,
/usr/include and /usr/bin (shared libraries, documentation, locales,
scripts, headers: what real base and runtime images carry, compressible,
many small files), each layer about MB/LAYERS of tar from one tree. Regular
files, directories and symlinks only; owners 0, mtimes kept. gzip level 6
(what docker, podman and buildkit push by default)."""
import gzip
import hashlib
import io
import json
import os
import platform
import stat
import sys
import tarfile

# One tree per layer (as a base, its libraries, a runtime, an app): the
# k-th layer takes the first MB/LAYERS of ROOTS[k % len(ROOTS)] not taken.
ROOTS = ["/usr/lib/x86_64-linux-gnu", "/usr/share", "/usr/lib/python3.11", "/usr/include",
         "/usr/bin"]
# Larger files (LLVM's 100 MB libraries) are left out: they would make one
# layer of one file.
FILE_MAX = 8 << 20
ARCH = {"x86_64": "amd64", "aarch64": "arm64"}


def sha256(data):
    return "sha256:" + hashlib.sha256(data).hexdigest()


def write_blob(layout, data):
    d = sha256(data)
    with open(os.path.join(layout, "blobs", "sha256", d.split(":")[1]), "wb") as f:
        f.write(data)
    return d


def walk(root):
    """Every entry under root, sorted, parents first."""
    for top, dirs, files in os.walk(root):
        dirs.sort()
        yield top
        for name in sorted(files):
            yield os.path.join(top, name)


def chunks(total, n):
    """Lists of paths of about total/n bytes of tar each (a 512-byte
    header per entry, data padded to 512; a layer's parent directories
    are repeated in it)."""
    want = total // n
    walks = [walk(r) for r in ROOTS]
    out = []
    for k in range(n):
        layer, size = [], 0
        for path in walks[k % len(walks)]:
            try:
                st = os.lstat(path)
            except OSError:
                continue
            if stat.S_ISREG(st.st_mode):
                if st.st_size > FILE_MAX or not os.access(path, os.R_OK):
                    continue
                size += (st.st_size + 511) // 512 * 512
            elif not (stat.S_ISDIR(st.st_mode) or stat.S_ISLNK(st.st_mode)):
                continue
            size += 512
            layer.append(path)
            if size >= want:
                break
        out.append(layer)
    return out


def tar_of(paths):
    raw = io.BytesIO()
    seen = set()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for path in paths:
            parent = os.path.dirname(path)
            missing = []
            while parent not in seen and parent != "/":
                missing.append(parent)
                parent = os.path.dirname(parent)
            for p in reversed(missing + ([path] if os.path.isdir(path) and
                                         not os.path.islink(path) else [])):
                if p not in seen:
                    seen.add(p)
                    info = tar.gettarinfo(p, arcname=p.lstrip("/"))
                    info.uid = info.gid = 0
                    info.uname = info.gname = "root"
                    tar.addfile(info)
            if os.path.isdir(path) and not os.path.islink(path):
                continue
            info = tar.gettarinfo(path, arcname=path.lstrip("/"))
            info.uid = info.gid = 0
            info.uname = info.gname = "root"
            if info.isreg():
                with open(path, "rb") as f:
                    tar.addfile(info, f)
            else:
                tar.addfile(info)
    return raw.getvalue()


def main():
    layout = sys.argv[1]
    mb = int(sys.argv[2]) if len(sys.argv) > 2 else 200
    n = int(sys.argv[3]) if len(sys.argv) > 3 else 5
    os.makedirs(os.path.join(layout, "blobs", "sha256"))
    layers, diff_ids, unpacked = [], [], 0
    for paths in chunks(mb * 1000 * 1000, n):
        tar = tar_of(paths)
        unpacked += len(tar)
        blob = gzip.compress(tar, compresslevel=6, mtime=0)
        layers.append({"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip",
                       "digest": write_blob(layout, blob), "size": len(blob)})
        diff_ids.append(sha256(tar))
    config = json.dumps({
        "architecture": ARCH.get(platform.machine(), platform.machine()), "os": "linux",
        "config": {"Cmd": ["/usr/bin/true"], "Env": ["PATH=/usr/bin:/bin"]},
        "rootfs": {"type": "layers", "diff_ids": diff_ids}}).encode()
    manifest = json.dumps({
        "schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                   "digest": write_blob(layout, config), "size": len(config)},
        "layers": layers}).encode()
    with open(os.path.join(layout, "index.json"), "w") as f:
        json.dump({"schemaVersion": 2, "manifests": [{
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "digest": write_blob(layout, manifest), "size": len(manifest),
            "annotations": {"org.opencontainers.image.ref.name": "bench"}}]}, f)
    with open(os.path.join(layout, "oci-layout"), "w") as f:
        json.dump({"imageLayoutVersion": "1.0.0"}, f)
    print("%d layers, %.1f MB unpacked (tar), %.1f MB compressed" %
          (len(layers), unpacked / 1e6, sum(l["size"] for l in layers) / 1e6))


if __name__ == "__main__":
    main()
