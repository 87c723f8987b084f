#!/usr/bin/env bats
# Checks every executable against its documentation: a man page with the
# standard sections, --help that exits 0 and whose options are all in the
# page, --version matching VERSION, and the documented exit codes.

load test_helper

@test "every executable has a man page with the standard sections" {
	n=0
	for bin in "$PLUGIN_BIN_DIR"/kubectl-cclm*; do
		name=$(basename "$bin")
		page="$REPO_ROOT/man/$name.1"
		[ -f "$page" ] || fail "no man page $page for $name"
		for s in NAME SYNOPSIS DESCRIPTION OPTIONS "EXIT STATUS" ENVIRONMENT EXAMPLES "SEE ALSO"; do
			grep -q "^\.SH \"\?$s\"\?\$" "$page" || fail "$page lacks the section $s"
		done
		n=$((n + 1))
	done
	[ "$n" -ge 1 ]
}

@test "--help exits 0 and every option it lists is in the man page" {
	for bin in "$PLUGIN_BIN_DIR"/kubectl-cclm*; do
		name=$(basename "$bin")
		case $name in kubectl-cclm) help=("$bin" version --help) ;; *) help=("$bin" --help) ;; esac
		run "${help[@]}"
		assert_success
		assert_output --partial 'Exit status: 0 ok, 1 a check or operation failed, 2 usage error, 3'
		for opt in $(grep -oE -- '--[a-z][a-z-]+' <<<"$output" | sort -u); do
			grep -qF -- "$(sed 's/-/\\-/g' <<<"$opt")" "$REPO_ROOT/man/$name.1" ||
				fail "$name --help lists $opt but man/$name.1 does not"
		done
	done
}

@test "--version matches the VERSION file" {
	v=$(cat "$REPO_ROOT/VERSION")
	for bin in "$PLUGIN_BIN_DIR"/kubectl-cclm*; do
		run "$bin" --version
		assert_success
		assert_output --regexp "^$(basename "$bin") v$v "
	done
}

@test "the man pages document the exit codes 0 to 3" {
	for page in "$REPO_ROOT"/man/*.1; do
		sed -n '/^\.SH "\?EXIT STATUS/,/^\.SH/p' "$page" >"$BATS_TEST_TMPDIR/exit"
		for code in 0 1 2 3; do
			grep -q "^\.B $code\$" "$BATS_TEST_TMPDIR/exit" || fail "$page: exit code $code not documented"
		done
	done
}

@test "make install puts executables, completion links and man pages under DESTDIR" {
	make -C "$REPO_ROOT" --no-print-directory -s install DESTDIR="$BATS_TEST_TMPDIR/root" PREFIX=/opt/cclm >/dev/null
	r=$BATS_TEST_TMPDIR/root/opt/cclm
	[ -x "$r/bin/kubectl-cclm" ]
	[ "$(readlink "$r/bin/kubectl_complete-cclm")" = kubectl-cclm ]
	[ "$(readlink "$r/bin/oc_complete-cclm")" = kubectl-cclm ]
	[ -f "$r/share/man/man1/kubectl-cclm.1" ]
	[ -f "$r/share/bash-completion/completions/kubectl-cclm" ]
	run "$r/bin/kubectl_complete-cclm" ''
	assert_line ':4'
}
