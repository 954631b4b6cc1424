/* SPDX-License-Identifier: MIT */
/* drivers/ahci/ahci_priv.h — the AHCI driver's state, shared by its files.
 * Kernel only; the in-kernel suite never includes it: it sees the driver
 * through struct ahci_test_view and the ahci_test_*() hooks (ahci.h). The
 * files stand in layers and call only downwards (tools/layercheck holds them
 * to it):
 *
 *   ahci_test.c     the suite's view and hooks; nothing in the driver calls it
 *   ahci_hba.c      probe, HBA handoff and reset, interrupt, registration
 *   ahci_io.c       the blk_ops: submit/kick/poll, completions, the error path
 *   ahci_port.c     port bring-up, engines, COMRESET, recovery (§6.2.2)
 *   ahci_cmd.c      FIS and command slot building, one synchronous command
 *   pure            ahci_recovery.c (error-path decisions), ahci_decode.c,
 *                   ahci_prdt.c, ata_identify.c, ata_ncq_log.c, ahci_handoff.c
 *
 * A lower file needing an upper one's action returns what happened and the
 * upper one acts (ahci_cmd_exec() reports a stopped port, ahci_port.c
 * recovers it); the blk_ops are set on a device by the file that owns them. */
#ifndef DRIVERS_AHCI_AHCI_PRIV_H
#define DRIVERS_AHCI_AHCI_PRIV_H
#include "drivers/ahci/ahci.h"
#include "drivers/blk/fifo.h"
#include "kernel/memory.h"
#include "kernel/spinlock.h"

/* Bounds on waits, from the spec where it gives one. */
#define AHCI_HR_TIMEOUT_MS          1000    /* §10.4.3: GHC.HR clears within 1 s */
#define AHCI_ENGINE_TIMEOUT_MS      500     /* §10.1.2: CR/FR clear within 500 ms */
#define AHCI_COMRESET_HOLD_MS       1       /* §10.4.2: DET=1 for at least 1 ms */
#define AHCI_LINK_TIMEOUT_MS        1000    /* PHY up after COMRESET */
#define AHCI_LINK_ABSENT_MS         50      /* DET still 0 this long: nothing attached */
#define AHCI_READY_TIMEOUT_MS       10000   /* BSY/DRQ clear after reset (drive spin-up) */
#define AHCI_IDENTIFY_TIMEOUT_MS    5000
#define AHCI_FLUSH_TIMEOUT_MS       30000   /* FLUSH CACHE EXT may write a whole cache out */
#define AHCI_IRQ_GRACE_MS           500     /* MSI mode: a done slot's interrupt is this late */

/* One command slot while a part of a request occupies it. */
struct ahci_slot {
    struct blk_request *req;        /* NULL: free */
    uint8_t command;                /* ATA command sent */
    bool ncq;
    uint64_t lba;                   /* this part */
    uint32_t count;                 /* sectors of this part */
    uint64_t bytes;                 /* data bytes of this part (0 for non-data) */
    uint64_t offset;                /* where this part starts in the request's data */
    unsigned prdt_entries;
    uint64_t deadline_ns;
    uint64_t done_seen_ns;          /* MSI mode: when poll() first saw it finished */
};

struct ahci_hba;

struct ahci_port {
    struct ahci_hba *hba;
    unsigned number;
    volatile void *regs;            /* this port's register block */
    struct dma_region mem;          /* command list, received FIS, buffers */
    struct dma_region tables;       /* one ahci_cmd_table per slot */
    struct ahci_cmd_header *cmd_list;
    struct ahci_received_fis *rfis;
    uint16_t *identify_buf;         /* 512 bytes: IDENTIFY, NCQ error log */
    uint64_t *dsm_buf;              /* 512 bytes: TRIM ranges */
    struct ahci_cmd_table *table;
    unsigned slots;
    struct ata_identity id;
    struct blk_dev dev;
    bool registered;
    bool dead;                      /* recovery failed or shut down: requests refused */
    bool test_nonqueued;            /* test hook: READ/WRITE DMA EXT even with NCQ */
    bool test_short_prdt;           /* test hook: PRDTs one sector short of the count */
    char dead_reason[120];

    /* I/O state, under `lock` (ahci_io.c says how). */
    struct spinlock lock;
    bool recovering;                /* a CPU recovers the port with the lock dropped */
    uint32_t deferred_is;           /* error bits of PxIS the MSI handler left to poll() */
    struct ahci_slot slot[AHCI_MAX_SLOTS];
    uint32_t issued;                /* slots the HBA owns (PxCI/PxSACT set by us) */
    uint32_t to_issue;              /* slots built by kick, not yet written to PxCI */
    bool ncq_active, nonqueued_active;
    struct blk_fifo waiting;        /* submitted, not yet in a slot */
    struct ahci_port_stats stats;
    struct ahci_prd plan_scratch[AHCI_PRDT_ENTRIES];  /* submit's plan of a request's PRDTs */

