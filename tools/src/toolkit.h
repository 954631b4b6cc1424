/* SPDX-License-Identifier: MIT */
/* tools/src/toolkit.h — what tools/mkscratch and tools/verify-image share
 * beyond lib/: reading 32 hex digits (mkscratch --uuid, verify-image
 * --identity) and the one way a tool gives up, a message and an exit status.
 * Pure but for tool_fail(); it defines functions only, so the fuzz targets,
 * which link every tools/src file that is not a program, link it too. */
#ifndef TOOLS_TOOLKIT_H
#define TOOLS_TOOLKIT_H
#include <stdbool.h>
#include <stdint.h>

/* The program's name, the prefix of its messages: main() sets it first. */
extern const char *tool_name;

/* "NAME: MESSAGE" and a line end on stderr, then exit(status). */
void tool_fail(int status, const char *fmt, ...) __attribute__((format(printf, 2, 3), noreturn));

/* 32 hex digits of either case into out[0..16), the first two into out[0];
 * '-' between them is skipped, so a UUID may be written with its dashes.
 * False for any other byte or another number of digits (out is then
 * unspecified). */
bool tool_parse_hex16(const char *text, uint8_t out[16]);

#endif
