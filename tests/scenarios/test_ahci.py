# SPDX-License-Identifier: MIT
"""tests/scenarios/test_ahci.py — the AHCI driver on QEMU's q35 ich9-ahci.

Each scenario boots the real kernel with its own disks on the built-in
controller (buses ide.0..ide.5) and checks the boot lines and the `ahci`
suite's KTAP results:
- MSI completions, disks on ports 0, 2 (3 TiB sparse: LBAs beyond 2^32) and
  5, an ATAPI CD-ROM on port 1, ports 3 and 4 empty;
- polled completions on a disk with blkdebug read and write errors injected;
- a throttled disk with a short blk.timeout=: a timeout recovered;
- test.no_bus_master=ahci: the controller is reported, no disk is driven.
Images are sparse files in the test's tmp dir; writes are allowed through
allow_write=bareio-* (the serials below).
"""
import re

from conftest import PASS, ahci_recoveries, case_log, count

MiB = 1024 * 1024
TiB = 1024 * 1024 * MiB


def image(tmp_path, name, size):
    path = str(tmp_path / f"{name}.img")
    with open(path, "ab") as f:
        f.truncate(size)
    return path


def hd(path, name, bus, serial, drive_opts=""):
    return ["-drive", f"if=none,id={name},format=raw,file={path}{drive_opts}",
            "-device", f"ide-hd,drive={name},bus={bus},serial={serial}"]


def results(b):
    """{case name: (ok, skipped, diagnostics)} of the ahci suite."""
    out = {}
    for line in b.log.splitlines():
        m = re.match(r"\s+(ok|not ok) \d+ (ahci_\w+)( # SKIP.*)?$", line)
        if m:
            out[m.group(2)] = (m.group(1) == "ok", bool(m.group(3)))
    return out


def assert_passed(b, names):
    r = results(b)
    for name in names:
        assert name in r, f"{name} did not run\n{b.describe()}"
        ok, skipped = r[name]
        assert ok and not skipped, f"{name}: ok={ok} skipped={skipped}\n{b.describe()}"


# Recoveries each case causes on QEMU's disk, counted (conftest.ahci_recoveries:
# NCQ errors, tags re-sent without NCQ, port errors without and with a
# COMRESET). An NCQ error with a persistent cause (a read past the end, a bad
# tag, an injected error) is one NCQ error (QEMU refuses the NCQ error log,
# so the log read resets the port; the error itself restarts it without a
# COMRESET, which would clear the log), one re-send without NCQ, and that
# re-send failing again alone: a port error ended by a COMRESET (the disk
# keeps ERR). Each tag in flight at the error is re-sent once: one for a case
# with one command out, 1 to 12 for the bad-tag case's 12 reads (how many are
# still queued when the bad one fails is up to QEMU's timing). The short PRDT
# sent with NCQ overflows (PxIS.OFS): one port error, COMRESET. Any other case
# recovers nothing.
PERSISTENT_NCQ_ERROR = (1, 1, 1, 1)
RECOVERIES = {"ahci_out_of_range_lba_decoded": PERSISTENT_NCQ_ERROR,
              "ahci_ncq_error_fails_only_the_bad_tag": (1, range(1, 13), 1, 1),
              "ahci_short_prdt_detected": (0, 0, 0, 1)}
INJECTED = {"ahci_injected_read_error_reported": PERSISTENT_NCQ_ERROR,
            "ahci_injected_write_error_reported": PERSISTENT_NCQ_ERROR}


def assert_recoveries(b, expected):
    """Every ahci case recovered exactly as `expected` says (others: nothing),
    and nothing recovered outside the cases."""
    total = [0, 0, 0, 0]
    for name in results(b):
        got = ahci_recoveries(case_log(b, f"ahci.{name}"))
        want = expected.get(name, (0, 0, 0, 0))
        assert all(g in w if isinstance(w, range) else g == w for g, w in zip(got, want)), \
            (name, got, want, b.describe())
        total = [t + g for t, g in zip(total, got)]
    assert list(ahci_recoveries(b.log)) == total, (ahci_recoveries(b.log), total, b.describe())


