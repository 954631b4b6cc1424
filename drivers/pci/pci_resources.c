/* SPDX-License-Identifier: MIT */
/* drivers/pci/pci_resources.c — the resource-conflict detector
 * (drivers/pci/pci_resources.h). Every comparison is of half-open ranges
 * [base, base + size) whose end is known not to wrap (a wrapping BAR is a
 * finding of its own and takes part in no other check). */
#include "drivers/pci/pci_resources.h"
#include "lib/format.h"

static bool wraps(uint64_t base, uint64_t size) { return size && base > UINT64_MAX - size; }

static bool overlap(uint64_t a, uint64_t asize, uint64_t b, uint64_t bsize)
{
    return asize && bsize && a < b + bsize && b < a + asize;
}

static int bar_name(const struct pci_res_bar *b, char *out, size_t size)
{
    return snprintf(out, size, "%02x:%02x.%x BAR%u [0x%llx..0x%llx]", b->bus, b->device,
                    b->function, b->bar, (unsigned long long)b->base,
                    (unsigned long long)(b->base + b->size - 1));
}

/* Adds a finding; counts it even when out is full. */
static void add(struct pci_res_finding *out, unsigned max, unsigned *n, enum pci_res_problem p,
                unsigned bar, unsigned other, const char *words)
{
    if (*n < max) {
        out[*n].problem = p;
        out[*n].bar = bar;
        out[*n].other = other;
        snprintf(out[*n].words, sizeof(out[*n].words), "%s", words);
    }
    (*n)++;
}

unsigned pci_resource_check(const struct pci_res_bar *bars, unsigned nbars,
                            const struct pci_res_window *windows, unsigned nwindows,
                            uint64_t phys_limit, struct pci_res_finding *out, unsigned max)
{
    unsigned n = 0;
    char a[96], b[96], words[224];

    for (unsigned i = 0; i < nbars; i++) {
        const struct pci_res_bar *x = &bars[i];
        bar_name(x, a, sizeof(a));
        if (wraps(x->base, x->size)) {
            snprintf(words, sizeof(words), "%02x:%02x.%x BAR%u at 0x%llx of 0x%llx bytes runs past "
                     "2^64", x->bus, x->device, x->function, x->bar,
                     (unsigned long long)x->base, (unsigned long long)x->size);
            add(out, max, &n, PCI_RES_WRAPS, i, i, words);
            continue;
        }
        if (phys_limit && x->size && x->base + x->size > phys_limit) {
            snprintf(words, sizeof(words), "%s lies beyond the CPU's physical address width "
                     "(addresses below 0x%llx)", a, (unsigned long long)phys_limit);
            add(out, max, &n, PCI_RES_BEYOND_PHYS, i, i, words);
        }
        for (unsigned w = 0; w < nwindows; w++) {
            const struct pci_res_window *win = &windows[w];
            if (wraps(win->base, win->size) || !overlap(x->base, x->size, win->base, win->size))
                continue;
            snprintf(words, sizeof(words), "%s covers %s [0x%llx..0x%llx]", a, win->what,
                     (unsigned long long)win->base,
                     (unsigned long long)(win->base + win->size - 1));
            add(out, max, &n, PCI_RES_COVERS_WINDOW, i, w, words);
        }
        for (unsigned j = i + 1; j < nbars; j++) {
            const struct pci_res_bar *y = &bars[j];
            if (wraps(y->base, y->size) || !overlap(x->base, x->size, y->base, y->size))
                continue;
            bar_name(y, b, sizeof(b));
            snprintf(words, sizeof(words), "%s overlaps %s", a, b);
            add(out, max, &n, PCI_RES_BARS_OVERLAP, i, j, words);
        }
    }
    return n;
}
