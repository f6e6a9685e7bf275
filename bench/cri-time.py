#!/usr/bin/python3
"""The CRI's RPCs timed alone, over one gRPC connection per runtime (no
client start in the figures): RunPodSandbox, CreateContainer, StartContainer,
ExecSync, StopPodSandbox, RemovePodSandbox, RUNS times each, medians in ms.

  cri-time.py API_PROTO STUB_DIR RUNS NAME=SOCK=IMAGE=CGROUP_PARENT... LOG_DIR

The stubs are generated from API_PROTO (peapod's src/cri/api.proto: the same
package, methods and field numbers as k8s.io/cri-api) into STUB_DIR with
grpc_tools (Debian's python3-grpc-tools). Prints a markdown table."""
import os
import statistics
import sys
import time

from grpc_tools import protoc


def stubs(proto, out):
    os.makedirs(out, exist_ok=True)
    d = os.path.dirname(os.path.abspath(proto))
    if protoc.main(["protoc", "-I" + d, "--python_out=" + out, "--grpc_python_out=" + out,
                    os.path.basename(proto)]) != 0:
        sys.exit("cri-time: protoc failed on " + proto)
    sys.path.insert(0, out)


def run(name, sock, image, cgroup, runs, logs, pb, rpc, grpc):
    ch = grpc.insecure_channel("unix://" + sock)
    rt = rpc.RuntimeServiceStub(ch)
    rt.Version(pb.VersionRequest(), timeout=30)  # the connection made before timing
    steps = {k: [] for k in ("RunPodSandbox", "CreateContainer", "StartContainer", "up",
                             "ExecSync", "StopPodSandbox", "RemovePodSandbox")}
    for i in range(runs):
        n = "%s-t%d" % (name.split("+")[0], i)
        cfg = pb.PodSandboxConfig(
            metadata=pb.PodSandboxMetadata(name=n, namespace="bench", uid=n + "-uid"),
            log_directory=os.path.join(logs, n),
            linux=pb.LinuxPodSandboxConfig(cgroup_parent=cgroup))
        t0 = time.perf_counter()
        pod = rt.RunPodSandbox(pb.RunPodSandboxRequest(config=cfg), timeout=60).pod_sandbox_id
        t1 = time.perf_counter()
        cc = pb.ContainerConfig(metadata=pb.ContainerMetadata(name="app"),
                                image=pb.ImageSpec(image=image),
                                command=["/bin/sleep", "3600"], log_path="app.log")
        ctr = rt.CreateContainer(pb.CreateContainerRequest(
            pod_sandbox_id=pod, config=cc, sandbox_config=cfg), timeout=60).container_id
        t2 = time.perf_counter()
        rt.StartContainer(pb.StartContainerRequest(container_id=ctr), timeout=60)
        t3 = time.perf_counter()
        try:
            rt.ExecSync(pb.ExecSyncRequest(container_id=ctr, cmd=["/bin/true"], timeout=10),
                        timeout=30)
            t4 = time.perf_counter()
            steps["ExecSync"].append((t4 - t3) * 1e3)
        except grpc.RpcError:
            t4 = time.perf_counter()
        rt.StopPodSandbox(pb.StopPodSandboxRequest(pod_sandbox_id=pod), timeout=60)
        t5 = time.perf_counter()
        rt.RemovePodSandbox(pb.RemovePodSandboxRequest(pod_sandbox_id=pod), timeout=60)
        t6 = time.perf_counter()
        for k, v in (("RunPodSandbox", t1 - t0), ("CreateContainer", t2 - t1),
                     ("StartContainer", t3 - t2), ("up", t3 - t0),
                     ("StopPodSandbox", t5 - t4), ("RemovePodSandbox", t6 - t5)):
            steps[k].append(v * 1e3)
    ch.close()
    return {k: (statistics.median(v) if v else None) for k, v in steps.items()}


def main():
    if len(sys.argv) < 6:
        sys.exit(__doc__)
    proto, out, runs = sys.argv[1], sys.argv[2], int(sys.argv[3])
    targets, logs = sys.argv[4:-1], sys.argv[-1]
    stubs(proto, out)
    import grpc
    import api_pb2 as pb
    import api_pb2_grpc as rpc
    res = []
    for t in targets:
        name, sock, image, cgroup = t.split("=", 3)
        res.append((name, run(name, sock, image, cgroup, runs, logs, pb, rpc, grpc)))
    names = [n for n, _ in res]
    print("| RPC (one connection, ms, median of %d) | %s | %s / %s |" %
          (runs, " | ".join(names), names[-1], names[0]))
    print("| --- |" + " ---: |" * (len(names) + 1))
    for k, label in (("RunPodSandbox", "RunPodSandbox"), ("CreateContainer", "CreateContainer"),
                     ("StartContainer", "StartContainer"),
                     ("up", "a pod with one container up (the three above)"),
                     ("ExecSync", "ExecSync /bin/true"), ("StopPodSandbox", "StopPodSandbox"),
                     ("RemovePodSandbox", "RemovePodSandbox")):
        vals = [r[k] for _, r in res]
        cells = ["%.2f" % v if v is not None else "-" for v in vals]
        ratio = "%.1fx" % (vals[-1] / vals[0]) if None not in vals and vals[0] > 0 else "-"
        print("| %s | %s | %s |" % (label, " | ".join(cells), ratio))


if __name__ == "__main__":
    main()
