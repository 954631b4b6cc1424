/* SPDX-License-Identifier: MIT */
/* drivers/ramdisk/ramdisk.c — a block device in RAM, to test the direct-I/O
 * harness itself: created only when `blk.ramdisk=SIZE` is given, it registers
 * through BLK_DRIVER like any disk, so the block layer decides its access from
 * the scratch label this file writes into its first block.
 *
 * It behaves like a small queued controller: submit() queues, kick() hands the
 * queue to the "device", poll() carries the requests out (copying between the
 * caller's segments and the store) and completes them. Test-only faults
 * (`blk.ramdisk.fault=KIND@LBA,...`) make it misbehave at one LBA so that
 * every miscompare class can be shown to be detected:
 *   misdirect@L  reads of L return the content of L+1 (L-1 for the last block)
 *   lost@L       every write to L after the first is acknowledged, not stored
 *   torn@L       writes to L store only the first half of the block
 *   corrupt@L    reads of L come back with one byte flipped
 *   media@L      reads covering L fail with a media error
 * No interrupts, one queue; DMA is a memory copy, so nothing here checks what
 * a real controller would (the block layer's rules still apply). */
#include "drivers/blk/blk.h"
#include "drivers/blk/fifo.h"
#include "kernel/cmdline.h"
#include "kernel/console.h"
#include "kernel/memory.h"
#include "lib/crc.h"
#include "lib/format.h"
#include "lib/scratch.h"
#include "lib/string.h"

#define RAMDISK_MAX_FAULTS      8
#define RAMDISK_MAX_TRANSFER    256     /* blocks per command, so requests split */
#define RAMDISK_MAX_SEGS        64
#define RAMDISK_QUEUE_DEPTH     32
#define RAMDISK_ALIGN           4       /* like NVMe's dword rule */
#define RAMDISK_MIN_SIZE        (2u * 1024 * 1024)
#define RAMDISK_CORRUPT_OFFSET  100     /* the byte corrupt@ flips */

enum ramdisk_fault_kind {
    FAULT_MISDIRECT,
    FAULT_LOST,
    FAULT_TORN,
    FAULT_CORRUPT,
    FAULT_MEDIA,
    FAULT_KIND_COUNT
};

static const char *const fault_names[FAULT_KIND_COUNT] = {
    [FAULT_MISDIRECT] = "misdirect", [FAULT_LOST] = "lost", [FAULT_TORN] = "torn",
    [FAULT_CORRUPT] = "corrupt", [FAULT_MEDIA] = "media",
};

struct ramdisk_fault {
    enum ramdisk_fault_kind kind;
    uint64_t lba;
    unsigned writes_seen;   /* lost@: the first write lands */
};

struct ramdisk {
    struct blk_dev dev;
    struct dma_region store;
    struct blk_fifo queued;     /* submitted, not yet kicked */
    struct blk_fifo kicked;     /* handed to the "device" */
    unsigned in_flight;
    struct ramdisk_fault faults[RAMDISK_MAX_FAULTS];
    unsigned fault_count;
};

static struct ramdisk ramdisk0;

/* ---- command line ---- */

/* Parses "kind@lba[,kind@lba...]" ('|' also separates). False on bad syntax. */
static bool parse_faults(const char *s, size_t len, struct ramdisk_fault *out, unsigned *count,
                         char *why, size_t why_size)
{
    size_t i = 0;
    *count = 0;
    while (i < len) {
        size_t end = i;
        while (end < len && s[end] != ',' && s[end] != '|')
            end++;
        size_t at = i;
        while (at < end && s[at] != '@')
            at++;
        int kind = -1;
        for (int k = 0; k < FAULT_KIND_COUNT; k++)
            if (strlen(fault_names[k]) == at - i && strncmp(fault_names[k], s + i, at - i) == 0)
                kind = k;
        uint64_t lba;
        if (kind < 0 || at == end ||
            cmdline_parse_number(s + at + 1, end - at - 1, &lba) != CMDLINE_NUMBER_OK) {
            snprintf(why, why_size, "'%.*s' is not KIND@LBA with KIND one of misdirect, lost, "
                     "torn, corrupt, media", (int)(end - i), s + i);
            return false;
        }
        if (*count == RAMDISK_MAX_FAULTS) {
            snprintf(why, why_size, "at most %d faults", RAMDISK_MAX_FAULTS);
            return false;
        }
        out[*count] = (struct ramdisk_fault){ .kind = (enum ramdisk_fault_kind)kind, .lba = lba };
        (*count)++;
        i = end + (end < len);
    }
    return true;
}

