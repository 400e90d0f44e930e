# The bootstrap root starts with local state (terraform.tfstate here, ignored by git): it creates
# the bucket every other root keeps its state in. Move its state into that bucket afterwards
# (docs/deploy.md).
terraform {
  required_version = ">= 1.6.0, < 2.0.0"

  required_providers {
    google = {
      source  = "hashicorp/google"
      version = "6.50.0"
    }
  }
}
