/* migrate.h — kubectl cclm migrate's descriptor (migrate.c), run by main.c. */
#ifndef CCLM_MIGRATE_H
#define CCLM_MIGRATE_H

#include "plugin.h"

extern const struct plugin migrate_plugin;

#endif
