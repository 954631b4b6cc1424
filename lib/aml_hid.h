/* SPDX-License-Identifier: MIT */
/* lib/aml_hid.h — devices of one _HID in a DSDT or SSDT's AML, and the
 * first fixed memory range of each, without an AML interpreter.
 *
 * What it is for: storage that is not on PCI (QEMU microvm's virtio-mmio
 * transports, _HID "LNRO0005") must still be named by the storage
 * inventory. Firmware declares such a device as DeviceOp with a Name(_HID,
 * "...") string (ACPI 6.4 §6.1.5, §20.2.5.2: NameOp 08h, "_HID", StringPrefix
 * 0Dh, the characters, NUL) and a Name(_CRS, ResourceTemplate) buffer holding
 * a Memory32Fixed descriptor (§6.4.3.4: 86h, length 0009h, the write-enable
 * byte, base and length as 32-bit little-endian). The scan finds each _HID
 * string and the first such descriptor after it and before the next _HID
 * (or the end), which is how every firmware seen lays a device out; a _CRS
 * built by a method is not read (base 0: "not found", never a guess). The
 * bytes come from firmware: every read is bounded by the table. Pure;
 * host-tested (tests/host/test_aml_hid.c). */
#ifndef LIB_AML_HID_H
#define LIB_AML_HID_H
#include <stddef.h>
#include <stdint.h>

struct aml_hid_device {
    uint64_t offset;            /* of its _HID name in the AML */
    uint32_t base, length;      /* its first Memory32Fixed; 0, 0 when none was found */
};

/* Every device whose _HID is the string `hid` (e.g. "LNRO0005"), in AML
 * order: how many there are (also past `max`), the first `max` in out. */
unsigned aml_find_hid(const uint8_t *aml, size_t len, const char *hid, struct aml_hid_device *out,
                      unsigned max);

#endif
