/* SPDX-License-Identifier: MIT */
/* drivers/virtio/virtio_blk_probe.c — finding virtio block devices on PCI
 * (Virtio 1.2 §4.1.2: vendor 1AF4h, device 1042h modern or 1001h
 * transitional) and bringing each up as one blk_dev named vblkN: the virtio
 * capabilities located first (a legacy-only device, with none, is a
 * controller failure with its cause, never driven through the legacy
 * interface), the common configuration's BAR as the register BAR (bar_of),
 * blk_pci_claim, the other structures mapped, MSI-X or polling
 * (virtio.irq=), device initialization (virtio_blk_dev.c), the serial from
 * VIRTIO_BLK_T_GET_ID, one boot line for the device and one for its disk. */
#include "drivers/pci/pci.h"
#include "drivers/virtio/virtio_blk_priv.h"
#include "kernel/cmdline.h"
#include "kernel/console.h"
#include "kernel/leftout.h"
#include "kernel/memory.h"
#include "lib/format.h"
#include "lib/string.h"

#define VBLK_MAX_SEGS   1024    /* segments per blk_request: the driver splits by descriptors */

static const struct cmdline_word virtio_irq_words[] = {
    { "poll", VBLK_IRQ_POLL }, { "msix", VBLK_IRQ_MSIX },
};
CMDLINE_ENUM(virtio_irq_key, "virtio.irq", VBLK_IRQ_MSIX, virtio_irq_words,
             "how virtio-blk completions are noticed: polling, or MSI-X (polling when the device "
             "has none; INTx is not used, there is no IOAPIC driver)");

static struct vblk *devices;
static unsigned device_count;

/* ---- the capability list ---- */

static void layout_inputs(const struct pci_device *pci, uint8_t config[256],
                          struct virtio_pci_bar_info bars[6])
{
    for (uint16_t off = 0; off < 256; off += 4) {
        uint32_t v = pci_read32(pci, off);
        memcpy(config + off, &v, 4);
    }
    for (unsigned i = 0; i < 6; i++) {
        const struct pci_bar *b = pci_get_bar(pci, i);
        bool memory = b && (b->type == PCI_BAR_MEM32 || b->type == PCI_BAR_MEM64) && b->size;
        bars[i] = (struct virtio_pci_bar_info){ .memory = memory, .size = memory ? b->size : 0 };
    }
}

static enum virtio_pci_verdict layout_of(const struct pci_device *pci,
                                         struct virtio_pci_layout *layout, char *why,
                                         size_t why_size)
{
    uint8_t config[256];
    struct virtio_pci_bar_info bars[6];
    layout_inputs(pci, config, bars);
    return virtio_pci_parse_layout(config, bars, layout, why, why_size);
}

/* The register BAR: the one the common configuration capability names. */
static int vblk_bar_of(const struct pci_device *pci)
{
    struct virtio_pci_layout layout;
    char why[160];
    layout_of(pci, &layout, why, sizeof(why));
    return layout.common.present ? layout.common.bar : -1;
}

/* A structure's address: in the claimed register BAR, or in another BAR,
 * mapped here. NULL (with why) when that BAR is not assigned. */
static volatile void *map_region(struct vblk *vb, volatile void *regs,
                                 const struct virtio_pci_region *r, const char *what, char *why,
                                 size_t why_size)
{
    volatile void *base = r->bar == vb->bar ? regs : pci_map_bar(vb->pci, r->bar);
    if (!base) {
        snprintf(why, why_size, "BAR%u, holding the %s, is not assigned or cannot be mapped",
                 r->bar, what);
        return NULL;
    }
    return (volatile uint8_t *)base + r->offset;
}

