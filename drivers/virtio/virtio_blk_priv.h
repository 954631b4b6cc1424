/* SPDX-License-Identifier: MIT */
/* drivers/virtio/virtio_blk_priv.h — the virtio-blk driver's state, shared
 * by its files. Kernel only; the in-kernel suite never includes it: it sees
 * the driver through struct vblk_test_view and the vblk_test_*() hooks
 * (virtio_blk.h). The files stand in layers and call only downwards
 * (tools/layercheck holds them to it), top first:
 *   virtio_test.c       the suite's view and hooks; nothing in the driver
 *                       calls it
 *   virtio_blk_probe.c  BLK_DRIVER(virtio_blk), finding and naming devices,
 *                       interrupts, GET_ID, the boot lines, preflight
 *   virtio_blk_io.c     the blk_ops: requests split into virtio-blk requests,
 *                       submit/kick/poll, completions, deadlines and resets,
 *                       MSI-X handlers, describe, shutdown; the hooks that
 *                       need the I/O path's own state (the last request as
 *                       sent, a reset with requests in flight)
 *   virtio_blk_dev.c    device initialization (§3.1.1) with feature
 *                       negotiation, configuration reads, virtqueue set-up
 *   virtio_pci.c        the PCI transport's registers (§4.1): status, features,
 *                       queue registers, MSI-X vectors, notifications
 *   virtio_blk_req.c    pure: the feature decision, limits from the
 *                       configuration, descriptor chains, sectors, status words
 * and the pure transport helpers of virtio.h. */
#ifndef DRIVERS_VIRTIO_VIRTIO_BLK_PRIV_H
#define DRIVERS_VIRTIO_VIRTIO_BLK_PRIV_H
#include "drivers/blk/fifo.h"
#include "drivers/virtio/virtio_blk.h"
#include "kernel/memory.h"

#define VBLK_MAX_QUEUE_SIZE     256     /* the queue_size bareio asks for at most */
#define VBLK_RESET_TIMEOUT_MS   10000   /* see vblk_pci_reset() */
#define VBLK_BRINGUP_TIMEOUT_MS 10000   /* GET_ID, the shutdown flush (blk.timeout= is the block
                                         * layer's: set when the disk registers) */

/* A request slot's DMA memory: what the device reads (header, DISCARD /
 * WRITE_ZEROES segment, indirect table) and the status byte it writes. */
struct vblk_slot_dma {
    struct virtio_blk_req_header header;
    struct virtio_blk_discard_write_zeroes range;
    uint8_t status;
    uint8_t pad[15];
    struct virtq_desc table[];      /* the chain as sent (the indirect table when indirect) */
};
_Static_assert(offsetof(struct vblk_slot_dma, table) % VIRTQ_DESC_ALIGN == 0,
               "an indirect table is 16-byte aligned");

/* One virtio-blk request in flight (a part of a blk_request). Kept after it
 * completes, for describe() and the test view, until the slot is reused. */
struct vblk_slot {
    struct blk_request *req;        /* the last request it carried */
    struct vblk_slot_dma *dma;
    uint64_t dma_phys;
    uint16_t ndesc;                 /* descriptors in the chain */
    uint16_t head;                  /* its ring descriptor while in flight */
    bool in_flight;
    bool timed_out;
    uint32_t type;
    uint64_t lba;                   /* this part's blocks */
    uint32_t blocks;
    uint64_t data_bytes;
    uint64_t deadline_ns;
    uint8_t status;                 /* the status byte as completed */
    uint32_t used_len;              /* the used ring's len for it */
};

