/* observe.c — what kubectl cclm netcheck reads of one cluster: the KubeVirt
 * CR, the HyperConverged, the migration NAD, the KubeVirt namespace's pods,
 * the sync Lease and the virt-handler DaemonSet; one request each (see
 * netcheck.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "kvnet.h"
#include "netcheck.h"

void nc_side_release(struct nc_side *s)
{
	int i;

	cJSON_Delete(s->kubevirt);
	cJSON_Delete(s->hco);
	cJSON_Delete(s->nad);
	cJSON_Delete(s->pods);
	cJSON_Delete(s->lease);
	cJSON_Delete(s->ds);
	cJSON_Delete(s->sync_addrs);
	nad_net_release(&s->nadnet);
	free(s->eps);
	free(s->targets);
	for (i = 0; i < s->nprobes; i++)
		free(s->probes[i].results);
	free(s->probes);
	memset(s, 0, sizeof(*s));
}

void nc_run_release(struct nc_run *r)
{
	nc_side_release(&r->side[0]);
	nc_side_release(&r->side[1]);
	free(r->findings);
	r->findings = NULL;
	r->nfindings = 0;
}

/* 403 becomes a finding, 404 "absent" (1), anything else fails (-1). */
static int read_failed(struct nc_run *r, struct nc_side *s, const char *what, struct kerr *e)
{
	if (kerr_is_http(e, 403)) {
		nc_find(r, s->role, true, what, "ask for read access (kubectl cclm rbac check lists what is needed)",
			"cannot read %s: %s", what, e->msg);
		kerr_clear(e);
		return 1;
	}
	if (kerr_is_http(e, 404)) {
		kerr_clear(e);
		return 1;
	}
	kerr_prefix(e, "%s cluster", s->role);
	return -1;
}

static int get_opt(struct nc_run *r, struct nc_side *s, const struct kres *res, const char *ns, const char *name,
		   cJSON **out, struct kerr *e)
{
	char what[256];

	*out = NULL;
	if (!kclient_get(s->cl->client, res, ns, name, out, e))
		return 0;
	*out = NULL;
	snprintf(what, sizeof(what), "%s %s/%s", res->plural, ns ? ns : "", name);
	return read_failed(r, s, what, e) < 0 ? -1 : 0;
}

static int observe_kubevirt(struct nc_run *r, struct nc_side *s, struct kerr *e)
{
	cJSON *items = NULL;

	if (kclient_list(s->cl->client, &KRES_KUBEVIRT, NULL, NULL, &items, NULL, e)) {
		if (!kerr_is_http(e, 403))
			return read_failed(r, s, "kubevirts", e) < 0 ? -1 : 0;
		/* may not list cluster-wide: the usual namespace */
		kerr_clear(e);
		if (kclient_list(s->cl->client, &KRES_KUBEVIRT, "openshift-cnv", NULL, &items, NULL, e))
			return read_failed(r, s, "kubevirts in openshift-cnv", e) < 0 ? -1 : 0;
	}
	if (cJSON_GetArraySize(items) > 0)
		s->kubevirt = cJSON_DetachItemFromArray(items, 0);
	cJSON_Delete(items);
	return 0;
}

static void collect_eps(struct nc_side *s)
{
	const cJSON *p;
	int n = cJSON_GetArraySize(s->pods);

	s->eps = calloc((size_t)(n ? n : 1), sizeof(*s->eps));
	if (!s->eps)
		return;
	cJSON_ArrayForEach(p, s->pods) {
		const char *role = json_str(json_get(p, "metadata.labels"), "kubevirt.io", "");
		const char *prole = json_str(json_get(p, "metadata.labels"), NC_LABEL_ROLE, "");
		struct nc_ep *ep;

		if (!strcmp(prole, NC_ROLE_VALUE)) {
			s->stale_probes++;
			continue;
		}
		if (json_get(p, "metadata.deletionTimestamp") ||
		    (strcmp(role, KVNET_HANDLER) && strcmp(role, KVNET_SYNC)))
			continue;
		ep = &s->eps[s->neps++];
		ep->sync = !strcmp(role, KVNET_SYNC);
		snprintf(ep->node, sizeof(ep->node), "%s", json_str(p, "spec.nodeName", ""));
		snprintf(ep->pod, sizeof(ep->pod), "%s", json_str(p, "metadata.name", ""));
		if (kvnet_pod_migration_ip(p, ep->ip, sizeof(ep->ip)))
			ep->ip[0] = '\0';
		ep->ready = kvnet_pod_ready(p);
		ep->leader = ep->sync && s->leader[0] && !strcmp(s->leader, ep->pod);
	}
}

