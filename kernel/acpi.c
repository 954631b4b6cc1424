/* SPDX-License-Identifier: MIT */
/* kernel/acpi.c — finding and checking the ACPI tables (ACPI 6.4 §5.2).
 *
 * RSDP from the Multiboot2 copy, else the EBDA's first KiB and 0xE0000-0xFFFFF
 * (§5.2.5.1); XSDT when the RSDP is revision >= 2 and valid, else RSDT; every
 * table's checksum is checked and a bad table is reported and ignored. Only
 * fixed-layout tables are parsed (MADT, MCFG, SPCR, FADT reset register, HPET):
 * there is no AML interpreter, so nothing from the DSDT/SSDTs is evaluated. */
#include "kernel/acpi.h"
#include "kernel/bootinfo.h"
#include "kernel/console.h"
#include "kernel/exit.h"
#include "kernel/io.h"
#include "kernel/leftout.h"
#include "kernel/memory.h"
#include "lib/string.h"

#define ACPI_MAX_TABLES      256
#define ACPI_MAX_MCFG        64  /* segment group / bus ranges (drivers/pci keeps as many) */
/* Bound on a table's length: larger is a corrupt header, not a real table. */
#define ACPI_MAX_TABLE_LEN   (16u << 20)

/* RSDP (§5.2.5.3). The first 20 bytes are the ACPI 1.0 structure. */
struct acpi_rsdp {
    char signature[8];          /* "RSD PTR " */
    uint8_t checksum;           /* over the first 20 bytes */
    char oem_id[6];
    uint8_t revision;           /* 0 = ACPI 1.0; 2 = ACPI 2.0 and later */
    uint32_t rsdt_address;
    uint32_t length;            /* revision >= 2: of the whole structure */
    uint64_t xsdt_address;
    uint8_t extended_checksum;  /* over `length` bytes */
    uint8_t reserved[3];
} __attribute__((packed));
_Static_assert(sizeof(struct acpi_rsdp) == 36, "ACPI 6.4 §5.2.5.3");
#define ACPI_RSDP_V1_LEN 20

/* FADT (§5.2.9, Table 5.9). Fields past `length` must not be read: ACPI 1.0
 * FADTs end at RESET_REG (116 bytes). */
struct acpi_fadt {
    struct acpi_sdt_header header;
    uint32_t firmware_ctrl;
    uint32_t dsdt;
    uint8_t reserved0;
    uint8_t preferred_pm_profile;
    uint16_t sci_int;
    uint32_t smi_cmd;
    uint8_t acpi_enable;
    uint8_t acpi_disable;
    uint8_t s4bios_req;
    uint8_t pstate_cnt;
    uint32_t pm1a_evt_blk;
    uint32_t pm1b_evt_blk;
    uint32_t pm1a_cnt_blk;
    uint32_t pm1b_cnt_blk;
    uint32_t pm2_cnt_blk;
    uint32_t pm_tmr_blk;
    uint32_t gpe0_blk;
    uint32_t gpe1_blk;
    uint8_t pm1_evt_len;
    uint8_t pm1_cnt_len;
    uint8_t pm2_cnt_len;
    uint8_t pm_tmr_len;
    uint8_t gpe0_blk_len;
    uint8_t gpe1_blk_len;
    uint8_t gpe1_base;
    uint8_t cst_cnt;
    uint16_t p_lvl2_lat;
    uint16_t p_lvl3_lat;
    uint16_t flush_size;
    uint16_t flush_stride;
    uint8_t duty_offset;
    uint8_t duty_width;
    uint8_t day_alrm;
    uint8_t mon_alrm;
    uint8_t century;
    uint16_t iapc_boot_arch;
    uint8_t reserved1;
    uint32_t flags;
    struct acpi_gas reset_reg;
    uint8_t reset_value;
    uint16_t arm_boot_arch;
    uint8_t fadt_minor_version;
    uint64_t x_firmware_ctrl;
    uint64_t x_dsdt;
    struct acpi_gas x_pm1a_evt_blk;
    struct acpi_gas x_pm1b_evt_blk;
    struct acpi_gas x_pm1a_cnt_blk;
    struct acpi_gas x_pm1b_cnt_blk;
    struct acpi_gas x_pm2_cnt_blk;
    struct acpi_gas x_pm_tmr_blk;
    struct acpi_gas x_gpe0_blk;
    struct acpi_gas x_gpe1_blk;
    struct acpi_gas sleep_control_reg;
    struct acpi_gas sleep_status_reg;
    uint64_t hypervisor_vendor_identity;
} __attribute__((packed));
_Static_assert(sizeof(struct acpi_fadt) == 276, "ACPI 6.4 §5.2.9 Table 5.9");
_Static_assert(offsetof(struct acpi_fadt, flags) == 112, "ACPI 6.4 Table 5.9");
_Static_assert(offsetof(struct acpi_fadt, reset_reg) == 116, "ACPI 6.4 Table 5.9");
_Static_assert(offsetof(struct acpi_fadt, x_dsdt) == 140, "ACPI 6.4 Table 5.9");
#define ACPI_FADT_RESET_REG_SUP (1u << 10)     /* Table 5.10 */

