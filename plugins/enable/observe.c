/* observe.c — what kubectl cclm enable reads of one cluster (see enable.h). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "enable.h"
#include "json.h"
#include "kvnet.h"

void side_release(struct side *s)
{
	int i;

	cJSON_Delete(s->kubevirt);
	cJSON_Delete(s->hco);
	cJSON_Delete(s->forklift);
	cJSON_Delete(s->nad);
	cJSON_Delete(s->inflight);
	cJSON_Delete(s->handlers);
	nad_net_release(&s->nadnet);
	ipam_pool_release(&s->pool);
	buf_release(&s->forbidden);
	for (i = 0; i < s->nwrites; i++)
		cJSON_Delete(s->writes[i].body);
	free(s->writes);
	free(s->findings);
}

int side_find(struct side *s, bool error, const char *fmt, ...)
{
	struct finding *f = realloc(s->findings, (size_t)(s->nfindings + 1) * sizeof(*f));
	va_list ap;

	if (!f)
		return -1;
	s->findings = f;
	f = &s->findings[s->nfindings++];
	f->error = error;
	va_start(ap, fmt);
	vsnprintf(f->text, sizeof(f->text), fmt, ap);
	va_end(ap);
	return 0;
}

bool side_has_errors(const struct side *s)
{
	int i;

	for (i = 0; i < s->nfindings; i++)
		if (s->findings[i].error)
			return true;
	return false;
}

int side_add_write(struct side *s, enum write_kind kind, const struct kres *res, const char *ns, const char *name,
		   cJSON *body, const char *what)
{
	struct write *w = realloc(s->writes, (size_t)(s->nwrites + 1) * sizeof(*w));

	if (!w) {
		cJSON_Delete(body);
		return -1;
	}
	s->writes = w;
	w = &s->writes[s->nwrites++];
	memset(w, 0, sizeof(*w));
	w->kind = kind;
	w->res = res;
	snprintf(w->ns, sizeof(w->ns), "%s", ns ? ns : "");
	snprintf(w->name, sizeof(w->name), "%s", name ? name : "");
	w->body = body;
	snprintf(w->what, sizeof(w->what), "%s", what);
	return 0;
}

/* A read refused with 403 is remembered (the preflight lists it); a 404 is
 * "not there"; anything else fails. Returns 1 when the object is absent. */
