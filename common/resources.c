/* resources.c — see resources.h. Facts from the schemas in shared/schemas. */
#include "resources.h"

#include <curl/curl.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#define ROW(var, k, g, v, p, ns) const struct kres var = { k, g, v, p, ns }

ROW(KRES_NAMESPACE, "Namespace", "", "v1", "namespaces", false);
ROW(KRES_POD, "Pod", "", "v1", "pods", true);
ROW(KRES_SECRET, "Secret", "", "v1", "secrets", true);
ROW(KRES_CONFIGMAP, "ConfigMap", "", "v1", "configmaps", true);
ROW(KRES_NODE, "Node", "", "v1", "nodes", false);
ROW(KRES_SERVICEACCOUNT, "ServiceAccount", "", "v1", "serviceaccounts", true);
ROW(KRES_PVC, "PersistentVolumeClaim", "", "v1", "persistentvolumeclaims", true);
ROW(KRES_EVENT, "Event", "", "v1", "events", true);
ROW(KRES_DAEMONSET, "DaemonSet", "apps", "v1", "daemonsets", true);
ROW(KRES_DEPLOYMENT, "Deployment", "apps", "v1", "deployments", true);
ROW(KRES_LEASE, "Lease", "coordination.k8s.io", "v1", "leases", true);
ROW(KRES_STORAGECLASS, "StorageClass", "storage.k8s.io", "v1", "storageclasses", false);
ROW(KRES_CRD, "CustomResourceDefinition", "apiextensions.k8s.io", "v1", "customresourcedefinitions", false);
ROW(KRES_ROLE, "Role", "rbac.authorization.k8s.io", "v1", "roles", true);
ROW(KRES_ROLEBINDING, "RoleBinding", "rbac.authorization.k8s.io", "v1", "rolebindings", true);
ROW(KRES_CLUSTERROLE, "ClusterRole", "rbac.authorization.k8s.io", "v1", "clusterroles", false);
ROW(KRES_CLUSTERROLEBINDING, "ClusterRoleBinding", "rbac.authorization.k8s.io", "v1", "clusterrolebindings", false);
ROW(KRES_SSAR, "SelfSubjectAccessReview", "authorization.k8s.io", "v1", "selfsubjectaccessreviews", false);
ROW(KRES_SSRR, "SelfSubjectRulesReview", "authorization.k8s.io", "v1", "selfsubjectrulesreviews", false);
ROW(KRES_VM, "VirtualMachine", "kubevirt.io", "v1", "virtualmachines", true);
ROW(KRES_VMI, "VirtualMachineInstance", "kubevirt.io", "v1", "virtualmachineinstances", true);
ROW(KRES_VMIM, "VirtualMachineInstanceMigration", "kubevirt.io", "v1", "virtualmachineinstancemigrations", true);
ROW(KRES_KUBEVIRT, "KubeVirt", "kubevirt.io", "v1", "kubevirts", true);
ROW(KRES_VM_INSTANCETYPE, "VirtualMachineInstancetype", "instancetype.kubevirt.io", "v1beta1",
    "virtualmachineinstancetypes", true);
ROW(KRES_VM_CLUSTER_INSTANCETYPE, "VirtualMachineClusterInstancetype", "instancetype.kubevirt.io", "v1beta1",
    "virtualmachineclusterinstancetypes", false);
ROW(KRES_VM_PREFERENCE, "VirtualMachinePreference", "instancetype.kubevirt.io", "v1beta1",
    "virtualmachinepreferences", true);
ROW(KRES_VM_CLUSTER_PREFERENCE, "VirtualMachineClusterPreference", "instancetype.kubevirt.io", "v1beta1",
    "virtualmachineclusterpreferences", false);
ROW(KRES_DATAVOLUME, "DataVolume", "cdi.kubevirt.io", "v1beta1", "datavolumes", true);
ROW(KRES_HCO, "HyperConverged", "hco.kubevirt.io", "v1beta1", "hyperconvergeds", true);
ROW(KRES_NAD, "NetworkAttachmentDefinition", "k8s.cni.cncf.io", "v1", "network-attachment-definitions", true);
ROW(KRES_NNCP, "NodeNetworkConfigurationPolicy", "nmstate.io", "v1", "nodenetworkconfigurationpolicies", false);
ROW(KRES_CLUSTERVERSION, "ClusterVersion", "config.openshift.io", "v1", "clusterversions", false);
ROW(KRES_FORKLIFTCONTROLLER, "ForkliftController", "forklift.konveyor.io", "v1beta1", "forkliftcontrollers", true);
ROW(KRES_MTV_PROVIDER, "Provider", "forklift.konveyor.io", "v1beta1", "providers", true);
ROW(KRES_MTV_PLAN, "Plan", "forklift.konveyor.io", "v1beta1", "plans", true);
ROW(KRES_MTV_MIGRATION, "Migration", "forklift.konveyor.io", "v1beta1", "migrations", true);
ROW(KRES_MTV_NETWORKMAP, "NetworkMap", "forklift.konveyor.io", "v1beta1", "networkmaps", true);
ROW(KRES_MTV_STORAGEMAP, "StorageMap", "forklift.konveyor.io", "v1beta1", "storagemaps", true);
ROW(KRES_ROUTE, "Route", "route.openshift.io", "v1", "routes", true);

