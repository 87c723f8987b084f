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
            libcmocka-dev bats bats-assert bats-support python3 python3-yaml openssl jq \
            curl ca-certificates iputils-ping netcat-openbsd parallel
# kubectl (tests and the demo use it; cclm never does): Debian's client only
# when the machine has no kubectl of its own.
DEB_PKGS += $(if $(shell command -v kubectl),,kubernetes-client)

.PHONY: all check demo bench deps deps-quiet help clean kube-binaries unit install uninstall

# ---- C build ------------------------------------------------------------
# SANITIZE=address,undefined builds everything into build/san-address,undefined
# (the suite runs again there in `make check`).
PKGS := libcurl yaml-0.1 libcjson openssl
CC ?= cc
CSTD := -std=c11 -D_GNU_SOURCE
WARN := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Wno-missing-field-initializers
OPT ?= -O2 -g
ifdef SANITIZE
BUILD := build/san-$(SANITIZE)
SANFLAGS := -fsanitize=$(SANITIZE) -fno-omit-frame-pointer -fno-sanitize-recover=all
OPT := -O1 -g
else
BUILD := build
SANFLAGS :=
endif
PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS = $(shell pkg-config --libs $(PKGS) 2>/dev/null)
CFLAGS_ALL = $(CSTD) $(WARN) $(OPT) $(SANFLAGS) -Icommon -Icommon/sync -pthread $(PKG_CFLAGS) -MMD -MP $(CFLAGS)
LDFLAGS_ALL = $(SANFLAGS) $(LDFLAGS)

VERSION := $(shell cat VERSION 2>/dev/null || echo 0.0.0)
COMMIT := $(shell git rev-parse --short=12 HEAD 2>/dev/null || echo unknown)

LIB_SRC := $(wildcard common/*.c)
LIB_OBJ := $(LIB_SRC:%.c=$(BUILD)/obj/%.o) $(BUILD)/obj/gen/version.o
LIB := $(BUILD)/lib/libcclm.a
# The state-sync engine (libcclm-sync), on top of libcclm; a static
# library, so only the executables that use it carry it.
SYNC_SRC := $(wildcard common/sync/*.c)
SYNC_OBJ := $(SYNC_SRC:%.c=$(BUILD)/obj/%.o)
SYNC_LIB := $(BUILD)/lib/libcclm-sync.a

# One executable per folder in plugins/: plugins/cclm -> kubectl-cclm,
# plugins/NAME -> kubectl-cclm-NAME.
PLUGINS := $(notdir $(patsubst %/,%,$(wildcard plugins/*/)))
plugin_bin = $(BUILD)/bin/kubectl-cclm$(if $(filter cclm,$(1)),,-$(1))
BINS := $(foreach p,$(PLUGINS),$(call plugin_bin,$(p)))

