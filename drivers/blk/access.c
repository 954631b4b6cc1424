/* SPDX-License-Identifier: MIT */
/* drivers/blk/access.c — which devices bareio may write, and where (the rules
 * are listed in drivers/blk/access.h). Pure: no I/O, no kernel calls, so the
 * host tests and the host tools run the very same rule on disk images.
 *
 * All arithmetic is in blocks, never in bytes: a device of 2^64-1 blocks of
 * 64 KiB has no byte count in 64 bits, and a wrapped byte count is how a
 * rule ends up opening the wrong blocks. */
#include "drivers/blk/access.h"
#include "drivers/blk/blk.h"
#include "lib/format.h"
#include "lib/gpt.h"
#include "lib/scratch.h"
#include "lib/stamp.h"
#include "lib/string.h"

#include <stdarg.h>

#define MAX_SIGNATURES 16
_Static_assert(MAX_SIGNATURES >= DISKSIG_KINDS, "every kind of signature fits: none is left unseen");
#define RECLAIM "; tools/mkscratch --force relabels it, erasing what is there"

/* "1 MiB", "64 KiB", "4608 B": exact, for the access line. */
static void exact_size(char *buf, size_t size, uint64_t bytes)
{
    static const char *const units[] = { "B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB" };
    unsigned u = 0;
    while (bytes >= 1024 && bytes % 1024 == 0 && u + 1 < sizeof(units) / sizeof(units[0])) {
        bytes /= 1024;
        u++;
    }
    snprintf(buf, size, "%llu %s", (unsigned long long)bytes, units[u]);
}

/* "1 MiB" for a block number, or "block N" when the byte offset has no
 * 64-bit value. */
static void block_offset(char *buf, size_t size, uint64_t block, uint32_t block_size)
{
    if (block > UINT64_MAX / block_size)
        snprintf(buf, size, "block %llu", (unsigned long long)block);
    else
        exact_size(buf, size, block * block_size);
}

