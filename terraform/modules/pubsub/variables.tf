variable "ack_deadline_seconds" {
  type        = number
  description = "Seconds a subscriber has to acknowledge a message before Pub/Sub redelivers it (BQINGEST_ACK_DEADLINE_SECONDS)."
  default     = 60

  validation {
    condition     = var.ack_deadline_seconds >= 10 && var.ack_deadline_seconds <= 600
    error_message = "ack_deadline_seconds must be between 10 and 600."
  }
}

variable "message_retention_seconds" {
  type        = number
  description = "How long the subscription keeps messages, acknowledged ones included when retain_acked_messages is true."
  default     = 604800

  validation {
    condition     = var.message_retention_seconds >= 600 && var.message_retention_seconds <= 2678400
    error_message = "message_retention_seconds must be between 600 (10 minutes) and 2678400 (31 days)."
  }
}

variable "project_id" {
  type        = string
  description = "GCP project id the topics and subscriptions are created in."

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{4,28}[a-z0-9]$", var.project_id))
    error_message = "project_id must be a GCP project id: 6-30 lowercase letters, digits and hyphens."
  }
}

variable "retain_acked_messages" {
  type        = bool
  description = "Keep acknowledged messages for message_retention_seconds so a restarted pipeline can seek back."
  default     = true
}

variable "subscription" {
  type        = string
  description = "The pipeline's subscription on the events topic (BQINGEST_SUBSCRIPTION)."
  default     = "events-pipeline"

  validation {
    condition     = can(regex("^[A-Za-z][A-Za-z0-9._~+%-]{2,254}$", var.subscription)) && !startswith(var.subscription, "goog")
    error_message = "subscription must be 3-255 characters, start with a letter, not start with goog, and use only letters, digits and -_.~+%."
  }
}

variable "subscription_readers" {
  type        = map(string)
  description = "IAM members that consume the subscription, by a static key: each gets roles/pubsub.subscriber and roles/pubsub.viewer on it only."
  default     = {}

  validation {
    condition     = alltrue([for member in values(var.subscription_readers) : can(regex("^(serviceAccount|group|user):", member))])
    error_message = "subscription_readers values must be IAM members such as serviceAccount:EMAIL; public members are refused."
  }
}

variable "topic" {
  type        = string
  description = "Topic the source publishes events to (BQINGEST_TOPIC)."
  default     = "events"

  validation {
    condition     = can(regex("^[A-Za-z][A-Za-z0-9._~+%-]{2,254}$", var.topic)) && !startswith(var.topic, "goog")
    error_message = "topic must be 3-255 characters, start with a letter, not start with goog, and use only letters, digits and -_.~+%."
  }
}

variable "topic_publishers" {
  type        = map(string)
  description = "IAM members that publish to the events topic, by a static key: each gets roles/pubsub.publisher on that topic only."
  default     = {}

  validation {
    condition     = alltrue([for member in values(var.topic_publishers) : can(regex("^(serviceAccount|group|user):", member))])
    error_message = "topic_publishers values must be IAM members such as serviceAccount:EMAIL; public members are refused."
  }
}
