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
 * controller reaches them; tests of other placements allocate their own.
 *
 * Parallel passes (dio_for_each(), design in dio.h). Locking rule: none is
 * taken here. A device's record is written by one CPU at a time: the worker
 * that took it between `started` and `finished` (release/acquire), the BSP
 * otherwise; the pass itself is written by the BSP before any worker is
 * posted, and workers share only its group counter (one atomic word holding
 * the pass's generation and the next group, so that a worker still running
 * for an abandoned pass can never take a group of a later one). */
#include "tests/harness/dio.h"
#include "drivers/blk/storage.h"
#include "kernel/cmdline.h"
#include "kernel/console.h"
#include "tests/harness/ktest.h"
#include "kernel/leftout.h"
#include "kernel/smp.h"
#include "kernel/smbios.h"
#include "kernel/time.h"
#include "lib/format.h"
#include "lib/smbios.h"
#include "lib/string.h"

#include <stdarg.h>

#define DIO_POISON_BYTE 0xdb

static bool check_expect_key(const struct cmdline_key *key, const struct cmdline_value *value,
                             char *why, size_t why_size);
static void pass_abandon(struct ktest *t);

CMDLINE_UINT(uint64_t, dio_seed_key, "dio.seed", 0, 0, ~0ull,
             "seed of the harness's data stamps and random choices (0: from the TSC; always printed)");
CMDLINE_BOOL(dio_parallel_key, "dio.parallel", true,
             "test the devices on every online CPU at once, one device per CPU (on, default), "
             "or one after another on the BSP (off)");
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
        if (dio_parallel_key && smp_online_count() > 1) {
            d->capture_buf = memory_alloc_state(DIO_CAPTURE_BYTES);
            d->standin_mem = memory_alloc_state(ktest_standin_size());
            if (!d->capture_buf || !d->standin_mem) {
                d->capture_buf = NULL;
                klog(LOG_WARN, "dio: %s: no memory to run it beside the others; it runs on the "
                     "BSP after them\n", dev->name);
            }
        }
        kprintf("dio: %s (%s, %llu blocks of %u bytes): %s\n", dev->name, dev->kind,
                (unsigned long long)dev->nblocks, dev->block_size, dev->access);
    }
    prepared = true;
    if (dio_parallel_key && smp_online_count() > 1)
        ktest_set_abandon_hook(pass_abandon);
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

/* True (said, as d's skip) when fn does not run on d in this case. */
static bool skipped_up_front(struct ktest *t, struct dio_dev *d, bool write_test)
{
    if (d->busy)
        dio_skip(t, d, "still running on cpu %u for a case abandoned at its timeout", d->ran_on);
    else if (write_test && !d->dev->writable)
        dio_skip(t, d, "%s", d->dev->access);
    else if (!d->rbuf.virt || (d->dev->writable && !d->wbuf.virt))
        dio_skip(t, d, "no buffer pool: %u KiB of DMA memory below 4 GiB were not free "
                 "for it when the suite began", (d->dev->writable ? 2 : 1) *
                 ((DIO_POOL_BYTES + DIO_POOL_SLACK) >> 10));
    else
        return false;
    return true;
}

static void tally_case(struct dio_dev *d, unsigned *ran, unsigned *skipped)
{
    if (d->case_failed)
        d->tally.failed++;
    else if (d->case_skipped)
        d->tally.skipped++;
    else
        d->tally.passed++;
    (*ran)++;
    *skipped += d->case_skipped && !d->case_failed;
}

/* ---- the parallel pass ---- */

/* One pass at a time; its record outlives the case (a worker of an
 * abandoned pass may still read it), so it is static. */
struct pass {
    struct ktest *t;
    dio_dev_fn fn;
    bool write_test;
    unsigned *group_first;      /* per group: its first device (dio_devs index) */
    unsigned ngroups;
    volatile uint64_t next;     /* generation << 32 | taken from the back << 16 | from the front */
    volatile bool stop;         /* given up: take no more devices */
    bool active;                /* between its start and its end on the BSP */
};
static struct pass pass;
static uint32_t pass_generation;
static unsigned *group_room;    /* dio_dev_count entries, allocated at the first pass */

static bool in_group(const struct dio_dev *a, const struct dio_dev *b)
{
    return a->dev->cpu_group == b->dev->cpu_group;
}

