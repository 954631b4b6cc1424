/* SPDX-License-Identifier: MIT */
/* tests/host/test_blk_access_property.c — the write rule
 * (drivers/blk/access.c) as a property: thousands of generated disk heads —
 * blank, labelled (every data offset, size and block size, damaged labels),
 * GPTs with every header field and partition bound pushed to and past its
 * edges, hybrid and foreign MBRs, in-use signatures beside labels and
 * partitions, boot ISOs, random bytes — on block sizes 512 B .. 64 KiB and
 * capacities up to 2^64-1 blocks, with and without allow_write= and bootid=.
 *
 * Each head is judged twice: by blk_access_rule() and by the model below,
 * written from the formats' specifications independently of lib/ (its own
 * field readers, its own signature list, its own GPT checks). The two must
 * agree exactly, and the rule's answer must also obey the invariants on its
 * own: a write range inside the device, never LBA 0, never the label's
 * block, never a GPT's header, entry arrays or backup header, never another
 * partition, never a disk that shows a sign of use, never the boot medium.
 * The seed is fixed (a failure names the case number to replay);
 * BAREIO_PROPERTY_CASES=N runs more. */
#include "tests/host/htest.h"
#include "tests/host/rename.h"
#include "drivers/blk/access.h"
#include "lib/crc.h"
#include "lib/gpt.h"
#include "lib/rng.h"
#include "lib/scratch.h"
#include "lib/string.h"

#include <stdbool.h>
#include <stdlib.h>

#define HEAD_MAX (192u * 1024u)     /* 72 KiB rounded up to 64 KiB blocks, and more */
#define DEFAULT_CASES 20000u

static uint8_t head[HEAD_MAX];

/* ---- the model: field readers and checks of its own ---- */

static uint64_t rd(const uint8_t *p, unsigned n)
{
    uint64_t v = 0;
    for (unsigned i = 0; i < n; i++)
        v |= (uint64_t)p[i] << (8 * i);
    return v;
}

static bool at(const uint8_t *h, size_t len, uint64_t off, const char *bytes, size_t n)
{
    return off + n <= len && memcmp(h + off, bytes, n) == 0;
}

static bool model_mbr_used(const uint8_t *h, size_t len, bool *only_protective)
{
    bool used = false;
    *only_protective = true;
    if (!at(h, len, 510, "\x55\xaa", 2))
        return false;
    for (unsigned i = 0; i < 4; i++) {
        uint8_t type = h[446 + 16 * i + 4];
        if (type)
            used = true;
        if (type && type != 0xee)
            *only_protective = false;
    }
    return used;
}

/* Signs of use other than a GPT and an MBR: file systems, volumes, ISO. */
static bool model_fs_signature(const uint8_t *h, size_t len)
{
    bool fat_ish = at(h, len, 510, "\x55\xaa", 2) && (h[0] == 0xeb || h[0] == 0xe9);
    unsigned bps = (unsigned)rd(h + 11, 2);
    bool fat = fat_ish && bps >= 512 && bps <= 4096 && (bps & (bps - 1)) == 0 &&
               (at(h, len, 54, "FAT", 3) || at(h, len, 82, "FAT32", 5));
    bool lvm = false;
    for (unsigned s = 0; s < 4; s++)
        lvm |= at(h, len, 512u * s, "LABELONE", 8) && at(h, len, 512u * s + 24, "LVM2 001", 8);
    bool swap = false;
    static const unsigned pages[] = { 4096, 8192, 16384, 65536 };
    for (unsigned i = 0; i < 4; i++)
        swap |= at(h, len, pages[i] - 10, "SWAPSPACE2", 10) ||
                at(h, len, pages[i] - 10, "SWAP-SPACE", 10);
    return at(h, len, 32769, "CD001", 5) || at(h, len, 3, "EXFAT   ", 8) ||
           at(h, len, 3, "NTFS    ", 8) || fat || at(h, len, 1080, "\x53\xef", 2) ||
           at(h, len, 0, "XFSB", 4) || at(h, len, 65600, "_BHRfS_M", 8) || lvm || swap ||
           at(h, len, 0, "LUKS\xba\xbe", 6);
}

