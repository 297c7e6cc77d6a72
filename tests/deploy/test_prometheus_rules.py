"""Prometheus rules, config and the Grafana dashboard: valid, tested, and about real metrics.

``promtool`` (Debian package ``prometheus``, installed by ``make tools``) checks the
rule syntax, runs the rule unit tests in deploy/prometheus/rules_test.yml, and
parses every dashboard query. A last check ties the files to the code: every metric
they query is one that a service (or the client library) really exports.
"""

from __future__ import annotations

import importlib
import json
import pkgutil
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import llmops
import pytest
import yaml
from llmops.prometheus import ShipperCollector
from llmops.shipper import ShipperStats
from prometheus_client import REGISTRY, CollectorRegistry

import services

REPO = Path(__file__).resolve().parents[2]
PROMETHEUS_DIR = REPO / "deploy" / "prometheus"
RULES = PROMETHEUS_DIR / "rules.yml"
DASHBOARD = REPO / "deploy" / "grafana" / "dashboards" / "llmops.json"
DATASOURCES = REPO / "deploy" / "grafana" / "provisioning" / "datasources" / "prometheus.yml"

# Series every Prometheus server has without any exporter.
BUILTIN_SERIES = frozenset({"up", "ALERTS"})
# Series the application exports, not a service: the client library keeps its
# shipper's counts in ``Shipper.stats`` without depending on prometheus_client, and
# docs/deploy.md shows the collector that exports them under these names.
APPLICATION_SERIES = frozenset({"llmops_client_records_dropped_total"})
PROMQL_KEYWORDS = frozenset(
    {"and", "or", "unless", "bool", "offset", "inf", "nan", "group_left", "group_right"}
)
# Grafana's template variables, replaced by values Prometheus can parse.
GRAFANA_VARIABLES = {"$__rate_interval": "5m", "$__range": "1h", "$model": ".*"}
GRAFANA_VARIABLES["$prompt_template"] = ".*"

_STRING = re.compile(r'"(?:[^"\\]|\\.)*"')
_GROUPING = re.compile(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)")
_IDENTIFIER = re.compile(r"(?<![\w.$])([a-zA-Z_:][\w:]*+)(?!\s*\()")

promtool = shutil.which("promtool")
needs_promtool = pytest.mark.skipif(
    promtool is None, reason="promtool not installed: run `make tools`"
)


def _promtool(*args: str | Path) -> subprocess.CompletedProcess[str]:
    assert promtool is not None
    return subprocess.run(
        [promtool, *map(str, args)], capture_output=True, text=True, timeout=60, check=False
    )


def _dashboard_queries() -> list[str]:
    dashboard = json.loads(DASHBOARD.read_text())
    queries = [
        target["expr"] for panel in dashboard["panels"] for target in panel.get("targets", [])
    ]
    queries += [a["expr"] for a in dashboard["annotations"]["list"] if "expr" in a]
    return queries


def _rule_expressions() -> list[str]:
    groups = yaml.safe_load(RULES.read_text())["groups"]
    return [rule["expr"] for group in groups for rule in group["rules"]]


def _recorded_names() -> set[str]:
    groups = yaml.safe_load(RULES.read_text())["groups"]
    return {rule["record"] for group in groups for rule in group["rules"] if "record" in rule}


def _series_names(expr: str) -> set[str]:
    """Metric names an expression selects (label matchers, ranges and strings removed)."""
    stripped = _STRING.sub("", expr)
    stripped = re.sub(r"\{[^}]*\}|\[[^\]]*\]", " ", stripped)
    stripped = _GROUPING.sub(" ", stripped)
    return {name for name in _IDENTIFIER.findall(stripped) if name not in PROMQL_KEYWORDS}


def _exported_series() -> set[str]:
    """Series names the code exports, as they appear on /metrics.

    Every module of the services and the client library is imported, so every
    metric and custom collector they register at import time is in the registry;
    each family then names its series by type (a counter ``x`` is ``x_total``).
    """
    for package in (services, llmops):
        for module in pkgutil.walk_packages(package.__path__, f"{package.__name__}."):
            if ".migrations" not in module.name and not module.name.endswith("__main__"):
                importlib.import_module(module.name)
    suffixes = {
        "counter": ("_total",),
        "histogram": ("_bucket", "_count", "_sum"),
        "summary": ("_count", "_sum"),
    }
    return {
        family.name + suffix
        for family in REGISTRY.collect()
        for suffix in suffixes.get(family.type, ("",))
    }


def _substitute_grafana_variables(expr: str) -> str:
    for variable, value in GRAFANA_VARIABLES.items():
        expr = expr.replace(variable, value)
    assert "$" not in expr, f"unknown Grafana variable in {expr}"
    return expr