static const struct kres *const table[] = {
	&KRES_NAMESPACE, &KRES_POD, &KRES_SECRET, &KRES_CONFIGMAP, &KRES_NODE, &KRES_SERVICEACCOUNT,
	&KRES_PVC, &KRES_EVENT, &KRES_DAEMONSET, &KRES_DEPLOYMENT, &KRES_LEASE, &KRES_STORAGECLASS, &KRES_CRD,
	&KRES_ROLE, &KRES_ROLEBINDING, &KRES_CLUSTERROLE, &KRES_CLUSTERROLEBINDING, &KRES_SSAR, &KRES_SSRR,
	&KRES_VM, &KRES_VMI, &KRES_VMIM, &KRES_KUBEVIRT, &KRES_VM_INSTANCETYPE, &KRES_VM_CLUSTER_INSTANCETYPE,
	&KRES_VM_PREFERENCE, &KRES_VM_CLUSTER_PREFERENCE, &KRES_DATAVOLUME, &KRES_HCO, &KRES_NAD, &KRES_NNCP,
	&KRES_CLUSTERVERSION, &KRES_FORKLIFTCONTROLLER, &KRES_MTV_PROVIDER, &KRES_MTV_PLAN, &KRES_MTV_MIGRATION,
	&KRES_MTV_NETWORKMAP, &KRES_MTV_STORAGEMAP, &KRES_ROUTE, NULL,
};

const struct kres *const *kres_all(void)
{
	return table;
}

const struct kres *kres_find(const char *name)
{
	size_t i, pl;

	if (!name)
		return NULL;
	for (i = 0; table[i]; i++) {
		const struct kres *r = table[i];

		if (!strcasecmp(name, r->kind) || !strcasecmp(name, r->plural))
			return r;
		pl = strlen(r->plural);
		if (*r->group && !strncasecmp(name, r->plural, pl) && name[pl] == '.' &&
		    !strcasecmp(name + pl + 1, r->group))
			return r;
	}
	return NULL;
}

const char *kres_api_version(const struct kres *r)
{
	static char cache[sizeof(table) / sizeof(table[0])][96];
	size_t i;

	if (!*r->group)
		return r->version;
	for (i = 0; table[i]; i++) {
		if (table[i] != r)
			continue;
		if (!cache[i][0])
			snprintf(cache[i], sizeof(cache[i]), "%s/%s", r->group, r->version);
		return cache[i];
	}
	return r->version; /* not a table row: callers pass table rows */
}

static int add_escaped(struct buf *out, const char *what, const char *s, struct kerr *e)
{
	char *esc;
	int r;

	if (!*s || strchr(s, '/') || !strcmp(s, ".") || !strcmp(s, ".."))
		return kerr_set(e, KERR_USAGE, "invalid %s '%s'", what, s);
	esc = curl_easy_escape(NULL, s, 0);
	if (!esc)
		return kerr_set(e, KERR_NOMEM, "out of memory");
	r = buf_addch(out, '/') || buf_addstr(out, esc);
	curl_free(esc);
	return r ? kerr_set(e, KERR_NOMEM, "out of memory") : 0;
}

int kres_path(struct buf *out, const struct kres *r, const char *ns, const char *name,
	      const char *sub, struct kerr *e)
{
	int rc = *r->group ? buf_addf(out, "/apis/%s/%s", r->group, r->version)
			   : buf_addf(out, "/api/%s", r->version);

	if (rc)
		return kerr_set(e, KERR_NOMEM, "out of memory");
	if (r->namespaced && ns) {
		if (buf_addstr(out, "/namespaces"))
			return kerr_set(e, KERR_NOMEM, "out of memory");
		if (add_escaped(out, "namespace", ns, e))
			return -1;
	}
	if (buf_addch(out, '/') || buf_addstr(out, r->plural))
		return kerr_set(e, KERR_NOMEM, "out of memory");
	if (name && add_escaped(out, "name", name, e))
		return -1;
	if (sub && (buf_addch(out, '/') || buf_addstr(out, sub)))
		return kerr_set(e, KERR_NOMEM, "out of memory");
	return 0;
}
