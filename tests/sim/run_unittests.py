#!/usr/bin/python3
"""Run Python unittest modules and end with one line 'N passed, N failed'
(plus ', N skipped'); exit 1 if anything failed or errored.

  run_unittests.py MODULE_FILE...
"""

import os
import sys
import time
import unittest


class TimedResult(unittest.TextTestResult):
    """Keeps each test's wall time, for the slowest-tests summary."""

    def startTest(self, test):
        self.t0 = time.monotonic()
        super().startTest(test)

    def stopTest(self, test):
        super().stopTest(test)
        self.times = getattr(self, "times", [])
        self.times.append((time.monotonic() - self.t0, test.id()))


def main(paths):
    suite = unittest.TestSuite()
    for p in paths:
        d, f = os.path.split(os.path.abspath(p))
        sys.path.insert(0, d)
        suite.addTests(unittest.defaultTestLoader.loadTestsFromName(f[:-3]))
    t0 = time.monotonic()
    res = unittest.TextTestRunner(verbosity=2, stream=sys.stdout, resultclass=TimedResult).run(suite)
    print("# %.0f s in all; the slowest:" % (time.monotonic() - t0))
    for took, name in sorted(getattr(res, "times", []), reverse=True)[:5]:
        print("#   %6.1f s  %s" % (took, name))
    failed = len(res.failures) + len(res.errors) + len(res.unexpectedSuccesses)
    skipped = len(res.skipped)
    passed = res.testsRun - failed - skipped
    print("%d passed, %d failed, %d skipped" % (passed, failed, skipped))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
