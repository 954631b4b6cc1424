/* SPDX-License-Identifier: MIT */
/* drivers/virtio/virtio_features.c — feature bits and the device status
 * field in words (Virtio 1.2 §2.1, §2.2, §6), for boot lines, failure
 * records and refusals. Pure: host-tested in tests/host/test_virtio.c. The
 * device-type bits (0..23) are named by the caller's table, the reserved
 * bits (24..41) here. */
#include "drivers/virtio/virtio.h"
#include "lib/format.h"

static const char *reserved_name(unsigned bit)
{
    switch (bit) {
    case VIRTIO_F_NOTIFY_ON_EMPTY: return "NOTIFY_ON_EMPTY";
    case VIRTIO_F_ANY_LAYOUT: return "ANY_LAYOUT";
    case VIRTIO_F_INDIRECT_DESC: return "INDIRECT_DESC";
    case VIRTIO_F_EVENT_IDX: return "EVENT_IDX";
    case VIRTIO_F_VERSION_1: return "VERSION_1";
    case VIRTIO_F_ACCESS_PLATFORM: return "ACCESS_PLATFORM";
    case VIRTIO_F_RING_PACKED: return "RING_PACKED";
    case VIRTIO_F_IN_ORDER: return "IN_ORDER";
    case VIRTIO_F_ORDER_PLATFORM: return "ORDER_PLATFORM";
    case VIRTIO_F_SR_IOV: return "SR_IOV";
    case VIRTIO_F_NOTIFICATION_DATA: return "NOTIFICATION_DATA";
    case VIRTIO_F_NOTIF_CONFIG_DATA: return "NOTIF_CONFIG_DATA";
    case VIRTIO_F_RING_RESET: return "RING_RESET";
    case VIRTIO_F_ADMIN_VQ: return "ADMIN_VQ";
    default: return NULL;
    }
}

/* Appends `word` (with a blank before it unless first); keeps the buffer
 * terminated when it runs out. */
static void append(char *buf, size_t size, size_t *len, const char *word)
{
    int n = snprintf(buf + *len, size - *len, "%s%s", *len ? " " : "", word);
    if (n > 0)
        *len = *len + (size_t)n < size ? *len + (size_t)n : size - 1;
}

void virtio_feature_words(uint64_t features, const virtio_device_feature_names *names, char *buf,
                          size_t size)
{
    size_t len = 0;
    char bit_word[12];

    if (!size)
        return;
    buf[0] = '\0';
    for (unsigned bit = 0; bit < 64; bit++) {
        if (!(features & VIRTIO_BIT(bit)))
            continue;
        const char *name = bit < 24 ? (names ? (*names)[bit] : NULL) : reserved_name(bit);
        if (!name) {
            snprintf(bit_word, sizeof(bit_word), "bit%u", bit);
            name = bit_word;
        }
        append(buf, size, &len, name);
    }
    if (!len)
        snprintf(buf, size, "none");
}

void virtio_status_describe(uint8_t status, char *buf, size_t size)
{
    static const struct { uint8_t bit; const char *name; } bits[] = {
        { VIRTIO_STATUS_ACKNOWLEDGE, "ACKNOWLEDGE" },
        { VIRTIO_STATUS_DRIVER, "DRIVER" },
        { VIRTIO_STATUS_FEATURES_OK, "FEATURES_OK" },
        { VIRTIO_STATUS_DRIVER_OK, "DRIVER_OK" },
        { VIRTIO_STATUS_DEVICE_NEEDS_RESET, "DEVICE_NEEDS_RESET (the device hit an error it "
                                            "cannot recover from)" },
        { VIRTIO_STATUS_FAILED, "FAILED (the driver gave up on the device)" },
    };
    size_t len = 0;
    char head[8];

    if (!size)
        return;
    if (status == 0xff) {
        snprintf(buf, size, "0xff (all ones: the device does not answer)");
        return;
    }
    if (status == 0) {
        snprintf(buf, size, "0x00 (reset)");
        return;
    }
    buf[0] = '\0';
    snprintf(head, sizeof(head), "0x%02x", status);
    append(buf, size, &len, head);
    uint8_t known = 0;
    for (unsigned i = 0; i < sizeof(bits) / sizeof(bits[0]); i++) {
        known |= bits[i].bit;
        if (status & bits[i].bit)
            append(buf, size, &len, bits[i].name);
    }
    if (status & (uint8_t)~known) {
        snprintf(head, sizeof(head), "0x%02x", status & (uint8_t)~known);
        append(buf, size, &len, "reserved bits");
        append(buf, size, &len, head);
    }
}
