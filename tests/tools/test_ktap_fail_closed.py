# SPDX-License-Identifier: MIT
"""tests/tools/test_ktap_fail_closed.py — tools/ktap-check fails closed (issue 9
item 9): whatever it cannot account for is a failure with a problem line that
says what and where, found in bounded time, never a traceback and never a pass.
Each test here reproduced a way the checker used to pass, hang or crash."""
import os
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "tools"))
import bareio_ktap  # noqa: E402

CHECK = os.path.join(ROOT, "tools", "ktap-check")
START, END = bareio_ktap.START_BANNER, bareio_ktap.END_BANNER


def report(*lines, summary=None):
    """A log holding `lines` between the banners; `summary` = (passed, failed,
    skipped) adds the kernel's summary line before END."""
    body = list(lines)
    if summary is not None:
        body.append("# bareio: %d passed, %d failed, %d skipped" % summary)
    return "\n".join([START, *body, END, ""])


def check_text(text, timeout=20):
    """tools/ktap-check on `text` through stdin: (exit status, stdout, stderr)."""
    p = subprocess.run([sys.executable, CHECK, "-"], input=text.encode("utf-8", "surrogateescape"),
                       capture_output=True, timeout=timeout)
    return p.returncode, p.stdout.decode(), p.stderr.decode()


def problem_with(r, *words):
    return any(all(w in p for w in words) for p in r.problems)


# One suite with one passing case: the smallest report that passes.
GOOD = ("KTAP version 1", "1..1", "  KTAP version 1", "  # Subtest: lib", "  1..1", "  ok 1 lib_a", "ok 1 lib")


# ---- defect 1: a nested result list that its parent never closes ----------

def test_subtest_left_open_at_end_banner_is_counted_and_fails():
    """The suite 'pci' is opened but no 'ok N pci' line ever closes it: its
    'not ok' was dropped and the run passed."""
    text = report("KTAP version 1", "1..1",
                  "  KTAP version 1", "  # Subtest: lib", "  1..1", "  ok 1 lib_a", "ok 1 lib",
                  "  KTAP version 1", "  # Subtest: pci", "  1..1", "  not ok 1 pci_msi",
                  summary=(1, 0, 0))
    r = bareio_ktap.parse_log(text)
    assert not r.ok
    assert r.failed == 1 and [f.path for f in r.failures] == ["pci.pci_msi"]
    assert problem_with(r, "line 9", "pci", "never closed")


def test_grandchild_list_closed_by_the_grandparent_result_is_counted_and_fails():
    """A list at indent 4 ended by a result at indent 0: the level-2 list never
    got its own result line, and its 'not ok' vanished."""
    text = report("KTAP version 1", "1..1",
                  "  KTAP version 1", "  # Subtest: lib", "  1..1", "  ok 1 lib_a",
                  "    KTAP version 1", "    1..1", "    not ok 1 deep",
                  "ok 1 lib", summary=(1, 0, 0))
    r = bareio_ktap.parse_log(text)
    assert not r.ok
    assert r.failed == 1 and r.failures[0].name == "deep"
    assert problem_with(r, "line 8", "never closed")


# ---- defect 2: CRASH and 'not ok # SKIP' ------------------------------------

def test_ok_with_crash_directive_is_a_failure():
    text = report("KTAP version 1", "1..1",
                  "  KTAP version 1", "  # Subtest: lib", "  1..1",
                  "  ok 1 lib_a # CRASH page fault", "ok 1 lib", summary=(0, 1, 0))
    r = bareio_ktap.parse_log(text)
    assert not r.ok
    case = r.find("lib.lib_a")
    assert case.crashed and case.status == "fail"
    assert (r.passed, r.failed, r.skipped) == (0, 1, 0)
    assert [f.path for f in r.failures] == ["lib.lib_a"]


