/* run.c — sync_migrate(): the checks of the pair, the CA exchange, and the
 * workers that run the pipelines, as many at once as both clusters allow
 * (see sync.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "engine.h"
#include "json.h"
#include "quantity.h"

const char *sync_result_name(enum sync_result r)
{
	switch (r) {
	case SYNC_PENDING:
		return "pending";
	case SYNC_MIGRATED:
		return "migrated";
	case SYNC_ALREADY:
		return "already-migrated";
	case SYNC_REFUSED:
		return "refused";
	case SYNC_FAILED:
		return "failed";
	case SYNC_CANCELLED:
		return "cancelled";
	case SYNC_DETACHED:
		return "detached";
	case SYNC_PLANNED:
		return "planned";
	}
	return "?";
}

/* What the scheduler needs of a cluster's migration configuration. */
struct side {
	int parallel;           /* parallelMigrationsPerCluster */
	int per_node;           /* parallelOutboundMigrationsPerNode */
	double cap;             /* bandwidthPerMigration, bytes/s; 0 = none */
};

/* The KubeVirt CR of a cluster, and that it can sync. */
static int check_side(struct kclient *c, const char *role, char *ns, size_t nns, struct side *sd, struct kerr *e)
{
	cJSON *items = NULL;
	const cJSON *kv, *g;
	bool gate = false;

	if (kclient_list(c, &KRES_KUBEVIRT, NULL, NULL, &items, NULL, e)) {
		kerr_prefix(e, "%s cluster", role);
		return -1;
	}
	kv = cJSON_GetArrayItem(items, 0);
	if (!kv) {
		cJSON_Delete(items);
		return kerr_set(e, KERR_FAILED, "the %s cluster has no KubeVirt: install OpenShift Virtualization 4.20+ first",
				role);
	}
	snprintf(ns, nns, "%s", json_str(kv, "metadata.namespace", ""));
	cJSON_ArrayForEach(g, json_get(kv, "spec.configuration.developerConfiguration.featureGates"))
		if (cJSON_IsString(g) && !strcmp(g->valuestring, "DecentralizedLiveMigration"))
			gate = true;
	/* KubeVirt's defaults: 5 per cluster, 2 per node, no bandwidth cap */
	sd->parallel = (int)json_int(kv, "spec.configuration.migrations.parallelMigrationsPerCluster", 5);
	sd->per_node = (int)json_int(kv, "spec.configuration.migrations.parallelOutboundMigrationsPerNode", 2);
	sd->cap = 0;
	quantity_parse(json_str(kv, "spec.configuration.migrations.bandwidthPerMigration", NULL), &sd->cap);
	if (!gate || !json_str(kv, "status.synchronizationAddresses.0", NULL)) {
		kerr_set(e, KERR_FAILED, "the %s cluster cannot take part: %s; run 'kubectl cclm enable --source ... --target ...' first",
			 role, !gate ? "the DecentralizedLiveMigration gate is off" : "KubeVirt advertises no sync address");
		cJSON_Delete(items);
		return -1;
	}
	cJSON_Delete(items);
	return 0;
}

static int storage_classes(struct kclient *c, cJSON **out, struct kerr *e)
{
	cJSON *items = NULL;
	const cJSON *x;

	*out = cJSON_CreateArray();
	if (kclient_list(c, &KRES_STORAGECLASS, NULL, NULL, &items, NULL, e)) {
		kerr_prefix(e, "target cluster");
		return -1;
	}
	cJSON_ArrayForEach(x, items)
		cJSON_AddItemToArray(*out, cJSON_CreateString(json_str(x, "metadata.name", "")));
	cJSON_Delete(items);
	return 0;
}

struct pool {
	struct run *run;
	struct sync_vm *vms;
	int *order;             /* the order the workers take the VMs in */
	int n, next, ended;     /* ended: pipelines that returned */
	pthread_mutex_t lock;
};

/* A running VMI's memory in bytes (0 when it does not say). */
static double vmi_memory(const cJSON *vmi)
{
	static const char *const paths[] = { "spec.domain.memory.guest", "spec.domain.resources.requests.memory",
					     "status.memory.guestCurrent" };
	size_t i;
	double m;

	for (i = 0; i < sizeof(paths) / sizeof(paths[0]); i++)
		if (quantity_parse(json_str(vmi, paths[i], NULL), &m))
			return m;
	return 0;
}

