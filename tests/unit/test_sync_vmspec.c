/* Unit tests for common/sync/vmspec.c: a VM's dependencies and the objects
 * made for the target; pure JSON, no cluster. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine.h"
#include "fixture.h"
#include "json.h"

/* The lab's app01 (tests/sim/scenarios/lab-vms.yaml) as the API server
 * returns it: server-set metadata, revision names, a status. */
static const char app01[] =
	"{\"apiVersion\":\"kubevirt.io/v1\",\"kind\":\"VirtualMachine\","
	"\"metadata\":{\"name\":\"app01\",\"namespace\":\"vms\",\"uid\":\"5f0c6e2a-1111-2222-3333-444455556666\","
	"\"resourceVersion\":\"48211\",\"generation\":3,\"creationTimestamp\":\"2025-05-01T10:00:00Z\","
	"\"finalizers\":[\"kubevirt.io/virtualMachineControllerFinalize\"],"
	"\"managedFields\":[{\"manager\":\"kubectl-client-side-apply\",\"operation\":\"Update\"}],"
	"\"labels\":{\"app\":\"app01\"},"
	"\"annotations\":{\"kubectl.kubernetes.io/last-applied-configuration\":\"{\\\"kind\\\":\\\"VirtualMachine\\\"}\","
	"\"team\":\"web\"}},"
	"\"spec\":{\"runStrategy\":\"Always\","
	"\"instancetype\":{\"kind\":\"VirtualMachineInstancetype\",\"name\":\"app-small\","
	"\"revisionName\":\"app01-app-small-6b8f-1\"},"
	"\"preference\":{\"kind\":\"VirtualMachinePreference\",\"name\":\"app-pref\","
	"\"revisionName\":\"app01-app-pref-7c9d-1\"},"
	"\"template\":{\"metadata\":{\"labels\":{\"kubevirt.io/domain\":\"app01\"},"
	"\"annotations\":{\"kubesim.cclm.io/dirty-rate\":\"32Mi\"}},"
	"\"spec\":{\"domain\":{\"devices\":{"
	"\"disks\":[{\"name\":\"root\",\"disk\":{}},{\"name\":\"cloudinit\",\"disk\":{}},"
	"{\"name\":\"config\",\"disk\":{},\"serial\":\"CONFIG\"}],"
	"\"interfaces\":[{\"name\":\"default\",\"masquerade\":{}}]}},"
	"\"networks\":[{\"name\":\"default\",\"pod\":{}}],"
	"\"volumes\":[{\"name\":\"root\",\"dataVolume\":{\"name\":\"app01-root\"}},"
	"{\"name\":\"cloudinit\",\"cloudInitNoCloud\":{\"secretRef\":{\"name\":\"app01-cloudinit\"}}},"
	"{\"name\":\"config\",\"configMap\":{\"name\":\"app01-config\"}}]}}},"
	"\"status\":{\"printableStatus\":\"Running\",\"ready\":true,\"created\":true}}";

/* app01's running VMI, as far as the target VM cares. */
static const char app01_vmi[] =
	"{\"apiVersion\":\"kubevirt.io/v1\",\"kind\":\"VirtualMachineInstance\","
	"\"metadata\":{\"name\":\"app01\",\"namespace\":\"vms\"},"
	"\"spec\":{\"domain\":{\"firmware\":{\"uuid\":\"1f7a7e4c-0f5e-5b1e-9a43-3b1c2d4e5f60\","
	"\"serial\":\"7d8e9f00-aaaa-bbbb-cccc-ddddeeeeffff\"}}}}";

/* The lab's db01: a cluster-wide instancetype (no kind). */
static const char db01[] =
	"{\"apiVersion\":\"kubevirt.io/v1\",\"kind\":\"VirtualMachine\","
	"\"metadata\":{\"name\":\"db01\",\"namespace\":\"vms\",\"labels\":{\"app\":\"db01\"}},"
	"\"spec\":{\"runStrategy\":\"Always\",\"instancetype\":{\"name\":\"u1.medium\"},"
	"\"template\":{\"metadata\":{\"labels\":{\"kubevirt.io/domain\":\"db01\"}},"
	"\"spec\":{\"domain\":{\"devices\":{\"disks\":[{\"name\":\"root\",\"disk\":{\"bus\":\"virtio\"}}]}},"
	"\"networks\":[{\"name\":\"default\",\"pod\":{}}],"
	"\"volumes\":[{\"name\":\"root\",\"containerDisk\":{\"image\":\"quay.io/containerdisks/centos-stream:9\"}}]}}}}";

/* app01's root disk PVC as the source cluster has it. */
static const char app01_pvc[] =
	"{\"apiVersion\":\"v1\",\"kind\":\"PersistentVolumeClaim\","
	"\"metadata\":{\"name\":\"app01-root\",\"namespace\":\"vms\",\"uid\":\"aa-bb\",\"resourceVersion\":\"9\","
	"\"labels\":{\"app\":\"containerized-data-importer\"},"
	"\"annotations\":{\"pv.kubernetes.io/bind-completed\":\"yes\",\"cdi.kubevirt.io/storage.pod.phase\":\"Succeeded\"},"
	"\"ownerReferences\":[{\"kind\":\"DataVolume\",\"name\":\"app01-root\",\"uid\":\"cc-dd\"}]},"
	"\"spec\":{\"storageClassName\":\"ocs-storagecluster-ceph-rbd-virtualization\","
	"\"accessModes\":[\"ReadWriteMany\"],\"volumeMode\":\"Block\","
	"\"resources\":{\"requests\":{\"storage\":\"10Gi\"}},\"volumeName\":\"pvc-aa-bb\","
	"\"dataSource\":{\"kind\":\"PersistentVolumeClaim\",\"name\":\"golden\"}},"
	"\"status\":{\"phase\":\"Bound\",\"accessModes\":[\"ReadWriteMany\"],\"capacity\":{\"storage\":\"12Gi\"}}}";

/* ---- helpers ---------------------------------------------------------- */

/* Compact, sorted text of j; free() it. */
static char *to_text(const cJSON *j)
{
	struct buf b = BUF_INIT;
	struct kerr e = KERR_INIT;

	if (!j)
		return strdup("(null)");
	if (json_write(j, 0, true, &b, &e)) {
		buf_release(&b);
		return strdup("(unwritable)");
	}
	return buf_detach(&b, NULL);
}

/* got must equal the JSON text want (member order aside). */
static void assert_json(const cJSON *got, const char *want)
{
	cJSON *w = fx_json(want);
	char *g, *ws;

	if (got && cJSON_Compare(got, w, 1)) {
		cJSON_Delete(w);
		return;
	}
	g = to_text(got);
	ws = to_text(w);
	print_error("got  %s\nwant %s\n", g, ws);
	free(g);
	free(ws);
	cJSON_Delete(w);
	fail();
}

