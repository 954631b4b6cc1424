# SPDX-License-Identifier: MIT
"""tests/scenarios/conftest.py — shared set-up for the QEMU scenarios.

Each scenario boots the real kernel through tools/run-qemu (TCG, always with a
timeout) and gets back a Boot: run-qemu's exit status, the serial log, and the
KTAP report parsed by tools/bareio_ktap.py. The kernel is $BAREIO_BUILD/bareio.elf
(default build/; `make scenario-test` builds it). ISOs with a scenario's own
command line are made with tools/mkiso, once per command line and session.
"""
import hashlib
import os
import re
import subprocess
import sys
import time
from dataclasses import dataclass

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TOOLS = os.path.join(ROOT, "tools")
sys.path.insert(0, TOOLS)
import bareio_ktap  # noqa: E402

BUILD = os.path.join(ROOT, os.environ.get("BAREIO_BUILD", "build"))
KERNEL = os.path.join(BUILD, "bareio.elf")
DEFAULT_ISO = os.path.join(BUILD, "bareio.iso")
# run-qemu's own exit statuses
PASS, FAIL, CRASH, USAGE, OTHER, TIMEOUT = 0, 1, 2, 3, 4, 124


@dataclass
class Boot:
    status: int
    log: str
    stderr: str
    seconds: float
    log_path: str
    report: bareio_ktap.Report

    def loader_line(self) -> str:
        return next((line for line in self.log.splitlines() if line.startswith("bareio: loader ")), "")

    def describe(self) -> str:
        """What to show when a scenario fails: the tail of the log and run-qemu's words."""
        tail = "\n".join(self.log.splitlines()[-60:])
        return (f"run-qemu exit {self.status} after {self.seconds:.1f} s\n--- serial (tail) ---\n{tail}\n"
                f"--- run-qemu ---\n{self.stderr}")


@pytest.fixture(scope="session")
def kernel():
    if not os.path.isfile(KERNEL):
        pytest.fail(f"{KERNEL} is missing: build it with make kernel (or make scenario-test)")
    return KERNEL


@pytest.fixture
def boot(tmp_path):
    """boot(*run_qemu_args, timeout=120) -> Boot; serial log in the test's tmp dir."""
    count = [0]

    def run(*args, timeout=120):
        count[0] += 1
        log_path = str(tmp_path / f"serial-{count[0]}.log")
        cmd = [sys.executable, os.path.join(TOOLS, "run-qemu"), "--quiet", "--log", log_path,
               "--timeout", str(timeout), "--disk-dir", str(tmp_path / "disks"), *args]
        started = time.monotonic()
        # run-qemu enforces `timeout` on QEMU; the margin covers its own start-up.
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout + 60,
                           env={k: v for k, v in os.environ.items() if k != "ACCEL"})
        seconds = time.monotonic() - started
        with open(log_path, "rb") as f:
            log = f.read().decode("utf-8", "replace").replace("\r", "")
        return Boot(p.returncode, log, p.stderr, seconds, log_path, bareio_ktap.parse_log(log))
    return run


@pytest.fixture(scope="session")
def make_iso(kernel, tmp_path_factory):
    """make_iso(cmdline) -> path of an ISO whose grub.cfg passes `cmdline`."""
    made = {}

    def make(cmdline):
        if cmdline not in made:
            out = tmp_path_factory.mktemp("iso") / "bareio.iso"
            subprocess.run([os.path.join(TOOLS, "mkiso"), str(out), cmdline, kernel],
                           check=True, timeout=120)
            made[cmdline] = str(out)
        return made[cmdline]
    return make


