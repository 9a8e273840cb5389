"""Operational endpoints: /healthz and /metrics (no authentication; expose them to your
load balancer and Prometheus, not to the internet)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.http import require_GET

from feedsite.health import health_check
from feedsite.metrics import metrics_exposition


@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    checks = health_check()
    failed = [name for name, result in checks.items() if result != "ok"]
    body = {"status": "fail" if failed else "ok", "failed": failed, "checks": checks}
    return JsonResponse(body, status=503 if failed else 200)


@require_GET
def metrics(request: HttpRequest) -> HttpResponse:
    body, content_type = metrics_exposition()
    return HttpResponse(body, content_type=content_type)
