/* SPDX-License-Identifier: MIT */
/* tests/host/hw/test_blk_driver.c — the driver table's part of the block
 * layer (drivers/blk/driver.c) on fake PCI functions: which function is whose
 * (class triples, any prog-if, vendor/device IDs, a table's end), in PCI order;
 * the register BAR checks that name what is wrong (missing, I/O, unassigned,
 * too small, none named by the driver); the probe prelude, blk_pci_claim(),
 * turning on memory decoding and bus mastering — or leaving BME off and
 * clearing it under test.no_bus_master — and recording a failed controller
 * with its cause; a device's driver found by its ops. */
#include "tests/host/hw/hw.h"
#include "drivers/pci/pci.h"

static const struct blk_ops ops_a, ops_b;
static uint8_t regs[0x4000];

static const struct blk_pci_match match_a[] = {
    { .class_code = 0x01, .subclass = 0x06, .prog_if = 0x01 },
    { .class_code = 0x01, .subclass = 0x80, .prog_if = -1 },        /* any prog-if */
    { 0 },
};
static const struct blk_driver drv_a = {
    .name = "tsta", .match = match_a, .bar = 5, .bar_name = "ABAR", .min_bar_size = 0x200,
    .ops = &ops_a,
};

static const struct blk_pci_match match_b[] = {
    { .vendor_id = 0x1b36, .device_id = 0x101 },                    /* the 2nd function added */
    { 0 },
};
static int bar_of_b(const struct pci_device *pci) { return pci->prog_if == 0x77 ? -1 : 2; }
static const struct blk_driver drv_b = {
    .name = "tstb", .match = match_b, .bar_of = bar_of_b, .bar_name = "common configuration",
    .min_bar_size = 0x1000, .ops = &ops_b,
};

HTEST(blk_driver_matches_class_prog_if_and_ids_in_pci_order)
{
    struct pci_device *f0 = fake_pci_add(0x01, 0x06, 0x01, 5, regs, sizeof(regs));
    struct pci_device *f1 = fake_pci_add(0x01, 0x00, 0x00, 2, regs, sizeof(regs));   /* id 0x101 */
    struct pci_device *f2 = fake_pci_add(0x01, 0x06, 0x00, 5, regs, sizeof(regs));   /* IDE-like */
    struct pci_device *f3 = fake_pci_add(0x01, 0x80, 0x42, 5, regs, sizeof(regs));
    HT_ASSERT(f0 && f1 && f2 && f3);
    HT_EXPECT(blk_pci_matches(&drv_a, f0));
    HT_EXPECT(!blk_pci_matches(&drv_a, f1));
    HT_EXPECT(!blk_pci_matches(&drv_a, f2));            /* prog-if 00h is not AHCI's 01h */
    HT_EXPECT(blk_pci_matches(&drv_a, f3));
    HT_EXPECT(blk_pci_matches(&drv_b, f1));
    HT_EXPECT(!blk_pci_matches(&drv_b, f0));            /* an ID entry ignores the class */
    HT_EXPECT_EQ(blk_pci_count(&drv_a), 2);
    HT_EXPECT(blk_pci_at(&drv_a, 0) == f0);
    HT_EXPECT(blk_pci_at(&drv_a, 1) == f3);
    HT_EXPECT(blk_pci_at(&drv_a, 2) == NULL);
    HT_EXPECT_EQ(blk_pci_count(&drv_b), 1);
    static const struct blk_driver no_pci = { .name = "ram", .ops = &ops_a };
    HT_EXPECT_EQ(blk_pci_count(&no_pci), 0);
    HT_EXPECT(!blk_pci_matches(&no_pci, f0));
}

HTEST(blk_driver_register_bar_problems_are_named)
{
    char why[256];
    struct pci_device *f = fake_pci_add(0x01, 0x06, 0x01, 5, regs, 0x100);
    HT_ASSERT(f);
    HT_EXPECT(blk_pci_register_bar(&drv_a, f, why, sizeof(why)) == NULL);
    HT_EXPECT_STREQ(why, "BAR5 (ABAR) is 256 bytes, smaller than the 512 its registers need");
    f->bar[5].size = 0x1000;
    HT_EXPECT(blk_pci_register_bar(&drv_a, f, why, sizeof(why)) == &f->bar[5]);
    f->bar[5].phys = 0;
    HT_EXPECT(blk_pci_register_bar(&drv_a, f, why, sizeof(why)) == NULL);
    HT_EXPECT_STREQ(why, "ABAR: BAR5 (32-bit memory, 4 KiB) was not assigned (address 0): the "
                    "firmware ran out of space below 4 GiB or skipped the device — update the "
                    "firmware, disable devices you do not need, or move the card");
    f->bar[5].type = PCI_BAR_MEM64;     /* the one Above 4G Decoding places */
    HT_EXPECT(blk_pci_register_bar(&drv_a, f, why, sizeof(why)) == NULL);
    HT_EXPECT(strstr(why, "ABAR: BAR5 (64-bit memory, 4 KiB) was not placed (address 0): the "
                     "firmware could not fit it — enable Above 4G Decoding") == why);
    f->bar[5].type = PCI_BAR_MEM32;
    f->bar[5].phys = 0xc000;
    f->bar[5].type = PCI_BAR_IO;
    HT_EXPECT(blk_pci_register_bar(&drv_a, f, why, sizeof(why)) == NULL);
    HT_EXPECT_STREQ(why, "BAR5 (ABAR) is an I/O BAR");
    f->bar[5].type = PCI_BAR_NONE;
    HT_EXPECT(blk_pci_register_bar(&drv_a, f, why, sizeof(why)) == NULL);
    HT_EXPECT_STREQ(why, "BAR5 (ABAR) is not implemented");
    /* A driver that names the BAR per function, and a function that names none. */
    struct pci_device *g = fake_pci_add(0x01, 0x00, 0x77, 2, regs, sizeof(regs));
    HT_ASSERT(g);
    HT_EXPECT_EQ(blk_pci_bar_index(&drv_b, g), -1);
    HT_EXPECT(blk_pci_register_bar(&drv_b, g, why, sizeof(why)) == NULL);
    HT_EXPECT_STREQ(why, "the common configuration BAR is not implemented");
    g->prog_if = 0;
    HT_EXPECT_EQ(blk_pci_bar_index(&drv_b, g), 2);
    HT_EXPECT(blk_pci_register_bar(&drv_b, g, why, sizeof(why)) == &g->bar[2]);
}

