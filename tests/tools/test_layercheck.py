# SPDX-License-Identifier: MIT
"""tests/tools/test_layercheck.py — tools/layercheck on small trees of its own.

Each test compiles a few C files laid out like bareio's tree (kernel/,
drivers/<name>/, tests/harness/, ...) into objects named as the Makefile
names them (build/obj/<path>.c.o) and runs the checker on them: a tree whose
calls all go down passes; a call up the tree, one controller driver using
another, or files of one folder calling each other in a circle, each fail
with the files and symbols named. The real kernel is checked by `make layers`
(part of `make test`).
"""
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
LAYERCHECK = os.path.join(ROOT, "tools", "layercheck")


def build(tmp_path, files):
    """files: {path: C source}; returns the object directory."""
    objdir = tmp_path / "obj"
    for path, source in files.items():
        src = tmp_path / "src" / path
        src.parent.mkdir(parents=True, exist_ok=True)
        src.write_text(source)
        obj = objdir / (path + ".o")
        obj.parent.mkdir(parents=True, exist_ok=True)
        subprocess.run(["cc", "-c", "-O0", str(src), "-o", str(obj)], check=True)
    return objdir


def run(objdir, *extra):
    return subprocess.run([sys.executable, LAYERCHECK, "--objdir", str(objdir), *extra],
                          capture_output=True, text=True)


# A small tree whose calls all go down: harness → blk → kernel → lib, and a
# driver → blk, with two files of one driver in layers.
GOOD = {
    "lib/string.c": "int lib_len(const char *s) { int n = 0; while (s[n]) n++; return n; }\n",
    "kernel/console.c": "int lib_len(const char *);\nint kputs(const char *s) { return lib_len(s); }\n",
    "drivers/blk/blk.c": "int kputs(const char *);\nint blk_register(void) { return kputs(\"x\"); }\n",
    "drivers/foo/foo_io.c": "int blk_register(void);\nint foo_io(void) { return blk_register(); }\n",
    "drivers/foo/foo_hba.c": "int foo_io(void);\nint foo_init(void) { return foo_io(); }\n",
    "tests/harness/ktest.c": "int blk_register(void);\nint ktest_run(void) { return blk_register(); }\n",
}


def test_a_layered_tree_passes_and_prints_its_layers(tmp_path):
    r = run(build(tmp_path, GOOD), "-v")
    assert r.returncode == 0, r.stdout + r.stderr
    assert "every call goes down a layer" in r.stdout
    assert "drivers/foo: foo_hba.c → foo_io.c" in r.stdout


def test_the_kernel_calling_the_harness_fails(tmp_path):
    files = dict(GOOD)
    files["kernel/panic.c"] = "const char *ktest_current(void);\nconst char *who(void) { return ktest_current(); }\n"
    files["tests/harness/ktest.c"] += "const char *ktest_current(void) { return 0; }\n"
    r = run(build(tmp_path, files))
    assert r.returncode == 1
    assert "kernel/panic.c calls up into tests/harness/ktest.c" in r.stdout
    assert "ktest_current" in r.stdout


def test_lib_using_a_data_symbol_of_the_kernel_fails(tmp_path):
    files = dict(GOOD)
    files["kernel/console.c"] += "int console_level = 3;\n"
    files["lib/format.c"] = "extern int console_level;\nint level(void) { return console_level; }\n"
    r = run(build(tmp_path, files))
    assert r.returncode == 1
    assert "lib/format.c calls up into kernel/console.c" in r.stdout


def test_one_controller_driver_using_another_fails(tmp_path):
    files = dict(GOOD)
    files["drivers/bar/bar.c"] = "int foo_io(void);\nint bar(void) { return foo_io(); }\n"
    r = run(build(tmp_path, files))
    assert r.returncode == 1
    assert "one controller driver uses another" in r.stdout
    assert "drivers/bar/bar.c calls drivers/foo/foo_io.c" in r.stdout


def test_a_circle_inside_a_folder_fails_naming_its_symbols(tmp_path):
    files = dict(GOOD)
    files["drivers/foo/foo_io.c"] += "int foo_reset(void);\nint foo_timeout(void) { return foo_reset(); }\n"
    files["drivers/foo/foo_hba.c"] += "int foo_reset(void) { return 0; }\n"
    r = run(build(tmp_path, files))
    assert r.returncode == 1
    assert "drivers/foo: files call each other in a circle" in r.stdout
    assert "foo_io.c → foo_hba.c (foo_reset)" in r.stdout
    assert "foo_hba.c → foo_io.c (foo_io)" in r.stdout


def test_objects_given_on_the_command_line_are_the_only_ones_read(tmp_path):
    """A stale object of a deleted file must not count when the link's list is given."""
    files = dict(GOOD)
    files["kernel/stale.c"] = "int ktest_run(void);\nint stale(void) { return ktest_run(); }\n"
    objdir = build(tmp_path, files)
    assert run(objdir).returncode == 1          # every object under objdir: the stale one too
    listed = [str(objdir / (p + ".o")) for p in GOOD]
    r = run(objdir, *listed)
    assert r.returncode == 0, r.stdout


def test_no_objects_is_a_usage_error(tmp_path):
    (tmp_path / "empty").mkdir()
    r = run(tmp_path / "empty")
    assert r.returncode == 2
    assert "no object files" in r.stderr
