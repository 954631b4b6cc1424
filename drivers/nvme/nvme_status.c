/* SPDX-License-Identifier: MIT */
/* drivers/nvme/nvme_status.c — completion statuses and controller registers
 * in words. A status is decoded through tables keyed by Status Code Type and
 * Status Code (NVMe 1.4 §4.6.1.2, NVM Command Set §3.2.x for codes 80h+), and
 * mapped to one blk cause; DNR, More and CRD (Command Retry Delay) are put in
 * words too. Codes from NVMe 2.0 (and its NVM and Zoned Namespace command set
 * specifications) are included, since a 1.4 host meets 2.0 controllers. Also
 * CAP, CC and CSTS decoders for failure records, the doorbell register
 * offsets (CAP.DSTRD) and the shadow doorbell EventIdx rule.
 * Pure: no hardware, tested on the host. */
#include "drivers/nvme/nvme.h"
#include "lib/format.h"

struct status_entry {
    uint8_t sc;
    uint8_t cause;          /* enum blk_cause */
    const char *words;
};

/* SCT 0h: Generic Command Status (Figure 126) and NVM Command Set 80h+. */
static const struct status_entry generic_table[] = {
    { 0x00, BLK_OK, "successful completion" },
    { 0x01, BLK_CAUSE_INVALID, "invalid command opcode" },
    { 0x02, BLK_CAUSE_INVALID, "invalid field in command" },
    { 0x03, BLK_CAUSE_INVALID, "command ID conflict" },
    { 0x04, BLK_CAUSE_DEVICE_ERROR, "data transfer error" },
    { 0x05, BLK_CAUSE_ABORTED, "commands aborted due to power loss notification" },
    { 0x06, BLK_CAUSE_DEVICE_ERROR, "internal error" },
    { 0x07, BLK_CAUSE_ABORTED, "command abort requested" },
    { 0x08, BLK_CAUSE_ABORTED, "command aborted due to SQ deletion" },
    { 0x09, BLK_CAUSE_ABORTED, "command aborted due to failed fused command" },
    { 0x0a, BLK_CAUSE_ABORTED, "command aborted due to missing fused command" },
    { 0x0b, BLK_CAUSE_INVALID, "invalid namespace or format" },
    { 0x0c, BLK_CAUSE_INVALID, "command sequence error" },
    { 0x0d, BLK_CAUSE_INVALID, "invalid SGL segment descriptor" },
    { 0x0e, BLK_CAUSE_INVALID, "invalid number of SGL descriptors" },
    { 0x0f, BLK_CAUSE_INVALID, "data SGL length invalid" },
    { 0x10, BLK_CAUSE_INVALID, "metadata SGL length invalid" },
    { 0x11, BLK_CAUSE_INVALID, "SGL descriptor type invalid" },
    { 0x12, BLK_CAUSE_INVALID, "invalid use of controller memory buffer" },
    { 0x13, BLK_CAUSE_MISALIGNED, "PRP offset invalid" },
    { 0x14, BLK_CAUSE_INVALID, "atomic write unit exceeded" },
    { 0x15, BLK_CAUSE_DEVICE_ERROR, "operation denied" },
    { 0x16, BLK_CAUSE_INVALID, "SGL offset invalid" },
    { 0x18, BLK_CAUSE_INVALID, "host identifier inconsistent format" },
    { 0x19, BLK_CAUSE_DEVICE_ERROR, "keep alive timer expired" },
    { 0x1a, BLK_CAUSE_INVALID, "keep alive timeout invalid" },
    { 0x1b, BLK_CAUSE_ABORTED, "command aborted due to preempt and abort" },
    { 0x1c, BLK_CAUSE_DEVICE_ERROR, "sanitize failed" },
    { 0x1d, BLK_CAUSE_NOT_READY, "sanitize in progress" },
    { 0x1e, BLK_CAUSE_INVALID, "SGL data block granularity invalid" },
    { 0x1f, BLK_CAUSE_INVALID, "command not supported for queue in CMB" },
    { 0x20, BLK_CAUSE_DEVICE_ERROR, "namespace is write protected" },
    { 0x21, BLK_CAUSE_ABORTED, "command interrupted" },
    { 0x22, BLK_CAUSE_LINK, "transient transport error" },
    { 0x23, BLK_CAUSE_DEVICE_ERROR, "command prohibited by command and feature lockdown" },
    { 0x24, BLK_CAUSE_NOT_READY, "admin command media not ready" },
    { 0x80, BLK_CAUSE_LBA_RANGE, "LBA out of range" },
    /* Thin provisioning ran out of space: the LBA itself was valid. */
    { 0x81, BLK_CAUSE_DEVICE_ERROR, "capacity exceeded" },
    { 0x82, BLK_CAUSE_NOT_READY, "namespace not ready" },
    { 0x83, BLK_CAUSE_DEVICE_ERROR, "reservation conflict" },
    { 0x84, BLK_CAUSE_NOT_READY, "format in progress" },
};

