# SPDX-License-Identifier: MIT
"""tests/scenarios/test_virtio.py — the virtio-blk driver on QEMU's virtio-blk-pci.

Each scenario boots the real kernel on its own virtio-blk devices: a modern
device (disable-legacy=on) running preflight, dio and virtio, with the image
proven on the host by tools/verify-image afterwards; 4096-byte blocks (sectors
stay 512 bytes); a transitional device (1af4:1001); polled completions and one
shared MSI-X vector; direct descriptors on a 16-entry queue (indirect_desc=off);
a read-only drive (VIRTIO_BLK_F_RO); a legacy-only device (disable-modern=on)
reported as a named controller failure, not a crash; blkdebug read and write
errors decoded; a timeout on a throttled drive ended by a device reset; bus
mastering left off on purpose; and three devices named vblk0..vblk2 in PCI order.
"""
import re

from conftest import CRASH, FAIL, PASS, assert_clean_pass, case_log, count, scratch_image, sha256, tool

MiB = 1024 * 1024
SUITES = "tests=preflight,dio,virtio"


image = scratch_image


def vblk(path, serial, props="", drive=""):
    """A virtio-blk-pci device on `path` (modern unless props say otherwise)."""
    return ["-drive", f"if=none,id={serial},format=raw,file={path}{drive}",
            "-device", f"virtio-blk-pci,drive={serial},serial={serial}{props}"]


def run(boot, kernel, cmdline, qemu_args=(), disks="none", timeout=300):
    return boot("--kernel", kernel, "--append", cmdline, "--disks", disks, "--", *qemu_args,
                timeout=timeout)


def result(b, case):
    found = b.report.find(f"virtio.{case}")
    assert found is not None, f"virtio.{case} missing\n{b.describe()}"
    return found.status


def virtio_results(b):
    suite = b.report.find("virtio")
    assert suite is not None, b.describe()
    return {c.name: c.status for c in suite.children}


# The cases that need a set-up of their own skip elsewhere; everything else must pass.
NEEDS_SETUP = {"virtio_read_only_device_refuses_writes", "virtio_injected_read_error_decoded",
               "virtio_injected_write_error_decoded"}


def assert_virtio_cases(b, skipped=NEEDS_SETUP):
    results = virtio_results(b)
    assert len(results) == 18, results
    for case, status in results.items():
        want = "skip" if case in skipped else "pass"
        assert status == want, (case, status, b.describe())


def dio_summary(log, dev):
    m = re.search(rf"^# dio summary: {dev}\s+(\S+)\s+(\S+)\s+(\d+)\s+(\d+)\s+(\d+)\s+(.*)$", log, re.M)
    assert m, f"no dio summary for {dev}"
    return m.group(1), m.group(2), int(m.group(3)), int(m.group(4)), int(m.group(5)), m.group(6)


def verify(b, path, dev="vblk0"):
    p = tool("verify-image", b.log_path, path)
    m = re.search(rf"verify-image: {dev}: (\d+) ranges, (\d+) blocks OK", p.stdout)
    assert m and int(m.group(1)) > 0 and int(m.group(2)) > 0, p.stdout + p.stderr
    return p


