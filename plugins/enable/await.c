/* await.c — kubectl cclm enable waits until both clusters can sync: the
 * sync-controller pods Ready, KubeVirt advertising a sync address inside the
 * migration subnet, every virt-handler back with a migration0 address from
 * its own cluster's pool (see enable.h). Driven by watches: it re-reads
 * only when the pods or the KubeVirt CR change. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "enable.h"
#include "json.h"
#include "kvnet.h"
#include "msg.h"

int pod_migration_ip(const cJSON *pod, char *out, size_t n)
{
	return kvnet_pod_migration_ip(pod, out, n);
}

static bool pod_ready(const cJSON *p)
{
	return kvnet_pod_ready(p);
}

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static bool in_pool(const struct side *s, const char *ip)
{
	ipv4 a;

	return s->pool_known && !ipv4_parse(ip, &a, "address", NULL) && ipam_pool_contains(&s->pool, a);
}

/* Look once; fills s->ready, s->waiting_for, s->sync_address, s->handlers,
 * and the resourceVersions to watch from. */
static int evaluate(struct side *s, bool disabling, char *pods_rv, size_t npr, char *kv_rv, size_t nkr,
		    struct kerr *e)
{
	struct kquery q = { .label_selector = "kubevirt.io in (virt-handler,virt-synchronization-controller)" };
	cJSON *pods = NULL, *kv = NULL, *ds = NULL;
	char *rv = NULL, ip[64];
	const cJSON *p;
	int handlers = 0, handlers_ok = 0, want_handlers;
	bool addr_ok = false;
	const char *addr;

	s->ready = false;
	s->waiting_for[0] = '\0';
	if (kclient_list(s->cl->client, &KRES_POD, s->kv_ns, &q, &pods, &rv, e) ||
	    kclient_get(s->cl->client, &KRES_KUBEVIRT, s->kv_ns, json_str(s->kubevirt, "metadata.name", ""), &kv, e) ||
	    (kclient_get(s->cl->client, &KRES_DAEMONSET, s->kv_ns, "virt-handler", &ds, e) && !kerr_is_http(e, 404))) {
		cJSON_Delete(pods);
		cJSON_Delete(kv);
		free(rv);
		kerr_prefix(e, "%s cluster", s->role);
		return -1;
	}
	kerr_clear(e);
	snprintf(pods_rv, npr, "%s", rv ? rv : "");
	snprintf(kv_rv, nkr, "%s", json_str(kv, "metadata.resourceVersion", ""));
	free(rv);
	want_handlers = (int)json_int(ds, "status.desiredNumberScheduled", 0);
	addr = json_str(kv, "status.synchronizationAddresses.0", "");
	snprintf(s->sync_address, sizeof(s->sync_address), "%s", addr);
	cJSON_Delete(s->handlers);
	s->handlers = cJSON_CreateArray();
	s->sync_ready = s->sync_want = 0;
	cJSON_ArrayForEach(p, pods) {
		const char *role = json_str(json_get(p, "metadata.labels"), "kubevirt.io", "");
		bool ready = pod_ready(p), has_ip;

		if (json_get(p, "metadata.deletionTimestamp"))
			continue;
		has_ip = !pod_migration_ip(p, ip, sizeof(ip));
		if (!strcmp(role, "virt-synchronization-controller")) {
			s->sync_want++;
			if (ready && (!s->nad_name[0] || (has_ip && in_pool(s, ip))))
				s->sync_ready++;
			if (has_ip && addr[0] && !strncmp(addr, ip, strlen(ip)) && addr[strlen(ip)] == ':')
				addr_ok = true;
		} else if (!strcmp(role, "virt-handler")) {
			cJSON *h = cJSON_CreateObject();

			handlers++;
			cJSON_AddStringToObject(h, "node", json_str(p, "spec.nodeName", ""));
			cJSON_AddStringToObject(h, "pod", json_str(p, "metadata.name", ""));
			cJSON_AddStringToObject(h, "address", has_ip ? ip : "");
			cJSON_AddItemToArray(s->handlers, h);
			if (ready && (!s->nad_name[0] || (has_ip && in_pool(s, ip))))
				handlers_ok++;
		}
	}
	if (disabling) {
		if (s->sync_want)
			snprintf(s->waiting_for, sizeof(s->waiting_for), "%d virt-synchronization-controller pod%s still there",
				 s->sync_want, s->sync_want == 1 ? "" : "s");
		else if (addr[0])
			snprintf(s->waiting_for, sizeof(s->waiting_for), "KubeVirt still advertises sync address %s", addr);
		s->ready = !s->waiting_for[0];
		goto out;
	}
	if (!s->nad_name[0] && addr[0])
		addr_ok = true; /* pod network: the leader's pod IP */
	if (!s->sync_want || s->sync_ready < s->sync_want)
		snprintf(s->waiting_for, sizeof(s->waiting_for), "virt-synchronization-controller %d/%d ready%s",
			 s->sync_ready, s->sync_want ? s->sync_want : 2,
			 s->nad_name[0] ? " with a migration0 address from this cluster's pool" : "");
	else if (handlers_ok < handlers || handlers < want_handlers || !handlers)
		snprintf(s->waiting_for, sizeof(s->waiting_for), "virt-handler %d/%d back with a %s", handlers_ok,
			 want_handlers > handlers ? want_handlers : handlers,
			 s->nad_name[0] ? "migration0 address from this cluster's pool" : "Ready pod");
	else if (!addr[0])
		snprintf(s->waiting_for, sizeof(s->waiting_for), "KubeVirt status.synchronizationAddresses");
	else if (!addr_ok)
		snprintf(s->waiting_for, sizeof(s->waiting_for), "sync address %s to be the leader's migration0 address",
			 addr);
	s->ready = !s->waiting_for[0];
out:
	cJSON_Delete(pods);
	cJSON_Delete(kv);
	cJSON_Delete(ds);
	return 0;
}

