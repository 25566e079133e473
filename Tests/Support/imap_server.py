"""A real IMAP and POP3 server for tests: Dovecot from Debian, on 127.0.0.1 only.

Writes a minimal configuration under --directory (one user, a Maildir, plain-text login on
loopback), starts `dovecot -F`, waits until the ports accept connections, then announces
"PORT <n>" (IMAP), "MAILDIR <path>" and "POP3 <n>" on stdout. Stops Dovecot when its stdin closes (the test
process ended) or on SIGTERM.
"""
import argparse
import os
import pwd
import signal
import socket
import subprocess
import sys
import time


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--directory", required=True)
    parser.add_argument("--user", default="bounces")
    parser.add_argument("--password", default="secret")
    arguments = parser.parse_args()

    root = os.path.abspath(arguments.directory)
    home = os.path.join(root, "home")
    maildir = os.path.join(home, "Maildir")
    for folder in ("new", "cur", "tmp"):
        os.makedirs(os.path.join(maildir, folder), exist_ok=True)
    os.makedirs(os.path.join(root, "run", "state"), exist_ok=True)

    if os.geteuid() == 0:
        # Dovecot will not run its login and mail processes as root.
        internal, login = "dovecot", "dovenull"
        owner = pwd.getpwnam("dovecot")
        for path, folders, files in os.walk(home):
            os.chmod(path, 0o777)
        os.chmod(root, 0o755)
    else:
        internal = login = pwd.getpwuid(os.getuid()).pw_name
        owner = pwd.getpwuid(os.getuid())
    with open(os.path.join(root, "passwd"), "w") as passwd:
        passwd.write(f"{arguments.user}:{{PLAIN}}{arguments.password}:{owner.pw_uid}:{owner.pw_gid}::{home}\n")

    port = free_port()
    pop3_port = free_port()
    configuration = f"""
protocols = imap pop3
listen = 127.0.0.1
base_dir = {root}/run
state_dir = {root}/run/state
instance_name = paperpost-test-{port}
log_path = {root}/dovecot.log
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
default_internal_user = {internal}
default_internal_group = {internal}
default_login_user = {login}
first_valid_uid = 1
first_valid_gid = 1
mail_location = maildir:~/Maildir
passdb {{
  driver = passwd-file
  args = {root}/passwd
}}
userdb {{
  driver = passwd-file
  args = {root}/passwd
}}
service imap-login {{
  chroot =
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
service pop3-login {{
  chroot =
  inet_listener pop3 {{
    address = 127.0.0.1
    port = {pop3_port}
  }}
  inet_listener pop3s {{
    port = 0
  }}
}}
service anvil {{
  chroot =
}}
"""
    path = os.path.join(root, "dovecot.conf")
    with open(path, "w") as file:
        file.write(configuration)

    dovecot = subprocess.Popen(["dovecot", "-F", "-c", path], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def stop(*_):
        dovecot.terminate()
        try:
            dovecot.wait(timeout=10)
        except subprocess.TimeoutExpired:
            dovecot.kill()
        sys.exit(0)

    signal.signal(signal.SIGTERM, stop)
    # Ready when the port answers with the IMAP greeting, however long that takes.
    deadline = time.monotonic() + 60
    while True:
        if dovecot.poll() is not None:
            log = open(os.path.join(root, "dovecot.log")).read() if os.path.exists(os.path.join(root, "dovecot.log")) else ""
            print(f"dovecot exited with {dovecot.returncode}: {log}", file=sys.stderr)
            sys.exit(1)
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=5) as imap, \
                    socket.create_connection(("127.0.0.1", pop3_port), timeout=5) as pop3:
                if imap.recv(64).startswith(b"* OK") and pop3.recv(64).startswith(b"+OK"):
                    break
        except OSError:
            pass
        if time.monotonic() > deadline:
            print("dovecot did not answer in 60 s", file=sys.stderr)
            stop()
        time.sleep(0.05)

    print(f"PORT {port}", flush=True)
    print(f"MAILDIR {maildir}", flush=True)
    print(f"POP3 {pop3_port}", flush=True)
    sys.stdin.read()
    stop()


if __name__ == "__main__":
    main()