def test_virtio_modern_dio_and_suite_verified_on_host(boot, kernel, tmp_path):
    b = run(boot, kernel, SUITES, disks="virtio")
    assert_clean_pass(b, expect=["preflight", "dio", "virtio"])
    log = b.log
    assert re.search(r"^vblk0: [0-9a-f:.]+ 1af4:1042 virtio 1\.x \(modern\), features SEG_MAX "
                     r"BLK_SIZE FLUSH TOPOLOGY DISCARD WRITE_ZEROES INDIRECT_DESC VERSION_1 "
                     r"\(offered 0x[0-9a-f]+\), queue 0 of 256 entries \(device 256\), indirect "
                     r"descriptors, msix \(configuration changes entry 0, queue 0 entry 1\)$",
                     log, re.M), b.describe()
    assert ("vblk0: disk virtio-blk serial bareio-vblk0 fw virtio, 64 MiB (131072 sectors), "
            "512/512 bytes per block (logical/physical), 131072 blocks, seg_max 254, size_max none, "
            "max transfer 2048 blocks, flush (write cache)") in log, b.describe()
    assert "vblk0: scratch (label): writes to 1 MiB..64 MiB" in log
    assert_virtio_cases(b)
    kind, access, passed, failed, _, causes = dio_summary(log, "vblk0")
    assert (kind, access, failed, causes) == ("vblk", "scratch", 0, "-") and passed >= 14, b.describe()
    # The dio harness wrote the virtio disk; the host proves every range.
    img = str(tmp_path / "disks" / "vblk0.img")
    verify(b, img)
    # Requests split at max_transfer, and a split cut inside a segment.
    assert "vblk0: 2049 blocks in 2 virtio-blk requests each way" in log
    assert re.search(r"vblk0: 256 segments of 768 bytes \(384 blocks\) written in [2-9] virtio-blk "
                     r"requests \(seg_max 254\)", log), b.describe()
    assert re.search(r"vblk0: 256 reads from one kick \(queue depth 256, indirect\)", log)
    # The reset case is the only reset; shutdown flushes and resets.
    assert count(log, r"vblk0: device reset \(") == 2, b.describe()      # + DEVICE_NEEDS_RESET
    assert count(case_log(b, "virtio.virtio_reset_reposts_requests_in_flight"),
                 r"vblk0: reset done, 4 request\(s\) in flight posted again, 0 failed$") == 1
    assert count(case_log(b, "virtio.virtio_needs_reset_recovered"),
                 r"vblk0: reset done, 0 request\(s\) in flight posted again, 1 failed$") == 1
    assert re.search(r"^vblk0: shutdown: write cache flushed in \d+ us; device reset "
                     r"\(device_status 0\) in \d+ us$", log, re.M), b.describe()
    # Damage to a stamped block is found on the host with its LBA.
    block = log.split("bareio-manifest: begin device=vblk0 ")[1]
    lba = int(re.search(r"bareio-manifest: stamped lba=(\d+) count=", block).group(1))
    with open(img, "r+b") as f:
        f.seek(lba * 512 + 77)
        byte = f.read(1)
        f.seek(lba * 512 + 77)
        f.write(bytes([byte[0] ^ 0x5a]))
    p = tool("verify-image", b.log_path, img, check=False)
    assert p.returncode == 1 and str(lba) in p.stdout and "corrupt" in p.stdout, p.stdout


def test_virtio_4096_byte_blocks_use_512_byte_sectors(boot, kernel, tmp_path):
    b = run(boot, kernel, SUITES, disks="virtio-4k")
    assert_clean_pass(b, expect=["preflight", "dio", "virtio"])
    log = b.log
    assert ("vblk0: disk virtio-blk serial bareio-vblk0 fw virtio, 64 MiB (131072 sectors), "
            "4096/4096 bytes per block (logical/physical), 16384 blocks") in log, b.describe()
    assert_virtio_cases(b)
    # The header's sector is the LBA in 512-byte units: 8 per block.
    for op, lba, sector in re.findall(r"vblk0: (read|write) lba (\d+): sector (\d+), 3 descriptors",
                                      log):
        assert int(sector) == 8 * int(lba), (op, lba, sector)
    assert re.search(r"vblk0: (read|write) lba \d+: sector \d+, 3 descriptors", log), b.describe()
    assert "lies past the capacity of 131072 sectors" in log
    assert dio_summary(log, "vblk0")[3] == 0
    verify(b, str(tmp_path / "disks" / "vblk0-4k.img"))