static void assert_ours(const cJSON *obj, const char *id, const char *vm, const char *role)
{
	const cJSON *l = json_get(obj, "metadata.labels");

	assert_non_null(l);
	assert_string_equal(json_str(l, CCLM_L_ID, ""), id);
	assert_string_equal(json_str(l, CCLM_L_VM, ""), vm);
	assert_string_equal(json_str(l, CCLM_L_ROLE, ""), role);
	assert_string_equal(json_str(l, CCLM_L_MANAGED, ""), CCLM_MANAGED);
}

/* None of the server's own metadata, and no status. */
static void assert_no_server_fields(const cJSON *obj)
{
	static const char *const meta[] = {
		"uid", "resourceVersion", "generation", "creationTimestamp", "finalizers",
		"managedFields", "ownerReferences", "selfLink", "deletionTimestamp",
	};
	size_t i;

	for (i = 0; i < sizeof(meta) / sizeof(meta[0]); i++)
		if (json_get(json_get(obj, "metadata"), meta[i]))
			fail_msg("metadata.%s was copied", meta[i]);
	assert_null(json_get(obj, "status"));
}

static void deps_ok(const char *vm_text, struct vm_deps *d)
{
	struct kerr e = KERR_INIT;
	cJSON *vm = fx_json(vm_text);

	if (vm_deps_read(vm, d, &e))
		fail_msg("vm_deps_read: %s", e.msg);
	assert_int_equal(e.kind, KERR_NONE);
	cJSON_Delete(vm);
}

/* The target VM of vm_text, with vmi_text (may be NULL) and nets_text (may be NULL). */
static cJSON *target_of(const char *vm_text, const char *vmi_text, const char *nets_text)
{
	cJSON *vm = fx_json(vm_text), *vmi = vmi_text ? fx_json(vmi_text) : NULL;
	cJSON *nets = nets_text ? fx_json(nets_text) : NULL, *before = cJSON_Duplicate(vm, 1), *t;

	t = vmspec_target_vm(vm, vmi, "vms-target", "m-1", "https://source:6443", nets);
	assert_non_null(t);
	/* the source is left as it was */
	assert_true(cJSON_Compare(vm, before, 1));
	cJSON_Delete(before);
	cJSON_Delete(nets);
	cJSON_Delete(vmi);
	cJSON_Delete(vm);
	return t;
}

/* ---- vm_deps_read ----------------------------------------------------- */

static void test_deps_app01(void **state)
{
	struct vm_deps d;

	(void)state;
	deps_ok(app01, &d);
	assert_json(d.secrets, "[\"app01-cloudinit\"]");
	assert_json(d.configmaps, "[\"app01-config\"]");
	assert_json(d.dvs, "[\"app01-root\"]");
	assert_json(d.pvcs, "[]");
	assert_json(d.networks, "[]");
	assert_string_equal(d.it_kind, "VirtualMachineInstancetype");
	assert_string_equal(d.it_name, "app-small");
	assert_true(d.it_namespaced);
	assert_string_equal(d.pref_kind, "VirtualMachinePreference");
	assert_string_equal(d.pref_name, "app-pref");
	assert_true(d.pref_namespaced);
	vm_deps_release(&d);
	assert_null(d.secrets);
	assert_null(d.dvs);
	assert_string_equal(d.it_name, "");
	/* releasing twice is harmless */
	vm_deps_release(&d);
}

static void test_deps_cluster_matchers(void **state)
{
	struct vm_deps d;

	(void)state;
	deps_ok(db01, &d);
	assert_string_equal(d.it_kind, "");
	assert_string_equal(d.it_name, "u1.medium");
	assert_false(d.it_namespaced);
	assert_string_equal(d.pref_name, "");
	assert_false(d.pref_namespaced);
	assert_json(d.secrets, "[]");
	assert_json(d.configmaps, "[]");
	assert_json(d.dvs, "[]");
	assert_json(d.pvcs, "[]");
	vm_deps_release(&d);

	deps_ok("{\"spec\":{\"instancetype\":{\"kind\":\"VirtualMachineClusterInstancetype\",\"name\":\"u1.large\"},"
		"\"preference\":{\"kind\":\"VirtualMachineClusterPreference\",\"name\":\"fedora\"}}}",
		&d);
	assert_string_equal(d.it_kind, "VirtualMachineClusterInstancetype");
	assert_string_equal(d.it_name, "u1.large");
	assert_false(d.it_namespaced);
	assert_string_equal(d.pref_kind, "VirtualMachineClusterPreference");
	assert_string_equal(d.pref_name, "fedora");
	assert_false(d.pref_namespaced);
	vm_deps_release(&d);

	/* a preference without a kind is the cluster-wide one too; kinds match case-blind */
	deps_ok("{\"spec\":{\"instancetype\":{\"kind\":\"virtualmachineinstancetype\",\"name\":\"small\"},"
		"\"preference\":{\"name\":\"fedora\"}}}",
		&d);
	assert_true(d.it_namespaced);
	assert_string_equal(d.it_name, "small");
	assert_false(d.pref_namespaced);
	assert_string_equal(d.pref_kind, "");
	assert_string_equal(d.pref_name, "fedora");
	vm_deps_release(&d);
}

