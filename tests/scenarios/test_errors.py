"""tests/scenarios/test_errors.py — the kernel says clearly what went wrong:
a bad command line, and a crash inside a test case."""
import re

import pytest

from conftest import CRASH, USAGE


def test_bad_cmdline_names_the_key(boot, kernel):
    """(f) an unknown key: a message naming it, QEMU status 39, run-qemu exit 3."""
    b = boot("--kernel", kernel, "--append", "tests=lib frobnicate=7")
    assert b.status == USAGE, b.describe()
    assert "frobnicate" in b.log.split("cmdline \"", 1)[-1].split("\n", 1)[-1], b.describe()
    assert "bad kernel command line" in b.stderr
    assert "=== bareio KTAP START ===" not in b.log


def test_page_fault_is_decoded(boot, kernel):
    """(g) a deliberate page fault: a decoded exception dump, the case reported
    as failed in a well-formed KTAP report, and the crash exit."""
    b = boot("--kernel", kernel, "--append", "tests=selftest.trigger_page_fault")
    assert b.status == CRASH, b.describe()
    log = b.log
    assert re.search(r"bareio: EXCEPTION .*page fault", log, re.I), b.describe()
    assert re.search(r"CR2 0x0*7ffffffff000", log), b.describe()
    assert re.search(r"RIP 0x[0-9a-f]+", log)
    # The write to an unmapped page has error code 0x2: P=0 (not present), W/R=1 (write), U/S=0.
    assert re.search(r"error code 0x2: .*not.present.*write", log, re.I), b.describe()
    assert "backtrace" in log
    assert "trigger_page_fault" in log.split("backtrace", 1)[1], "backtrace names the faulting function"
    r = b.report
    assert r.found_end and r.problems == [], b.describe()
    assert [f.path for f in r.failures] == ["selftest.trigger_page_fault"]
    assert r.crash_lines


def test_panic_is_reported_with_backtrace(boot, kernel):
    """A deliberate panic: the message, a backtrace, the case failed as a crash."""
    b = boot("--kernel", kernel, "--append", "tests=selftest.trigger_panic")
    assert b.status == CRASH, b.describe()
    assert "bareio: PANIC: deliberate panic from the selftest suite in test selftest.trigger_panic" in b.log
    assert b.report.found_end and b.report.problems == [], b.describe()
    assert [f.path for f in b.report.failures] == ["selftest.trigger_panic"]
    assert re.search(r"backtrace:\n(\s+#\d+ 0x[0-9a-f]+ \w+\+0x[0-9a-f]+\n)+", b.log), b.describe()


def test_panic_backtrace_names_the_panicking_function(boot, kernel):
    b = boot("--kernel", kernel, "--append", "tests=selftest.trigger_panic")
    frames = re.findall(r"#\d+ 0x[0-9a-f]+ (\w+)\+", b.log.split("backtrace:", 1)[-1])
    assert "trigger_panic" in frames, b.describe()
