/* SPDX-License-Identifier: MIT */
/* drivers/nvme/nvme.h — NVMe register, command and data-structure layouts
 * (NVM Express Base Specification 1.4 / 2.0), and the driver's internal
 * interface between its files. They stand in layers, top first, and a file
 * calls only files below it (tools/layercheck checks it):
 *   nvme_test.c     what the nvme suite may see and do (struct
 *                   nvme_test_view, the hooks that provoke a reset or
 *                   CSTS.CFS); nothing in the driver calls it
 *   nvme_ctrl.c     probe and bring-up, the namespaces, enable/disable,
 *                   reset, CSTS.CFS, shutdown; the BLK_DRIVER registration
 *   nvme_io.c       the blk_ops: submit/kick/poll, CIDs, splitting, retries,
 *                   timeouts and Abort, interrupts, describe; what a reset
 *                   does to the requests (repost, fail all)
 *   nvme_admin.c    admin commands: Identify, Set Features, queue creation,
 *                   Abort, Doorbell Buffer Config
 *   nvme_queue.c    queue memory, SQEs, SQ/CQ doorbells (DSTRD, shadow), the
 *                   CQ primitives (phase tags), CSTS
 *   nvme_prp.c      PRP builder (pure, host-tested)
 *   nvme_status.c   status and register decoding (pure, host-tested)
 *   nvme_identify.c Identify data checked: what a namespace is to the block
 *                   layer (nvme_ns_decide), console-safe strings (pure,
 *                   host-tested)
 * Where a lower layer needs an action of an upper one, the upper one
 * registers it: nvme_ctrl.c gives each controller its struct nvme_ctrl_ops
 * (the reset after a failed Abort, the CSTS.CFS check of each poll, the
 * shutdown behind blk_ops), which nvme_io.c calls.
 * Only the NVM command set, 64-byte SQEs / 16-byte CQEs and 4 KiB memory pages
 * are used; a read or write of one buffer over two pages goes as one SGL data
 * block when the controller has SGLs (nvme.sgl=, on by default: QEMU maps one
 * range instead of a page per PRP entry, and the driver builds no list);
 * SGL descriptor lists, metadata, protection information and CMB are left
 * out. */
#ifndef DRIVERS_NVME_NVME_H
#define DRIVERS_NVME_NVME_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "drivers/blk/blk.h"

/* ---- controller registers (§3.1) ---- */
#define NVME_REG_CAP        0x00    /* Controller Capabilities, 64-bit */
#define NVME_REG_VS         0x08    /* Version */
#define NVME_REG_INTMS      0x0c    /* Interrupt Mask Set (INTx/MSI only) */
#define NVME_REG_INTMC      0x10    /* Interrupt Mask Clear */
#define NVME_REG_CC         0x14    /* Controller Configuration */
#define NVME_REG_CSTS       0x1c    /* Controller Status */
#define NVME_REG_AQA        0x24    /* Admin Queue Attributes */
#define NVME_REG_ASQ        0x28    /* Admin Submission Queue base, 64-bit */
#define NVME_REG_ACQ        0x30    /* Admin Completion Queue base, 64-bit */
#define NVME_REG_DOORBELLS  0x1000  /* SQ y tail: 0x1000 + 2y*(4<<DSTRD); CQ y head: +1 */

#define NVME_CAP_MQES(c)    ((uint32_t)((c) & 0xffff))          /* 0-based */
#define NVME_CAP_CQR        (1ull << 16)
#define NVME_CAP_TO(c)      ((uint32_t)(((c) >> 24) & 0xff))   /* 500 ms units */
#define NVME_CAP_DSTRD(c)   ((uint32_t)(((c) >> 32) & 0xf))
#define NVME_CAP_NSSRS      (1ull << 36)
#define NVME_CAP_CSS(c)     ((uint32_t)(((c) >> 37) & 0xff))
#define NVME_CAP_CSS_NVM    (1u << 0)
#define NVME_CAP_MPSMIN(c)  ((uint32_t)(((c) >> 48) & 0xf))    /* 2^(12+n) bytes */
#define NVME_CAP_MPSMAX(c)  ((uint32_t)(((c) >> 52) & 0xf))

#define NVME_VS_MAJOR(v)    ((v) >> 16)
#define NVME_VS_MINOR(v)    (((v) >> 8) & 0xff)
#define NVME_VS_TERTIARY(v) ((v) & 0xff)

#define NVME_CC_EN          (1u << 0)
#define NVME_CC_CSS_SHIFT   4
#define NVME_CC_MPS_SHIFT   7
#define NVME_CC_AMS_SHIFT   11
#define NVME_CC_SHN_SHIFT   14
#define NVME_CC_SHN_MASK    (3u << NVME_CC_SHN_SHIFT)
#define NVME_CC_SHN_NORMAL  (1u << NVME_CC_SHN_SHIFT)
#define NVME_CC_IOSQES_SHIFT 16
#define NVME_CC_IOCQES_SHIFT 20

#define NVME_CSTS_RDY       (1u << 0)
#define NVME_CSTS_CFS       (1u << 1)
#define NVME_CSTS_SHST_SHIFT 2
#define NVME_CSTS_SHST_MASK (3u << NVME_CSTS_SHST_SHIFT)
#define NVME_CSTS_SHST(s)   (((s) >> NVME_CSTS_SHST_SHIFT) & 3)
#define NVME_CSTS_SHST_COMPLETE 2
#define NVME_CSTS_NSSRO     (1u << 4)
#define NVME_CSTS_PP        (1u << 5)

