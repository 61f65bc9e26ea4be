# One name, three latency records: Route 53 answers each client with the closest region whose
# health check passes. The health check asks /api/v1/ready through the region's NLB: 200 only
# when the node that answers sees a leader, so a region cut off from the majority stops
# receiving clients. (The NLB's own target check uses /api/v1/health: is the process alive.)
# Health checks and records are global; they are managed through the first region's provider.

locals {
  entrypoints = {
    a = { region = var.regions[0], lb = module.region_a.nlb_dns_name, lb_zone = module.region_a.nlb_zone_id, tls = module.region_a.api_tls }
    b = { region = var.regions[1], lb = module.region_b.nlb_dns_name, lb_zone = module.region_b.nlb_zone_id, tls = module.region_b.api_tls }
    c = { region = var.regions[2], lb = module.region_c.nlb_dns_name, lb_zone = module.region_c.nlb_zone_id, tls = module.region_c.api_tls }
  }
}

resource "aws_route53_health_check" "region" {
  provider = aws.a
  for_each = local.entrypoints

  fqdn              = each.value.lb
  type              = each.value.tls ? "HTTPS" : "HTTP"
  port              = each.value.tls ? 443 : 80
  resource_path     = "/api/v1/ready"
  enable_sni        = each.value.tls ? true : null
  request_interval  = 30
  failure_threshold = 3

  tags = { Name = "${var.cluster_id}-${each.value.region}-ready" }
}

resource "aws_route53_record" "api" {
  provider = aws.a
  for_each = local.entrypoints

  zone_id        = var.route53_zone_id
  name           = var.dns_name
  type           = "A"
  set_identifier = "${var.cluster_id}-${each.value.region}"

  latency_routing_policy {
    region = each.value.region
  }

  health_check_id = aws_route53_health_check.region[each.key].id

  alias {
    name                   = each.value.lb
    zone_id                = each.value.lb_zone
    evaluate_target_health = true
  }
}
