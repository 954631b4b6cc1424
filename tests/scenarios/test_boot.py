# SPDX-License-Identifier: MIT
"""tests/scenarios/test_boot.py — bareio boots every way it is meant to, and
the command line reaches it: QEMU's Multiboot1 loader, and GRUB's multiboot2
from an ISO on a CD-ROM or a USB stick, under SeaBIOS and OVMF (TCG)."""
import re

import pytest

from conftest import DEFAULT_ISO, assert_clean_pass


@pytest.mark.parametrize("smp", ["1", "2"])
def test_kernel_append_runs_selected_suite(boot, kernel, smp):
    """(a) -kernel with -append: the command line is echoed, only the chosen suite runs."""
    b = boot("--kernel", kernel, "--append", "tests=lib exit=qemu", "--smp", smp)
    assert 'bareio: loader qemu via multiboot1, cmdline "tests=lib exit=qemu"' in b.log, b.describe()
    assert_clean_pass(b, expect=["lib"])
    assert b.report.suites() == ["lib"], b.describe()
    assert b.report.passed > 0


def test_default_iso_bios_cdrom_full_harness(boot, kernel):
    """(b) make iso's image from a CD-ROM under SeaBIOS with the default scratch
    disks: the whole default harness, as `make run` would run it."""
    b = boot("--iso", DEFAULT_ISO, "--boot", "cdrom", "--firmware", "bios", "--disks", "default",
             timeout=300)
    assert "via multiboot2" in b.loader_line(), b.describe()
    assert "GRUB" in b.loader_line()
    assert_clean_pass(b, expect=["memory", "time"])


@pytest.mark.parametrize("firmware,medium", [("uefi", "cdrom"), ("bios", "usb"), ("uefi", "usb")])
def test_iso_boots(boot, make_iso, firmware, medium):
    """(c) OVMF + CD-ROM, (d) the ISO as a USB stick on xHCI under SeaBIOS and OVMF."""
    b = boot("--iso", make_iso("tests=lib"), "--boot", medium, "--firmware", firmware, timeout=300)
    # tools/mkiso appends the ISO's boot id, so bareio knows its boot medium.
    assert re.search(r'via multiboot2, cmdline "tests=lib bootid=[0-9A-F]{16}"$', b.loader_line()), \
        b.describe()
    assert_clean_pass(b, expect=["lib"])
    assert b.report.suites() == ["lib"]


def test_cmdline_reaches_kernel_through_grub(boot, make_iso):
    """(e) a distinctive command line (glob characters GRUB must not expand,
    several keys) arrives byte for byte."""
    cmdline = "tests=l*,lib.* exit=qemu"
    b = boot("--iso", make_iso(cmdline), "--boot", "cdrom")
    assert re.search(r'cmdline "' + re.escape(cmdline) + r' bootid=[0-9A-F]{16}"$', b.loader_line()), \
        b.describe()
    assert_clean_pass(b, expect=["lib"])
