/* SPDX-License-Identifier: MIT */
/* kernel/spinlock.c — a test-and-set lock word holding the holder's CPU
 * index + 1, with a bounded wait (kernel/spinlock.h). Fairness does not
 * matter here: every lock guards a few stores, held for microseconds. The
 * bound is checked every 4096 spins against the clock, which is read-only
 * after calibration and takes no lock of its own. */
#include "kernel/spinlock.h"
#include "kernel/cpu.h"
#include "kernel/exit.h"
#include "kernel/io.h"
#include "kernel/time.h"

uint64_t spin_lock(struct spinlock *lock)
{
    uint64_t flags = irq_save();
    uint32_t me = cpu_index() + 1;
    if (__atomic_load_n(&lock->holder, __ATOMIC_RELAXED) == me)
        panic("spinlock %s: taken again by cpu %u, which holds it", lock->name, me - 1);
    uint64_t deadline = 0;
    for (uint32_t spins = 0;; spins++) {
        uint32_t expected = 0;
        if (__atomic_load_n(&lock->holder, __ATOMIC_RELAXED) == 0 &&
            __atomic_compare_exchange_n(&lock->holder, &expected, me, false, __ATOMIC_ACQUIRE,
                                        __ATOMIC_RELAXED))
            return flags;
        if ((spins & 4095) == 0) {
            if (!deadline)
                deadline = deadline_after_ms(SPIN_LOCK_BOUND_MS);
            else if (deadline_passed(deadline))
                panic("spinlock %s: held by cpu %u for more than %u ms (cpu %u waiting)", lock->name,
                      __atomic_load_n(&lock->holder, __ATOMIC_RELAXED) - 1, SPIN_LOCK_BOUND_MS, me - 1);
        }
        cpu_pause();
    }
}

void spin_unlock(struct spinlock *lock, uint64_t flags)
{
    __atomic_store_n(&lock->holder, 0, __ATOMIC_RELEASE);
    irq_restore(flags);
}

bool spin_held(const struct spinlock *lock)
{
    return __atomic_load_n(&lock->holder, __ATOMIC_RELAXED) == cpu_index() + 1;
}
