"""/oauth/authorize, /oauth/token and /oauth/revoke on django-oauth-toolkit, for Mastodon
clients (docs/mastodon.md#oauth, rules: docs/architecture.md#mastodon-oauth).

Authorize shows one form: sign in (username or email + password) unless the browser has a
session, then approve or deny. With the out-of-band redirect the code is shown on the page,
in a readonly ``<input class="oauth-code">``, as Mastodon does."""

from __future__ import annotations

import json
from urllib.parse import parse_qs, urlsplit

from django.contrib.auth import authenticate, login
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.decorators import method_decorator
from django.views import View
from django.views.decorators.debug import sensitive_post_parameters
from oauth2_provider.exceptions import OAuthToolkitError
from oauth2_provider.http import OAuth2ResponseRedirect
from oauth2_provider.models import get_application_model
from oauth2_provider.views import RevokeTokenView, TokenView
from oauth2_provider.views.mixins import OAuthLibMixin

from feedsite.oauth.backends import FormOrJSONOAuthLibCore
from feedsite.oauth.models import OOB_REDIRECT_URI
from feedsite.oauth.scopes import ALL_SCOPES
from feedsite.oauth.selectors import login_username
from feedsite.throttles import TokenAccountThrottle, TokenClientThrottle, TokenThrottle, rate_limit_headers

# The authorization request, carried from the GET to the POST in hidden inputs.
REQUEST_FIELDS = ("client_id", "redirect_uri", "response_type", "scope", "state", "code_challenge",
                  "code_challenge_method")  # fmt: skip
BAD_LOGIN = "Wrong username, email or password."


def oauth_error(error: str, description: str, status: int) -> JsonResponse:
    return JsonResponse({"error": error, "error_description": description}, status=status)


@method_decorator(sensitive_post_parameters("password"), name="dispatch")
class AuthorizeView(OAuthLibMixin, View):
    template_name = "oauth/authorize.html"

    def get(self, request: HttpRequest) -> HttpResponse:
        if "scope" in request.GET and not request.GET["scope"].strip():
            # An empty scope means the default one (oauthlib would read it as the scope "").
            query = request.GET.copy()
            del query["scope"]
            return HttpResponseRedirect(f"{request.path}?{query.urlencode()}")
        try:
            scopes, credentials = self.validate_authorization_request(request)
        except OAuthToolkitError as error:
            return self.error(error)
        fields = {name: credentials.get(name) or "" for name in REQUEST_FIELDS}
        fields["scope"] = " ".join(scopes)
        return self.form(request, fields, scopes)

    def post(self, request: HttpRequest) -> HttpResponse:
        fields = {name: request.POST.get(name, "") for name in REQUEST_FIELDS}
        scopes = fields["scope"].split()
        application = get_application_model().objects.filter(client_id=fields["client_id"]).first()
        if application is None:
            return oauth_error("invalid_client", "Unknown client_id.", 400)
        allow = "allow" in request.POST
        user = request.user
        if allow and not user.is_authenticated:
            login_name = request.POST.get("username", "")
            user = authenticate(
                request, username=login_username(login=login_name), password=request.POST.get("password", "")
            )
            if user is None or not user.is_active:
                return self.form(request, fields, scopes, error=BAD_LOGIN, login=login_name, status=400)
            login(request, user)
        credentials = {name: fields[name] for name in REQUEST_FIELDS if fields[name] and name != "scope"}
        try:
            uri, _, _, _ = self.create_authorization_response(
                request=request, scopes=fields["scope"], credentials=credentials, allow=allow
            )
        except OAuthToolkitError as error:
            return self.error(error, application)
        return self.answer(request, uri, application)

    def form(self, request, fields, scopes, *, error="", login="", status=200) -> HttpResponse:
        application = get_application_model().objects.get(client_id=fields["client_id"])
        context = {
            "application": application,
            "fields": fields,
            "scopes": [(scope, ALL_SCOPES.get(scope, scope)) for scope in scopes],
            "error": error,
            "login": login,
        }
        return render(request, self.template_name, context, status=status)

    def answer(self, request: HttpRequest, uri: str, application) -> HttpResponse:
        """The code (or the refusal) to the client: a redirect, or the page the OOB flow shows."""
        if not uri.startswith(OOB_REDIRECT_URI):
            return OAuth2ResponseRedirect(uri, application.get_allowed_schemes())
        params = parse_qs(urlsplit(uri).query)
        if "code" not in params:
            description = params.get("error_description", params.get("error", ["Denied."]))[0]
            return oauth_error(params.get("error", ["access_denied"])[0], description, 400)
        return render(request, "oauth/code.html", {"application": application, "code": params["code"][0]})

    def error(self, error: OAuthToolkitError, application=None) -> HttpResponse:
        redirect, response = self.error_response(error)
        oauthlib_error = response["error"]
        if redirect and application is not None and not response["url"].startswith(OOB_REDIRECT_URI):
            return OAuth2ResponseRedirect(response["url"], application.get_allowed_schemes())
        return oauth_error(oauthlib_error.error, oauthlib_error.description or "", oauthlib_error.status_code)


class MastodonTokenView(TokenView):
    """RFC 6749's token endpoint, throttled per client IP, client id and login name, with
    Mastodon's token response (``created_at``; no ``expires_in``: tokens are long-lived)."""

    def post(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        params = dict(FormOrJSONOAuthLibCore().extract_body(request))
        throttles = [TokenThrottle(), TokenClientThrottle(params.get("client_id", "")[:255])]
        if params.get("grant_type") == "password":
            throttles.append(TokenAccountThrottle(params.get("username", "").strip().lower()[:255]))
        refused = [throttle for throttle in throttles if not throttle.allow_request(request, None)]
        if refused:
            response = oauth_error("rate_limited", "Too many token requests; try again later.", 429)
            for name, value in rate_limit_headers(request).items():
                response[name] = value
            response["Retry-After"] = str(max(int(throttle.wait() or 1) for throttle in refused))
            return response
        response = super().post(request, *args, **kwargs)
        if response.status_code == 200:
            body = json.loads(response.content)
            body.pop("expires_in", None)
            body["created_at"] = int(timezone.now().timestamp())
            response.content = json.dumps(body)
        return response


class MastodonRevokeView(RevokeTokenView):
    """RFC 7009: revoking a token that is unknown or already revoked also answers 200 ``{}``."""

    def post(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        response = super().post(request, *args, **kwargs)
        if response.status_code == 200 and not response.content:
            response.content = b"{}"
            response["Content-Type"] = "application/json"
        return response