UNIT_SRC := $(wildcard tests/unit/test_*.c)
UNIT_BINS := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)
UNIT_HELPERS := $(filter-out $(UNIT_SRC),$(wildcard tests/unit/*.c))

# Quiet by default; `make V=1` shows the commands.
ifeq ($(V),1)
Q :=
say :=
else
Q := @
say = @printf '  %-6s %s\n' $(1) $(2);
endif

all: $(BINS)

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(call say,CC,$<)$(CC) $(CFLAGS_ALL) -c $< -o $@

# The version and commit, rewritten only when they change (common/version.h).
$(BUILD)/gen/version.c: FORCE
	@mkdir -p $(dir $@)
	@printf 'const char cclm_version_number[] = "%s";\nconst char cclm_build_commit[] = "%s";\n' \
		'$(VERSION)' '$(COMMIT)' >$@.tmp
	@if cmp -s $@.tmp $@; then rm -f $@.tmp; else mv $@.tmp $@; fi

$(BUILD)/obj/gen/version.o: $(BUILD)/gen/version.c
	@mkdir -p $(dir $@)
	$(call say,CC,$<)$(CC) $(CFLAGS_ALL) -c $< -o $@

.PHONY: FORCE
FORCE:

$(LIB): $(LIB_OBJ)
	@mkdir -p $(dir $@)
	$(call say,AR,$@)rm -f $@ && ar rcs $@ $^

$(SYNC_LIB): $(SYNC_OBJ)
	@mkdir -p $(dir $@)
	$(call say,AR,$@)rm -f $@ && ar rcs $@ $^

define plugin_rule
$(call plugin_bin,$(1)): $(patsubst %.c,$(BUILD)/obj/%.o,$(wildcard plugins/$(1)/*.c)) $(SYNC_LIB) $(LIB)
	@mkdir -p $$(dir $$@)
	$$(call say,LINK,$$@)$$(CC) $$(LDFLAGS_ALL) -o $$@ $$^ $$(PKG_LIBS) -pthread
endef
$(foreach p,$(PLUGINS),$(eval $(call plugin_rule,$(p))))

$(BUILD)/tests/test_%: $(BUILD)/obj/tests/unit/test_%.o $(UNIT_HELPERS:%.c=$(BUILD)/obj/%.o) $(SYNC_LIB) $(LIB)
	@mkdir -p $(dir $@)
	$(call say,LINK,$@)$(CC) $(LDFLAGS_ALL) -o $@ $(filter %.o,$^) $(filter %.a,$^) $(PKG_LIBS) $(shell pkg-config --libs cmocka) -pthread

# A unit test of a plugin's own logic names the objects it needs.
$(BUILD)/tests/test_status_pair: $(BUILD)/obj/plugins/status/pair.o
$(BUILD)/tests/test_netcheck_probe: $(BUILD)/obj/plugins/netcheck/probe.o
# netcheck carries its probe script (plugins/netcheck/script.c .incbin-s it).
$(BUILD)/obj/plugins/netcheck/script.o: plugins/netcheck/probe.sh

# Tests of libcclm against the running test clusters (run by tests/run).
LIVE_SRC := $(wildcard tests/live/test_*.c)
LIVE_BINS := $(LIVE_SRC:tests/live/%.c=$(BUILD)/live/%)
$(BUILD)/live/test_%: $(BUILD)/obj/tests/live/test_%.o $(LIB)
	@mkdir -p $(dir $@)
	$(call say,LINK,$@)$(CC) $(LDFLAGS_ALL) -o $@ $^ $(PKG_LIBS) $(shell pkg-config --libs cmocka) -pthread

$(BUILD)/bench/bench_client: $(BUILD)/obj/tests/bench/bench_client.o $(LIB)
	@mkdir -p $(dir $@)
	$(call say,LINK,$@)$(CC) $(LDFLAGS_ALL) -o $@ $^ $(PKG_LIBS)

unit: $(UNIT_BINS) $(LIVE_BINS)

-include $(shell find $(BUILD)/obj -name '*.d' 2>/dev/null)

help:
	@echo "make deps    install what this machine lacks (Debian/Ubuntu, as root)"
	@echo "make check   every test layer against the test clusters; ends with 'N passed, N failed'"
	@echo "make demo    start the two test clusters and show them working"
	@echo "make bench   benchmarks beside kubectl on the test clusters (prints a table)"
	@echo "make install install the executables, man pages and completions (PREFIX, DESTDIR)"
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

check: deps-quiet kube-binaries
	@$(MAKE) --no-print-directory all unit
	@$(MAKE) --no-print-directory all unit SANITIZE=address,undefined
	@tests/run

demo: deps-quiet all kube-binaries
	@tests/sim/with-clusters -- tests/sim/demo

bench: deps-quiet kube-binaries all $(BUILD)/bench/bench_client
	@tests/sim/with-clusters -- tests/bench/run
	@tests/bench/sim-fleet
	@tests/bench/migrate-fleet
	@tests/bench/status-fleet

# ---- install -----------------------------------------------------------------
# Executables, the kubectl completion shims (kubectl_complete-* and
# oc_complete-* are links to the executable they complete), man pages, and a
# bash completion for running kubectl-cclm* directly.
prefix ?= $(PREFIX)
bindir ?= $(prefix)/bin
mandir ?= $(prefix)/share/man
man1dir ?= $(mandir)/man1
bashcompdir ?= $(prefix)/share/bash-completion/completions
MANPAGES := $(wildcard man/*.1)

install: all
	install -d $(DESTDIR)$(bindir) $(DESTDIR)$(man1dir) $(DESTDIR)$(bashcompdir)
	install -m 755 $(BINS) $(DESTDIR)$(bindir)/
	for b in $(notdir $(BINS)); do \
		ln -sf $$b $(DESTDIR)$(bindir)/$${b/kubectl-/kubectl_complete-}; \
		ln -sf $$b $(DESTDIR)$(bindir)/$${b/kubectl-/oc_complete-}; \
	done
	$(if $(MANPAGES),install -m 644 $(MANPAGES) $(DESTDIR)$(man1dir)/)
	install -m 644 completions/kubectl-cclm.bash $(DESTDIR)$(bashcompdir)/kubectl-cclm
	for b in $(filter-out kubectl-cclm,$(notdir $(BINS))); do \
		ln -sf kubectl-cclm $(DESTDIR)$(bashcompdir)/$$b; done

uninstall:
	for b in $(notdir $(BINS)); do \
		rm -f $(DESTDIR)$(bindir)/$$b $(DESTDIR)$(bindir)/$${b/kubectl-/kubectl_complete-} \
		      $(DESTDIR)$(bindir)/$${b/kubectl-/oc_complete-} $(DESTDIR)$(bashcompdir)/$$b; done
	rm -f $(addprefix $(DESTDIR)$(man1dir)/,$(notdir $(MANPAGES)))

clean:
	rm -rf build
