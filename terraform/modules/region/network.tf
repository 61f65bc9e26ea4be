locals {
  name        = "${var.common.cluster_id}-${var.region}"
  region_code = replace(var.region, "-", "")
  nat_count   = var.common.nat_gateway_per_zone ? length(var.availability_zones) : 1

  # Route tables that must reach the other regions over peering: one per node subnet, and the
  # database one where the archive lives (its answers to remote nodes go back the same way).
  private_route_tables = merge(
    { for i, c in var.node_subnet_cidrs : "nodes-${i}" => { kind = "nodes", index = i } },
    length(var.database_subnet_cidrs) > 0 ? { database = { kind = "database", index = 0 } } : {},
  )

  peer_routes = {
    for pair in setproduct(keys(var.peer_vpc_cidrs), keys(local.private_route_tables)) :
    "${pair[0]}/${pair[1]}" => { peer_region = pair[0], table = pair[1] }
  }
}

resource "aws_vpc" "this" {
  cidr_block           = var.vpc_cidr
  enable_dns_support   = true
  enable_dns_hostnames = true

  tags = { Name = local.name }
}

# Strip the default security group of its allow-all rules: nothing should land in it.
resource "aws_default_security_group" "this" {
  vpc_id = aws_vpc.this.id

  tags = { Name = "${local.name}-default-unused" }
}

resource "aws_internet_gateway" "this" {
  vpc_id = aws_vpc.this.id

  tags = { Name = local.name }
}

resource "aws_subnet" "public" {
  count = length(var.availability_zones)

  vpc_id                  = aws_vpc.this.id
  availability_zone       = var.availability_zones[count.index]
  cidr_block              = var.public_subnet_cidrs[count.index]
  map_public_ip_on_launch = false

  tags = { Name = "${local.name}-public-${var.availability_zones[count.index]}", Tier = "public" }
}

resource "aws_subnet" "nodes" {
  count = length(var.node_subnet_cidrs)

  vpc_id            = aws_vpc.this.id
  availability_zone = var.availability_zones[count.index]
  cidr_block        = var.node_subnet_cidrs[count.index]

  tags = { Name = "${local.name}-nodes-${var.availability_zones[count.index]}", Tier = "nodes" }
}

resource "aws_subnet" "database" {
  count = length(var.database_subnet_cidrs)

  vpc_id            = aws_vpc.this.id
  availability_zone = var.availability_zones[count.index]
  cidr_block        = var.database_subnet_cidrs[count.index]

  tags = { Name = "${local.name}-database-${var.availability_zones[count.index]}", Tier = "database" }
}

# Egress for the nodes (packages, the release, SSM, notification webhooks).
resource "aws_eip" "nat" {
  count  = local.nat_count
  domain = "vpc"

  tags = { Name = "${local.name}-nat-${var.availability_zones[count.index]}" }
}

resource "aws_nat_gateway" "this" {
  count = local.nat_count

  allocation_id = aws_eip.nat[count.index].id
  subnet_id     = aws_subnet.public[count.index].id

  tags = { Name = "${local.name}-${var.availability_zones[count.index]}" }

  depends_on = [aws_internet_gateway.this]
}

resource "aws_route_table" "public" {
  vpc_id = aws_vpc.this.id

  tags = { Name = "${local.name}-public" }
}

resource "aws_route" "public_internet" {
  route_table_id         = aws_route_table.public.id
  destination_cidr_block = "0.0.0.0/0"
  gateway_id             = aws_internet_gateway.this.id
}

resource "aws_route_table_association" "public" {
  count = length(aws_subnet.public)

  subnet_id      = aws_subnet.public[count.index].id
  route_table_id = aws_route_table.public.id
}

resource "aws_route_table" "nodes" {
  count = length(var.node_subnet_cidrs)

  vpc_id = aws_vpc.this.id

  tags = { Name = "${local.name}-nodes-${var.availability_zones[count.index]}" }
}

resource "aws_route" "nodes_internet" {
  count = length(var.node_subnet_cidrs)

  route_table_id         = aws_route_table.nodes[count.index].id
  destination_cidr_block = "0.0.0.0/0"
  nat_gateway_id         = aws_nat_gateway.this[var.common.nat_gateway_per_zone ? count.index : 0].id
}

resource "aws_route_table_association" "nodes" {
  count = length(var.node_subnet_cidrs)

  subnet_id      = aws_subnet.nodes[count.index].id
  route_table_id = aws_route_table.nodes[count.index].id
}

# The database subnets have no internet route at all: only local and peering routes.
resource "aws_route_table" "database" {
  count = length(var.database_subnet_cidrs) > 0 ? 1 : 0

  vpc_id = aws_vpc.this.id

  tags = { Name = "${local.name}-database" }
}

resource "aws_route_table_association" "database" {
  count = length(var.database_subnet_cidrs)

  subnet_id      = aws_subnet.database[count.index].id
  route_table_id = aws_route_table.database[0].id
}

# To every other region's VPC through its peering connection, from every private route table.
resource "aws_route" "peers" {
  for_each = local.peer_routes

  route_table_id = (
    local.private_route_tables[each.value.table].kind == "nodes"
    ? aws_route_table.nodes[local.private_route_tables[each.value.table].index].id
    : aws_route_table.database[0].id
  )
  destination_cidr_block    = var.peer_vpc_cidrs[each.value.peer_region]
  vpc_peering_connection_id = var.peering_connection_ids[each.value.peer_region]
}
