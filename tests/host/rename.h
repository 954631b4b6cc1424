/* SPDX-License-Identifier: MIT */
/* tests/host/rename.h — force-included when lib/ is built for the host, so that
 * lib's own string functions are the ones under test and libc keeps its own. */
#define memcpy lib_memcpy
#define memmove lib_memmove
#define memset lib_memset
#define memcmp lib_memcmp
#define strlen lib_strlen
#define strnlen lib_strnlen
#define strcmp lib_strcmp
#define strncmp lib_strncmp
#define strchr lib_strchr
#define strstr lib_strstr
#define strlcpy lib_strlcpy
#define vsnprintf lib_vsnprintf
#define snprintf lib_snprintf
