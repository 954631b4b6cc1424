/* SPDX-License-Identifier: MIT */
/* drivers/nvme/nvme_ctrl.c — finding and bringing up NVMe controllers
 * (NVMe 1.4 §7.6.1 initialization, §7.3 resets, §7.6.2 shutdown): PCI class
 * 01:08:02, BAR0, CAP/VS checks, disable → admin queue → enable bounded by
 * CAP.TO with CSTS.CFS watched, Identify Controller and namespaces, Doorbell
 * Buffer Config, Number of Queues, I/O queue pairs, one blk_dev per active
 * namespace (as nvme_ns_decide() in nvme_identify.c decides). Also the
 * controller reset used by recovery and the orderly shutdown at the end of
 * a run. Every failure is recorded with blk_controller_failed() and a
 * decoded reason; nothing waits unbounded. The driver's top layer (nvme.h):
 * what nvme_io.c below needs of it, it registers in each controller
 * (struct nvme_ctrl_ops). */
#include "drivers/nvme/nvme.h"
#include "drivers/pci/pci.h"
#include "kernel/cmdline.h"
#include "kernel/console.h"
#include "kernel/io.h"
#include "kernel/leftout.h"
#include "kernel/memory.h"
#include "kernel/mmio.h"
#include "kernel/smp.h"
#include "kernel/time.h"
#include "lib/format.h"
#include "lib/string.h"

static const struct cmdline_word nvme_irq_words[] = {
    { "poll", NVME_IRQ_POLL }, { "msix", NVME_IRQ_MSIX }, { "intx", NVME_IRQ_INTX },
};
CMDLINE_ENUM(nvme_irq_key, "nvme.irq", NVME_IRQ_MSIX, nvme_irq_words,
             "how NVMe completions are noticed: polling, MSI-X, or INTx (pin status polled, "
             "no IOAPIC)");
CMDLINE_UINT(uint16_t, nvme_queues_key, "nvme.queues", 0, 0, NVME_MAX_IO_QUEUES,
             "NVMe I/O queue pairs wanted per controller (0: one per online CPU)");
CMDLINE_UINT(uint16_t, nvme_qdepth_key, "nvme.qdepth", 256, 2, 4096,
             "NVMe I/O queue entries (capped by CAP.MQES)");
CMDLINE_BOOL(nvme_sgl_key, "nvme.sgl", true,
             "send a read or write of one buffer over two pages as one SGL data block when the "
             "controller supports SGLs (Identify SGLS), instead of a PRP list");
CMDLINE_BOOL(nvme_shadow_db_key, "nvme.shadow_db", true,
             "use Doorbell Buffer Config (shadow doorbells) when the controller has it");

#define NVME_CLASS 0x01
#define NVME_SUBCLASS 0x08
#define NVME_PROG_IF 0x02
#define NVME_SHUTDOWN_DEFAULT_MS 10000  /* when RTD3E is 0 */

/* One per NVMe function on PCI, however many (allocated at start-up). */
static struct nvme_ctrl *controllers;
static unsigned nvme_controller_count;

struct nvme_ctrl *nvme_controller(unsigned index)
{
    return index < nvme_controller_count ? &controllers[index] : NULL;
}

/* What the I/O path below asks of this layer (struct nvme_ctrl_ops). */
static bool ctrl_check_fatal(struct nvme_ctrl *c);
static void ctrl_shutdown(struct nvme_ctrl *c);
static const struct nvme_ctrl_ops ctrl_ops = {
    .reset = nvme_ctrl_reset,
    .check_fatal = ctrl_check_fatal,
    .shutdown = ctrl_shutdown,
};

/* INTx is named for what it is: without an IOAPIC driver no interrupt is
 * taken; the pin's state is read from PCI STATUS.IS when the queue is polled. */
static const char *irq_mode_name(enum nvme_irq_mode m)
{
    return m == NVME_IRQ_MSIX ? "msix" : m == NVME_IRQ_INTX ? "intx-polled" : "polled";
}

/* The controller's mode, with what a reduced one shares. */
static const char *ctrl_irq_name(const struct nvme_ctrl *c)
{
    return c->msix_shared ? "msix (1 vector: admin and I/O share it)" : irq_mode_name(c->irq_mode);
}

/* A CSTS.RDY wait that ended without RDY following, in words. */
static enum blk_cause ready_wait_failed(const struct nvme_ctrl *c, enum mmio_wait result,
                                        bool ready, uint32_t csts, char *why, size_t why_size)
{
    char csts_words[120];

    if (result == MMIO_WAIT_GONE) {
        snprintf(why, why_size, "CSTS reads all ones: the controller does not answer");
        return BLK_CAUSE_NOT_READY;
    }
    nvme_decode_csts(csts, csts_words, sizeof(csts_words));
    snprintf(why, why_size, "CSTS.RDY did not become %u within CAP.TO = %u ms (%s)", ready,
             c->timeout_ms, csts_words);
    return BLK_CAUSE_NOT_READY;
}

/* CSTS.RDY = 1 after CC.EN = 1, bounded by CAP.TO (§3.1.1, §7.6.1), and
 * ended at once by CSTS.CFS, which comes with RDY still 0. */
