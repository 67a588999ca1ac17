"""Model helpers shared by training, benchmarking and the fairness review.

Everything a model needs is configuration: feature columns (``training.features``), the
candidate estimator (an import path and keyword arguments) and the baselines. This module turns
that configuration into scikit-learn objects, refusing a bad key with a message that names it
before any data is read or any model is fitted. Heavy imports stay inside the functions, so
``kedro`` commands that only load the catalog stay fast.
"""

import contextlib
import importlib
import inspect
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from functools import partial
from typing import Any, ClassVar

import numpy as np
import pandas as pd
from kedro.io import AbstractDataset, DatasetError

from .columns import TEXT
from .datasets import RUN_METRICS
from .errors import ConfigError, DataError
from .groups import attribute_columns
from .problem import Problem

logger = logging.getLogger(__name__)

TRAINING_PARAMETERS = "conf/base/parameters_training.yml"
DATASET_PARAMETERS = "conf/base/parameters_dataset.yml"


# --- estimators from configuration ------------------------------------------------------------


def load_estimator_class(path: Any, key: str, parameters_file: str, problem: Problem) -> type:
    """The estimator class at an import path, e.g. ``sklearn.linear_model.LogisticRegression``;
    null: the problem type's default candidate. It must predict what the problem type needs."""
    if path is None:
        path = problem.DEFAULT_CANDIDATE
    where = f"{key} in {parameters_file}"
    if not isinstance(path, str) or "." not in path:
        raise ConfigError(
            f"{where} is {path!r}; give a full import path such as "
            f"{problem.DEFAULT_CANDIDATE!r} (or null for that default)."
        )
    module_name, _, class_name = path.rpartition(".")
    try:
        module = importlib.import_module(module_name)
    except ImportError as error:
        raise ConfigError(
            f"{where} is {path!r}, but module {module_name!r} cannot be imported ({error})."
        ) from None
    estimator_class = getattr(module, class_name, None)
    if estimator_class is None:
        raise ConfigError(f"{where} is {path!r}, but {module_name!r} has no {class_name!r}.")
    if not isinstance(estimator_class, type):
        raise ConfigError(f"{where} is {path!r}, which is not a class.")
    problem.check_estimator_class(estimator_class, where)
    return estimator_class


def accepted_parameters(estimator_class: type) -> set[str] | None:
    """Keyword arguments of the estimator's constructor (None: it takes any keyword)."""
    parameters = inspect.signature(estimator_class).parameters.values()
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters):
        return None
    return {
        p.name
        for p in parameters
        if p.kind in (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)
    }


def build_estimator(
    spec: Any, key: str, parameters_file: str, problem: Problem, random_state: int | None = None
) -> Any:
    """An unfitted estimator from ``{class: <import path>, kwargs: {...}}``.

    A keyword the estimator does not take, or a value it refuses, is a ConfigError naming
    ``<key>.kwargs.<name>``. ``random_state`` is set to the given seed when the estimator
    takes one and the configuration does not set it, so every run is reproducible.
    """
    if not isinstance(spec, dict) or "class" not in spec:
        raise ConfigError(
            f"{key} in {parameters_file} must be a mapping with 'class' (an import path) "
            f"and optional 'kwargs'; it is {spec!r}."
        )
    unknown_keys = set(spec) - {"class", "kwargs"}
    if unknown_keys:
        raise ConfigError(
            f"{key} in {parameters_file} has unknown key(s) {sorted(unknown_keys)}; "
            "use 'class' and 'kwargs'."
        )
    estimator_class = load_estimator_class(spec["class"], f"{key}.class", parameters_file, problem)
    kwargs = dict(spec.get("kwargs") or {})
    accepted = accepted_parameters(estimator_class)
    if accepted is not None:
        for name in kwargs:
            if name not in accepted:
                raise ConfigError(
                    f"{key}.kwargs.{name} in {parameters_file}: {estimator_class.__name__} "
                    f"takes no keyword {name!r}; it takes {sorted(accepted)}."
                )
        if random_state is not None and "random_state" in accepted:
            kwargs.setdefault("random_state", random_state)
    try:
        estimator = estimator_class(**kwargs)
        validate = getattr(estimator, "_validate_params", None)  # scikit-learn's own checks
        if callable(validate):
            validate()
    except (TypeError, ValueError) as error:
        raise ConfigError(f"{key}.kwargs in {parameters_file}: {error}") from None
    return estimator


# --- features and preprocessing ---------------------------------------------------------------


def sensitive_columns(params: dict[str, Any]) -> list[str]:
    """The columns of the sensitive attributes (``training.sensitive_features``)."""
    return attribute_columns(params.get("sensitive_features"))