static bool map_structures(struct vblk *vb, volatile void *regs, char *why, size_t why_size)
{
    vb->common = map_region(vb, regs, &vb->layout.common, "common cfg", why, why_size);
    vb->notify_base = vb->common ? map_region(vb, regs, &vb->layout.notify, "notify cfg", why,
                                              why_size) : NULL;
    vb->isr = vb->notify_base ? map_region(vb, regs, &vb->layout.isr, "ISR", why, why_size) : NULL;
    vb->device_cfg = vb->isr ? map_region(vb, regs, &vb->layout.device, "device cfg", why,
                                          why_size) : NULL;
    return vb->device_cfg != NULL;
}

/* ---- interrupts ---- */

static void choose_irq_mode(struct vblk *vb)
{
    vb->irq_mode = (enum vblk_irq_mode)virtio_irq_key;
    vb->queue_vector = vb->config_vector = -1;
    if (vb->irq_mode == VBLK_IRQ_MSIX && !vb->pci->cap_msix) {
        klog(LOG_WARN, "%s: no MSI-X capability; polling\n", vb->dev.name);
        vb->irq_mode = VBLK_IRQ_POLL;
    }
    if (vb->irq_mode == VBLK_IRQ_POLL)
        pci_msix_disable(vb->pci);
    vblk_irq_setup(vb);
}

/* ---- the disk ---- */

/* The device ID string (§5.2.6: up to 20 bytes, NUL-padded), escaped. */
static void read_serial(struct vblk *vb)
{
    char detail[160];
    uint8_t *id = vb->id_mem.virt;
    memset(id, 0, VIRTIO_BLK_ID_BYTES);
    enum blk_cause rc = vblk_sync(vb, VIRTIO_BLK_T_GET_ID, vb->id_mem.phys, VIRTIO_BLK_ID_BYTES,
                                  detail, sizeof(detail));
    if (rc != BLK_OK) {
        klog(LOG_WARN, "%s: no serial: GET_ID failed: %s: %s\n", vb->dev.name,
             blk_cause_name(rc), detail);
        vb->dev.serial[0] = '\0';
        return;
    }
    virtio_blk_id_string(vb->dev.serial, sizeof(vb->dev.serial), id);
}

static void fill_dev(struct vblk *vb)
{
    struct blk_dev *d = &vb->dev;
    const struct virtio_blk_limits *l = &vb->lim;
    snprintf(d->model, sizeof(d->model), "virtio-blk");
    snprintf(d->firmware, sizeof(d->firmware), "virtio");
    d->pci = vb->pci;
    d->block_size = l->block_size;
    d->phys_block_size = l->phys_block_size;
    d->nblocks = l->nblocks;
    if (d->nblocks > UINT64_MAX / d->block_size) {
        d->nblocks = UINT64_MAX / d->block_size;
        d->capacity_clamped = true;
    }
    d->max_transfer = l->max_transfer;
    d->max_segs = VBLK_MAX_SEGS;
    /* virtio puts no rule on buffer addresses or lengths: any byte does. */
    d->addr_align = 1;
    d->len_align = 1;
    d->page_segments = false;
    d->dma_limit = ~0ull;           /* descriptors carry 64-bit addresses */
    d->caps = BLK_CAP_DMA64;
    if (l->flush)                   /* §5.2.5.1: FLUSH without CONFIG_WCE: assume a write cache */
        d->caps |= BLK_CAP_FLUSH | BLK_CAP_WRITE_CACHE;
    if (l->max_discard)             /* no TRIM_ZEROES: §5.2.6.1, assume nothing after a discard */
        d->caps |= BLK_CAP_TRIM;
    if (l->max_write_zeroes)
        d->caps |= BLK_CAP_WRITE_ZEROES;
    d->nqueues = 1;
    /* Indirect: one ring descriptor per request; direct: three (header,
     * one data segment, status) for the simplest. */
    d->queue_depth = l->indirect ? vb->vq.size : (uint16_t)(vb->vq.size / 3);
    d->irq_completion = vb->irq_mode != VBLK_IRQ_POLL;
    d->ops = &vblk_blk_ops;
    d->priv = vb;
    if (l->read_only)
        snprintf(d->read_only_reason, sizeof(d->read_only_reason), "the device is read-only "
                 "(VIRTIO_BLK_F_RO: every write fails, Virtio 1.2 §5.2.5)");
}

