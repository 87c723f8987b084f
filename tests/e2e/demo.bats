#!/usr/bin/env bats
# `make demo` runs tests/sim/demo on fresh test clusters; so does this test,
# so that the README's first command stays true after every change.

load test_helper

@test "the demo runs the workflow on fresh test clusters" {
	run "$REPO_ROOT/tests/sim/with-clusters" -- "$REPO_ROOT/tests/sim/demo"
	assert_success
	assert_output --partial "enabled (2 writes)"
	assert_output --partial "already enabled"
	assert_output --regexp "vms/app01 +migrated"
	assert_output --regexp "vms/legacy01 +migrated"
	assert_output --regexp "vms/bridge01 +refused"
}
