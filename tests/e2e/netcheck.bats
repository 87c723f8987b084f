#!/usr/bin/env bats
# kubectl cclm netcheck against private test clusters: the lab before and
# after `kubectl cclm enable` (static checks, probes, output formats, no pod
# left after success, --timeout and Ctrl-C, --static-only writes nothing),
# then the routed, mtu-mismatch, overlapping-ipam and gate-off scenarios,
# each in its own kubesim. Every claim is checked on the clusters too.

load test_helper
bats_require_minimum_version 1.5.0

PAIR=(--source source --target target)

setup_file() {
	private_sim_start lab two-clusters
	private_sim_boot routed routed # for the scenario tests at the end, each booting the next
}

teardown_file() {
	for s in lab routed mtu overlap gateoff; do private_sim_stop "$s"; done
}

setup() {
	private_sim_use lab
}

netcheck() { "$PLUGIN_BIN_DIR/kubectl-cclm-netcheck" "$@"; }

# probe_pods: the probe pods on both clusters (none may be left)
probe_pods() {
	for c in source target; do
		kubectl --context "$c" get pods -A -l cclm.io/role=netcheck-probe -o name 2>/dev/null | sed "s|^|$c/|"
	done
}

no_probe_left() {
	local left
	for _ in $(seq 1 50); do
		left=$(probe_pods)
		[ -z "$left" ] && return 0
		sleep 0.2
	done
	fail "probe pods left: $left"
}

# wait_sync_address SIMNAME: both clusters advertise a sync address
wait_sync_address() {
	for c in source target; do
		for _ in $(seq 1 150); do
			[ -n "$(kubectl --context "$c" -n openshift-cnv get kubevirt kubevirt-kubevirt-hyperconverged \
				-o jsonpath='{.status.synchronizationAddresses[0]}')" ] && break
			sleep 0.2
		done
	done
}

@test "netcheck: usage errors exit 2" {
	run -2 netcheck "${PAIR[@]}" --static-only --keep-pods
	assert_output --partial "--static-only runs no probe"
	run -2 netcheck "${PAIR[@]}" --timeout 0
	run -2 netcheck "${PAIR[@]}" extra
}

@test "netcheck: before enable the static checks say gate off and no network, with the fix; no probe pod, no write" {
	mark=$(requests_mark)
	run -1 netcheck "${PAIR[@]}"
	assert_output --partial "the DecentralizedLiveMigration feature gate is off"
	assert_output --partial "no migration network: spec.liveMigrationConfig.network is not set"
	assert_output --partial "kubectl cclm enable --source source --target target --nic IFACE --vlan N --subnet CIDR"
	assert_output --partial "HyperConverged openshift-cnv/kubevirt-hyperconverged"
	assert_output --partial "probes: not run (the static checks found no usable migration network on either cluster)"
	assert_output --partial "verdict: fail"
	[ "$(cclm_writes_since "$mark")" -eq 0 ]
	[ -z "$(probe_pods)" ]
}

@test "netcheck: enable the lab" {
	"$PLUGIN_BIN_DIR/kubectl-cclm-enable" "${PAIR[@]}" --nic ens4 --vlan 2001 --subnet 192.168.201.0/24 >/dev/null 2>&1
	wait_sync_address
}

@test "netcheck: --static-only on the enabled lab passes, lists every address per node, and makes no write request" {
	mark=$(requests_mark)
	t0=$(date +%s%N)
	run -0 netcheck "${PAIR[@]}" --static-only
	t1=$(date +%s%N)
	assert_output --partial "static checks: no finding"
	assert_output --partial "probes: not run (--static-only)"
	assert_output --partial "verdict: pass"
	for n in 0 1 2; do
		assert_line --regexp "^source +source-worker-$n +192\.168\.201\.[0-9]+ "
		assert_line --regexp "^target +target-worker-$n +192\.168\.201\.[0-9]+ "
	done
	assert_output --partial "(leader)"
	[ "$(cclm_writes_since "$mark")" -eq 0 ]
	# one request per resource per cluster: kubevirts, hco, nad, pods, lease, daemonset
	# (a retry of the same request on a loaded machine is not another read)
	tail -n +"$((mark + 1))" "$KUBESIM_DIR/requests.jsonl" | jq -c 'select(.userAgent | startswith("kubectl-cclm"))' \
		>"$BATS_TEST_TMPDIR/req"
	n=$(jq -s 'length' "$BATS_TEST_TMPDIR/req")
	distinct=$(jq -s '[.[] | [.cluster, .method, .path]] | unique | length' "$BATS_TEST_TMPDIR/req")
	[ "$distinct" -le 12 ] || { cat "$BATS_TEST_TMPDIR/req"; fail "$distinct distinct requests"; }
	[ "$n" -le 18 ] || { cat "$BATS_TEST_TMPDIR/req"; fail "$n requests"; }
	/usr/bin/time -f '%e s wall, %U s user, %S s sys' -o "$BATS_TEST_TMPDIR/time" \
		"$PLUGIN_BIN_DIR/kubectl-cclm-netcheck" "${PAIR[@]}" --static-only >/dev/null
	echo "# --static-only: $(((t1 - t0) / 1000000)) ms wall, $n requests; measured again: $(cat "$BATS_TEST_TMPDIR/time")" >&3
}

