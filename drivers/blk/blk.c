/* SPDX-License-Identifier: MIT */
/* drivers/blk/blk.c — the block layer: device table, driver start-up, the
 * device-independent checks every request passes before a driver sees it
 * (including the write gate that keeps non-scratch disks untouched), the
 * trace ring and the structured failure record. The interface and its rules
 * are described in drivers/blk/blk.h.
 *
 * Locking rule: the device table is written only by blk_init() on the BSP,
 * before any AP takes work, and read-only after; a device's own fields
 * (submitted, its requests) belong to the CPU driving it (blk_dev.cpu_group).
 * trace_lock guards the trace ring's slot claim and entry, from any CPU;
 * blk_trace_print() reads without it (a report, racing only with entries of
 * devices it does not print when its caller drives the device). */
#include "drivers/blk/access.h"
#include "drivers/blk/blk.h"
#include "drivers/blk/check.h"
#include "drivers/pci/pci.h"
#include "kernel/cmdline.h"
#include "kernel/console.h"
#include "kernel/io.h"
#include "kernel/leftout.h"
#include "kernel/memory.h"
#include "kernel/screen.h"
#include "kernel/smp.h"
#include "kernel/spinlock.h"
#include "kernel/stage.h"
#include "kernel/time.h"
#include "lib/crc.h"
#include "lib/format.h"
#include "lib/glob.h"
#include "lib/scratch.h"
#include "lib/string.h"

#include <stdarg.h>

#define BLK_FIRST_CAPACITY 64     /* device slots before the table first grows */

CMDLINE_UINT(uint32_t, blk_timeout_ms, "blk.timeout", 30000, 10, 600000,
             "per-command deadline in milliseconds before a driver aborts and recovers");
CMDLINE_GLOBS(blk_allow_write, "allow_write", 256, "",
              "serial numbers (globs) of devices that may be written although they carry "
              "no scratch label");
CMDLINE_STRING(blk_boot_id, "bootid", 40, "",
               "set by tools/mkiso: the ISO whose volume id is BAREIO_<bootid> is the boot "
               "medium, never written");
/* Grows as devices come (doubling, copied): a machine with hundreds of
 * namespaces gets every one of them. */
static struct blk_dev **devices;
static unsigned device_count, device_capacity;


/* ---- trace ring ---- */

static struct spinlock trace_lock = SPINLOCK_INIT("blk.trace");
static struct blk_trace_entry trace[BLK_TRACE_SIZE];
static unsigned trace_next;     /* total entries ever written */

static void trace_record(const struct blk_dev *dev, const struct blk_request *req, bool completion)
{
    uint64_t flags = spin_lock(&trace_lock);
    struct blk_trace_entry *e = &trace[trace_next++ % BLK_TRACE_SIZE];

    e->t_ns = time_ns();
    e->dev = dev->index;
    e->op = req->op;
    e->completion = completion;
    e->cause = (uint8_t)req->cause;
    e->count = req->count;
    e->lba = req->lba;
    e->dev_status = req->dev_status;
    spin_unlock(&trace_lock, flags);
}

void blk_trace_print(const struct blk_dev *dev, unsigned n)
{
    unsigned total = trace_next, avail = total < BLK_TRACE_SIZE ? total : BLK_TRACE_SIZE;
    unsigned shown = 0, start;

    /* Find where the last n matching entries begin. */
    start = total;
    while (start > total - avail && shown < n) {
        const struct blk_trace_entry *e = &trace[(start - 1) % BLK_TRACE_SIZE];
        start--;
        if (!dev || e->dev == dev->index)
            shown++;
    }
    for (unsigned i = start; i < total; i++) {
        const struct blk_trace_entry *e = &trace[i % BLK_TRACE_SIZE];
        if (dev && e->dev != dev->index)
            continue;
        klog(LOG_INFO, "  trace %llu.%06llu ms %s %s %s lba %llu count %u%s%s status 0x%x\n",
             (unsigned long long)(e->t_ns / 1000000), (unsigned long long)(e->t_ns % 1000000),
             e->dev < device_count ? devices[e->dev]->name : "?",
             e->completion ? "done  " : "submit", blk_op_name(e->op),
             (unsigned long long)e->lba, e->count,
             e->completion ? " -> " : "", e->completion ? blk_cause_name(e->cause) : "",
             e->dev_status);
    }
}

/* ---- device table and access decision ---- */

unsigned blk_count(void) { return device_count; }

