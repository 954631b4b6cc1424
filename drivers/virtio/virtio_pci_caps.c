/* SPDX-License-Identifier: MIT */
/* drivers/virtio/virtio_pci_caps.c — finding the virtio structures of a PCI
 * function (Virtio 1.2 §4.1.4) in an image of its configuration space: the
 * vendor-specific capabilities (ID 09h) name the BAR, offset and length of
 * the common configuration, notification, ISR and device configuration
 * structures. Pure (no configuration cycles: the caller reads the 256 bytes),
 * so a malformed or looped list is host-tested (tests/host/test_virtio.c). A
 * function with no virtio capability at all is a legacy device (§4.1.5.1.1.1:
 * a non-transitional driver MUST then fail gracefully). */
#include "drivers/virtio/virtio.h"
#include "lib/format.h"

#define PCI_STATUS_OFFSET       0x06
#define PCI_STATUS_CAP_LIST     0x10
#define PCI_CAP_POINTER         0x34
#define PCI_CAP_FIRST           0x40    /* capabilities live after the header */
#define PCI_CAP_ID_VENDOR_SPECIFIC 0x09
#define CAP_WALK_MAX            48      /* 192 bytes of capabilities, 4 at least each */

const char *virtio_pci_cap_name(uint8_t cfg_type)
{
    switch (cfg_type) {
    case VIRTIO_PCI_CAP_COMMON_CFG: return "common cfg";
    case VIRTIO_PCI_CAP_NOTIFY_CFG: return "notify cfg";
    case VIRTIO_PCI_CAP_ISR_CFG: return "ISR";
    case VIRTIO_PCI_CAP_DEVICE_CFG: return "device cfg";
    case VIRTIO_PCI_CAP_PCI_CFG: return "PCI cfg access";
    case VIRTIO_PCI_CAP_SHARED_MEMORY_CFG: return "shared memory";
    case VIRTIO_PCI_CAP_VENDOR_CFG: return "vendor data";
    default: return "reserved type";
    }
}

static bool known_type(uint8_t cfg_type)
{
    return (cfg_type >= VIRTIO_PCI_CAP_COMMON_CFG && cfg_type <= VIRTIO_PCI_CAP_PCI_CFG) ||
           cfg_type == VIRTIO_PCI_CAP_SHARED_MEMORY_CFG || cfg_type == VIRTIO_PCI_CAP_VENDOR_CFG;
}

static uint32_t read32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* The slot a structure type fills, NULL for the types the driver does not use. */
static struct virtio_pci_region *slot_of(struct virtio_pci_layout *out, uint8_t cfg_type)
{
    switch (cfg_type) {
    case VIRTIO_PCI_CAP_COMMON_CFG: return &out->common;
    case VIRTIO_PCI_CAP_NOTIFY_CFG: return &out->notify;
    case VIRTIO_PCI_CAP_ISR_CFG: return &out->isr;
    case VIRTIO_PCI_CAP_DEVICE_CFG: return &out->device;
    default: return NULL;
    }
}

/* Why a capability of a type the driver uses cannot serve; NULL when it can. */
static const char *unusable(const uint8_t *cap, uint8_t cap_len,
                            const struct virtio_pci_bar_info bars[6], char *buf, size_t size)
{
    uint8_t type = cap[3], bar = cap[4];
    uint32_t offset = read32(cap + 8), length = read32(cap + 12);
    uint32_t min_length = type == VIRTIO_PCI_CAP_COMMON_CFG ? VIRTIO_PCI_COMMON_CFG_MIN_LENGTH
                        : type == VIRTIO_PCI_CAP_NOTIFY_CFG ? 2 : 1;
    uint32_t align = type == VIRTIO_PCI_CAP_NOTIFY_CFG ? 2 : type == VIRTIO_PCI_CAP_ISR_CFG ? 1 : 4;

    if (bar > 5)
        snprintf(buf, size, "reserved bar value %u", bar);
    else if (!bars[bar].memory)
        snprintf(buf, size, "BAR%u is not an implemented memory BAR", bar);
    else if ((uint64_t)offset + length > bars[bar].size)
        snprintf(buf, size, "offset 0x%x + length 0x%x runs past BAR%u (%llu bytes)", offset,
                 length, bar, (unsigned long long)bars[bar].size);
    else if (length < min_length)
        snprintf(buf, size, "length %u is shorter than the %u bytes of the structure", length,
                 min_length);
    else if (offset % align)
        snprintf(buf, size, "offset 0x%x is not %u-byte aligned", offset, align);
    else if (type == VIRTIO_PCI_CAP_NOTIFY_CFG && cap_len < sizeof(struct virtio_pci_notify_cap))
        snprintf(buf, size, "cap_len %u leaves out notify_off_multiplier", cap_len);
    else
        return NULL;
    return buf;
}

