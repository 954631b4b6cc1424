# SPDX-License-Identifier: MIT
"""tests/tools/test_run_qemu.py — tools/run-qemu against a stand-in QEMU (a
script first on PATH) that records its arguments, prints a serial log and
exits with a chosen status: the command line it builds, the exit mapping,
the timeout, the log file and the KTAP check after the run."""
import json
import os
import subprocess
import sys
import textwrap

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
RUN_QEMU = os.path.join(ROOT, "tools", "run-qemu")

FAKE_QEMU = textwrap.dedent("""\
    #!/usr/bin/env python3
    import json, os, sys, time
    with open(os.environ["FAKE_ARGV"], "w") as f:
        json.dump(sys.argv[1:], f)
    sys.stdout.write(open(os.environ["FAKE_SERIAL"]).read())
    sys.stdout.flush()
    time.sleep(float(os.environ.get("FAKE_SLEEP", "0")))
    sys.exit(int(os.environ["FAKE_STATUS"]))
    """)


@pytest.fixture
def fake(tmp_path):
    bindir = tmp_path / "bin"
    bindir.mkdir()
    qemu = bindir / "qemu-system-x86_64"
    qemu.write_text(FAKE_QEMU)
    qemu.chmod(0o755)
    kernel = tmp_path / "bareio.elf"
    kernel.write_bytes(b"\x7fELF")

    def run(*args, serial="bareio: booting (x86_64)\n", status=33, sleep=0, env=None):
        (tmp_path / "serial").write_text(serial)
        e = dict(os.environ, PATH=f"{bindir}:{os.environ['PATH']}", FAKE_ARGV=str(tmp_path / "argv"),
                 FAKE_SERIAL=str(tmp_path / "serial"), FAKE_STATUS=str(status), FAKE_SLEEP=str(sleep))
        e.pop("ACCEL", None)
        e.update(env or {})
        args = [a.replace("KERNEL", str(kernel)) for a in args]
        p = subprocess.run([sys.executable, RUN_QEMU, *args], capture_output=True, text=True,
                           env=e, timeout=60)
        argv = json.loads((tmp_path / "argv").read_text()) if (tmp_path / "argv").exists() else None
        return p, argv
    run.tmp = tmp_path
    return run


def good_ktap(result="ok"):
    return textwrap.dedent(f"""\
        === bareio KTAP START ===
        KTAP version 1
        1..1
          KTAP version 1
          # Subtest: lib
          1..1
          {result} 1 lib_a
        {result} 1 lib
        # bareio: {1 if result == 'ok' else 0} passed, {0 if result == 'ok' else 1} failed, 0 skipped
        === bareio KTAP END ===
        """)


def test_fixed_machine_options(fake):
    p, argv = fake("--kernel", "KERNEL", "--append", "tests=lib exit=qemu")
    assert p.returncode == 0, p.stderr
    joined = " ".join(argv)
    for opt in ("-M q35", "-nodefaults", "-no-reboot", "-display none", "-serial stdio",
                "-device isa-debug-exit,iobase=0xf4,iosize=0x04", "-accel tcg"):
        assert opt in joined
    assert argv[argv.index("-append") + 1] == "tests=lib exit=qemu"


def test_accel_kvm_opt_in_and_machine_override(fake):
    _, argv = fake("--kernel", "KERNEL", "--machine", "pc", env={"ACCEL": "kvm"})
    assert argv[argv.index("-accel") + 1] == "kvm"
    assert argv[argv.index("-M") + 1] == "pc"


def test_extra_qemu_args_after_double_dash(fake):
    _, argv = fake("--kernel", "KERNEL", "--memory", "6G", "--smp", "2", "--", "-no-hpet")
    assert argv[-1] == "-no-hpet"
    assert argv[argv.index("-m") + 1] == "6G" and argv[argv.index("-smp") + 1] == "2"


