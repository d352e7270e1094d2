"""Brute-force protection for signing in: the limiter with explicit times (no sleeping), and the 429
answers of the API's token endpoint and of the web sign-in form."""

import re
import threading
from itertools import count

import pytest
from fastapi.testclient import TestClient

from app.api.main import create_app
from app.db import transaction
from app.errors import TooManyAttempts, Unauthenticated
from app.services import accounts
from app.services.login_limit import LoginLimiter
from app.settings import Settings

PASSWORD = "correct horse battery"
TOKEN = "/api/v1/auth/token"
SAME_SITE = {"Origin": "http://testserver"}  # what a browser sends with the sign-in form of the site
_addresses = count(1)


def limiter(per_login: int = 3, per_client: int = 10, window_s: float = 100) -> LoginLimiter:
    return LoginLimiter(max_per_login=per_login, max_per_client=per_client, window_s=window_s)


def fail(lim: LoginLimiter, login: str, client: str | None, now: float) -> None:
    """One wrong attempt: admitted, and (never taken back) counted as a failure."""
    lim.begin(login, client, now)


def refused(lim: LoginLimiter, login: str, client: str | None, now: float) -> TooManyAttempts:
    with pytest.raises(TooManyAttempts) as caught:
        lim.begin(login, client, now)
    return caught.value


# --- the limiter ----------------------------------------------------------------------------------------

def test_a_login_is_locked_after_n_failures_until_the_oldest_leaves_the_window():
    lim = limiter(per_login=3, window_s=100)
    for t in (0, 10, 20):
        fail(lim, "shop", "1.1.1.1", t)
    exc = refused(lim, "shop", "1.1.1.1", 30)
    assert (exc.retry_after_s, exc.scope, exc.status_code) == (70, "login", 429)
    assert str(exc) == "too many failed sign-ins for this login; try again in 70 s"
    assert refused(lim, "shop", "2.2.2.2", 99.5).retry_after_s == 1  # another address: the login is locked
    assert lim.failures("login", "shop", 99.5) == 3                  # refusals are not counted
    lim.begin("shop", "1.1.1.1", 100)                                # the failure at 0 has left the window
    assert refused(lim, "shop", "1.1.1.1", 105).retry_after_s == 5   # now the one at 10 is the oldest
    assert lim.failures("login", "shop", 400) == 0


def test_a_success_clears_the_logins_failures_but_not_the_clients():
    lim = limiter(per_login=3, per_client=10)
    fail(lim, "shop", "1.1.1.1", 0)
    fail(lim, "shop", "1.1.1.1", 1)
    lim.begin("shop", "1.1.1.1", 2)
    lim.succeeded("shop", "1.1.1.1", 2)
    assert lim.failures("login", "shop", 3) == 0
    assert lim.failures("client", "1.1.1.1", 3) == 2  # the successful attempt is taken back, the failures stay
    for t in (4, 5, 6):
        fail(lim, "shop", "1.1.1.1", t)
    assert refused(lim, "shop", "1.1.1.1", 7).retry_after_s == 97


def test_one_address_cannot_spray_many_logins():
    lim = limiter(per_login=3, per_client=4, window_s=60)
    for i in range(4):
        fail(lim, f"user{i}", "6.6.6.6", i)
    exc = refused(lim, "someone-else", "6.6.6.6", 10)
    assert (exc.scope, exc.retry_after_s) == ("client", 50)
    assert str(exc) == "too many failed sign-ins from this address; try again in 50 s"
    lim.begin("someone-else", "7.7.7.7", 10)   # another address is not affected
    lim.begin("someone-else", None, 11)        # nor a request whose address is unknown (login limit only)
    lim.begin("someone-else", "6.6.6.6", 60)   # the failure at 0 has left the window


def test_the_longest_wait_is_reported_when_both_limits_are_hit():
    lim = limiter(per_login=2, per_client=2, window_s=100)
    fail(lim, "shop", "1.1.1.1", 0)
    fail(lim, "shop", "1.1.1.1", 50)
    exc = refused(lim, "shop", "1.1.1.1", 60)
    assert exc.retry_after_s == 40


def test_no_per_client_limit_when_it_is_zero():
    lim = limiter(per_login=2, per_client=0)
    for i in range(50):
        fail(lim, f"user{i}", "6.6.6.6", i)
    assert lim.failures("client", "6.6.6.6", 50) == 0


