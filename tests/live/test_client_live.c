/*
 * libcclm's client against the running test clusters ($KUBESIM_DIR, started
 * by tests/sim/with-clusters): TLS with the right and a wrong CA, the
 * apiserver's own errors in the "(code Reason) message" form, retries of
 * GET but not POST under injected 429/503, pagination, a watch cut by the
 * proxy resuming without losing or repeating an event, 410 relists, and -v 9
 * logs without the token.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <fcntl.h>
#include <pthread.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "client.h"
#include "json.h"
#include "kubeconfig.h"

extern char **environ;

static char kubeconfig[1024], simctl[1024], ns[64];

struct conn {
	struct kcfg cfg;
	struct kclient *c;
};

static void open_ctx(struct conn *k, const char *context, const struct kclient_opts *o)
{
	struct kcfg_flags f = { .kubeconfig = kubeconfig, .context = context };
	struct kerr e = KERR_INIT;

	if (kcfg_load(&k->cfg, &f, &e))
		fail_msg("kcfg_load %s: %s", context, e.msg);
	k->c = kclient_new(&k->cfg, o, &e);
	if (!k->c)
		fail_msg("kclient_new %s: %s", context, e.msg);
}

static void close_ctx(struct conn *k)
{
	kclient_free(k->c);
	kcfg_release(&k->cfg);
}

static void run(const char *const *argv)
{
	posix_spawn_file_actions_t fa;
	pid_t pid;
	int st;

	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
	assert_int_equal(posix_spawn(&pid, argv[0], &fa, NULL, (char *const *)argv, environ), 0);
	posix_spawn_file_actions_destroy(&fa);
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
}

static void fault(const char *cluster, const char *const *kv)
{
	const char *argv[16] = { simctl, "fault", cluster };
	int n = 3;

	while (*kv && n < 15)
		argv[n++] = *kv++;
	argv[n] = NULL;
	run(argv);
}

static void clear_faults(void)
{
	const char *a[] = { simctl, "clear", "source", NULL }, *b[] = { simctl, "clear", "target", NULL };

	run(a);
	run(b);
}

static cJSON *configmap(const char *name)
{
	cJSON *o = cJSON_CreateObject(), *m;

	cJSON_AddStringToObject(o, "apiVersion", "v1");
	cJSON_AddStringToObject(o, "kind", "ConfigMap");
	m = cJSON_AddObjectToObject(o, "metadata");
	cJSON_AddStringToObject(m, "name", name);
	cJSON_AddStringToObject(cJSON_AddObjectToObject(o, "data"), "k", "v");
	return o;
}

static int setup_all(void **state)
{
	const char *dir = getenv("KUBESIM_DIR");
	struct conn k;
	struct kerr e = KERR_INIT;
	cJSON *o;

	(void)state;
	if (!dir) {
		fprintf(stderr, "KUBESIM_DIR is not set: run through tests/sim/with-clusters\n");
		return -1;
	}
	snprintf(kubeconfig, sizeof(kubeconfig), "%s/kubeconfig", dir);
	snprintf(simctl, sizeof(simctl), "%s", getenv("SIMCTL") ? getenv("SIMCTL") : "tests/sim/simctl");
	setenv("KUBESIM_DIR", dir, 1);
	snprintf(ns, sizeof(ns), "live-%d", (int)getpid());
	open_ctx(&k, "source", NULL);
	o = cJSON_CreateObject();
	cJSON_AddStringToObject(cJSON_AddObjectToObject(o, "metadata"), "name", ns);
	if (kclient_create(k.c, &KRES_NAMESPACE, NULL, o, NULL, NULL, &e)) {
		fprintf(stderr, "cannot create namespace: %s\n", e.msg);
		return -1;
	}
	cJSON_Delete(o);
	close_ctx(&k);
	return 0;
}

static int teardown_all(void **state)
{
	struct conn k;
	struct kerr e = KERR_INIT;

	(void)state;
	clear_faults();
	open_ctx(&k, "source", NULL);
	kclient_delete(k.c, &KRES_NAMESPACE, NULL, ns, NULL, &e);
	close_ctx(&k);
	return 0;
}

static void test_right_ca_works(void **state)
{
	struct conn k;
	struct kerr e = KERR_INIT;
	cJSON *items = NULL;

	(void)state;
	open_ctx(&k, "target", NULL);
	assert_int_equal(kclient_list(k.c, &KRES_NODE, NULL, NULL, &items, NULL, &e), 0);
	assert_int_equal(cJSON_GetArraySize(items), 3);
	cJSON_Delete(items);
	close_ctx(&k);
}

static void test_wrong_ca_fails_clearly(void **state)
{
	struct conn src, tgt;
	struct kerr e = KERR_INIT;
	cJSON *v = NULL;

	(void)state;
	open_ctx(&src, "source", NULL);
	open_ctx(&tgt, "target", NULL);
	/* the source cluster's CA for the target's server */
	buf_reset(&tgt.cfg.ca);
	buf_add(&tgt.cfg.ca, src.cfg.ca.s, src.cfg.ca.len);
	kclient_free(tgt.c);
	tgt.c = kclient_new(&tgt.cfg, NULL, &e);
	assert_non_null(tgt.c);
	assert_int_equal(kclient_get(tgt.c, &KRES_NAMESPACE, NULL, "default", &v, &e), -1);
	assert_int_equal(e.kind, KERR_TLS);
	assert_non_null(strstr(e.msg, "TLS with 'https://127.0.0.1:"));
	assert_non_null(strstr(e.msg, "(context 'target') failed, checked against the CA from"));
	assert_int_equal(kerr_exit_code(&e), CCLM_EXIT_CLUSTER);
	close_ctx(&src);
	close_ctx(&tgt);
}

