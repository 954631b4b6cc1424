# SPDX-License-Identifier: MIT
"""tests/scenarios/test_screen.py — the screen console as the person at the
machine sees it (issue 14): each run ends with exit=halt, the test waits for
the halt line on serial, takes a picture of the display through QEMU's monitor
(HMP `screendump`, a PPM in QEMU 7.2) and reads it with tesseract OCR:

- under SeaBIOS (QEMU -kernel, Multiboot1) in VGA text mode, a PASS run and a
  FAIL run (a RAM disk with an injected media error);
- under OVMF (the ISO through GRUB, Multiboot2) on the 1024x768 framebuffer
  GRUB sets for bareio's header, a PASS run and a CRASH (a page fault), and
  the same ISO under SeaBIOS on a VBE framebuffer;
- screen=off leaves the display alone; UEFI without a display has no screen.

The banner is checked twice: its band has the verdict's colour (green for
PASS, red otherwise) over most of its rows, and OCR of the band alone reads
the word; the kept lines under it (summary, totals, the exception) are read
from the whole picture, device names included. OCR mixes up 0/O and 1/l/I, so
both sides are folded first, and a name counts as found when a word of the
OCR text is at most one letter off it. Every picture is kept, as PNG, in
$BAREIO_BUILD/screens/ (the test's name), for a person to look at.
"""
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time

import pytest

from conftest import BUILD, FAIL, PASS, TOOLS

try:
    from PIL import Image, ImageFilter
except ImportError:         # python3-pil: Debian's /usr/bin/python3 has it with matplotlib
    Image = None

pytestmark = [
    pytest.mark.skipif(Image is None, reason="PIL (python3-pil) is missing"),
    pytest.mark.skipif(shutil.which("tesseract") is None,
                       reason="tesseract is missing (tools/install-deps installs tesseract-ocr)"),
]

SCREENS = os.path.join(BUILD, "screens")
HALT_LINE = "bareio: halted (exit status"
VGA = ["-device", "VGA"]        # run-qemu boots with -nodefaults: no display unless asked
DIO_CASES = "tests=dio.dio_zero_length,dio.dio_lba_past_end"
# In VGA text mode one font dot of the banner is two 9-pixel cells wide and
# half a 16-pixel cell tall (18 x 8 pixels); OCR wants the letters upright.
TEXT_BANNER_SQUASH = 18 / 8


class Shot:
    def __init__(self, log, image_path, status):
        self.log, self.image_path, self.status = log, image_path, status
        self.image = Image.open(image_path).convert("RGB")


def monitor(sock_path, command):
    with socket.socket(socket.AF_UNIX) as s:
        s.settimeout(10)
        s.connect(sock_path)
        s.sendall(command.encode() + b"\n")
        time.sleep(1.0)             # HMP answers with an echo and a prompt; the file is written by then


def boot_and_shoot(request, tmp_path, *args, timeout=300):
    """Boots with run-qemu (plus a VGA and a monitor socket), waits for the
    halt line, takes the screendump, quits QEMU. Returns a Shot."""
    name = request.node.name.replace("[", "-").replace("]", "")
    log_path = str(tmp_path / "serial.log")
    sockdir = tempfile.mkdtemp(prefix="bareio-mon-")      # a short path: sockets take 108 bytes
    sock = os.path.join(sockdir, "hmp.sock")
    qemu_extra = ["-monitor", f"unix:{sock},server=on,wait=off"]
    args = list(args)
    if "--" in args:
        args += qemu_extra
    else:
        args += ["--", *qemu_extra]
    cmd = [sys.executable, os.path.join(TOOLS, "run-qemu"), "--quiet", "--log", log_path,
           "--timeout", str(timeout), "--disk-dir", str(tmp_path / "disks"), *args]
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                         env={k: v for k, v in os.environ.items() if k != "ACCEL"})
    log = ""
    try:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and p.poll() is None:
            if os.path.exists(log_path):
                with open(log_path, "rb") as f:
                    log = f.read().decode("utf-8", "replace").replace("\r", "")
                if HALT_LINE in log:
                    break
            time.sleep(0.3)
        assert HALT_LINE in log, f"no halt line (run-qemu {p.poll()}):\n{log[-3000:]}"
        os.makedirs(SCREENS, exist_ok=True)
        ppm = str(tmp_path / "screen.ppm")
        monitor(sock, f"screendump {ppm}")
        for _ in range(50):
            if os.path.exists(ppm) and os.path.getsize(ppm) > 0:
                break
            time.sleep(0.2)
        monitor(sock, "quit")
        p.wait(timeout=60)
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
        shutil.rmtree(sockdir, ignore_errors=True)
    png = os.path.join(SCREENS, f"{name}.png")
    Image.open(ppm).save(png)
    status = {"0x10": PASS, "0x11": FAIL}.get(log.split(HALT_LINE, 1)[1].split(")")[0].strip(), None)
    return Shot(log, png, status)


