/* rollback.c — undo one migration: both VMIMs first (a cancel reaches the
 * peer through the sync controllers), then only the target objects this
 * migration created, found by its label; nothing on the source but its
 * VMIM (see sync.h). */
#include <stdio.h>
#include <string.h>

#include "engine.h"
#include "json.h"

/* Names of Secrets, ConfigMaps, instancetypes and preferences the VMs in
 * `ns` other than `vm` use: a copy one of them needs stays. */
static cJSON *used_by_others(struct kclient *c, const char *ns, const char *vm)
{
	cJSON *vms = NULL, *used = cJSON_CreateObject();
	const cJSON *x, *n;
	struct kerr e = KERR_INIT;

	if (kclient_list(c, &KRES_VM, ns, NULL, &vms, NULL, &e))
		return used; /* cannot tell: the caller keeps nothing extra */
	cJSON_ArrayForEach(x, vms) {
		struct vm_deps d;

		if (!strcmp(json_str(x, "metadata.name", ""), vm) || vm_deps_read(x, &d, &e))
			continue;
		cJSON_ArrayForEach(n, d.secrets)
			cJSON_AddTrueToObject(used, n->valuestring);
		cJSON_ArrayForEach(n, d.configmaps)
			cJSON_AddTrueToObject(used, n->valuestring);
		if (d.it_name[0])
			cJSON_AddTrueToObject(used, d.it_name);
		if (d.pref_name[0])
			cJSON_AddTrueToObject(used, d.pref_name);
		vm_deps_release(&d);
	}
	cJSON_Delete(vms);
	return used;
}

/* Delete the objects of `r` in `ns` that carry selector `sel`, but those named in `keep`. */
static int by_label(struct kclient *c, const struct kres *r, const char *ns, const char *sel, const cJSON *keep,
		    struct buf *undone, const char *what)
{
	struct kquery q = { .label_selector = sel };
	struct kerr e = KERR_INIT;
	cJSON *items = NULL;
	const cJSON *x;
	int n = 0;

	if (kclient_list(c, r, ns, &q, &items, NULL, &e))
		return -1;
	cJSON_ArrayForEach(x, items) {
		const char *name = json_str(x, "metadata.name", "");

		if ((keep && cJSON_GetObjectItemCaseSensitive(keep, name)) || delete_quiet(c, r, ns, name, &e))
			continue;
		n++;
	}
	if (n)
		buf_addf(undone, "%s%d %s%s", undone->len ? ", " : "", n, what, n == 1 ? "" : "s");
	cJSON_Delete(items);
	return n;
}

static int gone(void *ctx, const cJSON *obj, struct kerr *e)
{
	(void)ctx;
	(void)e;
	return obj == NULL;
}

/* The kinds cclm creates on the target, in the order undo() removes them;
 * `shared`: a copy another target VM may use (see used_by_others). */
static const struct {
	const struct kres *res;
	const char *what;
	bool shared;
} target_kinds[] = {
	{ &KRES_VMIM, "target VMIM", false },
	{ &KRES_VM, "target VM", false },
	{ &KRES_DATAVOLUME, "DataVolume", false },
	{ &KRES_PVC, "PVC", false },
	{ &KRES_SECRET, "Secret", true },
	{ &KRES_CONFIGMAP, "ConfigMap", true },
	{ &KRES_VM_INSTANCETYPE, "instancetype", true },
	{ &KRES_VM_PREFERENCE, "preference", true },
};

#define N_TARGET_KINDS (sizeof(target_kinds) / sizeof(target_kinds[0]))

/* Everything of one attempt (sel: its id) or of every attempt for the VM (sel: cclm.io/vm=NAME). */
static void undo(struct job *j, const char *sel, struct buf *undone)
{
	const char *t = j->vm->target_ns;
	struct kerr e = KERR_INIT;
	cJSON *keep = used_by_others(j->tgt, t, j->vm->name);
	size_t k;

	by_label(j->src, &KRES_VMIM, j->vm->ns, sel, NULL, undone, "source VMIM");
	for (k = 0; k < N_TARGET_KINDS; k++)
		if (by_label(j->tgt, target_kinds[k].res, t, sel, target_kinds[k].shared ? keep : NULL, undone,
			     target_kinds[k].what) > 0 &&
		    target_kinds[k].res == &KRES_VM) /* its disks go once its VMI is gone */
			wait_object(NULL, j->tgt, &KRES_VMI, t, j->vm->name, gone, NULL, sync_now_ms() + 60000, NULL, &e);
	cJSON_Delete(keep);
}

