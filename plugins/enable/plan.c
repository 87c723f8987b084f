/* plan.c — kubectl cclm enable decides: the preflight findings and the
 * writes for both clusters (see enable.h). Nothing here talks to a
 * cluster. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "enable.h"
#include "json.h"

int version_minor(const char *v, int *major, int *minor, int *patch)
{
	int n = 0;

	*major = *minor = *patch = 0;
	if (!v || !*v)
		return -1;
	if (*v == 'v')
		v++;
	if (sscanf(v, "%d.%d.%d%n", major, minor, patch, &n) < 2)
		return -1;
	return 0;
}

/* --- versions ------------------------------------------------------------ */

static void check_minimum(struct side *s)
{
	int ma, mi, pa;

	if (s->have_hco && !version_minor(s->cnv, &ma, &mi, &pa)) {
		if ((ma == 4 && mi < 20) || (ma == 1 && mi < 16) || ma < 1)
			side_find(s, true, "OpenShift Virtualization %s is too old: cross-cluster live migration needs 4.20 or later",
				  s->cnv);
	}
	if (!version_minor(s->kv_version, &ma, &mi, &pa) && ma == 1 && mi < 6)
		side_find(s, true, "KubeVirt %s is too old: cross-cluster live migration needs 1.6 or later", s->kv_version);
}

static void check_progressing(struct side *s)
{
	const cJSON *c;

	cJSON_ArrayForEach(c, json_get(s->hco, "status.conditions")) {
		if (strcmp(json_str(c, "type", ""), "Progressing") || strcmp(json_str(c, "status", ""), "True"))
			continue;
		side_find(s, true, "HyperConverged is progressing (%s: %s): wait until its upgrade or reconcile finishes",
			  json_str(c, "reason", "?"), json_str(c, "message", ""));
	}
}

static void compare_versions(struct side *a, struct side *b, const char *what, const char *va, const char *vb)
{
	int a1, a2, a3, b1, b2, b3;

	if (version_minor(va, &a1, &a2, &a3) || version_minor(vb, &b1, &b2, &b3))
		return;
	if (a1 != b1 || a2 != b2) {
		side_find(a, true, "%s %s here and %s on the %s cluster: different minor versions cannot sync (the handshake fails); upgrade one side first",
			  what, va, vb, b->role);
		side_find(b, true, "%s %s here and %s on the %s cluster: different minor versions cannot sync (the handshake fails); upgrade one side first",
			  what, vb, va, a->role);
	} else if (a3 != b3) {
		side_find(a, false, "%s %s here and %s on the %s cluster: the same minor, different z-streams", what, va, vb,
			  b->role);
		side_find(b, false, "%s %s here and %s on the %s cluster: the same minor, different z-streams", what, vb, va,
			  a->role);
	}
}

/* --- the migration network ------------------------------------------------- */

/* The NAD cclm would write: its shape, before the pool is known. */
struct shape {
	char type[32], master[64], bridge[64];
	int vlan, mtu;
	bool has_subnet;
	struct ipv4_net subnet;
};

static void shape_from_nad(struct shape *sh, const struct nad_net *n)
{
	memset(sh, 0, sizeof(*sh));
	snprintf(sh->type, sizeof(sh->type), "%s", n->type);
	snprintf(sh->master, sizeof(sh->master), "%s", n->master);
	snprintf(sh->bridge, sizeof(sh->bridge), "%s", n->bridge);
	sh->vlan = n->vlan;
	sh->mtu = n->mtu;
	sh->has_subnet = n->has_subnet;
	sh->subnet = n->subnet;
	/* "ens4.2001" is ens4 with a tag: keep the NIC, the tag is in vlan */
	if (sh->vlan && sh->master[0]) {
		char *dot = strrchr(sh->master, '.');

		if (dot && strtol(dot + 1, NULL, 10) == sh->vlan)
			*dot = '\0';
	}
}

