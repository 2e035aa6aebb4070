"""Two-factor login with time-based one-time codes (RFC 6238) and single-use recovery codes.

A user turns TOTP on in two steps: `setup` stores a pending secret, `confirm` proves the
authenticator app holds it and turns it on. A code is accepted once: the device remembers
the time step of the last accepted code, and a conditional UPDATE refuses that step (or an
older one) a second time, even when two requests race with the same code.
"""

import hmac
import io
import secrets
import time
from dataclasses import dataclass

import pyotp
import segno
from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from accounts import audit, ratelimit
from accounts.current_password import require_current_password
from accounts.digests import digest
from accounts.exceptions import OtpInvalid, OtpRequired, ValidationFailed
from accounts.models import RecoveryCode, TotpDevice

STEP_SECONDS = 30
# Codes from the step before or after the current one still count: phone clocks drift,
# and people type codes in the last seconds of their window.
ALLOWED_DRIFT_STEPS = 1
TOTP_CODE_LENGTH = 6

RECOVERY_CODE_COUNT = 10
RECOVERY_CODE_ALPHABET = "abcdefghijklmnopqrstuvwxyz234567"  # 5 bits a character
RECOVERY_CODE_LENGTH = 16  # 80 bits: too many to guess, even from a stolen digest
RECOVERY_CODE_GROUP = 4

ALREADY_ON = "Two-factor login is already on; disable it first."
NOT_ON = "Two-factor login is not on."
CODE_REFUSED = "The code is not valid or was already used."


@dataclass(frozen=True)
class TotpSetup:
    secret: str
    provisioning_uri: str
    qr_code_svg: str


def setup(user):
    """Store a fresh pending secret (replacing an earlier unconfirmed one) and describe it."""
    secret = pyotp.random_base32()
    pending = TotpDevice.objects.filter(user=user, confirmed_at__isnull=True).update(secret=secret, last_used_step=None)
    if not pending:
        try:
            with transaction.atomic():
                TotpDevice.objects.create(user=user, secret=secret)
        except IntegrityError:
            # The user's one device exists and is not pending: TOTP is on.
            raise ValidationFailed({}, ALREADY_ON) from None
    uri = pyotp.TOTP(secret, interval=STEP_SECONDS).provisioning_uri(
        name=user.get_username(), issuer_name=settings.TOTP_ISSUER
    )
    return TotpSetup(secret=secret, provisioning_uri=uri, qr_code_svg=_qr_code_svg(uri))


def confirm(user, code, password, meta):
    """Turn TOTP on with a current code from the app; returns the recovery codes, shown once.

    It needs the viewer's password too: with an access token alone, a thief could otherwise put
    a secret of their own on the account and lock the owner out. The password is checked before
    the code, so a refused attempt leaves the code unused. While TOTP is on nothing is replaced:
    that takes disabling it first, with the password and a code of the current device.
    """
    ratelimit.check_viewer_password(user, meta, ratelimit.TOTP_IP_SCOPE)
    device = TotpDevice.objects.filter(user=user).first()
    if device is None:
        raise ValidationFailed({"code": ["Start with setupTotp."]})
    if device.is_confirmed:
        raise ValidationFailed({"code": [ALREADY_ON]})
    require_current_password(user, password)
    use = _totp_code_use(device, _normalized(code))
    if use is None or not use.consume():
        _record_failure(user, meta)
        raise ValidationFailed({"code": [CODE_REFUSED]})
    recovery_codes = [_new_recovery_code() for _ in range(RECOVERY_CODE_COUNT)]
    with transaction.atomic():
        if not TotpDevice.objects.filter(pk=device.pk, confirmed_at__isnull=True).update(confirmed_at=timezone.now()):
            raise ValidationFailed({"code": [ALREADY_ON]})
        RecoveryCode.objects.bulk_create(
            RecoveryCode(device=device, code_hash=digest(_normalized(recovery_code)))
            for recovery_code in recovery_codes
        )
    audit.record(audit.EventType.TOTP_ENABLED, meta, user=user)
    return recovery_codes


def check_second_factor(user, otp, meta):
    """At login, after the password was accepted: nothing to do, or a code is needed and used up."""
    device = TotpDevice.objects.filter(user=user, confirmed_at__isnull=False).first()
    if device is None:
        return
    if not otp:
        raise OtpRequired()
    if not _consume_any_code(device, otp):
        _record_failure(user, meta)
        raise OtpInvalid()


