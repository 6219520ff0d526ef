"""What the page benchmarks share: a signed-in test client and a timed page."""

import re
import statistics
import time


def signed_in_client(app, mobile: str, password: str):
    """The app's test client, signed in on the mobile sign-in page."""
    client = app.test_client()
    html = client.get("/auth/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html)[1]
    client.post("/auth/login", data={"mobile": mobile, "password": password,
                                     "csrf_token": token})
    return client


def time_page(client, url: str, requests: int, warmup: int = 20) -> tuple[float, float]:
    """(p50, p95) in milliseconds of GET `url`, after `warmup` untimed requests."""
    page = client.get(url)
    assert page.status_code == 200, (url, page.status_code)
    for _ in range(warmup):
        client.get(url)
    times = []
    for _ in range(requests):
        t0 = time.perf_counter()
        client.get(url)
        times.append((time.perf_counter() - t0) * 1000)
    return statistics.median(times), statistics.quantiles(times, n=20)[18]
