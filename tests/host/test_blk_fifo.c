/* SPDX-License-Identifier: MIT */
/* tests/host/test_blk_fifo.c — the request FIFO every driver keeps
 * (drivers/blk/fifo.h): order kept through push, push-front, pop, removal
 * from the head, middle and tail, and splicing; the count and the tail right
 * after each, so a driver's next push never links from a request that left. */
#include "tests/host/htest.h"
#include "tests/host/rename.h"
#include "drivers/blk/fifo.h"
#include "lib/string.h"

static struct blk_request reqs[6];

/* The FIFO's requests as indices into reqs[], and a check of count and tail. */
static unsigned order(const struct blk_fifo *f, unsigned *out, unsigned max)
{
    unsigned n = 0;
    const struct blk_request *last = NULL;
    for (const struct blk_request *r = f->head; r && n < max; r = r->next) {
        out[n++] = (unsigned)(r - reqs);
        last = r;
    }
    HT_EXPECT_EQ(n, f->count);
    HT_EXPECT(f->tail == last);
    return n;
}

static void expect_order(const struct blk_fifo *f, const unsigned *want, unsigned n)
{
    unsigned got[8];
    unsigned k = order(f, got, 8);
    HT_EXPECT_EQ(k, n);
    for (unsigned i = 0; i < n && i < k; i++)
        HT_EXPECT_EQ(got[i], want[i]);
}

HTEST(blk_fifo_push_pop_keeps_order)
{
    struct blk_fifo f = { 0 };
    HT_EXPECT(blk_fifo_empty(&f));
    HT_EXPECT(blk_fifo_pop(&f) == NULL);
    for (unsigned i = 0; i < 4; i++)
        blk_fifo_push(&f, &reqs[i]);
    expect_order(&f, (unsigned[]){ 0, 1, 2, 3 }, 4);
    HT_EXPECT(blk_fifo_peek(&f) == &reqs[0]);
    HT_EXPECT(blk_fifo_pop(&f) == &reqs[0]);
    HT_EXPECT(reqs[0].next == NULL);
    HT_EXPECT(blk_fifo_pop(&f) == &reqs[1]);
    blk_fifo_push(&f, &reqs[4]);
    expect_order(&f, (unsigned[]){ 2, 3, 4 }, 3);
    while (blk_fifo_pop(&f))
        ;
    HT_EXPECT(blk_fifo_empty(&f));
    HT_EXPECT(f.tail == NULL);
    HT_EXPECT_EQ(f.count, 0);
    /* A push after emptying starts a new list, not a link from the old tail. */
    blk_fifo_push(&f, &reqs[5]);
    expect_order(&f, (unsigned[]){ 5 }, 1);
}

HTEST(blk_fifo_push_front_goes_first)
{
    struct blk_fifo f = { 0 };
    blk_fifo_push_front(&f, &reqs[1]);
    expect_order(&f, (unsigned[]){ 1 }, 1);
    blk_fifo_push(&f, &reqs[2]);
    blk_fifo_push_front(&f, &reqs[0]);
    expect_order(&f, (unsigned[]){ 0, 1, 2 }, 3);
}

HTEST(blk_fifo_remove_head_middle_tail_and_absent)
{
    struct blk_fifo f = { 0 };
    for (unsigned i = 0; i < 5; i++)
        blk_fifo_push(&f, &reqs[i]);
    HT_EXPECT(blk_fifo_remove(&f, &reqs[2]));           /* middle */
    expect_order(&f, (unsigned[]){ 0, 1, 3, 4 }, 4);
    HT_EXPECT(blk_fifo_remove(&f, &reqs[4]));           /* tail: the tail moves back */
    expect_order(&f, (unsigned[]){ 0, 1, 3 }, 3);
    blk_fifo_push(&f, &reqs[5]);
    expect_order(&f, (unsigned[]){ 0, 1, 3, 5 }, 4);
    HT_EXPECT(blk_fifo_remove(&f, &reqs[0]));           /* head */
    expect_order(&f, (unsigned[]){ 1, 3, 5 }, 3);
    HT_EXPECT(!blk_fifo_remove(&f, &reqs[2]));          /* not on it: nothing changes */
    expect_order(&f, (unsigned[]){ 1, 3, 5 }, 3);
    HT_EXPECT(blk_fifo_remove(&f, &reqs[1]));
    HT_EXPECT(blk_fifo_remove(&f, &reqs[3]));
    HT_EXPECT(blk_fifo_remove(&f, &reqs[5]));
    HT_EXPECT(blk_fifo_empty(&f));
    HT_EXPECT(f.tail == NULL);
}

HTEST(blk_fifo_splice_moves_everything_in_order)
{
    struct blk_fifo a = { 0 }, b = { 0 };
    blk_fifo_splice(&a, &b);                            /* both empty */
    HT_EXPECT(blk_fifo_empty(&a));
    blk_fifo_push(&b, &reqs[0]);
    blk_fifo_push(&b, &reqs[1]);
    blk_fifo_splice(&a, &b);                            /* into an empty one */
    expect_order(&a, (unsigned[]){ 0, 1 }, 2);
    HT_EXPECT(blk_fifo_empty(&b));
    HT_EXPECT(b.tail == NULL && b.count == 0);
    blk_fifo_push(&b, &reqs[2]);
    blk_fifo_push(&b, &reqs[3]);
    blk_fifo_splice(&a, &b);                            /* onto a non-empty one */
    expect_order(&a, (unsigned[]){ 0, 1, 2, 3 }, 4);
    blk_fifo_splice(&a, &b);                            /* an empty source changes nothing */
    expect_order(&a, (unsigned[]){ 0, 1, 2, 3 }, 4);
    blk_fifo_push(&a, &reqs[4]);                        /* the tail is the spliced one's */
    expect_order(&a, (unsigned[]){ 0, 1, 2, 3, 4 }, 5);
}

/* The typed per-request state: written through the accessor, it is the
 * request's own bytes, and a second request's state is apart from it. */
struct test_rq {
    uint64_t a;
    uint32_t b;
};
BLK_PDU_ACCESSOR(test_rq, struct test_rq)

HTEST(blk_pdu_accessor_is_per_request)
{
    struct blk_request r1, r2;
    memset(&r1, 0, sizeof(r1));
    memset(&r2, 0, sizeof(r2));
    test_rq(&r1)->a = 0x1122334455667788ull;
    test_rq(&r1)->b = 7;
    test_rq(&r2)->b = 9;
    HT_EXPECT((void *)test_rq(&r1) == (void *)r1.pdu.bytes);
    HT_EXPECT_EQ(test_rq(&r1)->a, 0x1122334455667788ull);
    HT_EXPECT_EQ(test_rq(&r1)->b, 7);
    HT_EXPECT_EQ(test_rq(&r2)->b, 9);
    HT_EXPECT(r1.next == NULL && r1.lba == 0);          /* nothing outside the pdu written */
}
