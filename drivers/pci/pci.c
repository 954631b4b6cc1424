/* SPDX-License-Identifier: MIT */
/* drivers/pci/pci.c — PCI configuration access, enumeration, BARs, capabilities,
 * MSI and MSI-X (PCI Local Bus 3.0 §3.2.2.3.2 and §6, PCI Express Base 4.0 §7.2.2).
 *
 * Config space through ECAM windows from ACPI MCFG, else the legacy 0xCF8/0xCFC
 * mechanism #1 (segment 0, first 256 bytes only). Every bus number of every
 * window is scanned (root buses of other host bridges included), and the
 * bridges' secondary/subordinate numbers are checked against what was found:
 * bareio assigns no bus numbers and no BAR addresses, and does not size
 * expansion ROMs or bridge windows. MSI/MSI-X target the bootstrap CPU. */
#include "drivers/pci/pci.h"
#include "drivers/pci/pci_leftover.h"
#include "kernel/stage.h"
#include "kernel/acpi.h"
#include "kernel/apic.h"
#include "kernel/cmdline.h"
#include "kernel/console.h"
#include "kernel/io.h"
#include "kernel/leftout.h"
#include "kernel/memory.h"
#include "lib/format.h"
#include "lib/string.h"

/* Configuration mechanism #1 (PCI Local Bus 3.0 §3.2.2.3.2). */
#define PCI_CONFIG_ADDRESS  0xcf8
#define PCI_CONFIG_DATA     0xcfc
#define PCI_CONFIG_ENABLE   (1u << 31)

/* ECAM: 4 KiB of config space per function, 1 MiB per bus (PCIe 4.0 §7.2.2). */
#define ECAM_BUS_SHIFT      20
#define ECAM_DEVICE_SHIFT   15
#define ECAM_FUNCTION_SHIFT 12
#define ECAM_FUNCTION_SIZE  4096
#define LEGACY_CONFIG_SIZE  256
#define PCI_MAX_ECAM        64  /* MCFG entries used, as kernel/acpi.c keeps them */

/* BAR low bits (PCI Local Bus 3.0 §6.2.5.1). */
#define PCI_BAR_IO_SPACE        (1u << 0)
#define PCI_BAR_MEM_TYPE_MASK   (3u << 1)
#define PCI_BAR_MEM_TYPE_64     (2u << 1)
#define PCI_BAR_MEM_PREFETCH    (1u << 3)
#define PCI_BAR_IO_ADDR_MASK    (~0x3u)
#define PCI_BAR_MEM_ADDR_MASK   (~0xfu)

/* Capability list: entries live above the 64-byte header, dword aligned, so
 * at most (256 - 64) / 4 = 48 of them fit; a longer walk is a loop. */
#define PCI_CAP_LIST_START  0x40
#define PCI_CAP_MAX_WALK    48
#define PCI_CAP_NEXT        1

/* MSI capability (PCI Local Bus 3.0 §6.8.1). */
#define PCI_MSI_CONTROL         0x02
#define PCI_MSI_ADDRESS_LO      0x04
#define PCI_MSI_ADDRESS_HI      0x08    /* 64-bit capable only */
#define PCI_MSI_DATA_32         0x08
#define PCI_MSI_DATA_64         0x0c
#define PCI_MSI_MASK_32         0x0c    /* per-vector masking only */
#define PCI_MSI_MASK_64         0x10
#define PCI_MSI_CONTROL_ENABLE  (1u << 0)
#define PCI_MSI_CONTROL_MME     (7u << 4)
#define PCI_MSI_CONTROL_64BIT   (1u << 7)
#define PCI_MSI_CONTROL_PVM     (1u << 8)

/* MSI-X capability and table (PCI Local Bus 3.0 §6.8.2). */
#define PCI_MSIX_CONTROL            0x02
#define PCI_MSIX_TABLE              0x04
#define PCI_MSIX_CONTROL_SIZE_MASK  0x7ffu  /* N-1 */
#define PCI_MSIX_CONTROL_FUNCTION_MASK (1u << 14)
#define PCI_MSIX_CONTROL_ENABLE     (1u << 15)
#define PCI_MSIX_BIR_MASK           0x7u
#define PCI_MSIX_ENTRY_SIZE         16
#define PCI_MSIX_ENTRY_ADDRESS_LO   0x0
#define PCI_MSIX_ENTRY_ADDRESS_HI   0x4
#define PCI_MSIX_ENTRY_DATA         0x8
#define PCI_MSIX_ENTRY_VECTOR_CONTROL 0xc
#define PCI_MSIX_ENTRY_MASKED       (1u << 0)

enum pci_config_choice { PCI_CONFIG_AUTO, PCI_CONFIG_ECAM, PCI_CONFIG_LEGACY };
static const struct cmdline_word pci_config_words[] = {
    { "auto", PCI_CONFIG_AUTO }, { "ecam", PCI_CONFIG_ECAM }, { "legacy", PCI_CONFIG_LEGACY },
};
CMDLINE_ENUM(pci_config_choice, "pci.config", PCI_CONFIG_AUTO, pci_config_words,
             "PCI config access: ECAM when ACPI has an MCFG (auto, ecam) or 0xCF8/0xCFC (legacy)");

struct ecam_window {
    uint16_t segment;
    uint8_t start_bus, end_bus;
    volatile uint8_t *bus0;         /* mapping, offset so that bus N is at bus0 + N MiB */
};

