/* fixture.c — see fixture.h. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fixture.h"
#include "json.h"

static char root[256];
static char tdir[300];
static int tcount;

int fx_open_root(const char *name)
{
	const char *tmp = getenv("TMPDIR");

	snprintf(root, sizeof(root), "%s/cclm-%s-XXXXXX", tmp && *tmp ? tmp : "/tmp", name);
	return mkdtemp(root) ? 0 : -1;
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	chmod(path, 0700); /* tests make unreadable files */
	return remove(path);
}

int fx_close_root(void)
{
	return nftw(root, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

int fx_new_dir(void)
{
	snprintf(tdir, sizeof(tdir), "%s/t%d", root, ++tcount);
	return mkdir(tdir, 0755) ? -1 : 0;
}

const char *fx_dir(void)
{
	return tdir;
}

const char *fx_path(const char *rel)
{
	static char ring[8][512];
	static int at;
	char *p = ring[at++ % 8];

	snprintf(p, 512, "%s/%s", tdir, rel);
	return p;
}

static void mkdirs(const char *path)
{
	char tmp[512];
	char *s;

	snprintf(tmp, sizeof(tmp), "%s", path);
	for (s = tmp + 1; *s; s++) {
		if (*s != '/')
			continue;
		*s = '\0';
		if (mkdir(tmp, 0755) && errno != EEXIST)
			fail_msg("mkdir %s: %s", tmp, strerror(errno));
		*s = '/';
	}
}

void fx_write(const char *rel, const char *text, mode_t mode)
{
	const char *path = fx_path(rel);
	FILE *f;

	mkdirs(path);
	f = fopen(path, "w");
	assert_non_null(f);
	assert_true(fputs(text, f) >= 0);
	assert_int_equal(fclose(f), 0);
	assert_int_equal(chmod(path, mode), 0);
}

char *fx_slurp(const char *rel)
{
	FILE *f = fopen(fx_path(rel), "r");
	char *s;
	long n;

	if (!f)
		return NULL;
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	n = ftell(f);
	assert_true(n >= 0);
	rewind(f);
	s = calloc(1, (size_t)n + 1);
	assert_non_null(s);
	assert_int_equal(fread(s, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	return s;
}

void fx_kube_env(void)
{
	setenv("HOME", fx_path("home"), 1);
	unsetenv("KUBECONFIG");
	unsetenv("KUBERNETES_EXEC_INFO");
	unsetenv("KUBERNETES_SERVICE_HOST");
	unsetenv("KUBERNETES_SERVICE_PORT");
	unsetenv("POD_NAMESPACE");
	setenv("CCLM_SERVICEACCOUNT_DIR", fx_path("no-sa"), 1);
}

cJSON *fx_json(const char *text)
{
	struct kerr e = KERR_INIT;
	cJSON *j = json_parse(text, strlen(text), "test", &e);

	if (!j)
		fail_msg("json_parse: %s", e.msg);
	assert_int_equal(e.kind, KERR_NONE);
	return j;
}