/* The options override what the existing NAD says. */
static void shape_apply_opts(struct shape *sh, const struct enable_opts *o)
{
	if (o->nic) {
		snprintf(sh->type, sizeof(sh->type), "macvlan");
		snprintf(sh->master, sizeof(sh->master), "%s", o->nic);
		sh->bridge[0] = '\0';
	}
	if (o->bridge) {
		snprintf(sh->type, sizeof(sh->type), "bridge");
		snprintf(sh->bridge, sizeof(sh->bridge), "%s", o->bridge);
		sh->master[0] = '\0';
	}
	if (o->vlan)
		sh->vlan = (int)o->vlan;
	if (o->mtu)
		sh->mtu = (int)o->mtu;
	if (o->subnet) {
		sh->has_subnet = true;
		sh->subnet = o->subnet_net;
	}
}

static void describe_shape(const struct nad_net *n, char *out, size_t len)
{
	char net[20];

	ipv4_format(n->subnet.addr, net, sizeof(net));
	snprintf(out, len, "%s on %s, vlan %d, mtu %d, subnet %s/%d", n->type[0] ? n->type : "?",
		 n->master[0] ? n->master : n->bridge[0] ? n->bridge : "?", n->vlan, n->mtu, net,
		 n->has_subnet ? n->subnet.prefix : 0);
}

/* A NAD named on the command line but different from the one in place. */
static void check_against_opts(struct side *s, const struct enable_opts *o)
{
	const struct nad_net *n = &s->nadnet;
	struct shape have, want;
	char d[200];

	shape_from_nad(&have, n);
	want = have;
	shape_apply_opts(&want, o);
	describe_shape(n, d, sizeof(d));
	if (strcmp(have.type, want.type) || strcmp(have.master, want.master) || strcmp(have.bridge, want.bridge) ||
	    have.vlan != want.vlan || have.mtu != want.mtu || have.has_subnet != want.has_subnet ||
	    (want.has_subnet && (have.subnet.addr != want.subnet.addr || have.subnet.prefix != want.subnet.prefix)))
		side_find(s, true, "NAD '%s/%s' is %s, not what the options ask: --replace-nad rewrites it", s->kv_ns,
			  s->nad_name, d);
}

static void check_pair_nads(struct side *a, struct side *b)
{
	const struct nad_net *x = &a->nadnet, *y = &b->nadnet;
	struct buf pa = BUF_INIT, pb = BUF_INIT;
	char ip[20], net[20];
	ipv4 common;

	if (strcmp(x->type, y->type))
		side_find(a, true, "NADs differ: type %s here, %s on %s: --replace-nad makes them alike", x->type, y->type,
			  b->role);
	if (x->vlan != y->vlan)
		side_find(a, true, "NADs differ: vlan %d here, %d on %s: --replace-nad --vlan N makes them alike", x->vlan,
			  y->vlan, b->role);
	if (x->mtu != y->mtu)
		side_find(a, true, "NADs differ: mtu %d here, %d on %s (the smaller, %d, is what the path carries): --replace-nad --mtu N makes them alike",
			  x->mtu ? x->mtu : 1500, y->mtu ? y->mtu : 1500, b->role,
			  (x->mtu ? x->mtu : 1500) < (y->mtu ? y->mtu : 1500) ? (x->mtu ? x->mtu : 1500) : (y->mtu ? y->mtu : 1500));
	if (x->has_subnet && y->has_subnet &&
	    (x->subnet.addr != y->subnet.addr || x->subnet.prefix != y->subnet.prefix)) {
		ipv4_format(y->subnet.addr, net, sizeof(net));
		side_find(a, true, "NADs differ: subnet here is not %s/%d as on %s: --replace-nad --subnet CIDR makes them alike",
			  net, y->subnet.prefix, b->role);
	}
	if (!x->pool.n || !y->pool.n) {
		side_find(x->pool.n ? b : a, true,
			  "NAD '%s' hands out no address cclm can compute (IPAM '%s'): use whereabouts; --replace-nad rewrites it",
			  (x->pool.n ? b : a)->nad_name, (x->pool.n ? y : x)->ipam_type);
	} else if (ipam_pool_overlap(&x->pool, &y->pool, &common)) {
		ipv4_format(common, ip, sizeof(ip));
		ipam_pool_format(&x->pool, &pa, NULL);
		ipam_pool_format(&y->pool, &pb, NULL);
		side_find(a, true,
			  "address pools overlap: %s here and %s on %s share %s (both clusters would hand out the same addresses): --replace-nad splits the subnet between them",
			  pa.s, pb.s, b->role, ip);
		side_find(b, true, "address pools overlap: %s here and %s on %s share %s: --replace-nad splits the subnet between them",
			  pb.s, pa.s, a->role, ip);
	}
	buf_release(&pa);
	buf_release(&pb);
}