/* SCT 1h: Command Specific Status (Figure 127) and NVM Command Set 80h+. */
static const struct status_entry command_table[] = {
    { 0x00, BLK_CAUSE_INVALID, "completion queue invalid" },
    { 0x01, BLK_CAUSE_INVALID, "invalid queue identifier" },
    { 0x02, BLK_CAUSE_INVALID, "invalid queue size" },
    { 0x03, BLK_CAUSE_INVALID, "abort command limit exceeded" },
    { 0x05, BLK_CAUSE_INVALID, "asynchronous event request limit exceeded" },
    { 0x06, BLK_CAUSE_INVALID, "invalid firmware slot" },
    { 0x07, BLK_CAUSE_INVALID, "invalid firmware image" },
    { 0x08, BLK_CAUSE_INVALID, "invalid interrupt vector" },
    { 0x09, BLK_CAUSE_INVALID, "invalid log page" },
    { 0x0a, BLK_CAUSE_INVALID, "invalid format" },
    { 0x0b, BLK_CAUSE_DEVICE_ERROR, "firmware activation requires conventional reset" },
    { 0x0c, BLK_CAUSE_INVALID, "invalid queue deletion" },
    { 0x0d, BLK_CAUSE_INVALID, "feature identifier not saveable" },
    { 0x0e, BLK_CAUSE_INVALID, "feature not changeable" },
    { 0x0f, BLK_CAUSE_INVALID, "feature not namespace specific" },
    { 0x10, BLK_CAUSE_DEVICE_ERROR, "firmware activation requires NVM subsystem reset" },
    { 0x11, BLK_CAUSE_DEVICE_ERROR, "firmware activation requires controller level reset" },
    { 0x12, BLK_CAUSE_DEVICE_ERROR, "firmware activation requires maximum time violation" },
    { 0x13, BLK_CAUSE_DEVICE_ERROR, "firmware activation prohibited" },
    { 0x14, BLK_CAUSE_INVALID, "overlapping range" },
    { 0x15, BLK_CAUSE_INVALID, "namespace insufficient capacity" },
    { 0x16, BLK_CAUSE_INVALID, "namespace identifier unavailable" },
    { 0x18, BLK_CAUSE_INVALID, "namespace already attached" },
    { 0x19, BLK_CAUSE_INVALID, "namespace is private" },
    { 0x1a, BLK_CAUSE_INVALID, "namespace not attached" },
    { 0x1b, BLK_CAUSE_INVALID, "thin provisioning not supported" },
    { 0x1c, BLK_CAUSE_INVALID, "controller list invalid" },
    { 0x1d, BLK_CAUSE_NOT_READY, "device self-test in progress" },
    { 0x1e, BLK_CAUSE_DEVICE_ERROR, "boot partition write prohibited" },
    { 0x1f, BLK_CAUSE_INVALID, "invalid controller identifier" },
    { 0x20, BLK_CAUSE_INVALID, "invalid secondary controller state" },
    { 0x21, BLK_CAUSE_INVALID, "invalid number of controller resources" },
    { 0x22, BLK_CAUSE_INVALID, "invalid resource identifier" },
    { 0x23, BLK_CAUSE_DEVICE_ERROR, "sanitize prohibited while persistent memory region is enabled" },
    { 0x24, BLK_CAUSE_INVALID, "ANA group identifier invalid" },
    { 0x25, BLK_CAUSE_DEVICE_ERROR, "ANA attach failed" },
    { 0x26, BLK_CAUSE_DEVICE_ERROR, "insufficient capacity" },
    { 0x27, BLK_CAUSE_INVALID, "namespace attachment limit exceeded" },
    { 0x28, BLK_CAUSE_INVALID, "prohibition of command execution not supported" },
    { 0x29, BLK_CAUSE_UNSUPPORTED, "I/O command set not supported" },
    { 0x2a, BLK_CAUSE_UNSUPPORTED, "I/O command set not enabled" },
    { 0x2b, BLK_CAUSE_INVALID, "I/O command set combination rejected" },
    { 0x2c, BLK_CAUSE_INVALID, "invalid I/O command set" },
    { 0x2d, BLK_CAUSE_INVALID, "identifier unavailable" },
    { 0x80, BLK_CAUSE_INVALID, "conflicting attributes" },
    { 0x81, BLK_CAUSE_INVALID, "invalid protection information" },
    { 0x82, BLK_CAUSE_DEVICE_ERROR, "attempted write to read only range" },
    { 0x83, BLK_CAUSE_INVALID, "command size limit exceeded" },
    /* Zoned Namespace Command Set. */
    { 0xb8, BLK_CAUSE_LBA_RANGE, "zoned boundary error" },
    { 0xb9, BLK_CAUSE_DEVICE_ERROR, "zone is full" },
    { 0xba, BLK_CAUSE_DEVICE_ERROR, "zone is read only" },
    { 0xbb, BLK_CAUSE_MEDIA, "zone is offline" },
    { 0xbc, BLK_CAUSE_INVALID, "zone invalid write" },
    { 0xbd, BLK_CAUSE_DEVICE_ERROR, "too many active zones" },
    { 0xbe, BLK_CAUSE_DEVICE_ERROR, "too many open zones" },
    { 0xbf, BLK_CAUSE_INVALID, "invalid zone state transition" },
};