static enum blk_cause wait_ready(struct nvme_ctrl *c, char *why, size_t why_size)
{
    uint32_t csts;
    enum mmio_wait result = mmio_wait32_until(c->regs, NVME_REG_CSTS, NVME_CSTS_RDY, NVME_CSTS_RDY,
                                              NVME_CSTS_CFS, c->timeout_ms, &csts);
    if (result == MMIO_WAIT_OK)
        return BLK_OK;
    if (result == MMIO_WAIT_STOPPED) {
        char csts_words[120];
        nvme_decode_csts(csts, csts_words, sizeof(csts_words));
        snprintf(why, why_size, "controller fatal status while enabling: %s", csts_words);
        return BLK_CAUSE_CONTROLLER_FATAL;
    }
    return ready_wait_failed(c, result, true, csts, why, why_size);
}

/* CSTS.RDY = 0 after CC.EN = 0, bounded by CAP.TO. */
static enum blk_cause wait_not_ready(struct nvme_ctrl *c, char *why, size_t why_size)
{
    uint32_t csts;
    enum mmio_wait result = mmio_wait32(c->regs, NVME_REG_CSTS, NVME_CSTS_RDY, 0, c->timeout_ms,
                                        &csts);
    return result == MMIO_WAIT_OK ? BLK_OK
                                  : ready_wait_failed(c, result, false, csts, why, why_size);
}

/* CC.EN = 0 and CSTS.RDY = 0 (§7.6.1 step 1). A controller still coming up
 * (EN=1, RDY=0) is let finish first: changing EN before RDY follows is undefined. */
static bool nvme_ctrl_disable(struct nvme_ctrl *c, char *why, size_t why_size)
{
    uint32_t cc = mmio_read32(c->regs, NVME_REG_CC), csts = nvme_read_csts(c);
    if ((cc & NVME_CC_EN) && !(csts & NVME_CSTS_RDY) && !(csts & NVME_CSTS_CFS))
        (void)wait_ready(c, why, why_size);
    mmio_write32(c->regs, NVME_REG_CC, cc & ~NVME_CC_EN);
    return wait_not_ready(c, why, why_size) == BLK_OK;
}

/* Disable, program the admin queue, CC, enable and wait for RDY (§7.6.1). */
enum blk_cause nvme_ctrl_enable(struct nvme_ctrl *c, char *why, size_t why_size)
{
    uint16_t depth = c->admin.depth;

    if (!nvme_ctrl_disable(c, why, why_size))
        return BLK_CAUSE_NOT_READY;
    nvme_queue_reset_indexes(&c->admin);
    mmio_write32(c->regs, NVME_REG_AQA, (uint32_t)(depth - 1) << 16 | (uint32_t)(depth - 1));
    mmio_write64(c->regs, NVME_REG_ASQ, c->admin.sq_mem.phys);
    mmio_write64(c->regs, NVME_REG_ACQ, c->admin.cq_mem.phys);
    /* NVM command set, 4 KiB pages (MPS 0), round robin, 64/16-byte entries. */
    uint32_t cc = 0u << NVME_CC_CSS_SHIFT | 0u << NVME_CC_MPS_SHIFT | 0u << NVME_CC_AMS_SHIFT |
                  (uint32_t)NVME_SQES_LOG2 << NVME_CC_IOSQES_SHIFT |
                  (uint32_t)NVME_CQES_LOG2 << NVME_CC_IOCQES_SHIFT;
    mmio_write32(c->regs, NVME_REG_CC, cc);
    mmio_write32(c->regs, NVME_REG_CC, cc | NVME_CC_EN);
    return wait_ready(c, why, why_size);
}

/* Doorbell Buffer Config (§5.7) when the controller has it (OACS bit 8) and
 * nvme.shadow_db=on; a failure only costs MMIO doorbell writes. */
static void setup_shadow_doorbells(struct nvme_ctrl *c)
{
    char words[120];

    c->shadow_doorbells = false;
    if (!nvme_shadow_db_key || !(c->id->oacs & NVME_OACS_DBBUF))
        return;
    uint16_t st = nvme_doorbell_buffer_config(c);
    if (st == 0) {
        c->shadow_doorbells = true;
        return;
    }
    nvme_status_describe(st, words, sizeof(words));
    klog(LOG_WARN, "%s: Doorbell Buffer Config failed: %s; doorbells by MMIO only\n", c->name,
         words);
}

/* At bring-up: as many I/O queue pairs as wanted, Number of Queues granted
 * and the MSI-X table has entries for. Entry 0 is the admin queue's, polled
 * here; each I/O queue gets its own entry after it. A table of one entry is
 * shared: the single I/O queue takes entry 0 too (the admin completions it
 * also signals only cost a spurious reap). Fewer queues than CPUs: CPUs
 * share them (blk_queue_of_cpu: the CPU's rank modulo the count). */
static bool choose_io_queue_count(struct nvme_ctrl *c, uint16_t wanted, uint16_t granted,
                                  char *why, size_t why_size)
{
    c->nio_wanted = wanted;
    c->nio_granted = granted;
    c->nio = wanted < granted ? wanted : granted;
    c->msix_shared = c->irq_mode == NVME_IRQ_MSIX && c->pci->msix_table_size == 1;
    if (c->msix_shared)
        c->nio = 1;
    else if (c->irq_mode == NVME_IRQ_MSIX && c->pci->msix_table_size <= c->nio)
        c->nio = (uint16_t)(c->pci->msix_table_size - 1);
    if (c->nio == 0) {
        snprintf(why, why_size, "no I/O queue pair available (granted %u, MSI-X table %u)",
                 granted, c->pci->msix_table_size);
        return false;
    }
    c->io = memory_alloc_state((uint64_t)c->nio * sizeof(*c->io));
    if (!c->io) {
        snprintf(why, why_size, "no memory for the state of %u I/O queue pairs", c->nio);
        return false;
    }
    return true;
}

