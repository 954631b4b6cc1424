# SPDX-License-Identifier: MIT
"""tests/scenarios/test_lava.py — bareio run by LAVA for real: Debian's
lava-dispatcher (2023.01; tools/install-deps --lava installs it when it is
missing, and a machine where that fails fails here, it does not skip) runs
`lava-run` on jobs from tools/lava/qemu-job with tools/lava/qemu-device.yaml,
and the cases LAVA recorded must be the KTAP report's, name for name and
pass/fail/skip for pass/fail/skip, with the verdict as its own case.

lava-run writes the job's result to OUT/result.yaml and everything else, on stderr —
the serial lines (`lvl: target`) and each test case (`lvl: results`) — as one
YAML mapping a line on its output, which the test keeps as OUT/lava.log. The
serial log is rebuilt from the target lines and read with tools/bareio_ktap.py.
lava-run wants root (it says so and exits 1): through sudo -n when not root.
"""
import os
import shutil
import subprocess
import sys

import pytest

from conftest import TOOLS, bareio_ktap, scratch_image

LAVA = os.path.join(TOOLS, "lava")
DEVICE = os.path.join(LAVA, "qemu-device.yaml")
sys.path.insert(0, LAVA)
import bareio_lava  # noqa: E402


@pytest.fixture(scope="session")
def lava_run():
    """The lava-run command (with sudo when not root), installed if missing."""
    if not shutil.which("lava-run"):
        p = subprocess.run([os.path.join(TOOLS, "install-deps"), "--lava"], capture_output=True, text=True,
                           timeout=1800)
        if p.returncode != 0 or not shutil.which("lava-run"):
            pytest.fail(f"lava-run is missing and tools/install-deps --lava could not install it "
                        f"(exit {p.returncode}):\n{p.stdout}{p.stderr}")
    if os.geteuid() == 0:
        return ["lava-run"]
    if shutil.which("sudo") and subprocess.run(["sudo", "-n", "true"], capture_output=True).returncode == 0:
        return ["sudo", "-n", "lava-run"]
    pytest.fail("lava-run must run as root and there is no password-less sudo")


def yaml_module():
    import yaml     # python3-yaml: a dependency of lava-dispatcher
    return yaml


class LavaRun:
    def __init__(self, out, job_text, rc, log_lines):
        self.out, self.job_text, self.rc = out, job_text, rc
        yaml = yaml_module()
        self.records = [yaml.safe_load(line) for line in log_lines if line.startswith("{")]
        with open(os.path.join(out, "result.yaml")) as f:
            self.job_result = yaml.safe_load(f)
        # The serial port as LAVA logged it: ShellLogger drops CRs and blank
        # lines and escapes double quotes.
        self.serial = "\n".join(r["msg"].replace('\\"', '"') for r in self.records if r["lvl"] == "target") + "\n"
        self.cases = [r["msg"] for r in self.records
                      if r["lvl"] == "results" and r["msg"].get("definition") == bareio_lava.MONITOR_NAME]
        self.report = bareio_ktap.parse_log(self.serial)

    def recorded(self):
        """[(name as printed, LAVA result)] in the order LAVA recorded them."""
        return [(c["extra"]["test_case_id"], c["result"]) for c in self.cases]

    def lava_case(self, name):
        return next(r["msg"] for r in self.records if r["lvl"] == "results" and r["msg"].get("case") == name
                    and r["msg"].get("definition") == "lava")

    def describe(self):
        tail = "\n".join(self.serial.splitlines()[-40:])
        return (f"lava-run exit {self.rc}; result.yaml {self.job_result}\nrecorded: {self.recorded()}\n"
                f"--- serial (tail) ---\n{tail}\n--- job ---\n{self.job_text}")


@pytest.fixture
def lava(lava_run, tmp_path):
    """lava(*qemu_job_args) -> LavaRun: makes the job, runs lava-run on it."""
    count = [0]

    def run(*job_args, timeout=300):
        count[0] += 1
        out = str(tmp_path / f"lava-{count[0]}")
        os.makedirs(out)
        p = subprocess.run([sys.executable, os.path.join(LAVA, "qemu-job"), *job_args], capture_output=True,
                           text=True, timeout=600)
        assert p.returncode == 0, p.stderr
        job = os.path.join(out, "job.yaml")
        with open(job, "w") as f:
            f.write(p.stdout)
        # The job id names lava-run's download directory (/var/lib/lava/dispatcher/tmp/ID):
        # unique, so parallel workers do not share it.
        job_id = f"bareio-{os.getpid()}-{count[0]}-{os.path.basename(str(tmp_path))}"
        r = subprocess.run([*lava_run, "--job-id", job_id, "--device", DEVICE, "--output-dir", out, job],
                           capture_output=True, text=True, timeout=timeout)
        with open(os.path.join(out, "lava.log"), "w") as f:
            f.write(r.stdout + r.stderr)
        return LavaRun(out, p.stdout, r.returncode, (r.stdout + r.stderr).splitlines())
    return run


def ktap_leaves(report):
    """[(path, status)] of every leaf result in log order."""
    out = []

    def walk(results):
        for res in results:
            if res.children:
                walk(res.children)
            else:
                out.append((res.path, res.status))
    walk(report.results)
    return out