static void test_api_errors_read_like_kubectl(void **state)
{
	struct conn admin, viewer, bad;
	struct kerr e = KERR_INIT;
	cJSON *cm = configmap("dup"), *v = NULL, *vmim;
	const char *vmim_json = "{\"apiVersion\":\"kubevirt.io/v1\",\"kind\":\"VirtualMachineInstanceMigration\","
				"\"metadata\":{\"name\":\"bad\"},\"spec\":{\"vmiName\":\"vm1\",\"sendTo\":{\"migrationID\":\"x\"}}}";

	(void)state;
	open_ctx(&admin, "source", NULL);
	open_ctx(&viewer, "source-viewer", NULL);
	/* 404 */
	assert_int_equal(kclient_get(admin.c, &KRES_CONFIGMAP, ns, "nope", &v, &e), -1);
	assert_string_equal(e.msg, "(404 NotFound) configmaps \"nope\" not found");
	/* 409 */
	assert_int_equal(kclient_create(admin.c, &KRES_CONFIGMAP, ns, cm, NULL, NULL, &e), 0);
	assert_int_equal(kclient_create(admin.c, &KRES_CONFIGMAP, ns, cm, NULL, NULL, &e), -1);
	assert_string_equal(e.msg, "(409 AlreadyExists) configmaps \"dup\" already exists");
	/* 403, the apiserver's own words */
	assert_int_equal(kclient_create(viewer.c, &KRES_CONFIGMAP, ns, cm, NULL, NULL, &e), -1);
	assert_int_equal(e.http, 403);
	assert_true(strstr(e.msg, "(403 Forbidden) configmaps is forbidden: User \"viewer\" cannot create resource "
				  "\"configmaps\" in API group \"\" in the namespace") == e.msg);
	/* 422 with the field */
	vmim = cJSON_Parse(vmim_json);
	assert_int_equal(kclient_create(admin.c, &KRES_VMIM, ns, vmim, NULL, NULL, &e), -1);
	assert_int_equal(e.http, 422);
	assert_non_null(strstr(e.msg, "(422 Invalid) VirtualMachineInstanceMigration.kubevirt.io \"bad\" is invalid"));
	assert_non_null(strstr(e.msg, "spec.sendTo.connectURL: Required value"));
	/* 401 names the user and the context */
	open_ctx(&bad, "target", NULL);
	free(bad.cfg.token);
	bad.cfg.token = strdup("not-a-real-token");
	kclient_free(bad.c);
	bad.c = kclient_new(&bad.cfg, NULL, &e);
	assert_int_equal(kclient_get(bad.c, &KRES_NAMESPACE, NULL, "default", &v, &e), -1);
	assert_int_equal(e.http, 401);
	assert_non_null(strstr(e.msg, "the server refused the credentials of user 'admin@target' (context 'target')"));
	assert_non_null(strstr(e.msg, "(401 Unauthorized)"));
	assert_null(strstr(e.msg, "not-a-real-token"));
	cJSON_Delete(cm);
	cJSON_Delete(vmim);
	close_ctx(&admin);
	close_ctx(&viewer);
	close_ctx(&bad);
}

