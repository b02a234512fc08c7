package io.poscore.sdk

import java.util.UUID

/** The core's request-id rule: 1 to 64 letters, digits or `- _ . :`. */
private val REQUEST_ID_CHARS = Regex("[A-Za-z0-9_.:-]*")

/** A random UUID is 36 characters; with the `-` separator the prefix may have 27. */
private const val MAX_PREFIX = 64 - 36 - 1

/**
 * A fresh request id (UUID-based) for callers that do not keep their own.
 *
 * The result is `"<prefix>-<random UUID>"` (just the UUID when [prefix] is empty), which
 * meets the core's rule for request ids. Keep the id with the sale and send the *same* id
 * again when retrying: one request id is one transaction, however often it is sent.
 *
 * @param prefix at most 27 letters, digits or `- _ . :`.
 * @throws IllegalArgumentException if [prefix] is longer or has other characters.
 */
fun newRequestId(prefix: String = "req"): String {
    require(prefix.length <= MAX_PREFIX && REQUEST_ID_CHARS.matches(prefix)) {
        "request id prefix must be at most $MAX_PREFIX letters, digits or - _ . : (got \"$prefix\")"
    }
    val uuid = UUID.randomUUID().toString()
    return if (prefix.isEmpty()) uuid else "$prefix-$uuid"
}
