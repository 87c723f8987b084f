#!/usr/bin/env bats
# The real probe script of kubectl cclm netcheck (plugins/netcheck/probe.sh),
# run on this machine against loopback targets: a TCP listener on 127.0.0.1
# and 127.0.0.1 itself, so that its output format (man kubectl-cclm-netcheck,
# PROBE PROTOCOL) and its tool detection are proven, not assumed. Needs no
# test clusters. A test whose tool this machine lacks is skipped, and says so.

load test_helper

SCRIPT=$REPO_ROOT/plugins/netcheck/probe.sh
LINE='^cclm-netcheck/1 test=[a-z]+ dst=[0-9.]+( port=[0-9]+)?( size=[0-9]+( max=[0-9]+)?)? result=(ok|fail|unsupported) ms=-?[0-9]+ detail=.*$'

setup() {
	# a listener on a free loopback port, for as long as the test runs
	python3 -c '
import socket, sys, time
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(16)
print(s.getsockname()[1], flush=True)
sys.stdout.close()
time.sleep(60)' >"$BATS_TEST_TMPDIR/port" &
	LISTENER=$!
	for _ in $(seq 1 50); do [ -s "$BATS_TEST_TMPDIR/port" ] && break; sleep 0.1; done
	PORT=$(cat "$BATS_TEST_TMPDIR/port")
	# a port nothing listens on: bind one, close it
	CLOSED=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
}

teardown() {
	kill "$LISTENER" 2>/dev/null || true
}

SH=$(command -v sh)

probe() { # PLAN-JSON [PATH]: the script under /bin/sh, with only PATH's tools
	CCLM_NETCHECK_PLAN=$1 PATH=${2:-$PATH} "$SH" "$SCRIPT"
}

plan() { # MTU TARGETS-JSON
	printf '{"version":1,"node":"here","iface":"lo","mtu":%s,"timeout":2,"targets":%s}' "$1" "$2"
}

