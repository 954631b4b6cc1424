/* SPDX-License-Identifier: MIT */
/* kernel/spinlock.h — the one lock type shared state takes between CPUs
 * (kernel/spinlock.c).
 *
 * A lock is held with interrupts off on the holder (an interrupt handler on
 * the same CPU must not spin on it) and only around a few memory updates:
 * never across a device wait, a console line or a call out of the file that
 * owns the lock. Each file that has one says at its top what it guards.
 * Taking a lock this CPU already holds, or waiting for one longer than
 * SPIN_LOCK_BOUND_MS, is a bug made visible: panic() names the lock and its
 * holder instead of a silent hang. */
#ifndef KERNEL_SPINLOCK_H
#define KERNEL_SPINLOCK_H
#include <stdbool.h>
#include <stdint.h>

#define SPIN_LOCK_BOUND_MS 2000u

struct spinlock {
    volatile uint32_t holder;   /* the holder's CPU index + 1; 0 when free */
    const char *name;           /* for the panic message */
};
#define SPINLOCK_INIT(name_) { .holder = 0, .name = (name_) }

/* Takes the lock with interrupts off; returns the interrupt state to give
 * back to spin_unlock(). */
uint64_t spin_lock(struct spinlock *lock);
void spin_unlock(struct spinlock *lock, uint64_t flags);
/* True when the running CPU holds it (for assertions). */
bool spin_held(const struct spinlock *lock);

#endif
