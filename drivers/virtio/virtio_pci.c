/* SPDX-License-Identifier: MIT */
/* drivers/virtio/virtio_pci.c — the registers of the virtio PCI transport
 * (Virtio 1.2 §4.1.4, §4.1.5) for one virtio-blk device: device_status and
 * the bounded wait after a reset, the 64 feature bits in two selected
 * halves, the device configuration read under config_generation, queue 0's
 * registers, the MSI-X vectors (each read back) and the queue notification.
 * Every field is accessed with its own width (§4.1.3.1: 8, 16 or 32 bits, a
 * 64-bit field as two 32-bit halves, low first). The ISR status byte is never
 * read: it is for INTx, and reading it acknowledges (§4.1.4.5). */
#include "drivers/virtio/virtio_blk_priv.h"
#include "kernel/io.h"
#include "kernel/mmio.h"
#include "kernel/time.h"
#include "lib/format.h"
#include "lib/string.h"

#define VBLK_CONFIG_GENERATION_TRIES 16

uint8_t vblk_pci_status(struct vblk *vb)
{
    return mmio_read8(vb->common, VIRTIO_COMMON(device_status));
}

void vblk_pci_set_status(struct vblk *vb, uint8_t status)
{
    mmio_write8(vb->common, VIRTIO_COMMON(device_status), status);
}

/* §2.4.1 and §4.1.4.3.2: after writing 0 the driver MUST wait for
 * device_status to read 0 before initializing again. The spec gives no
 * bound. A device resetting with requests in flight first finishes or drops
 * them (QEMU's virtio-blk drains its block backend inside the reset), so the
 * bound has to cover the slowest request a backend may still be completing:
 * VBLK_RESET_TIMEOUT_MS (10 s), a third of blk.timeout='s default.
 *
 * device_status is an 8-bit field that may be read only with an 8-bit
 * access (§4.1.3.1): mmio_wait8(). */
bool vblk_pci_reset(struct vblk *vb, char *why, size_t why_size)
{
    uint64_t start = time_ns();
    uint8_t status;
    char words[120];

    vblk_pci_set_status(vb, 0);
    if (mmio_wait8(vb->common, VIRTIO_COMMON(device_status), 0xff, 0, VBLK_RESET_TIMEOUT_MS,
                   &status) == MMIO_WAIT_OK)
        return true;
    virtio_status_describe(status, words, sizeof(words));
    snprintf(why, why_size, "device_status still %s %llu ms after the reset (written 0)", words,
             (unsigned long long)((time_ns() - start) / 1000000));
    return false;
}

uint64_t vblk_pci_device_features(struct vblk *vb)
{
    uint64_t features = 0;
    for (uint32_t half = 0; half < 2; half++) {
        mmio_write32(vb->common, VIRTIO_COMMON(device_feature_select), half);
        features |= (uint64_t)mmio_read32(vb->common, VIRTIO_COMMON(device_feature)) << (32 * half);
    }
    return features;
}

void vblk_pci_set_driver_features(struct vblk *vb, uint64_t features)
{
    for (uint32_t half = 0; half < 2; half++) {
        mmio_write32(vb->common, VIRTIO_COMMON(driver_feature_select), half);
        mmio_write32(vb->common, VIRTIO_COMMON(driver_feature),
                     (uint32_t)(features >> (32 * half)));
    }
}

/* The fields of struct virtio_blk_config the device's structure holds, each
 * with its width. Fields past the device cfg length stay 0. */
static void read_config_once(struct vblk *vb, struct virtio_blk_config *cfg)
{
    static const struct { uint8_t offset, width; } fields[] = {
        { VIRTIO_BLK_CONFIG(capacity), 8 }, { VIRTIO_BLK_CONFIG(size_max), 4 },
        { VIRTIO_BLK_CONFIG(seg_max), 4 }, { VIRTIO_BLK_CONFIG(cylinders), 2 },
        { VIRTIO_BLK_CONFIG(heads), 1 }, { VIRTIO_BLK_CONFIG(sectors), 1 },
        { VIRTIO_BLK_CONFIG(blk_size), 4 }, { VIRTIO_BLK_CONFIG(physical_block_exp), 1 },
        { VIRTIO_BLK_CONFIG(alignment_offset), 1 }, { VIRTIO_BLK_CONFIG(min_io_size), 2 },
        { VIRTIO_BLK_CONFIG(opt_io_size), 4 }, { VIRTIO_BLK_CONFIG(num_queues), 2 },
        { VIRTIO_BLK_CONFIG(max_discard_sectors), 4 }, { VIRTIO_BLK_CONFIG(max_discard_seg), 4 },
        { VIRTIO_BLK_CONFIG(discard_sector_alignment), 4 },
        { VIRTIO_BLK_CONFIG(max_write_zeroes_sectors), 4 },
        { VIRTIO_BLK_CONFIG(max_write_zeroes_seg), 4 },
        { VIRTIO_BLK_CONFIG(write_zeroes_may_unmap), 1 },
    };
    uint8_t *dst = (uint8_t *)cfg;
    memset(cfg, 0, sizeof(*cfg));
    /* writeback is left alone: it may not be read before FEATURES_OK, and
     * without CONFIG_WCE it means nothing to bareio (§5.2.5.1). */
    for (unsigned i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
        unsigned off = fields[i].offset, w = fields[i].width;
        if (off + w > vb->layout.device.length)
            continue;
        if (w == 8) {
            uint64_t v = mmio_read64(vb->device_cfg, off);      /* low half first */
            memcpy(dst + off, &v, 8);
        } else if (w == 4) {
            uint32_t v = mmio_read32(vb->device_cfg, off);
            memcpy(dst + off, &v, 4);
        } else if (w == 2) {
            uint16_t v = mmio_read16(vb->device_cfg, off);
            memcpy(dst + off, &v, 2);
        } else {
            dst[off] = mmio_read8(vb->device_cfg, off);
        }
    }
}

