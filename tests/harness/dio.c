/* SPDX-License-Identifier: MIT */
/* tests/harness/dio.c — the direct-I/O harness engine (interface in tests/harness/dio.h).
 *
 * Every block the harness writes carries a stamp (lib/stamp.h) keyed by the
 * device's identity, the run's seed and a per-device write generation; the
 * device's extent map records which generation each LBA must hold, that it
 * must read as zeroes (Write Zeroes), or that it was deallocated and may read
 * as zeroes or its previous generation (a trim: advisory on every device, see
 * dio_deallocate()). A read is checked against the map, so a wrong
 * block is classified (misdirected, lost, torn, corrupt) and reported with
 * the whole request and the first differing byte. The map is printed as the
 * run's manifest at the end, for tools/verify-image to check the medium.
 *
 * The pools are allocated once, before the first case (the harness checks
 * every case for DMA leaks, and a pool is not one), below 4 GiB so any
 * controller reaches them; tests of other placements allocate their own. */
#include "tests/harness/dio.h"
#include "drivers/blk/storage.h"
#include "kernel/cmdline.h"
#include "kernel/console.h"
#include "tests/harness/ktest.h"
#include "kernel/leftout.h"
#include "kernel/smbios.h"
#include "kernel/time.h"
#include "lib/format.h"
#include "lib/smbios.h"
#include "lib/string.h"

#include <stdarg.h>

#define DIO_POISON_BYTE 0xdb

static bool check_expect_key(const struct cmdline_key *key, const struct cmdline_value *value,
                             char *why, size_t why_size);

CMDLINE_UINT(uint64_t, dio_seed_key, "dio.seed", 0, 0, ~0ull,
             "seed of the harness's data stamps and random choices (0: from the TSC; always printed)");
CMDLINE_STRING(dio_expect_key, "dio.expect", 96, "",
               "verify blocks a host tool stamped (tools/verify-image --seed) read-only, first of all",
               .check = check_expect_key, .value_syntax = "LBA:COUNT:SEED:GEN");

/* One record per block device, however many (allocated when the harness
 * starts). Each device has its own buffer pools while memory allows, and
 * shares an earlier device's past that (pool_borrow), so a machine with
 * hundreds of disks is tested in any memory that holds one pair. */
static struct dio_dev *dio_devs;
static unsigned dio_dev_count;
static bool prepared;
static uint64_t run_seed;

/* ---- dio.expect= ---- */

struct expect_spec {
    uint64_t lba, count, seed, gen;
};

static bool parse_expect(const char *s, size_t len, struct expect_spec *out)
{
    uint64_t v[4];
    size_t i = 0;
    for (int f = 0; f < 4; f++) {
        size_t end = i;
        while (end < len && s[end] != ':')
            end++;
        if (end == i || cmdline_parse_number(s + i, end - i, &v[f]) != CMDLINE_NUMBER_OK)
            return false;
        if ((f < 3) != (end < len))
            return false;
        i = end + 1;
    }
    *out = (struct expect_spec){ v[0], v[1], v[2], v[3] };
    return out->count > 0;
}

static bool check_expect_key(const struct cmdline_key *key, const struct cmdline_value *value,
                             char *why, size_t why_size)
{
    struct expect_spec e;
    (void)key;
    if (parse_expect(value->text, value->len, &e))
        return true;
    snprintf(why, why_size, "expected LBA:COUNT:SEED:GEN with COUNT > 0 (numbers decimal or 0x hex)");
    return false;
}

bool dio_expect(uint64_t *lba, uint64_t *count, uint64_t *seed, uint64_t *gen)
{
    struct expect_spec e;
    if (!dio_expect_key[0] || !parse_expect(dio_expect_key, strlen(dio_expect_key), &e))
        return false;
    *lba = e.lba;
    *count = e.count;
    *seed = e.seed;
    *gen = e.gen;
    return true;
}

/* ---- set-up ---- */

