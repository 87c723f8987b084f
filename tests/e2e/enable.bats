#!/usr/bin/env bats
# kubectl cclm enable against private test clusters (it changes what every
# other test relies on: the gate, the NAD, virt-handler pods): the lab from
# scratch, checked on the clusters; a second run that writes nothing; dry
# runs; a view-only user; faults; --disable; and the version-skew,
# overlapping-ipam, gate-off and no-mtv scenarios, each in its own kubesim.

load test_helper
bats_require_minimum_version 1.5.0

LAB=(--source source --target target --nic ens4 --vlan 2001 --subnet 192.168.201.0/24)

setup_file() {
	private_sim_start lab two-clusters
	private_sim_boot skew version-skew # the scenario tests at the end each boot the next
	# MTV's live migration off on the target, for enable to turn on
	kubectl --context target -n openshift-mtv patch forkliftcontroller forklift-controller --type merge \
		-p '{"spec":{"feature_ocp_live_migration":"false"}}' >/dev/null
}

teardown_file() {
	for s in skew overlap gateoff nomtv; do private_sim_stop "$s"; done
	private_sim_stop lab
}

setup() {
	private_sim_use lab
}

enable() { "$PLUGIN_BIN_DIR/kubectl-cclm-enable" "$@"; }

hco() { # CONTEXT JSONPATH
	kubectl --context "$1" -n openshift-cnv get hyperconverged kubevirt-hyperconverged -o jsonpath="$2"
}

nad_config() { # CONTEXT
	kubectl --context "$1" -n openshift-cnv get network-attachment-definitions livemigration-network -o jsonpath='{.spec.config}'
}

# in_range IP FIRST LAST: IPv4 FIRST <= IP <= LAST
in_range() {
	local n a f l
	n() { local IFS=.; set -- $1; echo $((($1 << 24) + ($2 << 16) + ($3 << 8) + $4)); }
	a=$(n "$1") f=$(n "$2") l=$(n "$3")
	[ "$a" -ge "$f" ] && [ "$a" -le "$l" ]
}

# handler_ips CONTEXT: the migration0 addresses of the virt-handler pods
handler_ips() {
	kubectl --context "$1" -n openshift-cnv get pods -l kubevirt.io=virt-handler -o json |
		jq -r '.items[] | select(.metadata.deletionTimestamp == null)
			| .metadata.annotations["k8s.v1.cni.cncf.io/network-status"] // "[]" | fromjson
			| .[] | select(.interface == "migration0") | .ips[0]'
}

# check_enabled CONTEXT FIRST LAST: the cluster side of an enabled pair
check_enabled() {
	local ctx=$1 first=$2 last=$3 cfg addr ip n=0
	[ "$(hco "$ctx" '{.spec.featureGates.decentralizedLiveMigration}')" = true ] || fail "$ctx: gate off"
	[ "$(hco "$ctx" '{.spec.liveMigrationConfig.network}')" = livemigration-network ] || fail "$ctx: network not set"
	cfg=$(nad_config "$ctx")
	[ "$(jq -r .type <<<"$cfg")" = macvlan ] || fail "$ctx: NAD type: $cfg"
	[ "$(jq -r .master <<<"$cfg")" = ens4.2001 ] || fail "$ctx: NAD master: $cfg"
	[ "$(jq -r .ipam.range <<<"$cfg")" = 192.168.201.0/24 ] || fail "$ctx: NAD range: $cfg"
	[ "$(jq -r .ipam.range_start <<<"$cfg")" = "$first" ] || fail "$ctx: pool start: $cfg"
	[ "$(jq -r .ipam.range_end <<<"$cfg")" = "$last" ] || fail "$ctx: pool end: $cfg"
	kubectl --context "$ctx" -n openshift-cnv get kubevirt kubevirt-kubevirt-hyperconverged \
		-o jsonpath='{.spec.configuration.developerConfiguration.featureGates}' | grep -q DecentralizedLiveMigration ||
		fail "$ctx: KubeVirt CR without the gate"
	addr=$(kubectl --context "$ctx" -n openshift-cnv get kubevirt kubevirt-kubevirt-hyperconverged \
		-o jsonpath='{.status.synchronizationAddresses[0]}')
	in_range "${addr%:9185}" "$first" "$last" || fail "$ctx: sync address '$addr' outside $first-$last"
	for ip in $(handler_ips "$ctx"); do
		in_range "$ip" "$first" "$last" || fail "$ctx: virt-handler at $ip outside $first-$last"
		n=$((n + 1))
	done
	[ "$n" -eq 3 ] || fail "$ctx: $n virt-handlers with a migration0 address, not 3"
}

