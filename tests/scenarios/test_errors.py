# SPDX-License-Identifier: MIT
"""tests/scenarios/test_errors.py — the kernel says clearly what went wrong:
a bad command line, a crash inside a test case, a case that hangs or leaks;
and a failing case says it once: what it took is freed, so no second,
misleading "leak" failure follows it (on read-only, zoned and tiny disks too)."""
import re

import pytest

from conftest import CRASH, FAIL, OTHER, PASS, TIMEOUT, USAGE


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


def test_hung_case_times_out_and_leak_is_reported(boot, kernel):
    """Two cases spinning past their 300 ms timeouts, one after the other, are
    each abandoned and failed (the timer is armed for every case, not once), a
    case that keeps DMA memory is failed for the leak, and the run goes on (lib
    still runs and passes): a failing exit, not a crash."""
    b = boot("--kernel", kernel, "--append",
             "tests=selftest.case_timeout_is_enforced,selftest.case_timeout_is_enforced_again,"
             "selftest.dma_leak_is_detected,lib")
    assert b.status == FAIL, b.describe()
    r = b.report
    assert r.found_end and r.problems == [] and not r.crash_lines, b.describe()
    hung = ["selftest.case_timeout_is_enforced", "selftest.case_timeout_is_enforced_again"]
    assert sorted(f.path for f in r.failures) == hung + ["selftest.dma_leak_is_detected"], b.describe()
    for name in hung:
        timeout = r.find(name)
        assert sum("timed out after 300 ms" in d for d in timeout.diagnostics) == 1, b.describe()
        assert not any("did not fire" in d for d in timeout.diagnostics), b.describe()
        assert not any("leaked" in d for d in timeout.diagnostics), b.describe()
    assert b.log.count("timed out after 300 ms: the case was abandoned") == 2, b.describe()
    # The abandoned case's buffer stays allocated (a device may still write
    # it), said once, and is no leak.
    timeout = r.find("selftest.case_timeout_is_enforced")
    assert any("the abandoned case's 1 DMA buffer (4096 bytes, the first from "
               "case_timeout_is_enforced+0x" in d and "stays allocated" in d
               for d in timeout.diagnostics), b.describe()
    leak = r.find("selftest.dma_leak_is_detected")
    # The leak names whose memory it is; the hung cases' kept buffers (one
    # each) are the ones outstanding before it.
    assert any(re.search(r"DMA memory leaked: 2 allocations outstanding before the case, 3 after: "
                         r"made during the case and still held: 4096 bytes at 0x[0-9a-f]+ from "
                         r"dma_leak_is_detected\+0x[0-9a-f]+$", d)
               for d in leak.diagnostics), b.describe()
    assert "lib" in r.suites() and r.passed >= 10, b.describe()


def test_a_case_returning_early_has_its_buffers_freed(boot, kernel):
    """KT_ASSERT returns from a case holding two DMA buffers: the harness frees
    them, the assertion is the case's only failure, and the memory suite's own
    check that case buffers are freed passes."""
    b = boot("--kernel", kernel, "--append",
             "tests=selftest.case_buffers_freed_after_an_early_return,memory")
    assert b.status == FAIL, b.describe()
    r = b.report
    assert r.found_end and r.problems == [] and not r.crash_lines, b.describe()
    assert [f.path for f in r.failures] == ["selftest.case_buffers_freed_after_an_early_return"]
    diags = r.failures[0].diagnostics
    assert len(diags) == 1 and "expected: !a.virt && !b.virt" in diags[0], b.describe()
    for case in ("case_dma_buffers_are_freed_by_the_harness", "dma_allocations_name_their_owner"):
        assert r.find(f"memory.{case}").status == "pass", b.describe()


MiB = 1024 * 1024
ALLOW = "allow_write=bareio-*"


def _image(tmp_path, name, size):
    path = str(tmp_path / f"{name}.img")
    with open(path, "wb") as f:
        f.truncate(size)
    return path


def _read_only_nvme(tmp_path):
    return ["-drive", f"if=none,id=ro,format=raw,readonly=on,file={_image(tmp_path, 'ro', 64 * MiB)}",
            "-device", "nvme,serial=bareio-ro,drive=ro"]


def _zoned_nvme(tmp_path):
    return ["-drive", f"if=none,id=zn,format=raw,file={_image(tmp_path, 'zn', 256 * MiB)}",
            "-device", "nvme-subsys,id=subsys0", "-device", "nvme,serial=bareio-zn,subsys=subsys0",
            "-device", "nvme-ns,drive=zn,zoned=true"]


