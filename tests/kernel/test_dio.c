/* SPDX-License-Identifier: MIT */
/* tests/kernel/test_dio.c — the `dio` suite: direct DMA I/O on every block
 * device the drivers expose, proven with stamped data (tests/harness/dio.c). Write
 * tests run only on scratch devices (dev->writable, inside the scratch
 * range); read-only devices get the read-only cases and are reported as
 * read-only with the block layer's reason.
 *
 * Each case loops over the devices; a device's outcome per case is tallied
 * for the summary table before KTAP END. Expected refusals (misaligned
 * buffers, LBA past the end, zero length) must come from the block layer or
 * the driver before anything reaches the device, with the rule named. */
#include "drivers/blk/blk.h"
#include "kernel/cmdline.h"
#include "kernel/console.h"
#include "kernel/cpu.h"
#include "tests/harness/dio.h"
#include "tests/harness/ktest.h"
#include "kernel/memory.h"
#include "kernel/time.h"
#include "lib/format.h"
#include "lib/rng.h"
#include "lib/string.h"

#define QD_MAX              32
#define QD_REQUESTS         48      /* per queue depth */
#define QD_MAX_BLOCKS       8       /* per request */
#define QD_WINDOW_BLOCKS    512
#define PAGE                4096u

static bool dio_available(const char **reason) { return dio_prepare(reason); }

static uint64_t min_u64(uint64_t a, uint64_t b) { return a < b ? a : b; }

/* Blocks of scratch space on the device. */
static uint64_t scratch_blocks(const struct dio_dev *d)
{
    return d->dev->write_end - d->dev->write_first;
}

/* The scratch range holds the `n` blocks a case writes at once, or the device
 * is skipped saying so (dio_region() would start over at the range's start
 * and run past its end). */
static bool room_or_skip(struct ktest *t, struct dio_dev *d, uint64_t n, const char *what)
{
    if (n <= scratch_blocks(d))
        return true;
    dio_skip(t, d, "scratch range of %llu blocks cannot hold the %llu blocks of %s",
             (unsigned long long)scratch_blocks(d), (unsigned long long)n, what);
    return false;
}

/* ---- dio.expect=: blocks seeded by the host, verified read-only ---- */

static unsigned expect_matched;

static void expect_on_device(struct ktest *t, struct dio_dev *d)
{
    struct blk_dev *dev = d->dev;
    uint64_t lba, count, seed, gen;
    struct stamp_header h;
    struct blk_request req;
    struct blk_seg seg;

    dio_expect(&lba, &count, &seed, &gen);
    if (lba >= dev->nblocks || count > dev->nblocks - lba) {
        dio_skip(t, d, "lba %llu+%llu is past its end", (unsigned long long)lba,
                 (unsigned long long)count);
        return;
    }
    if (dio_io(d, &req, &seg, BLK_OP_READ, lba, 1, &d->rbuf, 0, 0) != BLK_OK) {
        dio_io_failed(t, d, &req, "dio.expect first block");
        return;
    }
    if (!stamp_parse_header(d->rbuf.virt, &h) || memcmp(h.identity, dev->identity, 16) != 0) {
        dio_skip(t, d, "lba %llu holds no stamp of this device: not the seeded one",
                 (unsigned long long)lba);
        return;
    }
    __atomic_fetch_add(&expect_matched, 1, __ATOMIC_RELAXED);    /* devices run at once */
    struct stamp_key k = dio_key(d, gen);
    k.seed = seed;
    uint32_t chunk = dio_pool_blocks(d);
    unsigned bad = 0;
    for (uint64_t done = 0; done < count;) {
        uint32_t n = (uint32_t)min_u64(chunk, count - done);
        dio_poison(d->rbuf.virt, (uint64_t)n * dev->block_size);
        if (dio_io(d, &req, &seg, BLK_OP_READ, lba + done, n, &d->rbuf, 0, 0) != BLK_OK) {
            dio_io_failed(t, d, &req, "dio.expect");
            return;
        }
        bad += dio_verify_key(t, d, &req, d->rbuf.virt, &k, "dio.expect");
        done += n;
    }
    if (!bad)
        ktest_diag(t, "%s: %llu seeded blocks at lba %llu verified (seed 0x%llx gen %llu)",
                   dev->name, (unsigned long long)count, (unsigned long long)lba,
                   (unsigned long long)seed, (unsigned long long)gen);
}

static void dio_expect_seeded_blocks(struct ktest *t)
{
    uint64_t lba, count, seed, gen;
    if (!dio_expect(&lba, &count, &seed, &gen)) {
        ktest_skip(t, "dio.expect= not given");
        return;
    }
    expect_matched = 0;
    dio_for_each(t, false, expect_on_device);
    KT_EXPECT(t, expect_matched > 0);
    if (!expect_matched)
        ktest_diag(t, "no device holds blocks stamped with its identity at lba %llu",
                   (unsigned long long)lba);
}

/* ---- access: what may be written, and the gate holds ---- */

static void access_on_device(struct ktest *t, struct dio_dev *d)
{
    struct blk_dev *dev = d->dev;
    struct blk_request req;
    struct blk_seg seg;
    enum blk_cause rc;

    ktest_diag(t, "%s: %s", dev->name, dev->access);
    if (dio_io(d, &req, &seg, BLK_OP_READ, 0, 1, &d->rbuf, 0, 0) != BLK_OK) {
        dio_io_failed(t, d, &req, "read lba 0");
        return;
    }
    if (dio_io(d, &req, &seg, BLK_OP_READ, dev->nblocks - 1, 1, &d->rbuf, PAGE, 0) != BLK_OK)
        dio_io_failed(t, d, &req, "read the last lba");
    /* Writing back what LBA 0 holds must be refused where LBA 0 is not
     * scratch (the whole of a read-only device; the label of a scratch one).
     * Should the gate fail, the same bytes land: nothing is lost. */
    if (dev->writable && dev->write_first == 0)
        return;
    rc = dio_io(d, &req, &seg, BLK_OP_WRITE, 0, 1, &d->rbuf, 0, 0);
    if (rc != BLK_CAUSE_READ_ONLY || req.complete)
        DIO_FAIL(t, d, rc, "writing lba 0 (%s) was not refused by the write gate",
                 dev->writable ? "the scratch label" : "a read-only device");
    else if (!dev->writable)
        ktest_diag(t, "%s: read-only: write refused: %s", dev->name, req.detail);
}

static void dio_device_access(struct ktest *t) { dio_for_each(t, false, access_on_device); }

/* ---- the write gate at its edges: refused before any driver sees it ---- */

/* Reads `count` blocks at lba into rbuf, then writes them back: the gate must
 * refuse with `want`, and the driver must not see the request. Should the gate
 * fail, the very bytes that were there land again: nothing is lost. */
