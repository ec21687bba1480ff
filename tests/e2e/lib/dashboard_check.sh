# Sourced by tests/e2e/prometheus.sh. check_dashboard_schema DASHBOARD_JSON DIR: the dashboard is a Grafana
# `Dashboard` of the pinned @grafana/schema (tools/node_modules, scripts/bootstrap.sh), checked offline by
# `tsc --strict` on `(<the JSON>) satisfies Dashboard` (wrong types and unknown keys are errors). No Grafana server
# is installable here (docs/deploy.md#dashboard).
check_dashboard_schema() {
  local json=$1 dir=$2 tools=$ROOT/tools/node_modules
  [ -x "$tools/.bin/tsc" ] && [ -f "$tools/@grafana/schema/package.json" ] ||
    fail "typescript or @grafana/schema missing in tools/node_modules: run scripts/bootstrap.sh"
  mkdir -p "$dir"
  { echo "import type { Dashboard } from '@grafana/schema';"
    printf 'export const dashboard = ('; cat "$json"; echo ') satisfies Dashboard;'; } >"$dir/dashboard.ts"
  cat >"$dir/tsconfig.json" <<JSON
{"compilerOptions": {"strict": true, "noEmit": true, "target": "es2022", "module": "esnext",
  "moduleResolution": "bundler", "skipLibCheck": true, "types": [],
  "paths": {"@grafana/schema": ["$tools/@grafana/schema/dist/types/index.d.ts"]}},
 "files": ["dashboard.ts"]}
JSON
  "$tools/.bin/tsc" -p "$dir" >"$dir/tsc.out" 2>&1 || { cat "$dir/tsc.out" >&2; fail "$json is not a valid Grafana Dashboard (@grafana/schema $(jq -r .version "$tools/@grafana/schema/package.json"))"; }
}
