# dev: short-lived data, nothing protected, smallest footprint. Replace the project and repository.
environment       = "dev"
project_id        = "bqingest-dev"
github_repository = "your-org/bqingest"
region            = "us-central1"

deletion_protection                    = false
events_partition_expiration_days       = 30
dead_letters_partition_expiration_days = 30

api_min_instances    = 0
api_max_instances    = 2
dataflow_max_workers = 1
