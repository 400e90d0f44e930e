# Values every environment shares; Terraform loads this file by itself. Each environment's own
# values are in envs/ENV.tfvars (plan and apply with -var-file=envs/ENV.tfvars), which win over
# these. Replace the repository and its numeric id with yours (gh api repos/OWNER/NAME --jq .id):
# only its workflows may deploy or plan (Workload Identity Federation).
github_repository    = "your-org/bqingest"
github_repository_id = "000000000"
region               = "us-central1"

# Alerts notify these channels (projects/PROJECT/notificationChannels/ID; create them in the
# console, or with gcloud beta monitoring channels create); empty shows incidents in the console
# only. The scheduler alone writes 20 events an hour: fewer than 15 means it or the pipeline
# stopped.
alert_notification_channels    = []
expected_events_min            = 15
expected_events_window_seconds = 3600
