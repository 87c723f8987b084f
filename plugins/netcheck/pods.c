/* pods.c — the probe pods of kubectl cclm netcheck: one per node that runs a
 * virt-handler or a sync controller, on both clusters at once (a thread per
 * cluster, each with its own client), watched to the end, their logs read
 * through the API, then deleted by their run label whatever happened (see
 * netcheck.h). */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "json.h"
#include "kvnet.h"
#include "netcheck.h"

#define SLICE_MS 1000 /* a watch slice: how soon a Ctrl-C is seen */

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

struct job {
	struct nc_run *r;
	struct nc_side *s;
	long long deadline;
	struct kerr e;
	int rc;
	char rv[64];
	int left;                     /* probes not finished */
};

static int add_probe(struct nc_side *s, const char *node)
{
	struct nc_probe *p;
	int i;

	if (!node[0])
		return 0;
	for (i = 0; i < s->nprobes; i++)
		if (!strcmp(s->probes[i].node, node))
			return 0;
	p = realloc(s->probes, (size_t)(s->nprobes + 1) * sizeof(*p));
	if (!p)
		return -1;
	s->probes = p;
	p = &s->probes[s->nprobes++];
	memset(p, 0, sizeof(*p));
	snprintf(p->node, sizeof(p->node), "%s", node);
	return 0;
}

static cJSON *probe_pod(const struct nc_run *r, const struct nc_side *s, const struct nc_probe *p, int index)
{
	cJSON *pod = cJSON_CreateObject(), *meta, *labels, *ann, *spec, *c, *arr, *env, *sc;
	char name[64], nets[200], *plan = nc_plan_json(s, p->node, r->o->test_timeout);
	const char *image = r->o->image ? r->o->image : s->image;

	snprintf(name, sizeof(name), "cclm-netcheck-%s-%d", r->run_id, index);
	snprintf(nets, sizeof(nets), "%s@%s", s->network, KVNET_IFACE);
	cJSON_AddStringToObject(pod, "apiVersion", "v1");
	cJSON_AddStringToObject(pod, "kind", "Pod");
	meta = cJSON_AddObjectToObject(pod, "metadata");
	cJSON_AddStringToObject(meta, "name", name);
	cJSON_AddStringToObject(meta, "namespace", s->kv_ns);
	labels = cJSON_AddObjectToObject(meta, "labels");
	cJSON_AddStringToObject(labels, NC_LABEL_MANAGED, NC_MANAGED_VALUE);
	cJSON_AddStringToObject(labels, NC_LABEL_ROLE, NC_ROLE_VALUE);
	cJSON_AddStringToObject(labels, NC_LABEL_RUN, r->run_id);
	ann = cJSON_AddObjectToObject(meta, "annotations");
	cJSON_AddStringToObject(ann, KVNET_NETWORKS, nets);
	cJSON_AddStringToObject(ann, "cclm.io/netcheck-node", p->node);
	cJSON_AddStringToObject(ann, "openshift.io/required-scc", "restricted-v2");
	spec = cJSON_AddObjectToObject(pod, "spec");
	cJSON_AddStringToObject(spec, "nodeName", p->node);
	cJSON_AddStringToObject(spec, "restartPolicy", "Never");
	cJSON_AddNumberToObject(spec, "activeDeadlineSeconds", (double)(r->o->timeout_ms / 1000 + 60));
	cJSON_AddNumberToObject(spec, "terminationGracePeriodSeconds", 0);
	cJSON_AddBoolToObject(spec, "automountServiceAccountToken", false);
	arr = cJSON_AddArrayToObject(spec, "tolerations");
	c = cJSON_CreateObject();
	cJSON_AddStringToObject(c, "operator", "Exists");
	cJSON_AddItemToArray(arr, c);
	sc = cJSON_AddObjectToObject(spec, "securityContext");
	cJSON_AddStringToObject(cJSON_AddObjectToObject(sc, "seccompProfile"), "type", "RuntimeDefault");
	arr = cJSON_AddArrayToObject(spec, "containers");
	c = cJSON_CreateObject();
	cJSON_AddItemToArray(arr, c);
	cJSON_AddStringToObject(c, "name", "probe");
	cJSON_AddStringToObject(c, "image", image);
	cJSON_AddStringToObject(c, "imagePullPolicy", "IfNotPresent");
	arr = cJSON_AddArrayToObject(c, "command");
	cJSON_AddItemToArray(arr, cJSON_CreateString("/bin/sh"));
	cJSON_AddItemToArray(arr, cJSON_CreateString("-c"));
	cJSON_AddItemToArray(arr, cJSON_CreateString(nc_probe_script));
	cJSON_AddItemToArray(arr, cJSON_CreateString("cclm-netcheck-probe"));
	env = cJSON_CreateObject();
	cJSON_AddStringToObject(env, "name", NC_PLAN_ENV);
	cJSON_AddStringToObject(env, "value", plan ? plan : "");
	arr = cJSON_AddArrayToObject(c, "env");
	cJSON_AddItemToArray(arr, env);
	sc = cJSON_AddObjectToObject(c, "resources");
	cJSON_AddStringToObject(cJSON_AddObjectToObject(sc, "requests"), "cpu", "10m");
	cJSON_AddStringToObject(cJSON_GetObjectItem(sc, "requests"), "memory", "16Mi");
	cJSON_AddStringToObject(cJSON_AddObjectToObject(sc, "limits"), "cpu", "200m");
	cJSON_AddStringToObject(cJSON_GetObjectItem(sc, "limits"), "memory", "64Mi");
	sc = cJSON_AddObjectToObject(c, "securityContext");
	cJSON_AddBoolToObject(sc, "allowPrivilegeEscalation", false);
	cJSON_AddItemToArray(cJSON_AddArrayToObject(cJSON_AddObjectToObject(sc, "capabilities"), "drop"),
			     cJSON_CreateString("ALL"));
	free(plan);
	return pod;
}

