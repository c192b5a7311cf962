"""The intake packet: PDF, JPEG and PNG by content (<= 10 MB), sealed with AES-GCM, released
to a home's operators only after it accepts, every download audited, served as an
attachment under a sandboxing CSP; bad files refused with nothing stored."""
from __future__ import annotations

import base64
import io
import os
from datetime import date, timedelta

from sqlmodel import select

from placement import sealing
from placement.models import AuditEvent, Home, IntakeDocument, Placement
from placement.services import booking

from ..helpers import api_token, login, post
from .access_table import ACTORS, ANONYMOUS, CASEWORKER, OPERATOR, actor_user, build_world
from .arrival_world import SWEEP_DOCUMENT, three_homes

SENTINEL = b"SENTINEL-INTAKE-CONTENT-4242"
PDF = b"%PDF-1.7\n" + SENTINEL + b"\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + SENTINEL
JPEG = b"\xff\xd8\xff\xe0" + SENTINEL


def _upload(client, referral, data: bytes, name: str, kind: str = "custody_order", expires_on: str = ""):
    page = f"/caseworker/referrals/{referral.id}"
    return post(client, f"{page}/documents", {"kind": kind, "expires_on": expires_on, "file": (io.BytesIO(data), name)},
                token_from=page, content_type="multipart/form-data")


def _documents(factory):
    factory.session.expire_all()
    return factory.session.exec(select(IntakeDocument).order_by(IntakeDocument.id)).all()


def _actions(factory, action):
    factory.session.commit()
    return factory.session.exec(select(AuditEvent).where(AuditEvent.action == action)).all()


def test_pdf_png_and_jpeg_are_stored_encrypted_and_come_back_as_attachments(client, factory):
    world = three_homes(factory)
    login(client, world.caseworker)
    for data, name, kind in ((PDF, "order.pdf", "custody_order"), (PNG, "consent.png", "medical_consent"),
                             (JPEG, "icpc.jpg", "icpc_100a")):
        assert _upload(client, world.referral, data, name, kind).status_code == 302
    stored = _documents(factory)
    assert [d.content_type for d in stored] == ["application/pdf", "image/png", "image/jpeg"]
    assert all(SENTINEL not in d.ciphertext and len(d.nonce) == 12 and d.key_id == "demo" for d in stored)
    response = client.get(f"/caseworker/referrals/{world.referral.id}/documents/{stored[0].id}")
    assert response.status_code == 200 and response.data == PDF
    assert response.headers["Content-Disposition"] == f'attachment; filename="custody_order-{stored[0].id}.pdf"'
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Content-Security-Policy"].startswith("sandbox;")
    assert response.headers["Cache-Control"] == "no-store"
    assert len(_actions(factory, "document_uploaded")) == 3
    assert [e.object_id for e in _actions(factory, "document_downloaded")] == [stored[0].id]


def test_bad_files_are_refused_with_a_clear_error_and_nothing_stored(client, factory):
    world = three_homes(factory)
    login(client, world.caseworker)
    cases = {
        "plain text": (b"just some words", "notes.pdf", "none of them"),
        "renamed executable": (b"MZ\x90\x00\x03\x00\x00\x00" + os.urandom(64), "custody-order.pdf", "none of them"),
        "renamed ELF": (b"\x7fELF\x02\x01\x01" + os.urandom(64), "scan.png", "none of them"),
        "too big": (b"%PDF-1.7\n" + b"0" * (10 * 1024 * 1024), "big.pdf", "larger than 10 MB"),
        "empty": (b"", "empty.pdf", "empty"),
    }
    for name, (data, filename, message) in cases.items():
        response = _upload(client, world.referral, data, filename)
        assert response.status_code == 422, name
        assert message in response.get_data(as_text=True), name
        assert "Nothing was stored" in response.get_data(as_text=True) or name == "empty", name
    assert _documents(factory) == []
    assert _actions(factory, "document_uploaded") == []


