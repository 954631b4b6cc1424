/* SPDX-License-Identifier: MIT */
/* drivers/blk/blk.h — the block-device interface that every storage driver
 * (AHCI, NVMe, the test RAM disk) implements and the harness uses, so that a
 * test never needs to know which kind of controller it drives.
 *
 * Design:
 * - Asynchronous and allocation-free per I/O. The caller owns every struct
 *   blk_request and its segment array; a driver keeps its per-command state
 *   (command slots, PRP list pages, PRDTs) allocated once at bring-up.
 * - Submission is split from notification: blk_submit() queues a request
 *   (builds the command, writes no doorbell), blk_kick() rings the doorbell
 *   once for everything queued on that queue, blk_poll() reaps completions.
 *   A benchmark queues 32 requests and kicks once.
 * - Data is described by physical segments (struct blk_seg). The driver turns
 *   them into PRPs or a PRDT and refuses, before anything reaches the device,
 *   segments that break its rules, naming the rule in req->detail.
 * - A request larger than one command is split by the driver and completes
 *   once, when every part has; BLK_F_NOSPLIT sends it as one command anyway
 *   (negative tests: "transfer above MDTS").
 * - The block layer (blk.c) validates what is device-independent before a
 *   driver sees a request: op supported, length, LBA range, segment bytes ==
 *   blocks * block size, and the write gate: only devices the user made
 *   scratch are written, and only inside their scratch range.
 * - Every completion carries a cause from one fixed list (enum blk_cause),
 *   the device's raw status and its decoding in words; blk_cause_remedy()
 *   says what to do about it.
 * - Completion callbacks may run in interrupt context (MSI/MSI-X modes) or
 *   from blk_poll(); they must not submit or wait.
 */
#ifndef DRIVERS_BLK_BLK_H
#define DRIVERS_BLK_BLK_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct pci_device;

enum blk_op {
    BLK_OP_READ,
    BLK_OP_WRITE,
    BLK_OP_FLUSH,           /* whole device; lba/count/segs unused */
    BLK_OP_TRIM,            /* ATA DATA SET MANAGEMENT / NVMe DSM deallocate; no data */
    BLK_OP_WRITE_ZEROES,    /* NVMe Write Zeroes; no data */
    BLK_OP_COUNT
};

/* Request flags. */
#define BLK_F_FUA       (1u << 0)   /* write: force unit access */
#define BLK_F_NOSPLIT   (1u << 1)   /* one command even above max_transfer (negative tests) */
#define BLK_F_UNCHECKED (1u << 2)   /* skip the block layer's LBA range check, so the
                                     * device's own answer is tested (negative tests);
                                     * the write gate still applies */

/* Why a request or a controller failed: a fixed list, each with a remedy. */
enum blk_cause {
    BLK_OK = 0,
    BLK_CAUSE_BUS_MASTER_OFF,       /* PCI COMMAND.BME clear: the device cannot DMA */
    BLK_CAUSE_BAR_UNASSIGNED,       /* register BAR missing or zero */
    BLK_CAUSE_NOT_AHCI_MODE,        /* GHC.AE cannot be set / controller in IDE mode */
    BLK_CAUSE_UNSUPPORTED,          /* controller version or capability not supported */
    BLK_CAUSE_CONTROLLER_FATAL,     /* NVMe CSTS.CFS, AHCI host bus fatal error */
    BLK_CAUSE_NOT_READY,            /* firmware / device never became ready */
    BLK_CAUSE_IRQ_NOT_DELIVERED,    /* the device completed but no interrupt arrived */
    BLK_CAUSE_MISALIGNED,           /* buffer breaks the controller's alignment rule */
    BLK_CAUSE_DMA_UNREACHABLE,      /* buffer beyond the controller's addressing */
    BLK_CAUSE_LBA_RANGE,            /* LBA past the end of the device */
    BLK_CAUSE_MEDIA,                /* unrecovered read / write fault on the medium */
    BLK_CAUSE_TIMEOUT,              /* no completion before the deadline */
    BLK_CAUSE_MISCOMPARE_MISDIRECTED, /* data of another LBA came back */
    BLK_CAUSE_MISCOMPARE_LOST,      /* an older generation came back: write lost */
    BLK_CAUSE_MISCOMPARE_TORN,      /* part of the block is new, part is old */
    BLK_CAUSE_MISCOMPARE_CORRUPT,   /* the block's content is damaged */
    BLK_CAUSE_INVALID,              /* request the device cannot take (zero length, bad
                                     * namespace, unsupported op, too many segments) */
    BLK_CAUSE_READ_ONLY,            /* write to a device or range that is not scratch */
    BLK_CAUSE_LINK,                 /* SATA link down / interface (CRC, protocol) error */
    BLK_CAUSE_ABORTED,              /* failed by the recovery of another command */
    BLK_CAUSE_DEVICE_ERROR,         /* the device refused the command for another reason */
    BLK_CAUSE_RESOURCE_CONFLICT,    /* a BAR over another BAR, RAM or a platform window, or
                                     * beyond the CPU's physical address width */
    BLK_CAUSE_IMPOSSIBLE,           /* a capability or identify field the spec rules out
                                     * (NVMe CAP.MQES 0, AHCI PI 0, capacity 0, ...) */
    BLK_CAUSE_COUNT
};
/* How every impossible-capability diagnosis begins, before "FIELD = VALUE
 * (why that cannot be)", so a reader finds them all by one phrase. */
