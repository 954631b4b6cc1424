/* SPDX-License-Identifier: MIT */
/* tests/kernel/test_acpi.c — the `acpi` suite: what acpi_init() found on this
 * machine (RSDP, checksums, MADT, MCFG, FADT, HPET) checked against the raw
 * tables and the hardware, and the MADT/SPCR parsers fed hand-built tables so
 * that SPCR handling is tested even though QEMU's x86 machines have no SPCR.
 * On a machine without ACPI (no RSDP) the cases about its tables skip. */
#include "kernel/acpi.h"
#include "kernel/bootinfo.h"
#include "kernel/io.h"
#include "tests/harness/ktest.h"
#include "kernel/memory.h"
#include "lib/string.h"

#define IA32_APIC_BASE          0x1b
#define IA32_APIC_BASE_ADDRESS  0xfffff000ull
#define FADT_FLAGS_OFFSET       112
#define FADT_RESET_VALUE_OFFSET 128
#define FADT_RESET_REG_SUP      (1u << 10)
#define HPET_GCAP_ID            0x00

/* A table under construction: header filled, checksum fixed last. */
struct table_buf {
    uint8_t bytes[256];
    uint32_t len;
};

static void table_begin(struct table_buf *b, const char *sig, uint8_t revision, uint32_t len)
{
    memset(b, 0, sizeof(*b));
    struct acpi_sdt_header *h = (struct acpi_sdt_header *)b->bytes;
    memcpy(h->signature, sig, 4);
    memcpy(h->oem_id, "BAREIO", 6);
    memcpy(h->oem_table_id, "KTEST   ", 8);
    h->revision = revision;
    h->length = len;
    b->len = len;
}

static void put8(struct table_buf *b, uint32_t off, uint8_t v) { b->bytes[off] = v; }
static void put16(struct table_buf *b, uint32_t off, uint16_t v) { memcpy(&b->bytes[off], &v, 2); }
static void put32(struct table_buf *b, uint32_t off, uint32_t v) { memcpy(&b->bytes[off], &v, 4); }
static void put64(struct table_buf *b, uint32_t off, uint64_t v) { memcpy(&b->bytes[off], &v, 8); }

static const struct acpi_sdt_header *table_end(struct table_buf *b)
{
    struct acpi_sdt_header *h = (struct acpi_sdt_header *)b->bytes;
    h->checksum = 0;
    h->checksum = (uint8_t)(0x100 - acpi_checksum(b->bytes, b->len));
    return h;
}

/* ---- a machine without ACPI ---- */

#define BDA_EBDA_SEGMENT        0x40e
#define EBDA_SCAN_LEN           1024
#define BIOS_AREA_START         0xe0000
#define BIOS_AREA_END           0x100000

static bool rsdp_signature_at(const uint8_t *p)
{
    return memcmp(p, "RSD PTR ", 8) == 0 && acpi_checksum(p, 20) == 0;
}

static bool rsdp_in(uint64_t start, uint64_t len)
{
    const uint8_t *area = (const uint8_t *)(uintptr_t)mmio_map(start, len);
    for (uint64_t off = 0; area && off + 20 <= len; off += 16)    /* §5.2.5.1 */
        if (rsdp_signature_at(area + off))
            return true;
    return false;
}

/* Whether the machine has an RSDP, looked for here on its own (the boot
 * loader's copy, the EBDA's first KiB, 0xe0000-0xfffff, ACPI 6.4 §5.2.5.1), so
 * that a machine without ACPI (-M pc,acpi=off) is told apart from an RSDP that
 * acpi_init() missed. */
static bool machine_has_rsdp(void)
{
    if (boot_info.have_rsdp && rsdp_signature_at(boot_info.rsdp))
        return true;
    const uint8_t *bda = (const uint8_t *)(uintptr_t)mmio_map(BDA_EBDA_SEGMENT, 2);
    uint64_t ebda = bda ? (uint64_t)(bda[0] | bda[1] << 8) << 4 : 0;
    if (ebda >= 0x400 && ebda + EBDA_SCAN_LEN <= 0xa0000 && rsdp_in(ebda, EBDA_SCAN_LEN))
        return true;
    return rsdp_in(BIOS_AREA_START, BIOS_AREA_END - BIOS_AREA_START);
}

