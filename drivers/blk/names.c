/* SPDX-License-Identifier: MIT */
/* drivers/blk/names.c — the block interface's words: every cause with its
 * remedy, the op names and the size format of boot lines. Pure (no kernel
 * calls), so the request checks and the access rule that use them are
 * host-tested with the same words the kernel prints. */
#include "drivers/blk/blk.h"
#include "lib/format.h"

static const struct {
    const char *name;
    const char *remedy;
} causes[BLK_CAUSE_COUNT] = {
    [BLK_OK] = { "ok", "nothing to do" },
    [BLK_CAUSE_BUS_MASTER_OFF] = { "bus mastering disabled",
        "set PCI COMMAND.BME (bit 2); firmware or a hypervisor left the function unable to DMA" },
    [BLK_CAUSE_BAR_UNASSIGNED] = { "register BAR not assigned",
        "the firmware gave the controller no MMIO window: check the BIOS PCI/above-4G settings" },
    [BLK_CAUSE_NOT_AHCI_MODE] = { "controller not in AHCI mode",
        "set the SATA mode to AHCI in the firmware setup (not IDE/RAID)" },
    [BLK_CAUSE_UNSUPPORTED] = { "unsupported controller version or capability",
        "use a controller that implements what the report names, or extend the driver" },
    [BLK_CAUSE_CONTROLLER_FATAL] = { "controller fatal status",
        "the controller reported a fatal error (NVMe CSTS.CFS / AHCI HBFS): power-cycle it, check firmware" },
    [BLK_CAUSE_NOT_READY] = { "controller or firmware not ready",
        "the device did not become ready within its spec timeout: check power, cabling, firmware" },
    [BLK_CAUSE_IRQ_NOT_DELIVERED] = { "interrupt not delivered",
        "the device completed but no interrupt arrived: check MSI/MSI-X routing, or run with polling" },
    [BLK_CAUSE_MISALIGNED] = { "buffer misaligned",
        "align the buffer as the named controller rule requires" },
    [BLK_CAUSE_DMA_UNREACHABLE] = { "DMA address beyond the controller's reach",
        "place the buffer below 4 GiB: the controller has no 64-bit addressing" },
    [BLK_CAUSE_LBA_RANGE] = { "lba out of range",
        "keep LBA + length within the device's capacity" },
    [BLK_CAUSE_MEDIA] = { "media error",
        "the medium failed at the reported LBA: replace the disk or remap the sector" },
    [BLK_CAUSE_TIMEOUT] = { "device timeout",
        "the command did not complete in time: check the device, or raise blk.timeout= for slow media" },
    [BLK_CAUSE_MISCOMPARE_MISDIRECTED] = { "data miscompare: misdirected write",
        "data written for another LBA came back: suspect LBA translation in the controller or driver" },
    [BLK_CAUSE_MISCOMPARE_LOST] = { "data miscompare: lost write",
        "an older generation came back: a write was acknowledged but never reached the medium" },
    [BLK_CAUSE_MISCOMPARE_TORN] = { "data miscompare: torn write",
        "the block is part new, part old: a write was cut short (power loss, PRD/PRP length bug)" },
    [BLK_CAUSE_MISCOMPARE_CORRUPT] = { "data miscompare: corrupt data",
        "the block's content is damaged: suspect DMA, memory or the medium" },
    [BLK_CAUSE_INVALID] = { "invalid request",
        "the request breaks a rule of the device (length, namespace, op); see the detail" },
    [BLK_CAUSE_READ_ONLY] = { "device is not scratch",
        "mark the disk with tools/mkscratch or name it with allow_write=SERIAL" },
    [BLK_CAUSE_LINK] = { "link or interface error",
        "the SATA link dropped or reported a transport error: check the cable and port" },
    [BLK_CAUSE_ABORTED] = { "aborted by recovery",
        "another command's error reset the port or controller; retry" },
    [BLK_CAUSE_DEVICE_ERROR] = { "device error",
        "the device refused the command; see the decoded status" },
    [BLK_CAUSE_RESOURCE_CONFLICT] = { "resource conflict",
        "the firmware placed a BAR over another device, RAM or a platform window (or where the CPU "
        "cannot address it): update the firmware, enable Above 4G Decoding, or move the card" },
    [BLK_CAUSE_IMPOSSIBLE] = { "impossible capabilities",
        "a value the specification rules out is a firmware or emulator bug: update the device's "
        "firmware (or the emulator) and report the field and value to its maker; bareio leaves "
        "the controller or disk out rather than guess" },
};

const char *blk_cause_name(enum blk_cause cause)
{
    return (unsigned)cause < BLK_CAUSE_COUNT ? causes[cause].name : "unknown cause";
}

const char *blk_cause_remedy(enum blk_cause cause)
{
    return (unsigned)cause < BLK_CAUSE_COUNT ? causes[cause].remedy : "";
}

const char *blk_op_name(enum blk_op op)
{
    static const char *const names[BLK_OP_COUNT] = {
        [BLK_OP_READ] = "read", [BLK_OP_WRITE] = "write", [BLK_OP_FLUSH] = "flush",
        [BLK_OP_TRIM] = "trim", [BLK_OP_WRITE_ZEROES] = "write-zeroes",
    };
    return (unsigned)op < BLK_OP_COUNT ? names[op] : "?";
}

void blk_format_size(char *buf, size_t size, uint64_t bytes)
{
    static const char *const units[] = { "B", "KiB", "MiB", "GiB", "TiB", "PiB" };
    unsigned u = 0;
    uint64_t whole = bytes, frac = 0;

    while (whole >= 1024 && u + 1 < sizeof(units) / sizeof(units[0])) {
        frac = whole % 1024;
        whole /= 1024;
        u++;
    }
    if (frac == 0)
        snprintf(buf, size, "%llu %s", (unsigned long long)whole, units[u]);
    else
        snprintf(buf, size, "%llu.%02llu %s", (unsigned long long)whole,
                 (unsigned long long)(frac * 100 / 1024), units[u]);
}
