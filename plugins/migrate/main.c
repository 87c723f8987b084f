/* kubectl-cclm-migrate: see migrate.c. */
#include "migrate.h"

int main(int argc, char **argv)
{
	return cclm_main(&migrate_plugin, argc, argv);
}
