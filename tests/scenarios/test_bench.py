# SPDX-License-Identifier: MIT
"""tests/scenarios/test_bench.py — the `bench` suite (issue 13) on real
emulated devices: what it counts, not how fast it is (no timing is asserted).

- Jobs bounded by an I/O count on AHCI, NVMe and virtio: each job and device
  is its own KTAP parameter; every JSON line is read by Python's json module
  and checked by tools/bench_log.problems (bytes against I/Os and block size,
  IOPS and bandwidth against the measured time, the histogram's count,
  percentiles in order inside [min, max]); the counts are exactly the ones
  asked for, a randrw mix has both reads and writes, a ramp is not counted,
  the human lines are there, a job matching no device is a named skip, and
  the writes stay inside the scratch range (the label and the bytes before
  the range are byte-identical afterwards).
- The profile `make run` ends with (quick) on all three.
- verify=1 after the dio suite checks the blocks it stamped.
- A read error planted with blkdebug fails the job's case, the cause counted
  in the JSON and the failure record printed.
- completion=irq through the drivers' interrupts; skipped, saying why, on a
  device that polls.
- bench.bench_bare_loop (make bench's reference) prints both figures per
  device and depth, with plausible kick counts.
- A write job on a disk without a scratch label is skipped and writes
  nothing; a bad bench= is a usage error before anything runs.
"""
import os
import re
import sys

from conftest import FAIL, PASS, USAGE, assert_clean_pass, case_log, scratch_image, sha256

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "tools"))
import bench_log  # noqa: E402

MiB = 1024 * 1024


def three_disks(tmp_path, label=True):
    paths = {n: scratch_image(tmp_path, n, 64 * MiB, label=label) for n in ("sata", "nvme", "vblk")}
    args = ["-drive", f"if=none,id=sata,format=raw,file={paths['sata']}",
            "-device", "ide-hd,drive=sata,bus=ide.0,serial=bench-sata",
            "-drive", f"if=none,id=nvme,format=raw,file={paths['nvme']}",
            "-device", "nvme,drive=nvme,serial=bench-nvme",
            "-drive", f"if=none,id=vblk,format=raw,file={paths['vblk']}",
            "-device", "virtio-blk-pci,drive=vblk,serial=bench-vblk"]
    return paths, args


def run(boot, kernel, cmdline, qemu_args, timeout=240):
    return boot("--kernel", kernel, "--append", cmdline, "--disks", "none", "--", *qemu_args,
                timeout=timeout)


def params(b):
    case = b.report.find("bench.bench_jobs")
    assert case is not None, b.describe()
    return {c.name: c for c in case.children}


def by_name(b):
    out = {}
    for j in bench_log.jobs(b.log):
        assert bench_log.problems(j) == [], (j, bench_log.problems(j))
        out[f"{j['jobname']}-{j['device']}"] = j
    return out


JOBS = ("name=rr,rw=randread,bs=4k,iodepth=4,number_ios=300;"
        "name=sw,rw=write,bs=8k,iodepth=2,number_ios=200,ramp_time=50ms;"
        "name=mix,rw=randrw,rwmixread=70,bs=4k,iodepth=8,qpairs=2,number_ios=400;"
        "name=big,rw=read,bs=128k,iodepth=8,number_ios=64;"
        "name=lost,dev=nosuch*,number_ios=1")
DEVS = ("ahci0p0", "nvme0n1", "vblk0")


