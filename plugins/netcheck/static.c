/* static.c — the checks kubectl cclm netcheck makes from the API alone: the
 * gate, the migration network and its NAD on both clusters, the two NADs
 * alike, disjoint pools, every virt-handler and sync controller with a
 * migration0 address from its own cluster's pool and none twice, the sync
 * address inside the subnet and the current leader's (see netcheck.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "kvnet.h"
#include "netcheck.h"

static void enable_cmd(const struct nc_run *r, const char *extra, char *out, size_t n)
{
	snprintf(out, n, "kubectl cclm enable --source %s --target %s%s%s", kclient_name(r->side[0].cl->client),
		 kclient_name(r->side[1].cl->client), extra[0] ? " " : "", extra);
}

static const char *cr_object(const struct nc_side *s, char *out, size_t n)
{
	if (s->hco)
		snprintf(out, n, "HyperConverged %s/%s", s->kv_ns, json_str(s->hco, "metadata.name", ""));
	else
		snprintf(out, n, "KubeVirt %s/%s", s->kv_ns, json_str(s->kubevirt, "metadata.name", ""));
	return out;
}

static int mtu_of(const struct nad_net *n)
{
	return n->mtu ? n->mtu : NC_DEFAULT_MTU;
}

/* The gate, the network and its NAD on one side. */
static void check_config(struct nc_run *r, struct nc_side *s)
{
	char obj[256], fix[512];

	if (!s->kubevirt) {
		nc_find(r, s->role, true, "KubeVirt", "install OpenShift Virtualization 4.20+ or KubeVirt 1.6+",
			"no KubeVirt CR on this cluster");
		s->blocked = true;
		return;
	}
	if (!s->gate_on) {
		enable_cmd(r, "", fix, sizeof(fix));
		nc_find(r, s->role, true, cr_object(s, obj, sizeof(obj)), fix,
			"the DecentralizedLiveMigration feature gate is off");
		s->blocked = true;
	}
	if (!s->network[0]) {
		enable_cmd(r, "--nic IFACE --vlan N --subnet CIDR", fix, sizeof(fix));
		nc_find(r, s->role, true, cr_object(s, obj, sizeof(obj)), fix,
			"no migration network: %s is not set, so migrations would use the pod network",
			s->hco ? "spec.liveMigrationConfig.network" : "spec.configuration.migrations.network");
		s->blocked = true;
		return;
	}
	if (!s->nad) {
		enable_cmd(r, "--nic IFACE --vlan N --subnet CIDR", fix, sizeof(fix));
		snprintf(obj, sizeof(obj), "NetworkAttachmentDefinition %s/%s", s->kv_ns, s->network);
		nc_find(r, s->role, true, obj, fix, "the migration network '%s' names a NAD that does not exist in %s",
			s->network, s->kv_ns);
		s->blocked = true;
	}
}

/* The two NADs: the same shape, disjoint pools. */
static void check_pair(struct nc_run *r)
{
	struct nc_side *a = &r->side[0], *b = &r->side[1];
	const struct nad_net *x = &a->nadnet, *y = &b->nadnet;
	char obj[512], fix[512], ip[20], n1[20], n2[20];
	struct buf pa = BUF_INIT, pb = BUF_INIT;
	ipv4 common;

	if (!a->nad_parsed || !b->nad_parsed)
		return;
	snprintf(obj, sizeof(obj), "NetworkAttachmentDefinition %s/%s, %s/%s", a->kv_ns, a->network, b->kv_ns,
		 b->network);
	if (strcmp(x->type, y->type)) {
		enable_cmd(r, "--replace-nad", fix, sizeof(fix));
		nc_find(r, "both", true, obj, fix, "the NADs differ: CNI type %s on source, %s on target", x->type, y->type);
	}
	if (x->vlan != y->vlan) {
		enable_cmd(r, "--replace-nad --vlan N", fix, sizeof(fix));
		nc_find(r, "both", true, obj, fix,
			"the NADs differ: VLAN %d on source, %d on target (not one L2 segment)", x->vlan, y->vlan);
	}
	if (mtu_of(x) != mtu_of(y)) {
		int lo = mtu_of(x) < mtu_of(y) ? mtu_of(x) : mtu_of(y);
		char extra[64];

		snprintf(extra, sizeof(extra), "--replace-nad --mtu %d", lo);
		enable_cmd(r, extra, fix, sizeof(fix));
		nc_find(r, "both", true, obj, fix,
			"the NADs differ: MTU %d on source, %d on target; the smaller, %d, is what both ends can use",
			mtu_of(x), mtu_of(y), lo);
	}
	if (x->has_subnet && y->has_subnet &&
	    (x->subnet.addr != y->subnet.addr || x->subnet.prefix != y->subnet.prefix)) {
		ipv4_format(x->subnet.addr, n1, sizeof(n1));
		ipv4_format(y->subnet.addr, n2, sizeof(n2));
		enable_cmd(r, "--replace-nad --subnet CIDR", fix, sizeof(fix));
		nc_find(r, "both", true, obj, fix, "the NADs differ: subnet %s/%d on source, %s/%d on target", n1,
			x->subnet.prefix, n2, y->subnet.prefix);
	}
	if (!x->pool.n || !y->pool.n) {
		nc_find(r, !x->pool.n ? "source" : "target", false, obj, "use whereabouts with range_start/range_end",
			"the address pool cannot be computed (IPAM '%s'), so overlap is not checked",
			(!x->pool.n ? x : y)->ipam_type);
	} else if (ipam_pool_overlap(&x->pool, &y->pool, &common)) {
		ipv4_format(common, ip, sizeof(ip));
		ipam_pool_format(&x->pool, &pa, NULL);
		ipam_pool_format(&y->pool, &pb, NULL);
		enable_cmd(r, "--replace-nad", fix, sizeof(fix));
		nc_find(r, "both", true, obj, fix,
			"the address pools overlap: %s on source and %s on target share %s; both clusters hand out the same addresses (split brain, reference 9.6)",
			pa.s, pb.s, ip);
	}
	buf_release(&pa);
	buf_release(&pb);
}

