/* SPDX-License-Identifier: MIT */
/* tests/host/fake/ahci_model.h — a small programmable AHCI HBA (AHCI 1.3.1
 * §3 registers, §4 command list and tables, §5 command processing) with SATA
 * disks on its ports, for the driver's host tests. What a test can set:
 * - CAP/CAP2, the implemented ports (and a PI the HBA reset clears), the
 *   disks (capacity, NCQ depth), their IDENTIFY data edited by a hook;
 * - the BIOS/OS handoff (§10.6.3): the firmware owns the HBA (BOS), sets BIOS
 *   Busy some time after OOS and releases it later (or never);
 * - how long GHC.HR, PxCMD.CR/FR and the link after a COMRESET take;
 * - faults: an ATA error for a command (per attempt, by command and LBA), a
 *   command held (never completed); whether READ LOG EXT 10h works; the HBA
 *   gone from the bus (its registers read all ones).
 * The disk keeps ERR from a failed command until a COMRESET (as QEMU's does:
 * clearing PxCMD.ST is not enough), and fails the next command with it. A
 * COMRESET reaches the device only when PxSCTL.DET was held at 1 for at least
 * 1 ms (§10.4.2; SATA OOB timing): a shorter one is counted and ignored.
 * The model checks the driver as it goes (fake_model_error): ST set without
 * FRE or with BSY/DRQ, PxCI written with ST clear, an NCQ tag that is not the
 * slot, PRDs outside the driver's memory, CLB/FB changed while running. */
#ifndef TESTS_HOST_FAKE_AHCI_MODEL_H
#define TESTS_HOST_FAKE_AHCI_MODEL_H
#include <stdbool.h>
#include <stdint.h>
#include "drivers/ahci/ahci.h"

#define AHCI_MODEL_NEVER UINT64_MAX

struct ahci_model;

/* Fault hook, asked as a command is executed: `attempt` counts commands with
 * this ATA command code and LBA on this port so far, from 1. Set error (an
 * ATA Error register value: the command fails with ERR and it), hold (never
 * completes) or delay_ns. */
struct ahci_model_fault {
    uint8_t error;
    bool hold;
    uint64_t delay_ns;
};
typedef void (*ahci_model_fault_fn)(struct ahci_model *m, unsigned port, uint8_t command,
                                    uint64_t lba, uint32_t count, unsigned attempt,
                                    struct ahci_model_fault *f);

/* IDENTIFY hook: edits the words a disk is about to return (the model then
 * computes word 255's checksum), so a test can give a disk data the spec
 * rules out. */
typedef void (*ahci_model_identify_fn)(struct ahci_model *m, unsigned port, uint16_t words[256]);

struct ahci_model_slot {
    bool active;
    bool held;
    uint64_t due_ns;
    uint8_t error;              /* from the fault hook */
};

struct ahci_model_port {
    /* the disk; present false: an empty port */
    bool present;
    uint64_t blocks;
    unsigned ncq_depth;         /* 0: no NCQ */
    uint8_t *media;
    /* registers */
    uint32_t clb, clbu, fb, fbu, is, ie, cmd, tfd, sig, ssts, sctl, serr, sact, ci;
    /* state */
    uint64_t st_cleared_ns, fre_cleared_ns;
    bool halted;                /* stopped on an error until ST is cleared */
    bool err_sticky;            /* the device keeps ERR until a COMRESET */
    bool in_comreset;
    bool needs_comreset;        /* the link comes up only after the driver's COMRESET */
    uint64_t comreset_start_ns, link_up_ns, device_ready_ns;
    uint32_t ssts_before_comreset;
    uint8_t last_error, last_status;
    uint64_t last_error_lba;
    int last_error_tag;         /* NCQ tag of the last error, -1: non-queued */
    struct ahci_model_slot slot[32];
    /* what happened */
    unsigned comresets, short_comresets, errors_raised, fua_writes;
    uint64_t shortest_hold_ns;
    unsigned commands[256];
};

struct ahci_model {
    /* ---- configuration ---- */
    uint32_t cap, cap2, vs, pi;
    bool bios_owned;                /* BOHC.BOS set at power-on */
    uint64_t bios_busy_ns;          /* after OOS, BIOS Busy set (NEVER: not at all) */
    uint64_t bios_release_ns;       /* after OOS, BOS cleared (NEVER: not at all) */
    uint64_t hr_ns, cr_stop_ns, fr_stop_ns, link_ns, latency_ns;
    uint64_t bsy_after_link_ns;     /* the device stays BSY this long after DET = 3 */
    bool read_log_works;            /* READ LOG EXT 10h returns the NCQ error log */
    bool gone;                      /* off the bus (surprise removal): every register reads
                                     * all ones, writes are lost */
    bool leave_at_hba_reset;        /* gone from the moment GHC.HR is written */
    bool pi_lost_at_hba_reset;      /* GHC.HR clears PI (firmware must write it again) */
    ahci_model_identify_fn identify;
    ahci_model_fault_fn fault;
    void *ctx;

    /* ---- state ---- */
    volatile void *abar;
    struct pci_device *pci;
    uint32_t ghc, is, bohc;
    uint64_t hr_start_ns, oos_written_ns;
    bool in_hr;
    struct ahci_model_port port[AHCI_MAX_PORTS];

    /* ---- what happened ---- */
    unsigned hba_resets;
    unsigned port_accesses;         /* reads and writes of any port's registers */
    uint64_t handoff_done_ns;       /* when BOS cleared (0: not yet) */
};

/* An HBA like QEMU's ich9-ahci (6 ports, 32 slots, NCQ, S64A) but AHCI 1.3.1
 * (CAP2 and BOHC exist; no handoff unless CAP2.BOH is set), with a disk of
 * `blocks` 512-byte sectors and NCQ depth 32 on port 0, added to the fake PCI
 * bus. Timings: HR 1 ms, CR/FR 200 us, link 2 ms then BSY 3 ms more, commands
 * 20 us. */
struct ahci_model *ahci_model_new(uint64_t blocks);
/* A disk (ncq_depth 0: without NCQ), or none (blocks 0), on `port`. */
void ahci_model_attach(struct ahci_model *m, unsigned port, uint64_t blocks, unsigned ncq_depth);
/* The disk on `port` is there, but its link stays down until the driver
 * sends a COMRESET (an HBA reset does not bring it up). */
void ahci_model_link_down(struct ahci_model *m, unsigned port);
uint8_t *ahci_model_block(struct ahci_model *m, unsigned port, uint64_t lba);

#endif