/* A device whose own pool the free memory cannot give (many devices, little
 * RAM) shares an earlier device's: the cases run one device at a time, so
 * the pools are never in use twice at once. Only when memory is short, since
 * a device answering late after a timeout could then write into another
 * device's data. False when no device has a pool to share. */
static bool pool_borrow(struct dio_dev *d)
{
    if (d->rbuf.virt)
        dma_free(&d->rbuf);
    if (d->wbuf.virt)
        dma_free(&d->wbuf);
    for (struct dio_dev *l = dio_devs; l < d; l++) {
        if (l->pool_borrowed || !l->rbuf.virt || (d->dev->writable && !l->wbuf.virt))
            continue;
        d->rbuf = l->rbuf;
        d->wbuf = d->dev->writable ? l->wbuf : (struct dma_region){ NULL, 0, 0 };
        d->pool_borrowed = true;
        klog(LOG_WARN, "dio: %s: no memory for its own buffer pool (%llu MiB free); it shares "
             "%s's\n", d->dev->name, (unsigned long long)(memory_free_bytes() >> 20),
             l->dev->name);
        return true;
    }
    return false;
}

bool dio_prepare(const char **reason)
{
    if (prepared)
        return true;
    if (blk_count() == 0) {
        *reason = "no block devices (no driver found a disk, no blk.ramdisk=)";
        return false;
    }
    run_seed = dio_seed_key ? dio_seed_key : (tsc_read() ^ (tsc_read() << 29)) | 1;
    kprintf("dio: seed 0x%llx (dio.seed=0x%llx repeats this run's data and choices)\n",
            (unsigned long long)run_seed, (unsigned long long)run_seed);
    dio_devs = memory_alloc_state((uint64_t)blk_count() * sizeof(*dio_devs));
    if (!dio_devs) {
        leftout_report("dio: none of the %u devices tested: no memory for their records",
                       blk_count());
        *reason = "no memory for the devices' records (reported as left out)";
        return false;
    }
    uint64_t pool = DIO_POOL_BYTES + DIO_POOL_SLACK;
    for (unsigned i = 0; i < blk_count(); i++) {
        struct dio_dev *d = &dio_devs[dio_dev_count++];
        struct blk_dev *dev = blk_get(i);

        d->dev = dev;
        stamp_map_init(&d->map, d->ext, DIO_MAP_CAPACITY);
        d->next_gen = 1;
        d->region_next = dev->write_first;
        /* Its own pools while they leave DIO_POOL_RESERVE free for the cases'
         * own buffers; past that an earlier device's (pool_borrow), and its
         * own after all when there is none to borrow. */
        uint64_t want = (dev->writable ? 2 : 1) * pool;
        bool own = memory_free_bytes() >= want + DIO_POOL_RESERVE || !pool_borrow(d);
        if (own) {
            d->rbuf = dma_alloc(pool, 4096, 0, DMA_BELOW_4G);
            if (dev->writable)
                d->wbuf = dma_alloc(pool, 4096, 0, DMA_BELOW_4G);
            if ((!d->rbuf.virt || (dev->writable && !d->wbuf.virt)) && !pool_borrow(d))
                klog(LOG_WARN, "dio: %s: no memory for the buffer pool (%llu MiB free); its "
                     "cases skip\n", dev->name, (unsigned long long)(memory_free_bytes() >> 20));
        }
        kprintf("dio: %s (%s, %llu blocks of %u bytes): %s\n", dev->name, dev->kind,
                (unsigned long long)dev->nblocks, dev->block_size, dev->access);
    }
    prepared = true;
    return true;
}

unsigned dio_count(void) { return dio_dev_count; }
struct dio_dev *dio_at(unsigned i) { return i < dio_dev_count ? &dio_devs[i] : NULL; }
uint64_t dio_seed(void) { return run_seed; }

uint32_t dio_pool_blocks(const struct dio_dev *d)
{
    return DIO_POOL_BYTES / d->dev->block_size;
}

void dio_release(void)
{
    for (unsigned i = 0; i < dio_dev_count; i++) {
        if (dio_devs[i].pool_borrowed)
            continue;
        if (dio_devs[i].rbuf.virt)
            dma_free(&dio_devs[i].rbuf);
        if (dio_devs[i].wbuf.virt)
            dma_free(&dio_devs[i].wbuf);
    }
}

