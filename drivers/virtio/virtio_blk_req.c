/* SPDX-License-Identifier: MIT */
/* drivers/virtio/virtio_blk_req.c — the hardware-free half of the virtio-blk
 * driver (Virtio 1.2 §5.2): which offered features to accept, what the
 * negotiated features and the configuration allow (block size, capacity in
 * blocks, descriptors and bytes per request), descriptor chains for one
 * request (header, data mapped from the caller's segments and cut at a block
 * boundary, status byte), 512-byte sector arithmetic, and the status byte in
 * words. A configuration virtio rules out (capacity 0, a blk_size below 512
 * or not a power of two, queue 0 with no entries) is refused as impossible,
 * apart from what bareio merely does not drive. Host-tested in tests/host/test_virtio.c; nothing here reads a
 * register. */
#include "drivers/virtio/virtio_blk.h"
#include "lib/format.h"

const virtio_device_feature_names virtio_blk_feature_names = {
    [VIRTIO_BLK_F_BARRIER] = "BARRIER", [VIRTIO_BLK_F_SIZE_MAX] = "SIZE_MAX",
    [VIRTIO_BLK_F_SEG_MAX] = "SEG_MAX", [VIRTIO_BLK_F_GEOMETRY] = "GEOMETRY",
    [VIRTIO_BLK_F_RO] = "RO", [VIRTIO_BLK_F_BLK_SIZE] = "BLK_SIZE", [VIRTIO_BLK_F_SCSI] = "SCSI",
    [VIRTIO_BLK_F_FLUSH] = "FLUSH", [VIRTIO_BLK_F_TOPOLOGY] = "TOPOLOGY",
    [VIRTIO_BLK_F_CONFIG_WCE] = "CONFIG_WCE", [VIRTIO_BLK_F_MQ] = "MQ",
    [VIRTIO_BLK_F_DISCARD] = "DISCARD", [VIRTIO_BLK_F_WRITE_ZEROES] = "WRITE_ZEROES",
    [VIRTIO_BLK_F_LIFETIME] = "LIFETIME", [VIRTIO_BLK_F_SECURE_ERASE] = "SECURE_ERASE",
    [VIRTIO_BLK_F_ZONED] = "ZONED",
};

bool virtio_blk_negotiate(uint64_t offered, uint64_t *accepted, char *why, size_t why_size)
{
    *accepted = 0;
    if (!(offered & VIRTIO_BIT(VIRTIO_F_VERSION_1))) {
        snprintf(why, why_size, "the device does not offer VIRTIO_F_VERSION_1 (feature bit 32; "
                 "offered 0x%llx): not a virtio 1.x device", (unsigned long long)offered);
        return false;
    }
    *accepted = offered & VIRTIO_BLK_DRIVER_FEATURES;
    return true;
}

static bool has(uint64_t features, unsigned bit) { return (features & VIRTIO_BIT(bit)) != 0; }

static uint64_t min_u64(uint64_t a, uint64_t b) { return a < b ? a : b; }

/* Blocks in one DISCARD or WRITE_ZEROES segment: at most `sectors`, in
 * whole blocks; 0 when the device allows no segment or less than a block. */
static uint32_t range_blocks(uint32_t sectors, uint32_t segs, uint32_t sectors_per_block)
{
    return segs ? sectors / sectors_per_block : 0;
}

/* blk_size is the device's logical block: "the optimal sector size", but a
 * device may refuse what is not aligned to it (QEMU does). Requests count
 * 512-byte sectors (§5.2.6), so a block below one cannot be addressed, and
 * the spec's clarification of blk_size (virtio-spec issue 208) says it is
 * always a power of two: either is a device bug. Above 64 KiB is legal, but
 * not what the block layer takes. */
