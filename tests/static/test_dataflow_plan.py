"""A second plan of the Dataflow job is empty: no permanent diff, no relaunch on every apply.

No provider runs here, so the provider's side is a transcription, and Beam's side is the real
SDK of constraints.txt:

* what the job reports back: Beam Python's Dataflow runner writes the job's
  ``sdkPipelineOptions.options`` from ``PipelineOptions.get_all_options()``
  (apache_beam/runners/dataflow/internal/apiclient.py, ``Environment``), i.e. the options'
  snake_case names; the test computes them from the flags the launcher passes;
* what the provider reads back (hashicorp/google-beta 6.x,
  ``resourceDataflowFlexTemplateJobRead``): ``temp_location`` and ``staging_location`` from the
  camelCase keys ``tempLocation`` and ``stagingLocation`` with no fallback; ``machine_type``,
  ``sdk_container_image``, ``max_workers`` and ``num_workers`` from camelCase keys, else, when
  the prior state has no value (max_workers: always, its guard names ``max_num_workers``), from
  the job's first worker pool; ``parameters``, ``additional_pipeline_options``,
  ``additional_experiments``, ``ip_configuration`` and ``enable_streaming_engine`` not at all
  (they keep what was planned); the other environment fields from the job's environment;
* what the launch sends (``resourceDataflowFlexJobSetupEnv``): each environment field from the
  planned value of its attribute, so an attribute under ``ignore_changes`` is sent as the
  state holds it, and ``additional_pipeline_options`` as flags to the pipeline.

The scenario: create the job from the rendered configuration, refresh, plan (with
``ignore_changes`` applied as Terraform does: the prior value replaces the configured one), and
compare. Then the update an apply would launch must still give the pipeline its locations.
"""

from __future__ import annotations

from typing import Any

import pytest
from apache_beam.options.pipeline_options import GoogleCloudOptions, PipelineOptions

from tests.static import terraform_config as tf
from tests.static import terraform_render as render

VARIABLES = {
    "project_id": "bqingest-dev",
    "region": "us-central1",
    "job_name": "bqingest-pipeline",
    "container_spec_gcs_path": "gs://bqingest-dev-bqingest-dataflow/templates/p-1.json",
    "sdk_container_image": "us-central1-docker.pkg.dev/bqingest-dev/bqingest/pipeline:1",
    "service_account_email": "bqingest-pipeline@bqingest-dev.iam.gserviceaccount.com",
    "bucket": "bqingest-dev-bqingest-dataflow",
    "subnetwork": "https://www.googleapis.com/compute/v1/projects/bqingest-dev/regions/"
    "us-central1/subnetworks/bqingest-workers",
    "machine_type": "n1-standard-2",
    "max_workers": 3,
}
# attribute -> (sdkPipelineOptions key, the attribute whose absence enables the worker-pool
# fallback, or None for no fallback)
FROM_OPTIONS = {
    "temp_location": ("tempLocation", None),
    "staging_location": ("stagingLocation", None),
    "num_workers": ("numWorkers", "num_workers"),
    "max_workers": ("maxNumWorkers", "max_num_workers"),
    "machine_type": ("workerMachineType", "machine_type"),
    "sdk_container_image": ("sdkContainerImage", "sdk_container_image"),
}
FROM_ENVIRONMENT = ("service_account_email", "subnetwork", "network", "kms_key_name")
# Beam's flag for each environment field the launcher passes.
FLAGS = {
    "temp_location": "temp_location",
    "staging_location": "staging_location",
    "machine_type": "worker_machine_type",
    "sdk_container_image": "sdk_container_image",
    "max_workers": "max_num_workers",
    "service_account_email": "service_account_email",
}


def configured() -> tuple[dict[str, Any], list[str]]:
    """The job's arguments as Terraform renders them, and its ignore_changes."""
    module = tf.load(str(tf.MODULES / "dataflow"))
    body = module.resources[("google_dataflow_flex_template_job", "pipeline")]
    scope = render.Scope(module, VARIABLES)
    values = {
        name: scope.evaluate(value)
        for name, value in body.items()
        if name not in tf.MODULE_META_ARGUMENTS | {"lifecycle", "parameters"}
    }
    lifecycle = body.get("lifecycle", [{}])[0]
    ignored = [str(tf.unwrap(a)) for a in lifecycle.get("ignore_changes", [])]
    return values, ignored


