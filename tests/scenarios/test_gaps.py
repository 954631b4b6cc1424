# SPDX-License-Identifier: MIT
"""tests/scenarios/test_gaps.py — no silent gaps (issue 10 §1): a device that is
there is tested, or named with the reason it is not, and a run never ends
"all passed" with one left out.

- more controllers and namespaces than the old fixed tables held (6 NVMe
  controllers, 5 AHCI HBAs, 12 namespaces on one controller, more than 8
  devices for the dio harness): every one registered and tested;
- an NVMe controller on a root bus that bus 0 does not lead to (pxb-pcie,
  as multi-socket and EPYC servers have): found, tested, the root bus named;
- a zoned namespace (NVMe ZNS): named with its zones and kept read-only,
  never written as a conventional namespace (its image comes out unchanged);
- an NVMe controller with a one-entry MSI-X table: driven, the admin and I/O
  queues sharing the vector, and the boot line says so;
- a limit crossed (test.pci_table= makes the PCI table small): the preflight
  suite fails naming what was left out, and the summary lists it.
"""
import re

from conftest import FAIL, assert_clean_pass, sha256, tool

MiB = 1024 * 1024


def scratch(tmp_path, name, size=16 * MiB):
    path = str(tmp_path / f"{name}.img")
    with open(path, "wb") as f:
        f.truncate(size)
    tool("mkscratch", path)
    return path


def nvme(path, name, extra=""):
    return ["-drive", f"if=none,id={name}d,format=raw,discard=unmap,file={path}",
            "-device", f"nvme,serial=bareio-{name},drive={name}d{extra}"]


def dio_summary(log):
    """{device: (access, passed, failed, skipped)} from the summary table."""
    rows = {}
    for m in re.finditer(r"^# dio summary: (\S+) +\S+ +(scratch|read-only) +(\d+) +(\d+) +(\d+)",
                         log, re.M):
        rows[m.group(1)] = (m.group(2), int(m.group(3)), int(m.group(4)), int(m.group(5)))
    return rows


def test_more_controllers_and_namespaces_than_the_old_tables(boot, kernel, tmp_path):
    args = []
    for i in range(6):                                  # NVMe controllers: the old table held 4
        args += nvme(scratch(tmp_path, f"c{i}", 4 * MiB), f"c{i}")
    args += ["-device", "nvme-subsys,id=subsys0,nqn=bareio-many",
             "-device", "nvme,serial=bareio-many,subsys=subsys0"]
    for nsid in range(1, 13):                           # namespaces: the old table held 8
        path = scratch(tmp_path, f"ns{nsid}", 2 * MiB)
        args += ["-drive", f"if=none,id=ns{nsid},format=raw,discard=unmap,file={path}",
                 "-device", f"nvme-ns,drive=ns{nsid},nsid={nsid}"]
    for h in range(4):                                  # AHCI HBAs beside q35's: the old table held 4
        path = scratch(tmp_path, f"sata{h}", 4 * MiB)
        args += ["-device", f"ahci,id=hba{h}",
                 "-drive", f"if=none,id=sata{h},format=raw,file={path}",
                 "-device", f"ide-hd,drive=sata{h},bus=hba{h}.0,serial=bareio-sata{h}"]
    b = boot("--kernel", kernel, "--disks", "none", "--append",
             "tests=preflight,dio.dio_device_access,dio.dio_write_read_verify", "--", *args,
             timeout=240)
    assert_clean_pass(b, expect=["preflight", "dio"])
    assert re.search(r"^nvme5: ", b.log, re.M) and re.search(r"^ahci4: ", b.log, re.M), b.describe()
    rows = dio_summary(b.log)
    many = [d for d in rows if re.match(r"nvme6n\d+$", d)]
    assert len(many) == 12, sorted(rows)
    assert len(rows) == 6 + 12 + 4, sorted(rows)       # every device in the harness
    for dev, (access, passed, failed, _) in rows.items():
        assert access == "scratch" and failed == 0 and passed == 2, (dev, rows[dev])
    assert "left out" not in b.log