# ---- reading the picture ----

def tesseract(img, *opts):
    with tempfile.NamedTemporaryFile(suffix=".png") as f:
        img.save(f.name)
        return subprocess.run(["tesseract", f.name, "-", *opts], capture_output=True, text=True,
                              timeout=120).stdout


def smooth_for_ocr(mask, factor):
    """Ink black on white, enlarged and smoothed: the font's square dots read
    better as strokes."""
    big = mask.resize((mask.width * factor, mask.height * factor), Image.BICUBIC)
    return big.filter(ImageFilter.GaussianBlur(factor)).point(lambda v: 0 if v < 140 else 255)


def screen_text(shot, text_mode):
    """OCR of the whole picture as one block of lines (--psm 6). Text is light
    on black (grey or white), the band mid-dark: ink is what is brighter than
    128. QEMU draws VGA text in the VGA BIOS's own font, which reads best just
    enlarged; bareio's font on the framebuffer, enlarged and smoothed."""
    mask = shot.image.convert("L").point(lambda v: 0 if v > 128 else 255)
    if text_mode:
        big = mask.resize((mask.width * 3, mask.height * 3), Image.NEAREST)
    else:
        big = smooth_for_ocr(mask, 3)
    return tesseract(big, "--psm", "6")


def band_colour(rgb):
    r, g, b = rgb
    if g > 120 and r < 60 and b < 60:
        return "green"
    if r > 150 and g < 60 and b < 60:
        return "red"
    return None


def banner(shot, squash):
    """(colour, rows, word): the band's colour, how many pixel rows carry it
    over more than half the width, and OCR of the band alone."""
    img = shot.image
    w, h = img.size
    px = img.load()
    rows = []
    colours = {}
    for y in range(h):
        seen = {}
        for x in range(0, w, 4):
            c = band_colour(px[x, y])
            if c:
                seen[c] = seen.get(c, 0) + 1
        if seen:
            c, n = max(seen.items(), key=lambda kv: kv[1])
            if n > (w // 4) // 2:
                rows.append(y)
                colours[c] = colours.get(c, 0) + 1
    if not rows:
        return None, 0, ""
    colour = max(colours.items(), key=lambda kv: kv[1])[0]
    top, bottom = rows[0], rows[-1] + 1
    band = img.crop((0, top, w, bottom)).convert("L")
    letters = band.point(lambda v: 0 if v > 200 else 255)          # white letters -> ink
    letters = letters.resize((max(1, round(w / squash)), bottom - top), Image.BOX)
    letters = letters.point(lambda v: 0 if v < 128 else 255)
    pad = Image.new("L", (letters.width + 80, letters.height + 80), 255)
    pad.paste(letters, (40, 40))
    word = tesseract(smooth_for_ocr(pad, 2), "--psm", "7").strip()
    return colour, len(rows), word


FOLD = str.maketrans({"O": "0", "o": "0", "Q": "0", "D": "0", "l": "1", "I": "1", "i": "1",
                      "|": "1", "!": "1"})


def distance(a, b):
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i]
        for j, cb in enumerate(b, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb)))
        prev = cur
    return prev[-1]


def ocr_has(text, word):
    """`word` is in the OCR text, 0/O and 1/l/I folded, at most one letter off."""
    folded, want = text.translate(FOLD), word.translate(FOLD)
    if want in folded:
        return True
    return any(distance(token.strip(".,:;()"), want) <= 1 for token in folded.split())


def assert_screen(shot, verdict, colour, names, squash):
    got_colour, band_rows, word = banner(shot, squash)
    text = screen_text(shot, text_mode=squash != 1)
    where = f"\nOCR of the banner: {word!r}\nOCR of the screen:\n{text}\npicture: {shot.image_path}"
    assert got_colour == colour and band_rows >= 40, \
        f"banner band {got_colour} over {band_rows} rows, wanted {colour}{where}"
    assert verdict in word.replace(" ", "").upper(), f"banner is not {verdict}{where}"
    for name in names:
        assert ocr_has(text, name), f"{name!r} not on the screen{where}"
    return text