static void gate_refuses(struct ktest *t, struct dio_dev *d, enum blk_op op, uint64_t lba,
                         uint32_t count, uint16_t flags, enum blk_cause want, const char *what)
{
    struct blk_dev *dev = d->dev;
    struct blk_request req;
    struct blk_seg seg;

    uint64_t readable = lba < dev->nblocks ? min_u64(count, dev->nblocks - lba) : 0;
    if (op == BLK_OP_WRITE && readable &&
        dio_io(d, &req, &seg, BLK_OP_READ, lba, (uint32_t)readable, &d->rbuf, 0, 0) != BLK_OK) {
        dio_io_failed(t, d, &req, what);
        return;
    }
    uint64_t before = dev->submitted;
    enum blk_cause rc = dio_io(d, &req, &seg, op, lba, count, op == BLK_OP_WRITE ? &d->rbuf : NULL,
                               0, flags);
    if (rc != want || req.complete || dev->submitted != before)
        DIO_FAIL(t, d, rc, "%s lba %llu+%u (%s) was %s (expected %s from the block layer)",
                 blk_op_name(op), (unsigned long long)lba, count, what,
                 dev->submitted != before ? "handed to the driver" : blk_cause_name(rc),
                 blk_cause_name(want));
}

static void gate_on_device(struct ktest *t, struct dio_dev *d)
{
    struct blk_dev *dev = d->dev;
    uint64_t first = dev->write_first, end = dev->write_end;
    /* At the device end the range check answers first; inside, the gate. */
    enum blk_cause past_end = end == dev->nblocks ? BLK_CAUSE_LBA_RANGE : BLK_CAUSE_READ_ONLY;

    gate_refuses(t, d, BLK_OP_WRITE, end - 1, 2, 0, past_end, "across write_end");
    gate_refuses(t, d, BLK_OP_WRITE, end, 1, 0, past_end, "first block past write_end");
    if (first > 0) {
        gate_refuses(t, d, BLK_OP_WRITE, first - 1, 2, 0, BLK_CAUSE_READ_ONLY, "across write_first");
        gate_refuses(t, d, BLK_OP_WRITE, first - 1, 1, 0, BLK_CAUSE_READ_ONLY,
                     "last block before write_first");
    }
    gate_refuses(t, d, BLK_OP_WRITE, dev->nblocks - 1, 2, BLK_F_UNCHECKED, BLK_CAUSE_LBA_RANGE,
                 "across the device end, unchecked");
    gate_refuses(t, d, BLK_OP_WRITE, UINT64_MAX - 1, 4, 0, BLK_CAUSE_LBA_RANGE,
                 "lba + count wrapping past 2^64");
    if (dev->caps & BLK_CAP_TRIM)
        gate_refuses(t, d, BLK_OP_TRIM, end - 1, 2, 0, past_end, "trim across write_end");
    if (dev->caps & BLK_CAP_WRITE_ZEROES)
        gate_refuses(t, d, BLK_OP_WRITE_ZEROES, end - 1, 2, 0, past_end,
                     "write-zeroes across write_end");
    if (!d->case_failed)
        ktest_diag(t, "%s: writes across %llu..%llu and the device end refused before the driver",
                   dev->name, (unsigned long long)first, (unsigned long long)end);
}

static void dio_write_gate_edges(struct ktest *t) { dio_for_each(t, true, gate_on_device); }

/* ---- the basic proof: write, read back, rewrite, read back ---- */

#define BASIC_BLOCKS 64

/* The first blocks of the scratch range, written whole, then rewritten with
 * a new generation: a misdirected, lost, torn or corrupted block there is
 * named with its LBA (the RAM disk's fault scenarios aim here). */
static void basic_on_device(struct ktest *t, struct dio_dev *d)
{
    uint32_t n = (uint32_t)min_u64(BASIC_BLOCKS, scratch_blocks(d));
    uint64_t lba = dio_region(d, n);

    for (int pass = 1; pass <= 2; pass++) {
        const char *what = pass == 1 ? "write, read back" : "rewrite, read back";
        if (!dio_write_stamped(t, d, lba, n, 0, what))
            return;
        dio_read_verify(t, d, lba, n, what);
    }
    if (!d->case_failed)
        ktest_diag(t, "%s: lba %llu..%llu written twice and verified", d->dev->name,
               (unsigned long long)lba, (unsigned long long)(lba + n - 1));
}

static void dio_write_read_verify(struct ktest *t) { dio_for_each(t, true, basic_on_device); }

/* ---- sizes: one block to several MiB, across the maximum transfer ---- */

static unsigned size_list(const struct dio_dev *d, uint32_t *out, unsigned max)
{
    uint32_t mt = d->dev->max_transfer, pool = dio_pool_blocks(d);
    uint64_t room = scratch_blocks(d);
    const uint64_t want[] = { 1, 2, 3, 8, 17, 64, (uint64_t)mt - 1, mt, (uint64_t)mt + 1,
                              2ull * mt + 3, pool };
    unsigned n = 0;

    for (unsigned i = 0; i < sizeof(want) / sizeof(want[0]) && n < max; i++) {
        uint64_t c = want[i];
        if (c == 0 || c > pool || c > room)
            continue;
        bool seen = false;
        for (unsigned j = 0; j < n; j++)
            seen |= out[j] == c;
        if (!seen)
            out[n++] = (uint32_t)c;
    }
    return n;
}

static void sizes_on_device(struct ktest *t, struct dio_dev *d)
{
    uint32_t sizes[16];
    unsigned n = size_list(d, sizes, 16);
    char what[64];

    for (unsigned i = 0; i < n; i++) {
        uint64_t lba = dio_region(d, sizes[i]);
        snprintf(what, sizeof(what), "size %u blocks", sizes[i]);
        if (dio_write_stamped(t, d, lba, sizes[i], 0, what))
            dio_read_verify(t, d, lba, sizes[i], what);
    }
    if (!d->case_failed)
        ktest_diag(t, "%s: %u sizes from %u to %u blocks verified (max transfer %u)", d->dev->name, n,
               sizes[0], sizes[n - 1], d->dev->max_transfer);
}

static void dio_sizes_across_max_transfer(struct ktest *t) { dio_for_each(t, true, sizes_on_device); }

/* ---- buffer alignment: accepted and verified, or refused naming the rule ---- */

