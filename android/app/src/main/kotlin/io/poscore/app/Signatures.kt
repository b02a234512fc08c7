package io.poscore.app

import java.util.concurrent.ConcurrentHashMap

/**
 * Which transactions were signed on this device since the app started, by trace: the
 * result screen's "signed" line. The signature itself is in the journal
 * (`PosCore.saveSignature`), which prints it on the merchant copy; this is only what the
 * screen remembers. Strokes are not card data.
 */
object Signatures {
    /** A signature: strokes in pad pixels and the pad's size. */
    class Signature(
        /** The transaction's trace. */
        val trace: Int,
        /** The strokes, oldest first. */
        val strokes: List<List<SignaturePadView.Point>>,
        /** The pad's width in pixels. */
        val width: Int,
        /** The pad's height in pixels. */
        val height: Int,
    )

    private val byTrace = ConcurrentHashMap<Int, Signature>()

    /** Keeps [signature] for its trace (replacing an earlier one). */
    fun put(signature: Signature) {
        byTrace[signature.trace] = signature
    }

    /** The signature of [trace], if signed in this process. */
    fun get(trace: Int): Signature? = byTrace[trace]
}
