/* SPDX-License-Identifier: MIT */
/* drivers/blk/fifo.h — a first-in first-out list of requests, linked through
 * struct blk_request.next: the one queue every driver keeps for requests
 * accepted by submit() but not yet on the device (no free slot, not kicked
 * yet, waiting for a recovery to end). Written once here instead of once per
 * driver; O(1) push and pop, removal of one request walks the list.
 *
 * Not locked: a driver touches its FIFOs only from submit/kick/poll on one
 * CPU (see the completion rule in blk.h). Host-tested
 * (tests/host/test_blk_fifo.c). */
#ifndef DRIVERS_BLK_FIFO_H
#define DRIVERS_BLK_FIFO_H
#include "drivers/blk/blk.h"

struct blk_fifo {
    struct blk_request *head, *tail;
    unsigned count;
};

static inline bool blk_fifo_empty(const struct blk_fifo *f) { return f->head == NULL; }

static inline struct blk_request *blk_fifo_peek(const struct blk_fifo *f) { return f->head; }

/* At the end. */
static inline void blk_fifo_push(struct blk_fifo *f, struct blk_request *req)
{
    req->next = NULL;
    if (f->tail)
        f->tail->next = req;
    else
        f->head = req;
    f->tail = req;
    f->count++;
}

/* At the front: a request taken off that must go first again (a retry). */
static inline void blk_fifo_push_front(struct blk_fifo *f, struct blk_request *req)
{
    req->next = f->head;
    f->head = req;
    if (!f->tail)
        f->tail = req;
    f->count++;
}

/* The oldest request, removed; NULL when empty. */
static inline struct blk_request *blk_fifo_pop(struct blk_fifo *f)
{
    struct blk_request *req = f->head;
    if (!req)
        return NULL;
    f->head = req->next;
    if (!f->head)
        f->tail = NULL;
    req->next = NULL;
    f->count--;
    return req;
}

/* Removes `req` wherever it is; false when it is not on this list. */
static inline bool blk_fifo_remove(struct blk_fifo *f, struct blk_request *req)
{
    struct blk_request *prev = NULL;
    for (struct blk_request *r = f->head; r; prev = r, r = r->next) {
        if (r != req)
            continue;
        if (prev)
            prev->next = r->next;
        else
            f->head = r->next;
        if (f->tail == r)
            f->tail = prev;
        r->next = NULL;
        f->count--;
        return true;
    }
    return false;
}

/* Moves everything on `src` to the end of `dst`, in order; `src` ends empty. */
static inline void blk_fifo_splice(struct blk_fifo *dst, struct blk_fifo *src)
{
    if (!src->head)
        return;
    if (dst->tail)
        dst->tail->next = src->head;
    else
        dst->head = src->head;
    dst->tail = src->tail;
    dst->count += src->count;
    *src = (struct blk_fifo){ 0 };
}

#endif
