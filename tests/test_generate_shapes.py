"""Fast tests of ``tools/generate_shapes.py``'s regression and multiclass shapes (no project, no Kedro).

Each shape is generated at 2,000 rows and checked the way the project will meet it: the same seed
gives the same bytes; the planted dirty rows are dirty in the file (by the row-level checks an
expectation would make) and no other row is; the target has the promised form on the clean rows;
a quick model beats a dummy; and the planted group disparity shows in the model's errors by group.
The ``tools`` folder is on ``sys.path`` through ``conftest.py``.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from generate_shapes import PROBLEM_TYPES, SHAPES, generate, main
from sklearn.compose import make_column_transformer
from sklearn.dummy import DummyClassifier, DummyRegressor
from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor
from sklearn.linear_model import Ridge
from sklearn.metrics import balanced_accuracy_score
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

ROWS, SEED = 2000, 7
NEW_SHAPES = ("regression", "multiclass")
NUMBER = r"-?\d+(?:\.\d+)?"
# Thresholds the planted disparities must clear (documented in the generator's manifest).
REGRESSION_MAE_RATIO = 1.5  # MAE of the disadvantaged group / MAE of the other
REGRESSION_RESIDUAL_GAP = 0.10  # gap of the groups' mean residuals, as a share of the target's std
MULTICLASS_LABEL_SHARE_RATIO = 0.6  # share of "high" labels, group / other (demographic parity)
MULTICLASS_PRECISION_RATIO = 0.8  # precision of "high" predictions, group / other
MULTICLASS_OVERPREDICTION_RATIO = 1.5  # share predicted a higher class than the label, group / other


def dirty_by_kind(shape: str, raw: pd.DataFrame) -> dict[str, pd.Series]:
    """Each planted kind, found by the row-level check an expectation would make."""
    if shape == "regression":
        area, price = raw["floor_area_m2"], raw["price_per_m2"]
        area_number = area.str.fullmatch(NUMBER)
        area_value = pd.to_numeric(area.where(area_number), errors="coerce")
        return {
            "floor_area_not_a_number": ~area_number,
            "floor_area_out_of_range": area_number & ~area_value.between(10, 1000),
            "price_not_a_number": ~price.str.fullmatch(r"\d+(?:\.\d+)?"),
        }
    tenure, priority = raw["customer_tenure_months"], raw["priority"]
    tenure_number = tenure.str.fullmatch(r"-?\d+")
    tenure_value = pd.to_numeric(tenure.where(tenure_number), errors="coerce")
    return {
        "affected_users_not_a_number": ~raw["affected_users"].str.fullmatch(r"\d+"),
        "tenure_out_of_range": tenure_number & ~tenure_value.between(0, 360),
        "priority_not_a_class": (priority != "") & ~priority.isin(["low", "medium", "high"]),
        "priority_missing": priority == "",
    }


class Generated:
    def __init__(self, shape: str, out: Path) -> None:
        self.shape, self.out = shape, out
        self.manifest = generate(shape, out, rows=ROWS, seed=SEED)
        self.path = out / self.manifest["main_source"]["file"]
        # As the project's catalog reads it: all text, only an empty field missing.
        self.raw = pd.read_csv(self.path, dtype=str, keep_default_na=False)
        self.clean = self.raw.drop(index=self.manifest["quarantined"]["source_rows"])

    def split(self):
        """Inputs (no sensitive attribute), target and the planted group's mask; a 70/30 split."""
        features = self.manifest["features"]
        numeric, categorical = features["numeric"], features["categorical"]
        inputs = self.clean[numeric + categorical].copy()
        inputs[numeric] = inputs[numeric].astype(float)
        inputs[categorical] = inputs[categorical].astype("category")
        target = self.clean[self.manifest["target"]["column"]].to_numpy()
        if self.manifest["target"]["problem_type"] == "regression":
            target = target.astype(float)
        planted = self.manifest["planted_disparity"]
        group = (self.clean[planted["attribute"]] == planted["group"]).to_numpy()
        return train_test_split(inputs, target, group, test_size=0.3, random_state=0)


@pytest.fixture(scope="module")
def shapes(tmp_path_factory) -> dict[str, Generated]:
    return {shape: Generated(shape, tmp_path_factory.mktemp(shape)) for shape in NEW_SHAPES}


@pytest.fixture(params=NEW_SHAPES)
def generated(request, shapes: dict[str, Generated]) -> Generated:
    return shapes[request.param]