/* How the queues sit with the CPUs, for the boot line. */
static void format_queue_cpus(const struct nvme_ctrl *c, char *buf, size_t size)
{
    unsigned cpus = c->cpus_at_bring_up;
    const char *s = cpus == 1 ? "" : "s";
    if (c->nio == cpus)
        snprintf(buf, size, "one per CPU (%u CPU%s)", cpus, s);
    else if (c->nio < cpus)
        snprintf(buf, size, "shared by %u CPU%s (%u wanted)", cpus, s, c->nio_wanted);
    else
        snprintf(buf, size, "%u more than the %u CPU%s (nvme.queues=%u)", c->nio - cpus, cpus, s,
                 c->nio_wanted);
}

/* PRP list pages each command slot gets: enough for the largest transfer
 * from the worst start, a dword before a page boundary (at least one, the
 * DSM range's page). */
static uint32_t prp_pages_per_command(const struct nvme_ctrl *c)
{
    uint64_t worst = (uint64_t)c->max_transfer_bytes * 2;
    uint32_t pages = nvme_prp_list_pages_for(nvme_prp_entry_count(NVME_PAGE_SIZE - 4, worst,
                                                                  NVME_PAGE_SIZE),
                                             NVME_PAGE_SIZE);
    return pages ? pages : 1;
}

/* I/O queue pair i + 1: its memory and completion mode at bring-up (first),
 * emptied after a reset; then Create I/O Completion and Submission Queue. */
static bool create_io_queue(struct nvme_ctrl *c, uint16_t i, bool first, char *why,
                            size_t why_size)
{
    struct nvme_queue *q = &c->io[i];
    char words[120];

    if (first) {
        if (!nvme_queue_alloc(c, q, (uint16_t)(i + 1), c->queue_depth, prp_pages_per_command(c))) {
            snprintf(why, why_size, "no memory for I/O queue %u", i + 1);
            return false;
        }
        nvme_io_irq_setup(c, q);
    } else {
        nvme_queue_reset_indexes(q);
    }
    uint16_t vector = q->irq_mode == NVME_IRQ_MSIX ? q->msix_index : 0;
    uint16_t st = nvme_create_io_queues(c, q, vector);
    if (st) {
        nvme_status_describe(st, words, sizeof(words));
        snprintf(why, why_size, "creating I/O queue pair %u (depth %u) failed: %s", q->qid,
                 q->depth, words);
        return false;
    }
    return true;
}

/* Doorbell Buffer Config, Number of Queues, I/O queue pairs: at bring-up
 * (first) and after every reset. */
static bool setup_io_queues(struct nvme_ctrl *c, bool first, char *why, size_t why_size)
{
    uint16_t granted = 0;
    char words[120];

    setup_shadow_doorbells(c);
    /* SGLS 10b asks data blocks to be dword aligned and sized: segments
     * already are (addr_align and len_align 4). */
    unsigned sgls = NVME_SGLS_SUPPORT(c->id->sgls);
    c->sgl = nvme_sgl_key && (sgls == 1 || sgls == 2);
    if (first) {
        unsigned cpus = smp_online_count();
        c->cpus_at_bring_up = (uint16_t)(cpus < NVME_MAX_IO_QUEUES ? cpus : NVME_MAX_IO_QUEUES);
    }
    uint16_t wanted = !first ? c->nio : nvme_queues_key ? nvme_queues_key : c->cpus_at_bring_up;
    uint16_t st = nvme_set_number_of_queues(c, wanted, &granted);
    if (st) {
        nvme_status_describe(st, words, sizeof(words));
        snprintf(why, why_size, "Set Features (Number of Queues) failed: %s", words);
        return false;
    }
    if (first && !choose_io_queue_count(c, wanted, granted, why, why_size))
        return false;
    for (uint16_t i = 0; i < c->nio; i++)
        if (!create_io_queue(c, i, first, why, why_size))
            return false;
    return true;
}

/* ---- namespaces ---- */

/* "512KiB" (as in the boot line) or "unlimited". */
static void format_mdts(const struct nvme_ctrl *c, char *buf, size_t size)
{
    char spaced[24];
    if (!c->mdts_bytes) {
        strlcpy(buf, "unlimited", size);
        return;
    }
    blk_format_size(spaced, sizeof(spaced), c->mdts_bytes);
    size_t n = 0;
    for (const char *p = spaced; *p && n + 1 < size; p++)
        if (*p != ' ')
            buf[n++] = *p;
    buf[n] = '\0';
}

/* The I/O command set of namespace nsid, from its Namespace Identification
 * Descriptor list (NVMe 1.3 and later have the list, 2.0 the CSI
 * descriptor): -1 when there is no list or no CSI in it (an NVM namespace,
 * the set before NVMe 2.0). For a zoned one (NVMe ZNS) *zone_blocks is its
 * zone size in LBA format `format`, 0 when the controller does not say. The
 * scratch page is reused: the caller has read its Identify data first. */
