# SPDX-License-Identifier: MIT
"""tests/scenarios/test_dio.py — the direct-I/O harness end to end.

On the RAM disk (blk.ramdisk=): the whole dio suite passes, and each injected
fault (misdirected, lost, torn, corrupt, media) is reported with its class and
the right LBA while the other cases still pass. On QEMU's AHCI and NVMe disks:
scratch-labelled images are written, and tools/verify-image proves on the host
that they hold exactly what the kernel's manifest says; an unmarked disk comes
out byte for byte unchanged; blocks seeded by the host are verified read-only
(dio.expect=), and a corrupted one is named. Preflight: bus mastering left off
by test.no_bus_master= is diagnosed with its cause and remedy.
"""
import re

import pytest

from conftest import FAIL, assert_clean_pass, manifest_ranges, scratch_image, sha256, tool

MiB = 1024 * 1024
RAM = "blk.ramdisk=16M"
# The RAM disk has 4 KiB blocks and a label making 1 MiB.. scratch: the dio
# suite's first region (dio_write_read_verify) starts at LBA 256.
FAULTS = {"misdirect": 258, "lost": 260, "torn": 262, "corrupt": 264}
CLASS = {"misdirect": "misdirected", "lost": "lost", "torn": "torn", "corrupt": "corrupt"}
SEED_LBA, SEED_COUNT, SEED_VALUE, SEED_GEN = 5000, 100, 0x5eed, 7


image = scratch_image


def ahci(path, name, port):
    return ["-drive", f"if=none,id={name},format=raw,file={path}",
            "-device", f"ide-hd,drive={name},bus=ide.{port},serial=bareio-{name}"]


def nvme(path, name):
    return ["-drive", f"if=none,id={name}n1,format=raw,discard=unmap,file={path}",
            "-device", f"nvme,id={name},serial=bareio-{name},drive={name}n1"]


def nvme_keeping_data(path, name):
    """The ordinary -drive, without discard=unmap: QEMU's NVMe still reports
    DLFEAT 001b (deallocated blocks read zeroes) but keeps the data of the
    blocks a Dataset Management deallocate names."""
    return ["-drive", f"if=none,id={name}n1,format=raw,file={path}",
            "-device", f"nvme,id={name},serial=bareio-{name},drive={name}n1"]


def summary(log, device):
    """(passed, failed, skipped, causes) from the dio summary table."""
    m = re.search(rf"^# dio summary: {re.escape(device)}\s+\S+\s+\S+\s+(\d+)\s+(\d+)\s+(\d+)\s+(.*)$",
                  log, re.M)
    assert m, f"no summary line for {device}"
    return int(m.group(1)), int(m.group(2)), int(m.group(3)), m.group(4)


def has_device(log, name):
    return re.search(rf"^dio: {re.escape(name)} \(", log, re.M) is not None


# ---- the RAM disk ----

def test_ramdisk_whole_dio_suite_passes(boot, kernel):
    b = boot("--kernel", kernel, "--disks", "none", "--append", f"tests=dio {RAM}")
    assert_clean_pass(b, expect=["dio"])
    passed, failed, _, causes = summary(b.log, "ram0")
    assert failed == 0 and passed >= 12 and causes == "-", b.describe()
    assert re.search(r"^# dio summary: ram0 +ramdisk +scratch +\d+ ", b.log, re.M), b.describe()
    assert re.search(r"^dio: seed 0x[0-9a-f]+ \(dio.seed=", b.log, re.M)
    assert re.search(r"^bareio-manifest: begin device=ram0 serial=\"bareio-ram0\" identity=[0-9a-f]{32} "
                     r"block=4096 blocks=4096 seed=0x", b.log, re.M)
    assert re.search(r"^bareio-manifest: end device=ram0 ranges=\d+$", b.log, re.M)
    # The summary comes before the END banner, the manifest after it.
    assert b.log.index("# dio summary:") < b.log.index("=== bareio KTAP END ===") < \
        b.log.index("bareio-manifest: begin")