/* MADT (§5.2.12) and the interrupt controller structures bareio reads. */
struct acpi_madt {
    struct acpi_sdt_header header;
    uint32_t local_interrupt_controller_address;
    uint32_t flags;
} __attribute__((packed));
_Static_assert(sizeof(struct acpi_madt) == 44, "ACPI 6.4 §5.2.12 Table 5.43");
#define ACPI_MADT_PCAT_COMPAT (1u << 0)

struct acpi_madt_entry_header {
    uint8_t type;
    uint8_t length;
} __attribute__((packed));
_Static_assert(sizeof(struct acpi_madt_entry_header) == 2, "ACPI 6.4 §5.2.12");

enum acpi_madt_type {
    ACPI_MADT_LOCAL_APIC = 0,
    ACPI_MADT_IO_APIC = 1,
    ACPI_MADT_INTERRUPT_SOURCE_OVERRIDE = 2,
    ACPI_MADT_LOCAL_APIC_ADDRESS_OVERRIDE = 5,
    ACPI_MADT_LOCAL_X2APIC = 9,
};

struct acpi_madt_local_apic {
    struct acpi_madt_entry_header h;
    uint8_t acpi_processor_uid;
    uint8_t apic_id;
    uint32_t flags;
} __attribute__((packed));
_Static_assert(sizeof(struct acpi_madt_local_apic) == 8, "ACPI 6.4 §5.2.12.2");
#define ACPI_MADT_LAPIC_ENABLED (1u << 0)

struct acpi_madt_io_apic {
    struct acpi_madt_entry_header h;
    uint8_t io_apic_id;
    uint8_t reserved;
    uint32_t io_apic_address;
    uint32_t global_system_interrupt_base;
} __attribute__((packed));
_Static_assert(sizeof(struct acpi_madt_io_apic) == 12, "ACPI 6.4 §5.2.12.3");

struct acpi_madt_interrupt_source_override {
    struct acpi_madt_entry_header h;
    uint8_t bus;
    uint8_t source;
    uint32_t global_system_interrupt;
    uint16_t flags;
} __attribute__((packed));
_Static_assert(sizeof(struct acpi_madt_interrupt_source_override) == 10, "ACPI 6.4 §5.2.12.5");

struct acpi_madt_local_apic_address_override {
    struct acpi_madt_entry_header h;
    uint16_t reserved;
    uint64_t local_apic_address;
} __attribute__((packed));
_Static_assert(sizeof(struct acpi_madt_local_apic_address_override) == 12, "ACPI 6.4 §5.2.12.8");

struct acpi_madt_local_x2apic {
    struct acpi_madt_entry_header h;
    uint16_t reserved;
    uint32_t x2apic_id;
    uint32_t flags;
    uint32_t acpi_processor_uid;
} __attribute__((packed));
_Static_assert(sizeof(struct acpi_madt_local_x2apic) == 16, "ACPI 6.4 §5.2.12.12");

/* MCFG (PCI Firmware Specification 3.2 §4.1.2, Tables 4-2 and 4-3). */
struct acpi_mcfg {
    struct acpi_sdt_header header;
    uint8_t reserved[8];
} __attribute__((packed));
_Static_assert(sizeof(struct acpi_mcfg) == 44, "PCI Firmware 3.2 Table 4-2");

struct acpi_mcfg_allocation {
    uint64_t base_address;
    uint16_t pci_segment_group;
    uint8_t start_bus_number;
    uint8_t end_bus_number;
    uint32_t reserved;
} __attribute__((packed));
_Static_assert(sizeof(struct acpi_mcfg_allocation) == 16, "PCI Firmware 3.2 Table 4-3");

/* SPCR (Microsoft SPCR specification, revisions 2-4). Revision 2 ends at 80
 * bytes; revision 3 turned the last reserved dword into the UART clock;
 * revision 4 added the precise baud rate and the namespace string. */
