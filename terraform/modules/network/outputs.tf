output "network_id" {
  description = "Id of the VPC network (projects/P/global/networks/N)."
  value       = google_compute_network.this.id
}

output "subnetwork_self_link" {
  description = "Self link of the Dataflow workers' subnetwork, as Dataflow's subnetwork option takes it."
  value       = google_compute_subnetwork.workers.self_link
}
