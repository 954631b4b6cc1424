/* SPDX-License-Identifier: MIT */
/* drivers/ahci/ata_identify.c — parses the 256 words of IDENTIFY DEVICE
 * (ATA8-ACS §7.16.7) into what the driver and the boot line need: strings,
 * LBA48 capacity, logical/physical sector size and alignment, NCQ depth,
 * write cache, FUA, TRIM. Pure: no hardware access, tested on the host.
 * Device data is not taken at face value: strings are escaped; a capacity
 * of 0 or a logical sector below 512 bytes, which ATA rules out, is refused
 * as impossible, and one above 64 KiB or not a power of two as unsupported;
 * a capacity beyond what 48-bit LBAs reach is clamped to it (and said so).
 * Leaves out CHS, LBA28-only devices (the driver issues 48-bit commands)
 * and the security/SMART feature words. */
#include "drivers/ahci/ahci.h"
#include "lib/format.h"
#include "lib/string.h"

/* Word numbers. */
#define ID_GENERAL          0
#define ID_SERIAL           10      /* 10 words */
#define ID_FIRMWARE         23      /* 4 words */
#define ID_MODEL            27      /* 20 words */
#define ID_CAPABILITIES     49
#define ID_ADDITIONAL       69
#define ID_QUEUE_DEPTH      75
#define ID_SATA_CAPS        76
#define ID_CMDSET_1         82
#define ID_CMDSET_2         83
#define ID_CMDSET_EXT       84
#define ID_ENABLED_1        85
#define ID_ENABLED_2        86
#define ID_ENABLED_EXT      87
#define ID_LBA48_CAPACITY   100     /* 4 words */
#define ID_DSM_MAX_BLOCKS   105
#define ID_SECTOR_SIZES     106
#define ID_LOGICAL_SIZE     117     /* 2 words, in words */
#define ID_DSM              169
#define ID_ALIGNMENT        209
#define ID_ROTATION         217
#define ID_INTEGRITY        255

#define ID_VALID_MASK       0xc000u /* bits 15:14 == 01b: the word is valid */
#define ID_VALID            0x4000u

static bool word_valid(uint16_t w) { return (w & ID_VALID_MASK) == ID_VALID; }

/* ATA strings hold two characters per word, the first in the high byte;
 * padded with spaces, which are trimmed here (leading ones too: some drives
 * right-justify the serial number). A device may put anything in them, so
 * what reaches `out` is escaped: no control character or escape sequence
 * ever reaches the console, and the allow_write= glob sees what the boot
 * line shows. */
static void ata_string(const uint16_t *words, unsigned nwords, char *out, size_t out_size)
{
    char raw[2 * ATA_MODEL_BYTES];
    unsigned n = 0, lead = 0;

    for (unsigned i = 0; i < nwords && n + 2 <= sizeof(raw); i++) {
        raw[n++] = (char)(words[i] >> 8);
        raw[n++] = (char)(words[i] & 0xff);
    }
    while (n > 0 && (raw[n - 1] == ' ' || raw[n - 1] == '\0'))
        n--;
    while (lead < n && raw[lead] == ' ')
        lead++;
    format_escaped(out, out_size, raw + lead, n - lead);
}

/* Word 255: signature A5h in bits 7:0, and then the 512 bytes sum to zero. */
static bool checksum_ok(const uint16_t words[256], bool *present)
{
    uint8_t sum = 0;
    *present = (words[ID_INTEGRITY] & 0xff) == 0xa5;
    if (!*present)
        return true;
    for (unsigned i = 0; i < 256; i++)
        sum = (uint8_t)(sum + (words[i] & 0xff) + (words[i] >> 8));
    return sum == 0;
}

static enum ata_identify_status parse_sector_sizes(const uint16_t w[256], struct ata_identity *id)
{
    uint16_t sizes = w[ID_SECTOR_SIZES];

