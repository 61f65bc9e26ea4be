#!/usr/bin/env python3
"""Assertions on an offline `terraform show -json` plan of terraform/ (run by terraform/check.sh).

    check_plan.py PLAN.json --expect-nodes N [--secret VALUE ...] [--label NAME]

Reads the plan's own input variables (regions, nodes_per_region, CIDRs, ...) and checks that
what Terraform would create matches them: the nodes and their fixed addresses, each node's
rendered incidentd configuration (decoded from user_data), the security groups, the VPC peering
mesh and its routes, the latency DNS records and health checks, the archive database, and that
no secret reaches the plan. Every failed assertion is listed; the exit status is 1 if any failed.
"""

import argparse
import base64
import gzip
import ipaddress
import json
import os
import re
import shutil
import subprocess
import sys

SLOTS = ["a", "b", "c"]
HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.normpath(os.path.join(HERE, "..", ".."))

# Keys incidentd accepts in --config; read from the source when it is there, so that a renamed
# setting fails this check instead of a node's start.
FALLBACK_KEYS = {
    "data_dir", "host", "port", "log_level", "log_format", "tick_interval_ms", "node_id", "cluster_id",
    "region", "zone", "peer_listen", "peers", "join", "preferred_leader_regions", "advertise_api",
    "election_ticks", "heartbeat_ticks", "tls_ca", "tls_cert", "tls_key", "tls_require_client_cert",
    "tls_node_name", "archive_url", "archive_password_file", "archive_password",
}


def incidentd_config_keys():
    path = os.path.join(REPO, "Sources", "incidentd", "Settings.swift")
    try:
        text = open(path, encoding="utf-8").read()
    except OSError:
        return FALLBACK_KEYS, "built-in list"
    keys = set()
    for name in ("static let keys = [", "static let wireLimitKeys = ["):
        start = text.find(name)
        if start < 0:
            return FALLBACK_KEYS, "built-in list"
        end = text.find("]", start)
        keys.update(re.findall(r'"([a-z_0-9]+)"', text[start:end]))
    return keys, os.path.relpath(path, REPO)


