/* SPDX-License-Identifier: MIT */
/* tests/host/hw/test_ahci_test_view.c — drivers/ahci/ahci_test.c against the
 * register model (tests/host/fake/ahci_model.h): the ahci suite
 * (tests/kernel/test_ahci.c) checks the driver only through struct
 * ahci_test_view and the ahci_test_*() hooks, so a view that copied the wrong
 * register or counter, or a hook that did something else, would weaken every
 * case that relies on it without failing one. Here each field is held to what
 * the model holds or saw on the bus: the register snapshot to the model's
 * registers, the command tables to the command list in the driver's memory,
 * IDENTIFY to the disk the model made, the counters to the commands the disk
 * executed (a split request is two of them); and each hook to its effect on
 * the model (non-queued commands on an NCQ disk, a PRDT one sector short
 * that PxPRDBC shows, PxIE, the in-flight peak counted again). MSI cannot be
 * shown here (the fake kernel delivers no vector): its half of the interrupt
 * hook is the QEMU scenarios'. */
#include "tests/host/hw/hw.h"
#include "tests/host/fake/ahci_model.h"
#include "drivers/ahci/ahci.h"

#define SPLIT_SECTORS (65536u + 8)      /* one READ/WRITE command more than the count holds */

static unsigned commands(const struct ahci_model *m, unsigned port, uint8_t command)
{
    return m->port[port].commands[command];
}

/* The register snapshot is the model's registers, read in one go. */
static void expect_registers_match(const struct ahci_model *m, unsigned port,
                                   const struct ahci_test_registers *r)
{
    const struct ahci_model_port *p = &m->port[port];
    HT_EXPECT_EQ(r->clb, p->clb);
    HT_EXPECT_EQ(r->clbu, p->clbu);
    HT_EXPECT_EQ(r->fb, p->fb);
    HT_EXPECT_EQ(r->fbu, p->fbu);
    HT_EXPECT_EQ(r->is, p->is);
    HT_EXPECT_EQ(r->ie, p->ie);
    HT_EXPECT_EQ(r->cmd, p->cmd);
    HT_EXPECT_EQ(r->tfd, p->tfd);
    HT_EXPECT_EQ(r->sig, p->sig);
    HT_EXPECT_EQ(r->ssts, p->ssts);
    HT_EXPECT_EQ(r->sctl, p->sctl);
    HT_EXPECT_EQ(r->serr, p->serr);
    HT_EXPECT_EQ(r->sact, p->sact);
    HT_EXPECT_EQ(r->ci, p->ci);
    HT_EXPECT_EQ(r->fbs, 0);           /* the model's CAP has no FBSS: PxFBS not read */
}

/* The memory the view names is the memory the HBA was told: CLB at the
 * page's start, FB inside it after the command list, each slot's CTBA as the
 * command list in that memory holds it, one table after the other. */
static void expect_memory_matches(const struct ahci_model *m, unsigned port,
                                  const struct ahci_test_view *v)
{
    const struct ahci_model_port *p = &m->port[port];
    uint64_t clb = p->clb | (uint64_t)p->clbu << 32, fb = p->fb | (uint64_t)p->fbu << 32;
    HT_EXPECT_EQ(v->mem_phys, clb);
    HT_EXPECT_EQ(v->mem_bytes, 4096);
    HT_EXPECT(fb >= v->mem_phys + 1024 && fb + 256 <= v->mem_phys + v->mem_bytes);
    HT_EXPECT_EQ(v->tables_bytes, (uint64_t)v->slots * sizeof(struct ahci_cmd_table));
    const struct ahci_cmd_header *list = fake_dma_ptr(clb, AHCI_MAX_SLOTS * 32);
    HT_ASSERT(list != NULL);
    for (unsigned s = 0; s < v->slots; s++) {
        HT_EXPECT_EQ(v->command_table[s], list[s].ctba | (uint64_t)list[s].ctbau << 32);
        HT_EXPECT_EQ(v->command_table[s], v->tables_phys + s * sizeof(struct ahci_cmd_table));
    }
    for (unsigned s = v->slots; s < AHCI_MAX_SLOTS; s++)
        HT_EXPECT_EQ(v->command_table[s], 0);
}

