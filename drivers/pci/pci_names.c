/* SPDX-License-Identifier: MIT */
/* drivers/pci/pci_names.c — names for PCI class codes, for the boot table.
 *
 * From the PCI Code and ID Assignment Specification 1.11 §1: only the classes
 * a test machine is likely to show; anything else falls back to the base
 * class name, then "Unknown class". Vendor and device names are left out. */
#include "drivers/pci/pci.h"

#define ANY_PROG_IF 0xffff
#define ANY_SUBCLASS 0xffff

struct pci_class_name {
    uint8_t class_code;
    uint16_t subclass;      /* ANY_SUBCLASS: the base class name */
    uint16_t prog_if;       /* ANY_PROG_IF: any */
    const char *name;
};

/* Most specific first within a class: the first match wins. */
static const struct pci_class_name class_names[] = {
    { 0x00, 0x00, ANY_PROG_IF, "Non-VGA unclassified device" },
    { 0x00, 0x01, ANY_PROG_IF, "VGA compatible unclassified device" },
    { 0x00, ANY_SUBCLASS, ANY_PROG_IF, "Unclassified device" },
    { 0x01, 0x00, ANY_PROG_IF, "SCSI storage controller" },
    { 0x01, 0x01, ANY_PROG_IF, "IDE interface" },
    { 0x01, 0x04, ANY_PROG_IF, "RAID bus controller" },
    { 0x01, 0x05, ANY_PROG_IF, "ATA controller" },
    { 0x01, 0x06, 0x01, "SATA controller (AHCI)" },
    { 0x01, 0x06, ANY_PROG_IF, "SATA controller" },
    { 0x01, 0x07, ANY_PROG_IF, "Serial Attached SCSI controller" },
    { 0x01, 0x08, 0x02, "Non-Volatile memory controller (NVMe)" },
    { 0x01, 0x08, ANY_PROG_IF, "Non-Volatile memory controller" },
    { 0x01, 0x80, ANY_PROG_IF, "Mass storage controller" },
    { 0x01, ANY_SUBCLASS, ANY_PROG_IF, "Mass storage controller" },
    { 0x02, 0x00, ANY_PROG_IF, "Ethernet controller" },
    { 0x02, ANY_SUBCLASS, ANY_PROG_IF, "Network controller" },
    { 0x03, 0x00, ANY_PROG_IF, "VGA compatible controller" },
    { 0x03, ANY_SUBCLASS, ANY_PROG_IF, "Display controller" },
    { 0x04, 0x03, ANY_PROG_IF, "Audio device" },
    { 0x04, ANY_SUBCLASS, ANY_PROG_IF, "Multimedia controller" },
    { 0x05, ANY_SUBCLASS, ANY_PROG_IF, "Memory controller" },
    { 0x06, 0x00, ANY_PROG_IF, "Host bridge" },
    { 0x06, 0x01, ANY_PROG_IF, "ISA bridge" },
    { 0x06, 0x04, ANY_PROG_IF, "PCI bridge" },
    { 0x06, 0x80, ANY_PROG_IF, "Bridge" },
    { 0x06, ANY_SUBCLASS, ANY_PROG_IF, "Bridge" },
    { 0x07, 0x00, ANY_PROG_IF, "Serial controller" },
    { 0x07, ANY_SUBCLASS, ANY_PROG_IF, "Communication controller" },
    { 0x08, ANY_SUBCLASS, ANY_PROG_IF, "System peripheral" },
    { 0x0c, 0x03, 0x30, "USB controller (xHCI)" },
    { 0x0c, 0x03, 0x20, "USB controller (EHCI)" },
    { 0x0c, 0x03, ANY_PROG_IF, "USB controller" },
    { 0x0c, 0x05, ANY_PROG_IF, "SMBus" },
    { 0x0c, ANY_SUBCLASS, ANY_PROG_IF, "Serial bus controller" },
    { 0xff, ANY_SUBCLASS, ANY_PROG_IF, "Unassigned class" },
};

const char *pci_class_name(uint8_t class_code, uint8_t subclass, uint8_t prog_if)
{
    for (size_t i = 0; i < sizeof(class_names) / sizeof(class_names[0]); i++) {
        const struct pci_class_name *c = &class_names[i];
        if (c->class_code != class_code)
            continue;
        if (c->subclass != ANY_SUBCLASS && c->subclass != subclass)
            continue;
        if (c->prog_if != ANY_PROG_IF && c->prog_if != prog_if)
            continue;
        return c->name;
    }
    return "Unknown class";
}
