/* migrate.c — kubectl cclm migrate: which VMs, the engine (common/sync),
 * progress as it happens, and the summary. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "json.h"
#include "live.h"
#include "migrate.h"
#include "msg.h"
#include "output.h"
#include "plugin.h"
#include "sync.h"

static struct {
	const char *selector, *target_ns;
	bool all, detach, dry_run, delete_source, resume;
	struct opt_list network_map, storage_map;
	long parallel;
	long timeout_ms, sync_timeout_ms;
} o = {
	.timeout_ms = 60L * 60 * 1000,
	.sync_timeout_ms = 2L * 60 * 1000,
};

static const struct opt migrate_options[] = {
	{ OPT_STRING, 'l', "selector", &o.selector, "SELECTOR", "the VMs with these labels (app=web,tier!=db)", NULL,
	  COMPLETE_NONE, 0 },
	{ OPT_BOOL, 0, "all", &o.all, NULL, "every VM in the namespace", NULL, COMPLETE_NONE, 0 },
	{ OPT_BOOL, 0, "resume", &o.resume, NULL, "the VMs whose cclm migration is in flight, to finish them", NULL,
	  COMPLETE_NONE, 0 },
	{ OPT_STRING, 0, "target-namespace", &o.target_ns, "NAMESPACE", "where the VMs go (default: the same namespace)",
	  NULL, COMPLETE_NONE, 0 },
	{ OPT_LIST, 0, "network-map", &o.network_map, "SRC=DST",
	  "a multus network to another NAD on the target (repeatable)", NULL, COMPLETE_NONE, 0 },
	{ OPT_LIST, 0, "storage-map", &o.storage_map, "SRC=DST[:ACCESS[:MODE]]",
	  "a storage class to another, with access and volume mode (repeatable)", NULL, COMPLETE_NONE, 0 },
	{ OPT_INT, 0, "parallel", &o.parallel, "N", "migrations at once (default: the clusters' parallelMigrationsPerCluster)",
	  NULL, COMPLETE_NONE, 0 },
	{ OPT_DURATION, 0, "timeout", &o.timeout_ms, "DURATION", "give up on one VM after this long (default 1h)", NULL,
	  COMPLETE_NONE, 0 },
	{ OPT_DURATION, 0, "sync-timeout", &o.sync_timeout_ms, "DURATION",
	  "give up when the clusters do not sync for this long (default 2m)", NULL, COMPLETE_NONE, 0 },
	{ OPT_BOOL, 0, "detach", &o.detach, NULL, "return once the source VMIM exists; the clusters carry on", NULL,
	  COMPLETE_NONE, 0 },
	{ OPT_BOOL, 0, "dry-run", &o.dry_run, NULL, "check every VM (preflight) and create nothing", NULL, COMPLETE_NONE,
	  0 },
	{ OPT_BOOL, 0, "delete-source", &o.delete_source, NULL,
	  "delete the halted source VM and its disks once the target runs", NULL, COMPLETE_NONE, 0 },
	{ OPT_END },
};

static volatile sig_atomic_t cancel_flag;

static void on_interrupt(int sig)
{
	(void)sig;
	cancel_flag = 1;
	/* a second Ctrl-C ends at once */
	signal(SIGINT, SIG_DFL);
	signal(SIGTERM, SIG_DFL);
}

struct printer {
	bool json;
	double t0;
	struct live live;               /* the view on stderr, without -o json */
};

static const char *kind_name(enum sync_event_kind k)
{
	switch (k) {
	case SYNC_EV_STEP:
		return "step";
	case SYNC_EV_PHASE:
		return "phase";
	case SYNC_EV_PROGRESS:
		return "progress";
	case SYNC_EV_RESULT:
		return "result";
	case SYNC_EV_INFO:
		return "info";
	}
	return "?";
}

