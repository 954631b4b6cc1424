/* SPDX-License-Identifier: MIT */
/* tests/fuzz/fuzz_nvme.c — the NVMe driver's pure parts on any data:
 * Identify Namespace (a usable geometry has 512 B..64 KiB blocks and a byte
 * count that fits 64 bits; the namespace decision gives a usable namespace a
 * block size, at least one block per command within the controller's
 * transfer, and only capabilities it can have, and an unusable one a reason),
 * Identify strings (printable), status decoding
 * (every one of 2^16 values in words and a cause), and the PRP builder on
 * arbitrary segment lists (checked by nvme_prp_check first, as the driver
 * does: the entries built cover exactly the bytes asked, in the pages given). */
#include "tests/fuzz/fuzz.h"
#include "drivers/nvme/nvme.h"
#include "lib/string.h"

#define PAGE 4096u
#define LIST_PAGES 3

static void prp(struct fuzz_in *in)
{
    struct blk_seg segs[6];
    uint32_t nsegs = 1 + fuzz_u8(in) % 6;
    uint64_t total = 0;
    for (uint32_t i = 0; i < nsegs; i++) {
        segs[i].phys = (fuzz_u64(in) & 0xffffffffffull) & ~3ull;
        segs[i].len = (4 + fuzz_u32(in) % (2u << 20)) & ~3u;
        segs[i].reserved = 0;
        total += segs[i].len;
    }
    char why[160];
    if (nvme_prp_check(segs, nsegs, PAGE, why, sizeof why) >= 0)
        return;
    static uint64_t lists[LIST_PAGES][PAGE / 8];
    struct nvme_prp_page pages[LIST_PAGES];
    for (unsigned i = 0; i < LIST_PAGES; i++) {
        pages[i].entries = lists[i];
        pages[i].phys = 0x7000000000ull + i * PAGE;
    }
    uint64_t offset = total ? fuzz_u32(in) % total : 0;
    uint64_t bytes = total - offset;
    struct nvme_prp out;
    if (!nvme_prp_build(segs, nsegs, offset, bytes, PAGE, pages, LIST_PAGES, &out))
        return;
    FUZZ_ASSERT(out.list_pages <= LIST_PAGES);
    uint64_t first_offset = out.prp1 % PAGE;
    FUZZ_ASSERT(out.entries == nvme_prp_entry_count(first_offset, bytes, PAGE));
}

/* nvme_ns_decide on the same Identify data with controller facts from the
 * input: whatever it decides is consistent. */
static void decide(const struct nvme_id_ns *ns, struct fuzz_in *in)
{
    struct nvme_ns_ctrl_facts facts = {
        .oncs = (uint16_t)fuzz_take(in, 2),
        .vwc = fuzz_u8(in),
        .max_transfer_bytes = fuzz_u32(in),
    };
    struct nvme_ns_decision d;
    nvme_ns_decide(ns, &facts, &d);
    FUZZ_ASSERT(strnlen(d.why, sizeof d.why) < sizeof d.why);
    FUZZ_ASSERT(strnlen(d.read_only_reason, sizeof d.read_only_reason) < sizeof d.read_only_reason);
    if (d.verdict != NVME_NS_USABLE) {
        FUZZ_ASSERT(d.why[0] != '\0');
        return;
    }
    FUZZ_ASSERT(d.why[0] == '\0');
    FUZZ_ASSERT(d.block_size >= 512 && d.block_size <= 65536 && !(d.block_size & (d.block_size - 1)));
    FUZZ_ASSERT(d.block_size == 1u << d.geometry.lba_shift);
    FUZZ_ASSERT(d.geometry.nblocks >= 1 && d.geometry.nblocks <= UINT64_MAX / d.block_size);
    FUZZ_ASSERT(d.nsze >= d.geometry.nblocks);
    FUZZ_ASSERT(d.max_transfer >= 1);
    FUZZ_ASSERT((uint64_t)d.max_transfer * d.block_size <= facts.max_transfer_bytes);
    if (!(facts.oncs & (1u << 3)))      /* ONCS bit 3: Write Zeroes */
        FUZZ_ASSERT(!(d.caps & BLK_CAP_WRITE_ZEROES));
    if (!(facts.oncs & (1u << 2)))      /* ONCS bit 2: Dataset Management */
        FUZZ_ASSERT(!(d.caps & BLK_CAP_TRIM));
    nvme_ns_decide_command_set(&d, (int)(fuzz_u8(in) % 4) - 1, fuzz_u32(in));
    FUZZ_ASSERT(strnlen(d.read_only_reason, sizeof d.read_only_reason) < sizeof d.read_only_reason);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct nvme_id_ns ns;
    memset(&ns, 0, sizeof ns);
    memcpy(&ns, data, size < sizeof ns ? size : sizeof ns);
    struct nvme_ns_geometry g;
    char why[160];
    if (nvme_ns_geometry(&ns, &g, why, sizeof why) == NVME_NS_USABLE) {
        FUZZ_ASSERT(g.lba_shift >= 9 && g.lba_shift <= 16);
        FUZZ_ASSERT(g.nblocks >= 1 && g.nblocks <= UINT64_MAX >> g.lba_shift);
        FUZZ_ASSERT(g.format <= ns.nlbaf && ns.ncap <= ns.nsze);
    }
    char s[4 * 40 + 1];
    nvme_id_string(s, sizeof s, (const char *)data, size < 40 ? size : 40);
    for (const char *p = s; *p; p++)
        FUZZ_ASSERT(*p >= 0x20 && *p < 0x7f);
    struct fuzz_in in = { data, size };
    uint16_t status = (uint16_t)fuzz_take(&in, 2);
    char words[160];
    nvme_status_describe(status, words, sizeof words);
    FUZZ_ASSERT(words[0] != '\0');
    FUZZ_ASSERT((unsigned)nvme_status_cause(status) < BLK_CAUSE_COUNT);
    prp(&in);
    decide(&ns, &in);
    return 0;
}
