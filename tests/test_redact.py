import copy

import pytest

from engine.decide import Outcome
from engine.redact import REDACTED, Redaction, redact, redact_text

R = REDACTED

# Made-up credentials with the right shape; none of them is real.
AWS_KEY_ID = "AKIAIOSFODNN7EXAMPLE"
AWS_SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
JWT = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U"


# --- by value -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (f"export AWS_ACCESS_KEY_ID={AWS_KEY_ID}", f"export AWS_ACCESS_KEY_ID={R}"),
        (f"aws s3 ls --key {AWS_KEY_ID} s3://b", f"aws s3 ls --key {R} s3://b"),
        ("id ASIAY34FZKBOKMUTVV7A in use", f"id {R} in use"),
    ],
)
def test_aws_access_key_id(text: str, expected: str) -> None:
    assert redact_text(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (f"aws_secret_access_key = {AWS_SECRET}", f"aws_secret_access_key = {R}"),
        (f"AWS_SECRET_ACCESS_KEY={AWS_SECRET} aws s3 ls", f"AWS_SECRET_ACCESS_KEY={R} aws s3 ls"),
        (
            f"aws configure set aws_secret_access_key {AWS_SECRET}",
            f"aws configure set aws_secret_access_key {R}",
        ),
        (
            f"[default]\naws_access_key_id = {AWS_KEY_ID}\naws_secret_access_key = {AWS_SECRET}\n",
            f"[default]\naws_access_key_id = {R}\naws_secret_access_key = {R}\n",
        ),
    ],
)
def test_aws_secret_assignment(text: str, expected: str) -> None:
    assert redact_text(text) == expected


@pytest.mark.parametrize("prefix", ["ghp_", "gho_", "ghu_", "ghs_", "ghr_"])
def test_github_token_prefixes(prefix: str) -> None:
    token = prefix + "16C7e42F292c6912E7710c838347Ae178B4a"
    assert redact_text(f"git clone https://{token}@github.com/o/r") == (
        f"git clone https://{R}@github.com/o/r"
    )
    assert redact_text(f"gh auth login --with-token <<< {token}") == (
        f"gh auth login --with-token <<< {R}"
    )


def test_github_fine_grained_pat() -> None:
    token = "github_pat_11ABCDEFG0abcdefghijkl_mnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789ab"
    assert redact_text(f"echo {token} | gh auth login") == f"echo {R} | gh auth login"


@pytest.mark.parametrize(
    "token",
    [
        "xoxb-1234567890-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx",  # bot
        "xoxp-1234567890-1234567890-1234567890123-abcdef0123456789",  # user
        "xapp-1-A0123456789-1234567890123-abcdef0123456789abcdef",  # app-level
        "xoxa-2-1234567890-abcdefghijk",
        "xoxr-1234567890-abcdefghijk",
        "xoxs-1234567890-abcdefghijk",
    ],
)
def test_slack_tokens(token: str) -> None:
    text = f'curl -d "token={token}" https://slack.com/api/auth.test'
    assert redact_text(text) == f'curl -d "token={R}" https://slack.com/api/auth.test'
    assert redact_text(f"bot started with {token} ok") == f"bot started with {R} ok"


def test_slack_webhook_url() -> None:
    url = "https://hooks.slack.com/services/T00000000/B00000000/XXXXXXXXXXXXXXXXXXXXXXXX"
    assert redact_text(f"curl -X POST -d @msg.json {url}") == (
        f"curl -X POST -d @msg.json https://hooks.slack.com/services/{R}"
    )


def test_private_key_block() -> None:
    text = (
        "cat > id_rsa <<EOF\n-----BEGIN RSA PRIVATE KEY-----\nMIIEpAIBAAKCAQEA75abc\n"
        "q2E9fgh+/=\n-----END RSA PRIVATE KEY-----\nEOF\nchmod 600 id_rsa"
    )
    assert redact_text(text) == (
        f"cat > id_rsa <<EOF\n-----BEGIN RSA PRIVATE KEY-----\n{R}\n"
        "-----END RSA PRIVATE KEY-----\nEOF\nchmod 600 id_rsa"
    )


@pytest.mark.parametrize("kind", ["", "RSA ", "EC ", "OPENSSH ", "ENCRYPTED "])
def test_private_key_block_kinds(kind: str) -> None:
    text = f"-----BEGIN {kind}PRIVATE KEY-----\nAAAA\n-----END {kind}PRIVATE KEY-----"
    assert redact_text(text) == (
        f"-----BEGIN {kind}PRIVATE KEY-----\n{R}\n-----END {kind}PRIVATE KEY-----"
    )


