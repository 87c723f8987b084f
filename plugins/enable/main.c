/* kubectl-cclm-enable: see enable.c. */
#include "enable.h"

int main(int argc, char **argv)
{
	return cclm_main(&enable_plugin, argc, argv);
}
