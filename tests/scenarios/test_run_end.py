# SPDX-License-Identifier: MIT
"""tests/scenarios/test_run_end.py — runs that always end (issue 14).

exit=poweroff switches QEMU off through ACPI S5 (\\_S5 read from the DSDT,
PM1a_CNT from the FADT) on q35 and the i440FX pc machine under SeaBIOS and
on q35 under OVMF; QEMU then exits with 0, and tools/run-qemu takes the
result from the kernel's "powering off (exit status ...)" line, so a failed
run that powers off still reads as failed.

watchdog=SECONDS bounds the whole run: a case that spins with interrupts on
is reported as timed out, what was not run as skipped, the KTAP document is
closed and the run ends as exit= says. A case that spins with interrupts off
is beyond any software bound: the ICH9 TCO timer q35 emulates resets the
machine (QEMU's ICH9-LPC strap `noreboot` defaults to true in 7.2, which no
software can see or clear, so these boots set it false as a real board's
strap would be). A run that ends normally stops the TCO first: halted with
its results up, the machine is not reset behind the reader's back."""
import re

from conftest import FAIL, OTHER, PASS, TIMEOUT, check_ktap

TCO_RESETS = ["-global", "ICH9-LPC.noreboot=false"]


def assert_whole_report(b):
    """A failed run's report is still well-formed: closed, no problems for a
    reader, and the kernel's totals are what a reader counts."""
    r = b.report
    assert r.found_start and r.found_end and not r.problems, (r.problems, b.describe())
    assert r.kernel_summary == (r.passed, r.failed, r.skipped), (r.kernel_summary, b.describe())


def test_poweroff_q35_seabios(boot, kernel):
    b = boot("--kernel", kernel, "--append", "tests=lib exit=poweroff", "--disks", "none")
    assert b.status == PASS, b.describe()
    assert "power: ACPI S5 SLP_TYP 0/0 through PM1a_CNT" in b.log, b.describe()
    assert "bareio: powering off (exit status 0x10)" in b.log
    assert re.search(r"powering off through ACPI S5 \(PM1a_CNT I/O 0x[0-9a-f]+ <- SLP_TYP 0\)",
                     b.log), b.describe()
    assert "halted instead of powering off" not in b.log
    assert "powered off through ACPI S5" in b.stderr, b.stderr
    check_ktap(b)


def test_poweroff_i440fx_and_a_failed_run_stays_failed(boot, kernel):
    """PIIX4 PM on -M pc; an injected failure (the selftest parameter that
    fails) must come back as FAIL, not as QEMU's status 0."""
    b = boot("--kernel", kernel, "--append",
             "tests=selftest.parameters_reported_each exit=poweroff", "--disks", "none",
             "--", "-M", "pc")
    assert b.status == FAIL, b.describe()
    assert "bareio: powering off (exit status 0x11)" in b.log, b.describe()
    assert "powered off through ACPI S5" in b.stderr


def test_poweroff_under_ovmf(boot, make_iso):
    b = boot("--iso", make_iso("tests=lib exit=poweroff"), "--firmware", "uefi", "--disks", "none",
             timeout=300)
    assert b.status == PASS, b.describe()
    assert "power: ACPI S5" in b.log and "powering off through ACPI S5" in b.log, b.describe()


def test_watchdog_ends_a_hung_case_and_closes_the_report(boot, kernel):
    """selftest (order 90) runs after time (order 30) and before nothing
    else selected here but lib (order 10): lib and time pass, the hung case
    times out at the run's bound, and the report is whole."""
    b = boot("--kernel", kernel, "--append",
             "tests=lib,time,selftest.hang_with_interrupts_on watchdog=25 exit=poweroff",
             "--disks", "none", timeout=240)
    assert b.status == FAIL, b.describe()
    assert "watchdog: the run is bounded to 25 s (watchdog=)" in b.log
    hung = b.report.find("selftest.hang_with_interrupts_on")
    assert hung is not None and not hung.ok, b.describe()
    assert any("watchdog=25 s, the bound on the whole run, expired" in d for d in hung.diagnostics), \
        hung.diagnostics
    assert b.report.find("lib").ok and b.report.find("time").ok
    assert "bareio: WATCHDOG: watchdog=25 s expired in selftest.hang_with_interrupts_on" in b.log
    assert b.report.found_end, b.describe()
    # The TCO was armed for the run and stopped before the power-off.
    assert re.search(r"watchdog: Intel TCO .* armed", b.log), b.describe()
    assert re.search(r"watchdog: Intel TCO .* stopped", b.log)
    # Ended by the bound, not by the case's own ten-minute spin.
    assert b.seconds < 200, b.seconds
    assert_whole_report(b)


def test_watchdog_cases_after_the_bound_are_reported_not_run(boot, kernel):
    """The bound passes while a case hangs; the selected cases after it are
    reported as skipped with the reason, so the plan still holds."""
    b = boot("--kernel", kernel, "--append",
             "tests=selftest.hang_with_interrupts_on,selftest.dma_leak_is_detected watchdog=15",
             "--disks", "none", "--", "-M", "pc", timeout=240)
    assert b.status == FAIL, b.describe()
    leak = b.report.find("selftest.dma_leak_is_detected")
    assert leak is not None and leak.skipped, b.describe()
    assert "watchdog=15 s expired" in leak.directive, leak.directive
    # No ICH9 on the i440FX machine: said, and the bound still holds.
    assert "watchdog: no hardware watchdog" in b.log, b.describe()
    assert "no hardware watchdog armed: a hang with interrupts off is not caught" in b.log
    assert_whole_report(b)


def test_tco_resets_a_machine_hung_with_interrupts_off(boot, kernel):
    """Interrupts off: neither the case timeout nor watchdog= can act; the
    TCO's second timeout (2 x 18 s after the last kick) resets the machine,
    which with run-qemu's -no-reboot ends QEMU."""
    b = boot("--kernel", kernel, "--append",
             "tests=selftest.hang_with_interrupts_off watchdog=500", "--disks", "none",
             "--", *TCO_RESETS, timeout=240)
    assert b.status == OTHER, b.describe()
    assert "reset without writing the exit port" in b.stderr, b.stderr
    assert re.search(r"watchdog: Intel TCO .* armed: the machine resets 36 s after", b.log)
    assert "# Subtest: selftest" in b.log and not b.report.found_end, b.describe()
    # The reset came from the watchdog, in about 36 s, not from the case's 600 s spin.
    assert b.seconds < 150, b.seconds


def test_tco_stopped_when_the_run_ends_halted(boot, kernel):
    """exit=halt with the TCO armed: the run ends, the TCO is stopped, and
    the halted machine is still there well past the 36 s the TCO would take
    (QEMU is killed at run-qemu's timeout, not reset)."""
    b = boot("--kernel", kernel, "--append", "tests=lib watchdog=300 exit=halt", "--disks", "none",
             "--", *TCO_RESETS, timeout=75)
    assert b.status == TIMEOUT, b.describe()
    assert re.search(r"watchdog: Intel TCO .* stopped", b.log), b.describe()
    assert b.log.count("bareio: booting") == 1, b.describe()
    assert "bareio: halted (exit status 0x10)" in b.log
