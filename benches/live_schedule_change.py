"""Issue 11, defect 5: RSS and /healthz latency while one schedule change is re-sent to
N live streams over 671 windows. Usage: python3 benches/live_schedule_change.py [N]
(QSKIP_BIN: the binary, default target/debug/qskip). Reading clients, limits off."""
import socket, selectors, subprocess, time, json, threading, sys, os, datetime, urllib.request, tempfile
BIN=os.environ.get("QSKIP_BIN","target/debug/qskip")
d=tempfile.mkdtemp(prefix="qskip-live-")
cfg=f'''bind = "127.0.0.1:18123"
data_dir = "{d}/data"
admin_token = "measure-admin-token-0123456789abcdef"
[limits]
enabled = false
[[venues]]
id = "bar"
name = "Bar"
timezone = "UTC"
price_minor = 500
currency = "eur"
slots_per_hour = 40
'''
open(f"{d}/q.toml","w").write(cfg)
p=subprocess.Popen([BIN,"serve","--config",f"{d}/q.toml"],stdout=subprocess.PIPE,stderr=open(f"{d}/err.log","w"))
p.stdout.readline()
def rss():
    s=open(f"/proc/{p.pid}/status").read()
    g=lambda k:[l for l in s.splitlines() if l.startswith(k)][0].split()[1]
    return int(g("VmRSS:"))//1024, int(g("VmHWM:"))//1024
now=datetime.datetime.now(datetime.timezone.utc)
start=now.replace(minute=(now.minute//15)*15,second=0,microsecond=0)
end=start+datetime.timedelta(minutes=15*671)
q=f"from={start.strftime('%Y-%m-%dT%H:%M:%SZ')}&to={end.strftime('%Y-%m-%dT%H:%M:%SZ')}"
N=int(sys.argv[1]) if len(sys.argv)>1 else 1000
sel=selectors.DefaultSelector(); socks=[]; received=[0]
for i in range(N):
    s=socket.create_connection(("127.0.0.1",18123)); s.sendall(f"GET /v1/venues/bar/stream?{q} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
    s.setblocking(False); sel.register(s,selectors.EVENT_READ); socks.append(s)
stop=[False]
def drain():
    while not stop[0]:
        for key,_ in sel.select(0.2):
            try:
                b=key.fileobj.recv(1<<16); received[0]+=len(b)
            except BlockingIOError: pass
threading.Thread(target=drain,daemon=True).start()
def wait_quiet():
    last=-1
    while received[0]!=last:
        last=received[0]; time.sleep(1.5)
wait_quiet()
print("streams",N,"initial bytes",received[0],"rss/hwm MiB",rss(),flush=True)
lat=[]; probing=[True]
def probe():
    while probing[0]:
        t=time.time(); urllib.request.urlopen("http://127.0.0.1:18123/healthz").read(); lat.append(time.time()-t); time.sleep(0.05)
th=threading.Thread(target=probe); th.start()
before=received[0]; t0=time.time()
req=urllib.request.Request("http://127.0.0.1:18123/v1/admin/venues/bar",method="PUT",data=json.dumps({"name":"Bar","timezone":"UTC","price_minor":500,"currency":"eur","slots_per_hour":60}).encode(),headers={"Authorization":"Bearer measure-admin-token-0123456789abcdef","Content-Type":"application/json","X-Qskip-Operator":"m"})
print("PUT", urllib.request.urlopen(req).status, "in", round(time.time()-t0,2),"s",flush=True)
peak=rss()
wait_quiet()
probing[0]=False; th.join()
print("schedule change pushed MB",round((received[0]-before)/1e6,1),"in",round(time.time()-t0,1),"s; rss/hwm MiB",rss(),"probe max s",round(max(lat),3),"p50",round(sorted(lat)[len(lat)//2],4),"probes",len(lat),flush=True)
stop[0]=True; p.terminate(); p.wait()
