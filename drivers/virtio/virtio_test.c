/* SPDX-License-Identifier: MIT */
/* drivers/virtio/virtio_test.c — what the virtio suite
 * (tests/kernel/test_virtio.c) may see of the driver and what it may make
 * happen, so the suite touches no driver struct: vblk_test_view() copies a
 * device's features, configuration and limits, device_status read when the
 * view is taken, queue 0's indexes and free descriptors, the completion mode
 * and the counters a case checks (kicks, notifications, virtio-blk requests,
 * interrupts, resets, timeouts); the hooks that provoke something (a masked
 * MSI-X entry, a malformed next request) are functions named for it. The
 * driver's top layer: it calls virtio_blk_io.c (vblk_of) and virtio_pci.c,
 * and no file of the driver calls it. The hooks that need the I/O path's own
 * state (the last request as sent, a reset with requests in flight) stay in
 * virtio_blk_io.c. */
#include "drivers/pci/pci.h"
#include "drivers/virtio/virtio_blk_priv.h"
#include "kernel/io.h"
#include "lib/string.h"

static void view_queue(const struct vblk *vb, struct vblk_test_view *v)
{
    v->device_queue_size = vb->device_queue_size;
    v->queue_size = vb->vq.size;
    v->num_free = vb->vq.num_free;
    v->heads = vb->vq.heads;
    v->avail_idx = vb->vq.avail_idx;
    v->last_used = vb->vq.last_used;
    v->slots_in_flight = vb->slots_in_flight;
}

static void view_counters(const struct vblk *vb, struct vblk_test_view *v)
{
    v->kicks = vb->kicks;
    v->notifies = vb->notifies;
    v->notifies_suppressed = vb->notifies_suppressed;
    v->parts = vb->parts;
    v->completed = vb->completed;
    v->interrupts = vb->interrupts;
    v->config_interrupts = vb->config_interrupts;
    v->bad_used = vb->bad_used;
    v->resets = vb->resets;
    v->timeouts = vb->timeouts;
    strlcpy(v->last_reset, vb->last_reset, sizeof(v->last_reset));
}

bool vblk_test_view(struct blk_dev *dev, struct vblk_test_view *out)
{
    struct vblk *vb = vblk_of(dev);
    if (!vb)
        return false;
    memset(out, 0, sizeof(*out));
    uint64_t flags = irq_save();        /* the MSI-X handler reaps: indexes and counts agree */
    out->index = vb->index;
    out->offered = vb->offered;
    out->accepted = vb->accepted;
    out->device_status = vblk_pci_status(vb);
    out->config = vb->config;
    out->lim = vb->lim;
    out->irq_mode = vb->irq_mode;
    out->alive = vb->alive;
    view_queue(vb, out);
    view_counters(vb, out);
    irq_restore(flags);
    return true;
}

/* ---- hooks ---- */

void vblk_test_break_next_request(struct blk_dev *dev)
{
    struct vblk *vb = vblk_of(dev);
    if (vb)
        vb->test_break_next = true;
}

void vblk_test_set_vector_masked(struct blk_dev *dev, bool masked)
{
    struct vblk *vb = vblk_of(dev);
    if (!vb || vb->queue_vector < 0)
        return;
    pci_msix_mask(vb->pci, vb->queue_entry, masked);
    if (!masked)
        vb->irq_mode = VBLK_IRQ_MSIX;   /* back from the polling fallback */
}