def health_paths():
    """GET paths of docs/api/openapi.json (None when the file is not there)."""
    try:
        spec = json.load(open(os.path.join(REPO, "docs", "api", "openapi.json"), encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return {p for p, ops in spec.get("paths", {}).items() if "get" in ops}


class Checks:
    def __init__(self, label):
        self.label = label
        self.passed = 0
        self.failed = []

    def check(self, condition, message):
        if condition:
            self.passed += 1
        else:
            self.failed.append(message)
        return condition

    def equal(self, actual, expected, message):
        return self.check(actual == expected, f"{message}: expected {expected!r}, got {actual!r}")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("plan")
    parser.add_argument("--expect-nodes", type=int, required=True)
    parser.add_argument("--secret", action="append", default=[])
    parser.add_argument("--label", default="plan")
    args = parser.parse_args()

    raw = open(args.plan, encoding="utf-8").read()
    plan = json.loads(raw)
    c = Checks(args.label)

    var = {k: v.get("value") for k, v in plan["variables"].items()}
    # Object variables appear in the plan as given; the root output `settings` has them with
    # their defaults applied.
    settings = plan.get("planned_values", {}).get("outputs", {}).get("settings", {}).get("value")
    if not settings:
        print(f"check_plan [{args.label}]: the plan has no `settings` output", file=sys.stderr)
        return 1
    var.update({k: settings[k] for k in ("raft_timing", "archive", "data_volume")})
    regions = var["regions"]
    region_of_slot = dict(zip(SLOTS, regions))
    counts = {r: var["nodes_per_region"].get(r, 1) for r in regions}
    if counts != settings["nodes_per_region"]:
        print(f"check_plan [{args.label}]: nodes_per_region {counts} vs output {settings['nodes_per_region']}", file=sys.stderr)
        return 1
    total = sum(counts.values())
    api_port, peer_port = var["api_port"], var["peer_port"]
    archive = var["archive"]
    archive_region = archive["region"]
    certs = var["api_certificate_arns"] or {}
    vpc_cidrs = {r: ipaddress.ip_network(var["vpc_cidrs"][r]) for r in regions}

    changes = plan["resource_changes"]

    def slot_of(address):
        m = re.match(r"^module\.(?:region|archive)_([abc])(?:\[0\])?\.", address)
        return m.group(1) if m else None

    def of_type(kind, module=None):
        out = []
        for r in changes:
            if r["type"] != kind or r["mode"] != "managed":
                continue
            if module is not None and not r["address"].startswith(module):
                continue
            out.append(r)
        return out

    def after(r):
        return r["change"]["after"] or {}

    def unknown(r):
        return r["change"]["after_unknown"] or {}

    # ---- the plan as a whole ----------------------------------------------------------------
    c.check(len(changes) > 0, "the plan creates nothing")
    c.check(all(r["change"]["actions"] == ["create"] for r in changes),
            "a fresh offline plan should only create: " +
            ", ".join(r["address"] for r in changes if r["change"]["actions"] != ["create"]))
    c.equal(total, args.expect_nodes, "sum of nodes_per_region (the fixture's voters)")
    c.check(total % 2 == 1, f"the plan has an even number of voters ({total})")
    c.equal(len(regions), 3, "number of regions")
    calls = plan["configuration"]["root_module"].get("module_calls", {})
    for i, slot in enumerate(SLOTS):
        refs = calls.get(f"region_{slot}", {}).get("expressions", {}).get("region", {}).get("references", [])
        c.check(f"var.regions[{i}]" in refs, f"module.region_{slot} is not given var.regions[{i}] (got {refs})")
    provider_of = {r["address"]: r.get("provider_config_key") for r in plan["configuration"]["root_module"]["resources"]}

    # ---- networks -----------------------------------------------------------------------------
    for a in regions:
        for b in regions:
            if a < b:
                c.check(not vpc_cidrs[a].overlaps(vpc_cidrs[b]), f"VPC CIDRs of {a} and {b} overlap")
    vpcs = of_type("aws_vpc")
    c.equal(len(vpcs), 3, "number of VPCs")
    for r in vpcs:
        slot = slot_of(r["address"])
        c.equal(after(r).get("cidr_block"), str(vpc_cidrs[region_of_slot[slot]]), f"{r['address']} cidr_block")

    node_subnets = {}  # slot -> [(network, zone)]
    for r in of_type("aws_subnet"):
        slot = slot_of(r["address"])
        region = region_of_slot[slot]
        net = ipaddress.ip_network(after(r)["cidr_block"])
        zone = after(r)["availability_zone"]
        c.check(net.subnet_of(vpc_cidrs[region]), f"{r['address']} {net} is outside the {region} VPC {vpc_cidrs[region]}")
        c.check(zone in var["availability_zones"][region], f"{r['address']} zone {zone} is not one of {region}'s zones")
        c.check(after(r).get("map_public_ip_on_launch") in (False, None), f"{r['address']} gives instances public IPs")
        if ".aws_subnet.nodes[" in r["address"]:
            node_subnets.setdefault(slot, []).append((net, zone))
    all_node_cidrs = sorted(str(n) for subs in node_subnets.values() for n, _ in subs)
    for slot, region in region_of_slot.items():
        expected_zones = min(counts[region], len(var["availability_zones"][region]))
        c.equal(len(node_subnets.get(slot, [])), expected_zones, f"node subnets in {region} (one per zone used)")

    # ---- nodes --------------------------------------------------------------------------------
    instances = of_type("aws_instance")
    c.equal(len(instances), total, "number of aws_instance (sum of nodes_per_region)")
    for slot, region in region_of_slot.items():
        c.equal(len([r for r in instances if slot_of(r["address"]) == slot]), counts[region], f"instances in {region}")

    nodes = {}  # id -> dict(ip, region, zone, config, script, address)
    for r in instances:
        a, address, slot = after(r), r["address"], slot_of(r["address"])
        region = region_of_slot[slot]
        node_id = int(r["index"])
        ip = a.get("private_ip")
        c.check(ip is not None, f"{address} has no fixed private_ip")
        meta = (a.get("metadata_options") or [{}])[0]
        c.equal(meta.get("http_tokens"), "required", f"{address} IMDSv2 (metadata_options.http_tokens)")
        c.equal(meta.get("http_put_response_hop_limit"), 1, f"{address} metadata hop limit")
        c.equal(meta.get("http_endpoint"), "enabled", f"{address} metadata endpoint")
        c.check(a.get("associate_public_ip_address") is False, f"{address} would get a public IP")
        root = (a.get("root_block_device") or [{}])[0]
        c.check(root.get("encrypted") is True, f"{address} root volume is not encrypted")
        c.equal(a.get("ami"), var["ami_ids"][region], f"{address} AMI")
        c.check(a.get("user_data") is None, f"{address} uses user_data (plain) instead of user_data_base64")
        ud = a.get("user_data_base64")
        if not c.check(isinstance(ud, str), f"{address} user_data_base64 is unknown at plan time"):
            continue
        script = gzip.decompress(base64.b64decode(ud)).decode("utf-8")
        c.check(len(base64.b64decode(ud)) < 16384, f"{address} user_data exceeds EC2's 16 KB")
        m = re.search(r"<<'INCIDENTD_CONFIG_JSON'\n(.*?)\nINCIDENTD_CONFIG_JSON\n", script, re.S)
        if not c.check(m is not None, f"{address}: no config.json heredoc in user_data"):
            continue
        try:
            config = json.loads(m.group(1))
        except ValueError as e:
            c.check(False, f"{address}: config.json is not valid JSON: {e}")
            continue
        nodes[node_id] = dict(ip=ip, region=region, config=config, script=script, address=address, slot=slot)

    c.equal(sorted(nodes), list(range(1, total + 1)), "node ids")
    ips = [n["ip"] for n in nodes.values()]
    c.equal(len(set(ips)), len(ips), "private IPs are unique")

    # Every node: its address lies in a node subnet of its region, in the zone its config names.
    for node_id, n in nodes.items():
        ip = ipaddress.ip_address(n["ip"])
        zone = n["config"].get("zone")
        homes = [(net, z) for net, z in node_subnets.get(n["slot"], []) if ip in net]
        if c.check(len(homes) == 1, f"node {node_id} {ip} is in no node subnet of {n['region']}"):
            net, z = homes[0]
            c.equal(zone, z, f"node {node_id} zone (config) vs its subnet's zone")
            offset = int(ip) - int(net.network_address)
            c.check(4 <= offset < net.num_addresses - 1, f"node {node_id} {ip} is an address AWS reserves in {net}")

    # ---- each node's incidentd configuration --------------------------------------------------
    allowed_keys, keys_source = incidentd_config_keys()
    peers_strings = {n["config"].get("peers") for n in nodes.values()}
    c.equal(len(peers_strings), 1, "every node has the same peers string")
    peers = next(iter(peers_strings)) or ""
    parsed = {}
    for item in peers.split(","):
        m = re.fullmatch(r"(\d+)=([0-9.]+):(\d+)@([a-z0-9-]+)/([a-z0-9-]+)", item)
        if c.check(m is not None, f"peers entry {item!r} is not id=host:port@region/zone"):
            parsed[int(m.group(1))] = (m.group(2), int(m.group(3)), m.group(4), m.group(5))
    c.equal(sorted(parsed), sorted(nodes), "node ids listed in peers")
    outputs = plan.get("planned_values", {}).get("outputs", {})
    c.equal(outputs.get("peers", {}).get("value"), peers, "output peers vs the nodes' peers")
    c.equal(outputs.get("voters", {}).get("value"), total, "output voters")
    c.equal(outputs.get("node_private_ips", {}).get("value"), {str(k): v["ip"] for k, v in nodes.items()}, "output node_private_ips")

    preferred = ",".join(var["preferred_leader_regions"])
    timing = var["raft_timing"]
    for node_id, n in nodes.items():
        cfg, where = n["config"], f"node {node_id} config.json"
        unknown_keys = sorted(set(cfg) - allowed_keys)
        c.check(not unknown_keys, f"{where} has keys incidentd refuses ({keys_source}): {unknown_keys}")
        c.check(all(isinstance(v, (str, int, float, bool)) for v in cfg.values()),
                f"{where}: values must be strings, numbers or booleans")
        c.equal(cfg.get("node_id"), node_id, f"{where} node_id")
        c.equal(cfg.get("cluster_id"), var["cluster_id"], f"{where} cluster_id")
        c.equal(cfg.get("region"), n["region"], f"{where} region")
        c.equal(cfg.get("peer_listen"), f"{n['ip']}:{peer_port}", f"{where} peer_listen")
        c.equal(cfg.get("advertise_api"), f"http://{n['ip']}:{api_port}", f"{where} advertise_api")
        c.equal(cfg.get("port"), api_port, f"{where} port")
        c.equal(cfg.get("host"), "0.0.0.0", f"{where} host")
        c.check(str(cfg.get("data_dir", "")).startswith("/var/lib/incidentd/"), f"{where} data_dir is not on the data volume")
        c.equal(cfg.get("log_format"), "json", f"{where} log_format")
        if node_id in parsed:
            host, port, region, zone = parsed[node_id]
            c.equal((host, port), (n["ip"], peer_port), f"peers entry of node {node_id} (address)")
            c.equal(region, n["region"], f"peers entry of node {node_id} (region)")
            c.equal(zone, cfg.get("zone"), f"peers entry of node {node_id} (zone)")
        c.equal(cfg.get("tick_interval_ms"), timing["tick_interval_ms"], f"{where} tick_interval_ms")
        c.equal(cfg.get("heartbeat_ticks"), timing["heartbeat_ticks"], f"{where} heartbeat_ticks")
        c.equal(cfg.get("election_ticks"), timing["election_ticks"], f"{where} election_ticks")
        c.check(cfg.get("election_ticks", 0) >= 10 * cfg.get("heartbeat_ticks", 1),
                f"{where}: election_ticks < 10 x heartbeat_ticks")
        c.equal(cfg.get("preferred_leader_regions"), preferred or None, f"{where} preferred_leader_regions")
        c.check(all(cfg.get(k) for k in ("tls_ca", "tls_cert", "tls_key")), f"{where}: peer TLS files are not all set")
        c.check(cfg.get("tls_require_client_cert") is True, f"{where}: tls_require_client_cert is not true")
        c.check("archive_password" not in cfg, f"{where} carries archive_password")
        c.check("archive_url" not in cfg, f"{where} carries archive_url (it comes from SSM at boot)")
        if archive["enabled"]:
            c.check(bool(cfg.get("archive_password_file")), f"{where}: archive enabled but no archive_password_file")
        else:
            c.check(not any(k.startswith("archive") for k in cfg), f"{where}: archive disabled but archive keys set")

    # ---- the boot script ----------------------------------------------------------------------
    prefix = settings["ssm_prefix"]
    shellcheck = shutil.which("shellcheck")
    if not shellcheck and os.environ.get("CI") == "true":
        sys.exit("check_plan: shellcheck is required under CI=true (scripts/install-deps.sh --tests installs it)")
    for node_id, n in nodes.items():
        s, where = n["script"], f"node {node_id} user_data"
        c.check(s.startswith("#!/bin/bash\n") and "set -euo pipefail" in s, f"{where}: not a strict bash script")
        syntax = subprocess.run(["bash", "-n"], input=s, text=True, capture_output=True)
        c.check(syntax.returncode == 0, f"{where}: bash -n fails: {syntax.stderr.strip()}")
        if shellcheck:
            lint = subprocess.run([shellcheck, "-s", "bash", "-"], input=s, text=True, capture_output=True)
            c.check(lint.returncode == 0, f"{where}: shellcheck: {lint.stdout.strip()[:2000]}")
        c.check(f"RELEASE_SHA256='{var['release_sha256']}'" in s and "sha256sum --check --strict" in s,
                f"{where}: the release is not checked against release_sha256")
        c.check(f"RELEASE_URL='{var['release_url']}'" in s, f"{where}: release_url missing")
        c.check(f"'{prefix}/tls/node-{node_id}.pem'" in s and f"'{prefix}/tls/node-{node_id}-key.pem'" in s,
                f"{where}: does not fetch its own certificate and key")
        others = [i for i in nodes if i != node_id and f"/tls/node-{i}" in s]
        c.check(not others, f"{where} names other nodes' keys: {others}")
        c.check("aws ssm get-parameter" in s and "--with-decryption" in s, f"{where}: secrets are not fetched from SSM")
        c.check(re.search(r"-----BEGIN [A-Z ]*PRIVATE KEY-----", s) is None, f"{where} contains a private key")
        c.check(re.search(r"(?i)password\w*\s*[=:]\s*['\"](?!/)[^'\"$]", s) is None,
                f"{where} seems to assign a literal password (only SSM parameter names, starting with /, may appear)")
        c.check(("'" + f"{prefix}/archive/url" + "'" in s) == bool(archive["enabled"]), f"{where}: archive url parameter wiring")
        for needle in ["User=incidentd", "Restart=on-failure", "LimitNOFILE=", "ProtectSystem=strict",
                       "ReadWritePaths=/var/lib/incidentd", "NoNewPrivileges=yes", "CapabilityBoundingSet=\n",
                       "PrivateTmp=yes", "ExecStart=/opt/incidentd/current/bin/incidentd --config /etc/incidentd/config.json"]:
            c.check(needle in s, f"{where}: systemd unit lacks {needle.strip()!r}")
        c.check("mkfs.ext4" in s and "/var/lib/incidentd" in s, f"{where}: data volume is not formatted/mounted")

    # ---- no secret anywhere -------------------------------------------------------------------
    for secret in args.secret:
        c.check(secret not in raw, f"a secret value given to the fixture appears in the plan JSON ({len(secret)} characters)")
        c.check(all(secret not in n["script"] for n in nodes.values()), "a secret value appears in a node's user_data")
    for r in of_type("aws_ssm_parameter"):
        if after(r).get("type") == "SecureString":
            c.check(after(r).get("value") is None and after(r).get("insecure_value") is None,
                    f"{r['address']}: SecureString value in the plan")

    # ---- storage ------------------------------------------------------------------------------
    volumes = of_type("aws_ebs_volume")
    c.equal(len(volumes), total, "data volumes")
    for r in volumes:
        c.check(after(r).get("encrypted") is True, f"{r['address']} is not encrypted")
        node = nodes.get(int(r["index"]))
        if node:
            c.equal(after(r).get("availability_zone"), node["config"].get("zone"), f"{r['address']} zone vs its node")
    c.equal(len(of_type("aws_volume_attachment")), total, "data volume attachments")

    # ---- IAM: each node reads only its own parameters ------------------------------------------
    policies = of_type("aws_iam_role_policy")
    c.equal(len(policies), total, "node role policies")
    for r in policies:
        node_id = int(r["index"])
        region = region_of_slot[slot_of(r["address"])]
        doc = json.loads(after(r)["policy"])
        actions, resources = set(), []
        for st in doc["Statement"]:
            c.equal(st.get("Effect"), "Allow", f"{r['address']} statement effect")
            acts = st["Action"] if isinstance(st["Action"], list) else [st["Action"]]
            actions.update(acts)
            res = st["Resource"] if isinstance(st["Resource"], list) else [st["Resource"]]
            if "ssm:GetParameter" in acts:
                resources.extend(res)
        c.check(actions <= {"ssm:GetParameter", "kms:Decrypt"}, f"{r['address']} grants {sorted(actions)}")
        c.check(resources and all("*" not in x for x in resources), f"{r['address']}: wildcard or no resources")
        arn = f"arn:aws:ssm:{region}:{var['aws_account_id']}:parameter{prefix}"
        c.check(all(x.startswith(arn + "/") for x in resources), f"{r['address']}: parameter outside {arn}/")
        c.check(f"{arn}/tls/node-{node_id}-key.pem" in resources, f"{r['address']}: cannot read its own key")
        c.check(not [x for x in resources if re.search(r"/tls/node-(\d+)", x) and f"/tls/node-{node_id}" not in x],
                f"{r['address']}: may read another node's certificate or key")

    # ---- security groups ----------------------------------------------------------------------
    ingress = of_type("aws_vpc_security_group_ingress_rule")
    egress = of_type("aws_vpc_security_group_egress_rule")
    for r in of_type("aws_security_group"):
        c.check(not after(r).get("ingress") and not after(r).get("egress"), f"{r['address']} has inline rules")

    def covers(rule, port):
        a = after(rule)
        return a.get("ip_protocol") in ("-1", "all") or (a.get("from_port") is not None and a["from_port"] <= port <= a["to_port"])

    peer_rules = [r for r in ingress if covers(r, peer_port)]
    for r in peer_rules:
        c.check(after(r).get("cidr_ipv4") in all_node_cidrs,
                f"{r['address']} opens the peer port {peer_port} to {after(r).get('cidr_ipv4') or after(r).get('referenced_security_group_id') or after(r).get('prefix_list_id')}, not a node subnet")
    for slot in SLOTS:
        got = sorted(after(r)["cidr_ipv4"] for r in peer_rules if slot_of(r["address"]) == slot and r["address"].startswith(f"module.region_{slot}."))
        c.equal(got, all_node_cidrs, f"peer-port sources in {region_of_slot[slot]}")
    for r in ingress:
        a = after(r)
        c.check(a.get("ip_protocol") == "tcp", f"{r['address']} is not a TCP rule")
        c.check(a.get("cidr_ipv6") is None, f"{r['address']} opens IPv6")
        if a.get("cidr_ipv4") == "0.0.0.0/0":
            c.check(".nlb_clients[" in r["address"] and a.get("from_port") in (80, 443) and a.get("from_port") == a.get("to_port"),
                    f"{r['address']} opens port {a.get('from_port')}-{a.get('to_port')} to the whole internet")
        if covers(r, 22):
            c.check(a.get("cidr_ipv4") in var["ssh_cidrs"], f"{r['address']} opens SSH to {a.get('cidr_ipv4')}")
        if covers(r, api_port) and ".nodes_" in r["address"]:
            c.check(a.get("cidr_ipv4") in var["direct_api_cidrs"] or
                    (a.get("cidr_ipv4") is None and unknown(r).get("referenced_security_group_id")),
                    f"{r['address']} opens the API port to {a.get('cidr_ipv4')}")
    c.equal(len([r for r in ingress if covers(r, 22)]), 3 * len(var["ssh_cidrs"]), "SSH rules (none unless ssh_cidrs)")
    for r in egress:
        a = after(r)
        if covers(r, 5432):
            c.check(a.get("cidr_ipv4") in [str(x) for x in db_subnets_of(changes, archive_region, region_of_slot)],
                    f"{r['address']} allows 5432 to {a.get('cidr_ipv4')}, not the archive's subnets")
        c.check(a.get("ip_protocol") != "-1", f"{r['address']} allows all egress")

    # ---- VPC peering: full mesh, accepted in the peer region, routes both ways ----------------
    conns = {r["name"]: r for r in of_type("aws_vpc_peering_connection")}
    accs = {r["name"]: r for r in of_type("aws_vpc_peering_connection_accepter")}
    c.equal(sorted(conns), ["ab", "ac", "bc"], "peering connections")
    c.equal(sorted(accs), ["ab", "ac", "bc"], "peering accepters")
    pairs = set()
    for name, r in conns.items():
        req, acc = name[0], name[1]
        c.equal(provider_of.get(f"aws_vpc_peering_connection.{name}"), f"aws.{req}", f"peering {name} requester provider")
        c.equal(after(r).get("peer_region"), region_of_slot[acc], f"peering {name} peer_region")
        c.check(after(r).get("auto_accept") is False, f"peering {name} auto_accept must be false across regions")
        c.equal(after(r).get("peer_owner_id"), var["aws_account_id"], f"peering {name} peer_owner_id")
        pairs.add(frozenset((region_of_slot[req], region_of_slot[acc])))
        if name in accs:
            c.equal(provider_of.get(f"aws_vpc_peering_connection_accepter.{name}"), f"aws.{acc}", f"accepter {name} provider")
            c.check(after(accs[name]).get("auto_accept") is True, f"accepter {name} does not accept")
    c.equal(len(pairs), 3, "distinct region pairs peered")

    routes = of_type("aws_route")
    tables = of_type("aws_route_table")
    for slot in SLOTS:
        mod = f"module.region_{slot}."
        private_tables = [t for t in tables if t["address"].startswith(mod) and not t["address"].endswith(".public")]
        c.check(len(private_tables) >= 1, f"no private route table in {region_of_slot[slot]}")
        for other in SLOTS:
            if other == slot:
                continue
            dest = str(vpc_cidrs[region_of_slot[other]])
            got = [r for r in routes if r["address"].startswith(mod) and after(r).get("destination_cidr_block") == dest]
            c.equal(len(got), len(private_tables), f"routes {region_of_slot[slot]} -> {region_of_slot[other]} (one per private route table)")
            c.check(all(unknown(r).get("vpc_peering_connection_id") for r in got), f"routes to {dest} do not go through peering")
        defaults = [r for r in routes if r["address"].startswith(mod) and after(r).get("destination_cidr_block") == "0.0.0.0/0"]
        node_tables = [t for t in private_tables if ".aws_route_table.nodes[" in t["address"]]
        c.equal(len(defaults), len(node_tables) + 1, f"default routes in {region_of_slot[slot]} (public via IGW, each node table via NAT; none for the database)")
        c.check(all(".public_internet" in r["address"] or (".nodes_internet[" in r["address"] and unknown(r).get("nat_gateway_id")) for r in defaults),
                f"a default route in {region_of_slot[slot]} is neither the public IGW route nor a node NAT route")

    # ---- load balancers -----------------------------------------------------------------------
    known_paths = health_paths()
    lbs = of_type("aws_lb")
    c.equal(len(lbs), 3, "load balancers")
    for r in lbs:
        c.equal(after(r).get("load_balancer_type"), "network", f"{r['address']} type")
        c.check(after(r).get("internal") is False, f"{r['address']} is not internet-facing")
        c.check(len(after(r).get("name") or "") <= 32, f"{r['address']} name too long for AWS")
    for r in of_type("aws_lb_listener"):
        region = region_of_slot[slot_of(r["address"])]
        tls = region in certs
        c.equal((after(r).get("port"), after(r).get("protocol")), (443, "TLS") if tls else (80, "TCP"), f"{r['address']} port/protocol")
        if tls:
            c.equal(after(r).get("certificate_arn"), certs[region], f"{r['address']} certificate")
            c.check(str(after(r).get("ssl_policy", "")).startswith("ELBSecurityPolicy-TLS13"), f"{r['address']} ssl_policy")
    for r in of_type("aws_lb_target_group"):
        hc = (after(r).get("health_check") or [{}])[0]
        c.equal((after(r).get("protocol"), after(r).get("port")), ("TCP", api_port), f"{r['address']} protocol/port")
        c.equal((hc.get("protocol"), hc.get("path")), ("HTTP", "/api/v1/health"), f"{r['address']} health check")
        if known_paths is not None:
            c.check(hc.get("path") in known_paths, f"{r['address']}: {hc.get('path')} is not in docs/api/openapi.json")
    c.equal(len(of_type("aws_lb_target_group_attachment")), total, "target group attachments")
    for r in of_type("aws_lb_target_group_attachment"):
        c.equal(after(r).get("port"), api_port, f"{r['address']} port")

    # ---- Route 53: one latency record and one health check per region --------------------------
    records = of_type("aws_route53_record")
    checks = of_type("aws_route53_health_check")
    c.equal(len(records), 3, "latency records")
    c.equal(len(checks), 3, "health checks")
    c.equal(sorted(after(r)["latency_routing_policy"][0]["region"] for r in records if after(r).get("latency_routing_policy")),
            sorted(regions), "latency record regions")
    c.equal(len({after(r).get("set_identifier") for r in records}), 3, "distinct set identifiers")
    for r in records:
        a = after(r)
        c.equal((a.get("name"), a.get("type"), a.get("zone_id")), (var["dns_name"], "A", var["route53_zone_id"]), f"{r['address']} name/type/zone")
        c.check(a.get("alias") and a["alias"][0].get("evaluate_target_health") is True, f"{r['address']} alias without evaluate_target_health")
        c.check(unknown(r).get("health_check_id") is True, f"{r['address']} has no health check")
        c.equal(provider_of.get("aws_route53_record.api"), "aws.a", "Route 53 provider")
    for r in checks:
        a = after(r)
        region = region_of_slot[r["index"]]
        tls = region in certs
        c.equal((a.get("type"), a.get("port")), ("HTTPS", 443) if tls else ("HTTP", 80), f"{r['address']} type/port")
        c.equal(a.get("resource_path"), "/api/v1/ready", f"{r['address']} resource_path")
        if known_paths is not None:
            c.check(a.get("resource_path") in known_paths, f"{r['address']}: path not in docs/api/openapi.json")
        c.check(unknown(r).get("fqdn") is True, f"{r['address']} does not target the region's NLB")

    # ---- archive ------------------------------------------------------------------------------
    dbs = of_type("aws_db_instance")
    params = of_type("aws_ssm_parameter")
    if archive["enabled"]:
        c.equal(len(dbs), 1, "archive database instances")
        archive_slot = SLOTS[regions.index(archive_region)]
        for r in dbs:
            a = after(r)
            c.check(r["address"].startswith(f"module.archive_{archive_slot}[0]."), f"{r['address']} is not in {archive_region}")
            c.equal(a.get("engine"), "postgres", "archive engine")
            c.check(a.get("storage_encrypted") is True, "archive storage is not encrypted")
            c.check(a.get("publicly_accessible") is False, "archive is publicly accessible")
            c.equal(a.get("multi_az"), archive["multi_az"], "archive multi_az")
            c.equal(a.get("deletion_protection"), archive["deletion_protection"], "archive deletion_protection")
            c.check(a.get("password") is None and a.get("password_wo") is None, "archive password in the plan")
            c.check(a.get("skip_final_snapshot") is False, "archive skips its final snapshot")
            c.check((a.get("backup_retention_period") or 0) >= 1, "archive has no backups")
        pg = of_type("aws_db_parameter_group")
        c.check(any(p.get("name") == "rds.force_ssl" and p.get("value") == "1" for g in pg for p in after(g).get("parameter", [])),
                "archive parameter group does not force TLS")
        db_nets = db_subnets_of(changes, archive_region, region_of_slot)
        c.check(len(db_nets) >= 2, "archive subnet group needs two zones")
        db_rules = [r for r in ingress if r["address"].startswith("module.archive_")]
        c.check(db_rules and all((after(r).get("from_port"), after(r).get("to_port")) == (5432, 5432) for r in db_rules),
                "archive security group opens something other than 5432")
        c.equal(sorted(after(r).get("cidr_ipv4") for r in db_rules), all_node_cidrs, "archive 5432 sources (node subnets only)")
        names = sorted((slot_of(r["address"]), after(r)["name"], after(r)["type"]) for r in params)
        expected = sorted((s, f"{prefix}/archive/{k}", t) for s in SLOTS for k, t in (("url", "String"), ("password", "SecureString")))
        c.equal(names, expected, "archive SSM parameters (url + password in each region)")
    else:
        c.equal(len(dbs), 0, "archive database instances (archive disabled)")
        c.equal(len(params), 0, "archive SSM parameters (archive disabled)")

    # ---- report -------------------------------------------------------------------------------
    if c.failed:
        print(f"check_plan [{args.label}]: {len(c.failed)} of {c.passed + len(c.failed)} assertions FAILED:", file=sys.stderr)
        for f in c.failed:
            print(f"  - {f}", file=sys.stderr)
        return 1
    extra = " (with shellcheck)" if shellcheck else ""
    print(f"check_plan [{args.label}]: {c.passed} assertions passed; {total} nodes in {len(regions)} regions{extra}")
    return 0


def db_subnets_of(changes, archive_region, region_of_slot):
    slot = [s for s, r in region_of_slot.items() if r == archive_region][0]
    return [ipaddress.ip_network(r["change"]["after"]["cidr_block"]) for r in changes
            if r["type"] == "aws_subnet" and r["address"].startswith(f"module.region_{slot}.aws_subnet.database[")]


if __name__ == "__main__":
    sys.exit(main())
