/* report.c — what kubectl cclm netcheck prints: the static findings, the
 * addresses per node, a matrix per direction and the verdict, as tables or
 * as one NetcheckReport object (-o json|yaml; fields documented in
 * man/kubectl-cclm-netcheck.1). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "netcheck.h"
#include "output.h"

static const char *const verdict_names[] = { "pass", "warn", "fail" };

static enum nc_verdict worse(enum nc_verdict a, enum nc_verdict b)
{
	return a > b ? a : b;
}

enum nc_verdict nc_verdict_of(const struct nc_run *r)
{
	enum nc_verdict v = NC_PASS;
	int i, p, t;

	for (i = 0; i < r->nfindings; i++)
		v = worse(v, r->findings[i].error ? NC_FAIL : NC_WARN);
	if (r->timed_out)
		v = NC_FAIL;
	for (i = 0; i < 2 && r->probed; i++) {
		const struct nc_side *s = &r->side[i];

		for (p = 0; p < s->nprobes; p++) {
			if (s->probes[p].error[0])
				v = NC_FAIL;
			for (t = 0; t < s->ntargets; t++)
				v = worse(v, nc_cell_severity(nc_cell(&s->probes[p], &s->targets[t], NULL)));
		}
	}
	return v;
}

static void target_label(const struct nc_target *t, char *out, size_t n)
{
	if (t->sync)
		snprintf(out, n, "SYNC %s:%d", t->ip, t->port);
	else
		snprintf(out, n, "%s %s", t->node[0] ? t->node : "handler", t->ip);
}

static const struct nc_result *first_failed(const struct nc_probe *p, const struct nc_target *t, const char *test)
{
	int i;

	for (i = 0; i < p->nresults; i++)
		if (!strcmp(p->results[i].test, test) && !strcmp(p->results[i].dst, t->ip))
			return &p->results[i];
	return NULL;
}

static void cell_text(const struct nc_probe *p, const struct nc_target *t, bool wide, char *out, size_t n)
{
	const char *detail, *cell = nc_cell(p, t, &detail);
	const struct nc_result *m = first_failed(p, t, "mtu");

	if (!strcmp(cell, "mtu") && m && m->max)
		snprintf(out, n, "mtu (%d do not pass, %d do)", m->size, m->max);
	else if (!strcmp(cell, "mtu") && m)
		snprintf(out, n, "mtu (%d do not pass)", m->size);
	else if (wide && detail && strcmp(cell, "ok"))
		snprintf(out, n, "%s (%s)", cell, detail);
	else
		snprintf(out, n, "%s", cell);
}

/* ---- json ------------------------------------------------------------------ */

static cJSON *ep_json(const struct nc_ep *ep)
{
	cJSON *o = cJSON_CreateObject();

	cJSON_AddStringToObject(o, "node", ep->node);
	cJSON_AddStringToObject(o, "pod", ep->pod);
	cJSON_AddStringToObject(o, "address", ep->ip);
	cJSON_AddBoolToObject(o, "ready", ep->ready);
	if (ep->sync)
		cJSON_AddBoolToObject(o, "leader", ep->leader);
	return o;
}

