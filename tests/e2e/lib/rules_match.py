#!/usr/bin/env python3
"""rules_match.py CHART_RULES SHIPPED_RULES: the chart's rendered PrometheusRule groups (tests/e2e/helm.sh) and
deploy/prometheus/rules.yaml have the same alerts in the same order, with the same `for`, labels and expressions
once the selectors that scope them to a deployment (namespace, service, job) are taken out, and the same summaries
where a summary names no labels. Exits 1 naming every difference."""
import re
import sys
import yaml

SCOPE = re.compile(r'\b(namespace|service|job)\s*(=~|!~|!=|=)\s*"[^"]*"\s*,?\s*')


def normalize(expr):
    e = SCOPE.sub("", expr)
    e = re.sub(r",\s*}", "}", e)
    e = re.sub(r"{\s*}", "", e)
    return re.sub(r"\s+", " ", e).strip()


def alerts(path):
    groups = yaml.safe_load(open(path))["groups"]
    return [r for g in groups for r in g["rules"] if "alert" in r]


def main(chart_path, shipped_path):
    chart, shipped = alerts(chart_path), alerts(shipped_path)
    problems = []
    names_c, names_s = [r["alert"] for r in chart], [r["alert"] for r in shipped]
    if names_c != names_s:
        problems.append(f"alerts differ: chart {names_c}, deploy/prometheus {names_s}")
    for c, s in zip(chart, shipped):
        if c["alert"] != s["alert"]:
            continue
        name = c["alert"]
        if normalize(c["expr"]) != normalize(s["expr"]):
            problems.append(f"{name}: expr differs:\n  chart:  {normalize(c['expr'])}\n  deploy: {normalize(s['expr'])}")
        if str(c.get("for")) != str(s.get("for")):
            problems.append(f"{name}: for {c.get('for')} vs {s.get('for')}")
        if c.get("labels") != s.get("labels"):
            problems.append(f"{name}: labels {c.get('labels')} vs {s.get('labels')}")
        cs, ss = c.get("annotations", {}).get("summary", ""), s.get("annotations", {}).get("summary", "")
        if "$labels" not in cs + ss and cs != ss:
            problems.append(f"{name}: summary {cs!r} vs {ss!r}")
    for p in problems:
        print(p, file=sys.stderr)
    if problems:
        sys.exit(1)
    print(f"{len(chart)} alerts match")


if __name__ == "__main__":
    main(*sys.argv[1:3])