/* The model's HBA (ahci_model_new: 6 ports, 32 slots, NCQ, S64A, no FBSS),
 * polled, and the disk it made on `port`. */
static void expect_hba_and_disk(const struct ahci_model *m, unsigned port, uint64_t blocks,
                                unsigned ncq_depth, const struct ahci_test_view *v)
{
    HT_EXPECT_STREQ(v->hba_name, "ahci0");
    HT_EXPECT_EQ(v->cap, m->cap);
    HT_EXPECT_EQ(v->hba_slots, 32);
    HT_EXPECT(v->s64a);
    HT_EXPECT(v->sncq);
    HT_EXPECT_EQ(v->irq_mode, AHCI_IRQ_POLL);
    HT_EXPECT_EQ(v->port, port);
    HT_EXPECT_EQ(v->slots, 32);
    HT_EXPECT(!v->dead);
    HT_EXPECT_EQ(v->issued, 0);
    HT_EXPECT(!v->nonqueued && !v->short_prdt);
    char serial[24];
    snprintf(serial, sizeof(serial), "FAKE-AHCI-%u", port);
    HT_EXPECT_STREQ(v->identify.serial, serial);
    HT_EXPECT_STREQ(v->identify.model, "bareio fake SATA disk");
    HT_EXPECT_EQ(v->identify.nblocks, blocks);
    HT_EXPECT_EQ(v->identify.logical_size, 512);
    HT_EXPECT_EQ(v->identify.ncq, ncq_depth != 0);
    HT_EXPECT_EQ(v->identify.ncq_depth, ncq_depth);
    HT_EXPECT(v->identify.fua && v->identify.trim && v->identify.trim_zeroes);
    HT_EXPECT(v->identify.write_cache_enabled && v->identify.flush_ext);
}

/* Writes then reads back `count` (up to SPLIT_SECTORS) sectors at lba: one
 * request each way. */
static bool round_trip(struct blk_dev *d, uint64_t lba, uint32_t count, uint32_t tag)
{
    static uint8_t w[SPLIT_SECTORS * 512], r[SPLIT_SECTORS * 512];
    if (count > SPLIT_SECTORS)
        return false;
    pattern_fill(w, lba, count, 512, tag);
    memset(r, 0, (size_t)count * 512);
    return fake_rw(d, BLK_OP_WRITE, lba, count, w) == BLK_OK &&
           fake_rw(d, BLK_OP_READ, lba, count, r) == BLK_OK &&
           pattern_check(r, lba, count, 512, tag) == -1;
}

/* An NCQ disk on port 0 and one without NCQ on port 2: every field of the
 * view against the model, then the counters across round trips (one FPDMA
 * command each way per request, a request of 65536 + 8 sectors in two) and
 * on the disk without NCQ (READ/WRITE DMA EXT, never counted as NCQ). */