#define NVME_SQES_LOG2      6       /* 64-byte submission queue entries */
#define NVME_CQES_LOG2      4       /* 16-byte completion queue entries */

/* ---- Submission Queue Entry (§4.2) ---- */
struct nvme_sqe {
    uint32_t cdw0;          /* OPC 7:0, FUSE 9:8, PSDT 15:14, CID 31:16 */
    uint32_t nsid;
    uint32_t cdw2, cdw3;
    uint64_t mptr;
    uint64_t prp1;
    uint64_t prp2;
    uint32_t cdw10, cdw11, cdw12, cdw13, cdw14, cdw15;
};
_Static_assert(sizeof(struct nvme_sqe) == 64, "NVMe 1.4 §4.2: SQE is 64 bytes");
_Static_assert(offsetof(struct nvme_sqe, prp1) == 24, "NVMe 1.4 §4.2: DPTR at byte 24");
_Static_assert(offsetof(struct nvme_sqe, cdw10) == 40, "NVMe 1.4 §4.2: CDW10 at byte 40");
#define NVME_SQE_OPC(cdw0)  ((cdw0) & 0xff)
#define NVME_SQE_CID(cdw0)  ((cdw0) >> 16)

/* ---- Completion Queue Entry (§4.6) ---- */
struct nvme_cqe {
    uint32_t dw0;           /* command specific */
    uint32_t dw1;
    uint16_t sqhd;          /* SQ head pointer */
    uint16_t sqid;
    uint16_t cid;
    uint16_t status;        /* P 0, SC 8:1, SCT 11:9, CRD 13:12, M 14, DNR 15 */
};
_Static_assert(sizeof(struct nvme_cqe) == 16, "NVMe 1.4 §4.6: CQE is 16 bytes");
_Static_assert(offsetof(struct nvme_cqe, status) == 14, "NVMe 1.4 §4.6: status in DW3 31:17");
#define NVME_CQE_PHASE      1u

/* ---- opcodes (§5, NVM Command Set §6) ---- */
enum nvme_admin_opcode {
    NVME_ADMIN_DELETE_SQ = 0x00,
    NVME_ADMIN_CREATE_SQ = 0x01,
    NVME_ADMIN_GET_LOG_PAGE = 0x02,
    NVME_ADMIN_DELETE_CQ = 0x04,
    NVME_ADMIN_CREATE_CQ = 0x05,
    NVME_ADMIN_IDENTIFY = 0x06,
    NVME_ADMIN_ABORT = 0x08,
    NVME_ADMIN_SET_FEATURES = 0x09,
    NVME_ADMIN_GET_FEATURES = 0x0a,
    NVME_ADMIN_DOORBELL_BUFFER_CONFIG = 0x7c,
};
enum nvme_io_opcode {
    NVME_CMD_FLUSH = 0x00,
    NVME_CMD_WRITE = 0x01,
    NVME_CMD_READ = 0x02,
    NVME_CMD_WRITE_ZEROES = 0x08,
    NVME_CMD_DSM = 0x09,
};
#define NVME_RW_FUA             (1u << 30)      /* CDW12 */
#define NVME_DSM_ATTR_AD        (1u << 2)       /* CDW11: deallocate */
#define NVME_IDENTIFY_CNS_NS    0x00
#define NVME_IDENTIFY_CNS_CTRL  0x01
#define NVME_IDENTIFY_CNS_ACTIVE_NS_LIST 0x02
#define NVME_IDENTIFY_CNS_NS_DESCRIPTORS 0x03  /* Namespace Identification Descriptor list */
#define NVME_IDENTIFY_CNS_CSI_NS 0x05           /* I/O Command Set specific Identify Namespace */
#define NVME_IDENTIFY_CSI_SHIFT 24              /* CDW11 bits 31:24 (NVMe 2.0 §5.17.1) */
#define NVME_CSI_NVM            0x00
#define NVME_CSI_KV             0x01
#define NVME_CSI_ZONED          0x02
#define NVME_NS_LIST_ENTRIES    1024            /* NSIDs per Active Namespace ID list page */
#define NVME_NSID_SCAN_MAX      4096            /* NSIDs asked one by one without that list */
#define NVME_FEAT_NUMBER_OF_QUEUES 0x07
#define NVME_QUEUE_PHYS_CONTIG  (1u << 0)       /* Create I/O SQ/CQ CDW11.PC */
#define NVME_CQ_IRQ_ENABLED     (1u << 1)       /* Create I/O CQ CDW11.IEN */

/* DSM range (NVM Command Set §3.2.3 Figure "Dataset Management – Range"). */
struct nvme_dsm_range {
    uint32_t cattr;
    uint32_t nlb;
    uint64_t slba;
};
_Static_assert(sizeof(struct nvme_dsm_range) == 16, "NVM CS: DSM range is 16 bytes");

