#!/usr/bin/env bats
# kubectl cclm migrate on private test clusters (the lab, enabled by cclm
# enable): the migratable VMs move and are checked on both clusters, the
# others are refused in preflight with nothing created, a re-run finds them
# migrated, faults do not stop it, Ctrl-C rolls back, and on `routed` a stall
# is diagnosed within --sync-timeout and rolled back.

load test_helper
bats_require_minimum_version 1.5.0

LAB=(--source source --target target)

# a plain running VM on the source, in namespace vms
extra_vm() { # NAME [DIRTY-RATE]
	cat <<EOF | kubectl --context source apply -f - >/dev/null
apiVersion: kubevirt.io/v1
kind: VirtualMachine
metadata: {name: $1, namespace: vms}
spec:
  runStrategy: Always
  template:
    metadata:
      labels: {kubevirt.io/domain: $1}
      annotations: {kubesim.cclm.io/dirty-rate: "${2:-8Mi}"}
    spec:
      domain:
        memory: {guest: 1Gi}
        devices:
          disks: [{name: root, disk: {bus: virtio}}]
          interfaces: [{name: default, masquerade: {}}]
      networks: [{name: default, pod: {}}]
      volumes: [{name: root, containerDisk: {image: "quay.io/containerdisks/fedora:41"}}]
EOF
}

wait_running() { # CONTEXT NAME
	for _ in $(seq 1 150); do
		[ "$(kubectl --context "$1" -n vms get vmi "$2" -o jsonpath='{.status.phase}' 2>/dev/null)" = Running ] && return 0
		sleep 0.2
	done
	return 1
}

setup_file() {
	private_sim_start lab two-clusters
	private_sim_boot routed routed # for the last test
	"$PLUGIN_BIN_DIR/kubectl-cclm-enable" --source source --target target --nic ens4 --vlan 2001 \
		--subnet 192.168.201.0/24 >/dev/null 2>&1
	extra_vm fault01
	extra_vm cancel01 4Gi # dirties faster than the link: never converges by itself
	extra_vm detach01
	extra_vm del01
	extra_vm tty01
	extra_vm ca01
	extra_vm prog01
	for i in $(seq -w 1 20); do extra_vm "kill$i"; done
	for vm in app01 legacy01 bridge01 shared01 db01 fault01 cancel01 detach01 del01 tty01 ca01 prog01 $(seq -f 'kill%02g' 1 20); do
		wait_running source "$vm"
	done
}

teardown_file() {
	private_sim_stop lab
	private_sim_stop routed
}

setup() {
	private_sim_use lab
}

migrate() { "$PLUGIN_BIN_DIR/kubectl-cclm-migrate" "$@"; }

jp() { kubectl --context "$1" -n "${4:-vms}" get "$2" -o jsonpath="$3"; }

# ours_left CONTEXT: objects with cclm's migration label in vms
ours_left() {
	kubectl --context "$1" -n vms get vm,vmim,datavolumes,pvc,secrets,configmaps -l cclm.io/migration-id -o name 2>/dev/null
}

@test "migrate: no VM named is a usage error" {
	run migrate "${LAB[@]}" -n vms
	assert_failure 2
	assert_output --partial "which VMs?"
}

@test "migrate: --dry-run refuses what cannot move, with the reason, and creates nothing" {
	n=$(requests_mark)
	run migrate "${LAB[@]}" -n vms app01 legacy01 bridge01 shared01 db01 --dry-run
	assert_failure 1
	assert_output --regexp "vms/app01 +planned"
	assert_output --regexp "vms/legacy01 +planned"
	assert_output --regexp "vms/bridge01 +refused .*InterfaceNotLiveMigratable"
	assert_output --regexp "vms/shared01 +refused .*StorageLiveMigratable is False"
	assert_output --regexp "vms/db01 +refused .*VirtualMachineClusterInstancetype 'u1.medium' does not exist on the target"
	[ "$(cclm_writes_since "$n")" -eq 0 ]
	run kubectl --context target get namespace vms
	assert_failure
}