/* Add the cclm.io/vm label of every object of ours of r in ns to `names`. */
static int scan_kind(struct kclient *c, const struct kres *r, const char *ns, cJSON *names)
{
	struct kquery q = { .label_selector = CCLM_L_MANAGED "=" CCLM_MANAGED };
	struct kerr e = KERR_INIT;
	cJSON *items = NULL;
	const cJSON *x;

	if (kclient_list(c, r, ns, &q, &items, NULL, &e))
		return kerr_is_http(&e, 404) ? 0 : -1; /* 404: no such kind there (no CDI), so none of ours */
	cJSON_ArrayForEach(x, items) {
		const char *vm = json_str(json_get(x, "metadata.labels"), CCLM_L_VM, "");

		if (vm[0] && !cJSON_GetObjectItemCaseSensitive(names, vm))
			cJSON_AddTrueToObject(names, vm);
	}
	cJSON_Delete(items);
	return 0;
}

cJSON *rollback_scan(struct kclient *src, struct kclient *tgt, const struct sync_vm *vms, int n, const char *tns)
{
	cJSON *names = cJSON_CreateObject();
	size_t k;
	int i, d;

	for (i = 0; names && i < n; i++) {
		for (d = 0; d < i && strcmp(vms[d].ns, vms[i].ns); d++)
			;
		if (d < i)
			continue; /* a namespace already scanned (and so its target one) */
		if (scan_kind(src, &KRES_VMIM, vms[i].ns, names))
			goto unknown;
		if (tns && i > 0)
			continue; /* one --target-namespace, scanned with the first */
		for (k = 0; k < N_TARGET_KINDS; k++)
			if (scan_kind(tgt, target_kinds[k].res, tns ? tns : vms[i].ns, names))
				goto unknown;
	}
	return names;
unknown:
	cJSON_Delete(names);
	return NULL;
}

void rollback_stale(struct job *j)
{
	struct buf undone = BUF_INIT;
	char sel[400];

	if (j->run->stale && !cJSON_GetObjectItemCaseSensitive(j->run->stale, j->vm->name))
		return; /* the run's scan found nothing of an earlier attempt for it */

	/* an attempt that stopped before its target VM existed (the process was
	 * killed): its VMIMs, disks and copies, found by the VM's name */
	snprintf(sel, sizeof(sel), "%s=%s,%s=%s", CCLM_L_VM, j->vm->name, CCLM_L_MANAGED, CCLM_MANAGED);
	undo(j, sel, &undone);
	if (undone.len)
		job_event(j, SYNC_EV_STEP, "removed what an earlier, unfinished attempt left: %s", undone.s);
	buf_release(&undone);
}

void rollback(struct job *j)
{
	struct buf undone = BUF_INIT;
	struct kerr e = KERR_INIT;
	const char *t = j->vm->target_ns;
	char sel[320];

	if (!j->vm->migration_id[0])
		return;
	snprintf(sel, sizeof(sel), "%s=%s", CCLM_L_ID, j->vm->migration_id);
	undo(j, sel, &undone);
	if (j->created_ns) {
		cJSON *vms = NULL;

		/* a namespace this migration made goes, unless something else moved in */
		if (!kclient_list(j->tgt, &KRES_VM, t, NULL, &vms, NULL, &e) && !cJSON_GetArraySize(vms) &&
		    !delete_quiet(j->tgt, &KRES_NAMESPACE, NULL, t, &e))
			buf_addf(&undone, "%snamespace %s", undone.len ? ", " : "", t);
		cJSON_Delete(vms);
	}
	snprintf(j->vm->undone, sizeof(j->vm->undone), "%s", undone.len ? undone.s : "nothing had been created");
	job_event(j, SYNC_EV_STEP, "rolled back: %s", j->vm->undone);
	buf_release(&undone);
}
