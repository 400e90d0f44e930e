"""Static checks of terraform/modules/monitoring: the dashboard, the alert policies and the SLOs.

Nothing here can call Cloud Monitoring, so the module's strings are rendered as Terraform would
(tests/static/terraform_render.py) and checked against what the API accepts: the dashboard
parses as the API's own Dashboard message (google-cloud-monitoring-dashboards), each alert
policy and SLO as its AlertPolicy or ServiceLevelObjective message (google-cloud-monitoring),
every PromQL query parses (promql-parser), every metric type is GCP's (the allow-list below) or
one of the pipeline's counters, aligners suit their metric's kind, and every alert links to a
heading of docs/runbook.md. The terraform_* checks of test_terraform.py cover the module too.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

import promql_parser
import pytest
from google.cloud import monitoring_dashboard_v1, monitoring_v3
from google.protobuf import descriptor, json_format

from tests.static import terraform_config as tf
from tests.static import terraform_render as render

MODULE = tf.MODULES / "monitoring"
RUNBOOK = tf.REPO / "docs" / "runbook.md"


@dataclass(frozen=True)
class Metric:
    """A GCP metric as its descriptor states it: monitored resource, kind and value type."""

    resource: str | None
    kind: str
    value: str


# Every GCP metric type the module may name. Resource None: the filter names no resource type
# (allowed in dashboards only, where the metric's resource need not be spelled out).
GCP_METRICS = {
    # Pub/Sub: messages published to a topic.
    "pubsub.googleapis.com/topic/send_message_operation_count": Metric(
        "pubsub_topic", "DELTA", "INT64"
    ),
    # Pub/Sub: messages acknowledged on a subscription.
    "pubsub.googleapis.com/subscription/ack_message_count": Metric(
        "pubsub_subscription", "DELTA", "INT64"
    ),
    # Pub/Sub: age of the oldest message not yet acknowledged.
    "pubsub.googleapis.com/subscription/oldest_unacked_message_age": Metric(
        "pubsub_subscription", "GAUGE", "INT64"
    ),
    # Pub/Sub: messages not yet acknowledged (the backlog).
    "pubsub.googleapis.com/subscription/num_undelivered_messages": Metric(
        "pubsub_subscription", "GAUGE", "INT64"
    ),
    # Dataflow: 1 while the job is failed.
    "dataflow.googleapis.com/job/is_failed": Metric("dataflow_job", "GAUGE", "INT64"),
    # Dataflow: how long the oldest element not yet processed has waited.
    "dataflow.googleapis.com/job/system_lag": Metric("dataflow_job", "GAUGE", "INT64"),
    # Dataflow: age of the most recent event time all input has been processed up to.
    "dataflow.googleapis.com/job/data_watermark_age": Metric("dataflow_job", "GAUGE", "INT64"),
    # Dataflow: vCPUs the job uses now.
    "dataflow.googleapis.com/job/current_num_vcpus": Metric("dataflow_job", "GAUGE", "INT64"),
    # Dataflow: the pipeline's Beam counters, by metric_name; the value is the running total.
    "dataflow.googleapis.com/job/user_counter": Metric("dataflow_job", "GAUGE", "DOUBLE"),
    # Compute Engine: CPU use of each VM (Dataflow workers carry the dataflow_job_name label).
    "compute.googleapis.com/instance/cpu/utilization": Metric("gce_instance", "GAUGE", "DOUBLE"),
    # BigQuery Storage Write API: rows appended.
    "bigquerystorage.googleapis.com/write/uploaded_row_count": Metric(None, "DELTA", "INT64"),
    # Cloud Run: requests served, by response_code_class.
    "run.googleapis.com/request_count": Metric("cloud_run_revision", "DELTA", "INT64"),
    # Cloud Run: request latency in ms.
    "run.googleapis.com/request_latencies": Metric("cloud_run_revision", "DELTA", "DISTRIBUTION"),
    # Cloud Run: container instances, by state (active, idle).
    "run.googleapis.com/container/instance_count": Metric("cloud_run_revision", "GAUGE", "INT64"),
}
# Aligners that compute a rate or a difference need a DELTA or CUMULATIVE metric.
CHANGE_ALIGNERS = {"ALIGN_RATE", "ALIGN_DELTA"}
# Values the environment roots pass for the module's required variables.
SAMPLES = {
    "project_id": "bqingest-prod",
    "environment": "prod",
    "runbook_url": "https://github.com/my-org/bqingest/blob/main/docs/runbook.md",
    "api_service_name": "bqingest-api",
    "dataflow_job_name": "bqingest-pipeline",
    "topic": "events",
    "subscription": "events-pipeline",
}
TERRAFORM_ONLY = {"project", "for_each", "count", "lifecycle", "depends_on", "provider"}


def promql_name(metric_type: str) -> str:
    """Cloud Monitoring's PromQL name of a metric type: the first / becomes :, every other / and
    . becomes _ (dataflow.googleapis.com/job/system_lag: dataflow_googleapis_com:job_system_lag)."""
    domain, _, path = metric_type.partition("/")
    return re.sub(r"[./]", "_", domain) + ":" + re.sub(r"[./]", "_", path)


# --- the module, rendered -------------------------------------------------------------------------


def module() -> tf.Config:
    return tf.load(str(MODULE))


def variables() -> dict[str, Any]:
    config = module()
    values = {name: v.default for name, v in config.variables.items() if v.has_default}
    values |= {name: SAMPLES[name] for name, v in config.variables.items() if not v.has_default}
    return values


def scope() -> render.Scope:
    return render.Scope(module(), variables())


def log_metrics() -> dict[str, Metric]:
    """The log-based metrics the module defines, as Cloud Monitoring names them (their entries
    come from the reconcile job, a cloud_run_job)."""
    found = {}
    for (kind, _), body in module().resources.items():
        if kind != "google_logging_metric":
            continue
        name = scope().evaluate(body["name"])
        (descriptor,) = body["metric_descriptor"]
        found[f"logging.googleapis.com/user/{name}"] = Metric(
            "cloud_run_job", descriptor["metric_kind"], descriptor["value_type"]
        )
    return found


# Metrics this module defines itself may be named like GCP's.
GCP_METRICS |= log_metrics()
PROMQL_METRICS = {promql_name(name): name for name in GCP_METRICS}


def counters() -> set[str]:
    values = variables()
    return {values[name] for name in values if name.startswith("pipeline_counter_")}


def resources(kind: str) -> dict[str, tuple[dict[str, Any], render.Scope]]:
    """Every instance of one resource type: "name" or "name[key]" -> (body, its scope)."""
    found = {}
    for (type_, name), body in module().resources.items():
        if type_ != kind:
            continue
        for key, instance_scope in render.instances(scope(), body).items():
            found[f"{name}[{key}]" if key else name] = (body, instance_scope)
    return found


def alert_policies() -> dict[str, dict[str, Any]]:
    """Every alert policy as Cloud Monitoring receives it (strings rendered)."""
    policies = {}
    for name, (body, instance_scope) in resources("google_monitoring_alert_policy").items():
        api_fields = {k: v for k, v in body.items() if k not in TERRAFORM_ONLY}
        policies[name] = instance_scope.evaluate(api_fields)
    return policies


def slos() -> dict[str, dict[str, Any]]:
    return {
        name: instance_scope.evaluate(body)
        for name, (body, instance_scope) in resources("google_monitoring_slo").items()
    }


def dashboard_text() -> str:
    values = scope().evaluate(module().locals["dashboard_values"])
    return render.template((MODULE / "dashboard.json").read_text(), values)


# --- checks that return problems (so the tests below can show that they find them) ----------------


def filter_problems(text: str, *, needs_resource: bool) -> list[str]:
    """A Cloud Monitoring filter names one allow-listed metric type and its resource type."""
    metric_types = re.findall(r'metric\.type\s*=\s*"([^"]+)"', text)
    resource_types = re.findall(r'resource\.type\s*=\s*"([^"]+)"', text)
    if len(metric_types) != 1:
        return [f"filter must name one metric type: {text}"]
    metric = GCP_METRICS.get(metric_types[0])
    if metric is None:
        return [f"metric type not on the allow-list: {metric_types[0]}"]
    if needs_resource and not resource_types:
        return [f"an alert filter must name the resource type: {text}"]
    if resource_types and resource_types != [metric.resource]:
        return [f"{metric_types[0]} is reported on {metric.resource}, not {resource_types}"]
    return []


def aggregation_problems(text: str, aggregation: dict[str, Any] | None) -> list[str]:
    """The aligner and reducer suit the metric's kind and value type."""
    metric_types = re.findall(r'metric\.type\s*=\s*"([^"]+)"', text)
    if not aggregation or len(metric_types) != 1 or metric_types[0] not in GCP_METRICS:
        return []
    metric = GCP_METRICS[metric_types[0]]
    aligner = aggregation.get("per_series_aligner") or aggregation.get("perSeriesAligner")
    reducer = aggregation.get("cross_series_reducer") or aggregation.get("crossSeriesReducer")
    problems = []
    if aligner in CHANGE_ALIGNERS and metric.kind == "GAUGE":
        problems.append(f"{aligner} needs a DELTA or CUMULATIVE metric: {metric_types[0]}")
    if metric.value == "DISTRIBUTION" and aligner != "ALIGN_DELTA":
        problems.append(f"{metric_types[0]} is a distribution: align it with ALIGN_DELTA")
    if (reducer or "").startswith("REDUCE_PERCENTILE") and metric.value != "DISTRIBUTION":
        problems.append(f"{reducer} needs a distribution metric: {metric_types[0]}")
    return problems


