# SPDX-License-Identifier: MIT
"""tests/tools/test_mknetboot.py — tools/mknetboot's TFTP tree, checked from
the outside: what it prints (the three boot file names, nothing else), the
files and where they are (the GRUB boot files grub-mknetdir made, their
modules and no others, no regexp module that could glob, the kernel's bytes),
grub.cfg's choice of command line by MAC (GRUB's own grub-script-check
accepts it; each word single-quoted; the MAC in the lower-case colon form
$net_default_mac has) and the iPXE script's (the same lines; ${netX/mac};
UEFI chains GRUB), a rebuild over an earlier tree, and refusals: one line on
stderr, exit status not 0, nothing written. The QEMU boots are
tests/scenarios/test_netboot.py."""
import os
import re
import shutil
import subprocess

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
MKNETBOOT = os.path.join(ROOT, "tools", "mknetboot")

needs_grub = pytest.mark.skipif(
    not (shutil.which("grub-mknetdir") and os.path.isdir("/usr/lib/grub/i386-pc")
         and os.path.isdir("/usr/lib/grub/x86_64-efi")),
    reason="grub-mknetdir or GRUB's i386-pc/x86_64-efi files missing (tools/install-deps)")

PRINTED = ("netboot: bios bootfile=boot/grub/i386-pc/core.0\n"
           "netboot: uefi bootfile=boot/grub/x86_64-efi/core.efi\n"
           "netboot: ipxe script=bareio.ipxe\n")


def mknetboot(*args):
    return subprocess.run([MKNETBOOT, *map(str, args)], capture_output=True, text=True, timeout=120)


def listing(path):
    """Every path under `path`, relative to it."""
    out = []
    for d, dirs, names in os.walk(path):
        out += [os.path.relpath(os.path.join(d, n), path) for n in dirs + names]
    return sorted(out)


@pytest.fixture(scope="module")
def tree(kernel, tmp_path_factory):
    out = tmp_path_factory.mktemp("tftp") / "netboot"
    p = mknetboot(out, kernel, "--default", "tests=*  exit=poweroff\twatchdog=600",
                  "--mac", "52:54:00:12:34:56=tests=pci.* loglevel=debug",
                  "--mac", "52-54-00-AB-CD-EF=allow_write=*lab-0? tests=nvme.*,dio")
    assert p.returncode == 0, p.stderr
    return {"path": out, "stdout": p.stdout, "stderr": p.stderr}


def read(tree, name):
    with open(os.path.join(tree["path"], name)) as f:
        return f.read()


def grub_choice(cfg, mac):
    """The multiboot2 line grub.cfg's menu entry runs for $net_default_mac == mac
    (its if/elif/else chain read as GRUB would)."""
    entry = cfg.split('menuentry "bareio" {', 1)[1]
    taken, chosen = False, None
    for line in entry.splitlines():
        line = line.strip()
        m = re.fullmatch(r'(?:if|elif) \[ "\$net_default_mac" = "([^"]*)" \]; then', line)
        if m:
            taken = (m.group(1) == mac) and chosen is None
        elif line == "else":
            taken = chosen is None
        elif line == "fi":
            taken = False
        elif line.startswith("multiboot2 ") and (taken or chosen is None and "if [" not in entry):
            chosen = chosen or line
    return chosen


def ipxe_choice(script, mac):
    """The kernel line bareio.ipxe runs under BIOS for ${netX/mac} == mac."""
    lines = script.splitlines()
    label = None
    for line in lines:
        m = re.fullmatch(r"iseq \$\{netX/mac\} (\S+) && goto (\S+) \|\|", line)
        if m and m.group(1) == mac:
            label = m.group(2)
            break
    start = lines.index(f":{label}") + 1 if label else \
        next(i for i, l in enumerate(lines) if l.startswith("echo ") and "default" in l)
    return next(l for l in lines[start:] if l.startswith("kernel "))


@needs_grub
def test_prints_the_three_boot_files_only(tree):
    assert tree["stdout"] == PRINTED and tree["stderr"] == ""