def test_uefi_uses_ovmf_code_read_only_and_a_copy_of_vars(fake):
    iso = fake.tmp / "x.iso"
    iso.write_bytes(b"")
    _, argv = fake("--iso", str(iso), "--firmware", "uefi")
    pflash = [argv[i + 1] for i, a in enumerate(argv) if a == "-drive" and "pflash" in argv[i + 1]]
    assert len(pflash) == 2
    assert "readonly=on" in pflash[0] and "OVMF_CODE_4M.fd" in pflash[0]
    assert "OVMF_VARS_4M.fd" in pflash[1] and "/usr/share/OVMF" not in pflash[1]


def test_usb_stick_on_xhci(fake):
    iso = fake.tmp / "x.iso"
    iso.write_bytes(b"")
    _, argv = fake("--iso", str(iso), "--boot", "usb")
    joined = " ".join(argv)
    assert "qemu-xhci" in joined and "usb-storage" in joined and f"file={iso}" in joined


def test_stick_is_a_writable_usb_disk(fake):
    """--stick (tools/mkusb's image) goes on xHCI as the boot device, without
    snapshot=on, so a scenario's before/after checksum proves bareio wrote nothing."""
    img = fake.tmp / "stick.img"
    img.write_bytes(b"")
    _, argv = fake("--stick", str(img), "--firmware", "uefi")
    drive = [argv[i + 1] for i, a in enumerate(argv) if a == "-drive" and "id=stick" in argv[i + 1]]
    assert drive == [f"if=none,id=stick,format=raw,file={img}"]
    assert "usb-storage,bus=xhci.0,drive=stick,bootindex=0" in argv and "qemu-xhci,id=xhci" in argv
    assert not any("ide-cd" in a or "-kernel" == a for a in argv)
    (fake.tmp / "argv").unlink()
    p, argv = fake("--stick", str(img), "--append", "tests=lib")
    assert p.returncode == 2 and argv is None and "bareio.cfg" in p.stderr


def test_netboot_serves_the_tree_by_tftp_and_boots_the_nic(fake):
    """--netboot DIR:BOOTFILE: QEMU's user network serves DIR over TFTP and
    names BOOTFILE in its DHCP offer; the NIC (e1000 unless --nic) is the one
    boot device, with the MAC asked for; no -kernel, CD or stick."""
    tree = fake.tmp / "tree,1"
    (tree / "boot").mkdir(parents=True)
    (tree / "boot" / "core.0").write_bytes(b"")
    p, argv = fake("--netboot", f"{tree}:boot/core.0", "--mac", "52:54:00:00:00:07")
    assert p.returncode == 0, p.stderr
    assert argv[argv.index("-netdev") + 1] == f"user,id=n0,tftp={str(tree).replace(',', ',,')},bootfile=boot/core.0"
    assert argv[argv.index("-device", argv.index("-netdev")) + 1] == \
        "e1000,netdev=n0,bootindex=0,mac=52:54:00:00:00:07"
    assert not any(a in ("-kernel", "-cdrom") or "usb-storage" in a or "ide-cd" in a for a in argv)
    (fake.tmp / "argv").unlink()
    _, argv = fake("--netboot", f"{tree}:boot/core.0", "--nic", "virtio-net-pci", "--firmware", "uefi")
    assert "virtio-net-pci,netdev=n0,bootindex=0" in argv
    (fake.tmp / "argv").unlink()
    _, argv = fake("--netboot", f"{tree}:boot/core.0", "--nic", "virtio-net-pci", "--no-nic-rom",
                   "--firmware", "uefi")
    assert "virtio-net-pci,netdev=n0,bootindex=0,romfile=" in argv
    assert any("OVMF_CODE_4M.fd" in a for a in argv)


