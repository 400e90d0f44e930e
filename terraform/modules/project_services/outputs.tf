output "services" {
  description = "The enabled APIs, sorted."
  value       = sort([for enabled in google_project_service.enabled : enabled.service])
}