int nc_observe(struct nc_run *r, struct nc_side *s, struct kerr *e)
{
	const cJSON *a;
	const char *name;

	s->want_handlers = -1;
	s->sync_addrs = cJSON_CreateArray();
	if (observe_kubevirt(r, s, e))
		return -1;
	if (!s->kubevirt)
		return 0;
	snprintf(s->kv_ns, sizeof(s->kv_ns), "%s", json_str(s->kubevirt, "metadata.namespace", ""));
	snprintf(s->kv_version, sizeof(s->kv_version), "%s", json_str(s->kubevirt, "status.observedKubeVirtVersion", ""));
	cJSON_ArrayForEach(a, json_get(s->kubevirt, "status.synchronizationAddresses"))
		if (cJSON_IsString(a))
			cJSON_AddItemToArray(s->sync_addrs, cJSON_CreateString(a->valuestring));
	if (get_opt(r, s, &KRES_HCO, s->kv_ns, "kubevirt-hyperconverged", &s->hco, e))
		return -1;
	if (s->hco) {
		const cJSON *v;

		cJSON_ArrayForEach(v, json_get(s->hco, "status.versions"))
			if (!strcmp(json_str(v, "name", ""), "operator"))
				snprintf(s->cnv, sizeof(s->cnv), "%s", json_str(v, "version", ""));
	}
	s->gate_on = kvnet_gate_on(s->hco, s->kubevirt);
	snprintf(s->network, sizeof(s->network), "%s", kvnet_network(s->hco, s->kubevirt));
	if (s->network[0]) {
		struct kerr pe = KERR_INIT;

		/* "ns/name" names a NAD elsewhere; KubeVirt wants it in its own namespace */
		name = strchr(s->network, '/') ? strchr(s->network, '/') + 1 : s->network;
		if (get_opt(r, s, &KRES_NAD, s->kv_ns, name, &s->nad, e))
			return -1;
		if (s->nad && !nad_net_parse(json_str(s->nad, "spec.config", "{}"), &s->nadnet, &pe))
			s->nad_parsed = true;
		else if (s->nad) {
			char obj[256];

			snprintf(obj, sizeof(obj), "NetworkAttachmentDefinition %s/%s", s->kv_ns, name);
			nc_find(r, s->role, true, obj, "kubectl cclm enable --replace-nad rewrites it",
				"its CNI config cannot be read: %s", pe.msg);
		}
	}
	if (kclient_list(s->cl->client, &KRES_POD, s->kv_ns, NULL, &s->pods, NULL, e)) {
		s->pods = NULL;
		if (read_failed(r, s, "pods", e) < 0)
			return -1;
	}
	if (get_opt(r, s, &KRES_LEASE, s->kv_ns, KVNET_SYNC, &s->lease, e) ||
	    get_opt(r, s, &KRES_DAEMONSET, s->kv_ns, KVNET_HANDLER, &s->ds, e))
		return -1;
	snprintf(s->leader, sizeof(s->leader), "%s", json_str(s->lease, "spec.holderIdentity", ""));
	if (s->ds) {
		s->want_handlers = (int)json_int(s->ds, "status.desiredNumberScheduled", -1);
		snprintf(s->image, sizeof(s->image), "%s", json_str(s->ds, "spec.template.spec.containers.0.image", ""));
	}
	collect_eps(s);
	return 0;
}
