#!/usr/bin/python3
"""What deb.sh asks of an installed ws2apid, with Debian's own python3 and
python3-websockets (a client nobody on this project wrote):

  probe.py notify SOCKET        stand in for systemd's NOTIFY_SOCKET: bind SOCKET,
                                print "listening", then every datagram (one per
                                line) until STOPPING=1 or 60 s pass
  probe.py echo URL TEXT        open a WebSocket, send TEXT, expect TEXT back
  probe.py admin SOCKET         send an admin hello on a local socket, print the reply
"""
import asyncio
import json
import os
import socket
import sys


def notify(path):
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(path)
    os.chmod(path, 0o777)  # the daemon runs as ws2api
    sock.settimeout(60)
    print("listening", flush=True)
    while True:
        data = sock.recv(4096).decode()
        print(data.replace("\n", " "), flush=True)
        if "STOPPING=1" in data:
            return 0


async def echo(url, text):
    import websockets
    async with websockets.connect(url, open_timeout=10) as ws:
        await ws.send(text)
        reply = await asyncio.wait_for(ws.recv(), 10)
    if reply != text:
        print(f"sent {text!r}, got {reply!r}", file=sys.stderr)
        return 1
    print(f"echoed {reply!r}")
    return 0


def admin(path):
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.settimeout(10)
    try:
        sock.connect(path)
    except OSError as e:
        print(f"connect {path}: {e.strerror}", file=sys.stderr)
        return 3
    sock.sendall(b'{"id":1,"type":"hello","body":{"version":1}}\n')
    line = b""
    while not line.endswith(b"\n"):
        chunk = sock.recv(65536)
        if not chunk:
            break
        line += chunk
    reply = json.loads(line)
    print(json.dumps(reply))
    return 0 if reply.get("id") == 1 and reply.get("ok") is True else 1


def main(argv):
    if len(argv) == 3 and argv[1] == "notify":
        return notify(argv[2])
    if len(argv) == 4 and argv[1] == "echo":
        return asyncio.run(echo(argv[2], argv[3]))
    if len(argv) == 3 and argv[1] == "admin":
        return admin(argv[2])
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
