"""Name formats and bounds shared by every process: one definition, checked the same everywhere.

Settings (``bqingest.config``), the pipeline's options (``bqingest.pipeline.options``) and the
Flex Template's ``dataflow/metadata.json`` (a test keeps its regexes equal to
:data:`PIPELINE_PARAMETER_PATTERNS`) all read from here. Sources:
https://cloud.google.com/resource-manager/docs/creating-managing-projects (project ids),
https://cloud.google.com/pubsub/docs/pubsub-basics#resource_names (topics, subscriptions),
https://cloud.google.com/bigquery/docs/datasets#dataset-naming (datasets and tables).
"""

from __future__ import annotations

from typing import Final

PROJECT_ID: Final = r"[a-z][a-z0-9-]{4,28}[a-z0-9]"
"""A GCP project id: 6-30 lowercase letters, digits and hyphens."""
_PUBSUB_NAME_BODY: Final = r"[A-Za-z][A-Za-z0-9\-_.~+%]{2,254}"
PUBSUB_NAME: Final = r"(?!goog)" + _PUBSUB_NAME_BODY
"""A topic or subscription name: 3-255 characters, a letter first, not ``goog...``."""
BIGQUERY_NAME: Final = r"[A-Za-z0-9_]{1,1024}"
"""A dataset, table or view name."""
HOST_PORT: Final = r"[A-Za-z0-9.\-\[\]:]+:\d{1,5}"
"""``host:port`` without a scheme (an emulator endpoint)."""
API_KEY_DIGEST: Final = r"sha256:[0-9a-f]{64}"
"""How an API key is stored: its SHA-256 digest, never the key."""
API_KEY_NAME: Final = r"[a-z][a-z0-9-]{0,62}"
API_KEY_NAME_TEXT: Final = "1-63 lowercase letters, digits and hyphens, a letter first"
"""An API key's name (stamped on what the key publishes)."""

SUBSCRIPTION_PATH: Final = rf"projects/{PROJECT_ID}/subscriptions/{_PUBSUB_NAME_BODY}"
TABLE_ID: Final = rf"{PROJECT_ID}\.{BIGQUERY_NAME}\.{BIGQUERY_NAME}"

MIN_MESSAGE_BYTES: Final = 1024
MAX_MESSAGE_BYTES: Final = 10 * 1024 * 1024
"""Bounds of the message size limit: Pub/Sub itself takes messages up to 10 MB."""

PIPELINE_PARAMETER_PATTERNS: Final = {
    "subscription": f"^{SUBSCRIPTION_PATH}$",
    "events_table": f"^{TABLE_ID}$",
    "dead_letter_table": f"^{TABLE_ID}$",
    "max_message_bytes": r"^[0-9]{4,8}$",
    "dead_letter_payloads": r"^gs://[a-z0-9][a-z0-9._-]{1,220}[a-z0-9](/[^\s]*)?$",
    "unknown_types": r"^(store|reject)$",
}
"""The Flex Template parameters' regexes (``dataflow/metadata.json`` repeats them verbatim)."""