/* The cases about the machine's tables need them: without an RSDP they skip;
 * an RSDP acpi_init() did not find is a failure. */
static bool tables_or_skip(struct ktest *t)
{
    if (acpi_rsdp()->found)
        return true;
    if (machine_has_rsdp())
        KT_FAIL(t, "the machine has an RSDP, acpi_init() found none");
    else
        ktest_skip(t, "no ACPI: no RSDP on this machine (QEMU -M pc,acpi=off)");
    return false;
}

/* ---- the machine's tables ---- */

static void acpi_rsdp_found_and_valid(struct ktest *t)
{
    const struct acpi_rsdp_info *r = acpi_rsdp();
    if (!tables_or_skip(t))
        return;
    ktest_diag(t, "RSDP rev %u from %s at %#llx, %s at %#llx", r->revision, r->source,
               (unsigned long long)r->phys, r->using_xsdt ? "XSDT" : "RSDT",
               (unsigned long long)r->root_phys);
    /* Check the bytes again here rather than trusting the flag. */
    const uint8_t *bytes = r->phys ? (const uint8_t *)(uintptr_t)mmio_map(r->phys, 36)
                                   : boot_info.rsdp;
    KT_ASSERT(t, bytes != NULL);
    KT_EXPECT(t, memcmp(bytes, "RSD PTR ", 8) == 0);
    KT_EXPECT_EQ(t, acpi_checksum(bytes, 20), 0);
    if (r->revision >= 2 && r->using_xsdt)
        KT_EXPECT_EQ(t, acpi_checksum(bytes, 36), 0);
    if (r->using_xsdt)
        KT_EXPECT(t, r->revision >= 2 && r->extended_checksum_ok);
    KT_EXPECT(t, r->root_phys != 0);
}

static void acpi_every_table_checksums(struct ktest *t)
{
    if (!tables_or_skip(t))
        return;
    unsigned n = acpi_table_count();
    KT_ASSERT(t, n >= 1);
    for (unsigned i = 0; i < n; i++) {
        const struct acpi_table_entry *e = acpi_table_at(i);
        if (!KT_EXPECT(t, e->table != NULL)) {
            ktest_diag(t, "table %u at %#llx could not be mapped", i, (unsigned long long)e->phys);
            continue;
        }
        uint8_t sum = acpi_checksum(e->table, e->table->length);
        if (sum != 0 || !e->checksum_ok)
            KT_FAIL(t, "table %.4s at %#llx: sum %#x, flagged %s", e->table->signature,
                    (unsigned long long)e->phys, sum, e->checksum_ok ? "ok" : "bad");
    }
}

static void acpi_checksum_detects_corruption(struct ktest *t)
{
    struct table_buf b;
    table_begin(&b, "TEST", 1, 64);
    const struct acpi_sdt_header *h = table_end(&b);
    KT_EXPECT_EQ(t, acpi_checksum(h, h->length), 0);
    b.bytes[50] ^= 0x01;
    KT_EXPECT(t, acpi_checksum(h, h->length) != 0);
}

static void acpi_find_table_by_instance(struct ktest *t)
{
    if (!tables_or_skip(t))
        return;
    const struct acpi_sdt_header *facp = acpi_find_table("FACP", 0);
    KT_ASSERT(t, facp != NULL);
    KT_EXPECT(t, memcmp(facp->signature, "FACP", 4) == 0);
    KT_EXPECT(t, acpi_find_table("FACP", 1) == NULL);
    KT_EXPECT(t, acpi_find_table("ZZZZ", 0) == NULL);
}

static void acpi_madt_has_cpu_and_lapic(struct ktest *t)
{
    struct acpi_madt_info m;
    if (!tables_or_skip(t))
        return;
    if (!acpi_find_table("APIC", 0)) {
        ktest_skip(t, "ACPI without a MADT (APIC table)");
        return;
    }
    KT_ASSERT(t, acpi_madt(&m));
    ktest_diag(t, "%u cpu(s), LAPIC %#llx, %u I/O APIC(s), %u override(s)", m.cpu_count,
               (unsigned long long)m.lapic_address, m.ioapic_count, m.override_count);
    KT_EXPECT(t, m.cpu_count >= 1);
    KT_EXPECT(t, m.lapic_address != 0);
    /* The MADT must describe the LAPIC this CPU actually has. */
    KT_EXPECT_EQ(t, m.lapic_address, rdmsr(IA32_APIC_BASE) & IA32_APIC_BASE_ADDRESS);
}

