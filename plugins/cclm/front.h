/*
 * front.h — kubectl-cclm itself: prints the workflow, `version`, and
 * forwards `kubectl cclm <sub> ...` to the sibling executable
 * kubectl-cclm-<sub> found next to its own real path (krew puts only this
 * one on PATH; the others are in the same folder).
 */
#ifndef CCLM_FRONT_H
#define CCLM_FRONT_H

int cclm_front_main(int argc, char **argv);

/* The folder of the running executable (realpath of /proc/self/exe) in
 * `out`; 0 or -1. */
int cclm_self_dir(char *out, unsigned long n);

#endif