    id->logical_words = 256;
    id->logical_size = 512;
    id->physical_size = 512;
    id->alignment = 0;
    if (!word_valid(sizes))
        return ATA_IDENTIFY_OK;
    if (sizes & (1u << 12)) {   /* logical sector longer than 256 words */
        /* Words, not bytes; 64 bits so that a huge value cannot wrap into a
         * plausible one (2 * 80000100h is 512 in 32 bits). */
        id->logical_words = (uint32_t)w[ID_LOGICAL_SIZE] | (uint32_t)w[ID_LOGICAL_SIZE + 1] << 16;
        uint64_t bytes = 2 * (uint64_t)id->logical_words;
        /* Bit 12 says the sector is longer than 256 words: fewer contradicts
         * it, and ATA/ACS has no logical sector below 512 bytes. Exactly 256
         * is taken as the 512 bytes it says. */
        if (bytes < 512)
            return ATA_IDENTIFY_SECTOR_TOO_SMALL;
        /* Legal ATA, but not what the block layer takes (powers of two to
         * 64 KiB). */
        if (bytes > 65536 || (bytes & (bytes - 1)))
            return ATA_IDENTIFY_BAD_SECTOR_SIZE;
        id->logical_size = (uint32_t)bytes;
    }
    id->physical_size = id->logical_size;
    if (sizes & (1u << 13))     /* several logical sectors per physical: 2^(3:0) */
        id->physical_size = id->logical_size << (sizes & 0xf);
    if (word_valid(w[ID_ALIGNMENT]))
        id->alignment = w[ID_ALIGNMENT] & 0x3fff;
    return ATA_IDENTIFY_OK;
}

enum ata_identify_status ata_identify_parse(const uint16_t w[256], struct ata_identity *id)
{
    memset(id, 0, sizeof(*id));
    if (!checksum_ok(w, &id->checksum_present))
        return ATA_IDENTIFY_BAD_CHECKSUM;
    if (w[ID_GENERAL] & (1u << 15))
        return ATA_IDENTIFY_NOT_ATA;
    ata_string(&w[ID_SERIAL], ATA_SERIAL_BYTES / 2, id->serial, sizeof(id->serial));
    ata_string(&w[ID_FIRMWARE], ATA_FIRMWARE_BYTES / 2, id->firmware, sizeof(id->firmware));
    ata_string(&w[ID_MODEL], ATA_MODEL_BYTES / 2, id->model, sizeof(id->model));

    bool cmdset_valid = word_valid(w[ID_CMDSET_2]);
    if (!cmdset_valid || !(w[ID_CMDSET_2] & (1u << 10)))
        return ATA_IDENTIFY_NO_LBA48;
    id->nblocks = (uint64_t)w[ID_LBA48_CAPACITY] | (uint64_t)w[ID_LBA48_CAPACITY + 1] << 16 |
                  (uint64_t)w[ID_LBA48_CAPACITY + 2] << 32 |
                  (uint64_t)w[ID_LBA48_CAPACITY + 3] << 48;
    /* A disk of no sectors has nothing to address: no drive reports it. */
    if (id->nblocks == 0)
        return ATA_IDENTIFY_NO_CAPACITY;
    enum ata_identify_status sizes = parse_sector_sizes(w, id);
    if (sizes != ATA_IDENTIFY_OK)
        return sizes;
    /* Words 100-103 are a QWord, but 48-bit commands cannot address past
     * 2^48 sectors, nor may the capacity in bytes wrap 64 bits (2^48 sectors
     * of 64 KiB do): keep what both allow (a larger count would make the
     * "last LBA" wrap to LBA 0, the label). */
    uint64_t limit = UINT64_MAX / id->logical_size < ATA_LBA48_SECTORS
                         ? UINT64_MAX / id->logical_size : ATA_LBA48_SECTORS;
    id->reported_nblocks = id->nblocks;
    if (id->nblocks > limit) {
        id->nblocks = limit;
        id->capacity_clamped = true;
    }