@test "migrate: app01 and legacy01 move; checked on both clusters" {
	n=$(requests_mark)
	run migrate "${LAB[@]}" -n vms app01 legacy01
	assert_success
	assert_output --regexp "vms/app01 +migrated"
	assert_output --regexp "vms/legacy01 +migrated"
	for vm in app01 legacy01; do
		[ "$(jp target "vmi/$vm" '{.status.phase}')" = Running ]
		[ -z "$(jp target "vmi/$vm" '{.metadata.annotations.kubevirt\.io/create-migration-target}')" ]
		[ "$(jp target "vm/$vm" '{.spec.runStrategy}')" = Always ]
	done
	[ "$(jp source vm/app01 '{.spec.runStrategy}')" = Halted ]
	[ "$(jp source vm/legacy01 '{.spec.running}')" = false ]
	# what app01 carries: its Secret with its type, ConfigMap, instancetype and preference, a blank disk of its size
	[ "$(jp target secret/app01-cloudinit '{.type}')" = Opaque ]
	[ "$(jp target secret/app01-cloudinit '{.data.userdata}')" = "$(jp source secret/app01-cloudinit '{.data.userdata}')" ]
	[ -n "$(jp target configmap/app01-config '{.data.app\.conf}')" ]
	kubectl --context target -n vms get virtualmachineinstancetype app-small >/dev/null
	kubectl --context target -n vms get virtualmachinepreference app-pref >/dev/null
	[ "$(jp target datavolume/app01-root '{.spec.storage.resources.requests.storage}')" = 10Gi ]
	[ "$(jp target datavolume/app01-root '{.spec.storage.volumeMode}')" = Block ]
	[ "$(jp target datavolume/app01-root '{.spec.source.blank}')" = "{}" ]
	# no VMIM left on either side
	for _ in $(seq 1 50); do
		[ -z "$(kubectl --context source -n vms get vmim -o name)$(kubectl --context target -n vms get vmim -o name)" ] && break
		sleep 0.2
	done
	[ -z "$(kubectl --context source -n vms get vmim -o name)" ]
	[ -z "$(kubectl --context target -n vms get vmim -o name)" ]
	[ ! -s "$SIM/violations.jsonl" ]
	# each wait for a VMIM (which cclm wrote) reads from the watch cache, not
	# older than that write (resourceVersion, no limit), not from etcd
	tail -n +"$((n + 1))" "$SIM/requests.jsonl" | jq -c 'select((.userAgent | startswith("kubectl-cclm/"))
		and .verb == "list" and .resource == "virtualmachineinstancemigrations"
		and (.path | test("fieldSelector=metadata.name")))' >"$BATS_TEST_TMPDIR/waits"
	cat "$BATS_TEST_TMPDIR/waits"
	[ "$(wc -l <"$BATS_TEST_TMPDIR/waits")" -ge 4 ] # two per VM: the sync address, the completion
	[ "$(grep -cvE '[?&]resourceVersion=[0-9]+' "$BATS_TEST_TMPDIR/waits")" -eq 0 ] || { cat "$BATS_TEST_TMPDIR/waits"; false; }
	[ "$(grep -cE '[?&]limit=' "$BATS_TEST_TMPDIR/waits")" -eq 0 ]
	# leftovers of earlier attempts: one LIST per kind for the namespace, none per VM
	tail -n +"$((n + 1))" "$SIM/requests.jsonl" | jq -c 'select((.userAgent | startswith("kubectl-cclm/"))
		and .verb == "list")' >"$BATS_TEST_TMPDIR/lists"
	[ "$(grep -c 'labelSelector=cclm.io%2Fvm%3D' "$BATS_TEST_TMPDIR/lists")" -eq 0 ]
	[ "$(jq -s '[.[] | select(.cluster == "target" and .resource == "secrets"
		and (.path | test("labelSelector=app.kubernetes.io%2Fmanaged-by%3Dcclm(&|$)")))] | length' "$BATS_TEST_TMPDIR/lists")" -eq 1 ]
}

@test "migrate: running it again finds them migrated and writes nothing" {
	n=$(requests_mark)
	run migrate "${LAB[@]}" -n vms app01 legacy01
	assert_success
	assert_output --regexp "vms/app01 +already-migrated"
	[ "$(cclm_writes_since "$n")" -eq 0 ]
}

@test "migrate: a VM that cannot move is refused and nothing is created for it" {
	run migrate "${LAB[@]}" -n vms bridge01
	assert_failure 1
	assert_output --partial "InterfaceNotLiveMigratable"
	run kubectl --context target -n vms get vm bridge01
	assert_failure
}

