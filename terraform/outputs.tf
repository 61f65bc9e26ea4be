output "api_endpoint" {
  description = "The API's URL (latency-routed to the nearest healthy region)."
  value       = "${length(var.api_certificate_arns) == 3 ? "https" : "http"}://${var.dns_name}"
}

output "api_dns_name" {
  description = "The latency-routed DNS name."
  value       = var.dns_name
}

output "nlb_dns_names" {
  description = "Each region's load balancer."
  value       = { for k, e in local.entrypoints : e.region => e.lb }
}

output "node_private_ips" {
  description = "Private IP of every node, by node id."
  value       = { for n in local.nodes : tostring(n.id) => n.private_ip }
}

output "nodes" {
  description = "Every node: id, region, zone, private IP."
  value       = { for n in local.nodes : tostring(n.id) => { region = n.region, zone = n.zone, private_ip = n.private_ip } }
}

output "peers" {
  description = "The founding members (incidentd peers), identical on every node."
  value       = local.peers
}

output "voters" {
  description = "Number of voting members."
  value       = local.voters
}

output "archive_endpoint" {
  description = "host:port of the archive database (null without the archive)."
  value       = one(concat(module.archive_a[*].endpoint, module.archive_b[*].endpoint, module.archive_c[*].endpoint))
}

output "archive_url_parameter" {
  description = "SSM parameter (in every region) holding archive_url."
  value       = var.archive.enabled ? "${local.ssm_prefix}/archive/url" : null
}

output "ssm_parameters_to_create" {
  description = "SecureString parameters the operator creates in each region before apply."
  value = {
    for k, e in local.entrypoints : e.region => concat(
      ["${local.ssm_prefix}/admin-key", "${local.ssm_prefix}/tls/ca.pem"],
      flatten([for n in local.nodes : ["${local.ssm_prefix}/tls/node-${n.id}.pem", "${local.ssm_prefix}/tls/node-${n.id}-key.pem"] if n.region == e.region]),
    )
  }
}

output "settings" {
  description = "The effective settings (variables with their defaults applied): what the nodes and the archive were planned with."
  value = {
    regions          = var.regions
    nodes_per_region = { for i, r in var.regions : r => local.node_counts[i] }
    raft_timing      = var.raft_timing
    archive          = merge(var.archive, { region = local.archive_region })
    data_volume      = var.data_volume
    ssm_prefix       = local.ssm_prefix
  }
}