struct acpi_spcr {
    struct acpi_sdt_header header;
    uint8_t interface_type;         /* DBG2 serial port subtype */
    uint8_t reserved0[3];
    struct acpi_gas base_address;
    uint8_t interrupt_type;
    uint8_t irq;
    uint32_t global_system_interrupt;
    uint8_t configured_baud_rate;   /* 0 as is, 3 9600, 4 19200, 6 57600, 7 115200 */
    uint8_t parity;
    uint8_t stop_bits;
    uint8_t flow_control;
    uint8_t terminal_type;
    uint8_t language;
    uint16_t pci_device_id;
    uint16_t pci_vendor_id;
    uint8_t pci_bus_number;
    uint8_t pci_device_number;
    uint8_t pci_function_number;
    uint32_t pci_flags;
    uint8_t pci_segment;
    uint32_t uart_clock_frequency;  /* revision >= 3 */
    uint32_t precise_baud_rate;     /* revision >= 4; overrides configured_baud_rate when non-zero */
    uint16_t namespace_string_length;
    uint16_t namespace_string_offset;
} __attribute__((packed));
_Static_assert(sizeof(struct acpi_spcr) == 88, "SPCR rev 4 fixed part");
_Static_assert(offsetof(struct acpi_spcr, uart_clock_frequency) == 76, "SPCR rev 3");
#define ACPI_SPCR_REV2_LEN 80

/* DBG2 serial port subtypes that are driven as a 16550 (Microsoft DBG2 Table 3). */
#define ACPI_DBG2_16550_COMPATIBLE 0x00
#define ACPI_DBG2_16550_SUBSET     0x01
#define ACPI_DBG2_16550_WITH_GAS   0x12

/* HPET description table (IA-PC HPET 1.0a §3.2.4, Table 3). */
struct acpi_hpet {
    struct acpi_sdt_header header;
    uint32_t event_timer_block_id;
    struct acpi_gas base_address;
    uint8_t hpet_number;
    uint16_t main_counter_minimum_clock_tick;
    uint8_t page_protection;
} __attribute__((packed));
_Static_assert(sizeof(struct acpi_hpet) == 56, "IA-PC HPET 1.0a Table 3");

/* The BDA word at 0x40E holds the EBDA's real-mode segment (§5.2.5.1). */
#define BDA_EBDA_SEGMENT 0x40e
#define EBDA_SCAN_LEN    1024
#define BIOS_AREA_START  0xe0000
#define BIOS_AREA_END    0x100000

static struct acpi_rsdp_info rsdp_info;
static struct acpi_table_entry tables[ACPI_MAX_TABLES];
static unsigned table_count;

static bool have_madt;
static struct acpi_madt_info madt_info;
static unsigned mcfg_count;
static struct acpi_mcfg_info mcfg_info[ACPI_MAX_MCFG];
static uint64_t hpet_base;
static bool have_reset_reg;
static struct acpi_gas reset_reg;
static uint8_t reset_value;

uint8_t acpi_checksum(const void *data, size_t len)
{
    const uint8_t *p = data;
    uint8_t sum = 0;
    for (size_t i = 0; i < len; i++)
        sum = (uint8_t)(sum + p[i]);
    return sum;
}

/* Tables live in firmware-reserved RAM, which memory_init() leaves unmapped:
 * map each range before touching it. Identity mapping keeps the pointer equal
 * to the physical address. */
static const void *acpi_map(uint64_t phys, uint64_t len)
{
    volatile void *p = mmio_map(phys, len);
    return (const void *)(uintptr_t)p;
}

/* ---- RSDP ---------------------------------------------------------------- */

static bool rsdp_candidate(const struct acpi_rsdp *r)
{
    return memcmp(r->signature, "RSD PTR ", 8) == 0 && acpi_checksum(r, ACPI_RSDP_V1_LEN) == 0;
}

/* §5.2.5.1: the RSDP sits on a 16-byte boundary. */
static const struct acpi_rsdp *rsdp_scan(uint64_t start, uint64_t len)
{
    const uint8_t *area = acpi_map(start, len);
    if (!area)
        return NULL;
    for (uint64_t off = 0; off + sizeof(struct acpi_rsdp) <= len; off += 16)
        if (rsdp_candidate((const struct acpi_rsdp *)(area + off)))
            return (const struct acpi_rsdp *)(area + off);
    return NULL;
}

