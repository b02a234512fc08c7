//! CJK-aware line layout in character columns.
//!
//! A receipt line holds a fixed number of Font A columns (32 on 58 mm, 48 on 80 mm). A CJK
//! or fullwidth character takes two columns, ASCII one, a combining mark none
//! ([`char_width`]). [`wrap`] breaks text into lines that never exceed the columns and
//! never split a character: it prefers the spaces between Latin words, may break between
//! any two CJK characters (but not before closing punctuation such as `，` or `。`, nor after
//! an opening bracket, when it can avoid it), and hard-breaks a Latin word longer than a
//! line. [`row`] lays out a label on the left and a value on the right.
//!
//! The `*_with` forms take the width of each character from the caller: the encoder uses
//! them because what a printer does with a character depends on its encoding (in Chinese
//! mode every non-ASCII character prints as a 24-dot glyph, two columns; in a single-byte
//! code page everything is one column; double-width text takes twice as many).

use std::ops::Range;

use crate::document::{Align, TextStyle};

/// Columns a character takes in Font A: 0 for control characters and combining or
/// zero-width marks, 2 for CJK ideographs (Unified, Extension A and beyond, compatibility),
/// CJK symbols and punctuation (U+3000–303F), kana, Hangul (syllables and leading jamo
/// U+1100–115F), fullwidth forms (U+FF00–FF60, U+FFE0–FFE6) and wide emoji; 1 otherwise.
pub fn char_width(c: char) -> usize {
    let u = c as u32;
    if u < 0x20 || (0x7F..0xA0).contains(&u) {
        return 0;
    }
    if u < 0x300 {
        return 1;
    }
    if is_zero_width(u) {
        0
    } else if is_wide(u) {
        2
    } else {
        1
    }
}

fn is_zero_width(u: u32) -> bool {
    matches!(
        u,
        0x0300..=0x036F
            | 0x0483..=0x0489
            | 0x0591..=0x05BD
            | 0x0610..=0x061A
            | 0x064B..=0x065F
            | 0x1160..=0x11FF
            | 0x1AB0..=0x1AFF
            | 0x1DC0..=0x1DFF
            | 0x200B..=0x200F
            | 0x2028..=0x202E
            | 0x2060..=0x2064
            | 0x20D0..=0x20FF
            | 0x302A..=0x302D
            | 0x3099..=0x309A
            | 0xFE00..=0xFE0F
            | 0xFE20..=0xFE2F
            | 0xFEFF
            | 0xE0000..=0xE01EF
    )
}

fn is_wide(u: u32) -> bool {
    matches!(
        u,
        0x1100..=0x115F
            | 0x231A..=0x231B
            | 0x2329..=0x232A
            | 0x2E80..=0x303F
            | 0x3041..=0x33FF
            | 0x3400..=0x4DBF
            | 0x4E00..=0x9FFF
            | 0xA000..=0xA4CF
            | 0xA960..=0xA97F
            | 0xAC00..=0xD7A3
            | 0xF900..=0xFAFF
            | 0xFE10..=0xFE19
            | 0xFE30..=0xFE6F
            | 0xFF00..=0xFF60
            | 0xFFE0..=0xFFE6
            | 0x1F300..=0x1F64F
            | 0x1F900..=0x1F9FF
            | 0x20000..=0x2FFFD
            | 0x30000..=0x3FFFD
    )
}

/// Columns a string takes in Font A: the sum of [`char_width`].
pub fn display_width(s: &str) -> usize {
    if s.is_ascii() {
        return s.bytes().filter(|b| !b.is_ascii_control()).count();
    }
    s.chars().map(char_width).sum()
}

/// Columns a line holds in a style: double-width text halves them.
pub fn columns_for(columns: usize, style: TextStyle) -> usize {
    if style.double_width {
        columns / 2
    } else {
        columns
    }
}

/// Closing punctuation a line should not start with.
fn no_line_start(c: char) -> bool {
    matches!(
        c,
        '，' | '。'
            | '、'
            | '：'
            | '；'
            | '！'
            | '？'
            | '）'
            | '」'
            | '』'
            | '】'
            | '》'
            | '〉'
            | '〕'
            | '］'
            | '｝'
            | '．'
            | '％'
            | '〃'
            | '々'
            | 'ー'
            | 'ゝ'
            | 'ゞ'
            | 'ヽ'
            | 'ヾ'
    )
}

