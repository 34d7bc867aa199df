# The send and receive buffers, made visible: a receiver that never calls recv.
import socket
import subprocess

listener = socket.create_server(("127.0.0.1", 0))
port = listener.getsockname()[1]
sender = socket.create_connection(("127.0.0.1", port))
receiver, _ = listener.accept()          # accepted, but we never recv on it

sender.setblocking(False)                # send() raises instead of waiting
sent = 0
try:
    while True:
        sent += sender.send(b"x" * 65536)
except BlockingIOError:
    pass
print(f"send() accepted {sent} bytes, then would block: both buffers are full")
print(subprocess.run(["ss", "-tn", f"( sport = :{port} or dport = :{port} )"],
                     capture_output=True, text=True).stdout, end="")
print("receiver recv(1024) ->", len(receiver.recv(1024)), "bytes; the rest waits for the next recv")
