"""The dashboard's link in the cluster summary: direct, through the Jupyter server's proxy, or a template.

`RayMagics.dashboard_link` is "auto" or a template, as Dask's `distributed.dashboard.link` is:
its fields are `{host}`, `{port}` and environment variables (`{JUPYTERHUB_SERVICE_PREFIX}`).

"auto", in a Jupyter kernel that can import jupyter-server-proxy, links through the proxy of
the Jupyter server that runs the kernel: `{base_url}proxy/{port}/`, a path on the server the
browser already talks to (Binder, JupyterHub, a JupyterLab with the extension), `base_url`
being `JUPYTERHUB_SERVICE_PREFIX` when set, else the server's. That link is shown only once
one short request through the server got an answer from the dashboard; otherwise the direct
`http://{host}:{port}` link is shown with a note saying why. Elsewhere (terminal IPython, no
jupyter-server-proxy) "auto" is the direct link.
"""

import dataclasses
import importlib.util
import json
import os
from pathlib import Path

from ..errors import InputError
from ..settings import AUTO_LINK, link_fields

DIRECT = "http://{host}:{port}"
PROBE_SECONDS = 2.0  # the one request through the proxy, per summary shown
LOCAL_HOSTS = ("127.0.0.1", "localhost", "0.0.0.0", "::1", "[::1]")  # noqa: S104 - names, not a bind
JUPYTER_SERVER = "TornadoServer/"  # the Server header of the Jupyter server's own answers: its 404, login, proxy errors
NO_SERVER = "no Jupyter server runs this kernel"
NO_ANSWER = "the Jupyter server's proxy did not answer"


@dataclasses.dataclass(frozen=True)
class DashboardLink:
    """Where the summary points for the dashboard, and why not through the proxy ('' when no note)."""

    url: str
    note: str = ""

    @property
    def text(self) -> str:
        """The link, followed by its note in parentheses."""
        return f"{self.url} ({self.note})" if self.note else self.url


def direct(address: str) -> DashboardLink:
    """The plain link to the dashboard at `address` ("host:port")."""
    host, _, port = address.rpartition(":")
    return DashboardLink(DIRECT.format(host=host, port=port))


def dashboard_link(address: str, template: str, in_kernel: bool) -> DashboardLink:
    """The link to the dashboard at `address` ("host:port") that the setting `template` makes.

    `in_kernel`: this process is a Jupyter kernel, so a Jupyter server may run it.
    """
    host, _, port = address.rpartition(":")
    if template != AUTO_LINK:
        return DashboardLink(formatted(template, host, int(port)))
    if not (in_kernel and importlib.util.find_spec("jupyter_server_proxy")):
        return direct(address)
    server = serving_server()
    if server is None:
        return dataclasses.replace(direct(address), note=NO_SERVER)
    route = f"proxy/{port}/" if host in LOCAL_HOSTS else f"proxy/{host}:{port}/"
    token = server.get("token") or os.environ.get("JUPYTERHUB_API_TOKEN", "")  # a JupyterHub server has none of its own
    if not dashboard_answers(server.get("url", "") + route, token):
        return dataclasses.replace(direct(address), note=NO_ANSWER)
    base_url = os.environ.get("JUPYTERHUB_SERVICE_PREFIX") or server.get("base_url") or "/"
    return DashboardLink(base_url.rstrip("/") + "/" + route)


def check_template(template: str) -> None:
    """Raise `InputError` now if `template` could not make a link (so that no Ray is started for nothing)."""
    if template != AUTO_LINK:
        formatted(template, "127.0.0.1", 0)


def formatted(template: str, host: str, port: int) -> str:
    """`template` with its fields filled: `{host}`, `{port}`, then this process's environment variables."""
    known = {"host": host, "port": port}
    unknown = sorted(link_fields(template) - known.keys() - os.environ.keys())
    if unknown:
        raise InputError(
            f"RayMagics.dashboard_link {template!r} has an unknown field {{{unknown[0]}}} "
            "(known: {host}, {port} and the environment variables)"
        )
    try:
        return template.format(**{**os.environ, **known})
    except ValueError as error:  # a format spec that does not fit, such as {host:d}
        raise InputError(f"RayMagics.dashboard_link {template!r}: {error}") from None


def serving_server() -> dict | None:
    """The Jupyter server that runs this kernel: the one, among the `jpserver-<pid>.json` files
    in Jupyter's runtime directory, whose pid is an ancestor of this process (None if none)."""
    from jupyter_core.paths import jupyter_runtime_dir

    ancestors = _ancestor_pids()
    for path in sorted(Path(jupyter_runtime_dir()).glob("jpserver-*.json")):
        try:
            info = json.loads(path.read_text())
        except (OSError, ValueError):  # gone, or still being written
            continue
        if isinstance(info, dict) and info.get("pid") in ancestors:
            return info
    return None


def _ancestor_pids() -> set[int]:
    """The pids of this process's ancestors; its parent's alone without psutil (which Ray brings)."""
    try:
        import psutil
    except ImportError:
        return {os.getppid()}
    return {parent.pid for parent in psutil.Process().parents()}


def dashboard_answers(url: str, token: str) -> bool:
    """Whether a GET of `url` on the Jupyter server comes back from the proxied dashboard (any
    HTTP status), rather than from the server itself, within `PROBE_SECONDS`."""
    import urllib.error
    import urllib.request  # (imported here, not with the module: it costs `%load_ext` 20 ms)

    class Unfollowed(urllib.request.HTTPRedirectHandler):
        """Redirects are answers too: a login page the server redirects to is not the dashboard's."""

        def redirect_request(self, *args, **kwargs):
            return None

    if not url.startswith(("http://", "https://")):  # a server on a Unix socket
        return False
    headers = {"Authorization": f"token {token}"} if token else {}
    request = urllib.request.Request(url, headers=headers)  # noqa: S310 - http(s) only, checked above
    try:
        with urllib.request.build_opener(Unfollowed).open(request, timeout=PROBE_SECONDS) as response:
            server = response.headers.get("Server", "")
    except urllib.error.HTTPError as error:
        server = error.headers.get("Server", "")
    except OSError:  # refused, timed out, TLS
        return False
    return not server.startswith(JUPYTER_SERVER)