def _selectors(node: Any) -> list[Any]:
    """Every vector selector of a parsed PromQL expression."""
    if isinstance(node, promql_parser.VectorSelector):
        return [node]
    children: list[Any] = []
    if isinstance(node, promql_parser.BinaryExpr):
        children = [node.lhs, node.rhs]
    elif isinstance(node, promql_parser.AggregateExpr):
        children = [node.expr, node.param]
    elif isinstance(node, promql_parser.Call):
        children = list(node.args)
    elif isinstance(node, promql_parser.MatrixSelector):
        children = [node.vector_selector]
    elif isinstance(
        node, (promql_parser.ParenExpr, promql_parser.UnaryExpr, promql_parser.SubqueryExpr)
    ):
        children = [node.expr]
    return [selector for child in children if child is not None for selector in _selectors(child)]


def promql_problems(query: str, known_counters: set[str]) -> list[str]:
    """The query parses; it reads allow-listed metrics only, and user counters only by the
    configured names."""
    try:
        expression = promql_parser.parse(query)
    except ValueError as error:
        return [f"PromQL does not parse ({error}): {query}"]
    problems = []
    selectors = _selectors(expression)
    if not selectors:
        problems.append(f"PromQL reads no metric: {query}")
    for selector in selectors:
        metric_type = PROMQL_METRICS.get(selector.name)
        if metric_type is None:
            problems.append(f"PromQL metric not on the allow-list: {selector.name}")
            continue
        labels = {m.name: m.value for m in selector.matchers.matchers}
        resource = GCP_METRICS[metric_type].resource
        if labels.get("monitored_resource") != resource:
            problems.append(f"{selector.name} must select monitored_resource={resource!r}")
        counter = labels.get("metric_name")
        if metric_type.endswith("/job/user_counter") and counter not in known_counters:
            problems.append(f"counter {labels.get('metric_name')!r} is not a configured name")
    return problems