def test_the_packet_reaches_a_home_only_after_it_accepts(app, client, factory):
    world = three_homes(factory)
    login(client, world.caseworker)
    assert _upload(client, world.referral, PDF, "order.pdf").status_code == 302
    document = _documents(factory)[0]
    with app.app_context():
        requests = [booking.request_placement(factory.session, world.caseworker, world.referral, h.id) for h in world.homes[:2]]
    operators = []
    for operator in world.operators:
        device = app.test_client()
        login(device, operator)
        operators.append(device)
    path = f"/provider/documents/{document.id}"
    assert [device.get(path).status_code for device in operators] == [404, 404, 404]
    with app.app_context():
        booking.accept(factory.session, world.operators[1], requests[1])
    assert [device.get(path).status_code for device in operators] == [404, 200, 404]
    assert operators[1].get(path).data == PDF
    assert SENTINEL.decode() in operators[1].get(path).get_data(as_text=True)
    denied = [e for e in _actions(factory, "access_denied") if e.object_type == "intake_document"]
    assert len(denied) == 5
    placement = factory.session.exec(select(Placement)).one()
    listed = operators[1].get(f"/provider/placements/{placement.id}").get_data(as_text=True)
    assert f'data-testid="document-{document.id}"' in listed


def test_document_downloads_are_invisible_to_every_other_role(app, factory):
    """The address sweep's rule for documents: every download route, every actor (and another
    organisation's operator and caseworker): only the agency's caseworker and the accepting
    home's operators get the file, each download audited; everyone else gets 403/404 or sign-in."""
    world = build_world(factory)
    users = dict(world.users)
    users["another operator"] = factory.user("operator", factory.org("provider", "MO"))
    users["another caseworker"] = factory.user("caseworker", factory.org("agency", "MO"))
    rules = [r for r in app.url_map.iter_rules() if "document_id" in r.arguments and "GET" in r.methods]
    assert {r.endpoint for r in rules} == {"caseworker.download_document", "provider.download_document", "api.download_document"}
    got = {}
    for who in (*ACTORS, "another operator", "another caseworker"):
        client = app.test_client()
        headers = {}
        if who != ANONYMOUS:
            user = users[who] if who in users else actor_user(factory, world, who)
            users[who] = user
            login(client, user)
            headers = {"Authorization": f"Bearer {api_token(factory, user)}"}
        for rule in rules:
            path = app.url_map.bind("localhost").build(rule.endpoint, {
                "referral_id": world.ids["placed_referral_id"], "document_id": world.ids["placed_document_id"]})
            response = client.get(path, headers=headers if rule.endpoint.startswith("api.") else {})
            got[(who, rule.endpoint)] = response.status_code
            if SWEEP_DOCUMENT in response.data:
                assert (who, rule.endpoint) in {(CASEWORKER, "caseworker.download_document"), (CASEWORKER, "api.download_document"),
                                                (OPERATOR, "provider.download_document"), (OPERATOR, "api.download_document")}, who
            else:
                assert response.status_code in (302, 401, 403, 404), (who, rule.endpoint, response.status_code)
    assert got[(CASEWORKER, "caseworker.download_document")] == got[(OPERATOR, "provider.download_document")] == 200
    assert got[(CASEWORKER, "api.download_document")] == got[(OPERATOR, "api.download_document")] == 200
    assert len(_actions(factory, "document_downloaded")) == 4


def test_expired_documents_are_flagged_and_the_checklist_says_what_is_missing(client, factory):
    world = three_homes(factory)
    home = factory.get(Home, world.homes[0].id)
    home.intake_documents = ["custody_order", "medical_consent"]
    factory.session.add(home)
    factory.session.commit()
    login(client, world.caseworker)
    yesterday = (date.today() - timedelta(days=2)).isoformat()
    assert _upload(client, world.referral, PDF, "order.pdf", expires_on=yesterday).status_code == 302
    page = f"/caseworker/referrals/{world.referral.id}"
    post(client, f"{page}/request", {"home_id": home.id}, token_from=page)
    html = client.get(page).get_data(as_text=True)
    assert 'data-testid="expired"' in html
    assert f'data-testid="checklist-{home.id}"' in html and "Still missing: Custody order, Medical consent" in html