def _tiny_disks(tmp_path):
    return ["-drive", f"if=none,id=tn,format=raw,file={_image(tmp_path, 'tn', 8 * 1024)}",
            "-device", "nvme,serial=bareio-tn,drive=tn",
            "-drive", f"if=none,id=tm,format=raw,file={_image(tmp_path, 'tm', 1 * MiB)}",
            "-device", "nvme,serial=bareio-tm,drive=tm",
            "-drive", f"if=none,id=ta,format=raw,file={_image(tmp_path, 'ta', 8 * 1024)}",
            "-device", "ide-hd,drive=ta,bus=ide.0,serial=bareio-ta"]


LAYOUTS = {"read-only NVMe drive": ("nvme,dio", _read_only_nvme),
           "zoned namespace": ("nvme,dio", _zoned_nvme),
           "tiny disks": ("nvme,ahci,dio", _tiny_disks)}


@pytest.mark.parametrize("layout", sorted(LAYOUTS))
def test_failing_cases_leak_no_dma_memory(boot, kernel, tmp_path, layout):
    """Layouts where cases fail (writes refused by a read-only drive or a zoned
    namespace, disks smaller than a case's offsets): whatever fails, no case
    also fails for DMA memory it left behind."""
    suites, disks = LAYOUTS[layout]
    b = boot("--kernel", kernel, "--disks", "none", "--append", f"tests={suites} {ALLOW}", "--",
             *disks(tmp_path), timeout=400)
    r = b.report
    assert r.found_end and not r.crash_lines, b.describe()
    assert r.passed > 0, b.describe()
    leaks = [f"{f.path}: {d}" for f in r.failures for d in f.diagnostics if "DMA memory leaked" in d]
    assert leaks == [], "\n".join(leaks)


def test_unknown_test_name_is_an_error(boot, kernel):
    """tests= naming nothing is a usage error, not an empty passing run."""
    b = boot("--kernel", kernel, "--append", "tests=no_such_suite")
    assert b.status == USAGE, b.describe()
    assert "tests=no_such_suite selects no test" in b.log, b.describe()


def test_exit_halt_stops_without_exiting_qemu(boot, kernel):
    """exit=halt: the result is printed and the CPU halts; QEMU keeps running
    (run-qemu ends it at its timeout)."""
    b = boot("--kernel", kernel, "--append", "tests=lib exit=halt", timeout=20)
    assert b.status == TIMEOUT, b.describe()
    assert "bareio: halted (exit status 0x10)" in b.log, b.describe()
    assert b.report.found_end and b.report.failed == 0, b.describe()


def test_exit_reboot_uses_the_acpi_reset_register(boot, kernel):
    """exit=reboot resets through the FADT's reset register (q35: I/O 0xcf9);
    with -no-reboot QEMU then exits with status 0."""
    b = boot("--kernel", kernel, "--append", "tests=lib exit=reboot")
    assert b.status == OTHER, b.describe()
    assert "bareio: rebooting through the ACPI reset register (I/O 0xcf9 <- 0xf)" in b.log, b.describe()
    assert b.report.found_end and b.report.failed == 0, b.describe()


def test_console_on_a_port_without_uart_is_refused(boot, kernel):
    """console=ttyS2 where no UART answers: a usage error naming the port,
    and the console stays on COM1 to say so."""
    b = boot("--kernel", kernel, "--append", "tests=lib console=ttyS2")
    assert b.status == USAGE, b.describe()
    assert "cmdline: console=ttyS2: no UART answers at I/O port 0x3e8" in b.log, b.describe()


def test_console_moves_to_com2(boot, kernel, tmp_path):
    """console=ttyS1: COM1 says where the console went; the report is on COM2."""
    com2 = tmp_path / "com2.log"
    b = boot("--kernel", kernel, "--append", "tests=lib console=ttyS1", "--", "-serial", f"file:{com2}")
    assert b.status == PASS, b.describe()
    assert "bareio: console moves to I/O port 0x2f8 (console=ttyS1)" in b.log, b.describe()
    assert "=== bareio KTAP START ===" not in b.log, b.describe()
    moved = com2.read_text(errors="replace")
    assert "=== bareio KTAP END ===" in moved and "# bareio: 11 passed, 0 failed, 0 skipped" in moved, moved[-2000:]
