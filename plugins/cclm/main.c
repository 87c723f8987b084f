/* kubectl-cclm: the front command. See plugins/cclm/front.c. */
#include "front.h"

int main(int argc, char **argv)
{
	return cclm_front_main(argc, argv);
}
