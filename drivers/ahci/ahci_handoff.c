/* SPDX-License-Identifier: MIT */
/* drivers/ahci/ahci_handoff.c — the decision rule of the BIOS/OS handoff
 * (AHCI 1.3.1 §10.6.3), kept apart from the register loop in ahci_hba.c so
 * that its bounds can be tested on the host. After the OS sets BOHC.OOS the
 * BIOS has 25 ms to clear BOS, or to set BB (BIOS Busy) to say it is still
 * finishing commands; once BB has been seen the OS waits at least 2 s more.
 * The bound never moves again after that: a BIOS that keeps BB set forever
 * cannot hold the boot. Pure: no hardware access. */
#include "drivers/ahci/ahci.h"

enum ahci_handoff_step ahci_handoff_step(uint32_t bohc, uint64_t elapsed_ms, bool *busy_seen)
{
    if (!(bohc & AHCI_BOHC_BOS))
        return AHCI_HANDOFF_DONE;
    if (bohc & AHCI_BOHC_BB)
        *busy_seen = true;
    if (elapsed_ms >= AHCI_HANDOFF_BOS_MS + (*busy_seen ? AHCI_HANDOFF_BUSY_MS : 0))
        return AHCI_HANDOFF_TIMEOUT;
    return AHCI_HANDOFF_WAIT;
}
