#!/usr/bin/env python3
"""Starts the incidentd configurations a plan renders as a real cluster on loopback.

check_plan.py proves what the rendered config.json files say; this proves incidentd takes them:
every node's file, decoded from the plan's user_data, is started with the real binary
(`incidentd --config`) after only what cannot exist here is moved — the nodes' private
addresses to 127.0.0.1 with free ports, the data directory and the TLS files to a temporary
directory (a development CA and node certificates from `incidentctl certs`, issued to node-<id>
as the configuration's tls_node_name demands), and archive_password_file dropped (no database).
Every other key and value is the plan's. Then: all nodes agree on one leader, the members carry
the plan's regions, and an event posted to a follower is created. Nodes are stopped by PID.

    run_configs.py PLAN.json --incidentd BIN --incidentctl BIN [--label NAME]
"""
import argparse
import base64
import gzip
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

ADMIN_KEY = "terraform-check-admin-key-0123456789"


def fail(label, message):
    sys.exit(f"run_configs [{label}]: {message}")


def configs_of(plan):
    """The config.json of every planned instance, by node id."""
    found = {}

    def walk(module):
        for resource in module.get("resources", []):
            if resource["type"] != "aws_instance":
                continue
            encoded = resource["values"].get("user_data_base64") or ""
            script = gzip.decompress(base64.b64decode(encoded)).decode("utf-8")
            match = re.search(r"<<'INCIDENTD_CONFIG_JSON'\n(.*?)\nINCIDENTD_CONFIG_JSON\n", script, re.S)
            if match:
                config = json.loads(match.group(1))
                found[config["node_id"]] = config
        for child in module.get("child_modules", []):
            walk(child)

    walk(plan["planned_values"]["root_module"])
    return found


def free_ports(count):
    sockets, ports = [], []
    for _ in range(count):
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        sockets.append(s)
        ports.append(s.getsockname()[1])
    for s in sockets:
        s.close()
    return ports


def request(url, body=None, timeout=2):
    headers = {"Authorization": f"Bearer {ADMIN_KEY}"}
    data = None
    if body is not None:
        data = json.dumps(body).encode()
        headers["Content-Type"] = "application/json"
    req = urllib.request.Request(url, data=data, headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as answer:
            return answer.status, json.loads(answer.read() or b"{}")
    except urllib.error.HTTPError as error:
        return error.code, {}
    except (urllib.error.URLError, OSError, ValueError):
        return None, {}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("plan")
    parser.add_argument("--incidentd", required=True)
    parser.add_argument("--incidentctl", required=True)
    parser.add_argument("--label", default="plan")
    args = parser.parse_args()
    label = args.label

    configs = configs_of(json.load(open(args.plan)))
    if len(configs) < 3:
        fail(label, f"only {len(configs)} node configurations in the plan")
    ids = sorted(configs)
    work = tempfile.mkdtemp(prefix="incidentd-tf-run.")
    processes = {}
    try:
        names = ",".join(f"node-{i}" for i in ids)
        made = subprocess.run([args.incidentctl, "certs", "--out", f"{work}/certs", "--nodes", names, "--hosts", "127.0.0.1"],
                              capture_output=True, text=True)
        if made.returncode != 0:
            fail(label, f"incidentctl certs: {made.stderr.strip()}")

        # The plan's addresses, moved to loopback: the same peers string with new host:ports.
        ports = free_ports(2 * len(ids))
        api = {i: ports[2 * k] for k, i in enumerate(ids)}
        peer = {i: ports[2 * k + 1] for k, i in enumerate(ids)}
        planned_peer = {i: configs[i]["peer_listen"] for i in ids}
        for i in ids:
            c = dict(configs[i])
            peers = c["peers"]
            for j in ids:
                peers = peers.replace(f"{j}={planned_peer[j]}@", f"{j}=127.0.0.1:{peer[j]}@")
            if peers == c["peers"]:
                fail(label, f"node {i}: peers {c['peers']!r} does not name the planned addresses")
            c.update(peers=peers, peer_listen=f"127.0.0.1:{peer[i]}", host="127.0.0.1", port=api[i],
                     advertise_api=f"http://127.0.0.1:{api[i]}", data_dir=f"{work}/data-{i}",
                     tls_ca=f"{work}/certs/ca.pem", tls_cert=f"{work}/certs/node-{i}.pem",
                     tls_key=f"{work}/certs/node-{i}-key.pem")
            c.pop("archive_password_file", None)
            path = f"{work}/config-{i}.json"
            with open(path, "w") as f:
                json.dump(c, f)
            log = open(f"{work}/node-{i}.log", "w")
            env = dict(os.environ, INCIDENTD_BOOTSTRAP_ADMIN_KEY=ADMIN_KEY)
            processes[i] = subprocess.Popen([args.incidentd, "--config", path], stdout=log, stderr=subprocess.STDOUT, env=env)

        def logs():
            return "\n".join(f"--- node {i}\n" + open(f"{work}/node-{i}.log").read()[-1500:] for i in ids)

        deadline = time.time() + 30
        leader, members = None, []
        while time.time() < deadline:
            for i, p in processes.items():
                if p.poll() is not None:
                    fail(label, f"node {i} exited with {p.returncode} on its rendered configuration\n{logs()}")
            seen = [request(f"http://127.0.0.1:{api[i]}/api/v1/cluster?consistency=local") for i in ids]
            leaders = {answer.get("leader") for status, answer in seen if status == 200}
            if len(leaders) == 1 and all(status == 200 for status, _ in seen) and next(iter(leaders)):
                leader, members = next(iter(leaders)), seen[0][1].get("members", [])
                break
            time.sleep(0.2)
        if leader is None:
            fail(label, f"the nodes did not agree on a leader within 30 s\n{logs()}")
        regions = {m.get("id"): m.get("region") for m in members}
        expected = {i: configs[i]["region"] for i in ids}
        if regions != expected:
            fail(label, f"members' regions {regions} are not the plan's {expected}")
        follower = next(i for i in ids if i != leader)
        status, answer = request(f"http://127.0.0.1:{api[follower]}/api/v1/events",
                                 {"source": "terraform-check", "title": f"rendered configuration {label}"}, timeout=10)
        if status != 202 or answer.get("outcome") != "created":
            fail(label, f"an event through follower {follower} got {status} {answer}\n{logs()}")
        print(f"run_configs [{label}]: {len(ids)} nodes started from the plan's configurations, leader {leader}, "
              f"regions as planned, an event through node {follower} created")
    finally:
        for p in processes.values():
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        for p in processes.values():
            try:
                p.wait(timeout=15)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