def test_virtio_transitional_device(boot, kernel, tmp_path):
    """Without disable-legacy, on q35's root bus, QEMU's device is transitional
    (1af4:1001, a legacy I/O BAR0 beside the virtio capabilities): driven as
    modern through the capabilities. Its serial is longer than GET_ID's 20 bytes."""
    img = image(tmp_path, "trans")
    b = run(boot, kernel, "tests=preflight,virtio",
            vblk(img, "bareio-vblk-20-chars-and-more", drive=",discard=unmap"))
    assert_clean_pass(b, expect=["preflight", "virtio"])
    assert re.search(r"^vblk0: [0-9a-f:.]+ 1af4:1001 virtio 1\.x \(transitional\)", b.log, re.M), \
        b.describe()
    # GET_ID gives 20 bytes, without a NUL when the serial is that long or longer.
    assert "vblk0: disk virtio-blk serial bareio-vblk-20-chars fw virtio," in b.log, b.describe()
    assert_virtio_cases(b)


def test_virtio_polled(boot, kernel, tmp_path):
    img = image(tmp_path, "polled")
    b = run(boot, kernel, "tests=virtio virtio.irq=poll",
            vblk(img, "bareio-vblk0", ",disable-legacy=on"))
    assert_clean_pass(b, expect=["virtio"])
    assert re.search(r"^vblk0: .*indirect descriptors, polled$", b.log, re.M), b.describe()
    assert_virtio_cases(b, NEEDS_SETUP | {"virtio_missing_interrupt_detected"})
    assert "is polled (virtio.irq=poll or no MSI-X)" in b.log
    assert re.search(r"queue 0: size 256, .*, polled, 0 interrupts", b.log), b.describe()


def test_virtio_one_shared_msix_vector(boot, kernel, tmp_path):
    """vectors=1: configuration changes and queue 0 share MSI-X table entry 0."""
    img = image(tmp_path, "shared")
    b = run(boot, kernel, "tests=virtio", vblk(img, "bareio-vblk0", ",disable-legacy=on,vectors=1"))
    assert_clean_pass(b, expect=["virtio"])
    assert "msix (one table entry: configuration changes and queue 0 share it)" in b.log, b.describe()
    assert_virtio_cases(b)
    assert "(table entry 0) did not fire" in b.log


def test_virtio_direct_descriptors_small_queue(boot, kernel, tmp_path):
    """indirect_desc=off and queue-size=16: chains in the ring itself, seg_max
    14 (two descriptors for header and status), five one-segment requests in
    flight at most; the dio harness still proves its data."""
    img = image(tmp_path, "direct")
    b = run(boot, kernel, "tests=virtio,dio",
            vblk(img, "bareio-vblk0", ",disable-legacy=on,indirect_desc=off,queue-size=16"))
    assert_clean_pass(b, expect=["virtio", "dio"])
    log = b.log
    assert re.search(r"^vblk0: .* features SEG_MAX BLK_SIZE FLUSH TOPOLOGY DISCARD WRITE_ZEROES "
                     r"VERSION_1 \(offered 0x[0-9a-f]+\), queue 0 of 16 entries \(device 16\), "
                     r"direct descriptors", log, re.M), b.describe()
    assert "seg_max 14, size_max none" in log
    assert_virtio_cases(b)
    assert "3 descriptors (direct chain)" in log
    assert "5 reads from one kick (queue depth 5, direct)" in log
    assert re.search(r"vblk0: 16 segments of 768 bytes \(24 blocks\) written in [2-9] virtio-blk", log)
    assert re.search(r"vblk0: \d+ completions on a 16-entry queue", log)
    assert dio_summary(log, "vblk0")[3] == 0
    verify(b, img)


