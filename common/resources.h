/*
 * resources.h — the Kubernetes resources cclm talks to, so a plugin names a
 * kind and never writes a URL. One row per resource: group ("" = core),
 * version, plural, kind, scope.
 *
 * Ownership: the table is static; every pointer returned is borrowed and
 * valid for the whole program.
 */
#ifndef CCLM_RESOURCES_H
#define CCLM_RESOURCES_H

#include <stdbool.h>

#include "buf.h"
#include "err.h"

struct kres {
	const char *kind;     /* "VirtualMachine" */
	const char *group;    /* "kubevirt.io"; "" for the core group */
	const char *version;  /* "v1" */
	const char *plural;   /* "virtualmachines" */
	bool namespaced;
};

/* By kind ("VirtualMachine"), plural ("virtualmachines") or
 * plural.group ("virtualmachines.kubevirt.io"); case-insensitive; NULL if
 * cclm does not know it. */
const struct kres *kres_find(const char *name);
/* The whole table, NULL-terminated (for help and tests). */
const struct kres *const *kres_all(void);
/* "kubevirt.io/v1", or "v1" for the core group. Borrowed static storage
 * per row. */
const char *kres_api_version(const struct kres *r);

/*
 * Append the request path for a resource to `out`:
 *   /api/v1[/namespaces/NS]/PLURAL[/NAME[/SUB]]
 *   /apis/GROUP/VERSION[/namespaces/NS]/PLURAL[/NAME[/SUB]]
 * `ns` is ignored (may be NULL) for cluster-scoped resources and may be NULL
 * for a list across all namespaces; NAME and NS are escaped. Names that are
 * empty or contain '/' are refused (KERR_USAGE).
 */
int kres_path(struct buf *out, const struct kres *r, const char *ns, const char *name,
	      const char *sub, struct kerr *e);

/* Well-known rows, for plugins (same objects kres_find() returns). */
extern const struct kres KRES_NAMESPACE, KRES_POD, KRES_SECRET, KRES_CONFIGMAP, KRES_NODE,
	KRES_SERVICEACCOUNT, KRES_PVC, KRES_EVENT, KRES_DAEMONSET, KRES_DEPLOYMENT, KRES_LEASE,
	KRES_STORAGECLASS, KRES_CRD,
	KRES_ROLE, KRES_ROLEBINDING, KRES_CLUSTERROLE, KRES_CLUSTERROLEBINDING,
	KRES_SSAR, KRES_SSRR,
	KRES_VM, KRES_VMI, KRES_VMIM, KRES_KUBEVIRT,
	KRES_VM_INSTANCETYPE, KRES_VM_CLUSTER_INSTANCETYPE, KRES_VM_PREFERENCE, KRES_VM_CLUSTER_PREFERENCE,
	KRES_DATAVOLUME, KRES_HCO,
	KRES_NAD, KRES_NNCP, KRES_CLUSTERVERSION,
	KRES_FORKLIFTCONTROLLER, KRES_MTV_PROVIDER, KRES_MTV_PLAN, KRES_MTV_MIGRATION,
	KRES_MTV_NETWORKMAP, KRES_MTV_STORAGEMAP, KRES_ROUTE;

#endif