static void alignment_on_device(struct ktest *t, struct dio_dev *d)
{
    static const struct { uint32_t offset; const char *name; } cases[] = {
        { 0, "page" }, { 512, "512-byte" }, { 8, "8-byte" }, { 4, "4-byte" },
        { 2, "2-byte" }, { 1, "odd" },
    };
    struct blk_dev *dev = d->dev;
    /* Over 2 pages, so every offset crosses pages; as much as the scratch
     * range holds when that is less (from an offset it still crosses one). */
    uint32_t count = (2 * PAGE + dev->block_size - 1) / dev->block_size + 1;
    count = (uint32_t)min_u64(count, scratch_blocks(d));
    struct blk_request req;
    struct blk_seg seg;
    char what[64];

    for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        uint32_t off = cases[i].offset;
        bool expect_ok = off % dev->addr_align == 0;
        uint64_t lba = dio_region(d, count), gen = dio_new_gen(d);
        snprintf(what, sizeof(what), "%s-aligned buffer (page offset %u)", cases[i].name, off);

        dio_stamp(d, (uint8_t *)d->wbuf.virt + off, lba, count, gen);
        enum blk_cause rc = dio_io(d, &req, &seg, BLK_OP_WRITE, lba, count, &d->wbuf, off, 0);
        if (!expect_ok) {
            if (rc != BLK_CAUSE_MISALIGNED || req.complete || !strstr(req.detail, "align"))
                DIO_FAIL(t, d, rc, "%s: expected a refusal up front for the %u-byte rule, got "
                         "'%s' (%s)", what, dev->addr_align, blk_cause_name(rc), req.detail);
            else
                ktest_diag(t, "%s: %s refused as expected: %s", dev->name, what, req.detail);
            /* Reads are held to the same rule. */
            rc = dio_io(d, &req, &seg, BLK_OP_READ, lba, count, &d->rbuf, off, 0);
            if (rc != BLK_CAUSE_MISALIGNED || req.complete)
                DIO_FAIL(t, d, rc, "%s read: expected a refusal up front", what);
            continue;
        }
        if (rc != BLK_OK) {
            dio_io_failed(t, d, &req, what);
            dio_forget(d, lba, count);
            continue;
        }
        dio_record(d, lba, count, STAMP_EXTENT_STAMPED, gen);
        dio_poison(d->rbuf.virt, (uint64_t)count * dev->block_size + off);
        if (dio_io(d, &req, &seg, BLK_OP_READ, lba, count, &d->rbuf, off, 0) != BLK_OK)
            dio_io_failed(t, d, &req, what);
        else
            dio_verify(t, d, &req, (uint8_t *)d->rbuf.virt + off, what);
    }
}

static void dio_buffer_alignments(struct ktest *t) { dio_for_each(t, true, alignment_on_device); }

/* ---- scattered buffers: segments crossing pages ---- */

/* Builds a request layout from pieces of a pool buffer. PRP-friendly: the
 * first piece ends at a page end, the rest start on one. */
static uint32_t layout(struct blk_seg *segs, const struct dma_region *buf, uint32_t total,
                       bool prp_friendly)
{
    uint64_t base = buf->phys;
    if (prp_friendly) {
        segs[0] = (struct blk_seg){ base + PAGE - 1024, 1024, 0 };
        segs[1] = (struct blk_seg){ base + 2 * PAGE, PAGE, 0 };     /* a page skipped */
        segs[2] = (struct blk_seg){ base + 4 * PAGE, total - 1024 - PAGE, 0 };
    } else {
        segs[0] = (struct blk_seg){ base, 1024, 0 };                /* ends mid-page */
        segs[1] = (struct blk_seg){ base + 2 * PAGE, PAGE, 0 };
        segs[2] = (struct blk_seg){ base + 4 * PAGE, total - 1024 - PAGE, 0 };
    }
    return 3;
}

/* Copies between the scattered pieces and a linear buffer. */
static void gather(void *linear, const struct blk_seg *segs, uint32_t n, bool to_segs)
{
    uint8_t *p = linear;
    for (uint32_t i = 0; i < n; i++) {
        if (to_segs)
            memcpy(phys_to_virt(segs[i].phys), p, segs[i].len);
        else
            memcpy(p, phys_to_virt(segs[i].phys), segs[i].len);
        p += segs[i].len;
    }
}

static void segments_on_device(struct ktest *t, struct dio_dev *d)
{
    struct blk_dev *dev = d->dev;
    uint32_t bs = dev->block_size;
    uint32_t total = (PAGE + 2048 + bs - 1) / bs * bs;
    if (total < PAGE + 2048)
        total += bs;
    uint32_t count = total / bs;
    /* Its own, not a static: devices run on several CPUs at once (dio.h). */
    struct dma_region linear_mem = ktest_dma_alloc(t, 3 * PAGE, 0, 0, DMA_ANYWHERE);
    uint8_t *linear = linear_mem.virt;
    struct blk_seg wsegs[3], rsegs[3];
    struct blk_request req;
    bool page_rule = dev->page_segments;

    if (dev->max_segs < 3) {
        dio_skip(t, d, "takes at most %u segments", dev->max_segs);
        return;
    }
    if (!linear) {
        DIO_FAIL(t, d, BLK_OK, "no memory for a %u-byte linear buffer", 3 * PAGE);
        return;
    }
    if (total > 3 * PAGE) {
        dio_skip(t, d, "blocks of %u bytes are too large for this layout", bs);
        return;
    }
    if (!room_or_skip(t, d, count, "3 segments crossing pages"))
        return;
    for (int friendly = 1; friendly >= 0; friendly--) {
        const char *what = friendly ? "3 segments crossing pages (page-aligned inner)"
                                    : "3 segments, the first ending mid-page";
        uint64_t lba = dio_region(d, count), gen = dio_new_gen(d);
        uint32_t n = layout(wsegs, &d->wbuf, total, friendly);
        layout(rsegs, &d->rbuf, total, friendly);
        dio_stamp(d, linear, lba, count, gen);
        gather(linear, wsegs, n, true);
        enum blk_cause rc = blk_io(dev, &req, BLK_OP_WRITE, lba, count, wsegs, n, 0);
        if (!friendly && page_rule) {
            /* NVMe PRP rule (NVMe 1.4 §4.3): only the first entry may have an
             * offset, and all but the last must reach the page end. */
            if (rc != BLK_CAUSE_MISALIGNED || req.complete)
                DIO_FAIL(t, d, rc, "%s: expected the driver to refuse it by the PRP rule, got %s (%s)",
                         what, blk_cause_name(rc), req.detail);
            else
                ktest_diag(t, "%s: %s refused as expected: %s", dev->name, what, req.detail);
            continue;
        }
        if (rc != BLK_OK) {
            dio_io_failed(t, d, &req, what);
            dio_forget(d, lba, count);
            continue;
        }
        dio_record(d, lba, count, STAMP_EXTENT_STAMPED, gen);
        for (uint32_t i = 0; i < n; i++)
            dio_poison(phys_to_virt(rsegs[i].phys), rsegs[i].len);
        if (blk_io(dev, &req, BLK_OP_READ, lba, count, rsegs, n, 0) != BLK_OK) {
            dio_io_failed(t, d, &req, what);
            continue;
        }
        gather(linear, rsegs, n, false);
        dio_verify(t, d, &req, linear, what);
    }
    /* One segment more than the device takes: refused by the block layer. */
    struct blk_seg many[65];
    if (dev->max_segs < 65 && dev->max_segs + 1ull <= dev->nblocks - dev->write_first) {
        uint32_t nseg = dev->max_segs + 1;
        for (uint32_t i = 0; i < nseg; i++)
            many[i] = (struct blk_seg){ d->rbuf.phys + (uint64_t)i * bs, bs, 0 };
        enum blk_cause rc = blk_io(dev, &req, BLK_OP_READ, dev->write_first, nseg, many, nseg, 0);
        if (nseg * bs <= DIO_POOL_BYTES && (rc != BLK_CAUSE_INVALID || req.complete))
            DIO_FAIL(t, d, rc, "%u segments (max %u) were not refused up front", nseg, dev->max_segs);
    }
}

