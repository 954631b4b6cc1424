/* SPDX-License-Identifier: MIT */
/* tests/host/fake/fake.h — the host "fake kernel" under the real driver files
 * (drivers/nvme, drivers/ahci, drivers/blk/blk.c), after depthcharge's NVMe
 * host tests that run the driver against fake registers: what an emulator
 * never does (a doorbell stride, completions out of order, a shutdown that
 * takes time, a COMRESET held too briefly) is done here by small programmable
 * register models (nvme_model.h, ahci_model.h).
 *
 * The drivers are built unchanged. tests/host/fake/kernel/io.h replaces
 * kernel/io.h (MMIO goes to the model owning the address); every other kernel
 * service is replaced at link time (tests/host/fake/kernel.c, pci.c):
 * - a fake clock: time_ns() costs 50 ns, cpu_pause() 1 us, delay_us() what it
 *   says; models see every step (their tick), so time-based behaviour (RDY
 *   after CAP.TO, SHST 01b then 10b) is exact and costs no real time. A wait
 *   that runs the clock past FAKE_CLOCK_LIMIT_NS aborts the test: unbounded;
 * - DMA memory from the host heap, identity "physical" addresses, counted;
 * - klog captured line by line, for tests to count and match;
 * - PCI functions with a config space, BARs that are model regions;
 * - the command line: fake_cmdline() parses driver keys (kernel/cmdline.h
 *   sections, collected by tests/host/fake/sections.ld).
 * Each test runs in a child process of its own (tests/host/runner.c with
 * HTEST_FORK), so driver statics start fresh every time. */
#ifndef TESTS_HOST_FAKE_FAKE_H
#define TESTS_HOST_FAKE_FAKE_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "drivers/blk/blk.h"
#include "drivers/pci/pci.h"

#define FAKE_US 1000ull
#define FAKE_MS 1000000ull
#define FAKE_S  1000000000ull
#define FAKE_CLOCK_LIMIT_NS (3600 * FAKE_S)

/* ---- clock ---- */
uint64_t fake_now(void);                    /* no cost, unlike time_ns() */
void fake_advance(uint64_t ns);             /* moves the clock, ticks every model */

/* The LAPIC one-shot timer (tests/host/fake/harness.c): fires into its
 * handler once the clock has passed the shot, interrupts on. */
void fake_timer_poll(void);
extern unsigned fake_timer_shots;       /* apic_timer_oneshot_ns() calls */
/* kernel/smp.h: the CPUs online (1 unless a test says more), and which of
 * them the running code is (its rank, 0 = the BSP). The k'th has APIC id
 * 2k + 1, so a mix-up of rank and APIC id shows. */
extern unsigned fake_online_cpus;
extern unsigned fake_this_rank;

/* MSI-X (tests/host/fake/pci.c): a function given a table of `entries`
 * (fake_msix_give) has its entries recorded as the driver enables and
 * routes them; an APIC id above fake_msix_unreachable_above cannot be named
 * (as one above 255 without interrupt remapping). With fake_irq_vectors set
 * irq_alloc_vector() hands out vectors (none is ever delivered). */
#define FAKE_MSIX_ENTRIES 64
struct fake_msix_entry {
    bool enabled;
    uint8_t vector;
    uint32_t apic_id;
    unsigned retargets;
};
extern struct fake_msix_entry fake_msix[FAKE_MSIX_ENTRIES];
extern uint32_t fake_msix_unreachable_above;
extern bool fake_irq_vectors;
struct pci_device;
void fake_msix_give(struct pci_device *dev, uint16_t entries);

/* ---- MMIO regions ---- */
struct fake_mmio_ops {
    uint32_t (*read)(void *model, uint32_t offset, unsigned size);
    void (*write)(void *model, uint32_t offset, unsigned size, uint32_t value);
    void (*tick)(void *model);              /* after every clock step; may be NULL */
};
/* A register window of `size` bytes served by ops; returns its address, which
 * is also its "physical" address (the BAR's). */
volatile void *fake_mmio_region(uint32_t size, const struct fake_mmio_ops *ops, void *model);

/* The same at a chosen "physical" address, for a register block a driver
 * finds through a config register (RCBA) and maps with mmio_map(): host
 * heap addresses do not fit 32-bit registers. */
volatile void *fake_mmio_region_at(uint64_t phys, uint32_t size, const struct fake_mmio_ops *ops,
                                   void *model);

/* ---- port I/O (tests/host/fake/kernel/io.h) ---- */
struct fake_port_ops {
    uint32_t (*in)(void *model, uint16_t port, unsigned size);
    void (*out)(void *model, uint16_t port, unsigned size, uint32_t value);
};
/* Every in/out goes to ops from now on (NULL: port I/O aborts again). */
void fake_port_model(const struct fake_port_ops *ops, void *model);

/* ---- PCI ---- */
/* A function of this class with BAR `bar` on the region (memory, 32-bit). */
struct pci_device *fake_pci_add(uint8_t class_code, uint8_t subclass, uint8_t prog_if,
                                unsigned bar, volatile void *region, uint64_t size);
/* A function at bus 0, `device`.`function` with these ids and no BAR; its
 * configuration space is the test's to fill (fake_pci_config). */
struct pci_device *fake_pci_add_at(uint8_t device, uint8_t function, uint16_t vendor_id,
                                   uint16_t device_id, uint8_t class_code, uint8_t subclass);
uint8_t *fake_pci_config(struct pci_device *dev);

/* ---- DMA memory (kernel/memory.h) ---- */
/* A "physical" address the model reads or writes: NULL (and a model error)
 * when it is not inside a live dma_alloc() region. */
void *fake_dma_ptr(uint64_t phys, uint64_t len);

/* ---- klog ---- */
unsigned fake_log_count(const char *needle);    /* lines containing needle */
const char *fake_log_find(const char *needle);  /* the first such line, or NULL */
void fake_log_dump(void);                       /* every line, to stdout */

/* ---- command line and start-up ---- */
/* Parses `line` against every key the linked files declare (as the kernel's
 * cmdline_apply() would); false, with the errors logged, when it is refused. */
bool fake_cmdline(const char *line);
/* Runs every BLK_DRIVER's init (blk_init()): the drivers find the fake PCI
 * functions and register their devices through the real drivers/blk/blk.c. */
void fake_blk_start(void);

/* ---- requests ---- */
/* One request built on a host buffer (one segment), as the harness builds
 * them: blk_submit(); the caller kicks and waits. */
struct fake_io {
    struct blk_request req;
    struct blk_seg seg;
};
enum blk_cause fake_submit(struct blk_dev *dev, struct fake_io *io, enum blk_op op, uint64_t lba,
                           uint32_t count, void *buf, unsigned queue, uint16_t flags);
/* Polls the request's queue, moving the clock 10 us a step, until it is
 * complete or `limit_ns` passed (false). */
bool fake_wait(struct blk_dev *dev, struct blk_request *req, uint64_t limit_ns);
/* blk_io() on a host buffer: submit, kick, wait. */
enum blk_cause fake_rw(struct blk_dev *dev, enum blk_op op, uint64_t lba, uint32_t count, void *buf);

/* The test cannot go on (a model's table is full, ...): prints what and aborts. */
__attribute__((noreturn)) void fake_forbidden(const char *what);

/* A model found the driver breaking a rule: recorded, printed with the test. */
void fake_model_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
unsigned fake_model_errors(void);
const char *fake_model_first_error(void);

#endif
