/* SPDX-License-Identifier: MIT */
/* tests/host/hw/test_ahci_hba.c — drivers/ahci/ahci_hba.c against the
 * register model (tests/host/fake/ahci_model.h): the BIOS/OS handoff of AHCI
 * 1.3.1 §10.6.3 (QEMU has no BOHC) with the firmware releasing the HBA at
 * once, late while BIOS Busy is set, or never, and the HBA reset's bound
 * (§10.4.3: GHC.HR clears within 1 s). The handoff's decision rule is
 * host-tested on its own (tests/host/test_ahci.c); these run the register
 * loop around it. An HBA gone from the bus (registers reading all ones) is
 * given up at once, not after the bound. Capabilities the spec rules out
 * (PI 0, more ports in PI than CAP.NP allows, §3.1) fail the controller as
 * impossible before any port is touched; the legal edges (one port, one
 * command slot) are driven. */
#include "tests/host/hw/hw.h"
#include "tests/host/fake/ahci_model.h"

static struct ahci_model *bios_owned(uint64_t busy_ns, uint64_t release_ns)
{
    struct ahci_model *m = ahci_model_new(16384);
    m->cap2 = AHCI_CAP2_BOH;
    m->bios_owned = true;
    m->bios_busy_ns = busy_ns;
    m->bios_release_ns = release_ns;
    return m;
}

/* The firmware lets go 5 ms after OOS: the driver asked (OOS) and waited,
 * and reset the HBA only afterwards. */
HTEST(ahci_bios_handoff_prompt)
{
    struct ahci_model *m = bios_owned(AHCI_MODEL_NEVER, 5 * FAKE_MS);
    HT_ASSERT(drivers_start("ahci0p0", NULL) != NULL);
    HT_EXPECT(m->handoff_done_ns != 0);
    HT_EXPECT_EQ(m->hba_resets, 1);
    HT_EXPECT(m->hr_start_ns >= m->handoff_done_ns);
    HT_EXPECT_EQ(fake_log_count("BIOS Busy"), 0);
    HT_NO_MODEL_ERRORS();
}

/* BIOS Busy set 10 ms after OOS, BOS cleared after 1.5 s: past the 25 ms
 * of a BIOS that is not busy, inside the 2 s it gets once busy. */
HTEST(ahci_bios_handoff_waits_while_bios_busy)
{
    struct ahci_model *m = bios_owned(10 * FAKE_MS, 1500 * FAKE_MS);
    HT_ASSERT(drivers_start("ahci0p0", NULL) != NULL);
    HT_EXPECT_EQ(blk_controller_fault_count(), 0);
    HT_EXPECT(m->hr_start_ns >= m->oos_written_ns + 1500 * FAKE_MS);
    const char *line = fake_log_find("ahci0: BIOS released the HBA after ");
    HT_ASSERT(line != NULL);
    unsigned long ms = strtoul(strstr(line, " after ") + 7, NULL, 10);
    HT_EXPECT(ms >= 1500 && ms <= 1501);
    HT_EXPECT(strstr(line, "(BIOS Busy was set)") != NULL);
    HT_NO_MODEL_ERRORS();
}

/* BOS never clears and BB never comes: given up after 25 ms; no reset of an
 * HBA the firmware still owns. */
HTEST(ahci_bios_handoff_gives_up_after_25ms)
{
    struct ahci_model *m = bios_owned(AHCI_MODEL_NEVER, AHCI_MODEL_NEVER);
    HT_EXPECT(drivers_start("ahci0p0", NULL) == NULL);
    HT_ASSERT(blk_controller_fault_count() == 1);
    const struct blk_controller_fault *f = blk_controller_fault_at(0);
    HT_EXPECT_EQ(f->cause, BLK_CAUSE_NOT_READY);
    HT_EXPECT(strstr(f->detail, "BIOS did not release the HBA within 25 ms") != NULL);
    HT_EXPECT(strstr(f->detail, "BIOS Busy never set") != NULL);
    HT_EXPECT(fake_now() >= 25 * FAKE_MS && fake_now() < 30 * FAKE_MS);
    HT_EXPECT_EQ(m->hba_resets, 0);
    HT_NO_MODEL_ERRORS();
}

