# SPDX-License-Identifier: MIT
"""tests/tools/test_mkusb.py — tools/mkusb's stick image, checked structurally
and independently of the tool's own code: the protective MBR and GRUB's
boot.img code in it (core.img's LBA and the drive check patched, nothing
else), both GPT headers and arrays with zlib's CRC-32 at the places the
headers name, the three partitions (types, names, BAREIO_<bootid>, 1 MiB
alignment, inside the usable range, no overlap), core.img in the BIOS boot
partition with diskboot's block list covering exactly the rest of it, the
two FAT file systems read back with mtools (labels, hidden sectors, the
files and their bytes), bareio.cfg's and grub.cfg's contents (every entry
passes bootid=, GRUB's own grub-script-check accepts both), the boot id
taken from --bootid or a bootid= in --full, and refusals that leave no
image behind. The QEMU boots are tests/scenarios/test_usb.py."""
import os
import re
import shutil
import struct
import subprocess
import uuid
import zlib

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
MKUSB = os.path.join(ROOT, "tools", "mkusb")
GRUB_PC = "/usr/lib/grub/i386-pc"
SECTOR = 512
MiB = 1024 * 1024
MTOOLS_ENV = dict(os.environ, MTOOLS_SKIP_CHECK="1")

BIOS_BOOT = uuid.UUID("21686148-6449-6E6F-744E-656564454649").bytes_le
ESP = uuid.UUID("C12A7328-F81F-11D2-BA4B-00A0C93EC93B").bytes_le
BASIC_DATA = uuid.UUID("EBD0A0A2-B9E5-4433-87C0-68B6B72699C7").bytes_le

needs_tools = pytest.mark.skipif(
    not (shutil.which("grub-mkimage") and shutil.which("mformat") and os.path.isdir(GRUB_PC)),
    reason="grub-mkimage, GRUB's i386-pc files or mtools missing (tools/install-deps)")


def mkusb(*args):
    return subprocess.run([MKUSB, *map(str, args)], capture_output=True, text=True, timeout=120)


@pytest.fixture(scope="module")
def stick(kernel, tmp_path_factory):
    out = tmp_path_factory.mktemp("stick") / "stick.img"
    p = mkusb(out, kernel)
    assert p.returncode == 0, p.stderr
    m = re.fullmatch(r"mkusb: .*: 64 MiB, bootid=([0-9A-F]{16})\n", p.stdout)
    assert m, p.stdout
    with open(out, "rb") as f:
        return {"path": str(out), "data": f.read(), "bootid": m.group(1)}


def header(data, lba):
    h = data[lba * SECTOR:lba * SECTOR + 92]
    assert h[:8] == b"EFI PART", lba
    rev, size, crc, _ = struct.unpack_from("<IIII", h, 8)
    assert (rev, size) == (0x00010000, 92)
    assert zlib.crc32(h[:16] + bytes(4) + h[20:92]) == crc, f"header CRC at LBA {lba}"
    assert data[lba * SECTOR + 92:(lba + 1) * SECTOR] == bytes(SECTOR - 92)
    my, alt, first, last = struct.unpack_from("<QQQQ", h, 24)
    entries, count, esize, ecrc = struct.unpack_from("<QIII", h, 72)
    array = data[entries * SECTOR:entries * SECTOR + count * esize]
    assert zlib.crc32(array) == ecrc, f"array CRC of the header at LBA {lba}"
    return {"my": my, "alt": alt, "first": first, "last": last, "entries": entries,
            "count": count, "esize": esize, "guid": h[56:72], "array": array}


def partitions(array, esize=128):
    out = []
    for i in range(0, len(array), esize):
        e = array[i:i + esize]
        if e[:16] != bytes(16):
            first, last, attrs = struct.unpack_from("<QQQ", e, 32)
            out.append({"type": e[:16], "unique": e[16:32], "first": first, "last": last,
                        "attrs": attrs, "name": e[56:128].decode("utf-16-le").rstrip("\0")})
    return out


def layout(stick):
    data = stick["data"]
    return partitions(header(data, 1)["array"])


def fat(stick, index):
    part = layout(stick)[index]
    return f"{stick['path']}@@{part['first'] * SECTOR}"


def mtools(cmd, *args):
    p = subprocess.run([cmd, *args], capture_output=True, env=MTOOLS_ENV, timeout=60)
    assert p.returncode == 0, (cmd, args, p.stderr)
    return p.stdout


