/* SPDX-License-Identifier: MIT */
/* tests/host/test_pci_resources.c — the resource-conflict detector
 * (drivers/pci/pci_resources.h) on crafted tables: two BARs sharing one byte
 * and BARs that only touch, a BAR over RAM, over the LAPIC or the ECAM
 * window, one ending exactly at the physical address limit and one a byte
 * past it, one that wraps 2^64, and more findings than the caller keeps. */
#include "tests/host/htest.h"
#include "tests/host/rename.h"
#include "drivers/pci/pci_resources.h"

static const struct pci_res_window windows[] = {
    { "RAM", 0x0, 0x80000000ull },
    { "ECAM", 0xb0000000ull, 0x10000000ull },
    { "LAPIC", 0xfee00000ull, 0x1000 },
};
#define NWIN (sizeof(windows) / sizeof(windows[0]))

static struct pci_res_bar bar(uint8_t dev, unsigned index, uint64_t base, uint64_t size)
{
    return (struct pci_res_bar){ 0, dev, 0, index, base, size };
}

HTEST(pci_resources_a_clean_map_has_no_finding)
{
    struct pci_res_bar bars[] = {
        bar(1, 0, 0xfeb00000ull, 0x4000),           /* NVMe */
        bar(2, 4, 0xfeb04000ull, 0x1000),           /* touches the one before: no overlap */
        bar(3, 5, 0x800000000ull, 0x100000),        /* above 4 GiB, inside a 39-bit width */
        bar(4, 0, 0xfeaff000ull, 0x1000),           /* ends where the first begins */
        bar(5, 0, 0x80000000ull, 0x1000),           /* begins where RAM ends */
    };
    struct pci_res_finding f[4];
    HT_EXPECT_EQ(pci_resource_check(bars, 5, windows, NWIN, 1ull << 39, f, 4), 0);
}

HTEST(pci_resources_overlapping_bars_named_with_their_addresses)
{
    struct pci_res_bar bars[] = {
        bar(1, 0, 0xfeb00000ull, 0x4000),
        bar(2, 5, 0xfeb03fffull, 0x1000),           /* shares one byte */
    };
    struct pci_res_finding f[4];
    HT_EXPECT_EQ(pci_resource_check(bars, 2, windows, NWIN, 0, f, 4), 1);
    HT_EXPECT_EQ(f[0].problem, PCI_RES_BARS_OVERLAP);
    HT_EXPECT_EQ(f[0].bar, 0);
    HT_EXPECT_EQ(f[0].other, 1);
    HT_EXPECT_STREQ(f[0].words, "00:01.0 BAR0 [0xfeb00000..0xfeb03fff] overlaps "
                    "00:02.0 BAR5 [0xfeb03fff..0xfeb04ffe]");
}

HTEST(pci_resources_bars_over_ram_ecam_and_lapic)
{
    struct pci_res_bar bars[] = {
        bar(1, 0, 0x7ffff000ull, 0x2000),           /* the last RAM page and one past */
        bar(2, 2, 0xbff00000ull, 0x100000),         /* the last MiB of ECAM */
        bar(3, 0, 0xfee00800ull, 0x100),            /* inside the LAPIC page */
    };
    struct pci_res_finding f[8];
    HT_EXPECT_EQ(pci_resource_check(bars, 3, windows, NWIN, 0, f, 8), 3);
    HT_EXPECT_EQ(f[0].problem, PCI_RES_COVERS_WINDOW);
    HT_EXPECT_EQ(f[0].other, 0);
    HT_EXPECT(strstr(f[0].words, "covers RAM [0x0..0x7fffffff]") != NULL);
    HT_EXPECT(strstr(f[1].words, "00:02.0 BAR2 [0xbff00000..0xbfffffff] covers ECAM") != NULL);
    HT_EXPECT(strstr(f[2].words, "covers LAPIC [0xfee00000..0xfee00fff]") != NULL);
}

HTEST(pci_resources_physical_address_width_edge)
{
    uint64_t limit = 1ull << 36;
    struct pci_res_bar bars[] = {
        bar(1, 0, limit - 0x1000, 0x1000),          /* ends at the limit: reachable */
        bar(2, 0, limit - 0x1000 + 1, 0x1000),      /* one byte past */
    };
    struct pci_res_finding f[4];
    HT_EXPECT_EQ(pci_resource_check(bars, 2, NULL, 0, limit, f, 4), 2);   /* + their overlap */
    HT_EXPECT_EQ(f[0].problem, PCI_RES_BARS_OVERLAP);
    HT_EXPECT_EQ(f[1].problem, PCI_RES_BEYOND_PHYS);
    HT_EXPECT_EQ(f[1].bar, 1);
    HT_EXPECT(strstr(f[1].words, "beyond the CPU's physical address width (addresses below "
                     "0x1000000000)") != NULL);
    /* Width not known: nothing said about it. */
    HT_EXPECT_EQ(pci_resource_check(&bars[1], 1, NULL, 0, 0, f, 4), 0);
}

HTEST(pci_resources_a_wrapping_bar_is_its_own_finding)
{
    struct pci_res_bar bars[] = {
        bar(1, 0, UINT64_MAX - 0xfff, 0x2000),      /* past 2^64 */
        bar(2, 0, 0x0, 0x1000),                     /* would "overlap" it if the end wrapped */
    };
    struct pci_res_finding f[4];
    HT_EXPECT_EQ(pci_resource_check(bars, 2, NULL, 0, 0, f, 4), 1);
    HT_EXPECT_EQ(f[0].problem, PCI_RES_WRAPS);
    HT_EXPECT(strstr(f[0].words, "runs past 2^64") != NULL);
}

HTEST(pci_resources_counts_findings_it_cannot_keep)
{
    struct pci_res_bar bars[4];
    for (unsigned i = 0; i < 4; i++)
        bars[i] = bar((uint8_t)(i + 1), 0, 0xfe000000ull, 0x1000);   /* all on one page */
    struct pci_res_finding f[2];
    HT_EXPECT_EQ(pci_resource_check(bars, 4, NULL, 0, 0, f, 2), 6);  /* 4 choose 2 */
    HT_EXPECT_EQ(f[0].problem, PCI_RES_BARS_OVERLAP);
    HT_EXPECT_EQ(f[1].other, 2);
    /* A zero-size BAR (one the function does not have) overlaps nothing. */
    bars[1].size = 0;
    HT_EXPECT_EQ(pci_resource_check(bars, 2, windows, 0, 0, f, 2), 0);
}