# every line is a start, a test or the done line, and done counts the tests
check_format() {
	local n
	[ "${lines[0]%% *}" = cclm-netcheck/1 ] || fail "first line: ${lines[0]}"
	[[ ${lines[0]} =~ ^cclm-netcheck/1\ start\ node=here\ iface=lo\ src=[0-9.-]+\ mtu=[0-9]+\ tools= ]] ||
		fail "start line: ${lines[0]}"
	n=$((${#lines[@]} - 2))
	[ "${lines[-1]}" = "cclm-netcheck/1 done tests=$n" ] || fail "done line: ${lines[-1]} (for $n tests)"
	for l in "${lines[@]:1:n}"; do
		[[ $l =~ $LINE ]] || fail "not a test line: $l"
	done
}

@test "probe: without a plan it says so in one line and exits 2" {
	run env -u CCLM_NETCHECK_PLAN sh "$SCRIPT"
	[ "$status" -eq 2 ]
	assert_output 'cclm-netcheck/1 error detail=no plan in CCLM_NETCHECK_PLAN'
}

@test "probe: TCP connects to a listener on 127.0.0.1 and fails on a closed port; every line in the documented format" {
	command -v nc >/dev/null || command -v bash >/dev/null || skip "neither nc nor bash here: TCP is unsupported"
	run probe "$(plan 1500 "[{\"ip\":\"127.0.0.1\",\"port\":$PORT,\"tests\":\"tcp\"},{\"ip\":\"127.0.0.1\",\"port\":$CLOSED,\"tests\":\"tcp\"}]")"
	assert_success
	check_format
	assert_line --regexp "^cclm-netcheck/1 test=tcp dst=127.0.0.1 port=$PORT result=ok ms=[0-9]+ detail=connected\$"
	assert_line --regexp "^cclm-netcheck/1 test=tcp dst=127.0.0.1 port=$CLOSED result=fail ms=[0-9]+ detail=.+"
	assert_line "cclm-netcheck/1 done tests=2"
}

@test "probe: TCP through bash's /dev/tcp when there is no nc" {
	command -v bash >/dev/null || skip "no bash here"
	mkdir -p "$BATS_TEST_TMPDIR/bin"
	for t in sed head tr cut date cat bash timeout; do
		p=$(command -v "$t") && ln -s "$p" "$BATS_TEST_TMPDIR/bin/$t"
	done
	run probe "$(plan 1500 "[{\"ip\":\"127.0.0.1\",\"port\":$PORT,\"tests\":\"tcp icmp mtu\"}]")" "$BATS_TEST_TMPDIR/bin"
	assert_success
	check_format
	assert_line --partial "tools=bash,timeout"
	assert_line --regexp "^cclm-netcheck/1 test=tcp dst=127.0.0.1 port=$PORT result=ok "
}

@test "probe: an image without the tools reports every test unsupported, never fail" {
	mkdir -p "$BATS_TEST_TMPDIR/bin"
	for t in sed head tr cut date cat; do
		p=$(command -v "$t") && ln -s "$p" "$BATS_TEST_TMPDIR/bin/$t"
	done
	run probe "$(plan 1500 "[{\"ip\":\"127.0.0.1\",\"port\":$PORT,\"tests\":\"tcp icmp mtu udp\"}]")" "$BATS_TEST_TMPDIR/bin"
	assert_success
	check_format
	assert_line --partial "tools=-"
	assert_line --regexp '^cclm-netcheck/1 test=tcp dst=127.0.0.1 port=[0-9]+ result=unsupported ms=-1 detail=no nc and no bash'
	assert_line 'cclm-netcheck/1 test=icmp dst=127.0.0.1 result=unsupported ms=-1 detail=no ping in the image'
	assert_line 'cclm-netcheck/1 test=mtu dst=127.0.0.1 size=1500 result=unsupported ms=-1 detail=no ping in the image'
	assert_line --partial 'test=udp dst=127.0.0.1 result=unsupported'
	refute_line --partial 'result=fail'
}

@test "probe: ICMP echo to 127.0.0.1" {
	command -v ping >/dev/null || skip "no ping here: the icmp test is unsupported (see the test above)"
	run probe "$(plan 1500 '[{"ip":"127.0.0.1","tests":"icmp"}]')"
	assert_success
	check_format
	if [[ $output == *"test=icmp dst=127.0.0.1 result=unsupported"* ]]; then
		skip "ping may not open a socket here: $(grep test=icmp <<<"$output")"
	fi
	assert_line --regexp '^cclm-netcheck/1 test=icmp dst=127.0.0.1 result=ok ms=[0-9]+ detail=echo reply$'
}

@test "probe: MTU with don't-fragment pings: 1500 passes on lo, more than lo's MTU fails and names it" {
	command -v ping >/dev/null || skip "no ping here: the mtu test is unsupported"
	[ -r /sys/class/net/lo/mtu ] || skip "no /sys/class/net/lo/mtu"
	lo=$(cat /sys/class/net/lo/mtu)
	run probe "$(plan 1500 '[{"ip":"127.0.0.1","tests":"mtu"}]')"
	assert_success
	check_format
	if [[ $output == *"result=unsupported"* ]]; then
		skip "this ping has no -M do or may not open a socket: $(grep test=mtu <<<"$output")"
	fi
	assert_line --regexp "^cclm-netcheck/1 test=mtu dst=127.0.0.1 size=1500 result=ok "
	run probe "$(plan $((lo + 1000)) '[{"ip":"127.0.0.1","tests":"mtu"}]')"
	assert_success
	assert_line --regexp "^cclm-netcheck/1 test=mtu dst=127.0.0.1 size=$((lo + 1000)) max=$lo result=fail ms=[0-9]+ detail=lo has mtu $lo"
}

@test "probe: ARP: 127.0.0.1 is a local address (ip route get), never a neighbour" {
	command -v ip >/dev/null || skip "no ip here: the arp test falls back to /proc/net/arp"
	run probe "$(plan 1500 '[{"ip":"127.0.0.1","tests":"arp"}]')"
	assert_success
	check_format
	assert_line --regexp '^cclm-netcheck/1 test=arp dst=127.0.0.1 result=ok ms=[0-9]+ detail=local address$'
}

@test "probe: kubectl-cclm-netcheck carries this very script" {
	[ -x "$PLUGIN_BIN_DIR/kubectl-cclm-netcheck" ] || skip "not built: make all"
	grep -qF "$(sed -n 2p "$SCRIPT")" "$PLUGIN_BIN_DIR/kubectl-cclm-netcheck"
	grep -qF 'printf '"'"'%s result=%s ms=%s detail=%s\n'"'"' "$line"' "$PLUGIN_BIN_DIR/kubectl-cclm-netcheck"
}