def test_unterminated_private_key_block_redacts_to_end() -> None:
    text = "key:\n-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\nmore secret"
    assert redact_text(text) == f"key:\n-----BEGIN OPENSSH PRIVATE KEY-----\n{R}"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("psql postgres://app:s3cr3t@db:5432/app", f"psql postgres://app:{R}@db:5432/app"),
        ("psql postgresql://app:p%40ss@db/app", f"psql postgresql://app:{R}@db/app"),
        (
            "mysql --url mysql://root:hunter2@127.0.0.1/shop",
            f"mysql --url mysql://root:{R}@127.0.0.1/shop",
        ),
        (
            "git clone https://bob:pa55word@git.example.com/r.git",
            f"git clone https://bob:{R}@git.example.com/r.git",
        ),
        ("redis-cli -u redis://:hunter2@cache:6379/0", f"redis-cli -u redis://:{R}@cache:6379/0"),
        ("DATABASE_URL=postgres://u:p@ss@db/x", f"DATABASE_URL=postgres://u:{R}@db/x"),
    ],
)
def test_url_password(text: str, expected: str) -> None:
    assert redact_text(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            'curl -H "Authorization: Bearer abc123def456" https://api.x.io',
            f'curl -H "Authorization: Bearer {R}" https://api.x.io',
        ),
        (
            "curl -H 'Authorization: token abc' https://api.github.com",
            f"curl -H 'Authorization: token {R}' https://api.github.com",
        ),
        ("Authorization: Bearer xyz\nAccept: */*", f"Authorization: Bearer {R}\nAccept: */*"),
        (
            "http GET x.io Bearer:abc 'Bearer 9f8e7d6c5b4a'",
            f"http GET x.io Bearer:abc 'Bearer {R}'",
        ),
        (f"Bearer {JWT}", f"Bearer {R}"),
        ('curl -H "X-Api-Key: k3y-abc" https://x.io', f'curl -H "X-Api-Key: {R}" https://x.io'),
        ("curl -H 'Cookie: sid=abc; csrftoken=def' x.io", f"curl -H 'Cookie: {R}' x.io"),
    ],
)
def test_bearer_and_token_headers(text: str, expected: str) -> None:
    assert redact_text(text) == expected


def test_basic_auth_header() -> None:
    assert redact_text('curl -H "Authorization: Basic dXNlcjpwYXNz" x.io') == (
        f'curl -H "Authorization: Basic {R}" x.io'
    )


def test_jwt() -> None:
    assert redact_text(f"session={JWT}; path=/") == f"session={R}; path=/"
    assert redact_text(f"decode {JWT} please") == f"decode {R} please"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("PASSWORD=hunter2 ./run.sh", f"PASSWORD={R} ./run.sh"),
        ('DB_PASSWORD="correct horse" psql', f'DB_PASSWORD="{R}" psql'),
        ("export API_KEY=abc123 && make", f"export API_KEY={R} && make"),
        ("export OPENAI_API_KEY='abc'", f"export OPENAI_API_KEY='{R}'"),
        ("mysql -u root --password=hunter2 shop", f"mysql -u root --password={R} shop"),
        ("docker run -e CLIENT_SECRET=xyz img", f"docker run -e CLIENT_SECRET={R} img"),
        ("https://x.io/cb?access_token=abc&state=1", f"https://x.io/cb?access_token={R}&state=1"),
        ("token: abc123\nname: demo\n", f"token: {R}\nname: demo\n"),
        ("db:\n  password: correct horse\n  port: 5432\n", f"db:\n  password: {R}\n  port: 5432\n"),
        ("- api_key: k-123\n", f"- api_key: {R}\n"),
        ('{"password": "pw", "user": "bob"}', f'{{"password": "{R}", "user": "bob"}}'),
        ("{'secret': 'shh'}", f"{{'secret': '{R}'}}"),
        (
            'curl -d "{\\"password\\": \\"pw\\"}" x.io',
            f'curl -d "{{\\"password\\": \\"{R}\\"}}" x.io',
        ),
        (
            "SLACK_SIGNING_SECRET=8f7e6d\nPGPASSWORD=pw\nDB_PASS=pw\nDB_PWD=pw\nTOTP=123456\n",
            f"SLACK_SIGNING_SECRET={R}\nPGPASSWORD={R}\nDB_PASS={R}\nDB_PWD={R}\nTOTP={R}\n",
        ),
        ("spring.datasource.password=pw", f"spring.datasource.password={R}"),
    ],
)
def test_env_and_config_assignments(text: str, expected: str) -> None:
    assert redact_text(text) == expected


@pytest.mark.parametrize(
    "key",
    [
        "sk_live_51H8abcdEFGHijklMNOPqrst",
        "rk_live_51H8abcdEFGHijklMNOPqrst",
        "sk_test_51H8abcdEFGHijklMNOPqrst",
    ],
)
def test_stripe_keys(key: str) -> None:
    assert redact_text(f"stripe login --api-key {key} --live") == (
        f"stripe login --api-key {R} --live"
    )