/* Entries: enabled LAPIC, disabled LAPIC, enabled x2APIC, I/O APIC, override,
 * LAPIC address override, then a zero-length entry that must stop the walk. */
static void acpi_madt_parser_reads_every_entry_type(struct ktest *t)
{
    struct table_buf b;
    table_begin(&b, "APIC", 5, 44 + 8 + 8 + 16 + 12 + 10 + 12 + 2 + 8);
    put32(&b, 36, 0xfee00000u);
    put32(&b, 40, 1);                       /* PCAT_COMPAT */
    uint32_t o = 44;
    put8(&b, o, 0); put8(&b, o + 1, 8); put8(&b, o + 3, 0); put32(&b, o + 4, 1); o += 8;
    put8(&b, o, 0); put8(&b, o + 1, 8); put8(&b, o + 3, 1); put32(&b, o + 4, 0); o += 8;
    put8(&b, o, 9); put8(&b, o + 1, 16); put32(&b, o + 4, 300); put32(&b, o + 8, 1); o += 16;
    put8(&b, o, 1); put8(&b, o + 1, 12); put8(&b, o + 2, 7); put32(&b, o + 4, 0xfec00000u);
    put32(&b, o + 8, 24); o += 12;
    put8(&b, o, 2); put8(&b, o + 1, 10); put8(&b, o + 3, 0); put32(&b, o + 4, 2);
    put16(&b, o + 8, 0x5); o += 10;
    put8(&b, o, 5); put8(&b, o + 1, 12); put64(&b, o + 4, 0x1fee00000ull); o += 12;
    put8(&b, o, 1); put8(&b, o + 1, 0);     /* broken: length 0 */
    const struct acpi_sdt_header *h = table_end(&b);

    struct acpi_madt_info m;
    KT_ASSERT(t, acpi_parse_madt(h, &m));
    KT_EXPECT_EQ(t, m.cpu_count, 2);        /* the disabled LAPIC does not count */
    KT_EXPECT(t, m.pcat_compat);
    KT_EXPECT_EQ(t, m.lapic_address, 0x1fee00000ull);
    KT_EXPECT_EQ(t, m.ioapic_count, 1);
    KT_EXPECT_EQ(t, m.ioapic[0].id, 7);
    KT_EXPECT_EQ(t, m.ioapic[0].address, 0xfec00000u);
    KT_EXPECT_EQ(t, m.ioapic[0].gsi_base, 24);
    KT_EXPECT_EQ(t, m.override_count, 1);
    KT_EXPECT_EQ(t, m.override[0].source, 0);
    KT_EXPECT_EQ(t, m.override[0].gsi, 2);
    KT_EXPECT_EQ(t, m.override[0].flags, 0x5);

    /* The CPU list: the enabled LAPIC and the x2APIC, in table order; a
     * short array still gets the total. */
    struct acpi_cpu cpus[2];
    KT_EXPECT_EQ(t, acpi_parse_madt_cpus(h, cpus, 2), 2);
    KT_EXPECT_EQ(t, cpus[0].apic_id, 0);
    KT_EXPECT(t, !cpus[0].x2apic_entry);
    KT_EXPECT_EQ(t, cpus[1].apic_id, 300);
    KT_EXPECT(t, cpus[1].x2apic_entry);
    KT_EXPECT_EQ(t, acpi_parse_madt_cpus(h, cpus, 1), 2);
    KT_EXPECT_EQ(t, acpi_parse_madt_cpus(h, NULL, 0), 2);
}

