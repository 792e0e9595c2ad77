# The two commands: `make run` (the device on this machine, simulated buttons, snapshot display)
# and `make test` (unit tests, then the end-to-end tests with headless Chromium).
# scripts/deps.sh installs whatever each target needs and is missing.

SHELL := /bin/bash

# The Swift toolchain lives in /opt/swift on the build machines; a swift already on PATH wins.
export PATH := $(PATH):/opt/swift/usr/bin
SWIFT ?= $(if $(shell command -v swift 2>/dev/null),swift,/opt/swift/usr/bin/swift)

PORT ?= 8080
RUN_DIR ?= run
WEB_ROOT ?= rootfs-overlay/usr/share/intercom/web
RELEASE_BIN := .build/release/intercom
PYTEST ?= .venv/bin/pytest

.PHONY: deps build run ring test unit test-trixie test-kernel test-kernel-trixie e2e bench deb clean

## deps: install everything the build, `make run` and the tests need
deps:
	scripts/deps.sh test

## build: release build into .build/release
build:
	scripts/deps.sh build
	$(SWIFT) build -c release

## run: build and run the device here; press b in the terminal (or `make ring`) to ring
run:
	scripts/deps.sh run
	$(SWIFT) build -c release
	mkdir -p $(RUN_DIR)/snapshots
	@echo
	@echo "Open http://localhost:$(PORT)/?room=<code> after pressing b (doorbell) in this terminal,"
	@echo "or \`make ring\` from another terminal; the code is on the screen and in the log."
	@echo "Screen snapshots: $(RUN_DIR)/snapshots"
	@echo
	$(RELEASE_BIN) run --listen 0.0.0.0:$(PORT) --web-root $(WEB_ROOT) \
		--web-base http://localhost:$(PORT) --control $(RUN_DIR)/control.sock --snapshots $(RUN_DIR)/snapshots

## ring: press the doorbell of a running `make run`
ring:
	$(RELEASE_BIN) ctl press doorbell --control $(RUN_DIR)/control.sock

## test: debug build, unit tests, the box, signaling and hostile-network suites, end-to-end tests (CI then runs
## test-trixie and test-kernel too: .ci/run)
test:
	scripts/deps.sh test
	$(SWIFT) build
	$(SWIFT) test
	$(PYTEST) -v suites/box
	$(PYTEST) -v suites/signaling
	$(PYTEST) -v suites/hostile
	$(PYTEST) -v suites/e2e

## test-kernel: the door against real kernel drivers (vkms, gpio-sim, vivid) in a qemu VM; root, docs/kernel-vm.md
test-kernel:
	scripts/deps.sh kernel
	$(SWIFT) build
	scripts/test-kernel.sh

## test-kernel-trixie: the buttons and screen groups of test-kernel with the trixie chroot as the guest's root and
## the trixie build of the door (libgpiod 2); skipped with one line until `make test-trixie` has made both
test-kernel-trixie:
	scripts/deps.sh kernel
	scripts/test-kernel.sh --trixie

## unit: swift test
unit:
	scripts/deps.sh unit
	$(SWIFT) test

## test-trixie: debug build and `swift test` in a cached Debian 13 (trixie) chroot (root; the first run makes the
## chroot with debootstrap, about 10 minutes; later runs reuse it). See docs/trixie.md.
test-trixie:
	scripts/deps.sh trixie
	scripts/test-trixie.sh

## e2e: end-to-end tests against the debug binary (INTERCOM_BIN overrides it)
e2e:
	scripts/deps.sh test
	$(SWIFT) build
	$(PYTEST) -v suites/e2e

## bench: benchmarks against in-run baselines (not part of `make test`; root, about 20 minutes): release build,
## the device and headless Chromium in a network namespace; prints a table, writes bench/results/latest.{md,json};
## then what recording a clip costs (CPU, bytes/s) and what each extra phone in a household visit costs (printed)
bench:
	scripts/deps.sh test
	$(SWIFT) build -c release
	.venv/bin/python bench/run.py
	.venv/bin/python bench/recording.py
	.venv/bin/python bench/household.py

## deb: the Debian package (static Swift runtime) in .build-static/deb; a device installs it with
## `apt install ./intercom_*.deb`
deb:
	scripts/deps.sh build
	$(SWIFT) build -c release --static-swift-stdlib --scratch-path .build-static
	scripts/build-deb.sh .build-static/release/intercom .build-static/deb

clean:
	rm -rf .build .build-static $(RUN_DIR) .pytest_cache
	find suites -name __pycache__ -type d -prune -exec rm -rf {} +
