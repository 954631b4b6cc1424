/* SPDX-License-Identifier: MIT */
/* tests/host/fake/pci.c — drivers/pci/pci.h for the host: functions a test
 * adds (fake_pci_add), each with a 4 KiB configuration space (COMMAND
 * writable, STATUS read-only here) and one memory BAR that is a model's
 * register window. No MSI or MSI-X capability (the drivers poll) unless a
 * test gives a function one (fake_msix_give): then MSI-X entries are
 * recorded as enabled and routed (fake_msix), and no message is ever sent. */
#include "tests/host/fake/fake.h"
#include "drivers/pci/pci.h"
#include "kernel/smp.h"

#define MAX_FUNCTIONS 8

static struct fake_function {
    struct pci_device dev;
    uint8_t config[4096];
} functions[MAX_FUNCTIONS];
static unsigned function_count;

struct pci_device *fake_pci_add(uint8_t class_code, uint8_t subclass, uint8_t prog_if,
                                unsigned bar, volatile void *region, uint64_t size)
{
    if (function_count == MAX_FUNCTIONS || bar >= 6)
        return NULL;
    struct fake_function *f = &functions[function_count];
    struct pci_device *d = &f->dev;
    d->bus = 0;
    d->device = (uint8_t)(function_count + 1);
    d->vendor_id = 0x1b36;      /* Red Hat's id for emulated devices, as QEMU's */
    d->device_id = (uint16_t)(0x100 + function_count);
    d->class_code = class_code;
    d->subclass = subclass;
    d->prog_if = prog_if;
    d->bar_count = 6;
    d->bar[bar].type = PCI_BAR_MEM32;
    d->bar[bar].phys = (uint64_t)(uintptr_t)region;
    d->bar[bar].size = size;
    f->config[PCI_VENDOR_ID] = 0x36;
    f->config[PCI_VENDOR_ID + 1] = 0x1b;
    f->config[PCI_CLASS_CODE] = class_code;
    f->config[PCI_SUBCLASS] = subclass;
    f->config[PCI_PROG_IF] = prog_if;
    function_count++;
    return d;
}

struct pci_device *fake_pci_add_at(uint8_t device, uint8_t function, uint16_t vendor_id,
                                   uint16_t device_id, uint8_t class_code, uint8_t subclass)
{
    if (function_count == MAX_FUNCTIONS)
        return NULL;
    struct fake_function *f = &functions[function_count++];
    struct pci_device *d = &f->dev;
    d->device = device;
    d->function = function;
    d->vendor_id = vendor_id;
    d->device_id = device_id;
    d->class_code = class_code;
    d->subclass = subclass;
    d->bar_count = 6;
    f->config[PCI_VENDOR_ID] = (uint8_t)vendor_id;
    f->config[PCI_VENDOR_ID + 1] = (uint8_t)(vendor_id >> 8);
    f->config[PCI_CLASS_CODE] = class_code;
    f->config[PCI_SUBCLASS] = subclass;
    return d;
}

struct pci_device *pci_find_address(uint16_t segment, uint8_t bus, uint8_t device,
                                    uint8_t function)
{
    for (unsigned i = 0; i < function_count; i++) {
        struct pci_device *d = &functions[i].dev;
        if (d->segment == segment && d->bus == bus && d->device == device &&
            d->function == function)
            return d;
    }
    return NULL;
}

static struct fake_function *function_of(const struct pci_device *dev)
{
    for (unsigned i = 0; i < function_count; i++)
        if (&functions[i].dev == dev)
            return &functions[i];
    return NULL;
}

size_t pci_device_count(void) { return function_count; }
struct pci_device *pci_device_at(size_t index)
{
    return index < function_count ? &functions[index].dev : NULL;
}

struct pci_device *pci_find_class(uint8_t class_code, uint8_t subclass, int prog_if,
                                  unsigned instance)
{
    for (unsigned i = 0; i < function_count; i++) {
        struct pci_device *d = &functions[i].dev;
        if (d->class_code == class_code && d->subclass == subclass &&
            (prog_if < 0 || d->prog_if == prog_if) && instance-- == 0)
            return d;
    }
    return NULL;
}

uint8_t *fake_pci_config(struct pci_device *dev)
{
    struct fake_function *f = function_of(dev);
    return f ? f->config : NULL;
}