def feature_columns(params: dict[str, Any]) -> tuple[list[str], list[str]]:
    """The numeric and categorical model inputs configured in ``training``.

    Columns in ``features.drop`` are never inputs. A sensitive attribute listed as a feature
    is refused unless ``use_sensitive_features`` is true: the fairness review measures the
    model across those attributes, and a model that uses them must say so.
    """
    features = params.get("features") or {}
    target = params.get("target")
    drop = set(features.get("drop") or [])
    numeric = [c for c in features.get("numeric") or [] if c not in drop]
    categorical = [c for c in features.get("categorical") or [] if c not in drop]
    if not params["use_sensitive_features"]:
        listed = [c for c in sensitive_columns(params) if c in {*numeric, *categorical}]
        if listed:
            raise ConfigError(
                f"dataset.features in {DATASET_PARAMETERS} lists the sensitive attribute(s) "
                f"{listed} as model inputs while training.use_sensitive_features in "
                f"{TRAINING_PARAMETERS} is false; remove them from the features, or set it true."
            )
    both = sorted(set(numeric) & set(categorical))
    if both:
        raise ConfigError(
            f"training.features in {TRAINING_PARAMETERS} lists {both} as both numeric and "
            "categorical; keep each column in one list."
        )
    if target in numeric or target in categorical:
        raise ConfigError(
            f"training.features in {TRAINING_PARAMETERS} lists the target {target!r} as a "
            "feature; remove it."
        )
    if not numeric and not categorical:
        raise ConfigError(
            f"training.features in {TRAINING_PARAMETERS} leaves no model inputs; list columns "
            "under numeric or categorical."
        )
    return numeric, categorical


def check_columns(frame: pd.DataFrame, columns: list[str], what: str, dataset: str) -> None:
    """Refuse a frame without the configured columns, naming them and the key."""
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise DataError(
            f"Dataset '{dataset}' has no column(s) {missing} ({what} in "
            f"{TRAINING_PARAMETERS}); its columns are {list(frame.columns)}."
        )


def checked_model_inputs(
    frame: pd.DataFrame, training: dict[str, Any], dataset: str
) -> tuple[pd.DataFrame, list[str], list[str]]:
    """The model inputs of ``frame`` for the configured features, with the numeric and the
    categorical feature names; DataError naming the missing columns of ``dataset``."""
    numeric, categorical = feature_columns(training)
    check_columns(frame, numeric + categorical, "training.features", dataset)
    return model_inputs(frame, numeric, categorical), numeric, categorical


def model_inputs(frame: pd.DataFrame, numeric: list[str], categorical: list[str]) -> pd.DataFrame:
    """The feature columns in plain types: numbers as float (NaN missing), categories as text."""
    columns: dict[str, Any] = {}
    for column in numeric:
        values = frame[column]
        if values.dtype == "float64":
            columns[column] = values
        elif pd.api.types.is_integer_dtype(values) or pd.api.types.is_bool_dtype(values):
            columns[column] = values.to_numpy(dtype="float64", na_value=np.nan)
        else:
            columns[column] = pd.to_numeric(values, errors="coerce").astype("float64")
    for column in categorical:
        values = frame[column]
        if values.dtype == TEXT:  # text whose missing value is NaN already
            columns[column] = values.to_numpy(dtype=object)
        else:
            columns[column] = values.astype(object).where(values.notna(), np.nan)
    return pd.DataFrame(columns, index=frame.index)  # one frame: no per-column insert cost


def seeded_sample(frame: pd.DataFrame, max_rows: int, seed: int) -> pd.DataFrame:
    """``frame`` itself up to ``max_rows`` rows, else a seeded random sample of ``max_rows``."""
    return frame if len(frame) <= max_rows else frame.sample(n=max_rows, random_state=seed)


def load_logged_model(model_uri: str) -> Any:
    """The scikit-learn model behind an MLflow model URI (``models:/...``, ``runs:/...``)."""
    import mlflow

    return mlflow.sklearn.load_model(model_uri)


def decision_threshold_of(model_run_id: str, training: dict[str, Any]) -> float:
    """The threshold a model decides at: tag ``decision.threshold`` of the run that trained it
    (``training.decision``), else ``training.decision_threshold`` (a model from before it)."""
    import mlflow
    from mlflow.exceptions import MlflowException

    if model_run_id:
        try:
            tag = mlflow.MlflowClient().get_run(model_run_id).data.tags.get("decision.threshold")
        except MlflowException:
            tag = None
        if tag:
            return float(tag)
    logger.info(
        "Model of run %r has no decision.threshold tag: deciding at training.decision_threshold.",
        model_run_id,
    )
    return float(training["decision_threshold"])