static struct ecam_window ecam[PCI_MAX_ECAM];
static unsigned ecam_count;
static bool ecam_setup_done;
static bool use_ecam;           /* the method of the device table */

static struct pci_device devices[PCI_MAX_DEVICES];
static size_t device_count;
static bool table_full_reported;

/* ---- configuration access ------------------------------------------------ */

/* Maps each MCFG window once. A window that cannot be mapped is skipped (its
 * buses then read as absent), which is said. */
static void ecam_setup(void)
{
    if (ecam_setup_done)
        return;
    ecam_setup_done = true;
    struct acpi_mcfg_info m;
    for (unsigned i = 0; acpi_mcfg(i, &m); i++) {
        if (ecam_count == PCI_MAX_ECAM) {
            leftout_report("pci: segment %u buses %02x-%02x not enumerated: more than %u ECAM "
                           "windows", m.segment, m.start_bus, m.end_bus, PCI_MAX_ECAM);
            continue;
        }
        uint64_t first = m.base + ((uint64_t)m.start_bus << ECAM_BUS_SHIFT);
        uint64_t size = (uint64_t)(m.end_bus - m.start_bus + 1) << ECAM_BUS_SHIFT;
        volatile uint8_t *p = mmio_map(first, size);
        if (!p) {
            leftout_report("pci: segment %u buses %02x-%02x not enumerated: their ECAM window "
                           "%#llx+%#llx cannot be mapped", m.segment, m.start_bus, m.end_bus,
                           (unsigned long long)first, (unsigned long long)size);
            continue;
        }
        ecam[ecam_count++] = (struct ecam_window){
            .segment = m.segment, .start_bus = m.start_bus, .end_bus = m.end_bus,
            .bus0 = p - ((uint64_t)m.start_bus << ECAM_BUS_SHIFT) };
    }
}

bool pci_ecam_available(void)
{
    ecam_setup();
    return ecam_count > 0;
}

static volatile uint8_t *ecam_function(uint16_t segment, uint8_t bus, uint8_t device,
                                       uint8_t function)
{
    for (unsigned i = 0; i < ecam_count; i++) {
        const struct ecam_window *w = &ecam[i];
        if (w->segment == segment && bus >= w->start_bus && bus <= w->end_bus)
            return w->bus0 + ((uint64_t)bus << ECAM_BUS_SHIFT) +
                   ((uint64_t)device << ECAM_DEVICE_SHIFT) +
                   ((uint64_t)function << ECAM_FUNCTION_SHIFT);
    }
    return NULL;
}

static uint32_t legacy_address(uint8_t bus, uint8_t device, uint8_t function, uint8_t offset)
{
    return PCI_CONFIG_ENABLE | (uint32_t)bus << 16 | (uint32_t)(device & 0x1f) << 11 |
           (uint32_t)(function & 7) << 8 | (offset & 0xfc);
}

static uint32_t all_ones(unsigned width)
{
    return width == 4 ? 0xffffffffu : (1u << (width * 8)) - 1;
}

/* The address/data pair must not be split by an interrupt handler that also
 * touches config space, so both accesses happen with interrupts off. */
static uint32_t legacy_read(uint8_t bus, uint8_t device, uint8_t function, uint8_t offset,
                            unsigned width)
{
    uint64_t flags = irq_save();
    outl(PCI_CONFIG_ADDRESS, legacy_address(bus, device, function, offset));
    uint32_t v;
    if (width == 1)
        v = inb((uint16_t)(PCI_CONFIG_DATA + (offset & 3)));
    else if (width == 2)
        v = inw((uint16_t)(PCI_CONFIG_DATA + (offset & 2)));
    else
        v = inl(PCI_CONFIG_DATA);
    irq_restore(flags);
    return v;
}

static void legacy_write(uint8_t bus, uint8_t device, uint8_t function, uint8_t offset,
                         unsigned width, uint32_t value)
{
    uint64_t flags = irq_save();
    outl(PCI_CONFIG_ADDRESS, legacy_address(bus, device, function, offset));
    if (width == 1)
        outb((uint16_t)(PCI_CONFIG_DATA + (offset & 3)), (uint8_t)value);
    else if (width == 2)
        outw((uint16_t)(PCI_CONFIG_DATA + (offset & 2)), (uint16_t)value);
    else
        outl(PCI_CONFIG_DATA, value);
    irq_restore(flags);
}

static uint32_t config_read_by(bool ecam_access, uint16_t segment, uint8_t bus, uint8_t device,
                               uint8_t function, uint16_t offset, unsigned width)
{
    offset &= (uint16_t)~(width - 1);   /* natural alignment, as both mechanisms need */
    if (ecam_access) {
        volatile uint8_t *f = ecam_function(segment, bus, device, function);
        if (!f || offset + width > ECAM_FUNCTION_SIZE)
            return all_ones(width);
        if (width == 1)
            return mmio_read8(f, offset);
        if (width == 2)
            return mmio_read16(f, offset);
        return mmio_read32(f, offset);
    }
    if (segment != 0 || offset + width > LEGACY_CONFIG_SIZE)
        return all_ones(width);
    return legacy_read(bus, device, function, (uint8_t)offset, width);
}

static uint32_t config_read(uint16_t segment, uint8_t bus, uint8_t device, uint8_t function,
                            uint16_t offset, unsigned width)
{
    return config_read_by(use_ecam, segment, bus, device, function, offset, width);
}