static cJSON *side_json(const struct nc_side *s, const struct nc_opts *o)
{
	cJSON *j = cJSON_CreateObject(), *n, *h, *sy;
	struct buf pool = BUF_INIT;
	char net[20], cidr[32];
	int i;

	cJSON_AddStringToObject(j, "context", kclient_name(s->cl->client));
	cJSON_AddStringToObject(j, "namespace", s->kv_ns);
	cJSON_AddStringToObject(j, "managedBy", s->hco ? "HyperConverged" : s->kubevirt ? "KubeVirt" : "");
	cJSON_AddBoolToObject(j, "featureGate", s->gate_on);
	if (!s->network[0]) {
		cJSON_AddNullToObject(j, "network");
	} else {
		n = cJSON_AddObjectToObject(j, "network");
		cJSON_AddStringToObject(n, "name", s->network);
		cJSON_AddBoolToObject(n, "exists", s->nad != NULL);
		if (s->nad_parsed) {
			cJSON_AddStringToObject(n, "type", s->nadnet.type);
			cJSON_AddStringToObject(n, "master", s->nadnet.master);
			cJSON_AddStringToObject(n, "bridge", s->nadnet.bridge);
			cJSON_AddNumberToObject(n, "vlan", s->nadnet.vlan);
			cJSON_AddNumberToObject(n, "mtu", s->nadnet.mtu ? s->nadnet.mtu : NC_DEFAULT_MTU);
			cJSON_AddStringToObject(n, "ipam", s->nadnet.ipam_type);
			ipv4_format(s->nadnet.subnet.addr, net, sizeof(net));
			snprintf(cidr, sizeof(cidr), "%s/%d", net, s->nadnet.subnet.prefix);
			cJSON_AddStringToObject(n, "subnet", s->nadnet.has_subnet ? cidr : "");
			ipam_pool_format(&s->nadnet.pool, &pool, NULL);
			cJSON_AddStringToObject(n, "pool", pool.s);
		}
	}
	cJSON_AddItemToObject(j, "syncAddresses", cJSON_Duplicate(s->sync_addrs, 1));
	cJSON_AddStringToObject(j, "syncLeader", s->leader);
	cJSON_AddStringToObject(j, "probeImage", o->image ? o->image : s->image);
	h = cJSON_AddArrayToObject(j, "handlers");
	sy = cJSON_AddArrayToObject(j, "syncControllers");
	for (i = 0; i < s->neps; i++)
		cJSON_AddItemToArray(s->eps[i].sync ? sy : h, ep_json(&s->eps[i]));
	buf_release(&pool);
	return j;
}

static cJSON *result_json(const struct nc_result *res)
{
	cJSON *o = cJSON_CreateObject();

	cJSON_AddStringToObject(o, "result", res->result);
	if (res->ms >= 0)
		cJSON_AddNumberToObject(o, "ms", (double)res->ms);
	if (res->port)
		cJSON_AddNumberToObject(o, "port", res->port);
	if (res->size)
		cJSON_AddNumberToObject(o, "size", res->size);
	if (res->max)
		cJSON_AddNumberToObject(o, "max", res->max);
	cJSON_AddStringToObject(o, "detail", res->detail);
	return o;
}

static void matrix_json(cJSON *arr, const struct nc_side *s, const struct nc_side *peer)
{
	int p, t, i;

	for (p = 0; p < s->nprobes; p++)
		for (t = 0; t < s->ntargets; t++) {
			const struct nc_probe *pr = &s->probes[p];
			const struct nc_target *tg = &s->targets[t];
			const char *detail, *cell = nc_cell(pr, tg, &detail);
			cJSON *c = cJSON_CreateObject(), *tests;

			cJSON_AddStringToObject(c, "from", s->role);
			cJSON_AddStringToObject(c, "to", peer->role);
			cJSON_AddStringToObject(c, "sourceNode", pr->node);
			cJSON_AddStringToObject(c, "sourceAddress", pr->src);
			cJSON_AddStringToObject(c, "target", tg->sync ? "sync" : "handler");
			cJSON_AddStringToObject(c, "targetNode", tg->node);
			cJSON_AddStringToObject(c, "address", tg->ip);
			if (tg->sync)
				cJSON_AddNumberToObject(c, "port", tg->port);
			cJSON_AddStringToObject(c, "state", cell);
			cJSON_AddStringToObject(c, "detail", detail && strcmp(cell, "ok") ? detail : "");
			tests = cJSON_AddObjectToObject(c, "tests");
			for (i = 0; i < pr->nresults; i++)
				if (!strcmp(pr->results[i].dst, tg->ip) && !cJSON_GetObjectItem(tests, pr->results[i].test))
					cJSON_AddItemToObject(tests, pr->results[i].test, result_json(&pr->results[i]));
			cJSON_AddItemToArray(arr, c);
		}
}

