"""schemathesis hooks for `bash .ci/fuzz`: realistic values for the rules a schema cannot state.

The contract states every rule it can (types, lengths, patterns, which fields go together). What is left depends on
the server's state: an id must name something that exists, a concept must be in the vocabulary, an If-Match must
carry the resource's current ETag, an Idempotency-Key is single-use, a cursor must be one the server gave out, the
current password must be the current one. A generated value can't know any of that, so just before a request that
the fuzzer believes valid is sent, these hooks put in a value that holds now. Requests generated to be invalid are
sent as generated, so the server's refusals are still checked.

Two operations would end the run's own access (signing out, changing the password): they are sent with the token of
a throwaway staff account (made again if the run disables it), so the run's administrator token can't
be revoked. Choices among real values are made from the generated value they replace, so a run can be replayed.
"""

import csv
import datetime
import io
import os
import re
import secrets
import zlib
import zoneinfo
from collections.abc import MutableMapping

import requests
import schemathesis
from schemathesis import GenerationMode

BASE = os.environ["FUZZ_BASE_URL"]
ADMIN = {"Authorization": f"Bearer {os.environ['FUZZ_TOKEN']}"}
# Words whose vocabulary matches supply real concept ids.
CONCEPT_WORDS = ["design", "photography", "video", "ceramics", "sound", "marketing", "architecture", "fashion"]

# The group `EU` in eligible_countries stands for these (the server counts distinct countries).
EU_MEMBER_STATES = set(
    "AT BE BG CY CZ DE DK EE ES FI FR GR HR HU IE IT LT LU LV MT NL PL PT RO SE SI SK".split()
)

# Two calls of the real export the tests ship, for the import.
CALLS_FIXTURE = os.path.join(os.path.dirname(__file__), "..", "tests", "fixtures", "eu_open_calls_2024-10.csv")

_concepts: list[str] = []
_calls_sample: list[str] = []
_cursors: set[str] = set()


def _get(path, **params):
    response = requests.get(BASE + path, headers=ADMIN, params=params, timeout=10)
    response.raise_for_status()
    return response


def _pick(values, seed):
    """One of `values`, chosen by the generated value it replaces, so the run stays reproducible."""
    return values[zlib.crc32(repr(seed).encode()) % len(values)]


def _concept(seed):
    if not _concepts:
        for word in CONCEPT_WORDS:
            for item in _get("/v1/vocabulary/search", q=word, limit=5).json()["items"]:
                if item["concept"] not in _concepts:
                    _concepts.append(item["concept"])
    return _pick(_concepts, seed)


def _calls_csv():
    """The header and the first two calls of the shipped export, as CSV text."""
    if not _calls_sample:
        with open(CALLS_FIXTURE, newline="", encoding="utf-8") as f:
            rows = [row for _, row in zip(range(3), csv.reader(f))]
        out = io.StringIO()
        csv.writer(out).writerows(rows)
        _calls_sample.append(out.getvalue())
    return _calls_sample[0]


def _existing_week(text):
    """An ISO week that exists: week 53 of a year that has 52 becomes week 52."""
    match = re.fullmatch(r"([0-9]{4})-W([0-9]{2})", text)
    if match is None:
        return text
    try:
        datetime.date.fromisocalendar(int(match[1]), int(match[2]), 1)
    except ValueError:
        return f"{match[1]}-W52"
    return text


# Where each kind of resource is listed, by the first segment of its path.
LISTS = {
    "members": "/v1/members",
    "projects": "/v1/projects",
    "suggestions": "/v1/review/queue",
    "users": "/v1/users",
    "clients": "/v1/clients",
    "digests": "/v1/digests",
    "introductions": "/v1/introductions",
    "imports": "/v1/imports",
    "webhooks": "/v1/webhooks",
}


def _existing_id(kind, seed):
    """The id of an existing resource of this kind (`None` when there is none): three generated ids in four are
    replaced, so most requests reach a real resource and the rest still check the answer for an unknown id."""
    if kind not in LISTS or zlib.crc32(repr(seed).encode()) % 4 == 0:
        return None
    field = "client_id" if kind == "clients" else "id"
    items = _get(LISTS[kind], limit=20).json()["items"]
    ids = [item[field] for item in items if isinstance(item, dict) and isinstance(item.get(field), str)]
    return _pick(ids, seed) if ids else None


def _member(seed):
    """An existing member's id (one is made if the run has deleted them all)."""
    items = _get("/v1/members", limit=20).json()["items"]
    if items:
        return _pick([m["id"] for m in items], seed)
    body = {"name": "Atelier Minett", "contact_email": "hello@atelierminett.lu", "country": "LU", "sectors": ["design"]}
    response = requests.post(BASE + "/v1/members", headers=ADMIN, json=body, timeout=10)
    response.raise_for_status()
    return response.json()["id"]