static void config_write(uint16_t segment, uint8_t bus, uint8_t device, uint8_t function,
                         uint16_t offset, unsigned width, uint32_t value)
{
    offset &= (uint16_t)~(width - 1);
    if (use_ecam) {
        volatile uint8_t *f = ecam_function(segment, bus, device, function);
        if (!f || offset + width > ECAM_FUNCTION_SIZE)
            return;
        if (width == 1)
            mmio_write8(f, offset, (uint8_t)value);
        else if (width == 2)
            mmio_write16(f, offset, (uint16_t)value);
        else
            mmio_write32(f, offset, value);
        return;
    }
    if (segment != 0 || offset + width > LEGACY_CONFIG_SIZE)
        return;
    legacy_write(bus, device, function, (uint8_t)offset, width, value);
}

#define DEV_ARGS(d) (d)->segment, (d)->bus, (d)->device, (d)->function
uint8_t pci_read8(const struct pci_device *d, uint16_t off) { return (uint8_t)config_read(DEV_ARGS(d), off, 1); }
uint16_t pci_read16(const struct pci_device *d, uint16_t off) { return (uint16_t)config_read(DEV_ARGS(d), off, 2); }
uint32_t pci_read32(const struct pci_device *d, uint16_t off) { return config_read(DEV_ARGS(d), off, 4); }
void pci_write8(const struct pci_device *d, uint16_t off, uint8_t v) { config_write(DEV_ARGS(d), off, 1, v); }
void pci_write16(const struct pci_device *d, uint16_t off, uint16_t v) { config_write(DEV_ARGS(d), off, 2, v); }
void pci_write32(const struct pci_device *d, uint16_t off, uint32_t v) { config_write(DEV_ARGS(d), off, 4, v); }

uint32_t pci_ecam_read32(uint16_t segment, uint8_t bus, uint8_t device, uint8_t function,
                         uint16_t offset)
{
    ecam_setup();
    volatile uint8_t *f = ecam_function(segment, bus, device, function);
    if (!f || offset > ECAM_FUNCTION_SIZE - 4)
        return 0xffffffffu;
    return mmio_read32(f, offset & ~3u);
}

uint32_t pci_legacy_read32(uint8_t bus, uint8_t device, uint8_t function, uint8_t offset)
{
    return legacy_read(bus, device, function, offset & 0xfc, 4);
}

const char *pci_access_method(void) { return use_ecam ? "ecam" : "legacy"; }

/* ---- BARs ---------------------------------------------------------------- */

/* The size a BAR decodes is the lowest address bit that stays writable. */
static uint64_t lowest_set_bit(uint64_t v) { return v & (~v + 1); }

/* Sizes BAR `i` (PCI Local Bus 3.0 §6.2.5.1): write all ones, read back the
 * writable bits, restore. Returns how many extra BAR slots it used (1 for the
 * upper half of a 64-bit BAR). Decoding is off while this runs (bars_size). */
static unsigned bar_size(struct pci_device *d, unsigned i)
{
    uint16_t off = (uint16_t)(PCI_BAR0 + 4 * i);
    struct pci_bar *b = &d->bar[i];
    uint32_t orig = pci_read32(d, off);
    pci_write32(d, off, 0xffffffffu);
    uint32_t mask = pci_read32(d, off);
    pci_write32(d, off, orig);
    memset(b, 0, sizeof(*b));
    if (orig & PCI_BAR_IO_SPACE) {
        uint64_t writable = mask & PCI_BAR_IO_ADDR_MASK;
        if (writable) {
            b->type = PCI_BAR_IO;
            b->phys = orig & PCI_BAR_IO_ADDR_MASK;
            b->size = lowest_set_bit(writable);
        }
        return 0;
    }
    uint64_t writable = mask & PCI_BAR_MEM_ADDR_MASK;
    uint64_t phys = orig & PCI_BAR_MEM_ADDR_MASK;
    unsigned used = 0;
    bool is64 = (orig & PCI_BAR_MEM_TYPE_MASK) == PCI_BAR_MEM_TYPE_64 && i + 1 < d->bar_count;
    if (is64) {
        uint32_t upper = pci_read32(d, off + 4);
        pci_write32(d, off + 4, 0xffffffffu);
        uint32_t upper_mask = pci_read32(d, off + 4);
        pci_write32(d, off + 4, upper);
        writable |= (uint64_t)upper_mask << 32;
        phys |= (uint64_t)upper << 32;
        memset(&d->bar[i + 1], 0, sizeof(d->bar[i + 1]));
        used = 1;
    }
    if (writable) {
        b->type = is64 ? PCI_BAR_MEM64 : PCI_BAR_MEM32;
        b->prefetchable = orig & PCI_BAR_MEM_PREFETCH;
        b->phys = phys;
        b->size = lowest_set_bit(writable);
    }
    return used;
}

/* Memory and I/O decoding are turned off while sizing so the all-ones
 * pattern never decodes as an address (PCI Local Bus 3.0 §6.2.5.1 note). */
static void bars_size(struct pci_device *d)
{
    uint16_t command = pci_read16(d, PCI_COMMAND);
    uint16_t decode = PCI_COMMAND_IO | PCI_COMMAND_MEMORY;
    if (command & decode)
        pci_write16(d, PCI_COMMAND, command & (uint16_t)~decode);
    for (unsigned i = 0; i < d->bar_count; i++)
        i += bar_size(d, i);
    if (command & decode)
        pci_write16(d, PCI_COMMAND, command);
}

