"""vms/rfb.py without a server: the handshake the proxy offers the browser."""

import pytest

from vms.console import rfb


def test_it_offers_the_browser_rfb_3_8_without_authentication_and_keeps_its_client_init():
    handshake = rfb.BrowserHandshake()
    assert handshake.take_outgoing() == b"RFB 003.008\n"

    handshake.feed(b"RFB 003.008\n")
    assert handshake.take_outgoing() == bytes([1, rfb.SECURITY_NONE])
    handshake.feed(bytes([rfb.SECURITY_NONE]) + b"\x01")

    assert handshake.done
    assert handshake.take_outgoing() == b"\0\0\0\0"  # SecurityResult: OK
    assert handshake.rest == b"\x01"  # ClientInit, for the VM


def test_it_accepts_the_browsers_bytes_in_any_pieces():
    handshake = rfb.BrowserHandshake()
    for byte in b"RFB 003.007\n\x01":
        handshake.feed(bytes([byte]))

    assert handshake.done and handshake.rest == b""
    # RFB 3.7 sends no SecurityResult after "None".
    assert handshake.take_outgoing() == b"RFB 003.008\n" + bytes([1, rfb.SECURITY_NONE])


def test_it_refuses_a_browser_that_is_not_speaking_rfb():
    with pytest.raises(rfb.HandshakeError):
        rfb.BrowserHandshake().feed(b"GET / HTTP/1.1\r\n")


def test_the_vnc_answer_is_16_bytes_and_depends_on_the_password_and_the_challenge():
    challenge = bytes(range(16))

    answer = rfb.vnc_auth_response("secret", challenge)

    assert len(answer) == 16
    assert answer != rfb.vnc_auth_response("secreT", challenge)
    assert answer != rfb.vnc_auth_response("secret", bytes(16))
    # VNC uses only the first 8 characters.
    assert rfb.vnc_auth_response("12345678", challenge) == rfb.vnc_auth_response(
        "123456789", challenge
    )