/* ---- per-device outcomes ---- */

void dio_fail_at(struct ktest *t, struct dio_dev *d, enum blk_cause cause, const char *file,
                 int line, const char *fmt, ...)
{
    char msg[200];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    ktest_fail_at(t, file, line, "%s: %s%s%s", d->dev->name, msg, cause ? " — cause: " : "",
                  cause ? blk_cause_name(cause) : "");
    d->case_failed = true;
    if ((unsigned)cause < BLK_CAUSE_COUNT && cause != BLK_OK)
        d->tally.cause_counts[cause]++;
}

void dio_skip(struct ktest *t, struct dio_dev *d, const char *fmt, ...)
{
    char msg[200];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    ktest_diag(t, "%s: skipped: %s", d->dev->name, msg);
    d->case_skipped = true;
}

void dio_for_each(struct ktest *t, bool write_test, dio_dev_fn fn)
{
    unsigned ran = 0, skipped = 0;

    for (unsigned i = 0; i < dio_dev_count; i++) {
        struct dio_dev *d = &dio_devs[i];
        d->case_failed = d->case_skipped = false;
        if (write_test && !d->dev->writable)
            dio_skip(t, d, "%s", d->dev->access);
        else if (!d->rbuf.virt || (d->dev->writable && !d->wbuf.virt))
            dio_skip(t, d, "no buffer pool: %u KiB of DMA memory below 4 GiB were not free "
                     "for it when the suite began", (d->dev->writable ? 2 : 1) *
                     ((DIO_POOL_BYTES + DIO_POOL_SLACK) >> 10));
        else
            fn(t, d);
        if (d->case_failed)
            d->tally.failed++;
        else if (d->case_skipped)
            d->tally.skipped++;
        else
            d->tally.passed++;
        ran++;
        skipped += d->case_skipped && !d->case_failed;
    }
    if (ran && skipped == ran)
        ktest_skip(t, "no device this case applies to");
}

/* ---- stamps and the map ---- */

uint64_t dio_region(struct dio_dev *d, uint64_t n)
{
    struct blk_dev *dev = d->dev;
    if (d->region_next + n > dev->write_end)
        d->region_next = dev->write_first;
    uint64_t lba = d->region_next;
    d->region_next += n;
    return lba;
}

uint64_t dio_new_gen(struct dio_dev *d) { return d->next_gen++; }

struct stamp_key dio_key(const struct dio_dev *d, uint64_t gen)
{
    struct stamp_key k;
    memcpy(k.identity, d->dev->identity, sizeof(k.identity));
    k.seed = run_seed;
    k.gen = gen;
    return k;
}

void dio_stamp(const struct dio_dev *d, void *buf, uint64_t lba, uint32_t count, uint64_t gen)
{
    struct stamp_key k = dio_key(d, gen);
    stamp_fill_blocks(buf, d->dev->block_size, count, &k, lba);
}

void dio_record(struct dio_dev *d, uint64_t lba, uint64_t count, enum stamp_extent_kind kind,
                uint64_t gen)
{
    d->written = true;
    if (!stamp_map_set(&d->map, lba, count, kind, gen))
        klog(LOG_WARN, "dio: %s: extent map full (%d extents): the manifest will be incomplete\n",
             d->dev->name, DIO_MAP_CAPACITY);
}

void dio_forget(struct dio_dev *d, uint64_t lba, uint64_t count)
{
    if (!stamp_map_clear(&d->map, lba, count))
        klog(LOG_WARN, "dio: %s: extent map full: the manifest will be incomplete\n", d->dev->name);
}

/* Deallocation is advisory: NVMe 1.4 §6.7 calls Dataset Management advisory
 * ("a compliant controller may choose to take no action") and §6.7.1.1 lets a
 * deallocated block return its last data unless DLFEAT says otherwise, which
 * describes blocks that were deallocated, not that a command deallocates;
 * ATA's DRAT/RZAT (IDENTIFY word 69 bits 14 and 5) likewise describe only the
 * LBAs a device did trim, and TRIM may leave any of them alone. Only Write
 * Zeroes binds the device to zeroes (NVMe 1.4 §6.16). */
