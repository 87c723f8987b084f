/* pipeline.c — one VM's migration, step by step; every step looks before it
 * creates, so a re-run adopts what is there (see sync.h, engine.h). */
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "engine.h"
#include "json.h"


static long requests_now(struct job *j)
{
	struct kclient_stats a, b;

	kclient_stats(j->src, &a);
	kclient_stats(j->tgt, &b);
	return (long)(a.requests + b.requests);
}

/* The transfer is over: let the next one start. */
static void unsend(struct job *j)
{
	if (j->sending) {
		j->sending = false;
		sched_release(&j->run->sched, j);
	}
}

static void finish(struct job *j, enum sync_result r)
{
	unsend(j);
	j->vm->result = r;
	j->vm->ended = sync_wall();
	if ((r == SYNC_REFUSED || r == SYNC_PLANNED) && !j->adopted)
		j->vm->migration_id[0] = '\0'; /* nothing carries it */
	j->vm->requests = requests_now(j) - j->requests0;
	job_event(j, SYNC_EV_RESULT, "%s", sync_result_name(r));
}

static int refuse(struct job *j, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Say why the VM did not move (refused or failed) and what to do; returns -1. */
static int refuse(struct job *j, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(j->vm->message, sizeof(j->vm->message), fmt, ap);
	va_end(ap);
	return -1;
}

/* An API error while working: say which cluster and step. */
static int api_fail(struct job *j, const struct kerr *e, const char *step)
{
	return refuse(j, "%s: %s", step, e->msg);
}

static bool ours(const cJSON *obj, const char *id)
{
	const char *have = json_str(json_get(obj, "metadata.labels"), CCLM_L_ID, NULL);

	return have && (!id || !strcmp(have, id));
}

static bool is_final(const char *phase)
{
	return !strcmp(phase, "Succeeded") || !strcmp(phase, "Failed");
}

static void new_id(struct job *j)
{
	unsigned char r[3] = { 0, 0, 0 };
	int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);

	if (fd >= 0) {
		if (read(fd, r, sizeof(r)) != (ssize_t)sizeof(r))
			r[0] ^= (unsigned char)getpid();
		close(fd);
	}
	r[1] ^= (unsigned char)(sync_now_ms() & 0xff);
	snprintf(j->vm->migration_id, sizeof(j->vm->migration_id), "%.48s-%02x%02x%02x", j->vm->name, r[0], r[1], r[2]);
}

/* --- preflight ---------------------------------------------------------------- */

static const cJSON *condition(const cJSON *obj, const char *type)
{
	const cJSON *c;

	cJSON_ArrayForEach(c, json_get(obj, "status.conditions"))
		if (!strcmp(json_str(c, "type", ""), type))
			return c;
	return NULL;
}

/* 0: the VM may move; -1: refused (message set), or an API error (e set). */
static int check_migratable(struct job *j)
{
	const cJSON *lm = condition(j->src_vmi, "LiveMigratable"), *slm = condition(j->src_vmi, "StorageLiveMigratable");
	const char *phase = json_str(j->src_vmi, "status.phase", "");

	if (strcmp(phase, "Running"))
		return refuse(j, "not running (VMI phase %s): only a running VM can be live-migrated", phase);
	if (!slm || strcmp(json_str(slm, "status", ""), "True"))
		return refuse(j, "not migratable: StorageLiveMigratable is %s (%s: %s)", slm ? json_str(slm, "status", "?") : "missing",
			      json_str(slm, "reason", "no reason"), json_str(slm, "message", ""));
	if (lm && strcmp(json_str(lm, "status", ""), "True") &&
	    strcmp(json_str(lm, "reason", ""), "DisksNotLiveMigratable"))
		return refuse(j, "not migratable: LiveMigratable is False (%s: %s)", json_str(lm, "reason", "?"),
			      json_str(lm, "message", ""));
	return 0;
}

/* No unfinished VMIM for the VMI on a cluster, except this migration's. */
static int check_vmims(struct job *j, struct kclient *c, const char *ns, const char *side, struct kerr *e)
{
	char sel[320];
	struct kquery q = { .label_selector = sel };
	cJSON *items = NULL;
	const cJSON *m;
	int rc = 0;

	snprintf(sel, sizeof(sel), "%s=%s", KV_VMI_NAME_LABEL, j->vm->name);
	if (kclient_list(c, &KRES_VMIM, ns, &q, &items, NULL, e))
		return api_fail(j, e, side);
	cJSON_ArrayForEach(m, items) {
		if (is_final(json_str(m, "status.phase", "")) || (j->adopted && ours(m, j->vm->migration_id)))
			continue;
		rc = refuse(j, "an unfinished migration exists for it on the %s (VMIM %s/%s, phase %s): let it finish or delete it",
			    side, ns, json_str(m, "metadata.name", "?"), json_str(m, "status.phase", "none"));
		break;
	}
	cJSON_Delete(items);
	return rc;
}

static void copy_key(const struct kres *res, const char *name, char *out, size_t n)
{
	snprintf(out, n, "%s/%s", res->kind, name);
}

