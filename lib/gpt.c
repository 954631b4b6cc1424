/* SPDX-License-Identifier: MIT */
/* lib/gpt.c — GPT header and entry-array checks, partition lookup by type and
 * a one-partition GPT builder (UEFI 2.10 §5.2.3 protective MBR, §5.3 GPT).
 * Layouts and rules are in lib/gpt.h. */
#include "lib/gpt.h"
#include "lib/crc.h"
#include "lib/endian.h"
#include "lib/string.h"

/* GPT header offsets (§5.3.2, table 5.5). */
enum {
    GPT_HDR_SIGNATURE = 0,
    GPT_HDR_REVISION = 8,
    GPT_HDR_HEADER_SIZE = 12,
    GPT_HDR_HEADER_CRC = 16,
    GPT_HDR_MY_LBA = 24,
    GPT_HDR_ALTERNATE_LBA = 32,
    GPT_HDR_FIRST_USABLE = 40,
    GPT_HDR_LAST_USABLE = 48,
    GPT_HDR_DISK_GUID = 56,
    GPT_HDR_ENTRIES_LBA = 72,
    GPT_HDR_ENTRY_COUNT = 80,
    GPT_HDR_ENTRY_SIZE = 84,
    GPT_HDR_ENTRIES_CRC = 88,
};
_Static_assert(GPT_HDR_ENTRIES_CRC + 4 == GPT_HEADER_SIZE, "UEFI 2.10 table 5.5: header is 92 bytes");

/* GPT partition entry offsets (§5.3.3, table 5.6). */
enum {
    GPT_ENT_TYPE = 0,
    GPT_ENT_UNIQUE = 16,
    GPT_ENT_FIRST_LBA = 32,
    GPT_ENT_LAST_LBA = 40,
    GPT_ENT_ATTRIBUTES = 48,
    GPT_ENT_NAME = 56,
    GPT_ENT_NAME_CHARS = 36,
};
_Static_assert(GPT_ENT_NAME + 2 * GPT_ENT_NAME_CHARS == GPT_ENTRY_SIZE,
               "UEFI 2.10 table 5.6: entry is 128 bytes");

/* Protective MBR (§5.2.3, table 5.4). */
enum {
    MBR_PARTITION_TABLE = 446,
    MBR_SIGNATURE = 510,
    MBR_ENTRY_SIZE = 16,
};
_Static_assert(MBR_PARTITION_TABLE + 4 * MBR_ENTRY_SIZE == MBR_SIGNATURE, "MBR: four 16-byte entries");

/* An entry array above this is refused rather than read: real tables hold
 * 16 KiB, and the kernel reads the array into one DMA buffer. */
#define GPT_MAX_ENTRIES_BYTES (1024u * 1024u)

const uint8_t gpt_type_bareio[16] = {
    0x25, 0xcb, 0x75, 0x51, 0x21, 0xcc, 0xc2, 0x48,
    0x96, 0x4f, 0xd6, 0x2c, 0x6f, 0xfd, 0xb8, 0x33,
};

const char *gpt_status_name(enum gpt_status status)
{
    switch (status) {
    case GPT_OK: return "GPT";
    case GPT_NONE: return "no GPT";
    case GPT_BAD_HEADER_CRC: return "GPT header damaged (CRC-32 mismatch)";
    case GPT_BAD_HEADER: return "GPT header with impossible sizes or LBAs";
    case GPT_BAD_ENTRIES_CRC: return "GPT partition entries damaged (CRC-32 mismatch)";
    case GPT_BAD_ENTRY: return "GPT partition outside the usable LBAs";
    case GPT_NOT_FOUND: return "GPT without a bareio partition";
    case GPT_BAD_LAYOUT:
        return "GPT whose usable LBAs overlap its own header or entry arrays";
    case GPT_OVERLAP: return "GPT partition overlapping another partition";
    case GPT_ENTRIES_UNREAD: return "GPT entry array beyond the blocks read";
    }
    return "?";
}

/* HeaderCRC32 is computed with its own field taken as zero (§5.3.2). */
static uint32_t header_crc(const uint8_t *p, uint32_t size)
{
    static const uint8_t zero[4];
    uint32_t crc = crc32_update(0, p, GPT_HDR_HEADER_CRC);
    crc = crc32_update(crc, zero, 4);
    return crc32_update(crc, p + GPT_HDR_HEADER_CRC + 4, size - GPT_HDR_HEADER_CRC - 4);
}