/* ---- Identify Controller (§5.15.2.2, Figure 247) ---- */
struct nvme_id_ctrl {
    uint16_t vid;
    uint16_t ssvid;
    char sn[20];
    char mn[40];
    char fr[8];
    uint8_t rab;
    uint8_t ieee[3];
    uint8_t cmic;
    uint8_t mdts;           /* 2^n minimum pages; 0 = no limit */
    uint16_t cntlid;
    uint32_t ver;
    uint32_t rtd3r;
    uint32_t rtd3e;         /* µs: shutdown latency */
    uint32_t oaes;
    uint32_t ctratt;
    uint8_t rsvd100[156];
    uint16_t oacs;          /* byte 256 */
    uint8_t acl, aerl, frmw, lpa, elpe, npss, avscc, apsta;
    uint16_t wctemp, cctemp;
    uint8_t rsvd270[242];
    uint8_t sqes;           /* byte 512 */
    uint8_t cqes;
    uint16_t maxcmd;
    uint32_t nn;
    uint16_t oncs;          /* byte 520 */
    uint16_t fuses;
    uint8_t fna;
    uint8_t vwc;            /* byte 525 */
    uint16_t awun, awupf;
    uint8_t nvscc, nwpc;
    uint16_t acwu;
    uint16_t rsvd534;
    uint32_t sgls;          /* byte 536 */
    uint8_t rsvd540[4096 - 540];
};
_Static_assert(sizeof(struct nvme_id_ctrl) == 4096, "NVMe 1.4 Figure 247: 4 KiB");
_Static_assert(offsetof(struct nvme_id_ctrl, mdts) == 77, "Identify Controller MDTS at 77");
_Static_assert(offsetof(struct nvme_id_ctrl, rtd3e) == 88, "Identify Controller RTD3E at 88");
_Static_assert(offsetof(struct nvme_id_ctrl, oacs) == 256, "Identify Controller OACS at 256");
_Static_assert(offsetof(struct nvme_id_ctrl, sqes) == 512, "Identify Controller SQES at 512");
_Static_assert(offsetof(struct nvme_id_ctrl, nn) == 516, "Identify Controller NN at 516");
_Static_assert(offsetof(struct nvme_id_ctrl, oncs) == 520, "Identify Controller ONCS at 520");
_Static_assert(offsetof(struct nvme_id_ctrl, vwc) == 525, "Identify Controller VWC at 525");
_Static_assert(offsetof(struct nvme_id_ctrl, sgls) == 536, "Identify Controller SGLS at 536");
#define NVME_OACS_DBBUF         (1u << 8)
#define NVME_ONCS_DSM           (1u << 2)
#define NVME_ONCS_WRITE_ZEROES  (1u << 3)
#define NVME_VWC_PRESENT        (1u << 0)

/* ---- Identify Namespace (NVM Command Set §4.1.5.1) ---- */
struct nvme_lbaf {
    uint16_t ms;            /* metadata bytes per LBA */
    uint8_t lbads;          /* 2^n data bytes */
    uint8_t rp;             /* relative performance, bits 1:0 */
};
_Static_assert(sizeof(struct nvme_lbaf) == 4, "LBA Format is 4 bytes");

struct nvme_id_ns {
    uint64_t nsze;
    uint64_t ncap;
    uint64_t nuse;
    uint8_t nsfeat;
    uint8_t nlbaf;          /* 0-based */
    uint8_t flbas;          /* bits 3:0 format index, bit 4 metadata at end of LBA */
    uint8_t mc, dpc, dps, nmic, rescap, fpi;
    uint8_t dlfeat;         /* byte 33: bits 2:0 = 1 deallocated blocks read zero */
    uint8_t rsvd34[99 - 34];
    uint8_t nsattr;         /* byte 99: bit 0 the namespace is write protected */
    uint8_t rsvd100[128 - 100];
    struct nvme_lbaf lbaf[64];
    uint8_t rsvd384[4096 - 384];
};
_Static_assert(sizeof(struct nvme_id_ns) == 4096, "Identify Namespace is 4 KiB");
_Static_assert(offsetof(struct nvme_id_ns, flbas) == 26, "Identify Namespace FLBAS at 26");
_Static_assert(offsetof(struct nvme_id_ns, dlfeat) == 33, "Identify Namespace DLFEAT at 33");
_Static_assert(offsetof(struct nvme_id_ns, nsattr) == 99, "Identify Namespace NSATTR at 99");
#define NVME_NSATTR_WRITE_PROTECTED 0x01
_Static_assert(offsetof(struct nvme_id_ns, lbaf) == 128, "Identify Namespace LBAF0 at 128");
#define NVME_DLFEAT_READ_ZEROES 1u

/* ---- pure helpers: Identify data (nvme_identify.c) ---- */
/* The newest NVMe major version published (2.x): a VS above it is from the
 * future, which a real controller cannot be. Raise it when NVMe 3 exists. */
#define NVME_VS_NEWEST_MAJOR 2
/* CAP and VS as read before the controller is touched: BLK_OK; or
 * BLK_CAUSE_IMPOSSIBLE (a value the spec rules out: VS 0 or from the future,
 * MQES 0, TO 0, MPSMAX < MPSMIN, CSS 0), BLK_CAUSE_UNSUPPORTED (legal but not
 * what bareio drives: no NVM command set, 4 KiB pages not allowed) or
 * BLK_CAUSE_NOT_READY (VS all-ones: nothing answers), with the words. */
enum blk_cause nvme_cap_check(uint64_t cap, uint32_t vs, char *why, size_t size);
/* Identify Controller, the same way: SQES/CQES with a required size above
 * the maximum and NN 0 are impossible; entry sizes without 64/16 bytes are
 * unsupported. (MDTS cannot say less than one page: a nonzero MDTS is at
 * least two CAP.MPSMIN pages, 0 is "no limit".) */
