/* access.c — may the user make every call kubectl cclm enable will make?
 * One SelfSubjectAccessReview per call, before any write (see enable.h). */
#include <stdio.h>
#include <string.h>

#include "enable.h"
#include "json.h"

static const char *verb_of(enum write_kind k)
{
	switch (k) {
	case W_CREATE:
		return "create";
	case W_UPDATE:
		return "update";
	case W_PATCH_MERGE:
		return "patch";
	case W_DELETE:
		return "delete";
	}
	return "?";
}

/* 1 allowed, 0 denied, -1 the review itself failed. */
static int review(struct side *s, const char *verb, const struct kres *r, const char *ns, const char *name,
		  struct kerr *e)
{
	cJSON *body = cJSON_CreateObject(), *attrs, *out = NULL;
	int allowed;

	cJSON_AddStringToObject(body, "apiVersion", "authorization.k8s.io/v1");
	cJSON_AddStringToObject(body, "kind", "SelfSubjectAccessReview");
	attrs = cJSON_AddObjectToObject(cJSON_AddObjectToObject(body, "spec"), "resourceAttributes");
	cJSON_AddStringToObject(attrs, "verb", verb);
	cJSON_AddStringToObject(attrs, "group", r->group);
	cJSON_AddStringToObject(attrs, "resource", r->plural);
	if (r->namespaced && ns && *ns)
		cJSON_AddStringToObject(attrs, "namespace", ns);
	if (name && *name)
		cJSON_AddStringToObject(attrs, "name", name);
	if (kclient_create(s->cl->client, &KRES_SSAR, NULL, body, NULL, &out, e)) {
		cJSON_Delete(body);
		kerr_prefix(e, "%s cluster: cannot ask whether you may %s %s", s->role, verb, r->plural);
		return -1;
	}
	allowed = json_bool(out, "status.allowed", false);
	cJSON_Delete(body);
	cJSON_Delete(out);
	return allowed;
}

static int need(struct side *s, const char *verb, const struct kres *r, const char *ns, const char *name,
		struct kerr *e)
{
	int ok = review(s, verb, r, ns, name, e);
	char what[256], where[128] = "";

	if (ok < 0)
		return -1;
	if (ok)
		return 0;
	snprintf(what, sizeof(what), "%s%s%s", r->plural, r->group[0] ? "." : "", r->group);
	if (name && *name)
		snprintf(where, sizeof(where), " '%s'", name);
	if (r->namespaced && ns && *ns)
		snprintf(where + strlen(where), sizeof(where) - strlen(where), " in namespace '%s'", ns);
	side_find(s, true, "not allowed to %s %s%s", verb, what, where);
	return 0;
}

int access_check(struct side *s, struct kerr *e)
{
	const char *ns = s->kv_ns[0] ? s->kv_ns : "openshift-cnv";
	const char *line, *end;
	int i;

	/* reads the server already refused */
	for (line = s->forbidden.s; line && *line; line = end + 1) {
		end = strchr(line, '\n');
		if (!end)
			break;
		side_find(s, true, "not allowed to %.*s", (int)(end - line), line);
	}
	for (i = 0; i < s->nwrites; i++) {
		const struct write *w = &s->writes[i];

		if (need(s, verb_of(w->kind), w->res, w->ns, w->name, e))
			return -1;
	}
	if (s->nad_replaced && need(s, "delete", &KRES_POD, ns, NULL, e))
		return -1;
	if (s->forbidden.len) {
		/* the plan could not be made: ask for every write it might need */
		if (need(s, "patch", &KRES_HCO, ns, "kubevirt-hyperconverged", e) ||
		    need(s, "create", &KRES_NAD, ns, NULL, e) || need(s, "update", &KRES_NAD, ns, NULL, e))
			return -1;
	}
	/* the wait watches the KubeVirt namespace */
	if (need(s, "list", &KRES_POD, ns, NULL, e) || need(s, "watch", &KRES_POD, ns, NULL, e))
		return -1;
	return 0;
}
