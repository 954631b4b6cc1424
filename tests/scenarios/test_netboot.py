# SPDX-License-Identifier: MIT
"""tests/scenarios/test_netboot.py — bareio booted from the network, from the
TFTP tree tools/mknetboot makes (make netboot), the way a rack boots it:
QEMU's user network is the DHCP and TFTP server (tools/run-qemu --netboot
DIR:BOOTFILE: -netdev user,tftp=DIR,bootfile=BOOTFILE), an e1000 NIC the only
boot device, and an NVMe scratch disk.

- GRUB under SeaBIOS (QEMU's iPXE ROM does the PXE boot, boot/grub/i386-pc/core.0)
  and under OVMF (boot/grub/x86_64-efi/core.efi);
- GRUB from OVMF's own PXE stack (virtio-net without the iPXE ROM);
- the iPXE script (bareio.ipxe) as the boot file: under SeaBIOS QEMU's iPXE ROM
  runs it and loads bareio through Multiboot1, under OVMF it chains GRUB;
and for each, a NIC whose MAC has its own command line in the tree and one
that gets the default. Every boot must pass (QEMU's exit status from
isa-debug-exit and ktap-check), the kernel's echo of its command line must be
the line of that MAC, word for word (wildcards as typed: nothing globbed),
and the MAC's run writes the scratch disk (its manifest), the default's
read-only run leaves it unchanged.
"""
import os
import re
import subprocess

import pytest

import disks
from conftest import TOOLS, access, assert_clean_pass, scratch_image, sha256

OVMF = "/usr/share/OVMF/OVMF_CODE_4M.fd"
needs_ovmf = pytest.mark.skipif(not os.path.exists(OVMF), reason="OVMF not installed (tools/install-deps)")

OWN_MAC = "52:54:00:ba:4e:01"
OTHER_MAC = "52:54:00:ba:4e:02"
OWN_LINE = "tests=l?b.lib_memory_f*,preflight,dio loglevel=info"
DEFAULT_LINE = "tests=lib,pci,preflight"
BOOTFILES = {"bios": "boot/grub/i386-pc/core.0", "uefi": "boot/grub/x86_64-efi/core.efi"}


@pytest.fixture(scope="session")
def tree(kernel, tmp_path_factory):
    """The TFTP tree: OWN_MAC's line given in upper case with dashes (the
    tree compares the lower-case colon form NICs report), the default for
    every other NIC."""
    out = tmp_path_factory.mktemp("netboot") / "tftp"
    p = subprocess.run([os.path.join(TOOLS, "mknetboot"), str(out), kernel, "--default", DEFAULT_LINE,
                        "--mac", f"{OWN_MAC.upper().replace(':', '-')}={OWN_LINE}"],
                       capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stderr
    assert p.stdout.splitlines() == [f"netboot: bios bootfile={BOOTFILES['bios']}",
                                     f"netboot: uefi bootfile={BOOTFILES['uefi']}",
                                     "netboot: ipxe script=bareio.ipxe"]
    return str(out)


def netboot(boot, tmp_path, tree, bootfile, firmware, mac, nic=()):
    nvme = str(tmp_path / "nvme0n1.img")
    if not os.path.exists(nvme):
        nvme = scratch_image(tmp_path, "nvme0n1")
    before = sha256(nvme)
    b = boot("--netboot", f"{tree}:{bootfile}", "--firmware", firmware, "--mac", mac, *nic,
             "--", *disks.nvme_controller_at(nvme, "nvme0"), timeout=400)
    return b, sha256(nvme) != before


def echoed(b, loader, protocol):
    m = re.fullmatch(rf'bareio: loader ({loader}.*) via {protocol}, cmdline "(.*)"', b.loader_line())
    assert m, b.describe()
    return m.group(2)


def check_run(b, mac, changed):
    if mac == OWN_MAC:
        assert_clean_pass(b, expect=["lib", "preflight", "dio"])
        assert b.report.find("lib.lib_memory_functions").status == "pass", b.describe()
        assert access(b.log, "nvme0n1").startswith("scratch"), b.describe()
        assert "bareio-manifest: begin device=nvme0n1 " in b.log and changed, "the scratch disk was not written"
    else:
        assert_clean_pass(b, expect=["lib", "pci", "preflight"])
        assert sorted(b.report.suites()) == ["lib", "pci", "preflight"], b.describe()
        assert not changed, "a read-only run wrote the scratch disk"


def said(mac):
    return f"bareio: NIC {mac}: " + ("the command line for this MAC" if mac == OWN_MAC else "the default command line")


@pytest.mark.parametrize("mac", [OWN_MAC, OTHER_MAC], ids=["own-mac", "default"])
@pytest.mark.parametrize("firmware", ["bios", pytest.param("uefi", marks=needs_ovmf)])
def test_grub_pxe_boot_picks_the_line_by_mac(boot, tmp_path, tree, firmware, mac):
    """The PXE boot of the NIC's QEMU ROM: iPXE's legacy PXE under SeaBIOS;
    under OVMF the ROM's EFI driver, which also boots the NIC itself (its
    banner and downloads are on COM1), GRUB's efinet then on its SNP."""
    b, changed = netboot(boot, tmp_path, tree, BOOTFILES[firmware], firmware, mac)
    assert said(mac) in b.log, b.describe()
    assert echoed(b, "GRUB", "multiboot2") == (OWN_LINE if mac == OWN_MAC else DEFAULT_LINE)
    check_run(b, mac, changed)


@needs_ovmf
def test_ovmf_own_pxe_stack_on_virtio_net(boot, tmp_path, tree):
    """OVMF's own network stack (VirtioNetDxe, its PXE base code), the NIC
    without QEMU's iPXE ROM: OVMF drives only virtio-net itself, so this is
    the way a UEFI machine's built-in PXE boots core.efi."""
    b, changed = netboot(boot, tmp_path, tree, BOOTFILES["uefi"], "uefi", OWN_MAC,
                         nic=("--nic", "virtio-net-pci", "--no-nic-rom"))
    assert "iPXE" not in b.log and "PXE" in b.log, b.describe()
    assert said(OWN_MAC) in b.log, b.describe()
    assert echoed(b, "GRUB", "multiboot2") == OWN_LINE
    check_run(b, OWN_MAC, changed)


@pytest.mark.parametrize("mac", [OWN_MAC, OTHER_MAC], ids=["own-mac", "default"])
def test_ipxe_script_boots_multiboot1_under_bios(boot, tmp_path, tree, mac):
    """QEMU's own iPXE ROM takes bareio.ipxe as the DHCP boot file and runs
    it (its echo goes to the screen only: the legacy ROM has no serial console)."""
    b, changed = netboot(boot, tmp_path, tree, "bareio.ipxe", "bios", mac)
    assert echoed(b, "iPXE", "multiboot1") == (OWN_LINE if mac == OWN_MAC else DEFAULT_LINE)
    check_run(b, mac, changed)


@needs_ovmf
def test_ipxe_script_chains_grub_under_uefi(boot, tmp_path, tree):
    """Under UEFI iPXE cannot load Multiboot: the script says so and chains
    GRUB's core.efi, whose grub.cfg picks the same line by MAC."""
    b, changed = netboot(boot, tmp_path, tree, "bareio.ipxe", "uefi", OWN_MAC)
    assert "iPXE under UEFI cannot load a Multiboot kernel, chaining GRUB" in b.log, b.describe()
    assert said(OWN_MAC) in b.log, b.describe()
    assert echoed(b, "GRUB", "multiboot2") == OWN_LINE
    check_run(b, OWN_MAC, changed)