static int namespace_command_set(struct nvme_ctrl *c, uint32_t nsid, unsigned format,
                                 uint64_t *zone_blocks)
{
    *zone_blocks = 0;
    if (NVME_VS_MAJOR(c->vs) < 1 || (NVME_VS_MAJOR(c->vs) == 1 && NVME_VS_MINOR(c->vs) < 3))
        return -1;
    if (nvme_identify(c, NVME_IDENTIFY_CNS_NS_DESCRIPTORS, nsid, c->scratch_mem.phys))
        return -1;
    int csi = nvme_ns_descriptor_csi(c->scratch_mem.virt);
    if (csi == NVME_CSI_ZONED &&
        !nvme_identify_csi(c, NVME_IDENTIFY_CNS_CSI_NS, NVME_CSI_ZONED, nsid, c->scratch_mem.phys))
        *zone_blocks = nvme_zns_zone_size(c->scratch_mem.virt, format);
    return csi;
}

/* Identify Namespace for nsid and what bareio makes of it (nvme_ns_decide);
 * false, said on the console, when it is not to be registered. */
static bool decide_namespace(struct nvme_ctrl *c, uint32_t nsid, struct nvme_ns_decision *d)
{
    char words[120];
    uint16_t st = nvme_identify(c, NVME_IDENTIFY_CNS_NS, nsid, c->scratch_mem.phys);
    char name[32];
    snprintf(name, sizeof(name), "%s nsid %u", c->name, nsid);
    if (st) {
        nvme_status_describe(st, words, sizeof(words));
        blk_disk_left_out(name, c->pci, nvme_status_cause(st), "Identify Namespace failed: %s",
                          words);
        return false;
    }
    const struct nvme_ns_ctrl_facts facts = {
        .oncs = c->id->oncs, .vwc = c->id->vwc, .max_transfer_bytes = c->max_transfer_bytes,
    };
    nvme_ns_decide(c->scratch_mem.virt, &facts, d);
    switch (d->verdict) {
    case NVME_NS_USABLE:
        return true;
    case NVME_NS_INACTIVE:
        klog(LOG_INFO, "%s: nsid %u skipped: %s\n", c->name, nsid, d->why);
        return false;
    case NVME_NS_UNUSABLE:
        blk_disk_left_out(name, c->pci, BLK_CAUSE_UNSUPPORTED, "%s", d->why);
        return false;
    case NVME_NS_IMPOSSIBLE:
        blk_disk_left_out(name, c->pci, BLK_CAUSE_IMPOSSIBLE, "%s", d->why);
        return false;
    }
    return false;
}

/* The namespace's blk_dev as decided. */
static void fill_namespace(struct nvme_ctrl *c, struct nvme_ns *ns, uint32_t nsid,
                           const struct nvme_ns_decision *nd)
{
    struct blk_dev *d = &ns->dev;
    _Static_assert(sizeof(nd->read_only_reason) == sizeof(d->read_only_reason),
                   "a namespace's read-only reason fits its blk_dev");

    memset(ns, 0, sizeof(*ns));
    ns->ctrl = c;
    ns->nsid = nsid;
    ns->lba_shift = nd->geometry.lba_shift;
    snprintf(d->name, sizeof(d->name), "%sn%u", c->name, nsid);
    nvme_id_string(d->model, sizeof(d->model), c->id->mn, sizeof(c->id->mn));
    nvme_id_string(d->serial, sizeof(d->serial), c->id->sn, sizeof(c->id->sn));
    nvme_id_string(d->firmware, sizeof(d->firmware), c->id->fr, sizeof(c->id->fr));
    strlcpy(d->read_only_reason, nd->read_only_reason, sizeof(d->read_only_reason));
    d->pci = c->pci;
    d->block_size = nd->block_size;
    d->phys_block_size = d->block_size;
    d->nblocks = nd->geometry.nblocks;
    d->capacity_clamped = nd->geometry.clamped;
    d->max_transfer = nd->max_transfer;
    d->max_segs = 1024;
    d->addr_align = 4;          /* PRP entries are dword aligned */
    d->len_align = 4;
    d->page_segments = true;   /* PRP: only the first entry may be offset (§4.3) */
    d->dma_limit = ~0ull;
    d->caps = nd->caps;
    d->nqueues = c->nio;
    d->queue_depth = (uint16_t)(c->queue_depth - 1);
    d->irq_completion = c->irq_mode != NVME_IRQ_POLL;
    d->any_cpu = true;          /* queue locks; each queue's vector goes to the CPU using it */
    d->ops = &nvme_blk_ops;
    d->priv = ns;
}

/* The namespace's boot line: the form first (name, model, serial,
 * capacity, LBA size, MDTS, queues), then the details. */