/* Groups are taken from both ends: the APs from the front, the BSP from the
 * back. The BSP starts at once while the APs are still waking, so taking
 * the front it would drive the first devices (an NVMe disk, say) in every
 * short pass, and they would never be driven from an AP. */
#define PASS_MAX_GROUPS 0xffffu         /* a cursor's 16 bits; more devices run on the BSP after */

/* The next group for a worker of generation gen; false when there is none
 * (or the pass is no longer gen's). */
static bool take_group(uint32_t gen, bool from_back, unsigned *group)
{
    uint64_t cur = __atomic_load_n(&pass.next, __ATOMIC_ACQUIRE);
    for (;;) {
        unsigned front = (unsigned)(cur & 0xffff), back = (unsigned)((cur >> 16) & 0xffff);
        if ((uint32_t)(cur >> 32) != gen || front + back >= pass.ngroups ||
            __atomic_load_n(&pass.stop, __ATOMIC_ACQUIRE))
            return false;
        uint64_t want = cur + (from_back ? 1ull << 16 : 1);
        if (__atomic_compare_exchange_n(&pass.next, &cur, want, false, __ATOMIC_ACQ_REL,
                                        __ATOMIC_ACQUIRE)) {
            *group = from_back ? pass.ngroups - 1 - back : front;
            return true;
        }
    }
}

static bool needs_binding(const struct blk_dev *dev)
{
    return !dev->any_cpu && dev->irq_completion;
}

/* Its interrupts to this CPU (an AP), or back to the BSP; false when they
 * cannot be moved. */
static bool bind(struct blk_dev *dev, uint32_t apic_id)
{
    return !needs_binding(dev) || (dev->ops->bind_cpu && dev->ops->bind_cpu(dev, apic_id));
}

static void run_on_this_cpu(struct dio_dev *d)
{
    bool on_ap = cpu_index() != 0;
    uint32_t bsp_apic_id = smp_cpu(0)->local.apic_id;
    if (on_ap && !bind(d->dev, cpu_apic_id())) {
        bind(d->dev, bsp_apic_id);      /* a half-moved pair of entries goes back */
        d->deferred = true;
        __atomic_store_n(&d->finished, 1, __ATOMIC_RELEASE);
        return;
    }
    __atomic_store_n(&d->ran_on, cpu_index(), __ATOMIC_RELAXED);
    __atomic_store_n(&d->started, 1, __ATOMIC_RELEASE);
    bool captured = console_capture_begin(&d->capture, d->capture_buf, DIO_CAPTURE_BYTES);
    d->standin = ktest_standin_begin(d->standin_mem, pass.t);
    pass.fn(d->standin, d);
    if (captured)
        console_capture_end();
    if (on_ap && !bind(d->dev, bsp_apic_id))
        klog(LOG_ERR, "dio: %s: its interrupts could not be moved back to the BSP\n", d->dev->name);
    d->busy = false;
    __atomic_store_n(&d->finished, 1, __ATOMIC_RELEASE);
}

/* A worker: groups until none is left; in a group its devices in order.
 * The BSP's first runs the devices that must stay on the BSP. */
static void worker(void *arg)
{
    uint32_t gen = (uint32_t)(uintptr_t)arg;
    unsigned g;
    if (cpu_index() == 0)
        for (struct dio_dev *d = dio_devs; d < dio_devs + dio_dev_count; d++)
            if (d->in_pass && d->bsp_only)
                run_on_this_cpu(d);
    while (take_group(gen, cpu_index() == 0, &g)) {
        struct dio_dev *first = &dio_devs[pass.group_first[g]];
        for (struct dio_dev *d = first; d < dio_devs + dio_dev_count; d++) {
            if (!d->in_pass || d->bsp_only || !in_group(d, first))
                continue;
            if (__atomic_load_n(&pass.stop, __ATOMIC_ACQUIRE) ||
                (uint32_t)(__atomic_load_n(&pass.next, __ATOMIC_ACQUIRE) >> 32) != gen)
                return;
            run_on_this_cpu(d);
        }
    }
}

/* Sorts the devices into the pass: those fn runs on that can leave the BSP
 * (a capture buffer, an own pool), grouped by cpu_group. False when fewer
 * than two groups would run: then there is nothing to win. */
