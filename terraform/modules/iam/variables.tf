variable "api_invoker_account_id" {
  type        = string
  description = "Account id of the service account that may only invoke the API (clients and smoke tests)."
  default     = "bqingest-api-invoker"

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{4,28}[a-z0-9]$", var.api_invoker_account_id))
    error_message = "api_invoker_account_id must be 6-30 lowercase letters, digits and hyphens."
  }
}

variable "api_reader_account_id" {
  type        = string
  description = "Account id of the service account the API runs as (reads BigQuery)."
  default     = "bqingest-api-reader"

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{4,28}[a-z0-9]$", var.api_reader_account_id))
    error_message = "api_reader_account_id must be 6-30 lowercase letters, digits and hyphens."
  }
}

variable "dataflow_worker_account_id" {
  type        = string
  description = "Account id of the service account the Dataflow launcher and workers run as."
  default     = "bqingest-pipeline"

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{4,28}[a-z0-9]$", var.dataflow_worker_account_id))
    error_message = "dataflow_worker_account_id must be 6-30 lowercase letters, digits and hyphens."
  }
}

variable "deployer_account_id" {
  type        = string
  description = "Account id of the CI service account that GitHub Actions impersonates through Workload Identity Federation."
  default     = "bqingest-deployer"

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{4,28}[a-z0-9]$", var.deployer_account_id))
    error_message = "deployer_account_id must be 6-30 lowercase letters, digits and hyphens."
  }
}

variable "github_deploy_ref" {
  type        = string
  description = "Git ref whose pushes (and manual runs) deploy this environment, e.g. refs/heads/main: only its jobs may impersonate the deployer."

  validation {
    condition     = can(regex("^refs/heads/[A-Za-z0-9._/-]{1,200}$", var.github_deploy_ref))
    error_message = "github_deploy_ref must be a branch ref such as refs/heads/main."
  }
}

variable "github_environment" {
  type        = string
  description = "GitHub Environment (dev, staging, prod) whose jobs alone may impersonate the deployer or the planner."

  validation {
    condition     = can(regex("^[A-Za-z0-9._-]{1,255}$", var.github_environment))
    error_message = "github_environment must be a GitHub Environment name such as dev."
  }
}

variable "github_repository" {
  type        = string
  description = "The GitHub repository (owner/name), for descriptions; access is pinned to github_repository_id."

  validation {
    condition     = can(regex("^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})/[A-Za-z0-9._-]{1,100}$", var.github_repository))
    error_message = "github_repository must be owner/name, e.g. my-org/bqingest."
  }
}

variable "github_repository_id" {
  type        = string
  description = "Numeric id of the only GitHub repository whose workflows may impersonate the deployer or the planner (gh api repos/OWNER/NAME --jq .id)."

  validation {
    condition     = can(regex("^[1-9][0-9]{0,19}$", var.github_repository_id))
    error_message = "github_repository_id must be the repository's numeric id (gh api repos/OWNER/NAME --jq .id), not the placeholder 000000000."
  }
}

variable "planner_account_id" {
  type        = string
  description = "Account id of the read-only CI service account that pull requests' terraform plan runs as."
  default     = "bqingest-planner"

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{4,28}[a-z0-9]$", var.planner_account_id))
    error_message = "planner_account_id must be 6-30 lowercase letters, digits and hyphens."
  }
}

variable "project_id" {
  type        = string
  description = "GCP project id the service accounts and the workload identity pool are created in."

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{4,28}[a-z0-9]$", var.project_id))
    error_message = "project_id must be a GCP project id: 6-30 lowercase letters, digits and hyphens."
  }
}

variable "reconcile_account_id" {
  type        = string
  description = "Account id of the service account the scheduled reconcile job runs as."
  default     = "bqingest-reconcile"

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{4,28}[a-z0-9]$", var.reconcile_account_id))
    error_message = "reconcile_account_id must be 6-30 lowercase letters, digits and hyphens."
  }
}

variable "workload_identity_pool_id" {
  type        = string
  description = "Id of the workload identity pool for GitHub Actions. A deleted pool keeps its id for 30 days."
  default     = "github"

  validation {
    condition     = can(regex("^[a-z0-9-]{4,32}$", var.workload_identity_pool_id)) && !startswith(var.workload_identity_pool_id, "gcp-")
    error_message = "workload_identity_pool_id must be 4-32 lowercase letters, digits and hyphens, not starting with gcp-."
  }
}

variable "workload_identity_provider_id" {
  type        = string
  description = "Id of the GitHub OIDC provider in the pool."
  default     = "github-actions"

  validation {
    condition     = can(regex("^[a-z0-9-]{4,32}$", var.workload_identity_provider_id)) && !startswith(var.workload_identity_provider_id, "gcp-")
    error_message = "workload_identity_provider_id must be 4-32 lowercase letters, digits and hyphens, not starting with gcp-."
  }
}