@pytest.mark.parametrize(
    "key",
    [
        "sk-ant-api03-AbCdEfGhIjKlMnOpQrStUvWxYz0123456789_-AbCdEfGh-AAAA",
        "sk-proj-AbCdEfGhIjKlMnOpQrSt0123456789",
        "sk-AbCdEfGhIjKlMnOpQrStT3BlbkFJ0123456789abcdefgh",
    ],
)
def test_anthropic_and_openai_keys(key: str) -> None:
    assert redact_text(f"ANTHROPIC_BASE=1 claude --key {key} -p hi") == (
        f"ANTHROPIC_BASE=1 claude --key {R} -p hi"
    )


def test_google_api_key() -> None:
    key = "AIzaSyD-9tSrke72PouQMnMX-a7eZSW0jkFMBWY"
    assert redact_text(f"curl 'https://maps.googleapis.com/x?k={key}'") == (
        f"curl 'https://maps.googleapis.com/x?k={R}'"
    )


def test_npm_token() -> None:
    token = "npm_" + "a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8"
    assert redact_text(f"echo //registry.npmjs.org/:_x={token} >> .npmrc") == (
        f"echo //registry.npmjs.org/:_x={R} >> .npmrc"
    )


def test_several_secrets_in_one_command() -> None:
    text = (
        "GITHUB_TOKEN=ghp_16C7e42F292c6912E7710c838347Ae178B4a psql "
        "postgres://app:pw@db/app -c 'select 1' && curl -H 'Authorization: Bearer t0k' "
        "https://hooks.slack.com/services/T0/B0/XX"
    )
    assert redact_text(text) == (
        f"GITHUB_TOKEN={R} psql postgres://app:{R}@db/app -c 'select 1' && "
        f"curl -H 'Authorization: Bearer {R}' https://hooks.slack.com/services/{R}"
    )


# --- benign text --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        'git commit -m "fix token refresh"',
        "the password field is required",
        "max_context_tokens: 180000",
        '{"input_tokens": 1200, "output_tokens": 300, "max_tokens": 4096}',
        "max_tokens=4096",
        "pip install sk-learn",
        "sk-learn-2024-cleanup-branch-name",
        "ghp",
        "ghp_short",
        "xoxb",
        "AKIA",
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
        "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
        "123e4567-e89b-12d3-a456-426614174000",
        "SGVsbG8sIHdvcmxkISBUaGlzIGlzIGp1c3QgYmFzZTY0IG9mIGEgbm9ybWFsIHNlbnRlbmNlLg==",
        "git log --author=alice --format=%H",
        "pytest -k test_password_reset tests/",
        "echo $GITHUB_TOKEN",
        'curl -H "Authorization: Bearer $TOKEN" https://api.x.io',
        "export API_KEY=${API_KEY:-}",
        "TOKEN=$(vault read -field=token secret/x)",
        "TOKEN_URL=https://oauth2.example.com/token",
        "auth_type: oauth",
        "PWD=/home/me/project",
        "cd /tmp && pwd",
        "def refresh(token: str) -> None:",
        "    password: Optional[str] = None",
        "token = get_token(user)",
        "if password == expected:",
        "session_id=abc123",
        "Bearer tokens expire after an hour",
        "https://example.com:8443/path?q=a:b",
        "ssh://git@github.com:22/org/repo.git",
        "git@github.com:org/repo.git",
        "-----BEGIN PUBLIC KEY-----\nMFkwEwYH\n-----END PUBLIC KEY-----",
        "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----",
        "sudo apt-get install -y libssl-dev",
        "password: null",
        "",
        "\x00\xff\ud800 garbage \U0001f600",
    ],
)
def test_benign_text_unchanged(text: str) -> None:
    assert redact_text(text) == text


# --- by key ---------------------------------------------------------------------------------


def test_secret_key_nested_in_dicts() -> None:
    event = {"tool_input": {"env": {"DB_PASSWORD": "hunter2", "PATH": "/usr/bin"}}}
    assert redact(event) == {"tool_input": {"env": {"DB_PASSWORD": R, "PATH": "/usr/bin"}}}


def test_secret_key_inside_lists() -> None:
    value = {"servers": [{"name": "a", "apiKey": "k1"}, {"name": "b", "x-api-key": "k2"}]}
    assert redact(value) == {"servers": [{"name": "a", "apiKey": R}, {"name": "b", "x-api-key": R}]}


@pytest.mark.parametrize(
    "key",
    [
        "password",
        "PASSWORD",
        "db_passwd",
        "pwd",
        "dbPwd",
        "secret",
        "client_secret",
        "access_token",
        "refreshToken",
        "api_key",
        "apikey",
        "Api-Key",
        "aws_access_key_id",
        "private_key",
        "auth",
        "Authorization",
        "oauth",
        "credentials",
        "credential",
        "Cookie",
        "session_key",
        "signing_key",
        "otp",
        "totp_code",
    ],
)
def test_each_secret_key_name(key: str) -> None:
    assert redact({key: "v4lue"}) == {key: R}