def build_preprocessor(
    numeric: list[str], categorical: list[str], numeric_imputation: str = "median"
) -> Any:
    """Impute and scale numbers (with missing-value indicators); impute and one-hot categories.

    Categories unseen in training are encoded as all zeros (``handle_unknown="ignore"``).
    """
    from sklearn.compose import ColumnTransformer
    from sklearn.impute import SimpleImputer
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    numbers = Pipeline(
        [
            ("impute", SimpleImputer(strategy=numeric_imputation, add_indicator=True)),
            ("scale", StandardScaler()),
        ]
    )
    categories = Pipeline(
        [
            ("impute", SimpleImputer(strategy="constant", fill_value="missing")),
            ("one_hot", OneHotEncoder(handle_unknown="ignore", sparse_output=False)),
        ]
    )
    return ColumnTransformer(
        [("numeric", numbers, numeric), ("categorical", categories, categorical)],
        remainder="drop",
    )


def build_model(params: dict[str, Any], estimator: Any) -> Any:
    """The full model: the configured preprocessing followed by ``estimator``."""
    from sklearn.pipeline import Pipeline

    numeric, categorical = feature_columns(params)
    imputation = params["preprocessing"]["numeric_imputation"]
    if imputation not in ("mean", "median", "most_frequent"):
        raise ConfigError(
            f"training.preprocessing.numeric_imputation in {TRAINING_PARAMETERS} is "
            f"{imputation!r}; use mean, median or most_frequent."
        )
    preprocessor = build_preprocessor(numeric, categorical, imputation)
    return Pipeline([("preprocess", preprocessor), ("model", estimator)])


@contextmanager
def thread_limit(max_threads: int | None) -> Iterator[None]:
    """Limit the threads of native libraries (OpenMP, BLAS) while fitting; None: no limit.

    Many small fits on a busy machine run faster and steadier on one thread each.
    """
    if not max_threads:
        yield
        return
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=int(max_threads)):
        yield


# --- the model in MLflow ----------------------------------------------------------------------