def test_not_ok_with_skip_directive_is_a_failure_not_a_skip():
    text = report("KTAP version 1", "1..1",
                  "  KTAP version 1", "  # Subtest: lib", "  1..1",
                  "  not ok 1 lib_a # SKIP no hardware", "not ok 1 lib", summary=(0, 1, 0))
    r = bareio_ktap.parse_log(text)
    assert not r.ok
    case = r.find("lib.lib_a")
    assert case.status == "fail" and not case.skipped
    assert (r.passed, r.failed, r.skipped) == (0, 1, 0)
    assert problem_with(r, "line 7", "not ok", "SKIP")


# ---- defect 3: time ---------------------------------------------------------

def test_long_run_of_blanks_in_a_result_line_is_quick():
    """_RESULT backtracked cubically: 5000 blanks took minutes."""
    text = report("KTAP version 1", "1..1", "ok 1 " + " " * 5000 + "x", summary=(1, 0, 0))
    started = time.monotonic()
    rc, out, err = check_text(text, timeout=20)
    assert time.monotonic() - started < 5
    assert "Traceback" not in err


def test_long_run_of_blanks_in_a_subtest_header_is_quick():
    """_SUBTEST's '(.*?)\\s*$' was quadratic: 100000 blanks took 18 s."""
    text = report("KTAP version 1", "1..1", "  KTAP version 1",
                  "  # Subtest: a" + " " * 100000 + "b", "  1..1", "  ok 1 x", "ok 1 a", summary=(1, 0, 0))
    started = time.monotonic()
    bareio_ktap.parse_log(text)
    assert time.monotonic() - started < 2


# ---- defect 4: huge numbers and deep nesting --------------------------------

def test_5000_digit_test_number_is_a_problem_not_a_traceback():
    text = report("KTAP version 1", "1..1", "ok " + "1" * 5000 + " a", summary=(1, 0, 0))
    rc, out, err = check_text(text)
    assert rc == 1 and "Traceback" not in err
    assert "ktap-check: FAIL" in out and "line 4:" in out


def test_5000_digit_plan_is_a_problem_not_a_traceback():
    text = report("KTAP version 1", "1.." + "9" * 5000, "ok 1 a", summary=(1, 0, 0))
    rc, out, err = check_text(text)
    assert rc == 1 and "Traceback" not in err
    assert "ktap-check: FAIL" in out and "line 3:" in out


def deep(levels, leaf="ok"):
    """`levels` nested documents, the innermost holding one `leaf` result."""
    lines = []
    for d in range(levels + 1):
        pad = "  " * d
        lines += [pad + "KTAP version 1", *([pad + "# Subtest: s%d" % (d - 1)] if d else []), pad + "1..1"]
    lines.append("  " * levels + leaf + " 1 leaf")
    for d in reversed(range(levels)):
        lines.append("  " * d + ("ok" if leaf == "ok" else "not ok") + " 1 s%d" % d)
    return lines


def test_1200_levels_of_nesting_are_a_problem_not_a_traceback():
    rc, out, err = check_text(report(*deep(1200), summary=(1, 0, 0)), timeout=60)
    assert "Traceback" not in err
    assert rc == 1 and "ktap-check: FAIL" in out
    assert "nested 65 levels deep" in out


def test_60_levels_of_nesting_still_parse_and_a_deep_failure_counts():
    r = bareio_ktap.parse_log(report(*deep(60), summary=(1, 0, 0)))
    assert r.ok, r.problems
    assert r.find(".".join("s%d" % d for d in range(60)) + ".leaf").status == "pass"
    r = bareio_ktap.parse_log(report(*deep(60, leaf="not ok"), summary=(0, 1, 0)))
    assert not r.ok and r.failed == 1 and r.failures[0].name == "leaf"
    assert r.problems == []


def test_ok_with_any_other_directive_is_a_problem():
    """'# TODO', '# XFAIL', '# skip' (lower case), a bare '#': nothing bareio
    prints, so nothing to pass on."""
    for directive in ("TODO not yet", "XFAIL", "skip lower case", "SKIPPED", "TIMEOUT 30 s", "rcode=0"):
        text = report("KTAP version 1", "1..1", "ok 1 a # " + directive, summary=(1, 0, 0))
        r = bareio_ktap.parse_log(text)
        assert not r.ok and problem_with(r, "line 4", "only '# SKIP reason'"), directive