static void acpi_mcfg_describes_ecam(struct ktest *t)
{
    if (!acpi_find_table("MCFG", 0)) {
        ktest_skip(t, "no MCFG table: this machine has no ECAM (e.g. -M pc)");
        return;
    }
    struct acpi_mcfg_info m;
    KT_ASSERT(t, acpi_mcfg(0, &m));
    ktest_diag(t, "segment %u buses %02x-%02x at %#llx", m.segment, m.start_bus, m.end_bus,
               (unsigned long long)m.base);
    KT_EXPECT(t, m.start_bus <= m.end_bus);
    KT_EXPECT_EQ(t, m.base & 0xfffff, 0);  /* 1 MiB per bus */
    /* Bus start, device 0, function 0 must exist: the host bridge answers. */
    volatile void *f0 = mmio_map(m.base + ((uint64_t)m.start_bus << 20), 4096);
    KT_ASSERT(t, f0 != NULL);
    uint16_t vendor = mmio_read16(f0, 0);
    ktest_diag(t, "function %02x:00.0 vendor %#06x through ECAM", m.start_bus, vendor);
    KT_EXPECT(t, vendor != 0xffff && vendor != 0);
}

static void acpi_fadt_and_dsdt_present(struct ktest *t)
{
    if (!tables_or_skip(t))
        return;
    const struct acpi_sdt_header *fadt = acpi_find_table("FACP", 0);
    KT_ASSERT(t, fadt != NULL);
    KT_EXPECT(t, fadt->length >= 116);     /* the ACPI 1.0 FADT */
    const struct acpi_sdt_header *dsdt = acpi_find_table("DSDT", 0);
    KT_ASSERT(t, dsdt != NULL);
    KT_EXPECT_EQ(t, acpi_checksum(dsdt, dsdt->length), 0);
}

/* acpi_reset_register() must say yes exactly when the raw FADT flags do. */
static void acpi_reset_register_follows_fadt_flags(struct ktest *t)
{
    if (!tables_or_skip(t))
        return;
    const struct acpi_sdt_header *fadt = acpi_find_table("FACP", 0);
    KT_ASSERT(t, fadt != NULL);
    const uint8_t *raw = (const uint8_t *)fadt;
    uint32_t flags = 0;
    memcpy(&flags, raw + FADT_FLAGS_OFFSET, 4);
    bool expected = fadt->length > FADT_RESET_VALUE_OFFSET && (flags & FADT_RESET_REG_SUP);
    struct acpi_gas reg;
    uint8_t value = 0;
    bool got = acpi_reset_register(&reg, &value);
    ktest_diag(t, "FADT flags %#x; reset register %s", flags, got ? "present" : "absent");
    if (got)
        ktest_diag(t, "reset: space %u address %#llx value %#x", reg.address_space_id,
                   (unsigned long long)reg.address, value);
    KT_EXPECT_EQ(t, got, expected);
    if (got) {
        KT_EXPECT(t, reg.address != 0);
        KT_EXPECT_EQ(t, value, raw[FADT_RESET_VALUE_OFFSET]);
    }
}

static void acpi_hpet_base_answers(struct ktest *t)
{
    if (!acpi_find_table("HPET", 0)) {
        KT_EXPECT_EQ(t, acpi_hpet_base(), 0);
        ktest_skip(t, "no HPET table on this machine");
        return;
    }
    uint64_t base = acpi_hpet_base();
    KT_ASSERT(t, base != 0);
    volatile void *regs = mmio_map(base, 1024);
    KT_ASSERT(t, regs != NULL);
    /* GCAP_ID: REV_ID (bits 7:0) is non-zero and the period (63:32) is set. */
    uint64_t gcap = mmio_read64(regs, HPET_GCAP_ID);
    ktest_diag(t, "HPET at %#llx GCAP_ID %#llx", (unsigned long long)base,
               (unsigned long long)gcap);
    KT_EXPECT(t, (gcap & 0xff) != 0);
    KT_EXPECT(t, (gcap >> 32) != 0 && gcap != ~0ull);
}

