#!/usr/bin/env python3
"""Checks on `helm template` output for tests/e2e/helm.sh (reads the rendered YAML on stdin).

  configs DIR            write each ConfigMap's config.yaml to DIR/<component>.yaml (component label)
  pods                   every Pod template: non-root, read-only root filesystem, no capabilities, seccomp
                         RuntimeDefault, resources, and (flyte containers) /healthz liveness and /readyz readiness
  rbac FILE              the Roles' rules equal those of FILE (deploy/kubernetes/rbac.yaml) for the same names;
                         no Secrets but the executor's create/get/delete
  checksums              print "<deployment> <checksum/config>" per Deployment
  kinds                  print "<kind>/<name>" per object, sorted
Exits 1 naming every problem.
"""
import sys
import yaml


def docs(stream):
    return [d for d in yaml.safe_load_all(stream) if d]


def label(obj, key):
    return obj.get("metadata", {}).get("labels", {}).get(key, "")


def configs(objs, out):
    n = 0
    for o in objs:
        if o["kind"] == "ConfigMap" and "config.yaml" in o.get("data", {}):
            with open(f"{out}/{label(o, 'app.kubernetes.io/component')}.yaml", "w") as f:
                f.write(o["data"]["config.yaml"])
            n += 1
    return [] if n else ["no ConfigMap with a config.yaml"]


def pods(objs):
    problems = []
    for o in objs:
        if o["kind"] not in ("Deployment", "StatefulSet"):
            continue
        name = f"{o['kind']}/{o['metadata']['name']}"
        spec = o["spec"]["template"]["spec"]
        psc = spec.get("securityContext", {})
        if psc.get("runAsNonRoot") is not True:
            problems.append(f"{name}: runAsNonRoot is not true")
        if psc.get("seccompProfile", {}).get("type") != "RuntimeDefault":
            problems.append(f"{name}: Pod seccompProfile is not RuntimeDefault")
        for c in spec["containers"]:
            where = f"{name} container {c['name']}"
            sc = c.get("securityContext", {})
            if sc.get("readOnlyRootFilesystem") is not True:
                problems.append(f"{where}: root filesystem is writable")
            if sc.get("allowPrivilegeEscalation") is not False:
                problems.append(f"{where}: allowPrivilegeEscalation is not false")
            if sc.get("capabilities", {}).get("drop") != ["ALL"]:
                problems.append(f"{where}: capabilities are not all dropped")
            if not c.get("resources", {}).get("requests"):
                problems.append(f"{where}: no resource requests")
            if label(o, "app.kubernetes.io/component") == "postgresql":
                continue
            if c.get("livenessProbe", {}).get("httpGet", {}).get("path") != "/healthz":
                problems.append(f"{where}: liveness is not /healthz")
            if c.get("readinessProbe", {}).get("httpGet", {}).get("path") != "/readyz":
                problems.append(f"{where}: readiness is not /readyz")
            if "checksum/config" not in o["spec"]["template"]["metadata"].get("annotations", {}):
                problems.append(f"{name}: no checksum/config annotation")
    return problems


def canonical(rules):
    return sorted((tuple(sorted(r.get("apiGroups", []))), tuple(sorted(r.get("resources", []))),
                   tuple(sorted(r.get("verbs", [])))) for r in rules)


def rbac(objs, reference_file):
    with open(reference_file) as f:
        want = {d["metadata"]["name"]: canonical(d["rules"]) for d in docs(f) if d["kind"] == "Role"}
    got = {o["metadata"]["name"]: canonical(o["rules"]) for o in objs if o["kind"] == "Role"}
    problems = []
    if sorted(want) != sorted(got):
        problems.append(f"Roles differ: chart {sorted(got)}, {reference_file} {sorted(want)}")
    for name in sorted(set(want) & set(got)):
        if want[name] != got[name]:
            problems.append(f"Role {name}: chart rules {got[name]} != {reference_file} {want[name]}")
    for o in objs:
        if o["kind"] in ("ClusterRole", "ClusterRoleBinding"):
            problems.append(f"{o['kind']}/{o['metadata']['name']}: the chart must not grant cluster-wide rights")
        for r in o.get("rules", []) if o["kind"] == "Role" else []:
            if "*" in r.get("resources", []) + r.get("verbs", []):
                problems.append(f"Role {o['metadata']['name']}: grants {r}")
            # Secrets: only the executor's attempts' own (create, get, delete), never listed or watched.
            executor = o["metadata"]["name"].endswith(("-executor", "-manager"))
            if "secrets" in r.get("resources", []) and (not executor or sorted(r.get("verbs", [])) != ["create", "delete", "get"]):
                problems.append(f"Role {o['metadata']['name']}: grants {r}")
    return problems


def main():
    cmd = sys.argv[1]
    objs = docs(sys.stdin)
    problems = []
    if cmd == "configs":
        problems = configs(objs, sys.argv[2])
    elif cmd == "pods":
        problems = pods(objs)
    elif cmd == "rbac":
        problems = rbac(objs, sys.argv[2])
    elif cmd == "checksums":
        for o in objs:
            if o["kind"] == "Deployment":
                print(o["metadata"]["name"], o["spec"]["template"]["metadata"]["annotations"]["checksum/config"])
    elif cmd == "kinds":
        print("\n".join(sorted(f"{o['kind']}/{o['metadata']['name']}" for o in objs)))
    else:
        problems = [f"unknown command {cmd}"]
    for p in problems:
        print(f"  - {p}", file=sys.stderr)
    sys.exit(1 if problems else 0)


if __name__ == "__main__":
    main()