static bool plan_pass(bool write_test)
{
    if (!group_room)
        group_room = memory_alloc_state((uint64_t)dio_dev_count * sizeof(*group_room));
    if (!group_room)
        return false;
    pass.group_first = group_room;
    pass.ngroups = 0;
    for (unsigned i = 0; i < dio_dev_count; i++) {
        struct dio_dev *d = &dio_devs[i];
        d->in_pass = false;
        d->started = d->finished = 0;
        bool eligible = d->capture_buf && !d->pool_borrowed && !d->busy &&
                        !(write_test && !d->dev->writable) && d->rbuf.virt &&
                        (!d->dev->writable || d->wbuf.virt);
        if (!eligible)
            continue;
        d->in_pass = true;
        d->deferred = false;
        d->bsp_only = needs_binding(d->dev) && !d->dev->ops->bind_cpu;
        if (d->bsp_only)
            continue;
        bool new_group = true;
        for (unsigned g = 0; g < pass.ngroups && new_group; g++)
            new_group = !in_group(&dio_devs[pass.group_first[g]], d);
        if (new_group && pass.ngroups == PASS_MAX_GROUPS) {
            d->in_pass = false;         /* runs on the BSP after the pass, in its place */
            continue;
        }
        if (new_group)
            pass.group_first[pass.ngroups++] = i;
    }
    bool bsp_work = false;
    for (unsigned i = 0; i < dio_dev_count; i++)
        bsp_work |= dio_devs[i].in_pass && dio_devs[i].bsp_only;
    return pass.ngroups + bsp_work > 1;
}

/* The end of a device's part in the pass, on the BSP, in device order: its
 * output, its stand-in's verdict, or, still running, given up. */
static void settle(struct ktest *t, struct dio_dev *d, bool giving_up)
{
    if (__atomic_load_n(&d->finished, __ATOMIC_ACQUIRE) && d->deferred) {
        if (giving_up)
            dio_skip(t, d, "not run: the case timed out first");
        else
            pass.fn(t, d);      /* its interrupts stay on the BSP: it runs here, in its place */
        return;
    }
    if (__atomic_load_n(&d->finished, __ATOMIC_ACQUIRE)) {
        console_capture_emit(&d->capture);
        ktest_standin_end(t, d->standin);
        return;
    }
    if (!__atomic_load_n(&d->started, __ATOMIC_ACQUIRE)) {
        dio_skip(t, d, "not run: the case %s before its turn", giving_up ? "timed out" : "ended");
        return;
    }
    unsigned cpu = __atomic_load_n(&d->ran_on, __ATOMIC_RELAXED);
    if (cpu == cpu_index()) {
        /* The BSP's own, cut by the timeout's jump: nothing of it runs on. */
        console_capture_emit(&d->capture);
        ktest_standin_end(t, d->standin);
    } else {
        console_capture_abandon(&d->capture);
        d->busy = true;
    }
    DIO_FAIL(t, d, BLK_OK, "still running on cpu %u when the case %s: given up there%s", cpu,
             giving_up ? "timed out" : "ended",
             cpu == cpu_index() ? "" : "; later cases skip it until it returns");
}

/* The pass is over (every device finished), or given up at the case's
 * deadline: on the BSP, every device in order, so the report reads as a run
 * one device after another would. A pass device's output and verdict come
 * from its capture and stand-in; the others run here, on the BSP, in their
 * place (every pass device has finished, so nothing runs beside them), or,
 * when giving up, are not run. */
/* Which CPU drove which device: "dio: in parallel: ahci0p0 cpu 0, nvme0n1
 * cpu 2, ..." (several lines for many devices), before their outputs. */
#define PASS_NAMES_PER_LINE 8
static void say_where(struct ktest *t)
{
    char line[160 + PASS_NAMES_PER_LINE * 32];
    int len = 0;
    unsigned on_line = 0;
    for (unsigned i = 0; i < dio_dev_count; i++) {
        const struct dio_dev *d = &dio_devs[i];
        if (!d->in_pass || !d->started || d->deferred)
            continue;
        unsigned cpu = d->ran_on;
        if (!on_line)
            len = snprintf(line, sizeof(line), "dio: in parallel:");
        len += snprintf(line + len, sizeof(line) - (size_t)len, "%s %s cpu %u", on_line ? "," : "",
                        d->dev->name, cpu);
        if (++on_line == PASS_NAMES_PER_LINE) {
            ktest_diag(t, "%s", line);
            on_line = 0;
        }
    }
    if (on_line)
        ktest_diag(t, "%s", line);
}