HTEST(blk_pci_claim_enables_memory_and_bus_mastering)
{
    bool bm = false;
    struct pci_device *f = fake_pci_add(0x01, 0x06, 0x01, 5, regs, sizeof(regs));
    HT_ASSERT(f && fake_cmdline(""));
    HT_EXPECT(blk_pci_claim(&drv_a, f, "tsta0", &bm) == (volatile void *)regs);
    HT_EXPECT(bm);
    uint16_t command = pci_read16(f, PCI_COMMAND);
    HT_EXPECT(command & PCI_COMMAND_MEMORY);
    HT_EXPECT(command & PCI_COMMAND_BUS_MASTER);
    HT_EXPECT_EQ(blk_controller_fault_count(), 0);
    /* The fake's firmware set neither: said once, with COMMAND as found. */
    HT_EXPECT_EQ(fake_log_count("tsta0: the firmware left memory decoding and bus mastering off "
                                "(PCI COMMAND 0x0000): bareio turned it on"), 1);
    /* Claimed again with both on, nothing more is said. */
    HT_EXPECT(blk_pci_claim(&drv_a, f, "tsta0", &bm) != NULL);
    HT_EXPECT_EQ(fake_log_count("the firmware left"), 1);
}

HTEST(blk_pci_claim_leaves_bus_mastering_off_under_the_test_key)
{
    bool bm = true;
    struct pci_device *f = fake_pci_add(0x01, 0x06, 0x01, 5, regs, sizeof(regs));
    HT_ASSERT(f && fake_cmdline("test.no_bus_master=tsta"));
    pci_write16(f, PCI_COMMAND, PCI_COMMAND_BUS_MASTER);    /* as firmware may leave it */
    HT_EXPECT(blk_pci_claim(&drv_a, f, "tsta0", &bm) != NULL);
    HT_EXPECT(!bm);
    /* Memory decoding was off: said; bus mastering left off on purpose: not claimed on. */
    HT_EXPECT_EQ(fake_log_count("tsta0: the firmware left memory decoding off (PCI COMMAND "
                                "0x0004): bareio turned it on"), 1);
    uint16_t command = pci_read16(f, PCI_COMMAND);
    HT_EXPECT(command & PCI_COMMAND_MEMORY);
    HT_EXPECT(!(command & PCI_COMMAND_BUS_MASTER));
    /* Another driver's name in the key leaves this one alone. */
    HT_ASSERT(fake_cmdline("test.no_bus_master=tstb"));
    HT_EXPECT(blk_pci_claim(&drv_a, f, "tsta0", &bm) != NULL);
    HT_EXPECT(bm);
}

HTEST(blk_pci_claim_records_a_bad_bar_as_a_failed_controller)
{
    bool bm = true;
    struct pci_device *f = fake_pci_add(0x01, 0x06, 0x01, 5, regs, sizeof(regs));
    HT_ASSERT(f && fake_cmdline(""));
    f->bar[5].phys = 0;
    HT_EXPECT(blk_pci_claim(&drv_a, f, "tsta0", &bm) == NULL);
    HT_EXPECT(!bm);
    HT_ASSERT(blk_controller_fault_count() == 1);
    const struct blk_controller_fault *fault = blk_controller_fault_at(0);
    HT_EXPECT_STREQ(fault->name, "tsta0");
    HT_EXPECT(fault->pci == f);
    HT_EXPECT_EQ(fault->cause, BLK_CAUSE_BAR_UNASSIGNED);
    HT_EXPECT(strstr(fault->detail, "ABAR: BAR5 (32-bit memory, 16 KiB) was not assigned "
                     "(address 0)") == fault->detail);
    HT_EXPECT(!(pci_read16(f, PCI_COMMAND) & PCI_COMMAND_BUS_MASTER));   /* nothing enabled */
}

HTEST(blk_dev_driver_is_found_by_ops_not_by_name)
{
    /* The built-in drivers (the ones linked into this test program). */
    HT_ASSERT(blk_driver_count() > 0);
    for (unsigned i = 0; i < blk_driver_count(); i++) {
        const struct blk_driver *drv = blk_driver_at(i);
        struct blk_dev dev = { .ops = drv->ops, .kind = "a name that means nothing" };
        HT_EXPECT(blk_dev_driver(&dev) == drv);
    }
    struct blk_dev stranger = { .ops = &ops_b, .kind = "nvme" };
    HT_EXPECT(blk_dev_driver(&stranger) == NULL);
    HT_EXPECT(blk_driver_at(blk_driver_count()) == NULL);
}