static void print_namespace(const struct nvme_ctrl *c, const struct nvme_ns *ns,
                            const struct nvme_ns_decision *nd)
{
    const struct blk_dev *d = &ns->dev;
    char size[24], mdts[24], clamped[96] = "";

    blk_format_size(size, sizeof(size), d->nblocks << nd->geometry.lba_shift);
    format_mdts(c, mdts, sizeof(mdts));
    if (d->capacity_clamped)
        snprintf(clamped, sizeof(clamped), " (capacity clamped: NSZE %llu blocks is more than "
                 "2^64 bytes)", (unsigned long long)nd->nsze);
    klog(LOG_INFO, "%s: %s %s %s lba %u mdts %s queues %ux%u, nsid %u (%llu blocks%s, LBA format "
         "%u of %u), %s, max transfer %u blocks%s%s%s%s\n", d->name, d->model, d->serial, size,
         d->block_size, mdts, c->nio, c->queue_depth, ns->nsid, (unsigned long long)d->nblocks,
         clamped, nd->geometry.format, nd->formats, irq_mode_name(c->irq_mode), d->max_transfer,
         (d->caps & BLK_CAP_WRITE_ZEROES) ? ", write-zeroes" : "",
         (d->caps & BLK_CAP_TRIM) ? ", dsm-deallocate" : "",
         (d->caps & BLK_CAP_TRIM_ZEROES) ? " (reads zeroes)" : "",
         (d->caps & BLK_CAP_WRITE_CACHE) ? ", volatile write cache" : "");
}

static void add_namespace(struct nvme_ctrl *c, uint32_t nsid)
{
    struct nvme_ns_decision nd;
    if (!decide_namespace(c, nsid, &nd))
        return;
    if (c->nns >= c->ns_capacity) {     /* the list grew between the two walks */
        leftout_report("%s: nsid %u not registered: it appeared after the namespaces were "
                       "counted", c->name, nsid);
        return;
    }
    /* A zoned namespace (or another set than NVM) must not be driven as a
     * conventional one: its writes must follow zone write pointers. */
    uint64_t zone_blocks;
    int csi = namespace_command_set(c, nsid, nd.geometry.format, &zone_blocks);
    nvme_ns_decide_command_set(&nd, csi, zone_blocks);
    struct nvme_ns *ns = &c->ns[c->nns];
    fill_namespace(c, ns, nsid, &nd);
    c->nns++;
    print_namespace(c, ns, &nd);
    if (!blk_register(&ns->dev))
        c->nns--;
}

typedef void (*nsid_fn)(struct nvme_ctrl *c, uint32_t nsid);
static void count_nsid(struct nvme_ctrl *c, uint32_t nsid);

/* No Active Namespace ID list (NVMe 1.0, or it failed with list_status):
 * fn for NSID after NSID up to NN, bounded, as NN may say anything up to
 * 2^32-1 (the rest is named as left out, once, on the counting walk). */
static unsigned each_nsid_up_to_nn(struct nvme_ctrl *c, uint16_t list_status, nsid_fn fn)
{
    uint32_t last = c->id->nn < NVME_NSID_SCAN_MAX ? c->id->nn : NVME_NSID_SCAN_MAX;
    unsigned n = 0;
    char words[120];

    nvme_status_describe(list_status, words, sizeof(words));
    klog(LOG_WARN, "%s: active namespace list failed (%s); asking NSIDs 1..%u\n", c->name, words,
         last);
    if (fn == count_nsid && c->id->nn > last)
        leftout_report("%s: NSIDs %u..%u not asked: no Active Namespace ID list, and bareio asks "
                       "at most %u one by one", c->name, last + 1, c->id->nn, NVME_NSID_SCAN_MAX);
    for (uint32_t nsid = 1; nsid <= last; nsid++, n++)
        fn(c, nsid);
    return n;
}

/* fn for each NSID of the list page just read into the scratch page (copied
 * first: fn issues Identify commands into the same page), counted in *n.
 * true when the page was full, so the list may go on past *after, the last
 * NSID seen. */
static bool each_nsid_of_page(struct nvme_ctrl *c, uint32_t *after, unsigned *n, nsid_fn fn)
{
    uint32_t list[NVME_NS_LIST_ENTRIES];
    unsigned i = 0;

    memcpy(list, c->scratch_mem.virt, sizeof(list));
    for (; i < NVME_NS_LIST_ENTRIES && list[i]; i++, (*n)++) {
        if (list[i] <= *after) {    /* not ascending: firmware breakage, stop */
            leftout_report("%s: NSIDs after %u not listed: the active namespace list "
                           "is not ascending (%u)", c->name, *after, list[i]);
            return false;
        }
        fn(c, list[i]);
        *after = list[i];
    }
    if (i < NVME_NS_LIST_ENTRIES)
        return false;               /* the list ended in this page */
    return true;
}

/* Calls fn for every active NSID, one Active Namespace ID list page (CNS
 * 02h: up to 1024 NSIDs above the one given, ascending) after another. A
 * controller without the list (NVMe 1.0) is asked NSID by NSID up to NN.
 * Returns how many there were. */
static unsigned for_each_nsid(struct nvme_ctrl *c, nsid_fn fn)
{
    uint32_t after = 0;
    unsigned n = 0;
    char words[120];

    for (;;) {
        uint16_t st = nvme_identify(c, NVME_IDENTIFY_CNS_ACTIVE_NS_LIST, after,
                                    c->scratch_mem.phys);
        if (st && after == 0)
            return each_nsid_up_to_nn(c, st, fn);
        if (st) {
            nvme_status_describe(st, words, sizeof(words));
            leftout_report("%s: NSIDs above %u not listed: Active Namespace ID list failed (%s)",
                           c->name, after, words);
            return n;
        }
        if (!each_nsid_of_page(c, &after, &n, fn))
            return n;
    }
}