static void test_deps_every_reference(void **state)
{
	static const char vm[] =
		"{\"metadata\":{\"name\":\"all\",\"namespace\":\"vms\"},\"spec\":{\"template\":{\"spec\":{"
		"\"volumes\":["
		"{\"name\":\"ci\",\"cloudInitNoCloud\":{\"secretRef\":{\"name\":\"s-user\"},"
		"\"networkDataSecretRef\":{\"name\":\"s-net\"}}},"
		"{\"name\":\"cd\",\"cloudInitConfigDrive\":{\"secretRef\":{\"name\":\"s-cd-user\"},"
		"\"networkDataSecretRef\":{\"name\":\"s-cd-net\"}}},"
		"{\"name\":\"inline\",\"cloudInitNoCloud\":{\"userData\":\"#cloud-config\\n\"}},"
		"{\"name\":\"sec\",\"secret\":{\"secretName\":\"s-vol\"}},"
		"{\"name\":\"sec2\",\"secret\":{\"secretName\":\"s-vol\"}},"
		"{\"name\":\"cm\",\"configMap\":{\"name\":\"cm-1\"}},"
		"{\"name\":\"cm2\",\"configMap\":{\"name\":\"cm-1\"}},"
		"{\"name\":\"noname\",\"configMap\":{\"name\":\"\"}},"
		"{\"name\":\"sp1\",\"sysprep\":{\"configMap\":{\"name\":\"cm-sysprep\"}}},"
		"{\"name\":\"sp2\",\"sysprep\":{\"secret\":{\"name\":\"s-sysprep\"}}},"
		"{\"name\":\"root\",\"dataVolume\":{\"name\":\"dv-1\"}},"
		"{\"name\":\"root2\",\"dataVolume\":{\"name\":\"dv-1\"}},"
		"{\"name\":\"data\",\"persistentVolumeClaim\":{\"claimName\":\"pvc-1\"}},"
		"{\"name\":\"logs\",\"persistentVolumeClaim\":{\"claimName\":\"pvc-2\",\"readOnly\":true}},"
		"{\"name\":\"data2\",\"persistentVolumeClaim\":{\"claimName\":\"pvc-1\"}},"
		"{\"name\":\"cdisk\",\"containerDisk\":{\"image\":\"quay.io/x:1\"}},"
		"{\"name\":\"scratch\",\"emptyDisk\":{\"capacity\":\"1Gi\"}},"
		"{\"name\":\"sa\",\"serviceAccount\":{\"serviceAccountName\":\"default\"}}],"
		"\"accessCredentials\":["
		"{\"sshPublicKey\":{\"source\":{\"secret\":{\"secretName\":\"s-ssh\"}},"
		"\"propagationMethod\":{\"qemuGuestAgent\":{\"users\":[\"fedora\"]}}}},"
		"{\"sshPublicKey\":{\"source\":{\"secret\":{\"secretName\":\"s-vol\"}},"
		"\"propagationMethod\":{\"noCloud\":{}}}},"
		"{\"userPassword\":{\"source\":{\"secret\":{\"secretName\":\"s-pass\"}},"
		"\"propagationMethod\":{\"qemuGuestAgent\":{}}}}],"
		"\"networks\":[{\"name\":\"default\",\"pod\":{}},"
		"{\"name\":\"lm\",\"multus\":{\"networkName\":\"vms/livemigration-network\"}},"
		"{\"name\":\"lm-again\",\"multus\":{\"networkName\":\"vms/livemigration-network\"}},"
		"{\"name\":\"br\",\"multus\":{\"networkName\":\"br-2001\",\"default\":true}}]}}}}";
	struct vm_deps d;

	(void)state;
	deps_ok(vm, &d);
	assert_json(d.secrets,
		    "[\"s-user\",\"s-net\",\"s-cd-user\",\"s-cd-net\",\"s-vol\",\"s-sysprep\",\"s-ssh\",\"s-pass\"]");
	assert_json(d.configmaps, "[\"cm-1\",\"cm-sysprep\"]");
	assert_json(d.dvs, "[\"dv-1\"]");
	assert_json(d.pvcs, "[\"pvc-1\",\"pvc-2\"]");
	assert_json(d.networks, "[\"vms/livemigration-network\",\"br-2001\"]");
	assert_string_equal(d.it_name, "");
	assert_string_equal(d.it_kind, "");
	assert_false(d.it_namespaced);
	assert_string_equal(d.pref_name, "");
	assert_false(d.pref_namespaced);
	vm_deps_release(&d);
}

static void test_deps_nothing(void **state)
{
	static const char *const vms[] = {
		"{}",
		"{\"spec\":{}}",
		"{\"spec\":{\"template\":{\"spec\":{\"volumes\":[],\"networks\":[],\"accessCredentials\":[]}}}}",
	};
	struct vm_deps d;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(vms) / sizeof(vms[0]); i++) {
		deps_ok(vms[i], &d);
		assert_json(d.secrets, "[]");
		assert_json(d.configmaps, "[]");
		assert_json(d.dvs, "[]");
		assert_json(d.pvcs, "[]");
		assert_json(d.networks, "[]");
		assert_string_equal(d.it_name, "");
		assert_string_equal(d.pref_name, "");
		assert_false(d.it_namespaced);
		assert_false(d.pref_namespaced);
		vm_deps_release(&d);
	}
}

/* ---- vmspec_run_strategy ---------------------------------------------- */

static void assert_strategy(const char *vm_text, const char *want)
{
	cJSON *vm = fx_json(vm_text);

	assert_string_equal(vmspec_run_strategy(vm), want);
	cJSON_Delete(vm);
}

static void test_run_strategy(void **state)
{
	(void)state;
	assert_strategy("{\"spec\":{\"runStrategy\":\"Always\"}}", "Always");
	assert_strategy("{\"spec\":{\"runStrategy\":\"Manual\"}}", "Manual");
	assert_strategy("{\"spec\":{\"runStrategy\":\"RerunOnFailure\",\"running\":false}}", "RerunOnFailure");
	/* runStrategy wins over running */
	assert_strategy("{\"spec\":{\"runStrategy\":\"Halted\",\"running\":true}}", "Halted");
	assert_strategy("{\"spec\":{\"running\":true}}", "Always");
	assert_strategy("{\"spec\":{\"running\":false}}", "Halted");
	assert_strategy("{\"spec\":{\"runStrategy\":\"\",\"running\":true}}", "Always");
	assert_strategy("{\"spec\":{\"running\":\"true\"}}", "Halted");
	assert_strategy("{\"spec\":{}}", "Halted");
	assert_strategy("{}", "Halted");
	assert_string_equal(vmspec_run_strategy(NULL), "Halted");
}

/* ---- vmspec_target_vm ------------------------------------------------- */

