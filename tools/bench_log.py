# SPDX-License-Identifier: MIT
"""tools/bench_log.py — reading bareio's benchmark lines out of serial logs
(for tools/bench, tools/bench-report and the tests).

    jobs(text)      -> [dict]   every `bench-json:` object (lib/bench_report.h)
    bare(text)      -> [dict]   every `bench-bare:` object (bench.bench_bare_loop)
    problems(job)   -> [str]    what in one object is missing or does not add up

`problems` fails closed: a field that is missing, of the wrong type, or whose
value the others contradict (bytes against I/Os and block size, IOPS and
bandwidth against the measured time, percentiles out of order or outside
[min, max], the histogram's count against the I/O count, error counts that
do not sum) is named. An empty list means the object is what bareio writes.
"""
import json
import re

PERCENTILES = ["1.000000", "5.000000", "10.000000", "20.000000", "30.000000", "40.000000",
               "50.000000", "60.000000", "70.000000", "80.000000", "90.000000", "95.000000",
               "99.000000", "99.500000", "99.900000", "99.950000", "99.990000"]
RW = ("read", "write", "randread", "randwrite", "randrw")
_LINE = re.compile(r"^\s*# (bench-json|bench-bare): (\{.*\})\s*$")


def _objects(text, kind):
    out = []
    for line in text.replace("\r", "").splitlines():
        m = _LINE.match(line)
        if m and m.group(1) == kind:
            out.append(json.loads(m.group(2)))
    return out


def jobs(text):
    return _objects(text, "bench-json")


def bare(text):
    return _objects(text, "bench-bare")


def _int(d, key, where, errs):
    v = d.get(key) if isinstance(d, dict) else None
    if not isinstance(v, int) or isinstance(v, bool) or v < 0:
        errs.append(f"{where}.{key}: {v!r} is not a count")
        return None
    return v


def _dir_problems(r, name, elapsed, bs, errs):
    d = r.get(name)
    if not isinstance(d, dict):
        errs.append(f"{name}: missing")
        return 0
    ios = _int(d, "total_ios", name, errs)
    io_bytes = _int(d, "io_bytes", name, errs)
    bw_bytes = _int(d, "bw_bytes", name, errs)
    for key in ("io_kbytes", "bw", "runtime"):
        _int(d, key, name, errs)
    iops = d.get("iops")
    if not isinstance(iops, (int, float)) or isinstance(iops, bool) or iops < 0:
        errs.append(f"{name}.iops: {iops!r} is not a rate")
        iops = None
    if None in (ios, io_bytes, bw_bytes):
        return 0
    if bs is not None and io_bytes != ios * bs:
        errs.append(f"{name}: io_bytes {io_bytes} != total_ios {ios} x bs {bs}")
    if d.get("io_kbytes") != io_bytes >> 10:
        errs.append(f"{name}: io_kbytes {d.get('io_kbytes')} != io_bytes / 1024")
    if elapsed:
        if bw_bytes != io_bytes * 10**9 // elapsed:
            errs.append(f"{name}: bw_bytes {bw_bytes} != io_bytes x 1e9 / elapsed_ns "
                        f"({io_bytes * 10**9 // elapsed})")
        want = ios * 10**12 // elapsed
        if iops is not None and round(iops * 1000) != want:
            errs.append(f"{name}: iops {iops} != total_ios x 1e9 / elapsed_ns ({want / 1000:.3f})")
        if d.get("runtime") != elapsed // 10**6:
            errs.append(f"{name}: runtime {d.get('runtime')} != elapsed_ns / 1e6")
    if d.get("bw") != bw_bytes >> 10:
        errs.append(f"{name}: bw {d.get('bw')} != bw_bytes / 1024")
    c = d.get("clat_ns")
    if not isinstance(c, dict):
        errs.append(f"{name}.clat_ns: missing")
        return ios
    n = _int(c, "N", f"{name}.clat_ns", errs)
    lo, hi = _int(c, "min", f"{name}.clat_ns", errs), _int(c, "max", f"{name}.clat_ns", errs)
    mean = _int(c, "mean", f"{name}.clat_ns", errs)
    _int(c, "stddev", f"{name}.clat_ns", errs)
    if n is not None and n != ios:
        errs.append(f"{name}.clat_ns.N {n} != total_ios {ios}")
    p = c.get("percentile")
    if not isinstance(p, dict) or list(p) != PERCENTILES:
        errs.append(f"{name}.clat_ns.percentile: keys {list(p) if isinstance(p, dict) else p!r} "
                    "are not fio's default list")
        return ios
    values = [p[k] for k in PERCENTILES]
    if any(not isinstance(v, int) or v < 0 for v in values):
        errs.append(f"{name}.clat_ns.percentile: values {values} are not all counts")
        return ios
    if values != sorted(values):
        errs.append(f"{name}.clat_ns.percentile: not in order: {values}")
    if ios and None not in (lo, hi, mean):
        if not lo <= values[0] <= values[-1] <= hi:
            errs.append(f"{name}.clat_ns: percentiles {values[0]}..{values[-1]} outside "
                        f"min {lo} .. max {hi}")
        if not lo <= mean <= hi:
            errs.append(f"{name}.clat_ns.mean {mean} outside min {lo} .. max {hi}")
    elif ios == 0 and any(values + [lo or 0, hi or 0, mean or 0]):
        errs.append(f"{name}: no I/O but latency figures")
    return ios


