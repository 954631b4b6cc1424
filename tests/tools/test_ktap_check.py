# SPDX-License-Identifier: MIT
"""tests/tools/test_ktap_check.py — tools/ktap-check and tools/bareio_ktap.py on
small sample logs (tests/tools/logs/): each log shows one way a run can look."""
import os
import subprocess
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "tools"))
import bareio_ktap  # noqa: E402

CHECK = os.path.join(ROOT, "tools", "ktap-check")


def log(name):
    with open(os.path.join(HERE, "logs", name)) as f:
        return f.read()


def check_cli(name, *extra):
    p = subprocess.run([sys.executable, CHECK, os.path.join(HERE, "logs", name), *extra],
                       capture_output=True, text=True, timeout=30)
    return p.returncode, p.stdout


def test_good_log_passes():
    r = bareio_ktap.parse_log(log("good.log"))
    assert r.ok, r.problems
    assert (r.passed, r.failed, r.skipped) == (3, 0, 0)
    assert r.suites() == ["lib", "pci"]
    assert r.find("pci.pci_ahci_found").status == "pass"
    assert r.kernel_summary == (3, 0, 0)


def test_good_log_cli_exit_0_and_summary_line():
    rc, out = check_cli("good.log", "--expect", "lib,pci")
    assert rc == 0
    assert out.splitlines()[0] == "ktap-check: 3 passed, 0 failed, 0 skipped"


def test_not_ok_fails_and_shows_diagnostics():
    r = bareio_ktap.parse_log(log("not_ok.log"))
    assert not r.ok
    assert [f.path for f in r.failures] == ["pci.pci_msi_delivered"]
    rc, out = check_cli("not_ok.log")
    assert rc == 1
    assert "ktap-check: 2 passed, 1 failed, 0 skipped; failures: pci.pci_msi_delivered" in out
    assert "# no interrupt within 100 ms" in out
    assert "# drivers/pci/msi.c:88: expected: delivered == 1" in out


def test_plan_mismatch_fails():
    r = bareio_ktap.parse_log(log("plan_mismatch.log"))
    assert not r.ok and not r.failures
    assert any("plan says 1..3 but 2 results" in p for p in r.problems)


def test_missing_end_says_cut_off():
    r = bareio_ktap.parse_log(log("missing_end.log"))
    assert not r.ok and not r.found_end
    assert any("cut off" in p for p in r.problems)
    rc, out = check_cli("missing_end.log")
    assert rc == 1 and "the run was cut off" in out


def test_crash_fails_and_shows_dump():
    r = bareio_ktap.parse_log(log("crash.log"))
    assert not r.ok
    assert r.crash_lines[0].startswith("bareio: EXCEPTION page fault")
    assert any("CR2 0x00007ffffffff000" in line for line in r.crash_lines)
    assert any("backtrace" in line for line in r.crash_lines)
    assert [f.path for f in r.failures] == ["selftest.trigger_page_fault"]
    assert r.problems == []          # the document itself is well formed
    rc, out = check_cli("crash.log")
    assert rc == 1 and "the kernel crashed" in out


def test_crash_without_report():
    r = bareio_ktap.parse_log(log("no_report.log"))
    assert not r.ok and not r.found_start
    assert r.crash_lines == ["bareio: PANIC: no memory map from the loader"]


def test_missing_expected_suite_fails():
    r = bareio_ktap.parse_log(log("good.log"), expect=["lib", "memory"])
    assert not r.ok
    assert r.problems == ["expected suite 'memory' is missing from the report"]
    rc, out = check_cli("good.log", "--expect", "lib,memory")
    assert rc == 1 and "expected suite 'memory' is missing" in out


def test_skips_pass_and_are_counted():
    r = bareio_ktap.parse_log(log("skip.log"))
    assert r.ok, r.problems
    assert (r.passed, r.failed, r.skipped) == (2, 0, 2)
    case = r.find("memory.memory_dma_above_4g")
    assert case.status == "skip" and case.directive == "SKIP no RAM above 4 GiB"
    assert case.diagnostics == ["no RAM above 4 GiB (run with -m 6G)"]
    assert r.find("nvme").status == "skip"


def test_interleaved_kernel_output_is_ignored():
    r = bareio_ktap.parse_log(log("interleaved.log"))
    assert r.ok, r.problems
    assert (r.passed, r.failed, r.skipped) == (3, 0, 0)


def test_numbers_out_of_sequence_fail():
    r = bareio_ktap.parse_log(log("bad_numbering.log"))
    assert any("test number 3 out of sequence, expected 2" in p for p in r.problems)


def test_odd_indentation_fails():
    r = bareio_ktap.parse_log(log("bad_indent.log"))
    assert not r.ok
    assert any("not a multiple of 2" in p for p in r.problems)


def test_suite_ok_with_failing_case_is_inconsistent():
    text = log("not_ok.log").replace("not ok 2 pci\n", "ok 2 pci\n")
    r = bareio_ktap.parse_log(text)
    assert any("reported ok but has failing cases" in p for p in r.problems)


def test_kernel_summary_disagreeing_with_results_fails():
    text = log("good.log").replace("# bareio: 3 passed", "# bareio: 4 passed")
    r = bareio_ktap.parse_log(text)
    assert any("kernel's summary says 4 passed" in p for p in r.problems)


def test_carriage_returns_from_serial_are_fine():
    r = bareio_ktap.parse_log(log("good.log").replace("\n", "\r\n"))
    assert r.ok, r.problems


def test_two_reports_in_one_log_fail():
    r = bareio_ktap.parse_log(log("good.log") + log("good.log"))
    assert any("2 KTAP reports" in p for p in r.problems)


def test_suite_that_fails_without_failing_cases_counts_itself():
    text = log("good.log").replace("ok 2 pci\n", "  # 1 DMA buffer leaked\nnot ok 2 pci\n")
    r = bareio_ktap.parse_log(text.replace("# bareio: 3 passed, 0 failed", "# bareio: 3 passed, 1 failed"))
    assert [f.path for f in r.failures] == ["pci"]
    assert r.failures[0].diagnostics == ["1 DMA buffer leaked"]


@pytest.mark.parametrize("name", ["good.log", "skip.log", "interleaved.log"])
def test_stdin_input(name):
    p = subprocess.run([sys.executable, CHECK, "-"], input=log(name), capture_output=True,
                       text=True, timeout=30)
    assert p.returncode == 0, p.stdout


def test_unreadable_log_exit_2():
    p = subprocess.run([sys.executable, CHECK, "/nonexistent/serial.log"], capture_output=True,
                       text=True, timeout=30)
    assert p.returncode == 2 and "cannot read" in p.stderr
