/* SPDX-License-Identifier: MIT */
/* tests/harness/bench.c — the benchmark engine (design in bench.h). */
#include "tests/harness/bench.h"
#include "kernel/console.h"
#include "kernel/io.h"
#include "kernel/memory.h"
#include "kernel/smp.h"
#include "kernel/time.h"
#include "kernel/watchdog.h"
#include "lib/format.h"
#include "lib/rng.h"
#include "lib/stamp.h"
#include "lib/string.h"
#include "tests/harness/dio.h"
#include "tests/harness/ktest.h"

/* Data buffers a job may ask for: slots × bs. */
#define BENCH_BUFFER_MAX    (64ull << 20)
/* completion=irq: with nothing completed for this long, blk_poll() looks
 * (deadlines, a lost interrupt). */
#define BENCH_IRQ_POLL_NS   1000000ull

struct slot {
    struct blk_request req;
    struct blk_seg seg;
    uint64_t offset;            /* of its buffer in the data region */
    bool busy;
    bool measured;              /* submitted after the ramp: counted */
    struct slot *next_done;     /* on its queue's list of completed slots */
    struct slot **done_list;    /* that list */
};

/* One job on one device, while it runs. */
struct run {
    struct ktest *t;
    const struct bench_job *job;
    struct blk_dev *dev;
    struct bench_result *r;     /* its own: a CPU's share counts into its share's */
    struct hist *clat;          /* [BENCH_DIRS], likewise */
    struct dio_dev *dio;        /* the harness's record of the device, for verify and forget */
    struct slot *slots;
    struct dma_region state, data;
    unsigned qpairs, depth;     /* as run */
    unsigned rank;              /* the CPU's place among those running the job (0: the BSP) */
    unsigned qbase;             /* the device queue of its first pair */
    uint32_t nblk;              /* blocks per I/O */
    uint64_t first, end;        /* the LBA range */
    uint64_t positions;         /* bs-aligned places in it */
    uint64_t seq_next;
    struct rng rng;
    struct slot **done;         /* per queue pair: completed, not yet reaped */
    /* Phases, in TSC ticks (measure_start_ns: when measuring began). */
    uint64_t ticks_per_ms;
    uint64_t measure_start_tsc, stop_tsc, measure_start_ns;
    uint64_t to_submit;         /* number_ios: measured I/Os still to submit */
    bool measuring, stopping, failed_reported;
    uint64_t last_complete_ns;
    unsigned in_flight;
    const char *awake_why;      /* completion=irq: NULL when it sleeps between interrupts */
    uint64_t slept;             /* HLTs between interrupts */
};

/* The job's histograms as reported: every CPU's merged. */
static struct hist clat[BENCH_DIRS];

static struct dio_dev *dio_of(struct blk_dev *dev)
{
    for (unsigned i = 0; i < dio_count(); i++)
        if (dio_at(i)->dev == dev)
            return dio_at(i);
    return NULL;
}

static void slot_done(struct blk_request *req);

/* ---- before the clock starts ---- */

/* The LBA range, or a skip saying why the job does not apply. */
static bool choose_range(struct run *u)
{
    const struct bench_job *job = u->job;
    struct blk_dev *dev = u->dev;
    uint32_t bsz = dev->block_size;
    bool writes = bench_rw_writes(job->rw);

    if (job->bs % bsz) {
        ktest_skip(u->t, "bs=%u is not a multiple of %s's %u-byte blocks", job->bs, dev->name, bsz);
        return false;
    }
    u->nblk = job->bs / bsz;
    if (writes && !dev->writable) {
        ktest_skip(u->t, "rw=%s writes, and %s is not scratch: %s", bench_rw_name(job->rw),
                   dev->name, dev->access);
        return false;
    }
    uint64_t lo = writes ? dev->write_first : 0, hi = writes ? dev->write_end : dev->nblocks;
    if (job->offset % bsz || job->size % bsz) {
        ktest_skip(u->t, "offset=%llu size=%llu: not multiples of %s's %u-byte blocks",
                   (unsigned long long)job->offset, (unsigned long long)job->size, dev->name, bsz);
        return false;
    }
    uint64_t first = job->offset ? job->offset / bsz : lo;
    uint64_t end = job->size ? first + job->size / bsz : hi;
    if (first < lo || end > hi || end < first) {
        ktest_skip(u->t, "offset=%llu size=%llu: blocks %llu..%llu are outside what it may %s "
                   "on %s (blocks %llu..%llu%s)", (unsigned long long)job->offset,
                   (unsigned long long)job->size, (unsigned long long)first,
                   (unsigned long long)end, writes ? "write" : "read", dev->name,
                   (unsigned long long)lo, (unsigned long long)hi,
                   writes ? ", its scratch range" : "");
        return false;
    }
    if (end - first < u->nblk) {
        ktest_skip(u->t, "blocks %llu..%llu of %s hold no %u-byte I/O", (unsigned long long)first,
                   (unsigned long long)end, dev->name, job->bs);
        return false;
    }
    u->first = first;
    u->end = end;
    u->positions = (end - first) / u->nblk;
    u->seq_next = first;
    return true;
}