@needs_tools
def test_protective_mbr_and_both_gpt_headers(stick):
    data = stick["data"]
    n = len(data) // SECTOR
    assert len(data) == 64 * MiB
    mbr = data[:SECTOR]
    assert mbr[510:512] == b"\x55\xaa"
    status, ptype = mbr[446], mbr[446 + 4]
    start, size = struct.unpack_from("<II", mbr, 446 + 8)
    assert (status, ptype, start, size) == (0, 0xEE, 1, n - 1)
    assert mbr[446 + 16:510] == bytes(48), "only the protective entry"
    primary, backup = header(data, 1), header(data, n - 1)
    assert (primary["my"], primary["alt"], primary["entries"]) == (1, n - 1, 2)
    assert (backup["my"], backup["alt"]) == (n - 1, 1)
    assert backup["entries"] == n - 1 - 32
    assert primary["array"] == backup["array"] and primary["guid"] == backup["guid"]
    assert (primary["count"], primary["esize"]) == (128, 128)
    assert (primary["first"], primary["last"]) == (34, n - 34)
    assert (backup["first"], backup["last"]) == (34, n - 34)


@needs_tools
def test_partitions_types_names_and_alignment(stick):
    parts = layout(stick)
    assert [p["type"] for p in parts] == [BIOS_BOOT, ESP, BASIC_DATA]
    assert parts[2]["name"] == f"BAREIO_{stick['bootid']}"
    assert [p["name"] for p in parts[:2]] == ["BIOS boot", "EFI system"]
    n = len(stick["data"]) // SECTOR
    end = 0
    for p in parts:
        assert p["first"] % 2048 == 0 and (p["last"] + 1) % 2048 == 0, p
        assert p["first"] > end and 34 <= p["first"] <= p["last"] <= n - 34, p
        end = p["last"]
    assert parts[0]["last"] - parts[0]["first"] + 1 == 2048
    assert (parts[2]["last"] - parts[2]["first"] + 1) * SECTOR >= 40 * MiB
    assert len({p["unique"] for p in parts}) == 3


@needs_tools
def test_mbr_holds_grub_boot_code_pointing_at_core(stick):
    with open(os.path.join(GRUB_PC, "boot.img"), "rb") as f:
        boot = f.read()
    mbr = stick["data"][:SECTOR]
    core_lba = layout(stick)[0]["first"]
    assert struct.unpack_from("<Q", mbr, 0x5C)[0] == core_lba
    assert mbr[0x66:0x68] == b"\x90\x90", "hard-disk drive check enabled"
    assert mbr[:0x5C] == boot[:0x5C] and mbr[0x64:0x66] == boot[0x64:0x66]
    assert mbr[0x68:0x1B8] == boot[0x68:0x1B8]


@needs_tools
def test_core_image_in_bios_boot_partition_with_its_block_list(stick):
    data = stick["data"]
    p1 = layout(stick)[0]
    with open(os.path.join(GRUB_PC, "diskboot.img"), "rb") as f:
        diskboot = f.read()
    first = data[p1["first"] * SECTOR:(p1["first"] + 1) * SECTOR]
    assert first[:SECTOR - 12] == diskboot[:SECTOR - 12]
    start, length, segment = struct.unpack_from("<QHH", first, SECTOR - 12)
    assert (start, segment) == (p1["first"] + 1, 0x820)
    assert 100 <= length and start + length - 1 <= p1["last"]
    # The sectors listed hold core.img's rest (its last one is not blank),
    # the one after is blank: the list covers all of it and no more.
    assert data[(start + length - 1) * SECTOR:(start + length) * SECTOR] != bytes(SECTOR)
    assert data[(start + length) * SECTOR:(start + length + 1) * SECTOR] == bytes(SECTOR)


@needs_tools
def test_esp_holds_bootx64(stick):
    img = fat(stick, 1)
    info = mtools("minfo", "-i", img, "::").decode()
    assert f"hidden sectors: {layout(stick)[1]['first']}" in info
    listing = mtools("mdir", "-i", img, "-b", "-/", "::").decode().split()
    assert "::/EFI/BOOT/BOOTX64.EFI" in listing, listing
    efi = mtools("mtype", "-i", img, "::/EFI/BOOT/BOOTX64.EFI")
    assert efi[:2] == b"MZ" and b"PE\0\0" in efi[:512] and len(efi) > 100 * 1024


@needs_tools
def test_data_partition_files(stick, kernel):
    img = fat(stick, 2)
    info = mtools("minfo", "-i", img, "::").decode()
    assert 'disk label="BAREIO     "' in info
    assert f"hidden sectors: {layout(stick)[2]['first']}" in info
    listing = sorted(mtools("mdir", "-i", img, "-b", "-/", "::").decode().split())
    assert {"::/bareio.elf", "::/bareio.cfg", "::/boot/grub/grub.cfg"} <= set(listing), listing
    assert mtools("mtype", "-i", img, "::/bareio.elf") == kernel.read_bytes()