static bool entry_size_valid(uint32_t size)
{
    /* 128 * 2^n (§5.3.2, SizeOfPartitionEntry). */
    return size >= GPT_ENTRY_SIZE && (size & (size - 1)) == 0;
}

/* The usable LBAs must leave the GPT's own structures alone (§5.3.1, figure
 * 5.3): LBA 0 (protective MBR), the primary header at LBA 1 and its entry
 * array below FirstUsableLBA; above LastUsableLBA the backup entry array,
 * which ends right below the backup header at AlternateLBA. The backup header
 * itself is not read, so its array is taken to be where the layout puts it,
 * of the primary's size. */
static bool layout_clear(const struct gpt_header *h, uint64_t entry_blocks)
{
    return h->entries_lba + entry_blocks <= h->first_usable_lba &&
           h->alternate_lba > h->last_usable_lba &&
           h->alternate_lba - h->last_usable_lba > entry_blocks;
}

enum gpt_status gpt_parse_header(const void *block, uint32_t block_size, uint64_t nblocks,
                                 struct gpt_header *out)
{
    const uint8_t *p = block;

    if (memcmp(p + GPT_HDR_SIGNATURE, GPT_SIGNATURE, 8) != 0)
        return GPT_NONE;
    uint32_t size = le32_get(p + GPT_HDR_HEADER_SIZE);
    if (size < GPT_HEADER_SIZE || size > block_size)
        return GPT_BAD_HEADER;
    if (header_crc(p, size) != le32_get(p + GPT_HDR_HEADER_CRC))
        return GPT_BAD_HEADER_CRC;

    out->my_lba = le64_get(p + GPT_HDR_MY_LBA);
    out->alternate_lba = le64_get(p + GPT_HDR_ALTERNATE_LBA);
    out->first_usable_lba = le64_get(p + GPT_HDR_FIRST_USABLE);
    out->last_usable_lba = le64_get(p + GPT_HDR_LAST_USABLE);
    memcpy(out->disk_guid, p + GPT_HDR_DISK_GUID, 16);
    out->entries_lba = le64_get(p + GPT_HDR_ENTRIES_LBA);
    out->entry_count = le32_get(p + GPT_HDR_ENTRY_COUNT);
    out->entry_size = le32_get(p + GPT_HDR_ENTRY_SIZE);
    out->entries_crc = le32_get(p + GPT_HDR_ENTRIES_CRC);

    if (le32_get(p + GPT_HDR_REVISION) != GPT_REVISION || out->my_lba != 1 ||
        !entry_size_valid(out->entry_size) || out->entry_count == 0 ||
        (uint64_t)out->entry_count * out->entry_size > GPT_MAX_ENTRIES_BYTES)
        return GPT_BAD_HEADER;
    uint64_t entry_blocks = (gpt_entries_bytes(out) + block_size - 1) / block_size;
    if (out->alternate_lba >= nblocks || out->last_usable_lba >= nblocks ||
        out->first_usable_lba > out->last_usable_lba || out->entries_lba < 2 ||
        out->entries_lba >= nblocks || entry_blocks > nblocks - out->entries_lba)
        return GPT_BAD_HEADER;
    return layout_clear(out, entry_blocks) ? GPT_OK : GPT_BAD_LAYOUT;
}

enum gpt_status gpt_locate(const uint8_t *head, size_t len, uint32_t bs, uint64_t nblocks,
                           struct gpt_header *h, const uint8_t **entries)
{
    if (len < 2 * (size_t)bs)
        return GPT_NONE;
    enum gpt_status st = gpt_parse_header(head + bs, bs, nblocks, h);
    if (st != GPT_OK)
        return st;
    /* gpt_parse_header bounds the array to 1 MiB and entries_lba to the disk. */
    if (h->entries_lba > len / bs || gpt_entries_bytes(h) > len - h->entries_lba * bs)
        return GPT_ENTRIES_UNREAD;
    *entries = head + h->entries_lba * bs;
    return GPT_OK;
}

uint64_t gpt_entries_bytes(const struct gpt_header *h)
{
    return (uint64_t)h->entry_count * h->entry_size;
}