/* A GPT header at LBA 1 of any block size 512 B .. 64 KiB, other than `except`. */
static bool model_gpt_signature(const uint8_t *h, size_t len, uint64_t except)
{
    for (uint64_t off = 512; off <= 65536; off *= 2)
        if (off != except && at(h, len, off, "EFI PART", 8))
            return true;
    return false;
}

struct verdict {
    bool writable;
    uint64_t first, end;
};

static struct verdict ro(void) { return (struct verdict){ false, 0, 0 }; }

/* The label, per lib/scratch.h's layout read straight off the bytes. */
static struct verdict model_label(const uint8_t *h, uint32_t bs, uint64_t n, bool sigs)
{
    if (crc32c(h, 508) != rd(h + 508, 4) || rd(h + 16, 4) != 1 || rd(h + 20, 4) != 512)
        return ro();
    uint64_t off = rd(h + 24, 8), size = rd(h + 32, 8);
    /* The device's bytes, or "more than 2^64" when they do not fit. */
    bool huge = n > UINT64_MAX / bs;
    uint64_t bytes = huge ? UINT64_MAX : n * bs;
    if (off < 512 || off % 4096 || size % 4096 || off >= bytes)
        return ro();
    if (size && (size > bytes || off > bytes - size))
        return ro();
    if (sigs)
        return ro();
    uint64_t first = off / bs + (off % bs ? 1 : 0);     /* off + bs - 1 could wrap */
    uint64_t end = size ? (off + size) / bs : n;
    if (end > n)
        end = n;
    if (first >= end)
        return ro();
    return (struct verdict){ true, first, end };
}

static uint32_t model_header_crc(const uint8_t *p, uint32_t size)
{
    static uint8_t copy[65536];
    memcpy(copy, p, size);
    memset(copy + 16, 0, 4);
    return crc32(copy, size);
}

/* A GPT at LBA 1 (UEFI 2.10 §5.3), every check the rule must make. */
static struct verdict model_gpt(const uint8_t *h, size_t len, uint32_t bs, uint64_t n,
                                bool fs_sig, bool *present)
{
    static const uint8_t bareio[16] = { 0x25, 0xcb, 0x75, 0x51, 0x21, 0xcc, 0xc2, 0x48,
                                        0x96, 0x4f, 0xd6, 0x2c, 0x6f, 0xfd, 0xb8, 0x33 };
    static const uint8_t unused[16];
    *present = len >= 2 * (size_t)bs && at(h, len, bs, "EFI PART", 8);
    if (!*present)
        return ro();
    const uint8_t *p = h + bs;
    uint32_t hsize = (uint32_t)rd(p + 12, 4);
    if (hsize < 92 || hsize > bs || model_header_crc(p, hsize) != rd(p + 16, 4))
        return ro();
    uint64_t my = rd(p + 24, 8), alt = rd(p + 32, 8), fu = rd(p + 40, 8), lu = rd(p + 48, 8);
    uint64_t elba = rd(p + 72, 8);
    uint32_t count = (uint32_t)rd(p + 80, 4), esize = (uint32_t)rd(p + 84, 4);
    if (rd(p + 8, 4) != 0x00010000 || my != 1 || esize < 128 || (esize & (esize - 1)) ||
        count == 0 || (uint64_t)count * esize > 1024 * 1024)
        return ro();
    uint64_t ebytes = (uint64_t)count * esize, eb = (ebytes + bs - 1) / bs;
    if (alt >= n || lu >= n || fu > lu || elba < 2 || elba >= n || eb > n - elba)
        return ro();
    /* Clear of LBA 0, 1, the primary array, the backup array and header. */
    if (elba + eb > fu || alt <= lu || alt - lu <= eb)
        return ro();
    if (elba > len / bs || ebytes > len - elba * bs)
        return ro();
    const uint8_t *ents = h + elba * bs;
    if (crc32(ents, ebytes) != rd(p + 88, 4))
        return ro();
    for (uint32_t i = 0; i < count; i++) {
        const uint8_t *e = ents + (uint64_t)i * esize;
        if (memcmp(e, bareio, 16) != 0)
            continue;
        uint64_t first = rd(e + 32, 8), last = rd(e + 40, 8);
        if (first < fu || last > lu || first > last)
            return ro();
        for (uint32_t j = 0; j < count; j++) {
            const uint8_t *o = ents + (uint64_t)j * esize;
            if (j != i && memcmp(o, unused, 16) != 0 && rd(o + 32, 8) <= last &&
                rd(o + 40, 8) >= first)
                return ro();
        }
        bool only_protective;
        bool mbr = model_mbr_used(h, len, &only_protective);
        if (fs_sig || (mbr && !only_protective) || model_gpt_signature(h, len, bs))
            return ro();
        return (struct verdict){ true, first, last + 1 };
    }
    return ro();
}