@test "migrate: -o json prints one event object per line, and completes through 503s, 429s, 409s, resets and watch cuts" {
	for c in source target; do
		"$REPO_ROOT/tests/sim/simctl" --dir "$SIM" fault "$c" verb=create resource=virtualmachineinstancemigrations status=503 count=1 >/dev/null
		"$REPO_ROOT/tests/sim/simctl" --dir "$SIM" fault "$c" verb=get resource=virtualmachineinstancemigrations status=429 count=2 >/dev/null
		"$REPO_ROOT/tests/sim/simctl" --dir "$SIM" fault "$c" verb=watch watchCloseAfter=1 rate=0.5 count=20 >/dev/null
		"$REPO_ROOT/tests/sim/simctl" --dir "$SIM" fault "$c" verb=list reset=true rate=0.3 count=3 >/dev/null
	done
	# the target VM is created, but the reply is cut: the retry meets 409 AlreadyExists and adopts it
	"$REPO_ROOT/tests/sim/simctl" --dir "$SIM" fault target verb=create resource=virtualmachines reset=true count=1 >/dev/null
	# a 409 with nothing there (a conflict, not a duplicate): created again
	"$REPO_ROOT/tests/sim/simctl" --dir "$SIM" fault source verb=create resource=virtualmachineinstancemigrations status=409 reason=AlreadyExists count=1 >/dev/null
	run --separate-stderr migrate "${LAB[@]}" -n vms fault01 -o json
	"$REPO_ROOT/tests/sim/simctl" --dir "$SIM" clear source >/dev/null
	"$REPO_ROOT/tests/sim/simctl" --dir "$SIM" clear target >/dev/null
	assert_success
	while read -r line; do jq -e . <<<"$line" >/dev/null || fail "not JSON: $line"; done <<<"$output"
	[ "$(jq -rs '[.[] | select(.event == "result")][0].result' <<<"$output")" = migrated ]
	[ "$(jq -rs '[.[] | select(.event == "phase")] | length' <<<"$output")" -ge 3 ]
	[ "$(jp target vmi/fault01 '{.status.phase}')" = Running ]
	[ "$(jp source vm/fault01 '{.spec.runStrategy}')" = Halted ]
	[ -z "$(ours_left source; kubectl --context target -n vms get vmim -l cclm.io/vm=fault01 -o name)" ] ||
		fail "VMIMs or objects of ours left: $(ours_left source)"
	logged '"faults"'
	logged '"status": ?409'
	[ ! -s "$SIM/violations.jsonl" ] || fail "violations: $(cat "$SIM/violations.jsonl")"
}

@test "migrate: Ctrl-C rolls back: the source keeps running, nothing of ours is left" {
	# the executable itself (a shell function in the background would get the signal instead)
	"$PLUGIN_BIN_DIR/kubectl-cclm-migrate" "${LAB[@]}" -n vms cancel01 >"$BATS_TEST_TMPDIR/out" 2>&1 &
	pid=$!
	for _ in $(seq 1 150); do
		[ -n "$(kubectl --context source -n vms get vmim -l cclm.io/vm=cancel01 -o name 2>/dev/null)" ] && break
		sleep 0.2
	done
	sleep 1
	kill -INT "$pid"
	wait "$pid" && st=0 || st=$?
	cat "$BATS_TEST_TMPDIR/out"
	[ "$st" -eq 1 ]
	grep -q "cancelled" "$BATS_TEST_TMPDIR/out"
	grep -q "rolled back" "$BATS_TEST_TMPDIR/out"
	[ "$(jp source vmi/cancel01 '{.status.phase}')" = Running ]
	[ "$(jp source vm/cancel01 '{.spec.runStrategy}')" = Always ]
	for _ in $(seq 1 50); do [ -z "$(ours_left target | grep cancel01)" ] && break; sleep 0.2; done
	run kubectl --context target -n vms get vm cancel01
	assert_failure
	[ -z "$(kubectl --context source -n vms get vmim -l cclm.io/vm=cancel01 -o name)" ]
}