static enum blk_cause check_block_size(uint32_t blk_size, char *why, size_t why_size)
{
    if (blk_size < VIRTIO_BLK_SECTOR_SIZE) {
        snprintf(why, why_size, BLK_IMPOSSIBLE_WORDS ": blk_size = %u bytes, below the 512-byte "
                 "sector of the protocol", blk_size);
        return BLK_CAUSE_IMPOSSIBLE;
    }
    if (blk_size & (blk_size - 1)) {
        snprintf(why, why_size, BLK_IMPOSSIBLE_WORDS ": blk_size = %u bytes, not a power of two",
                 blk_size);
        return BLK_CAUSE_IMPOSSIBLE;
    }
    if (blk_size > 65536) {
        snprintf(why, why_size, "blk_size %u bytes: bareio takes a power of two from 512 to "
                 "65536 bytes", blk_size);
        return BLK_CAUSE_UNSUPPORTED;
    }
    return BLK_OK;
}

enum blk_cause virtio_blk_limits(uint64_t features, const struct virtio_blk_config *cfg,
                                 uint16_t queue_size, struct virtio_blk_limits *out, char *why,
                                 size_t why_size)
{
    struct virtio_blk_limits l = { 0 };

    l.block_size = has(features, VIRTIO_BLK_F_BLK_SIZE) ? cfg->blk_size : VIRTIO_BLK_SECTOR_SIZE;
    enum blk_cause cause = check_block_size(l.block_size, why, why_size);
    if (cause != BLK_OK)
        return cause;
    /* A disk of no sectors has nothing to address (§5.2.4: capacity in
     * 512-byte sectors): a device bug, not an empty disk bareio could test. */
    if (cfg->capacity == 0) {
        snprintf(why, why_size, BLK_IMPOSSIBLE_WORDS ": capacity = 0 sectors");
        return BLK_CAUSE_IMPOSSIBLE;
    }
    l.sectors_per_block = l.block_size / VIRTIO_BLK_SECTOR_SIZE;
    l.nblocks = cfg->capacity / l.sectors_per_block;
    if (l.nblocks == 0) {
        snprintf(why, why_size, "capacity %llu sectors is less than one %u-byte block",
                 (unsigned long long)cfg->capacity, l.block_size);
        return BLK_CAUSE_UNSUPPORTED;
    }
    l.phys_block_size = l.block_size;
    if (has(features, VIRTIO_BLK_F_TOPOLOGY) && cfg->physical_block_exp <= 8)
        l.phys_block_size = l.block_size << cfg->physical_block_exp;
    if (queue_size < 3) {
        snprintf(why, why_size, "a queue of %u descriptors cannot hold one request (header, "
                 "data, status)", queue_size);
        return BLK_CAUSE_UNSUPPORTED;
    }
    /* Without SEG_MAX the device promises no more than one data segment;
     * no chain may be longer than the queue (§2.7.5.3.1), direct or not. */
    l.seg_max = has(features, VIRTIO_BLK_F_SEG_MAX) && cfg->seg_max ? cfg->seg_max : 1;
    l.seg_max = (uint32_t)min_u64(min_u64(l.seg_max, VIRTIO_BLK_MAX_DATA_DESC), queue_size - 2u);
    l.size_max = has(features, VIRTIO_BLK_F_SIZE_MAX) && cfg->size_max ? cfg->size_max : UINT32_MAX;
    uint64_t bytes = min_u64(VIRTIO_BLK_MAX_TRANSFER_BYTES, (uint64_t)l.seg_max * l.size_max);
    l.max_transfer = (uint32_t)(bytes / l.block_size);
    if (l.max_transfer == 0) {
        snprintf(why, why_size, "size_max %u x seg_max %u bytes cannot carry one %u-byte block",
                 l.size_max, l.seg_max, l.block_size);
        return BLK_CAUSE_UNSUPPORTED;
    }
    if (has(features, VIRTIO_BLK_F_DISCARD))
        l.max_discard = range_blocks(cfg->max_discard_sectors, cfg->max_discard_seg,
                                     l.sectors_per_block);
    if (has(features, VIRTIO_BLK_F_WRITE_ZEROES))
        l.max_write_zeroes = range_blocks(cfg->max_write_zeroes_sectors, cfg->max_write_zeroes_seg,
                                          l.sectors_per_block);
    l.read_only = has(features, VIRTIO_BLK_F_RO);
    l.flush = has(features, VIRTIO_BLK_F_FLUSH);
    l.indirect = has(features, VIRTIO_F_INDIRECT_DESC);
    *out = l;
    return BLK_OK;
}