@test "enable: --help lists every option of the table" {
	run enable --help
	assert_success
	for o in --nic --bridge --vlan --subnet --mtu --nad --network --replace-nad --mtv --bandwidth-per-migration \
		--completion-timeout-per-gib --progress-timeout --parallel-per-cluster --parallel-per-node \
		--allow-post-copy --allow-auto-converge --timeout --dry-run --disable --source --target -o; do
		assert_output --partial -- "$o"
	done
}

@test "enable: bad options are usage errors (exit 2) and touch no cluster" {
	n=$(requests_mark)
	run enable "${LAB[@]}" --bridge br-2001
	assert_failure 2
	assert_output --partial "--nic and --bridge exclude each other"
	run enable "${LAB[@]}" --vlan 5000
	assert_failure 2
	run enable --source source --target target --nic ens4 --subnet 192.168.201.0/33
	assert_failure 2
	assert_output --partial "192.168.201.0/33"
	run enable --source source --target target --network pod --nic ens4
	assert_failure 2
	run enable --source source --target target --timeout soon
	assert_failure 2
	assert_output --partial "'--timeout' expects a duration"
	run enable --source source --target nowhere
	assert_failure
	[ "$(tail -n +"$((n + 1))" "$SIM/requests.jsonl" | grep -c kubectl-cclm)" -eq 0 ]
}

@test "enable: a view-only user gets the missing permissions and nothing is written" {
	n=$(requests_mark)
	run enable --source source-viewer --target target-viewer --nic ens4 --vlan 2001 --subnet 192.168.201.0/24
	assert_failure 1
	assert_output --partial "not allowed to patch hyperconvergeds.hco.kubevirt.io"
	assert_output --partial "not allowed to create network-attachment-definitions.k8s.cni.cncf.io"
	assert_output --partial "preflight failed on both clusters: nothing was written"
	[ "$(cclm_writes_since "$n")" -eq 0 ]
	[ "$(hco source '{.spec.featureGates.decentralizedLiveMigration}')" = false ]
}

@test "enable: --dry-run prints the writes, has the server check them, writes nothing" {
	n=$(requests_mark)
	run enable "${LAB[@]}" --dry-run
	assert_success
	assert_output --partial "PATCH hyperconvergeds/kubevirt-hyperconverged -n openshift-cnv (merge patch)"
	assert_output --partial "POST network-attachment-definitions/livemigration-network -n openshift-cnv"
	assert_output --partial '\"range_start\":\"192.168.201.1\",\"range_end\":\"192.168.201.127\"'
	assert_output --partial '\"range_start\":\"192.168.201.128\",\"range_end\":\"192.168.201.254\"'
	assert_output --partial "feature_ocp_live_migration"
	[ "$(cclm_writes_since "$n" --real)" -eq 0 ]
	logged '"method": ?"PATCH".*hyperconvergeds.*dryRun=All'
	[ "$(hco source '{.spec.featureGates.decentralizedLiveMigration}')" = false ]
	run kubectl --context target -n openshift-cnv get network-attachment-definitions livemigration-network
	assert_failure
}

@test "enable: the lab from scratch, checked on both clusters" {
	run enable "${LAB[@]}"
	assert_success
	assert_output --partial "enabled ("
	check_enabled source 192.168.201.1 192.168.201.127
	check_enabled target 192.168.201.128 192.168.201.254
	[ "$(kubectl --context target -n openshift-mtv get forkliftcontroller forklift-controller \
		-o jsonpath='{.spec.feature_ocp_live_migration}')" = true ]
	run kubectl --context source get forkliftcontrollers -A -o name
	assert_output ""
}

