"""Password hashing (Argon2id) and the password policy (OWASP ASVS L2)."""
from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

MIN_LENGTH = 12
MAX_LENGTH = 128
# A short list of the passwords attackers try first; length alone rejects most others.
COMMON_PASSWORDS = frozenset(
    """
    password password1 password123 passw0rd 123456789012 1234567890123 qwertyuiopas
    iloveyou1234 welcome12345 letmein12345 administrator changeme1234 safebed12345
    qwerty123456 111111111111 000000000000 abc123456789 trustno1trustno1 football1234
    baseball1234 sunshine1234 princess1234 monkey123456 dragon123456 mustang12345
    password1234 superman1234 starwars1234 whatever1234 123123123123 aaaaaaaaaaaa
    """.split()
)

_hasher = PasswordHasher()  # argon2id with the library's RFC 9106 low-memory profile


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


# Verifying against a real hash keeps unknown-user logins as slow as known-user ones.
_DUMMY_HASH = _hasher.hash("not-a-real-password-for-timing")


def burn_verification_time(password: str) -> None:
    verify_password(_DUMMY_HASH, password)


def password_problems(password: str, email: str = "") -> list[str]:
    """Reasons a new password is refused (empty list: acceptable)."""
    problems = []
    if len(password) < MIN_LENGTH:
        problems.append(f"Use at least {MIN_LENGTH} characters (a few words work well).")
    if len(password) > MAX_LENGTH:
        problems.append(f"Use at most {MAX_LENGTH} characters.")
    lowered = password.lower()
    if lowered in COMMON_PASSWORDS or len(set(password)) <= 2:
        problems.append("This password is too common or too simple.")
    if email and lowered == email.lower():
        problems.append("The password must not be your e-mail address.")
    return problems
