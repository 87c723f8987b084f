/* read.c — what kubectl cclm status reads of the two clusters; see status.h. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "msg.h"
#include "status.h"

static void kubectl_prefix(char *out, size_t n, const char *file, const char *context, const char *global_file)
{
	struct buf b = BUF_INIT;

	buf_addstr(&b, "kubectl");
	if (file || global_file)
		buf_addf(&b, " --kubeconfig %s", file ? file : global_file);
	if (context)
		buf_addf(&b, " --context %s", context);
	snprintf(out, n, "%s", b.s);
	buf_release(&b);
}

void status_view_init(struct status_view *v, struct cclm_ctx *ctx, const struct status_opts *o)
{
	const char *src_ns = ctx->kflags.namespace ? ctx->kflags.namespace : ctx->source.cfg.namespace;

	memset(v, 0, sizeof(*v));
	v->ctx = ctx;
	if (!o->all_namespaces) {
		v->ns[0] = src_ns;
		v->ns[1] = o->target_ns ? o->target_ns : src_ns;
	}
	kubectl_prefix(v->kubectl[0], sizeof(v->kubectl[0]), ctx->source_kubeconfig, ctx->source_context,
		       ctx->kflags.kubeconfig);
	kubectl_prefix(v->kubectl[1], sizeof(v->kubectl[1]), ctx->target_kubeconfig, ctx->target_context,
		       ctx->kflags.kubeconfig);
}

void status_view_release(struct status_view *v)
{
	int i;

	for (i = 0; i < 2; i++) {
		cJSON_Delete(v->vmims[i]);
		cJSON_Delete(v->vmis[i]);
		v->vmims[i] = v->vmis[i] = NULL;
	}
	cJSON_Delete(v->plans);
	cJSON_Delete(v->metrics);
	promq_free(v->prom);
	v->plans = v->metrics = NULL;
	v->prom = NULL;
}

static struct kclient *client_of(const struct status_view *v, int side)
{
	return side ? v->ctx->target.client : v->ctx->source.client;
}

/* One LIST, answered from the API server's watch cache (resourceVersion=0):
 * one reply however many objects, no etcd read, at most the few
 * milliseconds the cache trails etcd behind; a --watch goes on from there. */
static int list_into(struct status_view *v, int side, const struct kres *r, cJSON **items, char *rv, size_t rvn,
		     struct kerr *e)
{
	struct kquery q = { .resource_version = "0" };
	char *ver = NULL;

	if (kclient_list(client_of(v, side), r, v->ns[side], &q, items, &ver, e)) {
		kerr_prefix(e, "%s cluster", side ? "target" : "source");
		return -1;
	}
	snprintf(rv, rvn, "%s", ver ? ver : "");
	free(ver);
	return 0;
}

struct side_read {
	struct status_view *v;
	int side, rc;
	struct kerr e;
};

/* One cluster's LISTs: its VMIMs, then the VMIs only where there is a
 * migration to explain. Each side has its own client, so the two run at
 * once. */
static void *read_side(void *arg)
{
	struct side_read *r = arg;
	struct status_view *v = r->v;
	int i = r->side;

	r->rc = list_into(v, i, &KRES_VMIM, &v->vmims[i], v->rv_vmims[i], sizeof(v->rv_vmims[i]), &r->e);
	if (r->rc)
		return NULL;
	if (cJSON_GetArraySize(v->vmims[i]) == 0) {
		v->vmis[i] = cJSON_CreateArray();
		v->rv_vmis[i][0] = '\0';
		return NULL;
	}
	r->rc = list_into(v, i, &KRES_VMI, &v->vmis[i], v->rv_vmis[i], sizeof(v->rv_vmis[i]), &r->e);
	return NULL;
}

int status_read(struct status_view *v, struct kerr *e)
{
	struct side_read r[2] = { { .v = v, .side = 0, .e = KERR_INIT }, { .v = v, .side = 1, .e = KERR_INIT } };
	pthread_t t;
	bool threaded;
	int i;

	/* the target's LISTs on a thread of their own, the source's here */
	threaded = pthread_create(&t, NULL, read_side, &r[1]) == 0;
	read_side(&r[0]);
	if (threaded)
		pthread_join(t, NULL);
	else
		read_side(&r[1]);
	for (i = 0; i < 2; i++)
		if (r[i].rc) {
			*e = r[i].e;
			return -1;
		}
	status_read_plans(v);
	return 0;
}