void dio_deallocate(struct dio_dev *d, uint64_t lba, uint64_t count)
{
    d->written = true;
    if (!stamp_map_deallocate(&d->map, lba, count))
        klog(LOG_WARN, "dio: %s: extent map full (%d extents): the manifest will be incomplete\n",
             d->dev->name, DIO_MAP_CAPACITY);
}

void dio_poison(void *buf, uint64_t len)
{
    uint64_t *w = buf;
    uint64_t pattern = 0x0101010101010101ull * DIO_POISON_BYTE;
    for (uint64_t i = 0; i < len / 8; i++)
        w[i] = pattern;
    for (uint64_t i = len & ~7ull; i < len; i++)
        ((uint8_t *)buf)[i] = DIO_POISON_BYTE;
}

enum blk_cause dio_stamp_cause(enum stamp_status status)
{
    switch (status) {
    case STAMP_OK: return BLK_OK;
    case STAMP_MISDIRECTED: return BLK_CAUSE_MISCOMPARE_MISDIRECTED;
    case STAMP_LOST: return BLK_CAUSE_MISCOMPARE_LOST;
    case STAMP_TORN: return BLK_CAUSE_MISCOMPARE_TORN;
    /* Zeroes where a stamp belongs: the write never reached the medium. */
    case STAMP_ZERO: return BLK_CAUSE_MISCOMPARE_LOST;
    default: return BLK_CAUSE_MISCOMPARE_CORRUPT;
    }
}

/* ---- verification ---- */

/* A block that must read as zeroes: what is there instead? */
static void check_zero_block(const uint8_t *p, uint32_t bs, struct stamp_result *r)
{
    struct stamp_header h = { 0 };
    size_t off = stamp_first_nonzero(p, bs);

    *r = (struct stamp_result){ .status = STAMP_OK };
    if (off == bs)
        return;
    r->offset = (uint32_t)off;
    r->expected = 0;
    r->actual = p[off];
    /* Our own stamp still there: the zeroing was lost. */
    r->status = stamp_parse_header(p + (off & ~(size_t)(STAMP_SECTOR_SIZE - 1)), &h) ? STAMP_LOST
                                                                                 : STAMP_CORRUPT;
    r->found_lba = h.lba;
    r->found_gen = h.gen;
    r->found_seed = h.seed;
}

static void report_miscompare(struct ktest *t, struct dio_dev *d, const struct blk_request *req,
                              uint64_t lba, enum stamp_extent_kind kind, uint64_t gen,
                              const struct stamp_result *r, uint32_t block_index, const char *what)
{
    struct blk_request copy = *req;
    enum blk_cause cause = dio_stamp_cause(r->status);
    char found[96] = "";

    if (r->status == STAMP_MISDIRECTED)
        snprintf(found, sizeof(found), " (found lba %llu gen %llu%s)",
                 (unsigned long long)r->found_lba, (unsigned long long)r->found_gen,
                 r->found_other_device ? " of another device" : "");
    else if (r->status == STAMP_LOST)
        snprintf(found, sizeof(found), " (found gen %llu seed 0x%llx, expected gen %llu)",
                 (unsigned long long)r->found_gen, (unsigned long long)r->found_seed,
                 (unsigned long long)gen);
    else if (r->status == STAMP_TORN)
        snprintf(found, sizeof(found), " (first bad sector at block offset %u, %u of %u sectors good)",
                 r->first_bad_offset, r->good_sectors, r->sectors);

    static const char *const expected[] = {
        [STAMP_EXTENT_STAMPED] = "stamp", [STAMP_EXTENT_ZERO] = "zeroes",
        [STAMP_EXTENT_DEALLOCATED] = "zeroes or (deallocated, kept) stamp",
    };
    copy.cause = cause;
    copy.error_lba = lba;
    snprintf(copy.detail, sizeof(copy.detail), "read back lba %llu: %s%s",
             (unsigned long long)lba,
             kind == STAMP_EXTENT_ZERO ? "expected zeroes, "
             : kind == STAMP_EXTENT_DEALLOCATED ? "deallocated, expected zeroes or its old stamp, "
                                                : "",
             stamp_status_describe(r->status));
    blk_report_failure(d->dev, &copy, what);
    klog(LOG_ERR, "  miscompare: lba %llu (block %u of the request) byte offset %u "
         "(request offset %llu): expected 0x%02x, actual 0x%02x; expected %s gen %llu\n",
         (unsigned long long)lba, block_index, r->offset,
         (unsigned long long)block_index * d->dev->block_size + r->offset, r->expected, r->actual,
         expected[kind], (unsigned long long)gen);
    DIO_FAIL(t, d, cause, "%s: miscompare at lba %llu: %s%s", what, (unsigned long long)lba,
             stamp_status_name(r->status), found);
}