@test "migrate: --detach returns once the source VMIM exists; the same command again follows and finishes it" {
	run migrate "${LAB[@]}" -n vms detach01 --detach
	assert_success
	assert_output --regexp "vms/detach01 +detached"
	[ -n "$(kubectl --context source -n vms get vmim -l cclm.io/vm=detach01 -o name)" ]
	run migrate "${LAB[@]}" -n vms detach01
	assert_success
	assert_output --regexp "vms/detach01 +(migrated|already-migrated)"
	[ "$(jp target vmi/detach01 '{.status.phase}')" = Running ]
	[ "$(jp source vm/detach01 '{.spec.runStrategy}')" = Halted ]
}

@test "migrate: --delete-source removes the halted source VM only after the target runs" {
	run migrate "${LAB[@]}" -n vms del01 --delete-source
	assert_success
	assert_output --regexp "vms/del01 +migrated"
	[ "$(jp target vmi/del01 '{.status.phase}')" = Running ]
	run kubectl --context source -n vms get vm del01
	assert_failure
	run migrate "${LAB[@]}" -n vms del01
	assert_success
	assert_output --regexp "vms/del01 +already-migrated"
}

@test "migrate: on a terminal the VMs in flight are redrawn in place; without one, one line per step and phase" {
	TERM=xterm script -qfec "'$PLUGIN_BIN_DIR/kubectl-cclm-migrate' --source source --target target -n vms tty01" \
		"$BATS_TEST_TMPDIR/typescript" >/dev/null </dev/null
	out=$(cat "$BATS_TEST_TMPDIR/typescript")
	[[ "$out" == *$'\e['*A$'\e[J'* ]] || fail "no in-place redraw: $out"
	# the live line shows a VMIM phase (on a loaded machine the first one seen may be the last)
	[[ "$out" =~ tty01\ +(WaitingForSync|Synchronizing|Pending|Scheduling|Scheduled|PreparingTarget|TargetReady|Running|Succeeded) ]] ||
		fail "no live line for tty01: $out"
	[[ "$out" =~ vms/tty01\ +migrated ]] || fail "no summary: $out"
	[ "$(jp target vmi/tty01 '{.status.phase}')" = Running ]
	# the earlier runs here had no terminal: plain lines, no escapes, no progress bars
	run migrate "${LAB[@]}" -n vms tty01
	assert_success
	refute_output --partial $'\e['
	refute_output --regexp "ETA [0-9]+s"
}

@test "migrate: -o json reports the transfer's bytes, rate and ETA from the source's metrics while it runs" {
	# 1 GiB over a link slowed to 256 MiB/s: about four seconds of transfer
	"$REPO_ROOT/tests/sim/simctl" --dir "$SIM" virt-fault slow-link bandwidth=256Mi >/dev/null
	run --separate-stderr migrate "${LAB[@]}" -n vms prog01 -o json
	"$REPO_ROOT/tests/sim/simctl" --dir "$SIM" virt-clear >/dev/null
	assert_success
	progress=$(jq -cs '[.[] | select(.event == "progress") | .text]' <<<"$output")
	[ "$(jq length <<<"$progress")" -ge 2 ] || fail "fewer than two progress events: $output"
	jq -r '.[]' <<<"$progress" |
		grep -Eq '^[0-9]+% \([^)]+ of [^)]+\) at [0-9.]+ ([KMGTP]i)?B/s, dirtying [0-9.]+ ([KMGTP]i)?B/s, ETA [0-9]+s$' ||
		fail "no progress line with bytes, rate and ETA: $progress"
	# the ETA is what is left of 1 GiB at about 256 MiB/s
	eta=$(jq -r '.[0]' <<<"$progress" | sed -n 's/.*ETA \([0-9]*\)s$/\1/p')
	[ -n "$eta" ] && [ "$eta" -le 8 ] || fail "ETA '$eta' s for 1 GiB at 256 MiB/s: $progress"
	[ "$(jq -rs '[.[] | select(.event == "result")][0].result' <<<"$output")" = migrated ]
	[ "$(jp target vmi/prog01 '{.status.phase}')" = Running ]
}

