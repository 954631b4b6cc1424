/* SPDX-License-Identifier: MIT */
/* drivers/virtio/virtio_blk.h — the virtio block device (Virtio 1.2 §5.2):
 * feature bits, configuration layout, request header and status, the pure
 * helpers (virtio_blk_req.c), and what the virtio suite
 * (tests/kernel/test_virtio.c) may see of the driver: struct vblk_test_view
 * and the vblk_test_*() hooks. The driver's state and the interface between
 * its files are in virtio_blk_priv.h, which the suite does not include.
 * Devices and their single disk share one name, vblk0, vblk1, ... in PCI
 * order (the count includes devices that fail bring-up, so a name always
 * means the same function, as the preflight suite names it). One request
 * queue (VIRTIO_BLK_F_MQ is not negotiated); no FUA (virtio-blk has none), no
 * zoned devices, no secure erase, no VIRTIO_BLK_F_CONFIG_WCE (the cache mode
 * is the device's). */
#ifndef DRIVERS_VIRTIO_VIRTIO_BLK_H
#define DRIVERS_VIRTIO_VIRTIO_BLK_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "drivers/blk/blk.h"
#include "drivers/virtio/virtio.h"

/* ---- feature bits (§5.2.3), as bit numbers ---- */
#define VIRTIO_BLK_F_BARRIER        0       /* legacy */
#define VIRTIO_BLK_F_SIZE_MAX       1
#define VIRTIO_BLK_F_SEG_MAX        2
#define VIRTIO_BLK_F_GEOMETRY       4
#define VIRTIO_BLK_F_RO             5
#define VIRTIO_BLK_F_BLK_SIZE       6
#define VIRTIO_BLK_F_SCSI           7       /* legacy */
#define VIRTIO_BLK_F_FLUSH          9
#define VIRTIO_BLK_F_TOPOLOGY       10
#define VIRTIO_BLK_F_CONFIG_WCE     11
#define VIRTIO_BLK_F_MQ             12
#define VIRTIO_BLK_F_DISCARD        13
#define VIRTIO_BLK_F_WRITE_ZEROES   14
#define VIRTIO_BLK_F_LIFETIME       15
#define VIRTIO_BLK_F_SECURE_ERASE   16
#define VIRTIO_BLK_F_ZONED          17

/* What bareio accepts when offered (and implements): VERSION_1 is required,
 * the rest optional. ACCESS_PLATFORM: bareio programs no IOMMU, so the
 * addresses it gives are the physical ones (§6.1: the driver must then
 * disable the IOMMU or translate; firmware leaves it off). ORDER_PLATFORM:
 * the ring is ordered with the fences real hardware needs (virtqueue.c). */
#define VIRTIO_BLK_DRIVER_FEATURES                                                       \
    (VIRTIO_BIT(VIRTIO_F_VERSION_1) | VIRTIO_BIT(VIRTIO_F_INDIRECT_DESC) |               \
     VIRTIO_BIT(VIRTIO_F_ACCESS_PLATFORM) | VIRTIO_BIT(VIRTIO_F_ORDER_PLATFORM) |        \
     VIRTIO_BIT(VIRTIO_BLK_F_SIZE_MAX) | VIRTIO_BIT(VIRTIO_BLK_F_SEG_MAX) |              \
     VIRTIO_BIT(VIRTIO_BLK_F_RO) | VIRTIO_BIT(VIRTIO_BLK_F_BLK_SIZE) |                   \
     VIRTIO_BIT(VIRTIO_BLK_F_FLUSH) | VIRTIO_BIT(VIRTIO_BLK_F_TOPOLOGY) |                \
     VIRTIO_BIT(VIRTIO_BLK_F_DISCARD) | VIRTIO_BIT(VIRTIO_BLK_F_WRITE_ZEROES))

