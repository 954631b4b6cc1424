# SPDX-License-Identifier: MIT
"""tools/lava/bareio_lava.py — what every LAVA job for bareio shares: the
`monitors` test action that turns the serial log into LAVA test cases, and a
small YAML writer (standard library only, so tools/lava/qemu-job runs on a
machine without PyYAML).

Why the monitor looks the way it does (LAVA 2023.01, lava_dispatcher/actions/
test/monitor.py and pexpect 4.8):
- LAVA waits for `start`, then calls pexpect's expect() with [EOF, TIMEOUT,
  end, pattern] until `end` matches. pexpect takes the match that *starts*
  earliest in its buffer (ties go to the earlier list entry, i.e. `end`).
- Every `pattern` match is one test case; `end` records nothing. The verdict
  line `bareio-result: pass|fail|crash|usage passed=N failed=N skipped=N` must
  be a test case and also end the monitor, so `pattern` matches only the
  line's first word, `bareio-result`, and `end` matches its tail
  ` passed=N failed=N skipped=N` followed by CR: the pattern's match starts
  first, so it wins, and the tail is still in the buffer for `end`.
- LAVA reads the serial port in pieces (2000 characters at most), so a
  pattern with nothing after the name would take whatever part of the name
  had arrived. The serial line ends are CR LF (LAVA sees CR CR LF), so the
  name is `[^\\s]+` followed by a CR, a lookahead that waits for the line's end
  and leaves it in the buffer. Python's `re` has no repeated group names, so one
  pattern serves both lines with lookarounds: a lookahead captures the
  result word from either line and a fixed-width lookbehind (the result words
  are all four letters) anchors a case's name after `bareio-case: WORD `.
- LAVA lower-cases the name and turns every run of non-word characters into
  `_` (`lib.lib_memory_fill` -> `lib_lib_memory_fill`); the name as printed is
  kept as the case's `extra: {test_case_id: ...}`.
- The fixupdict maps bareio's words to LAVA's: a crash or a bad command line
  is a failed `bareio-result` case. LAVA never sees QEMU's exit status.
- A verdict line that never comes (a hang, a reset, a cut cable) fails the
  job itself: the test action's timeout raises a TestError, and EOF (QEMU
  gone) a ConnectionClosedError; either way LAVA's own `job` case is `fail`.
"""
import json

START = "=== bareio KTAP START ==="
# The verdict's tail (kernel/exit.c): matched after `bareio-result` was taken.
END = r" passed=\d+ failed=\d+ skipped=\d+\r"
PATTERN = (r"(?=bareio-(?:case|result): (?P<result>pass|fail|skip|crash|usage) )"
           r"(?:bareio-case: [a-z]{4} )?"
           r"(?P<test_case_id>(?<=bareio-case: [a-z]{4} )[^\s]+(?=\r)|bareio-result(?=: ))")
FIXUPDICT = {"pass": "pass", "fail": "fail", "skip": "skip", "crash": "fail", "usage": "fail"}
VERDICT_CASE = "bareio-result"
MONITOR_NAME = "bareio"


def lava_case_name(name: str) -> str:
    """The `case` LAVA 2023.01 records for a test_case_id (monitor.py's rule)."""
    import re
    return re.sub(r"\W+", "_", name.strip().lower())


def monitor() -> dict:
    """The `monitors` entry. LAVA 2023.01 has no `expected` key in monitors
    (its schema rejects one), so an expected list goes into the job's
    metadata instead (see job_metadata)."""
    return {"name": MONITOR_NAME, "start": START, "end": END, "pattern": PATTERN,
            "fixupdict": dict(FIXUPDICT)}


def job_metadata(expected) -> dict:
    """Job metadata (free-form in LAVA's schema) with the expected cases, the
    names as bareio prints them, the verdict case last."""
    return {"bareio.expected": list(expected)} if expected else {}


# ---- YAML ------------------------------------------------------------------

def _scalar(v) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    # A JSON string is a YAML double-quoted scalar (same escapes).
    return json.dumps(str(v), ensure_ascii=True)


def _flow(v) -> str:
    if isinstance(v, dict):
        return "{" + ", ".join(f"{_scalar(k)}: {_flow(x)}" for k, x in v.items()) + "}"
    if isinstance(v, list):
        return "[" + ", ".join(_flow(x) for x in v) + "]"
    return _scalar(v)


def to_yaml(v, indent: int = 0) -> str:
    """Block-style YAML for dicts and lists of dicts; small leaves in flow
    style. Every string is quoted, so no value is read as anything else."""
    pad = " " * indent
    out = []
    if isinstance(v, dict):
        for k, x in v.items():
            if isinstance(x, (dict, list)) and x and not _small(x):
                out.append(f"{pad}{_scalar(k) if not _plain_key(k) else k}:")
                out.append(to_yaml(x, indent + 2))
            else:
                out.append(f"{pad}{_scalar(k) if not _plain_key(k) else k}: {_flow(x)}")
    elif isinstance(v, list):
        for x in v:
            if isinstance(x, (dict, list)) and x and not _small(x):
                body = to_yaml(x, indent + 2)
                out.append(f"{pad}- " + body[indent + 2:])
            else:
                out.append(f"{pad}- {_flow(x)}")
    else:
        out.append(pad + _scalar(v))
    return "\n".join(out)


def _plain_key(k) -> bool:
    return isinstance(k, str) and k.replace("_", "").replace("-", "").replace(".", "").isalnum()


def _small(v) -> bool:
    """Short dicts of scalars (timeouts) stay on one line."""
    return (isinstance(v, dict) and len(v) <= 2 and all(not isinstance(x, (dict, list)) for x in v.values())
            and len(_flow(v)) < 60)
