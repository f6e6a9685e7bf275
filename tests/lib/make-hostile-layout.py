#!/usr/bin/env python3
"""Hostile images (issue #21) added to an OCI layout that make-oci-layout.py
wrote, each its base layer (tag 1's first) and one layer or config of its own:

  make-hostile-layout.py LAYOUT HOSTDIR

  dotdot:    a member ../peapod-hostile-dotdot (climbs out of the layer)
  abslink:   a symlink evil -> HOSTDIR, then a file evil/planted through it
  shadow:    a hardlink x -> /etc/shadow (absolute, the host's)
  shadowrel: a hardlink y -> ../../../../../../etc/shadow
  whiteout:  a symlink w -> HOSTDIR, then w/.wh.victim (a whiteout through it)
  whiteoutup: ../.wh.victim
  suid:      bin/suidfile (mode 04755, root) and bin/capfile carrying
             security.capability cap_net_raw=ep (LIBARCHIVE.xattr)
  hugeenv:   a config whose Env holds a 3 MiB variable (under the 8 MiB
             config limit, over what execve takes)
  hugeconfig: a config of 9 MiB (over the limit)
  workdir:   a config WorkingDir "../.."
"""
import base64
import io
import json
import os
import struct
import sys
import tarfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
mol = __import__("make-oci-layout")


def tar_entries(entries):
    """entries: TarInfo keyword dicts; "data" is a file's bytes."""
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for e in entries:
            e = dict(e)
            data = e.pop("data", b"")
            pax = e.pop("pax", None)
            info = tarfile.TarInfo(e.pop("name"))
            for k, v in e.items():
                setattr(info, k, v)
            if pax:
                info.pax_headers = pax
            if info.type == tarfile.REGTYPE:
                info.size = len(data)
                tar.addfile(info, io.BytesIO(data))
            else:
                tar.addfile(info)
    return raw.getvalue()


def f(name, data=b"x\n", mode=0o644, **kw):
    return dict(name=name, data=data, mode=mode, **kw)


def main(layout, hostdir):
    with open(os.path.join(layout, "index.json")) as fh:
        index = json.load(fh)
    one = [m for m in index["manifests"]
           if m.get("annotations", {}).get("org.opencontainers.image.ref.name") == "1"][0]
    blob = lambda d: open(os.path.join(layout, "blobs", "sha256", d.split(":")[1]), "rb").read()
    m1 = json.loads(blob(one["digest"]))
    c1 = json.loads(blob(m1["config"]["digest"]))
    base = (m1["layers"][0], c1["rootfs"]["diff_ids"][0])
    cfg = {"Cmd": ["sh", "-c", "echo ran in $(pwd)"], "Env": ["PATH=/bin:/usr/bin"]}
    # cap_net_raw (13) permitted, effective: vfs_cap_data revision 2
    cap = struct.pack("<IIIII", 0x02000001, 1 << 13, 0, 0, 0)
    layers = {
        "dotdot": [f("../peapod-hostile-dotdot")],
        "abslink": [dict(name="evil", type=tarfile.SYMTYPE, linkname=hostdir),
                    f("evil/planted")],
        "shadow": [dict(name="x", type=tarfile.LNKTYPE, linkname="/etc/shadow")],
        "shadowrel": [dict(name="y", type=tarfile.LNKTYPE,
                           linkname="../../../../../../etc/shadow")],
        "whiteout": [dict(name="w", type=tarfile.SYMTYPE, linkname=hostdir),
                     f("w/.wh.victim", b"")],
        "whiteoutup": [f("../.wh.victim", b"")],
        "suid": [dict(name="bin", type=tarfile.DIRTYPE, mode=0o755),
                 f("bin/suidfile", b"#!/bin/sh\n", 0o4755),
                 f("bin/capfile", b"#!/bin/sh\n", 0o755,
                   pax={"LIBARCHIVE.xattr.security.capability":
                        base64.b64encode(cap).decode()})],
    }
    configs = {
        "hugeenv": dict(cfg, Env=["PATH=/bin:/usr/bin", "BIG=" + "x" * (3 << 20)]),
        "hugeconfig": dict(cfg, Env=["PATH=/bin:/usr/bin"] +
                           ["V%d=%s" % (i, "y" * 65536) for i in range(144)]),
        "workdir": dict(cfg, WorkingDir="../.."),
    }
    for tag, entries in layers.items():
        img = mol.image(layout, [base, mol.layer(layout, tar_entries(entries), True)], cfg)
        img["annotations"] = {"org.opencontainers.image.ref.name": tag}
        index["manifests"].append(img)
    for tag, config in configs.items():
        img = mol.image(layout, [base], config)
        img["annotations"] = {"org.opencontainers.image.ref.name": tag}
        index["manifests"].append(img)
    with open(os.path.join(layout, "index.json"), "w") as fh:
        json.dump(index, fh)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
