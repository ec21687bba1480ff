#!/usr/bin/env bash
# End to end on PostgreSQL (a throwaway server; runs and queue share one database, as in docker-compose): the three
# real binaries; success, abort (process killed), a child enqueued through runs-service, queue-service down during
# CreateRun, restarts of runs-service and queue-service under a burst of CreateRuns (kill -9), and two runs-service
# replicas whose dispatchers share the outbox. Exits non-zero on failure.
DB=postgres
source "$(dirname "$0")/lib/stack.sh"
start_stack
scenario_success
scenario_latency 10
scenario_abort
scenario_child
scenario_queue_down
scenario_burst_restarts 50 KILL
scenario_two_replicas 30
step "stack_postgres.sh: all passed"
