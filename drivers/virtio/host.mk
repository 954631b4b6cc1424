# SPDX-License-Identifier: MIT
# drivers/virtio/host.mk — the virtio-blk driver's hardware-free files (the
# capability list parser, feature and status words, the split virtqueue, the
# request builder and decoders), unit-tested on the host (tests/host/test_virtio.c).
HOST_DRIVER_SRCS += drivers/virtio/virtio_pci_caps.c drivers/virtio/virtio_features.c \
    drivers/virtio/virtqueue.c drivers/virtio/virtio_blk_req.c