static struct nc_probe *probe_named(struct nc_side *s, const char *name)
{
	int i;

	for (i = 0; i < s->nprobes; i++)
		if (!strcmp(s->probes[i].pod, name))
			return &s->probes[i];
	return NULL;
}

static int on_event(void *ctx, const char *type, const cJSON *obj, struct kerr *e)
{
	struct job *j = ctx;
	struct nc_probe *p = probe_named(j->s, json_str(obj, "metadata.name", ""));
	const char *phase = json_str(obj, "status.phase", "");
	const cJSON *w = json_get(obj, "status.containerStatuses.0.state.waiting");

	(void)e;
	snprintf(j->rv, sizeof(j->rv), "%s", json_str(obj, "metadata.resourceVersion", j->rv));
	if (!p || p->done)
		return 0;
	if (!strcmp(type, "DELETED")) {
		snprintf(p->error, sizeof(p->error), "the probe pod was deleted before it finished");
		p->done = true;
	} else {
		snprintf(p->phase, sizeof(p->phase), "%s", phase);
		if (w)
			snprintf(p->waiting, sizeof(p->waiting), "%s: %s", json_str(w, "reason", "?"), json_str(w, "message", ""));
		p->done = !strcmp(phase, "Succeeded") || !strcmp(phase, "Failed");
	}
	if (p->done)
		j->left--;
	return j->left <= 0 ? 1 : 0;
}

static void read_log(struct job *j, struct nc_probe *p)
{
	struct buf path = BUF_INIT;
	struct kresp resp;
	struct kerr e = KERR_INIT;

	kresp_init(&resp);
	if (kres_path(&path, &KRES_POD, j->s->kv_ns, p->pod, "log", &e) ||
	    kclient_do(j->s->cl->client, "GET", path.s, NULL, NULL, NULL, 0, &resp, &e)) {
		snprintf(p->error, sizeof(p->error), "cannot read the probe's log: %s", e.msg);
	} else {
		nc_parse_log(p, resp.body.s);
		if (!strcmp(p->phase, "Failed") && !p->error[0])
			snprintf(p->error, sizeof(p->error), "the probe pod failed");
	}
	kresp_release(&resp);
	buf_release(&path);
}

