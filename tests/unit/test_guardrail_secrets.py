"""Credentials beyond the original provider keys: provider token formats (API_TOKEN),
passwords in URLs and assignments (PASSWORD), other assigned secrets and
Authorization headers (CREDENTIAL). Every token here is built to its documented shape;
none is a real secret."""

from __future__ import annotations

import pytest

from services.guardrail.engine import GuardrailEngine
from services.guardrail.normalize import normalize
from services.guardrail.pii import SECRETS, EntityDetector
from services.guardrail.policy import parse_policies

HEX32 = "0123456789abcdef" * 2
HEX64 = HEX32 * 2
ALNUM = "aB3dE5fG7hI9jK1lM3nO5pQ7rS9tU1vW3xY5zA7bC9dE1fG3hI5jK7lM9nO1pQ3rS5tU7vW9xY1zA3"


@pytest.fixture(scope="module")
def secrets() -> EntityDetector:
    return EntityDetector(SECRETS)


def _found(detector: EntityDetector, text: str) -> list[tuple[str, str]]:
    return [(c.type, text[c.start : c.end]) for c in detector.detect(normalize(text))]


def _engine() -> GuardrailEngine:
    detectors = [
        {"detector": "secrets", "action": "redact"},
        {"detector": "pii", "action": "redact"},
    ]
    document = {"policies": {"default": {"version": "t", "input": detectors}}}
    return GuardrailEngine(parse_policies(document, 10_000), pseudonym_secret=b"s" * 32)


PROVIDER_TOKENS = {
    "gitlab_pat": "glpat-" + ALNUM[:20],
    "gitlab_pat_routable": "glpat-" + ALNUM[:30] + ".01" + "abc1234",
    "gitlab_deploy": "gldt-" + ALNUM[:20],
    "gitlab_runner": "glrt-" + ALNUM[:20],
    "gitlab_trigger": "glptt-" + HEX32 + HEX32[:8],
    "hugging_face": "hf_" + "aBcDeFgHiJkLmNoPqRsTuVwXyZaBcDeFgH",
    "hugging_face_org": "api_org_" + "aBcDeFgHiJkLmNoPqRsTuVwXyZaBcDeFgH",
    "npm": "npm_" + ALNUM[:36],
    "pypi": "pypi-AgEIcHlwaS5vcmc" + ALNUM[:60],
    "sendgrid": "SG." + ALNUM[:22] + "." + ALNUM[22:65],
    "twilio": "SK" + HEX32,
    "mailgun": "key-" + "0a1b2c3d4e5f6g7h8i9j0k1l2m3n4o5p",
    "mailchimp": HEX32 + "-us21",
    "telegram": "110201543:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw1",
    "telegram_documented_example": "110201543:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw",
    # "MTk4NjIyNDgzNDcxOTI1MjQ4" is base64 of the id 198622483471925248.
    "discord": "MTk4NjIyNDgzNDcxOTI1MjQ4.Cl2FMQ." + ALNUM[:27],
    "shopify": "shpat_" + HEX32,
    "digitalocean": "dop_v1_" + HEX64,
    "databricks": "dapi" + HEX32,
    "google_oauth_secret": "GOCSPX-" + ALNUM[:28],
    "slack_webhook": "https://hooks.slack.com/services/T0ABCDEFG/B0ABCDEFG/" + ALNUM[:24],
    "slack_app": "xapp-1-A0ABCDEFGHI-1234567890123-" + HEX64,
    "stripe_webhook": "whsec_" + ALNUM[:32],
    "azure_ad_secret": "abc8Q~" + ALNUM[:34],
    "alibaba": "LTAI" + ALNUM[:20],
    "groq": "gsk_" + ALNUM[:52],
    "perplexity": "pplx-" + ALNUM[:48],
    "linear": "lin_api_" + ALNUM[:40],
    "postman": "PMAK-" + HEX32[:24] + "-" + HEX32 + "ab",
    "vault": "hvs." + ALNUM[:75] + ALNUM[:20],
    "grafana_service_account": "glsa_" + ALNUM[:32] + "_" + HEX32[:8],
    "square": "sq0atp-" + ALNUM[:22],
    "heroku": "HRKU-AA" + ALNUM[:58],
}


@pytest.mark.parametrize("name", sorted(PROVIDER_TOKENS))
def test_provider_token_is_found_whole(secrets: EntityDetector, name: str) -> None:
    token = PROVIDER_TOKENS[name]
    assert ("API_TOKEN", token) in _found(secrets, f"config: {token} (rotated)")


# Formats whose documented length is open (a minimum, or a range this one is inside).
OPEN_LENGTH = {
    "discord", "gitlab_deploy", "gitlab_pat", "gitlab_pat_routable", "gitlab_runner",
    "gitlab_trigger", "pypi", "slack_app", "slack_webhook", "stripe_webhook",
    "telegram_documented_example", "vault",
}  # fmt: skip


