# cclm — one Makefile. `make help` lists the targets.
#
# Layout: common/ (libcclm), plugins/<name>/ (one executable each), tests/
# (unit, sim, e2e, bench), man/, completions/. The test clusters live in
# tests/sim (see tests/sim/README.md).

SHELL := /bin/bash
PREFIX ?= /usr/local
DESTDIR ?=

# Debian packages a fresh machine lacks for building, testing and the test
# clusters (the Kubernetes build's own packages are installed by
# tests/sim/kube-binaries when it has to build).
DEB_PKGS := make gcc pkg-config libcurl4-openssl-dev libyaml-dev libcjson-dev libssl-dev \
            libcmocka-dev bats bats-assert bats-support python3 python3-yaml openssl \
            curl ca-certificates
# kubectl (tests and the demo use it; cclm never does): Debian's client only
# when the machine has no kubectl of its own.
DEB_PKGS += $(if $(shell command -v kubectl),,kubernetes-client)

.PHONY: all check demo bench deps help clean kube-binaries

all:
	@: # the C plugins arrive with the foundation issue; nothing to build yet

help:
	@echo "make deps    install what this machine lacks (Debian/Ubuntu, as root)"
	@echo "make check   every test layer against the test clusters; ends with 'N passed, N failed'"
	@echo "make demo    start the two test clusters and show them working"
	@echo "make clean   remove build outputs"

# `make deps` installs only what is missing. Elsewhere: install the
# equivalents of DEB_PKGS by hand (libcurl with OpenSSL, libyaml, cJSON,
# cmocka, bats-core with bats-assert and bats-support, Python 3 with PyYAML).
deps:
	@missing=$$(for p in $(DEB_PKGS); do \
		dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q 'install ok installed' || echo $$p; done); \
	if [ -z "$$missing" ]; then echo "deps: everything is installed"; exit 0; fi; \
	if ! command -v apt-get >/dev/null; then \
		echo "deps: not a Debian/Ubuntu system; install the equivalents of: $$missing" >&2; exit 1; fi; \
	if [ "$$(id -u)" != 0 ]; then SUDO=sudo; fi; \
	echo "deps: installing $$missing"; \
	$$SUDO apt-get update -q && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -q $$missing

# Run `deps` only when something is missing (quietly otherwise).
deps-quiet:
	@for p in $(DEB_PKGS); do dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q 'install ok installed' || \
		{ $(MAKE) --no-print-directory deps; exit $$?; }; done

kube-binaries: deps-quiet
	@tests/sim/kube-binaries >/dev/null

check: deps-quiet all kube-binaries
	@tests/run

demo: deps-quiet all kube-binaries
	@tests/sim/with-clusters -- tests/sim/demo

bench:
	@echo "bench: the benchmarks arrive with the plugins (issues 3, 6, 7)"

clean:
	rm -rf build