/*
 * The order the workers take the VMs in: largest memory first (the long
 * transfers start early, the short ones fill the gaps at the end), and
 * interleaved by source node, since KubeVirt lets each node send only
 * parallelOutboundMigrationsPerNode at once. Reads the source VMIs with one
 * list per namespace; VMs it cannot place keep their order at the end.
 */
static void order_vms(struct kclient *src, struct sync_vm *vms, int n, int *order)
{
	cJSON *nodes = cJSON_CreateObject(); /* node -> [indices], largest first */
	double *mem = calloc((size_t)(n > 0 ? n : 1), sizeof(*mem));
	int *bysize = calloc((size_t)(n > 0 ? n : 1), sizeof(*bysize));
	const cJSON *x;
	int i, k = 0, round;

	if (!mem || !bysize) {
		for (i = 0; i < n; i++)
			order[i] = i;
		goto out;
	}
	for (i = 0; i < n; i++) {
		cJSON *items = NULL;
		struct kerr e = KERR_INIT;
		int m;

		for (m = 0; m < i; m++)
			if (!strcmp(vms[m].ns, vms[i].ns))
				break;
		if (m < i || kclient_list(src, &KRES_VMI, vms[i].ns, NULL, &items, NULL, &e))
			continue;
		cJSON_ArrayForEach(x, items) {
			const char *name = json_str(x, "metadata.name", "");

			for (m = 0; m < n; m++)
				if (!strcmp(vms[m].ns, vms[i].ns) && !strcmp(vms[m].name, name)) {
					snprintf(vms[m].node, sizeof(vms[m].node), "%s", json_str(x, "status.nodeName", ""));
					mem[m] = vmi_memory(x);
					vms[m].size = mem[m];
				}
		}
		cJSON_Delete(items);
	}
	for (i = 0; i < n; i++) { /* insertion sort, stable: n is a fleet, not a million */
		int m = i;

		while (m > 0 && mem[bysize[m - 1]] < mem[i]) {
			bysize[m] = bysize[m - 1];
			m--;
		}
		bysize[m] = i;
	}
	for (k = 0; k < n; k++) {
		int v = bysize[k];
		cJSON *list = cJSON_GetObjectItemCaseSensitive(nodes, vms[v].node);

		if (!list)
			list = cJSON_AddArrayToObject(nodes, vms[v].node);
		cJSON_AddItemToArray(list, cJSON_CreateNumber(v));
	}
	k = 0;
	for (round = 0; k < n; round++) {
		int before = k;

		cJSON_ArrayForEach(x, nodes) {
			const cJSON *idx = cJSON_GetArrayItem(x, round);

			if (idx)
				order[k++] = idx->valueint;
		}
		if (k == before)
			break;
	}
	for (i = 0; k < n && i < n; i++) /* cannot happen; keeps every VM whatever */
		order[k++] = i;
out:
	free(mem);
	free(bysize);
	cJSON_Delete(nodes);
}

static void *worker(void *arg)
{
	struct pool *p = arg;
	struct run *r = p->run;
	struct kerr e = KERR_INIT;
	struct kclient *src = kclient_new(r->src_cfg, &r->copts, &e);
	struct kclient *tgt = src ? kclient_new(r->tgt_cfg, &r->copts, &e) : NULL;

	for (;;) {
		struct job j;
		int i;

		pthread_mutex_lock(&p->lock);
		i = p->next < p->n ? p->order[p->next++] : -1;
		pthread_mutex_unlock(&p->lock);
		if (i < 0)
			break;
		if (!src || !tgt) {
			snprintf(p->vms[i].message, sizeof(p->vms[i].message), "%s", e.msg);
			p->vms[i].result = SYNC_FAILED;
			continue;
		}
		memset(&j, 0, sizeof(j));
		j.run = r;
		j.vm = &p->vms[i];
		j.src = src;
		j.tgt = tgt;
		j.vm->data_total = j.vm->data_processed = j.vm->data_remaining = -1;
		j.vm->transfer_rate = j.vm->dirty_rate = -1;
		pipeline_run(&j);
		cJSON_Delete(j.src_vm);
		cJSON_Delete(j.src_vmi);
		cJSON_Delete(j.nets);
		cJSON_Delete(j.disks);
		cJSON_Delete(j.copies);
		cJSON_Delete(j.on_target);
		vm_deps_release(&j.deps);
		pthread_mutex_lock(&p->lock);
		p->ended++;
		pthread_mutex_unlock(&p->lock);
	}
	kclient_free(src);
	kclient_free(tgt);
	return NULL;
}