/* What preflight read is kept for ensure_copies (no second GET of either side). */
static int check_copy(struct job *j, const struct kres *res, const char *name, struct kerr *e)
{
	cJSON *src = NULL, *tgt = NULL;
	char key[400];
	int rc = 0;

	copy_key(res, name, key, sizeof(key));
	if (kclient_get(j->src, res, j->vm->ns, name, &src, e)) {
		if (kerr_is_http(e, 404))
			return refuse(j, "%s '%s' it uses does not exist on the source", res->kind, name);
		return api_fail(j, e, "source");
	}
	if (kclient_get(j->tgt, res, j->vm->target_ns, name, &tgt, e)) {
		if (!kerr_is_http(e, 404))
			rc = api_fail(j, e, "target");
		kerr_clear(e);
	} else if (!ours(tgt, j->vm->migration_id) && !vmspec_same_content(src, tgt)) {
		rc = refuse(j, "%s %s/%s exists on the target with other content: cclm never overwrites it; remove or rename it",
			    res->kind, j->vm->target_ns, name);
	} else {
		cJSON_AddTrueToObject(j->on_target, key);
	}
	if (!rc && !cJSON_GetObjectItemCaseSensitive(j->copies, key))
		cJSON_AddItemToObject(j->copies, key, src);
	else
		cJSON_Delete(src);
	cJSON_Delete(tgt);
	return rc;
}

static int check_cluster_matcher(struct job *j, const char *name, bool pref, struct kerr *e)
{
	const struct kres *r = pref ? &KRES_VM_CLUSTER_PREFERENCE : &KRES_VM_CLUSTER_INSTANCETYPE;
	cJSON *o = NULL;

	if (kclient_get(j->tgt, r, NULL, name, &o, e)) {
		if (kerr_is_http(e, 404))
			return refuse(j, "%s '%s' does not exist on the target: create it there first (cluster-wide objects are not copied)",
				      r->kind, name);
		return api_fail(j, e, "target");
	}
	cJSON_Delete(o);
	return 0;
}

static bool class_on_target(struct job *j, const char *sc)
{
	const cJSON *c;

	cJSON_ArrayForEach(c, j->run->tgt_classes)
		if (!strcmp(c->valuestring, sc))
			return true;
	return false;
}

static int check_disk(struct job *j, const char *name, bool dv, struct kerr *e)
{
	cJSON *pvc = NULL, *there = NULL, *d;
	const char *sc;
	const struct map_entry *m;
	struct buf classes = BUF_INIT;
	const cJSON *c;

	if (kclient_get(j->src, &KRES_PVC, j->vm->ns, name, &pvc, e)) {
		if (kerr_is_http(e, 404))
			return refuse(j, "disk '%s' has no PersistentVolumeClaim on the source (is its DataVolume still importing?)",
				      name);
		return api_fail(j, e, "source");
	}
	sc = json_str(pvc, "spec.storageClassName", "");
	m = maps_store(&j->run->maps, sc);
	if (m)
		sc = m->to;
	if (!class_on_target(j, sc)) {
		cJSON_ArrayForEach(c, j->run->tgt_classes)
			buf_addf(&classes, "%s%s", classes.len ? ", " : "", c->valuestring);
		refuse(j, "storage class '%s' of disk '%s' does not exist on the target (it has: %s): --storage-map %s=CLASS",
		       sc, name, classes.len ? classes.s : "none", json_str(pvc, "spec.storageClassName", ""));
		buf_release(&classes);
		cJSON_Delete(pvc);
		return -1;
	}
	if (!kclient_get(j->tgt, dv ? &KRES_DATAVOLUME : &KRES_PVC, j->vm->target_ns, name, &there, e)) {
		bool mine = ours(there, j->vm->migration_id) && j->adopted;

		cJSON_Delete(there);
		if (!mine) {
			cJSON_Delete(pvc);
			return refuse(j, "%s %s/%s already exists on the target: cclm never overwrites a disk; remove it or migrate to another namespace",
				      dv ? "DataVolume" : "PersistentVolumeClaim", j->vm->target_ns, name);
		}
	} else if (!kerr_is_http(e, 404)) {
		cJSON_Delete(pvc);
		return api_fail(j, e, "target");
	}
	kerr_clear(e);
	d = cJSON_CreateObject();
	cJSON_AddStringToObject(d, "name", name);
	cJSON_AddBoolToObject(d, "dv", dv);
	cJSON_AddStringToObject(d, "sc", sc);
	cJSON_AddStringToObject(d, "access", m ? m->access : "");
	cJSON_AddStringToObject(d, "mode", m ? m->mode : "");
	cJSON_AddItemToObject(d, "src", pvc);
	cJSON_AddItemToArray(j->disks, d);
	return 0;
}

static int check_networks(struct job *j, struct kerr *e)
{
	const cJSON *n;

	cJSON_ArrayForEach(n, j->deps.networks) {
		const struct map_entry *m = maps_net(&j->run->maps, n->valuestring);
		const char *to = m ? m->to : n->valuestring, *slash = strchr(to, '/');
		char ns[64], name[254];
		cJSON *nad = NULL;

		if (!strcmp(to, "pod"))
			return refuse(j, "--network-map %s=pod: mapping a multus network to the pod network is not supported",
				      n->valuestring);
		if (slash) {
			snprintf(ns, sizeof(ns), "%.*s", (int)(slash - to), to);
			snprintf(name, sizeof(name), "%s", slash + 1);
		} else {
			snprintf(ns, sizeof(ns), "%s", j->vm->target_ns);
			snprintf(name, sizeof(name), "%s", to);
		}
		if (kclient_get(j->tgt, &KRES_NAD, ns, name, &nad, e)) {
			if (kerr_is_http(e, 404))
				return refuse(j, "network '%s' has no NetworkAttachmentDefinition %s/%s on the target: create it, or --network-map %s=NAD",
					      n->valuestring, ns, name, n->valuestring);
			return api_fail(j, e, "target");
		}
		cJSON_Delete(nad);
		cJSON_AddStringToObject(j->nets, n->valuestring, to);
	}
	return 0;
}