static void *probe_cluster(void *arg)
{
	struct job *j = arg;
	struct nc_side *s = j->s;
	char sel[96];
	struct kquery q = { .label_selector = sel };
	int i;

	for (i = 0; i < s->nprobes && !*j->r->cancel; i++) {
		struct nc_probe *p = &s->probes[i];
		cJSON *pod = probe_pod(j->r, s, p, i), *out = NULL;
		struct kerr e = KERR_INIT;

		snprintf(p->pod, sizeof(p->pod), "%s", json_str(pod, "metadata.name", ""));
		if (kclient_create(s->cl->client, &KRES_POD, s->kv_ns, pod, NULL, &out, &e)) {
			if (kerr_exit_code(&e) == CCLM_EXIT_CLUSTER && !kerr_is_http(&e, 403) && !kerr_is_http(&e, 422)) {
				j->e = e;
				j->rc = -1;
			}
			snprintf(p->error, sizeof(p->error), "cannot create the probe pod: %s", e.msg);
			p->done = true;
		} else {
			p->created = true;
			j->left++;
		}
		cJSON_Delete(pod);
		cJSON_Delete(out);
		if (j->rc)
			return NULL;
	}
	snprintf(sel, sizeof(sel), "%s=%s", NC_LABEL_RUN, j->r->run_id);
	while (j->left > 0 && !*j->r->cancel) {
		long long left = j->deadline - now_ms();
		int rc;

		if (left <= 0)
			break;
		q.resource_version = j->rv[0] ? j->rv : NULL;
		rc = kclient_watch(s->cl->client, &KRES_POD, s->kv_ns, &q, left < SLICE_MS ? (long)left : SLICE_MS,
				   on_event, j, &j->e);
		if (rc < 0 && kerr_is_transient(&j->e) && now_ms() >= j->deadline) {
			/* the last slice was too short for the server to answer
			 * in: --timeout ran out, the API did not fail */
			kerr_clear(&j->e);
			break;
		}
		if (rc < 0) {
			kerr_prefix(&j->e, "%s cluster: watching the probe pods", s->role);
			j->rc = -1;
			return NULL;
		}
		if (rc > 0)
			break;
	}
	for (i = 0; i < s->nprobes; i++) {
		struct nc_probe *p = &s->probes[i];

		if (!p->created)
			continue;
		if (p->done && !p->error[0])
			read_log(j, p);
		else if (!p->done && !*j->r->cancel)
			snprintf(p->error, sizeof(p->error), "did not finish within --timeout (phase %s%s%s)",
				 p->phase[0] ? p->phase : "unknown", p->waiting[0] ? ", " : "", p->waiting);
	}
	return NULL;
}

/* Every probe pod of this run on one side, in one request. */
static int delete_probes(struct nc_run *r, struct nc_side *s, struct kerr *e)
{
	static const char body[] = "{\"apiVersion\":\"v1\",\"kind\":\"DeleteOptions\",\"gracePeriodSeconds\":0}";
	struct buf path = BUF_INIT;
	char sel[96];
	struct kquery q = { .label_selector = sel };
	int rc, i;

	snprintf(sel, sizeof(sel), "%s=%s", NC_LABEL_RUN, r->run_id);
	rc = kres_path(&path, &KRES_POD, s->kv_ns, NULL, NULL, e) ||
	     kclient_do(s->cl->client, "DELETE", path.s, &q, "application/json", body, sizeof(body) - 1, NULL, e);
	buf_release(&path);
	if (rc) {
		kerr_prefix(e, "%s cluster: deleting the probe pods (%s)", s->role, sel);
		return -1;
	}
	for (i = 0; i < s->nprobes; i++)
		s->probes[i].deleted = s->probes[i].created;
	return 0;
}

int nc_run_probes(struct nc_run *r, struct kerr *e)
{
	struct job jobs[2];
	pthread_t th[2];
	bool started[2] = { false, false };
	long long deadline = now_ms() + r->o->timeout_ms;
	int i, k, rc = 0;

	for (i = 0; i < 2; i++) {
		struct nc_side *s = &r->side[i];

		if (nc_plan_targets(s, &r->side[1 - i]))
			return kerr_set(e, KERR_NOMEM, "out of memory");
		for (k = 0; k < s->neps; k++)
			if (add_probe(s, s->eps[k].node))
				return kerr_set(e, KERR_NOMEM, "out of memory");
	}
	r->probed = true;
	for (i = 0; i < 2; i++) {
		memset(&jobs[i], 0, sizeof(jobs[i]));
		jobs[i].r = r;
		jobs[i].s = &r->side[i];
		jobs[i].deadline = deadline;
		kerr_clear(&jobs[i].e);
		if (!r->side[i].nprobes)
			continue;
		if (pthread_create(&th[i], NULL, probe_cluster, &jobs[i]))
			probe_cluster(&jobs[i]);
		else
			started[i] = true;
	}
	for (i = 0; i < 2; i++)
		if (started[i])
			pthread_join(th[i], NULL);
	for (i = 0; i < 2; i++)
		for (k = 0; k < r->side[i].nprobes; k++)
			if (!r->side[i].probes[k].done && r->side[i].probes[k].created && !*r->cancel)
				r->timed_out = true;
	if (*r->cancel)
		r->interrupted = true;
	for (i = 0; i < 2; i++) {
		struct kerr de = KERR_INIT;

		if (r->o->keep_pods || !r->side[i].nprobes)
			continue;
		if (delete_probes(r, &r->side[i], &de) && !rc) {
			*e = de;
			rc = -1;
		}
	}
	for (i = 0; i < 2 && !rc; i++)
		if (jobs[i].rc) {
			*e = jobs[i].e;
			rc = -1;
		}
	return rc;
}