def test_bench_counts_what_it_was_asked(boot, kernel, tmp_path):
    paths, args = three_disks(tmp_path)
    before = {n: sha256(p, 0, MiB) for n, p in paths.items()}
    # nvme.queues=2: one CPU would get one pair, and the mix job asks for two.
    b = run(boot, kernel, f"tests=bench nvme.queues=2 bench={JOBS}", args)
    assert_clean_pass(b)
    p = params(b)
    want = {f"{j}-{d}" for j in ("rr", "sw", "mix", "big") for d in DEVS} | {"lost-none"}
    assert set(p) == want, (sorted(p), b.describe())
    assert p["lost-none"].status == "skip"
    assert "dev=nosuch* matches no block device" in p["lost-none"].directive
    assert all(p[n].status == "pass" for n in want - {"lost-none"}), b.describe()
    jobs = by_name(b)
    assert set(jobs) == want - {"lost-none"}
    for d in DEVS:
        rr, sw, mix, big = (jobs[f"{n}-{d}"] for n in ("rr", "sw", "mix", "big"))
        assert (rr["read"]["total_ios"], rr["write"]["total_ios"]) == (300, 0)
        assert rr["read"]["io_bytes"] == 300 * 4096 and rr["iodepth"] == 4
        # The ramp's I/Os are not counted: exactly number_ios after it.
        assert (sw["write"]["total_ios"], sw["read"]["total_ios"]) == (200, 0)
        assert sw["write"]["io_bytes"] == 200 * 8192
        assert mix["read"]["total_ios"] + mix["write"]["total_ios"] == 400
        assert mix["read"]["total_ios"] > 0 and mix["write"]["total_ios"] > 0
        assert big["read"]["io_bytes"] == 64 * 128 * 1024 and big["bs"] == 131072
        assert all(j["errors"]["total"] == 0 and j["kind"] for j in (rr, sw, mix, big))
        diag = "\n".join(p[f"rr-{d}"].diagnostics)
        assert f"rr {d}: rw=randread bs=4096 iodepth=4 qpairs=1 cpus=1 completion=poll" in diag
        assert re.search(r"read: IOPS=[\d.]+k?, BW=", diag), diag
        assert "clat percentiles (nsec): 1.00th=[" in diag
        assert "now hold benchmark data" in "\n".join(p[f"sw-{d}"].diagnostics)
    # Only AHCI has one queue pair; NVMe gives two, virtio one.
    assert jobs["mix-nvme0n1"]["qpairs"] == 2 and jobs["mix-ahci0p0"]["qpairs"] == 1
    # The writes stayed in the scratch range: the label's first MiB is as it was.
    for n, path in paths.items():
        assert sha256(path, 0, MiB) == before[n], n


def test_bench_quick_profile(boot, kernel, tmp_path):
    _, args = three_disks(tmp_path)
    b = run(boot, kernel, "tests=bench bench=quick", args)
    assert_clean_pass(b)
    assert set(params(b)) == {f"randread-4k-qd{q}-{d}" for q in (1, 32) for d in DEVS}
    for name, j in by_name(b).items():
        assert j["read"]["total_ios"] == 2000, name


def test_bench_verify_checks_stamped_blocks(boot, kernel, tmp_path):
    _, args = three_disks(tmp_path)
    b = run(boot, kernel, "tests=dio.dio_write_read_verify,bench "
            "bench=name=v,dev=nvme0n1,rw=randread,bs=4k,iodepth=8,size=4m,offset=1m,"
            "number_ios=3000,verify=1", args, timeout=300)
    assert_clean_pass(b)
    j = by_name(b)["v-nvme0n1"]
    assert j["verify"] == 1 and j["verified_blocks"] > 0, j
    assert f"verified: {j['verified_blocks']} blocks against their stamps" in \
        case_log(b, "bench.bench_jobs.v-nvme0n1")


def test_bench_read_error_fails_the_job(boot, kernel, tmp_path):
    path = scratch_image(tmp_path, "faulty", 64 * MiB)
    blockdev = ("driver=raw,node-name=d0,file.driver=blkdebug,"
                "file.inject-error.0.event=read_aio,file.inject-error.0.iotype=read,"
                "file.inject-error.0.sector=65536,"
                f"file.image.driver=file,file.image.filename={path}")
    b = run(boot, kernel, "tests=bench bench=name=bad,rw=randread,offset=32m,size=4k,"
            "number_ios=50", ["-blockdev", blockdev, "-device", "nvme,drive=d0,serial=bench-bad"])
    assert b.status == FAIL, b.describe()
    case = b.report.find("bench.bench_jobs.bad-nvme0n1")
    assert case is not None and case.status == "fail", b.describe()
    j = by_name(b)["bad-nvme0n1"]
    assert j["errors"]["total"] >= 1 and j["errors"].get("media error", 0) >= 1, j
    log = case_log(b, "bench.bench_jobs.bad-nvme0n1")
    assert "nvme0n1: bad read at lba 65536: media error" in log, log
    assert "errors: " in log and "(media error " in log


