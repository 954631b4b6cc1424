"""tools/disks.py — the named disk set-ups that tools/run-qemu attaches.

A set-up is a function that takes a DiskContext and returns QEMU arguments.
Scratch images are raw files under the context's directory (build/disks/ by
default), created at their size when missing and reused after that. q35's
built-in AHCI controller (00:1f.2) has buses ide.0..ide.5; run-qemu puts a
boot CD on ide.5, so set-ups use ide.0..ide.4.

To add a set-up: write a function below and add it to SETUPS; it is then
`tools/run-qemu --disks NAME` and usable from the scenario tests.
"""

import os
from dataclasses import dataclass
from typing import Callable, Dict, List

MiB = 1024 * 1024
CDROM_BUS = "ide.5"


@dataclass
class DiskContext:
    directory: str            # where scratch images live

    def image(self, name: str, size: int) -> str:
        """Path of a raw scratch image, created (sparse) if missing or resized if
        its size differs from what the set-up asks for."""
        os.makedirs(self.directory, exist_ok=True)
        path = os.path.join(self.directory, name)
        if not os.path.exists(path) or os.path.getsize(path) != size:
            with open(path, "ab") as f:
                f.truncate(size)
        return path


def ahci_disk(ctx: DiskContext, name: str, bus: str, size: int = 64 * MiB) -> List[str]:
    path = ctx.image(f"{name}.img", size)
    return ["-drive", f"if=none,id={name},format=raw,file={path}",
            "-device", f"ide-hd,drive={name},bus={bus},serial=bareio-{name}"]


def nvme_controller(ctx: DiskContext, name: str, size: int = 64 * MiB, bus: str = "") -> List[str]:
    """One NVMe controller with one namespace (NSID 1) backed by a scratch image;
    `bus` puts it behind a bridge or root port instead of on the root bus."""
    path = ctx.image(f"{name}n1.img", size)
    where = f",bus={bus}" if bus else ""
    return ["-drive", f"if=none,id={name}n1,format=raw,file={path}",
            "-device", f"nvme,id={name},serial=bareio-{name},drive={name}n1{where}"]


def setup_none(ctx: DiskContext) -> List[str]:
    return []


def setup_default(ctx: DiskContext) -> List[str]:
    """One AHCI disk on port 0 and one NVMe namespace, 64 MiB each, plus QEMU's
    `edu` test device, so the pci suite proves MSI delivery end to end."""
    return ahci_disk(ctx, "ahci0", "ide.0") + nvme_controller(ctx, "nvme0") + ["-device", "edu"]


def setup_bridged(ctx: DiskContext) -> List[str]:
    """The default disks, but the NVMe controller sits behind a PCIe root port
    (bus 1), so PCI enumeration has to walk a bridge to find it."""
    return (ahci_disk(ctx, "ahci0", "ide.0")
            + ["-device", "pcie-root-port,id=rp1,chassis=1"]
            + nvme_controller(ctx, "nvme0", bus="rp1"))


SETUPS: Dict[str, Callable[[DiskContext], List[str]]] = {
    "none": setup_none,
    "default": setup_default,
    "bridged": setup_bridged,
}


def qemu_args(name: str, directory: str) -> List[str]:
    if name not in SETUPS:
        raise KeyError(f"unknown disk set-up '{name}' (known: {', '.join(sorted(SETUPS))})")
    return SETUPS[name](DiskContext(directory))
