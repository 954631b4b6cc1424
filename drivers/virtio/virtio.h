/* SPDX-License-Identifier: MIT */
/* drivers/virtio/virtio.h — virtio 1.x as bareio's virtio-blk driver uses it:
 * the PCI transport (Virtio 1.2 §4.1: vendor-specific capabilities, the
 * common configuration structure, notifications), the device status field
 * (§2.1), the reserved feature bits (§6) and the split virtqueue (§2.7), with
 * the hardware-free helpers built on them:
 *   virtio_pci_caps.c  the capability list parsed from a config-space image
 *   virtio_features.c  feature and device-status words
 *   virtqueue.c        a split virtqueue in memory (free list, avail, used)
 * All three are pure (host-tested in tests/host/test_virtio.c). Left out: the
 * legacy (0.9.5) interface, packed virtqueues, VIRTIO_F_EVENT_IDX,
 * notification data, queue reset, the PCI configuration access capability
 * and shared memory regions. */
#ifndef DRIVERS_VIRTIO_VIRTIO_H
#define DRIVERS_VIRTIO_VIRTIO_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---- PCI discovery (§4.1.2) ---- */
#define VIRTIO_PCI_VENDOR_ID            0x1af4
#define VIRTIO_PCI_DEVICE_ID_MODERN(id) (0x1040 + (id))     /* 0x1040 + virtio device ID */
#define VIRTIO_ID_BLOCK                 2
#define VIRTIO_PCI_DEVICE_BLOCK_TRANSITIONAL 0x1001

/* ---- device status (§2.1) ---- */
#define VIRTIO_STATUS_ACKNOWLEDGE       0x01
#define VIRTIO_STATUS_DRIVER            0x02
#define VIRTIO_STATUS_DRIVER_OK         0x04
#define VIRTIO_STATUS_FEATURES_OK       0x08
#define VIRTIO_STATUS_DEVICE_NEEDS_RESET 0x40
#define VIRTIO_STATUS_FAILED            0x80

/* ---- reserved feature bits (§6), as bit numbers ---- */
#define VIRTIO_F_NOTIFY_ON_EMPTY        24      /* legacy */
#define VIRTIO_F_ANY_LAYOUT             27      /* legacy */
#define VIRTIO_F_INDIRECT_DESC          28
#define VIRTIO_F_EVENT_IDX              29
#define VIRTIO_F_VERSION_1              32
#define VIRTIO_F_ACCESS_PLATFORM        33
#define VIRTIO_F_RING_PACKED            34
#define VIRTIO_F_IN_ORDER               35
#define VIRTIO_F_ORDER_PLATFORM         36
#define VIRTIO_F_SR_IOV                 37
#define VIRTIO_F_NOTIFICATION_DATA      38
#define VIRTIO_F_NOTIF_CONFIG_DATA      39
#define VIRTIO_F_RING_RESET             40
#define VIRTIO_F_ADMIN_VQ               41
#define VIRTIO_BIT(n)                   (1ull << (n))

/* ---- virtio structure PCI capabilities (§4.1.4) ---- */
#define VIRTIO_PCI_CAP_COMMON_CFG       1
#define VIRTIO_PCI_CAP_NOTIFY_CFG       2
#define VIRTIO_PCI_CAP_ISR_CFG          3
#define VIRTIO_PCI_CAP_DEVICE_CFG       4
#define VIRTIO_PCI_CAP_PCI_CFG          5
#define VIRTIO_PCI_CAP_SHARED_MEMORY_CFG 8
#define VIRTIO_PCI_CAP_VENDOR_CFG       9