/* Queue pairs and depth for `ncpus` CPUs (each one pair then): CPUs that
 * share a queue (more CPUs than queues) share its depth. False (skipped)
 * when the job cannot run so. */
static bool plan(struct run *u, unsigned ncpus)
{
    const struct bench_job *job = u->job;
    struct blk_dev *dev = u->dev;

    if (job->irq && !dev->irq_completion) {
        ktest_skip(u->t, "completion=irq, and %s completes by polling (no interrupt: see its "
                   "driver's .irq= key and its boot line)", dev->name);
        return false;
    }
    unsigned sharing = ncpus > 1 && dev->nqueues ? (ncpus + dev->nqueues - 1) / dev->nqueues : 1;
    unsigned depth = dev->queue_depth / sharing;
    u->qpairs = job->qpairs < dev->nqueues ? job->qpairs : dev->nqueues;
    u->depth = job->iodepth < depth ? job->iodepth : depth;
    if (!u->qpairs || !u->depth) {
        ktest_skip(u->t, "%s has %u queues of %u: no room for %u I/Os on each of %u CPUs",
                   dev->name, dev->nqueues, dev->queue_depth, job->iodepth, ncpus);
        return false;
    }
    if (u->qpairs < job->qpairs || u->depth < job->iodepth)
        ktest_diag(u->t, "%s: qpairs=%u iodepth=%u asked, %u x %u run (the device's queues%s)",
                   dev->name, job->qpairs, job->iodepth, u->qpairs, u->depth,
                   sharing > 1 ? ", each shared by CPUs" : "");
    return true;
}

/* Slots and buffers: all before the first I/O. */
static bool set_up(struct run *u)
{
    const struct bench_job *job = u->job;
    struct blk_dev *dev = u->dev;
    unsigned nslots = u->qpairs * u->depth;
    uint64_t bytes = (uint64_t)nslots * job->bs;
    if (bytes > BENCH_BUFFER_MAX) {
        ktest_skip(u->t, "%u I/Os of %u bytes in flight need %llu MiB of buffers (at most %llu)",
                   nslots, job->bs, (unsigned long long)(bytes >> 20),
                   (unsigned long long)(BENCH_BUFFER_MAX >> 20));
        return false;
    }
    /* Plain allocations, not the case's: a request the driver never ends
     * must keep its buffer (see release()). */
    u->state = dma_alloc((uint64_t)nslots * sizeof(struct slot) + u->qpairs * sizeof(struct slot *),
                         0, 0, DMA_ANYWHERE);
    u->data = dma_alloc(bytes, 4096, 0, DMA_BELOW_4G);
    if (!u->state.virt || !u->data.virt) {
        KT_FAIL(u->t, "%llu KiB of DMA memory below 4 GiB for %u buffers of %u bytes were not free",
                (unsigned long long)(bytes >> 10), nslots, job->bs);
        return false;
    }
    if (u->data.phys + bytes > dev->dma_limit) {
        KT_FAIL(u->t, "the buffers at %#llx are beyond what %s can reach (%#llx)",
                (unsigned long long)u->data.phys, dev->name, (unsigned long long)dev->dma_limit);
        return false;
    }
    u->slots = u->state.virt;
    u->done = (struct slot **)(u->slots + nslots);
    for (unsigned i = 0; i < nslots; i++) {
        struct slot *s = &u->slots[i];
        s->done_list = &u->done[i / u->depth];
        s->req.done = slot_done;
        s->req.ctx = s;
        s->offset = (uint64_t)i * job->bs;
        s->seg = (struct blk_seg){ .phys = u->data.phys + s->offset, .len = job->bs };
        s->req.queue = (uint16_t)(i / u->depth);
        s->req.count = u->nblk;
        s->req.segs = &s->seg;
        s->req.nsegs = 1;
    }
    rng_seed(&u->rng, dio_seed() ^ (uint64_t)(uintptr_t)job ^ ((uint64_t)dev->index << 32) ^
                          ((uint64_t)u->rank << 48));
    /* Written data is random, so a device that compresses or deduplicates
     * gains nothing from it; it carries no stamps (the range leaves the
     * manifest afterwards). */
    if (bench_rw_writes(job->rw))
        rng_fill(&u->rng, u->data.virt, bytes);
    return true;
}