/// Opening brackets a line should not end with.
fn no_line_end(c: char) -> bool {
    matches!(
        c,
        '（' | '「' | '『' | '【' | '《' | '〈' | '〔' | '［' | '｛'
    )
}

/// Wraps `text` into lines of at most `columns` columns ([`char_width`]); see
/// [`wrap_ranges_with`] for the rules.
pub fn wrap(text: &str, columns: usize) -> Vec<String> {
    let mut ranges = Vec::new();
    wrap_ranges_with(text, columns, |_, c| char_width(c), &mut ranges);
    ranges.into_iter().map(|r| text[r].to_string()).collect()
}

/// Wraps `text` into lines of at most `columns` columns, appending each line to `lines` as a
/// byte range of `text` (no allocation per line). `width_of(byte_offset, char)` gives each
/// character's columns; it is called once per character, in order.
///
/// - A `\n` ends a line (a final `\n` does not add an empty line; `""` is one empty line).
/// - Lines break preferably at spaces (a run of spaces at a break is dropped, and so are
///   spaces at the start of a wrapped line; indentation of the first line is kept), or
///   between two CJK characters, or between a CJK character and a Latin one.
/// - A word wider than a line is hard-broken at the last character that fits.
/// - Characters are never split, and a zero-width mark stays with the character before it.
/// - A line is never wider than `columns`, except that a single character wider than the
///   whole line (a CJK character with `columns` < 2) is put on a line of its own.
pub fn wrap_ranges_with(
    text: &str,
    columns: usize,
    mut width_of: impl FnMut(usize, char) -> usize,
    lines: &mut Vec<Range<usize>>,
) {
    /// Where the current line may end, and where the next would start.
    #[derive(Clone, Copy)]
    struct Break {
        /// End of the content before the break.
        end: usize,
        /// Start of the next line.
        resume: usize,
        /// Line width up to `resume`.
        width_resume: usize,
    }

    let mut line_start = 0;
    let mut content_end = 0;
    let mut width = 0;
    let mut brk: Option<Break> = None;
    let mut continuation = false;
    let mut prev_space = false;
    let mut prev: Option<char> = None;
    let mut ended_with_newline = false;

    for (pos, ch) in text.char_indices() {
        let len = ch.len_utf8();
        ended_with_newline = false;
        if ch == '\n' {
            lines.push(line_start..content_end);
            line_start = pos + len;
            content_end = line_start;
            width = 0;
            brk = None;
            continuation = false;
            prev_space = false;
            prev = None;
            ended_with_newline = true;
            continue;
        }
        let w = width_of(pos, ch);
        if ch == ' ' {
            if continuation && content_end == line_start {
                line_start = pos + len;
                content_end = line_start;
                continue;
            }
            match brk.as_mut() {
                Some(b) if prev_space => {
                    b.resume = pos + len;
                    b.width_resume = width + w;
                }
                _ => {
                    brk = Some(Break {
                        end: content_end,
                        resume: pos + len,
                        width_resume: width + w,
                    })
                }
            }
            width += w;
            prev_space = true;
            prev = Some(ch);
            continue;
        }
        if w > 0 {
            let cjk_break = prev.is_some_and(|p| {
                pos > line_start
                    && !prev_space
                    && (char_width(ch) == 2 || char_width(p) == 2)
                    && !no_line_start(ch)
                    && !no_line_end(p)
            });
            if cjk_break {
                brk = Some(Break {
                    end: pos,
                    resume: pos,
                    width_resume: width,
                });
            }
            if width + w > columns {
                if let Some(b) = brk.take() {
                    if b.end > line_start {
                        lines.push(line_start..b.end);
                    }
                    line_start = b.resume;
                    content_end = content_end.max(line_start);
                    width -= b.width_resume;
                    continuation = true;
                }
                if width > 0 && width + w > columns {
                    lines.push(line_start..content_end);
                    line_start = pos;
                    width = 0;
                    continuation = true;
                }
            }
            prev = Some(ch);
        }
        width += w;
        content_end = pos + len;
        prev_space = false;
    }
    if !ended_with_newline || text.is_empty() {
        lines.push(line_start..content_end);
    }
}