def test_crash_directive_fails_in_any_spelling():
    for directive in ("CRASH", "crash", "CRASH: page fault", "Crashed"):
        text = report("KTAP version 1", "1..1", "ok 1 a # " + directive, summary=(0, 1, 0))
        r = bareio_ktap.parse_log(text)
        assert not r.ok and [f.path for f in r.failures] == ["a"], directive


# ---- lines that look like KTAP but are not ----------------------------------

def one_case(line, plan="1..1"):
    return report("KTAP version 1", plan, line, summary=(1, 0, 0))


def test_malformed_result_lines_are_problems_not_kernel_output():
    """Each used to be taken for kernel log output and skipped: with the plan
    still matched by a second line, nothing noticed."""
    for line in ("ok +1 a", "ok \u0661 a",          # leading '+', ARABIC-INDIC DIGIT ONE
                 "ok \uff11 a", "ok 1x a", "ok", "not ok", "ok 1", "ok 1 # SKIP why",
                 "ok 1 a#b", "ok 1 a #", "not ok -1 a", "ok  1 a"):
        r = bareio_ktap.parse_log(one_case(line))
        assert not r.ok and problem_with(r, "line 4"), line


def test_malformed_plan_lines_are_problems():
    for plan in ("1..3 foo", "1..+1", "1..\u0661", "1..", "1..1 # comment", "1..0x1"):
        r = bareio_ktap.parse_log(report("KTAP version 1", plan, "ok 1 a", summary=(1, 0, 0)))
        assert not r.ok and problem_with(r, "line 3", "plan"), plan


def test_version_other_than_ktap_1_is_a_problem():
    for version in ("KTAP version 2", "KTAP version 01", "KTAP version +1", "TAP version 14",
                    "KTAP version 1 extra", "KTAP version \u0661"):
        r = bareio_ktap.parse_log(report(version, "1..1", "ok 1 a", summary=(1, 0, 0)))
        assert not r.ok and problem_with(r, "line 2"), version


def test_dash_before_the_name_and_blanks_around_it_are_fine():
    r = bareio_ktap.parse_log(report("KTAP version 1", "1..1", "  KTAP version 1", "  # Subtest: s", "  1..2",
                                     "  ok 1 - a   ", "  ok 2   b  # SKIP  why ", "ok 1 s",
                                     summary=(1, 0, 1)))
    assert r.ok, r.problems
    cases = r.results[0].children
    assert [c.name for c in cases] == ["a", "b"] and cases[1].directive == "SKIP  why"


# ---- line ends and damaged lines --------------------------------------------

def sample(name):
    with open(os.path.join(HERE, "logs", name), newline="") as f:
        return f.read()


def test_crlf_and_lava_cr_cr_lf_are_plain_line_ends_with_the_file_line_numbers():
    """bareio's console writes CRLF, LAVA hands over CR CR LF: each is one line
    end, so a problem names the line an editor shows (CR CR LF used to count
    two lines)."""
    for name in ("good.log", "skip.log", "interleaved.log", "crash.log"):
        lf = bareio_ktap.parse_log(sample(name))
        for end in ("\r\n", "\r\r\n", "\r\r\r\n"):
            r = bareio_ktap.parse_log(sample(name).replace("\n", end))
            assert (r.ok, r.passed, r.failed, r.skipped, r.problems) == \
                (lf.ok, lf.passed, lf.failed, lf.skipped, lf.problems), (name, end)
            assert [f.line for f in r.failures] == [f.line for f in lf.failures]
    for end in ("\r\n", "\r\r\n"):
        r = bareio_ktap.parse_log(sample("bad_numbering.log").replace("\n", end))
        assert problem_with(r, "line 8:", "test number 3 out of sequence"), (end, r.problems)


def test_mixed_line_ends_in_one_log():
    text = sample("good.log")
    mixed = "".join(line + ("\r\r\n" if i % 3 == 0 else "\r\n" if i % 3 == 1 else "\n")
                    for i, line in enumerate(text.split("\n")[:-1]))
    r = bareio_ktap.parse_log(mixed)
    assert r.ok and (r.passed, r.failed, r.skipped) == (3, 0, 0), r.problems