def disable(user, password, code, meta):
    """Turn TOTP off; needs a current code or an unused recovery code, and the password.

    Whether TOTP is on is no secret to the viewer (User.totpEnabled tells), so that is answered
    first. The code is checked before the password, so only someone holding the second factor
    ever learns whether a password was right, and it is used up only once the password was too.
    """
    ratelimit.check_viewer_password(user, meta, ratelimit.TOTP_IP_SCOPE)
    device = TotpDevice.objects.filter(user=user, confirmed_at__isnull=False).first()
    if device is None:
        raise ValidationFailed({}, NOT_ON)
    use = _code_use(device, _normalized(code))
    if use is None or not use.is_open():
        _record_failure(user, meta)
        raise ValidationFailed({"code": [CODE_REFUSED]})
    require_current_password(user, password)
    if not use.consume():  # a concurrent request used the same code first
        _record_failure(user, meta)
        raise ValidationFailed({"code": [CODE_REFUSED]})
    remove(device, meta)
    return True


def remove(device, meta):
    """Turn two-factor login off for the device's user (also how staff reset a lost device)."""
    device.delete()
    audit.record(audit.EventType.TOTP_DISABLED, meta, user=device.user)


@transaction.atomic
def reencrypt_secrets():
    """Store every secret again: the field encrypts it with the first key of FIELD_ENCRYPTION_KEYS
    (accounts/crypto.py), whichever key it was encrypted with. Returns how many."""
    devices = list(TotpDevice.objects.select_for_update().only("pk", "secret"))
    TotpDevice.objects.bulk_update(devices, ["secret"], batch_size=500)
    return len(devices)


def _record_failure(user, meta):
    audit.record(audit.EventType.OTP_FAILURE, meta, user=user, success=False)


def _normalized(code):
    """Codes as people type them: spaces and dashes ignored, any letter case."""
    return "".join((code or "").split()).replace("-", "").lower()


@dataclass(frozen=True)
class _CodeUse:
    """A code that matched, as the conditional UPDATE that uses it up: of two requests that
    present the same code, only one can."""

    unused: QuerySet
    changes: dict

    def is_open(self):
        return self.unused.exists()

    def consume(self):
        return bool(self.unused.update(**self.changes))


def _consume_any_code(device, code):
    use = _code_use(device, _normalized(code))
    return use is not None and use.consume()


def _code_use(device, code):
    """The use of a normalized current code or recovery code of `device`; None if it is neither."""
    if len(code) == TOTP_CODE_LENGTH:
        return _totp_code_use(device, code)
    return _recovery_code_use(device, code)


def _totp_code_use(device, code):
    step = _matching_step(device.secret, code)
    if step is None:
        return None
    newer_than_last_use = Q(last_used_step__isnull=True) | Q(last_used_step__lt=step)
    return _CodeUse(TotpDevice.objects.filter(newer_than_last_use, pk=device.pk), {"last_used_step": step})


def _matching_step(secret, code):
    """The time step within the allowed drift whose code is `code`, or None."""
    if not (code.isascii() and code.isdigit()):
        return None
    totp = pyotp.TOTP(secret, digits=TOTP_CODE_LENGTH, interval=STEP_SECONDS)
    current = int(time.time()) // STEP_SECONDS
    for step in range(current - ALLOWED_DRIFT_STEPS, current + ALLOWED_DRIFT_STEPS + 1):
        if hmac.compare_digest(totp.generate_otp(step), code):
            return step
    return None


def _recovery_code_use(device, code):
    if len(code) != RECOVERY_CODE_LENGTH:
        return None
    unused = RecoveryCode.objects.filter(device=device, code_hash=digest(code), used_at__isnull=True)
    return _CodeUse(unused, {"used_at": timezone.now()})


def _new_recovery_code():
    raw = "".join(secrets.choice(RECOVERY_CODE_ALPHABET) for _ in range(RECOVERY_CODE_LENGTH))
    return "-".join(raw[start : start + RECOVERY_CODE_GROUP] for start in range(0, len(raw), RECOVERY_CODE_GROUP))


def _qr_code_svg(uri):
    buffer = io.BytesIO()
    segno.make(uri, error="m").save(
        buffer, kind="svg", xmldecl=False, nl=False, scale=4, title="Scan with an authenticator app"
    )
    return buffer.getvalue().decode()