/* What the start of a run waits for of one VM (see sync_migrate()). */
enum mark { MARK_SENDING, MARK_MEASURED, MARK_ADMITTED };

/*
 * Until VM `vm` reaches the mark (measured: or the metrics cannot be read),
 * any pipeline has returned, the run is cancelled, or `ms` have passed.
 */
static void await_mark(struct pool *p, int vm, enum mark mark, int ms)
{
	long long until = sync_now_ms() + ms;

	while (sync_now_ms() < until && !(p->run->o->cancel && *p->run->o->cancel)) {
		struct timespec ts = { 0, 10 * 1000000L };
		const struct sync_vm *v = &p->vms[vm];
		bool out;

		pthread_mutex_lock(&p->lock);
		out = p->ended > 0;
		pthread_mutex_unlock(&p->lock);
		pthread_mutex_lock(&p->run->lock);
		out = out || (mark == MARK_SENDING    ? v->transferring > 0
			      : mark == MARK_MEASURED ? v->transfer_rate > 0 || p->run->metrics_off
						      : v->admitted > 0);
		pthread_mutex_unlock(&p->run->lock);
		if (out)
			return;
		nanosleep(&ts, NULL);
	}
}

/*
 * The probe (sched_probe()): once the first transfer's rate is read, the
 * VM to send beside it moves to the front of the ones not taken yet.
 * Returns its index, or -1 to keep the order: no rate read, a rate held by
 * bandwidthPerMigration (nothing to learn), or no VM large enough.
 */
static int pick_probe(struct pool *p, int first, double cap)
{
	double rate, *sizes;
	int i, at, v;

	await_mark(p, first, MARK_MEASURED, 2000);
	pthread_mutex_lock(&p->run->lock);
	rate = p->vms[first].transfer_rate;
	pthread_mutex_unlock(&p->run->lock);
	if (!(sizes = calloc((size_t)p->n, sizeof(*sizes))))
		return -1;
	pthread_mutex_lock(&p->lock);
	for (i = p->next; i < p->n; i++)
		sizes[i - p->next] = p->vms[p->order[i]].size;
	at = sched_probe(sizes, p->n - p->next, rate, cap);
	free(sizes);
	if (at < 0) {
		pthread_mutex_unlock(&p->lock);
		return -1;
	}
	at += p->next;
	v = p->order[at];
	for (i = at; i > p->next; i--)
		p->order[i] = p->order[i - 1];
	p->order[p->next] = v;
	pthread_mutex_unlock(&p->lock);
	return v;
}