/* Checks every block of a completed read: against `fixed` when given, else
 * against the map (blocks it does not know are skipped). */
static unsigned verify_blocks(struct ktest *t, struct dio_dev *d, const struct blk_request *req,
                              const void *buf, const struct stamp_key *fixed, const char *what)
{
    const uint8_t *p = buf;
    uint32_t bs = d->dev->block_size;
    unsigned bad = 0, deallocated = 0, kept = 0;
    uint64_t first_bad = 0, last_bad = 0, first_kept = 0, last_kept = 0;

    for (uint32_t i = 0; i < req->count; i++) {
        uint64_t lba = req->lba + i;
        enum stamp_extent_kind kind = STAMP_EXTENT_STAMPED;
        struct stamp_key k;
        struct stamp_result r;
        bool kept_old = false;
        if (fixed) {
            k = *fixed;
        } else {
            const struct stamp_extent *e = stamp_map_find(&d->map, lba);
            if (!e)
                continue;
            kind = (enum stamp_extent_kind)e->kind;
            k = dio_key(d, e->gen);
        }
        if (kind == STAMP_EXTENT_ZERO)
            check_zero_block(p + (size_t)i * bs, bs, &r);
        else if (kind == STAMP_EXTENT_DEALLOCATED)
            stamp_check_deallocated(p + (size_t)i * bs, bs, &k, lba, &r, &kept_old);
        else
            stamp_check(p + (size_t)i * bs, bs, &k, lba, &r);
        deallocated += kind == STAMP_EXTENT_DEALLOCATED;
        if (kept_old) {
            first_kept = kept++ ? first_kept : lba;
            last_kept = lba;
        }
        if (r.status == STAMP_OK)
            continue;
        if (bad < DIO_MISCOMPARE_RECORDS)
            report_miscompare(t, d, req, lba, kind, k.gen, &r, i, what);
        if (!bad)
            first_bad = lba;
        last_bad = lba;
        bad++;
    }
    if (bad > DIO_MISCOMPARE_RECORDS)
        klog(LOG_ERR, "dio: %s: %s: %u blocks miscompared in all (lba %llu..%llu); the first %d shown\n",
             d->dev->name, what, bad, (unsigned long long)first_bad, (unsigned long long)last_bad,
             DIO_MISCOMPARE_RECORDS);
    if (kept)
        ktest_diag(t, "%s: %s: lba %llu..%llu: deallocate not honoured (advisory): %u of %u "
                   "deallocated blocks still hold their previous data", d->dev->name, what,
                   (unsigned long long)first_kept, (unsigned long long)last_kept, kept, deallocated);
    return bad;
}

unsigned dio_verify(struct ktest *t, struct dio_dev *d, const struct blk_request *req,
                    const void *buf, const char *what)
{
    return verify_blocks(t, d, req, buf, NULL, what);
}

unsigned dio_verify_key(struct ktest *t, struct dio_dev *d, const struct blk_request *req,
                        const void *buf, const struct stamp_key *k, const char *what)
{
    return verify_blocks(t, d, req, buf, k, what);
}

