/* report.c — what kubectl cclm enable prints: the preflight findings, and
 * per cluster where it stands (see enable.h; -o json is documented in
 * man/kubectl-cclm-enable.1). */
#include <stdio.h>
#include <string.h>

#include "enable.h"
#include "json.h"
#include "output.h"

void report_preflight(const struct side *src, const struct side *tgt)
{
	static const char *const head[] = { "CLUSTER", "SEVERITY", "FINDING" };
	const struct side *sides[2] = { src, tgt };
	struct table *t = table_new(3, head);
	int i, k;

	for (i = 0; i < 2; i++)
		for (k = 0; k < sides[i]->nfindings; k++) {
			const char *row[3] = { sides[i]->role, sides[i]->findings[k].error ? "error" : "warning",
					       sides[i]->findings[k].text };

			table_add(t, row);
		}
	table_print(t, stdout, true);
	table_free(t);
}

static const char *state_text(const struct side *s, const char *result, char *buf, size_t n)
{
	if (s->failure[0]) {
		snprintf(buf, n, "failed: %s", s->failure);
		return buf;
	}
	if (side_has_errors(s))
		return "preflight failed, nothing written";
	if (!strcmp(result, "dry-run")) {
		snprintf(buf, n, "dry run: %d write%s checked by the server, nothing written", s->nwrites,
			 s->nwrites == 1 ? "" : "s");
		return buf;
	}
	if (s->state == SIDE_ALREADY)
		return strstr(result, "disabled") ? "already disabled" : "already enabled";
	if (s->state == SIDE_WRITTEN) {
		snprintf(buf, n, "%s (%d write%s)", strstr(result, "disabled") ? "disabled" : "enabled", s->nwrites,
			 s->nwrites == 1 ? "" : "s");
		return buf;
	}
	return "not changed";
}

static const cJSON *tuning_of(const struct side *s)
{
	return s->have_hco ? json_get(s->hco, "spec.liveMigrationConfig") :
			     json_get(s->kubevirt, "spec.configuration.migrations");
}

static cJSON *network_json(const struct side *s)
{
	cJSON *n;
	char net[20];
	struct buf pool = BUF_INIT;

	if (!s->nad_name[0])
		return cJSON_CreateNull();
	n = cJSON_CreateObject();
	cJSON_AddStringToObject(n, "name", s->nad_name);
	cJSON_AddStringToObject(n, "namespace", s->kv_ns);
	cJSON_AddBoolToObject(n, "exists", s->nad != NULL);
	if (s->nad_parsed) {
		cJSON_AddStringToObject(n, "type", s->nadnet.type);
		cJSON_AddStringToObject(n, "master", s->nadnet.master);
		cJSON_AddStringToObject(n, "bridge", s->nadnet.bridge);
		cJSON_AddNumberToObject(n, "vlan", s->nadnet.vlan);
		cJSON_AddNumberToObject(n, "mtu", s->nadnet.mtu);
		cJSON_AddStringToObject(n, "ipam", s->nadnet.ipam_type);
		ipv4_format(s->nadnet.subnet.addr, net, sizeof(net));
		if (s->nadnet.has_subnet) {
			char cidr[32];

			snprintf(cidr, sizeof(cidr), "%s/%d", net, s->nadnet.subnet.prefix);
			cJSON_AddStringToObject(n, "subnet", cidr);
		}
		ipam_pool_format(&s->nadnet.pool, &pool, NULL);
		cJSON_AddStringToObject(n, "pool", pool.s);
	}
	buf_release(&pool);
	return n;
}

