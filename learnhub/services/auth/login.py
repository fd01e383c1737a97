"""Logging in without oracles: the same answer, at the same cost, whether or not an account exists.

- An unknown (or disabled) account is checked against a dummy hash made from the settings once per
  process, without hashing: one argon2 verify, as for a real account, and never a hash per request.
- A login name is read as a member would mean it (`LoginName`): full-width letters, digits and spaces
  (what a Chinese input method types) are folded (NFKC), every space is dropped, member numbers match
  whatever their case, and a phone number may carry +86 or hyphens.
- Failed logins are counted by the login name *as read* (hashed), never by the account it names, so an
  unknown name is throttled exactly like a real one, and counts cannot link a phone to a member number.
  `d4002`, `D4002` and `ｄ４００２` are one name, and count as one.
- A wrong password says how many tries are left for that name from that address before the wait: the
  failing client knows that count already (it made the failures), and an unknown name counts the same.
  The ceilings per address and per name are not said (they count other people's failures); they lie
  far above it.
- Throttling cannot be aimed at a member (OWASP ASVS 2.2.1, NIST SP 800-63B 5.2.2): failures count per
  (login name, address), in growing windows, so an address that guessed wrong is kept waiting longer
  and longer for that name while the member's own phone, on another address, logs in as usual; per
  address, against spraying one password over many names; and per login name over every address, a
  ceiling far above what a member mistypes (100 an hour).
- The counters are shared by every server process (learnhub/counters.py).
"""

from __future__ import annotations

import base64
import hashlib
import ipaddress
import math
import re
import secrets
import unicodedata
from dataclasses import dataclass
from datetime import timedelta

from limits import RateLimitItem, parse_many
from sqlalchemy import func, or_, select

from ... import counters as counter_store
from ...extensions import db
from ...models import User, utcnow
from .. import ServiceError
from . import sessions
from .accounts import HashSettings, verify_password

WRONG = "账号或密码不正确"
_PHONE = re.compile(r"^(?:\+?86|0086)?(1[3-9]\d{9})$")


@dataclass(frozen=True)
class LoginName:
    """A login name as the member meant it: `number` to match a member number (upper case, compared
    with upper(member_no)), `phone` to match a phone number, `key` to count failures by."""

    number: str
    phone: str

    @classmethod
    def read(cls, typed: str) -> LoginName:
        folded = "".join(unicodedata.normalize("NFKC", typed or "").split())
        phone = _PHONE.match(re.sub(r"[-()]", "", folded))
        return cls(folded.upper(), phone.group(1) if phone else folded)

    @property
    def key(self) -> str:
        return self.phone if _PHONE.match(self.phone) else self.number


class LoginError(ServiceError):
    """Wrong login name or password (one message for both, with the tries left before the wait)."""


class LoginThrottled(LoginError):
    """Too many failures for this login name from this address (or overall): try again later."""


@dataclass(frozen=True)
class LoginRules:
    hashing: HashSettings
    per_name_and_address: tuple[RateLimitItem, ...]
    per_address: tuple[RateLimitItem, ...]
    per_name: tuple[RateLimitItem, ...]
    lifetime: timedelta  # how long a login lasts at most (the remember-me cookie's lifetime)
    prefix: str = ""  # keeps apps sharing one Redis apart

    @classmethod
    def from_config(cls, config) -> LoginRules:
        return cls(
            HashSettings.from_config(config), tuple(parse_many(config["LOGIN_FAILURE_LIMITS"])),
            tuple(parse_many(config["LOGIN_ADDRESS_FAILURE_LIMITS"])),
            tuple(parse_many(config["LOGIN_ACCOUNT_FAILURE_LIMITS"])),
            config["REMEMBER_COOKIE_DURATION"], config.get("RATELIMIT_KEY_PREFIX", ""),
        )


@dataclass(frozen=True)
class SignedIn:
    user: User
    issued: sessions.Issued