def check_matches_ktap(run: LavaRun, verdict: str):
    """LAVA recorded every leaf of the KTAP report, in order, with its
    status, then the verdict; LAVA's own case names follow its rule."""
    r = run.report
    assert r.found_start and r.found_end and not r.problems, run.describe()
    want = ktap_leaves(r) + [(bareio_lava.VERDICT_CASE, "pass" if verdict == "pass" else "fail")]
    assert run.recorded() == want, run.describe()
    assert [c["case"] for c in run.cases] == [bareio_lava.lava_case_name(n) for n, _ in want], run.describe()
    assert len({c["case"] for c in run.cases}) == len(run.cases), "two cases share a LAVA name\n" + run.describe()
    # The verdict line's text: LAVA's ShellLogger logs a line only when its
    # LF has come, and the monitor ends at the line's CR, so under load the
    # logged serial can stop just before it (seen once in CI on the ISO run).
    # When the line is there it must carry the report's totals; the verdict
    # itself is the recorded bareio-result case, checked above either way.
    verdict_lines = [line for line in run.serial.splitlines() if line.startswith("bareio-result: ")]
    assert verdict_lines in ([], [f"bareio-result: {verdict} passed={r.passed} failed={r.failed} "
                                  f"skipped={r.skipped}"]), run.describe()


def test_clean_run_is_recorded_case_for_case(lava, kernel):
    run = lava("--kernel", kernel, "--append", "tests=lib,time", "--expected-from-build")
    assert run.rc == 0 and run.job_result["result"] == "pass", run.describe()
    check_matches_ktap(run, "pass")
    assert run.report.passed >= 15 and run.report.failed == 0, run.describe()
    # The expected list the generator made from the build is what LAVA recorded.
    yaml = yaml_module()
    expected = yaml.safe_load(run.job_text)["metadata"]["bareio.expected"]
    assert expected == [n for n, _ in run.recorded()], run.describe()
    assert run.lava_case("lava-test-monitor")["result"] == "pass", run.describe()


def test_injected_failure_is_a_failed_case_and_verdict(lava, kernel):
    """One parameterised case whose parameters pass, skip, fail, leak and hang."""
    run = lava("--kernel", kernel, "--append", "tests=selftest.parameters_reported_each,time")
    # The job itself completes: the failures are test cases, not a job error.
    assert run.rc == 0 and run.job_result["result"] == "pass", run.describe()
    check_matches_ktap(run, "fail")
    got = dict(run.recorded())
    case = "selftest.parameters_reported_each"
    assert [got[f"{case}.{p}"] for p in ("passes", "skips", "fails", "leaks", "hangs", "passes_after_a_hang")] \
        == ["pass", "skip", "fail", "fail", "fail", "pass"], run.describe()
    assert got["bareio-result"] == "fail", run.describe()


def test_crash_fails_the_verdict_case(lava, kernel):
    """A page fault: that case fails, the next is reported not run (skip),
    and the verdict `crash` is a failed bareio-result case."""
    run = lava("--kernel", kernel, "--append", "tests=time,selftest.trigger_page_fault,selftest.trigger_panic")
    assert run.job_result["result"] == "pass", run.describe()
    check_matches_ktap(run, "crash")
    got = dict(run.recorded())
    assert got["selftest.trigger_page_fault"] == "fail" and got["selftest.trigger_panic"] == "skip", run.describe()
    assert got["bareio-result"] == "fail" and run.report.crash_lines, run.describe()


def test_no_verdict_fails_the_job(lava, kernel):
    """`help` prints the keys and exits before any KTAP: the monitor never
    sees its start, QEMU exits, and LAVA fails the job itself."""
    run = lava("--kernel", kernel, "--append", "help", "--timeout", "60s")
    assert run.rc == 1 and run.job_result["result"] == "fail", run.describe()
    assert run.recorded() == [], run.describe()


def test_hang_fails_the_job_at_the_timeout(lava, kernel, tmp_path):
    """A case that hangs with interrupts off prints nothing more: no verdict
    comes, the test action's timeout ends the monitor with a TestError and
    LAVA fails the job; LAVA's finalize stops the hung QEMU."""
    run = lava("--kernel", kernel, "--append", "tests=time,selftest.hang_with_interrupts_off", "--timeout", "20s")
    assert run.rc == 1 and run.job_result["result"] == "fail", run.describe()
    assert run.job_result["error_type"] == "Test" and "timed out" in run.job_result["error_msg"], run.describe()
    assert [n for n, _ in run.recorded()] == [n for n, _ in ktap_leaves(run.report)], run.describe()
    assert "bareio-result" not in dict(run.recorded()), run.describe()
    left = subprocess.run(["pgrep", "-f", f"{os.path.basename(str(tmp_path))}.*bareio"], capture_output=True, text=True)
    assert left.stdout == "", f"QEMU left running: {left.stdout}"