static bool model_boot_medium(const uint8_t *h, size_t len, const char *boot_id)
{
    char want[48], volid[33];
    if (!boot_id[0] || !at(h, len, 32768, "\x01" "CD001", 6) || 32768 + 72 > len)
        return false;
    memcpy(volid, h + 32768 + 40, 32);
    int k = 32;
    while (k > 0 && (volid[k - 1] == ' ' || volid[k - 1] == '\0'))
        k--;
    volid[k] = '\0';
    snprintf(want, sizeof want, "BAREIO_%s", boot_id);
    return k > 0 && strcmp(volid, want) == 0;
}

static struct verdict model(const uint8_t *h, size_t len, uint32_t bs, uint64_t n, bool allowed,
                            const char *boot_id, bool *boot)
{
    *boot = model_boot_medium(h, len, boot_id);
    if (*boot)
        return ro();
    bool only_protective;
    bool fs = model_fs_signature(h, len), mbr = model_mbr_used(h, len, &only_protective);
    bool gpt_sig = model_gpt_signature(h, len, 0);
    uint64_t want_blocks = (72 * 1024 + bs - 1) / bs < 3 ? 3 : (72 * 1024 + bs - 1) / bs;
    if (want_blocks > n)
        want_blocks = n;
    if (len < want_blocks * bs)
        return ro();                    /* not read: not known to be unused */
    if (at(h, len, 0, "BAREIO-SCRATCH\0\0", 16))
        return model_label(h, bs, n, fs || mbr || gpt_sig);
    bool present;
    struct verdict g = model_gpt(h, len, bs, n, fs, &present);
    if (present)
        return g;
    if (fs || mbr || gpt_sig || !allowed)
        return ro();
    return (struct verdict){ true, 0, n };
}

/* ---- generators ---- */

struct gen {
    struct rng r;
    uint32_t bs;
    uint64_t n;
    size_t len;
};

static uint64_t pick_capacity(struct rng *r, uint32_t bs)
{
    switch (rng_below(r, 6)) {
    case 0: return rng_range(r, 1, 200);                    /* smaller than the head */
    case 1: return rng_range(r, 200, 1u << 20);
    case 2: return (64ull << 20) / bs;
    case 3: return UINT64_MAX / bs + rng_range(r, 0, 1);    /* the 2^64-byte edge */
    case 4: return UINT64_MAX - rng_below(r, 4);
    default: return rng_range(r, 1, UINT64_MAX);
    }
}

/* An edge-biased value near `v`: v, v±1, v±small, or anything. */
static uint64_t near(struct rng *r, uint64_t v)
{
    switch (rng_below(r, 6)) {
    case 0: return v;
    case 1: return v + 1;
    case 2: return v - 1;
    case 3: return v + rng_below(r, 64) - 32;
    case 4: return rng_below(r, 3) == 0 ? 0 : UINT64_MAX - rng_below(r, 2);
    default: return rng_next_u64(r);
    }
}

