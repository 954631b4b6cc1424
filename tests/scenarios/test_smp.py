# SPDX-License-Identifier: MIT
"""tests/scenarios/test_smp.py — the application processors (kernel/smp.c):
every CPU QEMU gives (-smp N) comes online, runs the work it is given (kernel/smp.h's mailbox),
sleeps in a HLT its own LAPIC timer bounds and keeps a contended spinlock exact, under SeaBIOS on q35
and on the i440FX PC, and under OVMF through the ISO; smp=off and cpus=N
start fewer; a CPU held back with test.smp_skip_sipi= is named by APIC id
and left out; an AP's exception (test.smp_ap_fault=) ends the run as a
crash that names the CPU. QEMU's APIC ids are 0..N-1 here. TCG: an -smp 8
guest is heavy, so every scenario runs the smp suite only."""
import re

import pytest

from conftest import CRASH, assert_clean_pass

SMP_CASES = ["smp.smp_cpu_set_is_the_madts", "smp.smp_every_online_cpu_reported_in",
             "smp.smp_ap_stacks_and_tables_are_their_own", "smp.smp_ap_lapic_in_bsp_mode",
             "smp.smp_work_runs_on_each_ap", "smp.smp_ap_halt_is_bounded_by_its_own_timer",
             "smp.smp_spinlock_counts_exactly_under_contention"]


def case_status(b, path):
    r = b.report.find(path)
    assert r is not None, f"{path} missing\n{b.describe()}"
    return r.status


def assert_smp_suite_passed(b, cpus_online):
    assert_clean_pass(b, expect=["smp"])
    for case in SMP_CASES:
        want = "pass" if cpus_online > 1 or case in SMP_CASES[:2] else "skip"
        assert case_status(b, case) == want, f"{case}\n{b.describe()}"


@pytest.mark.parametrize("machine", ["q35", "pc"])
@pytest.mark.parametrize("cpus", [1, 2, 4, 8])
def test_every_cpu_comes_online(boot, kernel, machine, cpus):
    b = boot("--kernel", kernel, "--append", "tests=smp", "--machine", machine, "--smp", str(cpus),
             timeout=180)
    assert f"smp: {cpus} of {cpus} CPUs online\n" in b.log, b.describe()
    assert "did not start" not in b.log, b.describe()
    assert_smp_suite_passed(b, cpus)


def test_every_cpu_comes_online_under_ovmf(boot, make_iso):
    b = boot("--iso", make_iso("tests=smp"), "--firmware", "uefi", "--smp", "4", timeout=300)
    assert "smp: 4 of 4 CPUs online\n" in b.log, b.describe()
    assert_smp_suite_passed(b, 4)


def test_smp_off_starts_no_ap(boot, kernel):
    b = boot("--kernel", kernel, "--append", "tests=smp smp=off", "--smp", "4")
    assert "smp: 1 of 4 CPUs online (smp=off)\n" in b.log, b.describe()
    assert_smp_suite_passed(b, 1)


def test_cpus_caps_the_count(boot, kernel):
    b = boot("--kernel", kernel, "--append", "tests=smp cpus=2", "--smp", "4")
    assert "smp: 2 of 4 CPUs online (cpus=2)\n" in b.log, b.describe()
    assert_smp_suite_passed(b, 2)


def test_cpu_without_sipi_is_named_and_left_out(boot, kernel):
    b = boot("--kernel", kernel, "--append", "tests=smp test.smp_skip_sipi=2", "--smp", "4")
    assert ("smp: CPU apic id 2 did not start (no answer 100 ms after the second SIPI; "
            "test.smp_skip_sipi=2 sent it none); left out\n") in b.log, b.describe()
    assert "smp: 3 of 4 CPUs online\n" in b.log, b.describe()
    assert_smp_suite_passed(b, 3)
    assert case_status(b, "smp.smp_held_back_cpu_is_left_out") == "pass", b.describe()


def test_ap_exception_is_a_crash_naming_the_cpu(boot, kernel):
    b = boot("--kernel", kernel, "--append", "tests=smp test.smp_ap_fault=2", "--smp", "4")
    assert b.status == CRASH, b.describe()
    log = b.log
    assert re.search(r"^bareio: EXCEPTION #UD invalid opcode \(vector 6\) at RIP 0x[0-9a-f]+$", log, re.M), \
        b.describe()
    assert "  on cpu 2 (apic id 2), an application processor\n" in log, b.describe()
    # The BSP and CPU 1 are stopped; CPU 3 too when the BSP started it before
    # CPU 2's report began (a matter of host scheduling under TCG).
    m = re.search(r"^bareio: crash on cpu 2: (\d) of (\d) other CPU\(s\) stopped \(NMI\)$", log, re.M)
    assert m and m.group(1) == m.group(2) and m.group(1) in "23", b.describe()
    assert "smp_ap_main" in log.split("backtrace:", 1)[-1], "the backtrace names the AP's function"
    # Outside any test, unless the BSP got as far as the harness first.
    assert re.search(r"^bareio: (crashed outside any test|CRASH): #UD invalid opcode at 0x[0-9a-f]+ on cpu 2$",
                     log, re.M), b.describe()
    assert "bareio-result: crash" in log, b.describe()


def test_ap_exception_during_a_case_closes_the_report(boot, kernel):
    """An exception on an AP while a case runs (the explicit case sends the
    first AP an NMI): the AP's report names it, the BSP is stopped, and the
    running case is the crashed one in a well-formed report."""
    case = "smp.smp_ap_exception_ends_the_case_as_a_crash"
    b = boot("--kernel", kernel, "--append", f"tests={case}", "--smp", "4")
    assert b.status == CRASH, b.describe()
    assert re.search(rf"^bareio: EXCEPTION NMI non-maskable interrupt \(vector 2\) at RIP 0x[0-9a-f]+ "
                     rf"in test {re.escape(case)}$", b.log, re.M), b.describe()
    assert "  on cpu 1 (apic id 1), an application processor\n" in b.log, b.describe()
    assert "bareio: crash on cpu 1: 3 of 3 other CPU(s) stopped (NMI)\n" in b.log, b.describe()
    r = b.report
    assert r.found_end and r.problems == [], b.describe()
    assert [f.path for f in r.failures] == [case], b.describe()


def test_bsp_exception_with_aps_online_is_reported_as_before(boot, kernel):
    b = boot("--kernel", kernel, "--append", "tests=selftest.trigger_page_fault", "--smp", "4")
    assert b.status == CRASH, b.describe()
    assert "  on cpu 0 (apic id 0), the bootstrap processor\n" in b.log, b.describe()
    assert "bareio: crash on cpu 0: 3 of 3 other CPU(s) stopped (NMI)\n" in b.log, b.describe()
    assert "console: lock not released" not in b.log, b.describe()
    r = b.report
    assert r.found_end and r.problems == [], b.describe()
    assert [f.path for f in r.failures] == ["selftest.trigger_page_fault"], b.describe()


@pytest.mark.parametrize("fault", [False, True])
def test_poweroff_with_aps_online(boot, kernel, fault):
    """exit=poweroff ends the machine with APs parked, and from an AP that crashed."""
    append = "tests=smp exit=poweroff" + (" test.smp_ap_fault=3" if fault else "")
    b = boot("--kernel", kernel, "--append", append, "--smp", "4")
    assert b.status == (CRASH if fault else 0), b.describe()
    assert "powered off through ACPI S5" in b.stderr, b.stderr