static void count_nsid(struct nvme_ctrl *c, uint32_t nsid)
{
    (void)nsid;
    c->ns_capacity++;
}

static void find_namespaces(struct nvme_ctrl *c)
{
    c->ns_capacity = 0;
    for_each_nsid(c, count_nsid);
    if (!c->ns_capacity)
        return;
    c->ns = memory_alloc_state((uint64_t)c->ns_capacity * sizeof(*c->ns));
    if (!c->ns) {
        leftout_report("%s: %u namespace(s) not registered: no memory for their state", c->name,
                       c->ns_capacity);
        c->ns_capacity = 0;
        return;
    }
    for_each_nsid(c, add_namespace);
}

/* ---- bring-up ---- */

/* CAP and VS before the controller is touched (nvme_cap_check: impossible
 * values, what bareio does not drive). */
static bool check_capabilities(struct nvme_ctrl *c)
{
    char why[240];
    enum blk_cause cause = nvme_cap_check(c->cap, c->vs, why, sizeof(why));
    if (cause != BLK_OK)
        blk_controller_failed(c->name, c->pci, cause, "%s", why);
    return cause == BLK_OK;
}

static bool alloc_controller_memory(struct nvme_ctrl *c)
{
    uint16_t depth = NVME_CAP_MQES(c->cap) + 1 < NVME_ADMIN_DEPTH
                   ? (uint16_t)(NVME_CAP_MQES(c->cap) + 1) : NVME_ADMIN_DEPTH;
    c->id_mem = dma_alloc(NVME_PAGE_SIZE, NVME_PAGE_SIZE, 0, DMA_ANYWHERE);
    c->scratch_mem = dma_alloc(NVME_PAGE_SIZE, NVME_PAGE_SIZE, 0, DMA_ANYWHERE);
    c->dbbuf_mem = dma_alloc(NVME_PAGE_SIZE, NVME_PAGE_SIZE, 0, DMA_ANYWHERE);
    c->eventidx_mem = dma_alloc(NVME_PAGE_SIZE, NVME_PAGE_SIZE, 0, DMA_ANYWHERE);
    c->id = c->id_mem.virt;
    return c->id_mem.virt && c->scratch_mem.virt && c->dbbuf_mem.virt && c->eventidx_mem.virt &&
           nvme_queue_alloc(c, &c->admin, 0, depth, 0);
}

static bool identify_controller(struct nvme_ctrl *c)
{
    char words[120];
    uint16_t st = nvme_identify(c, NVME_IDENTIFY_CNS_CTRL, 0, c->id_mem.phys);
    if (st) {
        nvme_status_describe(st, words, sizeof(words));
        blk_controller_failed(c->name, c->pci, st == NVME_STATUS_HOST_CFS
                              ? BLK_CAUSE_CONTROLLER_FATAL : st == NVME_STATUS_HOST_TIMEOUT
                              ? BLK_CAUSE_TIMEOUT : BLK_CAUSE_DEVICE_ERROR,
                              "Identify Controller failed: %s", st == NVME_STATUS_HOST_TIMEOUT
                              ? "no completion" : words);
        return false;
    }
    char why[240];
    enum blk_cause cause = nvme_id_ctrl_check(c->id, why, sizeof(why));
    if (cause != BLK_OK) {
        blk_controller_failed(c->name, c->pci, cause, "%s", why);
        return false;
    }
    uint64_t min_page = 4096ull << NVME_CAP_MPSMIN(c->cap);
    c->mdts_bytes = c->id->mdts && c->id->mdts < 20 ? (uint32_t)(min_page << c->id->mdts) : 0;
    c->max_transfer_bytes = c->mdts_bytes && c->mdts_bytes < NVME_MAX_TRANSFER_BYTES
                          ? c->mdts_bytes : NVME_MAX_TRANSFER_BYTES;
    return true;
}

static void print_controller(struct nvme_ctrl *c)
{
    char mn[4 * 40 + 1], sn[4 * 20 + 1], fr[4 * 8 + 1], mdts[24], cpus[48];
    nvme_id_string(mn, sizeof(mn), c->id->mn, sizeof(c->id->mn));
    nvme_id_string(sn, sizeof(sn), c->id->sn, sizeof(c->id->sn));
    nvme_id_string(fr, sizeof(fr), c->id->fr, sizeof(c->id->fr));
    format_mdts(c, mdts, sizeof(mdts));
    format_queue_cpus(c, cpus, sizeof(cpus));
    klog(LOG_INFO, "%s: %02x:%02x.%x %s, serial %s, firmware %s, NVMe %u.%u.%u, mdts %s, "
         "queues %ux%u (granted %u), %s, %s, shadow doorbells %s, %s, NN %u\n",
         c->name, c->pci->bus, c->pci->device, c->pci->function, mn, sn, fr,
         NVME_VS_MAJOR(c->vs), NVME_VS_MINOR(c->vs), NVME_VS_TERTIARY(c->vs), mdts, c->nio,
         c->queue_depth, c->nio_granted, cpus, ctrl_irq_name(c),
         c->shadow_doorbells ? "on" : !(c->id->oacs & NVME_OACS_DBBUF) ? "off (not supported)"
         : nvme_shadow_db_key ? "off (config failed)" : "off (nvme.shadow_db=off)",
         c->sgl ? "sgl data blocks" : !NVME_SGLS_SUPPORT(c->id->sgls) ? "prp (no SGLs)"
         : NVME_SGLS_SUPPORT(c->id->sgls) == 3 ? "prp (SGLS reserved value 3)"
         : "prp (nvme.sgl=off)", c->id->nn);
}

