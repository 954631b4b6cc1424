/* SPDX-License-Identifier: MIT */
/* tests/harness/run.c — the harness's stage (kernel/stage.h), last after PCI
 * and the drivers: the KTAP run with the direct-I/O summary before its END
 * banner, the orderly controller shutdown, then the manifests of what was
 * written, for tools/verify-image. Its result is the run's exit status. */
#include "drivers/blk/blk.h"
#include "kernel/cmdline.h"
#include "kernel/stage.h"
#include "tests/harness/dio.h"
#include "tests/harness/ktest.h"

static int harness_stage(void)
{
    ktest_set_end_hook(dio_print_summary);     /* per-device table before KTAP END */
    int status = ktest_run_all(cmdline_tests());
    blk_shutdown_all();         /* orderly controller shutdown before the exit */
    dio_print_manifests();      /* what the harness wrote, for tools/verify-image */
    return status;
}
KERNEL_STAGE(90, harness, harness_stage);