@pytest.mark.parametrize(
    "key",
    [
        "author",
        "authority",
        "tokenizer",
        "session_id",
        "cwd",
        "bypass",
        "footprint",
        "keyboard",
        "action_key",
        "auth_url",
        "token_type",
        "password_file",
    ],
)
def test_ordinary_key_names_kept(key: str) -> None:
    assert redact({key: "plain"}) == {key: "plain"}


def test_token_count_fields_keep_numbers() -> None:
    usage = {
        "input_tokens": 1200,
        "output_tokens": 300.5,
        "max_context_tokens": 180000,
        "cache_tokens": None,
        "tokens_enabled": True,
    }
    assert redact(usage) == usage
    assert redact({"max_tokens": "4096"}) == {"max_tokens": "4096"}


def test_numbers_as_strings_under_password_keys_are_secrets() -> None:
    assert redact({"pin_password": "1234", "otp": "123456"}) == {"pin_password": R, "otp": R}


def test_secret_key_with_list_of_strings_is_redacted_wholesale() -> None:
    assert redact({"tokens": ["a", "b"], "secrets": []}) == {"tokens": R, "secrets": []}


def test_secret_key_with_nested_value_hides_every_string() -> None:
    value = {
        "credentials": {"default": "s3cret", "count": 2, "profiles": [{"k": "v"}, 1]},
        "auth": {"type": "oauth", "value": "abc"},
    }
    assert redact(value) == {
        "credentials": {"default": R, "count": 2, "profiles": [{"k": R}, 1]},
        "auth": {"type": "oauth", "value": R},
    }


def test_values_under_ordinary_keys_are_scanned() -> None:
    event = {
        "tool_name": "Bash",
        "tool_input": {
            "command": 'curl -H "Authorization: Bearer abc123" https://api.x.io',
            "description": "call the api",
        },
    }
    assert redact(event)["tool_input"] == {
        "command": f'curl -H "Authorization: Bearer {R}" https://api.x.io',
        "description": "call the api",
    }


def test_non_str_leaves_pass_through() -> None:
    value = {"n": 1, "f": 2.5, "none": None, "yes": True, "no": False, "list": [1, None, 0.0]}
    out = redact(value)
    assert out == value
    assert out["yes"] is True and out["none"] is None and isinstance(out["n"], int)
    for leaf in (0, -7, 3.14, None, True, False):
        assert redact(leaf) is leaf


def test_redact_copies_and_never_mutates() -> None:
    original = {"a": {"password": "pw"}, "b": ["ghp_16C7e42F292c6912E7710c838347Ae178B4a"]}
    before = copy.deepcopy(original)
    out = redact(original)
    assert original == before
    assert out is not original and out["a"] is not original["a"]


def test_tuples_and_non_str_keys() -> None:
    assert redact({1: ("x", "AKIAIOSFODNN7EXAMPLE")}) == {1: ("x", R)}


def test_strings_redacted_at_top_level() -> None:
    assert redact("PASSWORD=pw") == f"PASSWORD={R}"
    assert redact(["token: t0k\n"]) == [f"token: {R}\n"]


# --- robustness -----------------------------------------------------------------------------


SAMPLES = [
    f"export AWS_SECRET_ACCESS_KEY={AWS_SECRET} AWS_ACCESS_KEY_ID={AWS_KEY_ID}",
    "psql postgres://app:s3cr3t@db:5432/app",
    'curl -H "Authorization: Bearer abc123" -H "Cookie: a=b" https://x.io',
    "-----BEGIN RSA PRIVATE KEY-----\nabc\n-----END RSA PRIVATE KEY-----",
    "-----BEGIN RSA PRIVATE KEY-----\nabc",
    '{"password": "x", "token": "y", "max_tokens": 5}',
    'curl -d "{\\"password\\": \\"pw\\"}"',
    "token: abc\npassword: 'q'\n",
    f"Bearer {JWT}",
    "https://hooks.slack.com/services/T0/B0/XX xoxb-1234567890-abcdefghij",
]


@pytest.mark.parametrize("text", SAMPLES)
def test_idempotent(text: str) -> None:
    once = redact_text(text)
    assert once != text
    assert redact_text(once) == once


def test_idempotent_for_values() -> None:
    value = {"env": {"DB_PASSWORD": "pw"}, "cmd": SAMPLES, "tokens": ["a"]}
    once = redact(value)
    assert redact(once) == once


_MEGABYTE = [
    pytest.param("a" * 1_000_000, "a" * 1_000_000, id="letters"),
    pytest.param("password=x " * 90_000, f"password={R} " * 90_000, id="assignments"),
    pytest.param("token: x\n" * 110_000, f"token: {R}\n" * 110_000, id="yaml"),
    pytest.param("://" + "a:" * 500_000, "://" + "a:" * 500_000, id="url-without-password"),
    pytest.param(
        "-----BEGIN RSA PRIVATE KEY-----" * 30_000,
        f"-----BEGIN RSA PRIVATE KEY-----{R}",
        id="key-headers",
    ),
    pytest.param("sk-" + "a" * 1_000_000, "sk-" + "a" * 1_000_000, id="sk-without-digits"),
    pytest.param("eyJ" + "a" * 1_000_000 + ".", "eyJ" + "a" * 1_000_000 + ".", id="half-jwt"),
    pytest.param("bearer " + "1" * 1_000_000, f"bearer {R}", id="bearer"),
]


