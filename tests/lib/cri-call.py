#!/usr/bin/python3
"""One unary gRPC call to a CRI socket with grpcio (Debian's python3-grpcio),
the request given as raw protobuf bytes, so that the tests reach what crictl
never sends (an RPC twice, a malformed message, an unknown method).

  cri-call.py SOCK METHOD REQUEST

METHOD is "/runtime.v1.ImageService/RemoveImage"; REQUEST is the message in
a tiny notation: "" (empty), "hex:0a03..." (bytes as given), or fields
"N=text" / "N={...}" nested, joined by ',' (only string and message fields):
RemoveImageRequest{image: ImageSpec{image: "busybox"}} is '1={1=busybox}'.
Prints "OK <hex of the response>" or "ERROR <StatusCode name> <details>";
exits 0 either way (1 on a usage error)."""
import sys

import grpc


def varint(n):
    out = b""
    while True:
        b = n & 0x7F
        n >>= 7
        out += bytes([b | (0x80 if n else 0)])
        if not n:
            return out


def split_top(s):
    parts, depth, cur = [], 0, ""
    for c in s:
        if c == "," and depth == 0:
            parts.append(cur)
            cur = ""
            continue
        depth += c == "{"
        depth -= c == "}"
        cur += c
    if cur:
        parts.append(cur)
    return parts


def encode(s):
    if s.startswith("hex:"):
        return bytes.fromhex(s[4:])
    out = b""
    for part in split_top(s):
        num, _, val = part.partition("=")
        if val.startswith("{") and val.endswith("}"):
            data = encode(val[1:-1])
        else:
            data = val.encode()
        out += varint(int(num) << 3 | 2) + varint(len(data)) + data
    return out


def main():
    if len(sys.argv) != 4:
        print(__doc__, file=sys.stderr)
        return 1
    sock, method, request = sys.argv[1:]
    with grpc.insecure_channel("unix://" + sock) as ch:
        call = ch.unary_unary(method, request_serializer=None, response_deserializer=None)
        try:
            resp = call(encode(request), timeout=30)
            print("OK", resp.hex())
        except grpc.RpcError as e:
            print("ERROR", e.code().name, e.details())
    return 0


sys.exit(main())