enum blk_cause nvme_id_ctrl_check(const struct nvme_id_ctrl *id, char *why, size_t size);
/* What a namespace looks like to the block layer, or why it is left out. */
enum nvme_ns_verdict {
    NVME_NS_USABLE,
    NVME_NS_INACTIVE,       /* NSZE 0: an allocated but inactive NSID (info, not a fault) */
    NVME_NS_UNUSABLE,       /* Identify data bareio cannot or must not use: `why` says */
    NVME_NS_IMPOSSIBLE,     /* Identify data the spec rules out (BLK_IMPOSSIBLE_WORDS...) */
};
struct nvme_ns_geometry {
    unsigned format;        /* the LBA format FLBAS selects */
    unsigned lba_shift;     /* LBADS: 9..16 */
    uint64_t nblocks;       /* NSZE, clamped so that nblocks << lba_shift fits 64 bits */
    bool clamped;
};
enum nvme_ns_verdict nvme_ns_geometry(const struct nvme_id_ns *id, struct nvme_ns_geometry *g,
                                      char *why, size_t why_size);

/* What Identify Controller says that every namespace of it shares. */
struct nvme_ns_ctrl_facts {
    uint16_t oncs;                  /* ONCS: Write Zeroes, Dataset Management */
    uint8_t vwc;                    /* VWC: a volatile write cache */
    uint32_t max_transfer_bytes;    /* one command moves at most this (MDTS or bareio's cap) */
};
#define NVME_NS_READ_ONLY_REASON 192    /* = sizeof(struct blk_dev.read_only_reason) */
/* What bareio makes of one namespace: how the block layer sees it, or why
 * it is left out. */
struct nvme_ns_decision {
    enum nvme_ns_verdict verdict;
    char why[240];                  /* not NVME_NS_USABLE: why, in words; else empty */
    /* The rest is set only when usable (zero otherwise). */
    struct nvme_ns_geometry geometry;
    unsigned formats;               /* LBA formats the namespace has (NLBAF + 1) */
    uint64_t nsze;                  /* blocks as reported (more than nblocks when clamped) */
    uint32_t block_size;            /* bytes: 512 B..64 KiB */
    uint32_t max_transfer;          /* blocks per command, at least 1 */
    uint32_t caps;                  /* BLK_CAP_* */
    /* Why it must never be written, whatever marks it scratch; empty: it may be. */
    char read_only_reason[NVME_NS_READ_ONLY_REASON];
};
/* Decides on a namespace from its Identify Namespace data and its
 * controller's facts. In order: NSZE 0 is an inactive NSID; NCAP > NSZE,
 * NUSE > NCAP, FLBAS beyond NLBAF, metadata (protection information lives
 * there too), blocks outside 512 B..64 KiB, and blocks larger than one
 * command moves make it unusable, with the reason; a size past 2^64 bytes
 * is clamped. Flush and FUA always, Write Zeroes and DSM deallocate as ONCS
 * says, the write cache as VWC says, deallocated blocks reading zeroes as
 * DLFEAT says; NSATTR's write protection makes it read-only. */
void nvme_ns_decide(const struct nvme_id_ns *id, const struct nvme_ns_ctrl_facts *facts,
                    struct nvme_ns_decision *d);
/* The namespace's I/O command set, once asked (the CSI of its descriptor
 * list, -1 when there is none: NVM; for a zoned one its zone size in
 * blocks, 0 when unknown): any set but NVM makes a usable namespace
 * read-only with that reason, which comes before write protection. */
void nvme_ns_decide_command_set(struct nvme_ns_decision *d, int csi, uint64_t zone_blocks);
/* The Command Set Identifier from a Namespace Identification Descriptor
 * list (NVMe 2.0 §5.17.2.3, descriptor type 04h), or -1 when the list holds
 * none (a controller before NVMe 2.0: the namespace is NVM). A list that
 * runs past its page is treated as ending there. */
int nvme_ns_descriptor_csi(const uint8_t page[4096]);
/* Zoned Namespace Command Set Identify Namespace (ZNS 1.1 §4.1.5.1): the
 * zone size of LBA format `format` (LBAFE ZSZE, in logical blocks); 0 when
 * it says none. */
uint64_t nvme_zns_zone_size(const uint8_t page[4096], unsigned format);
/* "zoned (NVMe ZNS)", "key value", "command set 05h". */
const char *nvme_csi_name(int csi);
/* An Identify string field (MN, SN, FR: ASCII, blank-padded, not terminated)
 * trimmed and escaped (lib/format.h format_escaped) into dst. */
void nvme_id_string(char *dst, size_t size, const char *src, size_t len);

/* ---- pure helpers: PRP builder (nvme_prp.c) ---- */
/* One PRP list page the caller owns: host view and bus address. */
struct nvme_prp_page {
    uint64_t *entries;
    uint64_t phys;
};
/* SGLs (NVMe 1.4 §4.4): CDW0.PSDT 01b says the data pointer holds an SGL
 * descriptor; a Data Block descriptor (type 0h, subtype 0h: identifier byte
 * 00h) is address (bytes 0-7), length (8-11) and the identifier (byte 15).
 * Identify Controller SGLS bits 1:0: 01b supported, 10b supported with
 * dword alignment and granularity of data blocks, 00b not, 11b reserved. */