static void pass_end(struct ktest *t, bool giving_up)
{
    unsigned ran = 0, skipped = 0;
    __atomic_store_n(&pass.stop, true, __ATOMIC_RELEASE);
    console_capture_end();              /* the BSP's, when the timeout cut its own device */
    pass.active = false;
    say_where(t);
    for (unsigned i = 0; i < dio_dev_count; i++) {
        struct dio_dev *d = &dio_devs[i];
        if (d->in_pass)
            settle(t, d, giving_up);
        else if (skipped_up_front(t, d, pass.write_test))
            ;
        else if (giving_up)
            dio_skip(t, d, "not run: the case timed out first");
        else
            pass.fn(t, d);
        tally_case(d, &ran, &skipped);
    }
    if (ran && skipped == ran)
        ktest_skip(t, "no device this case applies to");
}

/* ktest's abandon hook: the case timed out while a pass ran. */
static void pass_abandon(struct ktest *t)
{
    if (pass.active)
        pass_end(t, true);
}

/* Every device of the pass finished, or the deadline: false at the deadline. */
static bool wait_pass(uint64_t deadline)
{
    for (unsigned i = 0; i < dio_dev_count; i++) {
        const struct dio_dev *d = &dio_devs[i];
        while (d->in_pass && !__atomic_load_n(&d->finished, __ATOMIC_ACQUIRE)) {
            if (deadline_passed(deadline))
                return false;
            cpu_pause();
        }
    }
    return true;
}

/* A CPU still running a worker of an abandoned pass could take devices of
 * a new one: until every AP is back, devices run one after another. */
static bool every_ap_idle(void)
{
    for (unsigned k = 1; k < smp_online_count(); k++)
        if (!smp_call_done(smp_online_cpu(k)))
            return false;
    return true;
}

/* False (nothing done) when a pass would not help or cannot run. */
static bool run_parallel(struct ktest *t, bool write_test, dio_dev_fn fn)
{
    if (!every_ap_idle() || !plan_pass(write_test))
        return false;
    for (unsigned i = 0; i < dio_dev_count; i++)
        dio_devs[i].case_failed = dio_devs[i].case_skipped = false;
    pass.t = t;
    pass.fn = fn;
    pass.write_test = write_test;
    pass.stop = false;
    uint32_t gen = ++pass_generation;
    __atomic_store_n(&pass.next, (uint64_t)gen << 32, __ATOMIC_RELEASE);
    pass.active = true;
    unsigned posted = 0;
    for (unsigned k = 1; k < smp_online_count() && posted < pass.ngroups; k++)
        posted += smp_call(smp_online_cpu(k), worker, (void *)(uintptr_t)gen);
    worker((void *)(uintptr_t)gen);
    /* The case's timer ends a longer wait (pass_abandon(), from ktest);
     * a second past it the timer did not come, and the wait ends here. */
    bool whole = wait_pass(ktest_deadline_ns(t) + 1000000000ull);
    pass_end(t, !whole);
    return true;
}

bool dio_pass_wait_for_another_cpu(uint32_t wait_ms)
{
    uint64_t deadline = deadline_after_ms(wait_ms);
    if (!pass.active)
        return false;
    for (;;) {
        for (unsigned i = 0; i < dio_dev_count; i++) {
            const struct dio_dev *d = &dio_devs[i];
            if (d->in_pass && __atomic_load_n(&d->started, __ATOMIC_ACQUIRE) &&
                __atomic_load_n(&d->ran_on, __ATOMIC_RELAXED) != cpu_index())
                return true;
        }
        if (deadline_passed(deadline))
            return false;
        cpu_pause();
    }
}

void dio_for_each(struct ktest *t, bool write_test, dio_dev_fn fn)
{
    unsigned ran = 0, skipped = 0;

    if (dio_parallel_key && smp_online_count() > 1 && run_parallel(t, write_test, fn))
        return;
    for (unsigned i = 0; i < dio_dev_count; i++) {
        struct dio_dev *d = &dio_devs[i];
        d->case_failed = d->case_skipped = false;
        if (!skipped_up_front(t, d, write_test))
            fn(t, d);
        tally_case(d, &ran, &skipped);
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