/* SCT 2h: Media and Data Integrity Errors (Figure 128). */
static const struct status_entry media_table[] = {
    { 0x80, BLK_CAUSE_MEDIA, "write fault" },
    { 0x81, BLK_CAUSE_MEDIA, "unrecovered read error" },
    { 0x82, BLK_CAUSE_MEDIA, "end-to-end guard check error" },
    { 0x83, BLK_CAUSE_MEDIA, "end-to-end application tag check error" },
    { 0x84, BLK_CAUSE_MEDIA, "end-to-end reference tag check error" },
    { 0x85, BLK_CAUSE_MISCOMPARE_CORRUPT, "compare failure" },
    { 0x86, BLK_CAUSE_DEVICE_ERROR, "access denied" },
    /* A read of a block never written (DULBE enabled): not a damaged medium. */
    { 0x87, BLK_CAUSE_DEVICE_ERROR, "deallocated or unwritten logical block" },
    { 0x88, BLK_CAUSE_MEDIA, "end-to-end storage tag check error" },
};

/* SCT 3h: Path Related Status (Figure 129). */
static const struct status_entry path_table[] = {
    { 0x00, BLK_CAUSE_LINK, "internal path error" },
    { 0x01, BLK_CAUSE_LINK, "asymmetric access persistent loss" },
    { 0x02, BLK_CAUSE_LINK, "asymmetric access inaccessible" },
    { 0x03, BLK_CAUSE_LINK, "asymmetric access transition" },
    { 0x60, BLK_CAUSE_LINK, "controller pathing error" },
    { 0x70, BLK_CAUSE_LINK, "host pathing error" },
    { 0x71, BLK_CAUSE_ABORTED, "command aborted by host" },
};