/* The CNI config cclm writes, as the JSON string of spec.config. */
static char *nad_config(const char *name, const struct shape *sh, const struct ipam_span *pool)
{
	cJSON *c = cJSON_CreateObject(), *ipam;
	char master[96], first[20], last[20], net[20], range[32];
	char *out;

	cJSON_AddStringToObject(c, "cniVersion", "0.3.1");
	cJSON_AddStringToObject(c, "name", name);
	cJSON_AddStringToObject(c, "type", sh->type);
	if (sh->bridge[0]) {
		cJSON_AddStringToObject(c, "bridge", sh->bridge);
		if (sh->vlan)
			cJSON_AddNumberToObject(c, "vlan", sh->vlan);
	} else {
		if (sh->vlan)
			snprintf(master, sizeof(master), "%s.%d", sh->master, sh->vlan);
		else
			snprintf(master, sizeof(master), "%s", sh->master);
		cJSON_AddStringToObject(c, "master", master);
		cJSON_AddStringToObject(c, "mode", "bridge");
	}
	if (sh->mtu)
		cJSON_AddNumberToObject(c, "mtu", sh->mtu);
	ipam = cJSON_AddObjectToObject(c, "ipam");
	ipv4_format(sh->subnet.addr, net, sizeof(net));
	snprintf(range, sizeof(range), "%s/%d", net, sh->subnet.prefix);
	ipv4_format(pool->first, first, sizeof(first));
	ipv4_format(pool->last, last, sizeof(last));
	cJSON_AddStringToObject(ipam, "type", "whereabouts");
	cJSON_AddStringToObject(ipam, "range", range);
	cJSON_AddStringToObject(ipam, "range_start", first);
	cJSON_AddStringToObject(ipam, "range_end", last);
	out = cJSON_PrintUnformatted(c);
	cJSON_Delete(c);
	return out;
}

static cJSON *nad_object(const struct side *s, const char *config)
{
	cJSON *o = cJSON_CreateObject(), *meta, *labels;

	cJSON_AddStringToObject(o, "apiVersion", "k8s.cni.cncf.io/v1");
	cJSON_AddStringToObject(o, "kind", "NetworkAttachmentDefinition");
	meta = cJSON_AddObjectToObject(o, "metadata");
	cJSON_AddStringToObject(meta, "name", s->nad_name);
	cJSON_AddStringToObject(meta, "namespace", s->kv_ns);
	if (s->nad) {
		const cJSON *keep;

		cJSON_AddStringToObject(meta, "resourceVersion", json_str(s->nad, "metadata.resourceVersion", ""));
		if ((keep = json_get(s->nad, "metadata.labels")))
			cJSON_AddItemToObject(meta, "labels", cJSON_Duplicate(keep, 1));
		if ((keep = json_get(s->nad, "metadata.annotations")))
			cJSON_AddItemToObject(meta, "annotations", cJSON_Duplicate(keep, 1));
	}
	labels = cJSON_GetObjectItem(meta, "labels");
	if (!labels)
		labels = cJSON_AddObjectToObject(meta, "labels");
	cJSON_DeleteItemFromObject(labels, CCLM_LABEL_MANAGED);
	cJSON_AddStringToObject(labels, CCLM_LABEL_MANAGED, CCLM_MANAGED_VALUE);
	cJSON_AddObjectToObject(o, "spec");
	cJSON_AddStringToObject(cJSON_GetObjectItem(o, "spec"), "config", config);
	return o;
}

