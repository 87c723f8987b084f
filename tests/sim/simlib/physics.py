"""The pre-copy model of a live migration (shared/DESIGN.md, "The pre-copy
model"), as a transfer that advances in simulated seconds.

Disk bytes D are mirrored first at bandwidth B; memory M then goes in rounds:
round 0 sends M, each next round sends what the guest dirtied meanwhile,
x(i+1) = min(M, r * x(i) / B). The switch-over happens when the remainder fits
the allowed downtime (x / B <= maxDowntime); that time is the downtime. If the
guest dirties faster than the link (r >= B) it never converges: auto-converge
throttles r (20 %, then 10 % more per round, as libvirt does), post-copy
switches over once the completion timeout is reached, otherwise (and post-copy
also when it stops progressing) the migration
fails at completionTimeoutPerGiB x (M + D) / GiB, or after progressTimeout
seconds without progress: the first pass (disk, then memory round 0) is
progress all along, after it a round smaller than every round before.

Pure logic: the engine calls step(dt, bandwidth) with simulated seconds
(wall seconds x --time-scale) and the bandwidth it assigned for that slice.
"""

GiB = 1024 ** 3
DEFAULT_MAX_DOWNTIME = 0.3  # libvirt's default switch-over downtime, seconds


class Transfer:
    def __init__(self, memory, disk, dirty_rate, bandwidth_cap=0.0, max_downtime=DEFAULT_MAX_DOWNTIME,
                 completion_timeout_per_gib=150, progress_timeout=150, allow_auto_converge=False,
                 allow_post_copy=False):
        self.M, self.D, self.r = float(memory), float(disk), float(dirty_rate)
        self.cap = float(bandwidth_cap or 0)
        self.max_downtime = max_downtime
        self.completion_timeout = completion_timeout_per_gib * (self.M + self.D) / GiB
        self.progress_timeout = progress_timeout
        self.auto_converge, self.post_copy_allowed = allow_auto_converge, allow_post_copy
        self.elapsed = 0.0
        self.stage = "disk" if self.D > 0 else "memory"
        self.round = 0
        self.round_left = self.D if self.D > 0 else self.M  # bytes left in the current pass
        self.dirtied = 0.0       # memory dirtied since the current memory round began
        self.processed = 0.0     # bytes sent so far
        self.throttle = 0.0      # auto-converge CPU throttle (0..0.99)
        self.mode = "PreCopy"
        self.rate = 0.0          # bytes/s during the last step
        self.best_round = self.M  # the smallest memory pass so far (round 0 sends all of M)
        self.last_progress = 0.0
        self.result = None       # None while running, else "completed" / "failed"
        self.failure = None
        self.downtime = None

    def remaining(self):
        if self.stage == "disk":
            return self.round_left + self.M
        return self.round_left

    def total(self):
        return self.D + self.M

    def dirty_rate(self):
        return 0.0 if self.mode == "PostCopy" or self.stage == "disk" else self.r * (1.0 - self.throttle)

    def effective_bandwidth(self, link_share):
        return min(link_share, self.cap) if self.cap > 0 else link_share

    def step(self, dt, link_share):
        """Advance `dt` simulated seconds with `link_share` bytes/s of the link.

        A pass that ends inside the slice is followed by the next one in the
        same slice, so the result does not depend on how coarse the slices
        are (a loaded simulator ticks less often): the guest dirties memory
        only while a pass runs, and every pass of a round-trip is at least
        the allowed downtime long, so a slice holds few passes."""
        if self.result or dt <= 0:
            return self.result
        B = self.effective_bandwidth(link_share)
        self.rate = B
        left = dt
        while left > 0 and self.result is None:
            to_end = self.round_left / B if B > 0 else float("inf")
            h = min(left, to_end)
            sent = self.round_left if h >= to_end else min(self.round_left, B * h)
            self.round_left -= sent
            self.processed += sent
            if self.stage == "memory":
                self.dirtied = min(self.M, self.dirtied + self.dirty_rate() * h)
            self.elapsed += h
            left -= h
            if (self.stage == "disk" or self.round == 0) and sent > 0:
                self.last_progress = self.elapsed  # the first pass moves new data all along
            if self.round_left <= 0:
                self._next_pass(B)
            if self.result:
                return self.result
            self._check_progress()
        return self.result

    def _check_progress(self):
        if self.elapsed - self.last_progress > self.progress_timeout and self.mode != "PostCopy":
            if self.post_copy_allowed:
                self.mode = "PostCopy"  # stuck: switch over rather than abort
                return None
            return self._fail("Live migration stuck for %d sec and has been aborted" % self.progress_timeout)
        if self.elapsed > self.completion_timeout:
            if self.post_copy_allowed and self.mode != "PostCopy":
                self.mode = "PostCopy"  # the rest is pulled on demand: no more dirtying
            elif self.mode != "PostCopy":
                return self._fail("Live migration is not completed after %d sec and has been aborted"
                                  % int(self.completion_timeout))
        return None

    def _next_pass(self, B):
        if self.stage == "disk":
            self.stage, self.round, self.round_left, self.dirtied = "memory", 0, self.M, 0.0
            return
        x = self.dirtied
        if self.mode == "PostCopy" or (B > 0 and x / B <= self.max_downtime):
            self.downtime = x / B if B > 0 else 0.0
            self.processed += x
            self.round_left = 0.0
            self.result = "completed"
            return
        self.round += 1
        if x < self.best_round - 1:  # progress: a round smaller than any before
            self.best_round, self.last_progress = x, self.elapsed
        if self.auto_converge:
            self.throttle = min(0.99, 0.2 if self.throttle == 0 else self.throttle + 0.1)
        self.round_left, self.dirtied = x, 0.0

    def _fail(self, reason):
        self.result, self.failure = "failed", reason
        return self.result

    def snapshot(self):
        """The kubevirt_vmi_migration_* values for this moment."""
        return {"kubevirt_vmi_migration_data_bytes_total": self.total(),
                "kubevirt_vmi_migration_data_processed_bytes": self.processed,
                "kubevirt_vmi_migration_data_remaining_bytes": max(0.0, self.remaining()),
                "kubevirt_vmi_migration_dirty_memory_rate_bytes": self.dirty_rate(),
                "kubevirt_vmi_migration_memory_transfer_rate_bytes": self.rate}


def estimate(memory, disk, dirty_rate, bandwidth, **kw):
    """Run the model to its end with a fixed bandwidth: (result, seconds,
    downtime, rounds, failure). For tests and plan-style estimates."""
    t = Transfer(memory, disk, dirty_rate, **kw)
    dt = max(0.01, (memory + disk) / bandwidth / 2000.0) if bandwidth > 0 else 1.0
    while t.result is None and t.elapsed < 1e7:
        t.step(dt, bandwidth)
    return t.result, t.elapsed, t.downtime, t.round, t.failure