@pytest.mark.parametrize("args,words", [
    (["--netboot", "TREE"], "give DIR:BOOTFILE"),
    (["--netboot", "TREE:"], "give DIR:BOOTFILE"),
    (["--kernel", "KERNEL", "--mac", "52:54:00:00:00:01"], "go with --netboot"),
    (["--kernel", "KERNEL", "--nic", "virtio-net-pci"], "go with --netboot"),
    (["--kernel", "KERNEL", "--no-nic-rom"], "go with --netboot"),
    (["--netboot", "TREE:core.0", "--append", "tests=lib"], "tools/mknetboot"),
])
def test_netboot_usage_errors(fake, args, words):
    args = [a.replace("TREE", str(fake.tmp)) for a in args]
    p, argv = fake(*args)
    assert p.returncode == 2 and words in p.stderr and argv is None


def test_netboot_missing_boot_file(fake):
    p, argv = fake("--netboot", f"{fake.tmp}:boot/grub/i386-pc/core.0")
    assert p.returncode == 4 and "no such file (make netboot)" in p.stderr and argv is None


def test_default_disks_are_created(fake):
    disk_dir = fake.tmp / "disks"
    _, argv = fake("--kernel", "KERNEL", "--disks", "default", "--disk-dir", str(disk_dir))
    joined = " ".join(argv)
    assert "ide-hd" in joined and "nvme," in joined and "virtio-blk-pci," in joined
    images = sorted(os.listdir(disk_dir))
    assert images == ["ahci0.img", "nvme0n1.img", "vblk0.img"]
    assert all(os.path.getsize(disk_dir / i) == 64 * 1024 * 1024 for i in images)


def test_unknown_disk_setup_is_a_usage_error(fake):
    p, argv = fake("--kernel", "KERNEL", "--disks", "nope")
    assert p.returncode == 2 and "unknown disk set-up 'nope'" in p.stderr and argv is None


def test_kernel_with_uefi_is_refused(fake):
    p, _ = fake("--kernel", "KERNEL", "--firmware", "uefi")
    assert p.returncode == 2 and "needs --firmware bios" in p.stderr


@pytest.mark.parametrize("status,mapped", [(33, 0), (35, 1), (37, 2), (39, 3), (0, 4), (1, 4), (3, 4)])
def test_exit_status_mapping(fake, status, mapped):
    p, _ = fake("--kernel", "KERNEL", status=status)
    assert p.returncode == mapped
    if mapped == 4:
        assert f"QEMU exited with status {status}" in p.stderr


def test_timeout_kills_qemu_and_exits_124(fake):
    p, _ = fake("--kernel", "KERNEL", "--timeout", "1", sleep=30)
    assert p.returncode == 124
    assert "timeout" in p.stderr and "QEMU killed" in p.stderr


def test_serial_goes_to_stdout_and_log(fake):
    logfile = fake.tmp / "serial.log"
    p, _ = fake("--kernel", "KERNEL", "--log", str(logfile), serial="hello from COM1\n")
    assert "hello from COM1" in p.stdout
    assert logfile.read_text() == "hello from COM1\n"
    p, _ = fake("--kernel", "KERNEL", "--quiet", serial="hello from COM1\n")
    assert p.stdout == ""


def test_ktap_summary_printed_after_run(fake):
    p, _ = fake("--kernel", "KERNEL", serial=good_ktap())
    assert p.returncode == 0
    assert "ktap-check: 1 passed, 0 failed, 0 skipped" in p.stderr


def test_success_exit_with_failing_ktap_is_a_failure(fake):
    p, _ = fake("--kernel", "KERNEL", serial=good_ktap("not ok"), status=33)
    assert p.returncode == 1
    assert "KTAP check failed" in p.stderr


def test_expected_suite_missing_fails(fake):
    p, _ = fake("--kernel", "KERNEL", "--expect", "lib,pci", serial=good_ktap())
    assert p.returncode == 1 and "expected suite 'pci' is missing" in p.stderr


def test_missing_kernel_file(fake):
    p, _ = fake("--kernel", "/nonexistent/bareio.elf")
    assert p.returncode == 4 and "no such file" in p.stderr
