/* apply.c — the writes of kubectl cclm enable, in plan order (see enable.h). */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "enable.h"
#include "json.h"

static const char *method_of(enum write_kind k)
{
	switch (k) {
	case W_CREATE:
		return "POST";
	case W_UPDATE:
		return "PUT";
	case W_PATCH_MERGE:
		return "PATCH";
	case W_DELETE:
		return "DELETE";
	}
	return "?";
}

int write_describe(const struct write *w, struct buf *out)
{
	struct kerr e = KERR_INIT;

	buf_addf(out, "%s %s/%s", method_of(w->kind), w->res->plural, w->name);
	if (w->ns[0])
		buf_addf(out, " -n %s", w->ns);
	buf_addf(out, "%s: %s\n", w->kind == W_PATCH_MERGE ? " (merge patch)" : "", w->what);
	if (w->body) {
		if (json_write(w->body, 2, true, out, &e))
			return -1;
		buf_addch(out, '\n');
	}
	return 0;
}

static void pause_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

/* One write; the writes are idempotent (merge patches of absolute values, a
 * create that may find its own object, an update guarded by
 * resourceVersion), so a transient failure is retried. */
static int do_write(struct side *s, const struct write *w, bool dry_run, struct kerr *e)
{
	struct kquery q = { .dry_run = dry_run, .field_manager = ENABLE_FIELD_MANAGER };
	long wait = 250;
	int attempt, rc = -1;

	for (attempt = 0; attempt < 8; attempt++) {
		kerr_clear(e);
		switch (w->kind) {
		case W_CREATE:
			rc = kclient_create(s->cl->client, w->res, w->ns, w->body, &q, NULL, e);
			if (rc && attempt > 0 && kerr_is_http(e, 409))
				rc = 0; /* an earlier try made it before its reply was lost */
			break;
		case W_UPDATE:
			rc = kclient_update(s->cl->client, w->res, w->ns, w->name, w->body, &q, NULL, e);
			break;
		case W_PATCH_MERGE:
			rc = kclient_patch(s->cl->client, w->res, w->ns, w->name, NULL, KPATCH_MERGE, w->body, &q, NULL, e);
			break;
		case W_DELETE:
			rc = kclient_delete(s->cl->client, w->res, w->ns, w->name, &q, e);
			if (rc && kerr_is_http(e, 404))
				rc = 0;
			break;
		}
		if (!rc || !kerr_is_transient(e))
			break;
		pause_ms(e->retry_after > 0 ? e->retry_after * 1000L : wait);
		if (wait < 4000)
			wait *= 2;
	}
	if (rc && kerr_is_http(e, 409) && w->kind != W_CREATE)
		kerr_prefix(e, "%s changed while cclm was reading it: run the command again", w->name);
	return rc;
}

/* After a NAD rewrite, the virt-handler and sync-controller pods still hold
 * addresses from the old pool: delete those (their DaemonSet and
 * Deployment make new ones, which get addresses from the new pool). */
static int restart_stale_pods(struct side *s, bool dry_run, struct kerr *e)
{
	struct kquery q = { .label_selector = "kubevirt.io in (virt-handler,virt-synchronization-controller)" };
	cJSON *pods = NULL;
	const cJSON *p;
	int rc = 0;

	if (kclient_list(s->cl->client, &KRES_POD, s->kv_ns, &q, &pods, NULL, e))
		return -1;
	cJSON_ArrayForEach(p, pods) {
		char ip[64];
		ipv4 a;
		struct write w = { .kind = W_DELETE, .res = &KRES_POD };

		if (pod_migration_ip(p, ip, sizeof(ip)) || ipv4_parse(ip, &a, "address", NULL) ||
		    ipam_pool_contains(&s->pool, a))
			continue;
		snprintf(w.ns, sizeof(w.ns), "%s", s->kv_ns);
		snprintf(w.name, sizeof(w.name), "%s", json_str(p, "metadata.name", ""));
		if ((rc = do_write(s, &w, dry_run, e)))
			break;
	}
	cJSON_Delete(pods);
	return rc;
}

int apply_side(struct side *s, bool dry_run, struct kerr *e)
{
	int i;

	if (!s->nwrites) {
		s->state = SIDE_ALREADY;
		return 0;
	}
	for (i = 0; i < s->nwrites; i++) {
		if (do_write(s, &s->writes[i], dry_run, e)) {
			kerr_prefix(e, "%s cluster: %s", s->role, s->writes[i].what);
			snprintf(s->failure, sizeof(s->failure), "%s", e->msg);
			s->state = SIDE_WRITE_FAILED;
			return -1;
		}
		s->writes[i].done = true;
	}
	if (s->nad_replaced && restart_stale_pods(s, dry_run, e)) {
		kerr_prefix(e, "%s cluster: restarting virt-handler pods onto the new pool", s->role);
		snprintf(s->failure, sizeof(s->failure), "%s", e->msg);
		s->state = SIDE_WRITE_FAILED;
		return -1;
	}
	s->state = dry_run ? SIDE_UNTOUCHED : SIDE_WRITTEN;
	return 0;
}