/* BB set and kept: the bound moves to 25 ms + 2 s once, then it is given up. */
HTEST(ahci_bios_handoff_busy_forever_bounded)
{
    struct ahci_model *m = bios_owned(5 * FAKE_MS, AHCI_MODEL_NEVER);
    HT_EXPECT(drivers_start("ahci0p0", NULL) == NULL);
    HT_ASSERT(blk_controller_fault_count() == 1);
    HT_EXPECT(strstr(blk_controller_fault_at(0)->detail, "within 2025 ms") != NULL);
    HT_EXPECT(strstr(blk_controller_fault_at(0)->detail, "BIOS Busy seen") != NULL);
    HT_EXPECT(fake_now() >= 2025 * FAKE_MS && fake_now() < 2030 * FAKE_MS);
    HT_EXPECT_EQ(m->hba_resets, 0);
}

/* Without CAP2.BOH there is no handoff: BOHC is never written (the model
 * flags a write). */
HTEST(ahci_no_handoff_without_cap2_boh)
{
    struct ahci_model *m = ahci_model_new(16384);
    m->bios_owned = true;
    HT_ASSERT(drivers_start("ahci0p0", NULL) != NULL);
    HT_EXPECT_EQ(m->oos_written_ns, 0);
    HT_NO_MODEL_ERRORS();
}

/* GHC.HR takes 800 ms: waited for. */
HTEST(ahci_hba_reset_waits_for_hr)
{
    struct ahci_model *m = ahci_model_new(16384);
    m->hr_ns = 800 * FAKE_MS;
    HT_ASSERT(drivers_start("ahci0p0", NULL) != NULL);
    HT_EXPECT(fake_now() >= 800 * FAKE_MS);
    HT_NO_MODEL_ERRORS();
}

/* GHC.HR never clears: given up at 1 s, with the cause named. */
HTEST(ahci_hba_reset_bounded_at_1s)
{
    struct ahci_model *m = ahci_model_new(16384);
    m->hr_ns = 600 * FAKE_S;
    HT_EXPECT(drivers_start("ahci0p0", NULL) == NULL);
    HT_ASSERT(blk_controller_fault_count() == 1);
    HT_EXPECT(strstr(blk_controller_fault_at(0)->detail,
                     "GHC.HR still set 1000 ms after the HBA reset") != NULL);
    HT_EXPECT(fake_now() >= FAKE_S && fake_now() < FAKE_S + 5 * FAKE_MS);
    HT_EXPECT_EQ(m->hba_resets, 1);
}

/* The HBA leaves the bus as it is reset: GHC reads all ones, which is no
 * state to wait on (kernel/mmio.h); given up at once with the reason, not
 * after the 1 s bound. */
HTEST(ahci_hba_gone_during_reset_given_up_at_once)
{
    struct ahci_model *m = ahci_model_new(16384);
    m->leave_at_hba_reset = true;
    HT_EXPECT(drivers_start("ahci0p0", NULL) == NULL);
    HT_ASSERT(blk_controller_fault_count() == 1);
    HT_EXPECT_EQ(blk_controller_fault_at(0)->cause, BLK_CAUSE_NOT_READY);
    HT_EXPECT_STREQ(blk_controller_fault_at(0)->detail,
                    "GHC read all ones (device gone from the bus) after the HBA reset");
    HT_EXPECT(fake_now() < 10 * FAKE_MS);
    HT_EXPECT_EQ(m->hba_resets, 1);
}

/* The controller failed as impossible, the field named, no port register
 * read or written, no hang. */
