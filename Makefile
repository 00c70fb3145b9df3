# prockill: build and VM test harness. The steps live in qemu/pk; every
# target runs setup (qemu/setup.sh, idempotent) first.
#
#   make demo        boot the release kernel, load the module, show it
#   make test        host tests, lint + VM suite on the debug kernel
#   make lint        cargo fmt --check, cargo clippy -D warnings, shellcheck of every
#                    shell script (qemu/, .ci/); no setup, no kernel
#   make shell       interactive busybox shell in the VM (FLAVOUR=debug for the debug kernel,
#                    FLAVOUR=debian for Debian's own kernel; also for demo)
#   make install     build against /lib/modules/$(uname -r)/build and install (qemu/install.sh;
#                    KERNELRELEASE=, KDIR=, DESTDIR=, LOAD=1); make uninstall
#   make bench       benchmarks on the release kernel -> docs/benchmarks.md, docs/bench-scaling.png
#   make profile     guest instructions per operation (QEMU TCG plugin), per function
#   make doctest     run the labs of docs/ in the VM and compare their output (qemu/doctest.sh)
#   make fuzz        the race engine pk-fuzz on the debug kernel (FLAVOUR=release for release;
#                    PROCKILL_FUZZ_SECS, default 1800; PROCKILL_FUZZ_SEED replays a run)
#   make setup | kernel-release | kernel-debug | module | vm-tests | initramfs
#
# Environment: PROCKILL_CACHE (default ~/.cache/prockill), KERNEL_SRC (use
# your own kernel tree), PROCKILL_ACCEL=kvm (default TCG), PROCKILL_TESTS
# (VM test name prefixes for `make test`).

PK := ./qemu/pk
FLAVOUR ?= release
# `make fuzz` defaults to the debug kernel unless FLAVOUR is given.
FUZZ_FLAVOUR := $(if $(filter command line environment,$(origin FLAVOUR)),$(FLAVOUR),debug)

.PHONY: all setup kernel-release kernel-debug module vm-tests initramfs test lint demo shell bench profile fuzz
all: test

setup:
	@$(PK) setup

kernel-release:
	@$(PK) kernel release

kernel-debug:
	@$(PK) kernel debug

module: setup
	@$(PK) kernel release && $(PK) kernel debug && $(PK) module release debug

vm-tests: setup
	@$(PK) vm-tests

initramfs: module vm-tests
	@$(PK) initramfs release debug

test:
	@$(PK) test

lint:
	@$(PK) lint

demo:
	@$(PK) demo $(FLAVOUR)

shell:
	@$(PK) shell $(FLAVOUR)

bench:
	@./qemu/bench.sh

profile:
	@./qemu/profile.sh

# Debian's own kernel (qemu/debian-kernel.sh; PROCKILL_DEBIAN_KERNEL picks the release).
.PHONY: kernel-debian install uninstall
kernel-debian:
	@$(PK) kernel debian

# A real machine (qemu/install.sh): make install [LOAD=1] / make uninstall;
# KERNELRELEASE=, KDIR=, DESTDIR= stage an install for another kernel.
install:
	@./qemu/install.sh install

uninstall:
	@./qemu/install.sh uninstall

.PHONY: doctest
doctest:
	@./qemu/doctest.sh

fuzz:
	@FLAVOUR=$(FUZZ_FLAVOUR) ./qemu/fuzz.sh
