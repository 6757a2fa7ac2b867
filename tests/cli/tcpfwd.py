# tcpfwd.py PORT HOST DPORT -- forwards each connection to 127.0.0.1:PORT to
# HOST:DPORT. Stopped with SIGSTOP it is a network gone quiet: the kernel
# still accepts connections and buffers what is sent, nothing answers.
# SIGUSR1 is a link cut at the client's end: every live connection is shut
# down (the server's side not told), and new ones are taken and never
# answered.
import signal
import socket
import sys
import threading

live = []
cut = False


def pump(a, b):
    try:
        while True:
            d = a.recv(65536)
            if not d:
                break
            b.sendall(d)
    except OSError:
        pass
    for s in (a, b):
        try:
            s.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass


def on_cut(signum, frame):
    global cut
    cut = True
    for x in list(live):
        try:
            x.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass


signal.signal(signal.SIGUSR1, on_cut)
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1])))
s.listen(64)
held = []
while True:
    try:
        c, _ = s.accept()
    except InterruptedError:
        continue
    if cut:
        held.append(c)
        continue
    try:
        u = socket.create_connection((sys.argv[2], int(sys.argv[3])))
    except OSError:
        c.close()
        continue
    live.append(c)
    for x, y in ((c, u), (u, c)):
        threading.Thread(target=pump, args=(x, y), daemon=True).start()
