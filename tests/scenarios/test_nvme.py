# SPDX-License-Identifier: MIT
"""tests/scenarios/test_nvme.py — the NVMe driver on QEMU's nvme device.

Each scenario builds its own QEMU devices (after `--`, with `--disks none`)
and boots the `nvme` suite on them: several namespaces with NSID gaps and
512/4096-byte formats, MSI-X with shadow doorbells and SGL data blocks, polled
with one queue pair, a large MDTS (chained PRP lists) and SGLs off (the dio
suite's verified data by PRPs), INTx (pin state polled) with fewer queues
granted than asked and queues as deep as CAP.MQES allows, blkdebug read/write
errors, a timeout under throttling, and bus mastering left off on purpose.
"""

import re

from conftest import PASS, assert_clean_pass, case_log, count, nvme_retry

MiB = 1024 * 1024
ALLOW = "allow_write=bareio-*"


def image(tmp_path, name, size=64 * MiB):
    path = str(tmp_path / name)
    with open(path, "ab") as f:
        f.truncate(size)
    return path


def drive(tmp_path, node, extra=""):
    return ["-drive", f"if=none,id={node},format=raw,discard=unmap,file={image(tmp_path, node + '.img')}{extra}"]


def subsystem(tmp_path, ctrl_props=""):
    """nvme-subsys + one controller; namespaces 1 (512 B), 2 (4096 B), 4 (512 B)
    and 5 (512 B + 8 bytes of metadata, which the driver must skip)."""
    args = ["-device", "nvme-subsys,id=subsys0,nqn=bareio-subsys",
            "-device", f"nvme,id=nvme0,serial=bareio-nvme0,subsys=subsys0{ctrl_props}"]
    for nsid, props in ((1, ""), (2, ",logical_block_size=4096,physical_block_size=4096"),
                        (4, ""), (5, ",ms=8")):
        args += drive(tmp_path, f"ns{nsid}") + ["-device", f"nvme-ns,drive=ns{nsid},nsid={nsid}{props}"]
    return args


def run(boot, kernel, cmdline, qemu_args, timeout=90):
    return boot("--kernel", kernel, "--append", cmdline, "--disks", "none", "--", *qemu_args,
                timeout=timeout)


def result(b, case):
    found = b.report.find(f"nvme.{case}")
    assert found is not None, f"nvme.{case} missing\n{b.describe()}"
    return found.status


def assert_resets(b, devices):
    """The controller resets the nvme suite makes, counted: one per writable
    namespace in nvme_reset_reposts_commands_in_flight, one for the injected
    CSTS.CFS, each done; none anywhere else."""
    reposts = case_log(b, "nvme.nvme_reset_reposts_commands_in_flight")
    assert count(reposts, r"nvme0: controller reset \(test: reset with commands in flight\)$") == devices
    fatal = case_log(b, "nvme.nvme_fatal_status_resets_controller")
    assert count(fatal, r"nvme0: controller reset \(CSTS\.CFS\)$") == 1, b.describe()
    assert count(b.log, r"nvme0: controller reset \(") == devices + 1, b.describe()
    assert count(b.log, r"nvme0: reset done, ") == devices + 1, b.describe()


