#!/usr/bin/env bats
# kubectl cclm status on private test clusters (the lab, enabled by cclm
# enable, the CAs exchanged by hand): migrations made by hand with kubectl,
# with MTV's labels and by cclm all show both halves; an in-flight one shows
# its progress; an orphan gets its cleanup command (which works); --watch
# --until-done ends with the migrations; one LIST per resource per cluster;
# and on `routed` a stalled migration shows KubeVirt's blocker.

load test_helper
bats_require_minimum_version 1.5.0

LAB=(--source source --target target)

status() { "$PLUGIN_BIN_DIR/kubectl-cclm-status" "${LAB[@]}" "$@"; }

setup_file() {
	private_sim_start st two-clusters
	private_sim_boot routed routed # for the last tests
	"$PLUGIN_BIN_DIR/kubectl-cclm-enable" "${LAB[@]}" --nic ens4 --vlan 2001 --subnet 192.168.201.0/24 >/dev/null 2>&1
	# the KubeVirt CAs both ways, as the user guide does by hand (cclm migrate does it itself)
	for pair in "source target" "target source"; do
		set -- $pair
		kubectl --context "$1" -n openshift-cnv get cm kubevirt-ca -o jsonpath='{.data.ca-bundle}' >"$BATS_FILE_TMPDIR/ca.pem"
		kubectl --context "$2" -n openshift-cnv create cm kubevirt-external-ca --from-file=ca-bundle="$BATS_FILE_TMPDIR/ca.pem" \
			--dry-run=client -o yaml | kubectl --context "$2" replace -f - >/dev/null
	done
	for c in source target; do
		for _ in $(seq 1 300); do
			[ -n "$(kubectl --context "$c" -n openshift-cnv get kubevirt kubevirt-kubevirt-hyperconverged \
				-o jsonpath='{.status.synchronizationAddresses[0]}' 2>/dev/null)" ] && break
			sleep 0.2
		done
	done
	# until each kubevirt-ca holds the peer's certificate
	sleep 3
}

teardown_file() {
	private_sim_stop st
	private_sim_stop routed
}

setup() {
	private_sim_use st
	new_ns
}

teardown() {
	kubectl --context target -n openshift-mtv delete plan "plan-${TEST_NS:-x}" --wait=false >/dev/null 2>&1 || true
	drop_ns
}

# until_ok SECONDS CMD...: retry CMD until it succeeds
until_ok() {
	local n=$(($1 * 5))
	shift
	for _ in $(seq 1 "$n"); do
		"$@" >/dev/null 2>&1 && return 0
		sleep 0.2
	done
	"$@"
}

jp() { # CONTEXT KIND/NAME JSONPATH
	kubectl --context "$1" -n "$TEST_NS" get "$2" -o jsonpath="$3"
}

is() { # EXPECTED CONTEXT KIND/NAME JSONPATH
	[ "$(jp "$2" "$3" "$4")" = "$1" ]
}

vm() { # CONTEXT NAME RUNSTRATEGY [DIRTY-RATE]
	local ann=""
	[ "$3" = WaitAsReceiver ] && ann="kubevirt.io/restore-run-strategy: Always"
	cat <<EOF | kubectl --context "$1" -n "$TEST_NS" apply -f - >/dev/null
apiVersion: kubevirt.io/v1
kind: VirtualMachine
metadata: {name: $2, annotations: {$ann}}
spec:
  runStrategy: $3
  template:
    metadata:
      annotations: {kubesim.cclm.io/dirty-rate: "${4:-8Mi}"}
    spec:
      domain: {memory: {guest: 1Gi}, devices: {disks: [{name: root, disk: {bus: virtio}}], interfaces: [{name: default, masquerade: {}}]}}
      networks: [{name: default, pod: {}}]
      volumes: [{name: root, containerDisk: {image: quay.io/containerdisks/fedora:41}}]
EOF
}

# receiver NAME ID [LABELS] [DIRTY]: the running source VM, the receiver and the target VMIM NAME-in
receiver() {
	vm source "$1" Always "${4:-}"
	until_ok 30 is Running source "vmi/$1" '{.status.phase}'
	vm target "$1" WaitAsReceiver
	until_ok 30 is WaitingForSync target "vmi/$1" '{.status.phase}'
	printf 'apiVersion: kubevirt.io/v1\nkind: VirtualMachineInstanceMigration\nmetadata: {name: %s-in, labels: {%s}}\nspec: {vmiName: %s, receive: {migrationID: %s}}\n' \
		"$1" "${3:-}" "$1" "$2" | kubectl --context target -n "$TEST_NS" create -f - >/dev/null
	until_ok 30 jp target "vmim/$1-in" '{.status.synchronizationAddresses[0]}'
}

