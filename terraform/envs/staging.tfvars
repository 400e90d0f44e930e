# staging: production-shaped, data kept for a quarter, nothing protected. Replace the project id.
environment = "staging"
project_id  = "bqingest-staging"

deletion_protection                    = false
events_partition_expiration_days       = 90
dead_letters_partition_expiration_days = 90

api_min_instances    = 0
api_max_instances    = 3
dataflow_max_workers = 2

expected_events_max = 10000
