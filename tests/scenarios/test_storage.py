# SPDX-License-Identifier: MIT
"""tests/scenarios/test_storage.py — every storage function accounted for.

A machine with disks bareio cannot reach must say so: on q35, a MegaRAID
(megasas, a RAID controller), an LSI SCSI HBA (lsi53c895a) and a virtio-scsi
controller beside the default AHCI, NVMe and virtio-blk disks, plus a second
AHCI controller with no disk; on `-M pc`, a disk on the PIIX IDE controller.
Each function gets one `storage:` line at boot — driven as which controller,
with which disks, or not tested with its cause and remedy — the same list in
the dio summary, and a case of its own under
preflight.preflight_storage_accounted (named pci_bb_dd_f): a pass naming the
disks, or a skip with the cause and remedy; blk.require=all turns those skips
into failures. The disks no driver takes
come out unchanged.
"""
import re

from conftest import FAIL, PASS, assert_clean_pass, scratch_image, sha256, tool

MiB = 1024 * 1024
HIDDEN = ["-device", "megasas", "-device", "lsi53c895a", "-device", "virtio-scsi-pci",
          "-device", "ich9-ahci"]


def storage_lines(log):
    """The per-function lines (not the count that follows them)."""
    return [l[len("storage: "):] for l in log.splitlines()
            if l.startswith("storage: ") and not re.match(r"storage: \d+ of \d+ ", l)]


def line_for(lines, pattern):
    found = [l for l in lines if re.search(pattern, l)]
    assert len(found) == 1, (pattern, lines)
    return found[0]


CASE = "preflight.preflight_storage_accounted"


def storage_cases(b):
    """{bdf: Result} of the per-function cases, "00:1f.2" from pci_00_1f_2."""
    case = b.report.find(CASE)
    assert case is not None and case.children, b.describe()
    out = {}
    for c in case.children:
        m = re.fullmatch(r"pci_([0-9a-f]{2})_([0-9a-f]{2})_([0-7])", c.name)
        assert m, c.name
        out["%s:%s.%s" % m.groups()] = c
    return out


def case_for(b, line):
    """The case of the function a storage line is about."""
    return storage_cases(b)[line.split(" ", 1)[0]]


def blank(tmp_path, name, size=16 * MiB):
    path = str(tmp_path / f"{name}.img")
    with open(path, "wb") as f:
        f.truncate(size)
        f.seek(0)
        f.write(b"not a bareio disk: must come out unchanged\n" * 64)
    return path


def test_hidden_controllers_are_named_with_cause_and_remedy(boot, kernel):
    b = boot("--kernel", kernel, "--disks", "default", "--append", "tests=preflight,dio",
             "--", *HIDDEN, timeout=300)
    assert_clean_pass(b, expect=["preflight", "dio"])
    lines = storage_lines(b.log)
    raid = line_for(lines, r" 1000:0060 01\.04\.00 RAID controller: not tested: ")
    assert "RAID mode hides the disks behind it — switch the controller to AHCI" in raid
    scsi = line_for(lines, r" 1000:0012 01\.00\.00 SCSI controller: not tested: ")
    assert "SCSI/SAS HBA: bareio has no driver for it" in scsi
    vscsi = line_for(lines, r" 1af4:10(04|48) 01\.00\.00 virtio-scsi controller: not tested: ")
    assert "attach the disks as virtio-blk" in vscsi
    # The driven ones, with their disks; the empty AHCI controller says it has none.
    line_for(lines, r"SATA controller \(AHCI\): driven as ahci\d: ahci\dp0$")
    line_for(lines, r"SATA controller \(AHCI\): driven as ahci\d: no disk found on it$")
    line_for(lines, r"NVM controller \(NVMe\): driven as nvme0: nvme0n1$")
    line_for(lines, r"virtio-blk controller: driven as vblk0: vblk0$")
    assert len(lines) == 7, lines
    assert "storage: 3 of 7 storage functions not tested (blk.require=all makes that a failure)" \
        in b.log
    # One case per function: the three not tested are skips giving the line.
    cases = storage_cases(b)
    assert len(cases) == 7 and b.report.find(CASE).status == "pass", b.describe()
    for line in (raid, scsi, vscsi):
        c = case_for(b, line)
        assert c.status == "skip" and line in c.directive, (line, c.directive)
    assert sorted(c.status for c in cases.values()) == ["pass"] * 4 + ["skip"] * 3
    # Firmware leftovers: every storage BAR placed, each driven controller's interrupts said.
    assert b.report.find("preflight.preflight_bars_placed").status == "pass", b.describe()
    irq = b.report.find("preflight.preflight_interrupts")
    assert irq.status == "pass", b.describe()
    said = " ".join(irq.diagnostics)
    assert re.search(r"ahci\d: MSI capable; MSI enabled", said) and \
        "nvme0: MSI-X capable; MSI-X enabled" in said, said
    # The end-of-run summary lists the same three, in the same words.
    for line in (raid, scsi, vscsi):
        assert f"# dio summary: storage {line}" in b.log


