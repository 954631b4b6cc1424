# SPDX-License-Identifier: MIT
"""tests/tools/test_verify_image.py — tools/verify-image on synthetic images and
serial logs: blocks seeded with --seed (lib/stamp.c, the kernel's own stamp
code) verify OK; a misdirected, lost, torn or corrupt block, a zero range that
is not zero, the wrong image and an unfinished manifest are each reported with
the LBA, the class and the first differing byte, exit 1; a range outside the
image's scratch range (past its end, over its label or GPT) and an image that is
not scratch by the kernel's rule are mismatches too; --seed writes only where the
kernel would (a disk in use, unlabelled or a range that wraps: refused, image
bytes unchanged); every malformed manifest (the cases that crashed, hung or were
misread before among them) is exit 2 with file:line, in bounded time; usage
errors exit 2."""
import os
import shutil
import struct
import subprocess

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
VERIFY = os.path.join(ROOT, "tools", "verify-image")
MKSCRATCH = os.path.join(ROOT, "tools", "mkscratch")
MiB = 1024 * 1024
SEED = 0x1234ABCD
UUID = bytes(range(0xA0, 0xB0))


def run(*args, timeout=120):
    return subprocess.run([VERIFY, *map(str, args)], capture_output=True, text=True, timeout=timeout)


def seed(img, lba, count, gen, *extra):
    p = run("--seed", img, "--lba", lba, "--count", count, "--seed-value", hex(SEED), "--gen", gen,
            *extra)
    assert p.returncode == 0, p.stderr
    return p


def manifest(path, ranges, identity=UUID, device="nvme0n1", block=512, blocks=65536, end=True,
             prefix=""):
    lines = ["bareio: some other line",
             f'{prefix}bareio-manifest: begin device={device} serial="bareio-x" identity={identity.hex()} '
             f"block={block} blocks={blocks} seed={hex(SEED)}"]
    for r in ranges:
        lines.append(prefix + "bareio-manifest: " + r)
    if end:
        lines.append(f"{prefix}bareio-manifest: end device={device} ranges={len(ranges)}")
    with open(path, "a") as f:
        f.write("\n".join(lines) + "\n")
    return path


def copy_block(img, src, dst, bs=512, part=slice(None)):
    with open(img, "r+b") as f:
        f.seek(src * bs)
        data = f.read(bs)[part]
        f.seek(dst * bs + (part.start or 0))
        f.write(data)


def poke(img, offset, data):
    with open(img, "r+b") as f:
        f.seek(offset)
        f.write(data)


