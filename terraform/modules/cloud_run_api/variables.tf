variable "api_keys_secret_id" {
  type        = string
  description = "Secret Manager secret holding BQINGEST_API_KEYS. Terraform creates it empty; its value is added out of band."
  default     = "bqingest-api-keys"

  validation {
    condition     = can(regex("^[A-Za-z0-9_-]{1,255}$", var.api_keys_secret_id))
    error_message = "api_keys_secret_id must be 1-255 letters, digits, hyphens and underscores."
  }
}

variable "concurrency" {
  type        = number
  description = "Requests one instance serves at once before Cloud Run starts another."
  default     = 80

  validation {
    condition     = var.concurrency >= 1 && var.concurrency <= 1000
    error_message = "concurrency must be between 1 and 1000."
  }
}

variable "container_port" {
  type        = number
  description = "Port the API listens on inside the container (BQINGEST_API_PORT)."
  default     = 8000

  validation {
    condition     = var.container_port >= 1 && var.container_port <= 65535
    error_message = "container_port must be a TCP port."
  }
}

variable "cpu" {
  type        = string
  description = "vCPUs per instance."
  default     = "1"

  validation {
    condition     = contains(["1", "2", "4", "6", "8"], var.cpu)
    error_message = "cpu must be one of 1, 2, 4, 6, 8."
  }
}

variable "dataset" {
  type        = string
  description = "BigQuery dataset the API reads (BQINGEST_DATASET)."

  validation {
    condition     = can(regex("^[A-Za-z0-9_]{1,1024}$", var.dataset))
    error_message = "dataset must be letters, digits and underscores."
  }
}

variable "dead_letter_table" {
  type        = string
  description = "Dead-letter table name (BQINGEST_DEAD_LETTER_TABLE)."

  validation {
    condition     = can(regex("^[A-Za-z0-9_]{1,1024}$", var.dead_letter_table))
    error_message = "dead_letter_table must be letters, digits and underscores."
  }
}

variable "dedup_view" {
  type        = string
  description = "De-duplicated view name (BQINGEST_DEDUP_VIEW)."

  validation {
    condition     = can(regex("^[A-Za-z0-9_]{1,1024}$", var.dedup_view))
    error_message = "dedup_view must be letters, digits and underscores."
  }
}

variable "deletion_protection" {
  type        = bool
  description = "Refuse to delete the service (true in prod)."
  default     = true
}

variable "environment" {
  type        = string
  description = "Deployment environment (BQINGEST_ENVIRONMENT)."

  validation {
    condition     = contains(["dev", "staging", "prod"], var.environment)
    error_message = "environment must be dev, staging or prod."
  }
}

variable "events_table" {
  type        = string
  description = "Events table name (BQINGEST_EVENTS_TABLE)."

  validation {
    condition     = can(regex("^[A-Za-z0-9_]{1,1024}$", var.events_table))
    error_message = "events_table must be letters, digits and underscores."
  }
}

variable "iam_propagation_wait" {
  type        = string
  description = "How long to wait after granting the runtime account the secret, before the service's first revision reads it."
  default     = "60s"

  validation {
    condition     = can(regex("^[0-9]+s$", var.iam_propagation_wait))
    error_message = "iam_propagation_wait must be a number of seconds such as 60s."
  }
}

variable "image" {
  type        = string
  description = "API container image, LOCATION-docker.pkg.dev/PROJECT/REPOSITORY/IMAGE:TAG or @sha256 digest."

  validation {
    condition     = can(regex("^[a-z0-9.-]+(:[0-9]+)?/[^\\s]+(:[A-Za-z0-9_.-]+|@sha256:[0-9a-f]{64})$", var.image))
    error_message = "image must be a full image reference with a tag or a digest."
  }
}

variable "invokers" {
  type        = map(string)
  description = "IAM members allowed to call the API, by a static key: each gets roles/run.invoker on this service only. Public members are refused."
  default     = {}

  validation {
    condition     = alltrue([for member in values(var.invokers) : can(regex("^(serviceAccount|group|user):", member))])
    error_message = "invokers values must be IAM members such as serviceAccount:EMAIL; allUsers and allAuthenticatedUsers are refused."
  }
}

variable "location" {
  type        = string
  description = "BigQuery location the API runs its queries in (BQINGEST_LOCATION)."

  validation {
    condition     = can(regex("^[A-Za-z]+(-[a-z]+[0-9]+)?$", var.location))
    error_message = "location must be a multi-region (US, EU) or a region such as europe-west1."
  }
}

variable "max_instances" {
  type        = number
  description = "Upper bound on instances: a cap on cost and on BigQuery load."
  default     = 3

  validation {
    condition     = var.max_instances >= 1 && var.max_instances <= 100
    error_message = "max_instances must be between 1 and 100."
  }
}

variable "memory" {
  type        = string
  description = "Memory per instance, e.g. 512Mi or 1Gi."
  default     = "512Mi"

  validation {
    condition     = can(regex("^[0-9]+(Mi|Gi)$", var.memory))
    error_message = "memory must be a quantity such as 512Mi or 1Gi."
  }
}

variable "min_instances" {
  type        = number
  description = "Instances kept warm; 0 scales to zero when idle (no cost, a cold start on the next request)."
  default     = 0

  validation {
    condition     = var.min_instances >= 0 && var.min_instances <= 100
    error_message = "min_instances must be between 0 and 100."
  }
}

variable "project_id" {
  type        = string
  description = "GCP project id the service runs in (BQINGEST_PROJECT)."

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{4,28}[a-z0-9]$", var.project_id))
    error_message = "project_id must be a GCP project id: 6-30 lowercase letters, digits and hyphens."
  }
}

variable "region" {
  type        = string
  description = "Cloud Run region."

  validation {
    condition     = can(regex("^[a-z]+-[a-z]+[0-9]+$", var.region))
    error_message = "region must be a GCP region such as us-central1."
  }
}

variable "request_timeout_seconds" {
  type        = number
  description = "Longest a request may take before Cloud Run answers 504."
  default     = 30

  validation {
    condition     = var.request_timeout_seconds >= 1 && var.request_timeout_seconds <= 3600
    error_message = "request_timeout_seconds must be between 1 and 3600."
  }
}

variable "service_account_email" {
  type        = string
  description = "Email of the service account the API runs as (the reader account)."

  validation {
    condition     = can(regex("^[^@]+@[^@]+\\.iam\\.gserviceaccount\\.com$", var.service_account_email))
    error_message = "service_account_email must be a service account email."
  }
}

variable "service_name" {
  type        = string
  description = "Name of the Cloud Run service."
  default     = "bqingest-api"

  validation {
    condition     = can(regex("^[a-z]([a-z0-9-]{0,47}[a-z0-9])?$", var.service_name))
    error_message = "service_name must be 1-49 lowercase letters, digits and hyphens, starting with a letter."
  }
}

variable "topic" {
  type        = string
  description = "Events topic name the API publishes to (BQINGEST_TOPIC)."

  validation {
    condition     = can(regex("^[A-Za-z][A-Za-z0-9._~+%-]{2,254}$", var.topic))
    error_message = "topic must be 3-255 characters, start with a letter and use only letters, digits and -_.~+%."
  }
}