static bool check_fault_key(const struct cmdline_key *key, const struct cmdline_value *value,
                            char *why, size_t why_size)
{
    struct ramdisk_fault scratch[RAMDISK_MAX_FAULTS];
    unsigned n;
    (void)key;
    return parse_faults(value->text, value->len, scratch, &n, why, why_size);
}

static bool check_block_key(const struct cmdline_key *key, const struct cmdline_value *value,
                            char *why, size_t why_size)
{
    (void)key;
    if (value->number & (value->number - 1)) {
        snprintf(why, why_size, "the block size must be a power of two");
        return false;
    }
    return true;
}

CMDLINE_UINT(uint64_t, ramdisk_size, "blk.ramdisk", 0, 0, 1ull << 30,
             "test: create a RAM disk of this size (scratch-labelled) to test the harness itself");
CMDLINE_UINT(uint32_t, ramdisk_block, "blk.ramdisk.block", 4096, 512, 4096,
             "test: the RAM disk's logical block size", .check = check_block_key);
CMDLINE_UINT(uint64_t, ramdisk_dma_limit, "blk.ramdisk.dma_limit", 0, 0, ~0ull,
             "test: pretend the RAM disk cannot reach memory at or above this address (0: no limit)");
CMDLINE_STRING(ramdisk_fault_spec, "blk.ramdisk.fault", 160, "",
               "test only: make the RAM disk misbehave at LBAs (misdirect|lost|torn|corrupt|media@LBA,...)",
               .check = check_fault_key, .value_syntax = "KIND@LBA[,KIND@LBA...]");

/* ---- data movement ---- */

static uint8_t *block_at(struct ramdisk *rd, uint64_t lba)
{
    return (uint8_t *)rd->store.virt + lba * rd->dev.block_size;
}

/* Word copies where both sides allow it: the store is big and lib's memcpy
 * goes byte by byte. */
static void copy_bytes(void *dst, const void *src, size_t n)
{
    if ((((uintptr_t)dst | (uintptr_t)src | n) & 7) == 0) {
        uint64_t *d = dst;
        const uint64_t *s = src;
        for (size_t i = 0; i < n / 8; i++)
            d[i] = s[i];
    } else {
        memcpy(dst, src, n);
    }
}

/* Walks a request's segments as one linear buffer. */
struct seg_cursor {
    const struct blk_seg *seg;
    uint32_t left;          /* segments after the current one */
    uint32_t offset;        /* into the current segment */
};

/* Copies n bytes between the segments (at the cursor) and `mem`. */
static void cursor_copy(struct seg_cursor *c, uint8_t *mem, size_t n, bool to_segments)
{
    while (n) {
        uint32_t room = c->seg->len - c->offset;
        uint32_t take = n < room ? (uint32_t)n : room;
        uint8_t *p = (uint8_t *)phys_to_virt(c->seg->phys) + c->offset;
        if (to_segments)
            copy_bytes(p, mem, take);
        else
            copy_bytes(mem, p, take);
        mem += take;
        n -= take;
        c->offset += take;
        if (c->offset == c->seg->len && c->left) {
            c->seg++;
            c->left--;
            c->offset = 0;
        }
    }
}

static struct ramdisk_fault *fault_at(struct ramdisk *rd, enum ramdisk_fault_kind kind,
                                      uint64_t lba)
{
    for (unsigned i = 0; i < rd->fault_count; i++)
        if (rd->faults[i].kind == kind && rd->faults[i].lba == lba)
            return &rd->faults[i];
    return NULL;
}

static enum blk_cause do_read(struct ramdisk *rd, struct blk_request *req)
{
    struct seg_cursor c = { req->segs, req->nsegs - 1, 0 };
    uint32_t bs = rd->dev.block_size;

    for (uint32_t i = 0; i < req->count; i++)
        if (fault_at(rd, FAULT_MEDIA, req->lba + i)) {
            req->error_lba = req->lba + i;
            snprintf(req->detail, sizeof(req->detail),
                     "unrecovered read error at lba %llu (injected: blk.ramdisk.fault=media@%llu)",
                     (unsigned long long)req->error_lba, (unsigned long long)req->error_lba);
            return BLK_CAUSE_MEDIA;
        }
    for (uint32_t i = 0; i < req->count; i++) {
        uint64_t lba = req->lba + i, from = lba;
        if (fault_at(rd, FAULT_MISDIRECT, lba))
            from = lba + 1 < rd->dev.nblocks ? lba + 1 : lba - 1;
        uint8_t *src = block_at(rd, from);
        if (fault_at(rd, FAULT_CORRUPT, lba)) {
            uint8_t bounce[4096];
            copy_bytes(bounce, src, bs);
            bounce[RAMDISK_CORRUPT_OFFSET] ^= 0x5a;
            cursor_copy(&c, bounce, bs, true);
        } else {
            cursor_copy(&c, src, bs, true);
        }
    }
    req->bytes = (uint64_t)req->count * bs;
    return BLK_OK;
}

