"""A small keep-alive HTTP client for the benchmarks' own requests (not the load generator)."""

from __future__ import annotations

import http.client
import json
import urllib.parse

from rest_framework.authtoken.models import Token

from graph.models import Account


def token_for(account: Account) -> str:
    return Token.objects.get_or_create(user=account)[0].key


class Client:
    def __init__(self, base_url: str, token: str | None = None) -> None:
        url = urllib.parse.urlparse(base_url)
        self.connection = http.client.HTTPConnection(url.hostname, url.port, timeout=30)
        self.headers = {"Authorization": f"Token {token}"} if token else {}

    def request(self, method: str, path: str, body: dict | None = None) -> tuple[int, dict]:
        headers = dict(self.headers)
        payload = None
        if body is not None:
            payload = json.dumps(body)
            headers["Content-Type"] = "application/json"
        self.connection.request(method, path, body=payload, headers=headers)
        response = self.connection.getresponse()
        data = response.read()
        return response.status, (json.loads(data) if data else {})

    def get(self, path: str) -> tuple[int, dict]:
        return self.request("GET", path)

    def post_json(self, path: str, body: dict) -> tuple[int, dict]:
        return self.request("POST", path, body)
