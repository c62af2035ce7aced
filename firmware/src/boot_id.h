/* A boot id that differs from boot to boot (PROTOCOL.md: "random per boot"). */
#ifndef PARKLINK_BOOT_ID_H
#define PARKLINK_BOOT_ID_H
#include <stdint.h>
uint32_t boot_id_make(void);
#endif
