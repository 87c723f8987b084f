"""kubesim's own life cycle, with a private one-cluster scenario: scenario
users, objects and faults are in place when DIR/ready appears; a second kubesim
on the same DIR refuses; SIGTERM and even SIGKILL leave no process behind."""

import json
import os
import signal
import subprocess
import tempfile
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
KUBESIM = os.path.join(HERE, "kubesim")


def descendants(pid):
    """Every live process whose parent chain leads to pid."""
    kids = {}
    for p in os.listdir("/proc"):
        if not p.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % p) as f:
                ppid = int(f.read().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        kids.setdefault(ppid, []).append(int(p))
    out, todo = [], [pid]
    while todo:
        for k in kids.get(todo.pop(), []):
            out.append(k)
            todo.append(k)
    return out


def alive(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


class TestLifecycle(unittest.TestCase):
    def start(self, d):
        p = subprocess.Popen([KUBESIM, "--scenario", "one-cluster", "--dir", d],
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.time() + 120
        while not os.path.exists(os.path.join(d, "ready")):
            if p.poll() is not None:
                self.fail("kubesim exited: %s" % p.stderr.read().decode())
            if time.time() > deadline:
                p.kill()
                self.fail("kubesim not ready in 120 s")
            time.sleep(0.2)
        return p

    def kubectl(self, d, *args):
        return subprocess.run(["kubectl", "--kubeconfig", os.path.join(d, "kubeconfig"), *args],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)

    def test_scenario_contents_then_clean_stops(self):
        with tempfile.TemporaryDirectory() as d:
            p = self.start(d)
            kids = descendants(p.pid)
            try:
                self.assertGreaterEqual(len(kids), 4)  # etcd, apiserver, controller-manager, scheduler
                r = self.kubectl(d, "--context", "solo", "-n", "team", "get", "configmap", "from-scenario",
                                 "-o", "jsonpath={.data.hello}")
                self.assertEqual(r.stdout, "world", r.stderr)
                # The scenario's fault is in force from the start.
                r = self.kubectl(d, "--context", "solo", "-n", "team", "delete", "secret", "x")
                self.assertIn("injected from the scenario", r.stderr)
                # The namespaced user can edit in its namespace only.
                r = self.kubectl(d, "--context", "solo-editor", "auth", "can-i", "create", "configmaps", "-n", "team")
                self.assertEqual(r.stdout.strip(), "yes")
                r = self.kubectl(d, "--context", "solo-editor", "auth", "can-i", "create", "configmaps", "-n",
                                 "default")
                self.assertEqual(r.stdout.strip(), "no")
                with open(os.path.join(d, "state.json")) as f:
                    self.assertEqual(json.load(f)["scenario"], "one-cluster")
                # A second kubesim on the same DIR refuses and touches nothing.
                r = subprocess.run([KUBESIM, "--scenario", "one-cluster", "--dir", d],
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=60)
                self.assertEqual(r.returncode, 1)
                self.assertIn("another kubesim", r.stderr)
                self.assertTrue(os.path.exists(os.path.join(d, "ready")))
            finally:
                p.send_signal(signal.SIGTERM)
                p.wait(60)
            self.assertEqual(p.returncode, 0)
            self.assertEqual([k for k in kids if alive(k)], [])
            self.assertFalse(os.path.exists(os.path.join(d, "ready")))

            # SIGKILL: the children still go (PR_SET_PDEATHSIG).
            p = self.start(d)
            kids = descendants(p.pid)
            p.kill()
            p.wait()
            deadline = time.time() + 30
            while any(alive(k) for k in kids) and time.time() < deadline:
                time.sleep(0.2)
            self.assertEqual([k for k in kids if alive(k)], [])

    def test_bad_scenario_is_a_usage_error(self):
        with tempfile.TemporaryDirectory() as d:
            r = subprocess.run([KUBESIM, "--scenario", "no-such", "--dir", d], stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True, timeout=30)
            self.assertEqual(r.returncode, 2)
            self.assertIn("no scenario 'no-such'", r.stderr)


if __name__ == "__main__":
    unittest.main()