class _Throwaway:
    """A staff account of its own for the requests that end a person's access: signing out, changing the password."""

    def __init__(self):
        self.email = None
        self.password = None
        self.pending = {}

    def token(self):
        """A token of the account; a new account if the run disabled it or reset its password."""
        if self.email is not None:
            try:
                return _sign_in(self.email, self.password)
            except requests.HTTPError:
                pass
        self.email = f"fuzz-{secrets.token_hex(8)}@example.org"
        made = requests.post(BASE + "/v1/users", headers=ADMIN, json={"email": self.email, "role": "staff"}, timeout=10)
        made.raise_for_status()
        one_time = made.json()["one_time_password"]
        first = _sign_in(self.email, one_time)
        self.password = _new_password()
        changed = requests.post(
            BASE + "/v1/auth/password",
            headers={"Authorization": f"Bearer {first}"},
            json={"current_password": one_time, "new_password": self.password},
            timeout=10,
        )
        changed.raise_for_status()
        return _sign_in(self.email, self.password)

    def change(self, case, body):
        """Make a valid password change valid now: the current password, and a new one strong enough."""
        body["current_password"] = self.password
        body["new_password"] = _new_password()
        self.pending[case.id] = body["new_password"]

    def changed(self, case, response):
        new = self.pending.pop(case.id, None)
        if new is not None and response.status_code == 204:
            self.password = new


# One account: the run has one worker (see .ci/schemathesis.toml), so no request of the run can end another's token.
THROWAWAY = _Throwaway()


def _new_password():
    return "fuzz " + secrets.token_urlsafe(24)


def _sign_in(email, password):
    form = {"grant_type": "password", "username": email, "password": password}
    response = requests.post(BASE + "/v1/auth/token", data=form, timeout=10)
    response.raise_for_status()
    return response.json()["access_token"]


def _replace_concepts(value):
    """Every `concept` given as a string in a body names a concept of the vocabulary."""
    if isinstance(value, dict):
        for key, inner in value.items():
            if key == "concept" and isinstance(inner, str):
                value[key] = _concept(inner)
            else:
                _replace_concepts(inner)
    elif isinstance(value, list):
        for inner in value:
            _replace_concepts(inner)


TERM_LISTS = ("offers", "needs", "interests", "required_skills", "themes")


def _distinct_terms(body):
    """A list names each term once (the server compares them folded): number the terms of a list apart."""
    for key in TERM_LISTS:
        items = body.get(key)
        if isinstance(items, list) and len(items) > 1:
            for i, item in enumerate(items):
                if isinstance(item, dict) and isinstance(item.get("term"), str) and item["term"].strip():
                    item["term"] = f"{item['term'].strip()[:90]} v{i}"


def _distinct_languages(body):
    """Languages are compared case-insensitively: `fi` and `FI` are the same one named twice."""
    languages = body.get("languages")
    if isinstance(languages, list):
        seen = set()
        body["languages"] = [c for c in languages if not (c.lower() in seen or seen.add(c.lower()))]


def _few_words(text):
    """A search of at most five words: well inside the ten different words (counted folded) the server allows."""
    return " ".join(re.findall(r"[^\W_]+", text)[:5])