static int report_json(const struct nc_run *r, const char *output)
{
	cJSON *doc = cJSON_CreateObject(), *cl, *arr, *pr;
	struct kerr e = KERR_INIT;
	int i, k, rc;

	cJSON_AddStringToObject(doc, "kind", "NetcheckReport");
	cJSON_AddStringToObject(doc, "verdict", verdict_names[nc_verdict_of(r)]);
	cl = cJSON_AddObjectToObject(doc, "clusters");
	for (i = 0; i < 2; i++)
		cJSON_AddItemToObject(cl, r->side[i].role, side_json(&r->side[i], r->o));
	arr = cJSON_AddArrayToObject(doc, "findings");
	for (i = 0; i < r->nfindings; i++) {
		const struct nc_finding *f = &r->findings[i];
		cJSON *x = cJSON_CreateObject();

		cJSON_AddStringToObject(x, "severity", f->error ? "error" : "warning");
		cJSON_AddStringToObject(x, "cluster", f->cluster);
		cJSON_AddStringToObject(x, "object", f->object);
		cJSON_AddStringToObject(x, "message", f->text);
		cJSON_AddStringToObject(x, "fix", f->fix);
		cJSON_AddItemToArray(arr, x);
	}
	pr = cJSON_AddObjectToObject(doc, "probes");
	cJSON_AddBoolToObject(pr, "ran", r->probed);
	cJSON_AddStringToObject(pr, "skipped", r->skipped);
	cJSON_AddStringToObject(pr, "run", r->probed ? r->run_id : "");
	cJSON_AddBoolToObject(pr, "timedOut", r->timed_out);
	cJSON_AddBoolToObject(pr, "kept", r->probed && r->o->keep_pods);
	arr = cJSON_AddArrayToObject(pr, "pods");
	for (i = 0; i < 2; i++)
		for (k = 0; k < r->side[i].nprobes; k++) {
			const struct nc_probe *p = &r->side[i].probes[k];
			cJSON *x = cJSON_CreateObject();

			cJSON_AddStringToObject(x, "cluster", r->side[i].role);
			cJSON_AddStringToObject(x, "node", p->node);
			cJSON_AddStringToObject(x, "pod", p->pod);
			cJSON_AddStringToObject(x, "phase", p->phase);
			cJSON_AddStringToObject(x, "address", p->src);
			cJSON_AddNumberToObject(x, "tests", p->nresults);
			cJSON_AddStringToObject(x, "error", p->error);
			cJSON_AddItemToArray(arr, x);
		}
	arr = cJSON_AddArrayToObject(doc, "matrix");
	matrix_json(arr, &r->side[0], &r->side[1]);
	matrix_json(arr, &r->side[1], &r->side[0]);
	rc = output_object(stdout, output, doc, &e);
	cJSON_Delete(doc);
	return rc;
}

/* ---- tables ---------------------------------------------------------------- */

static void print_findings(const struct nc_run *r, bool wide)
{
	static const char *const head[] = { "CLUSTER", "SEVERITY", "OBJECT", "FINDING", "FIX" };
	struct table *t;
	int i;

	if (!r->nfindings) {
		printf("static checks: no finding\n");
		return;
	}
	t = table_new(wide ? 5 : 4, head);
	for (i = 0; i < r->nfindings; i++) {
		const struct nc_finding *f = &r->findings[i];
		char text[1200];
		const char *row[5] = { f->cluster, f->error ? "error" : "warning", f->object, text, f->fix };

		if (wide)
			snprintf(text, sizeof(text), "%s", f->text);
		else
			snprintf(text, sizeof(text), "%s%s%s", f->text, f->fix[0] ? "; fix: " : "", f->fix);
		table_add(t, row);
	}
	table_print(t, stdout, true);
	table_free(t);
}