HTEST(ahci_test_view_matches_the_model)
{
    const uint64_t blocks = SPLIT_SECTORS + 1024;
    struct ahci_model *m = ahci_model_new(blocks);
    ahci_model_attach(m, 2, 8192, 0);
    struct blk_dev *d = drivers_start("ahci0p0", NULL);
    HT_ASSERT(d != NULL);
    struct blk_dev *d2 = blk_find("ahci0p2");
    HT_ASSERT(d2 != NULL);
    struct ahci_test_view before, v;
    HT_ASSERT(ahci_test_view(d, &before));
    expect_hba_and_disk(m, 0, blocks, 32, &before);
    expect_registers_match(m, 0, &before.regs);
    expect_memory_matches(m, 0, &before);
    HT_EXPECT_EQ(before.regs.cmd & (AHCI_PxCMD_ST | AHCI_PxCMD_FRE), AHCI_PxCMD_ST | AHCI_PxCMD_FRE);
    HT_EXPECT_EQ(before.regs.ie, 0);                /* polled */

    unsigned w0 = commands(m, 0, ATA_CMD_WRITE_FPDMA_QUEUED);
    unsigned r0 = commands(m, 0, ATA_CMD_READ_FPDMA_QUEUED);
    for (unsigned i = 0; i < 6; i++)
        HT_EXPECT(round_trip(d, 100 + 8 * i, 8, i));
    HT_EXPECT(round_trip(d, 200, SPLIT_SECTORS, 7));
    HT_ASSERT(ahci_test_view(d, &v));
    HT_EXPECT_EQ(commands(m, 0, ATA_CMD_WRITE_FPDMA_QUEUED) - w0, 6 + 2);
    HT_EXPECT_EQ(commands(m, 0, ATA_CMD_READ_FPDMA_QUEUED) - r0, 6 + 2);
    HT_EXPECT_EQ(v.stats.commands - before.stats.commands, 2 * (6 + 1));
    HT_EXPECT_EQ(v.stats.parts - before.stats.parts, 2 * (6 + 2));
    HT_EXPECT_EQ(v.stats.ncq_commands - before.stats.ncq_commands, 2 * (6 + 2));
    HT_EXPECT_EQ(v.stats.irqs, 0);
    HT_EXPECT_EQ(v.stats.recoveries, 0);
    HT_EXPECT_EQ(v.stats.comresets, m->port[0].comresets);
    HT_EXPECT_EQ(v.stats.retries, 0);
    HT_EXPECT_EQ(v.stats.max_in_flight, 1);         /* one request at a time */
    expect_registers_match(m, 0, &v.regs);
    HT_EXPECT_EQ(v.regs.ci, 0);
    HT_EXPECT_EQ(v.regs.sact, 0);

    HT_ASSERT(ahci_test_view(d2, &before));
    expect_hba_and_disk(m, 2, 8192, 0, &before);
    expect_registers_match(m, 2, &before.regs);
    expect_memory_matches(m, 2, &before);
    unsigned w2 = commands(m, 2, ATA_CMD_WRITE_DMA_EXT), r2 = commands(m, 2, ATA_CMD_READ_DMA_EXT);
    HT_EXPECT(round_trip(d2, 300, 8, 9));
    HT_ASSERT(ahci_test_view(d2, &v));
    HT_EXPECT_EQ(commands(m, 2, ATA_CMD_WRITE_DMA_EXT) - w2, 1);
    HT_EXPECT_EQ(commands(m, 2, ATA_CMD_READ_DMA_EXT) - r2, 1);
    HT_EXPECT_EQ(v.stats.parts - before.stats.parts, 2);
    HT_EXPECT_EQ(v.stats.ncq_commands, before.stats.ncq_commands);

    struct blk_dev other = { .name = "other" };
    HT_EXPECT(!ahci_test_view(&other, &v));
    HT_NO_MODEL_ERRORS();
}

/* ahci_test_nonqueued: on an NCQ disk, READ/WRITE DMA EXT while on (no
 * FPDMA command, none counted as NCQ, PxPRDBC checked as for any non-queued
 * command), FPDMA again once off. */
HTEST(ahci_test_nonqueued_sends_dma_ext_on_an_ncq_disk)
{
    struct ahci_model *m = ahci_model_new(16384);
    struct blk_dev *d = drivers_start("ahci0p0", NULL);
    HT_ASSERT(d != NULL && (d->caps & BLK_CAP_NCQ));
    struct ahci_test_view before, v;
    HT_ASSERT(ahci_test_view(d, &before));
    unsigned fpdma = commands(m, 0, ATA_CMD_WRITE_FPDMA_QUEUED) +
                     commands(m, 0, ATA_CMD_READ_FPDMA_QUEUED);
    ahci_test_nonqueued(d, true);
    HT_ASSERT(ahci_test_view(d, &v));
    HT_EXPECT(v.nonqueued);
    HT_EXPECT(round_trip(d, 500, 8, 1));
    HT_EXPECT_EQ(commands(m, 0, ATA_CMD_WRITE_DMA_EXT), 1);
    HT_EXPECT_EQ(commands(m, 0, ATA_CMD_READ_DMA_EXT), 1);
    HT_EXPECT_EQ(commands(m, 0, ATA_CMD_WRITE_FPDMA_QUEUED) +
                 commands(m, 0, ATA_CMD_READ_FPDMA_QUEUED), fpdma);
    HT_ASSERT(ahci_test_view(d, &v));
    HT_EXPECT_EQ(v.stats.ncq_commands, before.stats.ncq_commands);
    HT_EXPECT_EQ(v.stats.parts - before.stats.parts, 2);
    ahci_test_nonqueued(d, false);
    HT_EXPECT(round_trip(d, 500, 8, 2));
    HT_EXPECT_EQ(commands(m, 0, ATA_CMD_READ_DMA_EXT), 1);
    HT_EXPECT_EQ(commands(m, 0, ATA_CMD_WRITE_FPDMA_QUEUED) +
                 commands(m, 0, ATA_CMD_READ_FPDMA_QUEUED), fpdma + 2);
    HT_ASSERT(ahci_test_view(d, &v));
    HT_EXPECT(!v.nonqueued);
    HT_EXPECT_EQ(v.stats.ncq_commands - before.stats.ncq_commands, 2);
    HT_NO_MODEL_ERRORS();
}