def test_scratch_disks_are_attached_and_the_originals_unchanged(lava, kernel, tmp_path):
    """An NVMe and an AHCI scratch image deployed to tmpfs: the drivers'
    suites and the dio harness run on them (about 50 KB of serial output, so
    LAVA reads it in many pieces), every case is recorded whole, the expected
    list from a read-only reference boot with the same disks is what LAVA
    recorded, and the run wrote LAVA's copies, not the files."""
    nvme, ahci = scratch_image(tmp_path, "nvme0n1"), scratch_image(tmp_path, "ahci0")
    before = [open(p, "rb").read() for p in (nvme, ahci)]
    run = lava("--kernel", kernel, "--append", "tests=preflight,nvme,ahci,dio", "--disk", nvme + ":nvme",
               "--disk", ahci + ":ahci", "--expected-from-build")
    assert run.rc == 0 and run.job_result["result"] == "pass", run.describe()
    check_matches_ktap(run, "pass")
    assert not run.report.find("nvme").skipped and not run.report.find("ahci").skipped, run.describe()
    assert "serial bareio-nvme0" in run.serial or "bareio-nvme0" in run.serial, run.describe()
    assert "bareio-manifest: begin device=nvme0n1" in run.serial, run.describe()
    expected = yaml_module().safe_load(run.job_text)["metadata"]["bareio.expected"]
    assert expected == [n for n, _ in run.recorded()], run.describe()
    assert [open(p, "rb").read() for p in (nvme, ahci)] == before


def test_iso_boots_from_the_cd(lava, make_iso):
    """--iso: the ISO (tools/mkiso, GRUB on a CD-ROM on AHCI's ide.5) deployed to tmpfs."""
    run = lava("--iso", make_iso("tests=time"))
    assert run.rc == 0 and run.job_result["result"] == "pass", run.describe()
    check_matches_ktap(run, "pass")
    assert [n for n, _ in run.recorded()][:1] == ["time.clock_is_monotonic"], run.describe()


@pytest.mark.parametrize("template", ["x86-ipxe-job.yaml", "x86-grub-job.yaml"])
def test_real_device_templates_pass_lavas_schema(template):
    """The templates for lab machines cannot boot here; LAVA's own job
    schema (lava_common.schemas.validate, strict, as the server checks a
    submitted job) accepts them, and their monitor is qemu-job's."""
    from lava_common.schemas import validate
    yaml = yaml_module()
    with open(os.path.join(LAVA, template)) as f:
        job = yaml.safe_load(f)
    validate(job, strict=True)
    test = next(a["test"] for a in job["actions"] if "test" in a)
    assert test["monitors"] == [bareio_lava.monitor()]


def test_qemu_job_passes_lavas_schema_and_expected_would_not(kernel):
    from lava_common.schemas import validate
    yaml = yaml_module()
    p = subprocess.run([sys.executable, os.path.join(LAVA, "qemu-job"), "--kernel", kernel, "--append", "tests=lib",
                        "--expected", "lib.lib_memory_functions,bareio-result"],
                       capture_output=True, text=True, check=True)
    job = yaml.safe_load(p.stdout)
    validate(job, strict=True)
    # 2023.01's monitors have no `expected`: the list lives in the metadata.
    job["actions"][2]["test"]["monitors"][0]["expected"] = ["lib.lib_memory_functions"]
    with pytest.raises(Exception):
        validate(job, strict=True)


def test_pattern_keeps_names_whole_across_reads():
    """The monitor's pattern on the serial text as LAVA's pexpect sees it,
    fed in pieces: no match until a line's CR has arrived, names whole,
    and the verdict line both a case and the end."""
    import re
    pattern, end = re.compile(bareio_lava.PATTERN), re.compile(bareio_lava.END)
    text = ("  # bareio-case: pass lib.lib_memory_fill\r\r\n    # bareio-case: skip bench.bench_jobs.qd1-none\r\r\n"
            "# bareio-case: fail nvme\r\r\n=== bareio KTAP END ===\r\r\nbareio-result: crash passed=1 failed=1 skipped=1\r\r\n")
    for cut in range(len(text)):
        m = pattern.search(text[:cut])
        if m and m.group("test_case_id") != "bareio-result":
            assert text[m.end()] == "\r"
    got, buf = [], text
    while True:
        m, e = pattern.search(buf), end.search(buf)
        if e and (not m or e.start() <= m.start()):
            break
        got.append((m.group("test_case_id"), bareio_lava.FIXUPDICT[m.group("result")]))
        buf = buf[m.end():]
    assert got == [("lib.lib_memory_fill", "pass"), ("bench.bench_jobs.qd1-none", "skip"), ("nvme", "fail"),
                   ("bareio-result", "fail")]
    # What earlier patterns did (both seen under lava-run on a full run): with
    # nothing after the name, a read that ends inside it records the part that
    # had arrived; with `\r?\n` after it, LAVA's CR CR LF never matches.
    naive = re.compile(r"bareio-case: (?P<result>pass|fail|skip) (?P<test_case_id>\S+)")
    assert naive.search(text[:34]).group("test_case_id") == "lib.lib_memo"
    assert not re.search(r"bareio-case: (?P<result>pass|fail|skip) (?P<test_case_id>\S+)\r?\n", text)
