"""A test certificate authority for the sandbox's TLS listener (the emulated STS).

Alibaba's credentials library calls STS over HTTPS only, so a local STS must serve TLS with a
certificate the client trusts. The sandbox makes its own CA: one per process (the key stays in
memory, so a client that cached a TLS session for one sandbox still trusts the next), and a leaf
certificate for ``127.0.0.1`` and ``localhost`` signed by it. The PEM files live in a temporary
directory the caller owns and removes (``SandboxServer.stop`` does).

The certificates carry what Python 3.13's ``VERIFY_X509_STRICT`` asks for: critical basic
constraints and key usage, subject and authority key identifiers.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import threading
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

#: How long the certificates are valid (TLS checks the real clock, not the sandbox's skewed one).
VALIDITY = dt.timedelta(days=30)
_BACKDATE = dt.timedelta(days=1)
CA_FILE_NAME = "sandbox-ca.pem"
CERT_FILE_NAME = "sandbox-sts-cert.pem"
KEY_FILE_NAME = "sandbox-sts-key.pem"


@dataclass(frozen=True)
class TlsFiles:
    """Paths of the PEM files written by :func:`write_tls_files`."""

    ca_file: Path  # the CA certificate to trust (e.g. SSL_CERT_FILE)
    cert_file: Path  # the server's certificate
    key_file: Path  # the server's private key (unencrypted)


@dataclass(frozen=True)
class _Authority:
    key: ec.EllipticCurvePrivateKey
    certificate: x509.Certificate


_lock = threading.Lock()
_authority: _Authority | None = None


def _now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


def authority() -> _Authority:
    """This process's test CA, made on first use."""
    global _authority
    with _lock:
        if _authority is None:
            key = ec.generate_private_key(ec.SECP256R1())
            name = x509.Name(
                [
                    x509.NameAttribute(NameOID.ORGANIZATION_NAME, "airflow-provider-wa-phones sandbox"),
                    x509.NameAttribute(NameOID.COMMON_NAME, "wa-phones sandbox test CA"),
                ]
            )
            now = _now()
            certificate = (
                x509.CertificateBuilder()
                .subject_name(name)
                .issuer_name(name)
                .public_key(key.public_key())
                .serial_number(x509.random_serial_number())
                .not_valid_before(now - _BACKDATE)
                .not_valid_after(now + VALIDITY)
                .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
                .add_extension(
                    x509.KeyUsage(
                        digital_signature=True,
                        content_commitment=False,
                        key_encipherment=False,
                        data_encipherment=False,
                        key_agreement=False,
                        key_cert_sign=True,
                        crl_sign=True,
                        encipher_only=False,
                        decipher_only=False,
                    ),
                    critical=True,
                )
                .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
                .sign(key, hashes.SHA256())
            )
            _authority = _Authority(key, certificate)
        return _authority


def _leaf(ca: _Authority) -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate]:
    key = ec.generate_private_key(ec.SECP256R1())
    now = _now()
    certificate = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")]))
        .issuer_name(ca.certificate.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - _BACKDATE)
        .not_valid_after(now + VALIDITY)
        .add_extension(
            x509.SubjectAlternativeName(
                [
                    x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
                    x509.IPAddress(ipaddress.ip_address("::1")),
                    x509.DNSName("localhost"),
                ]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=True,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca.key.public_key()), critical=False
        )
        .sign(ca.key, hashes.SHA256())
    )
    return key, certificate


def write_tls_files(directory: Path) -> TlsFiles:
    """Write the CA certificate and a fresh server certificate and key into ``directory``."""
    ca = authority()
    key, certificate = _leaf(ca)
    files = TlsFiles(
        ca_file=directory / CA_FILE_NAME,
        cert_file=directory / CERT_FILE_NAME,
        key_file=directory / KEY_FILE_NAME,
    )
    files.ca_file.write_bytes(ca.certificate.public_bytes(serialization.Encoding.PEM))
    # The server presents its own certificate and the CA's, as a real chain would.
    files.cert_file.write_bytes(
        certificate.public_bytes(serialization.Encoding.PEM)
        + ca.certificate.public_bytes(serialization.Encoding.PEM)
    )
    files.key_file.touch(mode=0o600)
    files.key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return files
