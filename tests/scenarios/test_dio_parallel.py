# SPDX-License-Identifier: MIT
"""tests/scenarios/test_dio_parallel.py — the dio harness testing devices in
parallel, one device per CPU (tests/harness/dio.c, issue 16).

A machine with an AHCI disk, an NVMe namespace and four virtio-blk disks
runs the whole dio suite at -smp 1 and at -smp 4 (q35), and at -smp 2 on the
i440FX PC. At 4 CPUs the virtio disks (whose interrupts bind to the CPU
driving them), the NVMe namespace and the AHCI port (locked, driven from any
CPU) run on APs, the report is well-formed, says per case which CPU
drove which device, and reads exactly as the one-CPU run does once numbers
are left out: same lines in the same order, same results. Every image holds
what the manifest says (tools/verify-image). dio.parallel=off runs them one
after another. A pass cut by its case's timeout names the devices still
running on their CPU, keeps the report whole, drops what they say after, and
skips them while they still run; an exception on an AP mid-pass is a crash
of that case naming the CPU. No timing is asserted: how much sooner the run
ends is measured by hand (see the issue's note)."""
import re

import pytest

from conftest import CRASH, FAIL, assert_clean_pass, scratch_image, tool

VBLKS = 4


def machine_disks(tmp_path):
    """AHCI, NVMe and four virtio-blk scratch disks, with their images."""
    images = {}
    args = []
    images["ahci0p0"] = scratch_image(tmp_path, "ahci")
    args += ["-drive", f"if=none,id=a0,format=raw,file={images['ahci0p0']}",
             "-device", "ide-hd,drive=a0,bus=ide.0,serial=par-ahci"]
    images["nvme0n1"] = scratch_image(tmp_path, "nvme")
    args += ["-drive", f"if=none,id=n0,format=raw,file={images['nvme0n1']}",
             "-device", "nvme,drive=n0,serial=par-nvme"]
    for i in range(VBLKS):
        images[f"vblk{i}"] = scratch_image(tmp_path, f"vblk{i}")
        args += ["-drive", f"if=none,id=v{i},format=raw,file={images[f'vblk{i}']}",
                 "-device", f"virtio-blk-pci,drive=v{i},serial=par-vblk{i},disable-legacy=on"]
    return images, args


def boot_dio(boot, kernel, tmp_path, smp, cmdline="tests=dio dio.seed=0x5eed", machine="q35"):
    tmp_path.mkdir(parents=True, exist_ok=True)
    images, args = machine_disks(tmp_path)
    # -M pc has no AHCI: its disk is dropped there (the rest are PCI).
    if machine == "pc":
        args = args[4:]
        images.pop("ahci0p0")
    b = boot("--kernel", kernel, "--append", cmdline, "--disks", "none", "--machine", machine,
             "--smp", str(smp), "--memory", "1G", "--", *args, timeout=600)
    return b, images


def where_lines(log):
    """Per case, {device: cpu} from the 'dio: in parallel:' diagnostics."""
    out = []
    for line in log.splitlines():
        m = re.search(r"# dio: in parallel:(.*)$", line)
        if m:
            out.append({d: int(c) for d, c in re.findall(r" (\S+) cpu (\d+)", m.group(1))})
    return out


NUMBERS = re.compile(r"0x[0-9a-f]+|\d+")


def report_shape(log):
    """The KTAP document with numbers, the parallel diagnostics and the
    per-device timing lines left out: what must not change with the CPUs."""
    body = log.split("=== bareio KTAP START ===", 1)[1].split("=== bareio KTAP END ===", 1)[0]
    keep = []
    for line in body.splitlines():
        if "dio: in parallel:" in line or line.startswith("# machine:"):
            continue
        keep.append(NUMBERS.sub("N", line))
    return keep


def verify_images(log_path, images):
    for dev, path in images.items():
        tool("verify-image", log_path, path, "--device", dev)


@pytest.mark.parametrize("machine,smp", [("q35", 4), ("pc", 2)])
def test_devices_run_on_several_cpus_and_read_as_one_cpu_would(boot, kernel, tmp_path, machine, smp):
    one, _ = boot_dio(boot, kernel, tmp_path / "one", 1, machine=machine)
    assert_clean_pass(one, expect=["dio"])
    assert not where_lines(one.log), "one CPU: no parallel pass"
    b, images = boot_dio(boot, kernel, tmp_path / "many", smp, machine=machine)
    assert_clean_pass(b, expect=["dio"])
    assert f"smp: {smp} of {smp} CPUs online" in b.log, b.describe()
    passes = where_lines(b.log)
    assert passes, b.describe()
    vblks = {f"vblk{i}" for i in range(VBLKS)}
    for p in passes:
        assert vblks <= set(p), p
        assert all(0 <= c < smp for c in p.values()), p
    # Which worker takes which device depends on timing (each takes the next
    # when it is free): across the run a virtio disk ran on an AP, and every
    # CPU drove something; the NVMe namespace (a queue pair per CPU, locked)
    # ran on an AP too, and the AHCI port (its own lock; the HBA's MSI stays
    # on the BSP).
    assert any(p[v] != 0 for p in passes for v in vblks), passes
    assert any(p.get("nvme0n1", 0) != 0 for p in passes), passes
    if machine == "q35":
        assert any(p.get("ahci0p0", 0) != 0 for p in passes), passes
    used = {c for p in passes for c in p.values()}
    assert used == set(range(smp)), used
    assert report_shape(b.log) == report_shape(one.log)
    verify_images(b.log_path, images)