/* One vendor-specific capability at config[ptr]. */
static void take_cap(const uint8_t config[256], uint8_t ptr,
                     const struct virtio_pci_bar_info bars[6], struct virtio_pci_layout *out,
                     char *first_why, size_t why_size)
{
    const uint8_t *cap = config + ptr;
    uint8_t cap_len = cap[2], type = cap[3];
    char reason[96];

    /* A vendor capability too short for virtio_pci_cap, or one that would
     * run off the end of configuration space, is someone else's. */
    if (cap_len < sizeof(struct virtio_pci_cap) || ptr + (unsigned)cap_len > 256 ||
        !known_type(type))
        return;
    out->virtio_caps++;
    struct virtio_pci_region *slot = slot_of(out, type);
    if (!slot || slot->present) {   /* not a structure bareio uses, or a later instance */
        out->passed_over++;
        return;
    }
    const char *why = unusable(cap, cap_len, bars, reason, sizeof(reason));
    if (why) {
        out->passed_over++;
        if (!first_why[0])
            snprintf(first_why, why_size, "%s capability at 0x%02x passed over: %s",
                     virtio_pci_cap_name(type), ptr, why);
        return;
    }
    *slot = (struct virtio_pci_region){ .present = true, .bar = cap[4], .cap_offset = ptr,
                                        .offset = read32(cap + 8), .length = read32(cap + 12) };
    if (type == VIRTIO_PCI_CAP_NOTIFY_CFG)
        out->notify_off_multiplier = read32(cap + 16);
}

enum virtio_pci_verdict virtio_pci_parse_layout(const uint8_t config[256],
                                                const struct virtio_pci_bar_info bars[6],
                                                struct virtio_pci_layout *out, char *why,
                                                size_t why_size)
{
    char passed[160] = "";

    *out = (struct virtio_pci_layout){ 0 };
    if (why_size)
        why[0] = '\0';
    if (config[PCI_STATUS_OFFSET] & PCI_STATUS_CAP_LIST) {
        uint8_t ptr = config[PCI_CAP_POINTER] & 0xfc;
        for (unsigned n = 0; n < CAP_WALK_MAX && ptr >= PCI_CAP_FIRST; n++) {
            if (config[ptr] == PCI_CAP_ID_VENDOR_SPECIFIC)
                take_cap(config, ptr, bars, out, passed, sizeof(passed));
            ptr = config[ptr + 1] & 0xfc;
        }
    }
    if (out->virtio_caps == 0) {
        snprintf(why, why_size, "no virtio vendor-specific capability (common, notify, ISR, "
                 "device cfg)");
        return VIRTIO_PCI_LEGACY_ONLY;
    }
    const char *missing = !out->common.present ? "common cfg" : !out->notify.present ? "notify cfg"
                        : !out->isr.present ? "ISR" : !out->device.present ? "device cfg" : NULL;
    if (!missing)
        return VIRTIO_PCI_MODERN;
    if (passed[0])
        snprintf(why, why_size, "no usable %s capability (%s)", missing, passed);
    else
        snprintf(why, why_size, "no %s capability among its %u virtio capabilities", missing,
                 out->virtio_caps);
    return VIRTIO_PCI_UNUSABLE;
}