#define NVME_SQE_PSDT_SGL       (1u << 14)
#define NVME_SGLS_SUPPORT(sgls) ((sgls) & 3u)
#define NVME_SGL_DATA_BLOCK     0x00u
/* The part [offset, offset + bytes) of the segments as one SGL Data Block
 * in the command's data pointer (dptr1, dptr2 as the SQE's PRP1 and PRP2
 * fields): true when it lies inside one segment and `bytes` fits the
 * 32-bit length, false otherwise (the caller uses PRPs then). */
bool nvme_sgl_single(const struct blk_seg *segs, uint32_t nsegs, uint64_t offset, uint64_t bytes,
                     uint64_t *dptr1, uint64_t *dptr2);

struct nvme_prp {
    uint64_t prp1, prp2;
    uint32_t entries;       /* PRP entries in all (PRP1, PRP2 or list entries) */
    uint32_t list_pages;    /* list pages used */
};
/* Checks the PRP rules on a request's segments (§4.3): only the first may
 * start inside a page, and every segment but the last must end on a page
 * boundary. -1 when they hold, else the index of the offending segment with
 * the rule in words in `why`. */
int nvme_prp_check(const struct blk_seg *segs, uint32_t nsegs, uint32_t page_size,
                   char *why, size_t why_size);
/* PRP entries a transfer of `bytes` starting at page offset `first_offset` needs. */
uint32_t nvme_prp_entry_count(uint64_t first_offset, uint64_t bytes, uint32_t page_size);
/* List pages for `entries` PRP entries (0 or 1 entries: none; 2: none). */
uint32_t nvme_prp_list_pages_for(uint32_t entries, uint32_t page_size);
/* Builds PRP1/PRP2 and the list for bytes [offset, offset+bytes) of the
 * segments (which passed nvme_prp_check). A list that needs more than
 * `npages` pages is refused (false, nothing written past the pages). Chained
 * list pages: the last entry of a full page points to the next page. */
bool nvme_prp_build(const struct blk_seg *segs, uint32_t nsegs, uint64_t offset, uint64_t bytes,
                    uint32_t page_size, const struct nvme_prp_page *pages, uint32_t npages,
                    struct nvme_prp *out);

/* ---- pure helpers: status and register decoding (nvme_status.c) ---- */
/* req->dev_status form: DNR<<15 | M<<14 | CRD<<12 | SCT<<8 | SC (the CQE's
 * status field without the phase tag, SCT moved down to bit 8). */
#define NVME_STATUS_DNR     (1u << 15)
#define NVME_STATUS_MORE    (1u << 14)
#define NVME_STATUS_CRD(s)  (((s) >> 12) & 3)
#define NVME_STATUS_CODE_MASK 0x7ffu    /* SCT and SC: zero means success */
#define NVME_STATUS_SCT(s)  (((s) >> 8) & 7)
#define NVME_STATUS_SC(s)   ((s) & 0xff)
#define NVME_SCT_GENERIC    0
#define NVME_SCT_COMMAND    1
#define NVME_SCT_MEDIA      2
#define NVME_SCT_PATH       3
#define NVME_SCT_VENDOR     7
#define NVME_SC_ABORT_REQUESTED 0x07
#define NVME_SC_LBA_RANGE   0x80
/* Not from the device: the host gave up on an admin command (timeout), or the
 * controller reported CSTS.CFS while one was outstanding. */
#define NVME_STATUS_HOST_TIMEOUT 0xffffu
#define NVME_STATUS_HOST_CFS     0xfffeu
/* From the CQE status field (phase bit dropped) to the dev_status form. */
uint16_t nvme_status_from_cqe(uint16_t cqe_status);
/* "generic: LBA out of range (SCT 0h SC 80h, DNR)" */
void nvme_status_describe(uint16_t status, char *buf, size_t size);
enum blk_cause nvme_status_cause(uint16_t status);
/* The status may be retried: not success and DNR clear. */
bool nvme_status_retryable(uint16_t status);
const char *nvme_sct_name(unsigned sct);
/* Registers in words. */
void nvme_decode_csts(uint32_t csts, char *buf, size_t size);
void nvme_decode_cc(uint32_t cc, char *buf, size_t size);
void nvme_decode_cap(uint64_t cap, char *buf, size_t size);
/* Byte offset in BAR0 of the SQ `qid` tail (completion false) or CQ `qid`
 * head doorbell, with CAP.DSTRD = dstrd. The shadow doorbell and EventIdx
 * buffers use the same offsets minus 1000h. */
uint32_t nvme_doorbell_offset(uint16_t qid, bool completion, uint32_t dstrd);
/* Shadow doorbells: whether moving a doorbell from old_value to new_value
 * must also be written to the register, given the controller's EventIdx. */
bool nvme_shadow_needs_mmio(uint16_t event_idx, uint16_t new_value, uint16_t old_value);

/* ---- the driver (kernel only) ---- */
#ifndef BAREIO_HOST_TEST
#include "drivers/blk/fifo.h"
#include "kernel/memory.h"
#include "kernel/spinlock.h"

/* The most I/O queue pairs asked for: one per MSI-X table entry after the
 * admin queue's (a table holds at most 2048, PCIe 5.0 §7.7.2.2). By default
 * the driver asks for one per online CPU (nvme.queues=0). */
#define NVME_MAX_IO_QUEUES      2047
#define NVME_ADMIN_DEPTH        32
#define NVME_PAGE_SIZE          4096u
#define NVME_MAX_TRANSFER_BYTES (4u << 20)  /* our cap when MDTS allows more or is 0 */
#define NVME_MAX_RETRIES        2           /* per command, only when DNR is clear */