/// Spaces to put left and right of a line `width` columns wide to place it in `target`
/// columns (none when it does not fit).
pub fn padding(width: usize, target: usize, align: Align) -> (usize, usize) {
    let free = target.saturating_sub(width);
    match align {
        Align::Left => (0, free),
        Align::Center => (free / 2, free - free / 2),
        Align::Right => (free, 0),
    }
}

/// `line` padded with spaces to `target` columns ([`display_width`]), placed by `align`.
/// A line already wider is returned as is.
pub fn pad(line: &str, target: usize, align: Align) -> String {
    let (left, right) = padding(display_width(line), target, align);
    let mut out = String::with_capacity(line.len() + left + right);
    out.extend(std::iter::repeat_n(' ', left));
    out.push_str(line);
    out.extend(std::iter::repeat_n(' ', right));
    out
}

/// One printed line of a label/value row: `left`, then `pad` spaces, then `right`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RowLine<'a> {
    /// Text at the left (part of the label, or empty).
    pub left: &'a str,
    /// Spaces between.
    pub pad: usize,
    /// Text at the right (part of the value, or empty).
    pub right: &'a str,
}

/// Lays out a label/value row in `columns` ([`char_width`]) as strings; see [`row_with`].
pub fn row(label: &str, value: &str, columns: usize) -> Vec<String> {
    row_with(label, value, columns, char_width)
        .into_iter()
        .map(|line| {
            let mut s = String::with_capacity(line.left.len() + line.pad + line.right.len());
            s.push_str(line.left);
            s.extend(std::iter::repeat_n(' ', line.pad));
            s.push_str(line.right);
            s
        })
        .collect()
}