def test_ramdisk_same_seed_same_choices(boot, kernel):
    """dio.seed= makes the random choices repeat: the queue-depth window line is identical."""
    lines = []
    for _ in range(2):
        b = boot("--kernel", kernel, "--disks", "none",
                 "--append", f"tests=dio.dio_queue_depth_sweep {RAM} dio.seed=0x1234")
        assert_clean_pass(b)
        assert "dio: seed 0x1234 " in b.log
        lines.append(re.search(r"random lbas in .*", b.log).group(0))
    assert lines[0] == lines[1]


def test_ramdisk_each_miscompare_class_named_with_its_lba(boot, kernel):
    spec = ",".join(f"{k}@{v}" for k, v in FAULTS.items()) + ",media@266"
    b = boot("--kernel", kernel, "--disks", "none",
             "--append", f"tests=dio {RAM} blk.ramdisk.fault={spec}")
    assert b.status == FAIL, b.describe()
    log = b.log
    for kind, lba in FAULTS.items():
        assert re.search(rf"ram0: (re)?write, read back: miscompare at lba {lba}: {CLASS[kind]}\b", log), \
            f"{kind}@{lba} not reported\n{b.describe()}"
    assert re.search(r"miscompare at lba 258: misdirected \(found lba 259 ", log)
    assert re.search(r"miscompare at lba 260: lost \(found gen 1 ", log)
    assert re.search(r"miscompare at lba 262: torn \(first bad sector at block offset 2048", log)
    # The failure record: device, the request, first differing byte, cause, remedy.
    assert re.search(r"FAILURE write, read back: device ram0 ", log)
    assert re.search(r"miscompare: lba 264 .* byte offset 100 .*expected 0x[0-9a-f]{2}, actual", log)
    assert "remedy: data written for another LBA came back" in log
    # The media error is named with its LBA, and the other blocks still verified.
    assert re.search(r"unrecovered read error at lba 266", log)
    assert re.search(r"lba 266 alone: media error", log)
    _, failed, _, causes = summary(log, "ram0")
    for cause in ("media error", "misdirected write", "lost write", "torn write", "corrupt data"):
        assert cause in causes, causes
    # Cases away from the faulty blocks still pass.
    for case in ("dio_lba_past_end", "dio_flush_and_fua", "dio_queue_depth_sweep", "dio_zero_length"):
        assert b.report.find(f"dio.{case}").status == "pass", case


def test_ramdisk_misaligned_and_unreachable_refused_up_front(boot, kernel):
    b = boot("--kernel", kernel, "--disks", "none", "--memory", "5G",
             "--append", f"tests=dio.dio_buffer_alignments,dio.dio_buffers_above_4g {RAM} "
                         f"blk.ramdisk.dma_limit=0x100000000")
    assert_clean_pass(b)
    assert re.search(r"odd-aligned buffer \(page offset 1\) refused as expected: .*not 4-byte aligned", b.log)
    assert re.search(r"2-byte-aligned buffer \(page offset 2\) refused as expected", b.log)
    assert "8-byte-aligned buffer (page offset 8) refused" not in b.log
    assert re.search(r"no 64-bit DMA: refused as expected: .*beyond 0x100000000", b.log), b.describe()


# ---- QEMU's disks, proven on the host ----