def github_slug(heading: str) -> str:
    """The anchor GitHub gives a Markdown heading."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def runbook_anchors(text: str) -> set[str]:
    anchors = set()
    in_code = False
    for line in text.splitlines():
        if line.startswith("```"):
            in_code = not in_code
        heading = re.match(r"#{1,6} (.+)$", line)
        if heading and not in_code:
            anchors.add(github_slug(heading.group(1)))
    return anchors


def runbook_link_problems(content: str, runbook_url: str, anchors: set[str]) -> list[str]:
    links = re.findall(re.escape(runbook_url) + r"#([\w-]+)", content)
    if not links:
        return [f"documentation does not link the runbook: {content[:80]}..."]
    return [f"runbook has no heading #{link}" for link in links if link not in anchors]


def _api_message(message: descriptor.Descriptor, body: dict[str, Any]) -> dict[str, Any]:
    """A Terraform block as the API message's JSON: nested blocks unwrapped, unless the API
    field is repeated. A name the message does not have raises KeyError."""
    out: dict[str, Any] = {}
    for key, value in body.items():
        if key in TERRAFORM_ONLY:
            continue
        # proto-plus renames fields that shadow Python names (range -> range_).
        fields = {field.name: field for field in message.fields}
        field = fields.get(key) or fields[key + "_"]
        nested = field.message_type
        if nested is None or nested.full_name == "google.protobuf.Duration":
            out[field.name] = value
            continue
        converted = [_api_message(nested, block) for block in value]
        # is_repeated, not label: upb's label getter warns from C, and under pytest's
        # warnings-as-errors that left an exception pending (a SystemError in the next len()).
        if field.is_repeated:
            out[field.name] = converted
        else:
            assert len(converted) == 1, f"{key}: one block expected"
            out[field.name] = converted[0]
    return out


def as_alert_policy(policy: dict[str, Any]) -> Any:
    pb_class = monitoring_v3.AlertPolicy.pb()
    return json_format.ParseDict(_api_message(pb_class.DESCRIPTOR, policy), pb_class())


def as_slo(slo: dict[str, Any]) -> Any:
    """A google_monitoring_slo as the API's ServiceLevelObjective (request-based SLIs)."""
    body = {
        "display_name": slo["display_name"],
        "goal": slo["goal"],
        "rolling_period": f"{int(slo['rolling_period_days']) * 86400}s",
        "service_level_indicator": [{"request_based": slo["request_based_sli"]}],
    }
    pb_class = monitoring_v3.ServiceLevelObjective.pb()
    return json_format.ParseDict(_api_message(pb_class.DESCRIPTOR, body), pb_class())


