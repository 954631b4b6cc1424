/* SPDX-License-Identifier: MIT */
/* drivers/virtio/virtqueue.c — one split virtqueue (Virtio 1.2 §2.7) as the
 * driver side keeps it: free ring descriptors on a list of the driver's own,
 * chains added directly or through an indirect table (§2.7.5.3), the avail
 * index published once per batch (§2.7.13), used entries taken in order with
 * every id checked against what is in flight (§2.7.14). Pure: the rings are
 * plain memory here (DMA memory in the kernel), so the host tests
 * (tests/host/test_virtio.c) play the device and wrap the 16-bit indices.
 * Left out: EVENT_IDX, IN_ORDER, packed rings. */
#include "drivers/virtio/virtio.h"

void virtq_reset(struct virtq *vq, bool no_interrupt)
{
    for (uint32_t i = 0; i < vq->size; i++) {
        vq->desc[i] = (struct virtq_desc){ 0 };
        vq->avail->ring[i] = 0;
        vq->used->ring[i] = (struct virtq_used_elem){ 0 };
        vq->free_next[i] = (uint16_t)(i + 1);
        vq->chain_len[i] = 0;
    }
    vq->used->flags = 0;        /* §2.7.10.1: the driver MUST initialize it to 0 */
    vq->used->idx = 0;
    vq->avail->idx = 0;
    vq->avail->flags = no_interrupt ? VIRTQ_AVAIL_F_NO_INTERRUPT : 0;
    vq->free_head = 0;
    vq->num_free = vq->size;
    vq->avail_idx = vq->avail_published = vq->last_used = 0;
    vq->heads = 0;
}

bool virtq_has_room(const struct virtq *vq, uint16_t n, bool indirect)
{
    return n > 0 && vq->num_free >= (indirect ? 1 : n);
}

static uint16_t take_free(struct virtq *vq)
{
    uint16_t i = vq->free_head;
    vq->free_head = vq->free_next[i];
    vq->num_free--;
    return i;
}

uint16_t virtq_add(struct virtq *vq, const struct virtq_desc *chain, uint16_t n, bool indirect,
                   uint64_t table_phys)
{
    if (!virtq_has_room(vq, n, indirect))
        return 0xffff;
    uint16_t head;
    if (indirect) {
        /* One ring descriptor for the whole table; INDIRECT without NEXT
         * (§2.7.5.3.1: never both), its WRITE flag ignored by the device. */
        head = take_free(vq);
        vq->desc[head] = (struct virtq_desc){ .addr = table_phys, .len = (uint32_t)n * 16u,
                                              .flags = VIRTQ_DESC_F_INDIRECT, .next = 0 };
        vq->chain_len[head] = 1;
    } else {
        uint16_t idx[n];
        for (uint16_t i = 0; i < n; i++)
            idx[i] = take_free(vq);
        for (uint16_t i = 0; i < n; i++) {
            struct virtq_desc d = chain[i];
            d.next = (d.flags & VIRTQ_DESC_F_NEXT) && i + 1 < n ? idx[i + 1] : 0;
            if (i + 1 == n)
                d.flags &= (uint16_t)~VIRTQ_DESC_F_NEXT;
            vq->desc[idx[i]] = d;
        }
        head = idx[0];
        vq->chain_len[head] = n;
    }
    vq->avail->ring[vq->avail_idx % vq->size] = head;
    vq->avail_idx++;
    vq->heads++;
    return head;
}

uint16_t virtq_publish(struct virtq *vq)
{
    uint16_t added = (uint16_t)(vq->avail_idx - vq->avail_published);
    if (!added)
        return 0;
    /* The descriptors and ring entries before the index (§2.7.13.3.1). */
    __atomic_thread_fence(__ATOMIC_RELEASE);
    vq->avail->idx = vq->avail_idx;
    vq->avail_published = vq->avail_idx;
    return added;
}

bool virtq_notify_wanted(const struct virtq *vq)
{
    /* The index store before the flags load (§2.7.13.4.1): a full fence,
     * x86 lets a later load pass an earlier store otherwise. */
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    return !(vq->used->flags & VIRTQ_USED_F_NO_NOTIFY);
}

uint16_t virtq_used_pending(const struct virtq *vq)
{
    return (uint16_t)(vq->used->idx - vq->last_used);
}

/* Gives the chain that starts at `head` back to the free list. The links
 * are followed in the driver's own descriptor table, as it wrote them. */
static void free_chain(struct virtq *vq, uint16_t head)
{
    uint16_t i = head, n = vq->chain_len[head];
    vq->chain_len[head] = 0;
    for (uint16_t k = 0; k < n; k++) {
        uint16_t next = vq->desc[i].next;
        vq->free_next[i] = vq->free_head;
        vq->free_head = i;
        vq->num_free++;
        i = next;
    }
    vq->heads--;
}

enum virtq_used_result virtq_take_used(struct virtq *vq, uint32_t *id, uint32_t *len)
{
    if (virtq_used_pending(vq) == 0)
        return VIRTQ_USED_NONE;
    /* The entry after the index that announced it (§2.7.14). */
    __atomic_thread_fence(__ATOMIC_ACQUIRE);
    struct virtq_used_elem e = vq->used->ring[vq->last_used % vq->size];
    vq->last_used++;
    *id = e.id;
    *len = e.len;
    if (e.id >= vq->size || vq->chain_len[e.id] == 0)
        return VIRTQ_USED_BAD_ID;
    free_chain(vq, (uint16_t)e.id);
    return VIRTQ_USED_OK;
}
