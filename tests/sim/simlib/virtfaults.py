"""Faults in the simulated virtualization, on demand (admin endpoint, simctl)
or from the scenario's `virtFaults` list. One JSON object per fault, by
`action`:

  fail-migration    {cluster?, namespace?, vmi?, phase, reason?, count? (1)}
                    a VMIM entering `phase` fails instead, with `reason` as
                    the migration state's failureReason
  move-sync-leader  {cluster}   the sync leader's pod is deleted: the Lease
                    and KubeVirt status.synchronizationAddresses move to
                    another pod (a new address)
  cut-fabric        {segment? ("*")}   no traffic across that segment
  restore-fabric    {segment? ("*": every cut)}
  slow-link         {segment? ("*"), bandwidth ("100Mi" bytes/s, "1Gbit";
                    null: back to the segment's own)}
  rotate-ca         {cluster}   a new KubeVirt CA now (peers stop trusting it)
"""

from . import fabric as fabric_mod, kubeapi, virt


class FaultError(ValueError):
    pass


def apply(engine, clusters, fault):
    """Carry out one fault; returns what was done (a dict)."""
    action = fault.get("action")
    by_name = {c.name: c for c in clusters}
    if action == "fail-migration":
        if not fault.get("phase"):
            raise FaultError("fail-migration needs a phase")
        return engine.add_fault({k: fault.get(k) for k in ("cluster", "namespace", "vmi", "phase", "reason")}
                                | {"count": int(fault.get("count", 1))})
    if action in ("move-sync-leader", "rotate-ca"):
        c = by_name.get(fault.get("cluster"))
        if c is None:
            raise FaultError("%s needs a cluster (one of %s)" % (action, ", ".join(by_name)))
        if action == "rotate-ca":
            c.virt_operator.rotate_ca()
            return {"action": action, "cluster": c.name, "rotations": c.virt_operator.rotations}
        lease = c.client.get(kubeapi.resource_path("coordination.k8s.io", "v1", "leases", virt.CNV_NS, virt.SYNC),
                             ok404=True)
        holder = ((lease or {}).get("spec") or {}).get("holderIdentity")
        if not holder:
            raise FaultError("%s has no sync leader (is the gate on?)" % c.name)
        c.client.delete(kubeapi.resource_path("", "v1", "pods", virt.CNV_NS, holder), ok404=True)
        return {"action": action, "cluster": c.name, "deleted": holder}
    seg = fault.get("segment") or "*"
    known = {s["name"] for s in engine.fabric.spec["segments"]}
    if seg != "*" and seg not in known:
        raise FaultError("no segment '%s' (known: %s)" % (seg, ", ".join(sorted(known)) or "none"))
    if action == "cut-fabric":
        engine.fabric.cut.add(seg)
    elif action == "restore-fabric":
        if seg == "*":
            engine.fabric.cut.clear()
        else:
            engine.fabric.cut.discard(seg)
    elif action == "slow-link":
        if fault.get("bandwidth") is None:
            engine.fabric.slow.pop(seg, None)
        else:
            try:
                engine.fabric.slow[seg] = fabric_mod.parse_bandwidth(fault["bandwidth"])
            except fabric_mod.FabricError as e:
                raise FaultError(str(e))
    else:
        raise FaultError("unknown action '%s' (fail-migration, move-sync-leader, cut-fabric, restore-fabric, "
                         "slow-link, rotate-ca)" % action)
    engine.wake.set()
    return {"action": action, "segment": seg}


def view(engine):
    return {"migrationFaults": list(engine.faults), "cut": sorted(engine.fabric.cut),
            "slow": dict(engine.fabric.slow)}


def clear(engine):
    with engine.lock:
        engine.faults.clear()
    engine.fabric.cut.clear()
    engine.fabric.slow.clear()
    return view(engine)