@needs_promtool
def test_rules_pass_promtool_check() -> None:
    result = _promtool("check", "rules", RULES)
    assert result.returncode == 0, result.stdout + result.stderr


@needs_promtool
def test_rule_unit_tests_pass() -> None:
    result = _promtool("test", "rules", PROMETHEUS_DIR / "rules_test.yml")
    assert result.returncode == 0, result.stdout + result.stderr


@needs_promtool
def test_rule_unit_tests_catch_a_broken_threshold(tmp_path: Path) -> None:
    """Guards the test above: the unit tests fail when an alert threshold moves."""
    broken = RULES.read_text().replace(">= 0.8 and", ">= 0.9 and")
    assert broken != RULES.read_text()
    (tmp_path / "rules.yml").write_text(broken)
    shutil.copy(PROMETHEUS_DIR / "rules_test.yml", tmp_path)
    result = _promtool("test", "rules", tmp_path / "rules_test.yml")
    assert result.returncode != 0
    assert "BudgetNearlySpent" in result.stdout + result.stderr


@needs_promtool
def test_prometheus_config_is_valid_with_the_rules(tmp_path: Path) -> None:
    config = yaml.safe_load((PROMETHEUS_DIR / "prometheus.yml").read_text())
    # The compose file mounts rules.yml at this path; point it at the repository copy.
    assert config["rule_files"] == ["/etc/prometheus/rules.yml"]
    config["rule_files"] = [str(RULES)]
    (tmp_path / "prometheus.yml").write_text(yaml.safe_dump(config))
    result = _promtool("check", "config", tmp_path / "prometheus.yml")
    assert result.returncode == 0, result.stdout + result.stderr


@needs_promtool
def test_every_dashboard_query_is_valid_promql(tmp_path: Path) -> None:
    # promtool has no "parse this query" command, but it parses every recording rule.
    rules = [
        {"record": f"dashboard:query_{i}", "expr": _substitute_grafana_variables(expr)}
        for i, expr in enumerate(_dashboard_queries())
    ]
    (tmp_path / "dashboard_rules.yml").write_text(
        yaml.safe_dump({"groups": [{"name": "dashboard", "rules": rules}]})
    )
    result = _promtool("check", "rules", tmp_path / "dashboard_rules.yml")
    assert result.returncode == 0, result.stdout + result.stderr


def test_dashboard_uses_the_provisioned_datasource() -> None:
    provisioned = {ds["uid"] for ds in yaml.safe_load(DATASOURCES.read_text())["datasources"]}
    dashboard = json.loads(DASHBOARD.read_text())

    def datasource_uids(node: Any) -> set[str]:
        if isinstance(node, dict):
            source = node.get("datasource")
            found = {source["uid"]} if isinstance(source, dict) else set()
            return found.union(*(datasource_uids(v) for v in node.values()))
        if isinstance(node, list):
            return set().union(*(datasource_uids(v) for v in node))
        return set()

    assert datasource_uids(dashboard) == provisioned
    ids = [panel["id"] for panel in dashboard["panels"]]
    assert len(ids) == len(set(ids)), "panel ids must be unique"


def test_series_name_extraction_finds_metrics_not_functions_or_labels() -> None:
    expr = (
        'histogram_quantile(0.99, sum by (model, le) (rate(llm_x_bucket{model=~"a.*"}[5m])))'
        " / on (model) group_left level:rec:rate5m > bool 1e-9"
    )
    assert _series_names(expr) == {"llm_x_bucket", "level:rec:rate5m"}


def test_every_queried_metric_is_exported_by_the_code_or_recorded() -> None:
    exported = _exported_series() | BUILTIN_SERIES | APPLICATION_SERIES
    recorded = _recorded_names()
    for expr in _rule_expressions() + _dashboard_queries():
        for name in _series_names(expr):
            if ":" in name:
                assert name in recorded, f"{name} is not a recording rule ({expr})"
            else:
                assert name in exported, f"{name} is exported by no service ({expr})"


def test_shipper_collector_exports_the_series_the_alert_watches() -> None:
    """llmops.prometheus.ShipperCollector on a shipper's real stats object."""
    stats = ShipperStats(stored=7, dropped=3)
    shipper = type("Shipper", (), {"stats": stats})()
    registry = CollectorRegistry()
    registry.register(ShipperCollector(shipper))
    assert registry.get_sample_value("llmops_client_records_dropped_total") == 3
    assert registry.get_sample_value("llmops_client_records_stored_total") == 7
    exposed = {m.name + "_total" for m in registry.collect()}
    assert exposed >= APPLICATION_SERIES
