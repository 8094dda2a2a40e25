"""Optional sign-in for the web UI: users with scrypt-hashed passwords.

A users file holds one ``name:hash`` line per user, or ``name:hash:admin`` for an administrator
(``#`` starts a comment): ``ui_users_file``,
or ``<home>/ui-users.txt`` when that is unset (where `add-user` writes). The same lines may also
come from the ``ICB_ASSISTANT_UI_USERS`` setting, separated by commas or new lines. Any user at
all turns sign-in on; a users file (or setting) that names nobody is an error, never "sign-in
off". A hash is ``scrypt$n$r$p$salt$hash`` (salt and hash in hex), so the file never holds a
password and a leaked file costs an attacker a memory-hard search per guess. Passwords are never
logged or shown.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import logging
import re
import threading
from dataclasses import dataclass
from pathlib import Path

SCHEME = "scrypt"
DEFAULT_N, DEFAULT_R, DEFAULT_P = 2**14, 8, 1  # 16 MiB and ~50 ms a check
SALT_BYTES = 16
KEY_BYTES = 32
MIN_PASSWORD_CHARS = 8
DEFAULT_USERS_FILE = "ui-users.txt"
ADMIN_ROLE = "admin"
LOG = logging.getLogger("icb_assistant.auth")
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$")


class AuthError(ValueError):
    """A user name, password or users file that cannot be used; the message says why."""


def _scrypt(password: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    return hashlib.scrypt(
        password.encode("utf-8"), salt=salt, n=n, r=r, p=p, dklen=KEY_BYTES, maxmem=256 * n * r + 2**20
    )


def hash_password(password: str, n: int = DEFAULT_N, r: int = DEFAULT_R, p: int = DEFAULT_P) -> str:
    """``scrypt$n$r$p$salt$hash`` for a password, with a fresh random salt."""
    salt = os.urandom(SALT_BYTES)
    return f"{SCHEME}${n}${r}${p}${salt.hex()}${_scrypt(password, salt, n, r, p).hex()}"


def verify_password(password: str, stored: str) -> bool:
    """True when ``password`` matches the stored hash; False for a wrong password or a bad hash."""
    parts = stored.strip().split("$")
    if len(parts) != 6 or parts[0] != SCHEME:
        return False
    try:
        n, r, p = int(parts[1]), int(parts[2]), int(parts[3])
        salt, expected = bytes.fromhex(parts[4]), bytes.fromhex(parts[5])
        if n < 2 or n > 2**20 or n & (n - 1) or not (1 <= r <= 64) or not (1 <= p <= 16) or not expected:
            return False
        actual = hashlib.scrypt(
            password.encode("utf-8"), salt=salt, n=n, r=r, p=p, dklen=len(expected), maxmem=256 * n * r + 2**20
        )
    except (ValueError, MemoryError):
        return False
    return hmac.compare_digest(actual, expected)


def check_name(name: str) -> str:
    name = name.strip()
    if not _NAME.match(name):
        raise AuthError(
            "A user name is 1-64 characters: letters, digits, dot, dash, underscore or @, "
            "starting with a letter or digit."
        )
    return name


def check_new_password(password: str) -> None:
    if len(password) < MIN_PASSWORD_CHARS:
        raise AuthError(f"The password is too short: use at least {MIN_PASSWORD_CHARS} characters.")


@dataclass(frozen=True)
class Account:
    """One user of the web app: the stored hash and whether they administer documents."""

    name: str
    hash: str
    admin: bool = False


def parse_accounts(text: str) -> dict[str, Account]:
    """``{name: Account}`` from ``name:hash`` or ``name:hash:admin`` entries (lines or commas);
    a later entry for a name wins."""
    accounts: dict[str, Account] = {}
    for entry in re.split(r"[\n,]", text):
        entry = entry.strip()
        if not entry or entry.startswith("#") or ":" not in entry:
            continue
        name, stored = entry.split(":", 1)
        stored, _, role = stored.partition(":")
        if name.strip() and stored.strip():
            accounts[name.strip()] = Account(name.strip(), stored.strip(), role.strip() == ADMIN_ROLE)
    return accounts


def parse_users(text: str) -> dict[str, str]:
    """``{name: hash}`` from ``name:hash`` entries (lines or commas); a later entry for a name wins."""
    return {name: account.hash for name, account in parse_accounts(text).items()}


def read_accounts(path: Path) -> dict[str, Account]:
    try:
        return parse_accounts(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, UnicodeDecodeError) as exc:
        raise AuthError(f"Could not read the users file {path}: {exc}") from exc


def read_users(path: Path) -> dict[str, str]:
    return {name: account.hash for name, account in read_accounts(path).items()}


def add_user(path: Path, name: str, password: str, admin: bool = False) -> bool:
    """Append ``name:hash`` (``name:hash:admin`` for an administrator) to the users file
    (created with owner-only permissions).

    An existing line for the same name is dropped first, so this also changes a password.
    Returns True when the user already existed.
    """
    name = check_name(name)
    check_new_password(password)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = path.read_text(encoding="utf-8").splitlines() if path.is_file() else []
    kept = [line for line in lines if line.split(":", 1)[0].strip() != name]
    existed = len(kept) != len(lines)
    kept.append(f"{name}:{hash_password(password)}" + (f":{ADMIN_ROLE}" if admin else ""))
    # a new file renamed over the old one: the running app never reads a half-written file
    fresh = path.with_name(f".{path.name}.{os.getpid()}.new")
    descriptor = os.open(fresh, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            handle.write("\n".join(kept) + "\n")
        os.replace(fresh, path)
    finally:
        fresh.unlink(missing_ok=True)
    return existed


def users_file(settings) -> Path:
    """``ui_users_file`` if set, else ``<home>/ui-users.txt`` (where `add-user` writes by default)."""
    return Path(settings.ui_users_file).expanduser() if settings.ui_users_file else settings.home / DEFAULT_USERS_FILE


def load_accounts(settings) -> dict[str, Account]:
    """Every user the settings name: the users file, then ``ui_users`` (which wins on a clash).

    No users at all means sign-in is off, but only when nothing asks for sign-in: a users file that
    is named (``ui_users_file``) or exists (the default one), or a ``ui_users`` setting, that yields
    no user at all (empty, every line commented out, malformed) is an ``AuthError`` (fail closed).
    """
    accounts: dict[str, Account] = {}
    path = users_file(settings)
    if settings.ui_users_file is not None and not path.is_file():
        raise AuthError(f"The users file {path} does not exist. Add a user with `icb-assistant add-user NAME`.")
    file_there = path.exists()
    accounts.update(read_accounts(path))
    if settings.ui_users is not None:
        accounts.update(parse_accounts(settings.ui_users.get_secret_value()))
    if not accounts and (file_there or settings.ui_users is not None):
        raise AuthError(no_users_message(path if file_there else None, settings))
    return accounts


def no_users_message(path: Path | None, settings) -> str:
    """Why sign-in is asked for but nobody could sign in, and what to do: one paragraph."""
    if path is not None:
        where = f"The users file {path} names no user"
        named = settings.ui_users_file is not None
        remove = (f"delete the file{' and unset ICB_ASSISTANT_UI_USERS_FILE (ui_users_file)' if named else ''}"
                  + (" and ICB_ASSISTANT_UI_USERS (ui_users)" if settings.ui_users is not None else ""))
    else:
        where = "The ICB_ASSISTANT_UI_USERS setting (ui_users) names no user"
        remove = "unset ICB_ASSISTANT_UI_USERS"
    return (f"{where}: it holds no `name:hash` entry (it is empty, every line is commented out, or the "
            f"lines are malformed). Sign-in is asked for but nobody could sign in, and the web app will not "
            f"start without sign-in instead. Add a user with `icb-assistant add-user NAME` (`--admin` for an "
            f"administrator), or, to run without sign-in on a private machine, {remove}.")


def load_users(settings) -> dict[str, str]:
    """``{name: hash}`` of every user (see ``load_accounts``); empty means sign-in is off."""
    return {name: account.hash for name, account in load_accounts(settings).items()}


class UserDirectory:
    """The users the settings name (``load_accounts``), read again whenever the users file changes,
    so `add-user` (a new user, a changed password) and a removed line take effect in the running app.
    Each look-up costs one ``stat`` of the file. A users file that cannot be read means no users
    (everyone is refused) until it can be read again."""

    def __init__(self, settings):
        self.settings = settings
        self.path = users_file(settings)
        self._lock = threading.Lock()
        self._seen: tuple | None | bool = False  # what the file looked like when last read (False: never read)
        self._accounts: dict[str, Account] = {}
        self._dummy = hash_password("not a real password")  # an unknown name costs as much as a wrong password

    def _version(self) -> tuple | None:
        try:
            status = self.path.stat()
        except OSError:
            return None
        return status.st_ino, status.st_mtime_ns, status.st_size

    def accounts(self) -> dict[str, Account]:
        version = self._version()
        with self._lock:
            if version != self._seen:
                try:
                    self._accounts = load_accounts(self.settings)
                except AuthError as exc:
                    LOG.warning("%s Nobody can sign in until it is fixed.", exc)
                    self._accounts = {}
                self._seen = version
            return self._accounts

    def get(self, name: str) -> Account | None:
        return self.accounts().get((name or "").strip())

    def check(self, name: str, password: str) -> bool:
        """Signed in? The right password of a user the file names now."""
        account = self.get(name)
        ok = verify_password(password or "", account.hash if account else self._dummy)
        return ok and account is not None