static const struct acpi_rsdp *rsdp_find(void)
{
    if (boot_info.have_rsdp) {
        const struct acpi_rsdp *r = (const struct acpi_rsdp *)boot_info.rsdp;
        rsdp_info.source = "multiboot2";
        rsdp_info.phys = 0;
        if (rsdp_candidate(r))
            return r;
        klog(LOG_WARN, "acpi: the boot loader's RSDP copy fails its checksum; scanning\n");
    }
    const uint8_t *bda = acpi_map(BDA_EBDA_SEGMENT, 2);
    uint64_t ebda = bda ? (uint64_t)(bda[0] | bda[1] << 8) << 4 : 0;
    /* A segment outside conventional memory is a BIOS that has no EBDA. */
    if (ebda >= 0x400 && ebda + EBDA_SCAN_LEN <= 0xa0000) {
        const struct acpi_rsdp *r = rsdp_scan(ebda, EBDA_SCAN_LEN);
        if (r) {
            rsdp_info.source = "ebda";
            rsdp_info.phys = (uint64_t)(uintptr_t)r;
            return r;
        }
    }
    const struct acpi_rsdp *r = rsdp_scan(BIOS_AREA_START, BIOS_AREA_END - BIOS_AREA_START);
    if (r) {
        rsdp_info.source = "bios";
        rsdp_info.phys = (uint64_t)(uintptr_t)r;
    }
    return r;
}

/* ---- tables -------------------------------------------------------------- */

/* Copies a fixed-width, space-padded ACPI string for printing. */
static void acpi_string(char *dst, const char *src, size_t n)
{
    size_t len = 0;
    for (size_t i = 0; i < n; i++)
        dst[len++] = (src[i] >= 0x20 && src[i] < 0x7f) ? src[i] : '?';
    while (len && dst[len - 1] == ' ')
        len--;
    dst[len] = 0;
}

static void table_print(const struct acpi_sdt_header *h, bool checksum_ok)
{
    char sig[5], oem[7], oem_table[9];
    acpi_string(sig, h->signature, 4);
    acpi_string(oem, h->oem_id, 6);
    acpi_string(oem_table, h->oem_table_id, 8);
    if (checksum_ok)
        kprintf("acpi: %s rev %u %s %s len %u\n", sig, h->revision, oem, oem_table, h->length);
    else
        klog(LOG_WARN, "acpi: %s rev %u %s %s len %u at %#llx: bad checksum (sum %#x), ignored\n",
             sig, h->revision, oem, oem_table, h->length,
             (unsigned long long)(uintptr_t)h, acpi_checksum(h, h->length));
}

/* Maps a whole table: the header first, then the length it gives. NULL (after
 * saying why) when the header is unmappable or its length is impossible. */
static const struct acpi_sdt_header *table_map(uint64_t phys)
{
    const struct acpi_sdt_header *h = acpi_map(phys, sizeof(*h));
    if (!h) {
        klog(LOG_WARN, "acpi: table at %#llx cannot be mapped\n", (unsigned long long)phys);
        return NULL;
    }
    if (h->length < sizeof(*h) || h->length > ACPI_MAX_TABLE_LEN) {
        klog(LOG_WARN, "acpi: table at %#llx has impossible length %u, ignored\n",
             (unsigned long long)phys, h->length);
        return NULL;
    }
    return acpi_map(phys, h->length);
}

static void table_add(uint64_t phys)
{
    if (table_count == ACPI_MAX_TABLES) {
        /* It might be the MCFG that describes a segment's buses. */
        leftout_report("acpi: table at %#llx not read: more than %u tables",
                       (unsigned long long)phys, ACPI_MAX_TABLES);
        return;
    }
    struct acpi_table_entry *e = &tables[table_count++];
    e->phys = phys;
    e->table = phys ? table_map(phys) : NULL;
    e->checksum_ok = e->table && acpi_checksum(e->table, e->table->length) == 0;
    if (e->table)
        table_print(e->table, e->checksum_ok);
}

/* Maps and checks the XSDT or RSDT; NULL when it is unusable. */
static const struct acpi_sdt_header *root_table(uint64_t phys, const char *signature)
{
    const struct acpi_sdt_header *root = table_map(phys);
    if (!root)
        return NULL;
    bool ok = memcmp(root->signature, signature, 4) == 0 &&
              acpi_checksum(root, root->length) == 0;
    table_print(root, ok);
    return ok ? root : NULL;
}

/* Every entry of the root table: 8-byte pointers in the XSDT, 4-byte in the
 * RSDT (§5.2.7, §5.2.8). XSDT entries are only 4-byte aligned, hence memcpy. */
