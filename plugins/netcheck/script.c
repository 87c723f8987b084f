/* script.c — probe.sh inside the executable: the assembler copies the file
 * into read-only data at build time (the Makefile names it as a
 * prerequisite), followed by a NUL, as nc_probe_script (netcheck.h). */
#include "netcheck.h"

__asm__(".section .rodata\n"
	".global nc_probe_script\n"
	".type nc_probe_script, @object\n"
	"nc_probe_script:\n"
	".incbin \"plugins/netcheck/probe.sh\"\n"
	".byte 0\n"
	".size nc_probe_script, . - nc_probe_script\n"
	".previous\n");