void dio_io_failed(struct ktest *t, struct dio_dev *d, const struct blk_request *req,
                   const char *what)
{
    blk_report_failure(d->dev, req, what);
    DIO_FAIL(t, d, req->cause, "%s: %s lba %llu count %u failed: %s", what,
             blk_op_name(req->op), (unsigned long long)req->lba, req->count,
             req->detail[0] ? req->detail : blk_cause_name(req->cause));
}

/* ---- synchronous helpers ---- */

enum blk_cause dio_io(struct dio_dev *d, struct blk_request *req, struct blk_seg *seg,
                      enum blk_op op, uint64_t lba, uint32_t count, const struct dma_region *buf,
                      uint64_t offset, uint16_t flags)
{
    uint32_t n = 0;
    if (buf && count) {
        seg->phys = buf->phys + offset;
        seg->len = count * d->dev->block_size;
        seg->reserved = 0;
        n = 1;
    }
    return blk_io(d->dev, req, op, lba, count, n ? seg : NULL, n, flags);
}

/* Isolating a failed request block by block is worth its time up to this
 * many blocks (a media error names no block on QEMU, and often none on real
 * drives either). */
#define DIO_ISOLATE_MAX_BLOCKS 256

static bool worth_isolating(const struct blk_request *req, uint32_t count)
{
    return count > 1 && count <= DIO_ISOLATE_MAX_BLOCKS && req->complete &&
           req->cause == BLK_CAUSE_MEDIA;
}

/* One line after an isolation: how many blocks failed again on their own. A
 * fault that does not repeat (a transient error, blkdebug's once=on) shows
 * here as "0 of N"; the request's failure stands all the same. */
static void isolate_summary(const struct dio_dev *d, const char *what, const char *how,
                            uint64_t lba, uint32_t count, uint32_t failed)
{
    klog(LOG_ERR, "dio: %s: %s: lba %llu..%llu %s block by block: %u of %u failed again%s\n",
         d->dev->name, what, (unsigned long long)lba, (unsigned long long)(lba + count - 1), how,
         failed, count, failed ? "" : " (the error did not repeat)");
}

/* A multi-block write failed with a media error: write the same stamps block
 * by block, so the failing blocks are named and the others land and are
 * recorded. A block that fails alone stays unknown (left out of the map and
 * so of the manifest): the device may or may not have changed it. */
static void write_isolate(struct dio_dev *d, uint64_t lba, uint32_t count, uint64_t gen,
                          const char *what)
{
    struct blk_request req;
    struct blk_seg seg;
    uint32_t bs = d->dev->block_size, failed = 0;

    for (uint32_t i = 0; i < count; i++) {
        if (dio_io(d, &req, &seg, BLK_OP_WRITE, lba + i, 1, &d->wbuf, (uint64_t)i * bs, 0) !=
            BLK_OK) {
            klog(LOG_ERR, "dio: %s: %s: write lba %llu alone: %s: %s\n", d->dev->name, what,
                 (unsigned long long)(lba + i), blk_cause_name(req.cause), req.detail);
            failed++;
        } else {
            dio_record(d, lba + i, 1, STAMP_EXTENT_STAMPED, gen);
        }
    }
    isolate_summary(d, what, "written", lba, count, failed);
}

bool dio_write_stamped(struct ktest *t, struct dio_dev *d, uint64_t lba, uint32_t count,
                       uint16_t flags, const char *what)
{
    struct blk_request req;
    struct blk_seg seg;
    uint64_t gen = dio_new_gen(d);

    dio_stamp(d, d->wbuf.virt, lba, count, gen);
    if (dio_io(d, &req, &seg, BLK_OP_WRITE, lba, count, &d->wbuf, 0, flags) != BLK_OK) {
        dio_io_failed(t, d, &req, what);
        /* What the blocks hold now is unknown. */
        dio_forget(d, lba, count);
        if (worth_isolating(&req, count))
            write_isolate(d, lba, count, gen, what);
        return false;
    }
    dio_record(d, lba, count, STAMP_EXTENT_STAMPED, gen);
    return true;
}

