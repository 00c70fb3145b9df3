# prockill: build and VM test harness. The steps live in qemu/pk; every
# target runs setup (qemu/setup.sh, idempotent) first.
#
#   make demo        boot the release kernel, load the module, show it
#   make test        host tests + VM suite on the debug kernel
#   make shell       interactive busybox shell in the VM (FLAVOUR=debug for the debug kernel)
#   make bench       benchmarks on the release kernel -> docs/benchmarks.md, docs/bench-scaling.png
#   make profile     guest instructions per operation (QEMU TCG plugin), per function
#   make doctest     run the labs of docs/ in the VM and compare their output (qemu/doctest.sh)
#   make setup | kernel-release | kernel-debug | module | vm-tests | initramfs
#
# Environment: PROCKILL_CACHE (default ~/.cache/prockill), KERNEL_SRC (use
# your own kernel tree), PROCKILL_ACCEL=kvm (default TCG), PROCKILL_TESTS
# (VM test name prefixes for `make test`).

PK := ./qemu/pk
FLAVOUR ?= release

.PHONY: all setup kernel-release kernel-debug module vm-tests initramfs test demo shell bench profile
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

demo:
	@$(PK) demo

shell:
	@$(PK) shell $(FLAVOUR)

bench:
	@./qemu/bench.sh

profile:
	@./qemu/profile.sh

.PHONY: doctest
doctest:
	@./qemu/doctest.sh
