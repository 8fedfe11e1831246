"""SMART Backend Services: the token endpoint and the discovery document."""

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt

from neuroclinic.interop.actions.smart import ALGORITHMS, TokenRefused, issue_token


def token_url(request: HttpRequest) -> str:
    return request.build_absolute_uri("/fhir/auth/token")


@csrf_exempt
def token(request: HttpRequest) -> HttpResponse:
    """POST client_credentials with a signed JWT assertion; RFC 6749 errors as JSON."""
    if request.method != "POST":
        response = JsonResponse(
            {"error": "invalid_request", "error_description": "POST only."}, status=405
        )
        response["Allow"] = "POST"
        return response
    if request.content_type != "application/x-www-form-urlencoded":
        return JsonResponse(
            {
                "error": "invalid_request",
                "error_description": "Send a form (application/x-www-form-urlencoded).",
            },
            status=400,
        )
    try:
        issued = issue_token(
            grant_type=request.POST.get("grant_type", ""),
            assertion_type=request.POST.get("client_assertion_type", ""),
            assertion=request.POST.get("client_assertion", ""),
            scope=request.POST.get("scope", ""),
            token_url=token_url(request),
        )
    except TokenRefused as exc:
        status = 401 if exc.error == "invalid_client" else 400
        return JsonResponse(
            {"error": exc.error, "error_description": exc.description}, status=status
        )
    response = JsonResponse(
        {
            "access_token": issued.access_token,
            "token_type": "bearer",
            "expires_in": issued.expires_in,
            "scope": " ".join(issued.scopes),
        }
    )
    response["Cache-Control"] = "no-store"
    return response


def smart_configuration(request: HttpRequest) -> HttpResponse:
    return JsonResponse(
        {
            "token_endpoint": token_url(request),
            "grant_types_supported": ["client_credentials"],
            "token_endpoint_auth_methods_supported": ["private_key_jwt"],
            "token_endpoint_auth_signing_alg_values_supported": ALGORITHMS,
            "scopes_supported": ["system/*.read", "system/*.rs"],
            "capabilities": ["client-confidential-asymmetric"],
        }
    )
