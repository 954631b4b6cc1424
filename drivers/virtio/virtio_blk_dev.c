/* SPDX-License-Identifier: MIT */
/* drivers/virtio/virtio_blk_dev.c — bringing a virtio-blk device to
 * DRIVER_OK, at probe and again after every reset (Virtio 1.2 §3.1.1): reset
 * and wait, ACKNOWLEDGE, DRIVER, the feature negotiation (virtio_blk_req.c
 * decides; FEATURES_OK must stick), the device configuration, queue 0 (its
 * size from the device, capped by virtio.queue_size=, its rings and request
 * slots allocated once), the MSI-X vectors, DRIVER_OK. A step that fails sets
 * FAILED (§3.1.1: the driver SHOULD, once it gives up) and says why in words
 * with a cause. A reset re-negotiates the same features and keeps the queue's
 * memory; the device must offer no less than it did. */
#include "drivers/virtio/virtio_blk_priv.h"
#include "kernel/cmdline.h"
#include "kernel/console.h"
#include "kernel/memory.h"
#include "lib/format.h"
#include "lib/string.h"

static bool check_queue_size(const struct cmdline_key *key, const struct cmdline_value *value,
                             char *why, size_t why_size)
{
    (void)key;
    if (value->number & (value->number - 1)) {
        /* §4.1.4.3.2: a split virtqueue's size MUST be a power of two. */
        snprintf(why, why_size, "a split virtqueue's size must be a power of two");
        return false;
    }
    return true;
}
CMDLINE_UINT(uint16_t, virtio_queue_size_key, "virtio.queue_size", VBLK_MAX_QUEUE_SIZE, 4,
             VBLK_MAX_QUEUE_SIZE, "virtio-blk queue entries wanted (a power of two; capped by the "
             "device's queue_size)", .check = check_queue_size);

static uint16_t power_of_two_below(uint32_t n)
{
    uint16_t p = 1;
    while ((uint32_t)p * 2 <= n && p < VIRTQ_MAX_SIZE)
        p = (uint16_t)(p * 2);
    return p;
}

/* The rings (zeroed DMA memory, each part at its alignment: a page), the
 * queue's own lists and one request slot per ring entry, each with an
 * indirect table long enough for seg_max data descriptors. */
static bool alloc_queue(struct vblk *vb, uint16_t size, char *why, size_t why_size)
{
    struct virtq *vq = &vb->vq;
    vb->desc_mem = dma_alloc(virtq_desc_bytes(size), 4096, 0, DMA_ANYWHERE);
    vb->avail_mem = dma_alloc(virtq_avail_bytes(size), 4096, 0, DMA_ANYWHERE);
    vb->used_mem = dma_alloc(virtq_used_bytes(size), 4096, 0, DMA_ANYWHERE);
    vb->slot_stride = (uint32_t)((sizeof(struct vblk_slot_dma) +
                                  (vb->lim.seg_max + 2) * sizeof(struct virtq_desc) + 63) & ~63u);
    vb->slot_mem = dma_alloc((uint64_t)size * vb->slot_stride, 4096, 0, DMA_ANYWHERE);
    vb->id_mem = dma_alloc(VIRTIO_BLK_ID_BYTES, 4096, 0, DMA_ANYWHERE);
    vb->slots = memory_alloc_state((uint64_t)size * sizeof(*vb->slots));
    uint16_t *lists = memory_alloc_state(3ull * size * sizeof(uint16_t));
    if (!vb->desc_mem.virt || !vb->avail_mem.virt || !vb->used_mem.virt || !vb->slot_mem.virt ||
        !vb->id_mem.virt || !vb->slots || !lists) {
        snprintf(why, why_size, "no memory for a queue of %u entries (%llu KiB of request slots)",
                 size, (unsigned long long)((uint64_t)size * vb->slot_stride >> 10));
        return false;
    }
    *vq = (struct virtq){ .size = size, .desc = vb->desc_mem.virt, .avail = vb->avail_mem.virt,
                          .used = vb->used_mem.virt, .free_next = lists,
                          .chain_len = lists + size };
    vb->head_slot = lists + 2 * size;
    for (uint16_t i = 0; i < size; i++) {
        vb->slots[i].dma = (struct vblk_slot_dma *)((uint8_t *)vb->slot_mem.virt +
                                                    (uint64_t)i * vb->slot_stride);
        vb->slots[i].dma_phys = vb->slot_mem.phys + (uint64_t)i * vb->slot_stride;
    }
    return true;
}

/* Features: negotiated the first time, the same set after a reset. */
static bool negotiate(struct vblk *vb, bool first, enum blk_cause *cause, char *why, size_t size)
{
    uint64_t offered = vblk_pci_device_features(vb);
    char words[200];

    if (first) {
        vb->offered = offered;
        if (!virtio_blk_negotiate(offered, &vb->accepted, why, size)) {
            *cause = BLK_CAUSE_UNSUPPORTED;
            return false;
        }
    } else if ((offered & vb->accepted) != vb->accepted) {
        virtio_feature_words(vb->accepted & ~offered, &virtio_blk_feature_names, words,
                             sizeof(words));
        snprintf(why, size, "after the reset the device no longer offers %s", words);
        *cause = BLK_CAUSE_DEVICE_ERROR;
        return false;
    }
    vblk_pci_set_driver_features(vb, vb->accepted);
    vblk_pci_set_status(vb, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER |
                            VIRTIO_STATUS_FEATURES_OK);
    /* §3.1.1 step 6: re-read; a device that cannot work with these features
     * leaves FEATURES_OK clear. */
    uint8_t status = vblk_pci_status(vb);
    if (!(status & VIRTIO_STATUS_FEATURES_OK)) {
        char st[120];
        virtio_feature_words(vb->accepted, &virtio_blk_feature_names, words, sizeof(words));
        virtio_status_describe(status, st, sizeof(st));
        snprintf(why, size, "FEATURES_OK did not stick (device_status %s): the device refused "
                 "%s", st, words);
        *cause = BLK_CAUSE_UNSUPPORTED;
        return false;
    }
    return true;
}