def check_ktap(b: Boot, expect=()):
    """Scenario (j): the boot's KTAP report passes tools/ktap-check, run as a user would."""
    p = subprocess.run([sys.executable, os.path.join(TOOLS, "ktap-check"), b.log_path,
                        "--expect", ",".join(expect)], capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, f"ktap-check failed:\n{p.stdout}\n{b.describe()}"


def assert_clean_pass(b: Boot, expect=()):
    assert b.status == PASS, b.describe()
    check_ktap(b, expect)


# ---- helpers the scenarios share ----

def tool(name, *args, check=True):
    """Runs tools/NAME (built into $BAREIO_BUILD) and, unless check=False, asserts exit 0."""
    env = dict(os.environ, BAREIO_BUILD=BUILD)
    p = subprocess.run([os.path.join(TOOLS, name), *map(str, args)], capture_output=True,
                       text=True, timeout=120, env=env)
    if check:
        assert p.returncode == 0, f"{name} {args} exit {p.returncode}:\n{p.stdout}\n{p.stderr}"
    return p


def scratch_image(tmp_path, name, size=64 * 1024 * 1024, label=True):
    """A sparse raw image tmp_path/NAME.img of `size` bytes, with a bareio
    scratch label (tools/mkscratch) unless label=False."""
    path = str(tmp_path / f"{name}.img")
    with open(path, "wb") as f:
        f.truncate(size)
    if label:
        tool("mkscratch", path)
    return path


def sha256(path, start=0, length=None):
    """SHA-256 of a file, or of `length` bytes (to the end when None) from `start`."""
    with open(path, "rb") as f:
        f.seek(start)
        return hashlib.sha256(f.read() if length is None else f.read(length)).hexdigest()


def access(log, dev):
    """The block layer's access line for a device: 'read-only: ...' or 'scratch (...)...'."""
    m = re.search(rf"^{re.escape(dev)}: ((?:read-only|scratch).*)$", log, re.M)
    assert m, f"no access line for {dev}"
    return m.group(1)


def manifest_ranges(log, dev):
    """[(kind, lba, count)] of the device's last manifest."""
    block = log.split(f"bareio-manifest: begin device={dev} ")[-1].split("bareio-manifest: end")[0]
    return [(k, int(a), int(c)) for k, a, c in
            re.findall(r"bareio-manifest: (stamped|zero|deallocated) lba=(\d+) count=(\d+)", block)]


def count(text, pattern):
    """How many lines of `text` match the regular expression (re.M: ^ and $ per line)."""
    return len(re.findall(pattern, text, re.M))


def case_log(b: Boot, path):
    """The diagnostics of one KTAP case ('suite.case') as one text, a line each:
    what the drivers logged while that case ran."""
    found = b.report.find(path)
    assert found is not None, f"{path} missing\n{b.describe()}"
    return "\n".join(found.diagnostics)


# What one recovery looks like in the drivers' own lines, so scenarios count
# recoveries instead of finding one line: an NVMe retry (DNR clear), an AHCI
# NCQ error (QEMU refuses READ LOG EXT 10h), the re-send of a tag without NCQ,
# and an AHCI port error, ended with or without a COMRESET.
def nvme_retry(op, lba, n):
    return rf"nvme0: sq \d+ cid \d+ {op} lba {lba}: .*; retry {n} of 2 \(DNR clear\)$"


AHCI_NCQ_ERROR = r"ahci0p0: NCQ error: NCQ error log unavailable, port reset: READ LOG EXT 10h: "
AHCI_RESENT = r"ahci0p0: NCQ error: tag \d+ \(cmd 6[01]h lba \d+ count \d+\) re-sent without NCQ$"
AHCI_PORT_ERROR = r"ahci0p0: port error; \d+ command\(s\) in flight failed; port restarted"
AHCI_PORT_ERROR_COMRESET = AHCI_PORT_ERROR + r" after COMRESET$"
AHCI_PORT_ERROR_NO_COMRESET = AHCI_PORT_ERROR + r"$"


def ahci_recoveries(text):
    """(NCQ errors, tags re-sent without NCQ, port errors without COMRESET,
    port errors ended by a COMRESET) in `text`."""
    return (count(text, AHCI_NCQ_ERROR), count(text, AHCI_RESENT),
            count(text, AHCI_PORT_ERROR_NO_COMRESET), count(text, AHCI_PORT_ERROR_COMRESET))