def test_damaged_not_ok_line_is_a_problem_not_kernel_output():
    """The second line is a 'not ok' with a NUL (or a tab, a no-break space,
    invalid UTF-8, a stray CR) in it; it used to be skipped as kernel output
    while the plan still matched."""
    for damaged in ("\x00not ok 2 b", "not ok 2 b\x00", "\tnot ok 2 b", "not\u00a0ok 2 b",
                    "not ok 2 b\ufffd", "not ok 2 \udcffb", "noise\rnot ok 2 b", "not ok 2 b\x1b[0m",
                    "\u200bnot ok 2 b", "not ok\x0b2 b"):
        r = bareio_ktap.parse_log(report("KTAP version 1", "1..1", "ok 1 a", damaged, summary=(1, 0, 0)))
        assert not r.ok and problem_with(r, "line 5", "damaged"), repr(damaged)


def test_damaged_lines_in_the_cli_print_escaped():
    raw = report("KTAP version 1", "1..1", "ok 1 a", "not ok 2 b", summary=(1, 0, 0)).encode()
    raw = raw.replace(b"not ok 2 b", b"not ok 2 b\xff\x00")
    p = subprocess.run([sys.executable, CHECK, "-"], input=raw, capture_output=True, timeout=20)
    out = p.stdout.decode()
    assert p.returncode == 1 and p.stderr == b""
    assert "line 5: damaged KTAP line" in out and "\\x00" in out


def test_damaged_diagnostic_is_kept_and_harmless():
    r = bareio_ktap.parse_log(report(*GOOD[:5], "  # model \x01QEMU\x00", *GOOD[5:], summary=(1, 0, 0)))
    assert r.ok, r.problems
    assert r.find("lib.lib_a").diagnostics == ["model \x01QEMU\x00"]


# ---- what ktap-check prints from the log is escaped --------------------------

ESC_DIAG = "\x1b]0;pwned\x07\x1b[2J\x1b[31mno interrupt\x1b[0m \u202ecafé\t\x9b"


def printable_ascii(text):
    return all(c == "\n" or " " <= c <= "~" for c in text)


def failing_with_escapes():
    return report("KTAP version 1", "1..1", "  KTAP version 1", "  # Subtest: pci", "  1..1",
                  "  # " + ESC_DIAG, "  not ok 1 msi_café", "not ok 1 pci",
                  "bareio: PANIC: \x1b[2Jdump\x1b[0m é", summary=(0, 1, 0))


def test_diagnostics_crash_dumps_and_names_print_escaped():
    """Escape sequences in a failing case's diagnostic reached the terminal
    as they were (format_report printed the log's text unescaped)."""
    out = bareio_ktap.format_report(bareio_ktap.parse_log(failing_with_escapes()))
    assert printable_ascii(out), repr(out)
    assert "    # \\x1b]0;pwned\\x07\\x1b[2J\\x1b[31mno interrupt\\x1b[0m \\u202ecaf\\xe9\\x09\\x9b" \
        in out, out
    assert "failures: pci.msi_caf\\xe9" in out, out
    assert "  bareio: PANIC: \\x1b[2Jdump\\x1b[0m \\xe9" in out, out


def test_the_cli_prints_the_log_escaped():
    p = subprocess.run([sys.executable, CHECK, "-"], input=failing_with_escapes().encode(),
                       capture_output=True, timeout=20)
    assert p.returncode == 1 and p.stderr == b""
    assert b"\x1b" not in p.stdout and all(b == 10 or 32 <= b <= 126 for b in p.stdout), p.stdout
    assert b"\\x1b[31mno interrupt" in p.stdout, p.stdout


def test_the_log_is_kept_as_it_was():
    """Only the printing escapes: what the parser hands over is the log's text."""
    r = bareio_ktap.parse_log(failing_with_escapes())
    assert r.failures[0].diagnostics == [ESC_DIAG] and r.failures[0].name == "msi_café"


# ---- the report as a whole --------------------------------------------------

def test_good_report_passes():
    r = bareio_ktap.parse_log(report(*GOOD, summary=(1, 0, 0)))
    assert r.ok, r.problems


