# SPDX-License-Identifier: MIT
"""tests/scenarios/test_usb.py — the USB stick image (tools/mkusb) as the only
boot device: usb-storage on xHCI (tools/run-qemu --stick, writable, no
snapshot), under SeaBIOS and OVMF on q35, with an AHCI and an NVMe scratch
disk. Each boot must pass (QEMU's exit status from isa-debug-exit and
ktap-check) and leave the stick byte for byte as it was (SHA-256 before and
after). bareio.cfg is edited the way a lab would, by replacing the file on
the FAT (mcopy, no loop mount): a new default entry, a narrower tests=
filter, Windows line ends with a UTF-8 BOM, values GRUB cannot use (they fall
back, saying so), a bootid= the lab tried to add (bareio refuses the doubled
key) — and the kernel's echo of its command line shows what ran. The menu
waits as long as bareio.cfg says (5 s as made, 0-1 s in the edited ones).

bareio has no USB driver, so it never sees the stick itself; to see it call
a disk with a GPT partition named BAREIO_<bootid> the boot medium
(drivers/blk/access.c), one scenario also attaches a copy of the stick, its
boot code blanked so nothing boots from it, as an NVMe namespace: the copy
must stay unchanged and be named the boot medium.
"""
import os
import re
import shutil
import struct
import subprocess

import pytest

import disks
from conftest import PASS, TOOLS, USAGE, access, assert_clean_pass, scratch_image, sha256

MKUSB = os.path.join(TOOLS, "mkusb")
MTOOLS_ENV = dict(os.environ, MTOOLS_SKIP_CHECK="1")
OVMF = "/usr/share/OVMF/OVMF_CODE_4M.fd"
needs_ovmf = pytest.mark.skipif(not os.path.exists(OVMF), reason="OVMF not installed (tools/install-deps)")


@pytest.fixture(scope="session")
def make_stick(kernel, tmp_path_factory):
    """make_stick(*mkusb_options) -> (path of a pristine stick image, its boot id)."""
    made = {}

    def make(*options):
        if options not in made:
            out = tmp_path_factory.mktemp("stick") / "bareio-usb.img"
            p = subprocess.run([MKUSB, *options, str(out), kernel], capture_output=True, text=True,
                               timeout=120)
            assert p.returncode == 0, p.stderr
            made[options] = (str(out), re.search(r"bootid=([0-9A-Z_]+)", p.stdout).group(1))
        return made[options]
    return make


def data_partition(img):
    """mtools' IMAGE@@OFFSET of partition 3 (the FAT holding bareio.cfg), from the GPT."""
    with open(img, "rb") as f:
        f.seek(512)
        entries_lba = struct.unpack_from("<Q", f.read(92), 72)[0]
        f.seek(entries_lba * 512 + 2 * 128 + 32)
        first = struct.unpack("<Q", f.read(8))[0]
    return f"{img}@@{first * 512}"


def read_cfg(img):
    p = subprocess.run(["mtype", "-i", data_partition(img), "::/bareio.cfg"], capture_output=True,
                       env=MTOOLS_ENV, timeout=60, check=True)
    return p.stdout.decode()


def write_cfg(img, tmp_path, text, crlf=False, bom=False):
    """Replaces /bareio.cfg on the stick's FAT, as an editor on another OS would."""
    data = text.replace("\n", "\r\n") if crlf else text
    path = tmp_path / "bareio.cfg"
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + data.encode())
    subprocess.run(["mcopy", "-o", "-i", data_partition(img), str(path), "::/bareio.cfg"],
                   env=MTOOLS_ENV, timeout=60, check=True, capture_output=True)


def edit(text, **settings):
    """bareio.cfg with NAME="VALUE" lines changed (each must be there once)."""
    for name, value in settings.items():
        text, n = re.subn(rf'^{name}="[^"\n]*"$', f'{name}="{value}"', text, flags=re.M)
        assert n == 1, name
    return text


def stick_copy(tmp_path, make_stick, *options):
    src, bootid = make_stick(*options)
    dst = str(tmp_path / "stick.img")
    shutil.copyfile(src, dst)
    return dst, bootid


