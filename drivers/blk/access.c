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
#include "lib/string.h"

#define MAX_SIGNATURES 16
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
    block_offset(from, sizeof(from), first, block_size);
    block_offset(to, sizeof(to), end, block_size);
    snprintf(a->reason, sizeof(a->reason), "scratch (%s): writes to %s..%s", how, from, to);
}

static bool is_boot_medium(const uint8_t *head, size_t len, const char *boot_id)
{
    char volid[33], want[48];

    if (!boot_id || !boot_id[0])
        return false;
    disksig_iso9660_volume_id(head, len, volid);
    snprintf(want, sizeof(want), "BAREIO_%s", boot_id);
    return volid[0] && strcmp(volid, want) == 0;
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

/* The first bareio partition of a GPT whose header is at LBA 1 and whose
 * entry array lies inside `head` (it starts at LBA 2 on every disk bareio
 * has met; an array further out is not read, and the disk stays read-only). */
static enum gpt_status find_bareio_partition(uint32_t bs, uint64_t nblocks, const uint8_t *head,
                                             size_t len, struct gpt_partition *part,
                                             bool *beyond_head)
{
    struct gpt_header h;
    enum gpt_status st;

    *beyond_head = false;
    if (len < 2 * (size_t)bs)
        return GPT_NONE;
    st = gpt_parse_header(head + bs, bs, nblocks, &h);
    if (st != GPT_OK)
        return st;
    /* gpt_parse_header bounds the array to 1 MiB and entries_lba to the disk. */
    if (h.entries_lba > len / bs || gpt_entries_bytes(&h) > len - h.entries_lba * bs) {
        *beyond_head = true;
        return GPT_BAD_HEADER;
    }
    return gpt_find_partition(&h, head + h.entries_lba * bs, gpt_type_bareio, 0, part);
}

/* Rule 3; returns false when the disk shows no GPT at LBA 1 at all. */
static bool gpt_rule(struct blk_access *a, uint32_t bs, uint64_t nblocks, const uint8_t *head,
                     size_t len, unsigned nsigs, const struct disksig *sigs, const char *in_use)
{
    struct gpt_partition part;
    bool beyond_head;
    enum gpt_status st = find_bareio_partition(bs, nblocks, head, len, &part, &beyond_head);

    if (st == GPT_NONE)
        return false;
    if (beyond_head) {
        read_only(a, "read-only: GPT entry array beyond the first %u KiB, not read (%s)",
                  (unsigned)(BLK_ACCESS_SPAN / 1024), in_use);
        return true;
    }
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
    if (bs < 512 || (bs & (bs - 1)) != 0 || nblocks == 0) {
        read_only(out, "read-only: impossible geometry (%llu blocks of %u bytes)",
                  (unsigned long long)nblocks, bs);
        return;
    }
    if (is_boot_medium(head, len, boot_id)) {
        out->boot_device = true;
        read_only(out, "read-only: boot medium (bootid=%s), never written", boot_id);
        return;
    }
    unsigned nsigs = disksig_probe_all(head, len, sigs, MAX_SIGNATURES);
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

void blk_access_decide(struct blk_dev *dev, const uint8_t *head, size_t len, bool allowed,
                       const char *boot_id)
{
    struct blk_access a;

    blk_access_rule(dev->block_size, dev->nblocks, head, len, allowed, boot_id, &a);
    dev->writable = a.writable;
    dev->boot_device = a.boot_device;
    dev->write_first = a.write_first;
    dev->write_end = a.write_end;
    if (a.has_identity)
        memcpy(dev->identity, a.identity, 16);
    strlcpy(dev->access, a.reason, sizeof(dev->access));
}