static void root_walk(const struct acpi_sdt_header *root, bool xsdt)
{
    size_t entry_size = xsdt ? 8 : 4;
    size_t count = (root->length - sizeof(*root)) / entry_size;
    const uint8_t *entries = (const uint8_t *)root + sizeof(*root);
    for (size_t i = 0; i < count; i++) {
        uint64_t phys = 0;
        memcpy(&phys, entries + i * entry_size, entry_size);
        if (phys)
            table_add(phys);
    }
}

/* The DSDT is not in the root table: the FADT points at it (X_DSDT wins when
 * present, §5.2.9). Listed so acpi_find_table("DSDT") works. */
static void dsdt_add(void)
{
    const struct acpi_fadt *fadt = (const struct acpi_fadt *)acpi_find_table("FACP", 0);
    if (!fadt)
        return;
    uint64_t dsdt = 0;
    if (fadt->header.length >= offsetof(struct acpi_fadt, x_dsdt) + 8)
        dsdt = fadt->x_dsdt;
    if (!dsdt && fadt->header.length >= offsetof(struct acpi_fadt, dsdt) + 4)
        dsdt = fadt->dsdt;
    if (dsdt)
        table_add(dsdt);
}

const struct acpi_sdt_header *acpi_find_table(const char *signature, unsigned instance)
{
    for (unsigned i = 0; i < table_count; i++) {
        if (!tables[i].checksum_ok || memcmp(tables[i].table->signature, signature, 4) != 0)
            continue;
        if (instance-- == 0)
            return tables[i].table;
    }
    return NULL;
}

const struct acpi_rsdp_info *acpi_rsdp(void) { return &rsdp_info; }
unsigned acpi_table_count(void) { return table_count; }
const struct acpi_table_entry *acpi_table_at(unsigned index)
{
    return index < table_count ? &tables[index] : NULL;
}

/* ---- MADT ---------------------------------------------------------------- */

static void madt_entry(const struct acpi_madt_entry_header *e, struct acpi_madt_info *out)
{
    switch (e->type) {
    case ACPI_MADT_LOCAL_APIC:
        if (e->length >= sizeof(struct acpi_madt_local_apic) &&
            (((const struct acpi_madt_local_apic *)e)->flags & ACPI_MADT_LAPIC_ENABLED))
            out->cpu_count++;
        break;
    case ACPI_MADT_LOCAL_X2APIC:
        if (e->length >= sizeof(struct acpi_madt_local_x2apic) &&
            (((const struct acpi_madt_local_x2apic *)e)->flags & ACPI_MADT_LAPIC_ENABLED))
            out->cpu_count++;
        break;
    case ACPI_MADT_IO_APIC: {
        const struct acpi_madt_io_apic *io = (const void *)e;
        if (e->length < sizeof(*io) || out->ioapic_count == ACPI_MAX_IOAPICS)
            break;
        out->ioapic[out->ioapic_count++] = (struct acpi_ioapic){
            .id = io->io_apic_id, .address = io->io_apic_address,
            .gsi_base = io->global_system_interrupt_base };
        break;
    }
    case ACPI_MADT_INTERRUPT_SOURCE_OVERRIDE: {
        const struct acpi_madt_interrupt_source_override *iso = (const void *)e;
        if (e->length < sizeof(*iso) || out->override_count == ACPI_MAX_ISO)
            break;
        out->override[out->override_count++] = (struct acpi_irq_override){
            .source = iso->source, .gsi = iso->global_system_interrupt, .flags = iso->flags };
        break;
    }
    case ACPI_MADT_LOCAL_APIC_ADDRESS_OVERRIDE:
        /* §5.2.12.8: a 64-bit address that replaces the 32-bit field. */
        if (e->length >= sizeof(struct acpi_madt_local_apic_address_override))
            out->lapic_address =
                ((const struct acpi_madt_local_apic_address_override *)e)->local_apic_address;
        break;
    default:
        break;
    }
}

