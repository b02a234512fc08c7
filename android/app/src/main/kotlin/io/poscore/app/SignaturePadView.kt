package io.poscore.app

import android.content.Context
import android.graphics.Canvas
import android.graphics.Color
import android.graphics.Paint
import android.graphics.Path
import android.os.Bundle
import android.os.Parcelable
import android.util.AttributeSet
import android.view.MotionEvent
import android.view.View
import io.poscore.ffi.Stroke
import kotlin.math.roundToInt

/**
 * A signature pad: records the cardholder's strokes (points with times, in view pixels) and
 * draws them. [strokes] hands them over, [toStrokes] in the core's form (whole pixels, for
 * `PosCore.saveSignature` with the view's width and height); the view keeps them across
 * recreation (give it an id).
 */
class SignaturePadView @JvmOverloads constructor(
    context: Context,
    attrs: AttributeSet? = null,
) : View(context, attrs) {

    /** One point of a stroke: position in view pixels, time in ms since boot. */
    data class Point(val x: Float, val y: Float, val timeMs: Long)

    private val recorded = mutableListOf<MutableList<Point>>()
    private val path = Path()
    private val ink = Paint(Paint.ANTI_ALIAS_FLAG).apply {
        color = Color.BLACK
        style = Paint.Style.STROKE
        strokeWidth = 3f * resources.displayMetrics.density
        strokeCap = Paint.Cap.ROUND
        strokeJoin = Paint.Join.ROUND
    }
    private val frame = Paint().apply {
        color = Color.GRAY
        style = Paint.Style.STROKE
        strokeWidth = resources.displayMetrics.density
    }

    /** Whether nothing was signed. */
    val isEmpty: Boolean
        get() = recorded.none { it.size > 1 }

    /** The strokes so far, oldest first (copies). */
    fun strokes(): List<List<Point>> = recorded.map { it.toList() }

    /**
     * The strokes as the core takes them: whole pad pixels, strokes of a single tap kept (a
     * dot), empty ones dropped. Points a finger dragged off the pad are clamped by the core.
     */
    fun toStrokes(): List<Stroke> = recorded.filter { it.isNotEmpty() }.map { stroke ->
        Stroke(stroke.map { io.poscore.ffi.Point(it.x.roundToInt(), it.y.roundToInt()) })
    }

    /** Wipes the pad. */
    fun clear() {
        recorded.clear()
        path.reset()
        invalidate()
    }

    override fun onTouchEvent(event: MotionEvent): Boolean {
        if (!isEnabled) return false
        when (event.actionMasked) {
            MotionEvent.ACTION_DOWN -> {
                parent?.requestDisallowInterceptTouchEvent(true)
                recorded.add(mutableListOf())
                record(event)
            }
            MotionEvent.ACTION_MOVE -> record(event)
            MotionEvent.ACTION_UP -> {
                record(event)
                performClick()
            }
            MotionEvent.ACTION_CANCEL -> Unit
            else -> return false
        }
        invalidate()
        return true
    }

    override fun performClick(): Boolean = super.performClick()

    private fun record(event: MotionEvent) {
        val stroke = recorded.lastOrNull() ?: return
        for (i in 0 until event.historySize) {
            add(stroke, Point(event.getHistoricalX(i), event.getHistoricalY(i), event.getHistoricalEventTime(i)))
        }
        add(stroke, Point(event.x, event.y, event.eventTime))
    }

    private fun add(stroke: MutableList<Point>, point: Point) {
        if (stroke.isEmpty()) path.moveTo(point.x, point.y) else path.lineTo(point.x, point.y)
        stroke.add(point)
    }

    override fun onDraw(canvas: Canvas) {
        super.onDraw(canvas)
        canvas.drawRect(0f, 0f, width.toFloat() - 1, height.toFloat() - 1, frame)
        canvas.drawPath(path, ink)
    }

    override fun onSaveInstanceState(): Parcelable = Bundle().apply {
        putParcelable(KEY_SUPER, super.onSaveInstanceState())
        putInt(KEY_COUNT, recorded.size)
        recorded.forEachIndexed { i, stroke ->
            putFloatArray("$KEY_XY$i", FloatArray(stroke.size * 2) { j -> if (j % 2 == 0) stroke[j / 2].x else stroke[j / 2].y })
            putLongArray("$KEY_T$i", LongArray(stroke.size) { j -> stroke[j].timeMs })
        }
    }

    @Suppress("DEPRECATION") // getParcelable(String): the typed overload needs API 33.
    override fun onRestoreInstanceState(state: Parcelable?) {
        if (state !is Bundle) {
            super.onRestoreInstanceState(state)
            return
        }
        super.onRestoreInstanceState(state.getParcelable(KEY_SUPER))
        clear()
        for (i in 0 until state.getInt(KEY_COUNT)) {
            val xy = state.getFloatArray("$KEY_XY$i") ?: continue
            val times = state.getLongArray("$KEY_T$i") ?: continue
            val stroke = mutableListOf<Point>().also { recorded.add(it) }
            for (j in times.indices) add(stroke, Point(xy[2 * j], xy[2 * j + 1], times[j]))
        }
        invalidate()
    }

    private companion object {
        const val KEY_SUPER = "super"
        const val KEY_COUNT = "count"
        const val KEY_XY = "xy"
        const val KEY_T = "t"
    }
}