def sign_in(rules: LoginRules, counters, identifier: str, password: str, address: str, user_agent: str,
            remember: bool, large_type: bool = False) -> SignedIn:
    """Check a login and record the device it signs in. Commits.

    `large_type`: 大字模式 was switched on on this device before signing in; the account keeps it on.

    `counters`: the app's counter storage (app.extensions["learnhub.counters"]), fixed windows.
    :raise LoginThrottled: too many failures; the message says when to try again.
    :raise LoginError: wrong login name or password (one message for both).
    """
    name = LoginName.read(identifier)
    limits = _limits(rules, name.key, address)
    counts = [counters.get(key) for _, key in limits]
    if wait := _wait(counters, limits, counts):
        raise LoginThrottled(f"登录失败次数过多，{retry_after(wait)}")
    user = _matching_account(rules.hashing, login_candidates(name), password)
    if user is None:
        counts = [counters.incr(key, item.get_expiry()) for item, key in limits]
        if wait := _wait(counters, limits, counts):  # this failure used up a limit: say so now
            raise LoginThrottled(f"{WRONG}。登录失败次数过多，{retry_after(wait)}")
        pairs = len(rules.per_name_and_address)
        left = min((item.amount - count for (item, _), count in zip(limits[:pairs], counts, strict=False)), default=None)
        if left is None:
            raise LoginError(WRONG)
        raise LoginError(f"{WRONG}，还可尝试 {left} 次")
    # Failures are counted until a success (NIST: consecutive). Counters are written before this
    # transaction writes (counters.DatabaseStorage explains why), and only those that hold any.
    for (_, key), count in zip(limits[:len(rules.per_name_and_address)], counts, strict=False):
        if count:
            counters.clear(key)
    hasher = rules.hashing.hasher()
    if hasher.check_needs_rehash(user.password_hash):
        user.password_hash = hasher.hash(password)
    user.last_login_at = utcnow()
    if large_type:
        user.large_type = True
    issued = sessions.start(user, user_agent, remember, rules.lifetime)
    db.session.commit()
    return SignedIn(user, issued)


# Accounts one phone may sign in to: a family's shared phone, not a way to try a password many times.
MAX_SHARED_PHONE = 5


def login_candidates(name: LoginName | str) -> list[User]:
    """The active accounts a login name may mean: the member number's, whatever its case (older data may
    hold two numbers that differ only in case), and those of the phone number (a phone may be shared);
    they are tried in turn by password. The member number is found through the index on upper(member_no)."""
    if isinstance(name, str):
        name = LoginName.read(name)
    if not name.number:
        return []
    found = db.session.scalars(
        select(User).where(or_(func.upper(User.member_no) == name.number, User.phone == name.phone),
                           User.active.is_(True))
        .order_by(User.id).limit(MAX_SHARED_PHONE + 1)
    ).all()
    # The member number's accounts first; a phone's accounts after them (member numbers cannot look like
    # phones, but older data may).
    return sorted(found, key=lambda u: u.member_no.upper() != name.number)[:MAX_SHARED_PHONE]


def _matching_account(settings: HashSettings, candidates: list[User], password: str) -> User | None:
    """The candidate whose password this is. With no candidate the dummy hash is verified, so an unknown
    name costs one verify, as a known one does."""
    if not candidates:
        verify_password(settings, dummy_hash(settings), password)
        return None
    return next((u for u in candidates if verify_password(settings, u.password_hash, password)), None)


_DUMMY_HASHES: dict[HashSettings, str] = {}


def dummy_hash(settings: HashSettings) -> str:
    """A well-formed argon2id hash with these parameters that no password matches; made without hashing.

    Verifying against it costs what verifying a real hash with the same parameters costs (argon2 derives
    the whole tag before comparing), so an unknown account takes as long as a wrong password.
    """
    found = _DUMMY_HASHES.get(settings)
    if found is None:
        hasher = settings.hasher()
        salt, tag = (base64.b64encode(secrets.token_bytes(size)).decode().rstrip("=")
                     for size in (hasher.salt_len, hasher.hash_len))
        found = _DUMMY_HASHES[settings] = (
            f"$argon2id$v=19$m={settings.memory_cost},t={settings.time_cost},p={settings.parallelism}${salt}${tag}"
        )
    return found


def retry_after(seconds: float) -> str:
    """When to try again, in Chinese ("请 15 分钟后再试")."""
    minutes = max(1, math.ceil(seconds / 60))
    if minutes < 60:
        return f"请 {minutes} 分钟后再试"
    return f"请 {math.ceil(minutes / 60)} 小时后再试"


def _limits(rules: LoginRules, identifier: str, address: str) -> list[tuple[RateLimitItem, str]]:
    """Each limit with its counter's key: (name, address) ones first, then the address, then the name."""
    who = hashlib.sha256(identifier.encode()).hexdigest()[:32]  # counters never hold phone numbers
    where = _network(address)
    return (
        [(item, item.key_for("login-pair", rules.prefix, who, where)) for item in rules.per_name_and_address]
        + [(item, item.key_for("login-address", rules.prefix, where)) for item in rules.per_address]
        + [(item, item.key_for("login-name", rules.prefix, who)) for item in rules.per_name]
    )


def _network(address: str) -> str:
    """The address as counted: IPv4 as it is, IPv6 by its /64 (one subscriber holds a whole /64)."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address or "unknown"
    if ip.version == 4:
        return str(ip)
    if ip.ipv4_mapped is not None:
        return str(ip.ipv4_mapped)
    return f"{ipaddress.ip_network(f'{ip}/64', strict=False).network_address}/64"


def _wait(counters, limits, counts: list[int]) -> float:
    """Seconds until every exhausted limit has reset (0: none is exhausted)."""
    wait = 0.0
    for (item, key), count in zip(limits, counts, strict=True):
        if count >= item.amount:
            wait = max(wait, counters.get_expiry(key) - counter_store.now(), 1.0)
    return wait