bool acpi_parse_madt(const struct acpi_sdt_header *table, struct acpi_madt_info *out)
{
    memset(out, 0, sizeof(*out));
    if (!table || table->length < sizeof(struct acpi_madt))
        return false;
    const struct acpi_madt *madt = (const struct acpi_madt *)table;
    out->lapic_address = madt->local_interrupt_controller_address;
    out->pcat_compat = madt->flags & ACPI_MADT_PCAT_COMPAT;
    const uint8_t *p = (const uint8_t *)table + sizeof(*madt);
    const uint8_t *end = (const uint8_t *)table + table->length;
    /* An entry shorter than its header would loop forever: stop there. */
    while (p + sizeof(struct acpi_madt_entry_header) <= end) {
        const struct acpi_madt_entry_header *e = (const void *)p;
        if (e->length < sizeof(*e) || p + e->length > end) {
            klog(LOG_WARN, "acpi: MADT entry at offset %u has bad length %u; rest ignored\n",
                 (unsigned)(p - (const uint8_t *)table), e->length);
            break;
        }
        madt_entry(e, out);
        p += e->length;
    }
    return true;
}

/* The enabled processors' entries, in table order. A separate walk with a
 * caller-sized array, so no fixed table in here limits how many CPUs a
 * server may list; the total comes back even when `max` is smaller. */
static bool madt_cpu_entry(const struct acpi_madt_entry_header *e, struct acpi_cpu *cpu)
{
    if (e->type == ACPI_MADT_LOCAL_APIC && e->length >= sizeof(struct acpi_madt_local_apic)) {
        const struct acpi_madt_local_apic *l = (const void *)e;
        *cpu = (struct acpi_cpu){ .apic_id = l->apic_id, .processor_uid = l->acpi_processor_uid,
                                  .x2apic_entry = false };
        return (l->flags & ACPI_MADT_LAPIC_ENABLED) != 0;
    }
    if (e->type == ACPI_MADT_LOCAL_X2APIC && e->length >= sizeof(struct acpi_madt_local_x2apic)) {
        const struct acpi_madt_local_x2apic *x = (const void *)e;
        *cpu = (struct acpi_cpu){ .apic_id = x->x2apic_id, .processor_uid = x->acpi_processor_uid,
                                  .x2apic_entry = true };
        return (x->flags & ACPI_MADT_LAPIC_ENABLED) != 0;
    }
    return false;
}

unsigned acpi_madt_cpus(struct acpi_cpu *out, unsigned max)
{
    return have_madt ? acpi_parse_madt_cpus(acpi_find_table("APIC", 0), out, max) : 0;
}

unsigned acpi_parse_madt_cpus(const struct acpi_sdt_header *table, struct acpi_cpu *out, unsigned max)
{
    if (!table || table->length < sizeof(struct acpi_madt))
        return 0;
    const uint8_t *p = (const uint8_t *)table + sizeof(struct acpi_madt);
    const uint8_t *end = (const uint8_t *)table + table->length;
    unsigned n = 0;
    while (p + sizeof(struct acpi_madt_entry_header) <= end) {
        const struct acpi_madt_entry_header *e = (const void *)p;
        if (e->length < sizeof(*e) || p + e->length > end)
            break;              /* acpi_parse_madt() said so already */
        struct acpi_cpu cpu;
        if (madt_cpu_entry(e, &cpu)) {
            if (n < max)
                out[n] = cpu;
            n++;
        }
        p += e->length;
    }
    return n;
}

bool acpi_madt(struct acpi_madt_info *out)
{
    *out = madt_info;
    return have_madt;
}

/* ---- MCFG ---------------------------------------------------------------- */

static void mcfg_parse(const struct acpi_sdt_header *table)
{
    if (!table || table->length < sizeof(struct acpi_mcfg))
        return;
    size_t count = (table->length - sizeof(struct acpi_mcfg)) / sizeof(struct acpi_mcfg_allocation);
    const struct acpi_mcfg_allocation *a =
        (const void *)((const uint8_t *)table + sizeof(struct acpi_mcfg));
    for (size_t i = 0; i < count; i++) {
        if (mcfg_count == ACPI_MAX_MCFG) {
            leftout_report("acpi: MCFG segment %u buses %02x-%02x not used: more than %u entries",
                           a[i].pci_segment_group, a[i].start_bus_number, a[i].end_bus_number,
                           ACPI_MAX_MCFG);
            continue;
        }
        if (a[i].end_bus_number < a[i].start_bus_number) {
            klog(LOG_WARN, "acpi: MCFG entry %zu has end bus %u < start bus %u, ignored\n",
                 i, a[i].end_bus_number, a[i].start_bus_number);
            continue;
        }
        mcfg_info[mcfg_count++] = (struct acpi_mcfg_info){
            .base = a[i].base_address, .segment = a[i].pci_segment_group,
            .start_bus = a[i].start_bus_number, .end_bus = a[i].end_bus_number };
        kprintf("acpi: MCFG segment %u buses %02x-%02x ECAM at %#llx\n", a[i].pci_segment_group,
                a[i].start_bus_number, a[i].end_bus_number,
                (unsigned long long)a[i].base_address);
    }
}