def test_virtio_read_only_drive(boot, kernel, tmp_path):
    """readonly=on: VIRTIO_BLK_F_RO offered and accepted, the disk read-only
    though its image is labelled scratch, writes refused with the feature
    named; the image comes out unchanged."""
    img = image(tmp_path, "ro")
    before = sha256(img)
    b = run(boot, kernel, SUITES, vblk(img, "bareio-ro", drive=",readonly=on"))
    assert_clean_pass(b, expect=["preflight", "dio", "virtio"])
    log = b.log
    assert re.search(r"^vblk0: .* features SEG_MAX RO BLK_SIZE ", log, re.M), b.describe()
    assert ("vblk0: read-only: the device is read-only (VIRTIO_BLK_F_RO: every write fails, "
            "Virtio 1.2 §5.2.5) (though marked scratch: label)") in log, b.describe()
    assert result(b, "virtio_read_only_device_refuses_writes") == "pass"
    assert result(b, "virtio_queue_depth_from_one_kick") == "pass"
    assert result(b, "virtio_round_trips_across_max_transfer") == "skip"
    assert dio_summary(log, "vblk0")[1] == "read-only"
    assert "write cache flushed" not in log        # nothing to flush on a read-only disk
    assert sha256(img) == before, "the read-only drive was written"


def test_virtio_legacy_only_device_is_a_named_failure(boot, kernel, tmp_path):
    """disable-modern=on leaves only the legacy (0.9.5) interface: no virtio
    capability. The driver names it and leaves it alone; preflight fails on
    it, the run does not crash, and the virtio suite has nothing to test."""
    img = image(tmp_path, "legacy")
    before = sha256(img)
    b = run(boot, kernel, "tests=preflight,virtio",
            vblk(img, "bareio-legacy", ",disable-modern=on,disable-legacy=off"), timeout=120)
    assert b.status == FAIL and b.status != CRASH, b.describe()
    assert ("vblk0: unsupported controller version or capability: legacy-only virtio device "
            "1af4:1001 (no virtio 1.x capability): bareio drives virtio 1.x only; use a modern or "
            "transitional device (QEMU: disable-modern=off)") in b.log, b.describe()
    assert b.report.find("preflight.preflight_controller_bring_up").status == "fail"
    # Not a BAR the firmware failed to place: the BAR check names the function
    # and points at the bring-up failure instead of blaming the firmware.
    assert b.report.find("preflight.preflight_bar_assigned").status == "pass", b.describe()
    assert "vblk0: no virtio common configuration BAR: not a function vblk drives" in b.log, b.describe()
    suite = b.report.find("virtio")
    assert suite is not None and suite.status == "skip", b.describe()
    assert "no virtio-blk disk registered" in b.log
    assert "=== bareio KTAP END ===" in b.log
    assert not re.search(r"^vblk0: (disk|scratch)", b.log, re.M)
    assert sha256(img) == before


def test_virtio_blkdebug_errors_decoded(boot, kernel, tmp_path):
    """Reads of LBA 100000 and writes of LBA 110000 fail in blkdebug: the
    device answers VIRTIO_BLK_S_IOERR, decoded as a media error at the LBA."""
    img = image(tmp_path, "err")
    node = ("driver=raw,node-name=bareio-blkdebug,file.driver=blkdebug,"
            "file.inject-error.0.event=read_aio,file.inject-error.0.iotype=read,"
            "file.inject-error.0.sector=100000,"
            "file.inject-error.1.event=write_aio,file.inject-error.1.iotype=write,"
            "file.inject-error.1.sector=110000,"
            f"file.image.driver=file,file.image.filename={img}")
    b = run(boot, kernel, "tests=virtio virtio.test_read_error=100000 virtio.test_write_error=110000",
            ["-blockdev", node, "-device",
             "virtio-blk-pci,drive=bareio-blkdebug,serial=bareio-blkdebug,disable-legacy=on"])
    assert_clean_pass(b, expect=["virtio"])
    assert result(b, "virtio_injected_read_error_decoded") == "pass"
    assert result(b, "virtio_injected_write_error_decoded") == "pass"
    assert ("VIRTIO_BLK_S_IOERR: read failed (virtio-blk has no finer code: a media error); "
            "IN (read) lba 100000+1 (sector 100000") in b.log, b.describe()
    assert ("VIRTIO_BLK_S_IOERR: write failed (virtio-blk has no finer code: a media error); "
            "OUT (write) lba 110000+1 (sector 110000") in b.log, b.describe()
    assert count(b.log, r"vblk0: device reset \(") == 0, b.describe()      # an error is no reset


