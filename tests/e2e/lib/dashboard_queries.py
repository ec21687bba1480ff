#!/usr/bin/env python3
"""dashboard_queries.py PROMETHEUS_URL DASHBOARD_JSON: runs every panel target's PromQL (Grafana's
$__rate_interval as 1m, the datasource variable ignored) as an instant query; prints one line per target with the
number of series it returned and exits 1 naming every target that returned none (or an error)."""
import json
import sys
import urllib.parse
import urllib.request


def panels(items):
    for p in items:
        yield p
        yield from panels(p.get("panels", []))


def main(url, path):
    dash = json.load(open(path))
    empty = []
    n = 0
    for p in panels(dash["panels"]):
        for t in p.get("targets", []):
            expr = t["expr"].replace("$__rate_interval", "1m")
            q = urllib.parse.urlencode({"query": expr})
            try:
                with urllib.request.urlopen(f"{url}/api/v1/query?{q}", timeout=10) as r:
                    got = len(json.load(r)["data"]["result"])
            except Exception as e:  # an HTTP 400 is a PromQL error
                got, expr = 0, f"{expr} ({e})"
            n += 1
            print(f"  {got:3d} series: [{p['title']}] {t['refId']}")
            if got == 0:
                empty.append(f"[{p['title']}] {t['refId']}: {expr}")
    for e in empty:
        print(f"no data: {e}", file=sys.stderr)
    if empty:
        sys.exit(1)
    print(f"  every one of the {n} queries returned data")


if __name__ == "__main__":
    main(*sys.argv[1:3])
