/*
 * fixture.h — scratch files for unit tests: one temporary folder per test
 * binary, a fresh sub-folder per test, removed at the end.
 *
 * Paths returned by fx_path() live in a ring of 8 static buffers (a few may
 * be used at once); fx_slurp() returns a string the caller frees.
 */
#ifndef CCLM_TEST_FIXTURE_H
#define CCLM_TEST_FIXTURE_H

#include <sys/types.h>

#include <cjson/cJSON.h>

/* Make the run's folder $TMPDIR/cclm-NAME-XXXXXX; 0 or -1 (group setup). */
int fx_open_root(const char *name);
/* Remove it and everything in it (group teardown). */
int fx_close_root(void);
/* A fresh, empty folder for the next test; 0 or -1. */
int fx_new_dir(void);
/* The current test's folder. */
const char *fx_dir(void);
/* REL under the current test's folder. */
const char *fx_path(const char *rel);
/* Write TEXT to REL (parents made) with MODE; fails the test on error. */
void fx_write(const char *rel, const char *text, mode_t mode);
/* The whole of REL, or NULL if it does not exist; free() it. */
char *fx_slurp(const char *rel);
/* A kubeconfig-free environment for this test: HOME in its folder, no
 * KUBECONFIG, no in-cluster or exec variables, no service-account folder. */
void fx_kube_env(void);

/* JSON text parsed, or the test fails; cJSON_Delete() it. */
cJSON *fx_json(const char *text);

/* Fail unless the struct kerr's message contains s. */
#define assert_msg_has(e, s)                                                                        \
	do {                                                                                        \
		if (!strstr((e)->msg, (s)))                                                         \
			fail_msg("message '%s' does not contain '%s'", (e)->msg, (s));             \
	} while (0)

#endif