static void test_get_retried_post_not(void **state)
{
	const char *get503[] = { "verb=get", "resource=configmaps", "status=503", "count=2", NULL };
	const char *post429[] = { "verb=create", "resource=configmaps", "status=429", "retryAfter=1", "count=1", NULL };
	struct conn k;
	struct kerr e = KERR_INIT;
	struct kclient_stats st;
	cJSON *cm = configmap("retry-me"), *v = NULL;

	(void)state;
	open_ctx(&k, "source", NULL);
	assert_int_equal(kclient_create(k.c, &KRES_CONFIGMAP, ns, cm, NULL, NULL, &e), 0);
	fault("source", get503);
	kclient_stats(k.c, &st);
	assert_int_equal(kclient_get(k.c, &KRES_CONFIGMAP, ns, "retry-me", &v, &e), 0);
	cJSON_Delete(v);
	{
		struct kclient_stats after;

		kclient_stats(k.c, &after);
		assert_int_equal(after.requests - st.requests, 3); /* two 503s, then the answer */
		assert_int_equal(after.retries - st.retries, 2);
	}
	cJSON_Delete(cm);
	cm = configmap("not-twice");
	fault("source", post429);
	kclient_stats(k.c, &st);
	assert_int_equal(kclient_create(k.c, &KRES_CONFIGMAP, ns, cm, NULL, NULL, &e), -1);
	assert_int_equal(e.http, 429);
	assert_int_equal(e.retry_after, 1);
	assert_non_null(strstr(e.msg, "(429 TooManyRequests)"));
	{
		struct kclient_stats after;

		kclient_stats(k.c, &after);
		assert_int_equal(after.requests - st.requests, 1);
	}
	/* nothing was created behind our back */
	assert_int_equal(kclient_get(k.c, &KRES_CONFIGMAP, ns, "not-twice", &v, &e), -1);
	assert_int_equal(e.http, 404);
	clear_faults();
	cJSON_Delete(cm);
	close_ctx(&k);
}

static void test_list_pages(void **state)
{
	struct conn k;
	struct kerr e = KERR_INIT;
	struct kquery q = { .limit = 10, .label_selector = "page=yes" };
	struct kclient_stats a, b;
	cJSON *items = NULL;
	char *rv = NULL;
	int i;

	(void)state;
	open_ctx(&k, "target", NULL);
	{
		cJSON *o = cJSON_CreateObject();

		cJSON_AddStringToObject(cJSON_AddObjectToObject(o, "metadata"), "name", ns);
		kclient_create(k.c, &KRES_NAMESPACE, NULL, o, NULL, NULL, &e);
		cJSON_Delete(o);
	}
	for (i = 0; i < 25; i++) {
		char name[32];
		cJSON *cm;

		snprintf(name, sizeof(name), "page-%02d", i);
		cm = configmap(name);
		cJSON_AddStringToObject(cJSON_AddObjectToObject(json_get(cm, "metadata"), "labels"), "page", "yes");
		assert_int_equal(kclient_create(k.c, &KRES_CONFIGMAP, ns, cm, NULL, NULL, &e), 0);
		cJSON_Delete(cm);
	}
	kclient_stats(k.c, &a);
	assert_int_equal(kclient_list(k.c, &KRES_CONFIGMAP, ns, &q, &items, &rv, &e), 0);
	kclient_stats(k.c, &b);
	assert_int_equal(cJSON_GetArraySize(items), 25);
	assert_int_equal(b.requests - a.requests, 3);
	assert_true(rv && *rv);
	assert_string_equal(json_str(cJSON_GetArrayItem(items, 24), "metadata.name", ""), "page-24");
	cJSON_Delete(items);
	free(rv);
	kclient_delete(k.c, &KRES_NAMESPACE, NULL, ns, NULL, &e);
	close_ctx(&k);
}

/* A LIST not older than the client's last write (from the watch cache)
 * sees that write, in one reply. */