# --- the dashboard --------------------------------------------------------------------------------


def _walk_queries(node: Any) -> tuple[list[tuple[str, Any]], list[str]]:
    """(filter, aggregation) pairs and PromQL queries anywhere in the dashboard."""
    filters: list[tuple[str, Any]] = []
    queries: list[str] = []
    if isinstance(node, dict):
        if isinstance(node.get("filter"), str):
            filters.append((node["filter"], node.get("aggregation")))
        if isinstance(node.get("prometheusQuery"), str):
            queries.append(node["prometheusQuery"])
        children = list(node.values())
    elif isinstance(node, list):
        children = node
    else:
        children = []
    for child in children:
        more_filters, more_queries = _walk_queries(child)
        filters += more_filters
        queries += more_queries
    return filters, queries


def test_dashboard_template_takes_exactly_the_values_passed() -> None:
    text = (MODULE / "dashboard.json").read_text()
    placeholders = set(re.findall(r"(?<!\$)\$\{(\w+)\}", text))
    passed = set(module().locals["dashboard_values"])
    assert placeholders == passed
    resource = module().resources[("google_monitoring_dashboard", "main")]
    assert resource["dashboard_json"] == (
        '${templatefile("${path.module}/dashboard.json", local.dashboard_values)}'
    )


def test_dashboard_values_need_no_json_escaping() -> None:
    """templatefile inserts values as they are, so none may hold a quote or a backslash."""
    values = scope().evaluate(module().locals["dashboard_values"])
    for name, value in values.items():
        if isinstance(value, str):
            assert not re.search(r'["\\\x00-\x1f]', value), f"{name} needs JSON escaping"


def test_dashboard_is_a_valid_cloud_monitoring_dashboard() -> None:
    text = dashboard_text()
    document = json.loads(text)
    # The API's own message: an unknown field or enum value raises.
    dashboard = monitoring_dashboard_v1.Dashboard.from_json(text)
    assert dashboard.display_name == "bqingest prod"
    layout = document["mosaicLayout"]
    assert layout["columns"] in (12, 48)
    cells: set[tuple[int, int]] = set()
    for tile in layout["tiles"]:
        x, y, width, height = (tile.get(k, 0) for k in ("xPos", "yPos", "width", "height"))
        assert width > 0 and height > 0 and x + width <= layout["columns"], tile["widget"]
        area = {(i, j) for i in range(x, x + width) for j in range(y, y + height)}
        assert not area & cells, f"tile overlaps another: {tile['widget']['title']}"
        cells |= area
        widget = tile["widget"]
        assert widget.get("title"), "every tile has a title"
        for data_set in widget.get("xyChart", {}).get("dataSets", []):
            assert len(data_set["timeSeriesQuery"]) == 1, widget["title"]


