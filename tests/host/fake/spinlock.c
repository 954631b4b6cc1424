/* SPDX-License-Identifier: MIT */
/* tests/host/fake/spinlock.c — kernel/spinlock.h for the fake-hardware
 * tests: one thread, so a lock is a flag; taking one already held is the
 * same bug the kernel panics on, and fails the test here. */
#include "kernel/spinlock.h"
#include "tests/host/fake/fake.h"

uint64_t spin_lock(struct spinlock *lock)
{
    if (lock->holder)
        fake_forbidden("spin_lock on a lock already held (one thread: a self-deadlock)");
    lock->holder = 1;
    return 0;
}

void spin_unlock(struct spinlock *lock, uint64_t flags)
{
    (void)flags;
    lock->holder = 0;
}

bool spin_held(const struct spinlock *lock) { return lock->holder != 0; }
