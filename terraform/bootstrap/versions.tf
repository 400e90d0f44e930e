# The bootstrap root keeps its own state locally (terraform.tfstate here): it creates the bucket
# every other root keeps its state in. Keep that file safe, or move it into the bucket afterwards
# (README, "Deploy to GCP").
terraform {
  required_version = ">= 1.6.0, < 2.0.0"

  required_providers {
    google = {
      source  = "hashicorp/google"
      version = "~> 6.0"
    }
  }
}

provider "google" {
  project = var.project_id
}