static void expect_impossible(struct ahci_model *m, const char *field)
{
    HT_EXPECT(blk_find("ahci0p0") == NULL);
    HT_ASSERT(blk_controller_fault_count() == 1);
    const struct blk_controller_fault *f = blk_controller_fault_at(0);
    HT_EXPECT_EQ(f->cause, BLK_CAUSE_IMPOSSIBLE);
    HT_EXPECT(strncmp(f->detail, BLK_IMPOSSIBLE_WORDS ": ", strlen(BLK_IMPOSSIBLE_WORDS) + 2) == 0);
    HT_EXPECT(strstr(f->detail, field) != NULL);
    HT_EXPECT_EQ(fake_log_count("ahci0: impossible capabilities: " BLK_IMPOSSIBLE_WORDS), 1);
    HT_EXPECT_EQ(m->port_accesses, 0);
    HT_EXPECT_EQ(m->hba_resets, 1);
    HT_EXPECT(fake_now() < 100 * FAKE_MS);
    HT_NO_MODEL_ERRORS();
}

/* PI reads 0 before and after the reset: nothing to restore, no port. */
HTEST(ahci_hba_pi_zero_fails_as_impossible)
{
    struct ahci_model *m = ahci_model_new(16384);
    m->pi = 0;
    HT_EXPECT(drivers_start("ahci0p0", NULL) == NULL);
    expect_impossible(m, "PI 0x00000000 implements no port");
}

/* CAP.NP 1 (two ports at most) but four bits in PI. */
HTEST(ahci_hba_pi_beyond_cap_np_fails_as_impossible)
{
    struct ahci_model *m = ahci_model_new(16384);
    m->cap = (m->cap & ~AHCI_CAP_NP_MASK) | 1;
    m->pi = 0xf;
    HT_EXPECT(drivers_start("ahci0p0", NULL) == NULL);
    expect_impossible(m, "CAP.NP 1 allows 2 ports but PI 0x0000000f implements 4");
}

/* The reset clears PI: bareio writes back what the firmware had put there
 * (§10.4.3) and checks that, so the HBA is driven as before. */
HTEST(ahci_hba_pi_lost_at_reset_restored_and_driven)
{
    struct ahci_model *m = ahci_model_new(16384);
    m->pi_lost_at_hba_reset = true;
    HT_ASSERT(drivers_start("ahci0p0", NULL) != NULL);
    HT_EXPECT_EQ(m->pi, 0x3f);
    HT_EXPECT_EQ(blk_controller_fault_count(), 0);
    HT_NO_MODEL_ERRORS();
}

/* The smallest legal HBA: CAP.NP 0 and PI 1 (one port), CAP.NCS 0 (one
 * command slot, 0's based): driven with queue depth 1, reads and writes. */
HTEST(ahci_hba_one_port_one_slot_driven)
{
    static uint8_t out[4096], in[4096];
    struct ahci_model *m = ahci_model_new(16384);
    m->cap &= ~(AHCI_CAP_NP_MASK | 0x1fu << AHCI_CAP_NCS_SHIFT);
    m->pi = 0x1;
    struct blk_dev *d = drivers_start("ahci0p0", NULL);
    HT_ASSERT(d != NULL);
    HT_EXPECT_EQ(blk_controller_fault_count(), 0);
    HT_EXPECT_EQ(d->queue_depth, 1);
    HT_EXPECT(fake_log_find(", 1 ports (PI 0x1), 1 slots, ") != NULL);
    pattern_fill(out, 100, 8, 512, 7);
    HT_EXPECT_EQ(fake_rw(d, BLK_OP_WRITE, 100, 8, out), BLK_OK);
    HT_EXPECT_EQ(fake_rw(d, BLK_OP_READ, 100, 8, in), BLK_OK);
    HT_EXPECT_EQ(pattern_check(in, 100, 8, 512, 7), -1);
    HT_NO_MODEL_ERRORS();
}