/* The source is halted (or gone) and our target VM runs restored: done before. */
static bool already_done(struct job *j, const cJSON *tvm)
{
	const char *rs = json_str(tvm, "spec.runStrategy", "");

	if (!strcmp(rs, "WaitAsReceiver"))
		return false;
	if (!j->src_vm)
		return true;
	return !strcmp(vmspec_run_strategy(j->src_vm), "Halted");
}

static void delete_our_vmims(struct job *j);

static int preflight(struct job *j, struct kerr *e)
{
	cJSON *tvm = NULL;
	const cJSON *x;

	if (kclient_get(j->src, &KRES_VM, j->vm->ns, j->vm->name, &j->src_vm, e)) {
		if (!kerr_is_http(e, 404))
			return api_fail(j, e, "source");
		kerr_clear(e);
		j->src_vm = NULL;
	}
	if (kclient_get(j->tgt, &KRES_VM, j->vm->target_ns, j->vm->name, &tvm, e)) {
		if (!kerr_is_http(e, 404))
			return api_fail(j, e, "target");
		kerr_clear(e);
		tvm = NULL;
	}
	if (tvm && !ours(tvm, NULL)) {
		cJSON_Delete(tvm);
		return refuse(j, "a VM %s/%s exists on the target and is not cclm's: remove or rename it, or use --target-namespace",
			      j->vm->target_ns, j->vm->name);
	}
	if (tvm) {
		snprintf(j->vm->migration_id, sizeof(j->vm->migration_id), "%s",
			 json_str(json_get(tvm, "metadata.labels"), CCLM_L_ID, ""));
		j->adopted = true;
		snprintf(j->restore, sizeof(j->restore), "%s",
			 json_str(json_get(tvm, "metadata.annotations"), KV_RESTORE_RUN_STRATEGY, "Always"));
		if (already_done(j, tvm)) {
			cJSON_Delete(tvm);
			delete_our_vmims(j);
			return 1;
		}
	}
	cJSON_Delete(tvm);
	if (!j->src_vm)
		return refuse(j, "VM %s/%s not found on the source", j->vm->ns, j->vm->name);
	if (!j->adopted && !j->run->o->dry_run)
		rollback_stale(j);
	if (kclient_get(j->src, &KRES_VMI, j->vm->ns, j->vm->name, &j->src_vmi, e)) {
		if (!kerr_is_http(e, 404))
			return api_fail(j, e, "source");
		kerr_clear(e);
		j->src_vmi = NULL;
		if (!j->adopted)
			return refuse(j, "not running (no VMI; runStrategy %s): only a running VM can be live-migrated",
				      vmspec_run_strategy(j->src_vm));
	}
	snprintf(j->vm->node, sizeof(j->vm->node), "%s", json_str(j->src_vmi, "status.nodeName", ""));
	if (!j->adopted)
		snprintf(j->restore, sizeof(j->restore), "%s", vmspec_run_strategy(j->src_vm));
	/* an attempt in flight was checked when it began; its VMI may be handing over now */
	if (!j->adopted && check_migratable(j))
		return -1;
	if (check_vmims(j, j->src, j->vm->ns, "source", e) || check_vmims(j, j->tgt, j->vm->target_ns, "target", e))
		return -1;
	if (vm_deps_read(j->src_vm, &j->deps, e))
		return api_fail(j, e, "reading the VM");
	if (!j->adopted)
		new_id(j);
	cJSON_ArrayForEach(x, j->deps.secrets)
		if (check_copy(j, &KRES_SECRET, x->valuestring, e))
			return -1;
	cJSON_ArrayForEach(x, j->deps.configmaps)
		if (check_copy(j, &KRES_CONFIGMAP, x->valuestring, e))
			return -1;
	if (j->deps.it_name[0] && (j->deps.it_namespaced ? check_copy(j, &KRES_VM_INSTANCETYPE, j->deps.it_name, e) :
							   check_cluster_matcher(j, j->deps.it_name, false, e)))
		return -1;
	if (j->deps.pref_name[0] &&
	    (j->deps.pref_namespaced ? check_copy(j, &KRES_VM_PREFERENCE, j->deps.pref_name, e) :
				       check_cluster_matcher(j, j->deps.pref_name, true, e)))
		return -1;
	cJSON_ArrayForEach(x, j->deps.dvs)
		if (check_disk(j, x->valuestring, true, e))
			return -1;
	cJSON_ArrayForEach(x, j->deps.pvcs)
		if (check_disk(j, x->valuestring, false, e))
			return -1;
	return check_networks(j, e);
}

/* --- the steps ------------------------------------------------------------------ */

static int ns_gone(void *ctx, const cJSON *ns, struct kerr *e)
{
	(void)ctx;
	(void)e;
	return ns == NULL;
}

static long long until(const struct job *j, long long t);

