"""GET /shipments' domain: the shard-position token, the newest-first merge, and the index keys
the API queries agreeing with what the stream function writes and the template declares."""

from __future__ import annotations

import base64
import sys

import pytest

from tracking_api import listing, listing_token
from tracking_api.errors import InvalidRequest
from tracking_api.listing import ShardAnswer
from tracking_api.response_size import in_response

from tracking_templates import build_template
from tracking_templates.names import STATE_INDEX, Resources
from tracking_templates.settings import TRACKING_STATUSES, settings_for

from .conftest import REPO_ROOT

NOTIFIER_DIR = str(REPO_ROOT / "functions" / "notifier")
if NOTIFIER_DIR not in sys.path:
    sys.path.insert(0, NOTIFIER_DIR)
from status_notifier import sharding  # noqa: E402

TOP, EXHAUSTED = listing_token.TOP, listing_token.EXHAUSTED
INVALID = "last_key is not a valid page token"


# --- the token ------------------------------------------------------------------------------


def test_token_round_trips_every_position_kind() -> None:
    # GIVEN positions of each kind: from the top, below a rank, exhausted
    positions = (TOP, sharding.rank(1_700_000_000_000, "PKG-1"), EXHAUSTED)
    # WHEN encoded and decoded for the same status and shard count / THEN they come back exactly
    token = listing_token.encode("in_transit", positions)
    assert listing_token.decode(token, "in_transit", 3) == positions
    assert listing_token.first_page(3) == (TOP, TOP, TOP)


def test_token_layout_is_compact_and_exact() -> None:
    # THEN version, shard count, status, then 14 bytes per shard, base64url without padding
    token = listing_token.encode("failed", (TOP, 1))
    raw = bytes((1, 2, 6)) + b"failed" + b"\xff" * 14 + (1).to_bytes(14, "big")
    assert token == base64.urlsafe_b64encode(raw).rstrip(b"=").decode()
    assert "=" not in token
    # AND prod's 16 shards fit in about 320 characters
    assert len(listing_token.encode("in_transit", (TOP,) * 16)) == 316


def test_token_for_another_status_is_refused_with_its_reason() -> None:
    token = listing_token.encode("delivered", (TOP, TOP))
    with pytest.raises(InvalidRequest, match="^last_key belongs to another status$"):
        listing_token.decode(token, "failed", 2)


def _valid() -> str:
    return listing_token.encode("pending", (TOP, 5))


# Built inside the test, not while collecting: mutmut mutates only what runs inside a test, so a
# token made by `encode` in a parametrize argument would always be made by the original.
REFUSED_TOKENS = {
    "empty": lambda: "",
    "not base64url": lambda: "!!!!",
    "padding is never written": lambda: _valid() + "=",
    "one character too many": lambda: _valid() + "A",
    "one too few": lambda: _valid()[:-1],
    "the spare bits of the last character set": lambda: _valid()[:-1] + chr(ord(_valid()[-1]) + 1),
    "one character past a multiple of 4, which base64 refuses": lambda: "AAAAA",
    "not ASCII": lambda: _valid()[:-1] + "é",
    "standard base64's / for _": lambda: _valid().replace("_", "/"),
    "a character base64 skips": lambda: _valid()[:8] + "." + _valid()[8:],
    "minted for three shards": lambda: listing_token.encode("pending", (TOP, 5, 6)),
    "minted for one": lambda: listing_token.encode("pending", (TOP,)),
    "version 2": lambda: base64.urlsafe_b64encode(bytes((2, 2, 7)) + b"pending" + bytes(28)).rstrip(b"=").decode(),
    "not UTF-8": lambda: base64.urlsafe_b64encode(bytes((1, 2, 2)) + b"\xff\xfe" + bytes(28)).rstrip(b"=").decode(),
    "too short for a header": lambda: base64.urlsafe_b64encode(b"\x01\x02").rstrip(b"=").decode(),
    "a GET /status token": lambda: "WyJUUkstMSIsMTcwMDAwMDAwMDAwMF0",
    "too long": lambda: "A" * (listing_token.MAX_TOKEN_CHARS + 1),
}


@pytest.mark.parametrize("make_token", REFUSED_TOKENS.values(), ids=REFUSED_TOKENS.keys())
def test_anything_encode_did_not_write_is_refused(make_token) -> None:
    with pytest.raises(InvalidRequest, match=f"^{INVALID}$"):
        listing_token.decode(make_token(), "pending", 2)


