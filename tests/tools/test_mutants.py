# SPDX-License-Identifier: MIT
"""tests/tools/test_mutants.py — tools/mutate and tests/mutants.list.

The list must not go stale: every mutant's `from` is still the text of
exactly one line of its file, its test kind is known and a host filter names
a test that exists (`tools/mutate --check`, cheap enough for `make test`;
`make mutate` itself runs the mutants). The parser and the checks are tested
on lists of their own.
"""
import importlib.machinery
import importlib.util
import os
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
MUTATE = os.path.join(ROOT, "tools", "mutate")


def load():
    loader = importlib.machinery.SourceFileLoader("mutate", MUTATE)
    spec = importlib.util.spec_from_loader("mutate", loader)
    module = importlib.util.module_from_spec(spec)
    loader.exec_module(module)
    return module


mutate = load()


def test_the_list_is_current():
    p = subprocess.run([sys.executable, MUTATE, "--check"], capture_output=True, text=True,
                       timeout=60)
    assert p.returncode == 0, p.stdout + p.stderr
    assert "list OK" in p.stdout


def test_the_list_holds_at_least_40_mutants_over_drivers_blk_harness_and_tools():
    with open(mutate.LIST) as f:
        mutants = mutate.parse(f.read())
    assert len(mutants) >= 40
    tops = {m.file.split("/")[0] + ("/" + m.file.split("/")[1]
                                    if m.file.startswith(("drivers", "tests")) else "")
            for m in mutants}
    for part in ("drivers/nvme", "drivers/ahci", "drivers/blk", "tests/harness", "lib", "tools"):
        assert part in tops, part
    files = {m.file for m in mutants}
    assert "tests/harness/ktest.c" in files and "tests/harness/dio.c" in files


BLOCK = """mutant a-bug
file {file}
from {frm}
to {to}
test host {test}
"""


def check_one(tmp_path, text, frm, to="x = 2;", test="string_strlen"):
    (tmp_path / "f.c").write_text(text)
    for d in ("tests/host", "tests/host/hw"):
        os.makedirs(tmp_path / d, exist_ok=True)
    (tmp_path / "tests/host/test_x.c").write_text("HTEST(string_strlen_counts)\n")
    mutants = mutate.parse(BLOCK.format(file="f.c", frm=frm, to=to, test=test))
    return mutate.check(mutants, root=str(tmp_path))


def test_check_finds_a_line_that_is_gone(tmp_path):
    problems = check_one(tmp_path, "int y;\n", "x = 1;")
    assert problems and "no longer a line" in problems[0]


def test_check_finds_a_line_that_is_there_twice(tmp_path):
    problems = check_one(tmp_path, "  x = 1;\nx = 1;   \n", "x = 1;")
    assert problems and "on 2 lines" in problems[0]


def test_check_takes_a_line_once_whatever_its_indentation(tmp_path):
    assert check_one(tmp_path, "int y;\n        x = 1;\n", "x = 1;") == []


def test_a_part_of_a_line_is_not_the_line(tmp_path):
    problems = check_one(tmp_path, "x = 1; y = 2;\n", "x = 1;")
    assert problems and "no longer a line" in problems[0]


def test_check_finds_a_host_filter_that_selects_nothing(tmp_path):
    problems = check_one(tmp_path, "x = 1;\n", "x = 1;", test="no_such_test")
    assert problems and "no host test name contains 'no_such_test'" in problems[0]


@pytest.mark.parametrize("text,words", [
    ("file f.c\n", "before any 'mutant NAME' line"),
    ("mutant Bad_Name\n", "lower-case words"),
    ("mutant a\nfile f.c\nfrom x\nto x\ntest host y\n", "from and to are the same"),
    ("mutant a\nfile f.c\nfrom x\nto y\ntest unit y\n", "test kind 'unit'"),
    ("mutant a\nfile f.c\nto y\ntest host y\n", "no from line"),
    ("mutant a\nfile f.c\nfrom x\nto y\ntest host\n", "names no test"),
    ("mutant a\nfile f.c\nfrom x\nto y\ntest host z\nmutant a\nfile f.c\nfrom x\nto y\ntest host z\n",
     "a second mutant of that name"),
    ("mutant a\nfile f.c\nwhere x\n", "unknown key 'where'"),
])
def test_malformed_lists_are_refused(text, words):
    with pytest.raises(mutate.ListError, match=words.replace("(", r"\(").replace(")", r"\)")):
        mutate.parse(text)


def test_apply_keeps_the_indentation_and_puts_the_line_back(tmp_path):
    path = tmp_path / "f.c"
    path.write_text("int f(void)\n{\n    return a < b;\n}\n")
    m = mutate.parse(BLOCK.format(file="f.c", frm="return a < b;", to="return a <= b;", test="t"))[0]
    original = mutate.apply(str(path), m, True)
    assert path.read_text() == "int f(void)\n{\n    return a <= b;\n}\n"
    assert original == "int f(void)\n{\n    return a < b;\n}\n"
