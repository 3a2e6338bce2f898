"""AWS JSON 1.1 calls with SigV4 signing, in the standard library only (lab hosts have python3, not boto3).

Shipped in both stand-in packages (each in its own private directory) and imported flat: `import awsapi`.
"""
import configparser
import datetime
import hashlib
import hmac
import json
import os
import secrets
import time
import urllib.error
import urllib.parse
import urllib.request

TARGET_PREFIXES = {
    "ssm": "AmazonSSM",
    "ecs": "AmazonEC2ContainerServiceV20141113",
    "logs": "Logs_20140328",
    "ecr": "AmazonEC2ContainerRegistry_V20150921",
}
JSON_11 = "application/x-amz-json-1.1"
# Lab-only: the region of an unsigned call, for the lab endpoint (lab/PROTOCOL.md step 1).
UNSIGNED_REGION_HEADER = "X-Lab-Region"
# Both real agents call AWS through aws-sdk-go, whose client retries a call 3 times (client.DefaultRetryer's
# default; the SSM agent sets the same in agent/sdkutil/sdkutil.go, newRetryer) on throttling, 5xx answers and
# connection errors, with exponential backoff (30 ms base, 500 ms for throttling) and jitter.
MAX_RETRIES = 3
THROTTLING_CODES = ("ThrottlingException", "Throttling", "TooManyRequestsException", "RequestLimitExceeded")


class ApiError(Exception):
    """An error answer (code as AWS names it) or a transport failure (code "NetworkError")."""

    def __init__(self, code, message, status=None):
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.status = status


def root_path(path):
    """A host path, relocated under $LAB_AGENT_ROOT when set (tests run the agents outside a host)."""
    root = os.environ.get("LAB_AGENT_ROOT")
    return os.path.join(root, path.lstrip("/")) if root else path


def _hmac(key, text):
    return hmac.new(key, text.encode(), hashlib.sha256).digest()


def sign(method, url, headers, body, credentials, region, service, now=None):
    """Return headers plus x-amz-date, the session token and Authorization (AWS Signature Version 4)."""
    now = now or datetime.datetime.now(datetime.timezone.utc)
    amz_date = now.strftime("%Y%m%dT%H%M%SZ")
    day = amz_date[:8]
    parts = urllib.parse.urlsplit(url)
    signed = {k.lower(): str(v).strip() for k, v in headers.items()}
    signed["host"] = parts.netloc
    signed["x-amz-date"] = amz_date
    if credentials.get("token"):
        signed["x-amz-security-token"] = credentials["token"]
    names = sorted(signed)
    query = "&".join(
        f"{urllib.parse.quote(k, safe='-_.~')}={urllib.parse.quote(v, safe='-_.~')}"
        for k, v in sorted(urllib.parse.parse_qsl(parts.query, keep_blank_values=True))
    )
    canonical = "\n".join([
        method,
        urllib.parse.quote(parts.path or "/", safe="/-_.~"),
        query,
        "".join(f"{name}:{signed[name]}\n" for name in names),
        ";".join(names),
        hashlib.sha256(body).hexdigest(),
    ])
    scope = f"{day}/{region}/{service}/aws4_request"
    to_sign = "\n".join(["AWS4-HMAC-SHA256", amz_date, scope, hashlib.sha256(canonical.encode()).hexdigest()])
    key = _hmac(_hmac(_hmac(_hmac(f"AWS4{credentials['secret_key']}".encode(), day), region), service), "aws4_request")
    signature = hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()
    signed["authorization"] = (
        f"AWS4-HMAC-SHA256 Credential={credentials['access_key']}/{scope}, "
        f"SignedHeaders={';'.join(names)}, Signature={signature}"
    )
    return signed


def post_json(url, payload, headers, region, service, credentials=None, timeout=10.0):
    """POST a JSON document, signed when credentials are given; return the decoded JSON answer."""
    body = json.dumps(payload).encode()
    if credentials:
        headers = sign("POST", url, headers, body, credentials, region, service)
    else:
        # An unsigned call has no credential scope; AWS knows its region from the regional endpoint it reaches
        # (the real SSM agent registers at its -region's endpoint), the lab endpoint is one URL for every region.
        headers = dict(headers, **{UNSIGNED_REGION_HEADER: region})
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            text = response.read()
    except urllib.error.HTTPError as error:
        raise _api_error(error.code, error.read()) from None
    except (urllib.error.URLError, OSError) as error:
        raise ApiError("NetworkError", str(getattr(error, "reason", error))) from None
    return json.loads(text) if text.strip() else {}


def _api_error(status, text):
    try:
        doc = json.loads(text)
    except ValueError:
        return ApiError("HTTP%d" % status, text[:200].decode(errors="replace"), status)
    code = str(doc.get("__type", doc.get("code", f"HTTP{status}"))).rsplit("#", 1)[-1]
    return ApiError(code, doc.get("message", doc.get("Message", "")), status)


class Client:
    """One AWS service at one endpoint: `call("RegisterContainerInstance", {...})`."""

    def __init__(self, endpoint, region, service, credentials=None, sleep=time.sleep):
        self.endpoint = endpoint.rstrip("/")
        self.region = region
        self.service = service
        self.credentials = credentials  # a callable returning the current credentials, or None: unsigned
        self.sleep = sleep

    def call(self, operation, payload):
        """One operation, retried as the SDK retries it; the last error when every attempt failed."""
        headers = {"Content-Type": JSON_11, "X-Amz-Target": f"{TARGET_PREFIXES[self.service]}.{operation}"}
        for attempt in range(MAX_RETRIES + 1):
            try:
                return post_json(self.endpoint + "/", payload, headers, self.region, self.service, self._credentials())
            except ApiError as error:
                throttled = error.code in THROTTLING_CODES
                retryable = throttled or error.code == "NetworkError" or (error.status or 0) >= 500
                if not retryable or attempt == MAX_RETRIES:
                    raise
                self.sleep((0.5 if throttled else 0.03) * 2 ** attempt * (0.5 + secrets.randbelow(1000) / 2000))

    def lab_call(self, path, payload):
        """A lab-only call under /_lab/, signed like the others."""
        headers = {"Content-Type": "application/json"}
        return post_json(self.endpoint + path, payload, headers, self.region, self.service, self._credentials())

    def _credentials(self):
        return self.credentials() if self.credentials else None


def endpoint_url(value, service, region):
    """A configured endpoint (URL, or bare host name as the real agents accept) or AWS's default."""
    if not value:
        return f"https://{service}.{region}.amazonaws.com"
    return value if "://" in value else f"https://{value}"


def shared_credentials(path="/root/.aws/credentials", profile="default"):
    """The credentials the SSM agent keeps in the shared credentials file, or None while there are none."""
    parser = configparser.ConfigParser()
    if not parser.read(root_path(path)) or not parser.has_section(profile):
        return None
    section = parser[profile]
    if not section.get("aws_access_key_id") or not section.get("aws_secret_access_key"):
        return None
    return {
        "access_key": section["aws_access_key_id"],
        "secret_key": section["aws_secret_access_key"],
        "token": section.get("aws_session_token", ""),
    }


def write_atomically(path, text, mode=0o600):
    path = root_path(path)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    temporary = f"{path}.tmp{os.getpid()}"
    with open(os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode), "w") as handle:
        handle.write(text)
    os.replace(temporary, path)


def read_json(path):
    try:
        with open(root_path(path)) as handle:
            return json.load(handle)
    except (FileNotFoundError, ValueError):
        return None
