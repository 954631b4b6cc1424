# SPDX-License-Identifier: MIT
"""tools/disks.py — the named disk set-ups that tools/run-qemu attaches.

A set-up is a function that takes a DiskContext and returns QEMU arguments.
Scratch images are raw files under the context's directory (build/disks/ by
default), created at their size when missing and reused after that. q35's
built-in AHCI controller (00:1f.2) has buses ide.0..ide.5; run-qemu puts a
boot CD on ide.5, so set-ups use ide.0..ide.4.

Scratch images get a bareio scratch label (lib/scratch.h) when their first
sector is blank, so the harness may write them from 1 MiB on; the label bytes
are made here in Python exactly as lib/scratch.c and tools/mkscratch make them
(tests/tools/test_mkscratch.py proves it). The `unmarked` set-up's images are
never labelled and hold a known pattern: they must come out unchanged.

To add a set-up: write a function below and add it to SETUPS; it is then
`tools/run-qemu --disks NAME` and usable from the scenario tests.
"""

import os
import shutil
import struct
import time
from dataclasses import dataclass
from typing import Callable, Dict, List, Optional

MiB = 1024 * 1024
CDROM_BUS = "ide.5"


# ---- the scratch label (lib/scratch.h), byte for byte as lib/scratch.c ----

SCRATCH_MAGIC = b"BAREIO-SCRATCH\0\0"
SCRATCH_VERSION = 1
SCRATCH_LABEL_SIZE = 512
SCRATCH_DEFAULT_DATA_OFFSET = MiB


def _crc32c_table() -> List[int]:
    table = []
    for n in range(256):
        c = n
        for _ in range(8):
            c = (c >> 1) ^ 0x82F63B78 if c & 1 else c >> 1
        table.append(c)
    return table


_CRC32C = _crc32c_table()


def crc32c(data: bytes) -> int:
    """CRC-32C (Castagnoli), reflected, init and final xor ~0 (lib/crc.h)."""
    c = 0xFFFFFFFF
    for b in data:
        c = _CRC32C[(c ^ b) & 0xFF] ^ (c >> 8)
    return c ^ 0xFFFFFFFF


def scratch_label(uuid: bytes, data_offset: int = SCRATCH_DEFAULT_DATA_OFFSET, data_size: int = 0,
                  created: int = 0, note: str = "made by tools/disks.py") -> bytes:
    """The 512-byte scratch label lib/scratch.c's scratch_label_build() writes."""
    assert len(uuid) == 16
    body = (SCRATCH_MAGIC + struct.pack("<IIQQ", SCRATCH_VERSION, SCRATCH_LABEL_SIZE, data_offset,
                                         data_size)
            + uuid + struct.pack("<Q", created) + note.encode()[:64].ljust(64, b"\0"))
    body = body.ljust(508, b"\0")
    return body + struct.pack("<I", crc32c(body))


def write_scratch_label(path: str) -> None:
    """Labels an image (random UUID, now as created); 1 MiB to the end is scratch."""
    with open(path, "r+b") as f:
        uuid = bytearray(os.urandom(16))
        uuid[6] = (uuid[6] & 0x0F) | 0x40       # RFC 9562 version 4, as mkscratch
        uuid[8] = (uuid[8] & 0x3F) | 0x80
        f.write(scratch_label(bytes(uuid), created=int(time.time())))


UNMARKED_PATTERN = b"bareio unmarked: must never change. "