static int ensure_namespace(struct job *j, struct kerr *e)
{
	cJSON *ns = NULL, *obj;
	bool existed;
	int rc;

	if (!kclient_get(j->tgt, &KRES_NAMESPACE, NULL, j->vm->target_ns, &ns, e)) {
		bool ending = !strcmp(json_str(ns, "status.phase", ""), "Terminating");

		cJSON_Delete(ns);
		if (!ending)
			return 0;
		/* an earlier rollback removes it: wait until it is gone, then make it anew */
		job_event(j, SYNC_EV_STEP, "namespace %s is being deleted on the target: waiting until it is gone",
			  j->vm->target_ns);
		rc = wait_object(j, j->tgt, &KRES_NAMESPACE, NULL, j->vm->target_ns, ns_gone, NULL,
				 until(j, sync_now_ms() + j->run->o->sync_timeout_ms), NULL, e);
		if (rc < 0)
			return api_fail(j, e, "target namespace");
		if (rc)
			return refuse(j, "namespace %s is still being deleted on the target; run the same command again once it is gone",
				      j->vm->target_ns);
	} else if (!kerr_is_http(e, 404)) {
		return api_fail(j, e, "target namespace");
	}
	kerr_clear(e);
	obj = cJSON_CreateObject();
	cJSON_AddStringToObject(obj, "apiVersion", "v1");
	cJSON_AddStringToObject(obj, "kind", "Namespace");
	cJSON_AddStringToObject(cJSON_AddObjectToObject(obj, "metadata"), "name", j->vm->target_ns);
	vmspec_label(obj, j->vm->migration_id, j->vm->name, "namespace");
	rc = ensure_create(j->tgt, &KRES_NAMESPACE, NULL, obj, NULL, &existed, e);
	cJSON_Delete(obj);
	if (rc)
		return api_fail(j, e, "creating the target namespace");
	j->created_ns = !existed;
	job_event(j, SYNC_EV_STEP, "namespace %s created on the target", j->vm->target_ns);
	return 0;
}

static int copy_one(struct job *j, const struct kres *res, const char *name, struct kerr *e)
{
	const cJSON *src;
	cJSON *copy;
	char key[400];
	bool existed;
	int rc;

	copy_key(res, name, key, sizeof(key));
	if (cJSON_GetObjectItemCaseSensitive(j->on_target, key))
		return 0; /* the same content is there (preflight compared) */
	src = cJSON_GetObjectItemCaseSensitive(j->copies, key);
	if (!src)
		return refuse(j, "%s '%s' was not read in preflight", res->kind, name);
	copy = vmspec_copy(src, j->vm->target_ns, j->vm->migration_id, j->vm->name);
	rc = ensure_create(j->tgt, res, j->vm->target_ns, copy, NULL, &existed, e);
	cJSON_Delete(copy);
	if (!rc && existed)
		return 0; /* made since preflight (by a run before this one, or another writer): never overwritten */
	if (rc)
		return api_fail(j, e, "copying to the target");
	job_event(j, SYNC_EV_STEP, "%s %s copied", res->kind, name);
	return 0;
}

static int ensure_copies(struct job *j, struct kerr *e)
{
	const cJSON *x;

	cJSON_ArrayForEach(x, j->deps.secrets)
		if (copy_one(j, &KRES_SECRET, x->valuestring, e))
			return -1;
	cJSON_ArrayForEach(x, j->deps.configmaps)
		if (copy_one(j, &KRES_CONFIGMAP, x->valuestring, e))
			return -1;
	if (j->deps.it_name[0] && j->deps.it_namespaced && copy_one(j, &KRES_VM_INSTANCETYPE, j->deps.it_name, e))
		return -1;
	if (j->deps.pref_name[0] && j->deps.pref_namespaced && copy_one(j, &KRES_VM_PREFERENCE, j->deps.pref_name, e))
		return -1;
	return 0;
}

static int ensure_disks(struct job *j, struct kerr *e)
{
	const cJSON *d;

	cJSON_ArrayForEach(d, j->disks) {
		bool dv = json_bool(d, "dv", true);
		cJSON *obj = vmspec_blank_disk(json_str(d, "name", ""), j->vm->target_ns, json_get(d, "src"), dv,
					       json_str(d, "sc", ""), json_str(d, "access", ""), json_str(d, "mode", ""),
					       j->vm->migration_id, j->vm->name);
		int rc = ensure_create(j->tgt, dv ? &KRES_DATAVOLUME : &KRES_PVC, j->vm->target_ns, obj, NULL, NULL, e);

		cJSON_Delete(obj);
		if (rc)
			return api_fail(j, e, "creating a blank disk on the target");
		job_event(j, SYNC_EV_STEP, "blank %s %s (%s, %s) created", dv ? "DataVolume" : "PVC", json_str(d, "name", ""),
			  json_str(json_get(d, "src"), "status.capacity.storage",
				   json_str(json_get(d, "src"), "spec.resources.requests.storage", "?")),
			  json_str(d, "sc", ""));
	}
	return 0;
}

static int ensure_target_vm(struct job *j, struct kerr *e)
{
	cJSON *vm;
	int rc;

	if (j->adopted)
		return 0;
	vm = vmspec_target_vm(j->src_vm, j->src_vmi, j->vm->target_ns, j->vm->migration_id, j->run->src_server, j->nets);
	rc = ensure_create(j->tgt, &KRES_VM, j->vm->target_ns, vm, NULL, NULL, e);
	cJSON_Delete(vm);
	if (rc)
		return api_fail(j, e, "creating the target VM");
	job_event(j, SYNC_EV_STEP, "target VM %s/%s created (WaitAsReceiver)", j->vm->target_ns, j->vm->name);
	return 0;
}

