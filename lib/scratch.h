/* SPDX-License-Identifier: MIT */
/* lib/scratch.h — the bareio scratch label: the mark that makes a disk a
 * scratch target the harness may write. Shared by the kernel (which reads it
 * at device registration) and the host tools (tools/mkscratch writes it,
 * tools/verify-image reads it).
 *
 * Layout: the first 512 bytes of the device (LBA 0 for 512-byte and 4096-byte
 * sectors alike), all integers little-endian:
 *
 *   0   magic[16]        "BAREIO-SCRATCH\0\0"
 *   16  version u32      1
 *   20  label_size u32   512
 *   24  data_offset u64  first byte the harness may write (default 1 MiB;
 *                        a multiple of 4096, so it is block-aligned for
 *                        every sector size); the label is below it, so it
 *                        survives every run
 *   32  data_size u64    bytes from data_offset the harness may write;
 *                        0 means "to the end of the device"
 *   40  uuid[16]         the device's identity in data stamps
 *   56  created u64      seconds since 1970 when mkscratch ran (0 if unknown)
 *   64  note[64]         free text, NUL-padded ("made by tools/mkscratch")
 *   128 reserved[380]    zero
 *   508 crc32c u32       CRC-32C of bytes 0..507
 *
 * There is no 0x55AA boot signature at 510, so nothing mistakes the label for
 * an MBR. */
#ifndef LIB_SCRATCH_H
#define LIB_SCRATCH_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SCRATCH_MAGIC "BAREIO-SCRATCH\0\0"
#define SCRATCH_VERSION 1
#define SCRATCH_LABEL_SIZE 512
#define SCRATCH_DEFAULT_DATA_OFFSET (1024u * 1024u)

struct scratch_label {
    uint8_t uuid[16];
    uint64_t data_offset;   /* bytes */
    uint64_t data_size;     /* bytes; 0 = to the end of the device */
    uint64_t created;
    char note[65];
};

enum scratch_status {
    SCRATCH_OK,
    SCRATCH_NO_LABEL,       /* the magic is not there: not a scratch disk */
    SCRATCH_BAD_CRC,        /* magic present, checksum wrong: damaged label */
    SCRATCH_BAD_VERSION,
    SCRATCH_BAD_RANGE,      /* data range unaligned, overlaps the label or
                             * runs past the end of the device */
};
const char *scratch_status_name(enum scratch_status status);

/* Parses the first 512 bytes of a device of `device_bytes` bytes (0: size
 * unknown, range end not checked). On SCRATCH_OK fills *out. */
enum scratch_status scratch_label_parse(const void *first512, uint64_t device_bytes,
                                        struct scratch_label *out);
/* Writes a label into buf[512] (zeroing the rest of it). */
void scratch_label_build(void *buf512, const struct scratch_label *label);

#endif