static void choose_irq_mode(struct nvme_ctrl *c)
{
    c->irq_mode = (enum nvme_irq_mode)nvme_irq_key;
    if (c->irq_mode == NVME_IRQ_MSIX && !c->pci->cap_msix) {
        klog(LOG_WARN, "%s: no MSI-X capability; INTx, its pin state polled\n", c->name);
        c->irq_mode = NVME_IRQ_INTX;
    }
    if (c->irq_mode == NVME_IRQ_INTX) {
        /* No IOAPIC driver: the pin is observed through PCI STATUS.IS, so it
         * must be allowed to assert (COMMAND.INTx Disable clear). */
        pci_msix_disable(c->pci);
        pci_write16(c->pci, PCI_COMMAND,
                    (uint16_t)(pci_read16(c->pci, PCI_COMMAND) & ~PCI_COMMAND_INTX_DISABLE));
        mmio_write32(c->regs, NVME_REG_INTMC, 0xffffffffu);
    }
}

static void probe(const struct blk_driver *drv, struct nvme_ctrl *c)
{
    char why[160];

    c->regs = blk_pci_claim(drv, c->pci, c->name, &c->bus_master);
    if (!c->regs)
        return;
    c->cap = mmio_read64(c->regs, NVME_REG_CAP);
    c->vs = mmio_read32(c->regs, NVME_REG_VS);
    c->timeout_ms = NVME_CAP_TO(c->cap) ? NVME_CAP_TO(c->cap) * 500u : 500u;
    if (!check_capabilities(c))
        return;
    /* The controller will DMA as soon as it is enabled: without bus mastering
     * every command would hang, so stop here with a named cause. */
    if (!c->bus_master) {
        blk_controller_failed(c->name, c->pci, BLK_CAUSE_BUS_MASTER_OFF,
                              "PCI COMMAND.BME is clear (0x%04x)%s; controller left disabled",
                              pci_read16(c->pci, PCI_COMMAND),
                              blk_test_no_bus_master(drv->name)
                              ? " on purpose (test.no_bus_master)" : "");
        return;
    }
    if (!alloc_controller_memory(c)) {
        blk_controller_failed(c->name, c->pci, BLK_CAUSE_NOT_READY, "no memory for the admin queue");
        return;
    }
    choose_irq_mode(c);
    enum blk_cause rc = nvme_ctrl_enable(c, why, sizeof(why));
    if (rc != BLK_OK) {
        blk_controller_failed(c->name, c->pci, rc, "%s", why);
        return;
    }
    if (!identify_controller(c))
        return;
    c->queue_depth = nvme_qdepth_key < NVME_CAP_MQES(c->cap) + 1
                   ? nvme_qdepth_key : (uint16_t)(NVME_CAP_MQES(c->cap) + 1);
    if (!setup_io_queues(c, true, why, sizeof(why))) {
        blk_controller_failed(c->name, c->pci, BLK_CAUSE_DEVICE_ERROR, "%s", why);
        return;
    }
    c->alive = true;
    print_controller(c);
    find_namespaces(c);
}

static void nvme_init(const struct blk_driver *drv)
{
    unsigned found = blk_pci_count(drv);
    if (!found)
        return;
    controllers = memory_alloc_state((uint64_t)found * sizeof(*controllers));
    if (!controllers) {
        leftout_report("nvme: %u NVMe controller(s) not brought up: no memory for their state",
                       found);
        return;
    }
    for (unsigned i = 0; i < found; i++) {
        struct pci_device *pci = blk_pci_at(drv, i);
        struct nvme_ctrl *c = &controllers[nvme_controller_count];
        c->index = nvme_controller_count++;
        c->pci = pci;
        c->ops = &ctrl_ops;
        snprintf(c->name, sizeof(c->name), "nvme%u", c->index);
        probe(drv, c);
    }
}

/* NVM Express controllers (PCI class 01.08.02). NVMe addresses memory with
 * 64-bit PRP entries always, and has no mode to check before I/O. */
static void nvme_preflight(const struct blk_driver *drv, struct pci_device *pci,
                           volatile void *regs, struct blk_preflight *out)
{
    (void)drv;
    (void)pci;
    out->unreadable = !regs;
    out->dma64 = true;
}

static const struct blk_pci_match nvme_match[] = {
    { .class_code = NVME_CLASS, .subclass = NVME_SUBCLASS, .prog_if = NVME_PROG_IF },
    { 0 },
};

BLK_DRIVER(nvme) = {
    .name = "nvme",
    .match = nvme_match,
    .bar = 0,
    .bar_name = "controller registers",
    .min_bar_size = 0x2000,     /* registers to 0FFFh, doorbells from 1000h (§3.1) */
    .ops = &nvme_blk_ops,
    .init = nvme_init,
    .preflight = nvme_preflight,
};

/* ---- recovery ---- */

/* Every queue's lock taken and dropped once: a CPU that was inside one when
 * in_recovery was set has left it, and any that enters now sees the flag. */
