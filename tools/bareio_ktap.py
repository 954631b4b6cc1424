# SPDX-License-Identifier: MIT
"""tools/bareio_ktap.py — read the KTAP report out of a bareio serial log.

Implements the subset of KTAP version 1 (Linux Documentation/dev-tools/ktap.rst)
that bareio prints between its `=== bareio KTAP START/END ===` banners: version
lines, `1..N` plans, `ok`/`not ok` results with SKIP/CRASH directives, `#`
diagnostics and subtests nested by two-space indentation, each opened by
`KTAP version 1`, then (optionally) `# Subtest: name` and its plan, all three
at the subtest's indent, as KUnit writes them and Linux's kunit_tool reads
them, and closed by its parent's result line; then the kernel's
`# bareio: P passed, F failed, S skipped`, counted as this module counts:
leaf cases, a suite skipped as a whole one skip. Lines that are not
KTAP (kernel log output printed while a case runs) are ignored. Standard
library only, so tools/ktap-check, tools/run-qemu and the pytest scenarios can
all import it.

It fails closed: whatever it cannot account for is a problem naming the log
line (Report.ok is then False), in time linear in the log, and parse_log never
raises. A failure is a `not ok`, any CRASH directive, and `not ok # SKIP`
(which is also a problem); only `ok N name # SKIP reason` is a skip.
"""

import re
from dataclasses import dataclass, field
from typing import List, Optional

START_BANNER = "=== bareio KTAP START ==="
# The line the kernel prints before each leaf result (tests/harness/ktest.c).
CASE_PREFIX = "bareio-case: "
END_BANNER = "=== bareio KTAP END ==="
# kernel/idt.c, kernel/panic.c and tests/harness/ktest.c print these when a run dies.
CRASH_MARKERS = ("bareio: EXCEPTION", "bareio: PANIC", "bareio: CRASH", "bareio: crashed outside")

# Lines are read with str methods and regexes that cannot backtrack (one
# character class each), so a line costs time linear in its length whatever
# it holds.
_DIGITS = re.compile(r"[0-9]*")
# A bareio KTAP line holds printable characters only (str.isprintable: no
# C0/C1 controls such as NUL, tab, ESC or a CR inside the line, no lone
# surrogates (bytes kept by surrogateescape), no format or private-use
# characters, no blank but the space) and no U+FFFD (what invalid UTF-8
# decodes to). Anything else is damage.
# A damaged line that would begin like one of these once the damage is blanked
# out was KTAP (or a banner, or the kernel's summary): it cannot be read, so it
# is a problem. Damage in other lines (kernel output, diagnostics) is harmless.
_KTAP_STARTS = ("ok", "not ok", "KTAP", "TAP version", "1..", "# Subtest", "# bareio:",
                "=== bareio KTAP")
# A test number or plan has at most this many digits (bareio prints a 32-bit
# unsigned); longer ones are refused before int() sees them.
MAX_DIGITS = 9
# Subtests nest at most this deep (bareio nests one level); lines nested deeper
# are a problem and are not read, so the tree stays small enough to walk, print
# and compare.
MAX_DEPTH = 64
# Problems kept in a report; the rest are counted in one last line.
MAX_PROBLEMS = 100
_SUMMARY = re.compile(r"bareio: ([0-9]{1,9}) passed, ([0-9]{1,9}) failed, ([0-9]{1,9}) skipped")


def _keyword(directive: str) -> str:
    """The directive's first word: "SKIP no NVMe" -> "SKIP"."""
    return directive.split(" ", 1)[0]


@dataclass
class Result:
    """One `ok`/`not ok` line; `children` holds its subtest's results."""
    number: int
    name: str
    ok: bool
    directive: str            # "" or the text after '#', e.g. "SKIP no NVMe"
    line: int                 # 1-based line number in the log
    path: str                 # "suite.case" (dotted names of its parents)
    diagnostics: List[str] = field(default_factory=list)
    children: List["Result"] = field(default_factory=list)
    # The kernel's `# bareio-case: STATUS PATH` line right before the result
    # (kept apart from what the case itself said), or "" when there is none.
    case_line: str = ""

    @property
    def keyword(self) -> str:
        """The directive's keyword: "SKIP", "CRASH", "TODO", ... or ""."""
        return _keyword(self.directive)

    @property
    def skipped(self) -> bool:
        """Only `ok N name # SKIP reason` is a skip; `not ok ... # SKIP` is a failure."""
        return self.ok and self.keyword == "SKIP"

    @property
    def crashed(self) -> bool:
        return self.keyword.upper().startswith("CRASH")

    @property
    def status(self) -> str:
        if not self.ok or self.crashed:
            return "fail"
        return "skip" if self.skipped else "pass"


