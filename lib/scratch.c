/* SPDX-License-Identifier: MIT */
/* lib/scratch.c — the bareio scratch label (format in lib/scratch.h). */
#include "lib/scratch.h"
#include "lib/crc.h"
#include "lib/endian.h"
#include "lib/string.h"

const char *scratch_status_name(enum scratch_status status)
{
    switch (status) {
    case SCRATCH_OK: return "scratch label";
    case SCRATCH_NO_LABEL: return "no scratch label";
    case SCRATCH_BAD_CRC: return "scratch label damaged (CRC-32C mismatch)";
    case SCRATCH_BAD_VERSION: return "scratch label of an unknown version";
    case SCRATCH_BAD_RANGE: return "scratch label with an impossible data range";
    }
    return "?";
}

enum scratch_status scratch_label_parse(const void *first512, uint64_t device_bytes,
                                        struct scratch_label *out)
{
    const uint8_t *p = first512;

    if (memcmp(p, SCRATCH_MAGIC, 16) != 0)
        return SCRATCH_NO_LABEL;
    if (crc32c(p, 508) != le32_get(p + 508))
        return SCRATCH_BAD_CRC;
    if (le32_get(p + 16) != SCRATCH_VERSION || le32_get(p + 20) != SCRATCH_LABEL_SIZE)
        return SCRATCH_BAD_VERSION;

    uint64_t offset = le64_get(p + 24), size = le64_get(p + 32);
    if (offset < SCRATCH_LABEL_SIZE || offset % 4096 != 0 || size % 4096 != 0)
        return SCRATCH_BAD_RANGE;
    if (device_bytes) {
        if (offset >= device_bytes)
            return SCRATCH_BAD_RANGE;
        if (size && (size > device_bytes || offset > device_bytes - size))
            return SCRATCH_BAD_RANGE;
    } else if (size && offset + size < offset) {
        return SCRATCH_BAD_RANGE;
    }
    memcpy(out->uuid, p + 40, 16);
    out->data_offset = offset;
    out->data_size = size;
    out->created = le64_get(p + 56);
    memcpy(out->note, p + 64, 64);
    out->note[64] = '\0';
    return SCRATCH_OK;
}

void scratch_label_build(void *buf512, const struct scratch_label *label)
{
    uint8_t *p = buf512;

    memset(p, 0, SCRATCH_LABEL_SIZE);
    memcpy(p, SCRATCH_MAGIC, 16);
    le32_put(p + 16, SCRATCH_VERSION);
    le32_put(p + 20, SCRATCH_LABEL_SIZE);
    le64_put(p + 24, label->data_offset);
    le64_put(p + 32, label->data_size);
    memcpy(p + 40, label->uuid, 16);
    le64_put(p + 56, label->created);
    memcpy(p + 64, label->note, strnlen(label->note, 64));
    le32_put(p + 508, crc32c(p, 508));
}
