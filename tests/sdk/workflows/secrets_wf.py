"""Tasks for the secrets SDK tests (test_secrets.py): each returns what it saw of its declared secret. Secrets are
declared per TaskEnvironment (the SDK has no per-task `secrets=` on the decorator)."""
import os
import stat

import flyte

env_var_env = flyte.TaskEnvironment(name="sdk_secrets_env", image="python:3.11-slim",
                                    secrets=flyte.Secret(key="sdk-e2e-token", as_env_var="MY_TOKEN"))
file_env = flyte.TaskEnvironment(name="sdk_secrets_file", image="python:3.11-slim",
                                 secrets=flyte.Secret(key="sdk-e2e-file", mount="/etc/flyte/secrets"))
default_name_env = flyte.TaskEnvironment(name="sdk_secrets_default", image="python:3.11-slim",
                                         secrets="sdk-e2e-org-wide")
missing_env = flyte.TaskEnvironment(name="sdk_secrets_missing", image="python:3.11-slim",
                                    secrets=flyte.Secret(key="sdk-e2e-does-not-exist", as_env_var="NOPE"))


@env_var_env.task
async def read_env() -> str:
    return os.environ.get("MY_TOKEN", "<unset>")


@file_env.task
async def read_file() -> str:
    # On the local runtime the directory /etc/flyte/secrets stands for is in FLYTE_SECRETS_DEFAULT_DIR.
    path = os.path.join(os.environ["FLYTE_SECRETS_DEFAULT_DIR"], "sdk-e2e-file")
    mode = stat.S_IMODE(os.stat(path).st_mode)
    with open(path, "rb") as f:
        return f"{oct(mode)}:{f.read().decode()}"


@default_name_env.task
async def read_default_name() -> str:
    # secrets="key" alone: the SDK names the variable after the key, upper-cased, '-' -> '_'.
    return os.environ.get("SDK_E2E_ORG_WIDE", "<unset>")


@missing_env.task
async def read_missing() -> str:
    return os.environ.get("NOPE", "<unset>")
