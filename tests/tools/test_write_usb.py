# SPDX-License-Identifier: MIT
"""tests/tools/test_write_usb.py — tools/write-usb against fake host trees
(BAREIO_WRITE_USB_ROOT: a sysfs with disks, partitions, holders and slaves
laid out as the kernel lays them out, /proc/mounts, /proc/swaps, and regular
files standing for the devices) and image files: each refusal (not a stick
image, a partition, a char device, a regular file, the host's own disk —
directly, through a partition, through device-mapper —, a mounted partition,
swap, an LVM holder, read-only, too small, no "yes") is one line on stderr,
exit 1, and leaves the target's bytes as they were; a "yes" or --yes writes
the image (the rest of the disk untouched) and --to-file makes a copy; a loop
device, where this machine lets us make one, is written for real."""
import hashlib
import os
import shutil
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
WRITE_USB = os.path.join(ROOT, "tools", "write-usb")
MKUSB = os.path.join(ROOT, "tools", "mkusb")
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gptimage  # noqa: E402

MiB = 1024 * 1024
IMAGE_MIB = 40


@pytest.fixture(scope="module")
def image(tmp_path_factory):
    """A real stick image (tools/mkusb, 40 MiB, a stand-in kernel)."""
    if not (shutil.which("grub-mkimage") and shutil.which("mformat")):
        pytest.skip("grub-mkimage or mtools missing (tools/install-deps)")
    d = tmp_path_factory.mktemp("img")
    kernel = d / "bareio.elf"
    kernel.write_bytes(b"\x7fELF" + bytes(4096))
    out = d / "stick.img"
    p = subprocess.run([MKUSB, "--size", str(IMAGE_MIB), "--bootid", "TESTSTICK", str(out), str(kernel)],
                       capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stderr
    return out


def sha(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


class FakeHost:
    """A fake /sys, /proc/mounts, /proc/swaps and /dev under one directory."""

    def __init__(self, root):
        self.root = root
        for d in ("sys/class/block", "sys/dev/block", "proc", "dev"):
            (root / d).mkdir(parents=True, exist_ok=True)
        self.mounts = ["proc /proc proc rw 0 0", "tmpfs /tmp tmpfs rw 0 0"]
        self.swaps = []
        self.write()

    def _entry(self, path, name, sectors):
        path.mkdir(parents=True)
        (path / "size").write_text(f"{sectors}\n")
        (path / "holders").mkdir()
        link = self.root / "sys/class/block" / name
        link.symlink_to(os.path.relpath(path, link.parent))
        return path

    def disk(self, name, size_mib, model="Flash Disk", vendor="Generic", ro=False, removable=True,
             parts=(), virtual=False, file_mib=None):
        """A disk NAME with partitions NAME1.. of the given sizes (MiB), and a
        device file /dev/NAME filled with a pattern (file_mib: a shorter file
        for a disk that is never to be written, which keeps the tests quick)."""
        base = self.root / ("sys/devices/virtual/block" if virtual else "sys/devices/pci0000:00/usb1/block")
        d = self._entry(base / name, name, size_mib * MiB // 512)
        (d / "slaves").mkdir()
        (d / "ro").write_text("1\n" if ro else "0\n")
        (d / "removable").write_text("1\n" if removable else "0\n")
        if not virtual:
            (d / "device").mkdir()
            (d / "device/model").write_text(model + "\n")
            (d / "device/vendor").write_text(vendor + "\n")
        for i, psize in enumerate(parts, 1):
            p = self._entry(d / f"{name}{i}", f"{name}{i}", psize * MiB // 512)
            (p / "partition").write_text(f"{i}\n")
        dev = self.root / "dev" / name
        with open(dev, "wb") as f:
            block = (b"old contents of " + name.encode() + b" ") * 4096
            file_mib = size_mib if file_mib is None else file_mib
            for _ in range(file_mib * MiB // len(block)):
                f.write(block)
            f.truncate(file_mib * MiB)
        return dev

    def dm(self, name, on, mapper=None):
        """A device-mapper device NAME on the partitions `on` (slaves/holders)."""
        d = self._entry(self.root / "sys/devices/virtual/block" / name, name, 2048)
        (d / "slaves").mkdir()
        for s in on:
            (d / "slaves" / s).symlink_to(os.path.relpath(self.root / "sys/class/block" / s, d / "slaves"))
            holder = self.root / "sys/class/block" / s / "holders" / name
            holder.symlink_to(os.path.relpath(d, holder.parent))
        if mapper:
            (self.root / "dev/mapper").mkdir(exist_ok=True)
            (self.root / "dev/mapper" / mapper).symlink_to(f"../{name}")

    def mount(self, source, point):
        esc = point.replace(" ", "\\040")           # as the kernel writes /proc/mounts
        self.mounts.append(f"{source} {esc} ext4 rw,relatime 0 0")
        self.write()

    def swap(self, source):
        self.swaps.append(f"{source} partition 1048572 0 -2")
        self.write()

    def write(self):
        (self.root / "proc/mounts").write_text("\n".join(self.mounts) + "\n")
        (self.root / "proc/swaps").write_text(
            "Filename Type Size Used Priority\n" + "".join(s + "\n" for s in self.swaps))


@pytest.fixture
def host(tmp_path):
    h = FakeHost(tmp_path / "host")
    h.disk("sda", 512, model="Internal SSD", removable=False, parts=(100, 400), file_mib=1)
    h.mount("/dev/sda2", "/")
    h.mount("/dev/sda1", "/boot")
    return h


def write_usb(host, *args, stdin=""):
    env = dict(os.environ)
    env.pop("BAREIO_WRITE_USB_ROOT", None)
    if host is not None:
        env["BAREIO_WRITE_USB_ROOT"] = str(host.root)
    return subprocess.run([WRITE_USB, *map(str, args)], input=stdin, capture_output=True, text=True,
                          env=env, timeout=120)


def refused(p, words):
    assert p.returncode == 1, (p.returncode, p.stdout, p.stderr)
    lines = p.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("write-usb: ") and words in lines[0], p.stderr


def unchanged(host, fn, *names):
    """Runs fn() and asserts every named fake device kept its bytes."""
    before = {n: sha(host.root / "dev" / n) for n in names}
    result = fn()
    assert {n: sha(host.root / "dev" / n) for n in names} == before, "a refused target changed"
    return result


def test_yes_typed_writes_the_image_and_keeps_the_rest(host, image):
    dev = host.disk("sdb", 64, model="DataTraveler 3.0", vendor="Kingston", parts=(60,))
    tail = open(dev, "rb").read()[IMAGE_MIB * MiB:]
    p = write_usb(host, image, "/dev/sdb", stdin="yes\n")
    assert p.returncode == 0, p.stderr
    assert "/dev/sdb: 64.0 MiB (67108864 bytes), Kingston DataTraveler 3.0, removable" in p.stdout
    assert "partition sdb1: 60.0 MiB" in p.stdout and "bootid=TESTSTICK" in p.stdout
    assert "Type yes" in p.stdout and "read it back" in p.stdout
    data = open(dev, "rb").read()
    assert len(data) == 64 * MiB
    assert hashlib.sha256(data[:IMAGE_MIB * MiB]).hexdigest() == sha(image)
    assert data[IMAGE_MIB * MiB:] == tail


def test_yes_flag_writes_without_asking(host, image):
    dev = host.disk("sdb", 40)
    p = write_usb(host, "--yes", image, "/dev/sdb")
    assert p.returncode == 0, p.stderr
    assert "Type yes" not in p.stdout and sha(dev) == sha(image)


@pytest.mark.parametrize("answer", ["", "no\n", "y\n", "YES please\n"])
def test_anything_but_yes_writes_nothing(host, image, answer):
    host.disk("sdb", 64)
    p = unchanged(host, lambda: write_usb(host, image, "/dev/sdb", stdin=answer), "sdb")
    refused(p, "not written")


def test_to_file_copies_the_image(tmp_path, image):
    out = tmp_path / "copy.img"
    out.write_bytes(b"x" * 100)
    p = write_usb(None, "--to-file", "--yes", image, out)
    assert p.returncode == 0, p.stderr
    assert sha(out) == sha(image)
    refused(write_usb(None, "--to-file", "--yes", image, image), "image itself")


def test_regular_file_and_char_device_are_no_disks(tmp_path, image):
    f = tmp_path / "disk.img"
    f.write_bytes(bytes(64 * MiB))
    before = sha(f)
    refused(write_usb(None, "--yes", image, f), "regular file, not a disk (--to-file")
    assert sha(f) == before
    refused(write_usb(None, "--yes", image, "/dev/null"), "character device")
    refused(write_usb(None, "--yes", image, tmp_path / "absent"), "No such file")


def test_partition_is_refused(host, image):
    host.disk("sdb", 64, parts=(30, 30))
    p = unchanged(host, lambda: write_usb(host, "--yes", image, "/dev/sdb1"), "sdb")
    refused(p, "partition sdb1 of disk sdb, not a whole disk (give /dev/sdb)")


def test_host_disk_is_refused(host, image):
    refused(unchanged(host, lambda: write_usb(host, "--yes", image, "/dev/sda"), "sda"),
            "sda is the disk this host runs from")


def test_host_disk_behind_device_mapper_is_refused(host, image):
    host.disk("sdc", 256, parts=(200,), file_mib=1)
    host.dm("dm-0", ["sdc1"], mapper="vg-root")
    host.mounts = [m for m in host.mounts if " / " not in m]
    host.mount("/dev/mapper/vg-root", "/")
    refused(unchanged(host, lambda: write_usb(host, "--yes", image, "/dev/sdc"), "sdc"),
            "sdc is the disk this host runs from")
    refused(write_usb(host, "--yes", image, "/dev/dm-0"), "built on other devices")


def test_mounted_partition_is_refused(host, image):
    host.disk("sdb", 64, parts=(60,))
    host.mount("/dev/sdb1", "/media/lab stick")
    p = unchanged(host, lambda: write_usb(host, "--yes", image, "/dev/sdb"), "sdb")
    refused(p, "sdb1 on it is mounted at /media/lab stick")


def test_mounted_whole_disk_is_refused(host, image):
    host.disk("sdb", 64)
    host.mount("/dev/sdb", "/mnt")
    refused(unchanged(host, lambda: write_usb(host, "--yes", image, "/dev/sdb"), "sdb"),
            "sdb on it is mounted at /mnt")


def test_swap_is_refused(host, image):
    host.disk("sdb", 64, parts=(30, 30))
    host.swap("/dev/sdb2")
    refused(unchanged(host, lambda: write_usb(host, "--yes", image, "/dev/sdb"), "sdb"),
            "sdb2 on it is in use as swap")


def test_lvm_on_it_is_refused_mounted_or_not(host, image):
    host.disk("sdb", 64, parts=(60,))
    host.dm("dm-3", ["sdb1"], mapper="labvg-data")
    refused(unchanged(host, lambda: write_usb(host, "--yes", image, "/dev/sdb"), "sdb"),
            "held by dm-3")
    host.mount("/dev/mapper/labvg-data", "/srv")
    refused(unchanged(host, lambda: write_usb(host, "--yes", image, "/dev/sdb"), "sdb"),
            "dm-3 on it is mounted at /srv")


def test_read_only_disk_is_refused(host, image):
    host.disk("sdb", 64, ro=True)
    refused(unchanged(host, lambda: write_usb(host, "--yes", image, "/dev/sdb"), "sdb"), "read-only")


def test_too_small_is_refused(host, image):
    host.disk("sdb", IMAGE_MIB - 1)
    p = unchanged(host, lambda: write_usb(host, "--yes", image, "/dev/sdb"), "sdb")
    refused(p, f"is smaller than the image (40.0 MiB, {IMAGE_MIB * MiB} bytes)")


def poked(tmp_path, image, offset, data):
    bad = tmp_path / "bad.img"
    shutil.copyfile(image, bad)
    with open(bad, "r+b") as f:
        f.seek(offset)
        f.write(data)
    return bad


@pytest.mark.parametrize("what,words", [
    ("zeros", "no protective MBR"),
    ("foreign-gpt", "no basic-data partition named BAREIO_"),
    ("primary-crc", "primary GPT header CRC is wrong"),
    ("backup-crc", "backup GPT header CRC is wrong"),
    ("array-crc", "primary GPT partition array CRC is wrong"),
    ("renamed", "no basic-data partition named BAREIO_"),
    ("tiny", "no disk image"),
])
def test_not_a_stick_image_is_refused(host, tmp_path, image, what, words):
    host.disk("sdb", 64)
    n = IMAGE_MIB * MiB
    if what == "zeros":
        bad = tmp_path / "bad.img"
        bad.write_bytes(bytes(n))
    elif what == "foreign-gpt":
        bad = tmp_path / "bad.img"
        bad.write_bytes(bytes(n))
        gptimage.write_gpt(str(bad), [(gptimage.LINUX_TYPE, bytes(16), 2048, 4095, "BAREIO_X")])
    elif what == "primary-crc":
        bad = poked(tmp_path, image, 512 + 40, b"\x01")
    elif what == "backup-crc":
        bad = poked(tmp_path, image, n - 512 + 40, b"\x01")
    elif what == "array-crc":
        bad = poked(tmp_path, image, 1024 + 2 * 128 + 56, "X".encode("utf-16-le"))
    elif what == "renamed":
        # A consistent GPT whose data partition is named otherwise: rewrite both
        # arrays and both headers' CRCs as a tool would.
        import struct
        import zlib
        bad = tmp_path / "bad.img"
        shutil.copyfile(image, bad)
        with open(bad, "r+b") as f:
            data = bytearray(f.read())
            for hdr in (512, n - 512):
                entries = struct.unpack_from("<Q", data, hdr + 72)[0] * 512
                data[entries + 2 * 128 + 56:entries + 2 * 128 + 56 + 14] = "LINUX_X".encode("utf-16-le")
                struct.pack_into("<I", data, hdr + 88, zlib.crc32(bytes(data[entries:entries + 128 * 128])))
                struct.pack_into("<I", data, hdr + 16, 0)
                struct.pack_into("<I", data, hdr + 16, zlib.crc32(bytes(data[hdr:hdr + 92])))
            f.seek(0)
            f.write(data)
    else:
        bad = tmp_path / "bad.img"
        bad.write_bytes(b"\x55\xaa")
    refused(unchanged(host, lambda: write_usb(host, "--yes", bad, "/dev/sdb"), "sdb"), words)


def test_usage_errors_exit_2(host, image):
    p = write_usb(host, image)
    assert p.returncode == 2 and "usage" in p.stderr


def losetup(*args):
    return subprocess.run(["losetup", *args], capture_output=True, text=True, timeout=30)


def test_loop_device_is_written_for_real(tmp_path, image):
    """A real block device: sysfs, /proc/mounts and O_EXCL as they are."""
    if not shutil.which("losetup"):
        pytest.skip("losetup missing")
    backing = tmp_path / "loop.img"
    backing.write_bytes(b"\xa5" * (48 * MiB))
    p = losetup("--find", "--show", "--partscan", str(backing))
    if p.returncode != 0:
        pytest.skip(f"cannot make a loop device here: {p.stderr.strip()}")
    dev = p.stdout.strip()
    try:
        p = write_usb(None, "--yes", image, dev)
        assert p.returncode == 0, p.stderr
        assert f"{dev}: 48.0 MiB (50331648 bytes)" in p.stdout
        with open(backing, "rb") as f:
            data = f.read()
        assert hashlib.sha256(data[:IMAGE_MIB * MiB]).hexdigest() == sha(image)
        assert data[IMAGE_MIB * MiB:] == b"\xa5" * (8 * MiB)
        # write-usb asked the kernel to re-read the table: the stick's three
        # partitions appear (where the device nodes are made for them).
        name = os.path.basename(dev)
        if os.path.exists(f"{dev}p3"):
            assert all(os.path.exists(f"/sys/class/block/{name}p{i}") for i in (1, 2, 3))
            refused(write_usb(None, "--yes", image, f"{dev}p3"), f"partition {name}p3 of disk {name}")
    finally:
        losetup("--detach", dev)