def test_virtio_timeout_ends_in_device_reset(boot, kernel, tmp_path):
    """Throttled to 1 IOPS with blk.timeout=300: a read is late; virtio has no
    abort, so the device is reset, the read fails as a timeout, and the device
    serves a read with a longer deadline."""
    img = image(tmp_path, "slow")
    b = run(boot, kernel, "tests=virtio.virtio_timeout_recovered blk.timeout=300",
            vblk(img, "bareio-slow", ",disable-legacy=on", drive=",throttling.iops-total=1"),
            timeout=180)
    assert_clean_pass(b, expect=["virtio"])
    assert result(b, "virtio_timeout_recovered") == "pass"
    text = case_log(b, "virtio.virtio_timeout_recovered")
    assert count(text, r"vblk0: slot \d+ IN \(read\) lba \d+\+1: no completion after 300 ms") == 1, \
        b.describe()
    assert count(text, r"vblk0: device reset \(slot \d+ timed out\)$") == 1
    assert count(text, r"vblk0: reset done, ") == 1
    assert "no completion within 300 ms; virtio has no abort: device reset" in text


def test_virtio_bus_master_off_reported(boot, kernel, tmp_path):
    img = image(tmp_path, "nobm")
    before = sha256(img)
    b = run(boot, kernel, "tests=virtio test.no_bus_master=vblk",
            vblk(img, "bareio-nobm", ",disable-legacy=on"), timeout=120)
    assert b.status == PASS, b.describe()
    assert re.search(r"vblk0: bus mastering disabled: PCI COMMAND\.BME is clear \(0x[0-9a-f]{4}\) "
                     r"on purpose \(test\.no_bus_master\); device left reset", b.log), b.describe()
    assert "no virtio-blk disk registered" in b.log
    assert sha256(img) == before


def test_virtio_devices_named_in_pci_order(boot, kernel, tmp_path):
    """Three virtio-blk functions: modern, legacy-only, modern with 4096-byte
    blocks. They are vblk0, vblk1 and vblk2 in PCI order; the legacy one is a
    named failure that keeps its number, the others are driven side by side."""
    args = (vblk(image(tmp_path, "a"), "bareio-va", ",disable-legacy=on,addr=0x4")
            + vblk(image(tmp_path, "l"), "bareio-vl", ",disable-modern=on,addr=0x5")
            + vblk(image(tmp_path, "c"), "bareio-vc", ",disable-legacy=on,addr=0x6,"
                   "logical_block_size=4096,physical_block_size=4096"))
    b = run(boot, kernel, "tests=virtio.virtio_devices_described,virtio.virtio_descriptors_as_sent",
            args, timeout=120)
    assert_clean_pass(b, expect=["virtio"])
    log = b.log
    assert re.search(r"^vblk0: 00:04\.0 1af4:1042 virtio 1\.x \(modern\)", log, re.M), b.describe()
    assert re.search(r"^vblk1: unsupported controller version or capability: legacy-only virtio "
                     r"device 1af4:1001", log, re.M), b.describe()
    assert re.search(r"^vblk2: 00:06\.0 1af4:1042 virtio 1\.x \(modern\)", log, re.M), b.describe()
    assert "vblk0: disk virtio-blk serial bareio-va fw virtio, 64 MiB (131072 sectors), 512/512" in log
    assert "vblk2: disk virtio-blk serial bareio-vc fw virtio, 64 MiB (131072 sectors), 4096/4096" in log
    text = case_log(b, "virtio.virtio_devices_described")
    assert 'vblk0: serial "bareio-va"' in text and 'vblk2: serial "bareio-vc"' in text, text
    assert "vblk1: serial" not in text
