/*
 * quantity.h — Kubernetes resource quantities ("64Mi", "1.5Gi", "500M",
 * "1000") as numbers, for memory sizes and bandwidths.
 *
 * Accepted: digits, an optional fraction, and one of the suffixes k M G T
 * P (powers of 1000) or Ki Mi Gi Ti Pi (powers of 1024), or none: the form
 * HCO's schema accepts for liveMigrationConfig quantities. No sign, no
 * exponent, no milli.
 *
 * Ownership: nothing is allocated.
 */
#ifndef CCLM_QUANTITY_H
#define CCLM_QUANTITY_H

#include <stdbool.h>

/* The value of `s` in units (bytes for memory); false, *out untouched,
 * when `s` is NULL or not a quantity of the form above. */
bool quantity_parse(const char *s, double *out);

#endif