static bool same_net(const struct nad_net *a, const struct nad_net *b)
{
	int i;

	if (strcmp(a->type, b->type) || strcmp(a->master, b->master) || strcmp(a->bridge, b->bridge) ||
	    a->vlan != b->vlan || a->mtu != b->mtu || a->has_subnet != b->has_subnet ||
	    a->subnet.addr != b->subnet.addr || a->subnet.prefix != b->subnet.prefix || a->pool.n != b->pool.n)
		return false;
	for (i = 0; i < a->pool.n; i++)
		if (a->pool.spans[i].first != b->pool.spans[i].first || a->pool.spans[i].last != b->pool.spans[i].last)
			return false;
	return true;
}

/* Plan the NAD of one side: write it when missing or (asked to) different. */
static void plan_nad(struct side *s, const struct shape *sh, const struct ipam_span *pool, bool rewrite)
{
	char *config = nad_config(s->nad_name, sh, pool);
	struct nad_net want = NAD_NET_INIT;
	struct kerr e = KERR_INIT;

	s->subnet = sh->subnet;
	ipam_pool_release(&s->pool);
	ipam_pool_add(&s->pool, pool->first, pool->last, NULL);
	s->pool_known = true;
	if (!config || nad_net_parse(config, &want, &e)) {
		side_find(s, true, "internal: the NAD cclm would write does not parse (%s)", e.msg);
		free(config);
		return;
	}
	if (!s->nad) {
		side_add_write(s, W_CREATE, &KRES_NAD, s->kv_ns, s->nad_name, nad_object(s, config),
			       "migration network (NetworkAttachmentDefinition)");
	} else if (rewrite && !(s->nad_parsed && same_net(&s->nadnet, &want))) {
		side_add_write(s, W_UPDATE, &KRES_NAD, s->kv_ns, s->nad_name, nad_object(s, config),
			       "migration network rewritten (NetworkAttachmentDefinition)");
		s->nad_replaced = true;
	}
	nad_net_release(&want);
	free(config);
}

/* The largest span of the subnet's usable addresses outside `taken`. */
static bool free_span(const struct ipv4_net *subnet, const struct ipam_pool *taken, struct ipam_span *out)
{
	struct ipam_pool rest = IPAM_POOL_INIT;
	ipv4 first = ipv4_net_first(subnet), last = ipv4_net_last(subnet);
	int i, best = -1;

	if (subnet->prefix < 31) {
		first++;
		last--;
	}
	if (ipam_pool_add(&rest, first, last, NULL))
		return false;
	for (i = 0; i < taken->n; i++)
		ipam_pool_remove(&rest, taken->spans[i].first, taken->spans[i].last, NULL);
	for (i = 0; i < rest.n; i++)
		if (best < 0 || rest.spans[i].last - rest.spans[i].first > rest.spans[best].last - rest.spans[best].first)
			best = i;
	if (best >= 0)
		*out = rest.spans[best];
	ipam_pool_release(&rest);
	return best >= 0;
}

static void keep_existing_pool(struct side *s)
{
	int i;

	ipam_pool_release(&s->pool);
	for (i = 0; i < s->nadnet.pool.n; i++)
		ipam_pool_add(&s->pool, s->nadnet.pool.spans[i].first, s->nadnet.pool.spans[i].last, NULL);
	s->subnet = s->nadnet.subnet;
	s->pool_known = s->nadnet.pool.n > 0;
}

