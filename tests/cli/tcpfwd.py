# tcpfwd.py PORT HOST DPORT -- forwards each connection to 127.0.0.1:PORT to
# HOST:DPORT. Stopped with SIGSTOP it is a network gone quiet: the kernel
# still accepts connections and buffers what is sent, nothing answers.
import socket
import sys
import threading


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


s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1])))
s.listen(64)
while True:
    c, _ = s.accept()
    try:
        u = socket.create_connection((sys.argv[2], int(sys.argv[3])))
    except OSError:
        c.close()
        continue
    for x, y in ((c, u), (u, c)):
        threading.Thread(target=pump, args=(x, y), daemon=True).start()
