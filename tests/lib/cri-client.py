#!/usr/bin/python3
"""A CRI client from Debian's python3-grpcio and python3-grpc-tools, whose
stubs are generated from peapod's own src/cri/api.proto at test time, so that
the tests call any RPC with a readable request.

  cri-client.py SOCK METHOD JSON-REQUEST     one call
  cri-client.py --methods                    the RPCs the proto declares

METHOD is a method of runtime.v1.RuntimeService or ImageService by its name
("Version", "ListContainerStats") or in full ("/runtime.v1.ImageService/
PullImage"); JSON-REQUEST is the request in protobuf's JSON mapping
('{"image": {"image": "busybox"}}', field names as in the proto or in
lowerCamelCase). Prints the response in the same mapping (field names as in
the proto, fields at their defaults included) or "ERROR <StatusCode name>
<details>"; exits 0 either way, 1 on a usage error.

The stubs are generated from the proto at the first call into
$CRI_CLIENT_GEN/<hash of the proto> (the tests point it into their own
temporary directory) and reused while the proto is unchanged; without
CRI_CLIENT_GEN, into a temporary directory removed at exit."""
import atexit
import hashlib
import importlib
import json
import os
import shutil
import sys
import tempfile

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
PROTO = os.path.join(REPO, "src", "cri", "api.proto")
SERVICES = ("RuntimeService", "ImageService")


def gen_dir():
    with open(PROTO, "rb") as f:
        key = hashlib.sha256(f.read()).hexdigest()[:16]
    base = os.environ.get("CRI_CLIENT_GEN")
    if not base:
        base = tempfile.mkdtemp(prefix="cri-client.")
        atexit.register(shutil.rmtree, base, True)
    return os.path.join(base, key)


def stubs():
    """api_pb2 and api_pb2_grpc, generated when missing."""
    out = gen_dir()
    if not os.path.exists(os.path.join(out, "api_pb2_grpc.py")):
        from grpc_tools import protoc
        os.makedirs(out, exist_ok=True)
        tmp = tempfile.mkdtemp(dir=out)
        rc = protoc.main(["protoc", "--proto_path=" + os.path.dirname(PROTO),
                          "--python_out=" + tmp, "--grpc_python_out=" + tmp,
                          os.path.basename(PROTO)])
        if rc != 0:
            sys.exit("cri-client: protoc failed on %s" % PROTO)
        for name in ("api_pb2.py", "api_pb2_grpc.py"):
            os.replace(os.path.join(tmp, name), os.path.join(out, name))
        os.rmdir(tmp)
    sys.path.insert(0, out)
    return importlib.import_module("api_pb2"), importlib.import_module("api_pb2_grpc")


def methods(pb2):
    """{name: (service, method descriptor)} of every RPC in the proto."""
    out = {}
    for svc in SERVICES:
        for m in pb2.DESCRIPTOR.services_by_name[svc].methods:
            out[m.name] = (svc, m)
    return out


def main(argv):
    pb2, _ = stubs()
    from google.protobuf import json_format
    import grpc

    table = methods(pb2)
    if len(argv) == 2 and argv[1] == "--methods":
        for name, (svc, _) in sorted(table.items()):
            print("/runtime.v1.%s/%s" % (svc, name))
        return 0
    if len(argv) != 4:
        sys.stderr.write(__doc__)
        return 1
    sock, method, request = argv[1:]
    name = method.rsplit("/", 1)[-1]
    if name not in table:
        sys.stderr.write("cri-client: %s is not in %s\n" % (method, PROTO))
        return 1
    svc, desc = table[name]
    req_cls = getattr(pb2, desc.input_type.name)
    resp_cls = getattr(pb2, desc.output_type.name)
    try:
        req = json_format.Parse(request or "{}", req_cls())
    except json_format.ParseError as e:
        sys.stderr.write("cri-client: bad request for %s: %s\n" % (name, e))
        return 1
    with grpc.insecure_channel("unix:" + sock) as ch:
        call = ch.unary_unary("/runtime.v1.%s/%s" % (svc, name),
                              request_serializer=req_cls.SerializeToString,
                              response_deserializer=resp_cls.FromString)
        try:
            resp = call(req, timeout=float(os.environ.get("CRI_CLIENT_TIMEOUT", "60")))
        except grpc.RpcError as e:
            print("ERROR %s %s" % (e.code().name, e.details()))
            return 0
    print(json.dumps(json_format.MessageToDict(
        resp, preserving_proto_field_name=True,
        including_default_value_fields=True), sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