/* Every handler and sync pod: an address from its own pool. */
static void check_pods(struct nc_run *r, struct nc_side *s)
{
	char obj[512], fix[512];
	int i, handlers = 0, syncs = 0;

	for (i = 0; i < s->neps; i++) {
		const struct nc_ep *ep = &s->eps[i];
		ipv4 a;

		snprintf(obj, sizeof(obj), "pod %s/%s on %s", s->kv_ns, ep->pod, ep->node[0] ? ep->node : "no node");
		snprintf(fix, sizeof(fix), "kubectl --context %s -n %s delete pod %s (it comes back on the NAD)",
			 kclient_name(s->cl->client), s->kv_ns, ep->pod);
		if (ep->sync)
			syncs++;
		else
			handlers++;
		if (!ep->ready)
			nc_find(r, s->role, false, obj, "see kubectl describe pod", "not Ready");
		if (!ep->ip[0]) {
			if (s->nad)
				nc_find(r, s->role, true, obj, fix, "no %s address (no Multus network-status for it)",
					KVNET_IFACE);
			continue;
		}
		if (s->nad_parsed && s->nadnet.pool.n &&
		    (ipv4_parse(ep->ip, &a, "address", NULL) || !ipam_pool_contains(&s->nadnet.pool, a))) {
			struct buf pool = BUF_INIT;

			ipam_pool_format(&s->nadnet.pool, &pool, NULL);
			nc_find(r, s->role, true, obj, fix, "%s address %s is outside this cluster's pool %s", KVNET_IFACE,
				ep->ip, pool.s);
			buf_release(&pool);
		}
	}
	if (s->blocked)
		return;
	snprintf(obj, sizeof(obj), "DaemonSet %s/%s", s->kv_ns, KVNET_HANDLER);
	if (!handlers)
		nc_find(r, s->role, true, obj, "check virt-operator and the DaemonSet's events", "no virt-handler pod runs");
	else if (s->want_handlers > handlers)
		nc_find(r, s->role, false, obj, "check the DaemonSet's events",
			"%d of %d virt-handler pods exist", handlers, s->want_handlers);
	if (!syncs) {
		snprintf(obj, sizeof(obj), "Deployment %s/%s", s->kv_ns, KVNET_SYNC);
		nc_find(r, s->role, true, obj, "check virt-operator: it deploys the sync controller while the gate is on",
			"no virt-synchronization-controller pod runs");
	}
}

/* No address twice, across both clusters. */
static void check_duplicates(struct nc_run *r)
{
	char fix[512];
	int i, j, k, l;

	enable_cmd(r, "--replace-nad", fix, sizeof(fix));
	for (i = 0; i < 2; i++)
		for (j = 0; j < r->side[i].neps; j++) {
			const struct nc_ep *a = &r->side[i].eps[j];

			if (!a->ip[0])
				continue;
			for (k = i; k < 2; k++)
				for (l = (k == i ? j + 1 : 0); l < r->side[k].neps; l++) {
					const struct nc_ep *b = &r->side[k].eps[l];
					char obj[600];

					if (strcmp(a->ip, b->ip))
						continue;
					snprintf(obj, sizeof(obj), "pods %s %s/%s and %s %s/%s", r->side[i].role, r->side[i].kv_ns,
						 a->pod, r->side[k].role, r->side[k].kv_ns, b->pod);
					nc_find(r, i == k ? r->side[i].role : "both", true, obj, fix,
						"duplicate %s address %s: a peer dialing it may reach the wrong pod", KVNET_IFACE,
						a->ip);
				}
		}
}

