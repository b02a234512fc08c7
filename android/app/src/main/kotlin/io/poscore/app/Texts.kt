package io.poscore.app

import android.content.Context
import io.poscore.ffi.PosException
import io.poscore.ffi.PrintJobState
import io.poscore.ffi.ReversalState
import io.poscore.ffi.TxnKind
import io.poscore.ffi.TxnState
import java.util.Locale

/**
 * Text for the operator: the app's own strings come from resources (values/, values-zh/);
 * the core's messages come from Rust in both languages and are shown in both, the
 * operator's language first.
 */
object Texts {
    /** Whether the UI language is Chinese. */
    fun isChinese(context: Context): Boolean =
        context.resources.configuration.locales[0].language == Locale.CHINESE.language

    /** A message the core gave in both languages: the operator's language first. */
    fun bilingual(context: Context, zh: String, en: String): String =
        if (isChinese(context)) "$zh\n$en" else "$en\n$zh"

    /** The stable code of a core error. */
    fun codeOf(e: PosException): String = parts(e).first

    /** The core error's message in both languages, with its code. */
    fun message(context: Context, e: PosException): String {
        val (code, zh, en) = parts(e)
        return bilingual(context, zh, en) + "\n[$code]"
    }

    /** The dialog title for a core error. */
    fun title(context: Context, e: PosException): String = context.getString(
        when (e) {
            is PosException.InvalidInput -> R.string.error_invalid_input
            is PosException.Refused -> R.string.error_refused
            is PosException.Storage -> R.string.error_storage
            is PosException.Closed -> R.string.error_closed
            is PosException.Device -> R.string.error_device
            is PosException.Internal -> R.string.error_internal
        },
    )

    /** Whether the core guarantees nothing was sent (the request may be corrected and sent again as a new one). */
    fun nothingSent(e: PosException): Boolean = e is PosException.InvalidInput || e is PosException.Refused

    private fun parts(e: PosException): Triple<String, String, String> = when (e) {
        is PosException.InvalidInput -> Triple(e.code, e.messageZh, e.messageEn)
        is PosException.Refused -> Triple(e.code, e.messageZh, e.messageEn)
        is PosException.Storage -> Triple(e.code, e.messageZh, e.messageEn)
        is PosException.Closed -> Triple(e.code, e.messageZh, e.messageEn)
        is PosException.Device -> Triple(e.code, e.messageZh, e.messageEn)
        is PosException.Internal -> Triple(e.code, e.messageZh, e.messageEn)
    }

    /** A transaction kind's name. */
    fun kind(context: Context, kind: TxnKind): String = context.getString(
        when (kind) {
            TxnKind.PRE_AUTH -> R.string.kind_preauth
            TxnKind.PRE_AUTH_VOID -> R.string.kind_preauth_void
            TxnKind.COMPLETION -> R.string.kind_completion
            TxnKind.COMPLETION_ADVICE -> R.string.kind_completion_advice
            TxnKind.COMPLETION_VOID -> R.string.kind_completion_void
        },
    )

    /** A transaction state's name. */
    fun state(context: Context, state: TxnState): String = context.getString(
        when (state) {
            TxnState.QUEUED -> R.string.state_queued
            TxnState.SENDING -> R.string.state_sending
            TxnState.APPROVED -> R.string.state_approved
            TxnState.DECLINED -> R.string.state_declined
            TxnState.NOT_SENT -> R.string.state_not_sent
            TxnState.UNKNOWN -> R.string.state_unknown
            TxnState.REVERSED -> R.string.state_reversed
            TxnState.VOIDED -> R.string.state_voided
            TxnState.COMPLETED -> R.string.state_completed
        },
    )

    /** A reversal state's name. */
    fun reversal(context: Context, state: ReversalState): String = context.getString(
        when (state) {
            ReversalState.ARMED -> R.string.reversal_armed
            ReversalState.PENDING -> R.string.reversal_pending
            ReversalState.DONE -> R.string.reversal_done
            ReversalState.FAILED -> R.string.reversal_failed
            ReversalState.DISARMED -> R.string.reversal_disarmed
            ReversalState.CANCELLED -> R.string.reversal_cancelled
        },
    )

    /** A slip's state. */
    fun job(context: Context, state: PrintJobState): String = context.getString(
        when (state) {
            PrintJobState.QUEUED -> R.string.job_queued
            PrintJobState.SENDING -> R.string.job_printing
            PrintJobState.PRINTED -> R.string.job_printed
            PrintJobState.HELD -> R.string.job_held
            PrintJobState.DELIVERED -> R.string.job_delivered
        },
    )

    /** A slip copy's name (`merchant`, `cardholder`, `bank`). */
    fun copy(context: Context, copy: String, reprint: Boolean): String {
        val name = when (copy) {
            "merchant" -> context.getString(R.string.copy_merchant)
            "cardholder" -> context.getString(R.string.copy_cardholder)
            "bank" -> context.getString(R.string.copy_bank)
            else -> copy
        }
        return if (reprint) "$name (${context.getString(R.string.slip_reprint)})" else name
    }
}