@pytest.mark.parametrize("token", [None, 5, b"AQICAAAA", ["AQICAAAA"]], ids=["None", "int", "bytes", "list"])
def test_a_token_that_is_not_a_string_is_refused(token) -> None:
    with pytest.raises(InvalidRequest, match=f"^{INVALID}$"):
        listing_token.decode(token, "pending", 2)


LIMITS = "^a token holds 1..255 shards and a status of at most 255 bytes$"


def test_encode_refuses_what_a_token_cannot_hold() -> None:
    with pytest.raises(ValueError, match=LIMITS):
        listing_token.encode("pending", ())
    with pytest.raises(ValueError, match=LIMITS):
        listing_token.encode("pending", (TOP,) * 256)
    with pytest.raises(ValueError, match=LIMITS):
        listing_token.encode("p" * 256, (TOP,))
    assert listing_token.decode(listing_token.encode("p" * 255, (TOP,) * 255), "p" * 255, 255) == (TOP,) * 255


def test_a_single_shard_listing_has_tokens() -> None:
    # GIVEN dev's one shard  THEN its positions make a token and come back from it
    token = listing_token.encode("pending", (5,))
    assert listing_token.decode(token, "pending", 1) == (5,)


def test_a_token_ending_in_x_keeps_it() -> None:
    # GIVEN a token whose bytes are a multiple of 3 (no padding) and whose last 6 bits are 23 ("X")
    raw = bytes((1, 1, 1)) + b"a" + (23).to_bytes(14, "big")
    # THEN only padding is stripped: the X is the token's, and it decodes
    token = listing_token.encode("a", (23,))
    assert token == base64.urlsafe_b64encode(raw).decode() and token.endswith("X")
    assert listing_token.decode(token, "a", 1) == (23,)


# --- the merge ------------------------------------------------------------------------------


def entry(tracking_id: str, timestamp: int, status: str = "in_transit") -> dict:
    return {
        "tracking_id": tracking_id,
        "status": status,
        "timestamp": timestamp,
        "location": {"lat": 1, "lng": 2},
        "listing_shard": f"{status}#0",
        "listing_rank": sharding.rank(timestamp, tracking_id),
    }


def ids(page: listing.ListingPage) -> list[str]:
    return [item["tracking_id"] for item in page.items]


def test_merge_is_newest_first_across_shards_and_resumes_below_what_it_listed() -> None:
    # GIVEN two shards' answers (each asked for limit + 1 = 3)
    a = [entry("A3", 30), entry("A2", 20), entry("A1", 10)]
    b = [entry("B2", 25), entry("B1", 5)]
    answers = {0: ShardAnswer(a, more=True), 1: ShardAnswer(b, more=False)}

    # WHEN a page of 2 is merged
    page = listing.merge((TOP, TOP), answers, limit=2)

    # THEN it holds the two newest, without the index's keys, and each shard resumes below its last listed
    assert ids(page) == ["A3", "B2"]
    assert page.items[0] == {"tracking_id": "A3", "status": "in_transit", "timestamp": 30, "location": {"lat": 1, "lng": 2}}
    assert page.positions == (a[0]["listing_rank"], b[0]["listing_rank"])


def test_a_shard_whose_every_item_was_listed_is_exhausted() -> None:
    a = [entry("A1", 10)]
    b = [entry("B2", 25), entry("B1", 5)]
    page = listing.merge((TOP, 77), {0: ShardAnswer(a, more=False), 1: ShardAnswer(b, more=False)}, limit=2)
    # THEN shard 0 gave its only item: exhausted; shard 1 still has B1
    assert ids(page) == ["B2", "A1"]
    assert page.positions == (EXHAUSTED, b[0]["listing_rank"])


def test_a_shard_that_gave_nothing_keeps_its_position() -> None:
    a = [entry("A2", 40), entry("A1", 30)]
    b = [entry("B1", 5)]
    page = listing.merge((TOP, 99), {0: ShardAnswer(a, more=False), 1: ShardAnswer(b, more=False)}, limit=1)
    assert ids(page) == ["A2"]
    assert page.positions == (a[0]["listing_rank"], 99)


def test_the_last_page_has_no_positions_and_unqueried_shards_stay_exhausted() -> None:
    page = listing.merge((EXHAUSTED, 50), {1: ShardAnswer([entry("B1", 5)], more=False)}, limit=10)
    assert ids(page) == ["B1"] and page.positions is None
    assert listing.merge((TOP, TOP), {0: ShardAnswer([], False), 1: ShardAnswer([], False)}, 10).positions is None


