"""Flex Template entry point: Dataflow's launcher runs this file with the template's parameters.

The template's parameters are the pipeline's own options (see dataflow/metadata.json); the
launcher adds the job's options from the launch request (project, region, staging and temp
locations, job name, the SDK container image, the streaming-mode experiment; Terraform's job
resource sets them). It runs in the pipeline image (dataflow/Dockerfile), where everything is
installed: nothing is built or resolved here. The pipeline is submitted and this process exits,
as a Flex Template launcher must.
"""

from __future__ import annotations

import sys

from bqingest.pipeline.main import configure_logging, run
from bqingest.pipeline.options import DATAFLOW_RUNNER


def launcher_argv(argv: list[str]) -> list[str]:
    """The launcher's arguments, with ``--runner=DataflowRunner`` unless one is named."""
    if any(arg == "--runner" or arg.startswith("--runner=") for arg in argv):
        return argv
    return [f"--runner={DATAFLOW_RUNNER}", *argv]


if __name__ == "__main__":
    configure_logging()
    run(launcher_argv(sys.argv[1:]), wait=False)