const struct pci_bar *pci_get_bar(const struct pci_device *dev, unsigned index)
{
    if (!dev || index >= dev->bar_count || dev->bar[index].type == PCI_BAR_NONE)
        return NULL;
    return &dev->bar[index];
}

volatile void *pci_map_bar(const struct pci_device *dev, unsigned index)
{
    const struct pci_bar *b = pci_get_bar(dev, index);
    if (!b || b->type == PCI_BAR_IO || !b->phys)
        return NULL;
    return mmio_map(b->phys, b->size);
}

/* ---- capabilities -------------------------------------------------------- */

uint8_t pci_find_capability(const struct pci_device *dev, uint8_t id, unsigned instance)
{
    if (!(pci_read16(dev, PCI_STATUS) & PCI_STATUS_CAPABILITIES_LIST))
        return 0;
    uint8_t ptr = pci_read8(dev, PCI_CAPABILITIES_PTR) & 0xfc;
    for (unsigned n = 0; n < PCI_CAP_MAX_WALK && ptr >= PCI_CAP_LIST_START; n++) {
        if (pci_read8(dev, ptr) == id && instance-- == 0)
            return ptr;
        ptr = pci_read8(dev, ptr + PCI_CAP_NEXT) & 0xfc;
    }
    return 0;
}

/* Walks the whole list once at enumeration, to record the capabilities
 * drivers use and to report a list that does not end. */
static void caps_scan(struct pci_device *d)
{
    if (!(pci_read16(d, PCI_STATUS) & PCI_STATUS_CAPABILITIES_LIST))
        return;
    uint8_t ptr = pci_read8(d, PCI_CAPABILITIES_PTR) & 0xfc;
    unsigned n;
    for (n = 0; n < PCI_CAP_MAX_WALK && ptr >= PCI_CAP_LIST_START; n++) {
        uint8_t id = pci_read8(d, ptr);
        uint8_t *slot = id == PCI_CAP_ID_PM ? &d->cap_pm : id == PCI_CAP_ID_MSI ? &d->cap_msi :
                        id == PCI_CAP_ID_MSIX ? &d->cap_msix : id == PCI_CAP_ID_PCIE ? &d->cap_pcie :
                        NULL;
        if (slot && !*slot)
            *slot = ptr;
        ptr = pci_read8(d, ptr + PCI_CAP_NEXT) & 0xfc;
    }
    if (n == PCI_CAP_MAX_WALK && ptr)
        klog(LOG_WARN, "pci: %02x:%02x.%x capability list does not end after %u entries\n",
             d->bus, d->device, d->function, n);
    if (d->cap_msix)
        d->msix_table_size = (uint16_t)((pci_read16(d, d->cap_msix + PCI_MSIX_CONTROL) &
                                          PCI_MSIX_CONTROL_SIZE_MASK) + 1);
}

/* ---- enumeration --------------------------------------------------------- */

/* One walk over the buses with one access method; `found` sees every function. */
struct pci_scan {
    bool ecam;
    void (*found)(struct pci_scan *scan, const struct pci_address *address);
    struct pci_address *addresses;      /* pci_probe_addresses() */
    size_t max, count;
};

static uint32_t scan_read(const struct pci_scan *s, const struct pci_address *a, uint16_t offset,
                          unsigned width)
{
    return config_read_by(s->ecam, a->segment, a->bus, a->device, a->function, offset, width);
}

/* Function 0 decides whether the others exist (PCI Local Bus 3.0 §6.2.1:
 * header type bit 7); functions 1-7 may be sparse. */
static void scan_device(struct pci_scan *s, uint16_t segment, uint8_t bus, uint8_t device)
{
    struct pci_address a = { .segment = segment, .bus = bus, .device = device, .function = 0 };
    if ((uint16_t)scan_read(s, &a, PCI_VENDOR_ID, 2) == 0xffff)
        return;
    uint8_t header = (uint8_t)scan_read(s, &a, PCI_HEADER_TYPE, 1);
    unsigned functions = (header & PCI_HEADER_MULTIFUNCTION) ? 8 : 1;
    for (unsigned f = 0; f < functions; f++) {
        a.function = (uint8_t)f;
        if ((uint16_t)scan_read(s, &a, PCI_VENDOR_ID, 2) != 0xffff)
            s->found(s, &a);
    }
}

/* Every bus number the firmware describes, not only those bus 0 leads to:
 * a second host bridge (multi-socket servers, EPYC, QEMU's pxb-pcie) starts
 * a root bus that no bridge on bus 0 points at. With ECAM that is every bus
 * of every MCFG window (each segment group); with the legacy mechanism, which
 * reaches segment 0 only, buses 0..255. Each function is seen exactly once;
 * the bridges' numbering is checked afterwards (check_bridges). */
static void scan_all(struct pci_scan *s)
{
    if (s->ecam) {
        for (unsigned i = 0; i < ecam_count; i++)
            for (unsigned bus = ecam[i].start_bus; bus <= ecam[i].end_bus; bus++)
                for (unsigned dev = 0; dev < 32; dev++)
                    scan_device(s, ecam[i].segment, (uint8_t)bus, (uint8_t)dev);
    } else {
        for (unsigned bus = 0; bus < 256; bus++)
            for (unsigned dev = 0; dev < 32; dev++)
                scan_device(s, 0, (uint8_t)bus, (uint8_t)dev);
    }
}

/* Test only: a smaller table, so that the scenarios can show what crossing
 * the limit does (the run fails, naming it) without 4096 functions. */