def test_nvme_on_a_second_root_bus_is_found(boot, kernel, tmp_path):
    img = scratch(tmp_path, "rootbus")
    args = ["-device", "pxb-pcie,id=pxb1,bus_nr=64,bus=pcie.0",
            "-device", "pcie-root-port,id=rp64,bus=pxb1,chassis=9"] + nvme(img, "rootbus", ",bus=rp64")
    for legacy in (False, True):
        b = boot("--kernel", kernel, "--disks", "none", "--append",
                 "tests=pci,dio.dio_write_read_verify" + (" pci.config=legacy" if legacy else ""),
                 "--", *args)
        assert_clean_pass(b, expect=["pci", "dio"])
        assert re.search(r"^pci: root buses 00, 40$", b.log, re.M), b.describe()
        assert re.search(r"^nvme0: 41:00\.0 ", b.log, re.M), b.describe()
        assert dio_summary(b.log)["nvme0n1"][:3] == ("scratch", 1, 0)


def test_zoned_namespace_is_named_and_never_written(boot, kernel, tmp_path):
    img = scratch(tmp_path, "zoned", 32 * MiB)
    before = sha256(img)
    args = ["-drive", f"if=none,id=zd,format=raw,file={img}",
            "-device", "nvme-subsys,id=zsub,nqn=bareio-zoned",
            "-device", "nvme,serial=bareio-zoned,subsys=zsub",
            "-device", "nvme-ns,drive=zd,nsid=1,zoned=true,zoned.zone_size=4M"]
    b = boot("--kernel", kernel, "--disks", "none", "--append", "tests=dio allow_write=*",
             "--", *args)
    assert_clean_pass(b, expect=["dio"])
    assert re.search(r"^nvme0n1: read-only: zoned namespace \(NVMe ZNS\), 8 zones of 8192 blocks: "
                     r"its writes must follow zone write pointers, which bareio does not drive "
                     r"\(though marked scratch: label\)$", b.log, re.M), b.describe()
    access, passed, failed, _ = dio_summary(b.log)["nvme0n1"]
    assert access == "read-only" and failed == 0 and passed > 0
    assert "bareio-manifest: begin device=nvme0n1" not in b.log
    assert sha256(img) == before, "the zoned namespace was written"


def test_nvme_with_one_msix_vector_is_driven(boot, kernel, tmp_path):
    img = scratch(tmp_path, "onevec")
    b = boot("--kernel", kernel, "--disks", "none", "--append",
             "tests=nvme.nvme_namespaces_registered,nvme.nvme_every_queue_pair_serves,"
             "dio.dio_queue_depth_sweep", "--", *nvme(img, "onevec", ",msix_qsize=1"),
             timeout=180)
    assert_clean_pass(b, expect=["nvme", "dio"])
    assert re.search(r"^nvme0: .* queues 1x256 \(granted \d+\), one per CPU \(1 CPU\), msix \(1 vector: admin and I/O "
                     r"share it\)", b.log, re.M), b.describe()
    assert dio_summary(b.log)["nvme0n1"][:3] == ("scratch", 1, 0)


def test_a_limit_crossed_fails_the_run_naming_what_was_left_out(boot, kernel):
    b = boot("--kernel", kernel, "--disks", "default", "--append", "tests=preflight test.pci_table=4")
    assert b.status == FAIL, b.describe()
    case = b.report.find("preflight.preflight_nothing_left_out")
    assert case is not None and case.status == "fail", b.describe()
    assert any("left out: pci: functions after the first 4 are not listed" in d
               for d in case.diagnostics), case.diagnostics
    assert re.search(r"^# dio summary: left out: pci: functions after the first 4", b.log, re.M)
    # Everything else in preflight still ran and passed.
    assert [f.path for f in b.report.failures] == ["preflight.preflight_nothing_left_out"]