/* The advertised sync address: there, inside the subnet, the leader's. */
static void check_sync_address(struct nc_run *r, struct nc_side *s)
{
	char obj[256], host[64];
	const cJSON *a;
	int port, i;

	if (!s->kubevirt || !s->gate_on)
		return;
	snprintf(obj, sizeof(obj), "KubeVirt %s/%s status.synchronizationAddresses", s->kv_ns,
		 json_str(s->kubevirt, "metadata.name", ""));
	if (!cJSON_GetArraySize(s->sync_addrs)) {
		nc_find(r, s->role, true, obj, "wait for the sync controller to be Ready (kubectl cclm enable waits for it)",
			"no sync address advertised%s", s->leader[0] ? "" : " (no sync leader Lease holder)");
		return;
	}
	cJSON_ArrayForEach(a, s->sync_addrs) {
		const struct nc_ep *owner = NULL;
		ipv4 ip;

		if (kvnet_split_addr(a->valuestring, host, sizeof(host), &port)) {
			nc_find(r, s->role, true, obj, "check virt-operator", "'%s' is not an ip:port address", a->valuestring);
			continue;
		}
		if (s->nad_parsed && s->nadnet.has_subnet &&
		    (ipv4_parse(host, &ip, "address", NULL) || !ipv4_net_contains(&s->nadnet.subnet, ip))) {
			char net[20];

			ipv4_format(s->nadnet.subnet.addr, net, sizeof(net));
			nc_find(r, s->role, true, obj,
				"restart the sync controller pods so they attach to the migration network",
				"sync address %s is outside the migration subnet %s/%d (the pod network?)", a->valuestring, net,
				s->nadnet.subnet.prefix);
		}
		for (i = 0; i < s->neps; i++)
			if (s->eps[i].sync && !strcmp(s->eps[i].ip, host))
				owner = &s->eps[i];
		if (!owner)
			nc_find(r, s->role, true, obj, "wait for virt-operator to update it; a stale address stalls migrations",
				"sync address %s belongs to no running sync controller pod", a->valuestring);
		else if (s->leader[0] && !owner->leader)
			nc_find(r, s->role, true, obj, "wait for virt-operator to update it; a stale address stalls migrations",
				"sync address %s is pod %s's, but the leader is %s", a->valuestring, owner->pod, s->leader);
	}
}

static void check_versions(struct nc_run *r)
{
	const char *va = r->side[0].cnv[0] ? r->side[0].cnv : r->side[0].kv_version;
	const char *vb = r->side[1].cnv[0] ? r->side[1].cnv : r->side[1].kv_version;
	int a1, a2, a3 = 0, b1, b2, b3 = 0;

	if (sscanf(va + (*va == 'v'), "%d.%d.%d", &a1, &a2, &a3) < 2 ||
	    sscanf(vb + (*vb == 'v'), "%d.%d.%d", &b1, &b2, &b3) < 2)
		return;
	if (a1 != b1 || a2 != b2)
		nc_find(r, "both", true, "versions", "upgrade one cluster first",
			"%s on source, %s on target: different minor versions cannot sync (the TLS handshake fails)", va, vb);
	else if (a3 != b3)
		nc_find(r, "both", false, "versions", "upgrade the older one when convenient",
			"%s on source, %s on target: the same minor, different z-streams", va, vb);
}

static void check_stale(struct nc_run *r, struct nc_side *s)
{
	char fix[512];

	if (!s->stale_probes)
		return;
	snprintf(fix, sizeof(fix), "kubectl --context %s -n %s delete pods -l %s=%s", kclient_name(s->cl->client), s->kv_ns,
		 NC_LABEL_ROLE, NC_ROLE_VALUE);
	nc_find(r, s->role, false, "probe pods", fix, "%d probe pod%s left from an earlier run (--keep-pods, or killed)",
		s->stale_probes, s->stale_probes == 1 ? "" : "s");
}

void nc_static_checks(struct nc_run *r)
{
	int i;

	for (i = 0; i < 2; i++)
		check_config(r, &r->side[i]);
	if (r->side[0].kubevirt && r->side[1].kubevirt)
		check_versions(r);
	check_pair(r);
	for (i = 0; i < 2; i++) {
		check_pods(r, &r->side[i]);
		check_sync_address(r, &r->side[i]);
		check_stale(r, &r->side[i]);
	}
	check_duplicates(r);
}
