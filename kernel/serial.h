/* SPDX-License-Identifier: MIT */
/* kernel/serial.h — 16550-compatible UART, on I/O ports or MMIO. */
#ifndef KERNEL_SERIAL_H
#define KERNEL_SERIAL_H
#include <stdint.h>
#include <stdbool.h>

struct serial_port {
    bool mmio;              /* false: I/O ports at `base` */
    uint64_t base;          /* port number or physical MMIO address */
    volatile uint8_t *regs; /* MMIO mapping */
    unsigned reg_shift;     /* MMIO register stride = 1 << reg_shift */
    uint32_t baud;
    bool present;
};

/* Programs 8N1 at port->baud, FIFOs on, interrupts off. Returns false when
 * the scratch register does not hold a value (no UART there). */
bool serial_init(struct serial_port *port);
/* True when a UART answers at `port` (its scratch register holds values);
 * changes nothing on the device. */
bool serial_probe(const struct serial_port *port);
void serial_putc(struct serial_port *port, char c);

#endif