static void plan_network(struct side *src, struct side *tgt, const struct enable_opts *o)
{
	struct side *sides[2] = { src, tgt };
	bool shape_opts = o->nic || o->bridge || o->vlan || o->mtu || o->subnet;
	struct shape sh;
	int i;

	if (src->nad && tgt->nad && !o->replace_nad) {
		if (!src->nad_parsed || !tgt->nad_parsed)
			return; /* said already */
		if (shape_opts) {
			check_against_opts(src, o);
			check_against_opts(tgt, o);
		}
		check_pair_nads(src, tgt);
		keep_existing_pool(src);
		keep_existing_pool(tgt);
		return;
	}
	/* One or both NADs to write: the shape from the options, else from a NAD in place. */
	memset(&sh, 0, sizeof(sh));
	if (src->nad && src->nad_parsed)
		shape_from_nad(&sh, &src->nadnet);
	else if (tgt->nad && tgt->nad_parsed)
		shape_from_nad(&sh, &tgt->nadnet);
	if (o->replace_nad && src->nad_parsed && tgt->nad_parsed && src->nadnet.mtu != tgt->nadnet.mtu && !o->mtu) {
		int a = src->nadnet.mtu ? src->nadnet.mtu : 1500, b = tgt->nadnet.mtu ? tgt->nadnet.mtu : 1500;

		sh.mtu = a < b ? a : b; /* what the path between them carries */
	}
	shape_apply_opts(&sh, o);
	if (!sh.type[0] || (!sh.master[0] && !sh.bridge[0])) {
		for (i = 0; i < 2; i++)
			side_find(sides[i], true,
				  "no migration network '%s' to use: give --nic IFACE (macvlan) or --bridge BR, with --subnet CIDR, or --network pod",
				  sides[i]->nad_name);
		return;
	}
	if (!sh.has_subnet) {
		for (i = 0; i < 2; i++)
			side_find(sides[i], true, "--subnet CIDR is needed to create the migration network '%s'",
				  sides[i]->nad_name);
		return;
	}
	if (o->replace_nad || (!src->nad && !tgt->nad)) {
		struct ipam_span parts[2];
		struct kerr e = KERR_INIT;

		if (ipam_split(&sh.subnet, 2, parts, &e)) {
			side_find(src, true, "%s", e.msg);
			side_find(tgt, true, "%s", e.msg);
			return;
		}
		plan_nad(src, &sh, &parts[0], true);
		plan_nad(tgt, &sh, &parts[1], true);
		return;
	}
	/* exactly one NAD in place, kept: the other side gets what it leaves free */
	{
		struct side *have = src->nad ? src : tgt, *make = src->nad ? tgt : src;
		struct ipam_span span;

		if (!have->nad_parsed)
			return;
		if (shape_opts)
			check_against_opts(have, o);
		keep_existing_pool(have);
		if (!have->nadnet.pool.n || !free_span(&sh.subnet, &have->nadnet.pool, &span)) {
			side_find(make, true, "the subnet has no addresses left beside the %s cluster's pool: --replace-nad splits it again",
				  have->role);
			return;
		}
		plan_nad(make, &sh, &span, false);
	}
}

/* --- HCO / KubeVirt, MTV ------------------------------------------------- */

static void want_field(cJSON *patch, const cJSON *have, const char *field, cJSON *want)
{
	const cJSON *h = json_get(have, field);

	if (h && cJSON_Compare(h, want, 1)) {
		cJSON_Delete(want);
		return;
	}
	cJSON_AddItemToObject(patch, field, want);
}