static const struct {
    const char *name;
    const struct status_entry *table;
    size_t count;
} status_types[8] = {
    [NVME_SCT_GENERIC] = { "generic", generic_table, sizeof(generic_table) / sizeof(generic_table[0]) },
    [NVME_SCT_COMMAND] = { "command specific", command_table,
                           sizeof(command_table) / sizeof(command_table[0]) },
    [NVME_SCT_MEDIA] = { "media/data integrity", media_table,
                         sizeof(media_table) / sizeof(media_table[0]) },
    [NVME_SCT_PATH] = { "path related", path_table, sizeof(path_table) / sizeof(path_table[0]) },
    [4] = { "reserved status code type 4h", NULL, 0 },
    [5] = { "reserved status code type 5h", NULL, 0 },
    [6] = { "reserved status code type 6h", NULL, 0 },
    [NVME_SCT_VENDOR] = { "vendor specific", NULL, 0 },
};

static const struct status_entry *status_lookup(uint16_t status)
{
    unsigned sct = NVME_STATUS_SCT(status), sc = NVME_STATUS_SC(status);
    for (size_t i = 0; i < status_types[sct].count; i++)
        if (status_types[sct].table[i].sc == sc)
            return &status_types[sct].table[i];
    return NULL;
}

const char *nvme_sct_name(unsigned sct)
{
    return status_types[sct & 7].name;
}

uint16_t nvme_status_from_cqe(uint16_t cqe_status)
{
    uint16_t sc = (cqe_status >> 1) & 0xff;
    uint16_t sct = (cqe_status >> 9) & 7;
    uint16_t crd = (cqe_status >> 12) & 3;
    uint16_t more = (cqe_status >> 14) & 1;
    uint16_t dnr = (cqe_status >> 15) & 1;
    return (uint16_t)(dnr << 15 | more << 14 | crd << 12 | sct << 8 | sc);
}

void nvme_status_describe(uint16_t status, char *buf, size_t size)
{
    unsigned sct = NVME_STATUS_SCT(status), sc = NVME_STATUS_SC(status);
    const struct status_entry *e = status_lookup(status);
    char unknown[40];

    static const char *const crd[4] = { "", ", retry after CRDT1", ", retry after CRDT2",
                                        ", retry after CRDT3" };

    if (!e)     /* SC C0h-FFh are vendor specific in every type; all of SCT 7h is */
        snprintf(unknown, sizeof(unknown), "%s status code %02xh",
                 sc >= 0xc0 || sct == NVME_SCT_VENDOR ? "vendor specific" : "reserved", sc);
    snprintf(buf, size, "%s: %s (SCT %xh SC %02xh%s%s%s)", nvme_sct_name(sct),
             e ? e->words : unknown, sct, sc,
             (status & NVME_STATUS_MORE) ? ", more in the error log" : "",
             crd[NVME_STATUS_CRD(status)],
             (status & NVME_STATUS_DNR) ? ", do not retry" : "");
}

enum blk_cause nvme_status_cause(uint16_t status)
{
    if ((status & NVME_STATUS_CODE_MASK) == 0)
        return BLK_OK;
    const struct status_entry *e = status_lookup(status);
    if (e)
        return (enum blk_cause)e->cause;
    /* Unknown codes: by type. */
    switch (NVME_STATUS_SCT(status)) {
    case NVME_SCT_MEDIA: return BLK_CAUSE_MEDIA;
    case NVME_SCT_PATH: return BLK_CAUSE_LINK;
    case NVME_SCT_COMMAND: return BLK_CAUSE_INVALID;
    default: return BLK_CAUSE_DEVICE_ERROR;
    }
}

bool nvme_status_retryable(uint16_t status)
{
    return (status & NVME_STATUS_CODE_MASK) != 0 && !(status & NVME_STATUS_DNR);
}

