"""The report tests use the web tests' XSS-payload study."""

from tests.web.conftest import study, xss_study

__all__ = ["study", "xss_study"]
