"""Seed the fuzzing server with the realistic cluster the tests ship, so that the fuzzer reaches real resources.

Members and projects come from tests/data/realistic (the tuning part), then a matching run turns them into pending
suggestions for the review queue; a partner portal linked to two members registers a webhook endpoint (never called:
the scheduler is off), so that the webhook routes reach a real endpoint. Usage: python3 .ci/fuzz_seed.py BASE_URL TOKEN
"""

import json
import os
import sys
import time
import urllib.parse
import urllib.request

DATA = os.path.join(os.path.dirname(__file__), "..", "tests", "data", "realistic")


def call(base, token, method, path, body=None):
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(base + path, data=data, method=method)
    request.add_header("Authorization", f"Bearer {token}")
    if data is not None:
        request.add_header("Content-Type", "application/json")
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.load(response)


def main(base, token):
    with open(os.path.join(DATA, "members_dev.json"), encoding="utf-8") as f:
        members = json.load(f)
    with open(os.path.join(DATA, "projects_dev.json"), encoding="utf-8") as f:
        projects = json.load(f)
    ids = {}
    for member in members:
        ids[member["key"]] = call(base, token, "POST", "/v1/members", member["body"])["id"]
    seeded = 0
    for project in projects:
        # Entries without a body name imported calls; a project led by a member of the other part is left out.
        if not project.get("body") or (project.get("lead") and project["lead"] not in ids):
            continue
        body = dict(project["body"])
        if project.get("lead"):
            body["lead_member_id"] = ids[project["lead"]]
        call(base, token, "POST", "/v1/projects", body)
        seeded += 1
    run = call(base, token, "POST", "/v1/matching/runs")
    deadline = time.monotonic() + 120
    while run["status"] not in ("done", "failed"):
        if time.monotonic() > deadline:
            sys.exit(f"the seeding matching run did not finish: {run}")
        time.sleep(0.5)
        run = call(base, token, "GET", f"/v1/matching/runs/{run['id']}")
    if run["status"] != "done" or run["created"] == 0:
        sys.exit(f"the seeding matching run made no suggestions: {run}")
    endpoint = webhook_endpoint(base, token, list(ids.values())[:2])
    print(f"seeded {len(members)} members, {seeded} projects, {run['created']} pending suggestions, endpoint {endpoint}")


def webhook_endpoint(base, token, members):
    """A portal linked to `members` registers an endpoint for every event; its id."""
    scopes = ["members:read", "suggestions:read", "webhooks:manage"]
    created = call(base, token, "POST", "/v1/clients", {"name": "Fuzz portal", "scopes": scopes})
    client_id, secret = created["client"]["client_id"], created["client_secret"]
    for member in members:
        request = urllib.request.Request(f"{base}/v1/members/{member}/portals/{client_id}", method="PUT")
        request.add_header("Authorization", f"Bearer {token}")
        urllib.request.urlopen(request, timeout=30).close()
    form = {"grant_type": "client_credentials", "client_id": client_id, "client_secret": secret}
    request = urllib.request.Request(base + "/v1/auth/token", data=urllib.parse.urlencode(form).encode())
    with urllib.request.urlopen(request, timeout=30) as response:
        portal = json.load(response)["access_token"]
    events = ["member.updated", "suggestion.delivered", "suggestion.reaction", "introduction.requested",
              "introduction.done", "suggestion.outcome"]
    body = {"url": "https://hooks.fuzz.example/matchmaker", "events": events}
    return call(base, portal, "POST", "/v1/webhooks", body)["endpoint"]["id"]


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
