/* SPDX-License-Identifier: MIT */
/* tests/kernel/test_pci.c — the `pci` suite: enumeration of what QEMU was
 * started with (q35's fixed functions, anything listed in pci.expect=, devices
 * behind bridges), BAR sizes QEMU documents, capabilities, ECAM against legacy
 * config reads, MSI/MSI-X programming, and MSI delivered end to end by QEMU's
 * `edu` device (-device edu) when one is present. Devices are found by ID or
 * class, not by address: a case whose device is absent skips naming it. */
#include "drivers/pci/pci.h"
#include "kernel/apic.h"
#include "kernel/cmdline.h"
#include "kernel/io.h"
#include "kernel/irq.h"
#include "tests/harness/ktest.h"
#include "kernel/time.h"
#include "lib/format.h"
#include "lib/string.h"

#define PCI_VENDOR_INTEL        0x8086
#define PCI_VENDOR_QEMU         0x1b36
#define PCI_VENDOR_QEMU_EDU     0x1234
#define Q35_HOST_BRIDGE         0x29c0
#define ICH9_AHCI               0x2922
#define QEMU_NVME               0x0010
#define QEMU_EDU                0x11e8
#define QEMU_NVME_DEFAULT_MSIX  65      /* msix_qsize default: one vector per queue pair + admin */

/* QEMU edu device BAR0 registers (QEMU docs/specs/edu.rst). */
#define EDU_IDENTIFICATION      0x00    /* 0xRRrr00ed */
#define EDU_INTERRUPT_STATUS    0x24
#define EDU_INTERRUPT_RAISE     0x60
#define EDU_INTERRUPT_ACK       0x64
#define EDU_IDENT_MAGIC         0xed

#define MSI_DELIVERY_WAIT_MS    1000
#define MAX_EXPECT              16
#define MAX_PROBE               PCI_MAX_DEVICES

/* ---- pci.expect=vvvv:dddd[,vvvv:dddd...] --------------------------------- */

struct id_pair {
    uint16_t vendor_id, device_id;
};