/* ---- the fast path ---- */

static enum bench_dir next_dir(struct run *u)
{
    switch (u->job->rw) {
    case BENCH_READ:
    case BENCH_RANDREAD:
        return BENCH_DIR_READ;
    case BENCH_WRITE:
    case BENCH_RANDWRITE:
        return BENCH_DIR_WRITE;
    case BENCH_RANDRW:
        return rng_below(&u->rng, 100) < u->job->rwmixread ? BENCH_DIR_READ : BENCH_DIR_WRITE;
    }
    return BENCH_DIR_READ;
}

static uint64_t next_lba(struct run *u)
{
    if (u->job->rw == BENCH_READ || u->job->rw == BENCH_WRITE) {
        if (u->seq_next + u->nblk > u->end)
            u->seq_next = u->first;
        uint64_t lba = u->seq_next;
        u->seq_next += u->nblk;
        return lba;
    }
    return u->first + rng_below(&u->rng, u->positions) * u->nblk;
}

/* Whether another I/O may start at TSC `now`; moves the phases on. The
 * phases are kept in TSC ticks so that the fast path converts nothing. */
static bool may_submit(struct run *u, uint64_t now)
{
    if (u->stopping)
        return false;
    if (!u->measuring && now >= u->measure_start_tsc) {
        u->measuring = true;
        u->measure_start_ns = time_ns();
        u->stop_tsc = u->job->runtime_ms ? now + u->job->runtime_ms * u->ticks_per_ms : UINT64_MAX;
    }
    if (!u->measuring)
        return true;
    if (u->job->number_ios ? u->to_submit == 0 : now >= u->stop_tsc) {
        u->stopping = true;
        return false;
    }
    return true;
}

static void fail_once(struct run *u, const struct blk_request *req, const char *what)
{
    bench_count_error(u->r, blk_cause_name(req->cause));
    u->stopping = true;
    if (u->failed_reported)
        return;
    u->failed_reported = true;
    blk_report_failure(u->dev, req, what);
    KT_FAIL(u->t, "%s: %s %s at lba %llu: %s (%s): %s", u->dev->name, u->job->name,
            blk_op_name((enum blk_op)req->op), (unsigned long long)req->lba,
            blk_cause_name(req->cause), req->detail, blk_cause_remedy(req->cause));
}

/* Completed requests reach the engine through their done() callback, which
 * pushes the slot on its queue's list: the engine then touches only what
 * completed, never scans the queue. done() runs inside blk_poll() (polled)
 * or in the driver's interrupt handler (irq) — on another CPU when CPUs
 * share a queue, or when the queue's interrupt stays elsewhere — so the push
 * is a compare-and-swap and the engine takes the whole list with an atomic
 * exchange. */
static void slot_done(struct blk_request *req)
{
    struct slot *s = req->ctx;
    struct slot *head = __atomic_load_n(s->done_list, __ATOMIC_RELAXED);
    do
        s->next_done = head;
    while (!__atomic_compare_exchange_n(s->done_list, &head, s, true, __ATOMIC_RELEASE,
                                        __ATOMIC_RELAXED));
}

static struct slot *take_done(struct slot **list)
{
    return __atomic_exchange_n(list, NULL, __ATOMIC_ACQUIRE);
}

/* Starts slot s. */
static void start(struct run *u, struct slot *s)
{
    enum bench_dir dir = next_dir(u);
    s->req.op = dir == BENCH_DIR_READ ? BLK_OP_READ : BLK_OP_WRITE;
    s->req.lba = next_lba(u);
    s->measured = u->measuring;
    if (blk_submit(u->dev, &s->req) != BLK_OK) {
        fail_once(u, &s->req, "bench submit");
        return;
    }
    if (s->measured && u->job->number_ios)
        u->to_submit--;
    s->busy = true;
    u->in_flight++;
}

/* Blocks of a read the harness's map knows, checked against their stamps. */
static void verify_read(struct run *u, struct slot *s)
{
    if (!u->dio)
        return;
    const struct stamp_map *m = &u->dio->map;
    uint64_t known = 0;
    for (uint32_t b = 0; b < u->nblk; b++)
        known += stamp_map_find(m, s->req.lba + b) != NULL;
    u->r->verified_blocks += known;
    if (known && dio_verify(u->t, u->dio, &s->req, (uint8_t *)u->data.virt + s->offset,
                            u->job->name)) {
        bench_count_error(u->r, blk_cause_name(BLK_CAUSE_MISCOMPARE_CORRUPT));
        u->stopping = true;
    }
}