struct virtio_pci_cap {
    uint8_t cap_vndr;       /* PCI_CAP_ID_VENDOR (09h) */
    uint8_t cap_next;
    uint8_t cap_len;        /* the whole capability, extra data included */
    uint8_t cfg_type;       /* VIRTIO_PCI_CAP_* */
    uint8_t bar;            /* 0..5; other values are reserved: the capability is ignored */
    uint8_t id;
    uint8_t padding[2];
    uint32_t offset;        /* within the BAR */
    uint32_t length;        /* of the structure */
};
_Static_assert(sizeof(struct virtio_pci_cap) == 16, "Virtio 1.2 §4.1.4: virtio_pci_cap is 16 bytes");
_Static_assert(offsetof(struct virtio_pci_cap, offset) == 8, "virtio_pci_cap.offset at byte 8");
_Static_assert(offsetof(struct virtio_pci_cap, length) == 12, "virtio_pci_cap.length at byte 12");

struct virtio_pci_notify_cap {
    struct virtio_pci_cap cap;
    uint32_t notify_off_multiplier;     /* queue notify address = offset + off * this */
};
_Static_assert(sizeof(struct virtio_pci_notify_cap) == 20, "§4.1.4.4: notify cap is 20 bytes");

/* The common configuration structure (§4.1.4.3). Accessed through its
 * offsets only, each field with its own width (§4.1.3.1). */
struct virtio_pci_common_cfg {
    uint32_t device_feature_select;
    uint32_t device_feature;
    uint32_t driver_feature_select;
    uint32_t driver_feature;
    uint16_t config_msix_vector;
    uint16_t num_queues;
    uint8_t device_status;
    uint8_t config_generation;
    uint16_t queue_select;
    uint16_t queue_size;
    uint16_t queue_msix_vector;
    uint16_t queue_enable;
    uint16_t queue_notify_off;
    uint64_t queue_desc;
    uint64_t queue_driver;
    uint64_t queue_device;
    uint16_t queue_notify_data;     /* VIRTIO_F_NOTIF_CONFIG_DATA only */
    uint16_t queue_reset;           /* VIRTIO_F_RING_RESET only */
};
_Static_assert(offsetof(struct virtio_pci_common_cfg, device_feature) == 4, "§4.1.4.3 layout");
_Static_assert(offsetof(struct virtio_pci_common_cfg, driver_feature) == 12, "§4.1.4.3 layout");
_Static_assert(offsetof(struct virtio_pci_common_cfg, config_msix_vector) == 16, "§4.1.4.3 layout");
_Static_assert(offsetof(struct virtio_pci_common_cfg, num_queues) == 18, "§4.1.4.3 layout");
_Static_assert(offsetof(struct virtio_pci_common_cfg, device_status) == 20, "§4.1.4.3 layout");
_Static_assert(offsetof(struct virtio_pci_common_cfg, config_generation) == 21, "§4.1.4.3 layout");
_Static_assert(offsetof(struct virtio_pci_common_cfg, queue_select) == 22, "§4.1.4.3 layout");
_Static_assert(offsetof(struct virtio_pci_common_cfg, queue_size) == 24, "§4.1.4.3 layout");
_Static_assert(offsetof(struct virtio_pci_common_cfg, queue_msix_vector) == 26, "§4.1.4.3 layout");
_Static_assert(offsetof(struct virtio_pci_common_cfg, queue_enable) == 28, "§4.1.4.3 layout");
_Static_assert(offsetof(struct virtio_pci_common_cfg, queue_notify_off) == 30, "§4.1.4.3 layout");
_Static_assert(offsetof(struct virtio_pci_common_cfg, queue_desc) == 32, "§4.1.4.3 layout");
_Static_assert(offsetof(struct virtio_pci_common_cfg, queue_driver) == 40, "§4.1.4.3 layout");
_Static_assert(offsetof(struct virtio_pci_common_cfg, queue_device) == 48, "§4.1.4.3 layout");
_Static_assert(offsetof(struct virtio_pci_common_cfg, queue_notify_data) == 56, "§4.1.4.3 layout");
#define VIRTIO_COMMON(field)            offsetof(struct virtio_pci_common_cfg, field)
/* The fields a virtio 1.0 device must have: through queue_device. */
#define VIRTIO_PCI_COMMON_CFG_MIN_LENGTH 56u
#define VIRTIO_MSI_NO_VECTOR            0xffff

