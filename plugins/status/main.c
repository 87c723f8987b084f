/* kubectl-cclm-status: see status.c. */
#include "status.h"

int main(int argc, char **argv)
{
	return cclm_main(&status_plugin, argc, argv);
}