/* A completed slot: counted and checked. */
static void finish(struct run *u, struct slot *s)
{
    struct blk_request *req = &s->req;
    s->busy = false;
    u->in_flight--;
    if (req->cause != BLK_OK) {
        fail_once(u, req, "bench");
        return;
    }
    if (!s->measured)
        return;
    enum bench_dir dir = req->op == BLK_OP_READ ? BENCH_DIR_READ : BENCH_DIR_WRITE;
    struct bench_dir_result *d = &u->r->dir[dir];
    d->ios++;
    d->bytes += u->job->bs;
    hist_record(&u->clat[dir], req->complete_ns - req->submit_ns);
    if (req->complete_ns > u->last_complete_ns)
        u->last_complete_ns = req->complete_ns;
    if (u->job->verify && dir == BENCH_DIR_READ)
        verify_read(u, s);
}

/* Queue q's completed slots, finished and started again, one kick for all.
 * `t` is the TSC when the poll that found them began; four TSC reads per
 * batch split the time into completion, submission and doorbell. Returns
 * how many completed. */
static unsigned reap(struct run *u, unsigned q, uint64_t t)
{
    struct slot *list = take_done(&u->done[q]);
    if (!list)
        return 0;
    unsigned n = 0, started = 0;
    for (struct slot *s = list; s; s = s->next_done) {
        finish(u, s);
        n++;
    }
    uint64_t t1 = tsc_read();
    u->r->complete_ns += t1 - t;
    u->r->complete_ios += n;
    /* A started slot may complete (and be pushed on the list again, its
     * link rewritten) before this loop moves on: a driver may ring its
     * doorbell in submit, and completion=irq reaps in the handler. */
    for (struct slot *s = list, *next; s; s = next) {
        next = s->next_done;
        if (!may_submit(u, t1))
            break;
        start(u, s);
        started += s->busy;
    }
    if (started) {
        uint64_t t2 = tsc_read();
        blk_kick(u->dev, u->qbase + q);
        u->r->kicks++;
        u->r->submit_ns += t2 - t1;
        u->r->doorbell_ns += tsc_read() - t2;
        u->r->submit_ios += started;
    }
    return n;
}

/* The driver's deadline and its recovery, then a bound of our own: a
 * request the driver never ends is a failure, never a hang. */
static uint64_t stall_bound_ms(const struct blk_dev *dev)
{
    return (uint64_t)dev->timeout_ms * 2 + 20000;
}

static void fill(struct run *u)
{
    for (unsigned q = 0; q < u->qpairs; q++) {
        unsigned started = 0;
        uint64_t t0 = tsc_read();
        for (unsigned i = 0; i < u->depth && may_submit(u, tsc_read()); i++) {
            struct slot *s = &u->slots[q * u->depth + i];
            start(u, s);
            started += s->busy;
        }
        uint64_t t1 = tsc_read();
        if (started) {
            blk_kick(u->dev, u->qbase + q);
            u->r->kicks++;
        }
        u->r->submit_ns += t1 - t0;
        u->r->doorbell_ns += tsc_read() - t1;
        u->r->submit_ios += started;
    }
}

/* A polled job runs with interrupts off, so the harness's timer cannot kick
 * a hardware watchdog (kernel/watchdog.h): the loop does, once a second —
 * a port write per second is nothing next to the I/O. */
#define BENCH_KICK_MS 1000

static inline void keep_watchdog(uint64_t now, uint64_t *last, uint64_t every)
{
    if (now - *last >= every) {
        watchdog_kick();
        *last = now;
    }
}

/* For smp_halt_until(): a completion the handler left for reap(). */
static bool any_done(void *arg)
{
    struct run *u = arg;
    for (unsigned q = 0; q < u->qpairs; q++)
        if (__atomic_load_n(&u->done[q], __ATOMIC_ACQUIRE))
            return true;
    return false;
}

/* completion=irq: NULL when a wait here may sleep for every queue this CPU
 * uses (blk_wait_spins_why()), otherwise why it spins. */
static const char *why_not_asleep(const struct run *u)
{
    for (unsigned q = 0; q < u->qpairs; q++) {
        const char *why = blk_wait_spins_why(u->dev, u->qbase + q);
        if (why)
            return why;
    }
    return NULL;
}

