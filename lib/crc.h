/* SPDX-License-Identifier: MIT */
/* lib/crc.h — CRC-32 (IEEE 802.3, as zlib/gzip/PNG) and CRC-32C (Castagnoli,
 * as iSCSI/ext4/NVMe). Both reflected, initial value and final xor ~0.
 *
 * The *_update forms continue a checksum the way zlib's crc32() does: start
 * with 0 and feed the previous result back, so
 *   crc32c_update(crc32c(a, n), b, m) == crc32c(a ‖ b, n + m)
 * and crc32c(buf, len) == crc32c_update(0, buf, len). */
#ifndef LIB_CRC_H
#define LIB_CRC_H
#include <stddef.h>
#include <stdint.h>

uint32_t crc32(const void *buf, size_t len);
uint32_t crc32_update(uint32_t crc, const void *buf, size_t len);

uint32_t crc32c(const void *buf, size_t len);
uint32_t crc32c_update(uint32_t crc, const void *buf, size_t len);

#endif