static void dio_segments_crossing_pages(struct ktest *t) { dio_for_each(t, true, segments_on_device); }

/* ---- above 4 GiB and across it ---- */

static void above_4g_on_device(struct ktest *t, struct dio_dev *d)
{
    struct blk_dev *dev = d->dev;
    uint32_t bs = dev->block_size, count = (2 * PAGE) / bs ? (2 * PAGE) / bs : 1;
    count = (uint32_t)min_u64(count, scratch_blocks(d));   /* a tiny range: fewer */
    uint32_t len = count * bs;
    struct dma_region hi_w = ktest_dma_alloc(t, len, PAGE, 0, DMA_ABOVE_4G);
    struct dma_region hi_r = ktest_dma_alloc(t, len, PAGE, 0, DMA_ABOVE_4G);
    struct blk_request req;
    struct blk_seg seg, split[2];
    bool reachable;

    if (!hi_w.virt || !hi_r.virt) {
        dio_skip(t, d, "could not allocate DMA memory above 4 GiB");
        goto out;
    }
    reachable = hi_w.phys + len <= dev->dma_limit && hi_r.phys + len <= dev->dma_limit;
    uint64_t lba = dio_region(d, count), gen = dio_new_gen(d);
    dio_stamp(d, hi_w.virt, lba, count, gen);
    enum blk_cause rc = dio_io(d, &req, &seg, BLK_OP_WRITE, lba, count, &hi_w, 0, 0);
    if (!reachable) {
        if (rc != BLK_CAUSE_DMA_UNREACHABLE || req.complete)
            DIO_FAIL(t, d, rc, "buffer at 0x%llx beyond dma_limit 0x%llx was not refused up front",
                     (unsigned long long)hi_w.phys, (unsigned long long)dev->dma_limit);
        else
            ktest_diag(t, "%s: no 64-bit DMA: refused as expected: %s", dev->name, req.detail);
        goto out;
    }
    if (rc != BLK_OK) {
        dio_io_failed(t, d, &req, "write from above 4 GiB");
        dio_forget(d, lba, count);
        goto out;
    }
    dio_record(d, lba, count, STAMP_EXTENT_STAMPED, gen);
    dio_poison(hi_r.virt, len);
    if (dio_io(d, &req, &seg, BLK_OP_READ, lba, count, &hi_r, 0, 0) != BLK_OK)
        dio_io_failed(t, d, &req, "read to above 4 GiB");
    else if (dio_verify(t, d, &req, hi_r.virt, "above 4 GiB") == 0)
        ktest_diag(t, "%s: %u blocks written from 0x%llx and read back into 0x%llx (above 4 GiB)",
                   dev->name, count, (unsigned long long)hi_w.phys, (unsigned long long)hi_r.phys);

    /* One request whose pieces lie on both sides of 4 GiB: the page at the
     * end of a low buffer, then memory above. No RAM is contiguous across
     * 4 GiB on PCs (the PCI hole sits below it), so this is the crossing. */
    if (len >= 2 * PAGE && dev->max_segs >= 2) {
        split[0] = (struct blk_seg){ d->rbuf.phys + PAGE, PAGE, 0 };
        split[1] = (struct blk_seg){ hi_r.phys, len - PAGE, 0 };
        dio_poison(d->rbuf.virt, 2 * PAGE);
        dio_poison(hi_r.virt, len);
        if (blk_io(dev, &req, BLK_OP_READ, lba, count, split, 2, 0) != BLK_OK) {
            dio_io_failed(t, d, &req, "read into buffers below and above 4 GiB");
        } else {
            memcpy((uint8_t *)d->rbuf.virt + 2 * PAGE, hi_r.virt, len - PAGE);
            dio_verify(t, d, &req, (uint8_t *)d->rbuf.virt + PAGE, "buffers below and above 4 GiB");
        }
    }
out:
    ktest_dma_free(t, &hi_w);
    ktest_dma_free(t, &hi_r);
}

static void dio_buffers_above_4g(struct ktest *t)
{
    if (memory_total_above_4g() == 0) {
        ktest_skip(t, "no RAM above 4 GiB on this machine (QEMU: -m 5G or more)");
        return;
    }
    dio_for_each(t, true, above_4g_on_device);
}

/* ---- the edges of the scratch range ---- */

static void edges_on_device(struct ktest *t, struct dio_dev *d)
{
    struct blk_dev *dev = d->dev;
    uint64_t first = dev->write_first, last = dev->write_end - 1;
    uint32_t k = (uint32_t)min_u64(8, scratch_blocks(d));

    if (dio_write_stamped(t, d, first, 1, 0, "first scratch lba"))
        dio_read_verify(t, d, first, 1, "first scratch lba");
    if (dio_write_stamped(t, d, last, 1, 0, "last scratch lba"))
        dio_read_verify(t, d, last, 1, "last scratch lba");
    if (dio_write_stamped(t, d, dev->write_end - k, k, 0, "blocks ending at the last lba"))
        dio_read_verify(t, d, dev->write_end - k, k, "blocks ending at the last lba");
    if (!d->case_failed)
        ktest_diag(t, "%s: scratch lba %llu..%llu written and verified at both ends", dev->name,
               (unsigned long long)first, (unsigned long long)last);
}

static void dio_first_and_last_lba(struct ktest *t) { dio_for_each(t, true, edges_on_device); }

/* ---- queue depth sweep: random LBAs, mixed reads and writes ---- */

struct qd_slot {
    struct blk_request req;
    struct blk_seg seg;
    bool busy;
    uint64_t gen;
};


static bool overlaps_busy(const struct qd_slot *qd_slots, uint64_t lba, uint32_t count)
{
    for (unsigned i = 0; i < QD_MAX; i++) {
        const struct blk_request *r = &qd_slots[i].req;
        if (qd_slots[i].busy && lba < r->lba + r->count && r->lba < lba + count)
            return true;
    }
    return false;
}