def test_dashboard_names_only_known_metrics_and_counters() -> None:
    filters, queries = _walk_queries(json.loads(dashboard_text()))
    assert filters and queries
    problems = [
        problem
        for text, aggregation in filters
        for problem in filter_problems(text, needs_resource=False)
        + aggregation_problems(text, aggregation)
    ]
    problems += [p for query in queries for p in promql_problems(query, counters())]
    assert not problems, "\n".join(problems)


def test_dashboard_shows_what_issue_7_asks_for() -> None:
    filters, queries = _walk_queries(json.loads(dashboard_text()))
    shown = {t for text, _ in filters for t in re.findall(r'metric\.type="([^"]+)"', text)}
    assert shown >= {
        "pubsub.googleapis.com/topic/send_message_operation_count",
        "pubsub.googleapis.com/subscription/ack_message_count",
        "pubsub.googleapis.com/subscription/oldest_unacked_message_age",
        "dataflow.googleapis.com/job/system_lag",
        "dataflow.googleapis.com/job/data_watermark_age",
        "dataflow.googleapis.com/job/current_num_vcpus",
        "compute.googleapis.com/instance/cpu/utilization",
        "bigquerystorage.googleapis.com/write/uploaded_row_count",
        "run.googleapis.com/request_count",
        "run.googleapis.com/request_latencies",
        "run.googleapis.com/container/instance_count",
    }
    text = dashboard_text()
    assert "logging.googleapis.com/user/bqingest/reconcile_missing_runs" in text
    assert "metadata.system_labels" in text and "machine_type" in text
    read = " ".join(queries)
    assert all(f"metric_name='{name}'" in read for name in counters())


# --- alert policies -------------------------------------------------------------------------------


def test_alert_policies_cover_issue_7() -> None:
    names = set(alert_policies())
    assert names == {
        "dataflow_job_failed",
        "dataflow_system_lag",
        "oldest_unacked_message",
        "pipeline_dead_letters",
        "pipeline_sink_blocked",
        "ingest_volume",
        "api_5xx_ratio",
        "reconcile_missing",
        "api_availability_burn[fast]",
        "api_availability_burn[slow]",
        "api_latency_burn[fast]",
        "api_latency_burn[slow]",
        "processing_correctness_burn[fast]",
        "processing_correctness_burn[slow]",
    }


@pytest.mark.parametrize("name", sorted(alert_policies()))
def test_alert_policy_is_valid_for_the_api(name: str) -> None:
    policy = alert_policies()[name]
    message = as_alert_policy(policy)
    assert message.display_name.startswith("bqingest prod: ")
    assert message.severity != 0, "severity set"
    assert 1 <= len(message.conditions) <= 6
    kinds = [condition.WhichOneof("condition") for condition in message.conditions]
    if "condition_prometheus_query_language" in kinds:
        assert len(kinds) == 1, "a PromQL condition is the policy's only condition"
    assert len(message.conditions) == 1 or message.combiner != 0
    assert (
        tf.unwrap(
            module().resources[("google_monitoring_alert_policy", name.split("[")[0])][
                "notification_channels"
            ]
        )
        == "var.notification_channels"
    )


@pytest.mark.parametrize("name", sorted(alert_policies()))
def test_alert_policy_reads_known_metrics(name: str) -> None:
    problems: list[str] = []
    for condition in alert_policies()[name]["conditions"]:
        for kind in ("condition_threshold", "condition_absent"):
            for body in condition.get(kind, []):
                text = body["filter"]
                if text.startswith("select_slo_burn_rate("):
                    problems += burn_rate_filter_problems(text)
                    continue
                aggregation = (body.get("aggregations") or [None])[0]
                problems += filter_problems(text, needs_resource=True)
                problems += aggregation_problems(text, aggregation)
                if "denominator_filter" in body:
                    denominator = (body.get("denominator_aggregations") or [None])[0]
                    problems += filter_problems(body["denominator_filter"], needs_resource=True)
                    problems += aggregation_problems(body["denominator_filter"], denominator)
        for body in condition.get("condition_prometheus_query_language", []):
            problems += promql_problems(body["query"], counters())
    assert not problems, "\n".join(problems)