static void entry_name(char *dst, const uint8_t *utf16)
{
    int i;
    for (i = 0; i < GPT_ENT_NAME_CHARS; i++) {
        uint16_t c = (uint16_t)(utf16[2 * i] | utf16[2 * i + 1] << 8);
        if (c == 0)
            break;
        dst[i] = c >= 0x20 && c < 0x7f ? (char)c : '?';
    }
    dst[i] = '\0';
}

static bool entry_used(const uint8_t *e)
{
    static const uint8_t unused[16];
    return memcmp(e + GPT_ENT_TYPE, unused, 16) != 0;   /* §5.3.3: zero type = unused */
}

/* The first used entry other than p that shares a block with it, or
 * entry_count: writes to p must never reach another partition's data. */
static unsigned overlapping_entry(const struct gpt_header *h, const uint8_t *base,
                                  const struct gpt_partition *p)
{
    for (unsigned j = 0; j < h->entry_count; j++) {
        const uint8_t *e = base + (uint64_t)j * h->entry_size;
        if (j == p->index || !entry_used(e))
            continue;
        uint64_t first = le64_get(e + GPT_ENT_FIRST_LBA), last = le64_get(e + GPT_ENT_LAST_LBA);
        if (first <= p->last_lba && last >= p->first_lba)
            return j;
    }
    return h->entry_count;
}

static void entry_fill(const uint8_t *e, unsigned index, struct gpt_partition *out)
{
    out->index = index;
    memcpy(out->type_guid, e + GPT_ENT_TYPE, 16);
    memcpy(out->unique_guid, e + GPT_ENT_UNIQUE, 16);
    out->first_lba = le64_get(e + GPT_ENT_FIRST_LBA);
    out->last_lba = le64_get(e + GPT_ENT_LAST_LBA);
    out->attributes = le64_get(e + GPT_ENT_ATTRIBUTES);
    entry_name(out->name, e + GPT_ENT_NAME);
}

enum gpt_status gpt_find_partition(const struct gpt_header *h, const void *entries,
                                   const uint8_t type[16], unsigned start,
                                   struct gpt_partition *out)
{
    const uint8_t *base = entries;

    if (crc32(base, gpt_entries_bytes(h)) != h->entries_crc)
        return GPT_BAD_ENTRIES_CRC;
    for (unsigned i = start; i < h->entry_count; i++) {
        const uint8_t *e = base + (uint64_t)i * h->entry_size;
        if (memcmp(e + GPT_ENT_TYPE, type, 16) != 0)
            continue;
        entry_fill(e, i, out);
        if (out->first_lba < h->first_usable_lba || out->last_lba > h->last_usable_lba ||
            out->first_lba > out->last_lba)
            return GPT_BAD_ENTRY;
        return overlapping_entry(h, base, out) < h->entry_count ? GPT_OVERLAP : GPT_OK;
    }
    return GPT_NOT_FOUND;
}

enum gpt_status gpt_next_partition(const struct gpt_header *h, const void *entries,
                                   unsigned start, struct gpt_partition *out)
{
    const uint8_t *base = entries;

    for (unsigned i = start; i < h->entry_count; i++) {
        const uint8_t *e = base + (uint64_t)i * h->entry_size;
        if (entry_used(e)) {
            entry_fill(e, i, out);
            return GPT_OK;
        }
    }
    return GPT_NOT_FOUND;
}

void gpt_guid_format(char *buf, const uint8_t g[16])
{
    /* Data1..Data3 little-endian, Data4 as stored (§Appendix A). */
    static const uint8_t order[16] = { 3, 2, 1, 0, 5, 4, 7, 6, 8, 9, 10, 11, 12, 13, 14, 15 };
    static const char hex[] = "0123456789abcdef";
    char *o = buf;
    for (int i = 0; i < 16; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10)
            *o++ = '-';
        *o++ = hex[g[order[i]] >> 4];
        *o++ = hex[g[order[i]] & 15];
    }
    *o = '\0';
}

/* ---- building ---- */

static uint64_t entry_blocks(uint32_t block_size)
{
    return ((uint64_t)GPT_ENTRY_COUNT * GPT_ENTRY_SIZE + block_size - 1) / block_size;
}

uint64_t gpt_primary_blocks(uint32_t block_size) { return 2 + entry_blocks(block_size); }

uint64_t gpt_backup_blocks(uint32_t block_size) { return entry_blocks(block_size) + 1; }

