//! `poscore sign TRACE --strokes FILE`: stores the cardholder's electronic signature for a
//! transaction (`Command::SaveSignature`); slips printed from then on carry it.
//!
//! FILE is JSON: the pad's size and the strokes, each a list of `[x, y]` points in pad
//! coordinates:
//!
//! ```json
//! {"width": 400, "height": 160, "strokes": [[[10, 80], [60, 40], [120, 90]], [[150, 60], [220, 70]]]}
//! ```

use std::path::Path;

use poscore::signature::Signature;
use poscore::{Command, Lang};
use serde_json::Value;

use crate::Failure;
use crate::commands::{parse_trace, request_id_or_fresh, submit_and_finish};
use crate::session::LinkOptions;

/// Reads a strokes file (see the module documentation).
pub fn read_strokes(text: &str) -> Result<Signature, String> {
    let value: Value = serde_json::from_str(text).map_err(|e| format!("not JSON: {e}"))?;
    let side = |name: &str| -> Result<u16, String> {
        value[name]
            .as_u64()
            .and_then(|n| u16::try_from(n).ok())
            .ok_or_else(|| format!("\"{name}\" must be a number from 0 to 65535"))
    };
    let (width, height) = (side("width")?, side("height")?);
    let strokes = value["strokes"]
        .as_array()
        .ok_or("\"strokes\" must be a list of strokes")?;
    let mut out = Vec::with_capacity(strokes.len());
    for (i, stroke) in strokes.iter().enumerate() {
        let points = stroke
            .as_array()
            .ok_or_else(|| format!("stroke {i} must be a list of [x, y] points"))?;
        let mut line = Vec::with_capacity(points.len());
        for point in points {
            let coordinate = |k: usize| {
                point
                    .get(k)
                    .and_then(Value::as_u64)
                    .and_then(|n| u16::try_from(n).ok())
            };
            match (point.as_array().map(Vec::len), coordinate(0), coordinate(1)) {
                (Some(2), Some(x), Some(y)) => line.push((x, y)),
                _ => {
                    return Err(format!(
                        "stroke {i} has a point that is not [x, y] with numbers from 0 to 65535: {point}"
                    ));
                }
            }
        }
        out.push(line);
    }
    Ok(Signature::Strokes {
        width,
        height,
        strokes: out,
    })
}

/// Runs the command: exit 2 for a file that cannot be read, 1 when the engine refuses the
/// signature (unknown trace, strokes off the pad, no ink).
pub async fn run(
    db: &Path,
    links: &LinkOptions,
    lang: Lang,
    trace: &str,
    strokes: &Path,
) -> Result<(), Failure> {
    let trace = parse_trace(trace, lang)?;
    let text = std::fs::read_to_string(strokes).map_err(|e| Failure {
        exit_code: 2,
        message: match lang {
            Lang::Zh => format!("无法读取签名文件 {}：{e}", strokes.display()),
            Lang::En => format!("cannot read the strokes file {}: {e}", strokes.display()),
        },
    })?;
    let signature = read_strokes(&text).map_err(|why| Failure {
        exit_code: 2,
        message: match lang {
            Lang::Zh => format!("签名文件 {} 格式错误：{why}", strokes.display()),
            Lang::En => format!(
                "the strokes file {} is not a signature: {why}",
                strokes.display()
            ),
        },
    })?;
    let request_id = request_id_or_fresh(None, "sign", lang)?;
    let command = Command::SaveSignature {
        trace,
        signature: signature.to_bytes(),
    };
    submit_and_finish(db, links, lang, request_id, command, |_, lang| match lang {
        Lang::Zh => "签名已保存，之后打印的签购单带有签名".to_string(),
        Lang::En => "signature saved; slips printed from now on carry it".to_string(),
    })
    .await
    .map(|_| ())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strokes_files_are_read_or_refused_with_the_reason() {
        let signature = read_strokes(
            r#"{"width": 400, "height": 160, "strokes": [[[10, 80], [60, 40]], [[150, 60]]]}"#,
        )
        .unwrap();
        assert_eq!(
            signature,
            Signature::Strokes {
                width: 400,
                height: 160,
                strokes: vec![vec![(10, 80), (60, 40)], vec![(150, 60)]]
            }
        );
        assert!(read_strokes("{").unwrap_err().contains("not JSON"));
        assert!(
            read_strokes(r#"{"width": 400, "strokes": []}"#)
                .unwrap_err()
                .contains("height")
        );
        assert!(
            read_strokes(r#"{"width": 4, "height": 4, "strokes": [[[1, 2, 3]]]}"#)
                .unwrap_err()
                .contains("[x, y]")
        );
        assert!(
            read_strokes(r#"{"width": 4, "height": 4, "strokes": [[[1, -2]]]}"#)
                .unwrap_err()
                .contains("stroke 0")
        );
    }
}
