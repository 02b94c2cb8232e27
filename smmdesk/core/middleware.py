from django.conf import settings


class ContentSecurityPolicyMiddleware:
    """Only our own scripts and styles run; customer text can never bring its own."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if request.path.startswith("/api/docs"):
            # Swagger UI (django-ninja's bundled static files) sets style attributes on the elements it
            # builds; its scripts are files from this server like every other page's.
            response.headers.setdefault(
                "Content-Security-Policy",
                settings.SMMDESK_CSP.replace("style-src 'self'", "style-src 'self' 'unsafe-inline'"),
            )
        else:
            response.headers.setdefault("Content-Security-Policy", settings.SMMDESK_CSP)
        response.headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
        return response
