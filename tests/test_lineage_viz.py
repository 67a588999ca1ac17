"""Slow test: kedro viz serves the project's lineage, and a real headless Chromium renders it."""

from __future__ import annotations

import json
import shutil
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest
from project import TEMPLATE_DIR, free_port, project_env, stop_process_group

pytestmark = pytest.mark.slow
CHROMIUM, CHROMEDRIVER = "/usr/bin/chromium", "/usr/bin/chromedriver"
SCREENSHOTS = TEMPLATE_DIR / "build" / "test-artifacts"
# The stages of __default__, in data order; inference and monitoring run on their own.
STAGES = (
    "ingestion",
    "validation",
    "training",
    "benchmarking",
    "fairness_review",
    "explanation",
    "release",
)


def wait_for_json(url: str, seconds: float) -> dict:
    deadline = time.monotonic() + seconds
    while True:
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                return json.load(response)
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(1)


def headless_chromium(profile: Path):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--window-size=1600,1000",
        f"--user-data-dir={profile}",
    ):
        options.add_argument(flag)
    return webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)


def test_kedro_viz_shows_every_pipeline_in_a_real_browser(default_project, tmp_path: Path) -> None:
    assert Path(CHROMIUM).exists() and Path(CHROMEDRIVER).exists(), (
        "install Debian's chromium and chromium-driver"
    )
    port = free_port()
    server = subprocess.Popen(
        [
            str(default_project.root / ".venv/bin/kedro"),
            "viz",
            "run",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--no-browser",
        ],
        cwd=default_project.root,
        env=project_env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,  # its server is a spawned child: stop the whole group
    )
    try:
        graph = wait_for_json(f"http://127.0.0.1:{port}/api/main", seconds=300)
        task_nodes = [n for n in graph["nodes"] if n["type"] == "task"]
        registered = {p["id"] for p in graph["pipelines"]} - {"__default__"}
        assert set(STAGES) | {"inference", "monitoring"} <= registered
        # Each stage is a namespaced modular pipeline: one collapsible box in the lineage view,
        # holding every node of the stage, with the datasets between stages on its edges.
        assert set(STAGES) <= set(graph["modular_pipelines"]) - {"__root__"}
        for node in task_nodes:
            assert len(node["modular_pipelines"]) == 1, node["full_name"]
            assert node["full_name"] == f"{node['modular_pipelines'][0]}.{node['name']}"
        names = {n["id"]: n["name"] for n in graph["nodes"]}

        def edge(stage: str, side: str) -> set[str]:
            return {names[i] for i in graph["modular_pipelines"][stage][side]}

        assert "validated_table" in edge("validation", "outputs") & edge("training", "inputs")
        assert "primary_table" in edge("ingestion", "outputs") & edge("validation", "inputs")
        assert {"model_card_template", "fairness_report", "mlflow_model"} <= edge("release", "inputs")
        assert edge("release", "outputs") == {"champion_record", "promotion_record"}
        assert {"trained_model", "held_out_set"} <= edge("explanation", "inputs")
        assert {"feature_importance", "error_cohorts"} <= edge("explanation", "outputs") & edge(
            "release", "inputs"
        )
        layers = {n.get("layer") for n in graph["nodes"] if n["type"] == "data"}
        assert {"raw", "primary", "model_input", "reporting"} <= layers
        assert graph["layers"][0] == "raw", "kedro-viz drops the layers when they are circular"

        from selenium.webdriver.common.by import By
        from selenium.webdriver.support import expected_conditions
        from selenium.webdriver.support.ui import WebDriverWait

        driver = headless_chromium(tmp_path / "chromium-profile")
        try:
            driver.get(f"http://127.0.0.1:{port}/")
            WebDriverWait(driver, 60).until(
                expected_conditions.presence_of_element_located((By.CSS_SELECTOR, ".pipeline-node"))
            )
            # kedro-viz's feature tour covers the graph: switch it off in its settings, reload.
            driver.execute_script(
                "const s = JSON.parse(localStorage.getItem('KedroViz') || '{}');"
                "s.showFeatureHints = false; localStorage.setItem('KedroViz', JSON.stringify(s));"
            )
            driver.refresh()
            WebDriverWait(driver, 60).until(
                expected_conditions.presence_of_element_located((By.CSS_SELECTOR, ".pipeline-node"))
            )
            time.sleep(2)  # let the layout settle before the screenshot
            for hint in driver.find_elements(By.CSS_SELECTOR, ".feature-hints__close"):
                driver.execute_script("arguments[0].click();", hint)  # the feature tour
            for button in driver.find_elements(By.TAG_NAME, "button"):  # the release banner
                if button.text == "Dismiss":
                    driver.execute_script("arguments[0].click();", button)
            boxes = driver.find_elements(By.CSS_SELECTOR, ".pipeline-node--modularPipeline")
            assert len(boxes) == len(STAGES), "the stages are not shown as collapsed boxes"
            shown = driver.find_element(By.TAG_NAME, "body").text.split("\n")
            for stage in STAGES:
                assert stage in shown, f"stage {stage} not shown"
            SCREENSHOTS.mkdir(parents=True, exist_ok=True)
            shot = SCREENSHOTS / "kedro-viz.png"
            assert driver.save_screenshot(str(shot)) and shot.stat().st_size > 10_000
            shutil.copy(shot, tmp_path / "kedro-viz.png")
        finally:
            driver.quit()
    finally:
        stop_process_group(server)