# ---- SeaBIOS, -kernel: VGA text mode ----

def test_screen_pass_in_vga_text_mode(request, tmp_path, kernel):
    shot = boot_and_shoot(request, tmp_path, "--kernel", kernel, "--disks", "default",
                          "--append", f"{DIO_CASES} exit=halt", "--", *VGA)
    assert shot.status == PASS, shot.log[-3000:]
    assert "screen: VGA text 80x25 at 0xb8000" in shot.log
    assert_screen(shot, "PASS", "green", ["ahci0p0", "nvme0n1", "vblk0", "passed"], TEXT_BANNER_SQUASH)


def test_screen_fail_in_vga_text_mode(request, tmp_path, kernel):
    shot = boot_and_shoot(request, tmp_path, "--kernel", kernel, "--disks", "none",
                          "--append", "tests=dio blk.ramdisk=16M blk.ramdisk.fault=media@266 exit=halt",
                          "--", *VGA)
    assert shot.status == FAIL, shot.log[-3000:]
    text = assert_screen(shot, "FAIL", "red", ["ram0", "failed"], TEXT_BANNER_SQUASH)
    assert ocr_has(text, "media") and ocr_has(text, "error"), text


def test_screen_off_leaves_the_display_alone(request, tmp_path, kernel):
    shot = boot_and_shoot(request, tmp_path, "--kernel", kernel, "--disks", "none",
                          "--append", "tests=lib exit=halt screen=off", "--", *VGA)
    assert shot.status == PASS
    assert "screen: off (screen=off)" in shot.log
    colour, rows, _ = banner(shot, TEXT_BANNER_SQUASH)
    assert rows == 0, f"a {colour} band with screen=off: {shot.image_path}"
    assert not ocr_has(screen_text(shot, text_mode=True), "passed")


# ---- OVMF, the ISO through GRUB: the framebuffer ----

def test_screen_pass_on_the_uefi_framebuffer(request, tmp_path, make_iso):
    iso = make_iso(f"{DIO_CASES} exit=halt")
    shot = boot_and_shoot(request, tmp_path, "--iso", iso, "--boot", "cdrom", "--firmware", "uefi",
                          "--disks", "default", "--", *VGA, timeout=400)
    assert shot.status == PASS, shot.log[-3000:]
    assert "screen: framebuffer 1024x768, 32 bpp" in shot.log, shot.log[:3000]
    assert shot.image.size == (1024, 768)
    assert_screen(shot, "PASS", "green", ["ahci0p0", "nvme0n1", "vblk0", "passed"], 1)


def test_screen_crash_on_the_uefi_framebuffer(request, tmp_path, make_iso):
    iso = make_iso("tests=selftest.trigger_page_fault exit=halt")
    shot = boot_and_shoot(request, tmp_path, "--iso", iso, "--boot", "cdrom", "--firmware", "uefi",
                          "--disks", "none", "--", *VGA, timeout=400)
    assert "bareio: EXCEPTION #PF page fault" in shot.log
    assert_screen(shot, "CRASH", "red", ["EXCEPTION", "page", "fault", "selftest.trigger", "passed"], 1)


def test_screen_pass_on_a_vbe_framebuffer_under_seabios(request, tmp_path, make_iso):
    """The same ISO under SeaBIOS: GRUB sets the VBE mode bareio's header asks for."""
    shot = boot_and_shoot(request, tmp_path, "--iso", make_iso("tests=lib exit=halt"), "--boot", "cdrom",
                          "--firmware", "bios", "--disks", "none", "--", *VGA)
    assert shot.status == PASS, shot.log[-3000:]
    assert "screen: framebuffer 1024x768, 32 bpp" in shot.log, shot.log[:3000]
    assert_screen(shot, "PASS", "green", ["passed", "KTAP"], 1)


def test_screen_none_under_uefi_without_a_display(boot, make_iso):
    """No VGA: GRUB finds no GOP and passes no framebuffer tag; bareio draws nowhere."""
    b = boot("--iso", make_iso("tests=lib"), "--boot", "cdrom", "--firmware", "uefi", "--disks", "none",
             timeout=300)
    assert b.status == PASS, b.describe()
    assert "screen: none (the loader passed no framebuffer)" in b.log, b.describe()
