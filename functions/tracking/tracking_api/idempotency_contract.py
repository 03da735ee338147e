"""What the template and the handler share about POST /track's Idempotency-Key.

The header the API model declares, the idempotency table's key and time-to-live attributes
(powertools' DynamoDB persistence layer writes them; the template declares the key and the TTL)
and how long a key is remembered. It imports nothing, so the template generator can load it
without the Lambda's dependencies.
"""

HEADER = "Idempotency-Key"
# Stripe's limit for its Idempotency-Key; enough for a UUID, a hash or a carrier's event id.
MAX_KEY_CHARS = 255
# Printable ASCII (what an HTTP header carries safely), no space at either end; the length is
# checked apart (MAX_KEY_CHARS). The handler and the OpenAPI document both use it.
KEY_PATTERN = r"^[!-~](?:[ -~]*[!-~])?$"
# A key is remembered this long after its request finished (Stripe's and the IETF draft's 24 h).
WINDOW_S = 24 * 3600
KEY_ATTRIBUTE = "id"
# Epoch seconds after which the record is stale; DynamoDB's TTL deletes it some time later.
EXPIRY_ATTRIBUTE = "expiration"