@test "migrate: killed (SIGKILL) at 20 fixed moments and run again, each VM ends migrated exactly once" {
	for i in $(seq -w 1 20); do
		vm=kill$i
		delay=$(((10#$i * 733) % 4000 + 100)) # ms, 20 fixed seeds spread over the pipeline
		"$PLUGIN_BIN_DIR/kubectl-cclm-migrate" "${LAB[@]}" -n vms "$vm" >/dev/null 2>&1 &
		pid=$!
		sleep "$(printf '%d.%03d' $((delay / 1000)) $((delay % 1000)))"
		kill -KILL "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
		run migrate "${LAB[@]}" -n vms "$vm"
		[ "$status" -eq 0 ] || fail "$vm (killed after ${delay} ms), re-run: $output"
		assert_output --regexp "vms/$vm +(migrated|already-migrated)"
		id=$(jp target "vm/$vm" '{.metadata.labels.cclm\.io/migration-id}')
		[ "$(jp target "vmi/$vm" '{.status.phase}')" = Running ] || fail "$vm: target VMI not Running"
		[ "$(jp source "vm/$vm" '{.spec.runStrategy}')" = Halted ] || fail "$vm: source not Halted"
		# nothing of another attempt is left on either cluster
		for c in source target; do
			other=$(kubectl --context "$c" -n vms get vm,vmim,datavolumes,pvc,secrets,configmaps \
				-l "cclm.io/vm=$vm,cclm.io/migration-id!=$id" -o name)
			[ -z "$other" ] || fail "$vm (killed after ${delay} ms): left by the killed attempt on $c: $other"
		done
	done
	[ ! -s "$SIM/violations.jsonl" ] || fail "violations: $(cat "$SIM/violations.jsonl")"
}

@test "migrate: a CA trust lost after the exchange stalls, is diagnosed within --sync-timeout and rolled back" {
	# hold the target VMIM's create for a moment, and rotate the source's CA in it
	"$REPO_ROOT/tests/sim/simctl" --dir "$SIM" fault target verb=create resource=virtualmachineinstancemigrations latencyMs=3000 count=1 >/dev/null
	"$PLUGIN_BIN_DIR/kubectl-cclm-migrate" "${LAB[@]}" -n vms ca01 --sync-timeout 10s >"$BATS_TEST_TMPDIR/out" 2>&1 &
	pid=$!
	for _ in $(seq 1 100); do
		grep -q "CAs exchanged" "$BATS_TEST_TMPDIR/out" && break
		sleep 0.1
	done
	"$REPO_ROOT/tests/sim/simctl" --dir "$SIM" virt-fault rotate-ca cluster=source >/dev/null
	st=0
	wait "$pid" || st=$?
	"$REPO_ROOT/tests/sim/simctl" --dir "$SIM" clear target >/dev/null
	output=$(cat "$BATS_TEST_TMPDIR/out")
	[ "$st" -eq 1 ] || fail "exit $st: $output"
	assert_output --partial "past --sync-timeout 10s"
	assert_output --partial "rolled back"
	for c in source target; do
		left=$(kubectl --context "$c" -n vms get vm,vmim,datavolumes,pvc,secrets,configmaps -l cclm.io/vm=ca01 -o name)
		[ -z "$left" ] || fail "left behind on $c: $left"
	done
	[ "$(jp source vmi/ca01 '{.status.phase}')" = Running ]
	[ ! -s "$SIM/violations.jsonl" ] || fail "violations: $(cat "$SIM/violations.jsonl")"
	# the next run exchanges the CAs again, and the VM moves
	run migrate "${LAB[@]}" -n vms ca01
	assert_success
	assert_output --regexp "vms/ca01 +migrated"
}

@test "migrate: on routed the sync stalls, is diagnosed within --sync-timeout and rolled back" {
	private_sim_start routed routed
	for c in source target; do
		for _ in $(seq 1 150); do
			[ -n "$(jp "$c" kubevirt/kubevirt-kubevirt-hyperconverged '{.status.synchronizationAddresses[0]}' openshift-cnv)" ] && break
			sleep 0.2
		done
	done
	wait_running source legacy01
	run migrate --source source --target target -n vms legacy01 --sync-timeout 15s
	st=$status out=$output
	left=$(ours_left target; ours_left source)
	vmi=$(jp source vmi/legacy01 '{.status.phase}')
	viol=$(cat "$SIM/violations.jsonl" 2>/dev/null)
	private_sim_stop routed
	output=$out
	[ "$st" -eq 1 ] || fail "exit $st: $out"
	assert_output --partial "past --sync-timeout 15s"
	assert_output --partial "kubectl cclm netcheck"
	assert_output --partial "rolled back"
	[ -z "$left" ] || fail "left behind: $left"
	[ "$vmi" = Running ]
	[ -z "$viol" ]
}
