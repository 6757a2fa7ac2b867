# notpg.py PORT [silent] -- something at a port that is not PostgreSQL: a
# web server answering "HTTP/1.1 400" at once, or (silent) a listener that
# accepts and never answers
import socket
import sys

s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1])))
s.listen(16)
silent = len(sys.argv) > 2 and sys.argv[2] == "silent"
held = []
while True:
    c, _ = s.accept()
    if silent:
        held.append(c)
        continue
    try:
        c.recv(64)
        c.sendall(b"HTTP/1.1 400 Bad Request\r\n\r\n")
    except OSError:
        pass
    c.close()