/* A multi-block read failed: read block by block, so the failing blocks are
 * named and the others still verified. */
static void read_isolate(struct ktest *t, struct dio_dev *d, uint64_t lba, uint32_t count,
                         const char *what)
{
    struct blk_request req;
    struct blk_seg seg;
    uint32_t bs = d->dev->block_size, failed = 0;

    for (uint32_t i = 0; i < count; i++) {
        dio_poison(d->rbuf.virt, bs);
        if (dio_io(d, &req, &seg, BLK_OP_READ, lba + i, 1, &d->rbuf, 0, 0) != BLK_OK) {
            klog(LOG_ERR, "dio: %s: %s: lba %llu alone: %s: %s\n", d->dev->name, what,
                 (unsigned long long)(lba + i), blk_cause_name(req.cause), req.detail);
            failed++;
        } else {
            dio_verify(t, d, &req, d->rbuf.virt, what);
        }
    }
    isolate_summary(d, what, "read", lba, count, failed);
}

bool dio_read_verify(struct ktest *t, struct dio_dev *d, uint64_t lba, uint32_t count,
                     const char *what)
{
    struct blk_request req;
    struct blk_seg seg;

    dio_poison(d->rbuf.virt, (uint64_t)count * d->dev->block_size);
    if (dio_io(d, &req, &seg, BLK_OP_READ, lba, count, &d->rbuf, 0, 0) != BLK_OK) {
        dio_io_failed(t, d, &req, what);
        if (worth_isolating(&req, count))
            read_isolate(t, d, lba, count, what);
        return false;
    }
    return dio_verify(t, d, &req, d->rbuf.virt, what) == 0;
}

/* ---- end of run ---- */

static void print_causes(const struct dio_tally *tally, char *buf, size_t size)
{
    size_t n = 0;
    buf[0] = '\0';
    for (unsigned c = 1; c < BLK_CAUSE_COUNT; c++) {
        if (!tally->cause_counts[c])
            continue;
        n += (size_t)snprintf(buf + n, n < size ? size - n : 0, "%s%s x%u", n ? "; " : "",
                              blk_cause_name((enum blk_cause)c), tally->cause_counts[c]);
        if (n >= size)
            break;
    }
    if (!buf[0])
        strlcpy(buf, "-", size);
}

void dio_print_summary(void)
{
    unsigned faults = blk_controller_fault_count();
    char causes[200];

    if (!dio_dev_count && !faults && !leftout_count() && !blk_storage_untested())
        return;
    kprintf("# dio summary: %-8s %-8s %-10s %6s %6s %7s  %s\n", "device", "kind", "access",
            "passed", "failed", "skipped", "causes seen");
    for (unsigned i = 0; i < dio_dev_count; i++) {
        const struct dio_dev *d = &dio_devs[i];
        print_causes(&d->tally, causes, sizeof(causes));
        kprintf("# dio summary: %-8s %-8s %-10s %6u %6u %7u  %s\n", d->dev->name, d->dev->kind,
                d->dev->writable ? "scratch" : "read-only", d->tally.passed, d->tally.failed,
                d->tally.skipped, causes);
        if (!d->dev->writable)
            kprintf("# dio summary: %-8s %s\n", d->dev->name, d->dev->access);
    }
    for (unsigned i = 0; i < faults; i++) {
        const struct blk_controller_fault *f = blk_controller_fault_at(i);
        kprintf("# dio summary: %s %s %s: %s (%s); remedy: %s\n", f->disk ? "disk" : "controller",
                f->name, f->disk ? "not tested" : "failed bring-up", blk_cause_name(f->cause),
                f->detail, blk_cause_remedy(f->cause));
    }
    /* Storage the run did not test, whatever the reason: the same words as
     * the boot's storage lines (drivers/blk/storage.h). */
    for (unsigned i = 0; i < blk_storage_count(); i++)
        if (!blk_storage_at(i)->tested || blk_storage_at(i)->disks_left_out)
            kprintf("# dio summary: storage %s\n", blk_storage_at(i)->line);
    for (unsigned i = 0; i < leftout_count(); i++)
        if (leftout_at(i))
            kprintf("# dio summary: left out: %s\n", leftout_at(i));
    if (leftout_count() > LEFTOUT_KEPT)
        kprintf("# dio summary: left out: %u more\n", leftout_count() - LEFTOUT_KEPT);
}

