/* ca.c — the KubeVirt CA exchange between the two clusters (reference
 * §5.4): each kubevirt-ca bundle appended to the peer's kubevirt-external-ca,
 * which virt-operator merges into the peer's kubevirt-ca and empties; then
 * wait until each kubevirt-ca holds the other's certificates. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine.h"
#include "json.h"

#define BEGIN_CERT "-----BEGIN CERTIFICATE-----"
#define END_CERT "-----END CERTIFICATE-----"

/* The certificate at p (a BEGIN line) without whitespace, into out. */
static const char *next_cert(const char *p, struct buf *out)
{
	const char *b = strstr(p, BEGIN_CERT), *end;

	buf_reset(out);
	if (!b)
		return NULL;
	end = strstr(b, END_CERT);
	if (!end)
		return NULL;
	end += strlen(END_CERT);
	for (; b < end; b++)
		if (*b != ' ' && *b != '\n' && *b != '\r' && *b != '\t')
			buf_addch(out, *b);
	return end;
}

/* Every certificate of `want` is in `have`. */
static bool bundle_has(const char *have, const char *want)
{
	struct buf w = BUF_INIT, h = BUF_INIT;
	const char *p = want, *q;
	bool all = true;

	while (all && (p = next_cert(p, &w))) {
		bool found = false;

		for (q = have; !found && (q = next_cert(q, &h));)
			found = !strcmp(h.s, w.s);
		all = found;
	}
	buf_release(&w);
	buf_release(&h);
	return all;
}

/* The ca-bundle of ConfigMap ns/name; its resourceVersion into rv (may be NULL). */
static int read_bundle_rv(struct kclient *c, const char *ns, const char *name, char **out, char *rv, size_t nrv,
			  struct kerr *e)
{
	cJSON *cm = NULL;

	*out = NULL;
	if (kclient_get(c, &KRES_CONFIGMAP, ns, name, &cm, e)) {
		kerr_prefix(e, "%s: reading %s/%s", kclient_name(c), ns, name);
		return -1;
	}
	*out = strdup(json_str(cm, "data.ca-bundle", ""));
	if (rv)
		snprintf(rv, nrv, "%s", json_str(cm, "metadata.resourceVersion", ""));
	cJSON_Delete(cm);
	return *out ? 0 : kerr_set(e, KERR_NOMEM, "out of memory");
}

static int read_bundle(struct kclient *c, const char *ns, const char *name, char **out, struct kerr *e)
{
	return read_bundle_rv(c, ns, name, out, NULL, 0, e);
}

struct has_ctx {
	const char *want;
};

static int ca_has(void *ctx, const cJSON *cm, struct kerr *e)
{
	struct has_ctx *h = ctx;

	(void)e;
	return cm && bundle_has(json_str(cm, "data.ca-bundle", ""), h->want);
}

/* from's kubevirt-ca into to's kubevirt-external-ca (unless to trusts it
 * already). The patch carries the resourceVersion it was read at, so a
 * concurrent writer's CA is never lost: on 409 Conflict it reads again. */
static int push_once(struct kclient *from, const char *from_ns, struct kclient *to, const char *to_ns, bool *sent,
		     char **bundle, struct kerr *e)
{
	char *have = NULL, *ext = NULL, rv[64];
	cJSON *patch;
	struct buf b = BUF_INIT;
	int rc = -1;

	*sent = false;
	free(*bundle);
	*bundle = NULL;
	if (read_bundle(from, from_ns, "kubevirt-ca", bundle, e) || read_bundle(to, to_ns, "kubevirt-ca", &have, e))
		goto out;
	if (!strstr(*bundle, BEGIN_CERT)) {
		kerr_set(e, KERR_FAILED, "%s: kubevirt-ca in '%s' holds no certificate", kclient_name(from), from_ns);
		goto out;
	}
	if (bundle_has(have, *bundle)) {
		rc = 0;
		goto out;
	}
	if (read_bundle_rv(to, to_ns, "kubevirt-external-ca", &ext, rv, sizeof(rv), e))
		goto out;
	buf_addstr(&b, ext);
	if (!bundle_has(ext, *bundle)) {
		if (b.len && b.s[b.len - 1] != '\n')
			buf_addch(&b, '\n');
		buf_addstr(&b, *bundle);
	}
	patch = cJSON_CreateObject();
	if (rv[0])
		cJSON_AddStringToObject(cJSON_AddObjectToObject(patch, "metadata"), "resourceVersion", rv);
	cJSON_AddStringToObject(cJSON_AddObjectToObject(patch, "data"), "ca-bundle", b.s);
	rc = kclient_patch(to, &KRES_CONFIGMAP, to_ns, "kubevirt-external-ca", NULL, KPATCH_MERGE, patch, NULL, NULL, e);
	cJSON_Delete(patch);
	if (rc)
		kerr_prefix(e, "%s: writing kubevirt-external-ca", kclient_name(to));
	*sent = !rc;
out:
	free(have);
	free(ext);
	buf_release(&b);
	return rc;
}

/* push_once, again on a conflict or a transient error (up to 6 tries). */
static int push(struct kclient *from, const char *from_ns, struct kclient *to, const char *to_ns, bool *sent,
		char **bundle, struct kerr *e)
{
	long wait = 250;
	int attempt;

	for (attempt = 0;; attempt++) {
		kerr_clear(e);
		if (!push_once(from, from_ns, to, to_ns, sent, bundle, e))
			return 0;
		if (attempt == 5 || !(kerr_is_http(e, 409) || kerr_is_transient(e)))
			return -1;
		sync_pause_ms(kerr_is_http(e, 409) ? 50 : wait);
		if (wait < 4000)
			wait *= 2;
	}
}

int ca_exchange(struct kclient *src, struct kclient *tgt, const char *src_ns, const char *tgt_ns,
		long long until_ms, volatile sig_atomic_t *cancel, struct kerr *e)
{
	char *sb = NULL, *tb = NULL;
	bool s1, s2;
	int rc = -1, w;
	struct has_ctx h;

	(void)cancel;
	if (push(src, src_ns, tgt, tgt_ns, &s1, &sb, e) || push(tgt, tgt_ns, src, src_ns, &s2, &tb, e))
		goto out;
	h.want = sb;
	w = wait_object(NULL, tgt, &KRES_CONFIGMAP, tgt_ns, "kubevirt-ca", ca_has, &h, until_ms, NULL, e);
	if (w == 0) {
		h.want = tb;
		w = wait_object(NULL, src, &KRES_CONFIGMAP, src_ns, "kubevirt-ca", ca_has, &h, until_ms, NULL, e);
	}
	if (w < 0)
		goto out;
	if (w > 0) {
		kerr_set(e, KERR_FAILED,
			 "the CA exchange did not take: a kubevirt-ca still lacks the peer's CA (is virt-operator running on both clusters?)");
		goto out;
	}
	rc = 0;
out:
	free(sb);
	free(tb);
	return rc;
}