static int hex_digit(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* One to four hex digits ending at a separator. Returns chars used, 0 on error. */
static size_t hex16(const char *s, size_t len, uint16_t *out)
{
    size_t i = 0;
    uint32_t v = 0;
    for (; i < len && i < 5 && hex_digit(s[i]) >= 0; i++)
        v = v * 16 + (uint32_t)hex_digit(s[i]);
    if (i == 0 || i > 4)
        return 0;
    *out = (uint16_t)v;
    return i;
}

/* The number of pairs, or -1 when the text is not a list of vvvv:dddd. */
static int expect_parse(const char *s, size_t len, struct id_pair *out, size_t max)
{
    size_t pos = 0;
    int count = 0;
    while (pos < len) {
        struct id_pair p;
        size_t n = hex16(s + pos, len - pos, &p.vendor_id);
        if (!n || pos + n >= len || s[pos + n] != ':')
            return -1;
        pos += n + 1;
        n = hex16(s + pos, len - pos, &p.device_id);
        if (!n)
            return -1;
        pos += n;
        if (pos < len && s[pos++] != ',')
            return -1;
        if ((size_t)count >= max)
            return -1;
        out[count++] = p;
    }
    return count;
}

static bool pci_expect_check(const struct cmdline_key *key, const struct cmdline_value *value,
                             char *why, size_t why_size)
{
    (void)key;
    struct id_pair pairs[MAX_EXPECT];
    if (expect_parse(value->text, value->len, pairs, MAX_EXPECT) < 0) {
        strlcpy(why, "expected up to 16 vendor:device hex pairs separated by commas, "
                "e.g. 1b36:0010,8086:2922", why_size);
        return false;
    }
    return true;
}

CMDLINE_STRING(pci_expect, "pci.expect", 128, "",
               "vendor:device pairs (hex, comma-separated) the pci suite must find",
               .check = pci_expect_check);

/* ---- helpers ------------------------------------------------------------- */

/* The first ICH9 AHCI function wherever it sits: q35's built-in one at
 * 00:1f.2, or one added with -device ahci (also on -M pc, or with
 * -M q35,sata=off). The cases that check what QEMU documents for this
 * controller (BAR5 size, MSI) run on it; the address is not theirs to assume. */
static struct pci_device *ich9_ahci(void)
{
    return pci_find_id(PCI_VENDOR_INTEL, ICH9_AHCI, 0);
}

#define NO_ICH9_AHCI "no ICH9 AHCI (8086:2922) on PCI (-M q35,sata=off and no -device ahci?)"

static bool machine_is_q35(void)
{
    struct pci_device *host = pci_find_address(0, 0, 0, 0);
    return host && host->vendor_id == PCI_VENDOR_INTEL && host->device_id == Q35_HOST_BRIDGE;
}

/* ---- enumeration --------------------------------------------------------- */

static void pci_q35_host_bridge_at_00_00_0(struct ktest *t)
{
    struct pci_device *host = pci_find_address(0, 0, 0, 0);
    KT_ASSERT(t, host != NULL);
    ktest_diag(t, "00:00.0 is %04x:%04x class %02x.%02x", host->vendor_id, host->device_id,
               host->class_code, host->subclass);
    KT_EXPECT_EQ(t, host->class_code, 0x06);
    KT_EXPECT_EQ(t, host->subclass, 0x00);
    if (!machine_is_q35()) {
        ktest_skip(t, "not a q35 machine (host bridge %04x:%04x)", host->vendor_id,
                   host->device_id);
        return;
    }
    KT_EXPECT(t, pci_find_id(PCI_VENDOR_INTEL, Q35_HOST_BRIDGE, 0) == host);
}

/* True when the class lookup lists `d` among the functions of its class. */
static bool listed_in_class(const struct pci_device *d)
{
    for (unsigned i = 0;; i++) {
        const struct pci_device *c = pci_find_class(d->class_code, d->subclass, d->prog_if, i);
        if (!c || c == d)
            return c == d;
    }
}

static void pci_q35_ahci_at_00_1f_2(struct ktest *t)
{
    if (!machine_is_q35()) {
        ktest_skip(t, "not a q35 machine: no built-in AHCI at 00:1f.2");
        return;
    }
    struct pci_device *d = pci_find_address(0, 0, 0x1f, 2);
    /* Not in the table: ask the function itself, through the access that
     * needs no ACPI, whether it is there (-M q35,sata=off leaves it out). */
    uint32_t id = pci_legacy_read32(0, 0x1f, 2, PCI_VENDOR_ID);
    if (!d && (id & 0xffff) == 0xffff) {
        ktest_skip(t, "q35 without its built-in AHCI: nothing answers at 00:1f.2 (-M q35,sata=off)");
        return;
    }
    if (!d)
        KT_FAIL(t, "00:1f.2 answers %#010x but is not in the table", id);
    KT_ASSERT(t, d != NULL);
    KT_EXPECT_EQ(t, d->vendor_id, PCI_VENDOR_INTEL);
    KT_EXPECT_EQ(t, d->device_id, ICH9_AHCI);
    KT_EXPECT_EQ(t, d->class_code, 0x01);
    KT_EXPECT_EQ(t, d->subclass, 0x06);
    KT_EXPECT_EQ(t, d->prog_if, 0x01);
    /* Not necessarily the first AHCI: an add-in controller may sit lower. */
    KT_EXPECT(t, listed_in_class(d));
}

static void pci_expected_devices_found(struct ktest *t)
{
    struct id_pair want[MAX_EXPECT];
    int n = expect_parse(pci_expect, strlen(pci_expect), want, MAX_EXPECT);
    KT_ASSERT(t, n >= 0);   /* the key's check already refused anything else */
    if (n == 0) {
        ktest_skip(t, "no pci.expect= on the command line");
        return;
    }
    for (int i = 0; i < n; i++) {
        struct pci_device *d = pci_find_id(want[i].vendor_id, want[i].device_id, 0);
        if (!d) {
            KT_FAIL(t, "pci.expect: %04x:%04x not found", want[i].vendor_id, want[i].device_id);
            continue;
        }
        ktest_diag(t, "%04x:%04x at %02x:%02x.%x", d->vendor_id, d->device_id, d->bus,
                   d->device, d->function);
    }
}

/* Every function is listed once, whether a bridge leads to its bus or it
 * sits on a root bus of another host bridge (bus 0 does not lead there); a
 * bridge's numbering is valid (secondary above its own bus, subordinate at
 * or above secondary). */
static void pci_devices_behind_bridges_are_found(struct ktest *t)
{
    unsigned bridges = 0, behind = 0, on_root_buses = 0;
    for (size_t i = 0; i < pci_device_count(); i++) {
        const struct pci_device *d = pci_device_at(i);
        if (d->header_type == 1) {
            bridges++;
            KT_EXPECT(t, d->secondary_bus > d->bus && d->subordinate_bus >= d->secondary_bus);
        }
        for (size_t j = 0; j < i; j++) {
            const struct pci_device *o = pci_device_at(j);
            if (o->segment == d->segment && o->bus == d->bus && o->device == d->device &&
                o->function == d->function)
                KT_FAIL(t, "%02x:%02x.%x is listed twice", d->bus, d->device, d->function);
        }
        bool covered = false;
        for (size_t j = 0; j < pci_device_count(); j++) {
            const struct pci_device *b = pci_device_at(j);
            if (b->header_type == 1 && b->segment == d->segment && b->secondary_bus &&
                d->bus >= b->secondary_bus && d->bus <= b->subordinate_bus)
                covered = true;
        }
        if (covered)
            behind++;
        else if (d->bus != 0)
            on_root_buses++;
    }
    ktest_diag(t, "%u bridge(s), %u function(s) behind them, %u on root buses other than 00",
               bridges, behind, on_root_buses);
    if (!bridges && !on_root_buses)
        ktest_skip(t, "no PCI-PCI bridge and no second root bus (try -device "
                   "pcie-root-port,id=rp1,chassis=1 -device nvme,...,bus=rp1, or pxb-pcie)");
}

static bool address_listed(const struct pci_address *a)
{
    return pci_find_address(a->segment, a->bus, a->device, a->function) != NULL;
}

/* A second walk with each access method finds exactly the table's functions. */
static void pci_probe_walks_agree_with_table(struct ktest *t)
{
    static struct pci_address found[MAX_PROBE];
    for (int legacy = 0; legacy <= 1; legacy++) {
        size_t n = pci_probe_addresses(legacy, found, MAX_PROBE);
        ktest_diag(t, "%s walk: %zu function(s), table %zu", legacy ? "legacy" : "default", n,
                   pci_device_count());
        KT_EXPECT_EQ(t, n, pci_device_count());
        for (size_t i = 0; i < n && i < MAX_PROBE; i++)
            if (!address_listed(&found[i]))
                KT_FAIL(t, "%s walk found %02x:%02x.%x, not in the table",
                        legacy ? "legacy" : "default", found[i].bus, found[i].device,
                        found[i].function);
    }
}

static void pci_ecam_and_legacy_reads_agree(struct ktest *t)
{
    if (!pci_ecam_available()) {
        ktest_skip(t, "no ECAM (no ACPI MCFG): only legacy config access exists here");
        return;
    }
    static const uint8_t offsets[] = { PCI_VENDOR_ID, PCI_REVISION_ID, 0x2c /* subsystem */ };
    unsigned compared = 0;
    for (size_t i = 0; i < pci_device_count(); i++) {
        const struct pci_device *d = pci_device_at(i);
        if (d->segment != 0)
            continue;
        for (size_t k = 0; k < sizeof(offsets); k++) {
            uint32_t e = pci_ecam_read32(0, d->bus, d->device, d->function, offsets[k]);
            uint32_t l = pci_legacy_read32(d->bus, d->device, d->function, offsets[k]);
            if (e != l)
                KT_FAIL(t, "%02x:%02x.%x offset %#x: ECAM %#010x, legacy %#010x", d->bus,
                        d->device, d->function, offsets[k], e, l);
            compared++;
        }
        KT_EXPECT_EQ(t, pci_ecam_read32(0, d->bus, d->device, d->function, 0) & 0xffff,
                     d->vendor_id);
    }
    ktest_diag(t, "%u dwords compared; table built with %s", compared, pci_access_method());
    KT_EXPECT(t, compared > 0);
}

/* ---- BARs and the boot line ---------------------------------------------- */

static void pci_ahci_bar5_is_4k_mem32(struct ktest *t)
{
    struct pci_device *d = ich9_ahci();
    if (!d) {
        ktest_skip(t, NO_ICH9_AHCI);
        return;
    }
    const struct pci_bar *b = pci_get_bar(d, 5);
    KT_ASSERT(t, b != NULL);
    ktest_diag(t, "BAR5 type %d at %#llx size %#llx", b->type, (unsigned long long)b->phys,
               (unsigned long long)b->size);
    KT_EXPECT_EQ(t, b->type, PCI_BAR_MEM32);
    KT_EXPECT_EQ(t, b->size, 4096);         /* ABAR: QEMU hw/ide/ich.c, AHCI 1.3.1 §2.1.11 */
    KT_EXPECT(t, b->phys != 0 && (b->phys & 0xfff) == 0);
}

/* Sizing wrote all ones and must have put every BAR back. */
static void pci_bar_sizing_restored_every_bar(struct ktest *t)
{
    for (size_t i = 0; i < pci_device_count(); i++) {
        const struct pci_device *d = pci_device_at(i);
        for (unsigned n = 0; n < d->bar_count; n++) {
            const struct pci_bar *b = &d->bar[n];
            if (b->type == PCI_BAR_NONE)
                continue;
            uint32_t now = pci_read32(d, (uint16_t)(PCI_BAR0 + 4 * n));
            uint32_t mask = b->type == PCI_BAR_IO ? ~0x3u : ~0xfu;
            if ((now & mask) != (uint32_t)b->phys)
                KT_FAIL(t, "%02x:%02x.%x BAR%u reads %#x, sized at %#llx", d->bus, d->device,
                        d->function, n, now, (unsigned long long)b->phys);
            if (b->type == PCI_BAR_MEM64 &&
                pci_read32(d, (uint16_t)(PCI_BAR0 + 4 * n + 4)) != (uint32_t)(b->phys >> 32))
                KT_FAIL(t, "%02x:%02x.%x BAR%u upper half changed", d->bus, d->device,
                        d->function, n);
            if (b->size == 0 || (b->size & (b->size - 1)))
                KT_FAIL(t, "%02x:%02x.%x BAR%u size %#llx is not a power of two", d->bus,
                        d->device, d->function, n, (unsigned long long)b->size);
        }
    }
}

static void pci_boot_line_format(struct ktest *t)
{
    struct pci_device *d = ich9_ahci();
    if (!d) {
        ktest_skip(t, NO_ICH9_AHCI);
        return;
    }
    char line[256], start[80];
    pci_describe(d, line, sizeof(line));
    ktest_diag(t, "%s", line);
    /* Its own address first, as every boot line has it. */
    size_t n = d->segment ? (size_t)snprintf(start, sizeof(start), "%04x:", d->segment) : 0;
    snprintf(start + n, sizeof(start) - n, "%02x:%02x.%x 8086:2922 01.06.01 SATA controller (AHCI) ",
             d->bus, d->device, d->function);
    KT_EXPECT(t, strncmp(line, start, strlen(start)) == 0);
    KT_EXPECT(t, strstr(line, " BAR5 mem32 0x"));
    KT_EXPECT(t, strstr(line, " [4K]"));
}

static struct pci_device *nvme_device(void)
{
    return pci_find_class(0x01, 0x08, 0x02, 0);
}

static void pci_nvme_bar0_is_mem64_holding_msix(struct ktest *t)
{
    struct pci_device *d = nvme_device();
    if (!d) {
        ktest_skip(t, "no NVMe controller (add -device nvme,serial=x,drive=...)");
        return;
    }
    const struct pci_bar *b = pci_get_bar(d, 0);
    KT_ASSERT(t, b != NULL);
    ktest_diag(t, "%02x:%02x.%x BAR0 %s at %#llx size %#llx, MSI-X %u entries", d->bus,
               d->device, d->function, b->type == PCI_BAR_MEM64 ? "mem64" : "other",
               (unsigned long long)b->phys, (unsigned long long)b->size, d->msix_table_size);
    KT_EXPECT_EQ(t, b->type, PCI_BAR_MEM64);   /* NVMe 1.4 §2.1.10: MLBAR/MUBAR is 64-bit */
    KT_EXPECT(t, b->size >= 0x2000);           /* registers, then doorbells at 0x1000 */
    KT_ASSERT(t, d->cap_msix != 0);
    uint32_t table = pci_read32(d, d->cap_msix + 4);
    if ((table & 7) == 0)
        KT_EXPECT(t, (table & ~7u) + d->msix_table_size * 16u <= b->size);
    /* QEMU's layout (hw/nvme/ctrl.c): registers and doorbells, MSI-X table and
     * PBA, rounded up to a power of two: 16 KiB with the default 65 vectors. */
    if (d->vendor_id == PCI_VENDOR_QEMU && d->device_id == QEMU_NVME &&
        d->msix_table_size == QEMU_NVME_DEFAULT_MSIX)
        KT_EXPECT_EQ(t, b->size, 16384);
}

/* ---- capabilities and COMMAND -------------------------------------------- */

static void pci_ahci_has_msi_capability(struct ktest *t)
{
    struct pci_device *d = ich9_ahci();
    if (!d) {
        ktest_skip(t, NO_ICH9_AHCI);
        return;
    }
    KT_ASSERT(t, d->cap_msi != 0);
    KT_EXPECT_EQ(t, pci_read8(d, d->cap_msi), PCI_CAP_ID_MSI);
    KT_EXPECT_EQ(t, pci_find_capability(d, PCI_CAP_ID_MSI, 0), d->cap_msi);
    KT_EXPECT_EQ(t, pci_find_capability(d, PCI_CAP_ID_MSI, 1), 0);
    KT_EXPECT_EQ(t, pci_find_capability(d, 0xee, 0), 0);    /* no such ID */
    ktest_diag(t, "MSI at %#x, SATA cap at %#x", d->cap_msi,
               pci_find_capability(d, PCI_CAP_ID_SATA, 0));
}

static void pci_nvme_has_msix_capability(struct ktest *t)
{
    struct pci_device *d = nvme_device();
    if (!d) {
        ktest_skip(t, "no NVMe controller (add -device nvme,serial=x,drive=...)");
        return;
    }
    KT_ASSERT(t, d->cap_msix != 0);
    KT_EXPECT_EQ(t, pci_read8(d, d->cap_msix), PCI_CAP_ID_MSIX);
    KT_EXPECT(t, d->msix_table_size >= 1);
    KT_EXPECT(t, d->cap_pcie != 0);            /* QEMU's nvme is a PCIe endpoint */
}

static void pci_enable_sets_and_reads_back(struct ktest *t)
{
    struct pci_device *d = ich9_ahci();
    if (!d) {
        ktest_skip(t, NO_ICH9_AHCI);
        return;
    }
    uint16_t before = pci_read16(d, PCI_COMMAND);
    KT_EXPECT(t, pci_enable(d, true, false, true));
    uint16_t after = pci_read16(d, PCI_COMMAND);
    KT_EXPECT_EQ(t, after & (PCI_COMMAND_MEMORY | PCI_COMMAND_BUS_MASTER),
                 PCI_COMMAND_MEMORY | PCI_COMMAND_BUS_MASTER);
    pci_write16(d, PCI_COMMAND, before);
    KT_EXPECT_EQ(t, pci_read16(d, PCI_COMMAND), before);
}

/* ---- MSI / MSI-X --------------------------------------------------------- */

static void no_handler(void *ctx, struct irq_frame *frame)
{
    (void)ctx;
    (void)frame;
}

/* The MSI and MSI-X cases borrow functions a storage driver may already drive
 * with interrupts: they put back what they found (the device is idle while
 * the pci suite runs). */
struct msi_saved {
    uint16_t control, data;
    uint32_t address_lo, address_hi;
};

static void msi_save(const struct pci_device *d, struct msi_saved *s)
{
    uint8_t cap = d->cap_msi;
    s->control = pci_read16(d, cap + 2);
    bool is64 = s->control & (1u << 7);
    s->address_lo = pci_read32(d, cap + 4);
    s->address_hi = is64 ? pci_read32(d, cap + 8) : 0;
    s->data = pci_read16(d, cap + (is64 ? 0x0c : 0x08));
}

static void msi_restore(const struct pci_device *d, const struct msi_saved *s)
{
    uint8_t cap = d->cap_msi;
    bool is64 = s->control & (1u << 7);
    pci_write16(d, cap + 2, s->control & (uint16_t)~1u);
    pci_write32(d, cap + 4, s->address_lo);
    if (is64)
        pci_write32(d, cap + 8, s->address_hi);
    pci_write16(d, cap + (is64 ? 0x0c : 0x08), s->data);
    pci_write16(d, cap + 2, s->control);
}

/* What MSI programming leaves in the capability: this CPU's LAPIC address and
 * the vector; undone by pci_msi_disable(). */
static void pci_msi_registers_hold_message(struct ktest *t)
{
    struct pci_device *d = ich9_ahci();
    if (!d) {
        ktest_skip(t, NO_ICH9_AHCI);
        return;
    }
    int vector = irq_alloc_vector(no_handler, NULL);
    KT_ASSERT(t, vector >= 0);
    uint16_t command = pci_read16(d, PCI_COMMAND);
    uint8_t cap = d->cap_msi;
    struct msi_saved saved;
    msi_save(d, &saved);
    KT_EXPECT(t, pci_msi_enable(d, (uint8_t)vector));
    uint16_t control = pci_read16(d, cap + 2);
    bool is64 = control & (1u << 7);
    KT_EXPECT(t, control & 1);
    KT_EXPECT_EQ(t, pci_read32(d, cap + 4), apic_msi_address());
    KT_EXPECT_EQ(t, pci_read32(d, cap + 4), 0xfee00000u | apic_id() << 12);
    KT_EXPECT_EQ(t, pci_read16(d, cap + (is64 ? 0x0c : 0x08)), (uint16_t)vector);
    KT_EXPECT(t, pci_read16(d, PCI_COMMAND) & PCI_COMMAND_INTX_DISABLE);
    pci_msi_disable(d);
    KT_EXPECT_EQ(t, pci_read16(d, cap + 2) & 1, 0);
    msi_restore(d, &saved);
    pci_write16(d, PCI_COMMAND, command);
    irq_free_vector(vector);
}

static void pci_msix_entry_programmed_and_masked(struct ktest *t)
{
    struct pci_device *d = nvme_device();
    if (!d || !d->cap_msix) {
        ktest_skip(t, "no NVMe controller with MSI-X (add -device nvme,serial=x,drive=...)");
        return;
    }
    int vector = irq_alloc_vector(no_handler, NULL);
    KT_ASSERT(t, vector >= 0);
    uint16_t command = pci_read16(d, PCI_COMMAND);
    uint16_t saved_control = pci_read16(d, d->cap_msix + 2);
    uint32_t saved_entry[4];
    bool entry_saved = false;
    /* The last entry: the NVMe driver uses the first ones for its queues. */
    uint16_t index = d->msix_table_size - 1;
    KT_EXPECT(t, !pci_msix_enable(d, d->msix_table_size, (uint8_t)vector));  /* out of range */
    if (!KT_EXPECT(t, pci_enable(d, true, false, false)))
        goto out;
    /* As a driver left it (table mapped), else the reset state: masked. */
    for (int i = 0; i < 4; i++)
        saved_entry[i] = d->msix_table ? mmio_read32(d->msix_table, (uint64_t)index * 16 + 4 * i)
                                       : (i == 3 ? 1 : 0);
    entry_saved = true;
    if (!KT_EXPECT(t, pci_msix_enable(d, index, (uint8_t)vector)))
        goto out;
    uint64_t entry = (uint64_t)index * 16;
    KT_EXPECT_EQ(t, mmio_read32(d->msix_table, entry + 0), apic_msi_address());
    KT_EXPECT_EQ(t, mmio_read32(d->msix_table, entry + 4), 0);
    KT_EXPECT_EQ(t, mmio_read32(d->msix_table, entry + 8), apic_msi_data(vector));
    KT_EXPECT_EQ(t, mmio_read32(d->msix_table, entry + 12) & 1, 0);
    uint16_t control = pci_read16(d, d->cap_msix + 2);
    KT_EXPECT(t, control & (1u << 15));             /* MSI-X Enable */
    KT_EXPECT_EQ(t, control & (1u << 14), 0);       /* Function Mask clear */
    KT_EXPECT(t, pci_msix_mask(d, index, true));
    KT_EXPECT_EQ(t, mmio_read32(d->msix_table, entry + 12) & 1, 1);
out:
    pci_msix_disable(d);
    KT_EXPECT_EQ(t, pci_read16(d, d->cap_msix + 2) & (1u << 15), 0);
    if (entry_saved)
        for (int i = 0; i < 4; i++)
            mmio_write32(d->msix_table, (uint64_t)index * 16 + 4 * i, saved_entry[i]);
    pci_write16(d, d->cap_msix + 2, saved_control);     /* the driver's MSI-X state */
    pci_write16(d, PCI_COMMAND, command);
    irq_free_vector(vector);
}

struct edu_irq {
    volatile void *regs;
    volatile unsigned count;
    volatile uint32_t status;
};

/* Acknowledges what the device raised, as the edu spec asks, so it drops the
 * interrupt; records the status for the test. */
static void edu_handler(void *ctx, struct irq_frame *frame)
{
    (void)frame;
    struct edu_irq *e = ctx;
    uint32_t status = mmio_read32(e->regs, EDU_INTERRUPT_STATUS);
    mmio_write32(e->regs, EDU_INTERRUPT_ACK, status);
    e->status = status;
    e->count++;
}

static bool wait_for_count(struct edu_irq *e, unsigned want, uint64_t ms)
{
    uint64_t deadline = deadline_after_ms(ms);
    while (e->count < want)
        if (deadline_passed(deadline))
            return false;
        else
            cpu_pause();
    return true;
}

static void pci_msi_delivered_by_edu(struct ktest *t)
{
    struct pci_device *d = pci_find_id(PCI_VENDOR_QEMU_EDU, QEMU_EDU, 0);
    if (!d) {
        ktest_skip(t, "no QEMU edu device (add -device edu)");
        return;
    }
    KT_ASSERT(t, d->cap_msi != 0);
    static struct edu_irq e;
    e.regs = pci_map_bar(d, 0);
    e.count = 0;
    e.status = 0;
    KT_ASSERT(t, e.regs != NULL);
    uint16_t command = pci_read16(d, PCI_COMMAND);
    KT_ASSERT(t, pci_enable(d, true, false, true));
    uint32_t ident = mmio_read32(e.regs, EDU_IDENTIFICATION);
    ktest_diag(t, "edu %02x:%02x.%x ident %#x", d->bus, d->device, d->function, ident);
    KT_EXPECT_EQ(t, ident & 0xff, EDU_IDENT_MAGIC);
    int vector = irq_alloc_vector(edu_handler, &e);
    KT_ASSERT(t, vector >= 0);
    if (!KT_EXPECT(t, pci_msi_enable(d, (uint8_t)vector)))
        goto out;
    uint64_t fired_before = irq_count(vector);
    uint64_t start = time_ns();
    mmio_write32(e.regs, EDU_INTERRUPT_RAISE, 0x5a5a0001);
    if (!wait_for_count(&e, 1, MSI_DELIVERY_WAIT_MS)) {
        KT_FAIL(t, "no interrupt within %u ms: vector %d fired %llu times, requested in LAPIC %d, "
                "edu status %#x, MSI control %#x, COMMAND %#x", MSI_DELIVERY_WAIT_MS, vector,
                (unsigned long long)(irq_count(vector) - fired_before),
                apic_vector_requested(vector), mmio_read32(e.regs, EDU_INTERRUPT_STATUS),
                pci_read16(d, d->cap_msi + 2), pci_read16(d, PCI_COMMAND));
        goto out;
    }
    ktest_diag(t, "vector %d delivered after %llu us, status %#x", vector,
               (unsigned long long)((time_ns() - start) / 1000), e.status);
    KT_EXPECT_EQ(t, e.status, 0x5a5a0001);
    KT_EXPECT_EQ(t, irq_count(vector) - fired_before, 1);
    KT_EXPECT_EQ(t, mmio_read32(e.regs, EDU_INTERRUPT_STATUS), 0);
    /* A second one arrives too: the first was acknowledged (EOI and device). */
    mmio_write32(e.regs, EDU_INTERRUPT_RAISE, 0x2);
    KT_EXPECT(t, wait_for_count(&e, 2, MSI_DELIVERY_WAIT_MS));
    /* With MSI off the message must stop: nothing reaches the vector. */
    pci_msi_disable(d);
    mmio_write32(e.regs, EDU_INTERRUPT_RAISE, 0x4);
    KT_EXPECT(t, !wait_for_count(&e, 3, 50));
    mmio_write32(e.regs, EDU_INTERRUPT_ACK, 0xffffffffu);
out:
    pci_msi_disable(d);
    pci_write16(d, PCI_COMMAND, command);
    irq_free_vector(vector);
}

static const struct ktest_case pci_cases[] = {
    KTEST_CASE(pci_q35_host_bridge_at_00_00_0),
    KTEST_CASE(pci_q35_ahci_at_00_1f_2),
    KTEST_CASE(pci_expected_devices_found),
    KTEST_CASE(pci_devices_behind_bridges_are_found),
    KTEST_CASE(pci_probe_walks_agree_with_table),
    KTEST_CASE(pci_ecam_and_legacy_reads_agree),
    KTEST_CASE(pci_ahci_bar5_is_4k_mem32),
    KTEST_CASE(pci_bar_sizing_restored_every_bar),
    KTEST_CASE(pci_boot_line_format),
    KTEST_CASE(pci_nvme_bar0_is_mem64_holding_msix),
    KTEST_CASE(pci_ahci_has_msi_capability),
    KTEST_CASE(pci_nvme_has_msix_capability),
    KTEST_CASE(pci_enable_sets_and_reads_back),
    KTEST_CASE(pci_msi_registers_hold_message),
    KTEST_CASE(pci_msix_entry_programmed_and_masked),
    KTEST_CASE(pci_msi_delivered_by_edu),
};
KTEST_SUITE(pci, 50, pci_cases);