/* ---- the capability list, parsed (virtio_pci_caps.c) ---- */
/* What the PCI layer knows of each BAR, given to the parser. */
struct virtio_pci_bar_info {
    bool memory;            /* an implemented memory BAR (I/O BARs are not used) */
    uint64_t size;
};
/* Where one virtio structure is. */
struct virtio_pci_region {
    bool present;
    uint8_t bar;
    uint8_t cap_offset;     /* in config space */
    uint32_t offset;
    uint32_t length;
};
struct virtio_pci_layout {
    struct virtio_pci_region common, notify, isr, device;
    uint32_t notify_off_multiplier;
    unsigned virtio_caps;   /* vendor-specific capabilities with a virtio cfg_type */
    unsigned passed_over;   /* of those, the ones not used (a later instance, or unusable) */
};
enum virtio_pci_verdict {
    VIRTIO_PCI_MODERN,      /* common, notify, ISR and device configuration all usable */
    VIRTIO_PCI_LEGACY_ONLY, /* no virtio capability at all: a legacy (0.9.5) device */
    VIRTIO_PCI_UNUSABLE,    /* virtio capabilities, but one of the four missing or unusable */
};
/* Walks the capability list of a 256-byte image of the function's
 * configuration space (bounded: 48 entries, as pci_find_capability), keeping
 * the first usable instance of each structure type (§4.1.4.1: the driver
 * SHOULD use the first it can support). A capability is passed over when its
 * bar is reserved (> 5) or not a memory BAR, when offset + length runs past
 * the BAR, when it is shorter than the structure (common < 56 bytes, notify
 * < 2 bytes or cap_len < 20, ISR < 1) or misaligned (common and device 4
 * bytes, notify 2). `why` says what is missing or the first reason a
 * capability was passed over. */
enum virtio_pci_verdict virtio_pci_parse_layout(const uint8_t config[256],
                                                const struct virtio_pci_bar_info bars[6],
                                                struct virtio_pci_layout *out, char *why,
                                                size_t why_size);
/* "common cfg" ... "vendor data", "type 7". */
const char *virtio_pci_cap_name(uint8_t cfg_type);

/* ---- words (virtio_features.c) ---- */
/* Names of the device-type feature bits 0..23, NULL where unnamed. */
typedef const char *const virtio_device_feature_names[24];
/* "VERSION_1 INDIRECT_DESC SEG_MAX ..." (device bits from `names`), bits
 * without a name as "bit N"; "none" for 0. */
void virtio_feature_words(uint64_t features, const virtio_device_feature_names *names, char *buf,
                          size_t size);
/* "0x0f ACKNOWLEDGE DRIVER FEATURES_OK DRIVER_OK", "0x00 (reset)",
 * "0x4f ... DEVICE_NEEDS_RESET (the device hit an error it cannot recover
 * from)", "0xff (all ones: the device does not answer)". */
void virtio_status_describe(uint8_t status, char *buf, size_t size);

/* ---- split virtqueue (§2.7) ---- */
struct virtq_desc {
    uint64_t addr;
    uint32_t len;
    uint16_t flags;
    uint16_t next;
};
_Static_assert(sizeof(struct virtq_desc) == 16, "Virtio 1.2 §2.7.5: virtq_desc is 16 bytes");
_Static_assert(offsetof(struct virtq_desc, flags) == 12, "virtq_desc.flags at byte 12");
#define VIRTQ_DESC_F_NEXT       1
#define VIRTQ_DESC_F_WRITE      2
#define VIRTQ_DESC_F_INDIRECT   4

struct virtq_avail {
    uint16_t flags;
    uint16_t idx;
    uint16_t ring[];        /* queue size entries; used_event after them (EVENT_IDX only) */
};
_Static_assert(offsetof(struct virtq_avail, ring) == 4, "§2.7.6: avail ring at byte 4");
#define VIRTQ_AVAIL_F_NO_INTERRUPT 1

