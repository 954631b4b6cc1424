# SPDX-License-Identifier: MIT
"""tests/tools/test_ktap_properties.py — property tests of tools/bareio_ktap.py
with hypothesis (Debian's python3-hypothesis).

(a) Random well-formed bareio KTAP trees — suites of cases nested at random,
    ok / not ok / SKIP / CRASH, diagnostics, kernel log noise between any two
    lines, LF / CR LF / CR CR LF line ends — are rendered to a serial log as
    the kernel writes it (a nested document opens with 'KTAP version 1', then
    '# Subtest: name' or no header, then its plan; the summary counts leaf
    cases, a suite skipped as a whole as one skip); the verdict, counts and
    failures ktap-check finds must equal the ones computed from the tree itself.
(b) Those logs, mutated (truncated, lines deleted, duplicated, swapped,
    re-indented, ok flipped, numbers made huge or non-ASCII, random bytes or
    characters inserted, KTAP lines inserted, deep nesting, a '# Subtest:'
    header moved before its 'KTAP version 1'), must never make
    the parser raise, must be read within a time bound, and must pass exactly
    when an independent reading of the format (the oracle below, a recursive
    descent over the grammar) says the log is still a well-formed report in
    which everything passed.

Deterministic for CI: derandomize=True, no example database written.
"""
import os
import re
import runpy
import sys
import tempfile
import time
from contextlib import redirect_stdout
from dataclasses import dataclass, field
from io import StringIO
from typing import List, Optional

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "tools"))
import bareio_ktap  # noqa: E402

START, END = "=== bareio KTAP START ===", "=== bareio KTAP END ==="
# Seconds one parse may take; the logs here are at most a few MiB, read in
# milliseconds (a backtracking regex took minutes on 5 KiB).
TIME_BOUND = 1.0

