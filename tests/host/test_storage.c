/* SPDX-License-Identifier: MIT */
/* tests/host/test_storage.c — the storage inventory's words
 * (drivers/blk/storage_class.c): which PCI functions are storage (class 01h
 * whatever the subclass, and Intel VMD whatever its class), what each is
 * called, and the cause and remedy when no driver tests it — the firmware
 * setup's IDE and RAID modes, VMD, SCSI/SAS HBAs, virtio-scsi. */
#include "tests/host/htest.h"
#include "tests/host/rename.h"
#include "drivers/blk/storage.h"

static struct storage_ids ids(uint16_t v, uint16_t d, uint8_t c, uint8_t s, uint8_t p)
{
    return (struct storage_ids){ v, d, c, s, p };
}

static void not_driven(struct storage_ids f, char *why, size_t size)
{
    storage_not_driven(&f, why, size);
}

HTEST(storage_every_class_01_function_counts_and_vmd_whatever_its_class)
{
    for (unsigned sub = 0; sub < 256; sub++) {
        struct storage_ids f = ids(0x1234, 0x5678, 0x01, (uint8_t)sub, 0);
        HT_EXPECT(storage_is_storage(&f));
        HT_EXPECT(storage_kind(&f)[0] != '\0');
    }
    struct storage_ids nic = ids(0x8086, 0x10d3, 0x02, 0x00, 0x00);
    HT_EXPECT(!storage_is_storage(&nic));
    /* VMD shows itself as a RAID controller or a system device (08.80). */
    struct storage_ids vmd_system = ids(0x8086, 0x9a0b, 0x08, 0x80, 0x00);
    struct storage_ids vmd_raid = ids(0x8086, 0x467f, 0x01, 0x04, 0x00);
    HT_EXPECT(storage_is_vmd(&vmd_system) && storage_is_storage(&vmd_system));
    HT_EXPECT(storage_is_vmd(&vmd_raid));
    HT_EXPECT_STREQ(storage_kind(&vmd_system), "Intel VMD (Volume Management Device)");
    /* The same device ID from another vendor is not VMD. */
    struct storage_ids other = ids(0x1022, 0x9a0b, 0x08, 0x80, 0x00);
    HT_EXPECT(!storage_is_vmd(&other) && !storage_is_storage(&other));
}

HTEST(storage_kinds_follow_subclass_and_interface)
{
    struct storage_ids f;
    f = ids(0x8086, 0x2922, 0x01, 0x06, 0x01);
    HT_EXPECT_STREQ(storage_kind(&f), "SATA controller (AHCI)");
    f = ids(0x8086, 0x2920, 0x01, 0x06, 0x00);
    HT_EXPECT_STREQ(storage_kind(&f), "SATA controller (vendor-specific interface)");
    f = ids(0x8086, 0x7010, 0x01, 0x01, 0x80);
    HT_EXPECT_STREQ(storage_kind(&f), "IDE controller");
    f = ids(0x1b36, 0x0010, 0x01, 0x08, 0x02);
    HT_EXPECT_STREQ(storage_kind(&f), "NVM controller (NVMe)");
    f = ids(0x1b36, 0x0010, 0x01, 0x08, 0x03);
    HT_EXPECT_STREQ(storage_kind(&f), "NVM controller (NVMe administrative only)");
    f = ids(0x1000, 0x0060, 0x01, 0x04, 0x00);
    HT_EXPECT_STREQ(storage_kind(&f), "RAID controller");
    f = ids(0x1af4, 0x1042, 0x01, 0x00, 0x00);
    HT_EXPECT_STREQ(storage_kind(&f), "virtio-blk controller");
    f = ids(0x1af4, 0x1048, 0x01, 0x00, 0x00);
    HT_EXPECT_STREQ(storage_kind(&f), "virtio-scsi controller");
    f = ids(0x1000, 0x0012, 0x01, 0x00, 0x00);
    HT_EXPECT_STREQ(storage_kind(&f), "SCSI controller");
    f = ids(0x1000, 0x0097, 0x01, 0x07, 0x00);
    HT_EXPECT_STREQ(storage_kind(&f), "SAS controller");
}

HTEST(storage_causes_and_remedies_name_the_firmware_setting)
{
    char why[256];
    not_driven(ids(0x8086, 0x7010, 0x01, 0x01, 0x80), why, sizeof(why));
    HT_EXPECT(strstr(why, "IDE (legacy ATA) controller") != NULL);
    HT_EXPECT(strstr(why, "set SATA operation to AHCI in the firmware setup") != NULL);
    not_driven(ids(0x1000, 0x0060, 0x01, 0x04, 0x00), why, sizeof(why));
    HT_EXPECT(strstr(why, "RAID mode hides the disks behind it — switch the controller to AHCI")
              != NULL);
    not_driven(ids(0x8086, 0x28c0, 0x01, 0x04, 0x00), why, sizeof(why));    /* VMD before RAID */
    HT_EXPECT(strstr(why, "NVMe drives behind Intel VMD") != NULL);
    HT_EXPECT(strstr(why, "disable VMD (Volume Management Device") != NULL);
    not_driven(ids(0x8086, 0x2920, 0x01, 0x06, 0x00), why, sizeof(why));
    HT_EXPECT(strstr(why, "SATA controller not in AHCI mode") != NULL);
    not_driven(ids(0x1000, 0x0012, 0x01, 0x00, 0x00), why, sizeof(why));
    HT_EXPECT(strstr(why, "SCSI/SAS HBA: bareio has no driver for it") != NULL);
    not_driven(ids(0x1000, 0x0097, 0x01, 0x07, 0x00), why, sizeof(why));
    HT_EXPECT(strstr(why, "SCSI/SAS HBA") != NULL);
    not_driven(ids(0x1af4, 0x1004, 0x01, 0x00, 0x00), why, sizeof(why));
    HT_EXPECT(strstr(why, "no virtio-scsi driver") != NULL && strstr(why, "virtio-blk") != NULL);
    not_driven(ids(0x1b36, 0x0010, 0x01, 0x08, 0x03), why, sizeof(why));
    HT_EXPECT(strstr(why, "without the NVMe I/O interface") != NULL);
    not_driven(ids(0x144d, 0x0001, 0x01, 0x09, 0x00), why, sizeof(why));
    HT_EXPECT(strstr(why, "no driver for this kind of controller") != NULL);
    /* Every cause comes with a remedy, and a short buffer still ends. */
    for (unsigned sub = 0; sub < 256; sub++) {
        not_driven(ids(0x1234, 0x5678, 0x01, (uint8_t)sub, 0), why, sizeof(why));
        HT_EXPECT(strstr(why, " — ") != NULL);
    }
    char small[16];
    not_driven(ids(0x1000, 0x0060, 0x01, 0x04, 0x00), small, sizeof(small));
    HT_EXPECT_EQ(strlen(small), sizeof(small) - 1);
}
