# Internet-facing NLB in the public subnets of every zone: TLS on 443 (ACM certificate) when one
# is given, else TCP 80, forwarded to the nodes' API port. The target check asks
# /api/v1/health (process alive); Route 53 asks /api/v1/ready (dns.tf in the root).

resource "aws_lb" "api" {
  name                             = trimsuffix(substr("${var.common.cluster_id}-${local.region_code}", 0, 32), "-")
  load_balancer_type               = "network"
  internal                         = false
  ip_address_type                  = "ipv4"
  subnets                          = aws_subnet.public[*].id
  security_groups                  = [aws_security_group.nlb.id]
  enable_cross_zone_load_balancing = true
  enable_deletion_protection       = var.common.termination_protection

  tags = { Name = "${local.name}-api" }
}

resource "aws_lb_target_group" "api" {
  name                 = trimsuffix(substr("${var.common.cluster_id}-${local.region_code}", 0, 32), "-")
  port                 = var.common.api_port
  protocol             = "TCP"
  target_type          = "instance"
  vpc_id               = aws_vpc.this.id
  deregistration_delay = 30
  preserve_client_ip   = true

  health_check {
    enabled             = true
    protocol            = "HTTP"
    port                = "traffic-port"
    path                = "/api/v1/health"
    matcher             = "200"
    interval            = 10
    timeout             = 5
    healthy_threshold   = 3
    unhealthy_threshold = 3
  }

  tags = { Name = "${local.name}-api" }
}

resource "aws_lb_target_group_attachment" "api" {
  for_each = var.nodes

  target_group_arn = aws_lb_target_group.api.arn
  target_id        = aws_instance.node[each.key].id
  port             = var.common.api_port
}

resource "aws_lb_listener" "api" {
  load_balancer_arn = aws_lb.api.arn
  port              = local.listener_port
  protocol          = local.api_tls ? "TLS" : "TCP"
  certificate_arn   = var.api_certificate_arn
  ssl_policy        = local.api_tls ? "ELBSecurityPolicy-TLS13-1-2-2021-06" : null

  default_action {
    type             = "forward"
    target_group_arn = aws_lb_target_group.api.arn
  }
}