@needs_grub
def test_tree_layout(tree, kernel):
    files = listing(tree["path"])
    for name in ("bareio.elf", "bareio.ipxe", "NETBOOT.txt", "boot/grub/grub.cfg",
                 "boot/grub/i386-pc/core.0", "boot/grub/x86_64-efi/core.efi"):
        assert name in files
    with open(os.path.join(tree["path"], "bareio.elf"), "rb") as f:
        assert f.read() == kernel.read_bytes()
    with open(os.path.join(tree["path"], "boot/grub/x86_64-efi/core.efi"), "rb") as f:
        assert f.read(2) == b"MZ"                     # a PE image, as UEFI PXE loads
    assert os.path.getsize(os.path.join(tree["path"], "boot/grub/i386-pc/core.0")) > 10000
    for platform, net in (("i386-pc", "pxe"), ("x86_64-efi", "efinet")):
        mods = {n[:-4] for n in os.listdir(os.path.join(tree["path"], "boot/grub", platform))
                if n.endswith(".mod")}
        assert {"normal", "multiboot2", "net", "tftp", "serial", "test", "all_video", net} <= mods
        assert "regexp" not in mods, "regexp.mod would let GRUB glob an unquoted word"
        assert len(mods) < 60, f"{platform}: {len(mods)} modules, not the few the config needs"
    assert not any(f.startswith(("boot/grub/fonts", "boot/grub/locale", "boot/grub/themes")) for f in files)
    assert not any(os.path.basename(f).startswith(".mknetboot") for f in listing(tree["path"].parent))
    stamp = read(tree, "NETBOOT.txt")
    assert stamp.startswith("bareio network boot tree, made by tools/mknetboot\n")
    assert "52:54:00:ab:cd:ef  allow_write=*lab-0? tests=nvme.*,dio" in stamp


@needs_grub
@pytest.mark.skipif(not shutil.which("grub-script-check"), reason="grub-script-check missing")
def test_grub_accepts_grub_cfg(tree):
    p = subprocess.run(["grub-script-check", os.path.join(tree["path"], "boot/grub/grub.cfg")],
                       capture_output=True, text=True)
    assert p.returncode == 0, (p.stdout, p.stderr)


@needs_grub
def test_grub_cfg_chooses_by_mac_with_every_word_quoted(tree):
    cfg = read(tree, "boot/grub/grub.cfg")
    assert cfg.startswith("# SPDX-License-Identifier: MIT\n")
    assert "serial --unit=0 --speed=115200" in cfg and "@" not in cfg.split("menuentry")[1]
    assert grub_choice(cfg, "52:54:00:12:34:56") == "multiboot2 /bareio.elf 'tests=pci.*' 'loglevel=debug'"
    # given as 52-54-00-AB-CD-EF: compared in $net_default_mac's form
    assert grub_choice(cfg, "52:54:00:ab:cd:ef") == \
        "multiboot2 /bareio.elf 'allow_write=*lab-0?' 'tests=nvme.*,dio'"
    # blanks and a tab between words make no empty or glued word
    assert grub_choice(cfg, "52:54:00:00:00:01") == \
        "multiboot2 /bareio.elf 'tests=*' 'exit=poweroff' 'watchdog=600'"
    assert grub_choice(cfg, "") == grub_choice(cfg, "52:54:00:00:00:01")
    assert cfg.count("multiboot2 ") == 3 and "boot\n}" in cfg


@needs_grub
def test_ipxe_script_chooses_the_same_lines(tree):
    script = read(tree, "bareio.ipxe")
    assert script.startswith("#!ipxe\n# SPDX-License-Identifier: MIT\n")
    assert ipxe_choice(script, "52:54:00:12:34:56") == "kernel bareio.elf tests=pci.* loglevel=debug"
    assert ipxe_choice(script, "52:54:00:ab:cd:ef") == "kernel bareio.elf allow_write=*lab-0? tests=nvme.*,dio"
    assert ipxe_choice(script, "52:54:00:00:00:01") == "kernel bareio.elf tests=* exit=poweroff watchdog=600"
    lines = script.splitlines()
    # under UEFI (no Multiboot in iPXE) the script goes to GRUB before any kernel line
    assert lines.index("iseq ${platform} pcbios || goto bareio_uefi") < \
        min(i for i, l in enumerate(lines) if l.startswith("kernel "))
    assert lines[-1] == "chain boot/grub/x86_64-efi/core.efi" and ":bareio_uefi" in lines
    assert all(lines[i + 1] == "boot" for i, l in enumerate(lines) if l.startswith("kernel "))


@needs_grub
def test_without_machines_every_nic_gets_the_default(kernel, tmp_path):
    out = tmp_path / "tree"
    p = mknetboot(out, kernel)
    assert p.returncode == 0 and p.stdout == PRINTED, p.stderr
    cfg = (out / "boot/grub/grub.cfg").read_text()
    assert "if [" not in cfg.split("menuentry")[1] and "multiboot2 /bareio.elf 'tests=*'\n" in cfg
    assert "kernel bareio.elf tests=*\nboot\n" in (out / "bareio.ipxe").read_text()