struct blk_dev *blk_get(unsigned index) { return index < device_count ? devices[index] : NULL; }

struct blk_dev *blk_find(const char *name)
{
    for (unsigned i = 0; i < device_count; i++)
        if (strcmp(devices[i]->name, name) == 0)
            return devices[i];
    return NULL;
}

static bool dev_consistent(const struct blk_dev *dev)
{
    uint32_t bs = dev->block_size;
    return dev->ops && dev->ops->submit && dev->ops->kick && dev->ops->poll &&
           bs >= 512 && bs <= 65536 && (bs & (bs - 1)) == 0 && dev->nblocks > 0 &&
           dev->nblocks <= UINT64_MAX / bs && dev->max_segs > 0 &&
           dev->addr_align > 0 && dev->len_align > 0 && dev->nqueues > 0 &&
           dev->queue_depth > 0 && dev->dma_limit > 0;
}

/* The access rule's reads (drivers/blk/access.h): count blocks at lba into
 * buf, which is ctx's DMA buffer. */
struct access_read {
    struct blk_dev *dev;
    struct dma_region buf;
};

static bool access_read(void *ctx, uint64_t lba, uint32_t count, uint8_t *buf)
{
    struct access_read *r = ctx;
    struct blk_request req;
    struct blk_seg seg = { r->buf.phys, count * r->dev->block_size, 0 };

    return buf == r->buf.virt && (uint64_t)count * r->dev->block_size <= r->buf.size &&
           blk_io(r->dev, &req, BLK_OP_READ, lba, count, &seg, 1, 0) == BLK_OK;
}

/* Decides whether the harness may write the device and where, by the rules
 * of drivers/blk/access.h (boot medium never; scratch label; bareio GPT
 * partition; nothing in use, allow_write= or not; the first blocks of the
 * range opened in no use either). The reason is kept in dev->access. */
static void decide_access(struct blk_dev *dev)
{
    struct access_read r = { dev, { 0 } };
    struct blk_access a;

    dev->writable = false;
    dev->boot_device = false;
    dev->write_first = dev->write_end = 0;
    /* Until a label says otherwise, the identity is a hash of the serial. */
    uint32_t h1 = crc32c(dev->serial, strlen(dev->serial));
    uint32_t h2 = crc32c(dev->model, strlen(dev->model));
    memset(dev->identity, 0, sizeof(dev->identity));
    memcpy(dev->identity, &h1, 4);
    memcpy(dev->identity + 4, &h2, 4);

    r.buf = dma_alloc(BLK_ACCESS_HEAD_MAX, 4096, 0, DMA_BELOW_4G);
    if (!r.buf.virt) {
        snprintf(dev->access, sizeof(dev->access), "read-only: no memory to read its first blocks");
        return;
    }
    bool allowed = dev->serial[0] && blk_allow_write[0] &&
                   glob_list_match(blk_allow_write, dev->serial) != GLOB_LIST_NONE;
    blk_access_decide_device(dev->block_size, dev->nblocks, access_read, &r, r.buf.virt, allowed,
                             blk_boot_id, &a);
    if (dev->read_only_reason[0] && a.writable) {
        char was[sizeof(a.how)];
        strlcpy(was, a.how, sizeof(was));
        a.writable = false;
        a.write_first = a.write_end = 0;
        snprintf(a.reason, sizeof(a.reason), "read-only: %s (though marked scratch: %s)",
                 dev->read_only_reason, was);
    }
    blk_access_apply(dev, &a);
    dma_free(&r.buf);
}

/* Room for one more device; false (and said) when memory is short. */
static bool table_room(const struct blk_dev *dev)
{
    if (device_count < device_capacity)
        return true;
    unsigned capacity = device_capacity ? 2 * device_capacity : BLK_FIRST_CAPACITY;
    struct blk_dev **grown = memory_alloc_state((uint64_t)capacity * sizeof(*grown));
    if (!grown) {
        leftout_report("blk: %s not registered: no memory to grow the device table past %u",
                       dev->name, device_capacity);
        return false;
    }
    for (unsigned i = 0; i < device_count; i++)
        grown[i] = devices[i];
    devices = grown;        /* the old table stays allocated: state is never freed */
    device_capacity = capacity;
    return true;
}

