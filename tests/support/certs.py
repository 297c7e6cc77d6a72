"""Throw-away certificates for the TLS and mutual-TLS tests."""

from __future__ import annotations

import datetime
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

Key = ec.EllipticCurvePrivateKey


def issue(
    name: str, issuer: tuple[x509.Name, Key] | None, *, ca: bool = False
) -> tuple[x509.Certificate, Key]:
    """A certificate for ``name`` signed by ``issuer`` (self-signed without one), valid 1 h.

    A leaf (``ca=False``) also carries ``localhost`` as its DNS name, where the tests dial.
    """
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    issuer_name, issuer_key = issuer or (subject, key)
    now = datetime.datetime.now(datetime.UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=1))
        .not_valid_after(now + datetime.timedelta(hours=1))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    )
    if not ca:
        builder = builder.add_extension(
            x509.SubjectAlternativeName([x509.DNSName("localhost")]), critical=False
        )
    return builder.sign(issuer_key, hashes.SHA256()), key


def cert_pem(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


def key_pem(key: Key) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def write_pki(folder: Path, client_name: str = "client") -> dict[str, bytes]:
    """A CA, a ``localhost`` server and a ``client_name`` client certificate, as PEM.

    Each is written to ``folder/<name>.pem`` for servers that read files, and returned
    by name (``ca``, ``server_cert``, ``server_key``, ``client_cert``, ``client_key``)
    for clients that take bytes.
    """
    ca_cert, ca_key = issue("llmops test CA", None, ca=True)
    server_cert, server_key = issue("localhost", (ca_cert.subject, ca_key))
    client_cert, client_key = issue(client_name, (ca_cert.subject, ca_key))
    contents = {
        "ca": cert_pem(ca_cert),
        "server_cert": cert_pem(server_cert),
        "server_key": key_pem(server_key),
        "client_cert": cert_pem(client_cert),
        "client_key": key_pem(client_key),
    }
    for name, data in contents.items():
        (folder / f"{name}.pem").write_bytes(data)
    return contents