static void print_addresses(const struct nc_run *r)
{
	static const char *const head[] = { "CLUSTER", "NODE", "VIRT-HANDLER", "SYNC-CONTROLLER" };
	struct table *t = table_new(4, head);
	int i, k, m;

	for (i = 0; i < 2; i++) {
		const struct nc_side *s = &r->side[i];

		for (k = 0; k < s->neps; k++) {
			struct buf h = BUF_INIT, sy = BUF_INIT;
			const char *row[4];
			bool seen = false;

			for (m = 0; m < k; m++)
				seen |= !strcmp(s->eps[m].node, s->eps[k].node);
			if (seen)
				continue;
			for (m = 0; m < s->neps; m++) {
				const struct nc_ep *ep = &s->eps[m];

				if (strcmp(ep->node, s->eps[k].node))
					continue;
				buf_addf(ep->sync ? &sy : &h, "%s%s%s", (ep->sync ? sy.len : h.len) ? ", " : "",
					 ep->ip[0] ? ep->ip : "none", ep->leader ? " (leader)" : "");
			}
			row[0] = s->role;
			row[1] = s->eps[k].node[0] ? s->eps[k].node : "-";
			row[2] = h.len ? h.s : "-";
			row[3] = sy.len ? sy.s : "-";
			table_add(t, row);
			buf_release(&h);
			buf_release(&sy);
		}
	}
	table_print(t, stdout, true);
	table_free(t);
}

static void print_matrix(const struct nc_side *s, const struct nc_side *peer, bool wide)
{
	const char **head = calloc((size_t)s->ntargets + 1, sizeof(*head));
	char (*labels)[256] = calloc((size_t)s->ntargets + 1, sizeof(*labels));
	char (*cells)[400] = calloc((size_t)s->ntargets + 1, sizeof(*cells));
	const char **row = calloc((size_t)s->ntargets + 1, sizeof(*row));
	struct table *t;
	int p, k;

	printf("\n%s -> %s (source nodes x target addresses)\n", s->role, peer->role);
	if (!head || !labels || !cells || !row || !s->ntargets) {
		printf("no %s address to probe\n", peer->role);
		goto out;
	}
	snprintf(labels[0], sizeof(labels[0]), "%s NODE", !strcmp(s->role, "source") ? "SOURCE" : "TARGET");
	head[0] = labels[0];
	for (k = 0; k < s->ntargets; k++) {
		target_label(&s->targets[k], labels[k + 1], sizeof(labels[k + 1]));
		head[k + 1] = labels[k + 1];
	}
	t = table_new(s->ntargets + 1, head);
	for (p = 0; p < s->nprobes; p++) {
		row[0] = s->probes[p].node;
		for (k = 0; k < s->ntargets; k++) {
			cell_text(&s->probes[p], &s->targets[k], wide, cells[k + 1], sizeof(cells[k + 1]));
			row[k + 1] = cells[k + 1];
		}
		table_add(t, row);
	}
	table_print(t, stdout, true);
	table_free(t);
	for (p = 0; p < s->nprobes; p++)
		if (s->probes[p].error[0])
			printf("probe on %s: %s\n", s->probes[p].node, s->probes[p].error);
out:
	free(head);
	free(labels);
	free(cells);
	free(row);
}

int nc_report(const struct nc_run *r, const char *output)
{
	bool wide = output && !strcmp(output, "wide");

	if (output && !wide)
		return report_json(r, output);
	print_findings(r, wide);
	printf("\n");
	print_addresses(r);
	if (r->probed) {
		print_matrix(&r->side[0], &r->side[1], wide);
		print_matrix(&r->side[1], &r->side[0], wide);
	} else {
		printf("\nprobes: not run (%s)\n", r->skipped);
	}
	printf("\nverdict: %s\n", verdict_names[nc_verdict_of(r)]);
	return 0;
}
