/* SPDX-License-Identifier: MIT */
/* tests/host/test_pci_leftover.c — the firmware-leftover detectors
 * (drivers/pci/pci_leftover.h) on crafted values: a 64-bit BAR left at 0
 * (Above 4G Decoding), a 32-bit one, BARs that are placed, I/O BARs and
 * unimplemented ones (never a finding); MSI-X enabled with the function
 * masked, MSI enabled with vector 0 masked, an MSI-X table in a BAR that was
 * not placed, no MSI or MSI-X on a PCIe and on a conventional function, and
 * the states that are fine (masked but not enabled, other vectors masked). */
#include "tests/host/htest.h"
#include "tests/host/rename.h"
#include "drivers/pci/pci.h"
#include "drivers/pci/pci_leftover.h"

HTEST(pci_bar_unplaced_names_a_64_bit_bar_and_above_4g_decoding)
{
    char why[256];
    struct pci_bar bar = { PCI_BAR_MEM64, true, 0, 8ull << 30 };
    HT_EXPECT(pci_bar_unplaced(&bar, 2, why, sizeof why));
    HT_EXPECT_STREQ(why, "BAR2 (64-bit memory, 8 GiB) was not placed (address 0): the firmware "
                    "could not fit it — enable Above 4G Decoding (or \"64-bit BAR\" / \"MMIO above "
                    "4G\") in the firmware setup");
}

HTEST(pci_bar_unplaced_names_a_32_bit_bar)
{
    char why[256];
    struct pci_bar bar = { PCI_BAR_MEM32, false, 0, 16 * 1024 };
    HT_EXPECT(pci_bar_unplaced(&bar, 5, why, sizeof why));
    HT_EXPECT(strncmp(why, "BAR5 (32-bit memory, 16 KiB) was not assigned (address 0)", 57) == 0);
    bar.size = 0x1800;                  /* not a power of two: said in bytes, not rounded */
    HT_EXPECT(pci_bar_unplaced(&bar, 0, why, sizeof why));
    HT_EXPECT(strncmp(why, "BAR0 (32-bit memory, 6 KiB)", 27) == 0);
    bar.size = 100;
    HT_EXPECT(pci_bar_unplaced(&bar, 0, why, sizeof why));
    HT_EXPECT(strncmp(why, "BAR0 (32-bit memory, 100 bytes)", 31) == 0);
}

HTEST(pci_bar_unplaced_leaves_placed_io_and_missing_bars_alone)
{
    char why[64] = "untouched";
    struct pci_bar placed = { PCI_BAR_MEM64, false, 0x800000000ull, 1 << 20 };
    struct pci_bar low = { PCI_BAR_MEM32, false, 0x1000, 4096 };     /* low, but placed */
    struct pci_bar io = { PCI_BAR_IO, false, 0, 64 };                /* port 0: not memory */
    struct pci_bar none = { PCI_BAR_NONE, false, 0, 0 };
    struct pci_bar unsized = { PCI_BAR_MEM32, false, 0, 0 };
    HT_EXPECT(!pci_bar_unplaced(&placed, 0, why, sizeof why));
    HT_EXPECT(!pci_bar_unplaced(&low, 0, why, sizeof why));
    HT_EXPECT(!pci_bar_unplaced(&io, 0, why, sizeof why));
    HT_EXPECT(!pci_bar_unplaced(&none, 0, why, sizeof why));
    HT_EXPECT(!pci_bar_unplaced(&unsized, 0, why, sizeof why));
    HT_EXPECT_STREQ(why, "untouched");
}

static struct pci_irq_state msix_state(uint16_t control)
{
    return (struct pci_irq_state){ .pcie = true, .msix = true, .msix_control = control,
                                   .msix_table_bar = 0, .msix_table_bar_placed = true };
}

HTEST(pci_irq_check_msix_function_mask)
{
    char why[200];
    struct pci_irq_state s = msix_state(0xc000 | 63);          /* enabled, function masked */
    HT_EXPECT_EQ(pci_irq_check(&s, why, sizeof why), PCI_IRQ_BLOCKED);
    HT_EXPECT_STREQ(why, "MSI-X is enabled with the whole function masked (Message Control "
                    "0xc03f): no MSI-X interrupt can arrive");
    s = msix_state(0x8000 | 63);                                /* enabled, unmasked */
    HT_EXPECT_EQ(pci_irq_check(&s, why, sizeof why), PCI_IRQ_OK);
    HT_EXPECT_STREQ(why, "MSI-X capable; MSI-X enabled");
    s = msix_state(0x4000 | 63);                                /* masked but off: nothing to deliver */
    HT_EXPECT_EQ(pci_irq_check(&s, why, sizeof why), PCI_IRQ_OK);
}

HTEST(pci_irq_check_msix_table_in_an_unplaced_bar)
{
    char why[200];
    struct pci_irq_state s = msix_state(0x8000);
    s.msix_table_bar = 4;
    s.msix_table_bar_placed = false;
    HT_EXPECT_EQ(pci_irq_check(&s, why, sizeof why), PCI_IRQ_BLOCKED);
    HT_EXPECT_STREQ(why, "MSI-X is enabled but its table lives in BAR4, which was not placed: no "
                    "vector can be programmed");
}

HTEST(pci_irq_check_msi_vector_mask)
{
    char why[200];
    struct pci_irq_state s = { .msi = true, .msi_control = 0x0101, .msi_per_vector_mask = true,
                               .msi_mask_bits = 1, .msix_table_bar = -1 };
    HT_EXPECT_EQ(pci_irq_check(&s, why, sizeof why), PCI_IRQ_BLOCKED);
    HT_EXPECT_STREQ(why, "MSI is enabled with vector 0 masked (Mask Bits 0x00000001): no MSI "
                    "interrupt can arrive");
    s.msi_mask_bits = 0xfffffffe;       /* only vectors bareio does not use */
    HT_EXPECT_EQ(pci_irq_check(&s, why, sizeof why), PCI_IRQ_OK);
    HT_EXPECT_STREQ(why, "MSI capable; MSI enabled");
    s.msi_mask_bits = 1;
    s.msi_per_vector_mask = false;      /* the register does not exist: not read as masked */
    HT_EXPECT_EQ(pci_irq_check(&s, why, sizeof why), PCI_IRQ_OK);
}

HTEST(pci_irq_check_no_msi_at_all)
{
    char why[200];
    struct pci_irq_state s = { .pcie = true, .msix_table_bar = -1 };
    HT_EXPECT_EQ(pci_irq_check(&s, why, sizeof why), PCI_IRQ_POLLED);
    HT_EXPECT_STREQ(why, "no MSI or MSI-X capability (a PCI Express function must have one: the "
                    "firmware may hide it, or the device is faulty): interrupts only through the "
                    "INTx pin, so bareio polls for completions");
    s.pcie = false;                     /* conventional PCI (PIIX IDE): nothing odd about it */
    HT_EXPECT_EQ(pci_irq_check(&s, why, sizeof why), PCI_IRQ_POLLED);
    HT_EXPECT_STREQ(why, "no MSI or MSI-X capability: interrupts only through the INTx pin, so "
                    "bareio polls for completions");
    s = (struct pci_irq_state){ .msi = true, .msix = true, .msix_table_bar = 0,
                                .msix_table_bar_placed = true };
    HT_EXPECT_EQ(pci_irq_check(&s, why, sizeof why), PCI_IRQ_OK);
    HT_EXPECT_STREQ(why, "MSI-X and MSI capable; MSI/MSI-X present, not enabled (INTx or polled)");
}