/* ---- device configuration layout (§5.2.4) ---- */
struct virtio_blk_config {
    uint64_t capacity;              /* 512-byte sectors, always */
    uint32_t size_max;              /* SIZE_MAX: bytes in one segment */
    uint32_t seg_max;               /* SEG_MAX: segments in one request */
    uint16_t cylinders;             /* GEOMETRY */
    uint8_t heads;
    uint8_t sectors;
    uint32_t blk_size;              /* BLK_SIZE: logical block, bytes */
    uint8_t physical_block_exp;     /* TOPOLOGY: log2 logical blocks per physical */
    uint8_t alignment_offset;
    uint16_t min_io_size;           /* in logical blocks */
    uint32_t opt_io_size;
    uint8_t writeback;              /* CONFIG_WCE */
    uint8_t unused0;
    uint16_t num_queues;            /* MQ */
    uint32_t max_discard_sectors;   /* DISCARD: 512-byte units */
    uint32_t max_discard_seg;
    uint32_t discard_sector_alignment;
    uint32_t max_write_zeroes_sectors;  /* WRITE_ZEROES */
    uint32_t max_write_zeroes_seg;
    uint8_t write_zeroes_may_unmap;
    uint8_t unused1[3];
};
_Static_assert(offsetof(struct virtio_blk_config, size_max) == 8, "§5.2.4: size_max at 8");
_Static_assert(offsetof(struct virtio_blk_config, seg_max) == 12, "§5.2.4: seg_max at 12");
_Static_assert(offsetof(struct virtio_blk_config, cylinders) == 16, "§5.2.4: geometry at 16");
_Static_assert(offsetof(struct virtio_blk_config, blk_size) == 20, "§5.2.4: blk_size at 20");
_Static_assert(offsetof(struct virtio_blk_config, physical_block_exp) == 24, "§5.2.4: topology at 24");
_Static_assert(offsetof(struct virtio_blk_config, min_io_size) == 26, "§5.2.4: min_io_size at 26");
_Static_assert(offsetof(struct virtio_blk_config, opt_io_size) == 28, "§5.2.4: opt_io_size at 28");
_Static_assert(offsetof(struct virtio_blk_config, writeback) == 32, "§5.2.4: writeback at 32");
_Static_assert(offsetof(struct virtio_blk_config, num_queues) == 34, "§5.2.4: num_queues at 34");
_Static_assert(offsetof(struct virtio_blk_config, max_discard_sectors) == 36, "§5.2.4: at 36");
_Static_assert(offsetof(struct virtio_blk_config, max_discard_seg) == 40, "§5.2.4: at 40");
_Static_assert(offsetof(struct virtio_blk_config, discard_sector_alignment) == 44, "§5.2.4: at 44");
_Static_assert(offsetof(struct virtio_blk_config, max_write_zeroes_sectors) == 48, "§5.2.4: at 48");
_Static_assert(offsetof(struct virtio_blk_config, max_write_zeroes_seg) == 52, "§5.2.4: at 52");
_Static_assert(offsetof(struct virtio_blk_config, write_zeroes_may_unmap) == 56, "§5.2.4: at 56");
_Static_assert(offsetof(struct virtio_blk_config, unused1) + 3 == 60,
               "§5.2.4: 60 bytes up to the secure erase fields");
#define VIRTIO_BLK_CONFIG(field)    offsetof(struct virtio_blk_config, field)

/* ---- requests (§5.2.6) ---- */
#define VIRTIO_BLK_T_IN             0
#define VIRTIO_BLK_T_OUT            1
#define VIRTIO_BLK_T_FLUSH          4
#define VIRTIO_BLK_T_GET_ID         8
#define VIRTIO_BLK_T_GET_LIFETIME   10
#define VIRTIO_BLK_T_DISCARD        11
#define VIRTIO_BLK_T_WRITE_ZEROES   13
#define VIRTIO_BLK_T_SECURE_ERASE   14

struct virtio_blk_req_header {
    uint32_t type;
    uint32_t reserved;              /* was ioprio (legacy) */
    uint64_t sector;                /* 512-byte units; 0 but for IN and OUT */
};
_Static_assert(sizeof(struct virtio_blk_req_header) == 16, "§5.2.6: request header is 16 bytes");
_Static_assert(offsetof(struct virtio_blk_req_header, sector) == 8, "§5.2.6: sector at byte 8");

/* The data of DISCARD and WRITE_ZEROES: one such segment per request. */
struct virtio_blk_discard_write_zeroes {
    uint64_t sector;
    uint32_t num_sectors;
    uint32_t flags;                 /* bit 0 unmap (write zeroes only) */
};
_Static_assert(sizeof(struct virtio_blk_discard_write_zeroes) == 16, "§5.2.6: segment is 16 bytes");

#define VIRTIO_BLK_S_OK             0
#define VIRTIO_BLK_S_IOERR          1
#define VIRTIO_BLK_S_UNSUPP         2
/* Written into the status byte before a request is posted: no status the
 * device may write, so one still there after completion was never written. */
#define VIRTIO_BLK_STATUS_UNWRITTEN 0xff
#define VIRTIO_BLK_SECTOR_SIZE      512u
#define VIRTIO_BLK_ID_BYTES         20

/* ---- pure helpers (virtio_blk_req.c) ---- */
extern const virtio_device_feature_names virtio_blk_feature_names;
/* The features to accept from those offered: VIRTIO_BLK_DRIVER_FEATURES
 * that are offered, or false (with the reason) when VIRTIO_F_VERSION_1 is not
 * offered (§6.1: a modern driver needs it; a device without it is legacy). */