static int read_failed(struct side *s, const char *verb, const struct kres *r, struct kerr *e)
{
	if (kerr_is_http(e, 403)) {
		buf_addf(&s->forbidden, "%s %s%s%s\n", verb, r->plural, r->group[0] ? "." : "", r->group);
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

static void copy_str(char *dst, size_t n, const char *src)
{
	snprintf(dst, n, "%s", src ? src : "");
}

static int observe_versions(struct side *s, struct kerr *e)
{
	cJSON *cv = NULL;
	const cJSON *h0;

	if (kclient_get(s->cl->client, &KRES_CLUSTERVERSION, NULL, "version", &cv, e)) {
		int rc = read_failed(s, "get", &KRES_CLUSTERVERSION, e);

		return rc < 0 ? -1 : 0; /* not OpenShift, or not allowed to see */
	}
	h0 = json_get(cv, "status.history.0");
	if (h0 && !strcmp(json_str(h0, "state", ""), "Completed"))
		copy_str(s->ocp, sizeof(s->ocp), json_str(h0, "version", ""));
	else
		copy_str(s->ocp, sizeof(s->ocp), json_str(cv, "status.desired.version", ""));
	cJSON_Delete(cv);
	return 0;
}

/* The first item of a list of `r` in `ns` (NULL: every namespace); 1 = none. */
static int first_item(struct side *s, const struct kres *r, const char *ns, cJSON **out, struct kerr *e)
{
	cJSON *items = NULL;
	int rc;

	*out = NULL;
	if (kclient_list(s->cl->client, r, ns, NULL, &items, NULL, e)) {
		rc = read_failed(s, "list", r, e);
		return rc;
	}
	if (cJSON_GetArraySize(items) > 0)
		*out = cJSON_DetachItemFromArray(items, 0);
	cJSON_Delete(items);
	return *out ? 0 : 1;
}

/* Where KubeVirt lives: every namespace first, then the usual ones (a user
 * who may not list cluster-wide may still read openshift-cnv). */
static int observe_kubevirt(struct side *s, struct kerr *e)
{
	static const char *const usual[] = { "openshift-cnv", "kubevirt-hyperconverged", "kubevirt", NULL };
	size_t before = s->forbidden.len;
	int rc, i;

	rc = first_item(s, &KRES_KUBEVIRT, NULL, &s->kubevirt, e);
	for (i = 0; rc == 1 && s->forbidden.len > before && usual[i]; i++)
		rc = first_item(s, &KRES_KUBEVIRT, usual[i], &s->kubevirt, e);
	if (rc < 0)
		return -1;
	if (s->forbidden.len > before) {
		/* found through a namespace, the cluster-wide refusal does not
		 * matter; not found, one line says where it looked */
		s->forbidden.len = before;
		s->forbidden.s[before] = '\0';
		if (!s->kubevirt)
			buf_addf(&s->forbidden, "list kubevirts.kubevirt.io (in any namespace, or in openshift-cnv)\n");
	}
	if (!s->kubevirt)
		return 0;
	copy_str(s->kv_ns, sizeof(s->kv_ns), json_str(s->kubevirt, "metadata.namespace", ""));
	copy_str(s->kv_version, sizeof(s->kv_version), json_str(s->kubevirt, "status.observedKubeVirtVersion", ""));
	return 0;
}

static int observe_hco(struct side *s, struct kerr *e)
{
	const cJSON *v;

	if (kclient_get(s->cl->client, &KRES_HCO, s->kv_ns, "kubevirt-hyperconverged", &s->hco, e)) {
		s->hco = NULL;
		return read_failed(s, "get", &KRES_HCO, e) < 0 ? -1 : 0;
	}
	s->have_hco = true;
	cJSON_ArrayForEach(v, json_get(s->hco, "status.versions"))
		if (!strcmp(json_str(v, "name", ""), "operator"))
			copy_str(s->cnv, sizeof(s->cnv), json_str(v, "version", ""));
	return 0;
}

static int observe_mtv(struct side *s, struct kerr *e)
{
	size_t before = s->forbidden.len;
	int rc = first_item(s, &KRES_FORKLIFTCONTROLLER, NULL, &s->forklift, e);

	if (rc == 1 && s->forbidden.len > before)
		rc = first_item(s, &KRES_FORKLIFTCONTROLLER, "openshift-mtv", &s->forklift, e);
	if (rc < 0)
		return -1;
	if (s->forklift && s->forbidden.len > before) {
		s->forbidden.len = before;
		s->forbidden.s[before] = '\0';
	}
	s->have_mtv = s->forklift != NULL;
	return 0;
}

/* Cross-cluster VMIMs that have not ended, anywhere on the cluster. */
static int observe_inflight(struct side *s, struct kerr *e)
{
	cJSON *items = NULL;
	const cJSON *m;

	s->inflight = cJSON_CreateArray();
	if (kclient_list(s->cl->client, &KRES_VMIM, NULL, NULL, &items, NULL, e))
		return read_failed(s, "list", &KRES_VMIM, e) < 0 ? -1 : 0;
	cJSON_ArrayForEach(m, items) {
		const char *phase = json_str(m, "status.phase", "");
		char name[256];

		if (!json_get(m, "spec.sendTo") && !json_get(m, "spec.receive"))
			continue;
		if (!strcmp(phase, "Succeeded") || !strcmp(phase, "Failed"))
			continue;
		snprintf(name, sizeof(name), "%s/%s", json_str(m, "metadata.namespace", ""),
			 json_str(m, "metadata.name", ""));
		cJSON_AddItemToArray(s->inflight, cJSON_CreateString(name));
	}
	cJSON_Delete(items);
	return 0;
}

int observe_nad(struct side *s, const char *name, struct kerr *e)
{
	struct kerr pe = KERR_INIT;

	copy_str(s->nad_name, sizeof(s->nad_name), name);
	if (kclient_get(s->cl->client, &KRES_NAD, s->kv_ns, name, &s->nad, e)) {
		s->nad = NULL;
		return read_failed(s, "get", &KRES_NAD, e) < 0 ? -1 : 0;
	}
	if (nad_net_parse(json_str(s->nad, "spec.config", "{}"), &s->nadnet, &pe))
		side_find(s, true, "NAD '%s/%s' has a config cclm cannot read (%s): --replace-nad rewrites it", s->kv_ns,
			  name, pe.msg);
	else
		s->nad_parsed = true;
	return 0;
}

void side_init(struct side *s, struct cclm_cluster *cl)
{
	memset(s, 0, sizeof(*s));
	s->cl = cl;
	s->role = cl->role;
	buf_init(&s->forbidden, 64 * 1024);
}

int observe_side(struct side *s, struct kerr *e)
{
	const cJSON *spec;

	if (observe_versions(s, e) || observe_kubevirt(s, e))
		return -1;
	if (!s->kubevirt)
		return 0; /* the plan says so */
	if (observe_hco(s, e) || observe_mtv(s, e) || observe_inflight(s, e))
		return -1;
	if (s->have_hco) {
		spec = json_get(s->hco, "spec");
		s->gate_on = json_bool(spec, "featureGates.decentralizedLiveMigration", false);
		copy_str(s->network, sizeof(s->network), json_str(spec, "liveMigrationConfig.network", ""));
	} else {
		s->gate_on = kvnet_kubevirt_gate_on(s->kubevirt);
		copy_str(s->network, sizeof(s->network),
			 json_str(s->kubevirt, "spec.configuration.migrations.network", ""));
	}
	return 0;
}

int observe_refresh(struct side *s, struct kerr *e)
{
	char name[128];

	if (!s->kubevirt)
		return 0;
	cJSON_Delete(s->kubevirt);
	cJSON_Delete(s->hco);
	cJSON_Delete(s->forklift);
	cJSON_Delete(s->nad);
	cJSON_Delete(s->inflight);
	s->kubevirt = s->hco = s->forklift = s->nad = s->inflight = NULL;
	nad_net_release(&s->nadnet);
	s->nad_parsed = false;
	s->have_hco = s->have_mtv = false;
	if (observe_side(s, e))
		return -1;
	if (!s->nad_name[0])
		return 0;
	snprintf(name, sizeof(name), "%s", s->nad_name);
	return observe_nad(s, name, e);
}