#define BLK_IMPOSSIBLE_WORDS "the controller reports impossible capabilities (firmware or emulation bug)"
const char *blk_cause_name(enum blk_cause cause);     /* "lba out of range" */
const char *blk_cause_remedy(enum blk_cause cause);   /* one sentence: what to do */
const char *blk_op_name(enum blk_op op);              /* "read", "write", ... */
/* "64 MiB", "3.00 TiB": sizes in boot lines and reports. */
void blk_format_size(char *buf, size_t size, uint64_t bytes);

/* One physically contiguous piece of a data buffer. */
/* Bytes of driver state every request carries (struct blk_request.pdu). */
#define BLK_REQ_PDU_BYTES 48

struct blk_seg {
    uint64_t phys;
    uint32_t len;           /* bytes */
    uint32_t reserved;
};

struct blk_request {
    /* Set by the caller. */
    uint8_t op;             /* enum blk_op */
    uint16_t flags;         /* BLK_F_* */
    uint16_t queue;         /* queue pair (taken modulo the device's nqueues); one per
                             * CPU on drivers that have them: blk_queue_of_cpu() */
    uint32_t nsegs;
    uint64_t lba;
    uint32_t count;         /* logical blocks */
    const struct blk_seg *segs;
    void (*done)(struct blk_request *req);  /* optional; once, maybe in IRQ context */
    void *ctx;

    /* Set by the driver (or the block layer) on completion. */
    volatile bool complete;
    enum blk_cause cause;
    uint32_t dev_status;    /* raw: NVMe (DNR<<15 | M<<14 | CRD<<12 | SCT<<8 | SC); AHCI PxTFD */
    uint64_t error_lba;     /* first failing LBA when the device says, else lba */
    uint64_t bytes;         /* bytes the device reported transferred (PRDBC, ...) */
    char detail[160];       /* the status decoded in words */
    uint64_t submit_ns, complete_ns;

    /* Private to the driver while the request is in flight: its typed
     * per-request state (see BLK_PDU_ACCESSOR) and the link of a struct
     * blk_fifo (drivers/blk/fifo.h). */
    union {
        uint64_t align_;
        unsigned char bytes[BLK_REQ_PDU_BYTES];
    } pdu;
    struct blk_request *next;
};

/* A driver's per-request state, in the spirit of Linux's per-request PDU:
 *
 *   struct nvme_rq { uint32_t outstanding; ... };
 *   BLK_PDU_ACCESSOR(nvme_rq, struct nvme_rq)
 *   ...  nvme_rq(req)->outstanding++;
 *
 * defines `static inline struct nvme_rq *nvme_rq(const struct blk_request *)`
 * (const, so describe() can read it too; the state is the driver's, not the
 * caller's), and fails the build when the struct does not fit in the
 * request or needs more than 8-byte alignment. */
