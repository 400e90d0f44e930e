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