@pytest.mark.parametrize(("text", "expected"), _MEGABYTE)
def test_megabyte_input_is_redacted_exactly(text: str, expected: str) -> None:
    # Catastrophic backtracking would hang here; the suite's own timeout is the bound.
    assert redact_text(text) == expected


def test_megabyte_of_mixed_secrets_leaves_none() -> None:
    out = redact_text("\n".join(SAMPLES) * 3_000)
    for secret in (AWS_SECRET, AWS_KEY_ID, "s3cr3t", "abc123", "xoxb-1234567890-abcdefghij"):
        assert secret not in out
    assert out.count("-----END RSA PRIVATE KEY-----") == 3_000


def test_unterminated_quoted_secret_is_hidden() -> None:
    # A truncated input: the quote is never closed, the secret runs to the end.
    assert redact_text('"password": "' + "a" * 1_000_000) == f'"password": {R}'


def test_odd_values_come_back_unchanged_or_hidden() -> None:
    cyclic: list = []
    cyclic.append(cyclic)
    deep: dict = {}
    node = deep
    for _ in range(5_000):
        node["x"] = {}
        node = node["x"]
    # Past 100 levels the subtree is hidden whole rather than walked.
    out, depth = redact(cyclic), 0
    while isinstance(out, list):
        out, depth = out[0], depth + 1
    assert (depth, out) == (100, R)
    out, depth = redact(deep), 0
    while isinstance(out, dict):
        out, depth = out["x"], depth + 1
    assert (depth, out) == (100, R)
    marker = object()
    assert redact(marker) is marker
    assert redact(b"\xff\x00") == b"\xff\x00"
    assert redact({("t",): "v"}) == {("t",): "v"}
    assert redact({"k": set()}) == {"k": set()}
    assert redact_text(None) is None  # type: ignore[arg-type]
    assert redact_text(b"password=x") == b"password=x"  # type: ignore[arg-type]


# One case per entry of the pattern table in engine/redact/shapes.py, each in prose where no
# secret-sounding name is near, so only that entry can catch it.
_EVERY_KIND = [
    pytest.param(
        "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjE\n"
        "-----END OPENSSH PRIVATE KEY-----",
        "b3BlbnNzaC1rZXktdjE",
        id="private-key",
    ),
    pytest.param("git clone https://ci:Zq9xWv7@git.example.com/r", "Zq9xWv7", id="url-password"),
    pytest.param("sent Cookie: sid=Qm8Zk2", "sid=Qm8Zk2", id="cookie-header"),
    pytest.param(f"aws_secret_access_key {AWS_SECRET}", AWS_SECRET, id="aws-secret"),
    pytest.param('{"client_secret": "Uv4Lp0"}', "Uv4Lp0", id="quoted-assignment"),
    pytest.param("api_key: Rt5Nb1", "Rt5Nb1", id="colon-assignment"),
    pytest.param("run --db-password=Ws3Hk8", "Ws3Hk8", id="eq-assignment"),
    pytest.param("then Bearer Yp2Tg6x went by", "Yp2Tg6x", id="bearer"),
    pytest.param(
        "post to https://hooks.slack.com/services/T0AB/B0CD/Kx7Wq2", "Kx7Wq2", id="slack-webhook"
    ),
    pytest.param(f"id {AWS_KEY_ID} in use", AWS_KEY_ID, id="aws-key-id"),
    pytest.param("id ASIAY34FZKBOKMUTVV7A in use", "ASIAY34FZKBOKMUTVV7A", id="aws-session-id"),
    pytest.param(
        "use ghp_aBcDeFgHiJkLmNoPqRsTuVwXyZ012345 now",
        "ghp_aBcDeFgHiJkLmNoPqRsTuVwXyZ012345",
        id="github",
    ),
    pytest.param(
        "use github_pat_11ABCDEFG0abcdefghijkl_mnop now",
        "github_pat_11ABCDEFG0abcdefghijkl_mnop",
        id="github-fine-grained",
    ),
    pytest.param("use xoxb-1234567890-abcdefghij now", "xoxb-1234567890-abcdefghij", id="slack"),
    pytest.param("use xapp-1-A0123456789-12345 now", "xapp-1-A0123456789-12345", id="slack-app"),
    pytest.param("use sk_live_51H8abcdEFGH now", "sk_live_51H8abcdEFGH", id="stripe-secret"),
    pytest.param("use rk_test_51H8abcdEFGH now", "rk_test_51H8abcdEFGH", id="stripe-restricted"),
    pytest.param(
        "use whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw now",
        "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
        id="stripe-webhook-secret",
    ),
    pytest.param(
        "use sk-proj-Ab3dEfGh1jKlMnOpQrStUv now", "sk-proj-Ab3dEfGh1jKlMnOpQrStUv", id="openai"
    ),
    pytest.param(
        "use AIzaSyD-9tSrke72PouQMnMX-a7eZSW0jkFMBWY now",
        "AIzaSyD-9tSrke72PouQMnMX-a7eZSW0jkFMBWY",
        id="google",
    ),
    pytest.param(
        "use npm_a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8 now",
        "npm_a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8",
        id="npm",
    ),
    pytest.param(f"use {JWT} now", JWT, id="jwt"),
]