# sender NAME ID [LABELS]: the source VMIM NAME-out
sender() {
	local addr
	addr=$(jp target "vmim/$1-in" '{.status.synchronizationAddresses[0]}')
	printf 'apiVersion: kubevirt.io/v1\nkind: VirtualMachineInstanceMigration\nmetadata: {name: %s-out, labels: {%s}}\nspec: {vmiName: %s, sendTo: {migrationID: %s, connectURL: "%s"}}\n' \
		"$1" "${3:-}" "$1" "$2" "$addr" | kubectl --context source -n "$TEST_NS" create -f - >/dev/null
}

by_hand() { # NAME ID [LABELS] [DIRTY]
	receiver "$@"
	sender "$1" "$2" "${3:-}"
}

@test "status: a migration made by hand with kubectl shows both halves, paired by migration ID" {
	by_hand vm1 "mig-$TEST_NS"
	until_ok 60 is Succeeded target vmim/vm1-in '{.status.phase}'
	until_ok 30 is Succeeded source vmim/vm1-out '{.status.phase}'
	run status -n "$TEST_NS" -o wide
	assert_success
	assert_output --regexp "vm1 +$TEST_NS -> $TEST_NS +Succeeded +Succeeded .* succeeded +by hand +- +mig-$TEST_NS +vm1-out +vm1-in"
	run --separate-stderr status -n "$TEST_NS" -o json
	assert_success
	[ "$(jq -r '.migrations | length' <<<"$output")" -eq 1 ]
	[ "$(jq -r '.migrations[0].source.vmim' <<<"$output")" = vm1-out ]
	[ "$(jq -r '.migrations[0].target.vmim' <<<"$output")" = vm1-in ]
	[ "$(jq -r '.migrations[0].startedBy.kind' <<<"$output")" = manual ]
	[ "$(jq -r '.migrations[0].result' <<<"$output")" = succeeded ]
	[ "$(jq -r '.migrations[0].orphan' <<<"$output")" = false ]
	# what the clusters hold: the same ID on both halves
	[ "$(jq -r '.migrations[0].migrationID' <<<"$output")" = "$(jp target vmim/vm1-in '{.spec.receive.migrationID}')" ]
	[ "$(jq -r '.migrations[0].migrationID' <<<"$output")" = "$(jp source vmim/vm1-out '{.spec.sendTo.migrationID}')" ]
	[ "$(jq -r '.migrations[0].target.phase' <<<"$output")" = "$(jp target vmim/vm1-in '{.status.phase}')" ]
	# -o yaml is the same document
	run status -n "$TEST_NS" -o yaml
	assert_success
	assert_output --partial "kind: MigrationStatus"
	assert_output --partial "vmim: vm1-out"
}

@test "status: a migration with MTV's labels names its plan" {
	cat <<EOF | kubectl --context target apply -f - >/dev/null
apiVersion: forklift.konveyor.io/v1beta1
kind: Plan
metadata: {name: plan-$TEST_NS, namespace: openshift-mtv}
spec:
  type: live
  targetNamespace: $TEST_NS
  provider: {source: {name: host, namespace: openshift-mtv}, destination: {name: host, namespace: openshift-mtv}}
  map: {network: {name: net, namespace: openshift-mtv}, storage: {name: store, namespace: openshift-mtv}}
  vms: [{name: vm2, namespace: $TEST_NS}]
EOF
	uid=$(kubectl --context target -n openshift-mtv get plan "plan-$TEST_NS" -o jsonpath='{.metadata.uid}')
	[ -n "$uid" ]
	labels="plan: $uid, migration: 0b7e2c1a-5f0e-4c55-9d7c-1e8b2a6f4d10, vmID: 6a1f0c3e-2b7d-4e9a-8c5f-3d2e1b0a9f87"
	by_hand vm2 "6a1f0c3e-2b7d-4e9a-8c5f-3d2e1b0a9f87-0b7e2c1a" "$labels"
	run status -n "$TEST_NS"
	assert_success
	assert_output --regexp "vm2 +$TEST_NS -> $TEST_NS .* MTV plan plan-$TEST_NS"
	run --separate-stderr status -n "$TEST_NS" -o json
	[ "$(jq -r '.migrations[0].startedBy.kind' <<<"$output")" = mtv ]
	[ "$(jq -r '.migrations[0].startedBy.plan' <<<"$output")" = "plan-$TEST_NS" ]
	[ "$(jp source vmim/vm2-out '{.metadata.labels.plan}')" = "$uid" ]
}