static int stop_at_first(void *ctx, const char *type, const cJSON *obj, struct kerr *e)
{
	(void)ctx;
	(void)obj;
	(void)e;
	return strcmp(type, "BOOKMARK") ? 1 : 0;
}

/* Until the next change of what the wait is missing (bounded by `ms`). */
static int wait_change(struct side *s, const char *pods_rv, const char *kv_rv, long ms, struct kerr *e)
{
	struct kquery q = { 0 };
	char sel[192];
	int rc;

	if (ms > 10000)
		ms = 10000; /* look again now and then anyway */
	if (!strncmp(s->waiting_for, "KubeVirt", 8) || !strncmp(s->waiting_for, "sync address", 12)) {
		snprintf(sel, sizeof(sel), "metadata.name=%s", json_str(s->kubevirt, "metadata.name", ""));
		q.field_selector = sel;
		q.resource_version = kv_rv;
		rc = kclient_watch(s->cl->client, &KRES_KUBEVIRT, s->kv_ns, &q, ms, stop_at_first, NULL, e);
	} else {
		q.label_selector = "kubevirt.io in (virt-handler,virt-synchronization-controller)";
		q.resource_version = pods_rv;
		rc = kclient_watch(s->cl->client, &KRES_POD, s->kv_ns, &q, ms, stop_at_first, NULL, e);
	}
	if (rc < 0) {
		kerr_prefix(e, "%s cluster: watching", s->role);
		return -1;
	}
	return 0;
}

static int await_side(struct side *s, bool disabling, long long deadline, bool tty, struct kerr *e)
{
	char pods_rv[64], kv_rv[64], last[512] = "";

	for (;;) {
		long long left;

		if (evaluate(s, disabling, pods_rv, sizeof(pods_rv), kv_rv, sizeof(kv_rv), e))
			return -1;
		if (s->ready)
			break;
		if (strcmp(last, s->waiting_for)) {
			if (tty)
				fprintf(stderr, "\r\033[K%s: waiting for %s", s->role, s->waiting_for);
			else
				msg_info("%s: waiting for %s", s->role, s->waiting_for);
			snprintf(last, sizeof(last), "%s", s->waiting_for);
		}
		left = deadline - now_ms();
		if (left <= 0)
			return 1;
		if (wait_change(s, pods_rv, kv_rv, (long)left, e)) {
			if (kerr_is_transient(e) && now_ms() >= deadline) {
				kerr_clear(e); /* the last watch was too short for the server to answer in */
				return 1;
			}
			return -1;
		}
	}
	if (tty)
		fprintf(stderr, "\r\033[K");
	if (disabling)
		msg_info("%s: the sync controller is gone", s->role);
	else
		msg_info("%s: ready, sync address %s", s->role, s->sync_address);
	return 0;
}

int await_pair(struct side *src, struct side *tgt, const struct enable_opts *o, bool tty)
{
	struct side *sides[2] = { src, tgt };
	long long deadline = now_ms() + o->timeout_ms;
	int i, bad = 0;

	for (i = 0; i < 2; i++) {
		struct kerr e = KERR_INIT;
		int rc;

		if (sides[i]->state == SIDE_WRITE_FAILED || !sides[i]->kubevirt)
			continue;
		rc = await_side(sides[i], o->disable, deadline, tty, &e);
		if (rc < 0) {
			snprintf(sides[i]->failure, sizeof(sides[i]->failure), "%s", e.msg);
			bad = 1;
		} else if (rc > 0) {
			if (tty)
				fprintf(stderr, "\r\033[K");
			snprintf(sides[i]->failure, sizeof(sides[i]->failure), "timed out waiting for %s",
				 sides[i]->waiting_for);
			bad = 1;
		}
	}
	return bad ? -1 : 0;
}