@pytest.mark.parametrize(("text", "secret"), _EVERY_KIND)
def test_every_kind_in_the_pattern_table_is_hidden(text: str, secret: str) -> None:
    out = redact_text(text)
    assert secret not in out
    assert R in out
    # The words around the secret stay, so the auditor still reads what happened.
    assert out.split()[0] == text.split()[0]


# Key names over 200 characters skip the name cache, so these judge the uncached path.
_LONG = "a" * 201 + "_"


@pytest.mark.parametrize(
    ("key", "value", "expected"),
    [
        (_LONG + "password", "pw", R),
        (_LONG + "Password", "1234", R),
        (_LONG + "pwd", "x", R),
        (_LONG + "totp", "123456", R),
        (_LONG + "apiKey", "k", R),
        (_LONG + "API-KEY", "k", R),
        ("X" * 201 + "Token", "t", R),
        (_LONG + "user_pin", "1234", "1234"),
        (_LONG + "max_tokens", "1200", "1200"),
        (_LONG + "token_url", "https://x", "https://x"),
        (_LONG + "author", "bob", "bob"),
        (_LONG + "cwd", "/srv", "/srv"),
        (_LONG + "bypass", "x", "x"),
        (_LONG + "tokenizer", "bert", "bert"),
    ],
)
def test_long_key_names_are_judged_like_short_ones(key: str, value: str, expected: str) -> None:
    assert redact({key: value}) == {key: expected}


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ({"credentials": ("a", 1)}, {"credentials": (R, 1)}),
        ({"password": ["a", 1]}, {"password": [R, 1]}),
        ({"password": {5: "x"}}, {"password": {5: R}}),
        (
            {"auth": {"type": "oauth", "token": "t", "scopes": ["a"]}},
            {"auth": {"type": "oauth", "token": R, "scopes": R}},
        ),
        (
            {"token": {"auth_url": {"password": "x", "n": "y"}}},
            {"token": {"auth_url": {"password": R, "n": "y"}}},
        ),
        (
            {"secret": {"count": 3, "pwd": "/home/x", "note": "hi"}},
            {"secret": {"count": 3, "pwd": "/home/x", "note": R}},
        ),
    ],
)
def test_values_under_secret_keys_are_hidden_all_the_way_down(value, expected) -> None:
    assert redact(value) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('echo "{\\"password\\": \\"hunter2\\"}"', f'echo "{{\\"password\\": \\"{R}\\"}}"'),
        ("password='$HOME'", f"password='{R}'"),  # single quotes: literal text, not a reference
        ("password=$HOME", "password=$HOME"),
        ('password="$HOME"', 'password="$HOME"'),
        ('x password=\\"\\" y', 'x password=\\"\\" y'),
        ("password='' y", "password='' y"),
        ('token: "abc"  ', f'token: "{R}"  '),
        ('password="ab"cd', f'password="{R}"cd'),
        ("pwd: '/srv'", "pwd: '/srv'"),  # $PWD is the working directory
        ("PWD=/srv/app", "PWD=/srv/app"),
        ("pass=~/x", f"pass={R}"),
        # A quote never closed hides the rest of its line up to the next quote.
        ('password="ab cd', f"password={R}"),
        ("password='ab cd\nnext", f"password={R}\nnext"),
        ('x \\"password\\": \\"hunter2', f'x \\"password\\": {R}'),
        ("note: \"it's, token: abc", f"note: \"it's, token: {R}"),
        ('"password": "', '"password": "'),
        # Values that only name a secret's absence or a directory stay readable.
        ("password: null", "password: null"),
        ("token=None", "token=None"),
        ("run --pwd=/srv/app", "run --pwd=/srv/app"),
        ("PWD=~/src/app", "PWD=~/src/app"),
        # A bracket in a secret is part of it; trailing blanks after a value stay where they were.
        ("x password=8x[2q y", f"x password={R} y"),
        ("x\napi_key: Rt5Nb1   \nnext", f"x\napi_key: {R}   \nnext"),
    ],
)
def test_assignment_values_are_cut_exactly_at_their_quotes(text: str, expected: str) -> None:
    assert redact_text(text) == expected


