/* rollback.c — undo one migration: both VMIMs first (a cancel reaches the
 * peer through the sync controllers), then only the target objects this
 * migration created, found by its label; nothing on the source but its
 * VMIM (see sync.h). */
#include <stdio.h>
#include <string.h>

#include "engine.h"
#include "json.h"

static int by_label(struct job *j, struct kclient *c, const struct kres *r, const char *ns, struct buf *undone,
		    const char *what)
{
	char sel[320];
	struct kquery q = { .label_selector = sel };
	struct kerr e = KERR_INIT;
	cJSON *items = NULL;
	const cJSON *x;
	int n = 0;

	snprintf(sel, sizeof(sel), "%s=%s", CCLM_L_ID, j->vm->migration_id);
	if (kclient_list(c, r, ns, &q, &items, NULL, &e))
		return -1;
	cJSON_ArrayForEach(x, items) {
		if (delete_quiet(c, r, ns, json_str(x, "metadata.name", ""), &e))
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

void rollback(struct job *j)
{
	struct buf undone = BUF_INIT;
	struct kerr e = KERR_INIT;
	const char *t = j->vm->target_ns;

	if (!j->vm->migration_id[0])
		return;
	by_label(j, j->src, &KRES_VMIM, j->vm->ns, &undone, "source VMIM");
	by_label(j, j->tgt, &KRES_VMIM, t, &undone, "target VMIM");
	if (by_label(j, j->tgt, &KRES_VM, t, &undone, "target VM") > 0)
		wait_object(NULL, j->tgt, &KRES_VMI, t, j->vm->name, gone, NULL, sync_now_ms() + 60000, NULL, &e);
	by_label(j, j->tgt, &KRES_DATAVOLUME, t, &undone, "DataVolume");
	by_label(j, j->tgt, &KRES_PVC, t, &undone, "PVC");
	by_label(j, j->tgt, &KRES_SECRET, t, &undone, "Secret");
	by_label(j, j->tgt, &KRES_CONFIGMAP, t, &undone, "ConfigMap");
	by_label(j, j->tgt, &KRES_VM_INSTANCETYPE, t, &undone, "instancetype");
	by_label(j, j->tgt, &KRES_VM_PREFERENCE, t, &undone, "preference");
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