static void run_loop(struct run *u)
{
    u->awake_why = u->job->irq ? why_not_asleep(u) : "";
    uint64_t bound = stall_bound_ms(u->dev) * u->ticks_per_ms;
    uint64_t irq_poll = BENCH_IRQ_POLL_NS / 1000000 * u->ticks_per_ms;
    uint64_t t = tsc_read(), last_progress = t, last_poll = t, last_kick = t;
    /* The BSP's share kicks the watchdog; the others leave it to it. */
    uint64_t kick_every = u->rank ? UINT64_MAX : BENCH_KICK_MS * u->ticks_per_ms;

    fill(u);
    while (u->in_flight) {
        unsigned progress = 0;
        keep_watchdog(tsc_read(), &last_kick, kick_every);
        for (unsigned q = 0; q < u->qpairs; q++) {
            /* Polled: the poll reaps (and calls done()); irq: the handler
             * did. Either way the time from here is bareio's. */
            t = tsc_read();
            if (!u->job->irq)
                blk_poll(u->dev, u->qbase + q);
            progress += reap(u, q, t);
        }
        if (progress) {
            last_progress = t;
            continue;
        }
        t = tsc_read();
        if (u->job->irq && t - last_poll >= irq_poll) {
            for (unsigned q = 0; q < u->qpairs; q++)
                blk_poll(u->dev, u->qbase + q);
            last_poll = t;
        }
        if (t - last_progress > bound) {
            KT_FAIL(u->t, "%s: %u I/Os of %s still in flight after %llu ms with no completion "
                    "(the driver did not end them)", u->dev->name, u->in_flight, u->job->name,
                    (unsigned long long)stall_bound_ms(u->dev));
            bench_count_error(u->r, blk_cause_name(BLK_CAUSE_TIMEOUT));
            return;
        }
        /* An AP its interrupts reach sleeps until the next one (bounded
         * by its own timer at the poll interval): a CPU spinning here takes
         * a host core from the device model when QEMU has more vCPUs than
         * host CPUs. The BSP keeps spinning (its timer is the harness's). */
        if (!u->awake_why)
            u->slept += smp_halt_until(any_done, u, BENCH_IRQ_POLL_NS);
        else if (u->job->irq)
            cpu_pause();
    }
}

/* The buffers go back, unless a request still holds one (the device may
 * still move data into it: kept, and said). */
static void release(struct run *u)
{
    if (u->in_flight) {
        ktest_diag(u->t, "%s: %u requests never ended: their %llu KiB of buffers stay allocated",
                   u->dev->name, u->in_flight, (unsigned long long)(u->data.size >> 10));
        return;
    }
    dma_free(&u->data);
    dma_free(&u->state);
}

/* ---- several CPUs ----
 *
 * cpus=N: every CPU taking part runs the fast path above on its own queue
 * pair (blk_queue_of_cpu() there; with more CPUs than queues, CPUs share
 * one and its depth), with its own slots, buffers, random stream, counts
 * and histograms: the CPUs share nothing on the fast path but the device.
 * The BSP runs rank 0 itself and gives each other CPU its share through
 * smp_call(); an AP works under a stand-in of the case (ktest_standin_begin)
 * with its output captured, emitted in rank order after the BSP's, so the
 * report reads the same every run. All start at one TSC instant; the job's
 * figures are the sums over the span from the earliest start of measuring
 * to the last completion on any CPU (fio's group_reporting). */

#define BENCH_GO_MS             20      /* from posting the shares to the common start */
#define BENCH_CAPTURE_BYTES     8192    /* an AP's report: a failure record or a few diags */

struct share {
    struct run u;
    struct bench_result r;
    struct hist clat[BENCH_DIRS];
    struct ktest *case_t;           /* the case; an AP's u.t is its stand-in */
    void *standin_mem;
    struct console_capture cap;
    uint64_t go_tsc;
    unsigned cpu;                   /* its index (smp_cpu()) */
    bool captured;
    volatile bool finished;
    char capbuf[BENCH_CAPTURE_BYTES];
};

/* One share of the job, on the CPU it was given to. */
static void share_run(struct run *u)
{
    const struct bench_job *job = u->job;
    u->ticks_per_ms = tsc_frequency_hz() / 1000;
    uint64_t flags = job->irq ? 0 : irq_save();
    run_loop(u);
    if (!job->irq)
        irq_restore(flags);
}