static void test_target_vm_app01(void **state)
{
	cJSON *t = target_of(app01, app01_vmi, NULL);
	const cJSON *labels = json_get(t, "metadata.labels"), *ann = json_get(t, "metadata.annotations");

	(void)state;
	assert_string_equal(json_str(t, "apiVersion", ""), "kubevirt.io/v1");
	assert_string_equal(json_str(t, "kind", ""), "VirtualMachine");
	assert_string_equal(json_str(t, "metadata.name", ""), "app01");
	assert_string_equal(json_str(t, "metadata.namespace", ""), "vms-target");
	assert_no_server_fields(t);
	/* the source's labels, and ours */
	assert_string_equal(json_str(labels, "app", ""), "app01");
	assert_ours(t, "m-1", "app01", "target-vm");
	assert_string_equal(json_str(labels, "cclm.io/role", ""), "target-vm");
	assert_string_equal(json_str(labels, "app.kubernetes.io/managed-by", ""), "cclm");
	/* annotations: the source's, minus kubectl's, plus ours */
	assert_string_equal(json_str(ann, "team", ""), "web");
	assert_null(json_get(ann, "kubectl.kubernetes.io/last-applied-configuration"));
	assert_string_equal(json_str(ann, "kubevirt.io/restore-run-strategy", ""), "Always");
	assert_string_equal(json_str(ann, "cclm.io/source", ""), "vms/app01");
	assert_string_equal(json_str(ann, "cclm.io/source-cluster", ""), "https://source:6443");
	/* the spec */
	assert_string_equal(json_str(t, "spec.runStrategy", ""), "WaitAsReceiver");
	assert_null(json_get(t, "spec.running"));
	assert_json(json_get(t, "spec.instancetype"), "{\"kind\":\"VirtualMachineInstancetype\",\"name\":\"app-small\"}");
	assert_json(json_get(t, "spec.preference"), "{\"kind\":\"VirtualMachinePreference\",\"name\":\"app-pref\"}");
	assert_string_equal(json_str(t, "spec.template.spec.domain.firmware.uuid", ""),
			    "1f7a7e4c-0f5e-5b1e-9a43-3b1c2d4e5f60");
	assert_string_equal(json_str(t, "spec.template.spec.domain.firmware.serial", ""),
			    "7d8e9f00-aaaa-bbbb-cccc-ddddeeeeffff");
	/* and nothing else changed */
	assert_json(t,
		    "{\"apiVersion\":\"kubevirt.io/v1\",\"kind\":\"VirtualMachine\","
		    "\"metadata\":{\"name\":\"app01\",\"namespace\":\"vms-target\","
		    "\"labels\":{\"app\":\"app01\",\"cclm.io/migration-id\":\"m-1\",\"cclm.io/vm\":\"app01\","
		    "\"cclm.io/role\":\"target-vm\",\"app.kubernetes.io/managed-by\":\"cclm\"},"
		    "\"annotations\":{\"team\":\"web\",\"kubevirt.io/restore-run-strategy\":\"Always\","
		    "\"cclm.io/source\":\"vms/app01\",\"cclm.io/source-cluster\":\"https://source:6443\"}},"
		    "\"spec\":{\"runStrategy\":\"WaitAsReceiver\","
		    "\"instancetype\":{\"kind\":\"VirtualMachineInstancetype\",\"name\":\"app-small\"},"
		    "\"preference\":{\"kind\":\"VirtualMachinePreference\",\"name\":\"app-pref\"},"
		    "\"template\":{\"metadata\":{\"labels\":{\"kubevirt.io/domain\":\"app01\"},"
		    "\"annotations\":{\"kubesim.cclm.io/dirty-rate\":\"32Mi\"}},"
		    "\"spec\":{\"domain\":{\"devices\":{"
		    "\"disks\":[{\"name\":\"root\",\"disk\":{}},{\"name\":\"cloudinit\",\"disk\":{}},"
		    "{\"name\":\"config\",\"disk\":{},\"serial\":\"CONFIG\"}],"
		    "\"interfaces\":[{\"name\":\"default\",\"masquerade\":{}}]},"
		    "\"firmware\":{\"uuid\":\"1f7a7e4c-0f5e-5b1e-9a43-3b1c2d4e5f60\","
		    "\"serial\":\"7d8e9f00-aaaa-bbbb-cccc-ddddeeeeffff\"}},"
		    "\"networks\":[{\"name\":\"default\",\"pod\":{}}],"
		    "\"volumes\":[{\"name\":\"root\",\"dataVolume\":{\"name\":\"app01-root\"}},"
		    "{\"name\":\"cloudinit\",\"cloudInitNoCloud\":{\"secretRef\":{\"name\":\"app01-cloudinit\"}}},"
		    "{\"name\":\"config\",\"configMap\":{\"name\":\"app01-config\"}}]}}}}");
	cJSON_Delete(t);
}

static void test_target_vm_run_strategy(void **state)
{
	static const struct {
		const char *spec, *restore;
	} t[] = {
		{ "\"running\":true", "Always" },
		{ "\"running\":false", "Halted" },
		{ "\"runStrategy\":\"Manual\"", "Manual" },
		{ "\"runStrategy\":\"RerunOnFailure\",\"running\":true", "RerunOnFailure" },
		{ "\"runStrategy\":\"Halted\"", "Halted" },
		{ "\"template\":{}", "Halted" },
	};
	char vm[256];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		cJSON *tv;

		snprintf(vm, sizeof(vm), "{\"metadata\":{\"name\":\"v\",\"namespace\":\"n\"},\"spec\":{%s}}", t[i].spec);
		tv = target_of(vm, NULL, NULL);
		assert_string_equal(json_str(tv, "spec.runStrategy", ""), "WaitAsReceiver");
		assert_null(json_get(tv, "spec.running"));
		assert_string_equal(json_str(tv, "metadata.annotations.kubevirt.io/restore-run-strategy", ""),
				    t[i].restore);
		cJSON_Delete(tv);
	}
}

static void test_target_vm_minimal(void **state)
{
	cJSON *vm = fx_json("{\"apiVersion\":\"kubevirt.io/v1\",\"kind\":\"VirtualMachine\","
			     "\"metadata\":{\"name\":\"bare\",\"namespace\":\"vms\"}}");
	cJSON *t;

	(void)state;
	/* no spec, no labels, no annotations, no VMI, no source server, no nets */
	t = vmspec_target_vm(vm, NULL, "other", "m-2", NULL, NULL);
	assert_non_null(t);
	assert_string_equal(json_str(t, "metadata.namespace", ""), "other");
	assert_string_equal(json_str(t, "spec.runStrategy", ""), "WaitAsReceiver");
	assert_json(json_get(t, "metadata.annotations"),
		    "{\"kubevirt.io/restore-run-strategy\":\"Halted\",\"cclm.io/source\":\"vms/bare\"}");
	assert_json(json_get(t, "metadata.labels"),
		    "{\"cclm.io/migration-id\":\"m-2\",\"cclm.io/vm\":\"bare\",\"cclm.io/role\":\"target-vm\","
		    "\"app.kubernetes.io/managed-by\":\"cclm\"}");
	assert_null(json_get(t, "spec.template.spec.domain.firmware.uuid"));
	assert_null(json_get(t, "spec.template.spec.domain.firmware.serial"));
	cJSON_Delete(t);
	cJSON_Delete(vm);
}