/* ahci_test_short_prdt with ahci_test_nonqueued, as the suite's
 * non-queued pass uses them: the disk moves the 7 sectors the PRDT holds,
 * PxPRDBC says so, the read fails as a short transfer; both off, the same
 * read is whole. */
HTEST(ahci_test_short_prdt_reaches_the_disk)
{
    static uint8_t buf[4096];
    struct ahci_model *m = ahci_model_new(16384);
    struct blk_dev *d = drivers_start("ahci0p0", NULL);
    HT_ASSERT(d != NULL);
    pattern_fill(ahci_model_block(m, 0, 16), 16, 8, 512, 3);
    ahci_test_nonqueued(d, true);
    ahci_test_short_prdt(d, true);
    struct ahci_test_view v;
    HT_ASSERT(ahci_test_view(d, &v));
    HT_EXPECT(v.short_prdt && v.nonqueued);
    static struct fake_io io;
    HT_ASSERT(fake_submit(d, &io, BLK_OP_READ, 16, 8, buf, 0, 0) == BLK_OK);
    blk_kick(d, 0);
    HT_EXPECT(fake_wait(d, &io.req, FAKE_S));
    HT_EXPECT_EQ(io.req.cause, BLK_CAUSE_DEVICE_ERROR);
    HT_EXPECT(strstr(io.req.detail, "short transfer: PRDBC 3584 of 4096 bytes") != NULL);
    HT_EXPECT_EQ(io.req.bytes, 3584);
    HT_EXPECT_EQ(commands(m, 0, ATA_CMD_READ_DMA_EXT), 1);
    ahci_test_short_prdt(d, false);
    ahci_test_nonqueued(d, false);
    HT_ASSERT(ahci_test_view(d, &v));
    HT_EXPECT(!v.short_prdt && !v.nonqueued);
    memset(buf, 0, sizeof(buf));
    HT_EXPECT_EQ(fake_rw(d, BLK_OP_READ, 16, 8, buf), BLK_OK);
    HT_EXPECT_EQ(pattern_check(buf, 16, 8, 512, 3), -1);
    HT_NO_MODEL_ERRORS();
}

/* The in-flight peak: 8 reads from one kick are 8 slots at once; counted
 * again from 0, one read is 1. */
HTEST(ahci_test_clear_max_in_flight_counts_again)
{
    static uint8_t buf[8][4096];
    static struct fake_io io[8];
    struct ahci_model *m = ahci_model_new(16384);
    (void)m;
    struct blk_dev *d = drivers_start("ahci0p0", NULL);
    HT_ASSERT(d != NULL);
    struct ahci_test_view v;
    for (unsigned i = 0; i < 8; i++)
        HT_ASSERT(fake_submit(d, &io[i], BLK_OP_READ, 8 * i, 8, buf[i], 0, 0) == BLK_OK);
    blk_kick(d, 0);
    HT_ASSERT(ahci_test_view(d, &v));
    HT_EXPECT_EQ(v.issued, 0xffu);
    HT_EXPECT_EQ(v.regs.sact, 0xffu);               /* the model holds them for 20 us */
    HT_EXPECT_EQ(v.regs.ci, 0xffu);
    for (unsigned i = 0; i < 8; i++)
        HT_EXPECT(fake_wait(d, &io[i].req, FAKE_S) && io[i].req.cause == BLK_OK);
    HT_ASSERT(ahci_test_view(d, &v));
    HT_EXPECT_EQ(v.stats.max_in_flight, 8);
    ahci_test_clear_max_in_flight(d);
    HT_ASSERT(ahci_test_view(d, &v));
    HT_EXPECT_EQ(v.stats.max_in_flight, 0);
    HT_EXPECT_EQ(fake_rw(d, BLK_OP_READ, 0, 8, buf[0]), BLK_OK);
    HT_ASSERT(ahci_test_view(d, &v));
    HT_EXPECT_EQ(v.stats.max_in_flight, 1);
    HT_NO_MODEL_ERRORS();
}