struct vblk {
    struct blk_dev dev;             /* its disk; dev.name is the device's name too */
    unsigned index;
    struct pci_device *pci;
    int bar;                        /* the common configuration's BAR */
    volatile void *common, *notify_base, *isr, *device_cfg;
    volatile void *notify;          /* queue 0's notify address */
    /* Scratch for the dry run of a request's split: the device's own, since
     * devices are driven by several CPUs at once (one each). */
    struct virtq_desc dry_run_table[VIRTIO_BLK_MAX_DATA_DESC];
    struct virtio_pci_layout layout;
    uint64_t offered, accepted;
    struct virtio_blk_config config;
    struct virtio_blk_limits lim;
    uint16_t device_queue_size;     /* queue_size as the device offered it */
    uint16_t queue_notify_off;
    struct virtq vq;
    struct dma_region desc_mem, avail_mem, used_mem, slot_mem, id_mem;
    struct vblk_slot *slots;        /* vq.size of them */
    uint16_t *head_slot;            /* the slot each ring head carries */
    uint32_t slot_stride;
    uint16_t slot_hint;
    uint16_t slots_in_flight;
    struct blk_fifo pending;        /* requests with parts not yet on the ring */
    bool bus_master;
    bool alive;                     /* DRIVER_OK and serving */
    bool shut_down;
    bool in_recovery;
    /* Interrupts: MSI-X entry config_entry for configuration changes and
     * queue_entry for queue 0 (the same entry when the table has one). */
    enum vblk_irq_mode irq_mode;
    int queue_vector, config_vector;
    uint16_t queue_entry, config_entry;
    uint64_t irq_seen_count, stale_since_ns;
    uint64_t next_check_ns;
    /* Statistics (tests, describe). */
    uint64_t kicks, notifies, notifies_suppressed, parts, completed, polled_completed;
    uint64_t interrupts, config_interrupts, splits, bad_used;
    unsigned resets, timeouts;
    char last_recovery[160];
    char last_reset[96];
    bool test_break_next;           /* vblk_test_break_next_request() */
};

/* virtio_pci.c: the transport's registers. */
uint8_t vblk_pci_status(struct vblk *vb);
void vblk_pci_set_status(struct vblk *vb, uint8_t status);
/* Writes 0 to device_status and waits, bounded, for it to read 0. */
bool vblk_pci_reset(struct vblk *vb, char *why, size_t why_size);
uint64_t vblk_pci_device_features(struct vblk *vb);
void vblk_pci_set_driver_features(struct vblk *vb, uint64_t features);
/* The device configuration (the fields `size` bytes cover that the device's
 * structure holds), read until config_generation is stable (§4.1.4.3.1). */
bool vblk_pci_read_config(struct vblk *vb, struct virtio_blk_config *cfg, char *why,
                          size_t why_size);
/* Queue 0: its size as offered (0: none); its size and rings written and its
 * notify address found; enabled (last). */
uint16_t vblk_pci_queue_max(struct vblk *vb);
uint16_t vblk_pci_num_queues(struct vblk *vb);
bool vblk_pci_queue_setup(struct vblk *vb, char *why, size_t why_size);
void vblk_pci_queue_enable(struct vblk *vb);
/* MSI-X vectors (config, queue 0); each read back; false if one reads NO_VECTOR. */
bool vblk_pci_set_vectors(struct vblk *vb, uint16_t config_entry, uint16_t queue_entry,
                          char *why, size_t why_size);
void vblk_pci_notify(struct vblk *vb);

/* virtio_blk_dev.c: device initialization (§3.1.1), also after a reset. */
bool vblk_dev_start(struct vblk *vb, bool first, enum blk_cause *cause, char *why,
                    size_t why_size);

/* virtio_blk_io.c: the blk_ops (vblk_blk_ops, in virtio_blk.h) and: */
/* A request of the driver's own (GET_ID, the shutdown flush), polled to
 * completion within VBLK_BRINGUP_TIMEOUT_MS. */
enum blk_cause vblk_sync(struct vblk *vb, uint32_t type, uint64_t data_phys, uint32_t data_len,
                         char *detail, size_t detail_size);
/* MSI-X: allocates the vectors and programs the table entries; false
 * (polling then) when it could not. */
bool vblk_irq_setup(struct vblk *vb);

/* The device behind dev, NULL when dev is not a virtio-blk device. */
struct vblk *vblk_of(const struct blk_dev *dev);

#endif