def burn_rate_filter_problems(text: str) -> list[str]:
    match = re.fullmatch(
        r'select_slo_burn_rate\("RESOURCE\(google_monitoring_slo\.(\w+)\.name\)", "(\d+)m"\)',
        text,
    )
    if not match:
        return [f"burn-rate filter must name an SLO of this module and a window: {text}"]
    if ("google_monitoring_slo", match.group(1)) not in module().resources:
        return [f"no SLO {match.group(1)}"]
    return []


@pytest.mark.parametrize("name", sorted(alert_policies()))
def test_alert_policy_links_its_runbook_section(name: str) -> None:
    (documentation,) = alert_policies()[name]["documentation"]
    assert documentation["mime_type"] == "text/markdown"
    anchors = runbook_anchors(RUNBOOK.read_text())
    problems = runbook_link_problems(documentation["content"], SAMPLES["runbook_url"], anchors)
    assert not problems, problems


def test_burn_rate_alerts_pair_a_long_and_a_short_window() -> None:
    windows = scope().evaluate(module().locals["burn_rate_windows"])
    assert {key: (w["long"], w["short"], w["burn_rate"]) for key, w in windows.items()} == {
        "fast": ("60m", "5m", 14.4),
        "slow": ("360m", "30m", 6),
    }
    for name, policy in alert_policies().items():
        if not name.startswith(("api_availability_burn", "api_latency_burn")):
            continue
        assert policy["combiner"] == "AND", name
        window = windows[name[name.index("[") + 1 : -1]]
        thresholds = [c["condition_threshold"][0] for c in policy["conditions"]]
        lookbacks = [re.search(r'"(\d+m)"\)$', c["filter"]).group(1) for c in thresholds]
        assert lookbacks == [window["long"], window["short"]], name
        assert {c["threshold_value"] for c in thresholds} == {window["burn_rate"]}, name
    # The correctness burn alert compares both windows' dead-lettered share in one query.
    fast = alert_policies()["processing_correctness_burn[fast]"]["conditions"][0]
    query = fast["condition_prometheus_query_language"][0]["query"]
    assert "[60m]" in query and "[5m]" in query and query.count("> 14.4 * (1 - 0.99)") == 2


# --- SLOs -----------------------------------------------------------------------------------------


def test_slos_are_valid_request_based_slos_on_cloud_run_metrics() -> None:
    found = slos()
    assert set(found) == {"api_availability", "api_latency"}
    for name, slo in found.items():
        message = as_slo(slo)
        assert message.rolling_period.seconds == 30 * 86400, name
        ratio = slo["request_based_sli"][0]
        for block in ratio.get("good_total_ratio", []) + ratio.get("distribution_cut", []):
            for key, text in block.items():
                if not key.endswith("_filter"):
                    continue
                assert not filter_problems(text, needs_resource=True), text
                metric = GCP_METRICS[re.search(r'metric\.type="([^"]+)"', text).group(1)]
                # The API accepts only DELTA or CUMULATIVE time series in an SLI.
                assert metric.kind in {"DELTA", "CUMULATIVE"}, text
                if key == "distribution_filter":
                    assert metric.value == "DISTRIBUTION"
    availability = as_slo(found["api_availability"])
    assert availability.goal == pytest.approx(0.999)
    ratio = availability.service_level_indicator.request_based.good_total_ratio
    assert ratio.bad_service_filter == ratio.total_service_filter + (
        ' AND metric.label."response_code_class"="5xx"'
    )
    latency = as_slo(found["api_latency"])
    assert latency.service_level_indicator.request_based.distribution_cut.range_.max_ == 2000


def test_user_counters_stay_out_of_filter_based_rates_and_slos() -> None:
    """Dataflow exports Beam counters as GAUGEs: a rate or an SLO over them needs PromQL."""
    assert GCP_METRICS["dataflow.googleapis.com/job/user_counter"].kind == "GAUGE"
    text = json.dumps([alert_policies(), slos(), json.loads(dashboard_text())])
    assert 'metric.type=\\"dataflow.googleapis.com/job/user_counter' not in text


# --- the checks above can fail --------------------------------------------------------------------