static void print_event(void *ctx, const struct sync_event *ev)
{
	struct printer *p = ctx;
	double t = sync_wall() - p->t0;

	if (p->json) {
		cJSON *o2 = cJSON_CreateObject();
		char *s;

		cJSON_AddNumberToObject(o2, "seconds", (double)(long)(t * 1000) / 1000);
		cJSON_AddStringToObject(o2, "event", kind_name(ev->kind));
		if (ev->vm) {
			char vm[400];

			snprintf(vm, sizeof(vm), "%s/%s", ev->vm->ns, ev->vm->name);
			cJSON_AddStringToObject(o2, "vm", vm);
			cJSON_AddStringToObject(o2, "migrationID", ev->vm->migration_id);
			cJSON_AddStringToObject(o2, "phase", ev->vm->phase);
			cJSON_AddStringToObject(o2, "sourcePhase", ev->vm->source_phase);
			if (ev->kind == SYNC_EV_PROGRESS) {
				cJSON_AddNumberToObject(o2, "dataTotalBytes", ev->vm->data_total);
				cJSON_AddNumberToObject(o2, "dataProcessedBytes", ev->vm->data_processed);
				cJSON_AddNumberToObject(o2, "dataRemainingBytes", ev->vm->data_remaining);
				cJSON_AddNumberToObject(o2, "transferRateBytes", ev->vm->transfer_rate);
				cJSON_AddNumberToObject(o2, "dirtyRateBytes", ev->vm->dirty_rate);
			}
			if (ev->kind == SYNC_EV_RESULT) {
				cJSON_AddStringToObject(o2, "result", sync_result_name(ev->vm->result));
				cJSON_AddStringToObject(o2, "message", ev->vm->message);
				if (ev->vm->undone[0])
					cJSON_AddStringToObject(o2, "undone", ev->vm->undone);
				cJSON_AddNumberToObject(o2, "durationSeconds",
							(double)(long)((ev->vm->ended - ev->vm->started) * 1000) / 1000);
				cJSON_AddNumberToObject(o2, "queuedSeconds", (double)(long)(ev->vm->queued * 1000) / 1000);
				cJSON_AddNumberToObject(o2, "requests", (double)ev->vm->requests);
			}
		}
		cJSON_AddStringToObject(o2, "text", ev->text);
		s = cJSON_PrintUnformatted(o2);
		if (s)
			printf("%s\n", s);
		free(s);
		cJSON_Delete(o2);
		fflush(stdout);
		return;
	}
	live_event(&p->live, ev);
}

static int add_vm(struct sync_vm **vms, int *n, const char *ns, const char *name)
{
	struct sync_vm *v;
	int i;

	for (i = 0; i < *n; i++)
		if (!strcmp((*vms)[i].name, name) && !strcmp((*vms)[i].ns, ns))
			return 0;
	v = realloc(*vms, (size_t)(*n + 1) * sizeof(**vms));
	if (!v)
		return -1;
	*vms = v;
	v = &v[(*n)++];
	memset(v, 0, sizeof(*v));
	snprintf(v->ns, sizeof(v->ns), "%s", ns);
	snprintf(v->name, sizeof(v->name), "%s", name);
	return 0;
}

/* The VMs named, selected, all, or in flight. */
static int select_vms(struct cclm_ctx *ctx, int argc, char **argv, const char *ns, struct sync_vm **vms, int *n,
		      struct kerr *e)
{
	int i;

	for (i = 0; i < argc; i++)
		if (add_vm(vms, n, ns, argv[i]))
			return kerr_set(e, KERR_NOMEM, "out of memory");
	if (o.selector || o.all) {
		struct kquery q = { .label_selector = o.selector };
		cJSON *items = NULL;
		const cJSON *x;

		if (kclient_list(ctx->source.client, &KRES_VM, ns, &q, &items, NULL, e)) {
			kerr_prefix(e, "source cluster");
			return -1;
		}
		cJSON_ArrayForEach(x, items)
			add_vm(vms, n, ns, json_str(x, "metadata.name", ""));
		cJSON_Delete(items);
	}
	if (o.resume) {
		/* in flight: target VMs of ours that still wait as receivers */
		struct kquery q = { .label_selector = "cclm.io/role=target-vm" };
		cJSON *items = NULL;
		const cJSON *x;
		char want[200];

		snprintf(want, sizeof(want), "%s/", ns);
		if (kclient_list(ctx->target.client, &KRES_VM, o.target_ns ? o.target_ns : ns, &q, &items, NULL, e)) {
			kerr_prefix(e, "target cluster");
			return -1;
		}
		cJSON_ArrayForEach(x, items) {
			const char *src = json_str(json_get(x, "metadata.annotations"), "cclm.io/source", "");

			if (!strncmp(src, want, strlen(want)) && !strcmp(json_str(x, "spec.runStrategy", ""), "WaitAsReceiver"))
				add_vm(vms, n, ns, src + strlen(want));
		}
		cJSON_Delete(items);
	}
	return 0;
}

static void print_summary(const struct sync_vm *vms, int n)
{
	static const char *const head[] = { "VM", "RESULT", "DURATION", "MIGRATION", "DETAIL" };
	struct table *t = table_new(5, head);
	int i;

	for (i = 0; i < n; i++) {
		char vm[400], dur[32];
		const char *row[5];

		snprintf(vm, sizeof(vm), "%s/%s", vms[i].ns, vms[i].name);
		if (vms[i].ended > 0 && vms[i].started > 0)
			snprintf(dur, sizeof(dur), "%.1fs", vms[i].ended - vms[i].started);
		else
			snprintf(dur, sizeof(dur), "-");
		row[0] = vm;
		row[1] = sync_result_name(vms[i].result);
		row[2] = dur;
		row[3] = vms[i].migration_id[0] ? vms[i].migration_id : "-";
		row[4] = vms[i].message;
		table_add(t, row);
	}
	table_print(t, stdout, true);
	table_free(t);
	for (i = 0; i < n; i++)
		if (vms[i].undone[0] && (vms[i].result == SYNC_FAILED || vms[i].result == SYNC_CANCELLED))
			msg_info("%s: rolled back: %s", vms[i].name, vms[i].undone);
}

