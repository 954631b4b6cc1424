/* SPDX-License-Identifier: MIT */
/* lib/gpt.h — the GUID Partition Table (UEFI 2.10 §5.3), as far as bareio
 * needs it: check a header and its entry array (both CRC-32), find the
 * partitions with bareio's partition type GUID, and build a GPT with one such
 * partition (tools/mkscratch --gpt). Pure: the caller reads the blocks and
 * hands them over, so the kernel, the host tools and the host tests share it.
 *
 * Left out: repairing a damaged primary from the backup (a damaged primary
 * header means "a partition table we cannot trust", never "writable"), and
 * the MBR partition types other than the protective 0xEE entry. */
#ifndef LIB_GPT_H
#define LIB_GPT_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define GPT_SIGNATURE "EFI PART"
#define GPT_REVISION 0x00010000u
#define GPT_HEADER_SIZE 92          /* bytes covered by HeaderCRC32 (§5.3.2) */
#define GPT_ENTRY_SIZE 128          /* the minimum SizeOfPartitionEntry */
#define GPT_ENTRY_COUNT 128         /* entries tools/mkscratch --gpt writes */
#define GPT_MBR_TYPE_PROTECTIVE 0xEE

/* bareio's partition type GUID 5175cb25-cc21-48c2-964f-d62c6ffdb833, in the
 * mixed-endian byte order GPT stores GUIDs in. */
extern const uint8_t gpt_type_bareio[16];

/* The GPT header fields bareio uses (§5.3.2, table 5.5). */
struct gpt_header {
    uint64_t my_lba;
    uint64_t alternate_lba;
    uint64_t first_usable_lba;
    uint64_t last_usable_lba;
    uint8_t disk_guid[16];
    uint64_t entries_lba;
    uint32_t entry_count;
    uint32_t entry_size;
    uint32_t entries_crc;
};

struct gpt_partition {
    unsigned index;                 /* 0-based entry number */
    uint8_t type_guid[16];
    uint8_t unique_guid[16];
    uint64_t first_lba, last_lba;   /* inclusive */
    uint64_t attributes;
    char name[37];                  /* PartitionName, ASCII only ('?' otherwise) */
};

enum gpt_status {
    GPT_OK,
    GPT_NONE,               /* no "EFI PART" signature */
    GPT_BAD_HEADER_CRC,     /* signature present, HeaderCRC32 wrong */
    GPT_BAD_HEADER,         /* revision, sizes or LBAs impossible for this disk */
    GPT_BAD_ENTRIES_CRC,    /* PartitionEntryArrayCRC32 wrong */
    GPT_BAD_ENTRY,          /* a used entry lies outside the usable LBAs */
    GPT_NOT_FOUND,          /* well-formed, but no partition of the type asked for */
    GPT_BAD_LAYOUT,         /* usable LBAs reach LBA 0/1, an entry array or the backup header */
    GPT_OVERLAP,            /* the partition found shares blocks with another used entry */
    GPT_ENTRIES_UNREAD,     /* the entry array lies past the bytes the caller read */
};
const char *gpt_status_name(enum gpt_status status);

/* Checks the header in `block` (LBA 1, block_size bytes) of a disk of
 * `nblocks` blocks: signature, HeaderCRC32, revision, sizes, MyLBA == 1,
 * every LBA inside the disk, and usable LBAs clear of LBA 0, the header, the
 * primary entry array, the backup entry array and the backup header. */
enum gpt_status gpt_parse_header(const void *block, uint32_t block_size, uint64_t nblocks,
                                 struct gpt_header *out);
/* The GPT of a disk whose first `len` bytes are `head`: the header at LBA 1
 * checked as gpt_parse_header does, and its entry array found inside `head`
 * (*entries points at it). GPT_NONE when `head` ends before LBA 1 or holds no
 * signature there; GPT_ENTRIES_UNREAD when the array lies past `len`. */
enum gpt_status gpt_locate(const uint8_t *head, size_t len, uint32_t block_size, uint64_t nblocks,
                           struct gpt_header *h, const uint8_t **entries);
/* Bytes of the entry array: entry_count * entry_size (what to read at
 * entries_lba, rounded up to blocks by the caller). */
uint64_t gpt_entries_bytes(const struct gpt_header *h);
/* Checks PartitionEntryArrayCRC32 over `entries` (gpt_entries_bytes long),
 * then finds the first used entry of type `type` at index >= `start` and
 * checks that it lies inside the usable LBAs and shares no block with any
 * other used entry. */
enum gpt_status gpt_find_partition(const struct gpt_header *h, const void *entries,
                                   const uint8_t type[16], unsigned start,
                                   struct gpt_partition *out);
/* The first used entry of any type at index >= `start` (the array's CRC is
 * the caller's to have checked, with gpt_find_partition): GPT_OK with *out
 * filled, or GPT_NOT_FOUND. tools/mkscratch lists a disk's partitions with it
 * to tell a GPT that holds bareio's partitions only from one that holds
 * somebody's data too. */
enum gpt_status gpt_next_partition(const struct gpt_header *h, const void *entries,
                                   unsigned start, struct gpt_partition *out);

/* "5175cb25-cc21-48c2-964f-d62c6ffdb833" (buf >= 37 bytes). */
void gpt_guid_format(char *buf, const uint8_t guid[16]);

/* A new GPT with one partition of `type` covering every usable LBA (aligned
 * to 1 MiB) of a disk of nblocks blocks. `primary` receives LBA 0 (protective
 * MBR), LBA 1 (header) and the entry array: gpt_primary_blocks() blocks;
 * `backup` the backup entry array and header, written at the last
 * gpt_backup_blocks() blocks of the disk. Returns false when the disk is too
 * small for the tables and a 1 MiB-aligned partition. */
struct gpt_layout {
    uint32_t block_size;
    uint64_t nblocks;
    uint8_t disk_guid[16];
    uint8_t part_guid[16];
    const uint8_t *type;
    const char *name;               /* ASCII, at most 36 characters */
};
uint64_t gpt_primary_blocks(uint32_t block_size);
uint64_t gpt_backup_blocks(uint32_t block_size);
bool gpt_build(const struct gpt_layout *l, void *primary, void *backup);

#endif