enum blk_cause virtio_blk_requestq_check(uint16_t num_queues, uint16_t queue_size, char *why,
                                         size_t why_size)
{
    if (queue_size != 0)
        return BLK_OK;
    snprintf(why, why_size, BLK_IMPOSSIBLE_WORDS ": queue_size = 0 for queue 0, the requestq "
             "every virtio-blk has (num_queues %u)", num_queues);
    return BLK_CAUSE_IMPOSSIBLE;
}

bool virtio_blk_inside_capacity(uint64_t lba, uint64_t count, uint32_t block_size,
                                uint64_t capacity)
{
    uint64_t per = block_size / VIRTIO_BLK_SECTOR_SIZE;
    if (per == 0 || lba > capacity / per || count > capacity / per)
        return false;
    uint64_t first = lba * per, sectors = count * per;
    return first <= capacity && sectors <= capacity - first;
}

/* The data of one part. A descriptor is added for every piece of a segment
 * (at most size_max bytes); after each, the last block boundary reached is
 * remembered with the descriptor count and the cursor there, so that when
 * descriptors or max_bytes run out the part is cut back to it. */
struct boundary {
    uint64_t bytes;
    uint16_t ndesc;
    uint32_t last_len;              /* the length of its last descriptor, cut at the boundary */
    struct virtio_blk_cursor cur;
};

uint64_t virtio_blk_map_data(const struct blk_seg *segs, uint32_t nsegs,
                             struct virtio_blk_cursor *cur, uint64_t max_bytes,
                             uint32_t block_size, uint32_t max_desc, uint32_t size_max,
                             bool device_writes, struct virtq_desc *out, uint16_t *ndesc)
{
    struct boundary best = { .cur = *cur };
    struct virtio_blk_cursor c = *cur;
    uint64_t mapped = 0;
    uint16_t n = 0;

    max_bytes -= max_bytes % block_size;
    if (!size_max)
        size_max = UINT32_MAX;
    while (mapped < max_bytes && c.seg < nsegs && n < max_desc && n < 0xffff) {
        const struct blk_seg *s = &segs[c.seg];
        uint32_t start = c.offset;
        uint64_t take = min_u64(min_u64(s->len - c.offset, size_max), max_bytes - mapped);
        out[n++] = (struct virtq_desc){ .addr = s->phys + c.offset, .len = (uint32_t)take,
                                        .flags = device_writes ? VIRTQ_DESC_F_WRITE : 0 };
        mapped += take;
        c.offset += (uint32_t)take;
        if (c.offset == s->len)
            c = (struct virtio_blk_cursor){ c.seg + 1, 0 };
        uint64_t edge = mapped - mapped % block_size;
        if (edge > best.bytes) {
            uint32_t over = (uint32_t)(mapped - edge);      /* past the boundary in this piece */
            best = (struct boundary){ .bytes = edge, .ndesc = n, .last_len = (uint32_t)take - over,
                                      .cur = over ? (struct virtio_blk_cursor){
                                                        (uint32_t)(s - segs),
                                                        start + (uint32_t)take - over }
                                                  : c };
        }
    }
    if (best.bytes == 0)
        return 0;
    out[best.ndesc - 1].len = best.last_len;
    *ndesc = best.ndesc;
    *cur = best.cur;
    return best.bytes;
}

uint16_t virtio_blk_chain_close(struct virtq_desc *table, uint64_t header_phys, uint16_t ndata,
                                uint64_t status_phys)
{
    table[0] = (struct virtq_desc){ .addr = header_phys,
                                    .len = sizeof(struct virtio_blk_req_header),
                                    .flags = VIRTQ_DESC_F_NEXT, .next = 1 };
    for (uint16_t i = 1; i <= ndata; i++) {
        table[i].flags |= VIRTQ_DESC_F_NEXT;
        table[i].next = (uint16_t)(i + 1);
    }
    table[ndata + 1] = (struct virtq_desc){ .addr = status_phys, .len = 1,
                                            .flags = VIRTQ_DESC_F_WRITE, .next = 0 };
    return (uint16_t)(ndata + 2);
}