/* A completed slot: record a write, verify a read. */
static void qd_finish(struct ktest *t, struct dio_dev *d, struct qd_slot *s, unsigned slot)
{
    uint32_t bs = d->dev->block_size;
    s->busy = false;
    if (s->req.cause != BLK_OK) {
        dio_io_failed(t, d, &s->req, "queue depth sweep");
        if (s->req.op == BLK_OP_WRITE)
            dio_forget(d, s->req.lba, s->req.count);
        return;
    }
    if (s->req.op == BLK_OP_WRITE)
        dio_record(d, s->req.lba, s->req.count, STAMP_EXTENT_STAMPED, s->gen);
    else
        dio_verify(t, d, &s->req, (uint8_t *)d->rbuf.virt + (size_t)slot * QD_MAX_BLOCKS * bs,
                   "queue depth sweep");
}

/* Issues `total` requests keeping `depth` in flight; never two requests on
 * the same LBA at once, so each write lands before the next one to its LBA
 * is issued and every read has one right answer. */
static void qd_run(struct ktest *t, struct dio_dev *d, struct qd_slot *qd_slots, struct rng *rng,
                   unsigned depth, uint64_t window, uint64_t wcount)
{
    struct blk_dev *dev = d->dev;
    uint32_t bs = dev->block_size;
    unsigned issued = 0, in_flight = 0;
    uint64_t deadline = deadline_after_ms((uint64_t)dev->timeout_ms * 2 + 20000);

    while ((issued < QD_REQUESTS || in_flight) && !ktest_failed(t)) {
        bool queued = false;
        while (issued < QD_REQUESTS && in_flight < depth) {
            unsigned slot = 0;
            while (qd_slots[slot].busy)
                slot++;
            struct qd_slot *s = &qd_slots[slot];
            uint32_t count = (uint32_t)rng_range(rng, 1, min_u64(QD_MAX_BLOCKS, wcount));
            uint64_t lba = window + rng_below(rng, wcount - count + 1);
            if (overlaps_busy(qd_slots, lba, count))
                break;                  /* wait for a completion, then try again */
            bool write = rng_below(rng, 2) == 0;
            const struct dma_region *pool = write ? &d->wbuf : &d->rbuf;
            uint64_t off = (uint64_t)slot * QD_MAX_BLOCKS * bs;
            memset(&s->req, 0, sizeof(s->req));
            s->seg = (struct blk_seg){ pool->phys + off, count * bs, 0 };
            s->req.op = write ? BLK_OP_WRITE : BLK_OP_READ;
            s->req.lba = lba;
            s->req.count = count;
            s->req.segs = &s->seg;
            s->req.nsegs = 1;
            if (write) {
                s->gen = dio_new_gen(d);
                dio_stamp(d, (uint8_t *)pool->virt + off, lba, count, s->gen);
            } else {
                dio_poison((uint8_t *)pool->virt + off, (uint64_t)count * bs);
            }
            enum blk_cause rc = blk_submit(dev, &s->req);
            issued++;
            if (rc != BLK_OK) {
                dio_io_failed(t, d, &s->req, "queue depth sweep submit");
                continue;
            }
            s->busy = true;
            in_flight++;
            queued = true;
        }
        if (queued)
            blk_kick(dev, 0);
        blk_poll(dev, 0);
        for (unsigned i = 0; i < QD_MAX; i++)
            if (qd_slots[i].busy && __atomic_load_n(&qd_slots[i].req.complete, __ATOMIC_ACQUIRE)) {
                qd_finish(t, d, &qd_slots[i], i);
                in_flight--;
            }
        if (in_flight && deadline_passed(deadline)) {
            DIO_FAIL(t, d, BLK_CAUSE_TIMEOUT, "queue depth %u: %u requests never completed",
                     depth, in_flight);
            break;
        }
    }
}

static void qd_on_device(struct ktest *t, struct dio_dev *d)
{
    struct blk_dev *dev = d->dev;
    uint64_t seed = dio_seed() ^ (0x9d0ull + dev->index);
    struct rng rng;
    uint64_t wcount = min_u64(QD_WINDOW_BLOCKS, scratch_blocks(d));
    uint64_t window = dio_region(d, wcount);
    unsigned max_depth = dev->queue_depth < QD_MAX ? dev->queue_depth : QD_MAX;

    if ((uint64_t)QD_MAX * QD_MAX_BLOCKS * dev->block_size > DIO_POOL_BYTES) {
        dio_skip(t, d, "blocks of %u bytes do not fit %d slots of the pool", dev->block_size, QD_MAX);
        return;
    }
    rng_seed(&rng, seed);
    ktest_diag(t, "%s: random lbas in %llu..%llu, seed 0x%llx, depths 1..%u", dev->name,
               (unsigned long long)window, (unsigned long long)(window + wcount - 1),
               (unsigned long long)seed, max_depth);
    /* Start from known content, so reads of never-written blocks are checked too. */
    if (!dio_write_stamped(t, d, window, (uint32_t)wcount, 0, "queue depth window"))
        return;
    /* The device's own slots, not a static: devices run on several CPUs at once. */
    struct dma_region slot_mem = ktest_dma_alloc(t, QD_MAX * sizeof(struct qd_slot), 0, 0, DMA_ANYWHERE);
    if (!slot_mem.virt) {
        DIO_FAIL(t, d, BLK_OK, "no memory for %d request slots", QD_MAX);
        return;
    }
    for (unsigned depth = 1; depth <= max_depth; depth *= 2)
        qd_run(t, d, slot_mem.virt, &rng, depth, window, wcount);
    /* The final generation of every block in the window. */
    dio_read_verify(t, d, window, (uint32_t)wcount, "queue depth window after the sweep");
}

static void dio_queue_depth_sweep(struct ktest *t) { dio_for_each(t, true, qd_on_device); }

/* ---- overlapping writes, each after the previous completed ---- */

/* 16 blocks, or as many as the scratch range holds (4 at the least, so the
 * nested overlaps leave three generations side by side). */
static void overlap_on_device(struct ktest *t, struct dio_dev *d)
{
    uint32_t n = (uint32_t)min_u64(16, scratch_blocks(d));
    if (!room_or_skip(t, d, 4, "overlapping writes"))
        return;
    uint64_t base = dio_region(d, n);
    uint32_t outer = n / 4, inner = n / 2, inner_n = n / 8 ? n / 8 : 1;
    char what[2][32];

    /* Three generations of the same blocks, back to back. */
    for (int i = 0; i < 3; i++)
        if (!dio_write_stamped(t, d, base, n, 0, "rewrite of the same blocks"))
            return;
    if (!dio_read_verify(t, d, base, n, "third generation of the same blocks"))
        return;
    /* Nested overlaps ([4,12) and [8,10) of 16): the map holds three generations side by side. */
    snprintf(what[0], sizeof(what[0]), "overlap [%u,%u)", outer, outer + n / 2);
    snprintf(what[1], sizeof(what[1]), "overlap [%u,%u)", inner, inner + inner_n);
    if (dio_write_stamped(t, d, base + outer, n / 2, 0, what[0]) &&
        dio_write_stamped(t, d, base + inner, inner_n, 0, what[1]))
        dio_read_verify(t, d, base, n, "nested overlapping writes");
}