CMDLINE_UINT(uint32_t, pci_table_key, "test.pci_table", PCI_MAX_DEVICES, 1, PCI_MAX_DEVICES,
             "test only: functions the PCI table holds (default and most: the full table)");

static void function_add(struct pci_scan *s, const struct pci_address *a)
{
    (void)s;
    if (device_count == pci_table_key) {
        if (!table_full_reported)
            leftout_report("pci: functions after the first %u are not listed, and no driver "
                           "sees them (the table holds %u)", pci_table_key, pci_table_key);
        table_full_reported = true;
        return;
    }
    struct pci_device *d = &devices[device_count++];
    memset(d, 0, sizeof(*d));
    d->segment = a->segment;
    d->bus = a->bus;
    d->device = a->device;
    d->function = a->function;
    d->vendor_id = pci_read16(d, PCI_VENDOR_ID);
    d->device_id = pci_read16(d, PCI_DEVICE_ID);
    d->revision_id = pci_read8(d, PCI_REVISION_ID);
    d->prog_if = pci_read8(d, PCI_PROG_IF);
    d->subclass = pci_read8(d, PCI_SUBCLASS);
    d->class_code = pci_read8(d, PCI_CLASS_CODE);
    d->header_type = pci_read8(d, PCI_HEADER_TYPE) & PCI_HEADER_TYPE_MASK;
    d->interrupt_line = pci_read8(d, PCI_INTERRUPT_LINE);
    d->interrupt_pin = pci_read8(d, PCI_INTERRUPT_PIN);
    /* Header type 0 has six BARs, type 1 two; CardBus (2) is not handled. */
    d->bar_count = d->header_type == 0 ? 6 : d->header_type == 1 ? 2 : 0;
    if (d->header_type == 1) {
        d->secondary_bus = pci_read8(d, PCI_SECONDARY_BUS);
        d->subordinate_bus = pci_read8(d, PCI_SUBORDINATE_BUS);
    }
    bars_size(d);
    caps_scan(d);
}

static void address_record(struct pci_scan *s, const struct pci_address *a)
{
    if (s->count < s->max)
        s->addresses[s->count] = *a;
    s->count++;
}

size_t pci_probe_addresses(bool legacy, struct pci_address *out, size_t max)
{
    ecam_setup();
    struct pci_scan s = { .ecam = !legacy && ecam_count > 0, .found = address_record,
                          .addresses = out, .max = max };
    scan_all(&s);
    return s.count;
}

/* ---- the boot table ------------------------------------------------------ */

static const char *bar_type_name(enum pci_bar_type t)
{
    switch (t) {
    case PCI_BAR_IO: return "io";
    case PCI_BAR_MEM32: return "mem32";
    case PCI_BAR_MEM64: return "mem64";
    default: return "none";
    }
}

static int size_format(char *buf, size_t size, uint64_t bytes)
{
    static const char units[] = "KMGT";
    unsigned u = 0;
    if (bytes < 1024 || bytes % 1024)
        return snprintf(buf, size, "%llu", (unsigned long long)bytes);
    bytes /= 1024;
    while (u + 1 < sizeof(units) - 1 && bytes >= 1024 && bytes % 1024 == 0) {
        bytes /= 1024;
        u++;
    }
    return snprintf(buf, size, "%llu%c", (unsigned long long)bytes, units[u]);
}

int pci_describe(const struct pci_device *d, char *buf, size_t size)
{
    size_t n = 0;
#define APPEND(...) do {                                                        \
        int r_ = snprintf(buf + n, n < size ? size - n : 0, __VA_ARGS__);       \
        if (r_ > 0) n += (size_t)r_;                                            \
    } while (0)
    if (d->segment)
        APPEND("%04x:", d->segment);
    APPEND("%02x:%02x.%x %04x:%04x %02x.%02x.%02x %s", d->bus, d->device, d->function,
           d->vendor_id, d->device_id, d->class_code, d->subclass, d->prog_if,
           pci_class_name(d->class_code, d->subclass, d->prog_if));
    for (unsigned i = 0; i < d->bar_count; i++) {
        const struct pci_bar *b = &d->bar[i];
        if (b->type == PCI_BAR_NONE)
            continue;
        char sz[24];
        size_format(sz, sizeof(sz), b->size);
        APPEND(" BAR%u %s%s %#llx [%s]", i, bar_type_name(b->type),
               b->prefetchable ? " pref" : "", (unsigned long long)b->phys, sz);
    }
    if (d->header_type == 1)
        APPEND(" bus %02x-%02x", d->secondary_bus, d->subordinate_bus);
#undef APPEND
    return (int)n;
}

static void table_print(void)
{
    char line[256];
    for (size_t i = 0; i < device_count; i++) {
        pci_describe(&devices[i], line, sizeof(line));
        kprintf("pci: %s\n", line);
    }
}

/* A bus of `segment` that a bridge numbered (secondary..subordinate). */
static bool behind_bridge(uint16_t segment, uint8_t bus)
{
    for (size_t i = 0; i < device_count; i++) {
        const struct pci_device *b = &devices[i];
        if (b->header_type == 1 && b->segment == segment && b->secondary_bus &&
            bus >= b->secondary_bus && bus <= b->subordinate_bus)
            return true;
    }
    return false;
}

/* The bridges' numbering against what the scan found: a secondary bus at or
 * below the bridge's own, a subordinate below the secondary, or two bridges
 * claiming the same bus are firmware breakage the boot log names (each
 * function was still found once: the scan does not follow bridges). Buses
 * with functions that no bridge leads to are root buses, listed. */