void nvme_decode_csts(uint32_t csts, char *buf, size_t size)
{
    static const char *const shst[4] = { "normal operation", "shutdown processing occurring",
                                         "shutdown processing complete", "reserved (3)" };
    if (csts == 0xffffffffu) {
        snprintf(buf, size, "CSTS 0xffffffff: the controller does not answer (surprise removal?)");
        return;
    }
    snprintf(buf, size, "CSTS 0x%x: RDY=%u%s, CFS=%u%s, SHST=%s%s%s", csts, csts & NVME_CSTS_RDY,
             (csts & NVME_CSTS_RDY) ? " ready" : " not ready", (csts & NVME_CSTS_CFS) ? 1 : 0,
             (csts & NVME_CSTS_CFS) ? " controller fatal status" : "", shst[NVME_CSTS_SHST(csts)],
             (csts & NVME_CSTS_NSSRO) ? ", NSSRO subsystem reset occurred" : "",
             (csts & NVME_CSTS_PP) ? ", PP processing paused" : "");
}

void nvme_decode_cc(uint32_t cc, char *buf, size_t size)
{
    static const char *const shn[4] = { "none", "normal", "abrupt", "reserved" };
    unsigned css = (cc >> NVME_CC_CSS_SHIFT) & 7, ams = (cc >> NVME_CC_AMS_SHIFT) & 7;
    snprintf(buf, size, "CC 0x%x: EN=%u, CSS=%s, MPS=%u KiB, AMS=%s, SHN=%s, IOSQES=%u B, "
             "IOCQES=%u B", cc, cc & NVME_CC_EN, css == 0 ? "NVM" : css == 6 ? "I/O sets"
             : css == 7 ? "admin only" : "reserved", 4u << ((cc >> NVME_CC_MPS_SHIFT) & 0xf),
             ams == 0 ? "round robin" : ams == 1 ? "weighted round robin" : ams == 7
             ? "vendor" : "reserved", shn[(cc & NVME_CC_SHN_MASK) >> NVME_CC_SHN_SHIFT],
             1u << ((cc >> NVME_CC_IOSQES_SHIFT) & 0xf), 1u << ((cc >> NVME_CC_IOCQES_SHIFT) & 0xf));
}

void nvme_decode_cap(uint64_t cap, char *buf, size_t size)
{
    snprintf(buf, size, "CAP 0x%llx: MQES=%u entries, CQR=%u, TO=%u ms, DSTRD=%u bytes, "
             "NSSRS=%u, CSS=0x%x%s, MPS %u..%u KiB", (unsigned long long)cap,
             NVME_CAP_MQES(cap) + 1, (cap & NVME_CAP_CQR) ? 1 : 0, NVME_CAP_TO(cap) * 500,
             4u << NVME_CAP_DSTRD(cap), (cap & NVME_CAP_NSSRS) ? 1 : 0, NVME_CAP_CSS(cap),
             (NVME_CAP_CSS(cap) & NVME_CAP_CSS_NVM) ? " (NVM)" : "",
             4u << NVME_CAP_MPSMIN(cap), 4u << NVME_CAP_MPSMAX(cap));
}

uint32_t nvme_doorbell_offset(uint16_t qid, bool completion, uint32_t dstrd)
{
    /* §3.1: SQ y Tail at 1000h + (2y * (4 << DSTRD)), CQ y Head one stride later. */
    return NVME_REG_DOORBELLS + (2u * qid + (completion ? 1u : 0u)) * (4u << dstrd);
}

bool nvme_shadow_needs_mmio(uint16_t event_idx, uint16_t new_value, uint16_t old_value)
{
    /* Doorbell Buffer Config (§5.7): the controller asks to be told through the
     * register once the value moves past EventIdx, i.e. when EventIdx lies in
     * [old, new) going forward. Unsigned 16-bit differences make that hold
     * across the wrap of the queue index (any depth up to 65536). */
    return (uint16_t)(new_value - event_idx - 1) < (uint16_t)(new_value - old_value);
}