static void test_target_vm_drops_revisions_and_templates(void **state)
{
	static const char vm[] =
		"{\"metadata\":{\"name\":\"web\",\"namespace\":\"vms\"},\"spec\":{\"running\":true,"
		"\"instancetype\":{\"name\":\"u1.medium\",\"revisionName\":\"web-u1.medium-1\","
		"\"inferFromVolume\":\"root\"},"
		"\"preference\":{\"kind\":\"VirtualMachineClusterPreference\",\"name\":\"fedora\","
		"\"revisionName\":\"web-fedora-1\"},"
		"\"dataVolumeTemplates\":[{\"metadata\":{\"name\":\"web-root\"},"
		"\"spec\":{\"sourceRef\":{\"kind\":\"DataSource\",\"name\":\"fedora\"},"
		"\"storage\":{\"resources\":{\"requests\":{\"storage\":\"30Gi\"}}}}}],"
		"\"template\":{\"spec\":{\"volumes\":[{\"name\":\"root\",\"dataVolume\":{\"name\":\"web-root\"}}]}}}}";
	cJSON *t = target_of(vm, NULL, NULL);

	(void)state;
	assert_null(json_get(t, "spec.dataVolumeTemplates"));
	assert_json(json_get(t, "spec.instancetype"), "{\"name\":\"u1.medium\",\"inferFromVolume\":\"root\"}");
	assert_json(json_get(t, "spec.preference"), "{\"kind\":\"VirtualMachineClusterPreference\",\"name\":\"fedora\"}");
	assert_json(json_get(t, "spec.template.spec.volumes"),
		    "[{\"name\":\"root\",\"dataVolume\":{\"name\":\"web-root\"}}]");
	assert_string_equal(json_str(t, "metadata.annotations.kubevirt.io/restore-run-strategy", ""), "Always");
	assert_null(json_get(t, "spec.running"));
	cJSON_Delete(t);

	/* no instancetype or preference: none appears */
	t = target_of("{\"metadata\":{\"name\":\"plain\",\"namespace\":\"vms\"},\"spec\":{\"running\":false}}", NULL,
		      NULL);
	assert_null(json_get(t, "spec.instancetype"));
	assert_null(json_get(t, "spec.preference"));
	cJSON_Delete(t);
}

static const char multus_vm[] =
	"{\"metadata\":{\"name\":\"lm01\",\"namespace\":\"vms\"},\"spec\":{\"runStrategy\":\"Always\","
	"\"template\":{\"spec\":{\"networks\":["
	"{\"name\":\"default\",\"pod\":{}},"
	"{\"name\":\"lm\",\"multus\":{\"networkName\":\"vms/livemigration-network\"}},"
	"{\"name\":\"br\",\"multus\":{\"networkName\":\"br.2001\",\"default\":true}},"
	"{\"name\":\"other\",\"multus\":{\"networkName\":\"unmapped\"}}]}}}}";

static void test_target_vm_networks(void **state)
{
	cJSON *t;

	(void)state;
	t = target_of(multus_vm, NULL,
		      "{\"vms/livemigration-network\":\"vms-target/lm-net\",\"br.2001\":\"default/br-2001\"}");
	assert_json(json_get(t, "spec.template.spec.networks"),
		    "[{\"name\":\"default\",\"pod\":{}},"
		    "{\"name\":\"lm\",\"multus\":{\"networkName\":\"vms-target/lm-net\"}},"
		    "{\"name\":\"br\",\"multus\":{\"networkName\":\"default/br-2001\",\"default\":true}},"
		    "{\"name\":\"other\",\"multus\":{\"networkName\":\"unmapped\"}}]");
	assert_string_equal(json_str(t, "spec.template.spec.networks.1.multus.networkName", ""), "vms-target/lm-net");
	cJSON_Delete(t);

	/* no nets, or an empty object: the names stay */
	t = target_of(multus_vm, NULL, NULL);
	assert_string_equal(json_str(t, "spec.template.spec.networks.1.multus.networkName", ""),
			    "vms/livemigration-network");
	assert_string_equal(json_str(t, "spec.template.spec.networks.2.multus.networkName", ""), "br.2001");
	cJSON_Delete(t);
	t = target_of(multus_vm, NULL, "{}");
	assert_string_equal(json_str(t, "spec.template.spec.networks.1.multus.networkName", ""),
			    "vms/livemigration-network");
	assert_true(json_bool(t, "spec.template.spec.networks.2.multus.default", false));
	cJSON_Delete(t);
}

static void test_target_vm_firmware(void **state)
{
	static const char vm_uuid[] =
		"{\"metadata\":{\"name\":\"fw\",\"namespace\":\"vms\"},\"spec\":{\"template\":{\"spec\":{"
		"\"domain\":{\"firmware\":{\"uuid\":\"vm-uuid\",\"bootloader\":{\"efi\":{\"secureBoot\":false}}}}}}}}";
	static const char vm_both[] =
		"{\"metadata\":{\"name\":\"fw\",\"namespace\":\"vms\"},\"spec\":{\"template\":{\"spec\":{"
		"\"domain\":{\"firmware\":{\"uuid\":\"vm-uuid\",\"serial\":\"vm-serial\"}}}}}}";
	static const char vmi_empty[] = "{\"spec\":{\"domain\":{\"firmware\":{\"uuid\":\"\"}}}}";
	cJSON *t;

	(void)state;
	/* the spec has a uuid: kept; the serial comes from the VMI; the rest stays */
	t = target_of(vm_uuid, app01_vmi, NULL);
	assert_json(json_get(t, "spec.template.spec.domain.firmware"),
		    "{\"uuid\":\"vm-uuid\",\"serial\":\"7d8e9f00-aaaa-bbbb-cccc-ddddeeeeffff\","
		    "\"bootloader\":{\"efi\":{\"secureBoot\":false}}}");
	cJSON_Delete(t);
	/* the spec has both: the VMI's are not used */
	t = target_of(vm_both, app01_vmi, NULL);
	assert_string_equal(json_str(t, "spec.template.spec.domain.firmware.uuid", ""), "vm-uuid");
	assert_string_equal(json_str(t, "spec.template.spec.domain.firmware.serial", ""), "vm-serial");
	cJSON_Delete(t);
	/* no VMI, or one without them: nothing is made up */
	t = target_of(db01, NULL, NULL);
	assert_null(json_get(t, "spec.template.spec.domain.firmware.uuid"));
	assert_null(json_get(t, "spec.template.spec.domain.firmware.serial"));
	assert_json(json_get(t, "spec.template.spec.domain.devices"),
		    "{\"disks\":[{\"name\":\"root\",\"disk\":{\"bus\":\"virtio\"}}]}");
	cJSON_Delete(t);
	t = target_of(db01, vmi_empty, NULL);
	assert_null(json_get(t, "spec.template.spec.domain.firmware.uuid"));
	assert_null(json_get(t, "spec.template.spec.domain.firmware.serial"));
	cJSON_Delete(t);
}

/* ---- vmspec_copy ------------------------------------------------------ */