void virtio_blk_header(struct virtio_blk_req_header *h, uint32_t type, uint64_t lba,
                       uint32_t block_size)
{
    h->type = type;
    h->reserved = 0;
    /* §5.2.6: in 512-byte units for IN/OUT; 0 for the others (§5.2.6.1:
     * MUST be 0 for FLUSH). */
    h->sector = type == VIRTIO_BLK_T_IN || type == VIRTIO_BLK_T_OUT
              ? virtio_blk_sector_of(lba, block_size) : 0;
}

void virtio_blk_range(struct virtio_blk_discard_write_zeroes *r, uint64_t lba, uint32_t count,
                      uint32_t block_size)
{
    r->sector = virtio_blk_sector_of(lba, block_size);
    r->num_sectors = count * (block_size / VIRTIO_BLK_SECTOR_SIZE);
    r->flags = 0;       /* §5.2.6.1: unmap MUST be 0 for DISCARD; left 0 for WRITE_ZEROES */
}

void virtio_blk_id_string(char *dst, size_t size, const uint8_t id[VIRTIO_BLK_ID_BYTES])
{
    size_t len = 0;
    while (len < VIRTIO_BLK_ID_BYTES && id[len])
        len++;
    format_escaped(dst, size, id, len);
}

const char *virtio_blk_type_name(uint32_t type)
{
    switch (type) {
    case VIRTIO_BLK_T_IN: return "IN (read)";
    case VIRTIO_BLK_T_OUT: return "OUT (write)";
    case VIRTIO_BLK_T_FLUSH: return "FLUSH";
    case VIRTIO_BLK_T_GET_ID: return "GET_ID";
    case VIRTIO_BLK_T_GET_LIFETIME: return "GET_LIFETIME";
    case VIRTIO_BLK_T_DISCARD: return "DISCARD";
    case VIRTIO_BLK_T_WRITE_ZEROES: return "WRITE_ZEROES";
    case VIRTIO_BLK_T_SECURE_ERASE: return "SECURE_ERASE";
    default: return "unknown type";
    }
}

enum blk_cause virtio_blk_status_cause(uint32_t type, uint8_t status, char *words, size_t size)
{
    bool data = type == VIRTIO_BLK_T_IN || type == VIRTIO_BLK_T_OUT;
    switch (status) {
    case VIRTIO_BLK_S_OK:
        snprintf(words, size, "VIRTIO_BLK_S_OK");
        return BLK_OK;
    case VIRTIO_BLK_S_IOERR:
        if (data) {
            snprintf(words, size, "VIRTIO_BLK_S_IOERR: %s failed (virtio-blk has no finer "
                     "code: a media error)", type == VIRTIO_BLK_T_IN ? "read" : "write");
            return BLK_CAUSE_MEDIA;
        }
        snprintf(words, size, "VIRTIO_BLK_S_IOERR: device or driver error on %s",
                 virtio_blk_type_name(type));
        return BLK_CAUSE_DEVICE_ERROR;
    case VIRTIO_BLK_S_UNSUPP:
        snprintf(words, size, "VIRTIO_BLK_S_UNSUPP: the device does not support %s",
                 virtio_blk_type_name(type));
        return BLK_CAUSE_INVALID;
    case VIRTIO_BLK_STATUS_UNWRITTEN:
        snprintf(words, size, "status byte never written (still 0x%02x, as bareio set it "
                 "before posting): the device completed the request without a status (device bug)",
                 VIRTIO_BLK_STATUS_UNWRITTEN);
        return BLK_CAUSE_DEVICE_ERROR;
    default:
        snprintf(words, size, "status 0x%02x is none virtio-blk defines (OK 0, IOERR 1, UNSUPP 2)",
                 status);
        return BLK_CAUSE_DEVICE_ERROR;
    }
}