def test_nesting_under_a_secret_key_is_hidden_from_depth_100() -> None:
    value: list = [7]
    for _ in range(150):
        value = [value]
    out, depth = redact({"password": value})["password"], 1
    while isinstance(out, list):
        out, depth = out[0], depth + 1
    assert (depth, out) == (100, R)
    pointer = redact({"token": {"auth_type": value}})["token"]["auth_type"]
    depth = 2
    while isinstance(pointer, list):
        pointer, depth = pointer[0], depth + 1
    assert (depth, pointer) == (100, R)


def test_nested_mappings_under_a_secret_key_are_hidden_from_depth_100() -> None:
    value: dict = {"k": "v"}
    for _ in range(150):
        value = {"k": value}
    out, depth = redact({"password": value})["password"], 1
    while isinstance(out, dict):
        out, depth = out["k"], depth + 1
    assert (depth, out) == (100, R)


def test_a_value_under_a_secret_key_is_hidden_even_when_it_reads_like_code() -> None:
    # In text, `password=$DB_PASSWORD` names where the secret lives; as a mapping's value under
    # a secret key it is the secret itself, whatever it looks like.
    value = {"password": "$DB_PASSWORD", "token": "null", "api_key": "get_key()", "secret": "str"}
    assert redact(value) == dict.fromkeys(value, R)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # Code keeps its calls and subscripts readable...
        ("token = get_token()", "token = get_token()"),
        ('key = env["X"]', 'key = env["X"]'),
        ("secret = fetch(a, b)", "secret = fetch(a, b)"),
        ("api_key = load_key(", "api_key = load_key("),
        # ...but a bracket left open before a digit or a symbol is part of a password.
        ("password=Hk[8x2q", f"password={R}"),
        ("password=Ab(#1x", f"password={R}"),
    ],
)
def test_a_password_with_a_bracket_is_not_taken_for_code(text: str, expected: str) -> None:
    assert redact_text(text) == expected


def test_a_private_key_keeps_its_armour_and_line_breaks() -> None:
    text = "-----BEGIN RSA PRIVATE KEY-----\nMIIEpAIBAAKCAQEA7bq\n-----END RSA PRIVATE KEY-----"
    assert redact_text(text) == (
        f"-----BEGIN RSA PRIVATE KEY-----\n{R}\n-----END RSA PRIVATE KEY-----"
    )
    one_line = "-----BEGIN RSA PRIVATE KEY-----MIIEpAIBAAKCAQEA7bq-----END RSA PRIVATE KEY-----"
    assert redact_text(one_line) == (
        f"-----BEGIN RSA PRIVATE KEY-----{R}-----END RSA PRIVATE KEY-----"
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("deploytool --db-password Ws3Hk8 --verbose", f"deploytool --db-password {R} --verbose"),
        ("deploytool --dbPassword Ws3Hk8", f"deploytool --dbPassword {R}"),
        # Named like a secret but takes no value, or its value only names something.
        ("deploytool --no-password prod", "deploytool --no-password prod"),
        ("deploytool --password-stdin prod", "deploytool --password-stdin prod"),
        ("deploytool --auth-user bob", "deploytool --auth-user bob"),
        ("deploytool --verbose prod", "deploytool --verbose prod"),
    ],
)
def test_secret_options_of_programs_outside_the_table_hide_their_value(
    text: str, expected: str
) -> None:
    assert redact_text(text) == expected


# --- one call's secrets, wherever else they show up ------------------------------------------

_KEY_BODY = "MIIEpAIBAAKCAQEA7bq"


def test_a_call_learns_the_secrets_of_every_kind_of_field() -> None:
    call = {
        "command": "deploy --db-password=Xk3vQ9X",
        "note": 'retry with password="Uq8wZt1',  # a quote never closed
        "key": f"-----BEGIN RSA PRIVATE KEY-----\n{_KEY_BODY}\n-----END RSA PRIVATE KEY-----",
        "credentials": {"password": "Hq8vW2", "auth_url": "https://u:Pw9zzq@h.io"},
        "pins": {"secret": ["Mx7qq1", 4]},
        "tokens": ["Tk9aa1", "Tk9bb2"],
        "argv": ["deploy", "--db-password=Lq2wEr7"],
    }
    redaction = Redaction.learn(call)
    assert redaction.redacted == {
        "command": f"deploy --db-password={R}",
        "note": f"retry with password={R}",
        "key": f"-----BEGIN RSA PRIVATE KEY-----\n{R}\n-----END RSA PRIVATE KEY-----",
        "credentials": {"password": R, "auth_url": f"https://u:{R}@h.io"},
        "pins": {"secret": [R, 4]},
        "tokens": R,
        "argv": ["deploy", f"--db-password={R}"],
    }
    # A rule's reason quoting any of them, bare, without the shape that gave it away.
    secrets = ["Xk3vQ9X", "Uq8wZt1", _KEY_BODY, "Hq8vW2", "Pw9zzq", "Mx7qq1", "Tk9aa1", "Tk9bb2"]
    secrets.append("Lq2wEr7")
    assert redaction("saw " + ", ".join(secrets)) == "saw " + ", ".join([R] * len(secrets))


