/* SPDX-License-Identifier: MIT */
/* kernel/serial.c — polled 16550 driver for the console. Registers per the
 * PC16550D datasheet; transmit waits on LSR.THRE with a bound so that a dead
 * or absent UART cannot hang the kernel. */
#include "kernel/serial.h"
#include "kernel/io.h"

#define UART_THR 0      /* transmit holding (DLAB=0) */
#define UART_DLL 0      /* divisor latch low (DLAB=1) */
#define UART_IER 1
#define UART_DLM 1
#define UART_FCR 2
#define UART_LCR 3
#define UART_MCR 4
#define UART_LSR 5
#define UART_SCR 7

#define LCR_8N1   0x03
#define LCR_DLAB  0x80
#define FCR_ENABLE_CLEAR 0x07
#define MCR_DTR_RTS_OUT2 0x0b
#define LSR_THRE  0x20

#define UART_CLOCK 1843200u
#define THRE_SPIN_LIMIT 1000000u   /* ~1 s of port reads; 115200 baud needs ~87 us */

static uint8_t uart_read(struct serial_port *p, unsigned reg)
{
    if (p->mmio)
        return p->regs[reg << p->reg_shift];
    return inb((uint16_t)(p->base + reg));
}

static void uart_write(struct serial_port *p, unsigned reg, uint8_t v)
{
    if (p->mmio)
        p->regs[reg << p->reg_shift] = v;
    else
        outb((uint16_t)(p->base + reg), v);
}

static void use_identity_mapping(struct serial_port *p)
{
    /* Before memory_init() the boot page tables identity-map the low 4 GiB;
     * afterwards the console maps MMIO UARTs with mmio_map() and sets regs. */
    if (p->mmio && !p->regs)
        p->regs = (volatile uint8_t *)(uintptr_t)p->base;
}

/* A UART keeps what is written to SCR; an empty port reads back all ones (or
 * whatever floats). Two patterns, so a bus that echoes one value is not taken
 * for a UART; the old contents are put back and nothing else is touched. */
bool serial_probe(const struct serial_port *port)
{
    struct serial_port p = *port;
    use_identity_mapping(&p);
    uint8_t saved = uart_read(&p, UART_SCR);
    uart_write(&p, UART_SCR, 0x5a);
    bool ok = uart_read(&p, UART_SCR) == 0x5a;
    uart_write(&p, UART_SCR, 0xa5);
    ok = ok && uart_read(&p, UART_SCR) == 0xa5;
    uart_write(&p, UART_SCR, saved);
    return ok;
}

bool serial_init(struct serial_port *p)
{
    use_identity_mapping(p);
    if (!serial_probe(p)) {
        p->present = false;
        return false;
    }
    uint32_t baud = p->baud ? p->baud : 115200;
    uint32_t divisor = UART_CLOCK / 16 / baud;
    if (divisor == 0)
        divisor = 1;
    uart_write(p, UART_IER, 0);
    uart_write(p, UART_LCR, LCR_DLAB);
    uart_write(p, UART_DLL, (uint8_t)divisor);
    uart_write(p, UART_DLM, (uint8_t)(divisor >> 8));
    uart_write(p, UART_LCR, LCR_8N1);
    uart_write(p, UART_FCR, FCR_ENABLE_CLEAR);
    uart_write(p, UART_MCR, MCR_DTR_RTS_OUT2);
    p->baud = baud;
    p->present = true;
    return true;
}

void serial_putc(struct serial_port *p, char c)
{
    if (!p->present)
        return;
    for (uint32_t i = 0; i < THRE_SPIN_LIMIT; i++) {
        if (uart_read(p, UART_LSR) & LSR_THRE)
            break;
        cpu_pause();
    }
    uart_write(p, UART_THR, (uint8_t)c);
}