@pytest.mark.parametrize("kind", ["ahci", "nvme"])
def test_scratch_image_holds_the_manifest(boot, kernel, tmp_path, kind):
    scratch = image(tmp_path, f"{kind}0")
    plain = image(tmp_path, "plain", label=False)
    with open(plain, "r+b") as f:               # content that must survive
        f.seek(3 * MiB)
        f.write(b"keep me" * 1000)
    before = sha256(plain)
    if kind == "ahci":
        disks = ahci(scratch, "ahci0", 0) + ahci(plain, "plain", 1)
        dev, plain_dev = "ahci0p0", "ahci0p1"
    else:
        disks = nvme(scratch, "nvme0") + nvme(plain, "nvme1")
        dev, plain_dev = "nvme0n1", "nvme1n1"
    b = boot("--kernel", kernel, "--disks", "none", "--append", "tests=preflight,dio", "--", *disks,
             timeout=180)
    if not has_device(b.log, dev):
        pytest.skip(f"no {kind} block device in this build (driver not built in yet)")
    assert_clean_pass(b, expect=["dio"])
    assert re.search(rf"^dio: {plain_dev} .*read-only", b.log, re.M), b.describe()
    p = tool("verify-image", b.log_path, scratch)
    assert re.search(rf"verify-image: {dev}: \d+ ranges, \d+ blocks OK", p.stdout), p.stdout
    if kind == "nvme":
        # discard=unmap: the trimmed blocks were deallocated and read as zeroes.
        assert any(r[0] == "deallocated" for r in manifest_ranges(b.log, dev)), b.describe()
        assert "deallocate not honoured" not in b.log + p.stdout, b.describe()
    assert sha256(plain) == before, "the unmarked disk was written"
    # Any damage to a stamped block is found on the host with its LBA.
    first = re.search(r"bareio-manifest: stamped lba=(\d+) count=(\d+)", b.log.split(f"device={dev}")[1])
    lba = int(first.group(1))
    with open(scratch, "r+b") as f:
        f.seek(lba * 512 + 200)
        byte = f.read(1)
        f.seek(lba * 512 + 200)
        f.write(bytes([byte[0] ^ 0xff]))
    p = tool("verify-image", b.log_path, scratch, check=False)
    assert p.returncode == 1, p.stdout + p.stderr
    assert str(lba) in p.stdout and "corrupt" in p.stdout, p.stdout


def test_nvme_deallocate_is_advisory(boot, kernel, tmp_path):
    """Dataset Management is advisory (NVMe 1.4 §6.7): a controller may keep the
    data of the blocks it is asked to deallocate, and DLFEAT only says what a
    block that was deallocated reads. QEMU without discard=unmap keeps it: the
    dio suite passes and says so ("deallocate not honoured (advisory)") instead
    of naming a lost write, the manifest lists the range as deallocated with
    the generation it may still show, verify-image accepts those stamps there
    (or zeroes) and names anything else."""
    scratch = image(tmp_path, "nvme0")
    b = boot("--kernel", kernel, "--disks", "none", "--append", "tests=dio", "--",
             *nvme_keeping_data(scratch, "nvme0"), timeout=180)
    assert_clean_pass(b, expect=["dio"])
    assert b.report.find("dio.dio_trim_and_write_zeroes").status == "pass", b.describe()
    assert "lost write" not in b.log, b.describe()
    assert re.search(r"nvme0n1: after write zeroes and trim: lba \d+\.\.\d+: deallocate not honoured "
                     r"\(advisory\): 8 of 8 deallocated blocks still hold their previous data", b.log), \
        b.describe()
    dealloc = [r for r in manifest_ranges(b.log, "nvme0n1") if r[0] == "deallocated"]
    assert dealloc, b.describe()
    p = tool("verify-image", b.log_path, scratch)
    assert re.search(r"verify-image: nvme0n1: \d+ ranges, \d+ blocks OK", p.stdout), p.stdout
    assert "deallocate not honoured (advisory)" in p.stdout, p.stdout
    # Zeroes there are right too; a damaged block there is not.
    _, lba, count = dealloc[0]
    with open(scratch, "r+b") as f:
        f.seek(lba * 512)
        f.write(bytes(512))
        f.seek((lba + count - 1) * 512 + 100)
        byte = f.read(1)
        f.seek((lba + count - 1) * 512 + 100)
        f.write(bytes([byte[0] ^ 0xff]))
    p = tool("verify-image", b.log_path, scratch, check=False)
    assert p.returncode == 1, p.stdout + p.stderr
    assert f"lba {lba + count - 1}: corrupt: deallocated" in p.stdout, p.stdout
    assert f"lba {lba}:" not in p.stdout, p.stdout


