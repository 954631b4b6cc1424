/* SPDX-License-Identifier: MIT */
/* lib/disksig.c — on-disk signatures that mark a disk as in use (the list and
 * its sources are in lib/disksig.h). Each probe is one small function over
 * the disk's first bytes; a probe whose bytes lie beyond `len` finds nothing. */
#include "lib/disksig.h"
#include "lib/string.h"

#include <stdbool.h>

#define ISO9660_DESCRIPTOR 32768u       /* system area is the first 16 2-KiB sectors */
#define ISO9660_VOLUME_ID 40            /* ECMA-119 §8.4.6: 32 d-characters */
#define EXT_SUPER_MAGIC (1024u + 56u)   /* s_magic in the superblock at 1024 */
#define BTRFS_SUPER_MAGIC (65536u + 64u)
#define MBR_PARTITION_TABLE 446u
#define MBR_SIGNATURE 510u
#define MBR_TYPE_GPT_PROTECTIVE 0xeeu  /* UEFI 2.10 §5.2.3 */

struct probe_buf {
    const uint8_t *p;
    size_t len;
    disksig_skip_fn skip;   /* optional: 512-byte sectors whose bytes prove nothing */
    void *ctx;
};

/* The bytes are there, inside no sector the caller said to skip. */
static bool has(const struct probe_buf *b, uint64_t offset, const void *bytes, size_t n)
{
    if (offset + n > b->len || memcmp(b->p + offset, bytes, n) != 0)
        return false;
    if (b->skip)
        for (uint64_t s = offset / 512; s <= (offset + n - 1) / 512; s++)
            if (b->skip(b->ctx, b->p + s * 512))
                return false;
    return true;
}

static bool boot_signature(const struct probe_buf *b)
{
    return has(b, MBR_SIGNATURE, "\x55\xaa", 2);
}

static bool probe_iso9660(const struct probe_buf *b, uint64_t *at)
{
    *at = ISO9660_DESCRIPTOR + 1;
    return has(b, ISO9660_DESCRIPTOR + 1, "CD001", 5);
}

/* A GPT header is LBA 1: byte 512 << k for every block size the drivers
 * take (512 B .. 64 KiB). */
static bool probe_gpt(const struct probe_buf *b, uint64_t *at)
{
    for (unsigned k = 0; k < DISKSIG_GPT_BLOCK_SIZES; k++) {
        *at = 512u << k;
        if (has(b, *at, "EFI PART", 8))
            return true;
    }
    return false;
}

/* A FAT12/16/32 boot sector: x86 jump, a power-of-two sector size and the
 * file-system type string in the BPB (FAT32 at 82, the others at 54). */
static bool probe_fat(const struct probe_buf *b, uint64_t *at)
{
    *at = 0;
    if (!boot_signature(b) || !(b->p[0] == 0xeb || b->p[0] == 0xe9))
        return false;
    uint16_t bytes_per_sector = (uint16_t)(b->p[11] | b->p[12] << 8);
    if (bytes_per_sector < 512 || bytes_per_sector > 4096 ||
        (bytes_per_sector & (bytes_per_sector - 1)) != 0)
        return false;
    if (has(b, 54, "FAT", 3)) {
        *at = 54;
        return true;
    }
    *at = 82;
    return has(b, 82, "FAT32", 5);
}

static bool probe_oem(const struct probe_buf *b, const char *oem, uint64_t *at)
{
    *at = 3;
    return has(b, 3, oem, 8);
}

/* An MBR with at least one used entry (partition type != 0). */
static bool probe_mbr(const struct probe_buf *b, uint64_t *at)
{
    if (!boot_signature(b))
        return false;
    for (unsigned i = 0; i < 4; i++) {
        *at = MBR_PARTITION_TABLE + 16 * i;
        if (b->p[*at + 4] != 0)
            return true;
    }
    return false;
}

static bool probe_lvm2(const struct probe_buf *b, uint64_t *at)
{
    for (unsigned sector = 0; sector < 4; sector++) {
        *at = 512u * sector;
        if (has(b, *at, "LABELONE", 8) && has(b, *at + 24, "LVM2 001", 8))
            return true;
    }
    return false;
}

/* The swap signature ends the first page: 4 KiB pages and larger ones. */
static bool probe_swap(const struct probe_buf *b, uint64_t *at)
{
    static const uint32_t pages[] = { 4096, 8192, 16384, 65536 };
    for (unsigned i = 0; i < sizeof(pages) / sizeof(pages[0]); i++) {
        *at = pages[i] - 10;
        if (has(b, *at, "SWAPSPACE2", 10) || has(b, *at, "SWAP-SPACE", 10))
            return true;
    }
    return false;
}

static bool probe_exfat(const struct probe_buf *b, uint64_t *at) { return probe_oem(b, "EXFAT   ", at); }
static bool probe_ntfs(const struct probe_buf *b, uint64_t *at) { return probe_oem(b, "NTFS    ", at); }

static bool probe_ext(const struct probe_buf *b, uint64_t *at)
{
    *at = EXT_SUPER_MAGIC;
    return has(b, EXT_SUPER_MAGIC, "\x53\xef", 2);
}

