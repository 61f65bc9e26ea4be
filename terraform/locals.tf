# The cluster's topology, computed entirely from variables so that every node's address, and so
# the founding `peers` list, is known at plan time, before any instance boots.
#
# Per region (VPC /16../20, carved into /24s):
#   public subnets    index 0..3  (NLB, NAT), one per availability zone
#   node subnets      index 4..7  one per zone that holds a node
#   database subnets  index 8..11 archive region only, one per zone (RDS subnet group)
# Node j of a region goes to zone j mod (zones used) and gets host .10, .11, ... of that zone's
# node subnet. Node ids run 1..N over the regions in var.regions order.

locals {
  region_slots = ["a", "b", "c"]

  node_counts = [for r in var.regions : lookup(var.nodes_per_region, r, 1)]
  voters      = sum(local.node_counts)
  first_ids   = [1, 1 + local.node_counts[0], 1 + local.node_counts[0] + local.node_counts[1]]

  archive_region = coalesce(var.archive.region, var.regions[0])
  ssm_prefix     = coalesce(var.ssm_parameter_prefix, "/incidentd/${var.cluster_id}")

  subnet_newbits = { for r in var.regions : r => 24 - tonumber(split("/", var.vpc_cidrs[r])[1]) }

  # Zones that hold nodes: the first min(zones, nodes) of the region's list.
  node_zones = {
    for i, r in var.regions :
    r => slice(var.availability_zones[r], 0, min(length(var.availability_zones[r]), local.node_counts[i]))
  }

  public_subnet_cidrs = {
    for r in var.regions :
    r => [for i, z in var.availability_zones[r] : cidrsubnet(var.vpc_cidrs[r], local.subnet_newbits[r], i)]
  }
  node_subnet_cidrs = {
    for r in var.regions :
    r => [for i, z in local.node_zones[r] : cidrsubnet(var.vpc_cidrs[r], local.subnet_newbits[r], 4 + i)]
  }
  database_subnet_cidrs = {
    for r in var.regions :
    r => var.archive.enabled && r == local.archive_region ? [for i, z in var.availability_zones[r] : cidrsubnet(var.vpc_cidrs[r], local.subnet_newbits[r], 8 + i)] : []
  }

  # Every subnet that holds a node, in every region: the only sources allowed to the peer port
  # and to PostgreSQL.
  all_node_cidrs = flatten([for r in var.regions : local.node_subnet_cidrs[r]])

  nodes = flatten([
    for i, r in var.regions : [
      for j in range(local.node_counts[i]) : {
        id         = local.first_ids[i] + j
        region     = r
        zone_index = j % length(local.node_zones[r])
        zone       = local.node_zones[r][j % length(local.node_zones[r])]
        private_ip = cidrhost(local.node_subnet_cidrs[r][j % length(local.node_zones[r])], 10 + floor(j / length(local.node_zones[r])))
      }
    ]
  ])

  # id=host:port@region/zone, the same on every founding member (itself included).
  peers = join(",", [for n in local.nodes : "${n.id}=${n.private_ip}:${var.peer_port}@${n.region}/${n.zone}"])

  # Paths on the node; the boot script writes these files (user_data.sh.tftpl).
  etc_dir = "/etc/incidentd"

  # Each node's /etc/incidentd/config.json (docs/CONFIGURATION.md). archive_url is deliberately
  # not here: the RDS endpoint is only known after apply, and putting it in user_data would make
  # every node's boot script unknown at plan time (and replace nodes when the database moves).
  # The node reads it at boot from the SSM parameter <prefix>/archive/url into
  # INCIDENTD_ARCHIVE_URL (the environment wins over the file). No secret is ever in here.
  node_configs = {
    for n in local.nodes : tostring(n.id) => merge(
      {
        data_dir                = "/var/lib/incidentd/data"
        host                    = "0.0.0.0"
        port                    = var.api_port
        log_format              = "json"
        log_level               = var.log_level
        node_id                 = n.id
        cluster_id              = var.cluster_id
        region                  = n.region
        zone                    = n.zone
        peer_listen             = "${n.private_ip}:${var.peer_port}"
        peers                   = local.peers
        advertise_api           = "http://${n.private_ip}:${var.api_port}"
        tick_interval_ms        = var.raft_timing.tick_interval_ms
        heartbeat_ticks         = var.raft_timing.heartbeat_ticks
        election_ticks          = var.raft_timing.election_ticks
        tls_ca                  = "${local.etc_dir}/tls/ca.pem"
        tls_cert                = "${local.etc_dir}/tls/node.pem"
        tls_key                 = "${local.etc_dir}/tls/node-key.pem"
        tls_require_client_cert = true
        tls_node_name           = "node-{id}"
      },
      length(var.preferred_leader_regions) > 0 ? { preferred_leader_regions = join(",", var.preferred_leader_regions) } : {},
      var.archive.enabled ? { archive_password_file = "${local.etc_dir}/archive-password" } : {},
    )
  }

  # What each region module needs, by slot.
  region_inputs = {
    for i, r in var.regions : local.region_slots[i] => {
      region = r
      nodes = {
        for n in local.nodes : tostring(n.id) => {
          zone        = n.zone
          zone_index  = n.zone_index
          private_ip  = n.private_ip
          config_json = jsonencode(local.node_configs[tostring(n.id)])
        } if n.region == r
      }
      peer_vpc_cidrs = { for other in var.regions : other => var.vpc_cidrs[other] if other != r }
    }
  }
}
