"""tests/scenarios/test_ktap_readers.py — bareio's KTAP report as tools that
nobody here wrote read it, and the kernel's totals line counting what they
count.

Each scenario boots one narrow run (a clean one, one with a suite skipped as a
whole, one with failures, one that crashes) and checks its report with
tools/bareio_ktap.py and the kernel's own `# bareio: P passed, F failed, S
skipped`.
"""
from conftest import CRASH, FAIL, PASS, assert_clean_pass


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


def test_suite_skipped_as_a_whole_is_one_skip_in_the_totals(boot, kernel):
    """No NVMe namespace: 'ok 2 nvme # SKIP ...' is one result line, one skip
    for every KTAP reader. The totals line counted the suite's 24 cases."""
    b = boot("--kernel", kernel, "--disks", "none", "--append", "tests=lib,nvme")
    assert_clean_pass(b, expect=["lib", "nvme"])
    r = b.report
    nvme = r.find("nvme")
    assert nvme.skipped and not nvme.children, b.describe()
    assert r.skipped == 1 and r.passed == len(r.find("lib").children), b.describe()
    assert r.kernel_summary == (r.passed, 0, 1), b.describe()
