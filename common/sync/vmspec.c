/* vmspec.c — what a VM refers to, and the objects the target gets: pure
 * JSON transformations, no cluster (see engine.h). */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "engine.h"
#include "json.h"

static void add_name(cJSON *arr, const char *name)
{
	const cJSON *x;

	if (!name || !*name)
		return;
	cJSON_ArrayForEach(x, arr)
		if (!strcmp(x->valuestring, name))
			return;
	cJSON_AddItemToArray(arr, cJSON_CreateString(name));
}

static void matcher(const cJSON *m, const char *ns_kind, char *kind, size_t nk, char *name, size_t nn, bool *namespaced)
{
	const char *k = json_str(m, "kind", "");

	snprintf(name, nn, "%s", json_str(m, "name", ""));
	snprintf(kind, nk, "%s", k);
	/* no kind means the cluster-wide one (KubeVirt's default) */
	*namespaced = *k && !strcasecmp(k, ns_kind);
}

int vm_deps_read(const cJSON *vm, struct vm_deps *d, struct kerr *e)
{
	const cJSON *spec = json_get(vm, "spec.template.spec"), *v, *n;

	memset(d, 0, sizeof(*d));
	d->secrets = cJSON_CreateArray();
	d->configmaps = cJSON_CreateArray();
	d->dvs = cJSON_CreateArray();
	d->pvcs = cJSON_CreateArray();
	d->networks = cJSON_CreateArray();
	if (!d->secrets || !d->configmaps || !d->dvs || !d->pvcs || !d->networks) {
		vm_deps_release(d);
		return kerr_set(e, KERR_NOMEM, "out of memory");
	}
	cJSON_ArrayForEach(v, json_get(spec, "volumes")) {
		static const char *const cloud[] = { "cloudInitNoCloud", "cloudInitConfigDrive" };
		size_t i;

		for (i = 0; i < 2; i++) {
			add_name(d->secrets, json_str(json_get(v, cloud[i]), "secretRef.name", NULL));
			add_name(d->secrets, json_str(json_get(v, cloud[i]), "networkDataSecretRef.name", NULL));
		}
		add_name(d->secrets, json_str(v, "secret.secretName", NULL));
		add_name(d->configmaps, json_str(v, "configMap.name", NULL));
		add_name(d->configmaps, json_str(v, "sysprep.configMap.name", NULL));
		add_name(d->secrets, json_str(v, "sysprep.secret.name", NULL));
		add_name(d->dvs, json_str(v, "dataVolume.name", NULL));
		add_name(d->pvcs, json_str(v, "persistentVolumeClaim.claimName", NULL));
	}
	cJSON_ArrayForEach(v, json_get(spec, "accessCredentials")) {
		add_name(d->secrets, json_str(v, "sshPublicKey.source.secret.secretName", NULL));
		add_name(d->secrets, json_str(v, "userPassword.source.secret.secretName", NULL));
	}
	cJSON_ArrayForEach(n, json_get(spec, "networks"))
		add_name(d->networks, json_str(n, "multus.networkName", NULL));
	if (json_get(vm, "spec.instancetype"))
		matcher(json_get(vm, "spec.instancetype"), "VirtualMachineInstancetype", d->it_kind, sizeof(d->it_kind),
			d->it_name, sizeof(d->it_name), &d->it_namespaced);
	if (json_get(vm, "spec.preference"))
		matcher(json_get(vm, "spec.preference"), "VirtualMachinePreference", d->pref_kind, sizeof(d->pref_kind),
			d->pref_name, sizeof(d->pref_name), &d->pref_namespaced);
	return 0;
}

void vm_deps_release(struct vm_deps *d)
{
	cJSON_Delete(d->secrets);
	cJSON_Delete(d->configmaps);
	cJSON_Delete(d->dvs);
	cJSON_Delete(d->pvcs);
	cJSON_Delete(d->networks);
	memset(d, 0, sizeof(*d));
}

const char *vmspec_run_strategy(const cJSON *vm)
{
	const char *rs = json_str(vm, "spec.runStrategy", NULL);

	if (rs && *rs)
		return rs;
	return json_bool(vm, "spec.running", false) ? "Always" : "Halted";
}

