# prod: data kept and protected from destroy, one API instance always warm. Replace the project id.
environment = "prod"
project_id  = "bqingest-prod"

deletion_protection = true

api_min_instances    = 1
api_max_instances    = 10
dataflow_max_workers = 5

expected_events_max = 100000