static enum blk_cause do_write(struct ramdisk *rd, struct blk_request *req)
{
    struct seg_cursor c = { req->segs, req->nsegs - 1, 0 };
    uint32_t bs = rd->dev.block_size;
    uint8_t bounce[4096];

    for (uint32_t i = 0; i < req->count; i++) {
        uint64_t lba = req->lba + i;
        struct ramdisk_fault *lost = fault_at(rd, FAULT_LOST, lba);
        cursor_copy(&c, bounce, bs, false);
        if (lost && lost->writes_seen++ > 0)
            continue;                       /* acknowledged, never stored */
        copy_bytes(block_at(rd, lba), bounce, fault_at(rd, FAULT_TORN, lba) ? bs / 2 : bs);
    }
    req->bytes = (uint64_t)req->count * bs;
    return BLK_OK;
}

static void zero_blocks(struct ramdisk *rd, uint64_t lba, uint32_t count)
{
    memset(block_at(rd, lba), 0, (size_t)count * rd->dev.block_size);
}

/* What the "device" does with one command; the device-side checks a real
 * controller makes (range, transfer size) come first. */
static enum blk_cause execute(struct ramdisk *rd, struct blk_request *req)
{
    if (req->op != BLK_OP_FLUSH) {
        if (req->lba >= rd->dev.nblocks || req->count > rd->dev.nblocks - req->lba) {
            req->dev_status = 0x80;
            snprintf(req->detail, sizeof(req->detail),
                     "ramdisk: lba %llu + %u blocks is beyond the %llu-block store",
                     (unsigned long long)req->lba, req->count,
                     (unsigned long long)rd->dev.nblocks);
            return BLK_CAUSE_LBA_RANGE;
        }
        if ((req->flags & BLK_F_NOSPLIT) && req->count > rd->dev.max_transfer) {
            req->dev_status = 0x02;
            snprintf(req->detail, sizeof(req->detail),
                     "ramdisk: one command of %u blocks exceeds the maximum transfer of %u",
                     req->count, rd->dev.max_transfer);
            return BLK_CAUSE_INVALID;
        }
    }
    switch (req->op) {
    case BLK_OP_READ:
        return do_read(rd, req);
    case BLK_OP_WRITE:
        return do_write(rd, req);
    case BLK_OP_TRIM:
    case BLK_OP_WRITE_ZEROES:
        zero_blocks(rd, req->lba, req->count);
        return BLK_OK;
    case BLK_OP_FLUSH:
        return BLK_OK;
    default:
        snprintf(req->detail, sizeof(req->detail), "ramdisk: unknown op %u", req->op);
        return BLK_CAUSE_INVALID;
    }
}

/* ---- blk_ops ---- */

static enum blk_cause ramdisk_submit(struct blk_dev *dev, struct blk_request *req)
{
    struct ramdisk *rd = dev->priv;

    if (rd->in_flight >= dev->queue_depth)
        return blk_refuse(req, BLK_CAUSE_INVALID, "ramdisk: queue full (%u in flight)",
                          rd->in_flight);
    rd->in_flight++;
    blk_fifo_push(&rd->queued, req);
    return BLK_OK;
}

static void ramdisk_kick(struct blk_dev *dev, unsigned queue)
{
    struct ramdisk *rd = dev->priv;
    (void)queue;
    blk_fifo_splice(&rd->kicked, &rd->queued);
}

static unsigned ramdisk_poll(struct blk_dev *dev, unsigned queue)
{
    struct ramdisk *rd = dev->priv;
    unsigned done = 0;
    (void)queue;

    struct blk_request *req;
    while ((req = blk_fifo_pop(&rd->kicked))) {
        rd->in_flight--;
        blk_complete(dev, req, execute(rd, req));
        done++;
    }
    return done;
}

static void ramdisk_describe(struct blk_dev *dev, const struct blk_request *req)
{
    struct ramdisk *rd = dev->priv;
    (void)req;
    klog(LOG_ERR, "  ramdisk: store at 0x%llx, %llu blocks of %u bytes, %u in flight, %u faults\n",
         (unsigned long long)rd->store.phys, (unsigned long long)dev->nblocks, dev->block_size,
         rd->in_flight, rd->fault_count);
    for (unsigned i = 0; i < rd->fault_count; i++)
        klog(LOG_ERR, "  ramdisk: injected fault %s@%llu\n", fault_names[rd->faults[i].kind],
             (unsigned long long)rd->faults[i].lba);
}