static void check_bridges(void)
{
    char roots[160] = "";
    size_t n = 0;
    for (size_t i = 0; i < device_count; i++) {
        const struct pci_device *b = &devices[i];
        if (b->header_type != 1)
            continue;
        if (!b->secondary_bus || b->secondary_bus <= b->bus || b->subordinate_bus < b->secondary_bus)
            klog(LOG_WARN, "pci: bridge %02x:%02x.%x has buses %02x-%02x: not a valid numbering "
                 "(secondary above its own bus, subordinate at or above secondary)\n", b->bus,
                 b->device, b->function, b->secondary_bus, b->subordinate_bus);
        for (size_t j = i + 1; j < device_count; j++) {
            const struct pci_device *o = &devices[j];
            if (o->header_type == 1 && o->segment == b->segment && o->secondary_bus &&
                o->secondary_bus == b->secondary_bus)
                klog(LOG_WARN, "pci: bridges %02x:%02x.%x and %02x:%02x.%x both lead to bus %02x\n",
                     b->bus, b->device, b->function, o->bus, o->device, o->function,
                     b->secondary_bus);
        }
    }
    for (size_t i = 0; i < device_count; i++) {
        const struct pci_device *d = &devices[i];
        bool listed = false;
        for (size_t j = 0; j < i && !listed; j++)
            listed = devices[j].segment == d->segment && devices[j].bus == d->bus;
        if (listed || behind_bridge(d->segment, d->bus))
            continue;
        int w = d->segment ? snprintf(roots + n, sizeof(roots) - n, "%s%04x:%02x", n ? ", " : "",
                                      d->segment, d->bus)
                           : snprintf(roots + n, sizeof(roots) - n, "%s%02x", n ? ", " : "", d->bus);
        if (w > 0 && (size_t)w < sizeof(roots) - n)
            n += (size_t)w;
    }
    kprintf("pci: root bus%s %s\n", strchr(roots, ',') ? "es" : "", n ? roots : "none");
}

size_t pci_init_with(bool force_legacy)
{
    ecam_setup();
    use_ecam = ecam_count > 0 && !force_legacy;
    device_count = 0;
    table_full_reported = false;
    struct pci_scan s = { .ecam = use_ecam, .found = function_add };
    scan_all(&s);
    table_print();
    kprintf("pci: %zu function(s), config access %s%s\n", device_count, pci_access_method(),
            force_legacy && ecam_count ? " (forced)" : "");
    check_bridges();
    return device_count;
}

void pci_init(void)
{
    ecam_setup();
    if (pci_config_choice == PCI_CONFIG_ECAM && !ecam_count)
        klog(LOG_WARN, "pci: pci.config=ecam but ACPI describes no ECAM window; using legacy\n");
    pci_init_with(pci_config_choice == PCI_CONFIG_LEGACY);
}

/* ---- the device table ---------------------------------------------------- */

size_t pci_device_count(void) { return device_count; }

struct pci_device *pci_device_at(size_t index)
{
    return index < device_count ? &devices[index] : NULL;
}

struct pci_device *pci_find_class(uint8_t class_code, uint8_t subclass, int prog_if,
                                  unsigned instance)
{
    for (size_t i = 0; i < device_count; i++) {
        struct pci_device *d = &devices[i];
        if (d->class_code != class_code || d->subclass != subclass)
            continue;
        if (prog_if >= 0 && d->prog_if != prog_if)
            continue;
        if (instance-- == 0)
            return d;
    }
    return NULL;
}

struct pci_device *pci_find_id(uint16_t vendor_id, uint16_t device_id, unsigned instance)
{
    for (size_t i = 0; i < device_count; i++)
        if (devices[i].vendor_id == vendor_id && devices[i].device_id == device_id &&
            instance-- == 0)
            return &devices[i];
    return NULL;
}

struct pci_device *pci_find_address(uint16_t segment, uint8_t bus, uint8_t device,
                                    uint8_t function)
{
    for (size_t i = 0; i < device_count; i++) {
        struct pci_device *d = &devices[i];
        if (d->segment == segment && d->bus == bus && d->device == device &&
            d->function == function)
            return d;
    }
    return NULL;
}

/* ---- COMMAND ------------------------------------------------------------- */

static const char *command_bits_name(uint16_t bits)
{
    if (bits & PCI_COMMAND_MEMORY)
        return "Memory Space Enable";
    if (bits & PCI_COMMAND_IO)
        return "I/O Space Enable";
    if (bits & PCI_COMMAND_BUS_MASTER)
        return "Bus Master Enable";
    return "Interrupt Disable";
}

/* Sets COMMAND bits and reads the register back: a bit that does not stick
 * is one the function does not implement (PCI Local Bus 3.0 §6.2.2). */
static bool command_set(struct pci_device *dev, uint16_t bits)
{
    uint16_t command = pci_read16(dev, PCI_COMMAND);
    if ((command & bits) != bits)
        pci_write16(dev, PCI_COMMAND, command | bits);
    uint16_t now = pci_read16(dev, PCI_COMMAND);
    if ((now & bits) != bits) {
        klog(LOG_ERR, "pci: %02x:%02x.%x COMMAND %#06x after setting %#06x: %s did not stick\n",
             dev->bus, dev->device, dev->function, now, bits,
             command_bits_name((uint16_t)(bits & ~now)));
        return false;
    }
    return true;
}