static bool has_mtv_label(const cJSON *vmims)
{
	const cJSON *x;

	cJSON_ArrayForEach(x, vmims)
		if (json_str(json_get(x, "metadata.labels"), "plan", NULL))
			return true;
	return false;
}

void status_read_plans(struct status_view *v)
{
	struct kerr e = KERR_INIT;
	int i;

	if (v->plans_read || !(has_mtv_label(v->vmims[0]) || has_mtv_label(v->vmims[1])))
		return;
	v->plans_read = true;
	/* MTV runs on the destination; fall back to the source */
	for (i = 1; i >= 0; i--) {
		cJSON *items = NULL;

		if (!kclient_list(client_of(v, i), &KRES_MTV_PLAN, NULL, NULL, &items, NULL, &e) &&
		    cJSON_GetArraySize(items) > 0) {
			v->plans = items;
			return;
		}
		cJSON_Delete(items);
		kerr_clear(&e);
	}
}

int status_rows(const struct status_view *v, const char *const *vms, int nvms, long long now,
		struct status_row **rows, int *n, struct kerr *e)
{
	struct status_input in = {
		.src_vmims = v->vmims[0], .tgt_vmims = v->vmims[1],
		.src_vmis = v->vmis[0], .tgt_vmis = v->vmis[1],
		.plans = v->plans, .now = now,
		.src_kubectl = v->kubectl[0], .tgt_kubectl = v->kubectl[1],
		.vms = vms, .nvms = nvms,
	};

	if (status_pair(&in, rows, n, e))
		return -1;
	status_metrics_apply(v, *rows, *n);
	return 0;
}

static bool in_transfer(const struct status_row *r)
{
	return r->result == RESULT_IN_PROGRESS && r->src.present && !r->src.final &&
	       strcmp(r->src.phase, "Synchronizing") && strcmp(r->src.phase, "");
}

void status_metrics_apply(const struct status_view *v, struct status_row *rows, int n)
{
	const cJSON *s;
	int i;

	if (!v->metrics)
		return;
	for (i = 0; i < n; i++) {
		struct status_row *r = &rows[i];

		r->total = r->processed = r->remaining = r->rate = -1;
		if (!in_transfer(r))
			continue;
		cJSON_ArrayForEach(s, v->metrics) {
			const char *name = json_str(s, "metric.__name__", "");
			const char *val = json_str(s, "value.1", NULL);
			double x = val ? strtod(val, NULL) : -1;

			if (strcmp(json_str(s, "metric.namespace", ""), r->src.ns) ||
			    strcmp(json_str(s, "metric.name", ""), r->src.vmi))
				continue;
			if (strstr(name, "data_bytes_total"))
				r->total = x;
			else if (strstr(name, "data_processed_bytes"))
				r->processed = x;
			else if (strstr(name, "data_remaining_bytes"))
				r->remaining = x;
			else if (strstr(name, "memory_transfer_rate_bytes"))
				r->rate = x;
		}
	}
}

void status_metrics(struct status_view *v, struct status_row *rows, int n)
{
	struct kerr e = KERR_INIT;
	struct kclient_opts copts = { .verbosity = (int)v->ctx->verbosity };
	cJSON *res = NULL;
	char q[600];
	int i;

	for (i = 0; i < n && !in_transfer(&rows[i]); i++)
		;
	if (i == n || v->metrics_off)
		return;
	if (!v->prom) {
		v->prom = promq_open(v->ctx->source.client, &v->ctx->source.cfg, &copts, &e);
		if (!v->prom)
			goto off;
	}
	/* one query for every migration of the view */
	snprintf(q, sizeof(q),
		 "{__name__=~\"kubevirt_vmi_migration_(data_bytes_total|data_processed_bytes|data_remaining_bytes|memory_transfer_rate_bytes)\"%s%s%s}",
		 v->ns[0] ? ",namespace=\"" : "", v->ns[0] ? v->ns[0] : "", v->ns[0] ? "\"" : "");
	if (promq_query(v->prom, q, &res, &e))
		goto off;
	cJSON_Delete(v->metrics);
	v->metrics = res;
	status_metrics_apply(v, rows, n);
	return;
off:
	v->metrics_off = true;
	snprintf(v->metrics_why, sizeof(v->metrics_why), "%s", e.msg);
	msg_warn("progress metrics of the source cannot be read (%s): showing phases only", e.msg);
}