bool acpi_mcfg(unsigned index, struct acpi_mcfg_info *out)
{
    if (index >= mcfg_count)
        return false;
    *out = mcfg_info[index];
    return true;
}

/* ---- SPCR ---------------------------------------------------------------- */

static uint32_t spcr_baud(const struct acpi_spcr *s)
{
    if (s->header.revision >= 4 && s->header.length >= offsetof(struct acpi_spcr, precise_baud_rate) + 4 &&
        s->precise_baud_rate)
        return s->precise_baud_rate;
    switch (s->configured_baud_rate) {
    case 3: return 9600;
    case 4: return 19200;
    case 6: return 57600;
    case 7: return 115200;
    /* 0 means "as is": serial_init() cannot keep an unknown divisor, so it
     * gets 0 and applies its default. */
    default: return 0;
    }
}

/* The register stride: a UART on 32-bit registers says so in the GAS bit
 * width (subtype 0x12) or access size (dword). */
static unsigned spcr_reg_shift(const struct acpi_gas *gas)
{
    if (gas->register_bit_width == 32 || gas->access_size == 3)
        return 2;
    if (gas->register_bit_width == 16 || gas->access_size == 2)
        return 1;
    return 0;
}

bool acpi_parse_spcr(const struct acpi_sdt_header *table, struct serial_port *out)
{
    if (!table || table->length < ACPI_SPCR_REV2_LEN)
        return false;
    const struct acpi_spcr *s = (const struct acpi_spcr *)table;
    if (s->interface_type != ACPI_DBG2_16550_COMPATIBLE &&
        s->interface_type != ACPI_DBG2_16550_SUBSET &&
        s->interface_type != ACPI_DBG2_16550_WITH_GAS)
        return false;
    /* SPCR: a base address of 0 means console redirection is disabled. */
    if (!s->base_address.address)
        return false;
    memset(out, 0, sizeof(*out));
    out->baud = spcr_baud(s);
    out->base = s->base_address.address;
    switch (s->base_address.address_space_id) {
    case ACPI_GAS_SPACE_SYSTEM_IO:
        if (out->base > 0xfff8)
            return false;
        out->mmio = false;
        return true;
    case ACPI_GAS_SPACE_SYSTEM_MEMORY:
        out->mmio = true;
        out->reg_shift = spcr_reg_shift(&s->base_address);
        out->regs = (volatile uint8_t *)mmio_map(out->base, 8u << out->reg_shift);
        return out->regs != NULL;
    default:
        return false;
    }
}

bool acpi_spcr_console(struct serial_port *out)
{
    return acpi_parse_spcr(acpi_find_table("SPCR", 0), out);
}

bool acpi_console_from_spcr(void)
{
    struct serial_port port;
    if (!acpi_spcr_console(&port))
        return false;
    kprintf("acpi: SPCR console: 16550 at %s %#llx, stride %u, %u baud; switching\n",
            port.mmio ? "mmio" : "io", (unsigned long long)port.base, 1u << port.reg_shift,
            port.baud ? port.baud : 115200);
    if (!console_configure(&port)) {
        klog(LOG_WARN, "acpi: no UART answers at the SPCR address; console unchanged\n");
        return false;
    }
    kprintf("acpi: console now on the SPCR UART\n");
    return true;
}

/* ---- HPET and FADT ------------------------------------------------------- */

static void hpet_parse(const struct acpi_sdt_header *table)
{
    if (!table || table->length < sizeof(struct acpi_hpet))
        return;
    const struct acpi_hpet *h = (const struct acpi_hpet *)table;
    /* The event timer block is memory mapped (HPET 1.0a §3.2.4). */
    if (h->base_address.address_space_id != ACPI_GAS_SPACE_SYSTEM_MEMORY) {
        klog(LOG_WARN, "acpi: HPET base is in address space %u, not memory; ignored\n",
             h->base_address.address_space_id);
        return;
    }
    hpet_base = h->base_address.address;
}

uint64_t acpi_hpet_base(void) { return hpet_base; }