def test_a_shard_cut_short_by_the_1mb_cap_holds_back_older_items_of_other_shards() -> None:
    # GIVEN shard 0 stopped early (1 MB) after A2, so items below A2 may still be unread there
    a = [entry("A3", 30), entry("A2", 20)]
    b = [entry("B2", 25), entry("B1", 15), entry("B0", 1)]
    page = listing.merge((TOP, TOP), {0: ShardAnswer(a, more=True), 1: ShardAnswer(b, more=False)}, limit=10)
    # THEN nothing older than A2 is listed yet; the next page resumes both shards where they stopped
    assert ids(page) == ["A3", "B2", "A2"]
    assert page.positions == (a[1]["listing_rank"], b[0]["listing_rank"])


def test_the_cutoff_is_the_last_item_of_the_cut_shard_that_stopped_highest() -> None:
    # GIVEN two shards cut short after three items each, the first stopping higher (at A1, 12)
    a = [entry("A3", 30), entry("A2", 20), entry("A1", 12)]
    b = [entry("B3", 28), entry("B2", 14), entry("B1", 6)]
    c = [entry("C2", 13), entry("C1", 2)]
    answers = {0: ShardAnswer(a, more=True), 1: ShardAnswer(b, more=True), 2: ShardAnswer(c, more=False)}
    # WHEN merged with room for everything
    page = listing.merge((TOP, TOP, TOP), answers, limit=10)
    # THEN everything down to A1 is listed and nothing below it (B1, C1 wait: shard 0 may hide more)
    assert ids(page) == ["A3", "B3", "A2", "B2", "C2", "A1"]
    assert page.positions == (a[2]["listing_rank"], b[1]["listing_rank"], c[0]["listing_rank"])


def test_same_millisecond_updates_are_ordered_by_rank_not_lost() -> None:
    same = [entry(f"S{n}", 1000) for n in range(4)]
    ranked = sorted(same, key=lambda item: item["listing_rank"], reverse=True)
    page = listing.merge((TOP,), {0: ShardAnswer(ranked, more=False)}, limit=3)
    assert ids(page) == [item["tracking_id"] for item in ranked[:3]]
    assert page.positions == (ranked[2]["listing_rank"],)


# --- one definition of the keys ---------------------------------------------------------------


def test_the_api_queries_the_keys_the_stream_function_writes_and_the_template_declares() -> None:
    # GIVEN the template's listing index
    table = build_template(settings_for("prod")).to_dict()["Resources"][Resources.STATE_TABLE]["Properties"]
    (index,) = table["GlobalSecondaryIndexes"]
    # THEN its key attributes are the ones both functions use
    assert index["IndexName"] == STATE_INDEX
    assert [k["AttributeName"] for k in index["KeySchema"]] == [listing.SHARD_ATTRIBUTE, listing.RANK_ATTRIBUTE]
    assert (listing.SHARD_ATTRIBUTE, listing.RANK_ATTRIBUTE) == (sharding.SHARD_ATTRIBUTE, sharding.RANK_ATTRIBUTE)
    # AND every shard key the API queries is one the projection writes, for every status and N
    for status in TRACKING_STATUSES:
        for shard in range(255):
            assert listing.shard_key(status, shard) == sharding.shard_key(status, shard)
    # AND the entries show what the projection copies
    assert listing.ENTRY_FIELDS == sharding_projected()


def sharding_projected() -> tuple[str, ...]:
    from status_notifier.projection import PROJECTED

    return PROJECTED


def test_a_page_stops_before_its_byte_budget_and_the_next_resumes_right_after() -> None:
    # GIVEN two shards' answers, and a budget that holds exactly two entries
    a = [entry("A3", 30), entry("A2", 20), entry("A1", 10)]
    b = [entry("B2", 25), entry("B1", 5)]
    answers = {0: ShardAnswer(a, more=False), 1: ShardAnswer(b, more=False)}
    first_two = listing.merge((TOP, TOP), answers, limit=5).items[:2]
    budget = sum(in_response(item) for item in first_two)
    # WHEN a page of up to 5 is merged within that budget
    page = listing.merge((TOP, TOP), answers, limit=5, budget=budget)
    # THEN it holds the two newest only, and each shard resumes below what it listed (none exhausted)
    assert ids(page) == ["A3", "B2"]
    assert page.positions == (a[0]["listing_rank"], b[0]["listing_rank"])
    # AND one byte less holds one entry
    assert ids(listing.merge((TOP, TOP), answers, limit=5, budget=budget - 1)) == ["A3"]
