# SPDX-License-Identifier: MIT
"""tests/tools/test_bareio_report.py — tools/bareio-report over logs of
several machines: the summary row per log with its machine and verdict, the
per-device verdicts, each failure's cause and remedy, the benchmark table and
plot, text from a log escaped (a serial or a model holding HTML), and a log
the KTAP reader cannot account for shown as BROKEN, never as a pass. The page
is rendered in headless Chromium (Debian's chromium) to a PNG kept in
build/report/ for people to look at, which tesseract must read the verdicts
and machine names from, and whose verdict cells must carry their colours."""
import json
import os
import shutil
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TOOL = os.path.join(ROOT, "tools", "bareio-report")
ARTEFACTS = os.path.join(ROOT, os.environ.get("BAREIO_BUILD", "build"), "report")
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from test_bench_tools import job  # noqa: E402


def machine_log(system, product, serial, failing=False, bench=(), verdict=True, extra=""):
    lines = ["bareio: booting (x86_64)", "=== bareio KTAP START ===", "KTAP version 1", "1..1",
             f'# machine: system "{system}" product "{product}" version "1" serial "{serial}" '
             "uuid 00112233-4455-6677-8899-aabbccddeeff",
             '# machine: cpu "QEMU Virtual CPU", memory 508 MiB usable',
             "  KTAP version 1", "  # Subtest: dio", "  1..2",
             "  # bareio-case: pass dio.dio_sizes", "  ok 1 dio_sizes"]
    if failing:
        lines += ["  # FAILURE read: device nvme0n1 (nvme QEMU NVMe Ctrl, serial bareio-n0)",
                  "  #   io: read lba 2048 count 8 (4096 bytes) flags 0x0 queue 1",
                  "  #   status: 0x281 Unrecovered Read Error; error lba 2048; 0 bytes transferred",
                  "  #   cause: media error",
                  "  #   remedy: the medium is failing: replace the disk",
                  "  # bareio-case: fail dio.dio_verify", "  not ok 2 dio_verify", "not ok 1 dio"]
    else:
        lines += ["  # bareio-case: pass dio.dio_verify", "  ok 2 dio_verify", "ok 1 dio"]
    for obj in bench:
        lines.append(f"  # bench-json: {json.dumps(obj, separators=(',', ':'))}")
    lines += ["# dio summary: device   kind     access     passed failed skipped  causes seen",
              f"# dio summary: nvme0n1  nvme     scratch         {'1' if failing else '2'}      "
              f"{'1' if failing else '0'}       0  {'media error' if failing else '-'}",
              "# dio summary: ahci0p0  ahci     read-only       2      0       0  -",
              "# dio summary: ahci0p0  read-only: holds an ext4 file system (in use)",
              f"# bareio: {1 if failing else 2} passed, {1 if failing else 0} failed, 0 skipped",
              "=== bareio KTAP END ==="]
    if verdict:
        lines.append(f"bareio-result: {'fail' if failing else 'pass'} passed={1 if failing else 2} "
                     f"failed={1 if failing else 0} skipped=0")
    return "\n".join(lines) + "\n" + extra


def run(tmp_path, logs):
    paths = []
    for i, text in enumerate(logs):
        p = tmp_path / f"rack-{i}.log"
        p.write_text(text)
        paths.append(str(p))
    out, txt = tmp_path / "report.html", tmp_path / "report.txt"
    p = subprocess.run([TOOL, "-o", str(out), "--text", str(txt), *paths], capture_output=True,
                       text=True, timeout=60)
    return p, (out.read_text() if out.exists() else ""), (txt.read_text() if txt.exists() else "")


LOGS = [machine_log("Acme Labs", "Rack9", "SN-PASS-1",
                    bench=[job(), job(name="randread-4k-qd32", qd=32, ios=8000)]),
        machine_log("Acme Labs", "Rack10", "SN-FAIL-2", failing=True)]


def test_summary_devices_failures_and_bench(tmp_path):
    p, page, text = run(tmp_path, LOGS)
    assert p.returncode == 1, p.stderr        # one machine failed
    assert text == p.stdout
    rows = [l for l in text.splitlines() if l.startswith("rack-")]
    assert len(rows) == 2
    assert "Acme Labs Rack9" in rows[0] and "SN-PASS-1" in rows[0] and " PASS " in rows[0]
    assert "Rack10" in rows[1] and "SN-FAIL-2" in rows[1] and " FAIL " in rows[1]
    assert ("FAILURE read on nvme0n1 (log line 12): cause: media error; remedy: the medium is "
            "failing: replace the disk") in text, text
    assert "ahci0p0    ahci   read-only  PASS" in text and "holds an ext4 file system" in text
    assert "randread-4k-qd32" in text and "SN-PASS-1" in text.split("MiB/s")[1]
    # The page holds the same, and a plot.
    for needle in ("SN-PASS-1", "SN-FAIL-2", '<td class="FAIL">FAIL</td>', '<td class="PASS">PASS</td>',
                   "media error", "the medium is failing: replace the disk", "<svg", "randread-4k-qd1"):
        assert needle in page, needle
    assert "<script" not in page