def test_checks_find_unknown_metrics_bad_aligners_and_dangling_links() -> None:
    assert filter_problems('metric.type="run.googleapis.com/request_cnt"', needs_resource=False)
    assert filter_problems('metric.type="run.googleapis.com/request_count"', needs_resource=True), (
        "alert filters must name the resource type"
    )
    assert filter_problems(
        'metric.type="run.googleapis.com/request_count" AND resource.type="gce_instance"',
        needs_resource=True,
    )
    assert aggregation_problems(
        'metric.type="dataflow.googleapis.com/job/system_lag"', {"perSeriesAligner": "ALIGN_RATE"}
    )
    assert aggregation_problems(
        'metric.type="run.googleapis.com/request_count"',
        {"perSeriesAligner": "ALIGN_DELTA", "crossSeriesReducer": "REDUCE_PERCENTILE_99"},
    )
    counter = "dataflow_googleapis_com:job_user_counter{monitored_resource='dataflow_job',"
    assert promql_problems(f"sum(rate({counter}metric_name='written'}}[5m]))", {"x"})
    assert promql_problems(f"sum(rate({counter}metric_name='x'}}[5m])", {"x"})
    assert promql_problems("sum(rate(custom_googleapis_com:foo[5m]))", {"x"})
    assert not promql_problems(f"sum(rate({counter}metric_name='x'}}[5m]))", {"x"})
    assert burn_rate_filter_problems('select_slo_burn_rate("projects/p/x", "60m")')
    assert burn_rate_filter_problems(
        'select_slo_burn_rate("RESOURCE(google_monitoring_slo.missing.name)", "60m")'
    )
    assert runbook_link_problems("see https://r/runbook.md#nope", "https://r/runbook.md", {"a"})
    assert runbook_link_problems("no link at all", "https://r/runbook.md", {"a"})
    with pytest.raises(json_format.ParseError):
        as_alert_policy({"display_name": "x", "combiner": "EITHER"})
    with pytest.raises(KeyError):
        as_alert_policy({"display_name": "x", "conditions": [{"condition_treshold": [{}]}]})


def test_github_slugs_match_the_runbook_links_style() -> None:
    assert github_slug("Oldest unacknowledged message too old") == (
        "oldest-unacknowledged-message-too-old"
    )
    assert github_slug("API availability: fast burn") == "api-availability-fast-burn"
    assert github_slug("Replay dead letters with `bqingest deadletters`") == (
        "replay-dead-letters-with-bqingest-deadletters"
    )


def test_renderer_refuses_what_it_cannot_evaluate() -> None:
    with pytest.raises(render.RenderError):
        scope().evaluate("${upper(var.environment)}")
    assert scope().evaluate('"a \\"b\\" ${var.environment}"'[1:-1]) == 'a "b" prod'


# --- wiring, docs ---------------------------------------------------------------------------------


def test_environments_wire_the_module_to_the_resources_it_watches() -> None:
    call = tf.load(str(tf.ROOT)).modules["monitoring"]
    wired = {key: tf.unwrap(value) for key, value in call.items()}
    assert wired["topic"] == "module.pubsub.topic_name"
    assert wired["subscription"] == "module.pubsub.subscription_name"
    assert wired["dataflow_job_name"] == "module.dataflow.job_name"
    assert wired["api_service_name"] == "module.cloud_run_api.service_name"
    assert wired["notification_channels"] == "var.alert_notification_channels"
    root = tf.load(str(tf.ROOT))
    assert root.locals["runbook_url"] == (
        "https://github.com/${var.github_repository}/blob/main/docs/runbook.md"
    )
    iam = tf.load(str(tf.MODULES / "iam"))
    assert "roles/monitoring.editor" in iam.locals["deployer_project_roles"]


def test_counter_names_are_module_variables_with_defaults() -> None:
    """The pipeline's counter names live in one place: these variables."""
    config = module()
    assert {n for n in config.variables if n.startswith("pipeline_counter_")} == {
        "pipeline_counter_events_written",
        "pipeline_counter_dead_lettered",
        "pipeline_counter_sink_blocked",
    }
    assert counters() == {"rows_written_events", "rows_written_dead_letters", "sink_blocked"}
    everything = json.dumps(config.files) + (MODULE / "dashboard.json").read_text()
    for name in counters():
        assert f"'{name}'" not in everything, f"counter {name} written out instead of a variable"


