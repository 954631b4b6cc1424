# SPDX-License-Identifier: MIT
"""tests/tools/gptimage.py — GPT disk images for the host-tool tests, written
here from UEFI 2.10 §5.2.3 and §5.3 with zlib's CRC-32, independently of
lib/gpt.c: a protective MBR, the primary header and entry array, and the backup
array and header at the end, holding whichever partitions a test asks for
(bareio's next to others, foreign only). tools/mkscratch --gpt makes bareio's
own layout; these are the layouts it must refuse or may remake."""
import struct
import zlib

BAREIO_TYPE = bytes.fromhex("25cb7551" "21cc" "c248" "964fd62c6ffdb833")
# 0fc63daf-8483-4772-8e79-3d69d8477de4 (Linux file system data), stored mixed-endian.
LINUX_TYPE = bytes.fromhex("af3dc60f" "8384" "7247" "8e793d69d8477de4")
ENTRIES = 128
ENTRY_SIZE = 128


def _header(my_lba, alt_lba, first_usable, last_usable, entries_lba, entries, entries_crc,
            disk_guid):
    h = bytearray(92)
    h[0:8] = b"EFI PART"
    struct.pack_into("<IIII", h, 8, 0x00010000, 92, 0, 0)
    struct.pack_into("<QQQQ", h, 24, my_lba, alt_lba, first_usable, last_usable)
    h[56:72] = disk_guid
    struct.pack_into("<QIII", h, 72, entries_lba, entries, ENTRY_SIZE, entries_crc)
    struct.pack_into("<I", h, 16, zlib.crc32(bytes(h)))
    return bytes(h)


def _entry(type_guid, unique_guid, first, last, name):
    e = bytearray(ENTRY_SIZE)
    e[0:16] = type_guid
    e[16:32] = unique_guid
    struct.pack_into("<QQ", e, 32, first, last)
    e[56:56 + 2 * len(name)] = name.encode("utf-16-le")
    return bytes(e)


def _entry_blocks(bs, entries):
    return (entries * ENTRY_SIZE + bs - 1) // bs


def usable(nblocks, bs=512, entries=ENTRIES):
    """(FirstUsableLBA, LastUsableLBA) of the layout write_gpt makes."""
    eb = _entry_blocks(bs, entries)
    return 2 + eb, nblocks - 2 - eb


def write_gpt(path, parts, bs=512, mbr_types=(0xEE,), entries=ENTRIES):
    """Writes a GPT into the image at `path` (its size fixes the geometry).
    parts: (type_guid, unique_guid, first_lba, last_lba, name) tuples.
    mbr_types: the MBR's used entry types (0xEE alone is a protective MBR).
    entries: the size of the entry array (fewer than 128 keep it inside one
    block, so GPTs of two block sizes fit side by side)."""
    with open(path, "r+b") as f:
        f.seek(0, 2)
        nblocks = f.tell() // bs
        eb = _entry_blocks(bs, entries)
        first_usable, last_usable = usable(nblocks, bs, entries)
        array = bytearray(eb * bs)
        for i, p in enumerate(parts):
            array[i * ENTRY_SIZE:(i + 1) * ENTRY_SIZE] = _entry(*p)
        crc = zlib.crc32(bytes(array[:entries * ENTRY_SIZE]))
        disk_guid = bytes(range(0x40, 0x50))
        mbr = bytearray(512)
        for i, t in enumerate(mbr_types):
            e = 446 + 16 * i
            mbr[e + 4] = t
            struct.pack_into("<II", mbr, e + 8, 1, min(nblocks - 1, 0xFFFFFFFF))
        mbr[510:512] = b"\x55\xaa"
        f.seek(0)
        f.write(bytes(mbr))
        f.seek(bs)
        f.write(_header(1, nblocks - 1, first_usable, last_usable, 2, entries, crc, disk_guid))
        f.seek(2 * bs)
        f.write(bytes(array))
        f.seek((nblocks - 1 - eb) * bs)
        f.write(bytes(array))
        f.seek((nblocks - 1) * bs)
        f.write(_header(nblocks - 1, 1, first_usable, last_usable, nblocks - 1 - eb, entries, crc,
                        disk_guid))
    return nblocks