def launch_flags(planned: dict[str, Any]) -> list[str]:
    """The flags the launcher gives the pipeline: set environment fields, then the additional
    pipeline options."""
    flags = [f"--{FLAGS[a]}={planned[a]}" for a in FLAGS if planned.get(a) not in (None, "")]
    flags += [f"--{option}" for option in planned.get("additional_pipeline_options") or []]
    return flags


def written_option_keys(planned: dict[str, Any]) -> set[str]:
    """The keys Beam writes into sdkPipelineOptions.options for a launch of ``planned``."""
    options = PipelineOptions(launch_flags(planned))
    return {k for k, v in options.get_all_options(retain_unknown_options=True).items() if v}


def read(prior: dict[str, Any], launched: dict[str, Any]) -> dict[str, Any]:
    """The provider's Read of a job launched from ``launched``, over the ``prior`` state."""
    state = dict(prior)
    keys = written_option_keys(launched)
    worker_pool = {a: launched.get(a) for a in FROM_OPTIONS}
    for attribute, (key, guard) in FROM_OPTIONS.items():
        value = launched.get(attribute) if key in keys else None
        guard_set = guard is not None and prior.get(guard) not in (None, "", 0)
        if guard is not None and ((not guard_set and value is None) or value in ("", 0)):
            value = worker_pool[attribute]
        state[attribute] = value
    for attribute in FROM_ENVIRONMENT:
        state[attribute] = launched.get(attribute)
    return state


def plan(config: dict[str, Any], ignored: list[str], prior: dict[str, Any]) -> dict[str, Any]:
    """What Terraform plans: ignore_changes takes the prior value; an unset Optional+Computed
    attribute keeps the prior value."""
    planned = dict(prior)
    for attribute, value in config.items():
        planned[attribute] = prior.get(attribute) if attribute in ignored else value
    return planned


def changes(planned: dict[str, Any], state: dict[str, Any]) -> dict[str, tuple[Any, Any]]:
    return {
        a: (state.get(a), v)
        for a, v in planned.items()
        if v != state.get(a) and not (v in (None, "") and state.get(a) in (None, ""))
    }


@pytest.fixture(scope="module")
def created() -> tuple[dict[str, Any], list[str], dict[str, Any]]:
    """The state an apply that created the job stores: Create ends with a Read over the
    planned values."""
    config, ignored = configured()
    return config, ignored, read(dict(config), dict(config))


def second_plan(config: dict[str, Any], ignored: list[str], stored: dict[str, Any]) -> Any:
    """A plan refreshes the stored state (without storing it) and diffs the configuration."""
    refreshed = read(stored, plan(config, ignored, stored))
    return changes(plan(config, ignored, refreshed), refreshed)


def test_a_second_plan_of_the_job_is_empty(
    created: tuple[dict[str, Any], list[str], dict[str, Any]],
) -> None:
    config, ignored, stored = created
    diff = second_plan(config, ignored, stored)
    assert not diff, f"every plan would update (and relaunch) the job: {diff}"
    # And after an in-place update (a new commit's spec), the plan after it is empty too.
    commit = {**config, "container_spec_gcs_path": config["container_spec_gcs_path"] + ".2"}
    updated = plan(commit, ignored, stored)
    stored = read(updated, updated)  # Update ends with a Read over the planned values
    diff = second_plan(commit, ignored, stored)
    assert not diff, f"the plan after an update would update again: {diff}"


def test_every_launch_gives_the_pipeline_its_locations(
    created: tuple[dict[str, Any], list[str], dict[str, Any]],
) -> None:
    """An attribute under ignore_changes is sent as the state holds it, which is empty when the
    provider could not read it back; the locations must reach Beam anyway, on the create and
    on every in-place update, or Beam tries to create a default bucket as the pipeline's
    account (which may not)."""
    config, ignored, stored = created
    refreshed = read(stored, plan(config, ignored, stored))
    for launched in (plan(config, [], {}), plan(config, ignored, refreshed)):
        options = PipelineOptions(launch_flags(launched)).view_as(GoogleCloudOptions)
        assert options.temp_location == f"gs://{VARIABLES['bucket']}/temp"
        assert options.staging_location == f"gs://{VARIABLES['bucket']}/staging"


def test_the_model_sees_the_permanent_diff_without_ignore_changes(
    created: tuple[dict[str, Any], list[str], dict[str, Any]],
) -> None:
    """The check above can fail: without ignore_changes the model finds the provider's
    permanent diff on the two locations, and nothing else."""
    config, _, stored = created
    assert set(second_plan(config, [], stored)) == {"temp_location", "staging_location"}