/* Polled, the port's interrupt enables stay clear whether masked or
 * restored: restoring never enables interrupts nobody handles. */
HTEST(ahci_test_mask_irq_polled_keeps_pxie_clear)
{
    struct ahci_model *m = ahci_model_new(16384);
    struct blk_dev *d = drivers_start("ahci0p0", NULL);
    HT_ASSERT(d != NULL);
    struct ahci_test_view v;
    m->port[0].ie = AHCI_PxIE_IO;       /* as if something had set them */
    ahci_test_mask_irq(d, true);
    HT_EXPECT_EQ(m->port[0].ie, 0);
    m->port[0].ie = AHCI_PxIE_IO;
    ahci_test_mask_irq(d, false);
    HT_EXPECT_EQ(m->port[0].ie, 0);
    HT_ASSERT(ahci_test_view(d, &v));
    HT_EXPECT_EQ(v.regs.ie, 0);
    static uint8_t buf[4096];
    HT_EXPECT_EQ(fake_rw(d, BLK_OP_READ, 0, 8, buf), BLK_OK);
    HT_NO_MODEL_ERRORS();
}

static void hold_lba_3000(struct ahci_model *m, unsigned port, uint8_t command, uint64_t lba,
                          uint32_t count, unsigned attempt, struct ahci_model_fault *f)
{
    (void)m;
    (void)port;
    (void)command;
    (void)count;
    if (lba == 3000 && attempt == 1)
        f->hold = true;
}

/* A command that never completes, non-queued (so PxCI shows it and PxSACT
 * does not): while it is held the view shows its slot issued; after the
 * timeout one recovery, the COMRESET the model saw, the port in service and
 * idle again. */
HTEST(ahci_test_view_counts_a_recovery)
{
    static uint8_t buf[4096];
    static struct fake_io io;
    struct ahci_model *m = ahci_model_new(16384);
    struct blk_dev *d = drivers_start("ahci0p0", NULL);
    HT_ASSERT(d != NULL);
    m->fault = hold_lba_3000;
    struct ahci_test_view v;
    ahci_test_nonqueued(d, true);
    HT_ASSERT(fake_submit(d, &io, BLK_OP_READ, 3000, 8, buf, 0, 0) == BLK_OK);
    blk_kick(d, 0);
    fake_advance(FAKE_MS);
    HT_ASSERT(ahci_test_view(d, &v));
    HT_EXPECT_EQ(v.issued, 1);
    HT_EXPECT_EQ(v.regs.ci, 1);
    HT_EXPECT_EQ(v.regs.sact, 0);
    HT_EXPECT(fake_wait(d, &io.req, 2 * FAKE_S));
    HT_EXPECT_EQ(io.req.cause, BLK_CAUSE_TIMEOUT);
    ahci_test_nonqueued(d, false);
    HT_ASSERT(ahci_test_view(d, &v));
    HT_EXPECT_EQ(v.stats.recoveries, 1);
    HT_EXPECT_EQ(v.stats.comresets, 1);
    HT_EXPECT_EQ(m->port[0].comresets, 1);
    HT_EXPECT(!v.dead);
    HT_EXPECT_EQ(v.issued, 0);
    expect_registers_match(m, 0, &v.regs);
    HT_EXPECT_EQ(fake_rw(d, BLK_OP_READ, 3008, 8, buf), BLK_OK);  /* FPDMA at 3000 would be held */
    HT_NO_MODEL_ERRORS();
}
