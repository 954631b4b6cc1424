# SPDX-License-Identifier: MIT
# bareio — build the kernel, the boot ISO, the host tools and run the tests.
#   make            build/bareio.elf and build/bareio.iso
#   make usb        build/bareio-usb.img, the USB stick image (tools/mkusb)
#   make netboot    build/netboot/, the TFTP tree for network boot (tools/mknetboot)
#   make run        boot the harness in QEMU on the default scratch disks
#   make test       every test: host unit tests and QEMU scenarios
# Toolchain: host gcc by default; CROSS=x86_64-elf- or CC=clang also work.

CROSS   ?=
CC      := $(if $(filter default,$(origin CC)),$(CROSS)gcc,$(CC))
HOSTCC  ?= cc
PYTHON  ?= /usr/bin/python3
BUILD   ?= build

KERNEL_CFLAGS := -std=gnu11 -O2 -g -Wall -Wextra -Werror \
    -ffreestanding -fno-builtin -fno-stack-protector -fno-pic -fno-pie \
    -mno-red-zone -mno-sse -mno-sse2 -mno-mmx -mno-80387 -mgeneral-regs-only \
    -mcmodel=small -fno-omit-frame-pointer -fno-optimize-sibling-calls -fno-asynchronous-unwind-tables \
    -fno-strict-aliasing -I.
ifneq ($(filter clang%,$(notdir $(CC))),)
KERNEL_CFLAGS += --target=x86_64-pc-none-elf
endif
KERNEL_LDFLAGS := -nostdlib -static -Wl,-T,linker.ld -Wl,-z,max-page-size=0x1000 \
    -Wl,--build-id=none -Wl,-n
ifneq ($(filter clang%,$(notdir $(CC))),)
KERNEL_LDFLAGS += -fuse-ld=lld --target=x86_64-pc-none-elf
else
KERNEL_LDFLAGS += -no-pie
# The single RWX segment is deliberate (see linker.ld).
KERNEL_LDFLAGS += -Wl,--no-warn-rwx-segments
endif