@test "netcheck: the lab after enable passes: probes on every node, every path ok both ways; no probe pod left" {
	mark=$(requests_mark)
	t0=$(date +%s%N)
	run -0 netcheck "${PAIR[@]}" -o json
	t1=$(date +%s%N)
	json=$output
	no_probe_left
	[ "$(jq -r .verdict <<<"$json")" = pass ] || fail "$(jq -c '.findings, [.matrix[] | select(.state != "ok")]' <<<"$json")"
	[ "$(jq -r .probes.ran <<<"$json")" = true ]
	[ "$(jq '.probes.pods | length' <<<"$json")" -eq 6 ]
	[ "$(jq '[.probes.pods[] | select(.phase == "Succeeded" and .error == "")] | length' <<<"$json")" -eq 6 ]
	# per direction: 3 probes x (1 sync address + 3 handlers)
	[ "$(jq '[.matrix[] | select(.from == "source")] | length' <<<"$json")" -eq 12 ]
	[ "$(jq '[.matrix[] | select(.from == "target")] | length' <<<"$json")" -eq 12 ]
	[ "$(jq '[.matrix[] | select(.state == "ok")] | length' <<<"$json")" -eq 24 ]
	[ "$(jq '[.matrix[] | select(.target == "sync") | .tests.tcp.result] | unique' -c <<<"$json")" = '["ok"]' ]
	for c in source target; do
		[ "$(jq ".clusters.$c.handlers | length" <<<"$json")" -eq 3 ]
		[ "$(jq "[.clusters.$c.syncControllers[] | select(.leader)] | length" <<<"$json")" -eq 1 ]
		addr=$(kubectl --context "$c" -n openshift-cnv get kubevirt kubevirt-kubevirt-hyperconverged -o jsonpath='{.status.synchronizationAddresses[0]}')
		[ "$(jq -r ".clusters.$c.syncAddresses[0]" <<<"$json")" = "$addr" ]
		peer=$([ $c = source ] && echo target || echo source)
		jq -e --arg a "${addr%:9185}" --arg p "$peer" '[.matrix[] | select(.from == $p and .target == "sync" and .address == $a)] | length == 3' <<<"$json" >/dev/null
	done
	# the probe pods were pinned to the nodes and attached to the NAD (the API's record of the create)
	tail -n +"$((mark + 1))" "$KUBESIM_DIR/requests.jsonl" | jq -s -e '[.[] | select(.method == "POST" and .resource == "pods")] | length == 6' >/dev/null
	n=$(tail -n +"$((mark + 1))" "$KUBESIM_DIR/requests.jsonl" | jq -s '[.[] | select(.userAgent | startswith("kubectl-cclm"))] | length')
	echo "# full netcheck on two-clusters: $(((t1 - t0) / 1000000)) ms wall, $n requests" >&3
}

@test "netcheck: the table shows a matrix per direction and the verdict; -o yaml and -o wide" {
	run -0 netcheck "${PAIR[@]}"
	assert_output --partial "source -> target (source nodes x target addresses)"
	assert_output --partial "target -> source (source nodes x target addresses)"
	assert_line --regexp '^SOURCE NODE +SYNC 192\.168\.201\.[0-9]+:9185 +target-worker-[0-9] 192\.168\.201\.[0-9]+'
	assert_line --regexp '^source-worker-0( +ok)+$'
	assert_line --regexp '^target-worker-2( +ok)+$'
	assert_output --partial "verdict: pass"
	run -0 netcheck "${PAIR[@]}" -o yaml
	assert_line "kind: NetcheckReport"
	assert_line "verdict: pass"
	run -0 netcheck "${PAIR[@]}" -o wide
	assert_output --partial "verdict: pass"
	no_probe_left
}

