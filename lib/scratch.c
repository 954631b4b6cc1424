/* lib/scratch.c — the bareio scratch label (format in lib/scratch.h). */
#include "lib/scratch.h"
#include "lib/crc.h"
#include "lib/string.h"

static uint32_t get32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t get64(const uint8_t *p)
{
    return (uint64_t)get32(p) | (uint64_t)get32(p + 4) << 32;
}

static void put32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static void put64(uint8_t *p, uint64_t v)
{
    put32(p, (uint32_t)v);
    put32(p + 4, (uint32_t)(v >> 32));
}

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
    if (crc32c(p, 508) != get32(p + 508))
        return SCRATCH_BAD_CRC;
    if (get32(p + 16) != SCRATCH_VERSION || get32(p + 20) != SCRATCH_LABEL_SIZE)
        return SCRATCH_BAD_VERSION;

    uint64_t offset = get64(p + 24), size = get64(p + 32);
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
    out->created = get64(p + 56);
    memcpy(out->note, p + 64, 64);
    out->note[64] = '\0';
    return SCRATCH_OK;
}

void scratch_label_build(void *buf512, const struct scratch_label *label)
{
    uint8_t *p = buf512;

    memset(p, 0, SCRATCH_LABEL_SIZE);
    memcpy(p, SCRATCH_MAGIC, 16);
    put32(p + 16, SCRATCH_VERSION);
    put32(p + 20, SCRATCH_LABEL_SIZE);
    put64(p + 24, label->data_offset);
    put64(p + 32, label->data_size);
    memcpy(p + 40, label->uuid, 16);
    put64(p + 56, label->created);
    memcpy(p + 64, label->note, strnlen(label->note, 64));
    put32(p + 508, crc32c(p, 508));
}
