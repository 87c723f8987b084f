#!/usr/bin/env bats
# The KubeVirt user guide's manual cross-cluster live migration, with kubectl
# alone (no cclm), on the simulated clusters: gate through HCO, migration
# network, CA exchange, receiver VM, target VMIM, its sync address, source
# VMIM. Checks the clusters' state at the end, and puts the gate back.

load test_helper

setup_file() {
	[ -n "${KUBESIM_DIR:-}" ] || return 0
	for ctx in source target; do
		if [ "$ctx" = source ]; then other=192.168.201.128/25; else other=192.168.201.0/25; fi
		cat <<EOF | kubectl --context "$ctx" apply -f - >/dev/null
apiVersion: k8s.cni.cncf.io/v1
kind: NetworkAttachmentDefinition
metadata: {name: e2e-lm-network, namespace: openshift-cnv}
spec:
  config: '{"cniVersion":"0.3.1","name":"e2e-lm-network","type":"macvlan","master":"ens4.2001","mode":"bridge","ipam":{"type":"whereabouts","range":"192.168.201.0/24","exclude":["$other"]}}'
EOF
		kubectl --context "$ctx" -n openshift-cnv patch hco kubevirt-hyperconverged --type json -p \
			'[{"op":"replace","path":"/spec/featureGates/decentralizedLiveMigration","value":true},
			  {"op":"add","path":"/spec/liveMigrationConfig/network","value":"e2e-lm-network"}]' >/dev/null
	done
}

teardown_file() {
	[ -n "${KUBESIM_DIR:-}" ] || return 0
	for ctx in source target; do
		kubectl --context "$ctx" -n openshift-cnv patch hco kubevirt-hyperconverged --type json -p \
			'[{"op":"replace","path":"/spec/featureGates/decentralizedLiveMigration","value":false},
			  {"op":"remove","path":"/spec/liveMigrationConfig/network"}]' >/dev/null || true
		kubectl --context "$ctx" -n openshift-cnv delete net-attach-def e2e-lm-network --wait=false >/dev/null || true
	done
}

setup() {
	needs_clusters
	new_ns
}

teardown() {
	drop_ns
}

# until SECONDS CMD...: retry CMD until it succeeds
until_ok() {
	local n=$(($1 * 5))
	shift
	for _ in $(seq 1 "$n"); do
		"$@" >/dev/null 2>&1 && return 0
		sleep 0.2
	done
	"$@"
}

jp() { # CONTEXT KIND NAME JSONPATH
	kubectl --context "$1" -n "$TEST_NS" get "$2" "$3" -o jsonpath="$4"
}

is() { # EXPECTED CONTEXT KIND NAME JSONPATH
	[ "$(jp "$2" "$3" "$4" "$5")" = "$1" ]
}

sync_on_network() { # CONTEXT: the sync address is on the migration network
	kubectl --context "$1" -n openshift-cnv get kubevirt kubevirt-kubevirt-hyperconverged \
		-o jsonpath='{.status.synchronizationAddresses[0]}' | grep -q '^192\.168\.201\.'
}

@test "kubectl alone: the user guide's procedure moves a running VM to the other cluster" {
	for ctx in source target; do until_ok 120 sync_on_network "$ctx"; done
	# exchange the KubeVirt CAs both ways through kubevirt-external-ca
	for pair in "source target" "target source"; do
		set -- $pair
		kubectl --context "$1" -n openshift-cnv get cm kubevirt-ca -o jsonpath='{.data.ca-bundle}' >"$BATS_TEST_TMPDIR/ca.pem"
		kubectl --context "$2" -n openshift-cnv create cm kubevirt-external-ca --from-file=ca-bundle="$BATS_TEST_TMPDIR/ca.pem" \
			--dry-run=client -o yaml | kubectl --context "$2" replace -f - >/dev/null
	done
	vm() { # RUNSTRATEGY ANNOTATIONS
		cat <<EOF
apiVersion: kubevirt.io/v1
kind: VirtualMachine
metadata: {name: vm1, annotations: {$2}}
spec:
  runStrategy: $1
  template:
    spec:
      domain: {memory: {guest: 1Gi}, devices: {disks: [{name: root, disk: {bus: virtio}}], interfaces: [{name: default, masquerade: {}}]}}
      networks: [{name: default, pod: {}}]
      volumes: [{name: root, containerDisk: {image: quay.io/containerdisks/fedora:41}}]
EOF
	}
	vm Always "" | kubectl --context source -n "$TEST_NS" apply -f -
	until_ok 30 is Running source vmi vm1 '{.status.phase}'
	vm WaitAsReceiver "kubevirt.io/restore-run-strategy: Always" | kubectl --context target -n "$TEST_NS" apply -f -
	until_ok 30 is WaitingForSync target vmi vm1 '{.status.phase}'
	until_ok 30 is WaitingForReceiver target vm vm1 '{.status.printableStatus}'

	printf 'apiVersion: kubevirt.io/v1\nkind: VirtualMachineInstanceMigration\nmetadata: {name: vm1-in}\nspec: {vmiName: vm1, receive: {migrationID: e2e-mig-1}}\n' |
		kubectl --context target -n "$TEST_NS" create -f -
	until_ok 30 jp target vmim vm1-in '{.status.synchronizationAddresses[0]}'
	addr=$(jp target vmim vm1-in '{.status.synchronizationAddresses[0]}')
	[[ $addr == 192.168.201.*:9185 ]]
	printf 'apiVersion: kubevirt.io/v1\nkind: VirtualMachineInstanceMigration\nmetadata: {name: vm1-out}\nspec: {vmiName: vm1, sendTo: {migrationID: e2e-mig-1, connectURL: "%s"}}\n' "$addr" |
		kubectl --context source -n "$TEST_NS" create -f -

	until_ok 60 is Succeeded target vmim vm1-in '{.status.phase}'
	until_ok 30 is Succeeded source vmim vm1-out '{.status.phase}'
	run jp target vmi vm1 '{.status.phase} {.status.nodeName}'
	assert_output --regexp '^Running target-worker-[0-2]$'
	until_ok 30 is Always target vm vm1 '{.spec.runStrategy}'
	until_ok 30 is Halted source vm vm1 '{.spec.runStrategy}'
	until_ok 30 is Stopped source vm vm1 '{.status.printableStatus}'
	run jp source vmim vm1-out '{.status.migrationState.targetState.syncAddress}'
	assert_output "$addr"
}

@test "simctl sets and clears virtualization faults and reads the monitor" {
	run "$REPO_ROOT/tests/sim/simctl" virt-fault slow-link segment=lab-vlan-2001 bandwidth=100Mi
	assert_success
	run "$REPO_ROOT/tests/sim/simctl" virt-faults
	assert_output --partial '"lab-vlan-2001": 104857600'
	run "$REPO_ROOT/tests/sim/simctl" virt-fault cut-fabric segment=no-such-segment
	assert_failure 1
	assert_output --partial "no segment 'no-such-segment'"
	run "$REPO_ROOT/tests/sim/simctl" virt-clear
	assert_success
	assert_output --partial '"slow": {}'
	run "$REPO_ROOT/tests/sim/simctl" violations
	assert_success
	assert_output --partial '"violations"'
}