def test_bench_interrupt_completion(boot, kernel, tmp_path):
    _, args = three_disks(tmp_path)
    b = run(boot, kernel, "tests=bench bench=name=i,rw=randread,iodepth=4,number_ios=300,"
            "completion=irq", args)
    assert_clean_pass(b)
    for name, j in by_name(b).items():
        assert j["completion"] == "irq" and j["read"]["total_ios"] == 300, name
    b = run(boot, kernel, "tests=bench nvme.irq=poll bench=name=i,dev=nvme*,rw=randread,"
            "number_ios=10,completion=irq", args)
    assert b.status == PASS, b.describe()
    case = params(b)["i-nvme0n1"]
    assert case.status == "skip" and "completes by polling" in case.directive, case.directive


def test_bench_never_writes_a_disk_that_is_not_scratch(boot, kernel, tmp_path):
    paths, args = three_disks(tmp_path, label=False)
    before = {n: sha256(p) for n, p in paths.items()}
    b = run(boot, kernel, "tests=bench bench=name=w,rw=randwrite,number_ios=100", args)
    assert b.status == PASS, b.describe()
    for d in DEVS:
        case = params(b)[f"w-{d}"]
        assert case.status == "skip" and "is not scratch" in case.directive, case.directive
    assert {n: sha256(p) for n, p in paths.items()} == before


def test_bench_bad_jobs_are_refused_before_anything_runs(boot, kernel, tmp_path):
    paths, args = three_disks(tmp_path)
    before = {n: sha256(p) for n, p in paths.items()}
    b = run(boot, kernel, "tests=bench bench=name=x,bs=3000", args)
    assert b.status == USAGE, b.describe()
    assert "bench: job 1: bs=3000: not a multiple of 512" in b.log, b.describe()
    assert "bench_jobs" not in b.log
    b = run(boot, kernel, "tests=bench bench=rw=write,verify=1", args)
    assert b.status == USAGE, b.describe()
    assert "verify=1: only for jobs that only read" in b.log
    b = run(boot, kernel, "tests=bench bench=name=c,cpus=0", args)
    assert b.status == USAGE, b.describe()
    assert "bench: job 1: cpus=0: out of range (1..1024, or all)" in b.log, b.describe()
    b = run(boot, kernel, "tests=bench bench=qpairs=2,cpus=all", args)
    assert b.status == USAGE, b.describe()
    assert "bench: job 1: cpus=all: qpairs is given too" in b.log, b.describe()
    assert {n: sha256(p) for n, p in paths.items()} == before


def smp_run(boot, kernel, cmdline, qemu_args, smp=4, timeout=300):
    return boot("--kernel", kernel, "--append", cmdline, "--disks", "none", "--machine", "q35",
                "--smp", str(smp), "--memory", "1G", "--", *qemu_args, timeout=timeout)


SHARE_LINE = r"  cpu (\d+) \(APIC id (\d+)\): blk queue (\d+), (\d+) I/Os, IOPS=[\d.]+[kMG]?(?:, (.*))?$"


def share_lines(b, case):
    """{rank: (APIC id, blk queue, I/Os)} from a job's per-CPU lines."""
    return {int(m[1]): (int(m[2]), int(m[3]), int(m[4]))
            for m in re.finditer(SHARE_LINE, case_log(b, case), re.M)}


def share_waits(b, case):
    """{rank: how it waited for interrupts} (completion=irq jobs): "slept"
    with at least one HLT, or the reason it spun."""
    waits = {}
    for m in re.finditer(SHARE_LINE, case_log(b, case), re.M):
        w = m[5] or ""
        slept = re.fullmatch(r"slept (\d+) times between interrupts", w)
        waits[int(m[1])] = "slept" if slept and int(slept[1]) > 0 else w
    return waits


SMP_JOBS = ("name=pr,dev=nvme0n1,rw=randread,iodepth=4,cpus=all,number_ios=2000;"
            "name=pv,dev=nvme0n1,rw=randread,iodepth=8,size=4m,offset=1m,cpus=all,"
            "number_ios=2000,verify=1;"
            "name=pi,dev=nvme0n1,rw=randread,iodepth=4,completion=irq,cpus=all,number_ios=800;"
            "name=av,dev=ahci0p0,rw=randread,iodepth=4,size=4m,offset=1m,cpus=all,"
            "number_ios=2000,verify=1;"
            "name=ai,dev=ahci0p0,rw=randread,iodepth=4,completion=irq,cpus=all,number_ios=800;"
            "name=pw,dev=nvme0n1,rw=randwrite,bs=8k,iodepth=2,cpus=2,number_ios=401;"
            "name=pa,rw=randread,cpus=all,number_ios=100;"
            "name=pm,dev=nvme0n1,rw=randread,cpus=8,number_ios=100")


