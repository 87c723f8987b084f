/* kubectl-cclm-migrate: see migrate.c. */
#include <malloc.h>

#include "migrate.h"

int main(int argc, char **argv)
{
	/* The engine runs up to three workers per parallel migration; glibc
	 * would give each thread a malloc arena of its own, and their free
	 * pages would add megabytes to the peak RSS. Two arenas are plenty
	 * for threads that mostly wait on the network. */
	mallopt(M_ARENA_MAX, 2);
	return cclm_main(&migrate_plugin, argc, argv);
}