def test_second_end_banner_is_a_problem():
    r = bareio_ktap.parse_log(report(*GOOD, summary=(1, 0, 0)) + END + "\n")
    assert not r.ok and problem_with(r, "line 11", "END")


def test_end_banner_before_start_is_a_problem():
    r = bareio_ktap.parse_log(END + "\n" + report(*GOOD, summary=(1, 0, 0)))
    assert not r.ok and problem_with(r, "line 1", "END")


def test_results_after_the_end_banner_are_a_problem():
    for tail in ("not ok 2 pci", "  not ok 1 pci_a", "1..2", "KTAP version 1", "# Subtest: pci",
                 "# bareio: 1 passed, 0 failed, 0 skipped", "ok 2\x00 pci"):
        text = report(*GOOD, summary=(1, 0, 0)) + "ahci0p0: shutdown\n" + tail + "\n"
        r = bareio_ktap.parse_log(text)
        assert not r.ok and problem_with(r, "line 12", "after the END banner"), tail


def test_kernel_output_after_the_end_banner_is_fine():
    text = report(*GOOD, summary=(1, 0, 0)) + "bareio-manifest: begin device=x\n# not KTAP\nbareio: halted\n"
    assert bareio_ktap.parse_log(text).ok


def test_empty_report_is_a_problem():
    for body in ((), ("kernel output only",), ("KTAP version 1",), ("KTAP version 1", "1..0")):
        r = bareio_ktap.parse_log(report(*body, summary=(0, 0, 0)))
        assert not r.ok and r.problems, body


def test_subtest_header_without_results_is_a_problem():
    """'KTAP version 1', '# Subtest: pci' and then at once 'ok 2 pci': every
    case of the suite is missing."""
    text = report("KTAP version 1", "1..2", *GOOD[2:], "  KTAP version 1", "  # Subtest: pci", "ok 2 pci",
                  summary=(1, 0, 0))
    r = bareio_ktap.parse_log(text)
    assert not r.ok and problem_with(r, "line 9", "pci", "no plan")
    text = report("KTAP version 1", "1..2", *GOOD[2:], "# Subtest: pci", "ok 2 pci", summary=(1, 0, 0))
    r = bareio_ktap.parse_log(text)
    assert not r.ok and problem_with(r, "line 9", "pci", "out of place")


def test_suite_passing_without_cases_is_a_problem():
    """A top-level 'ok N suite' with neither cases nor SKIP: its results are missing."""
    text = report("KTAP version 1", "1..2", *GOOD[2:], "ok 2 pci", summary=(1, 0, 0))
    r = bareio_ktap.parse_log(text)
    assert not r.ok and problem_with(r, "line 9", "pci", "no cases")


def test_nested_document_with_plan_0_is_a_problem():
    text = report("KTAP version 1", "1..1", "  KTAP version 1", "  # Subtest: lib", "  1..0", "ok 1 lib",
                  summary=(0, 0, 0))
    r = bareio_ktap.parse_log(text)
    assert not r.ok and problem_with(r, "lib", "no results")


def test_skipped_suite_still_counts_its_cases():
    """'ok 1 lib # SKIP' used to hide its nested results, 'not ok' among them."""
    text = report("KTAP version 1", "1..1", "  KTAP version 1", "  # Subtest: lib", "  1..2",
                  "  ok 1 lib_a # SKIP no disk", "  not ok 2 lib_b", "ok 1 lib # SKIP every case skipped",
                  summary=(0, 0, 2))
    r = bareio_ktap.parse_log(text)
    assert not r.ok
    assert (r.passed, r.failed, r.skipped) == (0, 1, 1) and [f.path for f in r.failures] == ["lib.lib_b"]


def test_suite_whose_every_case_skipped_counts_each_case():
    text = report("KTAP version 1", "1..1", "  KTAP version 1", "  # Subtest: lib", "  1..2",
                  "  ok 1 lib_a # SKIP no disk", "  ok 2 lib_b # SKIP no disk",
                  "ok 1 lib # SKIP every case skipped", summary=(0, 0, 2))
    r = bareio_ktap.parse_log(text)
    assert r.ok, r.problems
    assert (r.passed, r.failed, r.skipped) == (0, 0, 2)