static void share_work(void *arg)
{
    struct share *s = arg;
    struct run *u = &s->u;
    if (u->rank) {
        s->captured = console_capture_begin(&s->cap, s->capbuf, sizeof s->capbuf);
        u->t = ktest_standin_begin(s->standin_mem, s->case_t);
    }
    u->qbase = blk_queue_of_cpu(u->dev);
    for (unsigned i = 0; i < u->qpairs * u->depth; i++)
        u->slots[i].req.queue = (uint16_t)(u->qbase + i / u->depth);
    while (tsc_read() < s->go_tsc)
        cpu_pause();
    share_run(u);
    if (s->captured)
        console_capture_end();
    __atomic_store_n(&s->finished, true, __ATOMIC_RELEASE);
}

/* How many CPUs run the job, each said where fewer run than asked; the
 * ranks (places among the online CPUs) of the CPUs that take part in
 * rank_of[0..n), the BSP first. */
static unsigned cpus_for(struct ktest *t, const struct bench_job *job, const struct blk_dev *dev,
                         unsigned *rank_of, unsigned max)
{
    unsigned online = smp_online_count(), want = job->cpus ? job->cpus : online;
    if (want == 1)
        return rank_of[0] = 0, 1;
    if (!dev->any_cpu) {
        ktest_diag(t, "%s: cpus=%u asked, 1 run: its driver takes requests on one CPU only",
                   dev->name, want);
        return rank_of[0] = 0, 1;
    }
    if (want > online)
        ktest_diag(t, "%s: cpus=%u asked, %u online: %u run", dev->name, want, online, online);
    if (want > max)
        ktest_diag(t, "%s: %u CPUs asked, the engine drives at most %u: the first %u run",
                   dev->name, want, max, max);
    unsigned n = 0;
    for (unsigned k = 0; k < online && n < want && n < max; k++) {
        if (k && !smp_call_done(smp_online_cpu(k))) {
            ktest_diag(t, "cpu %u (APIC id %u) is still running work of an earlier case: left "
                       "out", k, smp_online_apic_id(k));
            continue;
        }
        rank_of[n++] = k;
    }
    if (job->number_ios && n > job->number_ios) {
        ktest_diag(t, "number_ios=%llu: %llu CPUs run", (unsigned long long)job->number_ios,
                   (unsigned long long)job->number_ios);
        n = (unsigned)job->number_ios;
    }
    return n;
}

/* A share's figures into the job's. */
static void add_share(struct bench_result *r, const struct share *s)
{
    const struct bench_result *q = &s->r;
    for (unsigned d = 0; d < BENCH_DIRS; d++) {
        r->dir[d].ios += q->dir[d].ios;
        r->dir[d].bytes += q->dir[d].bytes;
        hist_merge(&clat[d], &s->clat[d]);
    }
    r->submit_ns += q->submit_ns;
    r->submit_ios += q->submit_ios;
    r->doorbell_ns += q->doorbell_ns;
    r->kicks += q->kicks;
    r->complete_ns += q->complete_ns;
    r->complete_ios += q->complete_ios;
    r->verified_blocks += q->verified_blocks;
    bench_merge_errors(r, q);
}

/* What one CPU did, for the report: the queue its requests went to (its
 * first slot's: a share's slots are all on one), its I/Os and rate. */
static void diag_share(struct ktest *t, const struct share *s)
{
    const struct run *u = &s->u;
    uint64_t ios = s->r.dir[BENCH_DIR_READ].ios + s->r.dir[BENCH_DIR_WRITE].ios;
    uint64_t ns = u->measuring && u->last_complete_ns > u->measure_start_ns
                      ? u->last_complete_ns - u->measure_start_ns : 0;
    char iops[24];
    bench_format_count(iops, sizeof iops, bench_iops_milli(ios, ns));
    char waited[96] = "";
    if (u->job->irq && !u->awake_why)
        snprintf(waited, sizeof waited, ", slept %llu times between interrupts",
                 (unsigned long long)u->slept);
    else if (u->job->irq)
        snprintf(waited, sizeof waited, ", spun: %s", u->awake_why);
    ktest_diag(t, "  cpu %u (APIC id %u): blk queue %u, %llu I/Os, IOPS=%s%s", u->rank,
               smp_online_apic_id(u->rank), u->slots[0].req.queue, (unsigned long long)ios, iops,
               waited);
}

/* The BSP's wait for an AP's share, up to a second before the case's own
 * deadline (its timer would end the case with the AP still in our memory).
 * False: the share still runs, and keeps its memory. */
