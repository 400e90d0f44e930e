# The Dataflow workers' network: private IPs only. Private Google Access lets them reach Google APIs
# (Pub/Sub, BigQuery, Artifact Registry) without public addresses; Cloud NAT gives them outbound-only
# access to the internet for the Python packages they install at start-up.
resource "google_compute_network" "this" {
  project                 = var.project_id
  name                    = var.name
  auto_create_subnetworks = false
  routing_mode            = "REGIONAL"
}

resource "google_compute_subnetwork" "workers" {
  #checkov:skip=CKV_GCP_76:IPv4-only subnetwork; Private Google Access for IPv6 does not apply.
  project                  = var.project_id
  name                     = "${var.name}-workers"
  region                   = var.region
  network                  = google_compute_network.this.id
  ip_cidr_range            = var.subnet_cidr
  private_ip_google_access = true

  log_config {
    aggregation_interval = "INTERVAL_10_MIN"
    flow_sampling        = 0.1
    metadata             = "INCLUDE_ALL_METADATA"
  }
}

# Dataflow workers exchange shuffle and streaming data on TCP 12345-12346; nothing else is allowed in
# (a VPC denies ingress by default).
resource "google_compute_firewall" "dataflow_workers" {
  project     = var.project_id
  name        = "${var.name}-dataflow-workers"
  network     = google_compute_network.this.id
  direction   = "INGRESS"
  priority    = 1000
  source_tags = ["dataflow"]
  target_tags = ["dataflow"]

  allow {
    protocol = "tcp"
    ports    = ["12345-12346"]
  }
}

resource "google_compute_router" "this" {
  project = var.project_id
  name    = "${var.name}-router"
  region  = var.region
  network = google_compute_network.this.id
}

resource "google_compute_router_nat" "this" {
  project                            = var.project_id
  name                               = "${var.name}-nat"
  region                             = var.region
  router                             = google_compute_router.this.name
  nat_ip_allocate_option             = "AUTO_ONLY"
  source_subnetwork_ip_ranges_to_nat = "LIST_OF_SUBNETWORKS"

  subnetwork {
    name                    = google_compute_subnetwork.workers.id
    source_ip_ranges_to_nat = ["ALL_IP_RANGES"]
  }

  log_config {
    enable = true
    filter = "ERRORS_ONLY"
  }
}