def test_skipped_suite_with_cases_that_ran_is_a_problem():
    text = report("KTAP version 1", "1..1", "  KTAP version 1", "  # Subtest: lib", "  1..1",
                  "  ok 1 lib_a", "ok 1 lib # SKIP every case skipped", summary=(1, 0, 0))
    r = bareio_ktap.parse_log(text)
    assert not r.ok and problem_with(r, "line 8", "skipped")


def test_missing_or_repeated_or_malformed_kernel_summary_is_a_problem():
    assert not bareio_ktap.parse_log(report(*GOOD)).ok
    twice = report(*GOOD, "# bareio: 1 passed, 0 failed, 0 skipped", summary=(1, 0, 0))
    assert not bareio_ktap.parse_log(twice).ok
    for bad in ("# bareio: 1 passed, 0 failed", "# bareio: +1 passed, 0 failed, 0 skipped",
                "# bareio: \u0661 passed, 0 failed, 0 skipped",
                "# bareio: 1 passed, 0 failed, 0 skipped and more"):
        r = bareio_ktap.parse_log(report(*GOOD, bad))
        assert not r.ok and problem_with(r, "line 9"), bad


def test_results_after_the_kernel_summary_are_a_problem():
    text = report("KTAP version 1", "1..2", *GOOD[2:], "# bareio: 2 passed, 0 failed, 0 skipped",
                  "  KTAP version 1", "  # Subtest: pci", "  1..1", "  ok 1 pci_a", "ok 2 pci")
    r = bareio_ktap.parse_log(text)
    assert not r.ok and problem_with(r, "line 10", "summary")


def test_kernel_summary_with_fewer_skips_than_the_report_is_a_problem():
    text = report("KTAP version 1", "1..2", *GOOD[2:], "ok 2 nvme # SKIP no NVMe", summary=(1, 0, 0))
    r = bareio_ktap.parse_log(text)
    assert not r.ok and problem_with(r, "summary", "skipped")


def test_suite_skipped_as_a_whole_is_one_skip_and_the_summary_must_say_so():
    """'ok 2 nvme # SKIP' is one result line: one skip for kunit_tool, prove and
    this reader alike. The kernel counted the suite's 24 cases, and the check
    let any number of skips at or above the report's pass."""
    text = report("KTAP version 1", "1..2", *GOOD[2:], "ok 2 nvme # SKIP no NVMe", summary=(1, 0, 1))
    r = bareio_ktap.parse_log(text)
    assert r.ok, r.problems
    assert (r.passed, r.failed, r.skipped) == (1, 0, 1)
    text = report("KTAP version 1", "1..2", *GOOD[2:], "ok 2 nvme # SKIP no NVMe", summary=(1, 0, 24))
    r = bareio_ktap.parse_log(text)
    assert not r.ok and r.problems == ["the kernel's summary says 1 passed, 0 failed, 24 skipped but the "
                                       "report holds 1 passed, 0 failed, 1 skipped"]


def test_sibling_subtest_opened_before_the_last_one_closed():
    """'# Subtest: b' while 'a' still waits for its result line: 'a' is never
    closed (a problem), its 'not ok' still counts, 'b' is read as usual."""
    text = report("KTAP version 1", "1..2", "  KTAP version 1", "  # Subtest: a", "  1..1", "  not ok 1 a_1",
                  "  KTAP version 1", "  # Subtest: b", "  1..1", "  ok 1 b_1", "ok 2 b", summary=(1, 1, 0))
    r = bareio_ktap.parse_log(text)
    assert not r.ok and problem_with(r, "line 4", "never closed")
    assert [f.path for f in r.failures] == ["a.a_1"] and r.find("b.b_1").status == "pass"


def test_problem_list_is_bounded():
    text = report("KTAP version 1", "1..1", *["ok x"] * 10000, "ok 1 a", summary=(1, 0, 0))
    r = bareio_ktap.parse_log(text)
    assert not r.ok and len(r.problems) <= bareio_ktap.MAX_PROBLEMS + 1
    assert "more problems" in r.problems[-1]