/* Queue 0's size, the limits that follow from it, and the memory, once. */
static bool size_queue(struct vblk *vb, uint16_t offered, enum blk_cause *cause, char *why,
                       size_t size)
{
    vb->device_queue_size = offered;
    uint16_t want = offered < virtio_queue_size_key ? offered : virtio_queue_size_key;
    /* A device MUST offer a power of two (§4.1.4.3.1); one that does not
     * gets the largest below what it offered. */
    uint16_t qsize = power_of_two_below(want);
    *cause = virtio_blk_limits(vb->accepted, &vb->config, qsize, &vb->lim, why, size);
    if (*cause != BLK_OK)
        return false;
    *cause = BLK_CAUSE_NOT_READY;
    return alloc_queue(vb, qsize, why, size);
}

static bool setup_queue(struct vblk *vb, bool first, enum blk_cause *cause, char *why, size_t size)
{
    uint16_t offered = vblk_pci_queue_max(vb);
    *cause = virtio_blk_requestq_check(vblk_pci_num_queues(vb), offered, why, size);
    if (*cause != BLK_OK)
        return false;
    *cause = BLK_CAUSE_UNSUPPORTED;
    if (first && !size_queue(vb, offered, cause, why, size))
        return false;
    if (!first && offered < vb->vq.size) {
        snprintf(why, size, "after the reset queue 0 offers %u entries, fewer than the %u in use",
                 offered, vb->vq.size);
        *cause = BLK_CAUSE_DEVICE_ERROR;
        return false;
    }
    virtq_reset(&vb->vq, vb->irq_mode == VBLK_IRQ_POLL);
    if (!vblk_pci_queue_setup(vb, why, size))
        return false;
    if (vb->irq_mode == VBLK_IRQ_MSIX) {
        char refused[160];
        if (!vblk_pci_set_vectors(vb, vb->config_entry, vb->queue_entry, refused,
                                  sizeof(refused))) {
            klog(LOG_WARN, "%s: %s; polling\n", vb->dev.name, refused);
            vb->irq_mode = VBLK_IRQ_POLL;
            vb->dev.irq_completion = false;
            vb->vq.avail->flags = VIRTQ_AVAIL_F_NO_INTERRUPT;
        }
    }
    vblk_pci_queue_enable(vb);
    return true;
}

static bool start_steps(struct vblk *vb, bool first, enum blk_cause *cause, char *why, size_t size)
{
    *cause = BLK_CAUSE_NOT_READY;
    if (!vblk_pci_reset(vb, why, size))
        return false;
    vblk_pci_set_status(vb, VIRTIO_STATUS_ACKNOWLEDGE);
    vblk_pci_set_status(vb, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER);
    if (!negotiate(vb, first, cause, why, size))
        return false;
    struct virtio_blk_config cfg;
    *cause = BLK_CAUSE_DEVICE_ERROR;
    if (!vblk_pci_read_config(vb, &cfg, why, size))
        return false;
    if (!first && cfg.capacity != vb->config.capacity)
        klog(LOG_WARN, "%s: capacity changed across the reset: %llu sectors, was %llu; bareio "
             "keeps %llu blocks\n", vb->dev.name, (unsigned long long)cfg.capacity,
             (unsigned long long)vb->config.capacity, (unsigned long long)vb->dev.nblocks);
    if (first)
        vb->config = cfg;
    if (!setup_queue(vb, first, cause, why, size))
        return false;
    vblk_pci_set_status(vb, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER |
                            VIRTIO_STATUS_FEATURES_OK | VIRTIO_STATUS_DRIVER_OK);
    uint8_t status = vblk_pci_status(vb);
    if (status & (VIRTIO_STATUS_DEVICE_NEEDS_RESET | VIRTIO_STATUS_FAILED) ||
        !(status & VIRTIO_STATUS_DRIVER_OK)) {
        char st[120];
        virtio_status_describe(status, st, sizeof(st));
        snprintf(why, size, "device_status %s after DRIVER_OK", st);
        *cause = BLK_CAUSE_DEVICE_ERROR;
        return false;
    }
    return true;
}

bool vblk_dev_start(struct vblk *vb, bool first, enum blk_cause *cause, char *why,
                    size_t why_size)
{
    if (start_steps(vb, first, cause, why, why_size))
        return true;
    /* Given up: say so to the device, unless it does not answer at all. */
    uint8_t status = vblk_pci_status(vb);
    if (status != 0xff)
        vblk_pci_set_status(vb, status | VIRTIO_STATUS_FAILED);
    return false;
}