static void quiesce_queues(struct nvme_ctrl *c)
{
    for (uint16_t i = 0; i < c->nio; i++)
        spin_unlock(&c->io[i].lock, spin_lock(&c->io[i].lock));
}

/* With the recovery token (claimed here, nested when the caller holds it):
 * another CPU already recovering the controller does this reset's work, so
 * this one returns true and leaves it to that one. */
bool nvme_ctrl_reset(struct nvme_ctrl *c, const char *reason)
{
    char why[160];

    if (!nvme_recovery_claim(c))
        return true;
    c->in_recovery = true;
    quiesce_queues(c);
    c->resets++;
    strlcpy(c->last_reset, reason, sizeof(c->last_reset));
    c->shadow_doorbells = false;
    klog(LOG_WARN, "%s: controller reset (%s)\n", c->name, reason);
    enum blk_cause rc = nvme_ctrl_enable(c, why, sizeof(why));
    bool ok = rc == BLK_OK && setup_io_queues(c, false, why, sizeof(why));
    if (!ok) {
        c->alive = false;       /* before the flag drops: no CPU takes up a dead queue */
        c->in_recovery = false;
        snprintf(c->last_recovery, sizeof(c->last_recovery), "reset failed: %s", why);
        klog(LOG_ERR, "%s: %s; the controller is out of service\n", c->name, c->last_recovery);
        for (uint16_t i = 0; i < c->nio; i++)
            nvme_io_fail_all(&c->io[i], BLK_CAUSE_ABORTED, c->last_recovery);
        nvme_recovery_release(c);
        return false;
    }
    for (uint16_t i = 0; i < c->nio; i++)
        nvme_io_repost(&c->io[i]);
    c->in_recovery = false;
    for (uint16_t i = 0; i < c->nio; i++)
        nvme_io_reap_after_recovery(&c->io[i]);
    klog(LOG_WARN, "%s: reset done, %u I/O queue pairs recreated, commands in flight reposted\n",
         c->name, c->nio);
    nvme_recovery_release(c);
    return true;
}

static bool ctrl_check_fatal(struct nvme_ctrl *c)
{
    uint32_t csts = nvme_read_csts(c);
    char words[120];

    if (csts == 0xffffffffu) {
        c->alive = false;
        snprintf(c->last_recovery, sizeof(c->last_recovery),
                 "CSTS reads all ones: the controller is gone");
        klog(LOG_ERR, "%s: %s\n", c->name, c->last_recovery);
        for (uint16_t i = 0; i < c->nio; i++)
            nvme_io_fail_all(&c->io[i], BLK_CAUSE_NOT_READY, c->last_recovery);
        return true;
    }
    if (!(csts & NVME_CSTS_CFS))
        return false;
    c->cfs_seen++;
    nvme_decode_csts(csts, words, sizeof(words));
    snprintf(c->last_recovery, sizeof(c->last_recovery), "controller fatal status (%s)", words);
    klog(LOG_ERR, "%s: %s; resetting\n", c->name, words);
    nvme_ctrl_reset(c, "CSTS.CFS");
    return true;
}

/* ---- shutdown (§7.6.2) ---- */

/* Delete the I/O queues first, as the spec recommends, so nothing is in flight. */
static void delete_io_queues(struct nvme_ctrl *c)
{
    char words[120];
    for (uint16_t i = 0; i < c->nio; i++) {
        uint16_t st = nvme_delete_io_queues(c, &c->io[i]);
        if (st) {
            nvme_status_describe(st, words, sizeof(words));
            klog(LOG_WARN, "%s: deleting I/O queue pair %u: %s\n", c->name, i + 1, words);
        }
    }
}

/* CC.SHN = normal, then CSTS.SHST = 10b within RTD3E (10 s when it says 0).
 * The wait is for 10b itself: SHST reads 00b until the controller has begun
 * and 01b while it works. A CSTS of all ones (the controller gone) ends it. */
static void ctrl_shutdown(struct nvme_ctrl *c)
{
    char words[120];
    if (c->shut_down || !c->alive)
        return;
    c->shut_down = true;
    delete_io_queues(c);
    uint32_t bound_ms = c->id->rtd3e ? (c->id->rtd3e + 999) / 1000 : NVME_SHUTDOWN_DEFAULT_MS;
    uint64_t start = time_ns();
    uint32_t cc = mmio_read32(c->regs, NVME_REG_CC), csts;
    mmio_write32(c->regs, NVME_REG_CC, (cc & ~NVME_CC_SHN_MASK) | NVME_CC_SHN_NORMAL);
    uint32_t complete = NVME_CSTS_SHST_COMPLETE << NVME_CSTS_SHST_SHIFT;
    enum mmio_wait result = mmio_wait32(c->regs, NVME_REG_CSTS, NVME_CSTS_SHST_MASK, complete,
                                        bound_ms, &csts);
    c->alive = false;
    if (result != MMIO_WAIT_OK) {
        nvme_decode_csts(csts, words, sizeof(words));
        klog(LOG_ERR, "%s: shutdown did not complete within %u ms (%s)\n", c->name, bound_ms,
             words);
        return;
    }
    klog(LOG_INFO, "%s: shutdown complete in %llu us (CSTS.SHST = complete)\n", c->name,
         (unsigned long long)((time_ns() - start) / 1000));
}