def read_cfg(stick, name):
    return mtools("mtype", "-i", fat(stick, 2), name).decode()


@needs_tools
def test_bareio_cfg_content(stick):
    text = read_cfg(stick, "::/bareio.cfg")
    assert "\r" not in text and text.isascii()
    settings = dict(re.findall(r'^([a-z]+)="([^"]*)"$', text, re.M))
    assert settings == {"default": "full", "timeout": "5", "full": "tests=*",
                        "readonly": "tests=lib,memory,time,console,acpi,apic,pci,preflight",
                        "bench": "tests=bench bench=standard"}
    lines = [ln for ln in text.splitlines() if ln and not ln.startswith("#")]
    assert len(lines) == 5, lines
    # Each setting has a comment just above it.
    for ln in lines:
        i = text.splitlines().index(ln)
        assert text.splitlines()[i - 1].startswith("#"), ln
    assert "bootid" in text and "@" not in text


@needs_tools
def test_grub_cfg_passes_bootid_on_every_entry(stick):
    text = read_cfg(stick, "::/boot/grub/grub.cfg")
    boots = re.findall(r"^\s*multiboot2 (.*)$", text, re.M)
    bootid = stick["bootid"]
    assert boots == [f"/bareio.elf ${name} bootid={bootid}" for name in ("full", "readonly", "bench")]
    assert re.findall(r"--id (\w+)", text) == ["full", "readonly", "bench"]
    assert "source ($root)/bareio.cfg" in text
    assert "set gfxpayload=keep" in text and "insmod all_video" in text
    assert "@" not in text.replace("@@", "")


@needs_tools
@pytest.mark.skipif(not shutil.which("grub-script-check"), reason="grub-script-check missing")
def test_grub_accepts_both_configs(stick, tmp_path):
    for name in ("::/boot/grub/grub.cfg", "::/bareio.cfg"):
        path = tmp_path / "x.cfg"
        path.write_text(read_cfg(stick, name))
        p = subprocess.run(["grub-script-check", str(path)], capture_output=True, text=True)
        assert p.returncode == 0, (name, p.stdout, p.stderr)


@needs_tools
def test_bootid_from_full_or_option(kernel, tmp_path):
    out = tmp_path / "a.img"
    p = mkusb("--full", "tests=lib bootid=ABC_123", "--default", "readonly", "--timeout", "0", out, kernel)
    assert p.returncode == 0, p.stderr
    with open(out, "rb") as f:
        data = f.read()
    s = {"path": str(out), "data": data, "bootid": "ABC_123"}
    assert layout(s)[2]["name"] == "BAREIO_ABC_123"
    cfg = read_cfg(s, "::/bareio.cfg")
    assert 'full="tests=lib"' in cfg and 'default="readonly"' in cfg and 'timeout="0"' in cfg
    assert "bootid=ABC_123" in read_cfg(s, "::/boot/grub/grub.cfg")
    p = mkusb("--bootid", "XYZ", "--size", "40", out, kernel)
    assert p.returncode == 0, p.stderr
    assert os.path.getsize(out) == 40 * MiB and "bootid=XYZ" in p.stdout
    with open(out, "rb") as f:
        assert "BAREIO_XYZ" in f.read(34 * SECTOR).decode("utf-16-le", "replace")


@needs_tools
@pytest.mark.parametrize("args,words", [
    (["--bootid", "lower"], "bootid=lower"),
    (["--bootid", "A" * 26], "1 to 25"),
    (["--full", "tests=lib bootid=AA", "--bootid", "BB"], "differ"),
    (["--readonly", "tests=lib bootid=AA"], "added to every entry"),
    (["--full", 'tests="lib"'], "no quotes"),
    (["--bench", "bench=$x"], "no quotes"),
    (["--size", "20"], "too small"),
])
def test_refusals_leave_no_image(kernel, tmp_path, args, words):
    out = tmp_path / "r.img"
    p = mkusb(*args, out, kernel)
    assert p.returncode == 1 and words in p.stderr, (p.stdout, p.stderr)
    assert p.stderr.startswith("mkusb: ") and len(p.stderr.splitlines()) == 1
    assert not out.exists() and not (tmp_path / "r.img.tmp").exists()


def test_missing_kernel_is_refused(tmp_path):
    p = mkusb(tmp_path / "r.img", tmp_path / "nope.elf")
    assert p.returncode == 1 and "no such file" in p.stderr
    assert not (tmp_path / "r.img").exists()
