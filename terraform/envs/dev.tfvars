# dev: short-lived data, nothing protected, smallest footprint. Replace the project id.
environment = "dev"
project_id  = "bqingest-dev"

deletion_protection                    = false
events_partition_expiration_days       = 30
dead_letters_partition_expiration_days = 30

api_min_instances    = 0
api_max_instances    = 2
dataflow_max_workers = 1

expected_events_max = 1000
