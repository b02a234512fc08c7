package io.poscore.app

import java.util.concurrent.ConcurrentHashMap

/**
 * Cardholder signatures, **kept in memory only**, by trace.
 *
 * The core has no signature API yet (an e-signature record in the journal, the signature on
 * the slip image, the upload to the acquirer). Until it has, the strokes wait here to be
 * handed to it; they are lost if the process dies, and the paper slip's signature line is
 * the record. Strokes are not card data.
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