@test "netcheck: --timeout: probes that cannot finish are reported, the verdict fails, no probe pod is left" {
	run -1 netcheck "${PAIR[@]}" --timeout 100ms
	assert_output --partial "did not finish within --timeout"
	assert_output --partial "verdict: fail"
	no_probe_left
}

@test "netcheck: --timeout running out while the probe pods' watch waits for the server is a timeout, not an API error" {
	# every watch of the source's pods answers after 5 s: the slices of a 1 s run time out first
	"$REPO_ROOT/tests/sim/simctl" --dir "$SIM" fault source verb=watch resource=pods latencyMs=5000 >/dev/null
	run netcheck "${PAIR[@]}" --timeout 1s
	"$REPO_ROOT/tests/sim/simctl" --dir "$SIM" clear source >/dev/null
	[ "$status" -eq 1 ] || fail "exit $status: $output"
	assert_output --partial "did not finish within --timeout"
	assert_output --partial "verdict: fail"
	[ "$(grep -c "watching the probe pods" <<<"$output")" -eq 0 ]
	no_probe_left
}

@test "netcheck: Ctrl-C while the probe pods are being created deletes them all" {
	"$REPO_ROOT/tests/sim/simctl" --dir "$SIM" fault target verb=create resource=pods latencyMs=2000 >/dev/null
	# and slow log reads, so the run cannot finish before the signal on a loaded machine
	"$REPO_ROOT/tests/sim/simctl" --dir "$SIM" fault target verb=get resource=pods/log latencyMs=8000 >/dev/null
	"$PLUGIN_BIN_DIR/kubectl-cclm-netcheck" "${PAIR[@]}" >"$BATS_TEST_TMPDIR/out" 2>&1 &
	pid=$!
	for _ in $(seq 1 100); do
		[ -n "$(kubectl --context target -n openshift-cnv get pods -l cclm.io/role=netcheck-probe -o name 2>/dev/null)" ] && break
		sleep 0.1
	done
	[ -n "$(probe_pods)" ] || fail "no probe pod appeared"
	kill -INT "$pid"
	wait "$pid" && st=0 || st=$?
	"$REPO_ROOT/tests/sim/simctl" --dir "$SIM" clear target >/dev/null
	cat "$BATS_TEST_TMPDIR/out"
	[ "$st" -eq 1 ]
	grep -q "interrupted: the probe pods are deleted" "$BATS_TEST_TMPDIR/out"
	no_probe_left
}

@test "netcheck: --keep-pods leaves the probes with their logs; the next run warns about them" {
	run -0 netcheck "${PAIR[@]}" --keep-pods -o json
	[ "$(jq -r .probes.kept <<<"$output")" = true ]
	pod=$(kubectl --context source -n openshift-cnv get pods -l cclm.io/role=netcheck-probe -o jsonpath='{.items[0].metadata.name}')
	[ -n "$pod" ]
	[ "$(kubectl --context source -n openshift-cnv get pod "$pod" -o jsonpath='{.spec.nodeName}')" != "" ]
	kubectl --context source -n openshift-cnv get pod "$pod" -o jsonpath='{.metadata.annotations.k8s\.v1\.cni\.cncf\.io/networks}' | grep -qx 'livemigration-network@migration0'
	kubectl --context source -n openshift-cnv logs "$pod" | grep -q '^cclm-netcheck/1 done tests='
	run -0 netcheck "${PAIR[@]}" --static-only
	assert_output --partial "probe pods left from an earlier run"
	assert_output --partial "verdict: warn"
	kubectl --context source -n openshift-cnv delete pods -l cclm.io/role=netcheck-probe --wait=false >/dev/null
	kubectl --context target -n openshift-cnv delete pods -l cclm.io/role=netcheck-probe --wait=false >/dev/null
	no_probe_left
}

