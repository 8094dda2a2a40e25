"""Sign-in for the web UI: scrypt hashes, the users file, the password check, `add-user`."""

from __future__ import annotations

import os
import stat
import subprocess
import sys

import pytest

from assistant import auth
from tests.cli_here import run_cli_here

FAST = dict(n=2**10, r=8, p=1)  # cheap parameters: the scheme is the same


def test_hash_has_the_documented_form_and_a_fresh_salt():
    first = auth.hash_password("correct horse", **FAST)
    second = auth.hash_password("correct horse", **FAST)
    scheme, n, r, p, salt, digest = first.split("$")
    assert (scheme, n, r, p) == ("scrypt", "1024", "8", "1")
    assert len(bytes.fromhex(salt)) == 16 and len(bytes.fromhex(digest)) == 32
    assert first != second  # salted
    assert "correct horse" not in first


def test_verify_accepts_the_password_and_nothing_else():
    stored = auth.hash_password("correct horse", **FAST)
    assert auth.verify_password("correct horse", stored)
    assert not auth.verify_password("correct hors", stored)
    assert not auth.verify_password("", stored)


@pytest.mark.parametrize(
    "stored",
    ["", "plaintext", "bcrypt$1$2$3$00$00", "scrypt$x$8$1$00$00", "scrypt$1000$8$1$00$00", "scrypt$1024$8$1$zz$00",
     "scrypt$1024$8$1$00$", "scrypt$4194304$8$1$00$00"],
)
def test_malformed_hashes_never_verify_nor_raise(stored):
    assert not auth.verify_password("anything", stored)


def test_parse_users_reads_lines_and_commas_and_skips_comments():
    text = "# staff\nalice:scrypt$a\n\nbob:scrypt$b, carol:scrypt$c\nbroken-line\nalice:scrypt$new\n"
    assert auth.parse_users(text) == {"alice": "scrypt$new", "bob": "scrypt$b", "carol": "scrypt$c"}


def test_add_user_appends_replaces_and_keeps_the_file_private(tmp_path):
    path = tmp_path / "conf" / "users"
    assert auth.add_user(path, "alice", "password-one") is False
    assert auth.add_user(path, "bob", "password-two") is False
    assert auth.add_user(path, "alice", "password-three") is True
    users = auth.read_users(path)
    assert set(users) == {"alice", "bob"}
    assert path.read_text().count("alice:") == 1
    assert auth.verify_password("password-three", users["alice"])
    assert not auth.verify_password("password-one", users["alice"])
    assert "password" not in path.read_text()
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600


@pytest.mark.parametrize("name", ["", "a b", "x:y", "../etc", "-flag", "a" * 65])
def test_bad_user_names_are_refused(tmp_path, name):
    with pytest.raises(auth.AuthError):
        auth.add_user(tmp_path / "users", name, "long enough password")


def test_short_passwords_are_refused(tmp_path):
    with pytest.raises(auth.AuthError, match="too short"):
        auth.add_user(tmp_path / "users", "alice", "short")


def test_checker_signs_in_known_users_only(settings, monkeypatch):
    monkeypatch.setenv("ICB_ASSISTANT_UI_USERS", "alice:" + auth.hash_password("password-one", **FAST))
    from assistant.config import load_settings

    check = auth.UserDirectory(load_settings()).check
    assert check("alice", "password-one")
    assert check(" alice ", "password-one")
    assert not check("alice", "password-two")
    assert not check("mallory", "password-one")
    assert not check("", "")


def test_load_users_from_settings_file_and_env(settings, tmp_path, monkeypatch):
    from assistant.config import load_settings

    users_file = tmp_path / "users"
    auth.add_user(users_file, "alice", "password-one")
    monkeypatch.setenv("ICB_ASSISTANT_UI_USERS_FILE", str(users_file))
    monkeypatch.setenv("ICB_ASSISTANT_UI_USERS", "bob:" + auth.hash_password("password-two", **FAST))
    users = auth.load_users(load_settings())
    assert set(users) == {"alice", "bob"}
    check = auth.UserDirectory(load_settings()).check
    assert check("alice", "password-one") and check("bob", "password-two")


def test_no_users_configured_means_no_sign_in(settings):
    assert auth.load_users(settings) == {}


def test_missing_users_file_is_a_clear_error(home, tmp_path, monkeypatch):
    from assistant.config import load_settings

    monkeypatch.setenv("ICB_ASSISTANT_UI_USERS_FILE", str(tmp_path / "nope"))
    with pytest.raises(auth.AuthError, match="add-user"):
        auth.load_users(load_settings())


@pytest.mark.parametrize("text", ["", "\n\n", "# alice:scrypt$16384$8$1$00$00\n", "alice\n:scrypt$1\nbob:\n"])
def test_a_users_file_that_names_nobody_is_an_error_not_sign_in_off(home, tmp_path, monkeypatch, text):
    """Empty, all commented out, malformed: sign-in was asked for, so nobody may use the app without it."""
    from assistant.config import load_settings

    named = tmp_path / "users"
    named.write_text(text)
    monkeypatch.setenv("ICB_ASSISTANT_UI_USERS_FILE", str(named))
    with pytest.raises(auth.AuthError, match=r"names no user.*add-user.*delete the file"):
        auth.load_users(load_settings())
    monkeypatch.delenv("ICB_ASSISTANT_UI_USERS_FILE")
    (home / auth.DEFAULT_USERS_FILE).parent.mkdir(parents=True, exist_ok=True)
    (home / auth.DEFAULT_USERS_FILE).write_text(text)  # the default file, there but naming nobody
    with pytest.raises(auth.AuthError, match="names no user"):
        auth.load_users(load_settings())
    directory = auth.UserDirectory(load_settings())  # a running app that reads it again refuses everyone
    assert directory.accounts() == {} and not directory.check("alice", "password-one")
    (home / auth.DEFAULT_USERS_FILE).unlink()
    assert auth.load_users(load_settings()) == {}  # no file at all: sign-in off, as before
    monkeypatch.setenv("ICB_ASSISTANT_UI_USERS", text.replace("\n", ","))
    with pytest.raises(auth.AuthError, match="ICB_ASSISTANT_UI_USERS"):
        auth.load_users(load_settings())