enum nvme_irq_mode { NVME_IRQ_POLL, NVME_IRQ_MSIX, NVME_IRQ_INTX };

struct nvme_ctrl;
struct nvme_ns;

/* One command slot (CID = index in its queue), allocated at queue creation. */
struct nvme_cmd {
    struct blk_request *req;    /* NULL when the slot is free */
    struct nvme_ns *ns;
    struct nvme_sqe sqe;        /* as sent (kept after completion for describe/tests) */
    struct nvme_prp_page *pages;    /* this slot's PRP list pages */
    uint64_t deadline_ns;
    uint64_t slba;              /* this part's first LBA and length */
    uint32_t nlb;
    uint32_t bytes;
    uint8_t retries;
    bool in_flight;
    bool timed_out;
    uint16_t last_status;
};

/* A queue pair's state is kept under its lock: the CPUs submitting on it and
 * the one its MSI-X vector is routed to all take it (nvme_io.c says what it
 * guards and where it is dropped). */
struct nvme_queue {
    struct spinlock lock;
    struct nvme_ctrl *ctrl;
    uint16_t qid;
    uint16_t depth;             /* entries in the SQ and the CQ */
    struct dma_region sq_mem, cq_mem, cmd_mem, prp_mem, page_mem;
    volatile struct nvme_sqe *sq;
    volatile struct nvme_cqe *cq;
    struct nvme_cmd *cmds;
    uint16_t sq_tail, sq_head, cq_head;
    uint16_t sq_tail_rung, cq_head_rung;    /* values last given to the doorbells */
    uint16_t cid_hint;
    uint64_t next_deadline_check_ns;
    uint64_t next_fatal_check_ns;   /* when a poll reads CSTS for CFS next */
    uint8_t phase;
    uint16_t in_flight;
    uint32_t pages_per_cmd;
    /* Requests whose remaining parts wait for a free slot, oldest first. */
    struct blk_fifo pending;
    /* Interrupts. */
    enum nvme_irq_mode irq_mode;    /* of this queue (a queue falls back to poll) */
    int vector;                 /* MSI-X: kernel vector, else -1 */
    uint16_t msix_index;
    uint32_t irq_apic_id;       /* the CPU its MSI-X messages go to (MSI-X mode) */
    uint32_t last_irq_apic_id;  /* the CPU its handler last ran on (tests) */
    uint64_t irqs_off_target;   /* handler runs on a CPU other than irq_apic_id (tests) */
    uint64_t irq_seen_count;    /* irq_count(vector) when a stale CQE was first seen */
    uint64_t stale_since_ns;    /* a CQE waiting for its interrupt since */
    /* Statistics (tests). */
    uint64_t completed, polled_completed, commands;
    uint64_t sq_doorbell_writes, cq_doorbell_writes, mmio_doorbell_writes;
    uint64_t interrupts;
};

struct nvme_ns {
    struct blk_dev dev;
    struct nvme_ctrl *ctrl;
    uint32_t nsid;
    uint32_t lba_shift;
    uint32_t test_nsid_once;    /* test hook: the next command goes to this NSID */
};

/* What the I/O path (nvme_io.c) needs done by the controller layer above it
 * (nvme_ctrl.c), which sets these at probe: so no file calls a function of
 * one above it, and nvme_io.c still starts a reset when an Abort fails. */
struct nvme_ctrl_ops {
    /* Disable, enable, recreate the queues, repost what was in flight
     * (nvme_io_repost); false when the controller could not come back. */
    bool (*reset)(struct nvme_ctrl *c, const char *reason);
    /* Each poll, before reaping: CSTS.CFS (then a reset) or CSTS all ones
     * (the controller is gone: everything fails). true when either was seen. */
    bool (*check_fatal)(struct nvme_ctrl *c);
    /* The orderly stop behind blk_ops.shutdown (CC.SHN, §7.6.2). */
    void (*shutdown)(struct nvme_ctrl *c);
};

struct nvme_ctrl {
    char name[16];              /* "nvme0" */
    const struct nvme_ctrl_ops *ops;
    unsigned index;
    struct pci_device *pci;
    volatile void *regs;
    uint64_t cap;
    uint32_t vs;
    uint32_t timeout_ms;        /* CAP.TO */
    struct nvme_id_ctrl *id;    /* Identify Controller data (DMA page) */
    struct dma_region id_mem, scratch_mem, dbbuf_mem, eventidx_mem;
    uint32_t max_transfer_bytes;
    uint32_t mdts_bytes;        /* 0: no limit */
    bool bus_master;
    bool alive;                 /* enabled and serving */
    bool shut_down;
    bool shadow_doorbells;      /* Doorbell Buffer Config in effect */
    bool sgl;                   /* reads and writes in one segment go as one SGL data
                                 * block (Identify SGLS, nvme.sgl=) */
    /* Recovery (Abort, reset, the CSTS.CFS check that leads to one) is done
     * by one CPU at a time: the one that claimed it (nvme_recovery_claim).
     * While in_recovery is set no queue is touched but by that CPU. */
    volatile bool in_recovery;
    volatile uint32_t recovery_owner;   /* claimant's online rank + 1; 0: none */
    unsigned recovery_depth;            /* nested claims by the owner */
    enum nvme_irq_mode irq_mode;
    uint16_t queue_depth;
    uint16_t nio;               /* I/O queue pairs */
    uint16_t nio_granted;       /* what Number of Queues allowed */
    uint16_t nio_wanted;        /* what was asked for: nvme.queues, or one per online CPU */
    uint16_t cpus_at_bring_up;  /* online CPUs when the queues were made */
    struct nvme_queue admin;
    struct nvme_queue *io;      /* nio of them, allocated at bring-up */
    unsigned nns;               /* namespaces registered */
    unsigned ns_capacity;       /* entries of ns[] (every active NSID found) */
    struct nvme_ns *ns;
    bool msix_shared;           /* one MSI-X vector: the I/O queue takes entry 0 too */
    /* Recovery statistics (tests). */
    unsigned resets, aborts_sent, aborts_not_done, cfs_seen, timeouts;
    char last_recovery[160];    /* what recovery did last, for request details */
    char last_reset[96];        /* why the controller was last reset */
};

