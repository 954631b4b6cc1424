# SPDX-License-Identifier: MIT
"""tests/tools/test_spdx.py — every source, script and build file says its
licence in its first lines (`SPDX-License-Identifier: MIT`, the LICENSE file's),
so a lab can take any one file on its own. Data files (sample logs, fuzz
corpora, dictionaries) and prose (*.md) are not sources."""
import os
import subprocess

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TAG = "SPDX-License-Identifier: MIT"
NOT_SOURCES = (".md", ".log", ".dict")


def tracked_files():
    out = subprocess.run(["git", "ls-files", "--cached", "--others", "--exclude-standard"],
                         cwd=ROOT, capture_output=True, text=True)
    if out.returncode != 0:             # not a git checkout: walk the tree
        files = []
        for d, dirs, names in os.walk(ROOT):
            dirs[:] = [x for x in dirs if x not in (".git", "build") and not x.startswith(".")]
            files += [os.path.relpath(os.path.join(d, n), ROOT) for n in names]
        return files
    return out.stdout.split()


def is_source(path):
    name = os.path.basename(path)
    return not ("/corpus/" in path or path.endswith(NOT_SOURCES) or name in (".gitignore", "LICENSE")
                or path.startswith("build/"))


def test_every_source_file_has_an_spdx_line():
    missing = []
    for path in tracked_files():
        full = os.path.join(ROOT, path)
        if not is_source(path) or not os.path.isfile(full):
            continue
        with open(full, "rb") as f:
            head = f.read(400).decode("utf-8", "replace").splitlines()[:3]
        if not any(TAG in line for line in head):
            missing.append(path)
    assert not missing, "no SPDX line in the first three lines of: " + ", ".join(sorted(missing))


def test_the_licence_is_there_and_is_mit():
    with open(os.path.join(ROOT, "LICENSE")) as f:
        text = f.read()
    assert text.startswith("MIT License")
    assert "Permission is hereby granted, free of charge" in text