bool virtio_blk_negotiate(uint64_t offered, uint64_t *accepted, char *why, size_t why_size);

/* What the driver does with a device, from the negotiated features, its
 * configuration and the queue it set up. */
struct virtio_blk_limits {
    uint32_t block_size;            /* logical: blk_size, else 512 */
    uint32_t phys_block_size;
    uint32_t sectors_per_block;     /* block_size / 512 */
    uint64_t nblocks;               /* capacity / sectors_per_block */
    uint32_t seg_max;               /* data descriptors per request */
    uint32_t size_max;              /* bytes per data descriptor (UINT32_MAX: no limit) */
    uint32_t max_transfer;          /* blocks per request */
    uint32_t max_discard;           /* blocks per DISCARD, 0 when not negotiated */
    uint32_t max_write_zeroes;      /* blocks per WRITE_ZEROES, 0 when not negotiated */
    bool read_only, flush, indirect;
};
/* Bytes per request bareio sends at most when the device sets no tighter
 * limit (no VIRTIO_BLK_F_SIZE_MAX, or size_max x seg_max larger): requests
 * larger are split, so a split is exercised at modest sizes too. */
#define VIRTIO_BLK_MAX_TRANSFER_BYTES (1u << 20)
/* Data descriptors per request at most, whatever seg_max says: with the
 * header and the status byte a request's table is one 4 KiB page. */
#define VIRTIO_BLK_MAX_DATA_DESC    254u
/* Computes the limits: BLK_OK, or the cause with the reason when the device
 * cannot be driven. BLK_CAUSE_IMPOSSIBLE (why begins with
 * BLK_IMPOSSIBLE_WORDS) for what virtio rules out: a capacity of 0, a
 * negotiated blk_size below 512 or not a power of two. BLK_CAUSE_UNSUPPORTED
 * for what bareio does not drive: a blk_size above 65536, a capacity below
 * one block, a descriptor budget (queue_size) below three, or a size_max x
 * seg_max that cannot carry one block. */
enum blk_cause virtio_blk_limits(uint64_t features, const struct virtio_blk_config *cfg,
                                 uint16_t queue_size, struct virtio_blk_limits *out, char *why,
                                 size_t why_size);
/* Queue 0's queue_size as the common configuration gives it (num_queues
 * there too, for the words): queue 0 is the requestq every virtio-blk device
 * has (§5.2.2), so 0 ("unavailable", §4.1.4.3) is BLK_CAUSE_IMPOSSIBLE. */
enum blk_cause virtio_blk_requestq_check(uint16_t num_queues, uint16_t queue_size, char *why,
                                         size_t why_size);

/* 512-byte sectors: the unit of virtio-blk whatever the block size (§5.2.6). */
static inline uint64_t virtio_blk_sector_of(uint64_t lba, uint32_t block_size)
{
    return lba * (block_size / VIRTIO_BLK_SECTOR_SIZE);
}
/* [lba, lba + count) lies inside `capacity` sectors, without wrapping (§5.2.6.1:
 * a driver MUST NOT submit a request beyond capacity). */
bool virtio_blk_inside_capacity(uint64_t lba, uint64_t count, uint32_t block_size,
                                uint64_t capacity);

/* A position in a request's segments. */
struct virtio_blk_cursor {
    uint32_t seg;
    uint32_t offset;
};
/* Maps data from `cur` into descriptors out[0..), at most max_desc of at
 * most size_max bytes each, at most max_bytes (a multiple of block_size) in
 * all, ending on a block boundary (a request covers whole blocks). Advances
 * `cur` past what it mapped; returns the bytes mapped, 0 when even the next
 * block needs more than max_desc descriptors (then nothing changes). */
uint64_t virtio_blk_map_data(const struct blk_seg *segs, uint32_t nsegs,
                             struct virtio_blk_cursor *cur, uint64_t max_bytes,
                             uint32_t block_size, uint32_t max_desc, uint32_t size_max,
                             bool device_writes, struct virtq_desc *out, uint16_t *ndesc);
/* Completes a chain whose data descriptors are table[1..1+ndata): the header
 * (device-readable) at table[0], the status byte (device-writable) after the
 * data, NEXT flags and table-relative next links. Returns its length. */
uint16_t virtio_blk_chain_close(struct virtq_desc *table, uint64_t header_phys, uint16_t ndata,
                                uint64_t status_phys);
/* The header for a request of `type` at lba (sector 0 for all but IN/OUT). */
void virtio_blk_header(struct virtio_blk_req_header *h, uint32_t type, uint64_t lba,
                       uint32_t block_size);