bool blk_register(struct blk_dev *dev)
{
    if (!table_room(dev))
        return false;
    if (!dev_consistent(dev)) {
        leftout_report("blk: %s not registered: its driver described it inconsistently (block "
                       "size %u, %llu blocks)", dev->name, dev->block_size,
                       (unsigned long long)dev->nblocks);
        return false;
    }
    const struct blk_driver *drv = blk_dev_driver(dev);
    if (drv)
        dev->kind = drv->name;
    if (!dev->cpu_group)
        dev->cpu_group = dev->pci ? (const void *)dev->pci : (const void *)dev;
    else if (!dev->kind)
        dev->kind = "unknown";
    dev->index = device_count;
    dev->timeout_ms = blk_timeout_ms;
    devices[device_count++] = dev;
    decide_access(dev);
    klog(LOG_INFO, "%s: %s\n", dev->name, dev->access);
    return true;
}

/* One line per built-in driver after they all started: what it found, so a
 * driver that took nothing is said, not silent. */
static void print_driver_summary(const struct blk_driver *drv)
{
    unsigned devs = 0, failed = 0, disks_out = 0;
    for (unsigned i = 0; i < device_count; i++)
        devs += blk_dev_driver(devices[i]) == drv;
    for (unsigned i = 0; i < blk_controller_fault_count(); i++) {
        const struct blk_controller_fault *f = blk_controller_fault_at(i);
        if (blk_pci_matches(drv, f->pci))
            *(f->disk ? &disks_out : &failed) += 1;
    }
    if (drv->match)
        klog(LOG_INFO, "blk: driver %s: %u controller(s) on PCI, %u failed bring-up, %u "
             "device(s) registered%s\n", drv->name, blk_pci_count(drv), failed, devs,
             disks_out ? ", some disks left out (said above)" : "");
    else
        klog(LOG_INFO, "blk: driver %s: %u device(s) registered\n", drv->name, devs);
}

void blk_init(void)
{
    for (unsigned i = 0; i < blk_driver_count(); i++)
        blk_driver_at(i)->init(blk_driver_at(i));
    for (unsigned i = 0; i < blk_driver_count(); i++)
        print_driver_summary(blk_driver_at(i));
}

/* The storage drivers start after PCI enumeration (kernel/stage.h). */
static int blk_stage(void)
{
    blk_init();                 /* one line per controller and disk */
    return KERNEL_STAGE_CONTINUE;
}
KERNEL_STAGE(20, blk, blk_stage);

void blk_shutdown_all(void)
{
    for (unsigned i = 0; i < device_count; i++)
        if (devices[i]->ops->shutdown)
            devices[i]->ops->shutdown(devices[i]);
}

/* ---- requests ---- */

enum blk_cause blk_submit(struct blk_dev *dev, struct blk_request *req)
{
    enum blk_cause rc;

    req->complete = false;
    req->cause = BLK_OK;
    req->dev_status = 0;
    req->error_lba = req->lba;
    req->bytes = 0;
    req->detail[0] = '\0';
    req->complete_ns = 0;
    rc = blk_check_request(dev, req);
    if (rc != BLK_OK)
        return rc;
    req->submit_ns = time_ns();
    __atomic_add_fetch(&dev->submitted, 1, __ATOMIC_RELAXED);  /* CPUs sharing dev */
    trace_record(dev, req, false);
    rc = dev->ops->submit(dev, req);
    if (rc != BLK_OK && req->cause == BLK_OK)
        req->cause = rc;
    return rc;
}

unsigned blk_queue_of_cpu(const struct blk_dev *dev)
{
    return dev->nqueues ? smp_this_online_rank() % dev->nqueues : 0;
}

const char *blk_wait_spins_why(const struct blk_dev *dev, unsigned queue)
{
    unsigned rank = smp_this_online_rank();
    if (rank == 0)
        return "the BSP";
    if (!dev->ops->irq_apic_id)
        return "its driver does not say where its interrupts go";
    if (dev->ops->irq_apic_id((struct blk_dev *)dev, queue % dev->nqueues) !=
        smp_online_apic_id(rank))
        return "its queue's interrupts go to another CPU";
    return NULL;
}

void blk_kick(struct blk_dev *dev, unsigned queue)
{
    dev->ops->kick(dev, queue % dev->nqueues);
}

unsigned blk_poll(struct blk_dev *dev, unsigned queue)
{
    return dev->ops->poll(dev, queue % dev->nqueues);
}

void blk_complete(struct blk_dev *dev, struct blk_request *req, enum blk_cause cause)
{
    req->cause = cause;
    req->complete_ns = time_ns();
    trace_record(dev, req, true);
    __atomic_store_n(&req->complete, true, __ATOMIC_RELEASE);
    if (req->done)
        req->done(req);
}