static void test_list_reads_its_writes(void **state)
{
	struct conn k;
	struct kerr e = KERR_INIT;
	struct kquery q = { .field_selector = "metadata.name=ryw", .limit = -1 };
	struct kclient_stats a, b;
	cJSON *cm = configmap("ryw"), *patch, *items = NULL;
	char first[64];
	int i;

	(void)state;
	open_ctx(&k, "source", NULL);
	assert_string_equal(kclient_write_rv(k.c, &KRES_CONFIGMAP), "");
	assert_int_equal(kclient_create(k.c, &KRES_CONFIGMAP, ns, cm, NULL, NULL, &e), 0);
	snprintf(first, sizeof(first), "%s", kclient_write_rv(k.c, &KRES_CONFIGMAP));
	assert_string_equal(kclient_write_rv(k.c, &KRES_SECRET), ""); /* per resource */
	assert_true(first[0]);
	for (i = 0; i < 5; i++) {
		char v[16];

		snprintf(v, sizeof(v), "v%d", i);
		patch = cJSON_CreateObject();
		cJSON_AddStringToObject(cJSON_AddObjectToObject(patch, "data"), "k", v);
		assert_int_equal(kclient_patch(k.c, &KRES_CONFIGMAP, ns, "ryw", NULL, KPATCH_MERGE, patch, NULL, NULL, &e), 0);
		cJSON_Delete(patch);
		q.resource_version = kclient_write_rv(k.c, &KRES_CONFIGMAP);
		assert_string_not_equal(q.resource_version, first);
		kclient_stats(k.c, &a);
		assert_int_equal(kclient_list(k.c, &KRES_CONFIGMAP, ns, &q, &items, NULL, &e), 0);
		kclient_stats(k.c, &b);
		assert_int_equal(b.requests - a.requests, 1);
		assert_int_equal(cJSON_GetArraySize(items), 1);
		assert_string_equal(json_str(cJSON_GetArrayItem(items, 0), "data.k", ""), v);
		cJSON_Delete(items);
		items = NULL;
	}
	cJSON_Delete(cm);
	kclient_delete(k.c, &KRES_CONFIGMAP, ns, "ryw", NULL, &e);
	close_ctx(&k);
}

struct seen {
	char names[64][32];
	int n, dup;
};

static int collect(void *ctx, const char *type, const cJSON *obj, struct kerr *e)
{
	struct seen *s = ctx;
	const char *name = json_str(obj, "metadata.name", "");
	int i;

	(void)e;
	if (strcmp(type, "ADDED") || strncmp(name, "w-", 2))
		return 0;
	for (i = 0; i < s->n; i++)
		if (!strcmp(s->names[i], name))
			s->dup++;
	if (s->n < 64)
		snprintf(s->names[s->n++], sizeof(s->names[0]), "%s", name);
	return s->n >= 10 ? 1 : 0;
}

static void *writer(void *arg)
{
	struct conn k;
	struct kerr e = KERR_INIT;
	int i;

	(void)arg;
	open_ctx(&k, "source", NULL);
	for (i = 0; i < 10; i++) {
		char name[32];
		cJSON *cm;
		struct timespec ts = { 0, 350 * 1000000L };

		nanosleep(&ts, NULL);
		snprintf(name, sizeof(name), "w-%02d", i);
		cm = configmap(name);
		kclient_create(k.c, &KRES_CONFIGMAP, ns, cm, NULL, NULL, &e);
		cJSON_Delete(cm);
	}
	close_ctx(&k);
	return NULL;
}

static void test_watch_resumes_after_cuts(void **state)
{
	const char *cut[] = { "verb=watch", "resource=configmaps", "watchCloseAfter=1", NULL };
	struct conn k;
	struct kerr e = KERR_INIT;
	struct seen s = { 0 };
	struct kclient_stats a, b;
	pthread_t t;
	int i, rc;

	(void)state;
	fault("source", cut);
	open_ctx(&k, "source", NULL);
	kclient_stats(k.c, &a);
	assert_int_equal(pthread_create(&t, NULL, writer, NULL), 0);
	rc = kclient_watch(k.c, &KRES_CONFIGMAP, ns, NULL, 30000, collect, &s, &e);
	pthread_join(t, NULL);
	kclient_stats(k.c, &b);
	clear_faults();
	assert_int_equal(rc, 1);
	assert_int_equal(s.n, 10);
	assert_int_equal(s.dup, 0);
	for (i = 0; i < 10; i++) {
		char want[32];

		snprintf(want, sizeof(want), "w-%02d", i);
		assert_string_equal(s.names[i], want);
	}
	assert_true(b.requests - a.requests >= 3); /* the list, then several cut watches */
	close_ctx(&k);
}

static int count_added(void *ctx, const char *type, const cJSON *obj, struct kerr *e)
{
	(void)obj;
	(void)e;
	if (!strcmp(type, "ADDED"))
		(*(int *)ctx)++;
	return 0;
}