static void read_only(struct blk_access *a, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void read_only(struct blk_access *a, const char *fmt, ...)
{
    va_list ap;
    a->writable = false;
    a->write_first = a->write_end = 0;
    va_start(ap, fmt);
    vsnprintf(a->reason, sizeof(a->reason), fmt, ap);
    va_end(ap);
}

static void set_scratch(struct blk_access *a, uint32_t block_size, uint64_t first, uint64_t end,
                        const char *how)
{
    char from[32], to[32];

    a->writable = true;
    a->write_first = first;
    a->write_end = end;
    strlcpy(a->how, how, sizeof(a->how));
    block_offset(from, sizeof(from), first, block_size);
    block_offset(to, sizeof(to), end, block_size);
    snprintf(a->reason, sizeof(a->reason), "scratch (%s): writes to %s..%s", how, from, to);
}

/* A sector that carries a whole stamp header (magic, version, CRC-32C) is
 * bareio's own data: a run wrote it there, nothing else does. */
static bool is_stamp_sector(void *ctx, const uint8_t *sector)
{
    struct stamp_header h;
    (void)ctx;
    return stamp_parse_header(sector, &h);
}

/* The boot medium carries BAREIO_<bootid>: tools/mkiso writes it as the ISO
 * 9660 volume id, tools/mkusb as the name of the stick's data partition. A
 * GPT whose header checks is enough to name it: matching makes the disk
 * read-only, so a damaged entry array errs on the safe side. */
static bool is_boot_medium(const uint8_t *head, size_t len, uint32_t bs, uint64_t nblocks,
                           const char *boot_id)
{
    char volid[33], want[48];
    struct gpt_header h;
    struct gpt_partition part;
    const uint8_t *entries;

    if (!boot_id || !boot_id[0])
        return false;
    snprintf(want, sizeof(want), "BAREIO_%s", boot_id);
    disksig_iso9660_volume_id(head, len, volid);
    if (volid[0] && strcmp(volid, want) == 0)
        return true;
    if (gpt_locate(head, len, bs, nblocks, &h, &entries) != GPT_OK)
        return false;
    for (unsigned i = 0; gpt_next_partition(&h, entries, i, &part) == GPT_OK; i = part.index + 1)
        if (strcmp(part.name, want) == 0)
            return true;
    return false;
}

/* Bytes of a device, saturated: the label's range is checked against it, and
 * a label cannot describe more than 2^64 bytes anyway. */
static uint64_t device_bytes(uint32_t block_size, uint64_t nblocks)
{
    return nblocks > UINT64_MAX / block_size ? UINT64_MAX : nblocks * block_size;
}

/* Rule 2: the whole blocks inside the label's data range. The label's range
 * is 4 KiB-aligned, blocks may be up to 64 KiB: the start is rounded up and
 * the end down, so a block that is only partly scratch is never written and
 * LBA 0, which holds the label, never is (data_offset >= 512). */
static void label_rule(struct blk_access *a, uint32_t bs, uint64_t nblocks,
                       const struct scratch_label *label, unsigned nsigs,
                       const struct disksig *sigs)
{
    if (nsigs) {
        read_only(a, "read-only: scratch label, but the disk also holds %s (in use since it was "
                  "labelled; allow_write= does not apply)" RECLAIM, disksig_name(sigs[0].kind));
        return;
    }
    uint64_t first = label->data_offset / bs + (label->data_offset % bs != 0);
    uint64_t end = label->data_size ? (label->data_offset + label->data_size) / bs : nblocks;
    if (end > nblocks)
        end = nblocks;
    if (first == 0 || first >= end) {
        read_only(a, "read-only: the scratch label's data range holds no whole %u-byte block", bs);
        return;
    }
    memcpy(a->identity, label->uuid, 16);
    a->has_identity = true;
    set_scratch(a, bs, first, end, "label");
}

uint64_t blk_access_head_bytes(uint32_t bs, uint64_t nblocks)
{
    uint64_t blocks = (BLK_ACCESS_SPAN + bs - 1) / bs;
    if (blocks < 3)
        blocks = 3;
    return (blocks < nblocks ? blocks : nblocks) * bs;
}

/* Rule 3; returns false when the disk shows no GPT at LBA 1 at all. */
static bool gpt_rule(struct blk_access *a, uint32_t bs, uint64_t nblocks, const uint8_t *head,
                     size_t len, unsigned nsigs, const struct disksig *sigs, const char *in_use)
{
    struct gpt_header h;
    struct gpt_partition part;
    const uint8_t *entries;
    enum gpt_status st = gpt_locate(head, len, bs, nblocks, &h, &entries);

    if (st == GPT_NONE)
        return false;
    if (st == GPT_OK)
        st = gpt_find_partition(&h, entries, gpt_type_bareio, 0, &part);
    /* A GPT that is not bareio's beside something more specific (a hybrid
     * ISO carries one): name that instead. */
    if (st == GPT_NOT_FOUND && nsigs && sigs[0].kind != DISKSIG_GPT)
        return false;
    if (st != GPT_OK) {
        read_only(a, "read-only: %s (%s)", gpt_status_name(st), in_use);
        return true;
    }
    /* The GPT itself and its protective MBR are expected; anything else on
     * the disk (a hybrid MBR's own partitions, a file system) is not. */
    for (unsigned i = 0; i < nsigs && i < MAX_SIGNATURES; i++) {
        if (sigs[i].kind == DISKSIG_GPT)
            continue;
        if (sigs[i].kind == DISKSIG_MBR && disksig_mbr_protective(head, len))
            continue;
        read_only(a, "read-only: bareio GPT partition %u, but the disk also holds %s (%s)",
                  part.index + 1, sigs[i].kind == DISKSIG_MBR ? "an MBR with partitions of its own"
                                                             : disksig_name(sigs[i].kind), in_use);
        return true;
    }
    /* Another header where another block size puts LBA 1: a second table
     * this block size cannot see describes the disk too. */
    for (unsigned k = 0; k < DISKSIG_GPT_BLOCK_SIZES; k++) {
        uint64_t at = 512u << k;
        if (at != bs && disksig_gpt_header_at(head, len, at)) {
            read_only(a, "read-only: bareio GPT partition %u, but another GPT header at byte %llu "
                      "(%s)", part.index + 1, (unsigned long long)at, in_use);
            return true;
        }
    }
    char how[32];
    memcpy(a->identity, part.unique_guid, 16);
    a->has_identity = true;
    snprintf(how, sizeof(how), "GPT partition %u", part.index + 1);
    set_scratch(a, bs, part.first_lba, part.last_lba + 1, how);
    return true;
}

void blk_access_rule(uint32_t block_size, uint64_t nblocks, const uint8_t *head, size_t len,
                     bool allowed, const char *boot_id, struct blk_access *out)
{
    struct scratch_label label;
    struct disksig sigs[MAX_SIGNATURES];
    const uint32_t bs = block_size;

    memset(out, 0, sizeof(*out));
    if (bs < 512 || bs > 65536 || (bs & (bs - 1)) != 0 || nblocks == 0) {
        read_only(out, "read-only: impossible geometry (%llu blocks of %u bytes)",
                  (unsigned long long)nblocks, bs);
        return;
    }
    if (len < blk_access_head_bytes(bs, nblocks)) {
        read_only(out, "read-only: only %zu of its first %llu bytes were read", len,
                  (unsigned long long)blk_access_head_bytes(bs, nblocks));
        return;
    }
    if (is_boot_medium(head, len, bs, nblocks, boot_id)) {
        out->boot_device = true;
        read_only(out, "read-only: boot medium (bootid=%s), never written", boot_id);
        return;
    }
    unsigned nsigs = disksig_probe_all_skipping(head, len, is_stamp_sector, NULL, sigs,
                                                MAX_SIGNATURES);
    enum scratch_status st = len >= SCRATCH_LABEL_SIZE
                                 ? scratch_label_parse(head, device_bytes(bs, nblocks), &label)
                                 : SCRATCH_NO_LABEL;
    if (st == SCRATCH_OK) {
        label_rule(out, bs, nblocks, &label, nsigs, sigs);
        return;
    }
    if (st != SCRATCH_NO_LABEL) {
        /* Somebody meant to mark the disk; what they marked cannot be read. */
        read_only(out, "read-only: %s (allow_write= does not apply)" RECLAIM,
                  scratch_status_name(st));
        return;
    }
    const char *in_use = allowed ? "in use; allow_write= does not apply" : "in use";
    if (gpt_rule(out, bs, nblocks, head, len, nsigs, sigs, in_use))
        return;
    if (nsigs)
        read_only(out, "read-only: holds %s (%s)", disksig_name(sigs[0].kind), in_use);
    else if (allowed)
        set_scratch(out, bs, 0, nblocks, "allow_write");
    else
        read_only(out, "read-only: %s", scratch_status_name(st));
}

/* ---- second phase: the start of the range opened ---- */

struct disksig blk_access_data_signature(const uint8_t *data, size_t len)
{
    struct disksig first = { DISKSIG_NONE, 0 };
    disksig_probe_all_skipping(data, len, is_stamp_sector, NULL, &first, 1);
    return first;
}

uint64_t blk_access_data_bytes(const struct blk_access *a, uint32_t bs)
{
    if (!a->writable || a->write_first == 0)
        return 0;       /* nothing to look at, or the head was the range's start */
    uint64_t blocks = (BLK_ACCESS_SPAN + bs - 1) / bs, range = a->write_end - a->write_first;
    return (blocks < range ? blocks : range) * bs;
}

void blk_access_check_data(struct blk_access *a, const uint8_t *data, size_t len)
{
    struct disksig sig = blk_access_data_signature(data, len);
    if (a->writable && sig.kind != DISKSIG_NONE)
        read_only(a, "read-only: scratch (%s), but its first blocks hold %s (made in it after it "
                  "was marked)" RECLAIM, a->how, disksig_name(sig.kind));
}

void blk_access_decide_device(uint32_t bs, uint64_t nblocks, blk_access_read_fn read, void *ctx,
                              uint8_t *buf, bool allowed, const char *boot_id,
                              struct blk_access *out)
{
    uint64_t head = bs >= 512 && bs <= 65536 && nblocks ? blk_access_head_bytes(bs, nblocks) : 0;

    if (head && !read(ctx, 0, (uint32_t)(head / bs), buf)) {
        memset(out, 0, sizeof(*out));
        read_only(out, "read-only: reading its first %llu blocks failed",
                  (unsigned long long)(head / bs));
        return;
    }
    blk_access_rule(bs, nblocks, buf, (size_t)head, allowed, boot_id, out);
    uint64_t data = blk_access_data_bytes(out, bs);
    if (!data)
        return;
    /* A block of the range that cannot be read (a media error the run is
     * there to find) shows no sign of use: it is read as zeroes, and said. */
    uint32_t count = (uint32_t)(data / bs), unread = 0;
    if (!read(ctx, out->write_first, count, buf))
        for (uint32_t i = 0; i < count; i++)
            if (!read(ctx, out->write_first + i, 1, buf + (size_t)i * bs)) {
                memset(buf + (size_t)i * bs, 0, bs);
                unread++;
            }
    blk_access_check_data(out, buf, (size_t)data);
    if (out->writable && unread) {
        size_t n = strlen(out->reason);
        snprintf(out->reason + n, sizeof(out->reason) - n, "; %u of its first %u blocks "
                 "unreadable", unread, count);
    }
}

void blk_access_apply(struct blk_dev *dev, const struct blk_access *a)
{
    dev->writable = a->writable;
    dev->boot_device = a->boot_device;
    dev->write_first = a->write_first;
    dev->write_end = a->write_end;
    if (a->has_identity)
        memcpy(dev->identity, a->identity, 16);
    strlcpy(dev->access, a->reason, sizeof(dev->access));
}

void blk_access_decide(struct blk_dev *dev, const uint8_t *head, size_t len, bool allowed,
                       const char *boot_id)
{
    struct blk_access a;

    blk_access_rule(dev->block_size, dev->nblocks, head, len, allowed, boot_id, &a);
    blk_access_apply(dev, &a);
}