@test "enable: a second run writes nothing and says already enabled" {
	n=$(requests_mark)
	run enable "${LAB[@]}"
	assert_success
	assert_output --partial "already enabled"
	[ "$(cclm_writes_since "$n")" -eq 0 ]
	run --separate-stderr enable "${LAB[@]}" -o json
	assert_success
	[ "$(jq -r .result <<<"$output")" = already-enabled ]
	[ "$(jq -r .clusters.source.network.pool <<<"$output")" = 192.168.201.1-192.168.201.127 ]
	[ "$(jq -r .clusters.target.network.pool <<<"$output")" = 192.168.201.128-192.168.201.254 ]
	[ "$(jq -r .clusters.target.mtv.liveMigration <<<"$output")" = true ]
	[ "$(jq -r '.clusters.source.handlers | length' <<<"$output")" -eq 3 ]
	[ "$(jq -r .clusters.source.syncAddress <<<"$output")" != "" ]
	[ "$(cclm_writes_since "$n")" -eq 0 ]
}

@test "enable: tuning converges through 503s and 429s from the API servers" {
	for c in source target; do
		"$REPO_ROOT/tests/sim/simctl" --dir "$SIM" fault "$c" verb=patch resource=hyperconvergeds status=503 count=2 >/dev/null
		"$REPO_ROOT/tests/sim/simctl" --dir "$SIM" fault "$c" verb=get resource=kubevirts status=429 count=2 >/dev/null
		"$REPO_ROOT/tests/sim/simctl" --dir "$SIM" fault "$c" verb=list resource=pods status=503 count=1 >/dev/null
	done
	run enable --source source --target target --parallel-per-cluster 3 --allow-post-copy --bandwidth-per-migration 512Mi
	"$REPO_ROOT/tests/sim/simctl" --dir "$SIM" clear source >/dev/null
	"$REPO_ROOT/tests/sim/simctl" --dir "$SIM" clear target >/dev/null
	assert_success
	logged '"faults"'
	for c in source target; do
		[ "$(hco "$c" '{.spec.liveMigrationConfig.parallelMigrationsPerCluster}')" = 3 ]
		[ "$(hco "$c" '{.spec.liveMigrationConfig.allowPostCopy}')" = true ]
		[ "$(hco "$c" '{.spec.liveMigrationConfig.bandwidthPerMigration}')" = 512Mi ]
		[ "$(kubectl --context "$c" -n openshift-cnv get kubevirt kubevirt-kubevirt-hyperconverged \
			-o jsonpath='{.spec.configuration.migrations.parallelMigrationsPerCluster}')" = 3 ]
	done
	# the network is kept as it was
	check_enabled source 192.168.201.1 192.168.201.127
}

@test "enable: options that contradict the NAD in place are refused without --replace-nad" {
	n=$(requests_mark)
	run enable --source source --target target --nic ens4 --vlan 2001 --subnet 192.168.201.0/24 --mtu 9000
	assert_failure 1
	assert_output --partial "not what the options ask: --replace-nad rewrites it"
	[ "$(cclm_writes_since "$n")" -eq 0 ]
}

@test "enable: --disable turns the gate off and the sync controller goes; enable brings it back" {
	run enable --source source --target target --disable
	assert_success
	assert_output --partial "disabled ("
	for c in source target; do
		[ "$(hco "$c" '{.spec.featureGates.decentralizedLiveMigration}')" = false ]
		run kubectl --context "$c" -n openshift-cnv get pods -l kubevirt.io=virt-synchronization-controller -o name
		assert_output ""
	done
	run enable --source source --target target --disable
	assert_success
	assert_output --partial "already disabled"
	# --timeout running out while a watch waits for the server is a timeout, not an API error
	"$REPO_ROOT/tests/sim/simctl" --dir "$SIM" fault source verb=watch latencyMs=5000 >/dev/null
	run enable "${LAB[@]}" --timeout 1s
	"$REPO_ROOT/tests/sim/simctl" --dir "$SIM" clear source >/dev/null
	assert_failure
	assert_output --partial "timed out waiting for"
	[ "$(grep -c "did not answer in time" <<<"$output")" -eq 0 ]
	run enable "${LAB[@]}"
	assert_success
	check_enabled target 192.168.201.128 192.168.201.254
}