class MlflowSklearnModelDataset(AbstractDataset[dict[str, Any], Any]):
    """Log a fitted scikit-learn model to the active MLflow run, with signature and example.

    Save ``{"model": fitted_model, "input_example": frame}``: the model is logged with
    ``mlflow.sklearn.log_model(name=...)`` (an MLflow 3 LoggedModel, ``models:/<id>``), its
    signature inferred from the example and the output of ``pyfunc_predict_fn``. Loading returns
    the model logged in this session. ``skops_trusted_types`` lists exactly the types outside
    skops' default trust that the model holds (MLflow reloads the model to check it).

    Requirements: the model's ``requirements.txt`` pins, with ``==``, the packages the model
    needs to be loaded and served: scikit-learn and its runtime libraries (numpy, scipy, joblib,
    threadpoolctl), pandas (a pyfunc model takes a DataFrame), the serialisation library
    (skops, or cloudpickle), MLflow, and the distribution of every other module whose classes
    or functions the fitted model holds (e.g. an estimator from another library). The versions
    are those installed in the running environment (``importlib.metadata``): ``uv sync`` made
    it from ``uv.lock``, and it is the environment the model was fitted in, so the pins say what
    the model was really made with, also when someone installed a package by hand. Given
    explicit requirements, MLflow skips its own inference, which in a uv project runs ``uv
    export`` (seconds per model) and lists the whole project's dependencies rather than the
    model's. ``pip_requirements`` in the catalog entry replaces the computed list,
    ``extra_pip_requirements`` adds to it.

    ``linked_metrics``: the run's metric namespaces (e.g. ``test``) that describe the model; the
    model's page in MLflow shows them (``datasets.RunMetrics`` links them when the run ends).
    """

    # What a scikit-learn model needs besides the packages of the objects it holds.
    BASE_REQUIREMENTS = ("scikit-learn", "numpy", "scipy", "joblib", "threadpoolctl", "pandas")
    SERIALISATION_REQUIREMENTS: ClassVar[dict[str, tuple[str, ...]]] = {
        "skops": ("skops",),
        "cloudpickle": ("cloudpickle",),
    }

    def __init__(
        self,
        *,
        name: str = "model",
        pyfunc_predict_fn: str = "predict_proba",
        skops_trusted_types: list[str] | None = None,
        pip_requirements: list[str] | None = None,
        extra_pip_requirements: list[str] | None = None,
        save_args: dict[str, Any] | None = None,
        linked_metrics: list[str] | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> None:
        self._name = name
        self._linked_metrics = list(linked_metrics or [])
        self._predict_fn = pyfunc_predict_fn
        self._trusted = list(skops_trusted_types or [])
        self._pip_requirements = list(pip_requirements) if pip_requirements else None
        self._extra_requirements = list(extra_pip_requirements or [])
        self._save_args = dict(save_args or {})
        self.metadata = metadata
        self.model_uri: str | None = None

    @staticmethod
    def _held_modules(model: Any, limit: int = 200_000) -> set[str]:
        """Top-level modules of the classes and functions reachable from ``model``'s attributes.

        The project's own modules are left out of the requirements (they are not on PyPI): a
        model that holds the project's functions needs the project's code to load.
        """
        modules: set[str] = set()
        seen: set[int] = set()
        stack = [model]
        while stack and len(seen) < limit:
            item = stack.pop()
            if id(item) in seen or item is None or isinstance(item, str | bytes | int | float):
                continue
            seen.add(id(item))
            modules.add(type(item).__module__)
            if isinstance(item, type) or callable(item):
                modules.add(getattr(item, "__module__", None) or "")
            if isinstance(item, partial):
                stack += [item.func, *item.args, *item.keywords.values()]
            if isinstance(item, np.ndarray):
                if item.dtype == object:
                    stack.extend(item.ravel()[:1000].tolist())
                continue
            if isinstance(item, dict):
                stack.extend(item.keys())
                stack.extend(item.values())
            elif isinstance(item, list | tuple | set | frozenset):
                stack.extend(item)
            if hasattr(item, "__dict__") and not isinstance(item, type):
                stack.extend(vars(item).values())
        return {module.split(".")[0] for module in modules if module}

    def requirements(self, model: Any, serialization_format: str) -> list[str]:
        """``name==version`` of what ``model`` needs, from the installed environment."""
        import sys
        from importlib import metadata

        wanted = [
            "mlflow",
            *self.BASE_REQUIREMENTS,
            *self.SERIALISATION_REQUIREMENTS.get(serialization_format, ()),
        ]
        known = {name.replace("-", "_") for name in wanted} | {"sklearn", "builtins"}
        own = __name__.split(".")[0]
        others = self._held_modules(model) - known - set(sys.stdlib_module_names) - {own}
        if others:  # scanning every installed distribution takes a second: only when needed
            by_module = metadata.packages_distributions()
            wanted += [dist for module in sorted(others) for dist in by_module.get(module, [])]
        pins: dict[str, str] = {}
        for distribution in wanted:
            key = distribution.lower().replace("_", "-")
            if key not in pins:
                with contextlib.suppress(metadata.PackageNotFoundError):
                    pins[key] = f"{distribution}=={metadata.version(distribution)}"
        return list(pins.values())

    def _save(self, data: dict[str, Any]) -> None:
        import mlflow
        from mlflow.models import infer_signature

        model, example = data["model"], data["input_example"]
        predict_fn = data.get("predict_fn") or self._predict_fn  # the problem type's, if given
        if mlflow.active_run() is None:
            logger.info("No active MLflow run: model %r not logged.", self._name)
            return
        signature = infer_signature(example, getattr(model, predict_fn)(example))
        save_args = dict(self._save_args)
        serialization = (
            save_args.get("serialization_format")
            or getattr(mlflow.sklearn, "_get_default_serialization_format", lambda: "skops")()
        )
        explicit = self._pip_requirements or save_args.pop("pip_requirements", None)
        extra = [*self._extra_requirements, *save_args.pop("extra_pip_requirements", [])]
        if "conda_env" not in save_args:  # a conda environment says it all itself
            requirements = explicit or self.requirements(model, serialization)
            save_args["pip_requirements"] = [*requirements, *extra]
        try:
            info = mlflow.sklearn.log_model(
                model,
                name=self._name,
                signature=signature,
                input_example=example,
                pyfunc_predict_fn=predict_fn,
                skops_trusted_types=self._trusted or None,
                **save_args,
            )
        except mlflow.exceptions.MlflowException as error:
            if "untrusted types" not in str(error):
                raise
            raise ConfigError(
                "The model holds types that skops does not trust by default; if you trust "
                "them, list them under skops_trusted_types of its catalog entry "
                f"(conf/base/catalog_training.yml). MLflow said: {str(error)[:600]}"
            ) from None
        self.model_uri = info.model_uri
        RUN_METRICS.link(mlflow.active_run().info.run_id, info.model_id, self._linked_metrics)
        mlflow.set_tag("training.model_uri", info.model_uri)
        logger.info("Model logged to MLflow as %s", info.model_uri)

    def _load(self) -> Any:
        import mlflow

        if self.model_uri is None:
            raise DatasetError(f"No model {self._name!r} has been logged in this session.")
        return mlflow.sklearn.load_model(self.model_uri)

    def _describe(self) -> dict[str, Any]:
        return {"name": self._name, "pyfunc_predict_fn": self._predict_fn}