static const char secret_src[] =
	"{\"apiVersion\":\"v1\",\"kind\":\"Secret\","
	"\"metadata\":{\"name\":\"app01-cloudinit\",\"namespace\":\"vms\",\"uid\":\"u-1\",\"resourceVersion\":\"77\","
	"\"creationTimestamp\":\"2025-05-01T10:00:00Z\","
	"\"ownerReferences\":[{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"name\":\"x\",\"uid\":\"u-2\"}],"
	"\"managedFields\":[{\"manager\":\"kubectl\"}],"
	"\"labels\":{\"app\":\"app01\"},"
	"\"annotations\":{\"kubectl.kubernetes.io/last-applied-configuration\":\"{}\",\"note\":\"lab only\"}},"
	"\"type\":\"kubernetes.io/ssh-auth\",\"immutable\":true,"
	"\"data\":{\"ssh-privatekey\":\"c2VjcmV0\",\"userdata\":\"I2Nsb3VkLWNvbmZpZw==\"}}";

static const char configmap_src[] =
	"{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\","
	"\"metadata\":{\"name\":\"app01-config\",\"namespace\":\"vms\",\"uid\":\"u-3\",\"resourceVersion\":\"78\"},"
	"\"data\":{\"app.conf\":\"listen = 0.0.0.0:8080\\n\"},\"binaryData\":{\"logo.png\":\"iVBORw0KGgo=\"}}";

static const char instancetype_src[] =
	"{\"apiVersion\":\"instancetype.kubevirt.io/v1beta1\",\"kind\":\"VirtualMachineInstancetype\","
	"\"metadata\":{\"name\":\"app-small\",\"namespace\":\"vms\",\"uid\":\"u-4\",\"generation\":1},"
	"\"spec\":{\"cpu\":{\"guest\":1},\"memory\":{\"guest\":\"1Gi\"}}}";

static cJSON *copy_of(const char *text, const char *id, const char *vm)
{
	cJSON *src = fx_json(text), *before = cJSON_Duplicate(src, 1), *c;

	c = vmspec_copy(src, "vms-target", id, vm);
	assert_non_null(c);
	assert_true(cJSON_Compare(src, before, 1));
	/* a copy has the same content as what it copies */
	assert_true(vmspec_same_content(src, c));
	cJSON_Delete(before);
	cJSON_Delete(src);
	return c;
}

static void test_copy_secret(void **state)
{
	cJSON *c = copy_of(secret_src, "m-1", "app01");

	(void)state;
	assert_string_equal(json_str(c, "apiVersion", ""), "v1");
	assert_string_equal(json_str(c, "kind", ""), "Secret");
	assert_string_equal(json_str(c, "metadata.name", ""), "app01-cloudinit");
	assert_string_equal(json_str(c, "metadata.namespace", ""), "vms-target");
	assert_string_equal(json_str(c, "type", ""), "kubernetes.io/ssh-auth");
	assert_true(json_bool(c, "immutable", false));
	assert_json(json_get(c, "data"), "{\"ssh-privatekey\":\"c2VjcmV0\",\"userdata\":\"I2Nsb3VkLWNvbmZpZw==\"}");
	assert_no_server_fields(c);
	assert_string_equal(json_str(c, "metadata.labels.app", ""), "app01");
	assert_ours(c, "m-1", "app01", "copy");
	assert_json(json_get(c, "metadata.annotations"), "{\"note\":\"lab only\"}");
	cJSON_Delete(c);
}

static void test_copy_configmap(void **state)
{
	cJSON *c = copy_of(configmap_src, "m-1", "app01");

	(void)state;
	assert_json(c, "{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\","
		       "\"metadata\":{\"name\":\"app01-config\",\"namespace\":\"vms-target\","
		       "\"labels\":{\"cclm.io/migration-id\":\"m-1\",\"cclm.io/vm\":\"app01\",\"cclm.io/role\":\"copy\","
		       "\"app.kubernetes.io/managed-by\":\"cclm\"}},"
		       "\"data\":{\"app.conf\":\"listen = 0.0.0.0:8080\\n\"},"
		       "\"binaryData\":{\"logo.png\":\"iVBORw0KGgo=\"}}");
	assert_null(json_get(c, "type"));
	cJSON_Delete(c);
}

static void test_copy_instancetype(void **state)
{
	cJSON *c = copy_of(instancetype_src, "m-1", "app01");

	(void)state;
	assert_string_equal(json_str(c, "apiVersion", ""), "instancetype.kubevirt.io/v1beta1");
	assert_string_equal(json_str(c, "kind", ""), "VirtualMachineInstancetype");
	assert_string_equal(json_str(c, "metadata.namespace", ""), "vms-target");
	assert_json(json_get(c, "spec"), "{\"cpu\":{\"guest\":1},\"memory\":{\"guest\":\"1Gi\"}}");
	assert_no_server_fields(c);
	assert_ours(c, "m-1", "app01", "copy");
	cJSON_Delete(c);
}

static void test_copy_without_id(void **state)
{
	cJSON *c = copy_of(secret_src, NULL, NULL);

	(void)state;
	/* only the source's labels */
	assert_json(json_get(c, "metadata.labels"), "{\"app\":\"app01\"}");
	assert_string_equal(json_str(c, "metadata.namespace", ""), "vms-target");
	assert_string_equal(json_str(c, "type", ""), "kubernetes.io/ssh-auth");
	assert_no_server_fields(c);
	cJSON_Delete(c);
	c = copy_of(configmap_src, NULL, "app01");
	assert_null(json_get(c, "metadata.labels"));
	assert_null(json_get(c, "metadata.annotations"));
	assert_json(json_get(c, "data"), "{\"app.conf\":\"listen = 0.0.0.0:8080\\n\"}");
	cJSON_Delete(c);
}

/* ---- vmspec_same_content ---------------------------------------------- */

static bool same(const char *a_text, const char *b_text)
{
	cJSON *a = fx_json(a_text), *b = fx_json(b_text);
	bool ab = vmspec_same_content(a, b), ba = vmspec_same_content(b, a);

	/* symmetric */
	assert_true(ab == ba);
	cJSON_Delete(a);
	cJSON_Delete(b);
	return ab;
}

