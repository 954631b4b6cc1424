# SPDX-License-Identifier: MIT
"""tests/tools/conftest.py — what the tool tests share: a stand-in kernel for
the image builders (tools/mkusb, tools/mknetboot), which copy it without
reading it, so its bytes must come back unchanged."""
import pytest


@pytest.fixture(scope="module")
def kernel(tmp_path_factory):
    path = tmp_path_factory.mktemp("kernel") / "bareio.elf"
    path.write_bytes(b"\x7fELF" + bytes(range(256)) * 64)
    return path