static void irq_words(const struct vblk *vb, char *buf, size_t size)
{
    if (vb->irq_mode != VBLK_IRQ_MSIX)
        snprintf(buf, size, "polled");
    else if (vb->queue_entry == vb->config_entry)
        snprintf(buf, size, "msix (one table entry: configuration changes and queue 0 share it)");
    else
        snprintf(buf, size, "msix (configuration changes entry %u, queue 0 entry %u)",
                 vb->config_entry, vb->queue_entry);
}

static void print_device(const struct vblk *vb)
{
    char accepted[240], irq[80];
    irq_words(vb, irq, sizeof(irq));
    const struct pci_device *p = vb->pci;
    virtio_feature_words(vb->accepted, &virtio_blk_feature_names, accepted, sizeof(accepted));
    klog(LOG_INFO, "%s: %02x:%02x.%x %04x:%04x virtio 1.x (%s), features %s (offered 0x%llx), "
         "queue 0 of %u entries (device %u), %s, %s\n", vb->dev.name, p->bus, p->device,
         p->function, p->vendor_id, p->device_id,
         p->device_id == VIRTIO_PCI_DEVICE_BLOCK_TRANSITIONAL ? "transitional" : "modern",
         accepted, (unsigned long long)vb->offered, vb->vq.size, vb->device_queue_size,
         vb->lim.indirect ? "indirect descriptors" : "direct descriptors", irq);
}

static void print_disk(const struct vblk *vb)
{
    const struct blk_dev *d = &vb->dev;
    const struct virtio_blk_limits *l = &vb->lim;
    char size[24], size_max[24] = "none", discard[40] = "", zeroes[48] = "";
    blk_format_size(size, sizeof(size), d->nblocks * d->block_size);
    if (l->size_max != UINT32_MAX)
        snprintf(size_max, sizeof(size_max), "%u", l->size_max);
    if (l->max_discard)
        snprintf(discard, sizeof(discard), ", discard (%u blocks)", l->max_discard);
    if (l->max_write_zeroes)
        snprintf(zeroes, sizeof(zeroes), ", write-zeroes (%u blocks)", l->max_write_zeroes);
    klog(LOG_INFO, "%s: disk %s serial %s fw %s, %s (%llu sectors), %u/%u bytes per block "
         "(logical/physical), %llu blocks, seg_max %u, size_max %s, max transfer %u "
         "blocks%s%s%s%s\n",
         d->name, d->model, d->serial[0] ? d->serial : "(none)", d->firmware, size,
         (unsigned long long)vb->config.capacity, d->block_size, d->phys_block_size,
         (unsigned long long)d->nblocks, l->seg_max, size_max, d->max_transfer,
         l->flush ? ", flush (write cache)" : "", discard, zeroes,
         l->read_only ? ", read-only (VIRTIO_BLK_F_RO)" : "");
}

/* ---- bring-up ---- */

