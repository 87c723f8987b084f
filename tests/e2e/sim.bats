#!/usr/bin/env bats
# The test clusters, seen through real kubectl: what every other e2e test
# stands on. Each test checks the cluster's state, not only what was printed.

load test_helper

setup() {
	needs_clusters
	new_ns
}

teardown() {
	drop_ns
}

@test "both contexts reach their own cluster with three Ready workers" {
	for ctx in source target; do
		run kubectl --context "$ctx" get nodes -o jsonpath='{range .items[*]}{.metadata.name}={.status.conditions[?(@.type=="Ready")].status}{"\n"}{end}'
		assert_success
		assert_line "$ctx-worker-0=True"
		assert_line "$ctx-worker-1=True"
		assert_line "$ctx-worker-2=True"
		assert_equal "${#lines[@]}" 3
	done
}

@test "apply, merge and json patch, wait, delete on both contexts" {
	for ctx in source target; do
		printf 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cm1}\ndata: {a: "1"}\n' |
			kubectl --context "$ctx" -n "$TEST_NS" apply -f -
		kubectl --context "$ctx" -n "$TEST_NS" patch configmap cm1 --type merge -p '{"data":{"b":"2"}}'
		kubectl --context "$ctx" -n "$TEST_NS" patch configmap cm1 --type json -p '[{"op":"replace","path":"/data/a","value":"3"}]'
		run kubectl --context "$ctx" -n "$TEST_NS" get configmap cm1 -o jsonpath='{.data.a},{.data.b}'
		assert_output "3,2"
		kubectl --context "$ctx" -n "$TEST_NS" delete configmap cm1 --wait=false
		kubectl --context "$ctx" -n "$TEST_NS" wait --for=delete configmap/cm1 --timeout=30s
		run kubectl --context "$ctx" -n "$TEST_NS" get configmap cm1
		assert_failure
		assert_output --partial 'NotFound'
	done
}

@test "a Deployment's pods become Running on the simulated nodes" {
	kubectl --context target -n "$TEST_NS" create deployment web --image=registry.example/web:1 --replicas=3
	kubectl --context target -n "$TEST_NS" rollout status deployment/web --timeout=60s
	kubectl --context target -n "$TEST_NS" wait --for=condition=Ready pod -l app=web --timeout=30s
	run kubectl --context target -n "$TEST_NS" get pods -l app=web -o jsonpath='{range .items[*]}{.status.phase} {.spec.nodeName} {.status.podIP}{"\n"}{end}'
	assert_equal "${#lines[@]}" 3
	for l in "${lines[@]}"; do
		[[ $l =~ ^Running\ target-worker-[0-2]\ 10\.13[2-5]\.[0-9]+\.[0-9]+$ ]] || fail "unexpected pod line: $l"
	done
}

@test "kubectl get -w streams changes as they happen" {
	kubectl --context source -n "$TEST_NS" get configmaps -w --output-watch-events >"$BATS_TEST_TMPDIR/watch" 2>/dev/null &
	w=$!
	sleep 1
	kubectl --context source -n "$TEST_NS" create configmap watched --from-literal=x=1
	kubectl --context source -n "$TEST_NS" delete configmap watched
	for _ in $(seq 1 50); do grep -q DELETED "$BATS_TEST_TMPDIR/watch" && break; sleep 0.1; done
	kill "$w"
	run cat "$BATS_TEST_TMPDIR/watch"
	assert_line --regexp '^ADDED +watched +1 '
	assert_line --regexp '^DELETED +watched +1 '
}

@test "the viewer is refused create with the apiserver's own 403" {
	run kubectl --context source-viewer auth can-i create pods -n "$TEST_NS"
	assert_failure
	assert_output 'no'
	run kubectl --context source-viewer auth can-i list pods -n "$TEST_NS"
	assert_success
	run kubectl --context target-viewer -n "$TEST_NS" create configmap nope --from-literal=a=b
	assert_failure
	assert_output --partial 'configmaps is forbidden: User "viewer" cannot create resource "configmaps" in API group "" in the namespace "'"$TEST_NS"'"'
	logged '"path":"/api/v1/namespaces/'"$TEST_NS"'/configmaps\?[^"]*","user":"viewer".*"status":403'
	run kubectl --context target -n "$TEST_NS" get configmap nope
	assert_failure
}