static void test_same_content_data(void **state)
{
	(void)state;
	assert_true(same("{\"data\":{\"a\":\"MQ==\",\"b\":\"Mg==\"}}", "{\"data\":{\"b\":\"Mg==\",\"a\":\"MQ==\"}}"));
	/* metadata does not count */
	assert_true(same("{\"metadata\":{\"name\":\"x\",\"namespace\":\"a\",\"labels\":{\"l\":\"1\"}},\"data\":{\"a\":\"1\"}}",
			 "{\"metadata\":{\"name\":\"x\",\"namespace\":\"b\",\"uid\":\"u\"},\"data\":{\"a\":\"1\"}}"));
	assert_true(same("{}", "{}"));
	assert_false(same("{\"data\":{\"a\":\"MQ==\"}}", "{\"data\":{\"a\":\"Mg==\"}}"));
	assert_false(same("{\"data\":{\"a\":\"MQ==\"}}", "{\"data\":{\"A\":\"MQ==\"}}"));
	assert_false(same("{\"data\":{\"a\":\"MQ==\"}}", "{\"data\":{\"a\":\"MQ==\",\"b\":\"Mg==\"}}"));
	assert_false(same("{\"data\":{\"a\":\"MQ==\"}}", "{}"));
	assert_false(same("{\"data\":{\"a\":\"1\"},\"binaryData\":{\"b\":\"AA==\"}}", "{\"data\":{\"a\":\"1\"}}"));
	assert_false(same("{\"binaryData\":{\"b\":\"AA==\"}}", "{\"binaryData\":{\"b\":\"AQ==\"}}"));
	assert_true(same("{\"data\":{\"a\":\"1\"},\"binaryData\":{\"b\":\"AA==\"}}",
			 "{\"binaryData\":{\"b\":\"AA==\"},\"data\":{\"a\":\"1\"}}"));
}

static void test_same_content_type(void **state)
{
	(void)state;
	/* a Secret without a type is Opaque */
	assert_true(same("{\"kind\":\"Secret\",\"data\":{\"a\":\"MQ==\"}}",
			 "{\"kind\":\"Secret\",\"type\":\"Opaque\",\"data\":{\"a\":\"MQ==\"}}"));
	assert_true(same("{\"type\":\"kubernetes.io/tls\",\"data\":{\"a\":\"MQ==\"}}",
			 "{\"type\":\"kubernetes.io/tls\",\"data\":{\"a\":\"MQ==\"}}"));
	assert_false(same("{\"type\":\"Opaque\",\"data\":{\"a\":\"MQ==\"}}",
			  "{\"type\":\"kubernetes.io/tls\",\"data\":{\"a\":\"MQ==\"}}"));
	assert_false(same("{\"data\":{\"a\":\"MQ==\"}}", "{\"type\":\"kubernetes.io/basic-auth\",\"data\":{\"a\":\"MQ==\"}}"));
}

static void test_same_content_spec(void **state)
{
	(void)state;
	assert_true(same(instancetype_src,
			 "{\"kind\":\"VirtualMachineInstancetype\",\"metadata\":{\"name\":\"app-small\",\"namespace\":\"t\"},"
			 "\"spec\":{\"memory\":{\"guest\":\"1Gi\"},\"cpu\":{\"guest\":1}}}"));
	assert_false(same(instancetype_src, "{\"spec\":{\"cpu\":{\"guest\":2},\"memory\":{\"guest\":\"1Gi\"}}}"));
	assert_false(same(instancetype_src, "{\"spec\":{\"cpu\":{\"guest\":1},\"memory\":{\"guest\":\"1024Mi\"}}}"));
	assert_false(same(instancetype_src, "{\"spec\":{\"cpu\":{\"guest\":1}}}"));
	assert_false(same(instancetype_src, "{\"metadata\":{\"name\":\"app-small\"}}"));
}

/* ---- vmspec_blank_disk ------------------------------------------------ */

static cJSON *disk_of(const char *src_text, bool dv, const char *sc, const char *access, const char *mode)
{
	cJSON *src = src_text ? fx_json(src_text) : NULL, *d;

	d = vmspec_blank_disk("app01-root", "vms-target", src, dv, sc, access, mode, "m-1", "app01");
	assert_non_null(d);
	cJSON_Delete(src);
	return d;
}

static void test_blank_disk_dv(void **state)
{
	cJSON *d = disk_of(app01_pvc, true, "rbd-virt", NULL, NULL);

	(void)state;
	assert_string_equal(json_str(d, "apiVersion", ""), "cdi.kubevirt.io/v1beta1");
	assert_string_equal(json_str(d, "kind", ""), "DataVolume");
	assert_string_equal(json_str(d, "metadata.name", ""), "app01-root");
	assert_string_equal(json_str(d, "metadata.namespace", ""), "vms-target");
	assert_json(json_get(d, "spec.source"), "{\"blank\":{}}");
	assert_string_equal(json_str(d, "spec.storage.storageClassName", ""), "rbd-virt");
	assert_json(json_get(d, "spec.storage.accessModes"), "[\"ReadWriteMany\"]");
	assert_string_equal(json_str(d, "spec.storage.volumeMode", ""), "Block");
	/* the capacity over the request */
	assert_string_equal(json_str(d, "spec.storage.resources.requests.storage", ""), "12Gi");
	assert_string_equal(json_str(d, "metadata.annotations.cdi.kubevirt.io/storage.bind.immediate.requested", ""),
			    "true");
	assert_string_equal(json_str(d, "metadata.annotations.cdi.kubevirt.io/storage.deleteAfterCompletion", ""),
			    "false");
	assert_ours(d, "m-1", "app01", "disk");
	/* nothing of the source's PVC but its shape */
	assert_json(d, "{\"apiVersion\":\"cdi.kubevirt.io/v1beta1\",\"kind\":\"DataVolume\","
		       "\"metadata\":{\"name\":\"app01-root\",\"namespace\":\"vms-target\","
		       "\"annotations\":{\"cdi.kubevirt.io/storage.bind.immediate.requested\":\"true\","
		       "\"cdi.kubevirt.io/storage.deleteAfterCompletion\":\"false\"},"
		       "\"labels\":{\"cclm.io/migration-id\":\"m-1\",\"cclm.io/vm\":\"app01\",\"cclm.io/role\":\"disk\","
		       "\"app.kubernetes.io/managed-by\":\"cclm\"}},"
		       "\"spec\":{\"source\":{\"blank\":{}},\"storage\":{\"storageClassName\":\"rbd-virt\","
		       "\"accessModes\":[\"ReadWriteMany\"],\"volumeMode\":\"Block\","
		       "\"resources\":{\"requests\":{\"storage\":\"12Gi\"}}}}}");
	cJSON_Delete(d);
}

static void test_blank_disk_pvc(void **state)
{
	cJSON *d = disk_of(app01_pvc, false, "rbd-virt", NULL, NULL);

	(void)state;
	assert_json(d, "{\"apiVersion\":\"v1\",\"kind\":\"PersistentVolumeClaim\","
		       "\"metadata\":{\"name\":\"app01-root\",\"namespace\":\"vms-target\","
		       "\"labels\":{\"cclm.io/migration-id\":\"m-1\",\"cclm.io/vm\":\"app01\",\"cclm.io/role\":\"disk\","
		       "\"app.kubernetes.io/managed-by\":\"cclm\"}},"
		       "\"spec\":{\"storageClassName\":\"rbd-virt\",\"accessModes\":[\"ReadWriteMany\"],"
		       "\"volumeMode\":\"Block\",\"resources\":{\"requests\":{\"storage\":\"12Gi\"}}}}");
	assert_null(json_get(d, "spec.storage"));
	assert_null(json_get(d, "spec.source"));
	assert_null(json_get(d, "metadata.annotations"));
	assert_string_equal(json_str(d, "metadata.labels.cclm.io/role", ""), "disk");
	cJSON_Delete(d);
}

