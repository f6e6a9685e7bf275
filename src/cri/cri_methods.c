/* Every method of runtime.v1 (k8s.io/cri-api api.proto), and who serves it:
 * NULL is a method peapod does not serve yet, answered UNIMPLEMENTED with a
 * message saying so (never a fake success). */
#include <stddef.h>

#include "cri/cri_internal.h"

#define RT(m) "/runtime.v1.RuntimeService/" m
#define IMG(m) "/runtime.v1.ImageService/" m

const struct pp_grpc_method pp_cri_methods[] = {
    {RT("Version"), cri_version},
    {RT("RunPodSandbox"), cri_run_pod_sandbox},
    {RT("StopPodSandbox"), cri_stop_pod_sandbox},
    {RT("RemovePodSandbox"), cri_remove_pod_sandbox},
    {RT("PodSandboxStatus"), cri_pod_sandbox_status},
    {RT("ListPodSandbox"), cri_list_pod_sandbox},
    {RT("StreamPodSandboxes"), NULL},
    {RT("CreateContainer"), cri_create_container},
    {RT("StartContainer"), cri_start_container},
    {RT("StopContainer"), cri_stop_container},
    {RT("RemoveContainer"), cri_remove_container},
    {RT("ListContainers"), cri_list_containers},
    {RT("StreamContainers"), NULL},
    {RT("ContainerStatus"), cri_container_status},
    {RT("UpdateContainerResources"), cri_update_container_resources},
    {RT("ReopenContainerLog"), cri_reopen_container_log},
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
    {RT("RuntimeConfig"), cri_runtime_config},
    {RT("UpdatePodSandboxResources"), NULL},
    {IMG("ListImages"), cri_list_images},
    {IMG("StreamImages"), NULL},
    {IMG("ImageStatus"), cri_image_status},
    {IMG("PullImage"), cri_pull_image},
    {IMG("RemoveImage"), cri_remove_image},
    {IMG("ImageFsInfo"), cri_image_fs_info},
    {NULL, NULL},
};
