#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""tests/fuzz/make_seeds.py — writes the seed corpora in tests/fuzz/corpus/:
a few well-formed inputs per target (a scratch label, a GPT made by
tools/mkscratch --gpt, an ext4 and an ISO head, an IDENTIFY page, an Identify
Namespace page, command lines, ...) laid out the way each target's reader
takes its choices (tests/fuzz/fuzz.h: a selector byte, then the values), so
the fuzzers start from the interesting paths. Run it again after changing a
target's input layout: /usr/bin/python3 tests/fuzz/make_seeds.py
"""
import os
import struct
import subprocess
import sys
import tempfile
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "tools"))
import disks  # noqa: E402

MiB = 1 << 20
U64 = b"\x05"           # fuzz_edgy64: take the next 8 bytes as they are


def edgy(v):
    return U64 + struct.pack("<Q", v)


def write(target, name, data):
    d = os.path.join(HERE, "corpus", target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def gpt_head(size=64 * MiB):
    with tempfile.TemporaryDirectory() as t:
        img = os.path.join(t, "gpt.img")
        with open(img, "wb") as f:
            f.truncate(size)
        subprocess.run([os.path.join(ROOT, "tools", "mkscratch"), "--gpt", img], check=True,
                       capture_output=True)
        with open(img, "rb") as f:
            return f.read(72 * 1024)


def label(offset=MiB, size=0):
    return disks.scratch_label(b"\x11" * 16, data_offset=offset, data_size=size)


def identify():
    w = [0] * 256

    def text(word, nwords, s):
        s = s.ljust(2 * nwords)
        for i in range(nwords):
            w[word + i] = ord(s[2 * i]) << 8 | ord(s[2 * i + 1])
    text(10, 10, "SERIAL-123")
    text(23, 4, "FW1.0")
    text(27, 20, "Example SATA Disk")
    n = 3 << 40 >> 9
    w[75], w[76], w[83], w[84], w[85] = 31, 1 << 8, 0x4000 | 1 << 10 | 1 << 13, 0x4000 | 1 << 6, 1 << 5
    for i in range(4):
        w[100 + i] = n >> (16 * i) & 0xFFFF
    w[106], w[169] = 0x4000 | 1 << 13 | 3, 1
    return struct.pack("<256H", *w)


def id_ns(nsze=131072, lbads=9):
    page = bytearray(4096)
    struct.pack_into("<QQQ", page, 0, nsze, nsze, nsze)
    page[25] = 1                # NLBAF: 2 formats
    page[26] = 1                # FLBAS: format 1
    struct.pack_into("<HBB", page, 128, 0, 9, 0)
    struct.pack_into("<HBB", page, 132, 0, lbads, 0)
    return bytes(page)


def virtio_mmio_device(uid, base):
    """Device (VRnn) { Name (_HID, "LNRO0005") Name (_UID, uid) Name (_CRS,
    ResourceTemplate () { Memory32Fixed (ReadWrite, base, 0x200) ... }) };
    base None: a Method (_CRS) instead (no template to read)."""
    body = b"\x08_HID\x0dLNRO0005\x00" + b"\x08_UID\x0a" + bytes([uid])
    if base is None:
        body += b"\x14\x08_CRS\x00\xa4\x00"
    else:
        body += (b"\x08_CRS\x11\x17\x0a\x14" + b"\x86\x09\x00\x01" + struct.pack("<II", base, 0x200)
                 + b"\x89\x06\x00\x01\x01\x10\x00\x00\x00\x79\x00")
    name = b"VR%02d" % uid
    return b"\x5b\x82" + bytes([len(body) + 5]) + name + body


def main():
    head = gpt_head()
    # cmdline
    for i, line in enumerate([b"tests=dio exit=qemu", b'text="a b" n=0x10K even=8 help',
                              b"allow_write=bareio-*,lab-?? shadow=off n=18446744073709551615",
                              b"ttyS1,115200", b"io:0x3f8,9600", b"mmio:0xfe000000"]):
        write("cmdline", f"line{i}", line)
    # bench_job: the value of bench= (no terminator is read)
    for i, line in enumerate([b"quick", b"standard;dev=nvme*,rw=randrw,rwmixread=70,bs=8k,iodepth=16",
                              b"name=seq,dev=ahci0p0,rw=read,bs=128k,iodepth=8,runtime=500ms,ramp_time=1s",
                              b"rw=randwrite,number_ios=100000,qpairs=4,completion=irq,verify=0,"
                              b"offset=1m,size=64M"]):
        write("bench_job", f"jobs{i}", line)
    # gpt: block size selector 0 (512), nblocks, header block, entries
    write("gpt", "mkscratch-gpt", b"\x08" + edgy(64 * MiB // 512) + head[512:17408])
    # disksig
    write("disksig", "gpt", head)
    ext = bytearray(4096)
    ext[1080:1082] = b"\x53\xef"
    write("disksig", "ext4", bytes(ext))
    iso = bytearray(36 * 1024)
    iso[32768:32775] = b"\x01CD001\x01"
    iso[32808:32840] = b"BAREIO_0123456789ABCDEF".ljust(32)
    write("disksig", "iso", bytes(iso))
    # scratch: device bytes, then the label
    write("scratch", "default", b"\x00" + edgy(64 * MiB) + label())
    write("scratch", "sized", b"\x01" + edgy(64 * MiB) + label(4096, 8 * MiB))
    # stamp: block size selector, block, key, lba, then map ops (op, lba, count)
    ops = b"".join(bytes([op]) + edgy(lba) + edgy(n) for op, lba, n in
                   [(0, 2048, 64), (2, 2050, 8), (1, 2040, 20), (0, (1 << 64) - 9, 8)])
    write("stamp", "ops", b"\x00" + bytes(512) + bytes(16) + edgy(2048) + ops)
    # ata: IDENTIFY page first
    write("ata", "identify", identify())
    # nvme: Identify Namespace page
    write("nvme", "id-ns-512", id_ns())
    write("nvme", "id-ns-4k", id_ns(lbads=12))
    # access: block size selector, nblocks, flags (1 allow_write, 2 bootid,
    # 4 reseal the label, 8 reseal the GPT), head
    write("access", "label", b"\x00" + edgy(64 * MiB // 512) + b"\x04" + label())
    write("access", "label-8k", b"\x04" + edgy(8192) + b"\x04" + label(4096))
    write("access", "gpt", b"\x00" + edgy(64 * MiB // 512) + b"\x08" + head)
    write("access", "ext4-allowed", b"\x00" + edgy(131072) + b"\x01" + bytes(ext))
    # blk_check: a writable 512-byte device and a write inside its range
    dev = (b"\x00" + edgy(131072) + b"\x03\x02\x01" + edgy(1 << 32) + struct.pack("<I", 0xff)
           + b"\x01" + edgy(2048) + edgy(131072))
    req = b"\x01" + struct.pack("<H", 0) + edgy(4096) + edgy(8) + b"\x01" + edgy(0x100000) + edgy(4096)
    write("blk_check", "write", dev + req)
    # aml_hid: the _HID selector (0: LNRO0005), then AML as QEMU microvm lays
    # out its virtio-mmio devices, one with a _CRS method between
    write("aml_hid", "microvm", b"\x00" + b"".join(
        virtio_mmio_device(i, base) for i, base in enumerate([0xfeb00000, None, 0xfeb00200])))


if __name__ == "__main__":
    main()