def test_nvme_namespaces_msix_shadow_doorbells(boot, kernel, tmp_path):
    # Four pairs asked of one CPU (the default would make one): queues a CPU
    # does not pick by itself still serve what is sent to them.
    b = run(boot, kernel, f"tests=nvme nvme.queues=4 {ALLOW}", subsystem(tmp_path))
    assert_clean_pass(b, expect=["nvme"])
    log = b.log
    assert "queues 4x256 (granted 64), 3 more than the 1 CPU (nvme.queues=4), msix," in log
    assert "shadow doorbells on" in log, b.describe()
    # QEMU has SGLs for I/O commands: a buffer over two pages is one data block.
    assert "shadow doorbells on, sgl data blocks, NN" in log, b.describe()
    assert "64 KiB read as one SGL data block" in case_log(b, "nvme.nvme_sgl_data_block")
    # The boot line of the issue: name, model, serial, capacity, LBA size, MDTS, queues.
    for name, bs in (("nvme0n1", 512), ("nvme0n2", 4096), ("nvme0n4", 512)):
        assert (f"{name}: QEMU NVMe Ctrl bareio-nvme0 64 MiB lba {bs} mdts 512KiB queues 4x256, "
                f"nsid {name[-1]} (") in log, b.describe()
    assert "nvme0n3" not in log
    assert re.search(r"^nvme0 nsid 5: not tested: unsupported .*: LBA format \d+ has 8 metadata bytes", log, re.M)
    # Shutdown deletes each SQ before its CQ (QEMU refuses the other order).
    assert "nvme0: shutdown complete" in log and "deleting I/O queue pair" not in log
    assert result(b, "nvme_cq_wraps_phase_and_sq_head") == "pass"
    assert result(b, "nvme_fatal_status_resets_controller") == "pass"
    assert "controller fatal status while enabling" in log and "controller reset (CSTS.CFS)" in log
    assert_resets(b, 3)
    assert "shadow doorbells on: " in log
    # MSI-X delivered on every queue pair; a masked vector is caught.
    assert result(b, "nvme_every_queue_pair_serves") == "pass"
    assert result(b, "nvme_missing_interrupt_detected") == "pass"
    assert "did not fire in" in log
    # MDTS 512 KiB: the unsplit negative case ran; no chained list is possible.
    assert result(b, "nvme_above_mdts_unsplit_decoded") == "pass"
    assert "status 0x8002: generic: invalid field in command" in log
    assert "status 0x8080: generic: LBA out of range" in log
    assert "to nsid 3: status 0x8002" in log
    assert result(b, "nvme_prp_chained_list") == "skip"
    # discard=unmap: deallocated blocks read back zero, as DLFEAT says.
    assert "62 of 62 blocks read back zero after deallocate" in log


def test_nvme_polled_one_queue_large_mdts(boot, kernel, tmp_path):
    b = run(boot, kernel, f"tests=nvme,dio nvme.irq=poll nvme.queues=1 nvme.shadow_db=off "
            f"nvme.sgl=off {ALLOW}",
            drive(tmp_path, "big") + ["-device", "nvme,serial=bareio-big,drive=big,mdts=10"],
            timeout=240)
    assert_clean_pass(b, expect=["nvme", "dio"])
    # nvme.sgl=off: every transfer, the dio suite's verified data too, goes by PRPs.
    assert "shadow doorbells off (nvme.shadow_db=off), prp (nvme.sgl=off)" in b.log, b.describe()
    assert "64 KiB read as a PRP list" in case_log(b, "nvme.nvme_sgl_data_block")
    assert "mdts 4MiB, queues 1x256" in b.log and ", polled," in b.log, b.describe()
    assert "shadow doorbells off (nvme.shadow_db=off)" in b.log
    assert "shadow doorbells off: " in b.log    # every doorbell update an MMIO write
    assert result(b, "nvme_prp_chained_list") == "pass"          # 4 MiB: 3 chained list pages
    assert result(b, "nvme_above_mdts_unsplit_decoded") == "pass"  # 8 MiB unsplit
    assert result(b, "nvme_missing_interrupt_detected") == "skip"
    assert_resets(b, 1)


def test_nvme_intx_two_queues(boot, kernel, tmp_path):
    """Four queue pairs asked, two granted (max_ioqpairs=2: Set Features answers
    1, 0-based); 4096 entries asked, CAP.MQES (2047, 0-based) allows 2048. INTx
    has no IOAPIC behind it: the pin is seen in PCI STATUS when polling."""
    b = run(boot, kernel, f"tests=nvme nvme.irq=intx nvme.queues=4 nvme.qdepth=4096 {ALLOW}",
            drive(tmp_path, "intx") + ["-device", "nvme,serial=bareio-intx,drive=intx,max_ioqpairs=2"])
    assert_clean_pass(b, expect=["nvme"])
    assert "queues 2x2048 (granted 2), 1 more than the 1 CPU (nvme.queues=4), intx-polled," \
        in b.log, b.describe()
    assert "queue 2 (intx-polled): 2 pin assertions seen" in b.log, b.describe()
    assert "0 pin assertions" not in b.log
    assert result(b, "nvme_cq_wraps_phase_and_sq_head") == "pass"
    assert_resets(b, 1)


