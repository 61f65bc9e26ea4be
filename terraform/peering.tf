# Full mesh of inter-region VPC peering: a-b, a-c, b-c. Cross-region peering cannot be
# auto-accepted by the requester: each connection is requested with one region's provider and
# accepted with the other's. The routes (both directions, every node and database route table)
# live in modules/region and use the accepter's id, so they wait for the acceptance.

resource "aws_vpc_peering_connection" "ab" {
  provider = aws.a

  vpc_id        = module.region_a.vpc_id
  peer_vpc_id   = module.region_b.vpc_id
  peer_region   = var.regions[1]
  peer_owner_id = var.aws_account_id
  auto_accept   = false

  tags = { Name = "${var.cluster_id}-${var.regions[0]}-${var.regions[1]}" }
}

resource "aws_vpc_peering_connection_accepter" "ab" {
  provider = aws.b

  vpc_peering_connection_id = aws_vpc_peering_connection.ab.id
  auto_accept               = true

  tags = { Name = "${var.cluster_id}-${var.regions[0]}-${var.regions[1]}" }
}

resource "aws_vpc_peering_connection" "ac" {
  provider = aws.a

  vpc_id        = module.region_a.vpc_id
  peer_vpc_id   = module.region_c.vpc_id
  peer_region   = var.regions[2]
  peer_owner_id = var.aws_account_id
  auto_accept   = false

  tags = { Name = "${var.cluster_id}-${var.regions[0]}-${var.regions[2]}" }
}

resource "aws_vpc_peering_connection_accepter" "ac" {
  provider = aws.c

  vpc_peering_connection_id = aws_vpc_peering_connection.ac.id
  auto_accept               = true

  tags = { Name = "${var.cluster_id}-${var.regions[0]}-${var.regions[2]}" }
}

resource "aws_vpc_peering_connection" "bc" {
  provider = aws.b

  vpc_id        = module.region_b.vpc_id
  peer_vpc_id   = module.region_c.vpc_id
  peer_region   = var.regions[2]
  peer_owner_id = var.aws_account_id
  auto_accept   = false

  tags = { Name = "${var.cluster_id}-${var.regions[1]}-${var.regions[2]}" }
}

resource "aws_vpc_peering_connection_accepter" "bc" {
  provider = aws.c

  vpc_peering_connection_id = aws_vpc_peering_connection.bc.id
  auto_accept               = true

  tags = { Name = "${var.cluster_id}-${var.regions[1]}-${var.regions[2]}" }
}
