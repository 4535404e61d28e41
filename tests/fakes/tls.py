"""TLS for local fake servers: a test CA and leaf certificates made by openssl (the
`cryptography` package is not a dependency here), and a fake served over https."""

from __future__ import annotations

import shutil
import ssl
import subprocess
from dataclasses import dataclass
from pathlib import Path

from tests.fakes.server import FakeServer
from tests.servers.common import unavailable


@dataclass(frozen=True)
class Certs:
    ca: Path
    valid: tuple[Path, Path]  # (cert, key), 30 days left
    soon: tuple[Path, Path]  # 5 days left
    expired: tuple[Path, Path]  # expired yesterday
    untrusted: tuple[Path, Path]  # self-signed, not from the CA


def _openssl(*args: str, cwd: Path) -> None:
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True, timeout=60)


def _leaf(d: Path, name: str, days: int) -> tuple[Path, Path]:
    _openssl(
        "req",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-keyout",
        f"{name}.key",
        "-out",
        f"{name}.csr",
        "-subj",
        "/CN=127.0.0.1",
        cwd=d,
    )
    (d / "san.ext").write_text("subjectAltName=IP:127.0.0.1\n")
    # `-days -1` ends the certificate a day before it starts: already expired.
    _openssl(
        "x509",
        "-req",
        "-in",
        f"{name}.csr",
        "-CA",
        "ca.pem",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-out",
        f"{name}.pem",
        "-days",
        str(days),
        "-extfile",
        "san.ext",
        cwd=d,
    )
    return d / f"{name}.pem", d / f"{name}.key"


def make_certs(d: Path) -> Certs:
    """A CA and leaves for 127.0.0.1 in `d`: valid 30 days, 5 days left, expired, self-signed."""
    if shutil.which("openssl") is None:
        unavailable("openssl is not installed")
    _openssl(
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-keyout",
        "ca.key",
        "-out",
        "ca.pem",
        "-days",
        "60",
        "-subj",
        "/CN=Operator Test CA",
        "-addext",
        "basicConstraints=critical,CA:TRUE",
        "-addext",
        "keyUsage=keyCertSign,cRLSign",
        cwd=d,
    )
    _openssl(
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-keyout",
        "self.key",
        "-out",
        "self.pem",
        "-days",
        "30",
        "-subj",
        "/CN=127.0.0.1",
        "-addext",
        "subjectAltName=IP:127.0.0.1",
        cwd=d,
    )
    return Certs(
        d / "ca.pem",
        _leaf(d, "valid", 30),
        _leaf(d, "soon", 5),
        _leaf(d, "expired", -1),
        (d / "self.pem", d / "self.key"),
    )


def https(server: FakeServer, cert: tuple[Path, Path]) -> str:
    """Serve the fake over TLS with `cert`; the handshake runs in the handler thread."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(*cert)
    httpd = server._httpd  # the fake's listening socket, wrapped before it serves
    httpd.socket = context.wrap_socket(httpd.socket, server_side=True, do_handshake_on_connect=False)
    return server.url.replace("http://", "https://")
