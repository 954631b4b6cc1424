/* SPDX-License-Identifier: MIT */
/* kernel/smbios.h — which machine this is (issue 14): the SMBIOS identity
 * (lib/smbios.h) found through the Multiboot2 SMBIOS tag or the legacy scan
 * of the BIOS F segment (0xF0000-0xFFFFF, 16-byte steps, the 3.0 entry point
 * preferred), the CPU's brand string and the memory bareio can use, as lines
 * of words for the report's head. */
#ifndef KERNEL_SMBIOS_H
#define KERNEL_SMBIOS_H
#include <stdbool.h>

/* Calls line() once per line ("system: ...", "board: ...", "bios: ...",
 * "cpu: ..., memory: ...", or why there are no SMBIOS tables). */
void machine_describe(void (*line)(void *ctx, const char *text), void *ctx);

struct smbios_identity;
/* The SMBIOS identity for the manifest (tests/harness/dio.c): false when the
 * machine has no valid SMBIOS tables (*out is then all empty strings). */
bool machine_identity(struct smbios_identity *out);

#endif