static void build_protective_mbr(uint8_t *mbr, uint64_t nblocks)
{
    uint8_t *e = mbr + MBR_PARTITION_TABLE;
    e[1] = 0x00; e[2] = 0x02; e[3] = 0x00;          /* starting CHS 0/0/2 */
    e[4] = GPT_MBR_TYPE_PROTECTIVE;
    e[5] = 0xff; e[6] = 0xff; e[7] = 0xff;          /* ending CHS: not representable */
    le32_put(e + 8, 1);
    le32_put(e + 12, nblocks - 1 > 0xffffffffu ? 0xffffffffu : (uint32_t)(nblocks - 1));
    mbr[MBR_SIGNATURE] = 0x55;
    mbr[MBR_SIGNATURE + 1] = 0xaa;
}

static void build_entry(uint8_t *e, const struct gpt_layout *l, uint64_t first, uint64_t last)
{
    memcpy(e + GPT_ENT_TYPE, l->type, 16);
    memcpy(e + GPT_ENT_UNIQUE, l->part_guid, 16);
    le64_put(e + GPT_ENT_FIRST_LBA, first);
    le64_put(e + GPT_ENT_LAST_LBA, last);
    for (int i = 0; l->name && l->name[i] && i < GPT_ENT_NAME_CHARS; i++)
        e[GPT_ENT_NAME + 2 * i] = (uint8_t)l->name[i];
}

static void build_header(uint8_t *p, const struct gpt_layout *l, uint64_t my_lba,
                         uint64_t alternate_lba, uint64_t entries_lba, uint32_t entries_crc)
{
    uint64_t eb = entry_blocks(l->block_size);

    memcpy(p + GPT_HDR_SIGNATURE, GPT_SIGNATURE, 8);
    le32_put(p + GPT_HDR_REVISION, GPT_REVISION);
    le32_put(p + GPT_HDR_HEADER_SIZE, GPT_HEADER_SIZE);
    le64_put(p + GPT_HDR_MY_LBA, my_lba);
    le64_put(p + GPT_HDR_ALTERNATE_LBA, alternate_lba);
    le64_put(p + GPT_HDR_FIRST_USABLE, 2 + eb);
    le64_put(p + GPT_HDR_LAST_USABLE, l->nblocks - 2 - eb);
    memcpy(p + GPT_HDR_DISK_GUID, l->disk_guid, 16);
    le64_put(p + GPT_HDR_ENTRIES_LBA, entries_lba);
    le32_put(p + GPT_HDR_ENTRY_COUNT, GPT_ENTRY_COUNT);
    le32_put(p + GPT_HDR_ENTRY_SIZE, GPT_ENTRY_SIZE);
    le32_put(p + GPT_HDR_ENTRIES_CRC, entries_crc);
    le32_put(p + GPT_HDR_HEADER_CRC, header_crc(p, GPT_HEADER_SIZE));
}

bool gpt_build(const struct gpt_layout *l, void *primary, void *backup)
{
    uint32_t bs = l->block_size;
    uint64_t eb = entry_blocks(bs), align = (1024u * 1024u) / bs;
    uint8_t *pri = primary, *bak = backup;

    if (bs < 512 || (bs & (bs - 1)) != 0 || l->nblocks < 2 * align + 2 * eb + 3)
        return false;
    uint64_t first_usable = 2 + eb, last_usable = l->nblocks - 2 - eb;
    uint64_t first = (first_usable + align - 1) / align * align;
    if (first > last_usable)
        return false;

    memset(pri, 0, gpt_primary_blocks(bs) * bs);
    memset(bak, 0, gpt_backup_blocks(bs) * bs);
    build_protective_mbr(pri, l->nblocks);
    build_entry(pri + 2 * bs, l, first, last_usable);
    uint32_t entries_crc = crc32(pri + 2 * bs, GPT_ENTRY_COUNT * GPT_ENTRY_SIZE);
    build_header(pri + bs, l, 1, l->nblocks - 1, 2, entries_crc);
    /* Backup: the entry array, then the header in the disk's last block (§5.3.2). */
    memcpy(bak, pri + 2 * bs, eb * bs);
    build_header(bak + eb * bs, l, l->nblocks - 1, 1, l->nblocks - 1 - eb, entries_crc);
    return true;
}