int sync_migrate(const struct kcfg *source, const struct kcfg *target, struct sync_vm *vms, int n,
		 const struct sync_opts *o, struct kerr *e)
{
	struct run r;
	struct kclient *src = NULL, *tgt = NULL;
	struct side ss = { 5, 2, 0 }, ts = { 5, 2, 0 };
	struct sched_limits lim;
	int workers, senders, i, rc = -1, probe = -1;
	bool sched_ok = false, sampling = false;
	struct progress_sampler sampler;
	pthread_t *th = NULL;
	struct pool pool;

	memset(&r, 0, sizeof(r));
	r.o = o;
	r.src_cfg = source;
	r.tgt_cfg = target;
	pthread_mutex_init(&r.lock, NULL);
	if (maps_parse(o->network_map, o->n_network_map, o->storage_map, o->n_storage_map, &r.maps, e))
		goto out;
	if (o->client_opts)
		r.copts = *o->client_opts;
	r.copts.stop_watches = o->cancel; /* Ctrl-C ends a wait at once; the rollback's requests still run */
	if (!(src = kclient_new(source, &r.copts, e)) || !(tgt = kclient_new(target, &r.copts, e)))
		goto out;
	if (check_side(src, "source", r.src_kv_ns, sizeof(r.src_kv_ns), &ss, e) ||
	    check_side(tgt, "target", r.tgt_kv_ns, sizeof(r.tgt_kv_ns), &ts, e) || storage_classes(tgt, &r.tgt_classes, e))
		goto out;
	snprintf(r.src_server, sizeof(r.src_server), "%s", source->server ? source->server : "");
	if (!o->dry_run) {
		if (ca_exchange(src, tgt, r.src_kv_ns, r.tgt_kv_ns, sync_now_ms() + 120000, o->cancel, e)) {
			kerr_prefix(e, "CA exchange");
			goto out;
		}
		run_info(&r, "KubeVirt CAs exchanged: each cluster trusts the other");
		r.stale = rollback_scan(src, tgt, vms, n, o->target_ns);
	}
	/*
	 * At most `senders` transfers hold a place in KubeVirt. With the
	 * clusters' own limits (no --parallel), as many more are admitted and
	 * wait in Pending, synchronised, holding no place, and KubeVirt starts
	 * each the moment a place frees; --parallel N is exact. As many workers
	 * again prepare the next VMs (copies, disks, receiver). Without
	 * --parallel the gate also learns whether the transfers share one link,
	 * and then keeps to one at a time on it, the next starting as it frees.
	 */
	senders = o->parallel > 0 ? o->parallel : (ss.parallel < ts.parallel ? ss.parallel : ts.parallel);
	if (senders < 1)
		senders = 1;
	lim.senders = o->parallel > 0 ? senders : 2 * senders;
	lim.per_node = o->parallel > 0 ? ss.per_node : 2 * ss.per_node;
	lim.cap = ss.cap;
	lim.metrics = true;
	lim.lead = 0;
	lim.learn = o->parallel <= 0;
	lim.link = SCHED_LINK_UNKNOWN;
	lim.link_rate = 0;
	if (sched_init(&r.sched, &lim, n)) {
		kerr_set(e, KERR_NOMEM, "out of memory");
		goto out;
	}
	sched_ok = true;
	if (!o->dry_run && progress_start(&sampler, &r, vms, n, e))
		goto out;
	sampling = !o->dry_run;
	workers = o->dry_run ? senders : lim.senders + senders;
	if (workers > n)
		workers = n;
	memset(&pool, 0, sizeof(pool));
	pool.run = &r;
	pool.vms = vms;
	pool.n = n;
	pthread_mutex_init(&pool.lock, NULL);
	th = calloc((size_t)(workers > 0 ? workers : 1), sizeof(*th));
	pool.order = calloc((size_t)(n > 0 ? n : 1), sizeof(*pool.order));
	if (!th || !pool.order) {
		free(pool.order);
		kerr_set(e, KERR_NOMEM, "out of memory");
		goto out;
	}
	order_vms(src, vms, n, pool.order);
	for (i = 0; i < workers; i++) {
		if (pthread_create(&th[i], NULL, worker, &pool)) {
			workers = i;
			break;
		}
		/*
		 * The first VM alone until it transfers, for at most a second:
		 * its transfer is the one the gate learns the link's rate from,
		 * and the others' preparations all at once (copies, disks,
		 * receivers) would slow both control planes while it gets
		 * going. With the link to learn, the probe next, alone until
		 * the gate lets it through.
		 */
		if (!i && workers > 1)
			await_mark(&pool, pool.order[0], MARK_SENDING, 1000);
		if (!i && workers > 2 && lim.learn)
			probe = pick_probe(&pool, pool.order[0], lim.cap);
		if (i == 1 && probe >= 0)
			await_mark(&pool, probe, MARK_ADMITTED, 2000);
	}
	if (!workers && n)
		worker(&pool);
	for (i = 0; i < workers; i++)
		pthread_join(th[i], NULL);
	pthread_mutex_destroy(&pool.lock);
	free(pool.order);
	rc = 0;
out:
	if (sampling)
		progress_stop(&sampler);
	if (sched_ok)
		sched_destroy(&r.sched);
	free(th);
	kclient_free(src);
	kclient_free(tgt);
	cJSON_Delete(r.tgt_classes);
	cJSON_Delete(r.stale);
	maps_release(&r.maps);
	promq_free(r.metrics);
	pthread_mutex_destroy(&r.lock);
	return rc;
}