/* ACPI 6.4 §4.8.3.6: the FADT's reset register, in I/O or memory space. */
static void reset_through_fadt(void)
{
    struct acpi_gas reg = reset_reg;
    uint8_t value = reset_value;
    if (reg.address_space_id == ACPI_GAS_SPACE_SYSTEM_IO && reg.address <= 0xffff) {
        kprintf("bareio: rebooting through the ACPI reset register (I/O %#llx <- %#x)\n",
                (unsigned long long)reg.address, value);
        outb((uint16_t)reg.address, value);
    } else if (reg.address_space_id == ACPI_GAS_SPACE_SYSTEM_MEMORY) {
        volatile void *p = mmio_map(reg.address, 1);
        kprintf("bareio: rebooting through the ACPI reset register (memory %#llx <- %#x)\n",
                (unsigned long long)reg.address, value);
        if (p)
            mmio_write8(p, 0, value);
    }
    for (int i = 0; i < 10000000; i++)     /* a moment for the reset to take effect */
        cpu_pause();
}

static void fadt_parse(const struct acpi_sdt_header *table)
{
    if (!table || table->length < offsetof(struct acpi_fadt, reset_value) + 1)
        return;
    const struct acpi_fadt *f = (const struct acpi_fadt *)table;
    if (!(f->flags & ACPI_FADT_RESET_REG_SUP) || !f->reset_reg.address)
        return;
    reset_reg = f->reset_reg;
    reset_value = f->reset_value;
    have_reset_reg = true;
    exit_set_reset_hook(reset_through_fadt);
}

bool acpi_reset_register(struct acpi_gas *reg, uint8_t *value)
{
    if (!have_reset_reg)
        return false;
    *reg = reset_reg;
    *value = reset_value;
    return true;
}

/* ---- init ---------------------------------------------------------------- */

static const struct acpi_sdt_header *root_select(const struct acpi_rsdp *r)
{
    rsdp_info.extended_checksum_ok = false;
    if (r->revision >= 2) {
        uint32_t len = r->length;
        /* The extended checksum covers `length` bytes; a copy only has 36. */
        rsdp_info.extended_checksum_ok = len >= sizeof(*r) && len <= 4096 &&
            (rsdp_info.phys || len == sizeof(*r)) && acpi_checksum(r, len) == 0;
        if (rsdp_info.extended_checksum_ok && r->xsdt_address) {
            const struct acpi_sdt_header *x = root_table(r->xsdt_address, "XSDT");
            if (x) {
                rsdp_info.root_phys = r->xsdt_address;
                rsdp_info.using_xsdt = true;
                return x;
            }
            klog(LOG_WARN, "acpi: XSDT unusable, falling back to the RSDT\n");
        } else if (!rsdp_info.extended_checksum_ok) {
            klog(LOG_WARN, "acpi: RSDP extended checksum bad; using the RSDT\n");
        }
    }
    if (!r->rsdt_address)
        return NULL;
    rsdp_info.root_phys = r->rsdt_address;
    rsdp_info.using_xsdt = false;
    return root_table(r->rsdt_address, "RSDT");
}

bool acpi_init(void)
{
    const struct acpi_rsdp *r = rsdp_find();
    if (!r) {
        klog(LOG_WARN, "acpi: no RSDP found (boot loader copy, EBDA, 0xe0000-0xfffff)\n");
        return false;
    }
    char oem[7];
    acpi_string(oem, r->oem_id, 6);
    rsdp_info.found = true;
    rsdp_info.revision = r->revision;
    rsdp_info.checksum_ok = true;   /* rsdp_candidate() checked it */
    if (rsdp_info.phys)
        kprintf("acpi: RSDP rev %u %s from %s at %#llx\n", r->revision, oem, rsdp_info.source,
                (unsigned long long)rsdp_info.phys);
    else
        kprintf("acpi: RSDP rev %u %s from the %s copy\n", r->revision, oem, rsdp_info.source);
    const struct acpi_sdt_header *root = root_select(r);
    if (!root) {
        klog(LOG_WARN, "acpi: no usable XSDT or RSDT\n");
        return false;
    }
    root_walk(root, rsdp_info.using_xsdt);
    dsdt_add();

    have_madt = acpi_parse_madt(acpi_find_table("APIC", 0), &madt_info);
    if (have_madt)
        kprintf("acpi: MADT %u cpu(s), LAPIC at %#llx, %u I/O APIC(s)\n", madt_info.cpu_count,
                (unsigned long long)madt_info.lapic_address, madt_info.ioapic_count);
    mcfg_parse(acpi_find_table("MCFG", 0));
    hpet_parse(acpi_find_table("HPET", 0));
    fadt_parse(acpi_find_table("FACP", 0));
    return true;
}
