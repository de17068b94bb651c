"""The files the settings name, checked before use: the settings file is read with one line for each way it cannot
be (never a traceback: under systemd that is exit 1 and a restart loop), and the settings file and the index are
refused when any local user could change them, since they decide what accessfit reads, writes and recommends."""

from __future__ import annotations

import os
import stat
from pathlib import Path

from accessfit.errors import ConfigError


def _unsafe(path: Path, what: str) -> str | None:
    """Why any local user could change `path` (the file itself, or its directory without the sticky bit, where
    anyone could replace it), or None."""
    mode = path.stat().st_mode
    if mode & stat.S_IWOTH:
        return (
            f"{what} {path} is writable by every user (mode {stat.S_IMODE(mode):04o}), so anyone on this host could "
            f"change it; run `chmod o-w {path}`"
        )
    folder = path.absolute().parent
    folder_mode = folder.stat().st_mode
    if folder_mode & stat.S_IWOTH and not folder_mode & stat.S_ISVTX:
        return (
            f"{what} {path} is in {folder}, which every user may write to (mode {stat.S_IMODE(folder_mode):04o}), "
            f"so anyone on this host could replace it; run `chmod o-w {folder}` or move it"
        )
    return None


def _cannot(path: Path, exc: OSError) -> ConfigError:
    reason = exc.strerror or str(exc)
    if isinstance(exc, PermissionError):
        reason += (
            f" for uid {os.geteuid()}; make it readable by the user accessfit runs as (systemd/README.md installs "
            f"it root:accessfit 0640 for the service's user accessfit; it holds no secrets, so 0644 will do too)"
        )
    return ConfigError(f"config file {path} cannot be read: {reason}")


def read_settings_file(path: Path) -> str:
    """The settings file's text. A ConfigError (exit 78) when it is missing, not a regular file, unreadable, not
    UTF-8, or writable by every user."""
    try:
        info = path.stat()
    except FileNotFoundError:
        raise ConfigError(f"config file {path} does not exist") from None
    except OSError as exc:  # a directory on the way this user may not enter, a loop of links, ...
        raise _cannot(path, exc) from exc
    if not stat.S_ISREG(info.st_mode):
        raise ConfigError(f"config file {path} is not a regular file")  # a FIFO would block the read for ever
    try:
        unsafe = _unsafe(path, "config file")
        text = path.read_bytes().decode("utf-8")
    except OSError as exc:
        raise _cannot(path, exc) from exc
    except UnicodeDecodeError as exc:
        detail = f"not UTF-8 ({exc.reason} at byte {exc.start})"
        raise ConfigError(f"config file {path} is not valid TOML: {detail}") from exc
    if unsafe:
        raise ConfigError(unsafe)
    return text


def check_index(path: Path) -> None:
    """Refuse an index that any local user could change: the policies accessfit recommends come from its usage.
    A missing one is created later with this process's umask."""
    try:
        unsafe = _unsafe(path, "index") if path.exists() else None
    except OSError:
        return  # what cannot be looked at here is reported when the index is opened
    if unsafe:
        raise ConfigError(unsafe)
