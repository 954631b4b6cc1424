/* SPDX-License-Identifier: MIT */
/* kernel/stage.h — what runs after the kernel's own services are up. The
 * layers above the kernel (PCI enumeration, the storage drivers, the test
 * harness) each register a stage; kmain() runs them in order of their number
 * and knows none of them by name, so kernel/ depends on nothing above it:
 *
 *   KERNEL_STAGE(20, blk, blk_stage);    // static int blk_stage(void)
 *
 * A stage returns KERNEL_STAGE_CONTINUE, or an exit status (enum bareio_exit)
 * that ends the run there. The numbers in use: 10 pci, 20 blk, 25 storage, 90 harness. */
#ifndef KERNEL_STAGE_H
#define KERNEL_STAGE_H

#define KERNEL_STAGE_CONTINUE (-1)

struct kernel_stage {
    const char *name;
    int (*run)(void);
};

#define KERNEL_STAGE(order_, name_, fn_)                                              \
    static const struct kernel_stage kernel_stage_##name_                             \
        __attribute__((used, section(".kernel_stages." #order_ "." #name_), aligned(8))) = \
            { #name_, fn_ }

#endif
