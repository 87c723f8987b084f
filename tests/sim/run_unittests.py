#!/usr/bin/python3
"""Run Python unittest modules and end with one line 'N passed, N failed'
(plus ', N skipped'); exit 1 if anything failed or errored.

  run_unittests.py MODULE_FILE...
"""

import os
import sys
import unittest


def main(paths):
    suite = unittest.TestSuite()
    for p in paths:
        d, f = os.path.split(os.path.abspath(p))
        sys.path.insert(0, d)
        suite.addTests(unittest.defaultTestLoader.loadTestsFromName(f[:-3]))
    res = unittest.TextTestRunner(verbosity=2, stream=sys.stdout).run(suite)
    failed = len(res.failures) + len(res.errors) + len(res.unexpectedSuccesses)
    skipped = len(res.skipped)
    passed = res.testsRun - failed - skipped
    print("%d passed, %d failed, %d skipped" % (passed, failed, skipped))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