@test "status: a migration started by cclm migrate --detach shows cclm and both halves" {
	vm source vmc Always
	until_ok 30 is Running source vmi/vmc '{.status.phase}'
	run "$PLUGIN_BIN_DIR/kubectl-cclm-migrate" "${LAB[@]}" -n "$TEST_NS" vmc --detach
	assert_success
	run --separate-stderr status -n "$TEST_NS" -o json
	assert_success
	[ "$(jq -r '.migrations | length' <<<"$output")" -eq 1 ]
	[ "$(jq -r '.migrations[0].startedBy.kind' <<<"$output")" = cclm ]
	[ "$(jq -r '.migrations[0].vm' <<<"$output")" = vmc ]
	id=$(jq -r '.migrations[0].migrationID' <<<"$output")
	src=$(jq -r '.migrations[0].source.vmim' <<<"$output")
	tgt=$(jq -r '.migrations[0].target.vmim' <<<"$output")
	# the halves are cclm's on the clusters, with that ID
	[ "$(jp source "vmim/$src" '{.metadata.labels.cclm\.io/migration-id}')" = "$id" ]
	[ "$(jp target "vmim/$tgt" '{.spec.receive.migrationID}')" = "$id" ]
	run status -n "$TEST_NS" vmc
	assert_success
	assert_output --regexp "vmc +$TEST_NS -> $TEST_NS .* cclm"
	# a VM not named is not shown
	run status -n "$TEST_NS" other
	assert_success
	refute_output --partial vmc
}

@test "status: an in-flight migration shows its phases and progress from the source's metrics" {
	by_hand vm3 "mig3-$TEST_NS" "" 4Gi # dirties faster than the link: stays in transfer
	until_ok 30 is Running source vmim/vm3-out '{.status.phase}'
	for _ in $(seq 1 50); do
		out=$(status -n "$TEST_NS" -o json 2>/dev/null)
		[ "$(jq -r '.migrations[0].progress' <<<"$out")" != null ] && break
		sleep 0.2
	done
	[ "$(jq -r '.migrations[0].result' <<<"$out")" = in-progress ]
	[ "$(jq -r '.metrics.available' <<<"$out")" = true ]
	[ "$(jq -r '.migrations[0].progress.dataTotalBytes > 0' <<<"$out")" = true ]
	[ "$(jq -r '.migrations[0].progress.percent >= 0 and .migrations[0].progress.percent <= 100' <<<"$out")" = true ]
	[ "$(jq -r '.migrations[0].progress.transferRateBytes > 0' <<<"$out")" = true ]
	# the series the numbers came from are on the source cluster
	run "$REPO_ROOT/tests/sim/simctl" --dir "$SIM" metrics source
	assert_output --partial "kubevirt_vmi_migration_data_processed_bytes"
	assert_output --partial "vm3"
	run status -n "$TEST_NS"
	echo "$output"
	assert_success
	assert_output --regexp "vm3 +$TEST_NS -> $TEST_NS +Running +Running +[0-9]+% [0-9.]+ [KMG]iB/[0-9.]+ [KMG]iB [0-9.]+ [KMG]iB/s .* in-progress +by hand"
	# metrics out of reach (the querier's Route refused): said once, phases still shown
	"$REPO_ROOT/tests/sim/simctl" --dir "$SIM" fault source verb=get resource=routes status=403 >/dev/null
	run --separate-stderr status -n "$TEST_NS" -o json
	"$REPO_ROOT/tests/sim/simctl" --dir "$SIM" clear source >/dev/null
	assert_success
	[ "$(grep -c 'progress metrics of the source cannot be read' <<<"$stderr")" -eq 1 ]
	[ "$(jq -r '.metrics.available' <<<"$output")" = false ]
	[ "$(jq -r '.migrations[0].progress' <<<"$output")" = null ]
	[ "$(jq -r '.migrations[0].source.phase' <<<"$output")" = Running ]
	kubectl --context target -n "$TEST_NS" delete vmim vm3-in --wait=false >/dev/null
}

