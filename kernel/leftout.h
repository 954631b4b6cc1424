/* SPDX-License-Identifier: MIT */
/* kernel/leftout.h — what bareio found but does not test because a limit of
 * its own was crossed (a table full, no memory for a device's state): every
 * such case is recorded here, said on the console when it happens, and made
 * a failure by the preflight suite and the dio summary, so a run never ends
 * "all passed" with a device silently left out. Any layer may report (PCI,
 * the drivers, the block layer, the harness); only the harness reads. */
#ifndef KERNEL_LEFTOUT_H
#define KERNEL_LEFTOUT_H

/* Reports whose text is kept (the count goes on past it). */
#define LEFTOUT_KEPT 32

/* Records "what was left out and why" (one line, no newline). */
void leftout_report(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Every report so far, also those whose text no longer fitted. */
unsigned leftout_count(void);
/* The i'th report's text; NULL past the ones kept (the count still says). */
const char *leftout_at(unsigned i);

#endif
