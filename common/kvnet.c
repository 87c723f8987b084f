/* kvnet.c — the migration network as the KubeVirt objects describe it (see kvnet.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "json.h"
#include "kvnet.h"

int kvnet_pod_migration_ip(const cJSON *pod, char *out, size_t n)
{
	const char *text = json_str(json_get(pod, "metadata.annotations"), KVNET_NETWORK_STATUS, NULL);
	cJSON *st;
	const cJSON *att;
	int rc = -1;

	if (!text || !(st = cJSON_Parse(text)))
		return -1;
	cJSON_ArrayForEach(att, st) {
		const char *ip = json_str(att, "ips.0", NULL);

		if (!strcmp(json_str(att, "interface", ""), KVNET_IFACE) && ip) {
			if (n)
				snprintf(out, n, "%s", ip);
			rc = 0;
			break;
		}
	}
	cJSON_Delete(st);
	return rc;
}

bool kvnet_kubevirt_gate_on(const cJSON *kubevirt)
{
	const cJSON *g;

	cJSON_ArrayForEach(g, json_get(kubevirt, "spec.configuration.developerConfiguration.featureGates"))
		if (cJSON_IsString(g) && !strcasecmp(g->valuestring, KVNET_GATE))
			return true;
	return false;
}

bool kvnet_gate_on(const cJSON *hco, const cJSON *kubevirt)
{
	if (hco)
		return json_bool(hco, "spec.featureGates.decentralizedLiveMigration", false);
	return kvnet_kubevirt_gate_on(kubevirt);
}

const char *kvnet_network(const cJSON *hco, const cJSON *kubevirt)
{
	if (hco)
		return json_str(hco, "spec.liveMigrationConfig.network", "");
	return json_str(kubevirt, "spec.configuration.migrations.network", "");
}

bool kvnet_pod_ready(const cJSON *pod)
{
	const cJSON *c;

	if (json_get(pod, "metadata.deletionTimestamp") || strcmp(json_str(pod, "status.phase", ""), "Running"))
		return false;
	cJSON_ArrayForEach(c, json_get(pod, "status.conditions"))
		if (!strcmp(json_str(c, "type", ""), "Ready"))
			return !strcmp(json_str(c, "status", ""), "True");
	return false;
}

int kvnet_split_addr(const char *addr, char *host, size_t n, int *port)
{
	const char *colon = addr ? strrchr(addr, ':') : NULL;
	const char *h = addr;
	size_t len;
	char *end;
	long p;

	if (!colon || colon == addr)
		return -1;
	p = strtol(colon + 1, &end, 10);
	if (*end || end == colon + 1 || p < 1 || p > 65535)
		return -1;
	len = (size_t)(colon - addr);
	if (h[0] == '[' && len >= 2 && h[len - 1] == ']') {
		h++;
		len -= 2;
	}
	if (!n || len >= n)
		return -1;
	memcpy(host, h, len);
	host[len] = '\0';
	*port = (int)p;
	return 0;
}