@test "status: a half whose partner is gone is an orphan, with the command that cleans it up" {
	by_hand vm4 "mig4-$TEST_NS"
	until_ok 60 is Succeeded target vmim/vm4-in '{.status.phase}'
	kubectl --context source -n "$TEST_NS" delete vmim vm4-out >/dev/null
	until_ok 30 bash -c "! kubectl --context source -n $TEST_NS get vmim vm4-out"
	run status -n "$TEST_NS"
	assert_success
	assert_output --regexp "vm4 +- -> $TEST_NS +- +Succeeded .* succeeded \(orphan\)"
	assert_output --partial "orphan: the target half of migration 'mig4-$TEST_NS' (VM vm4) is alone"
	assert_output --partial "  kubectl --context target -n $TEST_NS delete vmim vm4-in"
	run --separate-stderr status -n "$TEST_NS" -o json
	cmd=$(jq -r '.migrations[0].cleanup' <<<"$output")
	[ "$cmd" = "kubectl --context target -n $TEST_NS delete vmim vm4-in" ]
	# the command works, and then nothing is left to show
	run $cmd
	assert_success
	until_ok 30 bash -c "! kubectl --context target -n $TEST_NS get vmim vm4-in"
	run status -n "$TEST_NS"
	assert_success
	assert_output --partial "no cross-cluster migrations in namespace '$TEST_NS'"
}

@test "status: --watch --until-done follows the migrations from watches and ends when they end" {
	receiver vm5 "mig5-$TEST_NS"
	receiver vm6 "mig6-$TEST_NS"
	"$PLUGIN_BIN_DIR/kubectl-cclm-status" "${LAB[@]}" -n "$TEST_NS" --watch --until-done >"$BATS_TEST_TMPDIR/out" 2>&1 &
	pid=$!
	sleep 1
	kill -0 "$pid" # still waiting: the target halves wait for their source halves
	n=$(requests_mark)
	sender vm5 "mig5-$TEST_NS"
	sender vm6 "mig6-$TEST_NS"
	for _ in $(seq 1 300); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
	kill -0 "$pid" 2>/dev/null && { kill "$pid"; cat "$BATS_TEST_TMPDIR/out"; fail "--until-done did not end"; }
	wait "$pid" && st=0 || st=$?
	cat "$BATS_TEST_TMPDIR/out"
	[ "$st" -eq 0 ]
	# the table first, then a line per change, the last ones succeeded
	grep -qE "^VM +NAMESPACES +SOURCE +TARGET" "$BATS_TEST_TMPDIR/out"
	grep -qE "^[0-9:]{8}  $TEST_NS/vm5 -> $TEST_NS: source [A-Za-z]+, target Succeeded, succeeded, by hand" "$BATS_TEST_TMPDIR/out"
	grep -qE "^[0-9:]{8}  $TEST_NS/vm6 -> $TEST_NS: source [A-Za-z]+, target Succeeded, succeeded, by hand" "$BATS_TEST_TMPDIR/out"
	[ "$(jp target vmim/vm5-in '{.status.phase}')" = Succeeded ]
	[ "$(jp target vmim/vm6-in '{.status.phase}')" = Succeeded ]
	# from watches: no LIST of VMIMs after the start
	lists=$(tail -n +"$((n + 1))" "$SIM/requests.jsonl" | jq -s '[.[] | select(.userAgent | startswith("kubectl-cclm"))
		| select(.verb == "list" and .resource == "virtualmachineinstancemigrations")] | length')
	watches=$(tail -n +"$((n + 1))" "$SIM/requests.jsonl" | jq -s '[.[] | select(.userAgent | startswith("kubectl-cclm"))
		| select(.verb == "watch" and .resource == "virtualmachineinstancemigrations")] | length')
	[ "$lists" -eq 0 ]
	[ "$watches" -ge 1 ]
}

@test "status: --watch --until-done exits 1 when a migration fails" {
	"$REPO_ROOT/tests/sim/simctl" --dir "$SIM" virt-fault fail-migration namespace="$TEST_NS" vmi=vm7 phase=Running \
		reason="kubesim: migration aborted" >/dev/null
	by_hand vm7 "mig7-$TEST_NS"
	run --separate-stderr status -n "$TEST_NS" --watch --until-done -o json
	assert_failure 1
	last=$(tail -n 1 <<<"$output")
	echo "$last"
	[ "$(jq -r '.migrations[0].result' <<<"$last")" = failed ]
	[ "$(jq -r '.migrations[0].blocker' <<<"$last")" = "source: kubesim: migration aborted" ] ||
		[ "$(jq -r '.migrations[0].blocker' <<<"$last")" = "target: kubesim: migration aborted" ]
	until_ok 30 is Failed target vmim/vm7-in '{.status.phase}'
}