static const struct blk_ops ramdisk_ops = {
    .submit = ramdisk_submit,
    .kick = ramdisk_kick,
    .poll = ramdisk_poll,
    .describe = ramdisk_describe,
};

/* ---- bring-up ---- */

/* The label the block layer reads back: writes confined to 1 MiB..end, an
 * identity derived from the size so every run of one set-up stamps alike. */
static void write_label(struct ramdisk *rd)
{
    struct scratch_label label;
    uint32_t h[4];

    memset(&label, 0, sizeof(label));
    h[0] = crc32c("bareio-ramdisk", 14);
    h[1] = crc32c(&ramdisk_size, sizeof(ramdisk_size));
    h[2] = crc32c(&ramdisk_block, sizeof(ramdisk_block));
    h[3] = h[0] ^ h[1] ^ h[2] ^ 0x52414d30u;
    memcpy(label.uuid, h, sizeof(label.uuid));
    label.data_offset = SCRATCH_DEFAULT_DATA_OFFSET;
    label.data_size = 0;
    strlcpy(label.note, "bareio RAM disk (blk.ramdisk=)", sizeof(label.note));
    scratch_label_build(block_at(rd, 0), &label);
}

static void ramdisk_init(const struct blk_driver *drv)
{
    (void)drv;
    struct ramdisk *rd = &ramdisk0;
    struct blk_dev *dev = &rd->dev;
    char size[24];

    if (!ramdisk_size)
        return;
    blk_format_size(size, sizeof(size), ramdisk_size);
    if (ramdisk_size < RAMDISK_MIN_SIZE || ramdisk_size % ramdisk_block) {
        klog(LOG_ERR, "ramdisk: blk.ramdisk=%s: needs at least 2 MiB in whole %u-byte blocks\n",
             size, ramdisk_block);
        return;
    }
    parse_faults(ramdisk_fault_spec, strlen(ramdisk_fault_spec), rd->faults, &rd->fault_count,
                 (char[8]){ 0 }, 8);
    rd->store = dma_alloc(ramdisk_size, 4096, 0, DMA_ANYWHERE);
    if (!rd->store.virt) {
        klog(LOG_ERR, "ramdisk: no %s of memory for the store\n", size);
        return;
    }
    write_label(rd);

    strlcpy(dev->name, "ram0", sizeof(dev->name));
    strlcpy(dev->model, "bareio RAM disk", sizeof(dev->model));
    strlcpy(dev->serial, "bareio-ram0", sizeof(dev->serial));
    strlcpy(dev->firmware, "1", sizeof(dev->firmware));
    dev->block_size = ramdisk_block;
    dev->phys_block_size = ramdisk_block;
    dev->nblocks = ramdisk_size / ramdisk_block;
    dev->max_transfer = RAMDISK_MAX_TRANSFER;
    dev->max_segs = RAMDISK_MAX_SEGS;
    dev->addr_align = RAMDISK_ALIGN;
    dev->len_align = RAMDISK_ALIGN;
    dev->dma_limit = ramdisk_dma_limit ? ramdisk_dma_limit : ~0ull;
    dev->caps = BLK_CAP_FLUSH | BLK_CAP_FUA | BLK_CAP_TRIM | BLK_CAP_WRITE_ZEROES |
                BLK_CAP_TRIM_ZEROES | BLK_CAP_WRITE_CACHE;
    if (dev->dma_limit > (1ull << 32))
        dev->caps |= BLK_CAP_DMA64;
    dev->nqueues = 1;
    dev->queue_depth = RAMDISK_QUEUE_DEPTH;
    dev->ops = &ramdisk_ops;
    dev->priv = rd;
    dev->any_cpu = true;        /* no interrupts: the CPU driving it is the only one in it */
    klog(LOG_INFO, "ramdisk: ram0 %s in %u-byte blocks at 0x%llx%s\n", size, ramdisk_block,
         (unsigned long long)rd->store.phys, rd->fault_count ? ", with injected faults" : "");
    if (!blk_register(dev))
        dma_free(&rd->store);
}

/* Not on PCI: no match table, no BAR, nothing for preflight to read. */
BLK_DRIVER(ramdisk) = {
    .name = "ramdisk",
    .ops = &ramdisk_ops,
    .init = ramdisk_init,
};
