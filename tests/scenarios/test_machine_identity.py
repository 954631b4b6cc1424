# SPDX-License-Identifier: MIT
"""tests/scenarios/test_machine_identity.py — every report names the machine
it came from (issue 14, in part): the SMBIOS values given to QEMU with
-smbios (system manufacturer, product, serial, UUID; baseboard; BIOS) appear
as `# machine:` diagnostics at the head of the KTAP report, found in the F
segment under SeaBIOS (Multiboot1, -kernel) and through the EFI configuration
table under OVMF (GRUB, Multiboot2, which passes no SMBIOS tag), with the CPU's
brand string and the usable memory; kunit_tool-style readers still see a clean
report."""
import re

from conftest import PASS, assert_clean_pass, scratch_image, tool

SMBIOS = ["-smbios", "type=0,vendor=AcmeBIOS,version=9.1,date=01/02/2026",
          "-smbios", "type=1,manufacturer=Acme Labs,product=Rack9,serial=SN-123,"
                     "uuid=00112233-4455-6677-8899-aabbccddeeff",
          "-smbios", "type=2,manufacturer=Acme Boards,product=B-1,serial=B-77"]


def machine_lines(log):
    return [line for line in log.splitlines() if line.startswith("# machine: ")]


def test_smbios_identity_under_seabios(boot, kernel):
    b = boot("--kernel", kernel, "--append", "tests=lib", "--disks", "none", "--", *SMBIOS)
    assert_clean_pass(b)
    lines = machine_lines(b.log)
    assert ('# machine: system "Acme Labs" product "Rack9" version "pc-q35-7.2" serial "SN-123" '
            'uuid 00112233-4455-6677-8899-aabbccddeeff') in lines, b.describe()
    assert '# machine: board "Acme Boards" product "B-1" serial "B-77"' in lines
    assert '# machine: bios "AcmeBIOS" version "9.1" date "01/02/2026"' in lines
    assert any(re.match(r"# machine: SMBIOS \d\.\d+ from the F segment, \d+ structures", l)
               for l in lines), lines
    assert any(re.match(r'# machine: cpu "[^"]+", memory \d+ MiB usable', l) for l in lines)
    # The head of the report: after the plan, before the first suite.
    head = b.log[b.log.index("=== bareio KTAP START ==="):b.log.index("# Subtest: lib")]
    assert len(machine_lines(head)) == 5, head


def test_smbios_identity_under_ovmf(boot, make_iso):
    b = boot("--iso", make_iso("tests=lib"), "--boot", "cdrom", "--firmware", "uefi",
             "--disks", "none", "--", *SMBIOS, timeout=300)
    assert b.status == PASS, b.describe()
    lines = machine_lines(b.log)
    assert any('system "Acme Labs" product "Rack9"' in l and 'serial "SN-123"' in l
               for l in lines), lines
    assert any("from the EFI configuration table" in l for l in lines), lines


def test_the_manifest_names_the_machine(boot, kernel, tmp_path):
    """The manifest carries the same identity as a 'machine' record, and
    tools/verify-image names the machine of the image it checks: an image
    carried to another desk still says where it was written."""
    scratch = scratch_image(tmp_path, "nvme0.img")
    b = boot("--kernel", kernel, "--append", "tests=dio", "--disks", "none", "--",
             "-drive", f"if=none,id=n0,format=raw,file={scratch}",
             "-device", "nvme,serial=bareio-n0,drive=n0", *SMBIOS, timeout=180)
    assert_clean_pass(b, expect=["dio"])
    records = [line for line in b.log.splitlines() if line.startswith("bareio-manifest: machine ")]
    assert records == ['bareio-manifest: machine system="Acme Labs" product="Rack9" '
                       'version="pc-q35-7.2" serial="SN-123" '
                       'uuid=00112233-4455-6677-8899-aabbccddeeff board="Acme Boards" '
                       'board_product="B-1" board_serial="B-77" bios="AcmeBIOS" '
                       'bios_version="9.1" bios_date="01/02/2026"'], records
    # Before the device manifests it names.
    assert b.log.index("bareio-manifest: machine ") < b.log.index("bareio-manifest: begin ")
    p = tool("verify-image", b.log_path, scratch)
    assert re.search(r'verify-image: nvme0n1: from machine "Acme Labs" product "Rack9" serial '
                     r'"SN-123" uuid 00112233-4455-6677-8899-aabbccddeeff, board "B-1" serial '
                     r'"B-77", bios "AcmeBIOS" 9.1 \(log line \d+\)', p.stdout), p.stdout
    assert re.search(r"verify-image: nvme0n1: \d+ ranges, \d+ blocks OK", p.stdout), p.stdout
