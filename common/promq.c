/* promq.c — see promq.h. */
#include "promq.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"

struct promq {
	struct kcfg view;     /* the user's kcfg with the querier's server and CA */
	char *server;
	struct buf ca;
	struct kclient *client;
};

static void escape(struct buf *out, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";

	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
		    c == '.' || c == '~')
			buf_addch(out, (char)c);
		else
			buf_addf(out, "%%%c%c", hex[c >> 4], hex[c & 15]);
	}
}

struct promq *promq_open(struct kclient *api, const struct kcfg *cfg, const struct kclient_opts *o, struct kerr *e)
{
	struct promq *p;
	cJSON *route = NULL, *cm = NULL;
	const char *host, *ca;
	size_t n;

	if (kclient_get(api, &KRES_ROUTE, "openshift-monitoring", "thanos-querier", &route, e)) {
		if (kerr_is_http(e, 404))
			kerr_set(e, KERR_FAILED, "no thanos-querier Route in openshift-monitoring");
		return NULL;
	}
	host = json_str(route, "spec.host", NULL);
	if (!host || !*host) {
		cJSON_Delete(route);
		kerr_set(e, KERR_FAILED, "the thanos-querier Route has no host");
		return NULL;
	}
	p = calloc(1, sizeof(*p));
	if (!p) {
		cJSON_Delete(route);
		kerr_set(e, KERR_NOMEM, "out of memory");
		return NULL;
	}
	buf_init(&p->ca, 1 << 20);
	n = strlen(host) + 16;
	p->server = malloc(n);
	if (p->server)
		snprintf(p->server, n, "https://%s", host);
	cJSON_Delete(route);
	if (!kclient_get(api, &KRES_CONFIGMAP, "openshift-config-managed", "default-ingress-cert", &cm, e)) {
		ca = json_str(cm, "data.ca-bundle.crt", "");
		buf_addstr(&p->ca, ca);
		cJSON_Delete(cm);
	} else {
		kerr_clear(e); /* the system's CAs, then */
	}
	p->view = *cfg;
	p->view.server = p->server;
	p->view.ca = p->ca;
	p->view.ca_origin = "ConfigMap openshift-config-managed/default-ingress-cert";
	p->view.tls_server_name = NULL;
	if (!p->server || !(p->client = kclient_new(&p->view, o, e))) {
		if (!p->server)
			kerr_set(e, KERR_NOMEM, "out of memory");
		promq_free(p);
		return NULL;
	}
	return p;
}

void promq_free(struct promq *p)
{
	if (!p)
		return;
	kclient_free(p->client);
	free(p->server);
	buf_release(&p->ca);
	free(p);
}

int promq_parse(const char *body, size_t len, cJSON **result, struct kerr *e)
{
	cJSON *doc = json_parse(body, len, "Prometheus reply", e);
	cJSON *r;

	*result = NULL;
	if (!doc)
		return -1;
	if (strcmp(json_str(doc, "status", ""), "success")) {
		kerr_set(e, KERR_API, "(%s) %s", json_str(doc, "errorType", "error"), json_str(doc, "error", "query failed"));
		cJSON_Delete(doc);
		return -1;
	}
	r = cJSON_DetachItemFromObjectCaseSensitive(cJSON_GetObjectItemCaseSensitive(doc, "data"), "result");
	cJSON_Delete(doc);
	if (!cJSON_IsArray(r)) {
		cJSON_Delete(r);
		return kerr_set(e, KERR_PARSE, "Prometheus reply without data.result");
	}
	*result = r;
	return 0;
}

int promq_query(struct promq *p, const char *query, cJSON **result, struct kerr *e)
{
	struct buf path = BUF_INIT;
	struct kresp resp;
	int rc;

	*result = NULL;
	buf_addstr(&path, "/api/v1/query?query=");
	escape(&path, query);
	kresp_init(&resp);
	rc = kclient_do(p->client, "GET", path.s, NULL, NULL, NULL, 0, &resp, e);
	buf_release(&path);
	if (!rc || resp.status == 400 || resp.status == 422)
		rc = promq_parse(resp.body.s, resp.body.len, result, e);
	kresp_release(&resp);
	return rc;
}

double promq_first(const cJSON *result, double def)
{
	const char *v = json_str(cJSON_GetArrayItem(result, 0), "value.1", NULL);
	char *end;
	double d;

	if (!v)
		return def;
	d = strtod(v, &end);
	return end == v ? def : d;
}