static void dio_overlapping_writes_in_order(struct ktest *t) { dio_for_each(t, true, overlap_on_device); }

/* ---- FLUSH and FUA ---- */

static void flush_fua_on_device(struct ktest *t, struct dio_dev *d)
{
    struct blk_dev *dev = d->dev;
    struct blk_request req;
    struct blk_seg seg;
    uint32_t n = (uint32_t)min_u64(8, scratch_blocks(d));
    uint64_t lba = dio_region(d, n);

    if (dev->caps & BLK_CAP_FUA) {
        if (dio_write_stamped(t, d, lba, n, BLK_F_FUA, "FUA write"))
            dio_read_verify(t, d, lba, n, "FUA write");
    } else {
        enum blk_cause rc = dio_io(d, &req, &seg, BLK_OP_WRITE, lba, n, &d->wbuf, 0, BLK_F_FUA);
        if (rc != BLK_CAUSE_INVALID || req.complete)
            DIO_FAIL(t, d, rc, "FUA write on a device without FUA was not refused up front");
        ktest_diag(t, "%s: no FUA: refused as expected", dev->name);
    }
    if (dev->caps & BLK_CAP_FLUSH) {
        if (dio_io(d, &req, &seg, BLK_OP_FLUSH, 0, 0, NULL, 0, 0) != BLK_OK)
            dio_io_failed(t, d, &req, "flush");
        else
            ktest_diag(t, "%s: flush completed (%s write cache)", dev->name,
                       dev->caps & BLK_CAP_WRITE_CACHE ? "volatile" : "no");
    }
}

static void dio_flush_and_fua(struct ktest *t) { dio_for_each(t, true, flush_fua_on_device); }

/* ---- TRIM and write zeroes, read back as the device promises ----
 * Write Zeroes binds the device: the blocks read as zeroes (NVMe 1.4 §6.16).
 * A trim does not: NVMe Dataset Management is advisory (§6.7) and DLFEAT,
 * like ATA's DRAT/RZAT, says only what a block that was deallocated reads.
 * So a trimmed block on a device whose deallocated blocks read as zeroes may
 * read as zeroes or as its old stamp (dio_deallocate()); on any other device
 * it is not known and not checked. */

static void zeroes_on_device(struct ktest *t, struct dio_dev *d)
{
    struct blk_dev *dev = d->dev;
    struct blk_request req;
    struct blk_seg seg;
    /* 32 blocks, fewer in a smaller scratch range: a quarter written with
     * zeroes, the next quarter trimmed, the blocks around them kept. */
    uint32_t n = (uint32_t)min_u64(32, scratch_blocks(d)), q = n / 4;
    enum blk_cause rc;

    if (!room_or_skip(t, d, 4, "write zeroes and trim between kept blocks"))
        return;
    uint64_t base = dio_region(d, n);
    if (!dio_write_stamped(t, d, base, n, 0, "before zeroing"))
        return;
    rc = dio_io(d, &req, &seg, BLK_OP_WRITE_ZEROES, base + q, q, NULL, 0, 0);
    if (!(dev->caps & BLK_CAP_WRITE_ZEROES)) {
        if (rc != BLK_CAUSE_INVALID || req.complete)
            DIO_FAIL(t, d, rc, "write zeroes without the capability was not refused up front");
    } else if (rc != BLK_OK) {
        dio_io_failed(t, d, &req, "write zeroes");
        dio_forget(d, base + q, q);
    } else {
        dio_record(d, base + q, q, STAMP_EXTENT_ZERO, 0);
    }
    rc = dio_io(d, &req, &seg, BLK_OP_TRIM, base + 2 * q, q, NULL, 0, 0);
    if (!(dev->caps & BLK_CAP_TRIM)) {
        if (rc != BLK_CAUSE_INVALID || req.complete)
            DIO_FAIL(t, d, rc, "trim without the capability was not refused up front");
    } else if (rc != BLK_OK) {
        dio_io_failed(t, d, &req, "trim");
        dio_forget(d, base + 2 * q, q);
    } else if (dev->caps & BLK_CAP_TRIM_ZEROES) {
        dio_deallocate(d, base + 2 * q, q);
    } else {
        dio_forget(d, base + 2 * q, q);     /* no promise: anything is right */
    }
    if (dio_read_verify(t, d, base, n, "after write zeroes and trim") && !d->case_failed)
        ktest_diag(t, "%s: write zeroes %s, trim %s", dev->name,
               dev->caps & BLK_CAP_WRITE_ZEROES ? "read back as zeroes" : "not supported",
               !(dev->caps & BLK_CAP_TRIM) ? "not supported"
               : dev->caps & BLK_CAP_TRIM_ZEROES ? "done, read back as zeroes or the old data"
                                                 : "done (what trimmed blocks read is not promised)");
}

static void dio_trim_and_write_zeroes(struct ktest *t) { dio_for_each(t, true, zeroes_on_device); }

/* ---- fault probe: stamped I/O around chosen LBAs (dio.fault_probe=) ---- */

#define PROBE_MAX_LBAS  8
#define PROBE_HALF      4       /* blocks on each side of a probed LBA */

/* Comma-separated LBAs; the count, 0 when malformed or too many. */
static unsigned parse_probe(const char *s, size_t len, uint64_t *out)
{
    unsigned n = 0;
    size_t i = 0;
    while (i < len) {
        size_t end = i;
        while (end < len && s[end] != ',')
            end++;
        if (n == PROBE_MAX_LBAS || end == i ||
            cmdline_parse_number(s + i, end - i, &out[n]) != CMDLINE_NUMBER_OK)
            return 0;
        n++;
        i = end + 1;
        if (end + 1 == len)
            return 0;           /* a trailing comma */
    }
    return n;
}

static bool check_probe_key(const struct cmdline_key *key, const struct cmdline_value *value,
                            char *why, size_t why_size)
{
    uint64_t lbas[PROBE_MAX_LBAS];
    (void)key;
    if (parse_probe(value->text, value->len, lbas))
        return true;
    snprintf(why, why_size, "expected 1 to %d LBAs separated by commas", PROBE_MAX_LBAS);
    return false;
}

CMDLINE_STRING(dio_fault_probe_key, "dio.fault_probe", 160, "",
               "stamped writes and reads around these LBAs of every scratch device "
               "(case dio_fault_probe), to meet faults injected there",
               .check = check_probe_key, .value_syntax = "LBA[,LBA...]");

static unsigned known_blocks(const struct dio_dev *d, uint64_t lba, uint32_t count)
{
    unsigned n = 0;
    for (uint32_t i = 0; i < count; i++)
        n += stamp_map_find(&d->map, lba + i) != NULL;
    return n;
}