static int run_migrate(struct cclm_ctx *ctx, int argc, char **argv)
{
	struct kerr e = KERR_INIT;
	struct sync_vm *vms = NULL;
	int n = 0, i, rc = CCLM_EXIT_OK;
	const char *ns = ctx->kflags.namespace ? ctx->kflags.namespace : ctx->source.cfg.namespace;
	struct printer pr = { ctx->output && !strcmp(ctx->output, "json"), sync_wall(), { 0 } };
	struct kclient_opts copts = { .verbosity = (int)ctx->verbosity };
	struct sync_opts so = { 0 };
	struct sigaction sa;

	if (ctx->output && strcmp(ctx->output, "json"))
		return msg_error("-o %s: migrate prints json (one event per line) or a table", ctx->output),
		       CCLM_EXIT_USAGE;
	if (!argc && !o.selector && !o.all && !o.resume) {
		msg_error("which VMs? name them, or use -l SELECTOR, --all or --resume");
		fprintf(stderr, "See 'kubectl cclm migrate --help' for usage.\n");
		return CCLM_EXIT_USAGE;
	}
	if ((o.selector && o.all) || (o.dry_run && (o.detach || o.delete_source))) {
		msg_error("%s", o.all ? "-l and --all exclude each other" : "--dry-run creates nothing: no --detach or --delete-source");
		return CCLM_EXIT_USAGE;
	}
	if (o.parallel < 0 || o.sync_timeout_ms <= 0 || o.timeout_ms < 0) {
		msg_error("--parallel and the timeouts must be positive");
		return CCLM_EXIT_USAGE;
	}
	if (select_vms(ctx, argc, argv, ns, &vms, &n, &e)) {
		rc = msg_kerr(&e);
		goto out;
	}
	if (!n) {
		msg_error("no VM %s in namespace '%s' on the source", o.resume ? "in flight" : "matches", ns);
		rc = CCLM_EXIT_FAILED;
		goto out;
	}
	so.target_ns = o.target_ns;
	so.network_map = o.network_map.items;
	so.n_network_map = o.network_map.n;
	so.storage_map = o.storage_map.items;
	so.n_storage_map = o.storage_map.n;
	so.parallel = (int)o.parallel;
	so.timeout_ms = o.timeout_ms;
	so.sync_timeout_ms = o.sync_timeout_ms;
	so.detach = o.detach;
	so.dry_run = o.dry_run;
	so.delete_source = o.delete_source;
	so.cancel = &cancel_flag;
	so.event = print_event;
	so.event_ctx = &pr;
	live_init(&pr.live, stderr, isatty(STDERR_FILENO) && getenv("TERM") && strcmp(getenv("TERM"), "dumb"));
	so.client_opts = &copts;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_interrupt;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	if (sync_migrate(&ctx->source.cfg, &ctx->target.cfg, vms, n, &so, &e)) {
		live_end(&pr.live);
		rc = e.kind == KERR_USAGE ? (msg_error("%s", e.msg), CCLM_EXIT_USAGE) : msg_kerr(&e);
		goto out;
	}
	live_end(&pr.live);
	if (!pr.json)
		print_summary(vms, n);
	for (i = 0; i < n; i++) {
		enum sync_result r = vms[i].result;

		if (r != SYNC_MIGRATED && r != SYNC_ALREADY && r != SYNC_DETACHED && r != SYNC_PLANNED)
			rc = CCLM_EXIT_FAILED;
	}
	if (cancel_flag)
		msg_info("cancelled: every source VM keeps running");
out:
	free(vms);
	opts_list_free(&o.network_map);
	opts_list_free(&o.storage_map);
	return rc;
}

static const char *const migrate_usage[] = {
	"VM... | -l SELECTOR | --all | --resume  -n NAMESPACE --source CONTEXT --target CONTEXT [options]",
	NULL,
};

const struct plugin migrate_plugin = {
	.name = "migrate",
	.summary = "Live-migrate VMs from the source cluster to the target cluster",
	.usage = migrate_usage,
	.description =
		"Per VM: checks it can move (running, StorageLiveMigratable, LiveMigratable or only its disks\n"
		"not, no migration in flight, no foreign VM of that name on the target, what it uses exists or can\n"
		"be copied) and creates nothing if it cannot; exchanges the KubeVirt CAs; copies its Secrets,\n"
		"ConfigMaps and namespaced instancetype/preference; makes blank disks; creates the receiving VM\n"
		"and the two VMIMs; follows them to the end and verifies: the target runs, the source is halted.\n"
		"A failure or Ctrl-C deletes both VMIMs and what it created on the target; the source keeps\n"
		"running. Running the same command again adopts what is in flight and finishes it.",
	.options = migrate_options,
	.min_args = 0,
	.max_args = -1,
	.needs = PLUGIN_TWO_CLUSTERS | PLUGIN_OUTPUT,
	.run = run_migrate,
};