static cJSON *side_json(const struct side *s, const char *result)
{
	cJSON *o = cJSON_CreateObject(), *arr, *mtv;
	const cJSON *t;
	char buf[1200];
	int i;

	cJSON_AddStringToObject(o, "context", kclient_name(s->cl->client));
	cJSON_AddStringToObject(o, "openshiftVersion", s->ocp);
	cJSON_AddStringToObject(o, "cnvVersion", s->cnv);
	cJSON_AddStringToObject(o, "kubevirtVersion", s->kv_version);
	cJSON_AddStringToObject(o, "managedBy", s->have_hco ? "HyperConverged" : s->kubevirt ? "KubeVirt" : "");
	cJSON_AddStringToObject(o, "namespace", s->kv_ns);
	cJSON_AddBoolToObject(o, "featureGate", s->gate_on);
	mtv = cJSON_AddObjectToObject(o, "mtv");
	cJSON_AddBoolToObject(mtv, "installed", s->have_mtv);
	cJSON_AddBoolToObject(mtv, "liveMigration",
			      !strcmp(json_str(s->forklift, "spec.feature_ocp_live_migration", ""), "true"));
	cJSON_AddItemToObject(o, "network", network_json(s));
	cJSON_AddStringToObject(o, "syncAddress", s->sync_address);
	cJSON_AddItemToObject(o, "handlers", s->handlers ? cJSON_Duplicate(s->handlers, 1) : cJSON_CreateArray());
	t = tuning_of(s);
	cJSON_AddItemToObject(o, "tuning", t ? cJSON_Duplicate(t, 1) : cJSON_CreateObject());
	cJSON_AddStringToObject(o, "state", state_text(s, result, buf, sizeof(buf)));
	arr = cJSON_AddArrayToObject(o, "findings");
	for (i = 0; i < s->nfindings; i++) {
		cJSON *f = cJSON_CreateObject();

		cJSON_AddStringToObject(f, "severity", s->findings[i].error ? "error" : "warning");
		cJSON_AddStringToObject(f, "message", s->findings[i].text);
		cJSON_AddItemToArray(arr, f);
	}
	arr = cJSON_AddArrayToObject(o, "writes");
	for (i = 0; i < s->nwrites; i++) {
		const struct write *w = &s->writes[i];
		static const char *const verbs[] = { "create", "update", "patch", "delete" };
		cJSON *x = cJSON_CreateObject();

		cJSON_AddStringToObject(x, "verb", verbs[w->kind]);
		cJSON_AddStringToObject(x, "resource", w->res->plural);
		cJSON_AddStringToObject(x, "namespace", w->ns);
		cJSON_AddStringToObject(x, "name", w->name);
		cJSON_AddStringToObject(x, "what", w->what);
		cJSON_AddBoolToObject(x, "done", w->done);
		if (w->body)
			cJSON_AddItemToObject(x, "body", cJSON_Duplicate(w->body, 1));
		cJSON_AddItemToArray(arr, x);
	}
	return o;
}

static void versions_text(const struct side *s, char *out, size_t n)
{
	if (s->have_hco)
		snprintf(out, n, "%s (KubeVirt %s)", s->cnv[0] ? s->cnv : "?", s->kv_version[0] ? s->kv_version : "?");
	else
		snprintf(out, n, "KubeVirt %s, no HCO", s->kv_version[0] ? s->kv_version : "?");
}

static void network_text(const struct side *s, char *out, size_t n)
{
	if (!s->nad_name[0]) {
		snprintf(out, n, "pod network");
		return;
	}
	if (!s->nad_parsed) {
		snprintf(out, n, "%s (%s)", s->nad_name, s->nad ? "unreadable" : "missing");
		return;
	}
	snprintf(out, n, "%s: %s %s", s->nad_name, s->nadnet.type,
		 s->nadnet.master[0] ? s->nadnet.master : s->nadnet.bridge);
	if (s->nadnet.vlan)
		snprintf(out + strlen(out), n - strlen(out), ", vlan %d", s->nadnet.vlan);
	if (s->nadnet.mtu)
		snprintf(out + strlen(out), n - strlen(out), ", mtu %d", s->nadnet.mtu);
}

static void pool_text(const struct side *s, struct buf *out)
{
	char net[20];

	if (!s->nad_parsed) {
		buf_addstr(out, "-");
		return;
	}
	ipv4_format(s->nadnet.subnet.addr, net, sizeof(net));
	ipam_pool_format(&s->nadnet.pool, out, NULL);
	if (s->nadnet.has_subnet)
		buf_addf(out, " (of %s/%d)", net, s->nadnet.subnet.prefix);
}

static void handlers_text(const struct side *s, bool wide, struct buf *out)
{
	const cJSON *h;

	cJSON_ArrayForEach(h, s->handlers) {
		const char *a = json_str(h, "address", "");

		if (wide)
			buf_addf(out, "%s%s=%s", out->len ? " " : "", json_str(h, "node", "?"), a[0] ? a : "-");
		else
			buf_addf(out, "%s%s", out->len ? " " : "", a[0] ? a : "-");
	}
	if (!out->len)
		buf_addstr(out, "-");
}

static void num_text(const cJSON *lm, const char *field, const char *unit, struct buf *out)
{
	const cJSON *v = json_get(lm, field);

	if (cJSON_IsNumber(v))
		buf_addf(out, "%g%s", v->valuedouble, unit);
	else
		buf_addstr(out, "-");
}