def scratch_disks(tmp_path):
    """An AHCI disk on port 0 and an NVMe namespace, 64 MiB scratch images each
    (made on the first call in a test, the same ones after that)."""
    ahci, nvme = str(tmp_path / "ahci0.img"), str(tmp_path / "nvme0n1.img")
    if not os.path.exists(ahci):
        ahci = scratch_image(tmp_path, "ahci0")
        nvme = scratch_image(tmp_path, "nvme0n1")
    return [ahci, nvme], disks.ahci_disk_at(ahci, "ahci0", "ide.0") + disks.nvme_controller_at(nvme, "nvme0")


def boot_stick(boot, tmp_path, img, firmware, extra=(), timeout=300):
    """Boots the stick with the scratch disks; asserts the stick is unchanged."""
    _, qemu = scratch_disks(tmp_path)
    before = sha256(img)
    b = boot("--stick", img, "--firmware", firmware, "--", *qemu, *extra, timeout=timeout)
    assert sha256(img) == before, "the stick image changed\n" + b.describe()
    return b


def cmdline(b):
    m = re.search(r'via multiboot2, cmdline "(.*)"$', b.loader_line())
    assert m and "GRUB" in b.loader_line(), b.describe()
    return m.group(1)


@pytest.mark.parametrize("firmware", ["bios", pytest.param("uefi", marks=needs_ovmf)])
def test_stick_as_made_runs_the_full_default(boot, tmp_path, make_stick, firmware):
    """The image exactly as make usb makes it: the menu waits its 5 s, the
    full run (tests=*) starts, writes the scratch disks and passes."""
    img, bootid = stick_copy(tmp_path, make_stick)
    assert 'default="full"' in read_cfg(img) and 'timeout="5"' in read_cfg(img)
    b = boot_stick(boot, tmp_path, img, firmware)
    assert cmdline(b) == f"tests=* bootid={bootid}"
    assert f"bareio.cfg: default=full timeout=5 bootid={bootid}" in b.log, b.describe()
    assert_clean_pass(b, expect=["lib", "pci", "preflight", "ahci", "nvme", "dio"])
    assert not re.search(r"^not ok", b.log, re.M), "a top-level KTAP failure"
    for dev in ("ahci0p0", "nvme0n1"):
        assert access(b.log, dev).startswith("scratch"), b.describe()
        assert f"bareio-manifest: begin device={dev} " in b.log, f"{dev} was not written"


@needs_ovmf
def test_crlf_bom_edit_makes_readonly_the_default(boot, tmp_path, make_stick):
    """Notepad's way (CR LF, a UTF-8 BOM) under OVMF: default=readonly starts
    the read-only entry as shipped, which runs its suites and writes no disk."""
    img, bootid = stick_copy(tmp_path, make_stick)
    text = edit(read_cfg(img), default="readonly", timeout="1")
    write_cfg(img, tmp_path, text, crlf=True, bom=True)
    images, _ = scratch_disks(tmp_path)
    before = [sha256(p) for p in images]
    b = boot_stick(boot, tmp_path, img, "uefi")
    suites = ["lib", "memory", "time", "console", "acpi", "apic", "pci", "preflight"]
    assert cmdline(b) == f"tests={','.join(suites)} bootid={bootid}"
    assert f"bareio.cfg: default=readonly timeout=1 bootid={bootid}" in b.log, b.describe()
    assert_clean_pass(b, expect=suites)
    assert sorted(b.report.suites()) == sorted(suites), b.describe()
    assert [sha256(p) for p in images] == before, "a read-only run wrote a disk"


def test_edited_filter_changes_what_runs(boot, tmp_path, make_stick):
    """A plain LF edit under SeaBIOS: the full entry's tests= narrowed to one
    case, its wildcards reaching bareio as typed (GRUB globs nothing)."""
    img, bootid = stick_copy(tmp_path, make_stick)
    write_cfg(img, tmp_path, edit(read_cfg(img), timeout="0", full="tests=l?b.lib_memory_f*"))
    b = boot_stick(boot, tmp_path, img, "bios")
    assert cmdline(b) == f"tests=l?b.lib_memory_f* bootid={bootid}"
    assert b.report.find("lib.lib_memory_functions").status == "pass", b.describe()
    assert_clean_pass(b, expect=["lib"])
    assert (b.report.passed, b.report.failed) == (1, 0), b.describe()


