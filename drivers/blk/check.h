/* SPDX-License-Identifier: MIT */
/* drivers/blk/check.h — the device-independent checks every request passes
 * in blk_submit() before a driver sees it: op supported, FUA only on writes
 * of a device that has it, a length, the LBA range (no wrap anywhere near
 * 2^64), the write gate (writes, trims and write-zeroes only on a scratch
 * device and only inside [write_first, write_end)), and segments that add up
 * to exactly the request's bytes and follow the controller's alignment and
 * reach. Pure, so the host tests walk every edge
 * (tests/host/test_blk_check.c). */
#ifndef DRIVERS_BLK_CHECK_H
#define DRIVERS_BLK_CHECK_H
#include "drivers/blk/blk.h"

/* BLK_OK, or the cause of the refusal with req->cause and req->detail set.
 * BLK_F_UNCHECKED lifts only the device-end check of a read, so that the
 * device's own answer can be tested; it never lets a write through. */
enum blk_cause blk_check_request(const struct blk_dev *dev, struct blk_request *req);

/* True for the ops that change the medium (write, trim, write-zeroes). */
bool blk_op_writes(enum blk_op op);

#endif