static bool share_wait(struct ktest *t, struct share *s)
{
    uint64_t deadline = ktest_deadline_ns(t);
    deadline = deadline > 1000000000ull ? deadline - 1000000000ull : 0;
    if (smp_call_wait(s->cpu, deadline) && __atomic_load_n(&s->finished, __ATOMIC_ACQUIRE)) {
        if (s->captured)
            console_capture_emit(&s->cap);
        ktest_standin_end(t, s->u.t);
        return true;
    }
    if (s->captured)
        console_capture_abandon(&s->cap);
    KT_FAIL(t, "cpu %u (APIC id %u): its share of %s on %s still ran at the case's deadline: "
            "given up there (its memory stays allocated)", s->u.rank,
            smp_online_apic_id(s->u.rank), s->u.job->name, s->u.dev->name);
    return false;
}

bool bench_run(struct ktest *t, const struct bench_job *job, struct blk_dev *dev,
               struct bench_result *r)
{
    struct run proto = { .t = t, .job = job, .dev = dev, .r = r };
    *r = (struct bench_result){ .job = job->name, .device = dev->name, .kind = dev->kind,
                                .rw = bench_rw_name(job->rw), .bs = job->bs, .irq = job->irq,
                                .verify = job->verify };
    for (unsigned d = 0; d < BENCH_DIRS; d++) {
        hist_init(&clat[d]);
        r->dir[d].clat = &clat[d];
    }
    if (job->verify) {
        const char *why = "";
        if (!dio_prepare(&why)) {
            ktest_skip(t, "verify=1: the harness has no record of %s's data: %s", dev->name, why);
            return false;
        }
    }
    proto.dio = dio_of(dev);
    static unsigned rank_of[BENCH_CPUS_MAX];
    unsigned n = cpus_for(t, job, dev, rank_of, BENCH_CPUS_MAX);
    if (!choose_range(&proto) || !plan(&proto, n))
        return false;

    /* The shares' memory: one region, each share's stand-in after it. */
    uint64_t standin = (ktest_standin_size() + 63) & ~63ull;
    uint64_t stride = ((sizeof(struct share) + 63) & ~63ull) + standin;
    struct dma_region mem = dma_alloc(stride * n, 64, 0, DMA_ANYWHERE);
    if (!mem.virt) {
        KT_FAIL(t, "%llu KiB for the bookkeeping of %u CPUs were not free",
                (unsigned long long)(stride * n >> 10), n);
        return false;
    }
    static struct share *shares[BENCH_CPUS_MAX];  /* the BSP's alone: cases run there */
    static bool running[BENCH_CPUS_MAX];           /* posted, and not finished by the wait */
    bool set = true;
    for (unsigned i = 0; i < n; i++) {
        struct share *s = shares[i] = (struct share *)((uint8_t *)mem.virt + stride * i);
        memset(s, 0, sizeof *s);
        s->u = proto;
        s->u.r = &s->r;
        s->u.clat = s->clat;
        s->u.rank = rank_of[i];
        s->u.to_submit = job->number_ios / n + (i < job->number_ios % n);
        s->case_t = t;
        s->standin_mem = (uint8_t *)s + stride - standin;
        running[i] = false;
        s->cpu = smp_online_cpu(rank_of[i]);
        for (unsigned d = 0; d < BENCH_DIRS; d++)
            hist_init(&s->clat[d]);
        if (set && !set_up(&s->u))
            set = false;
    }
    bool kept = false;      /* an AP still runs its share: the memory stays */
    if (set) {
        uint64_t ticks_per_ms = tsc_frequency_hz() / 1000;
        uint64_t go = tsc_read() + (n > 1 ? BENCH_GO_MS * ticks_per_ms : 0);
        for (unsigned i = 0; i < n; i++) {
            shares[i]->go_tsc = go;
            shares[i]->u.measure_start_tsc = go + job->ramp_ms * ticks_per_ms;
        }
        for (unsigned i = 1; i < n; i++) {
            running[i] = smp_call(shares[i]->cpu, share_work, shares[i]);
            if (!running[i])
                KT_FAIL(t, "cpu %u (APIC id %u) took no work: still busy with earlier work",
                        rank_of[i], smp_online_apic_id(rank_of[i]));
        }
        share_work(shares[0]);
        unsigned ran = 1;
        bool measured = false;
        uint64_t first_ns = UINT64_MAX, last_ns = 0;
        for (unsigned i = 0; i < n; i++) {
            struct share *s = shares[i];
            if (i && !running[i])
                continue;
            if (i && !share_wait(t, s)) {
                kept = true;
                continue;
            }
            running[i] = false;
            ran += i > 0;
            add_share(r, s);
            if (n > 1)
                diag_share(t, s);
            if (s->u.measuring) {
                measured = true;
                first_ns = s->u.measure_start_ns < first_ns ? s->u.measure_start_ns : first_ns;
            }
            last_ns = s->u.last_complete_ns > last_ns ? s->u.last_complete_ns : last_ns;
        }
        r->iodepth = proto.depth;
        r->qpairs = proto.qpairs;
        r->cpus = ran;
        r->elapsed_ns = measured && last_ns > first_ns ? last_ns - first_ns : 0;
        r->submit_ns = tsc_ticks_to_ns(r->submit_ns);
        r->doorbell_ns = tsc_ticks_to_ns(r->doorbell_ns);
        r->complete_ns = tsc_ticks_to_ns(r->complete_ns);
        if (bench_rw_writes(job->rw) && proto.dio)
            dio_forget(proto.dio, proto.first, proto.end - proto.first);
        if (bench_rw_writes(job->rw))
            ktest_diag(t, "%s: blocks %llu..%llu now hold benchmark data%s", dev->name,
                       (unsigned long long)proto.first, (unsigned long long)proto.end,
                       proto.dio ? " (left out of the manifest)" : "");
    }
    for (unsigned i = 0; i < n; i++) {
        if (running[i])
            continue;
        shares[i]->u.t = t;
        release(&shares[i]->u);
    }
    if (!kept)
        dma_free(&mem);
    return set;
}