/* SPCR rev 2 at I/O 0x2f8, 9600 baud. */
static void acpi_spcr_io_port_16550(struct ktest *t)
{
    struct table_buf b;
    table_begin(&b, "SPCR", 2, 80);
    put8(&b, 36, 0x00);                    /* full 16550 */
    put8(&b, 40, 1); put8(&b, 41, 8); put8(&b, 43, 1); put64(&b, 44, 0x2f8);
    put8(&b, 58, 3);                       /* 9600 */
    struct serial_port p;
    KT_ASSERT(t, acpi_parse_spcr(table_end(&b), &p));
    KT_EXPECT(t, !p.mmio);
    KT_EXPECT_EQ(t, p.base, 0x2f8);
    KT_EXPECT_EQ(t, p.baud, 9600);
}

/* SPCR rev 4, 16550 described by a GAS with 32-bit registers in memory, and a
 * precise baud rate that overrides the coded one. */
static void acpi_spcr_mmio32_precise_baud(struct ktest *t)
{
    struct table_buf b;
    table_begin(&b, "SPCR", 4, 88);
    put8(&b, 36, 0x12);
    put8(&b, 40, 0); put8(&b, 41, 32); put8(&b, 43, 3); put64(&b, 44, 0xfed00000u);
    put8(&b, 58, 7);
    put32(&b, 76, 1843200);
    put32(&b, 80, 1500000);
    struct serial_port p;
    KT_ASSERT(t, acpi_parse_spcr(table_end(&b), &p));
    KT_EXPECT(t, p.mmio);
    KT_EXPECT_EQ(t, p.base, 0xfed00000u);
    KT_EXPECT_EQ(t, p.reg_shift, 2);
    KT_EXPECT_EQ(t, p.baud, 1500000);
}

static void acpi_spcr_rejects_non_16550_and_disabled(struct ktest *t)
{
    struct table_buf b;
    struct serial_port p;
    table_begin(&b, "SPCR", 2, 80);
    put8(&b, 36, 0x03);                    /* ARM PL011 */
    put8(&b, 40, 0); put64(&b, 44, 0x9000000);
    KT_EXPECT(t, !acpi_parse_spcr(table_end(&b), &p));
    table_begin(&b, "SPCR", 2, 80);
    put8(&b, 36, 0x00);
    put8(&b, 40, 1); put64(&b, 44, 0);     /* base 0: redirection disabled */
    KT_EXPECT(t, !acpi_parse_spcr(table_end(&b), &p));
    table_begin(&b, "SPCR", 2, 60);        /* truncated */
    put8(&b, 40, 1); put64(&b, 44, 0x3f8);
    KT_EXPECT(t, !acpi_parse_spcr(table_end(&b), &p));
}

static void acpi_spcr_console_matches_table(struct ktest *t)
{
    const struct acpi_sdt_header *spcr = acpi_find_table("SPCR", 0);
    struct serial_port p;
    bool got = acpi_spcr_console(&p);
    if (!spcr) {
        KT_EXPECT(t, !got);
        ktest_skip(t, "no SPCR table (QEMU's x86 machines have none)");
        return;
    }
    struct serial_port q;
    KT_EXPECT_EQ(t, got, acpi_parse_spcr(spcr, &q));
    if (got)
        ktest_diag(t, "SPCR console %s %#llx baud %u", p.mmio ? "mmio" : "io",
                   (unsigned long long)p.base, p.baud);
}

static const struct ktest_case acpi_cases[] = {
    KTEST_CASE(acpi_rsdp_found_and_valid),
    KTEST_CASE(acpi_every_table_checksums),
    KTEST_CASE(acpi_checksum_detects_corruption),
    KTEST_CASE(acpi_find_table_by_instance),
    KTEST_CASE(acpi_madt_has_cpu_and_lapic),
    KTEST_CASE(acpi_madt_parser_reads_every_entry_type),
    KTEST_CASE(acpi_mcfg_describes_ecam),
    KTEST_CASE(acpi_fadt_and_dsdt_present),
    KTEST_CASE(acpi_reset_register_follows_fadt_flags),
    KTEST_CASE(acpi_hpet_base_answers),
    KTEST_CASE(acpi_spcr_io_port_16550),
    KTEST_CASE(acpi_spcr_mmio32_precise_baud),
    KTEST_CASE(acpi_spcr_rejects_non_16550_and_disabled),
    KTEST_CASE(acpi_spcr_console_matches_table),
};
KTEST_SUITE(acpi, 40, acpi_cases);