def _number(value):
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _instant(value):
    """An RFC 3339 date-time as an aware datetime, or None (absent, null, or not one)."""
    if not isinstance(value, str):
        return None
    try:
        return datetime.datetime.fromisoformat(value.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        return None


def _consistent_project(body, patch):
    """The rules between a project's fields: opens_at < deadline, budget_min <= budget_max, min_partners <= max_partners,
    min_countries <= max_partners and <= the number of eligible countries (a patch meets the stored values)."""
    if patch and ("budget_min" in body) != ("budget_max" in body):
        # The stored other end could contradict the new one: state both ends (the missing one open).
        body.setdefault("budget_min", None)
        body.setdefault("budget_max", None)
    if patch and ("opens_at" in body) != ("deadline" in body):
        # Likewise the opening date, which must come before the deadline.
        body.setdefault("opens_at", None)
        body.setdefault("deadline", None)
    opens, deadline = _instant(body.get("opens_at")), _instant(body.get("deadline"))
    if opens is not None and deadline is not None and (opens.tzinfo is None or deadline.tzinfo is None or opens >= deadline):
        body["opens_at"] = None
    if _number(body.get("budget_min")) and _number(body.get("budget_max")) and body["budget_min"] > body["budget_max"]:
        body["budget_min"], body["budget_max"] = body["budget_max"], body["budget_min"]
    if patch and any(k in body for k in ("min_partners", "max_partners", "min_countries", "eligible_countries")):
        body.setdefault("min_partners", 1)
        body.setdefault("max_partners", None)
        body.setdefault("min_countries", 1)
        body.setdefault("eligible_countries", [])
    low = max(int(body["min_partners"]), 1) if _number(body.get("min_partners")) else 1
    if _number(body.get("max_partners")) and body["max_partners"] < low:
        body["max_partners"] = low
    if _number(body.get("min_countries")):
        cap = body["min_countries"]
        if _number(body.get("max_partners")):
            cap = min(cap, body["max_partners"])
        countries = body.get("eligible_countries")
        if isinstance(countries, list) and countries:
            named = {c.upper() for c in countries if isinstance(c, str)}
            if "EU" in named:
                named = (named - {"EU"}) | EU_MEMBER_STATES
            cap = min(cap, len(named))
        body["min_countries"] = cap


def _is_positive(case):
    return case._meta is not None and case._meta.generation.mode == GenerationMode.POSITIVE


def _is_uuid_text(value):
    return isinstance(value, str) and len(value) == 36 and value.count("-") == 4


@schemathesis.hook
def before_call(context, case, kwargs):
    operation = f"{case.method.upper()} {case.path}"
    headers = case.headers if isinstance(case.headers, MutableMapping) else None
    own = headers is not None and headers.get("Authorization") == ADMIN["Authorization"]
    if operation in ("POST /v1/auth/logout", "POST /v1/auth/password") and own:
        headers["Authorization"] = f"Bearer {THROWAWAY.token()}"
        if operation == "POST /v1/auth/password" and isinstance(case.body, dict) and _is_positive(case):
            THROWAWAY.change(case, case.body)
    if operation in ("POST /v1/auth/logout", "POST /v1/auth/password") or not _is_positive(case):
        return
    body = case.body if isinstance(case.body, dict) else None
    query = case.query if isinstance(case.query, MutableMapping) else None

    path_parameters = case.path_parameters if isinstance(case.path_parameters, MutableMapping) else None
    if path_parameters is not None and isinstance(path_parameters.get("id"), str):
        existing = _existing_id(case.path.split("/")[2], path_parameters["id"])
        if existing is not None:
            path_parameters["id"] = existing
    if query is not None and "cursor" in query and query["cursor"] not in _cursors:
        del query["cursor"]
    if headers is not None and "If-Match" in headers:
        path = case.formatted_path
        if path.endswith("/decision"):
            path = path.removesuffix("/decision")
        current = requests.get(BASE + path, headers=ADMIN, timeout=10)
        if current.ok and "ETag" in current.headers:
            headers["If-Match"] = current.headers["ETag"]
    if headers is not None and "Idempotency-Key" in headers:
        headers["Idempotency-Key"] = secrets.token_hex(16)
    if body is not None:
        _replace_concepts(body)
        _distinct_terms(body)
        _distinct_languages(body)
        if operation in ("POST /v1/projects", "PATCH /v1/projects/{id}"):
            _consistent_project(body, patch=operation.startswith("PATCH"))
        if _is_uuid_text(body.get("lead_member_id")):
            body["lead_member_id"] = _member(body["lead_member_id"])
        if operation == "POST /v1/users" and _is_uuid_text(body.get("member_id")):
            body["member_id"] = _member(body["member_id"])
        if operation == "PATCH /v1/users/{id}":
            # Whether a member id fits depends on the account's role after the patch: make it a member's.
            if _is_uuid_text(body.get("member_id")) or body.get("role") == "member":
                body["role"] = "member"
                body["member_id"] = _member(body.get("member_id"))
            elif "member_id" in body and body.get("role") is None:
                body["role"] = "staff"
        if operation == "POST /v1/vocabulary/merges" and isinstance(body.get("from"), str):
            body["from"] = _concept(body["from"])
            if isinstance(body.get("into"), str):
                others = [c for c in _concepts if c != body["from"]]
                body["into"] = _pick(others, body["into"])
    if operation == "POST /v1/projects/import" and isinstance(case.body, str):
        case.body = _calls_csv()
    if operation in ("GET /v1/digests", "GET /v1/members/{id}/digest-preview") and query is not None:
        if isinstance(query.get("week"), str):
            query["week"] = _existing_week(query["week"])
    if query is not None and isinstance(query.get("q"), str) and operation != "GET /v1/vocabulary/search":
        query["q"] = _few_words(query["q"])
    if operation == "GET /v1/vocabulary/concept" and query is not None and isinstance(query.get("id"), str):
        query["id"] = _concept(query["id"])
    if operation == "POST /v1/suggestions/{id}/outcomes" and body is not None and isinstance(body.get("date"), str):
        # The day it happened lies between the suggestion's day and today (Luxembourg): today always does.
        body["date"] = datetime.datetime.now(zoneinfo.ZoneInfo("Europe/Luxembourg")).date().isoformat()
    if operation == "GET /v1/stats/suggestions" and query is not None:
        start, end = query.get("from"), query.get("to")
        if isinstance(start, str) and isinstance(end, str) and end < start:
            query["from"], query["to"] = end, start


@schemathesis.hook
def after_call(context, case, response):
    """Follow what the run changed: the throwaway's password, merged concepts, the cursors the server gave out."""
    THROWAWAY.changed(case, response)
    operation = f"{case.method.upper()} {case.path}"
    merged = response.status_code in (200, 201) and isinstance(case.body, dict) and case.body.get("dry_run") is not True
    if operation == "POST /v1/vocabulary/merges" and merged:
        # A merged concept's id now names the survivor: don't offer it as a distinct concept again.
        if case.body.get("from") in _concepts:
            _concepts.remove(case.body["from"])
    if response.headers.get("Content-Type", "").startswith("application/json"):
        try:
            data = response.json()
        except ValueError:
            return
        if isinstance(data, dict) and isinstance(data.get("next"), str):
            _cursors.add(data["next"])
