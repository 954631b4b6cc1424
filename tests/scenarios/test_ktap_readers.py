# SPDX-License-Identifier: MIT
"""tests/scenarios/test_ktap_readers.py — bareio's KTAP report as tools that
nobody here wrote read it, and the kernel's totals line counting what they
count.

Each scenario boots one narrow run (every suite on the default disks, a suite
skipped as a whole, failures, a crash) and reads its serial log three ways:
tools/bareio_ktap.py; Linux's kunit_tool (`kunit.py parse`, from Debian's
linux-source-6.1 tarball, extracted into $BAREIO_BUILD/kunit/ with its folder
layout: kunit.py changes to the tree's root), which must find no error, the
same status for every case and the counts of the kernel's `# bareio: P
passed, F failed, S skipped`; and Perl's TAP::Parser and `prove` (Debian's
perl), which read the top level as TAP: one test per suite, and must find
no parse error.
"""
import fcntl
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

import pytest

from conftest import BUILD, CRASH, FAIL, assert_clean_pass

TOOLS_DIR = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))), "tools")
KUNIT_TARBALL = "/usr/src/linux-source-6.1.tar.xz"
KUNIT_DIR = "linux-source-6.1/tools/testing/kunit"


@pytest.fixture(scope="session")
def kunit_py():
    """The path of kunit.py, extracted once (pytest-xdist workers take turns)."""
    dest = os.path.join(BUILD, "kunit")
    script = os.path.join(dest, KUNIT_DIR, "kunit.py")
    os.makedirs(dest, exist_ok=True)
    with open(os.path.join(dest, ".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not os.path.isfile(script):
            if not os.path.isfile(KUNIT_TARBALL):
                pytest.fail(f"{KUNIT_TARBALL} is missing: tools/install-deps installs linux-source-6.1")
            tmp = tempfile.mkdtemp(dir=dest)
            subprocess.run(["tar", "-xJf", KUNIT_TARBALL, "-C", tmp, KUNIT_DIR], check=True, timeout=600)
            shutil.rmtree(os.path.join(dest, "linux-source-6.1"), ignore_errors=True)
            os.rename(os.path.join(tmp, "linux-source-6.1"), os.path.join(dest, "linux-source-6.1"))
            os.rmdir(tmp)
    return script


def leaves(report):
    """{path: status} of every case (results without children), in log order."""
    out = {}
    stack = list(reversed(report.results))
    while stack:
        r = stack.pop()
        if not r.children:
            out[r.path] = r.status
        stack.extend(reversed(r.children))
    return out


# ---- kunit_tool -------------------------------------------------------------

KUNIT_STATUS = {"PASS": "pass", "SKIP": "skip", "FAIL": "fail", "ERROR": "crashed"}


def kunit_leaves(group, prefix=""):
    """{path: status} from kunit.py's JSON (KernelCI's test groups)."""
    out = {prefix + c["name"]: KUNIT_STATUS.get(c["status"], c["status"]) for c in group["test_cases"]}
    for g in group["sub_groups"]:
        out.update(kunit_leaves(g, prefix + g["name"] + "."))
    return out


def kunit_parse(kunit_py, b, tmp_path):
    """kunit.py parse on the boot's serial log: (exit status, output, counts,
    {path: status}). `counts` is its 'Testing complete. Ran N tests: ...'
    line as a dict; it leaves out the counts that are 0."""
    out_json = str(tmp_path / "kunit.json")
    p = subprocess.run([sys.executable, kunit_py, "parse", "--json=" + out_json, os.path.abspath(b.log_path)],
                       capture_output=True, text=True, timeout=120)
    text = p.stdout + p.stderr
    m = re.search(r"Testing complete\. Ran (\d+) tests: ?(.*)$", text, re.M)
    assert m, f"kunit.py printed no summary (exit {p.returncode}):\n{text}"
    counts = {k: int(v) for k, v in re.findall(r"(\w+): (\d+)", m.group(2))}
    assert sum(v for k, v in counts.items() if k != "errors") == int(m.group(1)), text
    with open(out_json) as f:
        statuses = kunit_leaves(json.load(f))
    return p.returncode, text, counts, statuses


def check_kunit_tool(kunit_py, b, tmp_path):
    r = b.report
    rc, text, counts, statuses = kunit_parse(kunit_py, b, tmp_path)
    where = f"kunit.py parse:\n{text}\n{b.describe()}"
    assert "[ERROR]" not in text and "errors" not in counts, where
    want = {k: v for k, v in zip(("passed", "failed", "skipped"), r.kernel_summary) if v}
    assert counts == want, where
    assert statuses == leaves(r), where
    assert rc == (1 if r.failed else 0), where


# ---- TAP::Parser and prove --------------------------------------------------

TAP_COUNTS = r"""
use TAP::Parser;
my $p = TAP::Parser->new({ exec => ['cat', $ARGV[0]] });
while (defined(my $result = $p->next)) {}
printf "plan %s run %d failed %d skipped %d parse_errors %d\n", $p->plan, $p->tests_run,
       scalar($p->failed), scalar($p->skipped), scalar($p->parse_errors);
print "$_\n" for $p->parse_errors;
"""


def check_tap_readers(b):
    """The top level is TAP: a plan and one result per suite (the nested
    documents are indented, so TAP readers pass over them as unknown lines)."""
    if not shutil.which("prove") or not shutil.which("perl"):
        pytest.skip("prove is not installed (Debian's perl; tools/install-deps installs it)")
    suites = b.report.results
    p = subprocess.run(["perl", "-e", TAP_COUNTS, b.log_path], capture_output=True, text=True, timeout=60)
    want = "plan 1..%d run %d failed %d skipped %d parse_errors 0" % (
        len(suites), len(suites), sum(s.status == "fail" for s in suites), sum(s.skipped for s in suites))
    assert p.returncode == 0 and p.stdout.splitlines()[0] == want, f"{p.stdout}{p.stderr}\n{b.describe()}"
    p = subprocess.run(["prove", "--exec", "cat", b.log_path], capture_output=True, text=True, timeout=60)
    passed = not any(s.status == "fail" for s in suites)
    assert (p.returncode == 0) == passed and ("Result: PASS" if passed else "Result: FAIL") in p.stdout, \
        f"prove:\n{p.stdout}{p.stderr}"


# ---- one line per leaf, the verdict line, and JUnit ---------------------------

CASE_LINE = re.compile(r"^\s*# bareio-case: (pass|fail|skip) (\S+)$")


def check_case_lines(b):
    """Every leaf result has exactly one `# bareio-case:` line, with its full
    path and its status, the pattern LAVA and CI use; the verdict line agrees
    with the report."""
    r = b.report
    seen = [m.groups() for m in map(CASE_LINE.match, b.log.splitlines()) if m]
    want = sorted((status, path) for path, status in leaves(r).items())
    assert sorted(seen) == want, (sorted(seen), want)
    assert r.verdict is not None, "no bareio-result line after the report\n" + b.describe()
    word = "crash" if r.crash_lines else "fail" if r.failed else "pass"
    assert r.verdict == (word, r.passed, r.failed, r.skipped), (r.verdict, b.describe())


def check_junit(b, tmp_path):
    """tools/ktap2junit's XML, read by Debian's junitparser: one testcase per
    leaf, with the same outcome."""
    import junitparser
    out = tmp_path / "junit.xml"
    p = subprocess.run([os.path.join(TOOLS_DIR, "ktap2junit"), b.log_path, "-o", str(out)],
                       capture_output=True, text=True, timeout=60)
    assert p.returncode == (0 if b.report.ok else 1), p.stderr
    xml = junitparser.JUnitXml.fromfile(str(out))
    got = {}
    for suite in xml:
        for c in suite:
            kinds = {type(x).__name__ for x in c.result}
            got[c.classname[len("bareio."):] + "." + c.name if c.classname != "bareio" else c.name] = (
                "fail" if kinds & {"Failure", "Error"} else "skip" if "Skipped" in kinds else "pass")
    assert got == leaves(b.report), (got, leaves(b.report))


def check_readers(b, kunit_py, tmp_path):
    r = b.report
    assert r.problems == [] and r.found_end, b.describe()
    assert r.kernel_summary == (r.passed, r.failed, r.skipped), b.describe()
    check_kunit_tool(kunit_py, b, tmp_path)
    check_tap_readers(b)
    check_case_lines(b)
    check_junit(b, tmp_path)


# ---- the runs ---------------------------------------------------------------

def test_clean_run_of_every_suite_reads_the_same_everywhere(boot, kernel, kunit_py, tmp_path):
    """The whole default run: kunit_tool found 31 errors and 10 'crashed'
    suites in it while the '# Subtest:' header came before the nested version
    line."""
    b = boot("--kernel", kernel, "--disks", "default", timeout=300)
    assert_clean_pass(b)
    assert len(b.report.results) >= 10 and b.report.passed >= 100, b.describe()
    check_readers(b, kunit_py, tmp_path)


def test_suite_skipped_as_a_whole_is_one_skip_in_the_totals(boot, kernel, kunit_py, tmp_path):
    """No NVMe namespace: 'ok 2 nvme # SKIP ...' is one result line, one skip
    for every KTAP reader. The totals line counted the suite's 24 cases."""
    b = boot("--kernel", kernel, "--disks", "none", "--append", "tests=lib,nvme")
    assert_clean_pass(b, expect=["lib", "nvme"])
    r = b.report
    nvme = r.find("nvme")
    assert nvme.skipped and not nvme.children, b.describe()
    assert r.skipped == 1 and r.passed == len(r.find("lib").children), b.describe()
    assert r.kernel_summary == (r.passed, 0, 1), b.describe()
    check_readers(b, kunit_py, tmp_path)


def test_run_with_failures_reads_the_same_everywhere(boot, kernel, kunit_py, tmp_path):
    """A case past its timeout and a case that leaks DMA memory fail; lib passes."""
    b = boot("--kernel", kernel, "--disks", "none", "--append",
             "tests=selftest.case_timeout_is_enforced,selftest.dma_leak_is_detected,lib")
    assert b.status == FAIL, b.describe()
    assert [f.path for f in b.report.failures] == ["selftest.case_timeout_is_enforced",
                                                   "selftest.dma_leak_is_detected"], b.describe()
    check_readers(b, kunit_py, tmp_path)


def test_crashed_run_reads_the_same_everywhere(boot, kernel, kunit_py, tmp_path):
    """A page fault in a case: that case fails, the next one in its suite is
    reported skipped (not run), the document is closed and the totals agree."""
    b = boot("--kernel", kernel, "--disks", "none", "--append",
             "tests=lib,selftest.trigger_page_fault,selftest.trigger_panic")
    assert b.status == CRASH, b.describe()
    r = b.report
    assert r.crash_lines and [f.path for f in r.failures] == ["selftest.trigger_page_fault"], b.describe()
    assert r.find("selftest.trigger_panic").skipped, b.describe()
    check_readers(b, kunit_py, tmp_path)


def test_kunit_tool_runs_on_this_python(kunit_py):
    """kunit.py asserts Python 3.7 or later; /usr/bin/python3 (Debian 12: 3.11) runs it."""
    p = subprocess.run([sys.executable, kunit_py, "parse", "--help"], capture_output=True, text=True, timeout=60)
    assert p.returncode == 0 and "input_file" in p.stdout, p.stdout + p.stderr


def test_parameterised_case_reads_the_same_everywhere(boot, kernel, kunit_py, tmp_path):
    """A case run once per parameter (as KUnit's are): each parameter is a
    leaf of its own, nested under the case's line, with its own timeout and
    leak check; the run goes on after the hung one and the case fails."""
    b = boot("--kernel", kernel, "--disks", "none", "--append", "tests=selftest.parameters_reported_each,lib")
    assert b.status == FAIL, b.describe()
    r = b.report
    case = "selftest.parameters_reported_each"
    assert [f.path for f in r.failures] == [case + ".fails", case + ".leaks", case + ".hangs"], b.describe()
    node = r.find(case)
    assert node.status == "fail" and [c.name for c in node.children] == [
        "passes", "skips", "fails", "leaks", "hangs", "passes_after_a_hang"], b.describe()
    assert [c.status for c in node.children] == ["pass", "skip", "fail", "fail", "fail", "pass"], b.describe()
    assert "DMA memory leaked" in " ".join(r.find(case + ".leaks").diagnostics), b.describe()
    assert "timed out after 300 ms" in " ".join(r.find(case + ".hangs").diagnostics), b.describe()
    assert r.kernel_summary == (len(r.find("lib").children) + 2, 3, 1), b.describe()
    check_readers(b, kunit_py, tmp_path)


def test_crash_in_a_parameter_reads_the_same_everywhere(boot, kernel, kunit_py, tmp_path):
    """A page fault in the second of three parameters: it fails, the third is
    reported not run, the nested document and the run are closed."""
    b = boot("--kernel", kernel, "--disks", "none", "--append", "tests=lib,selftest.parameter_crashes")
    assert b.status == CRASH, b.describe()
    r = b.report
    assert [f.path for f in r.failures] == ["selftest.parameter_crashes.faults"], b.describe()
    assert r.find("selftest.parameter_crashes.passes").status == "pass", b.describe()
    assert "not run" in r.find("selftest.parameter_crashes.not_run").directive, b.describe()
    assert "in test selftest.parameter_crashes.faults" in b.log, b.describe()
    check_readers(b, kunit_py, tmp_path)