/// Lays out a label/value row in `columns`, each character `width_of` columns wide.
///
/// When the label, at least one space and the value fit on one line, that is one line with
/// the value right-aligned (the line is exactly `columns` wide). Otherwise the label is
/// wrapped on its own line(s) and the value follows on its own right-aligned line(s). An
/// empty value gives just the label; a label with a line break always splits.
pub fn row_with<'a>(
    label: &'a str,
    value: &'a str,
    columns: usize,
    width_of: impl Fn(char) -> usize,
) -> Vec<RowLine<'a>> {
    let width = |s: &str| s.chars().map(&width_of).sum::<usize>();
    let mut lines = Vec::new();
    let single = !label.contains('\n') && !value.contains('\n');
    if single {
        let (lw, vw) = (width(label), width(value));
        if value.is_empty() && lw <= columns {
            lines.push(RowLine {
                left: label,
                pad: 0,
                right: "",
            });
            return lines;
        }
        if !value.is_empty() && lw + 1 + vw <= columns {
            lines.push(RowLine {
                left: label,
                pad: columns - lw - vw,
                right: value,
            });
            return lines;
        }
    }
    let mut ranges = Vec::new();
    if !label.is_empty() {
        wrap_ranges_with(label, columns, |_, c| width_of(c), &mut ranges);
        lines.extend(ranges.drain(..).map(|r| RowLine {
            left: &label[r],
            pad: 0,
            right: "",
        }));
    }
    if !value.is_empty() {
        wrap_ranges_with(value, columns, |_, c| width_of(c), &mut ranges);
        lines.extend(ranges.drain(..).map(|r| {
            let right = &value[r];
            RowLine {
                left: "",
                pad: columns.saturating_sub(width(right)),
                right,
            }
        }));
    }
    if lines.is_empty() {
        lines.push(RowLine {
            left: "",
            pad: 0,
            right: "",
        });
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn widths() {
        assert_eq!(display_width("abc"), 3);
        assert_eq!(display_width("中文"), 4);
        assert_eq!(display_width("ＡＢ"), 4);
        assert_eq!(display_width("。、"), 4);
        assert_eq!(display_width("ｶﾅ"), 2); // halfwidth katakana
        assert_eq!(display_width("カナ"), 4);
        assert_eq!(display_width("한국"), 4);
        assert_eq!(display_width("\u{1100}"), 2);
        assert_eq!(display_width("e\u{301}"), 1);
        assert_eq!(display_width("㐀"), 2); // Ext A
        assert_eq!(display_width("𠀀"), 2); // Ext B
        assert_eq!(display_width("￥"), 2);
        assert_eq!(display_width("a\tb\x1b"), 2);
        assert_eq!(display_width("é"), 1);
    }

    #[test]
    fn wraps_latin_at_spaces() {
        assert_eq!(wrap("the quick brown fox", 10), ["the quick", "brown fox"]);
        assert_eq!(wrap("aaa  bbb", 3), ["aaa", "bbb"]);
        assert_eq!(wrap("ab cd", 5), ["ab cd"]);
        assert_eq!(wrap("ab cd ", 5), ["ab cd"]);
        assert_eq!(wrap("  indented text", 10), ["  indented", "text"]);
    }

    #[test]
    fn hard_breaks_long_words() {
        assert_eq!(wrap("abcdefghij", 4), ["abcd", "efgh", "ij"]);
        assert_eq!(wrap("x abcdefghij", 4), ["x", "abcd", "efgh", "ij"]);
    }

    #[test]
    fn wraps_cjk_between_characters() {
        assert_eq!(wrap("中文中文中", 4), ["中文", "中文", "中"]);
        assert_eq!(wrap("中文中", 5), ["中文", "中"]);
        assert_eq!(wrap("金额Amount", 6), ["金额", "Amount"]);
        assert_eq!(wrap("ab中文", 4), ["ab中", "文"]);
    }

    #[test]
    fn keeps_closing_punctuation_on_the_line_before() {
        // "文，" moves together rather than starting a line with "，".
        assert_eq!(wrap("中文，好", 4), ["中", "文，", "好"]);
        // An opening bracket goes with what follows.
        assert_eq!(wrap("中（文）", 4), ["中", "（文", "）"]);
    }

    #[test]
    fn newlines_and_empty() {
        assert_eq!(wrap("", 10), [""]);
        assert_eq!(wrap("a\n\nb", 10), ["a", "", "b"]);
        assert_eq!(wrap("a\n", 10), ["a"]);
        assert_eq!(wrap("\n", 10), [""]);
    }

    #[test]
    fn combining_marks_stay_attached() {
        let lines = wrap("abe\u{301}cd", 3);
        assert_eq!(lines, ["abe\u{301}", "cd"]);
    }

    #[test]
    fn narrow_columns_never_loop() {
        assert_eq!(wrap("中文", 1), ["中", "文"]);
        assert_eq!(wrap("ab", 0), ["a", "b"]);
    }

    #[test]
    fn padding_and_pad() {
        assert_eq!(padding(3, 10, Align::Center), (3, 4));
        assert_eq!(padding(12, 10, Align::Right), (0, 0));
        assert_eq!(pad("中", 5, Align::Right), "   中");
        assert_eq!(pad("ab", 4, Align::Left), "ab  ");
        assert_eq!(columns_for(32, TextStyle::BIG), 16);
        assert_eq!(columns_for(48, TextStyle::BOLD), 48);
    }

    #[test]
    fn rows() {
        assert_eq!(row("Total", "12.00", 16), ["Total      12.00"]);
        assert_eq!(row("金额", "¥12.00", 12), ["金额  ¥12.00"]);
        assert_eq!(row("Merchant", "Shop", 16), ["Merchant    Shop"]);
        // 13 + 1 + 4 > 16: the value goes on its own right-aligned line.
        assert_eq!(
            row("Merchant name!", "Shop", 16),
            ["Merchant name!", "            Shop"]
        );
        assert_eq!(row("Label", "", 10), ["Label"]);
        assert_eq!(row("", "", 10), [""]);
        let long = row("商户名称", "深圳市某某科技有限公司", 16);
        assert_eq!(
            long,
            [
                "商户名称".to_string(),
                "深圳市某某科技有".to_string(),
                format!("{}限公司", " ".repeat(10))
            ]
        );
        for line in &long {
            assert!(display_width(line) <= 16);
        }
    }
}