def test_shapes_and_problem_types() -> None:
    assert set(NEW_SHAPES) <= set(SHAPES)
    assert set(PROBLEM_TYPES) == set(SHAPES)
    assert {PROBLEM_TYPES[s] for s in NEW_SHAPES} == {"regression", "multiclass"}


def test_same_seed_same_bytes(generated: Generated, tmp_path: Path) -> None:
    again = generate(generated.shape, tmp_path, rows=ROWS, seed=SEED)
    assert again == generated.manifest
    for name in (generated.path.name, "manifest.json"):
        assert (tmp_path / name).read_bytes() == (generated.out / name).read_bytes(), name
    other = generate(generated.shape, tmp_path / "other", rows=ROWS, seed=SEED + 1)
    assert other["files"] != generated.manifest["files"]


def test_manifest_structure(generated: Generated) -> None:
    manifest = generated.manifest
    assert manifest["shape"] == generated.shape and manifest["rows"] == ROWS == len(generated.raw)
    assert manifest["target"]["problem_type"] == PROBLEM_TYPES[generated.shape]
    assert "positive" not in manifest["target"] and "positive_rate" not in manifest["target"]
    id_column = manifest["id_column"]
    assert id_column == manifest["main_source"]["id_column"] == generated.raw.columns[0]
    assert generated.raw[id_column].is_unique
    sensitive = manifest["sensitive"]
    assert sorted(sensitive) == sorted(manifest["sensitive_attributes"])
    inputs = manifest["features"]["numeric"] + manifest["features"]["categorical"]
    assert not set(sensitive) & set(inputs)
    expected_columns = {id_column, manifest["target"]["column"], *inputs, *sensitive}
    assert set(generated.raw.columns) == expected_columns
    for name, about in sensitive.items():
        if about["type"] == "numeric":
            values = generated.raw[name].astype(int)
            bins = about["bins"]
            assert bins == sorted(bins) and bins[0] <= values.min() and values.max() < bins[-1]
        else:
            assert set(generated.raw[name]) == set(about["groups"])
    planted = manifest["planted_disparity"]
    assert planted["attribute"] in sensitive
    assert planted["group"] in sensitive[planted["attribute"]]["groups"]


def test_planted_dirty_rows_are_dirty_and_the_only_dirty_ones(generated: Generated) -> None:
    manifest = generated.manifest
    dirty = manifest["dirty_rows"]
    found = dirty_by_kind(generated.shape, generated.raw)
    assert set(found) == set(dirty["by_kind"])
    for kind, planted in dirty["by_kind"].items():
        positions = np.flatnonzero(found[kind].to_numpy()).tolist()
        assert positions == planted["source_rows"], kind
        assert planted["count"] == len(positions) >= 1, kind
    union = sorted(r for planted in dirty["by_kind"].values() for r in planted["source_rows"])
    assert union == dirty["source_rows"] == manifest["quarantined"]["source_rows"]
    assert len(set(union)) == len(union)  # one kind per dirty row


def test_quarantined_share_is_one_percent_exactly(generated: Generated) -> None:
    quarantined = generated.manifest["quarantined"]
    assert quarantined["count"] == len(quarantined["source_rows"]) == round(ROWS * 0.01)
    assert generated.manifest["quarantined_share"] == 0.01


def test_ten_thousand_rows(tmp_path: Path) -> None:
    for shape in NEW_SHAPES:
        manifest = generate(shape, tmp_path / shape, rows=10_000, seed=SEED)
        assert manifest["quarantined"]["count"] == 100