/* The serial in the manifest: quoted, with '"' and '\\' escaped, so that a
 * serial holding blanks or "seed=1" can never be read as another field
 * (tools/verify-image parses exactly this form). dev->serial is printable
 * ASCII already (the drivers escape device bytes). */
static void quote_serial(char *out, size_t size, const char *serial)
{
    size_t n = 0;
    out[n++] = '"';
    for (const char *p = serial; *p && n + 3 < size; p++) {
        if (*p == '"' || *p == '\\')
            out[n++] = '\\';
        out[n++] = *p;
    }
    out[n++] = '"';
    out[n] = '\0';
}

/* The machine the manifests come from (issue 14), once before them: the
 * SMBIOS fields quoted as the serial is (each at most 64 characters, already
 * escaped to printable ASCII by lib/smbios), so tools/verify-image can name
 * the machine of the image it checks. */
static void print_machine_record(void)
{
    static struct smbios_identity id;
    char q[11][2 * SMBIOS_TEXT_MAX + 3];

    machine_identity(&id);          /* no tables: every field empty, uuid none */
    const char *text[11] = { id.sys_vendor, id.product, id.version, id.serial,
                             id.board_vendor, id.board_product, id.board_serial,
                             id.bios_vendor, id.bios_version, id.bios_date };
    for (unsigned i = 0; i < 10; i++)
        quote_serial(q[i], sizeof(q[i]), text[i]);
    kprintf("bareio-manifest: machine system=%s product=%s version=%s serial=%s uuid=%s "
            "board=%s board_product=%s board_serial=%s bios=%s bios_version=%s bios_date=%s\n",
            q[0], q[1], q[2], q[3], id.uuid[0] ? id.uuid : "none", q[4], q[5], q[6], q[7], q[8],
            q[9]);
}

void dio_print_manifests(void)
{
    bool any = false;
    for (unsigned i = 0; i < dio_dev_count; i++)
        any |= dio_devs[i].written;
    if (any)
        print_machine_record();
    for (unsigned i = 0; i < dio_dev_count; i++) {
        const struct dio_dev *d = &dio_devs[i];
        const struct blk_dev *dev = d->dev;
        char id[33], serial[2 * sizeof(dev->serial) + 3];
        if (!d->written)
            continue;
        for (unsigned b = 0; b < 16; b++)
            snprintf(id + 2 * b, 3, "%02x", dev->identity[b]);
        quote_serial(serial, sizeof(serial), dev->serial);
        kprintf("bareio-manifest: begin device=%s serial=%s identity=%s block=%u blocks=%llu "
                "seed=0x%llx\n", dev->name, serial, id, dev->block_size,
                (unsigned long long)dev->nblocks, (unsigned long long)run_seed);
        for (uint32_t e = 0; e < d->map.count; e++) {
            const struct stamp_extent *x = &d->map.ext[e];
            if (x->kind == STAMP_EXTENT_ZERO)
                kprintf("bareio-manifest: zero lba=%llu count=%llu\n", (unsigned long long)x->lba,
                        (unsigned long long)x->count);
            else
                kprintf("bareio-manifest: %s lba=%llu count=%llu gen=%llu\n",
                        x->kind == STAMP_EXTENT_DEALLOCATED ? "deallocated" : "stamped",
                        (unsigned long long)x->lba, (unsigned long long)x->count,
                        (unsigned long long)x->gen);
        }
        if (d->map.overflowed)
            kprintf("bareio-manifest: incomplete device=%s (the extent map overflowed)\n", dev->name);
        kprintf("bareio-manifest: end device=%s ranges=%u\n", dev->name, d->map.count);
    }
}
