/*
 * kvnet.h — what the KubeVirt objects say about the migration network, read
 * the same way by every command: a pod's migration0 address from its Multus
 * network-status annotation, whether the DecentralizedLiveMigration gate is
 * on and which migration network is configured (HCO liveMigrationConfig, or
 * the KubeVirt CR without HCO), a pod's readiness, and "ip:port" addresses.
 *
 * Nothing here talks to a cluster. Ownership: every cJSON passed in is
 * borrowed; strings returned by kvnet_network() are borrowed from the tree
 * passed in; output buffers are the caller's.
 */
#ifndef CCLM_KVNET_H
#define CCLM_KVNET_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>

#define KVNET_NETWORK_STATUS "k8s.v1.cni.cncf.io/network-status"
#define KVNET_NETWORKS "k8s.v1.cni.cncf.io/networks"
#define KVNET_IFACE "migration0"
#define KVNET_GATE "DecentralizedLiveMigration"
#define KVNET_HANDLER "virt-handler"
#define KVNET_SYNC "virt-synchronization-controller"
#define KVNET_SYNC_PORT 9185

/* The pod's migration0 address (its first IP) from the network-status
 * annotation into out; 0, or -1 when it has none (no annotation, bad JSON,
 * no migration0 interface). */
int kvnet_pod_migration_ip(const cJSON *pod, char *out, size_t n);

/* True when the KubeVirt CR lists the gate in developerConfiguration.featureGates. */
bool kvnet_kubevirt_gate_on(const cJSON *kubevirt);
/* The gate as configured: HCO's featureGates.decentralizedLiveMigration when
 * hco is not NULL, else the KubeVirt CR's list. */
bool kvnet_gate_on(const cJSON *hco, const cJSON *kubevirt);
/* The configured migration network (a NAD name), "" for the pod network:
 * HCO spec.liveMigrationConfig.network when hco is not NULL, else KubeVirt
 * spec.configuration.migrations.network. Borrowed. */
const char *kvnet_network(const cJSON *hco, const cJSON *kubevirt);

/* Running, not being deleted, and condition Ready True. */
bool kvnet_pod_ready(const cJSON *pod);

/* "192.168.201.130:9185" -> host and port; "[::1]:9185" keeps "::1".
 * 0, or -1 when there is no ":PORT" with 1-65535. */
int kvnet_split_addr(const char *addr, char *host, size_t n, int *port);

#endif
