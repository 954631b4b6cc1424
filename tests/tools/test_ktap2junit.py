# SPDX-License-Identifier: MIT
"""tests/tools/test_ktap2junit.py — tools/ktap2junit's XML read back by a
JUnit reader (Debian's python3-junitparser), for every log tools/ktap-check's
own tests use and for logs made here: one <testcase> per KTAP leaf with the
right outcome, failures carrying their diagnostics, skips their reason, a
crash an <error>, the machine and the verdict line as properties, and
whatever the KTAP reader cannot account for a failed test of its own, so a
broken log is never green in CI."""
import glob
import os
import subprocess
import sys

import junitparser
import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TOOL = os.path.join(ROOT, "tools", "ktap2junit")
LOGS = os.path.join(ROOT, "tests", "tools", "logs")
sys.path.insert(0, os.path.join(ROOT, "tools"))
import bareio_ktap  # noqa: E402


def convert(tmp_path, log_text=None, log_path=None, *extra):
    if log_path is None:
        log_path = tmp_path / "serial.log"
        log_path.write_text(log_text)
    out = tmp_path / "out.xml"
    p = subprocess.run([TOOL, str(log_path), "-o", str(out), *extra], capture_output=True,
                       text=True, timeout=30)
    return p, (junitparser.JUnitXml.fromfile(str(out)) if out.exists() else None)


def cases(xml):
    return {(c.classname, c.name): c for suite in xml for c in suite}


def outcome(case):
    kinds = {type(r).__name__ for r in case.result}
    return ("error" if "Error" in kinds else "fail" if "Failure" in kinds
            else "skip" if "Skipped" in kinds else "pass")


def leaves(results, path):
    for r in results:
        if r.children:
            yield from leaves(r.children, path + [r.name])
        else:
            yield ".".join(path), r


@pytest.mark.parametrize("log", sorted(glob.glob(os.path.join(LOGS, "*.log"))),
                         ids=lambda p: os.path.basename(p))
def test_every_leaf_is_a_testcase_with_its_outcome(tmp_path, log):
    with open(log, "rb") as f:
        report = bareio_ktap.parse_log(f.read().decode("utf-8", "replace"))
    p, xml = convert(tmp_path, log_path=log)
    assert xml is not None, p.stderr
    got = cases(xml)
    want = list(leaves(report.results, ["bareio"]))
    for classname, r in want:
        case = got.get((classname, r.name))
        assert case is not None, (classname, r.name, sorted(got))
        expect = r.status
        if expect == "fail" and any(d.startswith("CRASH: ") for d in r.diagnostics):
            expect = "error"
        assert outcome(case) == expect, (r.path, outcome(case), expect)
    extra = {k: v for k, v in got.items() if k[0] not in ("bareio.report", "bareio.unclosed")}
    assert len(extra) == len(want), sorted(extra)
    # Results no parent closed are kept too (a failure among them is never lost).
    unclosed = {k: v for k, v in got.items() if k[0] == "bareio.unclosed"}
    assert len(unclosed) == len(report.unclosed), sorted(unclosed)
    # A log the reader finds fault with is never green: a failed report test.
    report_case = got.get(("bareio.report", "ktap-report"))
    if report.problems or not report.results:
        assert report_case is not None and outcome(report_case) == "fail", p.stdout
    assert (p.returncode == 0) == report.ok, (p.returncode, report.problems)
    # The totals a CI reads are the cases' own.
    assert xml.tests == len(got)
    assert xml.failures == sum(outcome(c) == "fail" for c in got.values())
    assert xml.errors == sum(outcome(c) == "error" for c in got.values())
    assert xml.skipped == sum(outcome(c) == "skip" for c in got.values())


LOG = """bareio: booting (x86_64)
=== bareio KTAP START ===
KTAP version 1
1..2
# machine: system "Acme Labs" product "Rack9" version "1" serial "SN-123" uuid 00112233-4455-6677-8899-aabbccddeeff
# machine: cpu "Some CPU", memory 508 MiB usable
  KTAP version 1
  # Subtest: dio
  1..2
  # bareio-case: pass dio.dio_sizes
  ok 1 dio_sizes
  # nvme0n1: lba 2048: read back 0x00 where 0x5a was written
  # cause: misdirected write; remedy: check the PRP list
  # bareio-case: fail dio.dio_verify
  not ok 2 dio_verify
not ok 1 dio
  KTAP version 1
  # Subtest: bench
  1..1
    KTAP version 1
    # Subtest: bench_jobs
    1..2
    # bareio-case: pass bench.bench_jobs.qd1-nvme0n1
    ok 1 qd1-nvme0n1
    # bareio-case: skip bench.bench_jobs.qd1-none
    ok 2 qd1-none # SKIP no device matches dev=vblk*
  ok 1 bench_jobs
ok 2 bench
# bareio: 2 passed, 1 failed, 1 skipped
=== bareio KTAP END ===
bareio-result: fail passed=2 failed=1 skipped=1
"""