struct virtq_used_elem {
    uint32_t id;            /* head of the chain */
    uint32_t len;           /* bytes written into its device-writable buffers */
};
_Static_assert(sizeof(struct virtq_used_elem) == 8, "§2.7.8: virtq_used_elem is 8 bytes");
struct virtq_used {
    uint16_t flags;
    uint16_t idx;
    struct virtq_used_elem ring[];
};
_Static_assert(offsetof(struct virtq_used, ring) == 4, "§2.7.8: used ring at byte 4");
#define VIRTQ_USED_F_NO_NOTIFY  1

/* Sizes and alignments of the three parts (§2.7 table). */
#define VIRTQ_DESC_ALIGN        16
#define VIRTQ_AVAIL_ALIGN       2
#define VIRTQ_USED_ALIGN        4
#define VIRTQ_MAX_SIZE          32768
static inline uint64_t virtq_desc_bytes(uint16_t size) { return 16ull * size; }
static inline uint64_t virtq_avail_bytes(uint16_t size) { return 6ull + 2ull * size; }
static inline uint64_t virtq_used_bytes(uint16_t size) { return 6ull + 8ull * size; }

/* A split virtqueue as the driver keeps it. The three rings are the
 * device's view (DMA memory, zeroed by virtq_reset); free_next and
 * chain_len are the driver's own, `size` entries each. A chain is added in
 * one of two ways: as `n` ring descriptors linked by next (direct), or as
 * one ring descriptor pointing at a table of `n` (VIRTQ_DESC_F_INDIRECT,
 * §2.7.5.3). Indices are free-running 16-bit counters, taken modulo size
 * only to address a ring entry. Not locked: the caller keeps interrupts off. */
struct virtq {
    uint16_t size;                      /* a power of two */
    volatile struct virtq_desc *desc;
    volatile struct virtq_avail *avail;
    volatile struct virtq_used *used;
    uint16_t *free_next;                /* free list links */
    uint16_t *chain_len;                /* ring descriptors of the chain a head starts; 0: none */
    uint16_t free_head, num_free;
    uint16_t avail_idx;                 /* the next avail ring entry (not yet published) */
    uint16_t avail_published;           /* what avail->idx was last set to */
    uint16_t last_used;                 /* the next used ring entry to read */
    uint16_t heads;                     /* chains added and not yet used */
};
/* Empties the queue: rings zeroed (§4.1.5.1.3: "allocate and zero"), every
 * descriptor free, indices 0; avail->flags NO_INTERRUPT when asked (polled
 * mode: §2.7.7, a hint the device may ignore). */
void virtq_reset(struct virtq *vq, bool no_interrupt);
/* Room for a chain of `n` descriptors (1 ring descriptor when indirect). */
bool virtq_has_room(const struct virtq *vq, uint16_t n, bool indirect);
/* Adds the chain chain[0..n) (its next fields and NEXT flags are relative
 * to chain[], as virtio_blk_chain_close makes them) to the avail ring
 * without publishing it. Indirect: one ring descriptor, its table at
 * table_phys (which must hold chain[] as given). Returns the head, or
 * 0xffff when there is no room. */
uint16_t virtq_add(struct virtq *vq, const struct virtq_desc *chain, uint16_t n, bool indirect,
                   uint64_t table_phys);
/* Makes everything added visible (avail->idx, after a release fence);
 * returns how many chains that published. */
uint16_t virtq_publish(struct virtq *vq);
/* After a publish: whether the device wants a notification (used->flags
 * NO_NOTIFY clear), read after a full fence as §2.7.10.3 asks. */
bool virtq_notify_wanted(const struct virtq *vq);
/* Used entries the driver has not taken yet (used->idx - last_used). */
uint16_t virtq_used_pending(const struct virtq *vq);
enum virtq_used_result {
    VIRTQ_USED_NONE,        /* nothing new */
    VIRTQ_USED_OK,          /* *id is the head of a chain in flight, now freed */
    VIRTQ_USED_BAD_ID,      /* the entry names no chain in flight (device bug): skipped */
};
/* Takes the next used entry (after an acquire fence on used->idx). */
enum virtq_used_result virtq_take_used(struct virtq *vq, uint32_t *id, uint32_t *len);

#endif