def test_bench_on_every_cpu(boot, kernel, tmp_path):
    """cpus=: at -smp 4 on q35 each CPU drives its own NVMe queue pair with
    its share of the I/Os, the job's counts and histogram are the sums, in
    poll and irq completion, reads verified against the dio suite's stamps;
    an AHCI port's one queue is shared by all four; a device whose driver
    takes requests on one CPU (virtio) runs on one, saying so, and more CPUs
    than are online run on those online."""
    paths, args = three_disks(tmp_path)
    before = {n: sha256(p, 0, MiB) for n, p in paths.items()}
    b = smp_run(boot, kernel, f"tests=dio.dio_write_read_verify,bench bench={SMP_JOBS}", args)
    assert_clean_pass(b)
    jobs = by_name(b)
    case = "bench.bench_jobs.{}-nvme0n1".format
    pr = jobs["pr-nvme0n1"]
    assert (pr["cpus"], pr["qpairs"], pr["iodepth"]) == (4, 1, 4), pr
    assert pr["read"]["total_ios"] == 2000 and pr["read"]["clat_ns"]["N"] == 2000, pr
    assert pr["errors"]["total"] == 0 and pr["kicks"] >= 4, pr
    # QEMU numbers the APIC ids as the CPUs; with a pair per CPU, rank k's is k.
    assert share_lines(b, case("pr")) == {k: (k, k, 500) for k in range(4)}, case_log(b, case("pr"))
    pv = jobs["pv-nvme0n1"]
    assert pv["cpus"] == 4 and pv["verify"] == 1 and pv["verified_blocks"] > 0, pv
    assert f"verified: {pv['verified_blocks']} blocks against their stamps" in case_log(b, case("pv"))
    pi = jobs["pi-nvme0n1"]
    assert (pi["cpus"], pi["completion"], pi["read"]["total_ios"]) == (4, "irq", 800), pi
    assert share_lines(b, case("pi")) == {k: (k, k, 200) for k in range(4)}
    # Each AP's queue interrupts it: it sleeps between them (HLT, its own
    # timer's bound); the BSP spins.
    assert share_waits(b, case("pi")) == {0: "spun: the BSP", 1: "slept", 2: "slept", 3: "slept"}, \
        case_log(b, case("pi"))
    # Four CPUs on one AHCI port: NCQ tags from every CPU, verified reads;
    # with completion=irq the HBA's MSI reaches the BSP for all of them.
    av, ai = jobs["av-ahci0p0"], jobs["ai-ahci0p0"]
    assert av["cpus"] == 4 and av["verified_blocks"] > 0 and av["errors"]["total"] == 0, av
    assert av["read"]["total_ios"] == 2000
    assert (ai["cpus"], ai["completion"], ai["read"]["total_ios"]) == (4, "irq", 800), ai
    assert share_lines(b, "bench.bench_jobs.ai-ahci0p0") == {k: (k, 0, 200) for k in range(4)}
    # Its interrupt reaches the BSP only: an AP asleep would wake at its
    # timer's bound alone, so every AP spins, saying why.
    assert share_waits(b, "bench.bench_jobs.ai-ahci0p0") == {
        0: "spun: the BSP", **{k: "spun: its driver does not say where its interrupts go"
                               for k in (1, 2, 3)}}, case_log(b, "bench.bench_jobs.ai-ahci0p0")
    pw = jobs["pw-nvme0n1"]
    assert (pw["cpus"], pw["write"]["total_ios"], pw["read"]["total_ios"]) == (2, 401, 0), pw
    assert pw["write"]["io_bytes"] == 401 * 8192
    assert share_lines(b, case("pw")) == {0: (0, 0, 201), 1: (1, 1, 200)}
    assert jobs["pa-nvme0n1"]["cpus"] == 4
    # AHCI: one queue per port, taken from any CPU (its own lock): the four
    # CPUs share it, and its depth (iodepth=1 each fits).
    pa = jobs["pa-ahci0p0"]
    assert pa["cpus"] == 4 and pa["read"]["total_ios"] == 100 and pa["errors"]["total"] == 0, pa
    assert share_lines(b, "bench.bench_jobs.pa-ahci0p0") == {k: (k, 0, 25) for k in range(4)}
    j = jobs["pa-vblk0"]
    assert j["cpus"] == 1 and j["read"]["total_ios"] == 100, j
    log = case_log(b, "bench.bench_jobs.pa-vblk0")
    assert "vblk0: cpus=4 asked, 1 run: its driver takes requests on one CPU only" in log, log
    assert "blk queue" not in log
    assert jobs["pm-nvme0n1"]["cpus"] == 4
    assert "nvme0n1: cpus=8 asked, 4 online: 4 run" in case_log(b, case("pm"))
    for n, path in paths.items():
        assert sha256(path, 0, MiB) == before[n], n