bool pci_enable(struct pci_device *dev, bool memory, bool io, bool bus_master)
{
    uint16_t bits = (memory ? PCI_COMMAND_MEMORY : 0) | (io ? PCI_COMMAND_IO : 0) |
                    (bus_master ? PCI_COMMAND_BUS_MASTER : 0);
    return command_set(dev, bits);
}

/* ---- MSI and MSI-X ------------------------------------------------------- */

static void msi_log(const struct pci_device *dev, const char *what)
{
    klog(LOG_ERR, "pci: %02x:%02x.%x: %s\n", dev->bus, dev->device, dev->function, what);
}

void pci_irq_state(const struct pci_device *dev, struct pci_irq_state *out)
{
    *out = (struct pci_irq_state){ .pcie = dev->cap_pcie != 0, .msi = dev->cap_msi != 0,
                                   .msix = dev->cap_msix != 0, .msix_table_bar = -1 };
    if (dev->cap_msi) {
        uint8_t cap = dev->cap_msi;
        out->msi_control = pci_read16(dev, cap + PCI_MSI_CONTROL);
        out->msi_per_vector_mask = (out->msi_control & PCI_MSI_CONTROL_PVM) != 0;
        if (out->msi_per_vector_mask)
            out->msi_mask_bits = pci_read32(dev, cap + ((out->msi_control & PCI_MSI_CONTROL_64BIT)
                                                        ? PCI_MSI_MASK_64 : PCI_MSI_MASK_32));
    }
    if (dev->cap_msix) {
        uint8_t cap = dev->cap_msix;
        out->msix_control = pci_read16(dev, cap + PCI_MSIX_CONTROL);
        unsigned bir = pci_read32(dev, cap + PCI_MSIX_TABLE) & PCI_MSIX_BIR_MASK;
        out->msix_table_bar = (int)bir;
        const struct pci_bar *bar = bir < dev->bar_count ? &dev->bar[bir] : NULL;
        out->msix_table_bar_placed = bar && bar->size && bar->phys &&
                                     (bar->type == PCI_BAR_MEM32 || bar->type == PCI_BAR_MEM64);
    }
}

bool pci_msi_enable(struct pci_device *dev, uint8_t vector)
{
    if (!dev->cap_msi) {
        msi_log(dev, "no MSI capability");
        return false;
    }
    uint8_t cap = dev->cap_msi;
    uint16_t control = pci_read16(dev, cap + PCI_MSI_CONTROL);
    /* Off while the message changes, and one vector only (MME = 0). */
    control &= (uint16_t)~(PCI_MSI_CONTROL_ENABLE | PCI_MSI_CONTROL_MME);
    pci_write16(dev, cap + PCI_MSI_CONTROL, control);
    uint32_t address = apic_msi_address();
    bool is64 = control & PCI_MSI_CONTROL_64BIT;
    pci_write32(dev, cap + PCI_MSI_ADDRESS_LO, (uint32_t)address);
    if (is64)
        pci_write32(dev, cap + PCI_MSI_ADDRESS_HI, 0);   /* the LAPIC window is below 4 GiB */
    pci_write16(dev, cap + (is64 ? PCI_MSI_DATA_64 : PCI_MSI_DATA_32),
                (uint16_t)apic_msi_data(vector));
    if (control & PCI_MSI_CONTROL_PVM) {
        uint8_t mask = cap + (is64 ? PCI_MSI_MASK_64 : PCI_MSI_MASK_32);
        pci_write32(dev, mask, pci_read32(dev, mask) & ~1u);
    }
    if (!command_set(dev, PCI_COMMAND_INTX_DISABLE))
        return false;
    pci_write16(dev, cap + PCI_MSI_CONTROL, control | PCI_MSI_CONTROL_ENABLE);
    if (!(pci_read16(dev, cap + PCI_MSI_CONTROL) & PCI_MSI_CONTROL_ENABLE)) {
        msi_log(dev, "MSI Enable did not stick");
        return false;
    }
    return true;
}

void pci_msi_disable(struct pci_device *dev)
{
    if (!dev->cap_msi)
        return;
    uint16_t control = pci_read16(dev, dev->cap_msi + PCI_MSI_CONTROL);
    pci_write16(dev, dev->cap_msi + PCI_MSI_CONTROL, control & (uint16_t)~PCI_MSI_CONTROL_ENABLE);
}

/* Maps the MSI-X table from the BAR its Table BIR names. The table is read
 * through memory space, so decoding must be on before it is used. */
static bool msix_table_map(struct pci_device *dev)
{
    if (dev->msix_table)
        return true;
    uint32_t table = pci_read32(dev, dev->cap_msix + PCI_MSIX_TABLE);
    unsigned bir = table & PCI_MSIX_BIR_MASK;
    uint64_t offset = table & ~PCI_MSIX_BIR_MASK;
    uint64_t bytes = (uint64_t)dev->msix_table_size * PCI_MSIX_ENTRY_SIZE;
    const struct pci_bar *bar = pci_get_bar(dev, bir);
    if (!bar || bar->type == PCI_BAR_IO || offset + bytes > bar->size) {
        klog(LOG_ERR, "pci: %02x:%02x.%x: MSI-X table (BIR %u offset %#llx, %u entries) is "
             "not inside a memory BAR\n", dev->bus, dev->device, dev->function, bir,
             (unsigned long long)offset, dev->msix_table_size);
        return false;
    }
    dev->msix_table = mmio_map(bar->phys + offset, bytes);
    return dev->msix_table != NULL;
}