static int receiver_ready(void *ctx, const cJSON *vmi, struct kerr *e)
{
	const char *phase = json_str(vmi, "status.phase", "");

	(void)ctx;
	(void)e;
	return vmi && (!strcmp(phase, "WaitingForSync") || json_get(vmi, "status.migrationState"));
}

static int vmim_address(void *ctx, const cJSON *m, struct kerr *e)
{
	(void)ctx;
	(void)e;
	return m && json_str(m, "status.synchronizationAddresses.0", NULL);
}

/* The VMIM of ours with this role, if there is one (its name into out). */
static int find_vmim(struct job *j, struct kclient *c, const char *ns, const char *role, char *out, size_t n,
		     struct kerr *e)
{
	char sel[400];
	struct kquery q = { .label_selector = sel };
	cJSON *items = NULL;

	out[0] = '\0';
	snprintf(sel, sizeof(sel), "%s=%s,%s=%s", CCLM_L_ID, j->vm->migration_id, CCLM_L_ROLE, role);
	if (kclient_list(c, &KRES_VMIM, ns, &q, &items, NULL, e))
		return -1;
	if (cJSON_GetArraySize(items))
		snprintf(out, n, "%s", json_str(cJSON_GetArrayItem(items, 0), "metadata.name", ""));
	cJSON_Delete(items);
	return 0;
}

static int create_vmim(struct job *j, struct kclient *c, const char *ns, const char *role, const char *addr,
		       char *name, size_t n, struct kerr *e)
{
	cJSON *m = cJSON_CreateObject(), *spec, *meta;
	int rc;

	snprintf(name, n, "%s-%s", j->vm->migration_id, addr ? "out" : "in");
	cJSON_AddStringToObject(m, "apiVersion", "kubevirt.io/v1");
	cJSON_AddStringToObject(m, "kind", "VirtualMachineInstanceMigration");
	meta = cJSON_AddObjectToObject(m, "metadata");
	cJSON_AddStringToObject(meta, "name", name);
	cJSON_AddStringToObject(meta, "namespace", ns);
	vmspec_label(m, j->vm->migration_id, j->vm->name, role);
	spec = cJSON_AddObjectToObject(m, "spec");
	cJSON_AddStringToObject(spec, "vmiName", j->vm->name);
	if (addr) {
		cJSON *to = cJSON_AddObjectToObject(spec, "sendTo");

		cJSON_AddStringToObject(to, "migrationID", j->vm->migration_id);
		cJSON_AddStringToObject(to, "connectURL", addr);
	} else {
		cJSON_AddStringToObject(cJSON_AddObjectToObject(spec, "receive"), "migrationID", j->vm->migration_id);
	}
	rc = ensure_create(c, &KRES_VMIM, ns, m, NULL, NULL, e);
	cJSON_Delete(m);
	return rc;
}

static void format_ms(long ms, char *out, size_t n)
{
	if (ms % 60000 == 0 && ms >= 60000)
		snprintf(out, n, "%ldm", ms / 60000);
	else
		snprintf(out, n, "%lds", (ms + 999) / 1000);
}

/* Why the sync does not happen, in KubeVirt's words where it has them. */
static void diagnose(struct job *j, char *out, size_t n)
{
	cJSON *sm = NULL, *tm = NULL, *vmi = NULL;
	struct kerr e = KERR_INIT;
	const cJSON *c;
	const char *why = NULL;

	if (j->src_vmim[0] && !kclient_get(j->src, &KRES_VMIM, j->vm->ns, j->src_vmim, &sm, &e) &&
	    (c = condition(sm, "decentralizedMigrationBlocked")))
		why = json_str(c, "message", NULL);
	if (!why && !kclient_get(j->src, &KRES_VMI, j->vm->ns, j->vm->name, &vmi, &e) &&
	    (c = condition(vmi, "DecentralizedLiveMigrationFailure")))
		why = json_str(c, "message", NULL);
	if (!why && j->tgt_vmim[0] && !kclient_get(j->tgt, &KRES_VMIM, j->vm->target_ns, j->tgt_vmim, &tm, &e) &&
	    (c = condition(tm, "decentralizedMigrationBlocked")))
		why = json_str(c, "message", NULL);
	snprintf(out, n, "%s", why ? why : "no condition says why (KubeVirt before 1.8 reports none)");
	cJSON_Delete(sm);
	cJSON_Delete(tm);
	cJSON_Delete(vmi);
}

static bool waiting_phase(const char *phase);

struct progress {
	struct job *j;
	char phase[32];
	long long since;        /* when the current phase began (ms) */
};

static int watch_target(void *ctx, const cJSON *m, struct kerr *e)
{
	struct progress *p = ctx;
	const char *phase = json_str(m, "status.phase", "");

	(void)e;
	if (!m) {
		snprintf(p->phase, sizeof(p->phase), "Deleted");
		return 1;
	}
	if (strcmp(phase, p->phase)) {
		cJSON *sm = NULL;
		struct kerr ge = KERR_INIT;

		snprintf(p->phase, sizeof(p->phase), "%s", phase);
		p->since = sync_now_ms();
		if (!strcmp(phase, "Running"))
			sched_started(&p->j->run->sched, p->j);
		pthread_mutex_lock(&p->j->run->lock); /* the sampler reads it */
		snprintf(p->j->vm->phase, sizeof(p->j->vm->phase), "%s", phase);
		pthread_mutex_unlock(&p->j->run->lock);
		/* the source's phase explains a wait (and a failure); once the
		 * target transfers, the source moves in step and is not read */
		if (p->j->src_vmim[0] && (waiting_phase(phase) || !strcmp(phase, "Pending") || is_final(phase)) &&
		    !kclient_get(p->j->src, &KRES_VMIM, p->j->vm->ns, p->j->src_vmim, &sm, &ge))
			snprintf(p->j->vm->source_phase, sizeof(p->j->vm->source_phase), "%s",
				 json_str(sm, "status.phase", ""));
		cJSON_Delete(sm);
		job_event(p->j, SYNC_EV_PHASE, "target %s, source %s", phase[0] ? phase : "-",
			  p->j->vm->source_phase[0] ? p->j->vm->source_phase : "-");
	}
	return is_final(phase);
}