@dataclass
class DiskContext:
    directory: str                      # where scratch images live
    boot_iso: Optional[str] = None      # the ISO being booted, for set-ups that attach it

    def image(self, name: str, size: int) -> str:
        """Path of a raw image, created (sparse) if missing or resized if its size
        differs from what the set-up asks for. No label."""
        os.makedirs(self.directory, exist_ok=True)
        path = os.path.join(self.directory, name)
        if not os.path.exists(path) or os.path.getsize(path) != size:
            with open(path, "ab") as f:
                f.truncate(size)
        return path

    def scratch_image(self, name: str, size: int) -> str:
        """An image the harness may write: labelled when its first sector is blank
        (new, or made before images were labelled); an existing label is kept."""
        path = self.image(name, size)
        with open(path, "rb") as f:
            head = f.read(SCRATCH_LABEL_SIZE)
        if head == bytes(len(head)):
            write_scratch_label(path)
        return path

    def unmarked_image(self, name: str, size: int) -> str:
        """An unlabelled image full of a known pattern, (re)made on every call so a
        run starts from the same bytes."""
        os.makedirs(self.directory, exist_ok=True)
        path = os.path.join(self.directory, name)
        block = (UNMARKED_PATTERN * (MiB // len(UNMARKED_PATTERN) + 1))[:MiB]
        with open(path, "wb") as f:
            for _ in range(size // MiB):
                f.write(block)
            f.write(block[:size % MiB])
        return path


def ahci_disk_at(path: str, name: str, bus: str) -> List[str]:
    """An AHCI (ide-hd) disk backed by `path`, serial bareio-NAME."""
    return ["-drive", f"if=none,id={name},format=raw,file={path}",
            "-device", f"ide-hd,drive={name},bus={bus},serial=bareio-{name}"]


def nvme_controller_at(path: str, name: str, bus: str = "") -> List[str]:
    """An NVMe controller NAME (serial bareio-NAME) whose namespace 1 is `path`.
    discard=unmap: QEMU 7.2's NVMe reports that deallocated blocks read as
    zeroes, which holds only when the drive really discards."""
    where = f",bus={bus}" if bus else ""
    return ["-drive", f"if=none,id={name}n1,format=raw,discard=unmap,file={path}",
            "-device", f"nvme,id={name},serial=bareio-{name},drive={name}n1{where}"]


def ahci_disk(ctx: DiskContext, name: str, bus: str, size: int = 64 * MiB) -> List[str]:
    return ahci_disk_at(ctx.scratch_image(f"{name}.img", size), name, bus)


def nvme_controller(ctx: DiskContext, name: str, size: int = 64 * MiB, bus: str = "") -> List[str]:
    """One NVMe controller with one namespace (NSID 1) backed by a scratch image;
    `bus` puts it behind a bridge or root port instead of on the root bus."""
    return nvme_controller_at(ctx.scratch_image(f"{name}n1.img", size), name, bus)


def boot_iso_copy(ctx: DiskContext, iso: str) -> str:
    """A copy of the boot ISO in the disk directory: QEMU will not open the file
    the boot CD-ROM holds read-only a second time for writing, and the copy is
    the same medium to bareio (same volume id)."""
    os.makedirs(ctx.directory, exist_ok=True)
    path = os.path.join(ctx.directory, "bootiso-copy.img")
    shutil.copyfile(iso, path)
    return path


def virtio_blk_at(path: str, name: str, props: str = "") -> List[str]:
    """A virtio-blk-pci disk NAME (serial bareio-NAME) backed by `path`.
    disable-legacy=on makes it a modern-only device (1af4:1042); without it,
    on q35's root bus, it is transitional (1af4:1001). discard=unmap, so that
    DISCARD reaches the image."""
    return ["-drive", f"if=none,id={name},format=raw,discard=unmap,file={path}",
            "-device", f"virtio-blk-pci,drive={name},serial=bareio-{name},disable-legacy=on{props}"]


def setup_none(ctx: DiskContext) -> List[str]:
    return []


def setup_default(ctx: DiskContext) -> List[str]:
    """One disk per driver — an AHCI disk on port 0, one NVMe namespace and one
    virtio-blk disk, 64 MiB each — plus QEMU's `edu` test device, so the pci
    suite proves MSI delivery end to end."""
    return (ahci_disk(ctx, "ahci0", "ide.0") + nvme_controller(ctx, "nvme0")
            + virtio_blk_at(ctx.scratch_image("vblk0.img", 64 * MiB), "vblk0")
            + ["-device", "edu"])


def setup_bridged(ctx: DiskContext) -> List[str]:
    """The default disks, but the NVMe controller sits behind a PCIe root port
    (bus 1), so PCI enumeration has to walk a bridge to find it."""
    return (ahci_disk(ctx, "ahci0", "ide.0")
            + ["-device", "pcie-root-port,id=rp1,chassis=1"]
            + nvme_controller(ctx, "nvme0", bus="rp1"))


def setup_unmarked(ctx: DiskContext) -> List[str]:
    """One unlabelled AHCI disk and one unlabelled NVMe namespace, 16 MiB each,
    full of a known pattern: without allow_write= the harness must leave every
    byte as it was (compare a checksum before and after the run)."""
    return (ahci_disk_at(ctx.unmarked_image("unmarked-ahci.img", 16 * MiB), "unmarked0", "ide.0")
            + nvme_controller_at(ctx.unmarked_image("unmarkedn1.img", 16 * MiB), "unmarked1"))


def setup_bootdisk(ctx: DiskContext) -> List[str]:
    """The default disks plus a copy of the boot ISO as an NVMe namespace
    (serial bareio-bootiso): bareio must call it the boot medium and never
    write it, whatever allow_write= says. Needs --iso."""
    if not ctx.boot_iso:
        raise ValueError("disk set-up 'bootdisk' attaches the boot ISO: boot with --iso")
    return setup_default(ctx) + nvme_controller_at(boot_iso_copy(ctx, ctx.boot_iso), "bootiso")


def setup_virtio(ctx: DiskContext) -> List[str]:
    """One virtio-blk disk (modern, 512-byte blocks), 64 MiB, serial bareio-vblk0."""
    return virtio_blk_at(ctx.scratch_image("vblk0.img", 64 * MiB), "vblk0")


def setup_virtio_4k(ctx: DiskContext) -> List[str]:
    """One virtio-blk disk with 4096-byte logical and physical blocks, 64 MiB,
    serial bareio-vblk0: virtio-blk sectors stay 512 bytes (Virtio 1.2 §5.2.6)."""
    return virtio_blk_at(ctx.scratch_image("vblk0-4k.img", 64 * MiB), "vblk0",
                         ",logical_block_size=4096,physical_block_size=4096")


SETUPS: Dict[str, Callable[[DiskContext], List[str]]] = {
    "none": setup_none,
    "default": setup_default,
    "bridged": setup_bridged,
    "unmarked": setup_unmarked,
    "bootdisk": setup_bootdisk,
    "virtio": setup_virtio,
    "virtio-4k": setup_virtio_4k,
}


def qemu_args(name: str, directory: str, boot_iso: Optional[str] = None) -> List[str]:
    if name not in SETUPS:
        raise KeyError(f"unknown disk set-up '{name}' (known: {', '.join(sorted(SETUPS))})")
    return SETUPS[name](DiskContext(directory, boot_iso))