def test_a_calls_secrets_are_hidden_in_every_container_of_another_value() -> None:
    redaction = Redaction.learn({"command": "mysql -p'Sq9 two' prod"})
    value = {"findings": [("quoted Sq9 two", 3)], "detail": {"text": "Sq9 two"}}
    assert redaction(value) == {"findings": [(f"quoted {R}", 3)], "detail": {"text": R}}
    # Down to the depth redaction walks (100 levels), and cut there like `redact` cuts.
    deep: object = "quoted Sq9 two"
    for _ in range(50):
        deep = {"k": [deep]}
    out, depth = redaction(deep), 0
    while not isinstance(out, str):
        out, depth = (out["k"] if isinstance(out, dict) else out[0]), depth + 1
    assert (depth, out) == (100, f"quoted {R}")
    for _ in range(2_500):
        deep = {"k": [deep]}
    out, depth = redaction(deep), 0
    while not isinstance(out, str):
        out, depth = (out["k"] if isinstance(out, dict) else out[0]), depth + 1
    assert (depth, out) == (100, R)


def test_a_call_learns_each_spelling_of_a_secret_longest_first() -> None:
    # The display re-quotes a value with a space; the quoted spelling is hidden whole.
    assert Redaction.learn({"password": "Sq9 two"})("ran mysql -p'Sq9 two'") == f"ran mysql -p{R}"
    # Inside JSON text: quotes and backslashes escaped, other letters as they are.
    learnt = Redaction.learn({"password": 'pä"ss\\w0rd'})
    assert learnt('{"note": "pä\\"ss\\\\w0rd", "rule": null}') == f'{{"note": "{R}", "rule": null}}'
    # Three characters are hidden wherever they show up; two would blank every "ab" in a reason.
    assert Redaction.learn({"password": "x9z"})("saw x9z") == f"saw {R}"
    short = Redaction.learn({"password": "ab"})
    assert (short.secrets, short("a tab")) == ((), "a tab")


def test_what_a_call_learns_is_cut_at_depth_100_like_redact() -> None:
    leaf: object = "quoted Sq9 two"
    for _ in range(99):
        leaf = [leaf]
    redaction = Redaction.learn({"command": "mysql -p'Sq9 two' prod", "deep": leaf})
    out, depth = redaction.redacted["deep"], 1
    while isinstance(out, list):
        out, depth = out[0], depth + 1
    assert (depth, out) == (100, f"quoted {R}")


def test_an_empty_or_already_hidden_value_under_a_secret_key_is_shown_as_it_is() -> None:
    # The auditor can tell an empty password from a hidden one.
    assert redact({"password": "", "token": R}) == {"password": "", "token": R}


def test_an_unchanged_string_keeps_its_own_type() -> None:
    assert redact({"outcome": Outcome.ALLOW})["outcome"] is Outcome.ALLOW


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("tool --opt=password=Hk8x2q", f"tool --opt=password={R}"),
        ("x mode=api_key=Hk8x2q y", f"x mode=api_key={R} y"),
        ("x mode=a=b y", "x mode=a=b y"),
    ],
)
def test_a_value_that_is_itself_an_assignment_is_judged_by_its_own_name(
    text: str, expected: str
) -> None:
    assert redact_text(text) == expected


class _Unreadable(dict):
    """A mapping that cannot be read: stands for anything breaking inside redaction."""

    def items(self):
        raise RuntimeError("unreadable")


class _Unsearchable(str):
    """A string that breaks when searched for this call's secret."""

    def __contains__(self, part: object) -> bool:
        if part == "Pw9zzq":
            raise RuntimeError("unsearchable")
        return super().__contains__(part)


def test_a_redaction_that_breaks_fails_closed_in_the_values_own_shape() -> None:
    # Nothing of a call whose redaction broke is shown, yet callers still find their fields.
    hidden = {"redacted": R}
    broken = Redaction.learn({"input": _Unreadable(), "note": "x"})
    assert broken == Redaction((), {"input": hidden, "note": hidden})
    assert Redaction.learn([_Unreadable()]) == Redaction((), [hidden])
    late = Redaction.learn({"password": "Pw9zzq", "note": _Unsearchable("x")})
    assert late == Redaction(("Pw9zzq",), {"password": hidden, "note": hidden})


def test_a_call_learns_secrets_from_netrc_entries_and_long_fields() -> None:
    redaction = Redaction.learn(
        {
            "netrc": "machine h.io login u password Nt7zzq",
            "long": "x" * 1100 + " --db-password=Lq9wEr7",  # past the short-text cache
        }
    )
    assert redaction("saw Nt7zzq and Lq9wEr7") == f"saw {R} and {R}"