/* The files below stand in layers, top first; each calls only those after it. */

/* nvme_test.c: the suite's view of the driver (tests/kernel/test_nvme.c).
 * The suite reads no driver struct: it takes a copy of what it checks, so a
 * case reads like what it proves and the driver may rearrange its state. */
struct nvme_test_view {
    /* The namespace and its controller. */
    char ctrl_name[16];         /* "nvme0" */
    uint32_t nsid;
    uint32_t nsid_once;         /* the NSID nvme_test_nsid_once() set, not yet used; 0: none */
    uint64_t cap;               /* CAP as read at bring-up */
    uint32_t csts;              /* CSTS, read when the view is taken */
    uint32_t timeout_ms;        /* CAP.TO */
    uint32_t max_transfer_bytes;    /* what one command moves (MDTS and the driver's cap) */
    uint32_t mdts_bytes;        /* 0: MDTS says no limit */
    uint16_t nio;               /* I/O queue pairs */
    uint16_t nio_wanted;        /* asked of Number of Queues */
    uint16_t nio_granted;       /* what it granted */
    uint16_t queue_depth;       /* entries per I/O queue */
    enum nvme_irq_mode irq_mode;
    bool alive;                 /* enabled and serving */
    bool shadow_doorbells;      /* Doorbell Buffer Config in effect */
    unsigned resets, aborts_sent, aborts_not_done, cfs_seen, timeouts;
    char last_reset[96];        /* why the controller was last reset */
    /* I/O queue `queue` (0-based, as blk_request.queue; its qid is queue + 1). */
    struct nvme_test_queue_view {
        uint16_t qid;
        uint16_t depth;         /* entries in the SQ and the CQ */
        enum nvme_irq_mode irq_mode;    /* of this queue (it may have fallen back to poll) */
        uint64_t interrupts;    /* MSI-X handler runs, INTx pin assertions seen */
        uint32_t irq_apic_id;   /* MSI-X: the CPU its messages are routed to */
        uint32_t last_irq_apic_id;  /* the CPU its handler last ran on */
        uint64_t irqs_off_target;   /* handler runs on any other CPU */
        uint64_t commands;      /* commands started (a request split in N is N) */
        uint64_t completed;     /* requests completed */
        uint64_t sq_doorbell_writes, cq_doorbell_writes;   /* doorbell updates */
        uint64_t mmio_doorbell_writes;  /* of those, written to the register */
        uint16_t sq_tail, sq_head, cq_head;
        uint8_t phase;          /* the phase tag a new CQE at cq_head carries */
        uint16_t in_flight;
        /* The command slots' PRP list pages: one region, allocated with the queue. */
        uint64_t prp_pages_phys, prp_pages_bytes;
        /* Shadow doorbells on: the shadow SQ tail and CQ head the driver
         * wrote, and the controller's EventIdx for each (§5.7); else 0. */
        uint32_t shadow_sq_tail, shadow_cq_head, eventidx_sq, eventidx_cq;
    } queue;
};
/* Fills *out for the NVMe namespace dev and its I/O queue `queue`; false
 * (nothing filled) when dev is no NVMe namespace or the queue does not exist. */
bool nvme_test_view(struct blk_dev *dev, unsigned queue, struct nvme_test_view *out);
/* Hooks that make something happen on purpose; each says what. */
/* The next read on the namespace goes to `nsid` instead (0: none); never a
 * write, which could land on a namespace the block layer never allowed. */
void nvme_test_nsid_once(struct blk_dev *dev, uint32_t nsid);
/* SGL data blocks on or off for the namespace's controller (the PRP cases
 * turn them off to see PRP lists); *was says what it was. false: not an
 * NVMe namespace, or `on` asked of a controller without SGLs. */
bool nvme_test_set_sgl(struct blk_dev *dev, bool on, bool *was);
/* A controller reset (nvme_ctrl_reset) for `reason`, with whatever is in
 * flight; false when the controller did not come back or dev is no NVMe
 * namespace. */
bool nvme_test_reset(struct blk_dev *dev, const char *reason);
/* One enable (nvme_ctrl_enable) with the admin SQ base 800h into its page,
 * then the base put back: QEMU's nvme answers with CSTS.CFS (a real
 * controller ignores ASQ bits 11:0). Its cause, and why in words. Leaves the
 * controller without I/O queues: the next reset brings them back. */
enum blk_cause nvme_test_enable_misaligned_asq(struct blk_dev *dev, char *why, size_t why_size);