@test "enable: without HCO, the KubeVirt CR itself gets the gate and the settings" {
	for c in source target; do
		kubectl --context "$c" -n openshift-cnv delete hyperconverged kubevirt-hyperconverged >/dev/null
	done
	run enable --source source --target target --disable
	assert_success
	for c in source target; do
		run kubectl --context "$c" -n openshift-cnv get kubevirt kubevirt-kubevirt-hyperconverged \
			-o jsonpath='{.spec.configuration.developerConfiguration.featureGates}'
		refute_output --partial DecentralizedLiveMigration
	done
	run enable "${LAB[@]}" --parallel-per-node 1
	assert_success
	assert_output --partial "no HCO"
	for c in source target; do
		run kubectl --context "$c" -n openshift-cnv get kubevirt kubevirt-kubevirt-hyperconverged -o json
		[ "$(jq -r '.spec.configuration.developerConfiguration.featureGates | index("DecentralizedLiveMigration") != null' <<<"$output")" = true ]
		[ "$(jq -r .spec.configuration.migrations.network <<<"$output")" = livemigration-network ]
		[ "$(jq -r .spec.configuration.migrations.parallelOutboundMigrationsPerNode <<<"$output")" = 1 ]
		[ -n "$(jq -r '.status.synchronizationAddresses[0] // empty' <<<"$output")" ]
	done
}

@test "enable: version-skew is refused with both versions named, and nothing is written" {
	private_sim_start skew version-skew
	private_sim_boot overlap overlapping-ipam
	n=$(requests_mark)
	run enable "${LAB[@]}"
	private_sim_stop skew
	assert_failure 1
	assert_output --partial "OpenShift 4.20.3 here and 4.21.2 on the target cluster"
	assert_output --partial "different minor versions cannot sync"
	[ "$(cclm_writes_since "$n")" -eq 0 ]
}

@test "enable: overlapping-ipam's NADs are reported as overlapping; --replace-nad splits the pools" {
	private_sim_start overlap overlapping-ipam
	private_sim_boot gateoff gate-off
	n=$(requests_mark)
	run enable --source source --target target
	if [ "$status" -ne 1 ]; then private_sim_stop overlap; fi
	assert_failure 1
	assert_output --partial "address pools overlap"
	assert_output --partial "share 192.168.201.1"
	[ "$(cclm_writes_since "$n")" -eq 0 ]
	run enable --source source --target target --replace-nad
	status_replace=$status out_replace=$output
	(check_enabled source 192.168.201.1 192.168.201.127 && check_enabled target 192.168.201.128 192.168.201.254) >"$SIM/check" 2>&1
	checked=$?
	private_sim_stop overlap
	output=$out_replace
	[ "$status_replace" -eq 0 ] || fail "replace: $out_replace"
	[ "$checked" -eq 0 ] || fail "$(cat "$BATS_FILE_TMPDIR/overlap/check")"
}

@test "enable: gate-off (the gate on one side only) is finished on the other" {
	private_sim_start gateoff gate-off
	private_sim_boot nomtv no-mtv
	[ "$(hco source '{.spec.featureGates.decentralizedLiveMigration}')" = true ]
	run enable "${LAB[@]}"
	st=$status
	gate=$(hco target '{.spec.featureGates.decentralizedLiveMigration}')
	private_sim_stop gateoff
	[ "$st" -eq 0 ] || fail "$output"
	[ "$gate" = true ]
}

@test "enable: no-mtv enables without MTV, and --mtv yes refuses it" {
	private_sim_start nomtv no-mtv
	n=$(requests_mark)
	run enable "${LAB[@]}" --mtv yes
	st_yes=$status out_yes=$output w=$(cclm_writes_since "$n")
	run enable "${LAB[@]}"
	st=$status
	private_sim_stop nomtv
	[ "$st_yes" -eq 1 ] || fail "--mtv yes: $out_yes"
	[[ "$out_yes" == *"MTV is not installed here (no ForkliftController)"* ]] || fail "$out_yes"
	[ "$w" -eq 0 ]
	[ "$st" -eq 0 ] || fail "$output"
	assert_output --partial "not installed"
}