/* What liveMigrationConfig (HCO) or migrations (KubeVirt) must change. */
static cJSON *migration_changes(const cJSON *have, const struct side *s, const struct enable_opts *o)
{
	cJSON *p = cJSON_CreateObject();

	if (!o->disable && (s->nad_name[0] || (o->network && !strcmp(o->network, "pod")))) {
		if (s->nad_name[0])
			want_field(p, have, "network", cJSON_CreateString(s->nad_name));
		else if (json_get(have, "network"))
			cJSON_AddItemToObject(p, "network", cJSON_CreateNull());
	}
	if (o->bandwidth)
		want_field(p, have, "bandwidthPerMigration", cJSON_CreateString(o->bandwidth));
	if (o->completion_timeout >= 0)
		want_field(p, have, "completionTimeoutPerGiB", cJSON_CreateNumber((double)o->completion_timeout));
	if (o->progress_timeout >= 0)
		want_field(p, have, "progressTimeout", cJSON_CreateNumber((double)o->progress_timeout));
	if (o->parallel_cluster >= 0)
		want_field(p, have, "parallelMigrationsPerCluster", cJSON_CreateNumber((double)o->parallel_cluster));
	if (o->parallel_node >= 0)
		want_field(p, have, "parallelOutboundMigrationsPerNode", cJSON_CreateNumber((double)o->parallel_node));
	if (o->post_copy >= 0)
		want_field(p, have, "allowPostCopy", cJSON_CreateBool(o->post_copy));
	if (o->auto_converge >= 0)
		want_field(p, have, "allowAutoConverge", cJSON_CreateBool(o->auto_converge));
	if (!cJSON_GetArraySize(p)) {
		cJSON_Delete(p);
		return NULL;
	}
	return p;
}

static void describe_changes(const cJSON *lm, bool gate, bool disable, char *out, size_t n)
{
	const cJSON *f;
	size_t used = 0;

	out[0] = '\0';
	if (gate)
		used += (size_t)snprintf(out, n, "%s", disable ? "feature gate off" : "feature gate");
	cJSON_ArrayForEach(f, lm)
		if (used < n)
			used += (size_t)snprintf(out + used, n - used, "%s%s", used ? ", " : "", f->string);
}

static void plan_hco(struct side *s, const struct enable_opts *o)
{
	bool want_gate = !o->disable;
	bool gate = s->gate_on != want_gate;
	cJSON *lm = migration_changes(json_get(s->hco, "spec.liveMigrationConfig"), s, o), *patch, *spec;
	char what[160];

	if (!gate && !lm)
		return;
	describe_changes(lm, gate, o->disable, what, sizeof(what));
	patch = cJSON_CreateObject();
	spec = cJSON_AddObjectToObject(patch, "spec");
	if (gate)
		cJSON_AddBoolToObject(cJSON_AddObjectToObject(spec, "featureGates"), "decentralizedLiveMigration", want_gate);
	if (lm)
		cJSON_AddItemToObject(spec, "liveMigrationConfig", lm);
	side_add_write(s, W_PATCH_MERGE, &KRES_HCO, s->kv_ns, json_str(s->hco, "metadata.name", ""), patch, what);
}

/* Without HCO: the KubeVirt CR itself (the gate list is replaced whole,
 * guarded by the resourceVersion read, so a concurrent edit conflicts). */
static void plan_kubevirt(struct side *s, const struct enable_opts *o)
{
	bool want_gate = !o->disable, gate = s->gate_on != want_gate;
	cJSON *lm = migration_changes(json_get(s->kubevirt, "spec.configuration.migrations"), s, o), *patch, *conf;
	char what[160];

	if (!gate && !lm)
		return;
	describe_changes(lm, gate, o->disable, what, sizeof(what));
	patch = cJSON_CreateObject();
	cJSON_AddStringToObject(cJSON_AddObjectToObject(patch, "metadata"), "resourceVersion",
				json_str(s->kubevirt, "metadata.resourceVersion", ""));
	conf = cJSON_AddObjectToObject(cJSON_AddObjectToObject(patch, "spec"), "configuration");
	if (gate) {
		cJSON *gates = cJSON_CreateArray();
		const cJSON *g;

		cJSON_ArrayForEach(g, json_get(s->kubevirt, "spec.configuration.developerConfiguration.featureGates"))
			if (cJSON_IsString(g) && strcasecmp(g->valuestring, "DecentralizedLiveMigration"))
				cJSON_AddItemToArray(gates, cJSON_CreateString(g->valuestring));
		if (want_gate)
			cJSON_AddItemToArray(gates, cJSON_CreateString("DecentralizedLiveMigration"));
		cJSON_AddItemToObject(cJSON_AddObjectToObject(conf, "developerConfiguration"), "featureGates", gates);
	}
	if (lm)
		cJSON_AddItemToObject(conf, "migrations", lm);
	side_add_write(s, W_PATCH_MERGE, &KRES_KUBEVIRT, s->kv_ns, json_str(s->kubevirt, "metadata.name", ""), patch,
		       what);
}