/* ---- the reference: the least a caller of the block interface can do ----
 *
 * What the engine is measured against (issue 13: within 5 % of it): the same
 * requests, buffers and completion lists, random reads, each completion
 * resubmitted at once and kicked once per poll that reaped, with nothing
 * counted, timed or checked per I/O. Interrupts off, as a polled job. */
bool bench_bare_loop(struct ktest *t, struct blk_dev *dev, uint32_t bs, unsigned depth,
                     uint64_t ios, uint64_t *elapsed_ns, uint64_t *kicks)
{
    struct bench_job job = { .rw = BENCH_RANDREAD, .bs = bs, .iodepth = depth, .qpairs = 1,
                             .number_ios = ios };
    struct bench_result r;
    struct run u = { .t = t, .job = &job, .dev = dev, .r = &r };
    memset(&r, 0, sizeof r);
    snprintf(job.name, sizeof job.name, "bare");
    if (!choose_range(&u) || !plan(&u, 1))
        return false;
    if (!set_up(&u)) {
        release(&u);
        return false;
    }
    uint64_t flags = irq_save();
    uint64_t submitted = 0, completed = 0, bad = 0;
    uint64_t bound = stall_bound_ms(dev) * (tsc_frequency_hz() / 1000);
    uint64_t start_ns = time_ns();
    for (unsigned i = 0; i < u.depth && submitted < ios; i++, submitted++) {
        struct slot *s = &u.slots[i];
        s->req.op = BLK_OP_READ;
        s->req.lba = u.first + rng_below(&u.rng, u.positions) * u.nblk;
        if (blk_submit(dev, &s->req) != BLK_OK) {
            bad++;
            break;
        }
        u.in_flight++;
    }
    blk_kick(dev, 0);
    *kicks = 1;
    uint64_t last = tsc_read(), last_kick = last;
    uint64_t kick_every = BENCH_KICK_MS * (tsc_frequency_hz() / 1000);
    /* After a failure nothing more is submitted, but what is in flight is
     * still reaped: a request left in the driver would hold its buffer. */
    while (u.in_flight) {
        keep_watchdog(tsc_read(), &last_kick, kick_every);
        blk_poll(dev, 0);
        struct slot *list = take_done(&u.done[0]);
        if (!list) {
            if (tsc_read() - last > bound)
                break;
            continue;
        }
        unsigned again = 0;
        for (struct slot *s = list, *next; s; s = next) {
            next = s->next_done;
            u.in_flight--;
            completed++;
            bad += s->req.cause != BLK_OK;
            if (submitted == ios || bad)
                continue;
            s->req.lba = u.first + rng_below(&u.rng, u.positions) * u.nblk;
            if (blk_submit(dev, &s->req) != BLK_OK) {
                bad++;
                continue;
            }
            u.in_flight++;
            submitted++;
            again++;
        }
        if (again) {
            blk_kick(dev, 0);
            (*kicks)++;
        }
        last = tsc_read();
    }
    *elapsed_ns = time_ns() - start_ns;
    irq_restore(flags);
    if (bad || u.in_flight || completed != ios)
        KT_FAIL(t, "%s: the bare loop completed %llu of %llu reads (%llu failed, %u never ended)",
                dev->name, (unsigned long long)completed, (unsigned long long)ios,
                (unsigned long long)bad, u.in_flight);
    release(&u);
    return !ktest_failed(t);
}