@pytest.mark.parametrize("name", sorted(set(PROVIDER_TOKENS) - OPEN_LENGTH))
def test_provider_token_one_character_too_long_is_not_reported(
    secrets: EntityDetector, name: str
) -> None:
    text = f"x {PROVIDER_TOKENS[name]}Z x"
    assert [t for t, _ in _found(secrets, text) if t == "API_TOKEN"] == []


@pytest.mark.parametrize(
    "text",
    [
        "glpat-short123",  # shorter than any GitLab token
        "hf_hub_download(repo_id='gpt2')",
        "npm_config_registry=https://registry.npmjs.org",
        "SG.foo.bar is a module path",
        "SK" + HEX32[:30],  # Twilio keys have 32 hex digits
        "key-value stores such as Redis",
        "at 12:30:45 the build failed",
        "Mr.Smith.Jones wrote MTk4NjIyNDgzNDcxOTI1MjQ4.Cl2FMQ",  # Discord without its HMAC
        "TWFkZSB0aGlzIHN0cmluZyB1cA.Cl2FMQ." + ALNUM[:27],  # first part is not an id
        "the dapi endpoint, shpat_ prefix and dop_v1_ tokens are documented",
        "GOCSPX- is the prefix of Google client secrets",
        "see https://hooks.slack.com/ for webhooks",
        "sha256 checksum " + HEX64,
    ],
)
def test_near_misses_of_provider_tokens_are_not_reported(
    secrets: EntityDetector, text: str
) -> None:
    assert _found(secrets, text) == []


@pytest.mark.parametrize(
    ("text", "password"),
    [
        ("DATABASE_URL=postgres://app:S3cr3t-pa55@db.internal:5432/app", "S3cr3t-pa55"),
        ("mysql://root:r00tPass@127.0.0.1/shop", "r00tPass"),
        ("mongodb+srv://admin:p@ss:w0rd!@cluster0.abcde.mongodb.net/test", "p@ss:w0rd!"),
        ("redis://:hunter2xyz@localhost:6379/0", "hunter2xyz"),
        ("amqp://guest:Gu3st-2024@rabbit:5672/", "Gu3st-2024"),
        ("clone https://bob:tok3n-x1@git.example.com/repo.git", "tok3n-x1"),
    ],
)
def test_password_in_a_url_is_reported_without_user_or_host(
    secrets: EntityDetector, text: str, password: str
) -> None:
    assert _found(secrets, text) == [("PASSWORD", password)]


@pytest.mark.parametrize(
    "text",
    [
        "postgres://user:${DB_PASSWORD}@db/app",
        "postgres://<user>:<password>@host/db",
        "postgres://user:password@localhost/db",
        "redis://:changeme@localhost",
        "mysql://root:***@db",
        "ssh://git@github.com:22/org/repo.git",
        "http://localhost:8080/path?next=a@b",
        "http://u:pw@host",
    ],
)
def test_url_without_a_real_password_is_not_reported(secrets: EntityDetector, text: str) -> None:
    assert _found(secrets, text) == []


@pytest.mark.parametrize(
    ("text", "kind", "value"),
    [
        ("DB_PASSWORD=Tr0ub4dor-3", "PASSWORD", "Tr0ub4dor-3"),
        ('"password": "correct-horse-9-battery"', "PASSWORD", "correct-horse-9-battery"),
        ("password: 'abc12345xyz'", "PASSWORD", "abc12345xyz"),
        ("  passwd = s3cr3t!pw", "PASSWORD", "s3cr3t!pw"),
        ("export PGPASSWORD='Zq8!mN2#'", "PASSWORD", "Zq8!mN2#"),
        ("Server=db;User Id=sa;Password=Adm1n!2024;", "PASSWORD", "Adm1n!2024"),
        ("$dbPass = 'Kx7-pQ9-vT2';", "PASSWORD", "Kx7-pQ9-vT2"),
        ("<password>Xy9$kLm2pQ</password>", "PASSWORD", "Xy9$kLm2pQ"),
        ("mysql --password=Sup3rS3cret shop", "PASSWORD", "Sup3rS3cret"),
        ("psql --password 'Sup3rS3cret'", "PASSWORD", "Sup3rS3cret"),
        ("CREATE USER bob WITH PASSWORD 'S3cure!Pass';", "PASSWORD", "S3cure!Pass"),
        ('ALTER USER app IDENTIFIED BY "N3w-Pa55word";', "PASSWORD", "N3w-Pa55word"),
        ("api_key = 'a1b2c3d4e5f6a7b8c9d0'", "CREDENTIAL", "a1b2c3d4e5f6a7b8c9d0"),
        ("TWILIO_AUTH_TOKEN=" + HEX32, "CREDENTIAL", HEX32),
        ('"client_secret": "' + ALNUM[:40] + '"', "CREDENTIAL", ALNUM[:40]),
        ("SECRET_KEY = 'django-insecure-8x#k2!m'", "CREDENTIAL", "django-insecure-8x#k2!m"),
        ("x-api-key: 0123456789abcdefABCDEF", "CREDENTIAL", "0123456789abcdefABCDEF"),
        (
            '{"auths": {"r.io": {"auth": "dXNlcjpwYXNzd29yZDE="}}}',
            "CREDENTIAL",
            "dXNlcjpwYXNzd29yZDE=",
        ),
        ("cli deploy --auth-token abcd1234efgh5678", "CREDENTIAL", "abcd1234efgh5678"),
        (
            "DefaultEndpointsProtocol=https;AccountName=acct;AccountKey="
            + ALNUM[:40]
            + "+/=;EndpointSuffix=core.windows.net",
            "CREDENTIAL",
            ALNUM[:40] + "+/=",
        ),
        ("Authorization: Bearer abcdef0123456789abcdef", "CREDENTIAL", "abcdef0123456789abcdef"),
        ("-H 'Authorization: Basic dXNlcjpwYXNzd29yZDE='", "CREDENTIAL", "dXNlcjpwYXNzd29yZDE="),
    ],
)
def test_assigned_secret_value_is_reported_without_its_key(
    secrets: EntityDetector, text: str, kind: str, value: str
) -> None:
    assert (kind, value) in _found(secrets, text)