uint8_t pci_read8(const struct pci_device *dev, uint16_t offset)
{
    struct fake_function *f = function_of(dev);
    return f && offset < sizeof(f->config) ? f->config[offset] : 0xff;
}

uint16_t pci_read16(const struct pci_device *dev, uint16_t offset)
{
    return (uint16_t)(pci_read8(dev, offset) | pci_read8(dev, (uint16_t)(offset + 1)) << 8);
}

uint32_t pci_read32(const struct pci_device *dev, uint16_t offset)
{
    return pci_read16(dev, offset) | (uint32_t)pci_read16(dev, (uint16_t)(offset + 2)) << 16;
}

void pci_write8(const struct pci_device *dev, uint16_t offset, uint8_t value)
{
    struct fake_function *f = function_of(dev);
    /* COMMAND is the only register the drivers write. */
    if (f && (offset == PCI_COMMAND || offset == PCI_COMMAND + 1))
        f->config[offset] = value;
}

void pci_write16(const struct pci_device *dev, uint16_t offset, uint16_t value)
{
    pci_write8(dev, offset, (uint8_t)value);
    pci_write8(dev, (uint16_t)(offset + 1), (uint8_t)(value >> 8));
}

void pci_write32(const struct pci_device *dev, uint16_t offset, uint32_t value)
{
    pci_write16(dev, offset, (uint16_t)value);
    pci_write16(dev, (uint16_t)(offset + 2), (uint16_t)(value >> 16));
}

const struct pci_bar *pci_get_bar(const struct pci_device *dev, unsigned index)
{
    if (index >= dev->bar_count || dev->bar[index].type == PCI_BAR_NONE)
        return NULL;
    return &dev->bar[index];
}

volatile void *pci_map_bar(const struct pci_device *dev, unsigned index)
{
    const struct pci_bar *bar = pci_get_bar(dev, index);
    if (!bar || bar->type == PCI_BAR_IO)
        return NULL;
    return (volatile void *)(uintptr_t)bar->phys;
}

bool pci_enable(struct pci_device *dev, bool memory, bool io, bool bus_master)
{
    uint16_t cmd = pci_read16(dev, PCI_COMMAND);
    cmd |= (memory ? PCI_COMMAND_MEMORY : 0) | (io ? PCI_COMMAND_IO : 0) |
           (bus_master ? PCI_COMMAND_BUS_MASTER : 0);
    pci_write16(dev, PCI_COMMAND, cmd);
    return true;
}

bool pci_msi_enable(struct pci_device *dev, uint8_t vector)
{
    (void)dev;
    (void)vector;
    return false;
}
void pci_msi_disable(struct pci_device *dev) { (void)dev; }
struct fake_msix_entry fake_msix[FAKE_MSIX_ENTRIES];
uint32_t fake_msix_unreachable_above = UINT32_MAX;

void fake_msix_give(struct pci_device *dev, uint16_t entries)
{
    dev->cap_msix = 0x70;       /* an offset only: nothing reads the capability here */
    dev->msix_table_size = entries;
}

static bool msix_entry_ok(const struct pci_device *dev, uint16_t table_index)
{
    return dev->cap_msix && table_index < dev->msix_table_size && table_index < FAKE_MSIX_ENTRIES;
}

bool pci_msix_enable(struct pci_device *dev, uint16_t table_index, uint8_t vector)
{
    if (!msix_entry_ok(dev, table_index))
        return false;
    /* As the kernel's: aimed at the CPU enabling it, the BSP. */
    fake_msix[table_index] = (struct fake_msix_entry){ .enabled = true, .vector = vector,
                                                       .apic_id = smp_online_apic_id(0) };
    return true;
}
bool pci_msix_mask(struct pci_device *dev, uint16_t table_index, bool masked)
{
    (void)dev;
    (void)table_index;
    (void)masked;
    return false;
}
bool pci_msix_retarget(struct pci_device *dev, uint16_t table_index, uint32_t apic_id)
{
    if (!msix_entry_ok(dev, table_index) || !fake_msix[table_index].enabled ||
        apic_id > fake_msix_unreachable_above)
        return false;
    fake_msix[table_index].apic_id = apic_id;
    fake_msix[table_index].retargets++;
    return true;
}
void pci_msix_disable(struct pci_device *dev) { (void)dev; }