/* Four steps around LBA L, each run whatever the previous one did, so a fault
 * injected at L meets the I/O aimed at it and the device is seen to go on
 * working after it:
 *   1. write [L-4, L+4)   2. read it back   3. rewrite [L, L+4)   4. read [L-4, L+4)
 * A read fault at L fails steps 2 and 4 (once: step 2 only), a write fault
 * steps 1 and 3 (once: step 1 only). On a device slow to write, step 3 times
 * out at the latest and step 4 still proves [L-4, L) from step 1.
 * Nothing is retried away here: a failed I/O fails the case with its cause,
 * also when the block-by-block repeat in tests/harness/dio.c then succeeds. */
static void probe_at(struct ktest *t, struct dio_dev *d, uint64_t lba)
{
    const uint32_t n = 2 * PROBE_HALF;
    uint64_t base = lba - PROBE_HALF;
    char what[48];

    snprintf(what, sizeof(what), "fault probe at lba %llu", (unsigned long long)lba);
    dio_write_stamped(t, d, base, n, 0, what);
    dio_read_verify(t, d, base, n, what);
    dio_write_stamped(t, d, lba, PROBE_HALF, 0, what);
    bool last_ok = dio_read_verify(t, d, base, n, what);
    unsigned known = known_blocks(d, base, n);
    ktest_diag(t, "%s: %s: last read %s; %u of %u blocks known%s", d->dev->name, what,
               last_ok ? "ok" : "failed", known, n, last_ok && known ? " and verified" : "");
}

static void probe_on_device(struct ktest *t, struct dio_dev *d)
{
    struct blk_dev *dev = d->dev;
    uint64_t lbas[PROBE_MAX_LBAS];
    unsigned n = parse_probe(dio_fault_probe_key, strlen(dio_fault_probe_key), lbas), probed = 0;

    for (unsigned i = 0; i < n; i++) {
        if (lbas[i] < dev->write_first + PROBE_HALF || lbas[i] + PROBE_HALF > dev->write_end) {
            ktest_diag(t, "%s: lba %llu not probed: outside scratch lba %llu..%llu with %d "
                       "blocks each side", dev->name, (unsigned long long)lbas[i],
                       (unsigned long long)dev->write_first,
                       (unsigned long long)(dev->write_end - 1), PROBE_HALF);
            continue;
        }
        probe_at(t, d, lbas[i]);
        probed++;
    }
    if (!probed)
        dio_skip(t, d, "no probed lba lies in its scratch range");
}

static void dio_fault_probe(struct ktest *t)
{
    if (!dio_fault_probe_key[0]) {
        ktest_skip(t, "dio.fault_probe= not given");
        return;
    }
    dio_for_each(t, true, probe_on_device);
}

/* ---- negative cases: decoded errors, and the device still works ---- */

static void still_works(struct ktest *t, struct dio_dev *d, const char *after)
{
    struct blk_request req;
    struct blk_seg seg;
    if (dio_io(d, &req, &seg, BLK_OP_READ, 0, 1, &d->rbuf, 0, 0) != BLK_OK) {
        dio_io_failed(t, d, &req, after);
        DIO_FAIL(t, d, req.cause, "the device stopped working after %s", after);
    }
}

static void past_end_on_device(struct ktest *t, struct dio_dev *d)
{
    struct blk_dev *dev = d->dev;
    struct blk_request req;
    struct blk_seg seg;
    enum blk_cause rc;

    rc = dio_io(d, &req, &seg, BLK_OP_READ, dev->nblocks, 1, &d->rbuf, 0, 0);
    if (rc != BLK_CAUSE_LBA_RANGE || req.complete)
        DIO_FAIL(t, d, rc, "read past the end was not refused by the block layer");
    if (dev->capacity_clamped) {
        ktest_diag(t, "%s: capacity clamped to %llu blocks: the device holds blocks past it, so "
                   "only the block layer's refusal is checked", dev->name,
                   (unsigned long long)dev->nblocks);
        return;
    }
    /* Now the device's own answer. */
    for (int crossing = 0; crossing < 2; crossing++) {
        uint64_t lba = crossing ? dev->nblocks - 1 : dev->nblocks;
        rc = dio_io(d, &req, &seg, BLK_OP_READ, lba, 2, &d->rbuf, 0, BLK_F_UNCHECKED);
        if (rc == BLK_OK)
            DIO_FAIL(t, d, rc, "read of lba %llu+2 (past the end) succeeded", (unsigned long long)lba);
        else if (!req.detail[0])
            DIO_FAIL(t, d, rc, "error for lba %llu+2 past the end has no decoded status",
                     (unsigned long long)lba);
        else
            ktest_diag(t, "%s: lba %llu+2: %s: %s (status 0x%x)", dev->name,
                       (unsigned long long)lba, blk_cause_name(rc), req.detail, req.dev_status);
        still_works(t, d, "a read past the end");
    }
}

static void dio_lba_past_end(struct ktest *t) { dio_for_each(t, false, past_end_on_device); }

static void zero_length_on_device(struct ktest *t, struct dio_dev *d)
{
    struct blk_request req;
    struct blk_seg seg = { d->rbuf.phys, d->dev->block_size, 0 };
    enum blk_cause rc = blk_io(d->dev, &req, BLK_OP_READ, 0, 0, &seg, 1, 0);
    if (rc != BLK_CAUSE_INVALID || req.complete)
        DIO_FAIL(t, d, rc, "a zero-length read was not refused up front");
    still_works(t, d, "a zero-length request");
}

static void dio_zero_length(struct ktest *t) { dio_for_each(t, false, zero_length_on_device); }

static void nosplit_on_device(struct ktest *t, struct dio_dev *d)
{
    struct blk_dev *dev = d->dev;
    struct blk_request req;
    struct blk_seg seg;
    uint64_t count = (uint64_t)dev->max_transfer + 1;

    if (count > dio_pool_blocks(d)) {
        dio_skip(t, d, "max transfer %u blocks is larger than the pool", dev->max_transfer);
        return;
    }
    if (count > dev->nblocks) {
        dio_skip(t, d, "max transfer %u blocks: the device has only %llu", dev->max_transfer,
                 (unsigned long long)dev->nblocks);
        return;
    }
    enum blk_cause rc = dio_io(d, &req, &seg, BLK_OP_READ, 0, (uint32_t)count, &d->rbuf, 0,
                               BLK_F_NOSPLIT);
    if (rc == BLK_OK)
        DIO_FAIL(t, d, rc, "one read command of %llu blocks (max %u) succeeded",
                 (unsigned long long)count, dev->max_transfer);
    else
        ktest_diag(t, "%s: %llu blocks in one command: %s: %s", dev->name,
                   (unsigned long long)count, blk_cause_name(rc), req.detail);
    still_works(t, d, "a transfer above the maximum");
}

