/* SPDX-License-Identifier: MIT */
/* lib/disksig.h — what the first sectors of a disk say about its use: the
 * on-disk signatures of partition tables, file systems, volume managers,
 * encryption and ISO 9660 images. Both sides of bareio's safety rule use it:
 * tools/mkscratch refuses to label a disk that shows one (unless --force),
 * and the kernel keeps such a disk read-only even when allow_write= names it
 * (only a scratch label or a bareio GPT partition opens it).
 *
 * Signatures are the ones each format documents (offsets from byte 0):
 * ISO 9660 "CD001" at 32769 (ECMA-119 §8.1), GPT "EFI PART" at LBA 1 for
 * every sector size from 512 B to 64 KiB (UEFI §5.3.2), FAT/exFAT/NTFS boot sectors,
 * an MBR with a used partition entry, ext2/3/4 0xEF53 at 1080, XFS "XFSB"
 * at 0, btrfs "_BHRfS_M" at 65600, LVM2 "LABELONE" in sectors 0-3, Linux
 * swap "SWAPSPACE2" at the end of the first page, LUKS "LUKS\xba\xbe" at 0.
 * A scratch label is none of these (lib/scratch.h). */
#ifndef LIB_DISKSIG_H
#define LIB_DISKSIG_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Bytes from the start of the disk the probe looks at (btrfs's superblock
 * ends furthest out); less is fine for a smaller disk. */
#define DISKSIG_SPAN (72u * 1024u)

enum disksig_kind {
    DISKSIG_NONE,
    DISKSIG_ISO9660,
    DISKSIG_GPT,
    DISKSIG_FAT,
    DISKSIG_EXFAT,
    DISKSIG_NTFS,
    DISKSIG_MBR,
    DISKSIG_EXT,
    DISKSIG_XFS,
    DISKSIG_BTRFS,
    DISKSIG_LVM2,
    DISKSIG_SWAP,
    DISKSIG_LUKS,
    DISKSIG_KINDS
};

struct disksig {
    enum disksig_kind kind;
    uint64_t offset;        /* byte where the signature was found */
};

/* Looks at buf[0..len) (the disk's first bytes) and reports the first
 * signature found, most specific first (an ISO 9660 hybrid image also has an
 * MBR and a GPT; a FAT boot sector also ends in 0x55AA). */
struct disksig disksig_probe(const void *buf, size_t len);
/* Every signature in buf[0..len), in the same order: stores the first `max`
 * in out[] and returns how many there are (a disk that shows more than one
 * thing is still in use, whatever the first one says). */
unsigned disksig_probe_all(const void *buf, size_t len, struct disksig *out, unsigned max);
/* The same, but a signature any of whose bytes lies in a 512-byte sector for
 * which skip(ctx, sector) says true is not seen (the write rule skips the
 * sectors bareio's own data stamps fill, whose bytes are no sign of use). */
typedef bool (*disksig_skip_fn)(void *ctx, const uint8_t *sector512);
unsigned disksig_probe_all_skipping(const void *buf, size_t len, disksig_skip_fn skip, void *ctx,
                                    struct disksig *out, unsigned max);
/* GPT headers are looked for at 512 << k, k < DISKSIG_GPT_BLOCK_SIZES. */
#define DISKSIG_GPT_BLOCK_SIZES 8
/* "EFI PART" at buf[offset]. */
bool disksig_gpt_header_at(const void *buf, size_t len, uint64_t offset);
/* True when LBA 0 holds an MBR whose only used entries are GPT protective
 * (type EEh, UEFI 2.10 §5.2.3) — what a GPT disk carries, as opposed to a
 * legacy or hybrid MBR that describes partitions of its own. */
bool disksig_mbr_protective(const void *buf, size_t len);
/* "an ISO 9660 file system", "an MBR partition table", ... */
const char *disksig_name(enum disksig_kind kind);

/* The ISO 9660 primary volume descriptor's Volume Identifier (ECMA-119
 * §8.4.6, 32 characters at byte 32768 + 40) with trailing blanks removed;
 * "" when buf holds no primary volume descriptor. out must hold 33 bytes. */
void disksig_iso9660_volume_id(const void *buf, size_t len, char *out);

#endif