static void test_watch_too_old_relists(void **state)
{
	struct conn k;
	struct kerr e = KERR_INIT;
	struct kquery q = { .resource_version = "1" };
	int added = 0;

	(void)state;
	open_ctx(&k, "source", NULL);
	/* resourceVersion 1 is long compacted: 410, relist, every object ADDED once */
	assert_int_equal(kclient_watch(k.c, &KRES_NAMESPACE, NULL, &q, 2500, count_added, &added, &e), 0);
	assert_true(added >= 5); /* default, kube-system, kube-public, kube-node-lease, ours */
	close_ctx(&k);
}

static volatile sig_atomic_t stop_flag;

static void *raise_stop(void *arg)
{
	struct timespec ts = { 0, 300 * 1000000L };

	(void)arg;
	nanosleep(&ts, NULL);
	stop_flag = 1;
	return NULL;
}

static int count_any(void *ctx, const char *type, const cJSON *obj, struct kerr *e)
{
	(void)type;
	(void)obj;
	(void)e;
	(*(int *)ctx)++;
	return 0;
}

static void test_stop_watches_ends_an_idle_watch(void **state)
{
	struct kclient_opts o = { .stop_watches = &stop_flag };
	struct conn k;
	struct kerr e = KERR_INIT;
	struct kquery q = { .field_selector = "metadata.name=no-such-configmap" };
	struct timespec t0, t1;
	pthread_t th;
	int seen = 0;
	cJSON *cm = NULL;
	long ms;

	(void)state;
	stop_flag = 0;
	open_ctx(&k, "source", &o);
	/* a 30 s watch with nothing to say ends about a second after the flag */
	clock_gettime(CLOCK_MONOTONIC, &t0);
	assert_int_equal(pthread_create(&th, NULL, raise_stop, NULL), 0);
	assert_int_equal(kclient_watch(k.c, &KRES_CONFIGMAP, ns, &q, 30000, count_any, &seen, &e), 0);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	pthread_join(th, NULL);
	ms = (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000;
	assert_true(ms < 5000);
	assert_true(kclient_watches_stopped(k.c));
	/* other requests still run with the flag set (a rollback after a cancel) */
	assert_int_equal(kclient_get(k.c, &KRES_NAMESPACE, NULL, ns, &cm, &e), 0);
	cJSON_Delete(cm);
	/* and a new watch returns at once */
	assert_int_equal(kclient_watch(k.c, &KRES_CONFIGMAP, ns, &q, 30000, count_any, &seen, &e), 0);
	stop_flag = 0;
	close_ctx(&k);
}

static void capture_log(void *ctx, const char *line)
{
	struct buf *b = ctx;

	buf_addstr(b, line);
	buf_addch(b, '\n');
}

static void test_v9_never_logs_the_token(void **state)
{
	struct buf log = BUF_INIT;
	struct kclient_opts o = { .verbosity = 9, .log = capture_log, .log_ctx = &log };
	struct conn k;
	struct kerr e = KERR_INIT;
	cJSON *items = NULL, *cm = configmap("v9");

	(void)state;
	open_ctx(&k, "source", &o);
	assert_int_equal(kclient_list(k.c, &KRES_SECRET, "kube-system", NULL, &items, NULL, &e), 0);
	assert_int_equal(kclient_create(k.c, &KRES_CONFIGMAP, ns, cm, NULL, NULL, &e), 0);
	assert_non_null(strstr(log.s, "Authorization: Bearer <masked>"));
	assert_non_null(strstr(log.s, "GET https://127.0.0.1:"));
	assert_non_null(strstr(log.s, "Response Body: "));
	assert_non_null(strstr(log.s, "Request Body: "));
	assert_null(strstr(log.s, k.cfg.token));
	/* service-account token secrets in the body are redacted too */
	{
		const cJSON *it;

		cJSON_ArrayForEach(it, items) {
			const char *t = json_str(it, "data.token", NULL);

			if (t)
				assert_null(strstr(log.s, t));
		}
	}
	cJSON_Delete(items);
	cJSON_Delete(cm);
	buf_release(&log);
	close_ctx(&k);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_right_ca_works),
		cmocka_unit_test(test_wrong_ca_fails_clearly),
		cmocka_unit_test(test_api_errors_read_like_kubectl),
		cmocka_unit_test(test_get_retried_post_not),
		cmocka_unit_test(test_list_pages),
		cmocka_unit_test(test_list_reads_its_writes),
		cmocka_unit_test(test_watch_resumes_after_cuts),
		cmocka_unit_test(test_watch_too_old_relists),
		cmocka_unit_test(test_stop_watches_ends_an_idle_watch),
		cmocka_unit_test(test_v9_never_logs_the_token),
	};

	return cmocka_run_group_tests(tests, setup_all, teardown_all);
}
