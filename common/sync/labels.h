/*
 * labels.h — the labels and annotations cclm puts on what it creates, in its
 * own label domain (cclm.io). They are the engine's only memory: a re-run,
 * or a second machine, finds every object of a migration by them.
 *
 *   cclm.io/migration-id   every object one migration attempt created, on
 *                          both clusters (the VMIMs, the target VM, its
 *                          disks and copies); also the migrationID of the
 *                          two VMIMs
 *   cclm.io/vm             the source VM's name, on the same objects
 *   cclm.io/role           what the object is to the migration: target-vm,
 *                          disk, copy, namespace, vmim-source, vmim-target
 *   app.kubernetes.io/managed-by: cclm
 *
 * Annotations on the target VM: cclm.io/source (the source "ns/name") and
 * cclm.io/source-cluster (the source server URL).
 */
#ifndef CCLM_SYNC_LABELS_H
#define CCLM_SYNC_LABELS_H

#define CCLM_L_ID "cclm.io/migration-id"
#define CCLM_L_VM "cclm.io/vm"
#define CCLM_L_ROLE "cclm.io/role"
#define CCLM_L_MANAGED "app.kubernetes.io/managed-by"
#define CCLM_MANAGED "cclm"
#define CCLM_A_SOURCE "cclm.io/source"
#define CCLM_A_SOURCE_CLUSTER "cclm.io/source-cluster"

/* KubeVirt's own. */
#define KV_RESTORE_RUN_STRATEGY "kubevirt.io/restore-run-strategy"
#define KV_CREATE_MIGRATION_TARGET "kubevirt.io/create-migration-target"
#define KV_VMI_NAME_LABEL "kubevirt.io/vmi-name"

#endif