static void dio_transfer_above_maximum(struct ktest *t) { dio_for_each(t, false, nosplit_on_device); }

static void dio_invalid_namespace(struct ktest *t)
{
    ktest_skip(t, "the block interface has no way to address another namespace");
}

/* ---- last: everything written this run reads back as the map says ---- */

#define FINAL_MAX_FAILED_READS 4

static void final_on_device(struct ktest *t, struct dio_dev *d)
{
    struct blk_dev *dev = d->dev;
    struct blk_request req;
    struct blk_seg seg;
    uint32_t chunk = dio_pool_blocks(d);
    uint64_t blocks = 0;
    unsigned failed_reads = 0;

    if (!d->written) {
        dio_skip(t, d, "nothing written");
        return;
    }
    for (uint32_t e = 0; e < d->map.count; e++) {
        uint64_t lba = d->map.ext[e].lba, end = lba + d->map.ext[e].count;
        while (lba < end) {
            uint32_t n = (uint32_t)min_u64(chunk, end - lba);
            /* One bad range (a block the medium cannot read) must not hide
             * the rest; a device failing again and again is not read on. */
            if (!dio_read_verify(t, d, lba, n, "final read-back") &&
                ++failed_reads == FINAL_MAX_FAILED_READS) {
                ktest_diag(t, "%s: final read-back stopped after %u failed reads", dev->name,
                           failed_reads);
                return;
            }
            lba += n;
            blocks += n;
        }
    }
    if ((dev->caps & BLK_CAP_FLUSH) && dio_io(d, &req, &seg, BLK_OP_FLUSH, 0, 0, NULL, 0, 0) != BLK_OK)
        dio_io_failed(t, d, &req, "final flush");
    ktest_diag(t, "%s: %u ranges, %llu blocks read back%s", dev->name, d->map.count,
               (unsigned long long)blocks, d->case_failed ? ", not all as written" : " as written");
}

static void dio_final_read_back(struct ktest *t) { dio_for_each(t, true, final_on_device); }

/* ---- the parallel pass itself (explicit: they end a case, or the run) ---- */

#define STALL_MS 3000
#define AP_START_WAIT_MS 500    /* within the given-up case's 1 s */

/* A device an AP drives stalls past the case's 1 s timeout; the BSP's own
 * return at once. The pass is given up: the stalled devices are named as
 * still running on their CPU, their text so far comes out in order, and
 * what they say after is dropped (and counted). */
static void stall_on_ap(struct ktest *t, struct dio_dev *d)
{
    if (cpu_index() == 0) {
        /* Quick as it is, the BSP would take every device before a busy
         * host schedules an AP: it waits for one to have taken its own. */
        if (!dio_pass_wait_for_another_cpu(AP_START_WAIT_MS))
            DIO_FAIL(t, d, BLK_OK, "no AP took a device within %u ms: nothing stalls", AP_START_WAIT_MS);
        return;
    }
    ktest_diag(t, "%s: cpu %u stalls %u ms", d->dev->name, cpu_index(), STALL_MS);
    delay_ms(STALL_MS);
    ktest_diag(t, "%s: back after the stall (this line must not reach the report)", d->dev->name);
}
static void dio_parallel_pass_given_up_at_timeout(struct ktest *t) { dio_for_each(t, false, stall_on_ap); }

/* After that: a device still running for the abandoned case is skipped, by
 * name and CPU, until it returns; then every device runs again. */
static void touch(struct ktest *t, struct dio_dev *d)
{
    ktest_diag(t, "%s: driven by cpu %u", d->dev->name, cpu_index());
}
static void dio_parallel_after_a_given_up_pass(struct ktest *t)
{
    dio_for_each(t, false, touch);
    delay_ms(STALL_MS);
    ktest_diag(t, "after %u ms:", STALL_MS);
    dio_for_each(t, false, touch);
}

#define AP_FAULT_WAIT_MS 3000

/* An exception on an AP in the middle of a pass is a crash of the case,
 * named with that CPU; the other devices' text so far comes out before
 * the crash report. */
static void fault_on_ap(struct ktest *t, struct dio_dev *d)
{
    ktest_diag(t, "%s: driven by cpu %u", d->dev->name, cpu_index());
    if (cpu_index() != 0)
        __asm__ volatile("ud2");
    /* As in stall_on_ap: the BSP waits for an AP to take a device (and
     * fault, which ends the run while it waits). */
    if (!dio_pass_wait_for_another_cpu(AP_FAULT_WAIT_MS))
        DIO_FAIL(t, d, BLK_OK, "no AP took a device within %u ms: nothing faults", AP_FAULT_WAIT_MS);
    else
        delay_ms(AP_FAULT_WAIT_MS);     /* the AP's fault ends the run in this time */
}
static void dio_parallel_exception_on_an_ap(struct ktest *t) { dio_for_each(t, false, fault_on_ap); }

static const struct ktest_case dio_cases[] = {
    KTEST_CASE_TIMEOUT(dio_expect_seeded_blocks, 60000),
    KTEST_CASE(dio_device_access),
    KTEST_CASE(dio_write_gate_edges),
    KTEST_CASE(dio_write_read_verify),
    KTEST_CASE_TIMEOUT(dio_sizes_across_max_transfer, 120000),
    KTEST_CASE(dio_buffer_alignments),
    KTEST_CASE(dio_segments_crossing_pages),
    KTEST_CASE(dio_buffers_above_4g),
    KTEST_CASE(dio_first_and_last_lba),
    KTEST_CASE_TIMEOUT(dio_queue_depth_sweep, 120000),
    KTEST_CASE(dio_overlapping_writes_in_order),
    KTEST_CASE(dio_flush_and_fua),
    KTEST_CASE(dio_trim_and_write_zeroes),
    KTEST_CASE_TIMEOUT(dio_fault_probe, 120000),
    KTEST_CASE_TIMEOUT(dio_lba_past_end, 120000),
    KTEST_CASE(dio_zero_length),
    KTEST_CASE_TIMEOUT(dio_transfer_above_maximum, 120000),
    KTEST_CASE(dio_invalid_namespace),
    KTEST_CASE_TIMEOUT(dio_final_read_back, 120000),
    { .name = "dio_parallel_pass_given_up_at_timeout", .fn = dio_parallel_pass_given_up_at_timeout,
      .timeout_ms = 1000, .flags = KTEST_EXPLICIT },
    { .name = "dio_parallel_after_a_given_up_pass", .fn = dio_parallel_after_a_given_up_pass,
      .timeout_ms = 20000, .flags = KTEST_EXPLICIT },
    KTEST_CASE_EXPLICIT(dio_parallel_exception_on_an_ap),
};
KTEST_SUITE_FULL(dio, 70, dio_cases, dio_available);