/* The target VMIM waits for the sync: before a phase, WaitingForSync,
 * Synchronizing. Pending comes after it (the source's state has arrived):
 * KubeVirt queues the migration for a place, which is no stall. */
static bool waiting_phase(const char *phase)
{
	return !phase[0] || !strcmp(phase, "WaitingForSync") || !strcmp(phase, "Synchronizing");
}

static long long until(const struct job *j, long long t)
{
	return j->deadline && j->deadline < t ? j->deadline : t;
}

/* Until the target VMIM is final: 0 succeeded, -1 failed/stalled (message set), 2 cancelled. */
static int await_completion(struct job *j, struct kerr *e)
{
	struct progress p = { j, "", sync_now_ms() };
	const struct sync_opts *o = j->run->o;
	char d[800], t[32];
	cJSON *last = NULL;

	for (;;) {
		long long lim = waiting_phase(p.phase) ? p.since + o->sync_timeout_ms : sync_now_ms() + 3600 * 1000LL;
		int rc = wait_object(j, j->tgt, &KRES_VMIM, j->vm->target_ns, j->tgt_vmim, watch_target, &p, until(j, lim),
				     &last, e);

		if (rc < 0) {
			cJSON_Delete(last);
			return api_fail(j, e, "watching the target VMIM");
		}
		if (rc == 2) {
			cJSON_Delete(last);
			return 2;
		}
		if (rc == 0)
			break;
		if (j->deadline && sync_now_ms() >= j->deadline) {
			cJSON_Delete(last);
			format_ms(o->timeout_ms, t, sizeof(t));
			return refuse(j, "not done within --timeout %s (target VMIM %s)", t, p.phase[0] ? p.phase : "without a phase");
		}
		if (waiting_phase(p.phase) && sync_now_ms() >= p.since + o->sync_timeout_ms) {
			cJSON_Delete(last);
			diagnose(j, d, sizeof(d));
			format_ms(o->sync_timeout_ms, t, sizeof(t));
			return refuse(j, "stuck in %s (target) / %s (source) past --sync-timeout %s: %s; run 'kubectl cclm netcheck' to find what blocks the sync",
				      p.phase[0] ? p.phase : "no phase", j->vm->source_phase[0] ? j->vm->source_phase : "no phase", t,
				      d);
		}
		cJSON_Delete(last);
		last = NULL;
	}
	if (!strcmp(p.phase, "Deleted")) {
		cJSON_Delete(last);
		return refuse(j, "the target VMIM %s/%s was deleted by someone else", j->vm->target_ns, j->tgt_vmim);
	}
	if (!strcmp(p.phase, "Failed")) {
		const char *why = json_str(last, "status.migrationState.failureReason", NULL);
		cJSON *vmi = NULL;
		struct kerr ge = KERR_INIT;

		if (!why && !kclient_get(j->src, &KRES_VMI, j->vm->ns, j->vm->name, &vmi, &ge))
			why = json_str(vmi, "status.migrationState.failureReason", NULL);
		refuse(j, "the migration failed: %s; the source keeps running; fix the cause and run the same command again",
		       why ? why : "KubeVirt gave no failureReason");
		cJSON_Delete(vmi);
		cJSON_Delete(last);
		return -1;
	}
	cJSON_Delete(last);
	return 0;
}

/* --- verification -------------------------------------------------------------- */

static int target_running(void *ctx, const cJSON *vmi, struct kerr *e)
{
	(void)ctx;
	(void)e;
	return vmi && !strcmp(json_str(vmi, "status.phase", ""), "Running") &&
	       !json_str(json_get(vmi, "metadata.annotations"), KV_CREATE_MIGRATION_TARGET, NULL);
}

static int strategy_is(void *ctx, const cJSON *vm, struct kerr *e)
{
	(void)e;
	return vm && !strcmp(vmspec_run_strategy(vm), (const char *)ctx);
}

static int source_handed_off(void *ctx, const cJSON *vmi, struct kerr *e)
{
	(void)ctx;
	(void)e;
	return !vmi || !strcmp(json_str(vmi, "status.phase", ""), "Succeeded");
}

/* One cluster's half of the verification. The target: its VMI runs, its
 * VM got its run strategy back. The source: KubeVirt handed the VM over
 * (halted it, or, for a VM that does not restart by itself, ended its VMI). */
