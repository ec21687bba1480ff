# Shortcuts over scripts/ and the test binaries. Every target works from a fresh clone (scripts/bootstrap.sh
# installs what is missing). BUILD_DIR (default build) and ENDPOINT (default localhost:8090) can be overridden.
BUILD_DIR ?= build
ENDPOINT  ?= localhost:8090
SCRIPTS   := services/runs/tests/scripts
# api-test names its run and task uniquely so it can be repeated against the same service.
API_TEST_ID := $(shell date +%s)

.PHONY: help build run run-manager test api-test integration-test integration-test-postgres build-testclient \
        validate-deploy test-helm test-prometheus clean

help:
	@echo "make build                      build everything into $(BUILD_DIR)/ (scripts/build.sh)"
	@echo "make run                        build and start the stack on SQLite (scripts/start.sh)"
	@echo "make run-manager                build and start flyte-manager (all services, one process, ./flyte.db)"
	@echo "make test                       every test: C++ suites + tests/e2e/*.sh (scripts/test.sh)"
	@echo "make api-test                   services/runs/tests/scripts against a running service on $(ENDPOINT)"
	@echo "make integration-test           runs-service on a temp SQLite file + runs-testclient"
	@echo "make integration-test-postgres  the same on a throwaway PostgreSQL"
	@echo "make build-testclient           build $(BUILD_DIR)/bin/runs-testclient"
	@echo "make validate-deploy            docker-compose.yaml, deploy/config/**, Dockerfile (no Docker engine needed)"
	@echo "make test-helm                  the Helm chart: lint, schema, configs, install/upgrade/uninstall on the test cluster"
	@echo "make test-prometheus            Prometheus scrapes the real services; promtool on /metrics and the alerts"
	@echo "make clean                      remove $(BUILD_DIR)/"

build:
	BUILD_DIR=$(BUILD_DIR) bash scripts/build.sh

run:
	bash scripts/start.sh

run-manager: build
	mkdir -p data && cd data && ../$(BUILD_DIR)/bin/flyte-manager --config ../deploy/config/flyte-manager.yaml

test:
	bash scripts/test.sh

# Needs a service already listening on $(ENDPOINT) (make run, or make run-manager, in another terminal).
api-test:
	@curl -sf --max-time 5 http://$(ENDPOINT)/healthz >/dev/null || \
	  { echo "api-test: nothing answers on http://$(ENDPOINT)/healthz; start it with 'make run'" >&2; exit 1; }
	export ENDPOINT=http://$(ENDPOINT) FLYTE_BUILD_DIR=$(CURDIR)/$(BUILD_DIR); set -e; \
	  bash $(SCRIPTS)/create_project.sh; \
	  bash $(SCRIPTS)/create_task.sh api_test_task_$(API_TEST_ID) 1; \
	  bash $(SCRIPTS)/get_task.sh api_test_task_$(API_TEST_ID) 1; \
	  bash $(SCRIPTS)/list_tasks.sh api_test_task_$(API_TEST_ID); \
	  bash $(SCRIPTS)/create_run.sh api-test-$(API_TEST_ID) api_test_task_$(API_TEST_ID) 1; \
	  bash $(SCRIPTS)/get_run_details.sh api-test-$(API_TEST_ID); \
	  bash $(SCRIPTS)/list_runs.sh; \
	  bash $(SCRIPTS)/list_actions.sh api-test-$(API_TEST_ID); \
	  bash $(SCRIPTS)/abort_run.sh api-test-$(API_TEST_ID) "make api-test"; \
	  echo "api-test: OK"

build-testclient:
	@test -f $(BUILD_DIR)/build.ninja || BUILD_DIR=$(BUILD_DIR) bash scripts/build.sh
	cmake --build $(BUILD_DIR) --target runs-testclient

integration-test: build-testclient
	cmake --build $(BUILD_DIR) --target runs-service flyte-manager
	FLYTE_BUILD_DIR=$(CURDIR)/$(BUILD_DIR) bash tests/e2e/manager_testclient.sh runs

integration-test-postgres: build-testclient
	cmake --build $(BUILD_DIR) --target runs-service flyte-manager
	FLYTE_BUILD_DIR=$(CURDIR)/$(BUILD_DIR) bash tests/e2e/manager_testclient.sh runs-postgres

validate-deploy:
	cmake --build $(BUILD_DIR) --target runs-service queue-service executor flyte-manager
	FLYTE_BUILD_DIR=$(CURDIR)/$(BUILD_DIR) bash tests/e2e/compose_validate.sh

test-helm:
	cmake --build $(BUILD_DIR) --target runs-service queue-service executor flyte-manager
	K8S_WITH_HELM=1 bash scripts/k8s-testenv.sh build
	FLYTE_BUILD_DIR=$(CURDIR)/$(BUILD_DIR) bash tests/e2e/helm.sh

test-prometheus:
	cmake --build $(BUILD_DIR) --target runs-service queue-service executor flyte-manager
	FLYTE_BUILD_DIR=$(CURDIR)/$(BUILD_DIR) bash tests/e2e/prometheus.sh

clean:
	rm -rf $(BUILD_DIR)