/* The DISCARD / WRITE_ZEROES segment for blocks [lba, lba + count). */
void virtio_blk_range(struct virtio_blk_discard_write_zeroes *r, uint64_t lba, uint32_t count,
                      uint32_t block_size);
/* The device ID string of GET_ID (§5.2.6: NUL-padded ASCII up to 20 bytes,
 * no NUL when it is 20 long), escaped (lib/format.h format_escaped) into dst. */
void virtio_blk_id_string(char *dst, size_t size, const uint8_t id[VIRTIO_BLK_ID_BYTES]);
/* "IN (read)", "OUT (write)", "FLUSH", "GET_ID", "DISCARD", "WRITE_ZEROES". */
const char *virtio_blk_type_name(uint32_t type);
/* The status byte of a completed request, as a cause with words: OK; IOERR
 * (a media error for IN/OUT, whose range the driver checked to be inside the
 * capacity: virtio-blk has no finer code; a device error for the others);
 * UNSUPP (invalid: the device does not support the request); the unwritten
 * marker (a device bug: it completed the request without writing its status);
 * anything else (a device error: a status the spec does not define). */
enum blk_cause virtio_blk_status_cause(uint32_t type, uint8_t status, char *words, size_t size);

/* ---- the virtio suite's view of a device and its hooks (kernel only) ---- */
#ifndef BAREIO_HOST_TEST
enum vblk_irq_mode { VBLK_IRQ_POLL, VBLK_IRQ_MSIX };

/* A device is virtio-blk when these drive it (blk_dev.ops). */
extern const struct blk_ops vblk_blk_ops;

/* What the driver shows of a device (virtio_test.c): a copy, taken when
 * asked. */
struct vblk_test_view {
    unsigned index;                 /* n of vblk<n> */
    uint64_t offered, accepted;     /* feature bits: the device's, and those negotiated */
    uint8_t device_status;          /* device_status (§2.1), read when the view was taken */
    struct virtio_blk_config config;    /* as read at bring-up */
    struct virtio_blk_limits lim;   /* what the driver made of them */
    uint16_t device_queue_size;     /* queue 0's queue_size as the device offered it */
    /* Queue 0 (the split virtqueue, §2.7). */
    uint16_t queue_size;            /* entries the driver set up */
    uint16_t num_free;              /* descriptors free */
    uint16_t heads;                 /* chains added and not yet used */
    uint16_t avail_idx;             /* the next avail ring entry */
    uint16_t last_used;             /* the next used ring entry to read */
    uint16_t slots_in_flight;       /* virtio-blk requests on the ring */
    enum vblk_irq_mode irq_mode;    /* how completions are noticed now */
    bool alive;                     /* DRIVER_OK and serving */
    /* Counters. */
    uint64_t kicks, notifies, notifies_suppressed;  /* notifications the device suppressed */
    uint64_t parts;                 /* virtio-blk requests posted (a split request is several) */
    uint64_t completed, interrupts, config_interrupts, bad_used;
    unsigned resets, timeouts;
    char last_reset[96];            /* why the device was last reset */
};
/* Fills *out for the virtio-blk device dev; false (nothing filled) when dev
 * is none. */
bool vblk_test_view(struct blk_dev *dev, struct vblk_test_view *out);

/* The last virtio-blk request sent for req: its header, its chain as
 * sent (up to `max` descriptors), whether indirect, the status byte and the
 * used length. False when there is none (or its slot was reused). */
struct vblk_sent {
    struct virtio_blk_req_header header;
    struct virtq_desc desc[8];
    uint16_t ndesc;
    bool indirect;
    uint8_t status;
    uint32_t used_len;
};
bool vblk_test_last_sent(const struct blk_dev *dev, const struct blk_request *req,
                         struct vblk_sent *out);
/* Hooks that make something happen on purpose; each says what. */
/* Resets the device with what is in flight (as a timeout would, without
 * failing anything): every request is posted again. False when dev is no
 * live virtio-blk device or it did not come back. */
bool vblk_test_reset(struct blk_dev *dev, const char *reason);
/* Masks (or unmasks) queue 0's MSI-X table entry: a completion then comes
 * without its interrupt. Unmasked, the device is interrupt-driven again
 * (after the polling fallback a missing interrupt puts it in). */
void vblk_test_set_vector_masked(struct blk_dev *dev, bool masked);
/* The next request goes out malformed (its header device-writable): a device
 * that checks sets DEVICE_NEEDS_RESET (QEMU: "virtio-blk missing headers"). */
void vblk_test_break_next_request(struct blk_dev *dev);
#endif /* BAREIO_HOST_TEST */

#endif
