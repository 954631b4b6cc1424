/* SPDX-License-Identifier: MIT */
/* kernel/leftout.c — the record of what was left out (kernel/leftout.h).
 * The texts are kept in a fixed table; past it only the count grows, and the
 * readers say how many more there were: the record itself never hides one. */
#include "kernel/leftout.h"
#include "kernel/console.h"
#include "lib/format.h"

#include <stdarg.h>

static char kept[LEFTOUT_KEPT][192];
static unsigned total;

void leftout_report(const char *fmt, ...)
{
    char line[192];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    klog(LOG_ERR, "left out: %s\n", line);
    if (total < LEFTOUT_KEPT)
        snprintf(kept[total], sizeof(kept[total]), "%s", line);
    total++;
}

unsigned leftout_count(void) { return total; }

const char *leftout_at(unsigned i)
{
    return i < total && i < LEFTOUT_KEPT ? kept[i] : NULL;
}
