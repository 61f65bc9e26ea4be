# Security groups. Every rule is its own resource (one CIDR each) so that a plan lists exactly
# what is open; aws_security_group itself carries no inline rules, and Terraform removes AWS's
# default allow-all egress rule when it creates one.
#
#   clients (allowed_client_cidrs) --443/80--> NLB --api_port--> nodes
#   nodes of all three regions     --peer_port--> nodes          (Raft, mutual TLS)
#   nodes                          --5432--> archive database subnets
#   nodes                          --80/443--> internet via NAT  (packages, release, SSM, webhooks)
# No SSH unless ssh_cidrs is set.

locals {
  api_tls       = var.api_certificate_arn != null
  listener_port = local.api_tls ? 443 : 80
}

resource "aws_security_group" "nlb" {
  name        = "${local.name}-nlb"
  description = "incidentd API load balancer"
  vpc_id      = aws_vpc.this.id

  tags = { Name = "${local.name}-nlb" }
}

resource "aws_vpc_security_group_ingress_rule" "nlb_clients" {
  for_each = toset(var.common.allowed_client_cidrs)

  security_group_id = aws_security_group.nlb.id
  description       = "API clients"
  ip_protocol       = "tcp"
  from_port         = local.listener_port
  to_port           = local.listener_port
  cidr_ipv4         = each.value
}

resource "aws_vpc_security_group_ingress_rule" "nlb_health_checkers" {
  count = var.health_check_prefix_list_id == null ? 0 : 1

  security_group_id = aws_security_group.nlb.id
  description       = "Route 53 health checkers"
  ip_protocol       = "tcp"
  from_port         = local.listener_port
  to_port           = local.listener_port
  prefix_list_id    = var.health_check_prefix_list_id
}

resource "aws_vpc_security_group_egress_rule" "nlb_to_nodes" {
  for_each = toset(var.node_subnet_cidrs)

  security_group_id = aws_security_group.nlb.id
  description       = "To the nodes' API port (traffic and target health checks)"
  ip_protocol       = "tcp"
  from_port         = var.common.api_port
  to_port           = var.common.api_port
  cidr_ipv4         = each.value
}

resource "aws_security_group" "nodes" {
  name        = "${local.name}-nodes"
  description = "incidentd nodes"
  vpc_id      = aws_vpc.this.id

  tags = { Name = "${local.name}-nodes" }
}

resource "aws_vpc_security_group_ingress_rule" "nodes_api_from_nlb" {
  security_group_id            = aws_security_group.nodes.id
  description                  = "API from the load balancer"
  ip_protocol                  = "tcp"
  from_port                    = var.common.api_port
  to_port                      = var.common.api_port
  referenced_security_group_id = aws_security_group.nlb.id
}

resource "aws_vpc_security_group_ingress_rule" "nodes_api_direct" {
  for_each = toset(var.common.direct_api_cidrs)

  security_group_id = aws_security_group.nodes.id
  description       = "API, direct (operators)"
  ip_protocol       = "tcp"
  from_port         = var.common.api_port
  to_port           = var.common.api_port
  cidr_ipv4         = each.value
}

# The peer port only from subnets that hold nodes (this region's and the other two's).
resource "aws_vpc_security_group_ingress_rule" "nodes_peer" {
  for_each = toset(var.common.cluster_node_cidrs)

  security_group_id = aws_security_group.nodes.id
  description       = "incidentd peer port (Raft) from cluster nodes"
  ip_protocol       = "tcp"
  from_port         = var.common.peer_port
  to_port           = var.common.peer_port
  cidr_ipv4         = each.value
}

resource "aws_vpc_security_group_ingress_rule" "nodes_ssh" {
  for_each = toset(var.common.ssh_cidrs)

  security_group_id = aws_security_group.nodes.id
  description       = "SSH"
  ip_protocol       = "tcp"
  from_port         = 22
  to_port           = 22
  cidr_ipv4         = each.value
}

resource "aws_vpc_security_group_egress_rule" "nodes_peer" {
  for_each = toset(var.common.cluster_node_cidrs)

  security_group_id = aws_security_group.nodes.id
  description       = "incidentd peer port to cluster nodes"
  ip_protocol       = "tcp"
  from_port         = var.common.peer_port
  to_port           = var.common.peer_port
  cidr_ipv4         = each.value
}

resource "aws_vpc_security_group_egress_rule" "nodes_archive" {
  for_each = toset(var.archive_enabled ? var.archive_cidrs : [])

  security_group_id = aws_security_group.nodes.id
  description       = "PostgreSQL archive"
  ip_protocol       = "tcp"
  from_port         = 5432
  to_port           = 5432
  cidr_ipv4         = each.value
}

# HTTPS out: the release, SSM and AWS APIs, the RDS CA bundle, notification webhooks.
resource "aws_vpc_security_group_egress_rule" "nodes_https" {
  security_group_id = aws_security_group.nodes.id
  description       = "HTTPS (release, AWS APIs, webhooks)"
  ip_protocol       = "tcp"
  from_port         = 443
  to_port           = 443
  cidr_ipv4         = "0.0.0.0/0"
}

# HTTP out: Debian's package mirrors (apt verifies signatures; the release itself is HTTPS only).
resource "aws_vpc_security_group_egress_rule" "nodes_http" {
  security_group_id = aws_security_group.nodes.id
  description       = "HTTP (signed Debian packages)"
  ip_protocol       = "tcp"
  from_port         = 80
  to_port           = 80
  cidr_ipv4         = "0.0.0.0/0"
}