static cJSON *obj_child(cJSON *o, const char *name)
{
	cJSON *c = cJSON_GetObjectItemCaseSensitive(o, name);

	if (!cJSON_IsObject(c)) {
		cJSON_DeleteItemFromObjectCaseSensitive(o, name);
		c = cJSON_AddObjectToObject(o, name);
	}
	return c;
}

static void set_str(cJSON *o, const char *name, const char *value)
{
	cJSON_DeleteItemFromObjectCaseSensitive(o, name);
	cJSON_AddStringToObject(o, name, value);
}

void vmspec_label(cJSON *obj, const char *id, const char *vm, const char *role)
{
	cJSON *labels = obj_child(obj_child(obj, "metadata"), "labels");

	set_str(labels, CCLM_L_ID, id);
	set_str(labels, CCLM_L_VM, vm);
	set_str(labels, CCLM_L_ROLE, role);
	set_str(labels, CCLM_L_MANAGED, CCLM_MANAGED);
}

/* A new object with apiVersion, kind and metadata {name, namespace, labels, annotations} of `src`. */
static cJSON *fresh(const cJSON *src, const char *ns)
{
	cJSON *o = cJSON_CreateObject(), *meta;
	const cJSON *x;

	cJSON_AddStringToObject(o, "apiVersion", json_str(src, "apiVersion", ""));
	cJSON_AddStringToObject(o, "kind", json_str(src, "kind", ""));
	meta = cJSON_AddObjectToObject(o, "metadata");
	cJSON_AddStringToObject(meta, "name", json_str(src, "metadata.name", ""));
	cJSON_AddStringToObject(meta, "namespace", ns);
	if ((x = json_get(src, "metadata.labels")))
		cJSON_AddItemToObject(meta, "labels", cJSON_Duplicate(x, 1));
	if ((x = json_get(src, "metadata.annotations"))) {
		cJSON *a = cJSON_Duplicate(x, 1);

		/* kubectl apply's record of the source object is not the target's */
		cJSON_DeleteItemFromObjectCaseSensitive(a, "kubectl.kubernetes.io/last-applied-configuration");
		cJSON_AddItemToObject(meta, "annotations", a);
	}
	return o;
}

cJSON *vmspec_target_vm(const cJSON *vm, const cJSON *vmi, const char *target_ns, const char *id,
			const char *source_server, const cJSON *nets)
{
	cJSON *t = fresh(vm, target_ns), *spec, *ann, *tspec, *m;
	const cJSON *n;
	char src[400];
	static const char *const fw[] = { "uuid", "serial" };
	size_t i;

	if (!t)
		return NULL;
	spec = cJSON_Duplicate(json_get(vm, "spec"), 1);
	if (!spec)
		spec = cJSON_CreateObject();
	cJSON_AddItemToObject(t, "spec", spec);
	set_str(spec, "runStrategy", "WaitAsReceiver");
	cJSON_DeleteItemFromObjectCaseSensitive(spec, "running");
	cJSON_DeleteItemFromObjectCaseSensitive(spec, "dataVolumeTemplates");
	if ((m = cJSON_GetObjectItemCaseSensitive(spec, "instancetype")))
		cJSON_DeleteItemFromObjectCaseSensitive(m, "revisionName");
	if ((m = cJSON_GetObjectItemCaseSensitive(spec, "preference")))
		cJSON_DeleteItemFromObjectCaseSensitive(m, "revisionName");
	tspec = obj_child(obj_child(spec, "template"), "spec");
	cJSON_ArrayForEach(n, cJSON_GetObjectItemCaseSensitive(tspec, "networks")) {
		cJSON *mu = cJSON_GetObjectItemCaseSensitive((cJSON *)n, "multus");
		const char *to;

		if (!mu || !nets)
			continue;
		to = json_str(nets, json_str(mu, "networkName", ""), NULL);
		if (to)
			set_str(mu, "networkName", to);
	}
	for (i = 0; i < 2; i++) {
		const char *have, *run;

		have = json_str(json_get(tspec, "domain.firmware"), fw[i], "");
		run = json_str(json_get(vmi, "spec.domain.firmware"), fw[i], "");
		if (!*have && *run)
			set_str(obj_child(obj_child(tspec, "domain"), "firmware"), fw[i], run);
	}
	ann = obj_child(cJSON_GetObjectItemCaseSensitive(t, "metadata"), "annotations");
	set_str(ann, KV_RESTORE_RUN_STRATEGY, vmspec_run_strategy(vm));
	snprintf(src, sizeof(src), "%s/%s", json_str(vm, "metadata.namespace", ""), json_str(vm, "metadata.name", ""));
	set_str(ann, CCLM_A_SOURCE, src);
	if (source_server)
		set_str(ann, CCLM_A_SOURCE_CLUSTER, source_server);
	vmspec_label(t, id, json_str(vm, "metadata.name", ""), "target-vm");
	return t;
}