@test "status: one LIST per resource per cluster, from the watch cache, never a GET per object" {
	by_hand vm8 "mig8-$TEST_NS"
	receiver vm9 "mig9-$TEST_NS"
	sender vm9 "mig9-$TEST_NS"
	n=$(requests_mark)
	run --separate-stderr status -A -o json
	assert_success
	[ "$(jq -r --arg ns "$TEST_NS" '[.migrations[] | select(.source.namespace == $ns)] | length' <<<"$output")" -eq 2 ]
	sleep 0.3
	tail -n +"$((n + 1))" "$SIM/requests.jsonl" | jq -c 'select(.userAgent | startswith("kubectl-cclm"))' >"$BATS_TEST_TMPDIR/req"
	cat "$BATS_TEST_TMPDIR/req"
	for c in source target; do
		for r in virtualmachineinstancemigrations virtualmachineinstances; do
			k=$(jq -s --arg c "$c" --arg r "$r" '[.[] | select(.cluster == $c and .verb == "list" and .resource == $r)]
				| length' "$BATS_TEST_TMPDIR/req")
			[ "$k" -eq 1 ] || fail "$c: $k LISTs of $r"
			# resourceVersion=0: the API server answers from its watch cache, not etcd
			k=$(jq -s --arg c "$c" --arg r "$r" '[.[] | select(.cluster == $c and .verb == "list" and .resource == $r
				and (.path | test("[?&]resourceVersion=0(&|$)")))] | length' "$BATS_TEST_TMPDIR/req")
			[ "$k" -eq 1 ] || fail "$c: the LIST of $r is not served from the watch cache"
		done
	done
	# no GET of one VMIM or VMI, and nothing written
	[ "$(jq -s '[.[] | select(.verb == "get" and (.resource | test("^virtualmachineinstance")))] | length' "$BATS_TEST_TMPDIR/req")" -eq 0 ]
	[ "$(jq -s '[.[] | select(.method != "GET")] | length' "$BATS_TEST_TMPDIR/req")" -eq 0 ]
}

@test "status: on routed a stalled migration shows KubeVirt's blocker" {
	private_sim_start routed routed
	for c in source target; do
		for _ in $(seq 1 150); do
			[ -n "$(kubectl --context "$c" -n openshift-cnv get kubevirt kubevirt-kubevirt-hyperconverged \
				-o jsonpath='{.status.synchronizationAddresses[0]}' 2>/dev/null)" ] && break
			sleep 0.2
		done
	done
	for _ in $(seq 1 150); do
		[ "$(kubectl --context source -n vms get vmi legacy01 -o jsonpath='{.status.phase}' 2>/dev/null)" = Running ] && break
		sleep 0.2
	done
	run "$PLUGIN_BIN_DIR/kubectl-cclm-migrate" "${LAB[@]}" -n vms legacy01 --detach
	assert_success
	# what the source cluster says: KubeVirt's condition on the source VMIM
	src=$(kubectl --context source -n vms get vmim -l cclm.io/vm=legacy01 -o jsonpath='{.items[0].metadata.name}')
	for _ in $(seq 1 150); do
		msg=$(kubectl --context source -n vms get vmim "$src" \
			-o jsonpath='{.status.conditions[?(@.type=="decentralizedMigrationBlocked")].message}')
		[ -n "$msg" ] && break
		sleep 0.2
	done
	out=$(status -n vms -o json 2>/dev/null)
	blocker=$(jq -r '.migrations[0].blocker' <<<"$out")
	run status -n vms
	table=$output
	private_sim_stop routed
	echo "$table"
	[ -n "$msg" ] || fail "no decentralizedMigrationBlocked on the source VMIM; status said: $blocker"
	[ "$blocker" = "source: $msg" ]
	[ "$(jq -r '.migrations[0].source.vmim' <<<"$out")" = "$src" ]
	[ "$(jq -r '.migrations[0].result' <<<"$out")" = in-progress ]
	[ "$(jq -r '.migrations[0].startedBy.kind' <<<"$out")" = cclm ]
	grep -qF "source: $msg" <<<"$table"
}

@test "status: an API error is exit 3 in the server's words; usage errors are exit 2" {
	"$REPO_ROOT/tests/sim/simctl" --dir "$SIM" fault target verb=list resource=virtualmachineinstancemigrations status=403 \
		message="no VMIMs for you" count=1 >/dev/null
	run status -n "$TEST_NS"
	"$REPO_ROOT/tests/sim/simctl" --dir "$SIM" clear target >/dev/null
	assert_failure 3
	assert_output --partial "kubectl-cclm-status: target cluster: (403 Forbidden) no VMIMs for you"
	run status -n "$TEST_NS" --until-done
	assert_failure 2
	assert_output --partial "--until-done needs --watch"
	run status -A -n "$TEST_NS"
	assert_failure 2
}
