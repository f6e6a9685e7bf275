/* Every method of runtime.v1 (k8s.io/cri-api api.proto), and who serves it:
 * NULL is a method peapod does not serve yet, answered UNIMPLEMENTED with a
 * message saying so (never a fake success). */
#include <stddef.h>

#include "cri/cri_internal.h"

#define RT(m) "/runtime.v1.RuntimeService/" m
#define IMG(m) "/runtime.v1.ImageService/" m

const struct pp_grpc_method pp_cri_methods[] = {
    {RT("Version"), cri_version},
    {RT("RunPodSandbox"), NULL},
    {RT("StopPodSandbox"), NULL},
    {RT("RemovePodSandbox"), NULL},
    {RT("PodSandboxStatus"), NULL},
    {RT("ListPodSandbox"), NULL},
    {RT("StreamPodSandboxes"), NULL},
    {RT("CreateContainer"), NULL},
    {RT("StartContainer"), NULL},
    {RT("StopContainer"), NULL},
    {RT("RemoveContainer"), NULL},
    {RT("ListContainers"), NULL},
    {RT("StreamContainers"), NULL},
    {RT("ContainerStatus"), NULL},
    {RT("UpdateContainerResources"), NULL},
    {RT("ReopenContainerLog"), NULL},
    {RT("ExecSync"), cri_exec_sync},
    {RT("Exec"), cri_exec},
    {RT("Attach"), cri_attach},
    {RT("PortForward"), cri_port_forward},
    {RT("ContainerStats"), cri_container_stats},
    {RT("ListContainerStats"), cri_list_container_stats},
    {RT("StreamContainerStats"), NULL},
    {RT("PodSandboxStats"), cri_pod_sandbox_stats},
    {RT("ListPodSandboxStats"), cri_list_pod_sandbox_stats},
    {RT("StreamPodSandboxStats"), NULL},
    {RT("UpdateRuntimeConfig"), cri_update_runtime_config},
    {RT("Status"), cri_status},
    {RT("CheckpointContainer"), NULL},
    {RT("CheckpointPod"), NULL},
    {RT("RestorePod"), NULL},
    {RT("GetContainerEvents"), NULL},
    {RT("ListMetricDescriptors"), NULL},
    {RT("ListPodSandboxMetrics"), NULL},
    {RT("StreamPodSandboxMetrics"), NULL},
    {RT("RuntimeConfig"), NULL},
    {RT("UpdatePodSandboxResources"), NULL},
    {IMG("ListImages"), cri_list_images},
    {IMG("StreamImages"), NULL},
    {IMG("ImageStatus"), cri_image_status},
    {IMG("PullImage"), cri_pull_image},
    {IMG("RemoveImage"), cri_remove_image},
    {IMG("ImageFsInfo"), cri_image_fs_info},
    {NULL, NULL},
};