static void probe(const struct blk_driver *drv, struct vblk *vb)
{
    char why[192];
    enum blk_cause cause;

    enum virtio_pci_verdict v = layout_of(vb->pci, &vb->layout, why, sizeof(why));
    if (v == VIRTIO_PCI_LEGACY_ONLY) {
        /* §4.1.5.1.1.1: a non-transitional driver MUST fail gracefully. */
        blk_controller_failed(vb->dev.name, vb->pci, BLK_CAUSE_UNSUPPORTED,
                              "legacy-only virtio device %04x:%04x (no virtio 1.x capability): "
                              "bareio drives virtio 1.x only; use a modern or transitional "
                              "device (QEMU: disable-modern=off)", vb->pci->vendor_id,
                              vb->pci->device_id);
        return;
    }
    if (v == VIRTIO_PCI_UNUSABLE) {
        blk_controller_failed(vb->dev.name, vb->pci, BLK_CAUSE_UNSUPPORTED, "%s", why);
        return;
    }
    vb->bar = vb->layout.common.bar;
    volatile void *regs = blk_pci_claim(drv, vb->pci, vb->dev.name, &vb->bus_master);
    if (!regs)
        return;
    if (!map_structures(vb, regs, why, sizeof(why))) {
        blk_controller_failed(vb->dev.name, vb->pci, BLK_CAUSE_BAR_UNASSIGNED, "%s", why);
        return;
    }
    if (!vb->bus_master) {
        /* Quiet what the firmware may have left running, then stop. */
        vblk_pci_reset(vb, why, sizeof(why));
        blk_controller_failed(vb->dev.name, vb->pci, BLK_CAUSE_BUS_MASTER_OFF,
                              "PCI COMMAND.BME is clear (0x%04x)%s; device left reset",
                              pci_read16(vb->pci, PCI_COMMAND),
                              blk_test_no_bus_master(drv->name)
                              ? " on purpose (test.no_bus_master)" : "");
        return;
    }
    choose_irq_mode(vb);
    if (!vblk_dev_start(vb, true, &cause, why, sizeof(why))) {
        blk_controller_failed(vb->dev.name, vb->pci, cause, "%s", why);
        return;
    }
    vb->alive = true;
    read_serial(vb);
    if (!vb->alive) {
        blk_controller_failed(vb->dev.name, vb->pci, BLK_CAUSE_TIMEOUT, "%s", vb->last_recovery);
        return;
    }
    fill_dev(vb);
    print_device(vb);
    print_disk(vb);
    blk_register(&vb->dev);
}

static void vblk_init(const struct blk_driver *drv)
{
    unsigned found = blk_pci_count(drv);
    if (!found)
        return;
    devices = memory_alloc_state((uint64_t)found * sizeof(*devices));
    if (!devices) {
        leftout_report("vblk: %u virtio-blk device(s) not brought up: no memory for their state",
                       found);
        return;
    }
    for (unsigned i = 0; i < found; i++) {
        struct vblk *vb = &devices[device_count];
        vb->index = device_count++;
        vb->pci = blk_pci_at(drv, i);
        snprintf(vb->dev.name, sizeof(vb->dev.name), "%s%u", drv->name, vb->index);
        probe(drv, vb);
    }
}

/* Virtio addresses memory with 64-bit descriptors always, and has no mode
 * to check before I/O. */
static void vblk_preflight(const struct blk_driver *drv, struct pci_device *pci,
                           volatile void *regs, struct blk_preflight *out)
{
    (void)drv;
    (void)pci;
    out->unreadable = !regs;
    out->dma64 = true;
}

static const struct blk_pci_match vblk_match[] = {
    { .vendor_id = VIRTIO_PCI_VENDOR_ID,
      .device_id = VIRTIO_PCI_DEVICE_ID_MODERN(VIRTIO_ID_BLOCK) },
    { .vendor_id = VIRTIO_PCI_VENDOR_ID, .device_id = VIRTIO_PCI_DEVICE_BLOCK_TRANSITIONAL },
    { 0 },
};

/* Named "vblk": devices (and their disks) are vblk0, vblk1, ..., the
 * preflight suite's names too; test.no_bus_master=vblk. */
BLK_DRIVER(virtio_blk) = {
    .name = "vblk",
    .match = vblk_match,
    .bar_of = vblk_bar_of,
    .bar_name = "virtio common configuration",
    .min_bar_size = VIRTIO_PCI_COMMON_CFG_MIN_LENGTH,
    .ops = &vblk_blk_ops,
    .init = vblk_init,
    .preflight = vblk_preflight,
};