def test_nvme_blkdebug_errors_decoded(boot, kernel, tmp_path):
    """Reads of LBA 100000 and writes of LBA 110000 fail in QEMU's blkdebug;
    the driver retries (DNR clear), then reports 0x281/0x280 with the LBA,
    and the rest of the suite passes."""
    img = image(tmp_path, "err.img")
    node = ("driver=raw,node-name=err0,file.driver=blkdebug,"
            "file.inject-error.0.event=read_aio,file.inject-error.0.iotype=read,"
            "file.inject-error.0.sector=100000,"
            "file.inject-error.1.event=write_aio,file.inject-error.1.iotype=write,"
            "file.inject-error.1.sector=110000,"
            f"file.image.driver=file,file.image.filename={img}")
    b = run(boot, kernel, f"tests=nvme {ALLOW} test.nvme_error_dev=nvme0n1 "
            "test.nvme_read_error_lba=100000 test.nvme_write_error_lba=110000",
            ["-blockdev", node, "-device", "nvme,serial=bareio-err,drive=err0"])
    assert_clean_pass(b, expect=["nvme"])
    assert result(b, "nvme_injected_read_error_decoded") == "pass"
    assert result(b, "nvme_injected_write_error_decoded") == "pass"
    assert "media/data integrity: unrecovered read error (SCT 2h SC 81h); read nsid 1 lba 100000+1" in b.log
    assert "media/data integrity: write fault (SCT 2h SC 80h); write nsid 1 lba 110000+1" in b.log
    # DNR clear: each injected error retried exactly NVME_MAX_RETRIES (2)
    # times, by the case that injects it, then reported; never a third time.
    for case, op, lba in (("nvme_injected_read_error_decoded", "read", 100000),
                          ("nvme_injected_write_error_decoded", "write", 110000)):
        text = case_log(b, f"nvme.{case}")
        assert (count(text, nvme_retry(op, lba, 1)), count(text, nvme_retry(op, lba, 2))) == (1, 1), \
            (case, b.describe())
    assert count(b.log, r"\(DNR clear\)$") == 4, b.describe()
    assert count(b.log, r"retry [3-9]\d* of") == 0, b.describe()
    assert_resets(b, 1)


def test_nvme_timeout_abort_then_reset(boot, kernel, tmp_path):
    """QEMU throttled to 1 IOPS and blk.timeout=300: a read is late, Abort is
    accepted but does nothing (QEMU), the controller reset ends it with a
    timeout, and the controller then serves a read with a longer deadline."""
    b = run(boot, kernel, f"tests=nvme.nvme_timeout_recovered blk.timeout=300 {ALLOW}",
            ["-drive", f"if=none,id=slow,format=raw,file={image(tmp_path, 'slow.img')},"
                       "throttling.iops-total=1",
             "-device", "nvme,serial=bareio-slow,drive=slow"])
    assert_clean_pass(b, expect=["nvme"])
    assert result(b, "nvme_timeout_recovered") == "pass"
    assert "sending Abort" in b.log and "controller reset (sq 1 cid" in b.log
    assert "reset done, 1 I/O queue pairs recreated" in b.log    # one CPU: one pair
    # One late command: one Abort, one reset, nothing more.
    assert count(b.log, r"; sending Abort$") == 1, b.describe()
    assert count(b.log, r"nvme0: controller reset \(") == 1, b.describe()
    assert count(b.log, r"nvme0: reset done, ") == 1, b.describe()


def test_nvme_bus_master_off_reported(boot, kernel, tmp_path):
    b = run(boot, kernel, f"tests=nvme test.no_bus_master=nvme {ALLOW}",
            drive(tmp_path, "nobm") + ["-device", "nvme,serial=bareio-nobm,drive=nobm"], timeout=60)
    assert b.status == PASS, b.describe()
    assert "nvme0: bus mastering disabled: PCI COMMAND.BME is clear" in b.log, b.describe()
    assert "on purpose (test.no_bus_master)" in b.log
    assert "nvme0n1" not in b.log