    /* The last failure's registers, for describe() (written and copied
     * under the port's lock: another CPU's recovery may write it). */
    struct ahci_last_error {
        uint32_t pxis, pxtfd, pxserr, pxcmd, pxci, pxsact;
        unsigned slot;
        unsigned prdt_entries;
        struct ahci_prd prdt[8];
        bool valid;
    } last_error;
};

struct ahci_hba {
    unsigned index;
    char name[16];                  /* "ahci0" */
    struct pci_device *pci;
    volatile void *abar;
    uint32_t cap, cap2, pi, vs;
    unsigned slots;
    bool s64a, sncq;
    bool bus_master_off;            /* test.no_bus_master=ahci */
    enum ahci_irq_mode irq_mode;
    int vector;
    struct ahci_port *port[AHCI_MAX_PORTS];
    /* State for the implemented ports, allocated once (PI says how many). */
    struct ahci_port *port_states;
    unsigned port_states_used;
};

static inline volatile void *ahci_port_regs(volatile void *abar, unsigned port)
{
    return (volatile uint8_t *)abar + AHCI_PORT_BASE + port * AHCI_PORT_SIZE;
}

/* ahci_io.c: gives the port's disk the block operations and registers it (blk_register).
 * Only once completions work: registration reads LBA 0. */
bool ahci_io_register(struct ahci_port *p);
/* Called from the HBA's MSI handler with interrupts off, for a port whose
 * IS bit is set: takes the port's lock, reads and clears PxIS and reaps
 * completions; errors it leaves to the next poll() (nothing while another
 * CPU recovers the port). */
void ahci_io_interrupt(struct ahci_port *p);

/* ahci_port.c: port bring-up, engines and recovery (AHCI 1.3.1 §10.1.2,
 * §10.4.2, §6.2.2). */
/* Bring-up of one implemented port; sets hba->port[n] when an ATA disk is
 * ready (ahci_hba.c registers it once interrupts are on). */
void ahci_port_probe(struct ahci_hba *hba, unsigned number);
/* §10.1.2: clear ST and wait for CR, then clear FRE and wait for FR (each
 * within 500 ms). False, with why, when an engine did not stop. */
bool ahci_port_stop(struct ahci_port *p, char *why, size_t why_size);
/* §6.2.2: stop, clear errors (PxSERR, PxIS, IS.IPS), COMRESET per policy
 * (ahci_recovery_needs_comreset), restart. Returns false (with why) when the
 * port could not be restarted; otherwise why says whether it was reset. */
bool ahci_port_recover(struct ahci_port *p, enum ahci_reset_policy policy, char *why,
                       size_t why_size);
/* ahci_cmd_exec() with interrupts off, the port recovered (COMRESET) when
 * the command stopped it or did not complete. True when it completed with
 * PxPRDBC == len; otherwise `why` holds the decoded failure. */
bool ahci_port_exec_sync(struct ahci_port *p, const struct fis_reg_h2d *fis, void *buf,
                         uint32_t len, bool write, uint32_t timeout_ms, char *why,
                         size_t why_size);

/* ahci_cmd.c: FIS and command slots. */
void ahci_fis_init(struct fis_reg_h2d *fis, uint8_t command);   /* Register H2D, C set, LBA mode */
void ahci_fis_set_lba(struct fis_reg_h2d *fis, uint64_t lba);
/* The part of `req` from sector `done` on, into slot s: at most 65536 sectors
 * (all, with BLK_F_NOSPLIT) and what one PRDT holds; FPDMA QUEUED when ncq.
 * Fills p->slot[s] but its req and deadline. False (why set) when the
 * segments cannot be described. */
bool ahci_cmd_build_rw(struct ahci_port *p, unsigned s, const struct blk_request *req,
                       uint64_t done, bool ncq, char *why, size_t why_size);
/* DATA SET MANAGEMENT TRIM of what one block of ranges covers from `done` on. */
void ahci_cmd_build_trim(struct ahci_port *p, unsigned s, const struct blk_request *req,
                         uint64_t done);
void ahci_cmd_build_flush(struct ahci_port *p, unsigned s);
enum ahci_cmd_result {
    AHCI_CMD_DONE,          /* completed with PxPRDBC == len; PxIS cleared */
    AHCI_CMD_SHORT,         /* completed, fewer bytes moved (why says); PxIS cleared */
    AHCI_CMD_NOT_SENT,      /* slots in use (why says); nothing touched */
    AHCI_CMD_FAILED,        /* an error stopped the port or no completion in time (why
                             * decodes it): the port must be recovered, then PxIS cleared */
};
/* A non-queued command on slot 0 while no slot is issued, polled for at
 * most timeout_ms. Interrupts off. */
enum ahci_cmd_result ahci_cmd_exec(struct ahci_port *p, const struct fis_reg_h2d *fis, void *buf,
                                   uint32_t len, bool write, uint32_t timeout_ms, char *why,
                                   size_t why_size);

/* The port behind an "ahci..." blk device, or NULL (ahci_io.c; for
 * ahci_test.c and the host tests). */
struct ahci_port *ahci_port_of(struct blk_dev *dev);

#endif