static int verify_side(struct job *j, bool source, struct kerr *e, char *why, size_t nwhy)
{
	long long lim = until(j, sync_now_ms() + 120000);
	int rc;

	if (source) {
		if (!strcmp(j->restore, "Always"))
			rc = wait_object(j, j->src, &KRES_VM, j->vm->ns, j->vm->name, strategy_is, "Halted", lim, NULL, e);
		else
			rc = wait_object(j, j->src, &KRES_VMI, j->vm->ns, j->vm->name, source_handed_off, NULL, lim, NULL, e);
		if (rc == 1)
			snprintf(why, nwhy, "the source VM did not halt after the hand-over");
		return rc;
	}
	rc = wait_object(j, j->tgt, &KRES_VMI, j->vm->target_ns, j->vm->name, target_running, NULL, lim, NULL, e);
	if (rc == 1)
		snprintf(why, nwhy, "the target VMIM succeeded but the target VMI is not Running");
	if (rc)
		return rc;
	rc = wait_object(j, j->tgt, &KRES_VM, j->vm->target_ns, j->vm->name, strategy_is, j->restore, lim, NULL, e);
	if (rc == 1)
		snprintf(why, nwhy, "the target VM did not get its runStrategy %s back", j->restore);
	return rc;
}

/* Both halves at once (the source's hand-over takes KubeVirt a moment, the
 * target's checks are usually true already): 0 verified, -1 with the VM's
 * message set. Cancelled here, the VM is the target's already: nothing is
 * rolled back, the next run verifies it. */
static int verify(struct job *j)
{
	struct side_result s, t;

	both_sides(j, verify_side, &s, &t);
	if (s.rc == 2 || t.rc == 2)
		return refuse(j, "cancelled while verifying: the VM was handed over to %s/%s; run the same command again to verify it",
			      j->vm->target_ns, j->vm->name);
	if (t.rc)
		return t.rc < 0 ? api_fail(j, &t.e, "target") : refuse(j, "%s", t.why);
	if (s.rc)
		return s.rc < 0 ? api_fail(j, &s.e, "source") : refuse(j, "%s", s.why);
	return 0;
}

/* One cluster's VMIM of this migration: by the name the pipeline used,
 * else found by label (a resumed run that never learnt it). Errors are
 * left: a VMIM left over is found and deleted by the next run. */
static int delete_side_vmim(struct job *j, bool source, struct kerr *e, char *why, size_t nwhy)
{
	struct kclient *c = source ? j->src : j->tgt;
	const char *ns = source ? j->vm->ns : j->vm->target_ns, *name = source ? j->src_vmim : j->tgt_vmim;
	char found[254];

	(void)why;
	(void)nwhy;
	if (name[0])
		delete_quiet(c, &KRES_VMIM, ns, name, e);
	else if (!find_vmim(j, c, ns, source ? "vmim-source" : "vmim-target", found, sizeof(found), e) && found[0])
		delete_quiet(c, &KRES_VMIM, ns, found, e);
	return 0;
}

/* Both VMIMs of this migration, on both clusters at once. */
static void delete_our_vmims(struct job *j)
{
	struct side_result s, t;

	both_sides(j, delete_side_vmim, &s, &t);
}

static int delete_source(struct job *j, struct kerr *e)
{
	const cJSON *x;

	if (delete_quiet(j->src, &KRES_VM, j->vm->ns, j->vm->name, e))
		return api_fail(j, e, "deleting the source VM");
	cJSON_ArrayForEach(x, j->deps.dvs)
		if (delete_quiet(j->src, &KRES_DATAVOLUME, j->vm->ns, x->valuestring, e))
			return api_fail(j, e, "deleting a source disk");
	cJSON_ArrayForEach(x, j->deps.pvcs)
		if (delete_quiet(j->src, &KRES_PVC, j->vm->ns, x->valuestring, e))
			return api_fail(j, e, "deleting a source disk");
	job_event(j, SYNC_EV_STEP, "source VM %s/%s and its disks deleted", j->vm->ns, j->vm->name);
	return 0;
}

/* --- the whole ------------------------------------------------------------------ */

static void fail(struct job *j, bool cancelled)
{
	rollback(j);
	finish(j, cancelled ? SYNC_CANCELLED : SYNC_FAILED);
}

/*
 * Wait for the send gate (sched.c). A migration already sending (a source
 * VMIM of ours, found when resuming) takes its place without waiting.
 * 0 admitted; -1 with the VM's message set (timed out, out of memory),
 * or cancelled (job_cancelled()).
 */
static int admit(struct job *j, struct kerr *e)
{
	char t[32];
	double t0;
	int rc;

	if (j->adopted) {
		if (find_vmim(j, j->src, j->vm->ns, "vmim-source", j->src_vmim, sizeof(j->src_vmim), e))
			return api_fail(j, e, "the source VMIM");
	}
	t0 = sync_wall();
	rc = sched_admit(&j->run->sched, j, j->src_vmim[0] != '\0');
	j->vm->queued += sync_wall() - t0;
	if (rc == 0) {
		j->sending = true;
		return 0;
	}
	if (rc < 0) {
		kerr_set(e, KERR_NOMEM, "out of memory");
		return api_fail(j, e, "the send gate");
	}
	if (rc == 1) {
		format_ms(j->run->o->timeout_ms, t, sizeof(t));
		return refuse(j, "not started within --timeout %s: the other migrations held the network", t);
	}
	return -1;
}