def sata_disks(tmp_path, n=4):
    """n SATA disks on q35's one AHCI HBA (ports 0..n-1), with their images."""
    images, args = {}, []
    for i in range(n):
        images[f"ahci0p{i}"] = scratch_image(tmp_path, f"sata{i}")
        args += ["-drive", f"if=none,id=s{i},format=raw,file={images[f'ahci0p{i}']}",
                 "-device", f"ide-hd,drive=s{i},bus=ide.{i},serial=par-sata{i}"]
    return images, args


def test_ports_of_one_ahci_hba_run_on_several_cpus(boot, kernel, tmp_path):
    """Four disks on one AHCI HBA, whose one MSI reaches the BSP for every
    port: at -smp 4 the dio suite drives the ports from several CPUs at once
    (each port its own lock and group), errors included, and the report reads
    exactly as at -smp 1; every image holds what the manifest says."""
    runs = {}
    for smp in (1, 4):
        path = tmp_path / f"smp{smp}"
        path.mkdir()
        images, args = sata_disks(path)
        runs[smp] = (boot("--kernel", kernel, "--append", "tests=dio dio.seed=0x5eed", "--disks",
                          "none", "--machine", "q35", "--smp", str(smp), "--memory", "1G", "--",
                          *args, timeout=600), images)
    one, many = runs[1][0], runs[4][0]
    assert_clean_pass(one, expect=["dio"])
    assert_clean_pass(many, expect=["dio"])
    passes = where_lines(many.log)
    ports = {f"ahci0p{i}" for i in range(4)}
    assert passes and all(ports <= set(p) for p in passes), passes
    # Some pass had ports of the one HBA on different CPUs, APs among them.
    assert any(len({p[d] for d in ports}) > 1 for p in passes), passes
    assert {c for p in passes for c in p.values()} > {0}, passes
    assert report_shape(many.log) == report_shape(one.log)
    verify_images(many.log_path, runs[4][1])


def test_parallel_off_runs_them_one_after_another(boot, kernel, tmp_path):
    b, images = boot_dio(boot, kernel, tmp_path, 4, cmdline="tests=dio dio.parallel=off")
    assert_clean_pass(b, expect=["dio"])
    assert not where_lines(b.log), b.describe()
    verify_images(b.log_path, images)


def test_a_pass_cut_by_the_timeout_names_who_still_runs(boot, kernel, tmp_path):
    b, _ = boot_dio(boot, kernel, tmp_path, 4, cmdline="tests=dio.dio_parallel_pass_given_up_at_timeout,"
                    "dio.dio_parallel_after_a_given_up_pass")
    assert b.status == FAIL, b.describe()
    assert not b.report.problems, (b.report.problems, b.describe())
    cut = b.report.find("dio.dio_parallel_pass_given_up_at_timeout")
    assert cut is not None and cut.status == "fail", b.describe()
    text = "\n".join(cut.diagnostics)
    assert "timed out after 1000 ms" in text, text
    stalled = re.findall(r"(vblk\d|nvme0n1|ahci0p0): still running on cpu (\d+) when the case "
                         r"timed out", text)
    assert stalled and all(int(c) != 0 for _, c in stalled), text
    for dev, cpu in stalled:
        assert f"{dev}: cpu {cpu} stalls" in text, text
    assert "back after the stall" not in b.log
    after = b.report.find("dio.dio_parallel_after_a_given_up_pass")
    assert after is not None and after.status == "pass", b.describe()
    atext = "\n".join(after.diagnostics)
    first, second = atext.split("after 3000 ms:", 1)
    for dev, cpu in stalled:
        assert f"{dev}: skipped: still running on cpu {cpu} for a case abandoned" in first, atext
        assert f"{dev}: driven by cpu" in second, atext
    # What they wrote after being given up was dropped, and said to be.
    assert "bytes of this output were dropped" in b.log, b.describe()


def test_an_exception_on_an_ap_mid_pass_is_a_crash_naming_it(boot, kernel, tmp_path):
    b, _ = boot_dio(boot, kernel, tmp_path, 4, cmdline="tests=dio.dio_parallel_exception_on_an_ap")
    assert b.status == CRASH, b.describe()
    m = re.search(r"bareio: crash on cpu (\d+)", b.log)
    assert m and m.group(1) != "0", b.describe()
    assert "bareio-result: crash" in b.log, b.describe()
    crashed = b.report.find("dio.dio_parallel_exception_on_an_ap")
    assert crashed is not None and crashed.status == "fail", b.describe()
    assert not b.report.problems, (b.report.problems, b.describe())
