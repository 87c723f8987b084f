# Shared set-up for the end-to-end tests: they run against the test clusters
# started once per run by tests/sim/with-clusters ($KUBESIM_DIR, $KUBECONFIG).
bats_load_library bats-support
bats_load_library bats-assert

REPO_ROOT=$(cd "$BATS_TEST_DIRNAME/../.." && pwd)
export REPO_ROOT
export PLUGIN_BIN_DIR=${PLUGIN_BIN_DIR:-$REPO_ROOT/build/bin}
export LC_ALL=C

needs_clusters() {
	[ -n "${KUBESIM_DIR:-}" ] && [ -f "$KUBESIM_DIR/ready" ] ||
		fail "no test clusters: run through tests/sim/with-clusters (make check does)"
}

# A namespace unique to this test, on both clusters; removed in teardown.
new_ns() {
	TEST_NS="e2e-$(head -c 4 /dev/urandom | od -An -tx1 | tr -d ' \n')"
	for ctx in source target; do
		kubectl --context "$ctx" create namespace "$TEST_NS" >/dev/null
	done
	# 1.20 refuses pods until the namespace's default ServiceAccount has its token.
	for ctx in source target; do
		for _ in $(seq 1 100); do
			[ -n "$(kubectl --context "$ctx" -n "$TEST_NS" get sa default -o jsonpath='{.secrets}' 2>/dev/null)" ] && break
			sleep 0.1
		done
	done
}

drop_ns() {
	[ -n "${TEST_NS:-}" ] || return 0
	for ctx in source target; do
		kubectl --context "$ctx" delete namespace "$TEST_NS" --wait=false >/dev/null 2>&1 || true
	done
}

# kubectl without the version-skew warning the 1.32 client prints against 1.20
k() { kubectl "$@" 2> >(grep -v -e 'version difference' -e 'WARNING: version' >&2); }

# logged REGEX: true once a line of requests.jsonl matches (the proxy writes
# each line just after its reply, so allow it a moment).
logged() {
	local _
	for _ in $(seq 1 50); do
		grep -qE "$1" "$KUBESIM_DIR/requests.jsonl" && return 0
		sleep 0.1
	done
	echo "no request in $KUBESIM_DIR/requests.jsonl matches: $1" >&2
	return 1
}

# private_sim_boot NAME SCENARIO: start private test clusters in the
# background without waiting for them, so a later private_sim_start NAME
# finds them (nearly) ready: a test file boots its next scenario while the
# tests before it run. Does nothing when NAME is already started.
private_sim_boot() {
	local dir=$BATS_FILE_TMPDIR/$1
	[ -f "$dir.pid" ] && return 0
	mkdir -p "$dir"
	"$REPO_ROOT/tests/sim/kubesim" --scenario "$2" --dir "$dir" >"$dir.log" 2>&1 3>&- &
	echo $! >"$dir.pid"
}

# private_sim_start NAME SCENARIO: test clusters of the test file's own in
# $BATS_FILE_TMPDIR/NAME, for tests that change what the shared ones keep
# (the gate, the NAD, VMs); sets SIM, KUBESIM_DIR and KUBECONFIG to them.
# Waits for clusters private_sim_boot started, else starts them.
private_sim_start() {
	SIM=$BATS_FILE_TMPDIR/$1
	private_sim_boot "$1" "$2"
	for _ in $(seq 1 600); do
		[ -f "$SIM/ready" ] && break
		kill -0 "$(cat "$SIM.pid")" 2>/dev/null || { cat "$SIM.log" >&2; return 1; }
		sleep 0.5
	done
	[ -f "$SIM/ready" ] || { echo "kubesim $2 not ready" >&2; return 1; }
	export SIM KUBESIM_DIR=$SIM KUBECONFIG=$SIM/kubeconfig KUBECACHEDIR=$SIM/kubectl-cache
}

# private_sim_stop NAME: stop what private_sim_start NAME started.
private_sim_stop() {
	[ -f "$BATS_FILE_TMPDIR/$1.pid" ] || return 0
	kill -TERM "$(cat "$BATS_FILE_TMPDIR/$1.pid")" 2>/dev/null
	wait "$(cat "$BATS_FILE_TMPDIR/$1.pid")" 2>/dev/null || true
	rm -f "$BATS_FILE_TMPDIR/$1.pid"
}

# private_sim_use NAME: point the test at private clusters started in setup_file.
private_sim_use() {
	export SIM=$BATS_FILE_TMPDIR/$1 KUBESIM_DIR=$BATS_FILE_TMPDIR/$1 KUBECONFIG=$BATS_FILE_TMPDIR/$1/kubeconfig \
		KUBECACHEDIR=$BATS_FILE_TMPDIR/$1/kubectl-cache
}

# requests_mark: how many requests the test clusters have logged so far.
requests_mark() { sleep 0.3; wc -l <"$KUBESIM_DIR/requests.jsonl"; }

# cclm_writes_since N [--real]: how many requests cclm made after line N
# that change something: not GET and not an access review (which only asks).
# With --real, requests sent with dryRun=All do not count either.
cclm_writes_since() {
	local dry=true
	[ "${2:-}" = --real ] && dry=false
	sleep 0.3
	tail -n +"$(($1 + 1))" "$KUBESIM_DIR/requests.jsonl" | jq -s --argjson dry "$dry" '[.[]
		| select(.userAgent | startswith("kubectl-cclm"))
		| select(.method != "GET" and (.path | test("selfsubjectaccessreviews") | not))
		| select($dry or (.path | test("dryRun=All") | not))] | length'
}