static bool msix_ready(struct pci_device *dev, uint16_t table_index)
{
    if (!dev->cap_msix) {
        msi_log(dev, "no MSI-X capability");
        return false;
    }
    if (table_index >= dev->msix_table_size) {
        msi_log(dev, "MSI-X table index out of range");
        return false;
    }
    if (!(pci_read16(dev, PCI_COMMAND) & PCI_COMMAND_MEMORY)) {
        msi_log(dev, "MSI-X needs Memory Space Enable (pci_enable) to reach its table");
        return false;
    }
    return msix_table_map(dev);
}

bool pci_msix_mask(struct pci_device *dev, uint16_t table_index, bool masked)
{
    if (!msix_ready(dev, table_index))
        return false;
    uint64_t entry = (uint64_t)table_index * PCI_MSIX_ENTRY_SIZE;
    uint32_t control = mmio_read32(dev->msix_table, entry + PCI_MSIX_ENTRY_VECTOR_CONTROL);
    control = masked ? control | PCI_MSIX_ENTRY_MASKED : control & ~PCI_MSIX_ENTRY_MASKED;
    mmio_write32(dev->msix_table, entry + PCI_MSIX_ENTRY_VECTOR_CONTROL, control);
    /* Read back: flushes the posted write and proves the bit took. */
    uint32_t now = mmio_read32(dev->msix_table, entry + PCI_MSIX_ENTRY_VECTOR_CONTROL);
    return !!(now & PCI_MSIX_ENTRY_MASKED) == masked;
}

bool pci_msix_retarget(struct pci_device *dev, uint16_t table_index, uint32_t apic_id)
{
    if (!msix_ready(dev, table_index))
        return false;
    uint32_t address = apic_msi_address_for(apic_id);
    if (!address) {
        msi_log(dev, "an MSI-X message cannot name an APIC id above 255 (no interrupt remapping)");
        return false;
    }
    uint64_t entry = (uint64_t)table_index * PCI_MSIX_ENTRY_SIZE;
    bool was_masked = mmio_read32(dev->msix_table, entry + PCI_MSIX_ENTRY_VECTOR_CONTROL) &
                      PCI_MSIX_ENTRY_MASKED;
    /* §6.8.2.9: change an entry's address only while it is masked. */
    if (!pci_msix_mask(dev, table_index, true))
        return false;
    mmio_write32(dev->msix_table, entry + PCI_MSIX_ENTRY_ADDRESS_LO, address);
    mmio_write32(dev->msix_table, entry + PCI_MSIX_ENTRY_ADDRESS_HI, 0);
    return was_masked || pci_msix_mask(dev, table_index, false);
}

bool pci_msix_enable(struct pci_device *dev, uint16_t table_index, uint8_t vector)
{
    if (!msix_ready(dev, table_index))
        return false;
    uint8_t cap = dev->cap_msix;
    uint16_t control = pci_read16(dev, cap + PCI_MSIX_CONTROL);
    if (!(control & PCI_MSIX_CONTROL_ENABLE)) {
        if (!command_set(dev, PCI_COMMAND_INTX_DISABLE))
            return false;
        /* Enabled with the function masked: entries are programmed before
         * any can fire. Every entry's mask bit is set at reset (§6.8.2.9). */
        control |= PCI_MSIX_CONTROL_ENABLE | PCI_MSIX_CONTROL_FUNCTION_MASK;
        pci_write16(dev, cap + PCI_MSIX_CONTROL, control);
    }
    /* §6.8.2.9: change an entry's address/data only while it is masked. */
    if (!pci_msix_mask(dev, table_index, true))
        goto err_mask;
    uint64_t entry = (uint64_t)table_index * PCI_MSIX_ENTRY_SIZE;
    uint32_t address = apic_msi_address();
    mmio_write32(dev->msix_table, entry + PCI_MSIX_ENTRY_ADDRESS_LO, (uint32_t)address);
    mmio_write32(dev->msix_table, entry + PCI_MSIX_ENTRY_ADDRESS_HI, 0);
    mmio_write32(dev->msix_table, entry + PCI_MSIX_ENTRY_DATA, apic_msi_data(vector));
    if (!pci_msix_mask(dev, table_index, false))
        goto err_mask;
    pci_write16(dev, cap + PCI_MSIX_CONTROL, control & (uint16_t)~PCI_MSIX_CONTROL_FUNCTION_MASK);
    control = pci_read16(dev, cap + PCI_MSIX_CONTROL);
    if (!(control & PCI_MSIX_CONTROL_ENABLE) || (control & PCI_MSIX_CONTROL_FUNCTION_MASK)) {
        msi_log(dev, "MSI-X Enable/Function Mask did not take");
        return false;
    }
    return true;
err_mask:
    msi_log(dev, "MSI-X entry Mask bit does not change");
    return false;
}

void pci_msix_disable(struct pci_device *dev)
{
    if (!dev->cap_msix)
        return;
    uint16_t control = pci_read16(dev, dev->cap_msix + PCI_MSIX_CONTROL);
    pci_write16(dev, dev->cap_msix + PCI_MSIX_CONTROL,
                control & (uint16_t)~PCI_MSIX_CONTROL_ENABLE);
}

/* Enumeration is the first stage after the kernel's services (kernel/stage.h). */
static int pci_stage(void)
{
    pci_init();                 /* enumerate, print the table */
    return KERNEL_STAGE_CONTINUE;
}
KERNEL_STAGE(10, pci, pci_stage);