def test_the_ui_command_refuses_to_start_with_a_users_file_that_names_nobody(tmp_path, monkeypatch):
    import assistant.cli
    import assistant.ui

    def started(*args, **kwargs):
        raise AssertionError("STARTED-ANYWAY")

    monkeypatch.setattr(assistant.cli, "_open_indexer", started)
    monkeypatch.setattr(assistant.ui, "serve", started)
    users_file = tmp_path / "users"
    auth.add_user(users_file, "alice", "password-one", admin=True)
    users_file.write_text("".join("# " + line + "\n" for line in users_file.read_text().splitlines()))
    result = run_cli_here("ui", "--port", "1", home=tmp_path / "home",
                          env={"ICB_ASSISTANT_UI_USERS_FILE": str(users_file)})
    assert result.returncode == 2 and result.stdout == ""
    message = " ".join(result.stderr.split())
    assert message.startswith(f"Error: The users file {users_file} names no user")
    assert "icb-assistant add-user NAME" in message and "delete the file" in message
    assert "Traceback" not in result.stderr and "STARTED-ANYWAY" not in result.stderr


def test_add_user_command_prompts_and_never_echoes_the_password(tmp_path):
    users_file = tmp_path / "users"
    environment = {k: v for k, v in os.environ.items() if not k.startswith("ICB_ASSISTANT_")}
    environment.update(ICB_ASSISTANT_HOME=str(tmp_path / "home"), ICB_ASSISTANT_UI_USERS_FILE=str(users_file))
    result = subprocess.run(
        [sys.executable, "-m", "assistant.cli", "add-user", "alice"],
        input="s3cret-passw0rd\ns3cret-passw0rd\n", capture_output=True, text=True, env=environment, timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert "s3cret-passw0rd" not in result.stdout + result.stderr
    assert auth.verify_password("s3cret-passw0rd", auth.read_users(users_file)["alice"])


def test_add_user_command_without_a_users_file_uses_the_home_folder(tmp_path):
    result = run_cli_here("add-user", "bob", home=tmp_path / "home", input="another-password\nanother-password\n")
    assert result.returncode == 0, result.stderr
    users_file = tmp_path / "home" / "ui-users.txt"
    assert "bob" in auth.read_users(users_file)
    assert "sign-in is on" in result.stdout.lower()


def test_an_admin_is_marked_in_the_users_file_and_keeps_the_role_apart_from_the_hash(tmp_path):
    path = tmp_path / "users"
    auth.add_user(path, "alice", "password-one", admin=True)
    auth.add_user(path, "bob", "password-two")
    accounts = auth.read_accounts(path)
    assert accounts["alice"].admin and not accounts["bob"].admin
    assert auth.verify_password("password-one", accounts["alice"].hash)
    assert auth.verify_password("password-one", auth.read_users(path)["alice"])
    auth.add_user(path, "alice", "password-three")  # a changed password without --admin drops the role
    assert not auth.read_accounts(path)["alice"].admin


def add_user_command(tmp_path, *args: str, stdin: str) -> subprocess.CompletedProcess:
    """`icb-assistant add-user ARGS` in this process, ``stdin`` piped in (the real pipe and terminal
    are the subprocess test above)."""
    return run_cli_here("add-user", *args, home=tmp_path / "home", input=stdin,
                        env={"ICB_ASSISTANT_UI_USERS_FILE": str(tmp_path / "users")})


def test_add_user_command_reads_one_line_of_standard_input_and_says_the_role(tmp_path):
    result = add_user_command(tmp_path, "carol", stdin="one-line-password\n")
    assert result.returncode == 0, result.stderr
    assert "(not an administrator)" in result.stdout
    account = auth.read_accounts(tmp_path / "users")["carol"]
    assert auth.verify_password("one-line-password", account.hash) and not account.admin
    assert "one-line-password" not in result.stdout + result.stderr


def test_add_user_command_admin_makes_an_administrator(tmp_path):
    result = add_user_command(tmp_path, "dana", "--admin", stdin="admin-password\nadmin-password\n")
    assert result.returncode == 0, result.stderr
    assert "(an administrator)" in result.stdout
    assert auth.read_accounts(tmp_path / "users")["dana"].admin


def test_add_user_command_refuses_two_different_lines_and_no_password(tmp_path):
    differ = add_user_command(tmp_path, "erin", stdin="first-password\nsecond-password\n")
    assert differ.returncode != 0 and "differ" in differ.stderr
    empty = add_user_command(tmp_path, "erin", stdin="")
    assert empty.returncode != 0 and "No password" in empty.stderr
    assert "Traceback" not in differ.stderr + empty.stderr
    assert not (tmp_path / "users").exists()


def test_add_user_command_takes_no_password_argument(tmp_path):
    """A password on the command line shows in `ps` and the shell history."""
    result = add_user_command(tmp_path, "frank", "--password", "visible-password", stdin="")
    assert result.returncode != 0
    assert "--password" in result.stderr
    assert not (tmp_path / "users").exists()
