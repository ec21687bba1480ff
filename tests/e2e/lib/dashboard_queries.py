#!/usr/bin/env python3
"""dashboard_queries.py PROMETHEUS_URL DASHBOARD_JSON: runs every panel target's PromQL (Grafana's
$__rate_interval as 1m, the datasource variable ignored) as an instant query; prints one line per target with the
number of series it returned and exits 1 naming every target that returned none (or an error). A rate() has data
only once two scrapes of a series fall in its window, so targets without data are asked again for up to
WAIT_SECONDS (20) before they count as empty."""
import json
import os
import sys
import time
import urllib.parse
import urllib.request


def panels(items):
    for p in items:
        yield p
        yield from panels(p.get("panels", []))


def series(url, expr):
    q = urllib.parse.urlencode({"query": expr})
    try:
        with urllib.request.urlopen(f"{url}/api/v1/query?{q}", timeout=10) as r:
            return len(json.load(r)["data"]["result"]), expr
    except Exception as e:  # an HTTP 400 is a PromQL error
        return 0, f"{expr} ({e})"


def main(url, path):
    dash = json.load(open(path))
    targets = [(p["title"], t["refId"], t["expr"].replace("$__rate_interval", "1m"))
               for p in panels(dash["panels"]) for t in p.get("targets", [])]
    got = {}
    deadline = time.monotonic() + float(os.environ.get("WAIT_SECONDS", "20"))
    while True:
        for title, ref, expr in targets:
            if got.get((title, ref), (0, ""))[0] == 0:
                got[(title, ref)] = series(url, expr)
        if all(n for n, _ in got.values()) or time.monotonic() > deadline:
            break
        time.sleep(1)
    empty = []
    for title, ref, _ in targets:
        n, expr = got[(title, ref)]
        print(f"  {n:3d} series: [{title}] {ref}")
        if n == 0:
            empty.append(f"[{title}] {ref}: {expr}")
    for e in empty:
        print(f"no data: {e}", file=sys.stderr)
    if empty:
        sys.exit(1)
    print(f"  every one of the {len(targets)} queries returned data")


if __name__ == "__main__":
    main(*sys.argv[1:3])