def problems(r):
    """What is wrong with one bench-json object ([] when nothing)."""
    errs = []
    if not isinstance(r, dict):
        return [f"not an object: {r!r}"]
    for key in ("jobname", "device", "kind", "rw", "completion"):
        if not isinstance(r.get(key), str) or not r.get(key):
            errs.append(f"{key}: {r.get(key)!r} is not a name")
    if r.get("rw") not in RW:
        errs.append(f"rw: {r.get('rw')!r} is not one of {', '.join(RW)}")
    if r.get("completion") not in ("poll", "irq"):
        errs.append(f"completion: {r.get('completion')!r} is not poll or irq")
    bs = _int(r, "bs", "job", errs)
    for key in ("iodepth", "qpairs", "cpus", "verify", "verified_blocks", "kicks"):
        _int(r, key, "job", errs)
    elapsed = _int(r, "elapsed_ns", "job", errs)
    reads = _dir_problems(r, "read", elapsed, bs, errs)
    writes = _dir_problems(r, "write", elapsed, bs, errs)
    if r.get("rw") in ("read", "randread") and writes:
        errs.append(f"rw={r.get('rw')} but {writes} writes")
    if r.get("rw") in ("write", "randwrite") and reads:
        errs.append(f"rw={r.get('rw')} but {reads} reads")
    if (reads or writes) and not elapsed:
        errs.append("I/O done in no time (elapsed_ns 0)")
    o = r.get("overhead_ns")
    for key in ("submit", "doorbell", "complete"):
        _int(o if isinstance(o, dict) else {}, key, "overhead_ns", errs)
    e = r.get("errors")
    total = _int(e if isinstance(e, dict) else {}, "total", "errors", errs)
    if isinstance(e, dict) and total is not None:
        named = {k: v for k, v in e.items() if k != "total"}
        if any(not isinstance(v, int) or v <= 0 for v in named.values()):
            errs.append(f"errors: {named} holds a count that is not positive")
        elif sum(named.values()) > total or (len(named) < 8 and sum(named.values()) != total):
            errs.append(f"errors: the causes {named} do not add up to total {total}")
    return errs


def linux(text):
    """The Linux baseline's runs (tools/bench-initramfs): a list of
    {"disk", "engine", "job", "status", "fio", "dmesg"} where fio is fio's own
    JSON document (None when its status was not 0 or it could not be read)
    and dmesg the bench-linux-dmesg lines printed after the run's end (what
    the kernel said while it ran)."""
    out = []
    text = text.replace("\r", "")
    for block in text.split("bench-fio-begin ")[1:]:
        head, _, rest = block.partition("\n")
        words = head.split()
        if len(words) < 3:
            continue
        body, found_end, tail = rest.partition("bench-fio-end ")
        status = tail.split("\n", 1)[0].split() if found_end else []
        run = {"disk": words[0], "engine": words[1], "job": words[2],
               "status": status[3] if len(status) >= 4 else None, "fio": None,
               "dmesg": [line for line in tail.split("\n")[1:]
                         if line.startswith("bench-linux-dmesg:")] if found_end else []}
        if run["status"] == "0":
            try:
                run["fio"] = json.loads(body[body.index("{"):body.rindex("}") + 1])
            except ValueError:
                run["status"] = "unreadable JSON"
        out.append(run)
    return out


# What Linux says when a disk misbehaved under it (the nvme driver's
# "I/O 12 QID 1 timeout, aborting" and "reset controller", libata's
# "exception Emask" and "failed command", the block layer's "I/O error"):
# figures measured through that are no baseline.
TROUBLE = re.compile(r"timeout|abort|reset|I/O error|failed command|exception Emask|"
                     r"hard resetting|link is slow", re.I)


def linux_trouble(text):
    """The bench-linux-dmesg lines (tools/bench-initramfs) that say a disk
    misbehaved, as {kind: [lines]}: kind nvme (nvmeN), ahci (ataN, sdX), or
    "any" when the line names no disk (it then counts against every disk).
    text: a log, or a list of lines."""
    out = {}
    lines = text if isinstance(text, list) else text.replace("\r", "").split("\n")
    for line in lines:
        if not line.startswith("bench-linux-dmesg:"):
            continue
        msg = line[len("bench-linux-dmesg:"):].strip()
        if not TROUBLE.search(msg):
            continue
        if re.search(r"\bnvme\d", msg):
            kind = "nvme"
        elif re.search(r"\bata\d|\bsd[a-z]", msg):
            kind = "ahci"
        else:
            kind = "any"
        out.setdefault(kind, []).append(msg)
    return out


def kind_of(device):
    """nvme0n1 -> nvme, ahci0p0 / sda -> ahci, vblk0 / vda -> vblk."""
    if device.startswith("nvme"):
        return "nvme"
    if device.startswith(("ahci", "sd")):
        return "ahci"
    if device.startswith(("vblk", "vd")):
        return "vblk"
    return device


def latency(direction):
    """The latency to compare: fio's lat_ns (submission + completion) when
    fio gives its percentiles (--lat_percentiles=1), else clat_ns — which
    for bareio already runs from blk_submit to blk_complete."""
    lat = direction.get("lat_ns")
    if isinstance(lat, dict) and isinstance(lat.get("percentile"), dict):
        return lat
    return direction["clat_ns"]


def figures(direction):
    """IOPS, bandwidth, p50 and p99 of one fio-style direction object."""
    p = latency(direction)["percentile"]
    return {"iops": float(direction["iops"]), "bw_bytes": int(direction["bw_bytes"]),
            "p50_ns": int(p["50.000000"]), "p99_ns": int(p["99.000000"])}


def main_direction(doc, rw):
    """fio and bareio both keep reads and writes apart: a job's own side."""
    return doc["write"] if rw in ("write", "randwrite") else doc["read"]