def test_parallel_guesses_cannot_all_pass_the_check():
    lim = limiter(per_login=5, per_client=1000)
    admitted, start = [], threading.Barrier(32)

    def guess() -> None:
        start.wait()
        try:
            lim.begin("shop", "6.6.6.6", 1.0)
            admitted.append(1)
        except TooManyAttempts:
            pass

    threads = [threading.Thread(target=guess) for _ in range(32)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(admitted) == 5


def test_expired_keys_are_swept_away():
    lim = limiter(per_login=3, per_client=0, window_s=10)
    for i in range(1024):  # the table's size that triggers a sweep
        fail(lim, f"user{i}", None, i / 1000)
    fail(lim, "late", None, 100)
    assert list(lim._failures) == [("login", "late")]


@pytest.mark.parametrize("kwargs", [dict(per_login=0), dict(per_client=-1), dict(window_s=0)])
def test_bad_limits_are_refused(kwargs):
    with pytest.raises(ValueError):
        limiter(**kwargs)


# --- the service, the API and the web form ---------------------------------------------------------------

@pytest.fixture(scope="module")
def app(tmp_path_factory):
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("TRENDLOOM_IMAGE_BACKEND", "flat")
        app = create_app(Settings(home=tmp_path_factory.mktemp("login-limit"), decide_every_s=0,
                                  login_client_max_failures=8))
    with TestClient(app):
        with transaction(app.state.workspace.sessions) as s:
            for login in ("shop", "shop2", "shop3", "shop4", "shop5", "merch"):
                accounts.create_user(s, login, PASSWORD, "buyer" if login.startswith("shop") else "merchandiser")
        yield app


def client(app, **kwargs) -> TestClient:
    """A client from an address of its own, so one test's failures do not count against another's."""
    return TestClient(app, client=(f"10.0.0.{next(_addresses)}", 50000), follow_redirects=False, **kwargs)


def test_unknown_logins_are_counted_like_known_ones(app):
    ws = app.state.workspace
    lim = limiter(per_login=2, per_client=100)
    answers = {}
    with transaction(ws.sessions) as s:
        for login in ("Shop", "nobody"):
            for t in (0, 1):
                with pytest.raises(Unauthenticated, match="^wrong login or password$"):
                    accounts.sign_in(s, lim, login, "wrong password", client="1.1.1.1", now=t)
            with pytest.raises(TooManyAttempts) as caught:  # the right password too, for the known login
                accounts.sign_in(s, lim, login, PASSWORD, client="1.1.1.1", now=2)
            answers[login] = (str(caught.value), caught.value.retry_after_s)
        assert answers["Shop"] == answers["nobody"] == ("too many failed sign-ins for this login; try again in 98 s", 98)
        assert lim.failures("login", "shop", 2) == 2  # logins are counted case-insensitively, as they sign in
        assert accounts.sign_in(s, lim, "shop", PASSWORD, client="1.1.1.1", now=100).login == "shop"
        assert lim.failures("login", "shop", 100) == 0


def test_the_api_refuses_even_the_right_password_after_five_failures(app):
    c = client(app)
    for _ in range(5):
        r = c.post(TOKEN, json={"login": "shop2", "password": "wrong password"})
        assert r.status_code == 401, r.text
    r = c.post(TOKEN, json={"login": "shop2", "password": PASSWORD})
    assert r.status_code == 429, r.text
    retry = int(r.headers["Retry-After"])
    assert 890 <= retry <= 900
    assert r.json() == {"detail": f"too many failed sign-ins for this login; try again in {retry} s"}
    assert client(app).post(TOKEN, json={"login": "SHOP2", "password": PASSWORD}).status_code == 429  # any address
    assert c.post(TOKEN, json={"login": "merch", "password": PASSWORD}).status_code == 201  # another login works
    c = client(app)
    for _ in range(5):
        assert c.post(TOKEN, json={"login": "nobody-here", "password": "wrong password"}).status_code == 401
    r = c.post(TOKEN, json={"login": "nobody-here", "password": "wrong password"})
    assert r.status_code == 429 and r.json()["detail"].startswith("too many failed sign-ins for this login")


def test_a_success_starts_the_count_again(app):
    for _ in range(2):  # without the clearing, the second round's second failure would be the sixth: 429
        c = client(app)
        for _ in range(4):
            assert c.post(TOKEN, json={"login": "shop3", "password": "wrong password"}).status_code == 401
        assert c.post(TOKEN, json={"login": "shop3", "password": PASSWORD}).status_code == 201


def test_the_api_limits_one_address_over_many_logins(app):
    c = client(app)
    for i in range(8):  # the fixture's per-address limit
        assert c.post(TOKEN, json={"login": f"guess{i}", "password": "wrong password"}).status_code == 401
    r = c.post(TOKEN, json={"login": "shop4", "password": PASSWORD})
    assert r.status_code == 429 and r.json()["detail"].startswith("too many failed sign-ins from this address")
    assert client(app).post(TOKEN, json={"login": "shop4", "password": PASSWORD}).status_code == 201


@pytest.mark.parametrize("lang, message", [
    ("en", r"Too many failed sign-ins for this login; try again in (\d+) s\."),
    ("zh-CN", r"该账号登录失败次数过多，请在 (\d+) 秒后重试。"),
])
def test_the_sign_in_page_says_when_to_try_again(app, lang, message):
    login = f"page-{lang}"
    c = client(app, headers={"Accept-Language": lang})
    for _ in range(5):
        r = c.post("/login", data={"login": login, "password": "wrong password"}, headers=SAME_SITE)
        assert r.status_code == 401
    r = c.post("/login", data={"login": login, "password": "wrong password"}, headers=SAME_SITE)
    assert r.status_code == 429
    shown = re.search(message, r.text)
    assert shown and shown.group(1) == r.headers["Retry-After"]
    assert f'value="{login}"' in r.text  # the login stays in the field


def test_the_sign_in_page_refuses_a_locked_login_and_admits_another(app):
    c = client(app)
    for _ in range(5):
        r = c.post("/login", data={"login": "shop5", "password": "wrong password"}, headers=SAME_SITE)
        assert r.status_code == 401
    r = c.post("/login", data={"login": "shop5", "password": PASSWORD}, headers=SAME_SITE)
    assert r.status_code == 429 and "trendloom_session" not in r.headers.get("set-cookie", "")
    assert c.post("/login", data={"login": "merch", "password": PASSWORD}, headers=SAME_SITE).status_code == 303