cJSON *vmspec_copy(const cJSON *obj, const char *target_ns, const char *id, const char *vm)
{
	static const char *const keep[] = { "type", "data", "binaryData", "stringData", "spec", "immutable" };
	cJSON *c = fresh(obj, target_ns);
	size_t i;

	if (!c)
		return NULL;
	for (i = 0; i < sizeof(keep) / sizeof(keep[0]); i++) {
		const cJSON *x = cJSON_GetObjectItemCaseSensitive(obj, keep[i]);

		if (x)
			cJSON_AddItemToObject(c, keep[i], cJSON_Duplicate(x, 1));
	}
	if (id)
		vmspec_label(c, id, vm, "copy");
	return c;
}

static bool same_item(const cJSON *a, const cJSON *b, const char *name)
{
	const cJSON *x = cJSON_GetObjectItemCaseSensitive(a, name), *y = cJSON_GetObjectItemCaseSensitive(b, name);

	if (!x && !y)
		return true;
	if (!x || !y)
		return false;
	return cJSON_Compare(x, y, 1);
}

bool vmspec_same_content(const cJSON *a, const cJSON *b)
{
	if (!same_item(a, b, "data") || !same_item(a, b, "binaryData") || !same_item(a, b, "spec"))
		return false;
	/* a Secret without a type is Opaque */
	return !strcmp(json_str(a, "type", "Opaque"), json_str(b, "type", "Opaque"));
}

cJSON *vmspec_blank_disk(const char *name, const char *ns, const cJSON *src, bool dv, const char *sc,
			 const char *access, const char *mode, const char *id, const char *vm)
{
	cJSON *o = cJSON_CreateObject(), *meta, *spec, *st, *modes, *ann;
	const char *size = json_str(src, "status.capacity.storage", NULL);
	const cJSON *m;

	if (!o)
		return NULL;
	if (!size)
		size = json_str(src, "spec.resources.requests.storage", "1Gi");
	cJSON_AddStringToObject(o, "apiVersion", dv ? "cdi.kubevirt.io/v1beta1" : "v1");
	cJSON_AddStringToObject(o, "kind", dv ? "DataVolume" : "PersistentVolumeClaim");
	meta = cJSON_AddObjectToObject(o, "metadata");
	cJSON_AddStringToObject(meta, "name", name);
	cJSON_AddStringToObject(meta, "namespace", ns);
	spec = cJSON_AddObjectToObject(o, "spec");
	if (dv) {
		ann = cJSON_AddObjectToObject(meta, "annotations");
		cJSON_AddStringToObject(ann, "cdi.kubevirt.io/storage.bind.immediate.requested", "true");
		cJSON_AddStringToObject(ann, "cdi.kubevirt.io/storage.deleteAfterCompletion", "false");
		cJSON_AddObjectToObject(cJSON_AddObjectToObject(spec, "source"), "blank");
		st = cJSON_AddObjectToObject(spec, "storage");
	} else {
		st = spec;
	}
	if (sc && *sc)
		cJSON_AddStringToObject(st, "storageClassName", sc);
	modes = cJSON_AddArrayToObject(st, "accessModes");
	if (access && *access) {
		cJSON_AddItemToArray(modes, cJSON_CreateString(access));
	} else {
		cJSON_ArrayForEach(m, json_get(src, "spec.accessModes"))
			if (cJSON_IsString(m))
				cJSON_AddItemToArray(modes, cJSON_CreateString(m->valuestring));
		if (!cJSON_GetArraySize(modes))
			cJSON_AddItemToArray(modes, cJSON_CreateString("ReadWriteOnce"));
	}
	cJSON_AddStringToObject(st, "volumeMode", mode && *mode ? mode : json_str(src, "spec.volumeMode", "Filesystem"));
	cJSON_AddStringToObject(cJSON_AddObjectToObject(cJSON_AddObjectToObject(st, "resources"), "requests"),
				"storage", size);
	vmspec_label(o, id, vm, "disk");
	return o;
}