COMMON = dict(derandomize=True, database=None, deadline=None,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


# ---- (a) the tree, its rendering and what it must count ----------------------

@dataclass
class Node:
    """One result line. A leaf's `outcome` is pass, fail, skip, crash (ok #
    CRASH) or timeout (not ok # TIMEOUT); a group holds `children` and its
    outcome is ok, fail or skip (the whole suite skipped)."""
    name: str
    outcome: str
    children: List["Node"] = field(default_factory=list)
    header: bool = True                 # '# Subtest: name' after the nested 'KTAP version 1'


# Names as the kernel prints them, and a few it does not (blanks, non-ASCII).
NAMES = ["lib", "pci", "nvme", "ahci", "dio", "memory", "a", "b", "c", "x_1", "0", "dio_fault_probe",
         "été", "straße", "two words", "-dash"]
# Structure is drawn with hypothesis (so it shrinks); cosmetics — noise,
# diagnostics, blanks, line ends — with a random.Random it also draws, which
# keeps an example cheap to make.
NOISE = [
    "pci: 00:1f.2 8086:2922 01.06.01 SATA controller (AHCI)",
    "ahci0p0: scratch (label): writes to 1 MiB..64 MiB",
    "  RIP 0x0000000000104a2e CS 0x0008 RFLAGS 0x00000046",
    "    #0 0x104a2e trigger_page_fault+0xe",
    "   three-space indented kernel output",
    "\x1b[2J\x1b[01;01HBdsDxe: loading Boot0001",
    "okay, so this is not a result",
    "#not a diagnostic either",
    "",
]
# Diagnostics and kernel output may hold anything but a line break (a CR inside
# a line is damage when KTAP follows it; the mutations try that).
JUNK = "abc XYZ 09 #:.-_\x00\t\x1b\x7f\u00a0\u00ad\u200b\ufeff\ufffd\u2028\u00e9\u4e2d"


def junk(rnd, n=12):
    return "".join(rnd.choice(JUNK) for _ in range(rnd.randint(0, n)))


@st.composite
def cases(draw, depth):
    """The cases of one nested document (1 to 4), groups down to `depth`."""
    out = []
    for name in draw(st.lists(st.sampled_from(NAMES), min_size=1, max_size=4, unique=True)):
        if depth > 0 and draw(st.integers(0, 4)) == 0:
            out.append(draw(group(name, depth - 1, header=draw(st.booleans()))))
        else:
            out.append(Node(name, draw(st.sampled_from(["pass"] * 6 + ["fail", "skip", "skip", "crash", "timeout"]))))
    return out


@st.composite
def group(draw, name, depth, header=True):
    children = draw(cases(depth))
    choices = ["ok", "ok", "fail"]
    if all(model_status(c) == "skip" for c in children):
        choices.append("skip")
    return Node(name, draw(st.sampled_from(choices)), children, header)


@st.composite
def suites(draw):
    """The top level: suites with cases, suites skipped as a whole, or a suite
    that failed with no cases (it crashed before its first case)."""
    out = []
    for name in draw(st.lists(st.sampled_from(NAMES), min_size=1, max_size=4, unique=True)):
        kind = draw(st.sampled_from(["cases"] * 5 + ["skipped", "failed"]))
        if kind == "cases":
            out.append(draw(group(name, draw(st.integers(0, 2)))))
        else:
            out.append(Node(name, "skip" if kind == "skipped" else "fail"))
    return out


def model_status(n: Node) -> str:
    """pass / fail / skip of one result line, as the node was drawn."""
    if n.children:
        if n.outcome == "fail" or any(model_status(c) == "fail" for c in n.children):
            return "fail"
        return "skip" if n.outcome == "skip" else "pass"
    return {"pass": "pass", "skip": "skip"}.get(n.outcome, "fail")


def model_counts(tree: List[Node]):
    """(passed, failed, skipped, failure paths in log order) from the tree."""
    counts = [0, 0, 0]
    failures = []

    def walk(n, prefix):
        path = prefix + n.name
        if not n.children:
            counts[{"pass": 0, "fail": 1, "skip": 2}[model_status(n)]] += 1
            if model_status(n) == "fail":
                failures.append(path)
            return model_status(n) == "fail"
        child_failed = False
        for c in n.children:
            child_failed |= walk(c, path + ".")
        if n.outcome == "fail" and not child_failed:
            counts[1] += 1
            failures.append(path)
        return child_failed or n.outcome == "fail"
    for n in tree:
        walk(n, "")
    return counts[0], counts[1], counts[2], failures


def result_line(n: Node, number: int, rnd) -> str:
    status = model_status(n)
    word = "not ok" if status == "fail" and n.outcome != "crash" else "ok"
    dash = rnd.choice(["", "", "- "])
    tail = rnd.choice(["", "", "  "])
    directive = ""
    if n.outcome == "skip":
        directive = rnd.choice([" # SKIP no NVMe", " # SKIP", " #  SKIP every case skipped"])
    elif n.outcome == "crash":
        directive = rnd.choice([" # CRASH page fault", " # crash"])
    elif n.outcome == "timeout":
        directive = " # TIMEOUT 300 ms"
    return f"{word} {number} {dash}{n.name}{directive}{tail}"


def render(tree: List[Node], rnd) -> List[str]:
    """The lines from START to END (noise not yet added)."""
    lines = [START, "KTAP version 1", f"1..{len(tree)}"]

    def item(n, level, number):
        pad = "  " * level
        lines.extend(pad + "# d: " + junk(rnd) for _ in range(rnd.choice([0, 0, 0, 1, 2])))
        if n.children:
            lines.append(pad + "  KTAP version 1")
            if n.header:
                lines.append(pad + "  # Subtest: " + n.name)
            lines.append(pad + f"  1..{len(n.children)}")
            for i, c in enumerate(n.children, 1):
                item(c, level + 1, i)
        lines.append(pad + result_line(n, number, rnd))
    for i, n in enumerate(tree, 1):
        item(n, 0, i)
    passed, failed, skipped, _ = model_counts(tree)
    lines.append("# dio summary: device   kind     access     passed failed skipped  causes seen")
    lines.append(f"# bareio: {passed} passed, {failed} failed, {skipped} skipped")
    lines.append(END)
    return lines


class Plain:
    """Stands in for the Random when an example is drawn plain: no noise, no
    diagnostics, the first of each choice. Drawn first, so a counterexample
    that needs none of the cosmetics shrinks to a plain log."""
    @staticmethod
    def choice(seq):
        return seq[0]

    @staticmethod
    def randint(a, b):
        return a


@st.composite
def logs(draw):
    """(serial log text, tree): a well-formed report with noise around it."""
    tree = draw(suites())
    rnd = draw(st.randoms(use_true_random=False)) if draw(st.booleans()) else Plain
    report = render(tree, rnd)
    lines = ["SeaBIOS (version 1.16.2-debian-1.16.2-1)", "bareio: booting (x86_64)"]
    for i, line in enumerate(report):
        lines.append(line)
        if 0 < i < len(report) - 1:
            for _ in range(rnd.choice([0, 0, 0, 1, 3])):
                lines.append(rnd.choice(NOISE) if rnd.randint(0, 1) else "klog: " + junk(rnd))
    lines += ["ahci0p0: shutdown: write cache flushed", "bareio-manifest: stamped lba=2048 count=1"]
    return "".join(line + rnd.choice(["\n", "\r\n", "\r\r\n"]) for line in lines), tree


@settings(max_examples=150, **COMMON)
@given(logs())
def test_well_formed_reports_verdict_counts_and_failures_match_the_tree(log_and_tree):
    text, tree = log_and_tree
    r = bareio_ktap.parse_log(text)
    passed, failed, skipped, failures = model_counts(tree)
    assert r.problems == []
    assert (r.passed, r.failed, r.skipped) == (passed, failed, skipped)
    assert [f.path for f in r.failures] == failures
    assert r.ok == (failed == 0)
    assert r.suites() == [n.name for n in tree]
    for n in tree:
        assert r.find(n.name).status == model_status(n)
    assert oracle(text) == Verdict(True, "", passed, failed, skipped, failures, False)


# ---- the oracle: the format read again, another way -------------------------

@dataclass
class Verdict:
    well_formed: bool
    why: str = ""
    passed: int = 0
    failed: int = 0
    skipped: int = 0
    failures: List[str] = field(default_factory=list)
    crashed: bool = False

    @property
    def all_pass(self) -> bool:
        return self.well_formed and self.failed == 0 and not self.crashed


class Malformed(Exception):
    pass


CRASH_MARKERS = ("bareio: EXCEPTION", "bareio: PANIC", "bareio: CRASH", "bareio: crashed outside")
KTAP_PREFIXES = ("ok", "not ok", "KTAP", "TAP version", "1..", "# Subtest", "# bareio:", "=== bareio KTAP")
PLAN = re.compile(r"1\.\.([0-9]{1,9})")
# A blank must come before '#'; a name holds no '#'.
RESULT = re.compile(r"(ok|not ok) ([0-9]{1,9})(?: (?:- )?([^#]*?)(?:( +)# *(.*))?)?")
SUBTEST = re.compile(r"# Subtest: +(.+)")
SUMMARY = re.compile(r"bareio: ([0-9]{1,9}) passed, ([0-9]{1,9}) failed, ([0-9]{1,9}) skipped")
MAX_DEPTH = 64


def printable(s):
    return s.isprintable() and "\ufffd" not in s


def resembles_ktap(line):
    """Damage blanked out, would this (or what follows a CR in it) begin like KTAP?"""
    for part in [line] + line.split("\r")[1:]:
        if "".join(c if printable(c) else " " for c in part).strip(" ").startswith(KTAP_PREFIXES):
            return True
    return False


def ktap_after_end(line):
    """Results, plans, versions, subtest headers or the summary, damaged or not."""
    if not printable(line):
        return resembles_ktap(line)
    body = line.strip(" ")
    return bool(body.startswith(("KTAP version", "TAP version", "1..", "# Subtest:", "# bareio: "))
                or re.match(r"(ok|not ok)( |$)", body))


def token(line):
    """None for kernel output, else (level, kind, value); raises Malformed."""
    line = line.rstrip(" ")
    body = line.lstrip(" ")
    indent = len(line) - len(body)
    if not printable(line):
        if resembles_ktap(line):
            raise Malformed("damaged KTAP line")
        kind = "diag" if body == "#" or body.startswith("# ") else None
        value = body[2:]
    elif body.startswith(("KTAP version", "TAP version")):
        if body != "KTAP version 1":
            raise Malformed("version")
        kind, value = "version", None
    elif body.startswith("1.."):
        m = PLAN.fullmatch(body)
        if not m:
            raise Malformed("plan")
        kind, value = "plan", int(m.group(1))
    elif re.match(r"(ok|not ok)( |$)", body):
        m = RESULT.fullmatch(body)
        if not m or not (m.group(3) or "").strip(" ") or (m.group(4) is not None and not m.group(5).strip(" ")):
            raise Malformed("result")
        kind, value = "result", (m.group(1) == "ok", int(m.group(2)), m.group(3).strip(" "),
                                 (m.group(5) or "").strip(" "))
    elif body.startswith("# Subtest:"):
        m = SUBTEST.fullmatch(body)
        if not m:
            raise Malformed("subtest")
        kind, value = "subtest", m.group(1).strip(" ")
    elif body == "#" or body.startswith("# "):
        kind, value = "diag", body[2:]
    else:
        kind = None
    if kind is None:
        return None
    if indent % 2:
        raise Malformed("odd indentation")
    if indent // 2 > MAX_DEPTH:
        raise Malformed("too deep")
    return indent // 2, kind, value


def status_of(ok, directive):
    word = directive.split(" ", 1)[0]
    if word.upper().startswith("CRASH"):
        return "fail"
    if ok and directive and word != "SKIP":
        raise Malformed("directive on ok")
    if not ok and word.upper() == "SKIP":
        raise Malformed("not ok # SKIP")
    if not ok:
        return "fail"
    return "skip" if word == "SKIP" else "pass"


def oracle(text: str) -> Verdict:
    lines = [line.strip("\r") for line in text.split("\n")]
    crashed = any(m in line for line in lines for m in CRASH_MARKERS)
    try:
        v = read_report(lines)
    except Malformed as e:
        return Verdict(False, str(e), crashed=crashed)
    v.crashed = crashed
    return v


def read_report(lines) -> Verdict:
    starts = [i for i, line in enumerate(lines) if line.strip(" ") == START]
    ends = [i for i, line in enumerate(lines) if line.strip(" ") == END]
    if len(starts) != 1 or len(ends) != 1 or ends[0] < starts[0]:
        raise Malformed("banners")
    first, end = starts[0], ends[0]
    for line in lines[end + 1:]:
        if ktap_after_end(line):
            raise Malformed("KTAP after END")
    toks = []
    for i in range(first + 1, end):
        t = token(lines[i])
        if t:
            toks.append(t)
    # The kernel's summary: one level-0 diagnostic, after every other KTAP line.
    summary = None
    for k, (level, kind, value) in enumerate(toks):
        if kind == "diag" and level == 0 and value.startswith("bareio: "):
            m = SUMMARY.fullmatch(value)
            if m is None:
                if any(w in value for w in (" passed", " failed", " skipped")):
                    raise Malformed("malformed summary")
                continue
            if summary is not None or any(t[1] != "diag" for t in toks[k:]):
                raise Malformed("summary not once and last")
            summary = tuple(int(x) for x in m.groups())
    if summary is None:
        raise Malformed("no summary")
    if not toks or toks[0][:2] != (0, "version"):
        raise Malformed("no root version first")
    structure = [t for t in toks if t[1] != "diag"]
    pos = [0]

    def peek():
        return structure[pos[0]] if pos[0] < len(structure) else (None, None, None)

    def take(level, kind):
        t = peek()
        if t[:2] != (level, kind):
            raise Malformed(f"expected {kind} at level {level}, got {t[:2]}")
        pos[0] += 1
        return t[2]

    def document(level, prefix):
        """-> (its '# Subtest:' name or None, its items). The header, when
        there is one, comes between the version line and the plan."""
        take(level, "version")
        header = take(level, "subtest") if level > 0 and peek()[:2] == (level, "subtest") else None
        n = take(level, "plan")
        if n == 0:
            raise Malformed("no results")
        return header, [item(level, k, prefix) for k in range(1, n + 1)]

    def item(level, number, prefix):
        header = children = None
        if peek()[:2] == (level + 1, "version"):
            header, children = document(level + 1, None)
        ok, num, name, directive = take(level, "result")
        if num != number or (header is not None and header != name):
            raise Malformed("number or name")
        status = status_of(ok, directive)
        if level == 0 and children is None and status == "pass":
            raise Malformed("suite without cases")
        return (name, status, children or [])

    _, tree = document(0, None)
    if pos[0] != len(structure):
        raise Malformed("KTAP after the top document")
    v = Verdict(True)

    def walk(node, prefix):
        """-> (failed inside, passed inside)"""
        name, status, children = node
        path = prefix + name
        if not children:
            if status == "pass":
                v.passed += 1
            elif status == "skip":
                v.skipped += 1
            else:
                v.failed += 1
                v.failures.append(path)
            return status == "fail", status == "pass"
        failed_in = passed_in = False
        for c in children:
            f, p = walk(c, path + ".")
            failed_in |= f
            passed_in |= p
        if status != "fail" and failed_in:
            raise Malformed("ok parent of a failure")
        if status == "skip" and passed_in:
            raise Malformed("skipped parent of a pass")
        if status == "fail" and not failed_in:
            v.failed += 1
            v.failures.append(path)
        return failed_in or status == "fail", passed_in
    for node in tree:
        walk(node, "")
    if summary != (v.passed, v.failed, v.skipped):
        raise Malformed("summary disagrees")
    return v


# ---- (b) mutations ------------------------------------------------------------

def split_lines(text):
    return text.split("\n")


def mutate_truncate(draw, text):
    return text[:draw(st.integers(0, len(text)))]


def mutate_delete_line(draw, text):
    lines = split_lines(text)
    del lines[draw(st.integers(0, len(lines) - 1))]
    return "\n".join(lines)


def mutate_duplicate_line(draw, text):
    lines = split_lines(text)
    i = draw(st.integers(0, len(lines) - 1))
    lines.insert(i, lines[i])
    return "\n".join(lines)


def mutate_swap_lines(draw, text):
    lines = split_lines(text)
    i, j = draw(st.integers(0, len(lines) - 1)), draw(st.integers(0, len(lines) - 1))
    lines[i], lines[j] = lines[j], lines[i]
    return "\n".join(lines)


def mutate_reindent(draw, text):
    lines = split_lines(text)
    i = draw(st.integers(0, len(lines) - 1))
    delta = draw(st.sampled_from([-2, -1, 1, 2]))
    if delta > 0:
        lines[i] = " " * delta + lines[i]
    else:
        lines[i] = lines[i][min(-delta, len(lines[i]) - len(lines[i].lstrip(" "))):]
    return "\n".join(lines)


def mutate_flip_ok(draw, text):
    lines = split_lines(text)
    idx = [i for i, line in enumerate(lines) if re.match(r" *(not )?ok ", line)]
    if not idx:
        return text
    i = draw(st.sampled_from(idx))
    lines[i] = lines[i].replace("not ok", "ok", 1) if "not ok" in lines[i] else lines[i].replace("ok", "not ok", 1)
    return "\n".join(lines)


def mutate_number(draw, text):
    """A test number, plan or count in the summary becomes another, huge, signed
    or written in other digits."""
    spots = [m.span() for m in re.finditer(r"[0-9]+", text)]
    if not spots:
        return text
    a, b = draw(st.sampled_from(spots))
    new = draw(st.sampled_from(["0", "2", "01", "+1", "-1", "1" * 5000, "9" * 10, "\u0661", "\uff11", "\u00b9",
                                str(int(text[a:b][:6] or 0) + 1)]))
    return text[:a] + new + text[b:]


def mutate_insert_bytes(draw, text):
    """Random bytes, decoded as ktap-check decodes a log (invalid UTF-8 -> U+FFFD)."""
    raw = text.encode("utf-8")
    i = draw(st.integers(0, len(raw)))
    junk = draw(st.binary(min_size=1, max_size=8))
    return (raw[:i] + junk + raw[i:]).decode("utf-8", "replace")


def mutate_insert_chars(draw, text):
    i = draw(st.integers(0, len(text)))
    junk = draw(st.text(st.characters(blacklist_categories=("Cs",)) | st.sampled_from("\x00\r\t\u00a0\ufffd#"),
                        min_size=1, max_size=4))
    return text[:i] + junk + text[i:]


KTAP_LINES = st.sampled_from([
    "ok 1 x", "  ok 1 x", "not ok 1 x", "  not ok 2 y", "ok 2 z # SKIP why", "not ok 1 x # SKIP why",
    "ok 1 x # CRASH", "ok 1 x # TODO", "# Subtest: s", "  # Subtest: s", "KTAP version 1", "  KTAP version 1",
    "1..1", "  1..2", "1..0", "# bareio: 1 passed, 0 failed, 0 skipped", "# diag", "  # diag", START, END,
    "bareio: CRASH: page fault", "ok 1", "ok  1 x", "ok 1 x#y", "ok 1 x #",
])


def mutate_insert_line(draw, text):
    lines = split_lines(text)
    lines.insert(draw(st.integers(0, len(lines))), draw(KTAP_LINES))
    return "\n".join(lines)


def mutate_deep_nesting(draw, text):
    """A subtest nested `depth` levels at a random line."""
    depth = draw(st.sampled_from([3, 63, 64, 65, 100]))
    block = []
    for d in range(1, depth + 1):
        block += ["  " * d + "KTAP version 1", "  " * d + "# Subtest: s%d" % d, "  " * d + "1..1"]
    block.append("  " * (depth + 1) + draw(st.sampled_from(["ok 1 leaf", "not ok 1 leaf"])))
    block += ["  " * (d - 1) + "ok 1 s%d" % d for d in range(depth, 0, -1)]
    lines = split_lines(text)
    i = draw(st.integers(0, len(lines)))
    return "\n".join(lines[:i] + block + lines[i:])


def mutate_header_before_version(draw, text):
    """One nested document opened as bareio opened them before KUnit's order:
    its '# Subtest:' header moved before its 'KTAP version 1', at the
    parent's indent."""
    lines = split_lines(text)
    spots = [i for i in range(1, len(lines)) if re.fullmatch(r"( *)# Subtest: .*\r*", lines[i])
             and lines[i - 1].rstrip("\r") == re.match(" *", lines[i]).group() + "KTAP version 1"]
    if not spots:
        return text
    i = draw(st.sampled_from(spots))
    header = lines[i][2:] if lines[i].startswith("  ") else lines[i]
    lines[i - 1:i + 1] = [header, lines[i - 1]]
    return "\n".join(lines)


def mutate_line_ends(draw, text):
    """A CR somewhere: in a line end (harmless) or inside a line (damage)."""
    i = draw(st.integers(0, len(text)))
    return text[:i] + "\r" + text[i:]


MUTATIONS = [mutate_truncate, mutate_delete_line, mutate_duplicate_line, mutate_swap_lines, mutate_reindent,
             mutate_flip_ok, mutate_number, mutate_insert_bytes, mutate_insert_chars, mutate_insert_line,
             mutate_deep_nesting, mutate_header_before_version, mutate_line_ends]


@st.composite
def mutated_logs(draw):
    text, _ = draw(logs())
    for _ in range(draw(st.integers(1, 3))):
        text = draw(st.sampled_from(MUTATIONS))(draw, text)
    return text


def timed_parse(text):
    started = time.perf_counter()
    r = bareio_ktap.parse_log(text)
    return r, time.perf_counter() - started


def deep_log(depth):
    lines = [START, "KTAP version 1", "1..1"]
    for d in range(depth):
        lines += ["  " * (d + 1) + "KTAP version 1", "  " * (d + 1) + "# Subtest: s%d" % d, "  " * (d + 1) + "1..1"]
    lines.append("  " * depth + "ok 1 leaf")
    lines += ["  " * d + "ok 1 s%d" % d for d in range(depth - 1, -1, -1)]
    return "\n".join(lines + ["# bareio: 1 passed, 0 failed, 0 skipped", END])


@settings(max_examples=400, **COMMON)
@given(mutated_logs())
@example(deep_log(1200))
@example(deep_log(64))
@example(f"{START}\nKTAP version 1\n1..1\nok {'1' * 5000} a\n{END}\n")
@example(f"{START}\nKTAP version 1\n1..{'9' * 5000}\nok 1 a\n{END}\n")
@example(f"{START}\nKTAP version 1\n1..1\nok 1 {' ' * 5000}x\n{END}\n")
def test_mutated_reports_never_raise_are_read_in_bounded_time_and_pass_only_when_still_well_formed(text):
    r, seconds = timed_parse(text)
    assert seconds < TIME_BOUND, f"{seconds:.2f} s for {len(text)} characters"
    assert not any("could not read the log" in p for p in r.problems), r.problems
    verdict = oracle(text)
    assert r.ok == verdict.all_pass, (verdict, r.problems, r.failures)
    if verdict.well_formed:
        assert (r.passed, r.failed, r.skipped) == (verdict.passed, verdict.failed, verdict.skipped)
        assert [f.path for f in r.failures] == verdict.failures
    out = bareio_ktap.format_report(r)
    assert all(c == "\n" or " " <= c <= "~" for c in out), "format_report printed the log unescaped"


CHECK_MAIN = runpy.run_path(os.path.join(ROOT, "tools", "ktap-check"))["main"]


@settings(max_examples=60, **COMMON)
@given(st.binary(max_size=300), st.booleans(), mutated_logs())
def test_ktap_check_on_raw_bytes_exits_0_or_1_with_a_verdict_line(junk, inside, text):
    """The command itself, on bytes that need not be UTF-8: exit status 0 or 1
    and a last line PASS or FAIL, PASS only for a log the oracle passes."""
    raw = text.encode("utf-8")
    raw = raw[:len(raw) // 2] + junk + raw[len(raw) // 2:] if inside else junk
    with tempfile.NamedTemporaryFile(suffix=".log") as f:
        f.write(raw)
        f.flush()
        out = StringIO()
        with redirect_stdout(out):
            rc = CHECK_MAIN([f.name])
    last = out.getvalue().splitlines()[-1]
    assert (rc, last) in ((0, "ktap-check: PASS"), (1, "ktap-check: FAIL"))
    assert (rc == 0) == oracle(raw.decode("utf-8", "replace")).all_pass