@pytest.fixture
def img(tmp_path):
    """A 32 MiB labelled image with lba 2048..2079 stamped at gen 3."""
    path = tmp_path / "nvme0n1.img"
    with open(path, "wb") as f:
        f.truncate(32 * MiB)
    p = subprocess.run([MKSCRATCH, str(path), "--uuid", UUID.hex()], capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    seed(path, 2048, 32, 3)
    return path


RANGES = ["stamped lba=2048 count=32 gen=3", "zero lba=4096 count=64"]


def test_seeded_blocks_carry_the_stamp(img):
    with open(img, "rb") as f:
        f.seek(2050 * 512)
        b = f.read(512)
    assert b[:8] == b"BIOSTAMP"
    assert b[16:32] == UUID
    assert struct.unpack_from("<QQQ", b, 32) == (2050, SEED, 3)


def test_ok(img, tmp_path):
    log = manifest(tmp_path / "serial.log", RANGES)
    p = run(log, img)
    assert p.returncode == 0, p.stdout + p.stderr
    assert p.stdout.strip() == "verify-image: nvme0n1: 2 ranges, 96 blocks OK"


def test_misdirected(img, tmp_path):
    copy_block(img, 2050, 2052)
    p = run(manifest(tmp_path / "s.log", RANGES), img)
    assert p.returncode == 1
    assert "lba 2052: misdirected:" in p.stdout and "holds lba 2050 gen 3" in p.stdout, p.stdout
    assert "first difference at byte 32" in p.stdout
    assert "1 of 96 blocks bad" in p.stdout


def test_lost_write(img, tmp_path):
    seed(img, 2060, 1, 2)                       # the old generation is what the image holds
    p = run(manifest(tmp_path / "s.log", RANGES), img)
    assert p.returncode == 1
    assert "lba 2060: lost:" in p.stdout and "gen 2" in p.stdout, p.stdout


def test_corrupt_groups_consecutive_blocks(img, tmp_path):
    for lba in (2070, 2071, 2072):
        poke(img, lba * 512 + 100, b"\xff")
    p = run(manifest(tmp_path / "s.log", RANGES), img)
    assert p.returncode == 1
    line = next(l for l in p.stdout.splitlines() if "corrupt" in l)
    assert line.startswith("verify-image: nvme0n1: lba 2070..2072 (3 blocks): corrupt:"), line
    assert "first difference at byte 100" in line and "actual 0xff" in line


def test_torn_write_in_a_4k_block(tmp_path):
    path = tmp_path / "d.img"
    with open(path, "wb") as f:
        f.truncate(16 * MiB)
    subprocess.run([MKSCRATCH, str(path), "--uuid", UUID.hex()], check=True, capture_output=True)
    seed(path, 300, 4, 5, "--block-size", 4096)
    seed(path, 310, 1, 4, "--block-size", 4096)
    # Block 301's second half from an older write of another block: torn.
    copy_block(path, 310, 301, bs=4096, part=slice(2048, 4096))
    log = manifest(tmp_path / "s.log", ["stamped lba=300 count=4 gen=5"], block=4096, blocks=4096)
    p = run(log, path)
    assert p.returncode == 1
    assert "lba 301: torn:" in p.stdout, p.stdout
    assert "(torn write) from byte 2048 (holds lba 310 gen 4" in p.stdout, p.stdout


def test_zero_range_not_zero(img, tmp_path):
    seed(img, 4100, 1, 1)
    poke(img, 4150 * 512 + 7, b"\x01")
    p = run(manifest(tmp_path / "s.log", RANGES), img)
    assert p.returncode == 1
    assert "lba 4100: not zero: should read as zeroes, holds a stamp of lba 4100 gen 1" in p.stdout
    assert "lba 4150: not zero: should read as zeroes; first non-zero byte 7: 0x01" in p.stdout


def test_stamped_range_reads_zero(img, tmp_path):
    log = manifest(tmp_path / "s.log", ["stamped lba=8000 count=2 gen=1"])
    p = run(log, img)
    assert p.returncode == 1
    assert "lba 8000..8001 (2 blocks): zero:" in p.stdout, p.stdout


# ---- deallocated ranges: deallocation is advisory, so either zeroes or the old stamps ----

DEALLOCATED = ["stamped lba=2048 count=16 gen=3", "deallocated lba=2064 count=16 gen=3"]


def zero_blocks(img, lba, count, bs=512):
    poke(img, lba * bs, bytes(count * bs))


@pytest.mark.parametrize("zeroed", [(), (2064, 16), (2064, 8), (2070, 3)])
def test_a_deallocated_range_reads_as_zeroes_or_its_previous_stamps(img, tmp_path, zeroed):
    """A device may keep the data of a deallocated block (NVMe DSM is advisory,
    QEMU without discard=unmap keeps it) or drop it; each block either way."""
    if zeroed:
        zero_blocks(img, *zeroed)
    kept = 16 - (zeroed[1] if zeroed else 0)
    p = run(manifest(tmp_path / "s.log", DEALLOCATED), img)
    assert p.returncode == 0, p.stdout + p.stderr
    assert p.stdout.splitlines()[-1] == "verify-image: nvme0n1: 2 ranges, 32 blocks OK", p.stdout
    if kept:
        assert (f"verify-image: nvme0n1: {kept} of 16 deallocated blocks still hold their previous "
                "data: deallocate not honoured (advisory)") in p.stdout, p.stdout
    else:
        assert "deallocate not honoured" not in p.stdout, p.stdout


def test_a_deallocated_range_of_a_never_written_area_is_zero(img, tmp_path):
    p = run(manifest(tmp_path / "s.log", ["deallocated lba=9000 count=4 gen=7"]), img)
    assert p.returncode == 0, p.stdout + p.stderr
    assert "1 ranges, 4 blocks OK" in p.stdout and "not honoured" not in p.stdout, p.stdout


def test_a_deallocated_block_holding_anything_else_is_a_mismatch(img, tmp_path):
    """Only zeroes or exactly the stamps of the previous generation: an older
    generation (the write before was lost), another block's stamp, damaged
    bytes, a block half zeroes and data nobody stamped are each named."""
    seed(img, 2064, 1, 2)                       # an older generation
    copy_block(img, 2050, 2066)                 # another block's stamp
    poke(img, 2068 * 512 + 100, b"\xff")        # damaged
    zero_blocks(img, 2070, 1)
    poke(img, 2070 * 512 + 400, b"\x01")        # zeroes but one byte
    poke(img, 2072 * 512, b"\x5a" * 512)        # foreign
    p = run(manifest(tmp_path / "s.log", DEALLOCATED), img)
    assert p.returncode == 1, p.stdout + p.stderr
    out = p.stdout
    assert "lba 2064: lost: deallocated, expected zeroes or gen 3:" in out, out
    assert "lba 2066: misdirected: deallocated, expected zeroes or gen 3:" in out, out
    assert "lba 2068: corrupt: deallocated, expected zeroes or gen 3:" in out, out
    assert "lba 2070: foreign: deallocated, expected zeroes or gen 3:" in out, out
    assert "lba 2072: foreign: deallocated, expected zeroes or gen 3:" in out, out
    assert "5 of 32 blocks bad in 2 ranges" in out, out


def test_a_deallocated_4k_block_half_zeroes_is_torn(tmp_path):
    path = tmp_path / "d.img"
    with open(path, "wb") as f:
        f.truncate(16 * MiB)
    subprocess.run([MKSCRATCH, str(path), "--uuid", UUID.hex()], check=True, capture_output=True)
    seed(path, 300, 4, 5, "--block-size", 4096)
    poke(path, 301 * 4096 + 2048, bytes(2048))
    log = manifest(tmp_path / "s.log", ["deallocated lba=300 count=4 gen=5"], block=4096, blocks=4096)
    p = run(log, path)
    assert p.returncode == 1, p.stdout + p.stderr
    assert "lba 301: torn: deallocated, expected zeroes or gen 5:" in p.stdout, p.stdout


def test_picks_the_manifest_of_this_image(img, tmp_path):
    log = tmp_path / "s.log"
    manifest(log, ["stamped lba=2048 count=1 gen=9"], identity=bytes(16), device="ahci0")
    manifest(log, RANGES)
    p = run(log, img)
    assert p.returncode == 0 and "nvme0n1: 2 ranges" in p.stdout, p.stdout + p.stderr
    p = run(log, img, "--device", "ahci0")      # named: the other manifest, wrong identity
    assert p.returncode == 1
    assert "wrong image" in p.stdout and bytes(16).hex() in p.stdout


def test_no_manifest_for_this_image(img, tmp_path):
    log = manifest(tmp_path / "s.log", RANGES, identity=bytes(range(16)))
    p = run(log, img)
    assert p.returncode == 1
    assert f"no manifest with identity {UUID.hex()}" in p.stderr
    p = run(log, img, "--device", "nvme9n1")
    assert p.returncode == 1 and "no manifest for device nvme9n1" in p.stderr


def test_unfinished_run(img, tmp_path):
    p = run(manifest(tmp_path / "s.log", RANGES, end=False), img)
    assert p.returncode == 1 and "the run did not finish" in p.stdout


def test_incomplete_manifest(img, tmp_path):
    log = manifest(tmp_path / "s.log", RANGES + ["incomplete device=nvme0n1 (the extent map overflowed)"])
    with open(log) as f:
        text = f.read().replace("ranges=3", "ranges=2")
    with open(log, "w") as f:
        f.write(text)
    p = run(log, img)
    assert p.returncode == 1 and "manifest is incomplete" in p.stdout, p.stdout + p.stderr


def test_range_past_the_end_of_the_image(img, tmp_path):
    """The manifest's device had 64 MiB, the image has 32: the blocks past its
    end are outside its scratch range, named without being read."""
    p = run(manifest(tmp_path / "s.log", ["zero lba=65530 count=10"], blocks=131072), img)
    assert p.returncode == 1
    assert "zero lba=65530 count=10 (" in p.stdout and "is outside" in p.stdout, p.stdout
    assert "blocks 2048..65535" in p.stdout, p.stdout


def test_unlabelled_image_needs_device(tmp_path):
    path = tmp_path / "raw.img"
    with open(path, "wb") as f:
        f.truncate(MiB)
    log = manifest(tmp_path / "s.log", ["zero lba=10 count=4"], blocks=2048)
    p = run(log, path)
    assert p.returncode == 2 and "--device" in p.stderr
    # Without a label the kernel writes it only under allow_write=: so must the run have had.
    p = run(log, path, "--device", "nvme0n1")
    assert p.returncode == 1 and "not scratch" in p.stdout and "--allow-write" in p.stdout, p.stdout
    p = run(log, path, "--device", "nvme0n1", "--allow-write")
    assert p.returncode == 0, p.stdout + p.stderr


@pytest.mark.parametrize("args,words", [
    ((), "usage"),
    (("LOG",), "usage"),
    (("LOG", "IMG", "--frob"), "unknown option --frob"),
    (("nope.log", "IMG"), "nope.log"),
    (("--seed", "IMG", "--lba", "2048", "--count", "1", "--seed-value", "1"), "--seed needs --gen"),
    (("--seed", "IMG", "--lba", "0", "--count", "1", "--seed-value", "1", "--gen", "1"),
     "outside"),
    (("--seed", "IMG", "--lba", "x", "--count", "1", "--seed-value", "1", "--gen", "1"),
     "not a number"),
    (("--seed", "IMG", "--lba", "2048", "--count", "1", "--seed-value", "1", "--gen", "1",
      "--block-size", "1000"), "power of two"),
])
def test_usage_errors(img, tmp_path, args, words):
    log = manifest(tmp_path / "s.log", RANGES)
    p = run(*[{"LOG": log, "IMG": img}.get(a, a) for a in args])
    assert p.returncode == 2, p.stdout + p.stderr
    assert words in p.stderr


def test_malformed_manifest_line_is_a_usage_error(img, tmp_path):
    log = manifest(tmp_path / "s.log", ["stamped lba=2048 gen=3"])
    p = run(log, img)
    assert p.returncode == 2 and "s.log:3: malformed manifest line: 'stamped' needs count=" in p.stderr


# ---- --seed writes only where the kernel would (drivers/blk/access.h) ----

import hashlib  # noqa: E402
import sys  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gptimage  # noqa: E402


def sha(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def raw_image(tmp_path, name="raw.img", size=32 * MiB):
    path = tmp_path / name
    with open(path, "wb") as f:
        f.truncate(size)
    return path


def ext4_magic(path):
    poke(path, 1080, b"\x53\xef")


def foreign_gpt(path):
    nblocks = os.path.getsize(path) // 512
    first, last = gptimage.usable(nblocks)
    gptimage.write_gpt(path, [(gptimage.LINUX_TYPE, bytes(range(16)), 2048, last, "data")])


def seed_args(img, lba=2048, count=8, *extra):
    return ("--seed", img, "--lba", lba, "--count", count, "--seed-value", "1", "--gen", "1", *extra)


@pytest.mark.parametrize("make", [ext4_magic, foreign_gpt], ids=["ext4", "foreign-gpt"])
@pytest.mark.parametrize("allow", [(), ("--allow-write",)], ids=["", "allow-write"])
def test_seed_refuses_a_disk_in_use(tmp_path, make, allow):
    img = raw_image(tmp_path)
    make(img)
    before = sha(img)
    p = run(*seed_args(img, 2048, 8, "--identity", UUID.hex(), *allow))
    assert p.returncode == 1, p.stdout + p.stderr
    assert "not scratch" in p.stderr and "read-only" in p.stderr, p.stderr
    assert sha(img) == before, "a refused --seed wrote the image"


@pytest.mark.skipif(not shutil.which("mkfs.ext4"), reason="mkfs.ext4 not installed")
def test_seed_refuses_a_real_ext4_image(tmp_path):
    img = raw_image(tmp_path)
    subprocess.run(["mkfs.ext4", "-q", "-F", str(img)], check=True)
    before = sha(img)
    p = run(*seed_args(img, 4096, 8, "--identity", UUID.hex()))
    assert p.returncode == 1 and "ext2/3/4" in p.stderr, p.stderr
    assert sha(img) == before


def test_seed_refuses_a_label_beside_a_file_system(img):
    ext4_magic(img)
    before = sha(img)
    p = run(*seed_args(img))
    assert p.returncode == 1 and "not scratch" in p.stderr, p.stderr
    assert sha(img) == before


def test_seed_an_unlabelled_disk_only_with_allow_write(tmp_path):
    img = raw_image(tmp_path)
    before = sha(img)
    p = run(*seed_args(img, 0, 4, "--identity", UUID.hex()))
    assert p.returncode == 1 and "no scratch label" in p.stderr, p.stderr
    assert sha(img) == before
    # allow_write= opens the whole disk, LBA 0 included, as it does in the kernel.
    p = run(*seed_args(img, 0, 4, "--identity", UUID.hex(), "--allow-write"))
    assert p.returncode == 0, p.stdout + p.stderr
    with open(img, "rb") as f:
        assert f.read(8) == b"BIOSTAMP"


def test_seed_stays_inside_the_bareio_partition(tmp_path):
    img = raw_image(tmp_path)
    nblocks = os.path.getsize(img) // 512
    first, last = gptimage.usable(nblocks)
    gptimage.write_gpt(img, [(gptimage.BAREIO_TYPE, UUID, 2048, 16383, "bareio scratch"),
                             (gptimage.LINUX_TYPE, bytes(range(16)), 16384, last, "home")])
    before = sha(img)
    p = run(*seed_args(img, 16380, 8))                  # crosses into "home"
    assert p.returncode == 2 and "outside" in p.stderr, p.stderr
    assert sha(img) == before
    p = run(*seed_args(img, 16376, 8))                  # the partition's last 8 blocks
    assert p.returncode == 0, p.stdout + p.stderr


@pytest.mark.parametrize("lba,count,bs", [
    (2 ** 55 + 2048, 1, 512),           # lba * 512 wraps to 1 MiB
    (2 ** 64 - 1, 2, 512),              # lba + count wraps to 1
    (2 ** 52 + 256, 1, 4096),           # lba * 4096 wraps to 1 MiB
    (65535, 2, 512),                    # the last block and one past the end
    (65536, 1, 512),                    # past the end
    (2047, 1, 512),                     # the block below the data range
    (0, 1, 512),                        # the label
    (2048, 0, 512),                     # nothing
    (2048, 2 ** 64 - 1, 512),
])
def test_seed_ranges_cannot_wrap(img, lba, count, bs):
    before = sha(img)
    p = run(*seed_args(img, lba, count, "--block-size", bs))
    assert p.returncode == 2, p.stdout + p.stderr
    assert sha(img) == before, "a refused --seed wrote the image"


@pytest.mark.parametrize("opt,value", [("--gen", "026"), ("--lba", "04000"), ("--lba", " 2048"),
                                       ("--count", "+8"), ("--seed-value", "0x"),
                                       ("--seed-value", "0x10000000000000000"), ("--lba", "-1")])
def test_seed_numbers_parse_strictly(img, opt, value):
    args = dict(zip(("--lba", "--count", "--seed-value", "--gen"), ("2048", "8", "1", "1")))
    args[opt] = value
    before = sha(img)
    p = run("--seed", img, *[x for kv in args.items() for x in kv])
    assert p.returncode == 2 and "not a number" in p.stderr, p.stdout + p.stderr
    assert sha(img) == before


# ---- the manifest is parsed strictly; a malformed one is exit 2 with file:line, in bounded time ----

ID = UUID.hex()
BEGIN = f'begin device=nvme0n1 serial="bareio-x" identity={ID} block=512 blocks=65536 seed=0x1234abcd'
END1 = "end device=nvme0n1 ranges=1"
GOOD_RANGE = "stamped lba=2048 count=32 gen=3"


def raw_log(path, records, raw_lines=()):
    """A log whose manifest records are given as written after the tag."""
    with open(path, "w") as f:
        f.write("bareio: booting\n")
        for r in records:
            f.write("bareio-manifest: " + r + "\n")
        for line in raw_lines:
            f.write(line)
    return path


def begin_with(**changes):
    fields = dict(device="nvme0n1", serial='"bareio-x"', identity=ID, block="512", blocks="65536",
                  seed="0x1234abcd")
    fields.update(changes)
    return "begin " + " ".join(f"{k}={v}" for k, v in fields.items() if v is not None)


def test_quoted_serial_with_blanks_and_escapes_is_one_field(img, tmp_path):
    """A serial holding ' seed=1' is the serial's text, not a second seed= (the
    old parser found key= anywhere in the line and took the spoofed seed)."""
    log = raw_log(tmp_path / "s.log", [begin_with(serial=r'"x seed=1 \" \\x07 \\"'), GOOD_RANGE, END1])
    p = run(log, img, timeout=20)
    assert p.returncode == 0, p.stdout + p.stderr
    assert "1 ranges, 32 blocks OK" in p.stdout


def test_the_real_seed_is_used_whatever_the_serial_says(img, tmp_path):
    """Key order is free: seed= before serial= whose text says seed=1."""
    rec = (f'begin device=nvme0n1 seed=0x1234abcd serial="a seed=1" identity={ID} block=512 '
           "blocks=65536")
    p = run(raw_log(tmp_path / "s.log", [rec, GOOD_RANGE, END1]), img, timeout=20)
    assert p.returncode == 0, p.stdout + p.stderr


MALFORMED = {
    # block sizes the old parser divided by zero with, looped forever on, or truncated
    "block 2^32": (begin_with(block="4294967296"), "block="),
    "block 2 MiB": (begin_with(block="2097152"), "block="),
    "block truncated to 512": (begin_with(block="4294967808"), "block="),
    "block 1000": (begin_with(block="1000"), "block="),
    "block 256": (begin_with(block="256"), "block="),
    "block 128K": (begin_with(block="131072"), "block="),
    "blocks 0": (begin_with(blocks="0"), "blocks="),
    # numbers
    "octal gen": ("stamped lba=2048 count=32 gen=026", "gen="),
    "plus sign": ("stamped lba=2048 count=+32 gen=3", "count="),
    "minus sign": ("stamped lba=-1 count=32 gen=3", "lba="),
    "bare 0x": ("stamped lba=0x count=32 gen=3", "lba="),
    "exponent": ("stamped lba=2e3 count=32 gen=3", "lba="),
    "hex overflow": (begin_with(seed="0x10000000000000000"), "seed="),
    "decimal overflow": ("stamped lba=2048 count=32 gen=18446744073709551616", "gen="),
    "suffix": ("stamped lba=2K count=32 gen=3", "lba="),
    "empty value": ("stamped lba= count=32 gen=3", "lba="),
    # ranges
    "count 0": ("stamped lba=2048 count=0 gen=3", "count="),
    "count near 2^64": ("zero lba=10 count=18446744073709551615", "count="),
    "lba+count wraps": ("zero lba=18446744073709551615 count=2", "lba="),
    "past blocks": ("zero lba=65530 count=10", "blocks"),
    "one block past blocks": ("zero lba=65535 count=2", "past the end of nvme0n1's 65536 blocks"),
    "the block at blocks": ("zero lba=65536 count=1", "past the end of nvme0n1's 65536 blocks"),
    # keys
    "missing key": ("stamped lba=2048 gen=3", "count="),
    "duplicate key": ("stamped lba=2048 count=32 count=32 gen=3", "count="),
    "unknown key": ("stamped lba=2048 count=32 gen=3 frob=1", "frob"),
    "gen on a zero range": ("zero lba=4096 count=64 gen=1", "gen"),
    "deallocated without gen": ("deallocated lba=2064 count=16", "'deallocated' needs gen="),
    "deallocated count 0": ("deallocated lba=2064 count=0 gen=3", "count="),
    "deallocated past blocks": ("deallocated lba=65535 count=2 gen=3", "past the end"),
    "deallocated octal gen": ("deallocated lba=2064 count=16 gen=03", "gen="),
    "deallocated duplicate gen": ("deallocated lba=2064 count=16 gen=3 gen=3", "gen= given twice"),
    "deallocated unknown key": ("deallocated lba=2064 count=16 gen=3 prev=2", "prev"),
    "deallocated no blank": ("deallocated lba=2064 count=16gen=3", "needs gen="),
    "misspelt deallocated": ("deallocate lba=2064 count=16 gen=3", "deallocate"),
    "double blank": ("stamped lba=2048  count=32 gen=3", ""),
    "trailing blank": ("stamped lba=2048 count=32 gen=3 ", ""),
    "tab": ("stamped lba=2048\tcount=32 gen=3", ""),
    "no key": ("stamped 2048 32 3", ""),
    "unknown record": ("restamped lba=2048 count=32 gen=3", "restamped"),
    # serial
    "unquoted serial": (begin_with(serial="bareio-x"), "serial="),
    "spoofing serial": (begin_with(serial="x seed=1"), "serial="),
    "bad escape": (begin_with(serial=r'"a\q"'), "serial="),
    "unterminated serial": (begin_with(serial='"abc'), "serial="),
    "quote inside": (begin_with(serial='"a"b"'), "serial="),
    "control byte in serial": (begin_with(serial='"a\x01b"'), "serial="),
    "non-ASCII serial": (begin_with(serial='"caf\u00e9"'), "serial="),
    # identity, device
    "short identity": (begin_with(identity=ID[:30]), "identity="),
    "dashed identity": (begin_with(identity=ID[:8] + "-" + ID[8:]), "identity="),
    "empty device": (begin_with(device=""), "device="),
}


@pytest.mark.parametrize("case", sorted(MALFORMED))
def test_malformed_manifest_is_exit_2_with_file_and_line(img, tmp_path, case):
    record, words = MALFORMED[case]
    records = [record, GOOD_RANGE, END1] if record.startswith("begin") else [BEGIN, record, END1]
    log = raw_log(tmp_path / "s.log", records)
    p = run(log, img, timeout=20)
    assert p.returncode == 2, f"exit {p.returncode}: " + p.stdout + p.stderr
    line = 2 if record.startswith("begin") else 3
    assert f"s.log:{line}: malformed manifest line" in p.stderr, p.stderr
    assert words in p.stderr, p.stderr


@pytest.mark.parametrize("records,words", [
    ([GOOD_RANGE], "outside a begin..end block"),
    ([BEGIN, END1, GOOD_RANGE], "outside a begin..end block"),
    ([BEGIN, "end device=ahci0p0 ranges=0"], "device="),
    ([BEGIN, "stamped lba=4096 count=8 gen=1", "stamped lba=2048 count=8 gen=1",
      "end device=nvme0n1 ranges=2"], "order"),
    ([BEGIN, "stamped lba=2048 count=8 gen=1", "zero lba=2050 count=8",
      "end device=nvme0n1 ranges=2"], "overlap"),
    ([BEGIN, "stamped lba=2048 count=8 gen=3", "stamped lba=2055 count=25 gen=3",
      "end device=nvme0n1 ranges=2"], "overlaps the previous range, lba=2048 count=8"),
    ([BEGIN, "zero lba=4096 count=1", "zero lba=4096 count=1",
      "end device=nvme0n1 ranges=2"], "overlaps the previous range, lba=4096 count=1"),
    ([BEGIN, "stamped lba=2048 count=8 gen=3", "deallocated lba=2055 count=8 gen=3",
      "end device=nvme0n1 ranges=2"], "overlaps the previous range, lba=2048 count=8"),
    ([BEGIN, "deallocated lba=4096 count=8 gen=3", "zero lba=4000 count=8",
      "end device=nvme0n1 ranges=2"], "order"),
    ([BEGIN, "incomplete device=ahci0p0 (the extent map overflowed)", "end device=nvme0n1 ranges=0"],
     "device="),
    ([BEGIN, "incomplete device=nvme0n1 (the extent map overflowed", "end device=nvme0n1 ranges=0"],
     "incomplete"),
])
def test_malformed_structure(img, tmp_path, records, words):
    p = run(raw_log(tmp_path / "s.log", records), img, timeout=20)
    assert p.returncode == 2, f"exit {p.returncode}: " + p.stdout + p.stderr
    assert "malformed manifest line" in p.stderr and words in p.stderr, p.stderr


def test_adjacent_ranges_are_not_an_overlap(img, tmp_path):
    records = [BEGIN, "stamped lba=2048 count=8 gen=3", "stamped lba=2056 count=24 gen=3",
               "zero lba=4096 count=1", "zero lba=4097 count=1", "end device=nvme0n1 ranges=4"]
    p = run(raw_log(tmp_path / "s.log", records), img, timeout=20)
    assert p.returncode == 0, p.stdout + p.stderr
    assert "4 ranges, 34 blocks OK" in p.stdout


def test_a_range_ending_at_the_last_block_is_inside_blocks(img, tmp_path):
    p = run(raw_log(tmp_path / "s.log", [BEGIN, "zero lba=65535 count=1", END1]), img, timeout=20)
    assert p.returncode == 0, p.stdout + p.stderr


def test_an_overlong_manifest_line_is_malformed_not_split(img, tmp_path):
    """fgets(1024) cut the line in two and parsed each half."""
    log = raw_log(tmp_path / "s.log", [BEGIN],
                  ["bareio-manifest: " + GOOD_RANGE + " " + "x" * 1500 + "\n",
                   "bareio-manifest: " + END1 + "\n"])
    p = run(log, img, timeout=20)
    assert p.returncode == 2, p.stdout + p.stderr
    assert "s.log:3: malformed manifest line" in p.stderr and "long" in p.stderr, p.stderr


def test_a_tag_past_1023_bytes_of_log_does_not_start_a_line(img, tmp_path):
    """fgets(1024) would hand over the tag as the start of a second line."""
    log = raw_log(tmp_path / "s.log", [BEGIN],
                  ["x" * 1023 + "bareio-manifest: " + GOOD_RANGE + "\n", "bareio-manifest: " + END1 + "\n"])
    p = run(log, img, timeout=20)
    assert p.returncode == 1, p.stdout + p.stderr
    assert "lists 0 ranges, its end line says 1" in p.stdout, p.stdout


def test_an_overlong_line_without_the_tag_is_just_log(img, tmp_path):
    log = raw_log(tmp_path / "s.log", [BEGIN, GOOD_RANGE, END1], ["y" * 5000 + "\n"])
    p = run(log, img, timeout=20)
    assert p.returncode == 0, p.stdout + p.stderr


def test_a_nul_byte_in_a_manifest_line_is_malformed(img, tmp_path):
    log = raw_log(tmp_path / "s.log", [BEGIN, "stamped lba=2048\0 count=32 gen=3", END1])
    p = run(log, img, timeout=20)
    assert p.returncode == 2 and "s.log:3:" in p.stderr, p.stdout + p.stderr


def test_crlf_line_ends_are_read(img, tmp_path):
    log = tmp_path / "s.log"
    with open(log, "wb") as f:
        f.write("\r\n".join("bareio-manifest: " + r for r in (BEGIN, GOOD_RANGE, END1)).encode() + b"\r\n")
    p = run(log, img, timeout=20)
    assert p.returncode == 0, p.stdout + p.stderr


def write_lines(path, lines, line_end):
    with open(path, "wb") as f:
        f.write(b"bareio: booting" + line_end)
        for line in lines:
            f.write(line.encode() + line_end)
    return path


@pytest.mark.parametrize("line_end", [b"\r\r\n", b"\r\r\r\n"], ids=["cr-cr-lf", "cr-cr-cr-lf"])
def test_every_cr_before_the_lf_is_line_end(img, tmp_path, line_end):
    """A LAVA log ends its lines in CR CR LF: the CRs are line end, not a byte
    of the last value (it was exit 2, 'seed=: byte 0x0d is not allowed')."""
    log = write_lines(tmp_path / "s.log", ["bareio-manifest: " + r for r in (BEGIN, GOOD_RANGE, END1)],
                      line_end)
    p = run(log, img, timeout=20)
    assert p.returncode == 0, p.stdout + p.stderr
    assert "1 ranges, 32 blocks OK" in p.stdout


def test_a_cr_inside_a_manifest_line_is_malformed(img, tmp_path):
    log = write_lines(tmp_path / "s.log", ["bareio-manifest: " + r for r in
                                           (BEGIN, "stamped lba=2048\r count=32 gen=3", END1)], b"\r\n")
    p = run(log, img, timeout=20)
    assert p.returncode == 2 and "s.log:3: malformed manifest line" in p.stderr, p.stdout + p.stderr


@pytest.mark.parametrize("line_end", [b"\n", b"\r\n", b"\r\r\n"], ids=["lf", "cr-lf", "cr-cr-lf"])
def test_the_line_limit_does_not_count_the_line_end(img, tmp_path, line_end):
    """A manifest line of exactly 2048 bytes (MANIFEST_LINE_MAX) is read
    whatever its line end; one of 2049 bytes is refused."""
    def incomplete(length):
        head = "bareio-manifest: incomplete device=nvme0n1 ("
        return head + "x" * (length - len(head) - 1) + ")"
    for length, status, words in ((2048, 1, "manifest is incomplete"), (2049, 2, "longer than 2048")):
        line = incomplete(length)
        assert len(line) == length
        log = write_lines(tmp_path / f"s{length}.log", ["bareio-manifest: " + BEGIN, line,
                                                       "bareio-manifest: end device=nvme0n1 ranges=0"],
                          line_end)
        p = run(log, img, timeout=20)
        assert p.returncode == status and words in p.stdout + p.stderr, (length, p.stdout + p.stderr)


# The kernel prints each manifest line at the start of a line (tests/harness/dio.c);
# the tag elsewhere is log text, e.g. a disk's model on its boot line.
BOOT_LINES = {
    "begin in a model": "ahci0p0: bareio-manifest: begin QM00001 fw 2.5+, 32 MiB (65536 sectors), "
                        "512/512 bytes per sector (logical/physical), NCQ 32",
    "zero in a model": "ahci0p0: bareio-manifest: zero lba=1 count=1 QM00001 fw 2.5+, 32 MiB (65536 "
                       "sectors), 512/512 bytes per sector (logical/physical), NCQ 32",
    "end in a model": "ahci0p0: bareio-manifest: end device=nvme0n1 ranges=0 QM00001 fw 2.5+",
    "after a timestamp": "[    2.500000] bareio-manifest: " + GOOD_RANGE,
    "after a blank": " bareio-manifest: " + GOOD_RANGE,
}


@pytest.mark.parametrize("where", ["before", "inside"])
@pytest.mark.parametrize("case", sorted(BOOT_LINES))
def test_the_tag_inside_a_line_is_log_text(img, tmp_path, case, where):
    """A boot line whose model holds 'bareio-manifest: ' made a good log exit 2."""
    records = [BEGIN, GOOD_RANGE, END1]
    at = 0 if where == "before" else 2
    lines = ["bareio-manifest: " + r for r in records]
    lines.insert(at, BOOT_LINES[case])
    p = run(write_lines(tmp_path / "s.log", lines, b"\r\n"), img, timeout=20)
    assert p.returncode == 0, p.stdout + p.stderr
    assert "1 ranges, 32 blocks OK" in p.stdout


def test_a_timestamped_manifest_is_not_read(img, tmp_path):
    """Only a line that starts with the tag is a manifest line: a log whose
    every line carries a timestamp holds no manifest (a mismatch, not a pass)."""
    log = manifest(tmp_path / "s.log", RANGES, prefix="[    2.500000] ")
    p = run(log, img, timeout=20)
    assert p.returncode == 1 and "no manifest with identity" in p.stderr, p.stdout + p.stderr


def test_a_cr_before_the_tag_is_line_end(img, tmp_path):
    """LF CR line ends put the CR at the start of the next line."""
    log = tmp_path / "s.log"
    with open(log, "wb") as f:
        f.write(b"bareio: booting\n" + b"".join(b"\rbareio-manifest: " + r.encode() + b"\n"
                                               for r in (BEGIN, GOOD_RANGE, END1)))
    p = run(log, img, timeout=20)
    assert p.returncode == 0, p.stdout + p.stderr


# ---- every range must lie inside the image's scratch range ----

def test_a_range_over_the_label_is_a_mismatch(img, tmp_path):
    """Blocks 1..100 read as zeroes, as the manifest says, but they are below
    the label's data range: the run wrote where it must not."""
    log = manifest(tmp_path / "s.log", ["zero lba=1 count=100", "stamped lba=2048 count=32 gen=3"])
    p = run(log, img, timeout=20)
    assert p.returncode == 1, p.stdout + p.stderr
    assert "zero lba=1 count=100" in p.stdout and "outside" in p.stdout, p.stdout
    assert "s.log:3" in p.stdout, p.stdout


def test_a_destroyed_label_is_a_mismatch(img, tmp_path):
    """A run that zeroed the label: the image is no longer scratch at all."""
    poke(img, 0, bytes(512))
    log = manifest(tmp_path / "s.log", ["zero lba=0 count=1", "stamped lba=2048 count=32 gen=3"])
    p = run(log, img, "--device", "nvme0n1", timeout=20)
    assert p.returncode == 1, p.stdout + p.stderr
    assert "not scratch" in p.stdout and "no scratch label" in p.stdout, p.stdout


def test_a_range_outside_the_bareio_partition_is_a_mismatch(tmp_path):
    path = raw_image(tmp_path, "gpt.img", 32 * MiB)
    assert subprocess.run([MKSCRATCH, "--gpt", str(path), "--uuid", UUID.hex()],
                          capture_output=True).returncode == 0
    # LBA 40..47: between the entry array and the partition, zero as the manifest says.
    log = manifest(tmp_path / "s.log", ["zero lba=40 count=8"])
    p = run(log, path, timeout=20)
    assert p.returncode == 1, p.stdout + p.stderr
    assert "zero lba=40 count=8" in p.stdout and "outside" in p.stdout, p.stdout


LAYOUTS = {
    # mkscratch arguments on a 32 MiB image, and the scratch blocks [first, end) they open
    "label": ((), 2048, 65536),
    "label with --size": (("--data-offset", "1M", "--size", "8M"), 2048, 18432),
    "gpt": (("--gpt",), 2048, gptimage.usable(65536)[1] + 1),
}


@pytest.fixture(params=sorted(LAYOUTS))
def layout(request, tmp_path):
    """(image, write_first, write_end) for each way mkscratch makes a disk scratch."""
    args, first, end = LAYOUTS[request.param]
    path = raw_image(tmp_path, "d.img", 32 * MiB)
    p = subprocess.run([MKSCRATCH, *args, str(path), "--uuid", UUID.hex()], capture_output=True,
                       text=True)
    assert p.returncode == 0, p.stderr
    return path, first, end


def test_ranges_at_both_edges_of_the_scratch_range_are_inside(layout, tmp_path):
    path, first, end = layout
    seed(path, first, 1, 3)
    seed(path, end - 1, 1, 3)
    log = manifest(tmp_path / "s.log", [f"stamped lba={first} count=1 gen=3",
                                        f"stamped lba={end - 1} count=1 gen=3"])
    p = run(log, path, timeout=20)
    assert p.returncode == 0, p.stdout + p.stderr
    assert "2 ranges, 2 blocks OK" in p.stdout


@pytest.mark.parametrize("where", ["one block past the end", "at the end", "across the start"])
def test_a_range_one_block_outside_the_scratch_range_is_a_mismatch(layout, tmp_path, where):
    path, first, end = layout
    lba, count = {"one block past the end": (end - 1, 2), "at the end": (end, 1),
                  "across the start": (first - 1, 2)}[where]
    rng = f"zero lba={lba} count={count}"
    log = manifest(tmp_path / "s.log", [rng], blocks=max(65536, lba + count))
    p = run(log, path, timeout=20)
    assert p.returncode == 1, p.stdout + p.stderr
    assert f"{rng} (" in p.stdout and f"is outside {path}'s scratch range, blocks {first}..{end - 1}" \
        in p.stdout, p.stdout


def test_a_huge_range_outside_the_image_is_named_at_once(img, tmp_path):
    """count near 2^64 in a manifest of a device that large: named, not walked."""
    big = 2 ** 64 - 1
    log = manifest(tmp_path / "s.log", [f"zero lba=100000 count={big - 100000}"], blocks=big)
    p = run(log, img, timeout=20)
    assert p.returncode == 1, p.stdout + p.stderr
    assert "outside" in p.stdout, p.stdout


def test_a_disk_in_use_is_a_mismatch(img, tmp_path):
    """A label beside a file system: the kernel keeps the disk read-only (and
    gives it no identity, so the manifest is named)."""
    ext4_magic(img)
    p = run(manifest(tmp_path / "s.log", RANGES), img, timeout=20)
    assert p.returncode == 2 and "ext2/3/4" in p.stderr and "--device" in p.stderr, p.stderr
    p = run(manifest(tmp_path / "s.log", RANGES), img, "--device", "nvme0n1", timeout=20)
    assert p.returncode == 1 and "not scratch" in p.stdout, p.stdout + p.stderr


# ---- 32 hex digits: verify-image --identity and mkscratch --uuid read them alike ----

HEX_OK = {
    "plain": UUID.hex(),
    "upper case": UUID.hex().upper(),
    "dashed": "-".join((UUID.hex()[:8], UUID.hex()[8:12], UUID.hex()[12:16], UUID.hex()[16:20],
                        UUID.hex()[20:])),
}
HEX_BAD = {
    "31 digits": UUID.hex()[:31],
    "33 digits": UUID.hex() + "0",
    "a g": "g" + UUID.hex()[1:],
    "empty": "",
    # 0x10..0x19 | 0x20 are '0'..'9': verify-image took these control bytes for digits
    "control bytes": "\x10\x11\x12\x13\x14\x15\x16\x17\x18\x19" * 3 + "\x10\x11",
    "blank": UUID.hex()[:16] + " " + UUID.hex()[16:31],
}


@pytest.mark.parametrize("case", sorted(HEX_OK) + sorted(HEX_BAD))
def test_identity_and_uuid_parse_alike(tmp_path, case):
    text = HEX_OK.get(case, HEX_BAD.get(case))
    raw = raw_image(tmp_path, "raw.img", 4 * MiB)
    before = sha(raw)
    p = run(*seed_args(raw, 0, 1, "--identity", text, "--allow-write"))
    label = raw_image(tmp_path, "label.img", 4 * MiB)
    q = subprocess.run([MKSCRATCH, str(label), "--uuid", text], capture_output=True, text=True)
    if case in HEX_OK:
        assert p.returncode == 0 and q.returncode == 0, p.stderr + q.stderr
        with open(raw, "rb") as f:
            assert f.read(32)[16:] == UUID
        with open(label, "rb") as f:
            assert f.read(56)[40:] == UUID
    else:
        assert p.returncode == 2 and "not 32 hex digits" in p.stderr, p.stdout + p.stderr
        assert q.returncode == 2 and "not 32 hex digits" in q.stderr, q.stdout + q.stderr
        assert sha(raw) == before, "a refused --seed wrote the image"


# ---- the machine record (issue 14): the log names the machine it came from ----

MACHINE = ('machine system="Acme Labs" product="Rack9" version="1.0" serial="SN-\\"7\\"" '
           'uuid=00112233-4455-6677-8899-aabbccddeeff board="Acme Boards" board_product="B-1" '
           'board_serial="B-77" bios="AcmeBIOS" bios_version="9.1" bios_date="01/02/2026"')


def test_the_machine_record_names_the_machine(img, tmp_path):
    log = raw_log(tmp_path / "s.log", [MACHINE, BEGIN, GOOD_RANGE, END1])
    p = run(log, img, timeout=20)
    assert p.returncode == 0, p.stdout + p.stderr
    assert ('verify-image: nvme0n1: from machine "Acme Labs" product "Rack9" serial "SN-"7"" uuid '
            '00112233-4455-6677-8899-aabbccddeeff, board "B-1" serial "B-77", bios "AcmeBIOS" 9.1 '
            '(log line 2)') in p.stdout, p.stdout
    assert "1 ranges, 32 blocks OK" in p.stdout


def test_a_later_machine_record_names_the_manifests_after_it(img, tmp_path):
    other = MACHINE.replace('"Rack9"', '"Rack10"').replace("uuid=0011", "uuid=ffff")
    log = raw_log(tmp_path / "s.log", [MACHINE, BEGIN, GOOD_RANGE, END1, other, BEGIN, GOOD_RANGE,
                                       END1])
    p = run(log, img, timeout=20)
    assert p.returncode == 0, p.stdout + p.stderr
    assert 'product "Rack10"' in p.stdout and 'product "Rack9"' not in p.stdout, p.stdout


def test_no_machine_record_names_no_machine(img, tmp_path):
    log = raw_log(tmp_path / "s.log", [BEGIN, GOOD_RANGE, END1])
    p = run(log, img, timeout=20)
    assert p.returncode == 0 and "from machine" not in p.stdout, p.stdout


@pytest.mark.parametrize("record, words", [
    (MACHINE.replace("uuid=00112233-4455-6677-8899-aabbccddeeff", "uuid=none"), None),
    (MACHINE.replace("uuid=00112233-4455-6677-8899-aabbccddeeff", "uuid=0011223344556677"),
     "uuid=: 36 characters"),
    (MACHINE.replace("uuid=00112233-", "uuid=0011223x-"), "not 8-4-4-4-12 hex digits"),
    (MACHINE.replace('product="Rack9"', "product=Rack9"), "product= must be quoted"),
    (MACHINE.replace(' bios_date="01/02/2026"', ""), "'machine' needs bios_date="),
    (MACHINE + ' bios="again"', "bios= given twice"),
    (MACHINE + ' seed=0x1', "unknown key 'seed='"),
    (MACHINE.replace('"Acme Labs"', '"Acme \\q"'), "system=: bad escape"),
    (MACHINE.replace('"Acme Labs"', '"Acme"Labs"'), "system=: text after the closing quote"),
    (MACHINE.replace('"Rack9"', '"' + "R" * 128 + '"'), "product=: longer than 127 characters"),
])
def test_a_malformed_machine_record_is_refused(img, tmp_path, record, words):
    log = raw_log(tmp_path / "s.log", [record, BEGIN, GOOD_RANGE, END1])
    p = run(log, img, timeout=20)
    if words is None:
        assert p.returncode == 0 and "uuid none" in p.stdout, p.stdout + p.stderr
    else:
        assert p.returncode == 2 and words in p.stderr, (words, p.stdout + p.stderr)
        assert "s.log:2:" in p.stderr, p.stderr


def test_a_machine_record_inside_a_manifest_is_refused(img, tmp_path):
    log = raw_log(tmp_path / "s.log", [BEGIN, MACHINE, GOOD_RANGE, END1])
    p = run(log, img, timeout=20)
    assert p.returncode == 2 and "'machine' inside the begin..end block of nvme0n1" in p.stderr, \
        p.stdout + p.stderr