def test_require_all_fails_on_an_untested_function(boot, kernel):
    b = boot("--kernel", kernel, "--disks", "default", "--append",
             "tests=preflight blk.require=all", "--", "-device", "megasas", timeout=300)
    assert b.status == FAIL, b.describe()
    raid = line_for(storage_lines(b.log), r" 1000:0060 01\.04\.00 RAID controller: not tested: ")
    bdf = raid.split(" ", 1)[0]
    assert [f.path for f in b.report.failures] == \
        [CASE + ".pci_" + bdf.replace(":", "_").replace(".", "_")], b.describe()
    assert "storage function not tested (blk.require=all): " in b.log
    assert "RAID mode hides the disks behind it" in b.log
    assert "(blk.require=all: preflight fails)" in b.log


def test_require_all_passes_when_everything_is_driven(boot, kernel):
    b = boot("--kernel", kernel, "--disks", "default", "--append",
             "tests=preflight blk.require=all", timeout=300)
    assert_clean_pass(b, expect=["preflight"])
    lines = storage_lines(b.log)
    assert all(" driven as " in l for l in lines), lines
    cases = storage_cases(b)
    assert len(cases) == len(lines) == 3 and all(c.status == "pass" for c in cases.values()), b.describe()
    assert all(l in " ".join(case_for(b, l).diagnostics) for l in lines), b.describe()


def test_pc_ide_disk_is_named_and_left_unchanged(boot, kernel, tmp_path):
    """-M pc: the PIIX IDE controller (class 01.01) with a disk on it. No
    driver takes it; the run passes, says why the disk is not tested and
    what to change, and the disk is not touched."""
    disk = blank(tmp_path, "ide")
    before = sha256(disk)
    b = boot("--kernel", kernel, "--machine", "pc", "--disks", "none", "--append",
             "tests=preflight,dio", "--", "-drive", f"file={disk},format=raw,if=ide,index=0",
             timeout=300)
    assert b.status == PASS, b.describe()
    ide = line_for(storage_lines(b.log), r" 01\.01\.[0-9a-f]{2} IDE controller: not tested: ")
    assert "IDE (legacy ATA) controller" in ide
    assert "set SATA operation to AHCI in the firmware setup" in ide
    assert case_for(b, ide).status == "skip" and ide in case_for(b, ide).directive, b.describe()
    assert f"# dio summary: storage {ide}" in b.log
    assert sha256(disk) == before


def test_nvme_bars_above_4_gib_are_driven_and_clear(boot, kernel, tmp_path):
    """A 1 GiB controller memory buffer makes SeaBIOS place the NVMe BARs
    above 4 GiB (beside 2 GiB of RAM up there): preflight finds no resource
    conflict — RAM above 4 GiB is not mistaken for one — and the namespace is
    driven, written and proven on the host."""
    disk = scratch_image(tmp_path, "cmb")
    b = boot("--kernel", kernel, "--memory", "6G", "--disks", "none", "--append",
             "tests=preflight,dio", "--", "-drive", f"file={disk},if=none,id=c,format=raw",
             "-device", "nvme,serial=bareio-cmb,drive=c,cmb_size_mb=1024", timeout=400)
    assert_clean_pass(b, expect=["preflight", "dio"])
    bars = re.search(r"^pci: \S+ 1b36:0010 .* BAR0 mem64 (0x[0-9a-f]+) .* BAR2 mem64 pref "
                     r"(0x[0-9a-f]+) \[1G\]", b.log, re.M)
    assert bars and int(bars.group(1), 16) >= 1 << 32 and int(bars.group(2), 16) >= 1 << 32, \
        b.describe()
    assert b.report.find("preflight.preflight_resources_clear").status == "pass"
    assert re.search(r"# \d+ memory BARs, \d+ RAM and platform windows, .*: no conflict", b.log)
    assert "dio summary: nvme0n1  nvme     scratch" in b.log
    assert "nvme0n1: " in tool("verify-image", b.log_path, disk).stdout


