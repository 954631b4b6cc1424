/* SPDX-License-Identifier: MIT */
/* lib/format.h — printf-style formatting without libc, for the console and for
 * building report lines in buffers. Conversions: d i u x X o c s p %, flags
 * - 0 + space #, width and precision (also *), length hh h l ll z j t. */
#ifndef LIB_FORMAT_H
#define LIB_FORMAT_H
#include <stdarg.h>
#include <stddef.h>

typedef void (*format_sink)(void *ctx, char c);

/* Returns the number of characters produced. */
int vformat(format_sink sink, void *ctx, const char *fmt, va_list ap);
int vsnprintf(char *buf, size_t size, const char *fmt, va_list ap);
int snprintf(char *buf, size_t size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Copies src[0..len) into dst as printable ASCII — bytes 0x20..0x7e as
 * themselves except '\' (written "\\"), every other byte as "\xNN" — so
 * that text a device or a user supplied (IDENTIFY strings, the command line)
 * can reach the console without control characters or escape sequences.
 * Always terminates dst (size > 0), never cuts an escape in half; returns
 * the length the whole text needs (>= size: it was cut). */
size_t format_escaped(char *dst, size_t size, const void *src, size_t len);

#endif