@needs_grub
def test_rebuild_replaces_an_earlier_tree_and_an_empty_dir_is_fine(kernel, tmp_path):
    out = tmp_path / "tree"
    out.mkdir()
    assert mknetboot(out, kernel, "--mac", "52:54:00:00:00:02=tests=lib").returncode == 0
    p = mknetboot(out, kernel, "--default", "tests=pci")
    assert p.returncode == 0, p.stderr
    assert "52:54:00:00:00:02" not in (out / "boot/grub/grub.cfg").read_text()
    assert sorted(os.listdir(tmp_path)) == ["tree"]


@needs_grub
@pytest.mark.parametrize("added", ["pxelinux.0", "boot/memtest.bin", "boot/grub/grub.cfg-01-52-54-00-00-00-03"])
def test_refuses_an_earlier_tree_someone_added_files_to(kernel, tmp_path, added):
    """A rebuild replaces the tree whole, so a file put beside it would be lost: refused."""
    out = tmp_path / "tree"
    assert mknetboot(out, kernel).returncode == 0
    (out / added).write_text("the admin's")
    before = listing(tmp_path)
    p = mknetboot(out, kernel, "--default", "tests=pci")
    assert p.returncode == 1 and p.stderr.count("\n") == 1 and f"({added}, ...)" in p.stderr, p.stderr
    assert listing(tmp_path) == before and (out / added).read_text() == "the admin's"


BAD = [
    (["--mac", "52:54:00:12:34=tests=lib"], "not a MAC address"),
    (["--mac", "52:54:00:12:34:5g=tests=lib"], "not a MAC address"),
    (["--mac", "52:54-00:12:34:56=tests=lib"], "not a MAC address"),
    (["--mac", "5254.0012.3456=tests=lib"], "not a MAC address"),
    (["--mac", "01:00:5e:00:00:01=tests=lib"], "multicast"),
    (["--mac", "52:54:00:12:34:56"], "give MAC=CMDLINE"),
    (["--mac", "52:54:00:12:34:56=a=1", "--mac", "52-54-00-12-34-56=b=1"], "given twice"),
    (["--default", "tests=lib\nexit=halt"], "a line end"),
    (["--mac", "52:54:00:12:34:56=tests=lib\rexit=halt"], "a line end"),
    (["--default", "tests='lib'"], "cannot be passed"),
    (["--default", 'tests="lib"'], "cannot be passed"),
    (["--default", "tests=${x}"], "cannot be passed"),
    (["--default", "tests=a\\b"], "cannot be passed"),
    (["--default", "tests=lib || shell"], "cannot be passed"),
    (["--default", "tests=lib #"], "cannot be passed"),
    (["--default", "tests=lib\x1b[2J"], "cannot be passed"),
    (["--default", "tests=lïb"], "cannot be passed"),
    (["--nonsense"], "unrecognized arguments"),
]


@needs_grub
@pytest.mark.parametrize("args,words", BAD, ids=[str(i) for i in range(len(BAD))])
def test_refusals_are_one_line_and_write_nothing(kernel, tmp_path, args, words):
    out = tmp_path / "tree"
    p = mknetboot(out, kernel, *args)
    assert p.returncode != 0 and p.stdout == ""
    assert p.stderr.count("\n") == 1 and p.stderr.startswith("mknetboot: ") and words in p.stderr, p.stderr
    assert os.listdir(tmp_path) == []


@needs_grub
def test_refuses_a_directory_holding_other_files(kernel, tmp_path):
    out = tmp_path / "srv"
    out.mkdir()
    (out / "pxelinux.0").write_bytes(b"someone else's")
    fake_stamp = out / "NETBOOT.txt"
    fake_stamp.write_text("not ours\n")
    before = listing(tmp_path)
    p = mknetboot(out, kernel)
    assert p.returncode == 1 and p.stderr.count("\n") == 1
    assert "holds files tools/mknetboot did not make" in p.stderr and "give a new or empty directory" in p.stderr
    assert listing(tmp_path) == before and (out / "pxelinux.0").read_bytes() == b"someone else's"


@needs_grub
def test_refuses_a_file_as_outdir_and_a_missing_kernel(kernel, tmp_path):
    (tmp_path / "f").write_text("x")
    p = mknetboot(tmp_path / "f", kernel)
    assert p.returncode == 1 and "is not a directory" in p.stderr and p.stderr.count("\n") == 1
    p = mknetboot(tmp_path / "tree", tmp_path / "nope.elf")
    assert p.returncode == 1 and "no such file (make kernel first)" in p.stderr and p.stderr.count("\n") == 1
    assert os.listdir(tmp_path) == ["f"]
