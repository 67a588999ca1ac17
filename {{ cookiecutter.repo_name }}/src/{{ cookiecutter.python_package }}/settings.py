"""Project settings: hooks and configuration loading (see Kedro's settings reference)."""

import os

from omegaconf import OmegaConf

from .console import filter_third_party_warnings
from .hooks import (
    MetricBatchHooks,
    ParameterBatchHooks,
    ProjectHooks,
    RunTimingHooks,
    SparkHooks,
)
from .run_status import skip_final_garbage_collection
from .tracking import (
    resolve_artifact_location,
    resolve_project_path,
    resolve_required_env,
    resolve_tracking_uri,
)

# Project hooks run after the plugins' hooks (kedro-mlflow's run is already active), the last
# listed first: RunTimingHooks times the datasets before ProjectHooks logs them to MLflow.
HOOKS = (
    ProjectHooks(),
    RunTimingHooks(),
    ParameterBatchHooks(),
    MetricBatchHooks(),
    SparkHooks(),
)

# Used by conf/*/mlflow.yml: MLFLOW_TRACKING_URI wins, and a relative
# sqlite:/// path is resolved against the project root, not the working directory.
CUSTOM_RESOLVERS = {
    "tracking_uri": resolve_tracking_uri,
    "artifact_location": resolve_artifact_location,
    "required_env": resolve_required_env,
    "project_path": resolve_project_path,
}
# Registered here with OmegaConf's current API; Kedro skips a resolver that is already
# registered, so it does not register them again with the deprecated one.
for _name, _resolver in CUSTOM_RESOLVERS.items():
    OmegaConf.register_resolver(_name, _resolver, replace=True)
filter_third_party_warnings()
skip_final_garbage_collection()

CONFIG_LOADER_ARGS = {
    "base_env": "base",
    "default_run_env": "local",
    "custom_resolvers": CUSTOM_RESOLVERS,
    # conf/spark/spark.yml: the Spark session's settings (SparkHooks); no other env has one.
    # conf/*/mlflow.yml: kedro-mlflow's own pattern, declared here so that the project's hook can
    # read it before kedro-mlflow's (team.py checks the user against a team server first).
    "config_patterns": {
        "spark": ["spark*", "spark*/**"],
        "mlflow": ["mlflow*", "mlflow*/**", "**/mlflow*"],
        # conf/*/data_store.yml: the data store's remote (data_versions.py).
        "data_store": ["data_store*", "data_store*/**", "**/data_store*"],
    },
}

# A tracking server away for up to about a minute (a restart) is waited for: each request is
# retried 5 times, 0, 4, 8, 16 and 32 s apart, not MLflow's default seven retries (about four
# minutes). A server that cannot be reached when the run starts is refused at once, before
# retrying (team.py). Set these variables yourself to change it.
os.environ.setdefault("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "5")
os.environ.setdefault("MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR", "2")
os.environ.setdefault("MLFLOW_HTTP_REQUEST_TIMEOUT", "20")