#define BLK_PDU_ACCESSOR(fn, type)                                                    \
    _Static_assert(sizeof(type) <= BLK_REQ_PDU_BYTES,                                 \
                   #type " does not fit in struct blk_request's pdu");                \
    _Static_assert(_Alignof(type) <= 8, #type " needs more than 8-byte alignment");   \
    static inline type *fn(const struct blk_request *r)                               \
    {                                                                                 \
        return (type *)(uintptr_t)r->pdu.bytes;                                       \
    }

/* Refuses a request in a driver's submit(): sets req->cause and req->detail
 * (printf-style) and returns the cause, so `return blk_refuse(req, ...)`. */
enum blk_cause blk_refuse(struct blk_request *req, enum blk_cause cause, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Device capabilities (blk_dev.caps). */
#define BLK_CAP_FLUSH           (1u << 0)
#define BLK_CAP_FUA             (1u << 1)
#define BLK_CAP_TRIM            (1u << 2)
#define BLK_CAP_WRITE_ZEROES    (1u << 3)
#define BLK_CAP_WRITE_CACHE     (1u << 4)   /* volatile write cache present/enabled */
#define BLK_CAP_NCQ             (1u << 5)
#define BLK_CAP_TRIM_ZEROES     (1u << 6)   /* a block the device did deallocate reads as
                                             * zeroes (NVMe DLFEAT 001b, ATA DRAT+RZAT);
                                             * a trim itself is advisory: it may keep data */
#define BLK_CAP_DMA64           (1u << 7)   /* can reach memory above 4 GiB */

struct blk_dev;

struct blk_ops {
    /* Builds and queues the command(s); no doorbell. BLK_OK, or the cause of a
     * refusal (req->detail says why) — then nothing reached the device and
     * done() is not called. */
    enum blk_cause (*submit)(struct blk_dev *dev, struct blk_request *req);
    /* Tells the device about everything queued on `queue` (one doorbell). */
    void (*kick)(struct blk_dev *dev, unsigned queue);
    /* Reaps completions on `queue` and checks deadlines (timeout → recovery);
     * returns how many requests completed. Must be callable in every
     * completion mode, also to detect a completion whose interrupt is missing. */
    unsigned (*poll)(struct blk_dev *dev, unsigned queue);
    /* Prints the request's descriptors as sent (PRP entries, PRDT) and the
     * decoded controller state, one klog line each, for a failure record. */
    void (*describe)(struct blk_dev *dev, const struct blk_request *req);
    /* Routes the device's completion interrupts to the CPU with this APIC
     * id, called with nothing in flight by the CPU about to drive it (the
     * parallel harness), so its handler runs where its requests are; false
     * when it cannot (then that CPU does not drive it). May be NULL. */
    bool (*bind_cpu)(struct blk_dev *dev, uint32_t apic_id);
    /* The APIC id of the CPU that queue `queue`'s completion interrupts go
     * to (CPU_APIC_ID_UNKNOWN: none, polled, or not known), so a caller
     * waiting for them knows whether an interrupt will wake it there. May be
     * NULL (not known). */
    uint32_t (*irq_apic_id)(struct blk_dev *dev, unsigned queue);
    /* Orderly stop at the end of a run (NVMe CC.SHN); may be NULL. */
    void (*shutdown)(struct blk_dev *dev);
};

struct blk_dev {
    /* Filled by the driver before blk_register(). */
    char name[16];          /* "ahci0p2", "nvme0n1" */
    /* Device text, escaped (lib/format.h format_escaped: printable ASCII only)
     * so it is safe on the console; up to 40/20/8 device bytes, as ATA and
     * NVMe give them, of up to 4 characters each. */
    char model[161];
    char serial[81];
    char firmware[33];
    const char *kind;       /* set by blk_register(): its driver's name ("ahci", "nvme") */
    struct pci_device *pci; /* NULL for the RAM disk */
    uint32_t block_size;    /* logical, bytes */
    uint32_t phys_block_size;
    uint64_t nblocks;       /* what commands can address (see capacity_clamped); at most
                             * UINT64_MAX / block_size, so a byte count never wraps */
    bool capacity_clamped;  /* the device reports more blocks than nblocks: blocks past
                             * nblocks exist, so "past the end" is not the device's end */
    uint32_t max_transfer;  /* blocks per command (MDTS, 65536 for ATA) */
    uint32_t max_segs;      /* segments per request */
    uint32_t addr_align;    /* segment base alignment, bytes (NVMe 4, AHCI 2) */
    uint32_t len_align;     /* segment length multiple, bytes (AHCI 2, NVMe 4) */
    bool page_segments;     /* segments must chain whole pages: only the first may start
                             * inside a 4 KiB page and all but the last must end on one
                             * (NVMe PRP, NVMe 1.4 §4.3); the driver refuses others */
    uint64_t dma_limit;     /* first physical address the controller cannot reach */
    uint32_t caps;          /* BLK_CAP_* */
    uint16_t nqueues;       /* queue pairs usable with blk_submit */
    uint16_t queue_depth;   /* requests in flight per queue */
    bool irq_completion;    /* completions raise an interrupt its handler reaps (MSI-X,
                             * MSI, INTx); false: only poll() finds them. poll() also
                             * reaps when the caller holds interrupts off. */
    const struct blk_ops *ops;
    void *priv;
    /* Devices with the same cpu_group are never driven by two CPUs at once:
     * a parallel harness (tests/harness/dio.c) runs them one after another
     * on one CPU. blk_register() sets it to the PCI function when the driver
     * leaves it NULL (the safe default: a controller whose recovery or
     * shared registers touch every device on it); a driver whose devices
     * are independent of each other under concurrent use sets it to the
     * device itself. */
    const void *cpu_group;
    /* The driver keeps this device's state right when it is driven from any
     * CPU while its interrupt handler runs on another (locks, not
     * irq_save()). False: a parallel harness drives it from another CPU only
     * after bind_cpu() moved its interrupts there (or it has none: no
     * irq_completion), otherwise from the BSP only. */
    bool any_cpu;
    /* Set by the driver when the device must not be written whatever marks
     * it scratch ("zoned namespace: ..."): the block layer keeps it read-only
     * with this reason. Empty otherwise. */
    char read_only_reason[192];

    /* Set by the block layer. */
    unsigned index;
    uint32_t timeout_ms;    /* per-command deadline (blk.timeout=) */
    bool writable;          /* scratch: label, bareio GPT partition or allow_write= */
    bool boot_device;       /* bareio was booted from it: never written */
    uint64_t write_first;   /* writes confined to [write_first, write_end) blocks */
    uint64_t write_end;
    char access[256];       /* why writable or read-only, in words */
    uint64_t submitted;     /* requests that passed the checks and reached the driver */
    uint64_t wait_sleeps;   /* blk_wait() sleeps between polls on an AP (atomic; tests) */
    uint8_t identity[16];   /* scratch label UUID (or hash of the serial) for stamps */
};

/* ---- drivers ----
 *
 * A driver is its folder plus one registration, written in that folder:
 *
 *   static const struct blk_pci_match nvme_match[] = { { .class_code = 0x01,
 *       .subclass = 0x08, .prog_if = 0x02 }, { 0 } };
 *   BLK_DRIVER(nvme) = { .name = "nvme", .match = nvme_match, .bar = 0,
 *       .bar_name = "controller registers", .min_bar_size = 0x2000,
 *       .ops = &nvme_blk_ops, .init = nvme_init };
 *
 * blk_init() runs every driver's init(), which finds its functions with
 * blk_pci_count()/blk_pci_at(), claims each with blk_pci_claim() and calls
 * blk_register() per device. Preflight (tests/kernel/test_preflight.c) and
 * the end-of-run summary iterate the drivers: which PCI functions are whose,
 * the register BAR to check, and the driver's own preflight() for what only
 * it can read (AHCI's GHC.AE and CAP.S64A). A device's driver is known by its
 * ops pointer (blk_dev_driver()), never by comparing names. */

/* A PCI function a driver takes: class and subclass, prog-if unless it is
 * negative; vendor/device IDs when vendor_id is not 0 (then the class is not
 * looked at). A table ends with an entry of all zeroes (vendor 0, class 0). */
struct blk_pci_match {
    uint8_t class_code, subclass;
    int16_t prog_if;
    uint16_t vendor_id, device_id;
};

/* What a driver's preflight() reads off its controller, before any I/O. */
struct blk_preflight {
    bool has_mode_check;        /* the driver checks a controller mode (below) */
    enum blk_cause mode_cause;  /* BLK_OK: in the mode the driver needs */
    char mode[160];             /* what was read, in words: the failure or a diagnostic */
    bool dma64;                 /* the controller can address memory above 4 GiB */
    bool unreadable;            /* registers not reachable: nothing above was read */
};

struct blk_driver {
    const char *name;           /* "nvme": controllers are named nvme0, nvme1, ... */
    const struct blk_pci_match *match;  /* NULL: not a PCI driver (the RAM disk) */
    unsigned bar;               /* the register BAR */
    /* Optional: the register BAR of this function when it is not fixed
     * (virtio names it in a capability); returns a BAR index, or -1 when the
     * function says none (then it is reported as not implemented). */
    int (*bar_of)(const struct pci_device *pci);
    const char *bar_name;       /* "ABAR", "controller registers" */
    uint64_t min_bar_size;      /* bytes the registers need */
    const struct blk_ops *ops;  /* every device it registers uses these */
    void (*init)(const struct blk_driver *drv);
    /* Optional. `regs` is the mapped register BAR (NULL when it could not be
     * mapped: then set unreadable). Reads only; changes nothing. */
    void (*preflight)(const struct blk_driver *drv, struct pci_device *pci,
                      volatile void *regs, struct blk_preflight *out);
};
#define BLK_DRIVER(name_)                                                             \
    const struct blk_driver blk_driver_##name_                                        \
        __attribute__((used, section(".blk_drivers." #name_), aligned(8)))

/* The drivers built in, in name order. */
unsigned blk_driver_count(void);
const struct blk_driver *blk_driver_at(unsigned i);
/* The driver of a device (by its ops), NULL when none registered it. */
const struct blk_driver *blk_dev_driver(const struct blk_dev *dev);
/* The driver that takes this PCI function, NULL when none. */
const struct blk_driver *blk_pci_driver(const struct pci_device *pci);
bool blk_pci_matches(const struct blk_driver *drv, const struct pci_device *pci);
/* The driver's functions, in PCI table order: how many, and the i'th. */
unsigned blk_pci_count(const struct blk_driver *drv);
struct pci_device *blk_pci_at(const struct blk_driver *drv, unsigned i);
/* The index of the function's register BAR (bar, or what bar_of says; -1: none). */
int blk_pci_bar_index(const struct blk_driver *drv, const struct pci_device *pci);
/* The register BAR if it is a memory BAR that is assigned (not 0) and at
 * least min_bar_size bytes; else NULL and, when why is given, why not. */
const struct pci_bar *blk_pci_register_bar(const struct blk_driver *drv,
                                           const struct pci_device *pci, char *why, size_t size);

/* The probe prelude every PCI driver runs: checks the register BAR, turns
 * on memory decoding and bus mastering (left off, and cleared if the
 * firmware set it, under test.no_bus_master=DRIVER), maps the BAR. Returns
 * the registers, or NULL after recording the controller as failed under
 * `name` with the cause (blk_controller_failed). *bus_master says whether
 * PCI COMMAND.BME is on: a driver must not let the device DMA without it. */
volatile void *blk_pci_claim(const struct blk_driver *drv, struct pci_device *pci,
                             const char *name, bool *bus_master);

/* A controller that could not be brought up, or one disk of a controller
 * that was (`disk`: an NVMe namespace, a SATA drive, whose Identify data
 * bareio cannot or must not use): kept for the preflight suite, the storage
 * inventory and the end-of-run summary, so a disk left out is never only a
 * boot-log line. */
struct blk_controller_fault {
    char name[32];          /* "ahci0", "nvme1"; a disk: "ahci0p2", "nvme0 nsid 3" */
    struct pci_device *pci;
    enum blk_cause cause;
    bool disk;
    char detail[256];
};
void blk_controller_failed(const char *name, struct pci_device *pci, enum blk_cause cause,
                           const char *fmt, ...) __attribute__((format(printf, 4, 5)));
/* One disk left out of a controller that works: BLK_CAUSE_IMPOSSIBLE (or
 * another fault of the device) fails that controller's storage case,
 * BLK_CAUSE_UNSUPPORTED (a format bareio does not drive) makes it a skip
 * naming the disk. */
void blk_disk_left_out(const char *name, struct pci_device *pci, enum blk_cause cause,
                       const char *fmt, ...) __attribute__((format(printf, 4, 5)));
unsigned blk_controller_fault_count(void);
const struct blk_controller_fault *blk_controller_fault_at(unsigned i);

/* Test-only (test.no_bus_master=DRIVERS): true when the named driver must leave
 * PCI bus mastering off, so that the preflight checks can be shown to catch it.
 * A driver then still maps and inspects its controller but must refuse I/O
 * with BLK_CAUSE_BUS_MASTER_OFF instead of waiting for DMA that never comes. */
bool blk_test_no_bus_master(const char *driver);

/* Runs every BLK_DRIVER's init (each prints its controllers and devices),
 * then one line per driver: what it found ("blk: driver nvme: 1 controller(s)
 * on PCI, 0 failed bring-up, 1 device(s) registered"). */
void blk_init(void);
/* Adds a device: decides whether it may be written (scratch label, GPT
 * partition, allow_write=) and prints its line. Returns false when the table
 * is full or the device description is inconsistent (then it is not added). */
bool blk_register(struct blk_dev *dev);
/* Calls every device's shutdown. */
void blk_shutdown_all(void);

unsigned blk_count(void);
struct blk_dev *blk_get(unsigned index);
struct blk_dev *blk_find(const char *name);

/* Validates (see the top of this file), stamps submit_ns, records the request
 * in the trace ring and hands it to the driver. BLK_OK or the refusal's cause
 * (req->cause/detail set too; done() not called). */
enum blk_cause blk_submit(struct blk_dev *dev, struct blk_request *req);
/* The queue pair the running CPU uses on dev: its place among the online
 * CPUs modulo nqueues (a driver with a queue per CPU routes that queue's
 * interrupts to it). blk_io() submits there. */
unsigned blk_queue_of_cpu(const struct blk_dev *dev);
/* Whether a wait on the running CPU for queue `queue` may sleep until the
 * queue's interrupt (smp_halt_until()): NULL when it may (an AP the
 * driver's irq_apic_id() names for that queue), otherwise why it spins: the
 * BSP (its timer is the harness's case deadline), a driver that does not
 * say where the interrupts go, a queue whose interrupts go to another CPU
 * (a sleep there would end only at its bound). */
const char *blk_wait_spins_why(const struct blk_dev *dev, unsigned queue);
void blk_kick(struct blk_dev *dev, unsigned queue);
unsigned blk_poll(struct blk_dev *dev, unsigned queue);
/* Polls until req completes; a bound of timeout_ms (0: the device's
 * timeout_ms plus recovery time) that ends in BLK_CAUSE_TIMEOUT if the driver
 * never completed it. Between polls an AP with interrupts on whose queue
 * interrupts it (ops->irq_apic_id) sleeps, at most 1 ms (counted in
 * wait_sleeps); any other caller spins. Returns req->cause. */
enum blk_cause blk_wait(struct blk_dev *dev, struct blk_request *req, uint32_t timeout_ms);
/* Submit, kick, wait: one synchronous request. `req` is filled in and its
 * result kept for the caller to report. */
enum blk_cause blk_io(struct blk_dev *dev, struct blk_request *req, enum blk_op op, uint64_t lba,
                      uint32_t count, const struct blk_seg *segs, uint32_t nsegs, uint16_t flags);

/* Drivers call this when a request finishes (sets complete_ns, records the
 * trace entry, calls done). cause BLK_OK for success. */
void blk_complete(struct blk_dev *dev, struct blk_request *req, enum blk_cause cause);

/* Trace ring: the last BLK_TRACE_SIZE submissions and completions, all devices. */
#define BLK_TRACE_SIZE 64
struct blk_trace_entry {
    uint64_t t_ns;
    uint32_t dev;                   /* blk_dev.index: any number of devices */
    uint8_t op, completion;         /* completion: 0 submit, 1 complete */
    uint8_t cause;
    uint32_t count;
    uint64_t lba;
    uint32_t dev_status;
};
/* Prints the last `n` entries (all devices when dev is NULL), oldest first. */
void blk_trace_print(const struct blk_dev *dev, unsigned n);

/* A request's failure, as one structured record on the console: device, op,
 * LBA, length, segments, cause, status in words, remedy, then the driver's
 * describe() and the last trace entries. `what` says which test saw it. */
void blk_report_failure(struct blk_dev *dev, const struct blk_request *req, const char *what);

#endif
