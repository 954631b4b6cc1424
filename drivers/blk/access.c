/* drivers/blk/access.c — which devices bareio may write, and where (the rules
 * are listed in drivers/blk/access.h). Pure: no I/O, no kernel calls, so the
 * host tests run every rule on synthetic disk heads. */
#include "drivers/blk/access.h"
#include "drivers/blk/blk.h"
#include "lib/format.h"
#include "lib/gpt.h"
#include "lib/scratch.h"
#include "lib/string.h"

/* "1 MiB", "64 KiB", "4608 B": exact, for the access line. */
static void exact_size(char *buf, size_t size, uint64_t bytes)
{
    static const char *const units[] = { "B", "KiB", "MiB", "GiB", "TiB" };
    unsigned u = 0;
    while (bytes >= 1024 && bytes % 1024 == 0 && u + 1 < sizeof(units) / sizeof(units[0])) {
        bytes /= 1024;
        u++;
    }
    snprintf(buf, size, "%llu %s", (unsigned long long)bytes, units[u]);
}

static void set_scratch(struct blk_dev *dev, uint64_t first, uint64_t end, const char *how)
{
    char from[24], to[24];

    dev->writable = true;
    dev->write_first = first;
    dev->write_end = end;
    exact_size(from, sizeof(from), first * dev->block_size);
    exact_size(to, sizeof(to), end * dev->block_size);
    snprintf(dev->access, sizeof(dev->access), "scratch (%s): writes to %s..%s", how, from, to);
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

/* The first bareio partition of a GPT whose header is at LBA 1 and whose
 * entry array lies inside `head` (it starts at LBA 2 on every disk bareio
 * has met; an array further out is not read, and the disk stays read-only). */
static enum gpt_status find_bareio_partition(const struct blk_dev *dev, const uint8_t *head,
                                             size_t len, struct gpt_partition *part)
{
    uint32_t bs = dev->block_size;
    struct gpt_header h;
    enum gpt_status st;

    if (len < 2 * (size_t)bs)
        return GPT_NONE;
    st = gpt_parse_header(head + bs, bs, dev->nblocks, &h);
    if (st != GPT_OK)
        return st;
    if (h.entries_lba * bs + gpt_entries_bytes(&h) > len)
        return GPT_BAD_HEADER;
    return gpt_find_partition(&h, head + h.entries_lba * bs, gpt_type_bareio, 0, part);
}

void blk_access_decide(struct blk_dev *dev, const uint8_t *head, size_t len, bool allowed,
                       const char *boot_id)
{
    struct scratch_label label;
    struct gpt_partition part;
    uint64_t bytes = dev->nblocks * dev->block_size;

    dev->writable = false;
    dev->boot_device = false;
    dev->write_first = dev->write_end = 0;

    if (is_boot_medium(head, len, boot_id)) {
        dev->boot_device = true;
        snprintf(dev->access, sizeof(dev->access), "read-only: boot medium (bootid=%s), never written",
                 boot_id);
        return;
    }
    enum scratch_status st = len >= SCRATCH_LABEL_SIZE ? scratch_label_parse(head, bytes, &label)
                                                       : SCRATCH_NO_LABEL;
    if (st == SCRATCH_OK) {
        memcpy(dev->identity, label.uuid, 16);
        set_scratch(dev, label.data_offset / dev->block_size,
                    label.data_size ? (label.data_offset + label.data_size) / dev->block_size
                                    : dev->nblocks, "label");
        return;
    }
    enum gpt_status gst = find_bareio_partition(dev, head, len, &part);
    if (gst == GPT_OK) {
        char how[24];
        memcpy(dev->identity, part.unique_guid, 16);
        snprintf(how, sizeof(how), "GPT partition %u", part.index + 1);
        set_scratch(dev, part.first_lba, part.last_lba + 1, how);
        return;
    }
    struct disksig sig = disksig_probe(head, len);
    if (sig.kind != DISKSIG_NONE) {
        /* A GPT is named by what kept it from opening the disk. */
        bool gpt_words = sig.kind == DISKSIG_GPT && gst != GPT_NONE;
        snprintf(dev->access, sizeof(dev->access), "read-only: %s%s (in use%s)",
                 gpt_words ? "" : "holds ", gpt_words ? gpt_status_name(gst) : disksig_name(sig.kind),
                 allowed ? "; allow_write= does not apply" : "");
    } else if (allowed) {
        set_scratch(dev, 0, dev->nblocks, "allow_write");
    } else {
        snprintf(dev->access, sizeof(dev->access), "read-only: %s", scratch_status_name(st));
    }
}