/* An AP waiting with interrupts on for a queue whose interrupts it takes
 * sleeps between polls (smp_halt_until), at most BLK_WAIT_SLEEP_NS, so the
 * driver's poll still runs its deadline checks that often; every other wait
 * spins. Under QEMU a spinning vCPU takes a host core from the device
 * model when there are more vCPUs than cores. */
#define BLK_WAIT_SLEEP_NS 1000000ull

static bool request_complete(void *arg)
{
    return __atomic_load_n(&((struct blk_request *)arg)->complete, __ATOMIC_ACQUIRE);
}

enum blk_cause blk_wait(struct blk_dev *dev, struct blk_request *req, uint32_t timeout_ms)
{
    /* The driver's own deadline plus time for its abort and reset. */
    uint64_t bound = timeout_ms ? timeout_ms : (uint64_t)dev->timeout_ms * 2 + 20000;
    uint64_t deadline = deadline_after_ms(bound);
    bool sleeps = irq_enabled() && !blk_wait_spins_why(dev, req->queue);

    while (!__atomic_load_n(&req->complete, __ATOMIC_ACQUIRE)) {
        dev->ops->poll(dev, req->queue % dev->nqueues);
        if (__atomic_load_n(&req->complete, __ATOMIC_ACQUIRE))
            break;
        if (deadline_passed(deadline)) {
            snprintf(req->detail, sizeof(req->detail),
                     "%s never completed the request within %llu ms (driver did not time it out)",
                     dev->name, (unsigned long long)bound);
            req->cause = BLK_CAUSE_TIMEOUT;
            return req->cause;
        }
        if (sleeps && smp_halt_until(request_complete, req, BLK_WAIT_SLEEP_NS))
            __atomic_fetch_add(&dev->wait_sleeps, 1, __ATOMIC_RELAXED);
        else
            cpu_pause();
    }
    return req->cause;
}

enum blk_cause blk_io(struct blk_dev *dev, struct blk_request *req, enum blk_op op, uint64_t lba,
                      uint32_t count, const struct blk_seg *segs, uint32_t nsegs, uint16_t flags)
{
    enum blk_cause rc;

    memset(req, 0, sizeof(*req));
    req->op = (uint8_t)op;
    req->flags = flags;
    req->lba = lba;
    req->count = count;
    req->segs = segs;
    req->nsegs = nsegs;
    req->queue = (uint16_t)blk_queue_of_cpu(dev);
    rc = blk_submit(dev, req);
    if (rc != BLK_OK)
        return rc;
    blk_kick(dev, req->queue);
    return blk_wait(dev, req, 0);
}

/* ---- failure record ---- */

void blk_report_failure(struct blk_dev *dev, const struct blk_request *req, const char *what)
{
    screen_keep_begin();        /* what failed, its cause and remedy stay on the screen */
    klog(LOG_ERR, "FAILURE %s: device %s (%s %s, serial %s)\n", what, dev->name, dev->kind,
         dev->model, dev->serial);
    screen_keep_end();
    klog(LOG_ERR, "  io: %s lba %llu count %u (%llu bytes) flags 0x%x queue %u\n",
         blk_op_name(req->op), (unsigned long long)req->lba, req->count,
         (unsigned long long)req->count * dev->block_size, req->flags, req->queue);
    for (uint32_t i = 0; i < req->nsegs && i < 8 && req->segs; i++)
        klog(LOG_ERR, "  segment %u: phys 0x%llx len %u\n", i,
             (unsigned long long)req->segs[i].phys, req->segs[i].len);
    if (req->nsegs > 8)
        klog(LOG_ERR, "  ... %u segments in all\n", req->nsegs);
    klog(LOG_ERR, "  status: 0x%x %s; error lba %llu; %llu bytes transferred\n",
         req->dev_status, req->detail[0] ? req->detail : "(no detail)",
         (unsigned long long)req->error_lba, (unsigned long long)req->bytes);
    screen_keep_begin();
    klog(LOG_ERR, "  cause: %s\n", blk_cause_name(req->cause));
    klog(LOG_ERR, "  remedy: %s\n", blk_cause_remedy(req->cause));
    screen_keep_end();
    if (dev->ops->describe)
        dev->ops->describe(dev, req);
    klog(LOG_ERR, "  last commands on %s:\n", dev->name);
    blk_trace_print(dev, 8);
}