static bool probe_xfs(const struct probe_buf *b, uint64_t *at)
{
    *at = 0;
    return has(b, 0, "XFSB", 4);
}

static bool probe_btrfs(const struct probe_buf *b, uint64_t *at)
{
    *at = BTRFS_SUPER_MAGIC;
    return has(b, BTRFS_SUPER_MAGIC, "_BHRfS_M", 8);
}

static bool probe_luks(const struct probe_buf *b, uint64_t *at)
{
    *at = 0;
    return has(b, 0, "LUKS\xba\xbe", 6);
}

/* Most specific first: an ISO 9660 hybrid image also has an MBR and a GPT; a
 * FAT boot sector also ends in 0x55AA. */
static const struct {
    enum disksig_kind kind;
    bool (*probe)(const struct probe_buf *b, uint64_t *at);
} probes[] = {
    { DISKSIG_ISO9660, probe_iso9660 }, { DISKSIG_GPT, probe_gpt },
    { DISKSIG_EXFAT, probe_exfat },     { DISKSIG_NTFS, probe_ntfs },
    { DISKSIG_FAT, probe_fat },         { DISKSIG_MBR, probe_mbr },
    { DISKSIG_EXT, probe_ext },         { DISKSIG_XFS, probe_xfs },
    { DISKSIG_BTRFS, probe_btrfs },     { DISKSIG_LVM2, probe_lvm2 },
    { DISKSIG_SWAP, probe_swap },       { DISKSIG_LUKS, probe_luks },
};
_Static_assert(sizeof(probes) / sizeof(probes[0]) == DISKSIG_KINDS - 1,
               "every signature kind has one probe");

unsigned disksig_probe_all(const void *buf, size_t len, struct disksig *out, unsigned max)
{
    return disksig_probe_all_skipping(buf, len, NULL, NULL, out, max);
}

unsigned disksig_probe_all_skipping(const void *buf, size_t len, disksig_skip_fn skip, void *ctx,
                                    struct disksig *out, unsigned max)
{
    struct probe_buf b = { buf, len, skip, ctx };
    unsigned n = 0;

    for (unsigned i = 0; i < sizeof(probes) / sizeof(probes[0]); i++) {
        uint64_t at = 0;
        if (!probes[i].probe(&b, &at))
            continue;
        if (n < max) {
            out[n].kind = probes[i].kind;
            out[n].offset = at;
        }
        n++;
    }
    return n;
}

struct disksig disksig_probe(const void *buf, size_t len)
{
    struct disksig s = { DISKSIG_NONE, 0 };
    disksig_probe_all(buf, len, &s, 1);
    return s;
}

bool disksig_gpt_header_at(const void *buf, size_t len, uint64_t offset)
{
    struct probe_buf b = { buf, len, NULL, NULL };
    return has(&b, offset, "EFI PART", 8);
}

bool disksig_mbr_protective(const void *buf, size_t len)
{
    struct probe_buf b = { buf, len, NULL, NULL };
    bool protective = false;

    if (len < MBR_SIGNATURE + 2 || !boot_signature(&b))
        return false;
    for (unsigned i = 0; i < 4; i++) {
        uint8_t type = b.p[MBR_PARTITION_TABLE + 16 * i + 4];
        if (type == MBR_TYPE_GPT_PROTECTIVE)
            protective = true;
        else if (type != 0)
            return false;
    }
    return protective;
}

const char *disksig_name(enum disksig_kind kind)
{
    switch (kind) {
    case DISKSIG_NONE: return "nothing";
    case DISKSIG_ISO9660: return "an ISO 9660 file system";
    case DISKSIG_GPT: return "a GPT partition table";
    case DISKSIG_FAT: return "a FAT file system";
    case DISKSIG_EXFAT: return "an exFAT file system";
    case DISKSIG_NTFS: return "an NTFS file system";
    case DISKSIG_MBR: return "an MBR partition table";
    case DISKSIG_EXT: return "an ext2/3/4 file system";
    case DISKSIG_XFS: return "an XFS file system";
    case DISKSIG_BTRFS: return "a btrfs file system";
    case DISKSIG_LVM2: return "an LVM2 physical volume";
    case DISKSIG_SWAP: return "Linux swap";
    case DISKSIG_LUKS: return "a LUKS encrypted volume";
    case DISKSIG_KINDS: break;
    }
    return "?";
}

void disksig_iso9660_volume_id(const void *buf, size_t len, char *out)
{
    struct probe_buf b = { buf, len, NULL, NULL };
    size_t n = 32;

    out[0] = '\0';
    if (!has(&b, ISO9660_DESCRIPTOR, "\x01" "CD001", 6) ||
        ISO9660_DESCRIPTOR + ISO9660_VOLUME_ID + 32 > len)
        return;
    memcpy(out, b.p + ISO9660_DESCRIPTOR + ISO9660_VOLUME_ID, 32);
    out[32] = '\0';
    n = strlen(out);                /* a NUL ends it (d-characters hold none) */
    while (n > 0 && out[n - 1] == ' ')
        n--;
    out[n] = '\0';
}
