#!/usr/bin/env python3
# Times shard ownership on loopback (issue 14, first slice): one etcd member and three
# `qskip serve` nodes with 256 shards, started and killed by PID in a temp dir.
# Prints how long the join takes to spread and agree, the hand-off after SIGTERM of one
# node (lease revoked), and the takeover after SIGKILL of another (lease expiry).
#   cargo build && python3 deploy/measure_ownership.py [lease_ttl_secs, default 5]
# Needs etcd (Debian etcd-server) on PATH; QSKIP_BIN names another qskip binary.
import json, os, shutil, signal, socket, subprocess, sys, tempfile, time, urllib.request
BIN = os.environ.get("QSKIP_BIN", "target/debug/qskip")
TOKEN = "a-long-enough-admin-token-for-tests"
def free():
    s = socket.socket(); s.bind(("127.0.0.1", 0)); p = s.getsockname()[1]; s.close(); return p
d = tempfile.mkdtemp()
cp, pp = free(), free()
etcd = subprocess.Popen(["etcd", "--name", "e", "--data-dir", f"{d}/etcd", "--listen-client-urls", f"http://127.0.0.1:{cp}",
    "--advertise-client-urls", f"http://127.0.0.1:{cp}", "--listen-peer-urls", f"http://127.0.0.1:{pp}",
    "--initial-advertise-peer-urls", f"http://127.0.0.1:{pp}", "--initial-cluster", f"e=http://127.0.0.1:{pp}",
    "--logger", "zap", "--log-level", "error"], stderr=subprocess.DEVNULL)
def get(url, auth=True):
    req = urllib.request.Request(url, headers={"Authorization": f"Bearer {TOKEN}"} if auth else {})
    return json.load(urllib.request.urlopen(req, timeout=2))
def wait(cond, limit=60):
    t = time.monotonic()
    while time.monotonic() - t < limit:
        try:
            if cond(): return time.monotonic() - t
        except Exception: pass
        time.sleep(0.01)
    raise SystemExit("timeout")
wait(lambda: "true" in urllib.request.urlopen(f"http://127.0.0.1:{cp}/health").read().decode())
ttl = int(sys.argv[1]) if len(sys.argv) > 1 else 5
nodes = {}
for n in "abc":
    port = free(); home = f"{d}/{n}"; os.makedirs(home)
    open(f"{home}/q.toml", "w").write(f'''bind = "127.0.0.1:{port}"
data_dir = "{home}/data"
admin_token = "{TOKEN}"
[limits]
enabled = false
[cluster]
node_id = "{n}"
advertise_url = "http://127.0.0.1:{port}"
etcd_endpoints = ["http://127.0.0.1:{cp}"]
lease_ttl_secs = {ttl}
''')
    p = subprocess.Popen([BIN, "serve", "--config", f"{home}/q.toml"], stdout=subprocess.DEVNULL, stderr=open(f"{home}/err", "w"))
    nodes[n] = (p, f"http://127.0.0.1:{port}")
def settled(names):
    views = [get(nodes[n][1] + "/v1/admin/cluster") for n in names]
    return all(len(v["nodes"]) == len(names) and not v["unowned"] for v in views) and all(v["owners"] == views[0]["owners"] for v in views)
def measure():
  print("3 nodes join, 256 shards spread and agreed: %.2f s" % wait(lambda: settled("abc")))
  print("counts:", {x["node_id"]: x["shards_owned"] for x in get(nodes["a"][1] + "/v1/admin/cluster")["nodes"]})
  nodes["c"][0].send_signal(signal.SIGTERM)
  print("SIGTERM c -> a and b own all 256: %.2f s" % wait(lambda: settled("ab")))
  nodes["c"][0].wait()
  nodes["b"][0].kill()
  print("SIGKILL b (lease_ttl %d s) -> a owns all 256: %.2f s" % (ttl, wait(lambda: settled("a"))))
try:
    measure()
finally:
    for process, _ in nodes.values():
        process.kill()
        process.wait()
    etcd.kill()
    etcd.wait()
    shutil.rmtree(d)