def test_ahci_msi_ports_0_2_5_cdrom_and_empty_ports(boot, kernel, tmp_path):
    args = (hd(image(tmp_path, "p0", 64 * MiB), "p0", "ide.0", "bareio-p0")
            + hd(image(tmp_path, "big", 3 * TiB), "big", "ide.2", "bareio-big")
            + hd(image(tmp_path, "p5", 64 * MiB), "p5", "ide.5", "bareio-p5")
            + ["-drive", "if=none,id=cd,media=cdrom", "-device", "ide-cd,drive=cd,bus=ide.1"])
    b = boot("--kernel", kernel, "--append", "tests=ahci allow_write=bareio-*", "--", *args,
             timeout=90)
    assert b.status == PASS, b.describe()
    log = b.log
    assert re.search(r"^ahci0: 00:1f\.2 8086:2922 ABAR 0x[0-9a-f]+ AHCI 1\.0, 6 ports \(PI 0x3f\), "
                     r"32 slots, NCQ yes, S64A yes.*irq msi$", log, re.M), b.describe()
    for port, serial, size in (("0", "bareio-p0", "64 MiB"), ("2", "bareio-big", "3 TiB"),
                               ("5", "bareio-p5", "64 MiB")):
        assert re.search(rf"^ahci0p{port}: QEMU HARDDISK {serial} fw \S+, {size} \(\d+ sectors\), "
                         r"512/512 bytes per sector.*NCQ 32", log, re.M), b.describe()
    assert re.search(r"^ahci0p2: .*\(6442450944 sectors\)", log, re.M)
    assert re.search(r"^ahci0p1: ATAPI device \(signature 0xeb140101\), not driven", log, re.M)
    for port in ("3", "4"):
        assert re.search(rf"^ahci0p{port}: empty \(PxSSTS DET 0", log, re.M), b.describe()
    # One line each for the ports not driven (nothing else before the block layer's lines).
    for port in ("1", "3", "4"):
        assert len(re.findall(rf"^ahci0p{port}: ", log, re.M)) == 1, b.describe()
    # Shutdown: each written disk's write cache flushed, engines stopped, bounded.
    for port in ("0", "2", "5"):
        assert re.search(rf"^ahci0p{port}: shutdown: write cache flushed in \d+ us; engines "
                         r"stopped \(ST/CR, FRE/FR clear\)", log, re.M), b.describe()
    # QEMU refuses READ LOG EXT: the NCQ error fallback says so and re-sends.
    assert re.search(r"NCQ error: NCQ error log unavailable, port reset: READ LOG EXT 10h: "
                     r"device refused command 2fh \(ABRT\)", log), b.describe()
    assert re.search(r"tag of lba \d+: lba out of range: device aborted a transfer past the end "
                     r".*\(re-sent without NCQ\)", log), b.describe()
    assert re.search(r"non-queued, PRDT 7 of 8 sectors: device error, 0 bytes: short transfer: "
                     r"PRDBC 0 of 4096 bytes", log), b.describe()
    assert_passed(b, ["ahci_disks_identified", "ahci_completion_mode",
                      "ahci_round_trip_1_sector_to_6_mib", "ahci_prdt_many_small_entries",
                      "ahci_large_request_is_split", "ahci_ncq_32_tags_in_flight", "ahci_flush",
                      "ahci_trim", "ahci_lba_beyond_2_32", "ahci_out_of_range_lba_decoded",
                      "ahci_misaligned_segments_refused", "ahci_lost_interrupt_diagnosed",
                      "ahci_ncq_error_fails_only_the_bad_tag", "ahci_nonqueued_commands",
                      "ahci_short_prdt_detected"])
    assert_recoveries(b, RECOVERIES)
    assert "irq mode msi" in log
    assert re.search(r"read at lba \d+ \(capacity \d+\): lba out of range, status 0x441: .*"
                     r"PxTFD STS 41h DRDY ERR, ERR 04h ABRT", log), b.describe()
    assert "MSI never arrived" in log