def test_a_sealed_document_moved_to_another_referral_does_not_open(app, client, factory):
    world = three_homes(factory)
    other = three_homes(factory)
    login(client, world.caseworker)
    assert _upload(client, world.referral, PDF, "order.pdf").status_code == 302
    document = _documents(factory)[0]
    document.referral_id = other.referral.id
    factory.session.add(document)
    factory.session.commit()
    device = app.test_client()
    login(device, other.caseworker)
    assert device.get(f"/caseworker/referrals/{other.referral.id}/documents/{document.id}").status_code == 409
    assert len(_actions(factory, "document_unreadable")) == 1


def test_keys_rotate_an_old_key_still_opens_its_documents(app):
    old, new = os.urandom(32), os.urandom(32)
    with app.app_context():
        app.config["DOCUMENT_KEYS"] = f"old:{base64.b64encode(old).decode()}"
        sealed = sealing.seal(PDF, "intake_document:1:custody_order")
        assert sealed.key_id == "old"
        app.config["DOCUMENT_KEYS"] = f"new:{base64.urlsafe_b64encode(new).decode()},old:{base64.b64encode(old).decode()}"
        assert sealing.seal(PDF, "x").key_id == "new"
        assert sealing.open_sealed(sealed, "intake_document:1:custody_order") == PDF
        app.config["DOCUMENT_KEYS"] = f"new:{base64.urlsafe_b64encode(new).decode()}"
        try:
            sealing.open_sealed(sealed, "intake_document:1:custody_order")
            raise AssertionError("a retired key's document opened")
        except sealing.CannotOpen:
            pass
    for bad in ("nokey", "k:not base64!!", f"k:{base64.b64encode(b'short').decode()}"):
        try:
            sealing.parse_keys(bad)
            raise AssertionError(f"{bad!r} was accepted")
        except ValueError:
            pass


def test_production_without_keys_refuses_to_store(app, client, factory):
    world = three_homes(factory)
    app.config["TESTING"], app.config["SAFEBED_MODE"] = False, "production"
    try:
        with app.app_context():
            try:
                sealing.keys()
                raise AssertionError("production made up a key")
            except sealing.KeysMissing:
                pass
    finally:
        app.config["TESTING"], app.config["SAFEBED_MODE"] = True, "test"
    assert world.referral.id


def test_the_api_takes_a_document_as_base64_and_refuses_bad_ones(client, factory):
    world = three_homes(factory)
    cw = {"Authorization": f"Bearer {api_token(factory, world.caseworker)}"}
    url = f"/api/v1/referrals/{world.referral.id}/documents"
    done = client.post(url, headers=cw, json={"kind": "icpc_100a", "expires_on": "2026-12-31",
                                              "content_base64": base64.b64encode(PNG).decode()})
    assert done.status_code == 201 and done.get_json()["content_type"] == "image/png"
    listed = client.get(url, headers=cw).get_json()["documents"]
    assert [d["kind"] for d in listed] == ["icpc_100a"]
    fetched = client.get(f"/api/v1/documents/{listed[0]['id']}", headers=cw)
    assert fetched.data == PNG and fetched.headers["Content-Disposition"].startswith("attachment;")
    for body, status in (({"kind": "icpc_100a", "content_base64": base64.b64encode(b"MZ\x90\x00evil").decode()}, 422),
                         ({"kind": "icpc_100a", "content_base64": "%%% not base64 %%%"}, 422),
                         ({"kind": "passport", "content_base64": base64.b64encode(PDF).decode()}, 422),
                         ({"kind": "icpc_100a", "expires_on": "2026-02-30", "content_base64": base64.b64encode(PDF).decode()}, 422)):
        refused = client.post(url, headers=cw, json=body)
        assert refused.status_code == status, body
    assert len(_documents(factory)) == 1
    big = base64.b64encode(b"%PDF-" + b"0" * (10 * 1024 * 1024)).decode()
    too_big = client.post(url, headers=cw, json={"kind": "icpc_100a", "content_base64": big})
    assert too_big.status_code == 422 and "larger than 10 MB" in too_big.get_json()["error"]["message"]
    assert len(_documents(factory)) == 1