def test_counter_names_are_counters_the_pipeline_defines() -> None:
    """Every Beam counter the module reads is one the pipeline increments, by the same name."""
    from bqingest.pipeline.metrics import Count, beam_counter_names

    defined = beam_counter_names()
    assert counters() <= defined, counters() - defined
    assert variables()["pipeline_counter_events_written"] == Count.ROWS_WRITTEN_EVENTS.value
    assert variables()["pipeline_counter_dead_lettered"] == Count.ROWS_WRITTEN_DEAD_LETTERS.value
    assert variables()["pipeline_counter_sink_blocked"] == Count.SINK_BLOCKED.value
    assert "dead_letters_not_json" in defined and "events_written" not in defined


def test_every_alert_section_of_the_runbook_is_linked_by_its_alert() -> None:
    text = RUNBOOK.read_text()
    linked = {
        link
        for policy in alert_policies().values()
        for link in re.findall(r"runbook\.md#([\w-]+)", policy["documentation"][0]["content"])
    }
    alert_section = text.split("\n## ")[1:]
    headed = {
        github_slug(line[4:])
        for section in alert_section
        if section.startswith(("Alerts", "SLO burn-rate alerts"))
        for line in section.splitlines()
        if line.startswith("### ")
    }
    assert headed == linked


def test_reconcile_log_metrics_read_the_fields_reconcile_writes() -> None:
    """The log-based metrics filter and extract fields of Report.as_log_entry, by name."""
    from datetime import UTC, datetime

    from bqingest.operations.reconcile import Report

    entry = Report(
        mode="counts",
        since=datetime(2026, 11, 29, tzinfo=UTC),
        until=datetime(2026, 11, 29, 1, tzinfo=UTC),
        grace_seconds=0,
        published={"messages": 10},
        valid_event_ids=None,
        ingested=9,
        dead_lettered={"not_json": 1},
        sli=0.9,
    ).as_log_entry()
    metrics = {
        body_name: body
        for (kind, body_name), body in module().resources.items()
        if kind == "google_logging_metric"
    }
    assert set(metrics) == {"reconcile_sli", "reconcile_missing_runs"}
    entries = scope().evaluate(module().locals["reconcile_entries"])
    kind = re.search(r'jsonPayload\.kind="([^"]+)"', entries).group(1)
    assert kind == entry["kind"]
    assert 'resource.labels.job_name="bqingest-reconcile"' in entries
    for body in metrics.values():
        for field in re.findall(r"jsonPayload\.(\w+)", scope().evaluate(body["filter"])):
            assert field in entry, field
    assert metrics["reconcile_sli"]["value_extractor"] == "EXTRACT(jsonPayload.sli)"
    assert set(log_metrics()) == {
        "logging.googleapis.com/user/bqingest/reconcile_sli",
        "logging.googleapis.com/user/bqingest/reconcile_missing_runs",
    }


def test_alerts_on_this_modules_log_metrics_do_not_need_them_to_exist_yet() -> None:
    """Cloud Monitoring refuses a threshold condition on a log-based metric it has not seen yet
    (404 "Cannot find metric(s)... it could take up to 10 minutes", terraform-provider-google
    issue 11102), and depends_on does not help: the metric exists in Logging at once but reaches
    Monitoring later. So a condition on a log-based metric created in the same apply is written
    in PromQL with metric validation off, and one `terraform apply` succeeds on a fresh project."""
    own = {metric.removeprefix("logging.googleapis.com/") for metric in log_metrics()}
    own_promql = {promql_name(metric) for metric in log_metrics()}
    assert own, "the module defines log-based metrics"
    readers = []
    for name, policy in alert_policies().items():
        for condition in policy["conditions"]:
            for kind in ("condition_threshold", "condition_absent"):
                for body in condition.get(kind, []):
                    assert not any(m in body["filter"] for m in own), (
                        f"{name}: {kind} on a log-based metric of this module"
                    )
            for body in condition.get("condition_prometheus_query_language", []):
                if any(m in body["query"] for m in own_promql):
                    assert body["disable_metric_validation"] is True, name
                    readers.append(name)
    assert readers == ["reconcile_missing"]
