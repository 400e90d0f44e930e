# staging: production-shaped, data kept for a quarter, nothing protected. Replace the project and
# repository.
environment       = "staging"
project_id        = "bqingest-staging"
github_repository = "your-org/bqingest"
region            = "us-central1"

deletion_protection                    = false
events_partition_expiration_days       = 90
dead_letters_partition_expiration_days = 90

api_min_instances    = 0
api_max_instances    = 3
dataflow_max_workers = 2

# Monitoring. Alerts notify these channels (projects/PROJECT/notificationChannels/ID; create them
# in the console, or with gcloud beta monitoring channels create); empty shows incidents in the
# console only. The scheduler alone writes 20 events an hour: fewer than 15 means it or the
# pipeline stopped.
alert_notification_channels    = []
expected_events_min            = 15
expected_events_max            = 10000
expected_events_window_seconds = 3600
