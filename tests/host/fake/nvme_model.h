/* SPDX-License-Identifier: MIT */
/* tests/host/fake/nvme_model.h — a small programmable NVMe controller for
 * the driver's host tests (NVMe 1.4 §3.1 registers, §4 queues, §5 admin and
 * NVM commands), one namespace of `blocks` in host memory. What a test can
 * set, before fake_blk_start() or while the driver runs:
 * - CAP (MQES, TO, DSTRD) and how long RDY takes to follow CC.EN;
 * - shutdown: SHST 00b until shn_begin_ns after CC.SHN, 01b until
 *   shn_done_ns, then 10b (or never);
 * - completion order: FIFO, or newest first (LIFO), so CIDs finish out of
 *   order and slots are reused; a latency per command;
 * - faults: an I/O command's status per attempt (fault hook), a command held
 *   (never completed unless aborted), an Abort that works or does not,
 *   CSTS.CFS raised.
 * The model checks the driver as it goes (fake_model_error): doorbell writes
 * off the DSTRD grid or to queues that do not exist, a CID reused while in
 * flight, CC.EN changed before RDY followed, PRPs outside the driver's
 * memory, a SQ tail past its queue, commands while disabled. */
#ifndef TESTS_HOST_FAKE_NVME_MODEL_H
#define TESTS_HOST_FAKE_NVME_MODEL_H
#include <stdbool.h>
#include <stdint.h>
#include "drivers/nvme/nvme.h"

#define NVME_MODEL_QUEUES   17          /* admin + 16 I/O */
#define NVME_MODEL_PENDING  4096
#define NVME_MODEL_NEVER    UINT64_MAX

enum nvme_model_order { NVME_MODEL_FIFO, NVME_MODEL_LIFO };

struct nvme_model;

/* Fault hook, asked as an I/O command arrives: `attempt` counts commands with
 * this opcode and SLBA so far, from 1. Set status (dev_status form: the
 * command completes with it and moves no data), hold (it stays outstanding
 * until aborted or the controller is reset) or delay_ns (added latency). */
struct nvme_model_fault {
    uint16_t status;
    bool hold;
    uint64_t delay_ns;
};
typedef void (*nvme_model_fault_fn)(struct nvme_model *m, const struct nvme_sqe *sqe,
                                    unsigned attempt, struct nvme_model_fault *f);

struct nvme_model_cmd {
    bool used;
    uint16_t sqid, cid;
    struct nvme_sqe sqe;
    uint64_t seq;               /* arrival order */
    uint64_t due_ns;
    bool held;
    uint16_t fault_status;          /* from the fault hook: completes with this, no data */
};

struct nvme_model_sq {
    bool exists;
    uint64_t base;
    uint16_t size, cqid, head, tail;
};

struct nvme_model_cq {
    bool exists;
    uint64_t base;
    uint16_t size, head, tail;
    uint8_t phase;
};

struct nvme_model {
    /* ---- configuration ---- */
    uint64_t cap;
    uint32_t vs;
    uint64_t ready_ns;              /* CC.EN 0 -> 1 until CSTS.RDY = 1 (NEVER: stays 0) */
    uint64_t disable_ns;            /* CC.EN 1 -> 0 until CSTS.RDY = 0 */
    uint64_t shn_begin_ns;          /* CC.SHN until SHST = 01b */
    uint64_t shn_done_ns;           /* CC.SHN until SHST = 10b (NEVER: stays 01b) */
    uint32_t rtd3e_us;              /* Identify Controller RTD3E */
    uint8_t mdts;
    uint16_t max_queue_pairs;       /* Number of Queues grants this many */
    uint64_t admin_latency_ns, io_latency_ns;
    enum nvme_model_order order;
    bool abort_works;               /* Abort ends its command with 07h, DW0 bit 0 clear */
    bool cfs_on_enable;             /* CSTS.CFS as soon as CC.EN is set */
    nvme_model_fault_fn fault;
    /* Called at each doorbell write, before the model acts on it: a test
     * plays another CPU there, in the middle of what the driver is doing. */
    void (*doorbell_hook)(struct nvme_model *m, uint16_t qid, bool cq, uint32_t value);
    void *ctx;                      /* for the test's fault hook */
    uint64_t blocks;
    unsigned lba_shift;
    /* Active NSIDs 1..namespaces (default 1): NSID 1 holds the data; the others
     * are 8-block namespaces whose I/O the model refuses (Invalid Namespace). */
    uint32_t namespaces;
    uint32_t zoned_nsid;            /* this NSID says CSI 02h (zoned), 0: none */
    bool nn_zero;                   /* Identify Controller says NN 0 (impossible) */

    /* ---- state ---- */
    volatile void *regs;
    struct pci_device *pci;
    uint8_t *media;
    uint32_t cc, aqa;
    uint64_t asq, acq;
    bool enabled, ready, cfs, shutting_down;
    uint64_t en_changed_ns, shn_written_ns;
    uint64_t seq;
    struct nvme_model_sq sq[NVME_MODEL_QUEUES];
    struct nvme_model_cq cq[NVME_MODEL_QUEUES];
    struct nvme_model_cmd pending[NVME_MODEL_PENDING];
    unsigned npending, pending_hi;  /* used entries; all lie below pending_hi */
    uint64_t next_due_ns;           /* earliest completion not held */

    /* ---- what happened, for the tests ---- */
    unsigned enables, disables, shutdowns_requested;
    unsigned admin_commands[256], io_commands[256];
    unsigned aborts, aborts_done;
    unsigned sq_doorbells[NVME_MODEL_QUEUES], cq_doorbells[NVME_MODEL_QUEUES];
    unsigned io_completed, max_outstanding;
    unsigned out_of_order;          /* completions posted before an older one of their SQ */
    uint64_t last_shst_complete_ns; /* when SHST became 10b (0: not yet) */
};

/* A controller with QEMU-like defaults (MQES 2047, TO 7.5 s, DSTRD 0, RDY after
 * 1 ms, shutdown 01b at 1 ms and 10b at 5 ms, FIFO, 20 us latency) and a
 * namespace of `blocks` 512-byte blocks, added to the fake PCI bus. */
struct nvme_model *nvme_model_new(uint64_t blocks);
void nvme_model_set_dstrd(struct nvme_model *m, unsigned dstrd);
void nvme_model_set_timeout(struct nvme_model *m, unsigned to_500ms_units);
void nvme_model_set_mqes(struct nvme_model *m, uint16_t mqes_0based);
/* The firmware left the controller enabled (CC.EN = 1): RDY is 1 already, or
 * follows ready_ns from now. */
void nvme_model_start_enabled(struct nvme_model *m, bool ready);
/* Commands of the model's namespace still outstanding (held or not yet due). */
unsigned nvme_model_outstanding(const struct nvme_model *m);
/* CSTS.SHST as the model reports it now. */
unsigned nvme_model_shst(const struct nvme_model *m);
/* The namespace's bytes. */
uint8_t *nvme_model_block(struct nvme_model *m, uint64_t lba);

#endif
