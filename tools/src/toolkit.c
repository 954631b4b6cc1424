/* SPDX-License-Identifier: MIT */
/* tools/src/toolkit.c — the helpers tools/mkscratch and tools/verify-image
 * share (toolkit.h). */
#include "tools/src/toolkit.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

const char *tool_name = "bareio tool";

void tool_fail(int status, const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "%s: ", tool_name);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    exit(status);
}

static int hex_digit(char c)
{
    return c >= '0' && c <= '9'   ? c - '0'
           : c >= 'a' && c <= 'f' ? c - 'a' + 10
           : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                  : -1;
}

bool tool_parse_hex16(const char *text, uint8_t out[16])
{
    unsigned n = 0;
    for (const char *p = text; *p; p++) {
        if (*p == '-')
            continue;
        int v = hex_digit(*p);
        if (v < 0 || n >= 32)
            return false;
        out[n / 2] = (uint8_t)(n % 2 ? out[n / 2] | v : v << 4);
        n++;
    }
    return n == 32;
}
