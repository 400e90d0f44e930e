# prod: data kept and protected from destroy, one API instance always warm. Replace the project and
# repository.
environment       = "prod"
project_id        = "bqingest-prod"
github_repository = "your-org/bqingest"
region            = "us-central1"

deletion_protection = true

api_min_instances    = 1
api_max_instances    = 10
dataflow_max_workers = 5

# Monitoring. Alerts notify these channels (projects/PROJECT/notificationChannels/ID; create them
# in the console, or with gcloud beta monitoring channels create); empty shows incidents in the
# console only. The scheduler alone writes 20 events an hour: fewer than 15 means it or the
# pipeline stopped.
alert_notification_channels    = []
expected_events_min            = 15
expected_events_max            = 100000
expected_events_window_seconds = 3600