static void plan_mtv(struct side *s, const struct enable_opts *o)
{
	cJSON *patch;

	if (o->disable || !strcmp(o->mtv, "no"))
		return;
	if (!s->have_mtv) {
		if (!strcmp(o->mtv, "yes"))
			side_find(s, true, "MTV is not installed here (no ForkliftController): use --mtv auto or --mtv no");
		return;
	}
	if (!strcmp(json_str(s->forklift, "spec.feature_ocp_live_migration", ""), "true"))
		return;
	patch = cJSON_CreateObject();
	cJSON_AddStringToObject(cJSON_AddObjectToObject(patch, "spec"), "feature_ocp_live_migration", "true");
	side_add_write(s, W_PATCH_MERGE, &KRES_FORKLIFTCONTROLLER, json_str(s->forklift, "metadata.namespace", ""),
		       json_str(s->forklift, "metadata.name", ""), patch, "MTV live migration (feature_ocp_live_migration)");
}

static void refuse_inflight(struct side *s, const char *why)
{
	struct buf names = BUF_INIT;
	const cJSON *n;
	int count = cJSON_GetArraySize(s->inflight);

	if (!count)
		return;
	cJSON_ArrayForEach(n, s->inflight)
		buf_addf(&names, "%s%s", names.len ? ", " : "", n->valuestring);
	side_find(s, true, "%d cross-cluster migration%s in flight (%s): %s", count, count == 1 ? "" : "s", names.s,
		  why);
	buf_release(&names);
}

void plan_pair(struct side *src, struct side *tgt, const struct enable_opts *o)
{
	struct side *sides[2] = { src, tgt };
	int i;

	for (i = 0; i < 2; i++) {
		struct side *s = sides[i];

		if (!s->kubevirt) {
			if (!s->forbidden.len)
				side_find(s, true, "KubeVirt is not installed (no KubeVirt CR): install OpenShift Virtualization 4.20+ or KubeVirt 1.6+ first");
			continue;
		}
		check_minimum(s);
		check_progressing(s);
	}
	compare_versions(src, tgt, "OpenShift", src->ocp, tgt->ocp);
	if (src->have_hco && tgt->have_hco)
		compare_versions(src, tgt, "OpenShift Virtualization", src->cnv, tgt->cnv);
	else
		compare_versions(src, tgt, "KubeVirt", src->kv_version, tgt->kv_version);
	if (!src->kubevirt || !tgt->kubevirt)
		return;
	if (o->disable) {
		for (i = 0; i < 2; i++)
			refuse_inflight(sides[i], "let them finish or cancel them before --disable");
	} else if (o->network && !strcmp(o->network, "pod")) {
		src->nad_name[0] = tgt->nad_name[0] = '\0';
	} else {
		if (o->replace_nad)
			for (i = 0; i < 2; i++)
				refuse_inflight(sides[i], "let them finish before --replace-nad restarts virt-handlers");
		plan_network(src, tgt, o);
	}
	for (i = 0; i < 2; i++) {
		if (sides[i]->have_hco)
			plan_hco(sides[i], o);
		else
			plan_kubevirt(sides[i], o);
		plan_mtv(sides[i], o);
	}
}