static void bool_text(const cJSON *lm, const char *field, struct buf *out)
{
	const cJSON *v = json_get(lm, field);

	buf_addstr(out, cJSON_IsBool(v) ? (cJSON_IsTrue(v) ? "yes" : "no") : "-");
}

/* The liveMigrationConfig in four rows: bandwidth, parallel, timeouts, post-copy/auto-converge. */
static void tuning_text(const struct side *s, int row, struct buf *out)
{
	const cJSON *lm = tuning_of(s);

	switch (row) {
	case 0:
		buf_addstr(out, json_str(lm, "bandwidthPerMigration", "unlimited"));
		break;
	case 1:
		num_text(lm, "parallelMigrationsPerCluster", " per cluster, ", out);
		num_text(lm, "parallelOutboundMigrationsPerNode", " out per node", out);
		break;
	case 2:
		num_text(lm, "completionTimeoutPerGiB", " s/GiB, ", out);
		num_text(lm, "progressTimeout", " s without progress", out);
		break;
	default:
		bool_text(lm, "allowPostCopy", out);
		buf_addstr(out, ", ");
		bool_text(lm, "allowAutoConverge", out);
	}
}

int report_pair(const struct side *src, const struct side *tgt, const struct enable_opts *o, const char *output,
		const char *result)
{
	static const char *const head[] = { "", "SOURCE", "TARGET" };
	const struct side *sides[2] = { src, tgt };
	struct kerr e = KERR_INIT;
	struct table *t;
	int i;

	(void)o;
	if (output && strcmp(output, "wide")) {
		cJSON *doc = cJSON_CreateObject(), *cl;
		int rc;

		cJSON_AddStringToObject(doc, "kind", "EnableReport");
		cJSON_AddStringToObject(doc, "result", result);
		cl = cJSON_AddObjectToObject(doc, "clusters");
		cJSON_AddItemToObject(cl, "source", side_json(src, result));
		cJSON_AddItemToObject(cl, "target", side_json(tgt, result));
		rc = output_object(stdout, output, doc, &e);
		cJSON_Delete(doc);
		return rc;
	}
	t = table_new(3, head);
	{
		char a[2][1200], tmp[1200];
		struct buf b[2] = { BUF_INIT, BUF_INIT };
		const char *row[3];
		bool wide = output != NULL;

#define ROW(label, fill)                                          \
	do {                                                      \
		for (i = 0; i < 2; i++) {                         \
			const struct side *s = sides[i];          \
			buf_reset(&b[i]);                         \
			a[i][0] = '\0';                           \
			fill;                                     \
		}                                                 \
		row[0] = label;                                   \
		row[1] = b[0].len ? b[0].s : a[0];                \
		row[2] = b[1].len ? b[1].s : a[1];                \
		table_add(t, row);                                \
	} while (0)

		ROW("context", snprintf(a[i], sizeof(a[i]), "%s", kclient_name(s->cl->client)));
		ROW("openshift", snprintf(a[i], sizeof(a[i]), "%s", s->ocp[0] ? s->ocp : "-"));
		ROW("virtualization", versions_text(s, a[i], sizeof(a[i])));
		ROW("feature gate", snprintf(a[i], sizeof(a[i]), "%s", s->gate_on ? "on" : "off"));
		ROW("mtv", snprintf(a[i], sizeof(a[i]), "%s",
				    !s->have_mtv ? "not installed" :
				    !strcmp(json_str(s->forklift, "spec.feature_ocp_live_migration", ""), "true") ?
						   "live migration on" :
						   "live migration off"));
		ROW("network", network_text(s, a[i], sizeof(a[i])));
		ROW("pool", pool_text(s, &b[i]));
		ROW("sync address", snprintf(a[i], sizeof(a[i]), "%s", s->sync_address[0] ? s->sync_address : "-"));
		ROW("virt-handlers", handlers_text(s, wide, &b[i]));
		ROW("bandwidth", tuning_text(s, 0, &b[i]));
		ROW("parallel", tuning_text(s, 1, &b[i]));
		ROW("timeouts", tuning_text(s, 2, &b[i]));
		ROW("post-copy, auto-converge", tuning_text(s, 3, &b[i]));
		ROW("state", snprintf(a[i], sizeof(a[i]), "%s", state_text(s, result, tmp, sizeof(tmp))));
#undef ROW
		buf_release(&b[0]);
		buf_release(&b[1]);
	}
	table_print(t, stdout, true);
	table_free(t);
	return 0;
}
