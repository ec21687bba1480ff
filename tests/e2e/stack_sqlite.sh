#!/usr/bin/env bash
# End to end: the three real binaries (queue-service, runs-service, executor) on SQLite, free ports, temp dir.
# Run -> queue -> executor -> state back; failures with retries, timeouts, abort (process killed), a child
# enqueued through runs-service's QueueService, queue-service down during CreateRun, restarts of runs-service and
# queue-service under a burst of CreateRuns (kill -9), kill -9 of the executor. Exits non-zero on failure.
DB=sqlite
source "$(dirname "$0")/lib/stack.sh"
start_stack
scenario_success
scenario_latency 10
scenario_failure
scenario_timeout
scenario_abort
scenario_child
scenario_queue_down
scenario_burst_restarts 50 KILL
scenario_executor_crash
step "stack_sqlite.sh: all passed"
