# SPDX-License-Identifier: MIT
"""tests/tools/test_lava_job.py — tools/lava/qemu-job and expected-cases
without LAVA or QEMU: the YAML they write reads back as the job meant (PyYAML,
when there), the command line is refused where pexpect's quoting would change
it, disks get tools/disks.py's QEMU arguments, and a log gives its cases.
tests/scenarios/test_lava.py runs the jobs under lava-run."""
import os
import subprocess
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
LAVA = os.path.join(ROOT, "tools", "lava")
sys.path[:0] = [LAVA, os.path.join(ROOT, "tools")]
import bareio_lava  # noqa: E402


def qemu_job(tmp_path, *args, check=True):
    kernel = tmp_path / "bareio.elf"
    kernel.write_bytes(b"\x7fELF")
    p = subprocess.run([sys.executable, os.path.join(LAVA, "qemu-job"), "--kernel", str(kernel), *args],
                       capture_output=True, text=True, timeout=30)
    if check:
        assert p.returncode == 0, p.stderr
    return p


def test_job_reads_back(tmp_path):
    yaml = pytest.importorskip("yaml")
    img = tmp_path / "a.img"
    img.write_bytes(bytes(4096))
    p = qemu_job(tmp_path, "--append", "tests=lib,time dio.seed=7", "--disk", f"{img}:ahci", "--disk", str(img),
                 "--expected", "lib.x,bareio-result", "--timeout", "90s")
    job = yaml.safe_load(p.stdout)
    images = job["actions"][0]["deploy"]["images"]
    assert images["kernel"]["image_arg"] == '-kernel {kernel} -append "tests=lib,time dio.seed=7"'
    assert "ide-hd,drive=ahci0,bus=ide.0,serial=bareio-ahci0" in images["ahci0"]["image_arg"]
    assert "file={nvme0}" in images["nvme0"]["image_arg"] and images["nvme0"]["url"] == f"file://{img}"
    assert job["actions"][2]["test"] == {"timeout": {"seconds": 90}, "monitors": [bareio_lava.monitor()]}
    assert job["metadata"] == {"bareio.expected": ["lib.x", "bareio-result"]}


@pytest.mark.parametrize("cmdline", ['tests="lib"', "a\\b", "x\ny"])
def test_command_line_pexpect_would_change_is_refused(tmp_path, cmdline):
    p = qemu_job(tmp_path, "--append", cmdline, check=False)
    assert p.returncode != 0 and "may not hold" in p.stderr


def test_expected_cases_from_a_log(tmp_path):
    log = tmp_path / "run.log"
    log.write_text("=== bareio KTAP START ===\r\nKTAP version 1\r\n1..2\r\n  KTAP version 1\r\n  # Subtest: a\r\n"
                   "  1..1\r\n  # bareio-case: pass a.b\r\n  ok 1 b\r\nok 1 a\r\n# bareio-case: skip n\r\n"
                   "ok 2 n # SKIP none\r\n# bareio: 1 passed, 0 failed, 1 skipped\r\n=== bareio KTAP END ===\r\n")
    p = subprocess.run([sys.executable, os.path.join(LAVA, "expected-cases"), "--from-log", str(log)],
                       capture_output=True, text=True, timeout=30)
    assert p.returncode == 0 and p.stdout.split() == ["a.b", "n", "bareio-result"], p.stderr


def test_lava_case_names_follow_lavas_rule():
    assert bareio_lava.lava_case_name("bench.bench_jobs.qd1-none") == "bench_bench_jobs_qd1_none"
    assert bareio_lava.lava_case_name("bareio-result") == "bareio_result"
