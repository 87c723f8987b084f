#!/usr/bin/env bats
# kubectl-cclm, the front command, through real kubectl plugin discovery, and
# the common library's behaviour as a user meets it: kubeconfig selection,
# TLS, credentials, errors and exit codes, -v logging without tokens.

load test_helper

setup() {
	needs_clusters
	BIN="$BATS_TEST_TMPDIR/bin"
	mkdir -p "$BIN"
	cp "$PLUGIN_BIN_DIR/kubectl-cclm" "$BIN/"
	# Only our plugin on PATH besides the system, so `kubectl plugin list` is ours alone.
	export PATH="$BIN:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
}

token_of() { # CONTEXT: the bearer token kubeconfig gives it
	kubectl config view --raw -o jsonpath="{.users[?(@.name==\"$(kubectl config view -o jsonpath="{.contexts[?(@.name==\"$1\")].context.user}")\")].user.token}"
}

@test "kubectl plugin list finds kubectl-cclm with no warnings" {
	run kubectl plugin list
	assert_success
	assert_line 'The following compatible plugins are available:'
	assert_line "$BIN/kubectl-cclm"
	refute_output --partial 'warning'
}

@test "kubectl cclm --help prints the workflow through kubectl" {
	run kubectl cclm --help
	assert_success
	assert_line --partial '1. kubectl cclm enable'
	assert_line --partial '6. kubectl cclm status'
	assert_line --partial 'Exit status: 0 ok, 1 a check or operation failed, 2 usage error, 3'
	run kubectl cclm
	assert_success
	assert_line --partial 'kubectl cclm migrate'
}

@test "kubectl cclm version and --version" {
	run kubectl cclm version
	assert_success
	assert_output --regexp '^cclm: v[0-9]+\.[0-9]+\.[0-9]+ \(([0-9a-f]+|unknown)\)$'
	run kubectl cclm --version
	assert_success
	assert_output --regexp '^kubectl-cclm v[0-9]+\.[0-9]+\.[0-9]+ '
}

@test "kubectl cclm version reaches both clusters" {
	run kubectl cclm version --source source --target target
	assert_success
	assert_line --regexp "^source \(context 'source', https://127\.0\.0\.1:[0-9]+\): Kubernetes v1\.20\.2$"
	assert_line --regexp "^target \(context 'target', https://127\.0\.0\.1:[0-9]+\): Kubernetes v1\.20\.2$"
	# and it really asked each cluster, as admin, through its proxy
	logged '"cluster":"target","method":"GET","path":"/version","user":"admin","userAgent":"kubectl-cclm/'
	logged '"cluster":"source","method":"GET","path":"/version","user":"admin","userAgent":"kubectl-cclm/'
	run kubectl cclm version --source source --target target -o json
	assert_success
	run jq -r '.source.gitVersion, .target.gitVersion, .target.context' <<<"$output"
	assert_output $'v1.20.2\nv1.20.2\ntarget'
}

@test "kubectl cclm SUB runs the sibling next to its real path (krew layout)" {
	store="$BATS_TEST_TMPDIR/store/cclm/v1"
	mkdir -p "$store"
	mv "$BIN/kubectl-cclm" "$store/"
	ln -s "$store/kubectl-cclm" "$BIN/kubectl-cclm"
	printf '#!/bin/sh\necho "selftest got: $*"\n' >"$store/kubectl-cclm-self_test"
	chmod +x "$store/kubectl-cclm-self_test"
	run kubectl cclm self-test a --flag b
	assert_success
	assert_output 'selftest got: a --flag b'
	run kubectl cclm no-such-thing
	assert_failure 2
	assert_output --partial "kubectl-cclm: unknown command 'no-such-thing'"
}

@test "completion through kubectl uses kubectl_complete-cclm" {
	minor=$(kubectl version --client -o json 2>/dev/null | jq -r '.clientVersion.minor' | tr -dc 0-9)
	[ "${minor:-0}" -ge 26 ] || skip "kubectl 1.${minor} has no plugin completion (kubectl >= 1.26 calls kubectl_complete-*)"
	ln -s kubectl-cclm "$BIN/kubectl_complete-cclm"
	run kubectl __complete cclm ''
	assert_success
	assert_line --regexp '^version'
	assert_line ':4'
	run kubectl __complete cclm version --so
	assert_line --regexp '^--source'
	run kubectl __complete cclm version --source ''
	assert_line 'source'
	assert_line 'target'
	assert_line 'source-viewer'
}

@test "an unknown context is a one-line kubeconfig error, exit 3" {
	run kubectl cclm version --context nope
	assert_failure 3
	assert_output --partial "kubectl-cclm: context 'nope' not found"
	assert_equal "${#lines[@]}" 1
}

@test "a missing --source-kubeconfig file is exit 3, an unknown option exit 2" {
	run kubectl-cclm version --target target --source-kubeconfig "$BATS_TEST_TMPDIR/none"
	assert_failure 3
	assert_output --partial "$BATS_TEST_TMPDIR/none"
	run kubectl-cclm version --bogus
	assert_failure 2
	assert_output --partial "unknown option '--bogus'"
}

@test "a malformed kubeconfig names the file, exit 3" {
	printf 'apiVersion: v1\nclusters: [\n  - name: x\n' >"$BATS_TEST_TMPDIR/bad"
	run kubectl-cclm version --kubeconfig "$BATS_TEST_TMPDIR/bad" --context x
	assert_failure 3
	assert_output --partial "$BATS_TEST_TMPDIR/bad"
}

@test "the wrong CA fails TLS with a message naming the CA, exit 3" {
	src_ca=$(kubectl config view --raw -o jsonpath='{.clusters[?(@.name=="source")].cluster.certificate-authority-data}')
	kubectl config view --raw --minify --context target >"$BATS_TEST_TMPDIR/kc"
	KUBECONFIG="$BATS_TEST_TMPDIR/kc" kubectl config set clusters.target.certificate-authority-data "$src_ca" >/dev/null
	run kubectl-cclm version --kubeconfig "$BATS_TEST_TMPDIR/kc" --context target
	assert_failure 3
	assert_output --regexp "TLS with 'https://127\.0\.0\.1:[0-9]+' \(context 'target'\) failed, checked against the CA from .*certificate-authority-data"
	# --insecure-skip-tls-verify is the user's explicit choice, and then it works
	run kubectl-cclm version --kubeconfig "$BATS_TEST_TMPDIR/kc" --context target --insecure-skip-tls-verify
	assert_success
}

@test "refused credentials say whose and where, without the token, exit 3" {
	kubectl config view --raw --minify --context target >"$BATS_TEST_TMPDIR/kc"
	KUBECONFIG="$BATS_TEST_TMPDIR/kc" kubectl config set users.admin@target.token expired-token-123 >/dev/null
	run kubectl-cclm version --kubeconfig "$BATS_TEST_TMPDIR/kc" --context target
	assert_failure 3
	assert_output --partial "the server refused the credentials of user 'admin@target' (context 'target')"
	assert_output --partial '(401 Unauthorized)'
	refute_output --partial 'expired-token-123'
}

@test "an unreachable server is a clear error, exit 3" {
	kubectl config view --raw --minify --context source >"$BATS_TEST_TMPDIR/kc"
	KUBECONFIG="$BATS_TEST_TMPDIR/kc" kubectl config set clusters.source.server https://127.0.0.1:1 >/dev/null
	run kubectl-cclm version --kubeconfig "$BATS_TEST_TMPDIR/kc" --context source --request-timeout 5s
	assert_failure 3
	assert_output --partial "cannot reach 'https://127.0.0.1:1' (context 'source')"
}

@test "-v 9 logs requests and bodies but never a token" {
	tok=$(token_of source)
	[ -n "$tok" ]
	run kubectl-cclm version --context source -v 9
	assert_success
	assert_output --partial 'Authorization: Bearer <masked>'
	assert_output --regexp 'GET https://127\.0\.0\.1:[0-9]+/version 200'
	assert_output --partial 'Response Body: '
	refute_output --partial "$tok"
}

@test "an exec credential plugin supplies the token (command relative to the kubeconfig)" {
	tok=$(token_of target)
	mkdir -p "$BATS_TEST_TMPDIR/plugins"
	cat >"$BATS_TEST_TMPDIR/plugins/cred-plugin" <<-EOF
	#!/bin/sh
	echo "\$KUBERNETES_EXEC_INFO" > "$BATS_TEST_TMPDIR/exec-info"
	printf '{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","status":{"token":"%s"}}\n' "$tok"
	EOF
	chmod +x "$BATS_TEST_TMPDIR/plugins/cred-plugin"
	kubectl config view --raw --minify --context target >"$BATS_TEST_TMPDIR/kc"
	KUBECONFIG="$BATS_TEST_TMPDIR/kc" kubectl config unset users.admin@target.token >/dev/null
	# kubectl writes the command relative to the kubeconfig: plugins/cred-plugin
	KUBECONFIG="$BATS_TEST_TMPDIR/kc" kubectl config set-credentials admin@target \
		--exec-api-version=client.authentication.k8s.io/v1 --exec-command="$BATS_TEST_TMPDIR/plugins/cred-plugin" \
		--exec-interactive-mode=Never >/dev/null
	grep -q 'command: plugins/cred-plugin' "$BATS_TEST_TMPDIR/kc"
	cd /
	run kubectl-cclm version --kubeconfig "$BATS_TEST_TMPDIR/kc" --context target
	assert_success
	assert_output --partial 'Kubernetes v1.20.2'
	run jq -r '.kind, .apiVersion, .spec.interactive' "$BATS_TEST_TMPDIR/exec-info"
	assert_output $'ExecCredential\nclient.authentication.k8s.io/v1\nfalse'
	# a plugin that fails: its exit code, in one line, exit 3
	printf '#!/bin/sh\necho "login required" >&2\nexit 7\n' >"$BATS_TEST_TMPDIR/plugins/cred-plugin"
	run kubectl-cclm version --kubeconfig "$BATS_TEST_TMPDIR/kc" --context target
	assert_failure 3
	assert_output --partial 'exit code 7'
	refute_output --partial "$tok"
}