def test_bench_cpus_share_the_queues_granted(boot, kernel, tmp_path):
    """Two pairs granted to four CPUs: ranks 0 and 2 share one, 1 and 3 the
    other, each CPU's slots within its half of the queue's depth (a depth
    asked beyond it is cut, saying so)."""
    img = scratch_image(tmp_path, "nvme", 64 * MiB)
    args = ["-drive", f"if=none,id=n0,format=raw,file={img}",
            "-device", "nvme,drive=n0,serial=bench-nvme,max_ioqpairs=2"]
    b = smp_run(boot, kernel, "tests=bench bench=name=s,rw=randread,iodepth=8,cpus=all,"
                "number_ios=1000;name=si,rw=randread,iodepth=8,cpus=all,number_ios=1000,"
                "completion=irq;name=deep,rw=randread,iodepth=1024,cpus=all,number_ios=4000", args)
    assert_clean_pass(b)
    jobs = by_name(b)
    for n in ("s", "si"):
        assert jobs[f"{n}-nvme0n1"]["cpus"] == 4 and jobs[f"{n}-nvme0n1"]["read"]["total_ios"] == 1000
        assert share_lines(b, f"bench.bench_jobs.{n}-nvme0n1") == \
            {0: (0, 0, 250), 1: (1, 1, 250), 2: (2, 0, 250), 3: (3, 1, 250)}
    # A queue's messages go to the first CPU on it: ranks 2 and 3 spin.
    other = "spun: its queue's interrupts go to another CPU"
    assert share_waits(b, "bench.bench_jobs.si-nvme0n1") == \
        {0: "spun: the BSP", 1: "slept", 2: other, 3: other}, case_log(b, "bench.bench_jobs.si-nvme0n1")
    deep = jobs["deep-nvme0n1"]
    # The boot line's queue entries, one kept empty (NVMe: a full queue is
    # one entry short of its size), halved between the two CPUs on each queue.
    entries = int(re.search(r"nvme0: .* queues 2x(\d+) ", b.log)[1])
    assert deep["read"]["total_ios"] == 4000 and deep["iodepth"] == (entries - 1) // 2, deep
    assert (f"nvme0n1: qpairs=1 iodepth=1024 asked, 1 x {deep['iodepth']} run (the device's "
            "queues, each shared by CPUs)") in case_log(b, "bench.bench_jobs.deep-nvme0n1")


def test_bench_bare_loop_reference(boot, kernel, tmp_path):
    """The explicit case make bench uses as the engine's reference: on every
    device, QD1 and QD32, the bare loop and the engine alternate; one
    bench-bare line each with both figures, the rounds asked for, and kicks
    (one per completion batch: at most one per I/O, at least I/Os / QD)."""
    _, args = three_disks(tmp_path)
    b = run(boot, kernel, "tests=bench.bench_bare_loop bench=quick bench.bare_ios=300 "
            "bench.bare_rounds=3", args)
    assert_clean_pass(b)
    lines = {(r["device"], r["jobname"]): r for r in bench_log.bare(b.log)}
    assert set(lines) == {(d, f"randread-4k-qd{q}") for d in DEVS for q in (1, 32)}, lines
    for (dev, job), r in lines.items():
        assert r["total_ios"] == 300 and r["rounds"] == 3, r
        assert r["bare_iops"] > 0 and r["engine_iops"] > 0, r
        assert r["engine_per_mille"] == r["engine_iops"] * 1000 // r["bare_iops"], r
        qd = int(job.rsplit("qd", 1)[1])
        for k in ("bare_kicks", "engine_kicks"):
            assert 3 * 300 // qd <= r[k] <= 3 * 300, (k, r)