void pipeline_run(struct job *j)
{
	const struct sync_opts *o = j->run->o;
	struct kerr e = KERR_INIT;
	char addr[128];
	cJSON *m = NULL;
	int rc;

	j->vm->started = sync_wall();
	j->requests0 = requests_now(j);
	if (!j->vm->target_ns[0])
		snprintf(j->vm->target_ns, sizeof(j->vm->target_ns), "%s", o->target_ns ? o->target_ns : j->vm->ns);
	j->nets = cJSON_CreateObject();
	j->disks = cJSON_CreateArray();
	j->copies = cJSON_CreateObject();
	j->on_target = cJSON_CreateObject();
	if (o->timeout_ms)
		j->deadline = sync_now_ms() + o->timeout_ms;
	rc = preflight(j, &e);
	if (rc > 0) {
		snprintf(j->vm->message, sizeof(j->vm->message), "already migrated to %s/%s by %s", j->vm->target_ns,
			 j->vm->name, j->vm->migration_id);
		finish(j, SYNC_ALREADY);
		return;
	}
	if (rc) {
		finish(j, SYNC_REFUSED);
		return;
	}
	if (o->dry_run) {
		snprintf(j->vm->message, sizeof(j->vm->message), "would migrate to %s/%s: %d disk%s, %d Secret%s, %d ConfigMap%s",
			 j->vm->target_ns, j->vm->name, cJSON_GetArraySize(j->disks), cJSON_GetArraySize(j->disks) == 1 ? "" : "s",
			 cJSON_GetArraySize(j->deps.secrets), cJSON_GetArraySize(j->deps.secrets) == 1 ? "" : "s",
			 cJSON_GetArraySize(j->deps.configmaps), cJSON_GetArraySize(j->deps.configmaps) == 1 ? "" : "s");
		finish(j, SYNC_PLANNED);
		return;
	}
	job_event(j, SYNC_EV_STEP, "%s migration %s", j->adopted ? "resuming" : "starting", j->vm->migration_id);
	if (ensure_namespace(j, &e) || ensure_copies(j, &e) || ensure_disks(j, &e) || ensure_target_vm(j, &e))
		goto failed;
	rc = wait_object(j, j->tgt, &KRES_VMI, j->vm->target_ns, j->vm->name, receiver_ready, NULL,
			 until(j, sync_now_ms() + o->sync_timeout_ms), &m, &e);
	if (rc) {
		char t[32];

		format_ms(o->sync_timeout_ms, t, sizeof(t));
		if (rc == 2)
			goto cancelled;
		if (rc < 0)
			api_fail(j, &e, "target");
		else
			refuse(j, "the receiver VMI never reached WaitingForSync within %s (VMI phase %s): is the gate on on the target? run 'kubectl cclm enable'",
			       t, m ? json_str(m, "status.phase", "none") : "absent");
		cJSON_Delete(m);
		goto failed;
	}
	cJSON_Delete(m);
	m = NULL;
	job_event(j, SYNC_EV_STEP, "receiver VMI waiting for sync");
	if (admit(j, &e))
		goto failed;
	/* a fresh migration ID has no VMIM yet; a resumed one may */
	if ((j->adopted && find_vmim(j, j->tgt, j->vm->target_ns, "vmim-target", j->tgt_vmim, sizeof(j->tgt_vmim), &e)) ||
	    (!j->tgt_vmim[0] &&
	     create_vmim(j, j->tgt, j->vm->target_ns, "vmim-target", NULL, j->tgt_vmim, sizeof(j->tgt_vmim), &e))) {
		api_fail(j, &e, "the target VMIM");
		goto failed;
	}
	rc = wait_object(j, j->tgt, &KRES_VMIM, j->vm->target_ns, j->tgt_vmim, vmim_address, NULL,
			 until(j, sync_now_ms() + o->sync_timeout_ms), &m, &e);
	if (rc) {
		if (rc == 2)
			goto cancelled;
		if (rc < 0)
			api_fail(j, &e, "target");
		else
			refuse(j, "the target VMIM got no sync address: is virt-synchronization-controller running on the target? run 'kubectl cclm enable'");
		cJSON_Delete(m);
		goto failed;
	}
	snprintf(addr, sizeof(addr), "%s", json_str(m, "status.synchronizationAddresses.0", ""));
	cJSON_Delete(m);
	m = NULL;
	if ((j->adopted && find_vmim(j, j->src, j->vm->ns, "vmim-source", j->src_vmim, sizeof(j->src_vmim), &e)) ||
	    (!j->src_vmim[0] && create_vmim(j, j->src, j->vm->ns, "vmim-source", addr, j->src_vmim, sizeof(j->src_vmim), &e))) {
		api_fail(j, &e, "the source VMIM");
		goto failed;
	}
	job_event(j, SYNC_EV_STEP, "source VMIM %s sends to %s", j->src_vmim, addr);
	if (o->detach) {
		snprintf(j->vm->message, sizeof(j->vm->message),
			 "in flight (%s); run the same command again to follow and finish it", j->vm->migration_id);
		finish(j, SYNC_DETACHED);
		return;
	}
	rc = await_completion(j, &e);
	unsend(j);
	if (rc == 2)
		goto cancelled;
	if (rc)
		goto failed;
	if (verify(j)) {
		/* the VM runs on the target: a rollback now would lose it; say so */
		finish(j, SYNC_FAILED);
		return;
	}
	delete_our_vmims(j);
	if (o->delete_source && delete_source(j, &e)) {
		finish(j, SYNC_FAILED);
		return;
	}
	snprintf(j->vm->message, sizeof(j->vm->message), "running on the target as %s/%s", j->vm->target_ns, j->vm->name);
	finish(j, SYNC_MIGRATED);
	return;
failed:
	if (job_cancelled(j))
		goto cancelled;
	fail(j, false);
	return;
cancelled:
	snprintf(j->vm->message, sizeof(j->vm->message), "cancelled; the source keeps running");
	fail(j, true);
}