def test_namespace_not_tested_is_named_under_its_controller(boot, kernel, tmp_path):
    """A controller that works with one namespace bareio cannot drive (8
    metadata bytes per block): the other namespace is driven, the function's
    case is a skip naming the one not tested and why — it was a boot-log line
    and nothing in the report — and a failure with blk.require=all."""
    good, meta = scratch_image(tmp_path, "good"), blank(tmp_path, "meta")
    qemu = ["-device", "nvme,id=nv,serial=bareio-meta",
            "-drive", f"file={good},if=none,id=g,format=raw", "-device", "nvme-ns,drive=g,nsid=1",
            "-drive", f"file={meta},if=none,id=m,format=raw", "-device", "nvme-ns,drive=m,nsid=2,ms=8"]
    before = sha256(meta)
    b = boot("--kernel", kernel, "--disks", "none", "--append", "tests=preflight", "--", *qemu,
             timeout=300)
    assert_clean_pass(b, expect=["preflight"])
    nvme = line_for(storage_lines(b.log), r"NVM controller \(NVMe\): driven as nvme0: nvme0n1; ")
    assert "; nvme0 nsid 2 not tested: unsupported controller version or capability (LBA format" in nvme
    c = case_for(b, nvme)
    assert c.status == "skip" and "nvme0 nsid 2 not tested" in c.directive, b.describe()
    assert f"# dio summary: storage {nvme}" in b.log
    b = boot("--kernel", kernel, "--disks", "none", "--append", "tests=preflight blk.require=all",
             "--", *qemu, timeout=300)
    assert b.status == FAIL, b.describe()
    assert [f.path for f in b.report.failures] == [c.path], b.describe()
    assert sha256(meta) == before


IMPOSSIBLE = "the controller reports impossible capabilities (firmware or emulation bug): "


def test_zero_capacity_disks_are_impossible_capabilities(boot, kernel, tmp_path):
    """A 0-byte image behind virtio-blk and behind a SATA port: QEMU reports
    capacity 0, which no real disk does. Each is named with the one phrase,
    the field and the value; the virtio-blk controller fails bring-up, the
    SATA disk fails its controller's storage case; the default disks are
    still driven."""
    zero_v, zero_s = str(tmp_path / "zv.img"), str(tmp_path / "zs.img")
    for p in (zero_v, zero_s):
        open(p, "wb").close()
    b = boot("--kernel", kernel, "--disks", "default", "--append", "tests=preflight", "--",
             "-drive", f"file={zero_v},if=none,id=zv,format=raw", "-device", "virtio-blk-pci,drive=zv",
             "-device", "ich9-ahci,id=sata2", "-drive", f"file={zero_s},if=none,id=zs,format=raw",
             "-device", "ide-hd,drive=zs,bus=sata2.0", timeout=300)
    assert b.status == FAIL, b.describe()
    assert re.search(r"^vblk\d: impossible capabilities: " + re.escape(IMPOSSIBLE) + r".*capacity.* 0",
                     b.log, re.M), b.describe()
    assert re.search(r"^ahci\dp0: not tested: impossible capabilities: " + re.escape(IMPOSSIBLE) +
                     r"IDENTIFY words 100-103 \(capacity\) = 0 sectors", b.log, re.M), b.describe()
    failed = sorted(f.path for f in b.report.failures)
    assert "preflight.preflight_controller_bring_up" in failed, failed
    # The virtio-blk function failed bring-up (that case's failure above): its
    # storage case is a skip naming it; the SATA controller works, so the
    # disk it left out fails the controller's storage case.
    sata = line_for(storage_lines(b.log), r"SATA controller \(AHCI\): driven as ahci\d: no disk registered; ")
    vblk = line_for(storage_lines(b.log), r"virtio-blk controller: not tested: vblk\d failed bring-up: ")
    assert case_for(b, sata).status == "fail" and case_for(b, vblk).status == "skip", b.describe()
    assert [p for p in failed if p.startswith(CASE + ".")] == [case_for(b, sata).path], failed
    # The default disks are driven all the same.
    lines = storage_lines(b.log)
    for dev in ("nvme0n1", "vblk0"):
        assert any(l.endswith(dev) for l in lines), lines