bool vblk_pci_read_config(struct vblk *vb, struct virtio_blk_config *cfg, char *why,
                          size_t why_size)
{
    /* §2.5.1: fields are not read atomically; read again until the
     * generation is the same before and after. Bounded: a device changing its
     * configuration without end is a fault of its own. */
    for (unsigned tries = 0; tries < VBLK_CONFIG_GENERATION_TRIES; tries++) {
        uint8_t before = mmio_read8(vb->common, VIRTIO_COMMON(config_generation));
        read_config_once(vb, cfg);
        uint8_t after = mmio_read8(vb->common, VIRTIO_COMMON(config_generation));
        if (before == after)
            return true;
    }
    snprintf(why, why_size, "config_generation changed during each of %u reads of the device "
             "configuration", VBLK_CONFIG_GENERATION_TRIES);
    return false;
}

uint16_t vblk_pci_queue_max(struct vblk *vb)
{
    mmio_write16(vb->common, VIRTIO_COMMON(queue_select), 0);
    return mmio_read16(vb->common, VIRTIO_COMMON(queue_size));
}

uint16_t vblk_pci_num_queues(struct vblk *vb)
{
    return mmio_read16(vb->common, VIRTIO_COMMON(num_queues));
}

bool vblk_pci_queue_setup(struct vblk *vb, char *why, size_t why_size)
{
    volatile void *c = vb->common;
    mmio_write16(c, VIRTIO_COMMON(queue_select), 0);
    mmio_write16(c, VIRTIO_COMMON(queue_size), vb->vq.size);
    mmio_write64(c, VIRTIO_COMMON(queue_desc), vb->desc_mem.phys);
    mmio_write64(c, VIRTIO_COMMON(queue_driver), vb->avail_mem.phys);
    mmio_write64(c, VIRTIO_COMMON(queue_device), vb->used_mem.phys);
    vb->queue_notify_off = mmio_read16(c, VIRTIO_COMMON(queue_notify_off));
    /* §4.1.4.4: cap.offset + queue_notify_off * notify_off_multiplier, with
     * two bytes there inside the notify structure. */
    uint64_t at = (uint64_t)vb->queue_notify_off * vb->layout.notify_off_multiplier;
    if (at + 2 > vb->layout.notify.length) {
        snprintf(why, why_size, "queue 0's notify address (queue_notify_off %u x multiplier %u) "
                 "lies outside the %u-byte notify structure", vb->queue_notify_off,
                 vb->layout.notify_off_multiplier, vb->layout.notify.length);
        return false;
    }
    vb->notify = (volatile uint8_t *)vb->notify_base + at;
    return true;
}

static bool set_vector(struct vblk *vb, uint64_t field, uint16_t entry, const char *what,
                       char *why, size_t why_size)
{
    mmio_write16(vb->common, field, entry);
    uint16_t got = mmio_read16(vb->common, field);
    if (got == entry)
        return true;
    /* §4.1.5.1.2.1: a mapping the device could not make reads NO_VECTOR. */
    snprintf(why, why_size, "%s MSI-X vector: wrote table entry %u, reads back 0x%04x%s", what,
             entry, got, got == VIRTIO_MSI_NO_VECTOR ? " (NO_VECTOR: the device refused it)" : "");
    return false;
}

bool vblk_pci_set_vectors(struct vblk *vb, uint16_t config_entry, uint16_t queue_entry,
                          char *why, size_t why_size)
{
    if (!set_vector(vb, VIRTIO_COMMON(config_msix_vector), config_entry, "configuration change",
                    why, why_size))
        return false;
    mmio_write16(vb->common, VIRTIO_COMMON(queue_select), 0);
    return set_vector(vb, VIRTIO_COMMON(queue_msix_vector), queue_entry, "queue 0", why, why_size);
}

void vblk_pci_queue_enable(struct vblk *vb)
{
    /* Last: §4.1.4.3.2, the other queue fields (the MSI-X vector too) are set
     * before queue_enable. */
    mmio_write16(vb->common, VIRTIO_COMMON(queue_select), 0);
    mmio_write16(vb->common, VIRTIO_COMMON(queue_enable), 1);
}

void vblk_pci_notify(struct vblk *vb)
{
    /* Without VIRTIO_F_NOTIFICATION_DATA: the 16-bit queue index (§4.1.5.2). */
    mmio_write16(vb->notify, 0, 0);
}