def test_bench_entry_as_default(boot, tmp_path, make_stick):
    """default=bench starts the benchmark entry as shipped: the standard
    profile's jobs on both scratch disks."""
    img, bootid = stick_copy(tmp_path, make_stick)
    write_cfg(img, tmp_path, edit(read_cfg(img), default="bench", timeout="0"))
    b = boot_stick(boot, tmp_path, img, "bios")
    assert cmdline(b) == f"tests=bench bench=standard bootid={bootid}"
    assert_clean_pass(b, expect=["bench"])
    for dev in ("ahci0p0", "nvme0n1"):
        assert b.report.find(f"bench.bench_jobs.randread-4k-qd1-{dev}").status == "pass", b.describe()
        assert f'"jobname":"randwrite-4k-qd32","device":"{dev}"' in b.log


def test_values_grub_cannot_use_fall_back(boot, tmp_path, make_stick):
    """An unknown default and a timeout that is no number: GRUB says so and
    uses what the stick was made with (here --default full --timeout 0), and
    blanks and a tab inside a command line do not matter."""
    img, bootid = stick_copy(tmp_path, make_stick, "--full", "tests=lib", "--timeout", "0")
    write_cfg(img, tmp_path, edit(read_cfg(img), default="fastest", timeout="soon",
                                  full="  tests=lib.lib_memory_functions \t loglevel=debug "),
              crlf=True)
    b = boot_stick(boot, tmp_path, img, "bios")
    assert 'bareio.cfg: default="fastest" is not full, readonly or bench; using full' in b.log, b.describe()
    assert 'bareio.cfg: timeout="soon" is not 0 to 30 seconds; using 0' in b.log
    assert cmdline(b) == f"tests=lib.lib_memory_functions loglevel=debug bootid={bootid}"
    assert_clean_pass(b, expect=["lib"])


def test_bootid_cannot_be_dropped_or_replaced(boot, tmp_path, make_stick):
    """A lab's bootid= in bareio.cfg does not replace the stick's: both reach
    bareio, which refuses a key given twice and runs nothing."""
    img, bootid = stick_copy(tmp_path, make_stick, "--timeout", "0")
    write_cfg(img, tmp_path, edit(read_cfg(img), full="tests=lib bootid=0000000000000000"))
    b = boot_stick(boot, tmp_path, img, "bios", timeout=120)
    assert cmdline(b) == f"tests=lib bootid=0000000000000000 bootid={bootid}"
    assert b.status == USAGE, b.describe()
    assert "'bootid' given more than once" in b.log, b.describe()


def test_stick_copy_on_nvme_is_the_boot_medium(boot, tmp_path, make_stick):
    """The stick seen by bareio: a copy as an NVMe namespace (MBR boot code
    blanked, so the machine still boots from the USB stick) is never written."""
    img, bootid = stick_copy(tmp_path, make_stick, "--full", "tests=lib,preflight,dio", "--timeout", "0")
    copy = str(tmp_path / "stickcopy.img")
    shutil.copyfile(img, copy)
    with open(copy, "r+b") as f:
        f.write(bytes(440))
    before = sha256(copy)
    b = boot_stick(boot, tmp_path, img, "bios", extra=disks.nvme_controller_at(copy, "stickcopy"))
    assert b.status == PASS, b.describe()
    assert sha256(copy) == before, "bareio wrote the copy of its boot medium"
    m = re.search(r"^(nvme\d+n\d+): .*bareio-stickcopy", b.log, re.M)
    assert m, b.describe()
    line = access(b.log, m.group(1))
    assert line.startswith("read-only"), line
    assert f"bareio-manifest: begin device={m.group(1)} " not in b.log
    assert line == f"read-only: boot medium (bootid={bootid}), never written"