def test_ahci_polled_with_injected_errors(boot, kernel, tmp_path):
    """ahci.irq=poll on a disk whose backend fails a read at LBA 100000 and a
    write at 100200 (blkdebug): both reported with LBA and decoded status,
    everything else passes."""
    path = image(tmp_path, "faulty", 64 * MiB)
    blockdev = ("driver=raw,node-name=d0,file.driver=blkdebug,"
                "file.inject-error.0.event=read_aio,file.inject-error.0.iotype=read,"
                "file.inject-error.0.sector=100000,"
                "file.inject-error.1.event=write_aio,file.inject-error.1.iotype=write,"
                "file.inject-error.1.sector=100200,"
                f"file.image.driver=file,file.image.filename={path}")
    b = boot("--kernel", kernel, "--append",
             "tests=ahci allow_write=bareio-* ahci.irq=poll ahci.test_read_error=100000 "
             "ahci.test_write_error=100200", "--",
             "-blockdev", blockdev, "-device", "ide-hd,drive=d0,bus=ide.0,serial=bareio-blkdebug",
             timeout=90)
    assert b.status == PASS, b.describe()
    assert re.search(r"^ahci0: .*irq poll$", b.log, re.M), b.describe()
    assert_passed(b, ["ahci_completion_mode", "ahci_round_trip_1_sector_to_6_mib",
                      "ahci_ncq_32_tags_in_flight", "ahci_injected_read_error_reported",
                      "ahci_injected_write_error_reported"])
    assert_recoveries(b, {**RECOVERIES, **INJECTED})
    assert "irq mode poll, 0 interrupts" in b.log
    assert results(b)["ahci_lost_interrupt_diagnosed"] == (True, True)
    for op, lba in (("read", 100000), ("write", 100200)):
        assert re.search(rf"injected {op} error at lba {lba}: media error, error lba {lba}, "
                         r"status 0x441: device aborted \(ABRT\) at an in-range LBA "
                         r"\(re-sent without NCQ\); PxIS TFES( DHRS)?; "
                         r"PxTFD STS 41h DRDY ERR, ERR 04h ABRT", b.log), b.describe()


def test_ahci_timeout_recovered_on_throttled_disk(boot, kernel, tmp_path):
    """QEMU throttles the disk to 1 I/O per second; with blk.timeout=1500 a
    batch of 8 reads times out, the port recovers (COMRESET), the rest of
    the batch is aborted or completes, and the port works afterwards."""
    path = image(tmp_path, "slow", 64 * MiB)
    b = boot("--kernel", kernel, "--append", "tests=ahci.ahci_timeout_recovered blk.timeout=1500",
             "--", *hd(path, "s0", "ide.0", "bareio-slow", ",throttling.iops-total=1"),
             timeout=90)
    assert b.status == PASS, b.describe()
    assert_passed(b, ["ahci_timeout_recovered"])
    assert re.search(r"ahci0p0: command timeout; \d command\(s\) in flight failed; port restarted "
                     r"after COMRESET", b.log), b.describe()
    assert re.search(r"device timeout no completion within 1500 ms \(cmd 60h", b.log), b.describe()
    assert "aborted by the recovery of slot" in b.log
    # One timeout, one recovery: nothing else went wrong on the slow disk.
    assert count(b.log, r"ahci0p0: command timeout; ") == 1, b.describe()
    assert ahci_recoveries(b.log) == (0, 0, 0, 0), b.describe()


def test_ahci_bus_master_off_reported(boot, kernel, tmp_path):
    path = image(tmp_path, "bm", 64 * MiB)
    b = boot("--kernel", kernel, "--append", "tests=ahci test.no_bus_master=ahci", "--",
             *hd(path, "bm", "ide.0", "bareio-bm"), timeout=60)
    assert b.status == PASS, b.describe()
    assert re.search(r"ahci0: bus mastering disabled: PCI COMMAND 0x[0-9a-f]{4} has BME clear",
                     b.log), b.describe()
    assert not re.search(r"^ahci0p0: QEMU HARDDISK", b.log, re.M), b.describe()
    assert results(b)["ahci_disks_identified"] == (True, True)