def test_cli_prints_a_summary(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--shape", "regression", "--rows", "500", "--out", str(tmp_path / "r")]) == 0
    assert main(["--shape", "multiclass", "--rows", "500", "--out", str(tmp_path / "m")]) == 0
    printed = capsys.readouterr().out
    assert "euros per square metre" in printed and "class shares low" in printed
    assert json.loads((tmp_path / "m" / "manifest.json").read_text())["rows"] == 500


def test_binary_shapes_say_binary_and_plant_no_disparity(tmp_path: Path) -> None:
    for shape in ("single_table", "three_sources"):
        manifest = generate(shape, tmp_path / shape, rows=300, seed=SEED)
        assert manifest["target"]["problem_type"] == "binary"
        assert "positive_rate" in manifest["target"]
        assert manifest["planted_disparity"] is None
        assert sorted(manifest["sensitive"]) == sorted(manifest["sensitive_attributes"])
        assert manifest["id_column"] == manifest["main_source"]["id_column"]


@pytest.fixture(scope="module")
def regression(shapes: dict[str, Generated]) -> Generated:
    return shapes["regression"]


@pytest.fixture(scope="module")
def multiclass(shapes: dict[str, Generated]) -> Generated:
    return shapes["multiclass"]


def test_regression_target_is_positive_with_many_values(regression: Generated) -> None:
    target = regression.clean["price_per_m2"].astype(float)
    about = regression.manifest["target"]
    assert target.nunique() > 200 and about["distinct_values"] == target.nunique()
    assert (target > 0).all() and not about["has_zeros"]
    assert about["min"] == pytest.approx(target.min()) and about["mean"] == pytest.approx(target.mean())
    assert about["std"] == pytest.approx(target.std(ddof=0), abs=0.01)
    assert about["unit"] == "euros per square metre"


def test_regression_model_learns_and_shows_the_planted_disparity(regression: Generated) -> None:
    x_train, x_test, y_train, y_test, _, group = regression.split()
    model = HistGradientBoostingRegressor(random_state=0, categorical_features="from_dtype")
    predicted = model.fit(x_train, y_train).predict(x_test)
    features = regression.manifest["features"]
    ridge = make_pipeline(
        make_column_transformer(
            (StandardScaler(), features["numeric"]), (OneHotEncoder(), features["categorical"])
        ),
        Ridge(),
    )

    def rmse(p: np.ndarray) -> float:
        return float(np.sqrt(np.mean((y_test - p) ** 2)))

    dummy = DummyRegressor(strategy="mean").fit(x_train, y_train).predict(x_test)
    assert rmse(predicted) < 0.8 * rmse(dummy)
    assert rmse(predicted) < 0.95 * rmse(ridge.fit(x_train, y_train).predict(x_test))

    residual = y_test - predicted
    mae_ratio = np.abs(residual[group]).mean() / np.abs(residual[~group]).mean()
    gap = residual[~group].mean() - residual[group].mean()
    assert mae_ratio > REGRESSION_MAE_RATIO, mae_ratio
    assert gap > REGRESSION_RESIDUAL_GAP * y_test.std(), (gap, y_test.std())
    planted = regression.manifest["planted_disparity"]
    assert planted["mean_absolute_deviation_ratio"] > REGRESSION_MAE_RATIO
    assert planted["mean_deviation_gap_over_target_std"] > REGRESSION_RESIDUAL_GAP


def test_multiclass_target_has_three_classes_none_rare(multiclass: Generated) -> None:
    target = multiclass.clean["priority"]
    about = multiclass.manifest["target"]
    shares = target.value_counts(normalize=True)
    assert sorted(shares.index) == sorted(about["classes"]) == ["high", "low", "medium"]
    assert (shares >= 0.15).all() and shares.max() - shares.min() > 0.05  # not equal
    assert about["shares"] == {c: pytest.approx(shares[c], abs=1e-6) for c in about["classes"]}


def test_multiclass_model_learns_and_shows_the_planted_disparity(multiclass: Generated) -> None:
    x_train, x_test, y_train, y_test, group_train, group = multiclass.split()
    model = HistGradientBoostingClassifier(random_state=0, categorical_features="from_dtype")
    predicted = model.fit(x_train, y_train).predict(x_test)
    dummy = DummyClassifier(strategy="prior").fit(x_train, y_train).predict(x_test)
    assert balanced_accuracy_score(y_test, predicted) > balanced_accuracy_score(y_test, dummy) + 0.15

    planted = multiclass.manifest["planted_disparity"]
    shifted = planted["class"]
    # The labels: the group's tickets are "high" far less often (demographic parity of the labels).
    labels = np.concatenate([y_train, y_test])
    in_group = np.concatenate([group_train, group])
    share_ratio = (labels[in_group] == shifted).mean() / (labels[~in_group] == shifted).mean()
    assert share_ratio < MULTICLASS_LABEL_SHARE_RATIO, share_ratio
    assert planted["label_share_ratio_of_class"] < MULTICLASS_LABEL_SHARE_RATIO

    # The model's errors: its "high" is right less often for the group, and it ranks the group's
    # tickets above their label more often.
    def precision(mask: np.ndarray) -> float:
        return float((y_test[mask & (predicted == shifted)] == shifted).mean())

    precision_ratio = precision(group) / precision(~group)
    assert precision_ratio < MULTICLASS_PRECISION_RATIO, precision_ratio
    order = {c: i for i, c in enumerate(multiclass.manifest["target"]["classes"])}
    above = np.array([order[p] > order[t] for p, t in zip(predicted, y_test, strict=True)])
    overprediction_ratio = above[group].mean() / above[~group].mean()
    assert overprediction_ratio > MULTICLASS_OVERPREDICTION_RATIO, overprediction_ratio