KERNEL_SRCS := $(wildcard boot/*.S kernel/*.S kernel/*.c drivers/*/*.c lib/*.c tests/harness/*.S tests/harness/*.c tests/kernel/*.c)
KERNEL_OBJS := $(patsubst %,$(BUILD)/obj/%.o,$(KERNEL_SRCS))

ISO_CMDLINE ?=

.PHONY: layers
.PHONY: all kernel iso usb netboot run bench test host-test host-tools tools-test scenario-test deps clean FORCE \
        fuzz fuzz-build fuzz-regress mutate mutate-check
all: kernel iso
kernel: $(BUILD)/bareio.elf

$(BUILD)/obj/%.c.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(KERNEL_CFLAGS) -MMD -MP -c $< -o $@

$(BUILD)/obj/%.S.o: %.S
	@mkdir -p $(dir $@)
	$(CC) $(KERNEL_CFLAGS) -MMD -MP -c $< -o $@

# Two links: the first gives the function addresses, tools/gen-ksyms turns
# them into a table placed after everything else, the second link adds it. The
# build fails if any function moved between the two.
NM ?= $(CROSS)nm
$(BUILD)/bareio-nosyms.elf: $(KERNEL_OBJS) linker.ld
	$(CC) $(KERNEL_LDFLAGS) -o $@ $(KERNEL_OBJS)

$(BUILD)/ksyms.S: $(BUILD)/bareio-nosyms.elf tools/gen-ksyms
	$(NM) -n $< | sh tools/gen-ksyms > $@

$(BUILD)/ksyms.o: $(BUILD)/ksyms.S
	$(CC) $(KERNEL_CFLAGS) -c $< -o $@

$(BUILD)/bareio.elf: $(BUILD)/bareio-nosyms.elf $(BUILD)/ksyms.o
	$(CC) $(KERNEL_LDFLAGS) -o $@ $(KERNEL_OBJS) $(BUILD)/ksyms.o
	@$(NM) -n $(BUILD)/bareio-nosyms.elf | awk '$$2 ~ /^[Tt]$$/' > $(BUILD)/syms-pass1.txt
	@$(NM) -n $@ | awk '$$2 ~ /^[Tt]$$/' > $(BUILD)/syms-pass2.txt
	@cmp -s $(BUILD)/syms-pass1.txt $(BUILD)/syms-pass2.txt || \
	    { echo "ksyms: function addresses changed between links"; rm -f $@; exit 1; }

-include $(KERNEL_OBJS:.o=.d)

# Host unit tests: tests/host/*.c with lib/*.c built for the host (lib's
# string functions renamed by tests/host/rename.h).
HOST_CFLAGS := -std=gnu11 -O1 -g -Wall -Wextra -Werror -I. -DBAREIO_HOST_TEST \
    -fsanitize=address,undefined -fno-sanitize-recover=undefined
# A driver's pure logic (descriptor builders, status decoders) is tested the
# same way: each drivers/<name>/host.mk adds its hardware-free files to
# HOST_DRIVER_SRCS.
HOST_TEST_SRCS := $(wildcard tests/host/*.c)
HOST_LIB_SRCS := $(wildcard lib/*.c)
HOST_DRIVER_SRCS :=
-include $(wildcard drivers/*/host.mk)
$(BUILD)/host/unit: $(HOST_TEST_SRCS) $(HOST_LIB_SRCS) $(HOST_DRIVER_SRCS) \
                    $(wildcard lib/*.h tests/host/*.h drivers/*/*.h drivers/*/host.mk)
	@mkdir -p $(dir $@)
	$(HOSTCC) $(HOST_CFLAGS) -include tests/host/rename.h -o $@ $(HOST_TEST_SRCS) $(HOST_LIB_SRCS) \
	    $(HOST_DRIVER_SRCS)

# The drivers' hardware files (each drivers/<name>/host.mk adds them to
# HOST_HW_SRCS) and the test harness (tests/harness/ktest.c) are tested on the host
# too, against fakes: tests/host/fake/ is a fake kernel (its kernel/io.h comes
# first on the include path; the other kernel services are linked in place of
# the kernel's) with register models of the controllers, tests/host/hw/ the
# tests, one child process per test. Built file by file, so a changed driver
# file recompiles alone.
HOST_HW_CFLAGS := $(filter-out -I. -DBAREIO_HOST_TEST,$(HOST_CFLAGS)) -Itests/host/fake -I. \
    -DHTEST_FORK -include tests/host/rename.h
HOST_HW_SRCS += tests/harness/ktest.c kernel/leftout.c kernel/mmio.c kernel/watchdog.c
HOST_HW_ALL := tests/host/runner.c $(wildcard tests/host/fake/*.c tests/host/hw/*.c) \
    $(HOST_LIB_SRCS) $(HOST_DRIVER_SRCS) $(HOST_HW_SRCS)
HOST_HW_OBJS := $(patsubst %.c,$(BUILD)/host/fakehw-obj/%.o,$(HOST_HW_ALL))
$(BUILD)/host/fakehw-obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(HOSTCC) $(HOST_HW_CFLAGS) -MMD -MP -c $< -o $@
$(BUILD)/host/fakehw: $(HOST_HW_OBJS) tests/host/fake/sections.ld
	$(HOSTCC) $(HOST_HW_CFLAGS) -o $@ $(HOST_HW_OBJS) -Wl,-T,tests/host/fake/sections.ld
-include $(HOST_HW_OBJS:.o=.d)

# HOST_TEST=NAME runs only the tests whose names contain NAME (both binaries).
HOST_TEST ?=
host-test: $(BUILD)/host/unit $(BUILD)/host/fakehw
	$(BUILD)/host/unit $(HOST_TEST)
	$(BUILD)/host/fakehw $(HOST_TEST)

# Host tools: tools/mkscratch and tools/verify-image are C programs that share
# lib/ (scratch label, GPT, stamps) with the kernel, built the way the host
# tests are (lib's string functions renamed). The tools/ wrappers build them.
# They also share the write-access rule (drivers/blk/access.c): verify-image
# seeds and checks only what the kernel would write.
HOST_TOOL_CFLAGS := -std=gnu11 -O2 -g -Wall -Wextra -Werror -I.
HOST_TOOLS := $(BUILD)/tools/mkscratch $(BUILD)/tools/verify-image
HOST_TOOL_SRCS := $(HOST_LIB_SRCS) drivers/blk/access.c
# A tool's own further files: TOOL_SRCS_<tool>. verify-image's manifest parser
# is one (pure, so tests/fuzz/fuzz_manifest.c fuzzes the very same code);
# tools/src/toolkit.c (hex digits, tool_fail()) is both tools'.
TOOL_SRCS_mkscratch := tools/src/toolkit.c
TOOL_SRCS_verify-image := tools/src/manifest.c tools/src/toolkit.c
$(BUILD)/tools/mkscratch: $(TOOL_SRCS_mkscratch) tools/src/toolkit.h
$(BUILD)/tools/verify-image: $(TOOL_SRCS_verify-image) tools/src/manifest.h tools/src/toolkit.h
$(BUILD)/tools/%: tools/src/%.c $(HOST_TOOL_SRCS) $(wildcard lib/*.h drivers/blk/*.h tests/host/rename.h)
	@mkdir -p $(dir $@)
	$(HOSTCC) $(HOST_TOOL_CFLAGS) -include tests/host/rename.h -o $@.$$$$ $< $(TOOL_SRCS_$*) \
	    $(HOST_TOOL_SRCS) && mv -f $@.$$$$ $@

host-tools: $(HOST_TOOLS)
tools-test: host-tools

# ---- fuzzing: libFuzzer targets in tests/fuzz/ (clang) ----
# Each tests/fuzz/fuzz_NAME.c is linked with lib/, the drivers' pure files and
# the host tools' library files (tools/src/*.c that are not programs), all
# under ASan/UBSan. `make fuzz` fuzzes every target for FUZZ_SECONDS (new
# inputs go to $(BUILD)/fuzz/corpus/NAME; copy the interesting ones into
# tests/fuzz/corpus/NAME/). `make fuzz-regress` (part of `make test`) replays
# tests/fuzz/corpus/NAME/ and fuzzes FUZZ_REGRESS_SECONDS more from a fixed seed.
FUZZ_CC ?= clang
FUZZ_CFLAGS := -std=gnu11 -g -O1 -Wall -Wextra -Werror -I. -DBAREIO_HOST_TEST \
    -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined
FUZZ_TARGETS := $(patsubst tests/fuzz/fuzz_%.c,%,$(wildcard tests/fuzz/fuzz_*.c))
FUZZ_TOOL_SRCS := $(filter-out $(patsubst $(BUILD)/tools/%,tools/src/%.c,$(HOST_TOOLS)), \
    $(wildcard tools/src/*.c))
FUZZ_SRCS := tests/fuzz/reseal.c $(HOST_LIB_SRCS) $(HOST_DRIVER_SRCS) $(FUZZ_TOOL_SRCS)
FUZZ_SECONDS ?= 60
FUZZ_REGRESS_SECONDS ?= 3
FUZZ_RUN_FLAGS := -timeout=10 -rss_limit_mb=2048 -max_len=131072
# tests/fuzz/NAME.dict, when there is one, gives the target its tokens.
fuzz_dict = $$(test -f tests/fuzz/$$t.dict && echo -dict=tests/fuzz/$$t.dict)
$(BUILD)/fuzz/%: tests/fuzz/fuzz_%.c tests/fuzz/fuzz.h $(FUZZ_SRCS) \
                 $(wildcard lib/*.h drivers/*/*.h tools/src/*.h tests/host/rename.h)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -include tests/host/rename.h -o $@.$$$$ $< $(FUZZ_SRCS) && mv -f $@.$$$$ $@

fuzz-build: deps $(addprefix $(BUILD)/fuzz/,$(FUZZ_TARGETS))

fuzz: fuzz-build
	@for t in $(FUZZ_TARGETS); do \
	    mkdir -p $(BUILD)/fuzz/corpus/$$t $(BUILD)/fuzz/crashes; \
	    echo "fuzz: $$t for $(FUZZ_SECONDS) s"; \
	    $(BUILD)/fuzz/$$t $(FUZZ_RUN_FLAGS) $(fuzz_dict) -max_total_time=$(FUZZ_SECONDS) \
	        -artifact_prefix=$(BUILD)/fuzz/crashes/$$t- \
	        $(BUILD)/fuzz/corpus/$$t tests/fuzz/corpus/$$t 2>&1 | \
	        grep -E '^(Done [0-9]+ runs|==[0-9]+==|SUMMARY|.*invariant broken)' || true; \
	    test -z "$$(ls $(BUILD)/fuzz/crashes/$$t-* 2>/dev/null)" || \
	        { echo "fuzz: $$t found a crash: $$(ls $(BUILD)/fuzz/crashes/$$t-*)"; exit 1; }; \
	done

fuzz-regress: fuzz-build
	@for t in $(FUZZ_TARGETS); do \
	    rm -rf $(BUILD)/fuzz/regress/$$t; mkdir -p $(BUILD)/fuzz/regress/$$t; \
	    $(BUILD)/fuzz/$$t $(FUZZ_RUN_FLAGS) $(fuzz_dict) -seed=1 -max_total_time=$(FUZZ_REGRESS_SECONDS) \
	        -artifact_prefix=$(BUILD)/fuzz/regress/$$t/ $(BUILD)/fuzz/regress/$$t \
	        tests/fuzz/corpus/$$t > $(BUILD)/fuzz/regress/$$t.log 2>&1 || \
	        { tail -40 $(BUILD)/fuzz/regress/$$t.log; \
	          echo "fuzz-regress: $$t FAILED (input kept in $(BUILD)/fuzz/regress/$$t/)"; exit 1; }; \
	    echo "fuzz-regress: $$t: $$(ls tests/fuzz/corpus/$$t | wc -l) corpus inputs replayed," \
	        "$$(grep -o 'Done [0-9]* runs' $(BUILD)/fuzz/regress/$$t.log | grep -o '[0-9]*') runs: ok"; \
	done

# ---- ISO, QEMU runs and tests (tools/) ----
# The ISO's command line is baked into its grub.cfg; the stamp file makes a
# changed ISO_CMDLINE rebuild the image.
$(BUILD)/iso-cmdline: FORCE
	@mkdir -p $(BUILD)
	@printf '%s\n' '$(subst ','\'',$(ISO_CMDLINE))' | cmp -s - $@ || \
	    printf '%s\n' '$(subst ','\'',$(ISO_CMDLINE))' > $@

$(BUILD)/bareio.iso: $(BUILD)/bareio.elf $(BUILD)/iso-cmdline tools/mkiso tools/grub.cfg.in
	tools/mkiso $@ '$(subst ','\'',$(ISO_CMDLINE))' $(BUILD)/bareio.elf

iso: $(BUILD)/bareio.iso

# The USB stick image (tools/mkusb): GPT, BIOS and UEFI GRUB, bareio.cfg on a
# FAT partition the lab edits. USB_ARGS are mkusb's options (e.g.
# --full "tests=nvme.*" --timeout 2); the stamp file makes a change rebuild it.
# Each build gets a new boot id unless USB_ARGS gives one (--bootid).
USB_ARGS ?=
$(BUILD)/usb-args: FORCE
	@mkdir -p $(BUILD)
	@printf '%s\n' '$(subst ','\'',$(USB_ARGS))' | cmp -s - $@ || \
	    printf '%s\n' '$(subst ','\'',$(USB_ARGS))' > $@

$(BUILD)/bareio-usb.img: $(BUILD)/bareio.elf $(BUILD)/usb-args tools/mkusb tools/bareio.cfg.in \
                         tools/usb-grub.cfg.in
	tools/mkusb $(USB_ARGS) $@ $(BUILD)/bareio.elf

usb: $(BUILD)/bareio-usb.img

# The network boot tree (tools/mknetboot): GRUB for BIOS and UEFI PXE
# (grub-mknetdir), an iPXE script, the kernel and the command lines by MAC.
# NETBOOT_ARGS are mknetboot's options, e.g.
#   make netboot NETBOOT_ARGS='--default "tests=* exit=poweroff" --mac 52:54:00:12:34:56="tests=nvme.*"'
# Made anew every time (well under a second); prints the DHCP filename for
# each firmware and the iPXE script's, relative to $(BUILD)/netboot.
NETBOOT_ARGS ?=
netboot: deps $(BUILD)/bareio.elf
	@tools/mknetboot $(BUILD)/netboot $(BUILD)/bareio.elf $(NETBOOT_ARGS)

deps:
	@tools/install-deps

# make run: boot the harness on the default scratch disks (RUN_CMDLINE is the
# kernel command line, RUN_ARGS more tools/run-qemu options).
RUN_CMDLINE ?= bench=quick
RUN_ARGS ?=
# After a run that wrote stamped data (a manifest in the log), tools/verify-image
# proves on the host that each scratch image holds what the manifest says.
RUN_IMAGES := $(BUILD)/disks/ahci0.img $(BUILD)/disks/nvme0n1.img $(BUILD)/disks/vblk0.img
run: deps
	@$(MAKE) --no-print-directory kernel host-tools
	tools/run-qemu --kernel $(BUILD)/bareio.elf --append '$(subst ','\'',$(RUN_CMDLINE))' --disks default \
	    --disk-dir $(BUILD)/disks --log $(BUILD)/run.log $(RUN_ARGS)
	@if grep -q '^bareio-manifest: begin' $(BUILD)/run.log; then \
	    for img in $(RUN_IMAGES); do BAREIO_BUILD=$(BUILD) tools/verify-image $(BUILD)/run.log $$img || exit 1; done; \
	fi

# make bench: bareio's benchmark engine next to Linux + fio on the same QEMU
# machine (tools/bench; BENCH_ARGS e.g. --rounds 5 --backends null).
BENCH_ARGS ?=
bench: deps
	@tools/install-deps --bench
	@$(MAKE) --no-print-directory kernel
	$(PYTHON) tools/bench-initramfs --out $(BUILD)/bench/initramfs.cpio.gz
	@$(PYTHON) tools/bench --out $(BUILD)/bench --kernel $(BUILD)/bareio.elf $(BENCH_ARGS); status=$$?; \
	    $(PYTHON) tools/bench-report -o $(BUILD)/bench --compare $(BUILD)/bench/compare.json \
	        $(BUILD)/bench/logs/*-round1.log > $(BUILD)/bench/report.txt && \
	    echo "bench: plots in $(BUILD)/bench (latency.png, qd.png, compare.png; table in report.txt)"; \
	    exit $$status

test: deps
	@$(MAKE) --no-print-directory kernel
	@$(MAKE) --no-print-directory layers
	@$(MAKE) --no-print-directory host-test
	@$(MAKE) --no-print-directory fuzz-regress
	@$(MAKE) --no-print-directory tools-test
	@$(MAKE) --no-print-directory scenario-test

# ---- layers: no file calls into a file above it (tools/layercheck) ----
# Over `nm` of the kernel's objects: calls go tests/kernel → tests/harness →
# drivers/<controller> → drivers/blk → drivers/pci → kernel → lib, no two
# controller drivers use each other, and inside each folder the files call
# each other without a circle. LAYERS_ARGS=-v prints each folder's layers.
LAYERS_ARGS ?=
layers: $(KERNEL_OBJS)
	$(PYTHON) tools/layercheck $(LAYERS_ARGS) --nm $(NM) --objdir $(BUILD)/obj $(KERNEL_OBJS)

tools-test:
	BAREIO_BUILD=$(BUILD) $(PYTHON) -m pytest -q tests/tools

# Scenarios boot the real kernel under TCG, two at a time when pytest-xdist is there.
# test_lava.py runs Debian's lava-dispatcher (about 130 packages, 75 s to install once).
scenario-test: $(BUILD)/bareio.elf $(BUILD)/bareio.iso
	@tools/install-deps --lava
	BAREIO_BUILD=$(BUILD) $(PYTHON) -m pytest -q --durations=0 \
	    $$($(PYTHON) -c 'import xdist' 2>/dev/null && echo '-n 2') tests/scenarios

# ---- mutation testing (tools/mutate, tests/mutants.list) ----
# `make mutate` plants every one-line mutant of the list, one at a time, in a
# copy of the tree ($(BUILD)/mutate/tree), runs the narrowest test that should
# catch it and reports killed/survived and the kill rate; it fails below
# MUTATE_THRESHOLD percent. Too slow for `make test` (it boots QEMU for a
# few); `make mutate-check` (run by tools-test) only checks that every
# mutant's line is still there, exactly once. MUTATE_ONLY=name,... runs some.
MUTATE_THRESHOLD ?= 90
MUTATE_ONLY ?=
mutate:
	BAREIO_BUILD=$(BUILD) $(PYTHON) tools/mutate --threshold $(MUTATE_THRESHOLD) \
	    $(if $(MUTATE_ONLY),--only $(MUTATE_ONLY))

mutate-check:
	$(PYTHON) tools/mutate --check

clean:
	rm -rf $(BUILD)
