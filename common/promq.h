/*
 * promq.h — instant PromQL queries against a cluster's monitoring, the
 * OpenShift way: the `thanos-querier` Route in openshift-monitoring, its
 * certificate signed by the ingress CA (ConfigMap default-ingress-cert in
 * openshift-config-managed, key ca-bundle.crt), and the user's own bearer
 * credentials (a user needs cluster-monitoring-view, or view).
 *
 * Ownership: struct promq borrows the struct kcfg it was opened with (keep
 * it alive until promq_free); every cJSON returned is the caller's.
 */
#ifndef CCLM_PROMQ_H
#define CCLM_PROMQ_H

#include <cjson/cJSON.h>
#include <stddef.h>

#include "client.h"
#include "err.h"
#include "kubeconfig.h"

struct promq;

/* Find the Route and the CA through `api` (a client of the same cluster)
 * and make a client for the querier. NULL with e set when the cluster has
 * no thanos-querier Route (KERR_FAILED, "no thanos-querier Route ..."), or
 * the user may not read it. */
struct promq *promq_open(struct kclient *api, const struct kcfg *cfg, const struct kclient_opts *o, struct kerr *e);
void promq_free(struct promq *p);

/* GET /api/v1/query?query=QUERY; *result is data.result (an array of
 * {metric, value: [time, "number"]}). Prometheus errors become KERR_API
 * with its errorType and error; 401/403 from the proxy in front likewise. */
int promq_query(struct promq *p, const char *query, cJSON **result, struct kerr *e);

/* A reply body into data.result (exposed for tests). */
int promq_parse(const char *body, size_t len, cJSON **result, struct kerr *e);

/* The number of the first sample of a result, or `def` when there is none. */
double promq_first(const cJSON *result, double def);

#endif
