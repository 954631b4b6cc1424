# SPDX-License-Identifier: MIT
"""tests/tools/test_bench_tools.py — the host side of `make bench`, without
QEMU: tools/bench_log's reading of the logs and its checks (every relation it
checks is broken once and must be named: it fails closed), tools/bench's
medians, best engine, ratios and compare.json rows, tools/bench-report's table
and plots (real PNGs from Debian's matplotlib) and its refusals, and
tools/bench-initramfs's archive writer and module order."""
import argparse
import copy
import importlib.machinery
import json
import os
import re
import subprocess
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
TOOLS = os.path.join(ROOT, "tools")
sys.path.insert(0, TOOLS)
import bench_log  # noqa: E402


def load(name):
    import importlib.util
    loader = importlib.machinery.SourceFileLoader(name.replace("-", "_"), os.path.join(TOOLS, name))
    spec = importlib.util.spec_from_loader(loader.name, loader)
    module = importlib.util.module_from_spec(spec)
    loader.exec_module(module)
    return module


bench = load("bench")
initramfs = load("bench-initramfs")


def direction(ios, bs, elapsed, lat):
    """A direction object as lib/bench_report.c writes one."""
    io_bytes = ios * bs
    bw = io_bytes * 10**9 // elapsed if elapsed else 0
    milli = ios * 10**12 // elapsed if elapsed else 0
    pct = {k: (lat[min(len(lat) - 1, i)] if ios else 0) for i, k in enumerate(bench_log.PERCENTILES)}
    return {"io_bytes": io_bytes, "io_kbytes": io_bytes >> 10, "bw_bytes": bw, "bw": bw >> 10,
            "iops": float(f"{milli // 1000}.{milli % 1000:03d}"), "runtime": elapsed // 10**6,
            "total_ios": ios,
            "clat_ns": {"min": lat[0] if ios else 0, "max": lat[-1] if ios else 0,
                        "mean": lat[len(lat) // 2] if ios else 0, "stddev": 7 if ios else 0,
                        "N": ios, "percentile": pct}}


LAT = [1000 + 50 * i for i in range(17)]


def job(name="randread-4k-qd1", device="nvme0n1", kind="nvme", rw="randread", ios=1000,
        bs=4096, qd=1, elapsed=50_000_000):
    reads = ios if rw in ("read", "randread") else 0
    return {"jobname": name, "device": device, "kind": kind, "rw": rw, "bs": bs, "iodepth": qd,
            "qpairs": 1, "cpus": 1, "completion": "poll", "verify": 0, "elapsed_ns": elapsed,
            "read": direction(reads, bs, elapsed, LAT),
            "write": direction(ios - reads, bs, elapsed, LAT),
            "overhead_ns": {"submit": 300, "doorbell": 900, "complete": 200}, "kicks": ios,
            "verified_blocks": 0, "errors": {"total": 0}}


def log_of(*objs, extra=""):
    return "".join(f"    # bench-json: {json.dumps(o, separators=(',', ':'))}\n" for o in objs) + extra


def test_a_consistent_job_has_no_problem():
    assert bench_log.problems(job()) == []
    assert bench_log.problems(job(rw="randwrite")) == []
    j = job()
    j["errors"] = {"total": 3, "media error": 2, "device timeout": 1}
    assert bench_log.problems(j) == []


BREAKS = [
    ("io_bytes", lambda j: j["read"].__setitem__("io_bytes", 1)),
    ("io_kbytes", lambda j: j["read"].__setitem__("io_kbytes", 5)),
    ("bw_bytes", lambda j: j["read"].__setitem__("bw_bytes", j["read"]["bw_bytes"] + 1)),
    ("bw ", lambda j: j["read"].__setitem__("bw", 1)),
    ("iops", lambda j: j["read"].__setitem__("iops", j["read"]["iops"] + 1)),
    ("runtime", lambda j: j["read"].__setitem__("runtime", 999)),
    ("N ", lambda j: j["read"]["clat_ns"].__setitem__("N", 5)),
    ("not in order", lambda j: j["read"]["clat_ns"]["percentile"].__setitem__("50.000000", 1)),
    ("outside", lambda j: j["read"]["clat_ns"].__setitem__("max", 1001)),
    ("fio's default list", lambda j: j["read"]["clat_ns"]["percentile"].pop("99.990000")),
    ("mean", lambda j: j["read"]["clat_ns"].__setitem__("mean", 10**9)),
    ("but 5 writes", lambda j: j.__setitem__("write", direction(5, 4096, 50_000_000, LAT))),
    ("no time", lambda j: j.__setitem__("elapsed_ns", 0)),
    ("do not add up", lambda j: j.__setitem__("errors", {"total": 2, "media error": 1})),
    ("not a count", lambda j: j.__setitem__("kicks", -1)),
    ("not a name", lambda j: j.__setitem__("device", "")),
    ("rw:", lambda j: j.__setitem__("rw", "trim")),
    ("completion", lambda j: j.__setitem__("completion", "maybe")),
    ("write: missing", lambda j: j.pop("write")),
    ("overhead_ns.doorbell", lambda j: j["overhead_ns"].pop("doorbell")),
]


@pytest.mark.parametrize("needle,breaker", BREAKS, ids=[b[0].strip() for b in BREAKS])
def test_every_relation_is_checked(needle, breaker):
    j = copy.deepcopy(job())
    breaker(j)
    found = bench_log.problems(j)
    assert any(needle in p for p in found), (needle, found)


def test_logs_are_read_whatever_the_indentation_and_line_ends():
    text = log_of(job(), job(name="x")).replace("\n", "\r\n") + "# bench-bare: {\"a\":1}\n"
    assert [j["jobname"] for j in bench_log.jobs(text)] == ["randread-4k-qd1", "x"]
    assert bench_log.bare(text) == [{"a": 1}]
    assert bench_log.kind_of("sda") == "ahci" and bench_log.kind_of("nvme1n1") == "nvme"


FIO_DOC = {"jobs": [{"jobname": "randread-4k-qd1", "error": 0,
                     "job options": {"rw": "randread", "bs": "4096", "iodepth": "1"},
                     "read": {**direction(500, 4096, 10**9, LAT),
                              "lat_ns": {"percentile": {k: 2 * v for k, v in
                                                        direction(500, 4096, 10**9, LAT)["clat_ns"]["percentile"].items()}}},
                     "write": direction(0, 4096, 10**9, LAT)}]}


def linux_log(runs, done=True):
    out = "bench-linux: kernel 6.1\n"
    for disk, engine, name, status, doc in runs:
        out += f"bench-fio-begin {disk} {engine} {name}\n"
        out += json.dumps(doc, indent=2) + "\n" if doc else "fio: error\n"
        out += f"bench-fio-end {disk} {engine} {name} {status}\n"
    return out + ("bench-linux-done\n" if done else "")


def test_linux_runs_and_lat_preferred(tmp_path):
    text = linux_log([("nvme0n1", "io_uring", "randread-4k-qd1", 0, FIO_DOC),
                      ("sda", "libaio", "randread-4k-qd1", 1, None)])
    runs = bench_log.linux(text)
    assert [(r["disk"], r["engine"], r["status"]) for r in runs] == \
        [("nvme0n1", "io_uring", "0"), ("sda", "libaio", "1")]
    assert runs[1]["fio"] is None
    f = bench_log.figures(runs[0]["fio"]["jobs"][0]["read"])
    # fio's lat (submission + completion), not its clat, is what compares with bareio.
    assert f["p50_ns"] == 2 * FIO_DOC["jobs"][0]["read"]["clat_ns"]["percentile"]["50.000000"]
    p = tmp_path / "linux.log"
    p.write_text(text)
    results, failures = bench.parse_linux(str(p))
    assert ("nvme", "randread-4k-qd1", "io_uring") in results
    assert failures == ["sda libaio randread-4k-qd1: fio status 1"]
    p.write_text(linux_log([], done=False))
    assert bench.parse_linux(str(p))[1] == ["the Linux run did not finish (no bench-linux-done)"]


def linux_log_said(runs, boot=""):
    """A Linux log whose runs are followed by what the kernel said during
    each (bench-initramfs prints it after the run's end marker)."""
    out = "bench-linux: kernel 6.1\n" + boot
    for disk, engine, name, said in runs:
        out += f"bench-fio-begin {disk} {engine} {name}\n" + json.dumps(FIO_DOC, indent=2) + "\n"
        out += f"bench-fio-end {disk} {engine} {name} 0\n" + said
    return out + "bench-linux-done\n"


def test_linux_disk_trouble_drops_that_runs_figures(tmp_path):
    """NVMe timeouts, aborts and resets, libata exceptions and I/O errors
    (bench-initramfs prints dmesg after each fio run) make that run's fio
    figures no baseline: left out and named as a failure; the other runs
    stay. A line about another kind of disk, or said at boot, counts
    against every run on that kind of disk; naming no disk, against all."""
    key = ("nvme", "randread-4k-qd1", "io_uring")
    benign = ("bench-linux-dmesg: [    1.20] nvme nvme0: 1/0/1 default/read/poll queues\n"
              "bench-linux-dmesg: [    1.30] ata1: SATA link up 1.5 Gbps (SStatus 113 SControl 300)\n")
    timeouts = "".join(f"bench-linux-dmesg: [   {30 + i}.5] nvme nvme0: I/O {i} QID 1 timeout, "
                       f"aborting\n" for i in range(4))
    timeouts += "bench-linux-dmesg: [   61.0] nvme nvme0: I/O 0 QID 1 timeout, reset controller\n"
    ata_bad = "bench-linux-dmesg: [   9.0] ata1.00: exception Emask 0x0 SAct 0x1 SErr 0x0 action 0x6 frozen\n"
    anon = "bench-linux-dmesg: [   2.0] blk_update_request: I/O error, dev ?, sector 8\n"
    p = tmp_path / "linux.log"

    def parse(runs, boot=""):
        p.write_text(linux_log_said(runs, boot))
        return bench.parse_linux(str(p))

    results, failures = parse([("nvme0n1", "io_uring", "randread-4k-qd1", ""),
                               ("sda", "io_uring", "randread-4k-qd1", benign)], boot=benign)
    assert failures == [] and len(results) == 2
    # Its own timeouts: the nvme io_uring run out, its libaio run and the SATA disk's in.
    results, failures = parse([("nvme0n1", "io_uring", "randread-4k-qd1", timeouts),
                               ("nvme0n1", "libaio", "randread-4k-qd1", ""),
                               ("sda", "io_uring", "randread-4k-qd1", "")])
    assert sorted(results) == [("ahci", "randread-4k-qd1", "io_uring"),
                               ("nvme", "randread-4k-qd1", "libaio")], results
    assert len(failures) == 1 and "trouble with nvme0n1 io_uring randread-4k-qd1" in failures[0]
    assert "I/O 0 QID 1 timeout, aborting" in failures[0] and "(and 2 more)" in failures[0]
    results, failures = parse([("nvme0n1", "io_uring", "randread-4k-qd1", ""),
                               ("sda", "io_uring", "randread-4k-qd1", ata_bad)])
    assert list(results) == [key] and "trouble with sda io_uring" in failures[0], failures
    # NVMe lines printed after the SATA run: every NVMe run is out, not the SATA one.
    results, failures = parse([("nvme0n1", "io_uring", "randread-4k-qd1", ""),
                               ("sda", "io_uring", "randread-4k-qd1", timeouts)])
    assert list(results) == [("ahci", "randread-4k-qd1", "io_uring")], results
    assert len(failures) == 1 and "nvme0n1 io_uring" in failures[0], failures
    # An I/O error naming no disk, at boot: every run is out.
    results, failures = parse([("nvme0n1", "io_uring", "randread-4k-qd1", ""),
                               ("sda", "io_uring", "randread-4k-qd1", "")], boot=anon)
    assert results == {} and len(failures) == 2, failures
    # Trouble and no run at all: still a failure.
    p.write_text("bench-linux: kernel 6.1\n" + anon + "bench-linux-done\n")
    results, failures = bench.parse_linux(str(p))
    assert results == {} and any("trouble with a disk" in f for f in failures), failures


def test_linux_boots_again_while_a_run_is_in_trouble(tmp_path, monkeypatch):
    """A Linux boot with a troubled fio run boots again (its log kept), up
    to LINUX_ATTEMPTS in all; each figure comes from the first boot whose
    run of it was clean, and a run troubled in every boot stays out as a
    failure."""
    timeout = "bench-linux-dmesg: [ 44.2] nvme nvme0: I/O 0 QID 2 timeout, aborting\n"
    io_uring, libaio = ("nvme", "j", "io_uring"), ("nvme", "j", "libaio")

    def boot(bad):
        return linux_log_said([("nvme0n1", "io_uring", "j", timeout if "io_uring" in bad else ""),
                               ("nvme0n1", "libaio", "j", timeout if "libaio" in bad else "")])

    boots = []

    def fake_boot(args, backend, images, path, vcpus=None):
        boots.append(path)
        with open(path, "w") as f:
            f.write(plan[len(boots) - 1])
        return 0, 1.0

    monkeypatch.setattr(bench, "boot_linux", fake_boot)
    monkeypatch.setattr(bench, "log", lambda msg: None)
    args = type("A", (), {"out": str(tmp_path)})()
    logpath = str(tmp_path / "linux-null-smp1-round1.log")
    # io_uring troubled in the first boot, libaio in the second: both clean once.
    plan = [boot(["io_uring"]), boot(["libaio"])]
    res, fails, secs, n = bench.run_linux(args, "null", logpath)
    assert n == 2 and fails == [] and sorted(res) == [io_uring, libaio] and secs == 2.0
    assert os.path.exists(str(tmp_path / "linux-null-smp1-round1-boot1.log"))
    assert open(logpath).read() == plan[1]
    boots.clear()
    plan = [boot(["io_uring"])] * bench.LINUX_ATTEMPTS
    res, fails, secs, n = bench.run_linux(args, "null", logpath)
    assert n == bench.LINUX_ATTEMPTS == len(boots) and list(res) == [libaio]
    assert len(fails) == 1 and "trouble with nvme0n1 io_uring j" in fails[0], fails
    boots.clear()
    plan = [boot([])]
    res, fails, _, n = bench.run_linux(args, "null", logpath)
    assert n == 1 and fails == [] and len(res) == 2 and open(logpath).read() == plan[0]


def test_bareio_log_failures_fail_closed(tmp_path):
    bad = job()
    bad["read"]["io_bytes"] += 1
    p = tmp_path / "b.log"
    p.write_text(log_of(job(), bad, extra="    not ok 2 randread-4k-qd32-ahci0p0\n"))
    results, bare, failures = bench.parse_bareio(str(p))
    assert ("nvme", "randread-4k-qd1") in results
    assert any("io_bytes" in f for f in failures)
    assert any(f.startswith("not ok") for f in failures)


def fig(iops, p99=100_000):
    return {"iops": iops, "bw_bytes": int(iops * 4096), "p50_ns": p99 // 2, "p99_ns": p99}


def test_summary_medians_best_engine_and_ratios():
    rounds_b = [{("nvme", "randread-4k-qd1"): fig(v)} for v in (30000, 10000, 20000)]
    rounds_l = [{("nvme", "randread-4k-qd1", "io_uring"): fig(v, 400_000),
                 ("nvme", "randread-4k-qd1", "libaio"): fig(v + 1000, 500_000)}
                for v in (4000, 5000, 3000)]
    bare = [{("nvme", "randread-4k-qd1"): (21000.0, 20000.0)}]
    rows = bench.summarize(rounds_b, rounds_l, bare, "null")
    row = next(r for r in rows if r["device"] == "nvme" and r["job"] == "randread-4k-qd1")
    assert row["bareio"]["iops"] == 20000 and row["bareio"]["spread"] == 1.0
    assert row["linux"]["engine"] == "libaio" and row["linux"]["iops"] == 5000
    assert row["ratio_iops"] == 4.0 and row["ratio_p99"] == 0.2
    assert row["engine_vs_bare"] == round(20000 / 21000, 3)
    assert set(row) >= {"device", "backend", "job", "bareio", "linux", "ratio_iops", "ratio_p99"}
    missing = next(r for r in rows if r["device"] == "ahci" and r["job"] == "read-128k-qd8")
    assert missing["bareio"] is None and missing["ratio_iops"] is None
    text = bench.table(rows)
    assert "randread-4k-qd1" in text and "4.0x" in text and "libaio" in text


def test_scaling_runs_are_checked_for_their_cpus(tmp_path):
    """A scaling boot's job must have run on every vCPU, and fio's on
    numjobs=V as one group: anything else is a failure, not a figure."""
    name = bench.SCALE_JOB[0]
    on4, on1, polled = (job(name=name, qd=32) for _ in range(3))
    on4["cpus"] = polled["cpus"] = 4
    on4["completion"] = on1["completion"] = "irq"
    p = tmp_path / "b.log"
    p.write_text(log_of(on4))
    results, _, failures = bench.parse_bareio(str(p), vcpus=4)
    assert ("nvme", name) in results and failures == []
    assert results[("nvme", name)]["completion"] == "irq"
    p.write_text(log_of(on1))
    results, _, failures = bench.parse_bareio(str(p), vcpus=4)
    assert results == {} and failures == [f"{name} on nvme0n1: ran on 1 CPUs, not the 4 vCPUs"]
    # Asked by interrupt: a polled figure is another measurement, not it.
    p.write_text(log_of(polled))
    results, _, failures = bench.parse_bareio(str(p), vcpus=4)
    assert results == {} and failures == [f"{name} on nvme0n1: completion=poll, not the irq asked"]
    grouped = json.loads(json.dumps(FIO_DOC))
    grouped["jobs"][0]["job options"]["numjobs"] = "4"
    apart = json.loads(json.dumps(grouped))
    apart["jobs"].append(apart["jobs"][0])
    p.write_text(linux_log([("nvme0n1", "io_uring", name, 0, grouped),
                            ("nvme0n1", "libaio", name, 0, FIO_DOC),
                            ("nvme0n1", "io_uring-hipri", name, 0, apart)]))
    results, failures = bench.parse_linux(str(p), vcpus=4)
    assert list(results) == [("nvme", name, "io_uring")]
    assert failures == [f"nvme0n1 libaio {name}: fio ran numjobs=1 as 1 reports, not numjobs=4 grouped",
                        f"nvme0n1 io_uring-hipri {name}: fio ran numjobs=4 as 2 reports, not "
                        "numjobs=4 grouped"]


def test_scaling_boot_completes_by_interrupt_the_main_one_polls():
    """The scaling job asks completion=irq with the drivers in their
    interrupt mode; the main jobs poll with the drivers polled."""
    args = argparse.Namespace(runtime=2)
    scale = bench.bareio_append(args, vcpus=4)
    assert "cpus=all,completion=irq" in scale and "irq=poll" not in scale, scale
    main = bench.bareio_append(args)
    assert "completion=irq" not in main and "nvme.irq=poll ahci.irq=poll" in main, main


def test_scaling_rows_per_vcpus_against_the_smallest():
    name = bench.SCALE_JOB[0]
    per = {v: ([{("nvme", name): fig(10000 * v ** 0.5)}],
               [{("nvme", name, "io_uring"): fig(4000 * v)}]) for v in (1, 2, 4)}
    per[2][0].clear()       # bareio has no figure at 2
    rows = bench.summarize_scaling(per, "null")
    assert [(r["vcpus"], r["job"], r["device"]) for r in rows] == [(1, name, "nvme"), (2, name, "nvme"),
                                                                   (4, name, "nvme")]
    assert [r["scaling"] for r in rows] == [{"bareio": 1.0, "linux": 1.0},
                                            {"bareio": None, "linux": 2.0},
                                            {"bareio": 2.0, "linux": 4.0}]
    assert rows[2]["ratio_iops"] == 1.25 and rows[1]["bareio"] is None
    text = bench.table(rows)
    head, first = text.splitlines()[:2]
    assert "vCPUs" in head and "scaling b/L" in head
    assert first.split()[3] == "1" and first.rstrip().endswith("1.00/1.00")
    assert text.splitlines()[3].rstrip().endswith("2.00/4.00")
    # the main rows are at the main machine's vCPUs, with no scaling
    main = bench.summarize([], [], [], "null")
    assert all(r["vcpus"] == bench.VCPUS and "scaling" not in r for r in main)


def test_bench_refuses_bad_scaling():
    for bad in ("0", "1,x", "65", ""):
        p = subprocess.run([sys.executable, os.path.join(TOOLS, "bench"), "--scaling", bad],
                           capture_output=True, text=True)
        assert p.returncode == 2 and "--scaling: a comma-separated list" in p.stderr, (bad, p.stderr)


def run_report(*args):
    return subprocess.run([sys.executable, os.path.join(TOOLS, "bench-report"), *args],
                          capture_output=True, text=True)


def test_report_writes_table_and_plots(tmp_path):
    b = tmp_path / "bareio.log"
    b.write_text(log_of(job(), job(name="randread-4k-qd32", qd=32),
                        job(name="randwrite-4k-qd32", rw="randwrite", qd=32),
                        job(device="ahci0p0", kind="ahci")))
    lx = tmp_path / "linux.log"
    lx.write_text(linux_log([("nvme0n1", "io_uring", "randread-4k-qd1", 0, FIO_DOC)]))
    cmp_path = tmp_path / "compare.json"
    cmp_path.write_text(json.dumps(bench.summarize(
        [{("nvme", "randread-4k-qd1"): fig(20000)}],
        [{("nvme", "randread-4k-qd1", "io_uring"): fig(5000)}], [], "null")))
    out = tmp_path / "out"
    p = run_report("-o", str(out), "--compare", str(cmp_path), str(b), str(lx))
    assert p.returncode == 0, p.stderr
    assert re.search(r"^randread-4k-qd32\s+nvme0n1\s+bareio\s+\d+", p.stdout, re.M), p.stdout
    assert "linux-io_uring" in p.stdout
    for name in ("latency.png", "qd.png", "compare.png"):
        data = (out / name).read_bytes()
        assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 10000, name


@pytest.mark.parametrize("content,message", [
    ("bareio: booting\nno benchmark here\n", "no benchmark result"),
    (log_of({**job(), "kicks": None}), "kicks"),
    (linux_log([("sda", "libaio", "randread-4k-qd1", 2, None)]), "fio status 2"),
])
def test_report_refuses_what_it_cannot_account_for(tmp_path, content, message):
    path = tmp_path / "x.log"
    path.write_text(content)
    out = tmp_path / "out"
    p = run_report("-o", str(out), str(path))
    assert p.returncode == 1 and message in p.stderr, (p.stdout, p.stderr)
    assert not out.exists()


def test_initramfs_archive_and_module_order(tmp_path):
    c = initramfs.Cpio()
    c.file("bin/busybox", b"\x7fELF", 0o100755)
    c.symlink("bin/sh", "busybox")
    c.file("init", b"#!/bin/sh\n", 0o100755)
    data = c.finish()
    assert data.startswith(b"070701") and b"TRAILER!!!" in data and len(data) % 4 == 0
    # GNU cpio reads it back: names, and the symlink's target.
    listing = subprocess.run(["cpio", "-tv"], input=data, capture_output=True)
    assert listing.returncode == 0, listing.stderr
    names = [line.split()[8] for line in listing.stdout.decode().splitlines()]
    assert names == ["bin", "bin/busybox", "bin/sh", "init"]
    assert "bin/sh -> busybox" in listing.stdout.decode()
    moddir = tmp_path / "mods"
    moddir.mkdir()
    (moddir / "modules.dep").write_text(
        "kernel/drivers/nvme/host/nvme.ko: kernel/drivers/nvme/host/nvme-core.ko kernel/lib/crc.ko\n"
        "kernel/drivers/nvme/host/nvme-core.ko: kernel/lib/crc.ko\n"
        "kernel/lib/crc.ko:\n"
        "kernel/drivers/ata/ahci.ko: kernel/drivers/ata/libata.ko\n"
        "kernel/drivers/ata/libata.ko:\n"
        "kernel/drivers/scsi/sd_mod.ko: kernel/drivers/ata/libata.ko\n")
    order = initramfs.module_closure(str(moddir))
    assert order.index("kernel/lib/crc.ko") < order.index("kernel/drivers/nvme/host/nvme-core.ko") \
        < order.index("kernel/drivers/nvme/host/nvme.ko")
    assert order.index("kernel/drivers/ata/libata.ko") < order.index("kernel/drivers/ata/ahci.ko")
    assert len(order) == len(set(order)) == 6