def test_host_seeded_blocks_verified_read_only(boot, kernel, tmp_path):
    scratch = image(tmp_path, "ahci0")
    tool("verify-image", "--seed", scratch, "--lba", SEED_LBA, "--count", SEED_COUNT,
         "--seed-value", SEED_VALUE, "--gen", SEED_GEN)
    spec = f"dio.expect={SEED_LBA}:{SEED_COUNT}:{SEED_VALUE:#x}:{SEED_GEN}"
    before = sha256(scratch)
    b = boot("--kernel", kernel, "--disks", "none",
             "--append", f"tests=dio.dio_expect_seeded_blocks {spec}", "--", *ahci(scratch, "ahci0", 0))
    if not has_device(b.log, "ahci0p0"):
        pytest.skip("no AHCI block device in this build")
    assert_clean_pass(b)
    assert f"ahci0p0: {SEED_COUNT} seeded blocks at lba {SEED_LBA} verified" in b.log
    assert sha256(scratch) == before, "a read-only verification wrote the disk"
    # One damaged block among them: named as corrupt, with its LBA.
    bad = SEED_LBA + 50
    with open(scratch, "r+b") as f:
        f.seek(bad * 512 + 300)
        f.write(b"\x00\x11\x22")
    b = boot("--kernel", kernel, "--disks", "none",
             "--append", f"tests=dio.dio_expect_seeded_blocks {spec}", "--", *ahci(scratch, "ahci0", 0))
    assert b.status == FAIL, b.describe()
    assert re.search(rf"dio.expect: miscompare at lba {bad}: corrupt", b.log), b.describe()
    assert re.search(rf"miscompare: lba {bad} .*byte offset 300", b.log), b.describe()


# ---- preflight ----

def test_preflight_names_bus_mastering_off(boot, kernel, tmp_path):
    disk = image(tmp_path, "nvme0")
    b = boot("--kernel", kernel, "--disks", "none",
             "--append", "tests=preflight test.no_bus_master=nvme", "--", *nvme(disk, "nvme0"))
    if "driver nvme not built in" in b.log:
        pytest.skip("the NVMe driver is not built in yet")
    assert b.status == FAIL, b.describe()
    assert b.report.find("preflight.preflight_bus_mastering").status == "fail"
    assert re.search(r"nvme0 \([0-9a-f:.]+\): bus mastering disabled: PCI COMMAND 0x[0-9a-f]{4} has BME "
                     r"\(bit 2\) clear; remedy: set PCI COMMAND.BME", b.log), b.describe()


def test_buffers_above_4g_on_real_controllers(boot, kernel, tmp_path):
    """With RAM above 4 GiB (-m 5G), both QEMU controllers (64-bit: AHCI
    CAP.S64A, NVMe) move stamped data from and into buffers above 4 GiB, and a
    request with pieces on both sides of 4 GiB; the case must run, not skip."""
    a, n = image(tmp_path, "ahci0"), image(tmp_path, "nvme0")
    b = boot("--kernel", kernel, "--disks", "none", "--memory", "5G",
             "--append", "tests=dio.dio_buffers_above_4g",
             "--", *ahci(a, "ahci0", 0), *nvme(n, "nvme0"), timeout=180)
    assert_clean_pass(b, expect=["dio"])
    case = b.report.find("dio.dio_buffers_above_4g")
    assert case.status == "pass", b.describe()
    for dev in ("ahci0p0", "nvme0n1"):
        m = re.search(rf"{dev}: \d+ blocks written from 0x([0-9a-f]+) and read back into 0x([0-9a-f]+)",
                      b.log)
        assert m, b.describe()
        assert int(m.group(1), 16) >= 1 << 32 and int(m.group(2), 16) >= 1 << 32
    for img, dev in ((a, "ahci0p0"), (n, "nvme0n1")):
        p = tool("verify-image", b.log_path, img)
        assert re.search(rf"verify-image: {dev}: \d+ ranges, \d+ blocks OK", p.stdout), p.stdout
