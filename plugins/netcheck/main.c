/* kubectl-cclm-netcheck: see netcheck.c. */
#include "netcheck.h"

int main(int argc, char **argv)
{
	return cclm_main(&netcheck_plugin, argc, argv);
}