def test_all_passing_exits_0(tmp_path):
    p, page, _ = run(tmp_path, [LOGS[0]])
    assert p.returncode == 0, p.stdout + p.stderr


def test_text_from_the_log_is_escaped(tmp_path):
    hostile = machine_log('<script>alert(1)</script>', 'R&D "lab"', "<b>x</b>")
    p, page, _ = run(tmp_path, [hostile])
    assert "<script>alert" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<b>x</b>" not in page


@pytest.mark.parametrize("broken, why", [
    (machine_log("A", "B", "C").replace("=== bareio KTAP END ===\n", ""), "cut off"),
    (machine_log("A", "B", "C").replace("bareio-result: pass passed=2", "bareio-result: pass passed=9"),
     "verdict line's totals"),
    (machine_log("A", "B", "C", failing=True).replace("bareio-result: fail", "bareio-result: pass"),
     "the verdict says pass"),
    (machine_log("A", "B", "C", bench=[dict(job(), elapsed_ns=1)]), "bench-json"),
    ("no report at all\n", "no KTAP report"),
])
def test_what_cannot_be_accounted_for_is_broken(tmp_path, broken, why):
    p, page, text = run(tmp_path, [broken])
    assert p.returncode == 1
    assert " BROKEN " in text.splitlines()[2], text
    assert why in text, text
    assert '<td class="BROKEN">BROKEN</td>' in page


def test_usage_errors(tmp_path):
    p = subprocess.run([TOOL, "-o", str(tmp_path / "r.html"), str(tmp_path / "missing.log")],
                       capture_output=True, text=True)
    assert p.returncode == 2 and "cannot read" in p.stderr
    (tmp_path / "a.log").write_text(LOGS[0])
    p = subprocess.run([TOOL, "-o", str(tmp_path / "no" / "r.html"), str(tmp_path / "a.log")],
                       capture_output=True, text=True)
    assert p.returncode == 2 and "cannot write" in p.stderr
    p = subprocess.run([TOOL, str(tmp_path / "a.log")], capture_output=True, text=True)
    assert p.returncode == 2


def chromium():
    for name in ("chromium", "chromium-browser"):
        path = shutil.which(name)
        if path:
            return path
    pytest.fail("chromium is not installed (tools/install-deps installs it)")


def test_rendered_in_chromium_and_read_back(tmp_path):
    from PIL import Image
    p, page, _ = run(tmp_path, LOGS)
    png = tmp_path / "report.png"
    r = subprocess.run([chromium(), "--headless", "--no-sandbox", "--disable-gpu",
                        "--hide-scrollbars", "--window-size=1280,1400",
                        f"--screenshot={png}", f"file://{tmp_path / 'report.html'}"],
                       capture_output=True, text=True, timeout=120)
    assert png.exists(), r.stdout + r.stderr
    os.makedirs(ARTEFACTS, exist_ok=True)
    shutil.copy(png, os.path.join(ARTEFACTS, "report.png"))
    shutil.copy(tmp_path / "report.html", os.path.join(ARTEFACTS, "report.html"))
    img = Image.open(png).convert("RGB")
    assert img.size == (1280, 1400)
    colours = set(img.getdata())
    near = lambda c, want: all(abs(a - b) < 24 for a, b in zip(c, want))  # noqa: E731
    assert any(near(c, (0x2e, 0x9e, 0x44)) for c in colours), "no green PASS cell"
    assert any(near(c, (0xc6, 0x28, 0x28)) for c in colours), "no red FAIL cell"
    assert any(near(c, (0x34, 0x65, 0xa4)) for c in colours), "no benchmark bars"
    ocr = subprocess.run(["tesseract", str(png), "-", "--psm", "3"], capture_output=True,
                         text=True, timeout=120)
    assert ocr.returncode == 0, ocr.stderr
    words = ocr.stdout
    for needle in ("PASS", "FAIL", "SN-PASS-1", "SN-FAIL-2", "media error", "Benchmarks"):
        assert needle in words, (needle, words)