    /* Word 76 is a SATA word; 0000h and FFFFh mean "not reported". */
    if (w[ID_SATA_CAPS] != 0 && w[ID_SATA_CAPS] != 0xffff && (w[ID_SATA_CAPS] & (1u << 8))) {
        id->ncq = true;
        id->ncq_depth = (w[ID_QUEUE_DEPTH] & 0x1f) + 1u;
    }
    id->write_cache = (w[ID_CMDSET_1] & (1u << 5)) != 0;
    id->write_cache_enabled = id->write_cache && (w[ID_ENABLED_1] & (1u << 5));
    id->flush_ext = (w[ID_CMDSET_2] & (1u << 13)) != 0;
    id->fua = word_valid(w[ID_CMDSET_EXT]) && (w[ID_CMDSET_EXT] & (1u << 6));
    id->trim = (w[ID_DSM] & 1u) != 0;
    if (id->trim) {
        id->trim_deterministic = (w[ID_ADDITIONAL] & (1u << 14)) != 0;
        id->trim_zeroes = id->trim_deterministic && (w[ID_ADDITIONAL] & (1u << 5));
        /* 0 means the device did not say; ACS-2 allows assuming one block. */
        id->dsm_max_blocks = w[ID_DSM_MAX_BLOCKS] ? w[ID_DSM_MAX_BLOCKS] : 1;
    }
    id->rotation = w[ID_ROTATION] == 0xffff ? 0 : w[ID_ROTATION];
    return ATA_IDENTIFY_OK;
}

const char *ata_identify_status_name(enum ata_identify_status status)
{
    switch (status) {
    case ATA_IDENTIFY_OK: return "ok";
    case ATA_IDENTIFY_BAD_CHECKSUM: return "IDENTIFY checksum (word 255) does not sum to zero";
    case ATA_IDENTIFY_NOT_ATA: return "IDENTIFY word 0 bit 15 set: not an ATA device";
    case ATA_IDENTIFY_NO_LBA48: return "no 48-bit addressing (word 83 bit 10), which the driver requires";
    case ATA_IDENTIFY_BAD_SECTOR_SIZE:
        return "logical sector size (words 106, 117-118) is not a power of two in 512..65536";
    case ATA_IDENTIFY_NO_CAPACITY: return "capacity (words 100-103) is 0 sectors";
    case ATA_IDENTIFY_SECTOR_TOO_SMALL:
        return "logical sector size (words 117-118) is below 256 words (512 bytes)";
    }
    return "?";
}

bool ata_identify_status_impossible(enum ata_identify_status status)
{
    return status == ATA_IDENTIFY_NO_CAPACITY || status == ATA_IDENTIFY_SECTOR_TOO_SMALL;
}

enum blk_cause ata_identify_status_cause(enum ata_identify_status status)
{
    if (ata_identify_status_impossible(status))
        return BLK_CAUSE_IMPOSSIBLE;
    switch (status) {
    case ATA_IDENTIFY_OK: return BLK_OK;
    case ATA_IDENTIFY_BAD_CHECKSUM: return BLK_CAUSE_DEVICE_ERROR;
    default: return BLK_CAUSE_UNSUPPORTED;
    }
}

size_t ata_identify_refusal(enum ata_identify_status status, const struct ata_identity *id,
                            char *buf, size_t size)
{
    switch (status) {
    case ATA_IDENTIFY_NO_CAPACITY:
        return (size_t)snprintf(buf, size, BLK_IMPOSSIBLE_WORDS ": IDENTIFY words 100-103 "
                                "(capacity) = %llu sectors", (unsigned long long)id->nblocks);
    case ATA_IDENTIFY_SECTOR_TOO_SMALL:
        return (size_t)snprintf(buf, size, BLK_IMPOSSIBLE_WORDS ": IDENTIFY words 117-118 "
                                "(logical sector size) = %u words (ATA: at least 256)",
                                id->logical_words);
    case ATA_IDENTIFY_BAD_SECTOR_SIZE:
        return (size_t)snprintf(buf, size, "IDENTIFY words 117-118 (logical sector size) = %u "
                                "words (%llu bytes): bareio takes a power of two from 512 to "
                                "65536 bytes", id->logical_words,
                                2 * (unsigned long long)id->logical_words);
    default:
        return (size_t)snprintf(buf, size, "%s", ata_identify_status_name(status));
    }
}