static void test_blank_disk_overrides(void **state)
{
	cJSON *d;

	(void)state;
	d = disk_of(app01_pvc, true, "fast", "ReadWriteOnce", "Filesystem");
	assert_json(json_get(d, "spec.storage.accessModes"), "[\"ReadWriteOnce\"]");
	assert_string_equal(json_str(d, "spec.storage.volumeMode", ""), "Filesystem");
	assert_string_equal(json_str(d, "spec.storage.storageClassName", ""), "fast");
	cJSON_Delete(d);
	d = disk_of(app01_pvc, false, "fast", "ReadOnlyMany", NULL);
	assert_json(json_get(d, "spec.accessModes"), "[\"ReadOnlyMany\"]");
	assert_string_equal(json_str(d, "spec.volumeMode", ""), "Block");
	cJSON_Delete(d);
	/* "" is as the source */
	d = disk_of(app01_pvc, true, "fast", "", "");
	assert_json(json_get(d, "spec.storage.accessModes"), "[\"ReadWriteMany\"]");
	assert_string_equal(json_str(d, "spec.storage.volumeMode", ""), "Block");
	cJSON_Delete(d);
	d = disk_of(app01_pvc, true, "fast", NULL, "Filesystem");
	assert_json(json_get(d, "spec.storage.accessModes"), "[\"ReadWriteMany\"]");
	assert_string_equal(json_str(d, "spec.storage.volumeMode", ""), "Filesystem");
	cJSON_Delete(d);
	/* every access mode of the source, in order */
	d = disk_of("{\"spec\":{\"accessModes\":[\"ReadWriteMany\",\"ReadOnlyMany\"],"
		    "\"resources\":{\"requests\":{\"storage\":\"2Gi\"}}}}",
		    false, "nfs", NULL, NULL);
	assert_json(json_get(d, "spec.accessModes"), "[\"ReadWriteMany\",\"ReadOnlyMany\"]");
	cJSON_Delete(d);
}

static void test_blank_disk_defaults(void **state)
{
	cJSON *d;

	(void)state;
	/* no modes on the source; only a request; no storage class */
	d = disk_of("{\"spec\":{\"resources\":{\"requests\":{\"storage\":\"5Gi\"}}}}", true, NULL, NULL, NULL);
	assert_json(json_get(d, "spec.storage"),
		    "{\"accessModes\":[\"ReadWriteOnce\"],\"volumeMode\":\"Filesystem\","
		    "\"resources\":{\"requests\":{\"storage\":\"5Gi\"}}}");
	assert_ours(d, "m-1", "app01", "disk");
	cJSON_Delete(d);
	d = disk_of("{\"spec\":{\"accessModes\":[],\"resources\":{\"requests\":{\"storage\":\"5Gi\"}}},"
		    "\"status\":{\"phase\":\"Pending\"}}",
		    false, "", NULL, NULL);
	assert_json(json_get(d, "spec"),
		    "{\"accessModes\":[\"ReadWriteOnce\"],\"volumeMode\":\"Filesystem\","
		    "\"resources\":{\"requests\":{\"storage\":\"5Gi\"}}}");
	cJSON_Delete(d);
	/* nothing known of the source */
	d = disk_of(NULL, true, "fast", NULL, NULL);
	assert_string_equal(json_str(d, "spec.storage.resources.requests.storage", ""), "1Gi");
	assert_json(json_get(d, "spec.storage.accessModes"), "[\"ReadWriteOnce\"]");
	assert_string_equal(json_str(d, "spec.storage.volumeMode", ""), "Filesystem");
	cJSON_Delete(d);
}

/* ---- vmspec_label ----------------------------------------------------- */

static void test_label(void **state)
{
	cJSON *o = fx_json("{\"metadata\":{\"name\":\"x\",\"labels\":{\"app\":\"a\",\"cclm.io/role\":\"old\","
			    "\"cclm.io/migration-id\":\"m-0\"}}}");

	(void)state;
	vmspec_label(o, "m-1", "app01", "namespace");
	assert_json(json_get(o, "metadata.labels"),
		    "{\"app\":\"a\",\"cclm.io/migration-id\":\"m-1\",\"cclm.io/vm\":\"app01\",\"cclm.io/role\":\"namespace\","
		    "\"app.kubernetes.io/managed-by\":\"cclm\"}");
	cJSON_Delete(o);
	/* no metadata, or labels that are not an object */
	o = fx_json("{}");
	vmspec_label(o, "m-1", "app01", "vmim-source");
	assert_ours(o, "m-1", "app01", "vmim-source");
	cJSON_Delete(o);
	o = fx_json("{\"metadata\":{\"name\":\"y\",\"labels\":null}}");
	vmspec_label(o, "m-1", "app01", "vmim-target");
	assert_ours(o, "m-1", "app01", "vmim-target");
	assert_string_equal(json_str(o, "metadata.name", ""), "y");
	cJSON_Delete(o);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_deps_app01),
		cmocka_unit_test(test_deps_cluster_matchers),
		cmocka_unit_test(test_deps_every_reference),
		cmocka_unit_test(test_deps_nothing),
		cmocka_unit_test(test_run_strategy),
		cmocka_unit_test(test_target_vm_app01),
		cmocka_unit_test(test_target_vm_run_strategy),
		cmocka_unit_test(test_target_vm_minimal),
		cmocka_unit_test(test_target_vm_drops_revisions_and_templates),
		cmocka_unit_test(test_target_vm_networks),
		cmocka_unit_test(test_target_vm_firmware),
		cmocka_unit_test(test_copy_secret),
		cmocka_unit_test(test_copy_configmap),
		cmocka_unit_test(test_copy_instancetype),
		cmocka_unit_test(test_copy_without_id),
		cmocka_unit_test(test_same_content_data),
		cmocka_unit_test(test_same_content_type),
		cmocka_unit_test(test_same_content_spec),
		cmocka_unit_test(test_blank_disk_dv),
		cmocka_unit_test(test_blank_disk_pvc),
		cmocka_unit_test(test_blank_disk_overrides),
		cmocka_unit_test(test_blank_disk_defaults),
		cmocka_unit_test(test_label),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