@test "kubectl logs reaches the simulated kubelet through the apiserver" {
	kubectl --context source -n "$TEST_NS" run talker --image=registry.example/t:1 --restart=Never \
		--annotations=kubesim.cclm.io/log='line one' --annotations=kubesim.cclm.io/run-seconds=0.1
	kubectl --context source -n "$TEST_NS" wait --for=jsonpath='{.status.phase}'=Succeeded pod/talker --timeout=30s
	run kubectl --context source -n "$TEST_NS" logs talker
	assert_success
	assert_output 'line one'
	run kubectl --context source -n "$TEST_NS" get pod talker -o jsonpath='{.status.phase}'
	assert_output 'Succeeded'
}

@test "a KubeVirt object that breaks the real schema is refused with a 422 naming the field" {
	run kubectl --context source -n "$TEST_NS" create --validate=false -f - <<-'YAML'
	apiVersion: kubevirt.io/v1
	kind: VirtualMachineInstanceMigration
	metadata: {name: bad}
	spec:
	  vmiName: vm1
	  sendTo: {migrationID: abc}
	YAML
	assert_failure
	assert_output --partial 'spec.sendTo.connectURL: Required value'
	run kubectl --context source -n "$TEST_NS" get vmim bad
	assert_failure
	logged '"path":"/apis/kubevirt.io/v1/namespaces/'"$TEST_NS"'/virtualmachineinstancemigrations\?[^"]*","user":"admin".*"status":422'
}

@test "the real CRDs are served on both clusters" {
	for ctx in source target; do
		run kubectl --context "$ctx" api-resources -o name
		for r in virtualmachines.kubevirt.io virtualmachineinstances.kubevirt.io \
			virtualmachineinstancemigrations.kubevirt.io kubevirts.kubevirt.io hyperconvergeds.hco.kubevirt.io \
			plans.forklift.konveyor.io datavolumes.cdi.kubevirt.io network-attachment-definitions.k8s.cni.cncf.io \
			clusterversions.config.openshift.io virtualmachineclusterinstancetypes.instancetype.kubevirt.io; do
			assert_line "$r"
		done
	done
}

@test "a namespace with pods deletes cleanly" {
	kubectl --context source create namespace "$TEST_NS-gone"
	for _ in $(seq 1 100); do
		[ -n "$(kubectl --context source -n "$TEST_NS-gone" get sa default -o jsonpath='{.secrets}' 2>/dev/null)" ] && break
		sleep 0.1
	done
	kubectl --context source -n "$TEST_NS-gone" run p --image=x
	kubectl --context source -n "$TEST_NS-gone" wait --for=condition=Ready pod/p --timeout=30s
	kubectl --context source delete namespace "$TEST_NS-gone" --timeout=60s
	run kubectl --context source get namespace "$TEST_NS-gone"
	assert_failure
	assert_output --partial 'NotFound'
}

@test "faults switched on through simctl reach kubectl, and off again" {
	"$REPO_ROOT/tests/sim/simctl" --dir "$KUBESIM_DIR" fault target verb=list resource=configmaps status=503 >/dev/null
	run kubectl --context target -n "$TEST_NS" get configmaps --request-timeout=20s
	assert_failure
	assert_output --partial 'the server is currently unable to handle the request'
	"$REPO_ROOT/tests/sim/simctl" --dir "$KUBESIM_DIR" clear target >/dev/null
	run kubectl --context target -n "$TEST_NS" get configmaps
	assert_success
	run "$REPO_ROOT/tests/sim/simctl" --dir "$KUBESIM_DIR" faults target
	assert_output --partial '"rules": []'
}
