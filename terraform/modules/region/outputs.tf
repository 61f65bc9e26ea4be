output "vpc_id" {
  value = aws_vpc.this.id
}

output "database_subnet_ids" {
  value = aws_subnet.database[*].id
}

output "nlb_dns_name" {
  value = aws_lb.api.dns_name
}

output "nlb_zone_id" {
  value = aws_lb.api.zone_id
}

output "api_tls" {
  description = "Whether the NLB listener terminates TLS (443) rather than passing TCP on 80."
  value       = local.api_tls
}

output "node_private_ips" {
  value = { for id, n in var.nodes : id => aws_instance.node[id].private_ip }
}

output "node_security_group_id" {
  value = aws_security_group.nodes.id
}