@test "netcheck: routed: ARP fails, the peer is unreachable, the VLANs differ; fail" {
	private_sim_start routed routed
	private_sim_boot mtu mtu-mismatch
	wait_sync_address
	run -1 netcheck "${PAIR[@]}" -o json
	json=$output
	run -1 netcheck "${PAIR[@]}"
	table=$output
	left=$(probe_pods)
	private_sim_stop routed
	[ -z "$left" ] || fail "left: $left"
	[ "$(jq -r .verdict <<<"$json")" = fail ]
	[ "$(jq '[.matrix[] | .tests.arp.result] | unique' -c <<<"$json")" = '["fail"]' ]
	[ "$(jq '[.matrix[] | .state] | unique' -c <<<"$json")" = '["unreachable"]' ]
	jq -e '[.matrix[] | select(.target == "sync") | .tests.tcp.result == "fail"] | all' <<<"$json" >/dev/null
	jq -e '[.findings[] | select(.message | test("VLAN 2001 on source, 2002 on target"))] | length == 1' <<<"$json" >/dev/null
	output=$table
	assert_output --partial "unreachable"
	assert_output --partial "verdict: fail"
}

@test "netcheck: mtu-mismatch: the MTU test fails toward the smaller MTU and names it; fail" {
	private_sim_start mtu mtu-mismatch
	private_sim_boot overlap overlapping-ipam
	wait_sync_address
	run --separate-stderr netcheck "${PAIR[@]}" -o json
	[ "$status" -eq 1 ] || fail "exit $status: $stderr"
	json=$output
	run -1 netcheck "${PAIR[@]}"
	table=$output
	left=$(probe_pods)
	private_sim_stop mtu
	[ -z "$left" ] || fail "left: $left"
	[ "$(jq -r .verdict <<<"$json")" = fail ]
	# target (9000) -> source: 9000 does not pass, 1500 does; source (1500) -> target: ok
	[ "$(jq '[.matrix[] | select(.from == "target") | .state] | unique' -c <<<"$json")" = '["mtu"]' ]
	[ "$(jq '[.matrix[] | select(.from == "target") | .tests.mtu.max] | unique' -c <<<"$json")" = '[1500]' ]
	[ "$(jq '[.matrix[] | select(.from == "source") | .state] | unique' -c <<<"$json")" = '["ok"]' ]
	jq -e '[.findings[] | select(.message | test("MTU 1500 on source, 9000 on target; the smaller, 1500")) | select(.fix | test("--mtu 1500"))] | length == 1' <<<"$json" >/dev/null
	output=$table
	assert_output --partial "mtu (9000 do not pass, 1500 do)"
}

@test "netcheck: overlapping-ipam: the overlap and the duplicate addresses are named, with the fix; fail" {
	private_sim_start overlap overlapping-ipam
	private_sim_boot gateoff gate-off
	wait_sync_address
	run -1 netcheck "${PAIR[@]}" -o json
	json=$output
	left=$(probe_pods)
	private_sim_stop overlap
	[ -z "$left" ] || fail "left: $left"
	[ "$(jq -r .verdict <<<"$json")" = fail ]
	jq -e '[.findings[] | select(.message | test("address pools overlap: 192.168.201.1-192.168.201.254 on source and 192.168.201.1-192.168.201.254 on target share 192.168.201.1")) | select(.fix | test("kubectl cclm enable --source source --target target --replace-nad"))] | length == 1' <<<"$json" >/dev/null
	dups=$(jq '[.findings[] | select(.message | test("duplicate migration0 address"))] | length' <<<"$json")
	[ "$dups" -ge 1 ] || fail "no duplicate named: $(jq -c .findings <<<"$json")"
	jq -e '[.findings[] | select(.message | test("duplicate")) | .object | test("pods source openshift-cnv/.* and target openshift-cnv/")] | any' <<<"$json" >/dev/null
}

@test "netcheck: gate-off: the static checks say so and no probe pod is created" {
	private_sim_start gateoff gate-off
	mark=$(requests_mark)
	run -1 netcheck "${PAIR[@]}" -o json
	json=$output
	writes=$(cclm_writes_since "$mark")
	left=$(probe_pods)
	private_sim_stop gateoff
	[ "$writes" -eq 0 ]
	[ -z "$left" ]
	[ "$(jq -r .probes.ran <<<"$json")" = false ]
	jq -e '[.findings[] | select(.cluster == "target" and (.message | test("feature gate is off")))] | length == 1' <<<"$json" >/dev/null
	jq -e '[.findings[] | select(.message | test("no migration network"))] | length == 2' <<<"$json" >/dev/null
}
