# SPDX-License-Identifier: MIT
"""tests/scenarios/test_guest_errors.py — QEMU's own device models find no
guest mistake in a full default run.

QEMU's NVMe model traces what the specification leaves undefined
(pci_nvme_ub_*: a doorbell for a queue that does not exist, a misaligned or
too small register access, a write to a read-only register, ...) and every
command or enable it refuses (pci_nvme_err_*); its AHCI model traces reads
and writes of registers it does not implement (ahci_*_default,
ahci_*_unimpl: CAP2 on an AHCI 1.0 HBA, PxFBS without FIS-based switching).

One boot of every suite on the default disks, with those events and the
serial port's writes (serial_write) traced to one file in the order they
happened: the serial text rebuilt from the trace puts every event between
two characters of the log, so each event is charged to the case whose
result line comes next. No ub or unimplemented-register event may appear at
all; err events only in the deliberate negative cases below, each of which
must still draw its own (the device is really asked).
"""
import os
import re
import sys

from conftest import TOOLS, assert_clean_pass

sys.path.insert(0, TOOLS)
import bareio_ktap  # noqa: E402

TRACE_EVENTS = ["pci_nvme_ub_*", "pci_nvme_err_*", "ahci_*_default", "ahci_*_unimpl", "serial_write"]
# Guest mistakes: never, in any case.
MISTAKE = re.compile(r"pci_nvme_ub_|ahci_\w*(_default|_unimpl)\b")

# The cases that send the device what it must refuse, and the events that
# refusal draws (pci_nvme_err_req_status comes with every failed command).
NEGATIVE_CASES = {
    "nvme.nvme_lba_past_end_decoded": {"pci_nvme_err_invalid_lba_range", "pci_nvme_err_req_status"},
    "nvme.nvme_invalid_nsid_decoded": {"pci_nvme_err_req_status"},
    "nvme.nvme_above_mdts_unsplit_decoded": {"pci_nvme_err_mdts", "pci_nvme_err_req_status"},
    # A misaligned ASQ at enable: CSTS.CFS, on purpose.
    "nvme.nvme_fatal_status_resets_controller": {"pci_nvme_err_startfail_asq_misaligned",
                                                 "pci_nvme_err_startfail"},
    "dio.dio_lba_past_end": {"pci_nvme_err_invalid_lba_range", "pci_nvme_err_req_status"},
    "dio.dio_transfer_above_maximum": {"pci_nvme_err_mdts", "pci_nvme_err_req_status"},
}

SERIAL_WRITE = re.compile(r"serial_write write addr 0x([0-9a-f]{2}) val 0x([0-9a-f]{2})$")
EVENT = re.compile(r"(?:\d+@[0-9.]+:)?([a-z0-9_]+) ")
UART_THR, UART_LCR, UART_LCR_DLAB = 0, 3, 0x80


def read_trace(path):
    """(serial text rebuilt from the trace, [(event, line number of the log
    being written when it happened, the trace line)]). A byte the guest
    writes to offset 0 is a character unless LCR.DLAB makes it the divisor."""
    text, events, line, lcr = bytearray(), [], 1, 0
    with open(path, errors="replace") as f:
        for raw in f:
            raw = raw.rstrip("\n")
            m = SERIAL_WRITE.search(raw)
            if m:
                reg, value = int(m.group(1), 16), int(m.group(2), 16)
                if reg == UART_LCR:
                    lcr = value
                elif reg == UART_THR and not lcr & UART_LCR_DLAB:
                    text.append(value)
                    line += value == 0x0a
            elif "serial_write" not in raw:
                e = EVENT.match(raw)
                events.append((e.group(1) if e else raw, line, raw))
    return text.decode("utf-8", "replace"), events


def cases_by_line(report):
    """[(result line, path)] of every case, in log order."""
    out, stack = [], [(r, 0) for r in reversed(report.results)]
    while stack:
        r, depth = stack.pop()
        if depth and not r.children:
            out.append((r.line, r.path))
        stack.extend((c, depth + 1) for c in reversed(r.children))
    return sorted(out)


def charge(events, report, text):
    """{case or phase: [events]}: an event belongs to the case whose result
    line is the first at or after the line being written when it happened."""
    lines = text.split("\n")
    start = next((i + 1 for i, s in enumerate(lines) if s.strip("\r ") == bareio_ktap.START_BANNER), 0)
    end = next((i + 1 for i, s in enumerate(lines) if s.strip("\r ") == bareio_ktap.END_BANNER), len(lines))
    cases = cases_by_line(report)
    out = {}
    for name, line, raw in events:
        if line <= start:
            where = "(bring-up, before the KTAP report)"
        elif line > end:
            where = "(after the KTAP report: shutdown)"
        else:
            where = next((path for at, path in cases if at >= line), "(after the last case)")
        out.setdefault(where, []).append((name, raw))
    return out


def test_full_run_draws_no_guest_mistake_and_errors_only_from_negative_cases(boot, kernel, tmp_path):
    trace = str(tmp_path / "trace.log")
    args = [a for e in TRACE_EVENTS for a in ("-trace", e)]
    b = boot("--kernel", kernel, "--disks", "default", "--", *args, "-D", trace, timeout=300)
    assert_clean_pass(b)
    text, events = read_trace(trace)
    with open(b.log_path, "rb") as f:
        assert text.replace("\r", "") == f.read().decode("utf-8", "replace").replace("\r", ""), \
            "the serial text rebuilt from the trace is not the serial log"
    charged = charge(events, bareio_ktap.parse_log(text), text)
    shown = "\n".join(f"{where}: {raw}" for where, evs in charged.items() for _, raw in evs)

    mistakes = [f"{where}: {raw}" for where, evs in charged.items() for name, raw in evs if MISTAKE.match(name)]
    assert not mistakes, "QEMU saw guest mistakes:\n" + "\n".join(mistakes)
    stray = {where: sorted({n for n, _ in evs}) for where, evs in charged.items()
             if where not in NEGATIVE_CASES or not {n for n, _ in evs} <= NEGATIVE_CASES[where]}
    assert not stray, f"error events outside the negative cases' own: {stray}\n{shown}"
    assert set(charged) == set(NEGATIVE_CASES), \
        f"negative cases that drew no error from the device: {sorted(set(NEGATIVE_CASES) - set(charged))}\n{shown}"
    assert os.path.getsize(trace) > 0