@dataclass
class Report:
    """Everything found in one log. `problems` is empty only for a clean run."""
    found_start: bool = False
    found_end: bool = False
    results: List[Result] = field(default_factory=list)    # top level: suites
    problems: List[str] = field(default_factory=list)
    crash_lines: List[str] = field(default_factory=list)   # marker + dump
    kernel_summary: Optional[tuple] = None                 # (passed, failed, skipped)
    passed: int = 0
    failed: int = 0
    skipped: int = 0
    failures: List[Result] = field(default_factory=list)
    # Results of subtests that no result line of their parent closed: not in
    # `results` (they belong to no suite), but counted, so a failure among them
    # is never lost.
    unclosed: List[Result] = field(default_factory=list)
    # The kernel's last line, `bareio-result: WORD passed=P failed=F skipped=S`
    # (kernel/exit.c), as (word, passed, failed, skipped); None when the log
    # has none (cut off, or a kernel from before the line existed).
    verdict: Optional[tuple] = None
    # The report head's `# machine: ...` diagnostics (SMBIOS identity, CPU,
    # memory), without the prefix.
    machine: List[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems and not self.failures and not self.crash_lines

    def find(self, path: str) -> Optional[Result]:
        """The result named `path` ("memory" or "memory.dma_above_4g")."""
        return next((r for r in _walk(self.results) if r.path == path), None)

    def suites(self) -> List[str]:
        return [r.name for r in self.results]


@dataclass
class _Doc:
    """A KTAP document being read: the top one or a nested subtest."""
    level: int
    line: int
    prefix: str
    plan: Optional[int] = None
    results: List[Result] = field(default_factory=list)
    pending_diags: List[str] = field(default_factory=list)
    subtest_name: Optional[str] = None


def _quote(text: str, limit: int = 60) -> str:
    """A line for a problem message: escaped, and cut short when long."""
    if len(text) > limit:
        return repr(text[:limit]) + f"... ({len(text)} characters)"
    return repr(text)


def _is_damage(c: str) -> bool:
    return not c.isprintable() or c == "\ufffd"


def _damage(text: str) -> Optional[str]:
    """None for a clean line, else what is wrong with it in a few words."""
    if text.isprintable() and "\ufffd" not in text:
        return None
    c = next(c for c in text if _is_damage(c))
    what = {"\x00": "a NUL byte", "\r": "a carriage return inside the line", "\t": "a tab",
            "\ufffd": "invalid UTF-8", "\x1b": "an escape sequence"}.get(c)
    if what is None:
        what = "invalid UTF-8" if "\ud800" <= c <= "\udfff" else f"character U+{ord(c):04X}"
    return what


def _damaged_ktap(raw: str) -> bool:
    """True for a line with damage in it that would begin like KTAP once the
    damage is blanked out. After a CR inside a line a terminal shows the text
    that follows over what came before, so each such part is looked at too."""
    if raw.isprintable() and "\ufffd" not in raw:
        return False
    parts = [raw] + raw.split("\r")[1:]
    return any("".join(" " if _is_damage(c) else c for c in p).strip(" ").startswith(_KTAP_STARTS)
               for p in parts)


def _ktap_like(raw: str) -> bool:
    """A line that is (or was, before damage) KTAP or the kernel's summary."""
    if _damaged_ktap(raw):
        return True
    kind, value, _ = _classify(raw.strip(" "))
    return kind in ("version", "plan", "result", "subtest", "bad") or \
        (kind == "diag" and value.startswith("bareio: "))


def _classify(text: str):
    """Reads one line without its indentation and trailing blanks. Returns
    (kind, value, problem): kind is "version", "plan", "result", "subtest",
    "diag", "bad" (looks like KTAP but is not: the problem says why) or None
    (other output: kernel log lines are ignored)."""
    if text.startswith(("KTAP version", "TAP version")):
        if text == "KTAP version 1":
            return "version", None, None
        return "version", None, f"{_quote(text)}: only 'KTAP version 1' is understood"
    if text.startswith("1.."):
        digits = text[3:]
        if digits and _DIGITS.match(digits).end() == len(digits):
            if len(digits) > MAX_DIGITS:
                return "bad", None, f"plan '1..' with a {len(digits)}-digit count: out of range"
            return "plan", int(digits), None
        return "bad", None, f"{_quote(text)} is not a plan line: a plan is '1..N' and nothing else"
    if text.startswith("not ok"):
        ok, rest = False, text[6:]
    elif text.startswith("ok"):
        ok, rest = True, text[2:]
    else:
        ok, rest = None, ""
    if ok is not None and (not rest or rest[0] == " "):
        return _classify_result(text, ok, rest[1:])
    if text.startswith("# Subtest:"):
        name = text[len("# Subtest:"):]
        if name[:1] == " " and name.strip(" "):
            return "subtest", name.strip(" "), None
        return "bad", None, f"{_quote(text)}: a subtest header is '# Subtest: name'"
    if text == "#" or text.startswith("# "):
        return "diag", text[2:], None
    return None, None, None


def _classify_result(text: str, ok: bool, rest: str):
    """'ok'/'not ok' then: ' N[ [- ]name][ # directive]'; `rest` is after the blank."""
    end = _DIGITS.match(rest).end()
    if end == 0:
        return "bad", None, f"{_quote(text)}: a result line is 'ok N name' or 'not ok N name' (N in ASCII digits)"
    if end > MAX_DIGITS:
        return "bad", None, f"{_quote(text)}: a {end}-digit test number is out of range"
    digits, rest = rest[:end], rest[end:]
    if rest and rest[0] != " ":
        return "bad", None, f"{_quote(text)}: a blank must follow the test number"
    rest = rest[1:]
    if rest.startswith("- "):
        rest = rest[2:]
    name, hash_sign, directive = rest.partition("#")
    if hash_sign and name and name[-1] != " ":
        return "bad", None, f"{_quote(text)}: '#' inside a test name"
    name, directive = name.strip(" "), directive.strip(" ")
    if not name:
        return "bad", None, f"{_quote(text)}: the result has no test name"
    if hash_sign and not directive:
        return "bad", None, f"{_quote(text)}: nothing after '#'"
    return "result", (ok, int(digits), name, directive), None


class _Parser:
    """Reads the lines between the banners, one at a time. A nested document
    opens with 'KTAP version 1' one level deeper, may name itself with a
    '# Subtest:' header before its plan, and is closed only by a result line
    at its parent's level."""

    def __init__(self, report: Report):
        self.report = report
        self.stack: List[_Doc] = []
        self.seen_root = False
        self.too_deep = 0                           # lines skipped for nesting deeper than MAX_DEPTH
        self.summary_line: Optional[int] = None     # where the kernel's summary line was read
        self.after_summary = False                  # a KTAP line followed it (said once)

    def problem(self, lineno: int, msg: str):
        self.report.problems.append(f"line {lineno}: {msg}")

    def close_top(self, lineno: int, cut_off: bool = False) -> _Doc:
        doc = self.stack.pop()
        what = f"subtest '{doc.prefix}'" if doc.level else "the top-level document"
        if cut_off:
            pass                                    # the plan cannot be judged: reported once as cut off
        elif doc.plan is None:
            self.problem(doc.line, f"{what} has no plan line (1..N)")
        elif doc.plan != len(doc.results):
            self.problem(lineno, f"plan mismatch in {doc.prefix or 'top-level document'}: "
                                 f"plan says 1..{doc.plan} but {len(doc.results)} results")
        elif not doc.results:
            self.problem(doc.line, f"{what} holds no results (plan 1..0)")
        return doc

    def abandon_top(self, lineno: int, cut_off: bool = False):
        """Closes a nested document that no result line of its parent closed:
        its results are still counted (report.unclosed) and it is a problem."""
        doc = self.close_top(lineno, cut_off)
        if not cut_off:
            self.problem(doc.line, f"subtest '{doc.prefix}' is never closed by a result line at indent "
                                   f"{2 * (doc.level - 1)} (its results are counted, the report fails)")
        self.report.unclosed.extend(doc.results)

    def feed(self, lineno: int, raw: str):
        if _damaged_ktap(raw):
            self.problem(lineno, f"damaged KTAP line ({_damage(raw)}): {_quote(raw)}")
            return
        stripped = raw.lstrip(" ")
        indent = len(raw) - len(stripped)
        kind, m, error = _classify(stripped)
        if kind is None:
            return                                  # kernel log output: ignored
        if indent % 2:
            self.problem(lineno, f"indentation of {indent} spaces is not a multiple of 2: {_quote(raw)}")
            return
        if error:
            self.problem(lineno, error)
        if kind == "bad":
            return
        level = indent // 2
        if level > MAX_DEPTH:
            if not self.too_deep:
                self.problem(lineno, f"KTAP nested {level} levels deep (more than {MAX_DEPTH}): "
                                     "lines nested that deep are not read")
            self.too_deep += 1
            return
        if kind == "diag":
            if level == 0 and m.startswith("bareio: "):
                self.summary(lineno, m)
            if self.stack:
                target = next((d for d in reversed(self.stack) if d.level == level), self.stack[-1])
                target.pending_diags.append(m)
                return
        elif self.summary_line is not None and not self.after_summary:
            self.problem(lineno, f"KTAP after the kernel's summary line (line {self.summary_line}), "
                                 "which must be the report's last")
            self.after_summary = True
        if not self.stack:
            if kind == "version" and level == 0 and not self.seen_root:
                self.open(lineno, level)
            else:
                self.problem(lineno, f"expected 'KTAP version 1' first, got {_quote(raw.strip(' '))}")
            return
        top = self.stack[-1]
        if kind == "version":
            if level == 0:
                self.problem(lineno, "a second top-level 'KTAP version' line")
                return
            while self.stack[-1].level >= level:   # siblings or aunts left open: never closed
                self.abandon_top(lineno)
            top = self.stack[-1]
            if level == top.level + 1:
                self.open(lineno, level)
            else:
                self.problem(lineno, f"nested 'KTAP version' at indent {indent}, expected {2 * (top.level + 1)}")
        elif kind == "subtest":
            self.subtest_header(lineno, level, indent, m)
        elif kind == "plan":
            if level != top.level:
                self.problem(lineno, f"plan at indent {indent}, expected {2 * top.level}")
            elif top.plan is not None or top.results:
                self.problem(lineno, "plan line after results or a second plan line")
            else:
                top.plan = m
        elif kind == "result":
            self.result(lineno, level, indent, m)

    def open(self, lineno: int, level: int):
        if level == 0:
            prefix = ""
            self.seen_root = True
        else:
            prefix = _child_prefix(self.stack[-1], f"#{len(self.stack[-1].results) + 1}")
        self.stack.append(_Doc(level=level, line=lineno, prefix=prefix))

    def subtest_header(self, lineno: int, level: int, indent: int, name: str):
        """'# Subtest: name' names the nested document it stands in: right after
        that document's 'KTAP version 1', at its indent, before its plan (the
        order of KTAP v1's examples and of KUnit; kunit_tool takes a header
        anywhere else, before the version line say, for a test of its own)."""
        top = self.stack[-1]
        if level == top.level and top.level > 0 and top.plan is None and not top.results:
            if top.subtest_name is None:
                top.subtest_name, top.prefix = name, _child_prefix(self.stack[-2], name)
                return
            self.problem(lineno, f"a second subtest header '{name}' in subtest '{top.subtest_name}'")
            return
        self.problem(lineno, f"subtest header '{name}' at indent {indent} is out of place: it comes right "
                             "after the 'KTAP version 1' of the nested document it names, at that "
                             "document's indent, before its plan")

    def result(self, lineno: int, level: int, indent: int, m):
        while self.stack and self.stack[-1].level > level + 1:
            self.abandon_top(lineno)
        child = None
        if self.stack and self.stack[-1].level == level + 1:
            child = self.close_top(lineno)
        if not self.stack or self.stack[-1].level != level:
            self.problem(lineno, f"result at indent {indent} outside any KTAP document")
            return
        doc = self.stack[-1]
        ok, number, name, directive = m
        expected = len(doc.results) + 1
        if number != expected:
            self.problem(lineno, f"test number {number} out of sequence, expected {expected}")
        said = [d for d in doc.pending_diags if not d.startswith(CASE_PREFIX)]
        marks = [d for d in doc.pending_diags if d.startswith(CASE_PREFIX)]
        r = Result(number=number, name=name, ok=ok, directive=directive, line=lineno,
                   path=f"{doc.prefix}.{name}" if doc.prefix else name,
                   diagnostics=said, case_line=marks[-1] if marks else "")
        doc.pending_diags = []
        self.check_directive(lineno, r)
        if r.case_line:
            want = f"{CASE_PREFIX}{r.status} {r.path}"
            if len(marks) > 1 or r.case_line != want:
                self.problem(lineno, f"the result's bareio-case line says {_quote(marks[-1])}, "
                                     f"the result is {r.status} {r.path}")
        if child is not None:
            r.children = child.results
            r.diagnostics = child.pending_diags + r.diagnostics
            if child.subtest_name is not None and child.subtest_name != name:
                self.problem(lineno, f"result '{name}' closes subtest '{child.subtest_name}'")
        elif level == 0 and r.status == "pass":
            self.problem(lineno, f"suite '{name}' passed with no cases: a suite's results are a nested "
                                 "KTAP document (only a suite skipped as a whole may have none)")
        doc.results.append(r)

    def check_directive(self, lineno: int, r: Result):
        """A CRASH directive is a failure whatever the result says (Result.status).
        Anything after '#' but a SKIP on an ok line cannot be accounted for."""
        word = r.keyword
        if not r.ok and word.upper() == "SKIP":
            self.problem(lineno, f"'not ok ... # SKIP' contradicts itself: '{r.path}' is counted as a failure")
        elif r.ok and r.directive and word != "SKIP" and not r.crashed:
            self.problem(lineno, f"'ok ... # {r.directive}': only '# SKIP reason' may follow an ok result")

    def summary(self, lineno: int, text: str):
        """'# bareio: P passed, F failed, S skipped', the kernel's own count."""
        s = _SUMMARY.fullmatch(text)
        if s is None:
            if any(word in text for word in (" passed", " failed", " skipped")):
                self.problem(lineno, f"{_quote('# ' + text)} is not the kernel's summary line "
                                     "'# bareio: P passed, F failed, S skipped'")
        elif self.summary_line is not None:
            self.problem(lineno, f"a second summary line (the first is line {self.summary_line})")
        else:
            self.report.kernel_summary = tuple(int(x) for x in s.groups())
            self.summary_line = lineno

    def finish(self, lineno: int, cut_off: bool):
        while len(self.stack) > 1:
            self.abandon_top(lineno, cut_off)
        if self.stack:
            root = self.stack[0]
            self.close_top(lineno, cut_off)
            self.report.results = root.results
        elif not self.seen_root:
            self.problem(lineno, "no 'KTAP version 1' line between the banners: the report is empty")
        # A nested document without a '# Subtest:' header learns its name only
        # from the result line that closes it: paths are set once it is known.
        _set_paths(self.report.results, "")
        for r in self.report.unclosed:
            _set_paths(r.children, r.path + ".")


def _child_prefix(parent: _Doc, name: str) -> str:
    """The path of the document `name` nested in `parent`."""
    return (parent.prefix + "." if parent.prefix else "") + name


def _walk(results: List[Result]):
    """Every result under `results`, parents before their children, in log
    order; without recursion, so no depth of nesting can exhaust the stack."""
    stack = list(reversed(results))
    while stack:
        r = stack.pop()
        yield r
        stack.extend(reversed(r.children))


def _set_paths(results: List[Result], prefix: str):
    stack = [(r, prefix) for r in results]
    while stack:
        r, prefix = stack.pop()
        r.path = prefix + r.name
        stack.extend((c, r.path + ".") for c in r.children)


def _count(report: Report):
    """Counts leaf cases: a suite skipped as a whole is one skip, as it is one
    result line (kunit_tool, TAP readers and the kernel's summary count it so);
    a suite that fails with all its cases passing (or with no cases) counts as
    one failure of its own."""
    failing = set()                                 # ids of results that are or hold a failure
    ran = set()                                     # ids of results that are or hold a pass
    inconsistent = []
    order = list(_walk(report.results + report.unclosed))
    for r in reversed(order):                       # children before their parents
        if r.children:
            child_failed = any(id(c) in failing for c in r.children)
            if any(id(c) in ran for c in r.children):
                ran.add(id(r))
            if r.status == "fail" and not child_failed:
                report.failed += 1
                report.failures.append(r)
            if r.status != "fail" and child_failed:
                inconsistent.append((r.line, f"'{r.path}' is reported ok but has failing cases"))
            elif r.skipped and id(r) in ran:
                inconsistent.append((r.line, f"'{r.path}' is reported skipped but cases in it passed"))
            if child_failed or r.status == "fail":
                failing.add(id(r))
        elif r.status == "skip":
            report.skipped += 1
        elif r.status == "pass":
            report.passed += 1
            ran.add(id(r))
        else:
            report.failed += 1
            report.failures.append(r)
            failing.add(id(r))
    report.failures.sort(key=lambda r: r.line)
    for line, msg in sorted(inconsistent):
        report.problems.append(f"line {line}: {msg}")


def _find_crash(lines: List[str], report: Report):
    for i, line in enumerate(lines):
        if any(marker in line for marker in CRASH_MARKERS):
            dump = [line.rstrip()]
            for follow in lines[i + 1:i + 40]:
                kind, _, _ = _classify(follow.strip())
                if kind == "result" or START_BANNER in follow or END_BANNER in follow:
                    break
                dump.append(follow.rstrip())
            while dump and not dump[-1].strip():
                dump.pop()
            report.crash_lines = dump
            return


def parse_log(text: str, expect=()) -> Report:
    """Parses a serial log; `expect` lists suites that must be present. Never
    raises on any text: what cannot be read is a problem in the report."""
    report = Report()
    try:
        return _parse_log(report, text, expect)
    except Exception as e:                          # a bug here must fail the check, not pass it
        report.problems.append(f"ktap-check could not read the log ({type(e).__name__}: {e}): "
                               "a bug in tools/bareio_ktap.py")
        return report


def _parse_log(report: Report, text: str, expect) -> Report:
    # A line ends at LF; the CRs around it are part of the line end (bareio
    # writes CR LF, LAVA hands over CR CR LF), so line numbers are the file's.
    lines = [line.strip("\r") for line in text.split("\n")]
    _find_crash(lines, report)
    starts = [i for i, line in enumerate(lines) if line.strip(" ") == START_BANNER]
    ends = [i for i, line in enumerate(lines) if line.strip(" ") == END_BANNER]
    if not starts:
        report.problems.append("no KTAP report: the log has no '%s' line" % START_BANNER)
    else:
        report.found_start = True
        first = starts[0]
        if len(starts) > 1:
            report.problems.append(f"{len(starts)} KTAP reports in one log (did the machine reboot?); "
                                   "checking the first")
        if ends and ends[0] < first:
            report.problems.append(f"line {ends[0] + 1}: '{END_BANNER}' before the report's START banner")
        end = next((i for i in ends if i > first), None)
        if end is None:
            report.problems.append("the run was cut off: no '%s' line after the report" % END_BANNER)
        else:
            report.found_end = True
        parser = _Parser(report)
        for i in range(first + 1, end if end is not None else len(lines)):
            parser.feed(i + 1, lines[i].rstrip(" "))
        parser.finish((end if end is not None else len(lines)) + 1, cut_off=end is None)
        _count(report)
        report.machine = [line[len("# machine: "):] for line in
                          lines[first + 1:end if end is not None else len(lines)]
                          if line.startswith("# machine: ")]
        if end is not None:
            _check_after_end(lines, end, report)
            _check_summary(report)
            _check_verdict(lines, end, report)
    for suite in expect:
        if suite and report.find(suite) is None:
            report.problems.append(f"expected suite '{suite}' is missing from the report")
    report.problems.sort(key=_problem_line)
    if len(report.problems) > MAX_PROBLEMS:
        left_out = len(report.problems) - MAX_PROBLEMS
        del report.problems[MAX_PROBLEMS:]
        report.problems.append(f"... and {left_out} more problems")
    return report


VERDICT_PREFIX = "bareio-result: "
_VERDICT = re.compile(r"bareio-result: (pass|fail|crash|usage) passed=([0-9]{1,9}) "
                      r"failed=([0-9]{1,9}) skipped=([0-9]{1,9})")


def _check_verdict(lines: List[str], end: int, report: Report):
    """The verdict line after the report, when there is one, must be well
    formed and agree with the report: its totals the kernel's, `pass` only
    for a run without failures, `crash` for a crashed one."""
    at = [i for i in range(end + 1, len(lines)) if lines[i].startswith(VERDICT_PREFIX)]
    if not at:
        return
    i = at[-1]
    m = _VERDICT.fullmatch(lines[i].rstrip(" "))
    if not m:
        report.problems.append(f"line {i + 1}: malformed verdict line {_quote(lines[i])}")
        return
    word, counts = m.group(1), tuple(int(m.group(k)) for k in (2, 3, 4))
    report.verdict = (word,) + counts
    if report.kernel_summary is not None and counts != tuple(report.kernel_summary):
        report.problems.append(f"line {i + 1}: the verdict line's totals {counts} are not the "
                               f"report's {tuple(report.kernel_summary)}")
    if word == "pass" and (report.failures or report.crash_lines):
        report.problems.append(f"line {i + 1}: the verdict says pass, the report has failures")
    if word != "crash" and report.crash_lines:
        report.problems.append(f"line {i + 1}: the verdict says {word}, the kernel crashed")


def _problem_line(problem: str) -> float:
    """Sort key: problems that name a line in line order, then the others."""
    head, _, _ = problem.partition(":")
    number = head[5:] if head.startswith("line ") else ""
    return int(number) if number.isascii() and number.isdigit() else float("inf")


def _check_after_end(lines: List[str], end: int, report: Report):
    """After the END banner come shutdown lines and the manifest, not KTAP."""
    extra_end = next((i for i in range(end + 1, len(lines)) if lines[i].strip(" ") == END_BANNER), None)
    if extra_end is not None:
        report.problems.append(f"line {extra_end + 1}: a second '{END_BANNER}' line")
    late = [i for i in range(end + 1, len(lines))
            if i != extra_end and lines[i].strip(" ") not in (START_BANNER, END_BANNER)
            and _ktap_like(lines[i].rstrip(" "))]
    if late:
        more = f" (and {len(late) - 1} more such lines)" if len(late) > 1 else ""
        report.problems.append(f"line {late[0] + 1}: KTAP after the END banner: "
                               f"{_quote(lines[late[0]].strip(' '))}{more}")


def _check_summary(report: Report):
    """The kernel counts too, as _count() does: every count must agree."""
    if report.kernel_summary is None:
        report.problems.append("no '# bareio: P passed, F failed, S skipped' line before the END banner")
        return
    if report.kernel_summary != (report.passed, report.failed, report.skipped):
        report.problems.append("the kernel's summary says %d passed, %d failed, %d skipped but the report "
                               "holds %d passed, %d failed, %d skipped"
                               % (*report.kernel_summary, report.passed, report.failed, report.skipped))


_UNPRINTABLE = re.compile(r"[^ -~]")


def _escape_char(m) -> str:
    c = ord(m.group())
    return f"\\x{c:02x}" if c < 0x100 else f"\\u{c:04x}" if c < 0x10000 else f"\\U{c:08x}"


def escape(text: str) -> str:
    """`text` with every character outside printable ASCII (the space through
    '~') written as \\xNN, \\uNNNN or \\UNNNNNNNN: text from a log printed so cannot
    move the cursor, clear the screen or retitle the terminal (ESC and C1
    sequences), hide behind bidi overrides, or depend on the terminal's
    encoding."""
    return _UNPRINTABLE.sub(_escape_char, text)


def format_report(report: Report) -> str:
    """The human summary: one headline, then what went wrong and why. Names,
    diagnostics, crash dumps and problems come from the log: every line is
    printed escaped (escape())."""
    out = []
    head = f"ktap-check: {report.passed} passed, {report.failed} failed, {report.skipped} skipped"
    if report.failures:
        head += "; failures: " + ", ".join(r.path for r in report.failures)
    out.append(head)
    for r in report.failures:
        out.append(f"  not ok {r.path}" + (f" # {r.directive}" if r.directive else "") + f" (log line {r.line})")
        for d in r.diagnostics:
            out.append(f"    # {d}")
    if report.crash_lines:
        out.append("ktap-check: the kernel crashed:")
        out.extend("  " + line for line in report.crash_lines)
    for p in report.problems:
        out.append(f"ktap-check: {p}")
    out.append("ktap-check: PASS" if report.ok else "ktap-check: FAIL")
    return "\n".join(escape(line) for line in out)