def test_any_unprintable_character_damages_a_ktap_line():
    """Soft hyphen, private use, unassigned, ideographic space, line separator."""
    for c in ("\u00ad", "\ue000", "\u0378", "\u3000", "\u2028", "\u2066"):
        r = bareio_ktap.parse_log(report(*GOOD[:5], "  ok 1 lib_a" + c, "ok 1 lib", summary=(1, 0, 0)))
        assert not r.ok and problem_with(r, "line 7", "damaged"), repr(c)


def test_nested_document_without_subtest_header_takes_the_name_of_its_result_line():
    """Found by the property test: its cases were 'a.#1.x' instead of 'a.b.x'."""
    text = report("KTAP version 1", "1..1", "  KTAP version 1", "  # Subtest: a", "  1..1",
                  "    KTAP version 1", "    1..1", "    not ok 1 x # TIMEOUT 300 ms", "  not ok 1 b",
                  "not ok 1 a", summary=(0, 1, 0))
    r = bareio_ktap.parse_log(text)
    assert r.problems == [] and [f.path for f in r.failures] == ["a.b.x"]


# ---- the order that opens a nested document ---------------------------------

def test_subtest_header_before_its_version_line_is_a_problem():
    """bareio printed '# Subtest: lib' before the nested 'KTAP version 1';
    KUnit and KTAP v1's examples put the version line first, and kunit_tool
    reads the header first as a test of its own (31 errors on a clean run)."""
    text = report("KTAP version 1", "1..1", "# Subtest: lib", "  KTAP version 1", "  1..1", "  ok 1 lib_a",
                  "ok 1 lib", summary=(1, 0, 0))
    r = bareio_ktap.parse_log(text)
    assert not r.ok and r.problems == [
        "line 4: subtest header 'lib' at indent 0 is out of place: it comes right after the 'KTAP version 1' "
        "of the nested document it names, at that document's indent, before its plan"]
    assert r.find("lib.lib_a").status == "pass"     # the results are still read
    rc, out, _ = check_text(text)
    assert rc == 1 and "line 4: subtest header 'lib' at indent 0 is out of place" in out


def test_subtest_header_anywhere_but_after_the_version_line_is_a_problem():
    for lines, where in (
            (("  KTAP version 1", "  1..1", "  # Subtest: lib", "  ok 1 lib_a", "ok 1 lib"), "line 6"),
            (("  KTAP version 1", "  1..1", "  ok 1 lib_a", "  # Subtest: lib", "ok 1 lib"), "line 7"),
            (("  # Subtest: lib", "  KTAP version 1", "  1..1", "  ok 1 lib_a", "ok 1 lib"), "line 4")):
        r = bareio_ktap.parse_log(report("KTAP version 1", "1..1", *lines, summary=(1, 0, 0)))
        assert not r.ok and problem_with(r, where, "out of place"), lines
    r = bareio_ktap.parse_log(report("KTAP version 1", "# Subtest: main", "1..1", *GOOD[2:], summary=(1, 0, 0)))
    assert not r.ok and problem_with(r, "line 3", "out of place")


def test_a_second_subtest_header_is_a_problem():
    r = bareio_ktap.parse_log(report("KTAP version 1", "1..1", "  KTAP version 1", "  # Subtest: lib",
                                     "  # Subtest: pci", "  1..1", "  ok 1 lib_a", "ok 1 lib",
                                     summary=(1, 0, 0)))
    assert not r.ok and problem_with(r, "line 6", "second subtest header 'pci'")


def test_kernel_output_between_the_version_line_and_the_header_is_ignored():
    r = bareio_ktap.parse_log(report("KTAP version 1", "1..1", "  KTAP version 1", "pci: bus 0",
                                     "  # lib: a diagnostic", "  # Subtest: lib", "  1..1", "  ok 1 lib_a",
                                     "ok 1 lib", summary=(1, 0, 0)))
    assert r.ok, r.problems
    assert r.find("lib.lib_a").status == "pass"