/* nvme_ctrl.c: probe, bring-up, namespaces, reset, shutdown (and the tests'). */
struct nvme_ctrl *nvme_controller(unsigned index);
enum blk_cause nvme_ctrl_enable(struct nvme_ctrl *c, char *why, size_t why_size);
/* Reset after a timeout or CSTS.CFS: disable, enable, recreate queues,
 * repost what was in flight. false when the controller could not come back. */
bool nvme_ctrl_reset(struct nvme_ctrl *c, const char *reason);

/* nvme_io.c: the blk_ops and what a reset does to the requests. */
extern const struct blk_ops nvme_blk_ops;
/* The queue's completion mode: its MSI-X vector and table entry, or polled
 * (false, logged, when no vector or entry could be had). */
bool nvme_io_irq_setup(struct nvme_ctrl *c, struct nvme_queue *q);
/* After a reset, while in_recovery is still set (so no CPU adds a command
 * the repost would post a second time): the queue's in-flight commands,
 * except timed-out ones, are posted again; timed-out ones complete with
 * BLK_CAUSE_TIMEOUT; then what waited is issued. */
void nvme_io_repost(struct nvme_queue *q);
/* Once in_recovery is clear again: what completed while it was set. The
 * handler had to leave those completions (an edge-triggered MSI-X message
 * is not sent again), and a poll would take them for an interrupt never
 * delivered. */
void nvme_io_reap_after_recovery(struct nvme_queue *q);
/* Every command in flight and every request waiting fails with `cause`. */
void nvme_io_fail_all(struct nvme_queue *q, enum blk_cause cause, const char *why);
/* The namespace behind dev, NULL when dev is not an NVMe namespace. */
struct nvme_ns *nvme_ns_of(struct blk_dev *dev);
/* Test hooks that need the I/O path's own state (tests/kernel/test_nvme.c).
 * The SQE of the request's last command as sent, and up to `max` PRP list
 * entries (in list order across chained pages, chain pointers included). */
bool nvme_test_last_command(struct blk_dev *dev, const struct blk_request *req,
                            struct nvme_sqe *sqe, uint64_t *list, uint32_t max, uint32_t *nlist);
/* Masks (or unmasks) the MSI-X table entry of I/O queue `queue`, so its
 * completions raise no interrupt; unmasking also ends the queue's polling
 * fallback. Nothing for a queue without a vector. */
void nvme_test_set_vector_masked(struct blk_dev *dev, unsigned queue, bool masked);

/* nvme_admin.c: synchronous admin commands on the polled admin queue. */
uint16_t nvme_admin_sync(struct nvme_ctrl *c, struct nvme_sqe *sqe, uint32_t timeout_ms,
                         struct nvme_cqe *cqe_out);
uint16_t nvme_identify(struct nvme_ctrl *c, uint8_t cns, uint32_t nsid, uint64_t buf_phys);
/* Identify with a Command Set Identifier (CDW11 31:24, NVMe 2.0 §5.17.1). */
uint16_t nvme_identify_csi(struct nvme_ctrl *c, uint8_t cns, uint8_t csi, uint32_t nsid,
                           uint64_t buf_phys);
uint16_t nvme_set_number_of_queues(struct nvme_ctrl *c, uint16_t wanted, uint16_t *granted);
uint16_t nvme_create_io_queues(struct nvme_ctrl *c, struct nvme_queue *q, uint16_t vector_index);
uint16_t nvme_delete_io_queues(struct nvme_ctrl *c, struct nvme_queue *q);
uint16_t nvme_abort(struct nvme_ctrl *c, uint16_t sqid, uint16_t cid, bool *not_aborted);
uint16_t nvme_doorbell_buffer_config(struct nvme_ctrl *c);

/* nvme_queue.c: queue memory, SQEs, doorbells, CQ primitives. */
/* Claims recovery of the controller for the running CPU (again, nested, when
 * it holds it already); false when another CPU holds it: that one's reset
 * reposts or fails what is in flight, so the caller leaves it alone. No CPU
 * ever waits for a claim: it is a token, not a lock. */
bool nvme_recovery_claim(struct nvme_ctrl *c);
void nvme_recovery_release(struct nvme_ctrl *c);
uint32_t nvme_read_csts(struct nvme_ctrl *c);
/* SQ, CQ, `depth` command slots with `pages_per_cmd` PRP list pages each;
 * false (logged) when memory is short. */
bool nvme_queue_alloc(struct nvme_ctrl *c, struct nvme_queue *q, uint16_t qid, uint16_t depth,
                      uint32_t pages_per_cmd);
/* Empty queue: indexes 0, phase 1, every CQE cleared (at creation, after a reset). */
void nvme_queue_reset_indexes(struct nvme_queue *q);
/* Puts a command's SQE at the tail (no doorbell). */
void nvme_queue_post(struct nvme_queue *q, const struct nvme_sqe *sqe);
/* The SQ is not full (§4.1.1: full when the tail is one behind the head). */
bool nvme_queue_sq_has_room(const struct nvme_queue *q);
/* The SQ tail doorbell, when it moved since last rung; the CQ head doorbell. */
void nvme_ring_sq(struct nvme_queue *q);
void nvme_ring_cq(struct nvme_queue *q);
/* A CQE is posted at the head (its phase tag is the queue's). */
bool nvme_queue_cqe_pending(const struct nvme_queue *q);
/* The posted CQE at the head, taken: the head moves on and the phase flips
 * where the queue wraps (§4.6). No doorbell. */
struct nvme_cqe nvme_queue_take_cqe(struct nvme_queue *q);
#endif /* BAREIO_HOST_TEST */

#endif