@pytest.mark.parametrize(
    "text",
    [
        # Prose.
        "my password is too short",
        "Password: at least eight characters",
        "the password field is required",
        "Password reset link: https://example.com/reset",
        "Secret: practise every day.",
        "A token: the unit of text a model reads",
        "bearer tokens are sent in a header",
        '{"password": "This field is required."}',
        # Code: names, calls, subscripts, attributes, types.
        'password = os.environ["DB_PASSWORD"]',
        "password = getpass.getpass()",
        "api_key: Optional[str] = None",
        "password: str",
        "token = response.json()['access_token']",
        "password: this.state.password,",
        "const secret = process.env.JWT_SECRET;",
        "password=hashedPassword",
        'headers = {"Authorization": f"Bearer {token}"}',
        # Placeholders and templates.
        'api_key = "your-api-key-here"',
        "password: <your-password>",
        "DB_PASSWORD=${DB_PASSWORD}",
        "token: ${{ secrets.GITHUB_TOKEN }}",
        "password: {{ vault_db_password }}",
        "password: '********'",
        "PASSWORD=xxxxxxxxxx",
        "password = 'changeme'",
        "Authorization: Bearer <token>",
        "Authorization: Bearer YOUR_ACCESS_TOKEN",
        # Values that are not secrets, keys that are not secret names.
        '"max_tokens": 4096',
        '"eos_token": "<|endoftext|>"',
        '"pad_token": "[PAD]"',
        '"next_page_token": "CiAKGjBpNDd2Nmp2Zml2cXRwYjBpOXA0"',
        "compass: 12345678abc",
        "bypass=abcd1234efgh",
        "OAuth: abcd1234efgh",
        "PWD=/home/alice/projects",
        "auth_url: https://login.example.com/oauth2",
        "password_reset_url = 'https://x.io/r?a=1b2c3d4e'",
        "is_secret: true",
        "cli --token --verbose",
    ],
)
def test_prose_code_and_placeholders_are_not_reported(secrets: EntityDetector, text: str) -> None:
    assert _found(secrets, text) == []


def test_redaction_keeps_the_key_the_user_and_the_host() -> None:
    engine = _engine()
    text = "DB_PASSWORD=Tr0ub4dor-3\nDATABASE_URL=postgres://app:S3cr3t-pa55@db.internal/app"
    assert engine.check_input(text, tenant="t").safe_text == (
        "DB_PASSWORD=[PASSWORD_REDACTED]\n"
        "DATABASE_URL=postgres://app:[PASSWORD_REDACTED]@db.internal/app"
    )


def test_a_provider_key_in_an_assignment_keeps_its_own_type() -> None:
    engine = _engine()
    result = engine.check_input("OPENAI_API_KEY=sk-proj-abcdefghijklmnopqrstuvwxyz0123", tenant="t")
    assert result.safe_text == "OPENAI_API_KEY=[OPENAI_API_KEY_REDACTED]"
    assert [f.type for f in result.findings] == ["OPENAI_API_KEY"]


def test_finding_reason_names_the_provider(secrets: EntityDetector) -> None:
    (candidate,) = secrets.detect(normalize("token " + PROVIDER_TOKENS["gitlab_pat"]))
    assert candidate.reason == "GitLab token detected"


def test_a_policy_can_select_the_new_types() -> None:
    document = {
        "policies": {
            "default": {
                "version": "t",
                "input": [
                    {"detector": "secrets", "action": "redact", "entity_types": ["PASSWORD"]}
                ],
            }
        }
    }
    engine = GuardrailEngine(parse_policies(document, 10_000), pseudonym_secret=b"s" * 32)
    text = "password=Tr0ub4dor-3 npm " + PROVIDER_TOKENS["npm"]
    assert engine.check_input(text, tenant="t").safe_text == (
        "password=[PASSWORD_REDACTED] npm " + PROVIDER_TOKENS["npm"]
    )