def test_diagnostics_reasons_machine_and_verdict(tmp_path):
    p, xml = convert(tmp_path, LOG)
    assert p.returncode == 1, p.stderr
    got = cases(xml)
    fail = got[("bareio.dio", "dio_verify")]
    [failure] = [r for r in fail.result if isinstance(r, junitparser.Failure)]
    assert failure.message == "nvme0n1: lba 2048: read back 0x00 where 0x5a was written"
    assert "cause: misdirected write; remedy: check the PRP list" in failure.text
    skip = got[("bareio.bench.bench_jobs", "qd1-none")]
    [skipped] = skip.result
    assert skipped.message == "no device matches dev=vblk*"
    assert outcome(got[("bareio.bench.bench_jobs", "qd1-nvme0n1")]) == "pass"
    for suite in xml:
        props = {pr.name: pr.value for pr in suite.properties()}
        assert props["machine.0.system"].startswith('system "Acme Labs" product "Rack9"'), props
        assert props["machine.1.cpu"] == 'cpu "Some CPU", memory 508 MiB usable'
        assert props["bareio-result"] == "fail passed=2 failed=1 skipped=1"
    assert (xml.tests, xml.failures, xml.errors, xml.skipped) == (4, 1, 0, 1)


def test_a_verdict_that_disagrees_is_a_failed_report(tmp_path):
    lying = LOG.replace("bareio-result: fail passed=2", "bareio-result: pass passed=2")
    p, xml = convert(tmp_path, lying)
    assert p.returncode == 1
    report = cases(xml)[("bareio.report", "ktap-report")]
    assert outcome(report) == "fail"
    assert "the verdict says pass, the report has failures" in report.result[0].text
    wrong = LOG.replace("skipped=1\n", "skipped=7\n", 1).replace("# bareio: 2 passed, 1 failed, 7",
                                                                   "# bareio: 2 passed, 1 failed, 1")
    p, xml = convert(tmp_path, wrong)
    assert "totals (2, 1, 7) are not the report's (2, 1, 1)" in \
        cases(xml)[("bareio.report", "ktap-report")].result[0].text


def test_a_cut_off_log_is_not_green(tmp_path):
    cut = LOG.split("  KTAP version 1\n  # Subtest: bench")[0]
    p, xml = convert(tmp_path, cut)
    assert p.returncode == 1
    report = cases(xml)[("bareio.report", "ktap-report")]
    assert outcome(report) == "fail" and "cut off" in report.result[0].message


def test_control_characters_still_make_valid_xml(tmp_path):
    dirty = LOG.replace("read back 0x00", "read back \x1b[31m\x00\x07")
    p, xml = convert(tmp_path, dirty)
    assert xml is not None, p.stderr
    assert xml.failures >= 1


def test_usage_errors(tmp_path):
    p = subprocess.run([TOOL, str(tmp_path / "missing.log")], capture_output=True, text=True)
    assert p.returncode == 2 and "cannot read" in p.stderr
    (tmp_path / "s.log").write_text(LOG)
    p = subprocess.run([TOOL, str(tmp_path / "s.log"), "--name", "a b"], capture_output=True,
                       text=True)
    assert p.returncode == 2 and "--name" in p.stderr
    p = subprocess.run([TOOL, str(tmp_path / "s.log"), "-o", str(tmp_path / "no" / "x.xml")],
                       capture_output=True, text=True)
    assert p.returncode == 2 and "cannot write" in p.stderr


@pytest.mark.parametrize("change", [
    ("bareio-case: pass dio.dio_sizes", "bareio-case: fail dio.dio_sizes"),
    ("bareio-case: pass dio.dio_sizes", "bareio-case: pass dio.dio_size"),
    ("  # bareio-case: pass dio.dio_sizes\n", "  # bareio-case: pass dio.dio_sizes\n"
                                             "  # bareio-case: pass dio.dio_sizes\n"),
])
def test_a_case_line_that_disagrees_with_its_result_is_a_problem(tmp_path, change):
    report = bareio_ktap.parse_log(LOG.replace(*change))
    assert any("bareio-case line says" in p for p in report.problems), report.problems
    # As printed, the lines agree and are kept apart from what the case said.
    clean = bareio_ktap.parse_log(LOG)
    assert not clean.problems, clean.problems
    assert clean.find("dio.dio_sizes").case_line == "bareio-case: pass dio.dio_sizes"
    assert clean.find("dio.dio_verify").diagnostics == [
        "nvme0n1: lba 2048: read back 0x00 where 0x5a was written",
        "cause: misdirected write; remedy: check the PRP list"]
