/* Unit tests for common/kvnet.c. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "fixture.h"
#include "kvnet.h"

static void test_migration_ip(void **state)
{
	cJSON *p = fx_json("{\"metadata\":{\"annotations\":{\"k8s.v1.cni.cncf.io/network-status\":"
			   "\"[{\\\"name\\\":\\\"ovn-kubernetes\\\",\\\"interface\\\":\\\"eth0\\\",\\\"ips\\\":[\\\"10.128.0.5\\\"],\\\"default\\\":true},"
			   "{\\\"name\\\":\\\"openshift-cnv/livemigration-network\\\",\\\"interface\\\":\\\"migration0\\\",\\\"ips\\\":[\\\"192.168.201.2\\\"]}]\"}}}");
	cJSON *none = fx_json("{\"metadata\":{\"annotations\":{\"k8s.v1.cni.cncf.io/network-status\":"
			      "\"[{\\\"interface\\\":\\\"eth0\\\",\\\"ips\\\":[\\\"10.128.0.5\\\"]}]\"}}}");
	cJSON *bad = fx_json("{\"metadata\":{\"annotations\":{\"k8s.v1.cni.cncf.io/network-status\":\"[{\"}}}");
	cJSON *bare = fx_json("{\"metadata\":{}}");
	char ip[64] = "";

	(void)state;
	assert_int_equal(kvnet_pod_migration_ip(p, ip, sizeof(ip)), 0);
	assert_string_equal(ip, "192.168.201.2");
	assert_int_equal(kvnet_pod_migration_ip(none, ip, sizeof(ip)), -1);
	assert_int_equal(kvnet_pod_migration_ip(bad, ip, sizeof(ip)), -1);
	assert_int_equal(kvnet_pod_migration_ip(bare, ip, sizeof(ip)), -1);
	assert_int_equal(kvnet_pod_migration_ip(NULL, ip, sizeof(ip)), -1);
	cJSON_Delete(p);
	cJSON_Delete(none);
	cJSON_Delete(bad);
	cJSON_Delete(bare);
}

static void test_gate_and_network(void **state)
{
	cJSON *hco_on = fx_json("{\"spec\":{\"featureGates\":{\"decentralizedLiveMigration\":true},"
				"\"liveMigrationConfig\":{\"network\":\"livemigration-network\"}}}");
	cJSON *hco_off = fx_json("{\"spec\":{\"featureGates\":{}}}");
	cJSON *kv = fx_json("{\"spec\":{\"configuration\":{\"developerConfiguration\":{\"featureGates\":"
			    "[\"Snapshot\",\"decentralizedlivemigration\"]},\"migrations\":{\"network\":\"mig\"}}}}");
	cJSON *kv_off = fx_json("{\"spec\":{\"configuration\":{}}}");

	(void)state;
	assert_true(kvnet_gate_on(hco_on, kv_off));
	assert_false(kvnet_gate_on(hco_off, kv)); /* HCO wins where there is one */
	assert_true(kvnet_gate_on(NULL, kv));
	assert_false(kvnet_gate_on(NULL, kv_off));
	assert_true(kvnet_kubevirt_gate_on(kv));
	assert_string_equal(kvnet_network(hco_on, kv), "livemigration-network");
	assert_string_equal(kvnet_network(hco_off, kv), "");
	assert_string_equal(kvnet_network(NULL, kv), "mig");
	assert_string_equal(kvnet_network(NULL, kv_off), "");
	cJSON_Delete(hco_on);
	cJSON_Delete(hco_off);
	cJSON_Delete(kv);
	cJSON_Delete(kv_off);
}

static void test_pod_ready(void **state)
{
	cJSON *ready = fx_json("{\"metadata\":{},\"status\":{\"phase\":\"Running\",\"conditions\":[{\"type\":\"Ready\",\"status\":\"True\"}]}}");
	cJSON *going = fx_json("{\"metadata\":{\"deletionTimestamp\":\"x\"},\"status\":{\"phase\":\"Running\",\"conditions\":[{\"type\":\"Ready\",\"status\":\"True\"}]}}");
	cJSON *pending = fx_json("{\"metadata\":{},\"status\":{\"phase\":\"Pending\"}}");
	cJSON *notready = fx_json("{\"metadata\":{},\"status\":{\"phase\":\"Running\",\"conditions\":[{\"type\":\"Ready\",\"status\":\"False\"}]}}");

	(void)state;
	assert_true(kvnet_pod_ready(ready));
	assert_false(kvnet_pod_ready(going));
	assert_false(kvnet_pod_ready(pending));
	assert_false(kvnet_pod_ready(notready));
	cJSON_Delete(ready);
	cJSON_Delete(going);
	cJSON_Delete(pending);
	cJSON_Delete(notready);
}

static void test_split_addr(void **state)
{
	char h[64];
	int port = 0;

	(void)state;
	assert_int_equal(kvnet_split_addr("192.168.201.130:9185", h, sizeof(h), &port), 0);
	assert_string_equal(h, "192.168.201.130");
	assert_int_equal(port, 9185);
	assert_int_equal(kvnet_split_addr("[fd00::1]:9185", h, sizeof(h), &port), 0);
	assert_string_equal(h, "fd00::1");
	assert_int_equal(kvnet_split_addr("192.168.201.130", h, sizeof(h), &port), -1);
	assert_int_equal(kvnet_split_addr("192.168.201.130:", h, sizeof(h), &port), -1);
	assert_int_equal(kvnet_split_addr("192.168.201.130:99999", h, sizeof(h), &port), -1);
	assert_int_equal(kvnet_split_addr(":9185", h, sizeof(h), &port), -1);
	assert_int_equal(kvnet_split_addr("1.2.3.4:9x", h, sizeof(h), &port), -1);
	assert_int_equal(kvnet_split_addr("1.2.3.4:80", h, 4, &port), -1); /* too long for the buffer */
	assert_int_equal(kvnet_split_addr(NULL, h, sizeof(h), &port), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_migration_ip),
		cmocka_unit_test(test_gate_and_network),
		cmocka_unit_test(test_pod_ready),
		cmocka_unit_test(test_split_addr),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