static void put(uint8_t *p, uint64_t v, unsigned n)
{
    for (unsigned i = 0; i < n; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static void gen_label(struct gen *g)
{
    struct scratch_label l;
    memset(&l, 0, sizeof l);
    rng_fill(&g->r, l.uuid, 16);
    static const uint64_t offsets[] = { 512, 4096, 8192, 12288, 65536, 1 << 20, 69632 };
    l.data_offset = rng_below(&g->r, 4) ? offsets[rng_below(&g->r, 7)] : near(&g->r, 1 << 20);
    uint64_t bytes = g->n > UINT64_MAX / g->bs ? UINT64_MAX : g->n * g->bs;
    switch (rng_below(&g->r, 4)) {
    case 0: l.data_size = 0; break;
    case 1: l.data_size = (bytes - l.data_offset) / 4096 * 4096; break;
    case 2: l.data_size = near(&g->r, bytes - l.data_offset) & ~4095ull; break;
    default: l.data_size = rng_below(&g->r, 1 << 14) * 4096; break;
    }
    scratch_label_build(head, &l);
    if (rng_below(&g->r, 8) == 0)
        head[rng_below(&g->r, 512)] ^= (uint8_t)(1u << rng_below(&g->r, 8));  /* damaged */
}

/* A bareio GPT built by lib, then fields pushed to their edges with the CRCs
 * made right again (so it is the semantic checks that must catch them). */
static void gen_gpt(struct gen *g, bool bareio)
{
    static const uint8_t linux_data[16] = { 0xaf, 0x3d, 0xc6, 0x0f, 0x83, 0x84, 0x72, 0x47,
                                            0x8e, 0x79, 0x3d, 0x69, 0xd8, 0x47, 0x7d, 0xe4 };
    uint32_t bs = g->bs;
    uint64_t n = g->n > (1u << 22) ? (1u << 22) : g->n;    /* gpt_build's own arithmetic */
    struct gpt_layout l;
    memset(&l, 0, sizeof l);
    l.block_size = bs;
    l.nblocks = rng_below(&g->r, 4) ? g->n : n;
    rng_fill(&g->r, l.part_guid, 16);
    l.type = bareio ? gpt_type_bareio : linux_data;
    uint64_t pbytes = gpt_primary_blocks(bs) * bs;
    uint8_t *backup = malloc(gpt_backup_blocks(bs) * bs);
    uint8_t *primary = malloc(pbytes);
    if (!gpt_build(&l, primary, backup)) {
        free(primary);
        free(backup);
        return;
    }
    memcpy(head, primary, pbytes < HEAD_MAX ? pbytes : HEAD_MAX);
    free(primary);
    free(backup);
    if (3 * (uint64_t)bs > HEAD_MAX)
        return;
    uint8_t *h = head + bs, *e = head + 2 * bs;
    unsigned mutations = (unsigned)rng_below(&g->r, 4);
    for (unsigned m = 0; m < mutations; m++) {
        switch (rng_below(&g->r, 9)) {
        case 0: put(h + 40, near(&g->r, rd(h + 40, 8)), 8); break;     /* FirstUsableLBA */
        case 1: put(h + 48, near(&g->r, rd(h + 48, 8)), 8); break;     /* LastUsableLBA */
        case 2: put(h + 32, near(&g->r, rd(h + 32, 8)), 8); break;     /* AlternateLBA */
        case 3: put(h + 72, near(&g->r, rd(h + 72, 8)), 8); break;     /* PartitionEntryLBA */
        case 4: put(e + 32, near(&g->r, rd(e + 32, 8)), 8); break;     /* first LBA */
        case 5: put(e + 40, near(&g->r, rd(e + 40, 8)), 8); break;     /* last LBA */
        case 6:                                                         /* a second partition */
            memcpy(e + 128, linux_data, 16);
            put(e + 160, near(&g->r, rd(e + 40, 8)), 8);
            put(e + 168, rd(e + 160, 8) + rng_below(&g->r, 1000), 8);
            break;
        case 7: head[446 + 16 + 4] = (uint8_t)rng_range(&g->r, 1, 255); break;  /* hybrid MBR */
        default: put(h + 80, near(&g->r, rd(h + 80, 4)), 4); break;    /* entry count */
        }
    }
    uint32_t count = (uint32_t)rd(h + 80, 4), esize = (uint32_t)rd(h + 84, 4);
    uint64_t ebytes = (uint64_t)count * esize;
    if (rng_below(&g->r, 8) && 2 * (uint64_t)bs + ebytes <= HEAD_MAX)
        put(h + 88, crc32(e, ebytes), 4);
    if (rng_below(&g->r, 8)) {
        put(h + 16, 0, 4);
        put(h + 16, crc32(h, 92), 4);
    }
}

static void gen_signature(struct gen *g)
{
    static const struct { uint32_t off; const char *bytes; size_t n; } sigs[] = {
        { 1080, "\x53\xef", 2 }, { 0, "XFSB", 4 }, { 65600, "_BHRfS_M", 8 },
        { 512, "LABELONE\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0LVM2 001", 32 },
        { 4086, "SWAPSPACE2", 10 }, { 0, "LUKS\xba\xbe", 6 }, { 32769, "CD001", 5 },
        { 3, "NTFS    ", 8 }, { 3, "EXFAT   ", 8 }, { 512, "EFI PART", 8 },
        { 4096, "EFI PART", 8 }, { 8182, "SWAP-SPACE", 10 },
    };
    unsigned i = (unsigned)rng_below(&g->r, sizeof sigs / sizeof sigs[0]);
    memcpy(head + sigs[i].off, sigs[i].bytes, sigs[i].n);
    if (rng_below(&g->r, 4) == 0) {         /* an MBR partition entry */
        head[510] = 0x55;
        head[511] = 0xaa;
        head[446 + 4] = (uint8_t)rng_range(&g->r, 1, 255);
    }
}

static void gen_iso(struct gen *g, const char *id)
{
    memcpy(head + 32768, "\x01" "CD001\x01", 7);
    memset(head + 32768 + 40, ' ', 32);
    char volid[40];
    snprintf(volid, sizeof volid, "BAREIO_%s", rng_below(&g->r, 2) ? id : "0000000000000000");
    memcpy(head + 32768 + 40, volid, strlen(volid));
}

static void generate(struct gen *g, const char *boot_id)
{
    memset(head, 0, sizeof head);
    switch (rng_below(&g->r, 8)) {
    case 0: break;                                  /* blank */
    case 1: gen_label(g); break;
    case 2: gen_label(g); gen_signature(g); break;  /* reused after labelling */
    case 3: gen_gpt(g, true); break;
    case 4: gen_gpt(g, true); if (rng_below(&g->r, 2)) gen_signature(g); break;
    case 5: gen_gpt(g, false); break;
    case 6: gen_iso(g, boot_id); if (rng_below(&g->r, 2)) gen_label(g); break;
    default: rng_fill(&g->r, head, 1 + rng_below(&g->r, HEAD_MAX)); break;
    }
}

/* ---- invariants the rule's answer must obey on its own ---- */

static void check_invariants(unsigned c, const struct blk_access *a, uint32_t bs, uint64_t n,
                             bool allowed, bool boot, size_t len)
{
    if (!a->writable) {
        if (a->write_first || a->write_end)
            htest_fail(__FILE__, __LINE__, "case %u: read-only with a range", c);
        return;
    }
    if (boot)
        htest_fail(__FILE__, __LINE__, "case %u: the boot medium is writable", c);
    if (a->write_first >= a->write_end || a->write_end > n)
        htest_fail(__FILE__, __LINE__, "case %u: range %llu..%llu outside %llu blocks", c,
                   (unsigned long long)a->write_first, (unsigned long long)a->write_end,
                   (unsigned long long)n);
    bool whole = a->write_first == 0 && a->write_end == n;
    if (a->write_first == 0 && !(whole && allowed))
        htest_fail(__FILE__, __LINE__, "case %u: LBA 0 writable without allow_write= on a "
                   "blank disk", c);
    /* A label lives in LBA 0; a GPT needs LBA 0..2 at the very least. */
    if (!whole && a->write_first < 1)
        htest_fail(__FILE__, __LINE__, "case %u: the label's block is writable", c);
    /* Read straight off the bytes, whatever either judge thought: */
    if (model_fs_signature(head, len))
        htest_fail(__FILE__, __LINE__, "case %u: writable beside a file system signature", c);
    uint64_t first = a->write_first, last = a->write_end - 1;
    if (strstr(a->reason, "(label)")) {
        uint64_t off = rd(head + 24, 8), size = rd(head + 32, 8);
        if (first * (uint64_t)bs < off || (first - 1) * (uint64_t)bs >= off ||
            (size && last >= (off + size) / bs))
            htest_fail(__FILE__, __LINE__, "case %u: %llu..%llu is not the whole blocks of the "
                       "label's %llu+%llu bytes", c, (unsigned long long)first,
                       (unsigned long long)last, (unsigned long long)off, (unsigned long long)size);
    } else if (strstr(a->reason, "(GPT partition")) {
        const uint8_t *h = head + bs;
        uint64_t fu = rd(h + 40, 8), lu = rd(h + 48, 8), alt = rd(h + 32, 8), elba = rd(h + 72, 8);
        uint64_t eb = (rd(h + 80, 4) * rd(h + 84, 4) + bs - 1) / bs;
        if (first < fu || last > lu || first < 2 || first < elba + eb || alt < eb ||
            last >= alt - eb || memcmp(h, "EFI PART", 8) != 0)
            htest_fail(__FILE__, __LINE__, "case %u: %llu..%llu reaches the GPT's own blocks "
                       "(usable %llu..%llu, entries %llu+%llu, backup header %llu)", c,
                       (unsigned long long)first, (unsigned long long)last,
                       (unsigned long long)fu, (unsigned long long)lu, (unsigned long long)elba,
                       (unsigned long long)eb, (unsigned long long)alt);
    } else if (!whole) {
        htest_fail(__FILE__, __LINE__, "case %u: writable for no known reason: %s", c, a->reason);
    }
}

static void run_case(unsigned c, struct gen *g)
{
    static const char *const ids[] = { "", "00C0FFEE12345678" };
    static const uint32_t sizes[] = { 512, 1024, 2048, 4096, 8192, 16384, 32768, 65536 };
    g->bs = sizes[rng_below(&g->r, 8)];
    g->n = pick_capacity(&g->r, g->bs);
    g->len = (size_t)blk_access_head_bytes(g->bs, g->n);
    bool allowed = rng_below(&g->r, 2);
    const char *boot_id = ids[rng_below(&g->r, 2)];
    generate(g, ids[1]);

    struct blk_access a;
    bool boot;
    blk_access_rule(g->bs, g->n, head, g->len, allowed, boot_id, &a);
    struct verdict want = model(head, g->len, g->bs, g->n, allowed, boot_id, &boot);
    check_invariants(c, &a, g->bs, g->n, allowed, boot, g->len);
    if (a.writable != want.writable || a.write_first != want.first || a.write_end != want.end ||
        a.boot_device != boot)
        htest_fail(__FILE__, __LINE__, "case %u (%u-byte blocks, %llu blocks, allow %d, bootid "
                   "'%s'): rule says %s %llu..%llu (%s), model says %s %llu..%llu%s", c, g->bs,
                   (unsigned long long)g->n, allowed, boot_id, a.writable ? "writable" : "read-only",
                   (unsigned long long)a.write_first, (unsigned long long)a.write_end, a.reason,
                   want.writable ? "writable" : "read-only", (unsigned long long)want.first,
                   (unsigned long long)want.end, boot ? " (boot medium)" : "");
    if (!a.reason[0] || strlen(a.reason) + 1 >= sizeof(a.reason))
        htest_fail(__FILE__, __LINE__, "case %u: reason missing or cut: %s", c, a.reason);
}

HTEST(blk_access_property_rule_matches_model_and_never_opens_what_it_must_not)
{
    const char *env = getenv("BAREIO_PROPERTY_CASES");
    unsigned cases = env ? (unsigned)strtoul(env, NULL, 10) : DEFAULT_CASES;
    unsigned writable = 0, labelled = 0, partitioned = 0;
    struct gen g;
    rng_seed(&g.r, 0x9e3779b97f4a7c15ull);
    for (unsigned c = 0; c < cases; c++) {
        struct blk_access a;
        run_case(c, &g);
        blk_access_rule(g.bs, g.n, head, g.len, false, "", &a);
        writable += a.writable;
        labelled += a.writable && strstr(a.reason, "(label)") != NULL;
        partitioned += a.writable && strstr(a.reason, "(GPT partition") != NULL;
    }
    /* The generators must reach both sides of every rule, or the property
     * proves nothing: enough writable labels and partitions, and more
     * read-only heads than writable ones. */
    HT_EXPECT(labelled > cases / 40);
    HT_EXPECT(partitioned > cases / 200);
    HT_EXPECT(writable < cases / 2);
}
