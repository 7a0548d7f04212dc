//! Choosing the encoding and cutting a text into parts: [`analyze`] (counts only, called on
//! every OTP create) and [`split`] (builds the parts). Both walk the text once per candidate
//! encoding with table lookups and share one [`Chunker`], so they always agree.

use bytes::Bytes;

use super::gsm7::Charset;
use super::udh::{udh_len, UdhSpec, CONCAT16_IE_LEN, CONCAT8_IE_LEN, SHIFT_IE_LEN};
use super::{
    latin1, packing, ucs2, Concat, Encoding, EncodingChoice, Part, SarInfo, SplitMessage,
    SplitOptions, TextError,
};

/// User data of one SMS: 140 octets, 160 septets.
const UD_OCTETS: usize = 140;
const UD_SEPTETS: usize = 160;
/// Hard ceiling of concatenation: total and seq are single octets.
const MAX_PARTS: usize = 255;
/// message_payload length is a 16-bit field.
const MAX_PAYLOAD: usize = 65_535;

/// Per-character writer for one encoding.
#[derive(Clone, Copy)]
enum Coder {
    Gsm(Charset),
    Ucs2,
    Latin1,
}

impl Coder {
    fn of(enc: &Encoding) -> Self {
        match enc.charset() {
            Some(cs) => Coder::Gsm(cs),
            None if *enc == Encoding::Latin1 => Coder::Latin1,
            None => Coder::Ucs2,
        }
    }

    /// Units (septets, octets, UTF-16 units) `ch` takes, `None` if it cannot be written.
    #[inline]
    fn cost(&self, ch: char) -> Option<usize> {
        match self {
            Coder::Gsm(cs) => cs.code(ch).map(|c| c.cost()),
            Coder::Ucs2 => Some(ch.len_utf16()),
            Coder::Latin1 => latin1::octet(ch).map(|_| 1),
        }
    }
}

/// Units that fit in one part whose UDH takes `udh` octets.
fn capacity(enc: &Encoding, udh: usize) -> usize {
    let octets = UD_OCTETS.saturating_sub(udh);
    match enc {
        Encoding::Gsm7 | Encoding::Gsm7National { .. } => {
            UD_SEPTETS.saturating_sub(udh.saturating_mul(8).div_ceil(7))
        }
        Encoding::Ucs2 => octets / 2,
        Encoding::Latin1 => octets,
    }
}

/// Octets of the national shift IEs an encoding needs.
fn national_ie_len(enc: &Encoding) -> usize {
    match enc {
        Encoding::Gsm7National {
            single_shift,
            locking_shift,
            ..
        } => SHIFT_IE_LEN
            .saturating_mul(usize::from(*single_shift).saturating_add(usize::from(*locking_shift))),
        _ => 0,
    }
}

/// Capacities of a single part and of each part of a concatenated message.
#[derive(Clone, Copy)]
struct Layout {
    single: usize,
    multi: usize,
}

impl Layout {
    fn of(enc: &Encoding, concat: Concat) -> Self {
        let national = national_ie_len(enc);
        // SAR and message_payload leave room for the 8-bit-reference UDH the SMSC adds.
        let concat_ie = match concat {
            Concat::Udh16 => CONCAT16_IE_LEN,
            Concat::Udh8 | Concat::Sar | Concat::Payload => CONCAT8_IE_LEN,
        };
        Self {
            single: capacity(enc, udh_len(national)),
            multi: capacity(enc, udh_len(national.saturating_add(concat_ie))),
        }
    }
}

/// Result of one pass over the text.
#[derive(Clone, Copy, Debug)]
struct Measure {
    total: usize,
    segments: usize,
    /// Whether some character takes two units (escape pair, surrogate pair).
    doubles: bool,
}

/// The first character `coder` cannot write, and its position.
fn first_missing(text: &str, coder: &Coder) -> (char, usize) {
    text.chars()
        .enumerate()
        .find(|&(_, ch)| coder.cost(ch).is_none())
        .map_or(('\0', 0), |(position, ch)| (ch, position))
}

/// Total units and whether any character takes two. Branch-light loops with no carried
/// state but the sums; the sums cannot wrap (at most two units per UTF-8 byte).
fn total_cost(text: &str, coder: &Coder) -> Result<(usize, bool), (char, usize)> {
    let mut total = 0usize;
    let mut doubles = false;
    let mut missing = false;
    match coder {
        Coder::Gsm(cs) if text.is_ascii() => {
            for &b in text.as_bytes() {
                let c = cs.ascii_cost(b);
                total = total.wrapping_add(c);
                doubles |= c == 2;
                missing |= c == 0;
            }
        }
        Coder::Ucs2 => {
            for ch in text.chars() {
                let c = ch.len_utf16();
                total = total.wrapping_add(c);
                doubles |= c == 2;
            }
        }
        _ => {
            // Stops at the first character missing: auto-selection tries GSM-7 first and
            // most non-GSM texts fail on their first letters.
            for (position, ch) in text.chars().enumerate() {
                let c = coder.cost(ch).ok_or((ch, position))?;
                total = total.wrapping_add(c);
                doubles |= c == 2;
            }
        }
    }
    if missing {
        return Err(first_missing(text, coder));
    }
    Ok((total, doubles))
}

/// Greedy packing of characters into parts of `cap` units: a character (escape pair,
/// surrogate pair) that does not fit whole opens the next part. Calls `cut(byte, units)` at
/// the end of each part but the last and returns the units of the last.
fn greedy(text: &str, coder: &Coder, cap: usize, mut cut: impl FnMut(usize, usize)) -> usize {
    let mut fill = 0usize;
    for (at, ch) in text.char_indices() {
        let c = coder.cost(ch).unwrap_or(0);
        if fill.saturating_add(c) > cap && fill > 0 {
            cut(at, fill);
            fill = 0;
        }
        fill = fill.saturating_add(c);
    }
    fill
}

/// Measures `text` in `enc`; the error is the first character it lacks and its position.
fn measure(text: &str, enc: &Encoding, concat: Concat) -> Result<Measure, (char, usize)> {
    let coder = Coder::of(enc);
    let layout = Layout::of(enc, concat);
    let (total, doubles) = total_cost(text, &coder)?;
    let segments = if total <= layout.single {
        1
    } else if !doubles {
        // One unit per character: the greedy cut is plain division.
        total.div_ceil(layout.multi.max(1))
    } else {
        let mut parts = 1usize;
        greedy(text, &coder, layout.multi, |_, _| {
            parts = parts.saturating_add(1)
        });
        parts
    };
    Ok(Measure {
        total,
        segments,
        doubles,
    })
}

/// National candidates in order of preference: single shift, locking shift, both.
fn national_candidates(opts: &SplitOptions) -> impl Iterator<Item = Encoding> + '_ {
    opts.national_languages
        .iter()
        .enumerate()
        .filter(|(i, lang)| !opts.national_languages.iter().take(*i).any(|l| l == *lang))
        .flat_map(|(_, &language)| {
            let lock = language.has_locking_shift();
            [(true, false), (false, true), (true, true)]
                .into_iter()
                .filter(move |&(_, locking)| lock || !locking)
                .map(
                    move |(single_shift, locking_shift)| Encoding::Gsm7National {
                        language,
                        single_shift,
                        locking_shift,
                    },
                )
        })
}

/// Picks the encoding and measures the text in it.
fn choose(text: &str, opts: &SplitOptions) -> Result<(Encoding, Measure), TextError> {
    let unrepresentable =
        |(ch, position): (char, usize), encoding: &'static str| TextError::Unrepresentable {
            ch,
            position,
            encoding,
        };
    match opts.encoding {
        EncodingChoice::Auto | EncodingChoice::Gsm7 => {
            let first_bad = match measure(text, &Encoding::Gsm7, opts.concat) {
                Ok(m) => return Ok((Encoding::Gsm7, m)),
                Err(bad) => bad,
            };
            // Fewest segments, then fewest septets, then the first candidate (fewest tables).
            let mut best: Option<(Encoding, Measure)> = None;
            for enc in national_candidates(opts) {
                if let Ok(m) = measure(text, &enc, opts.concat) {
                    let better =
                        best.is_none_or(|(_, b)| (m.segments, m.total) < (b.segments, b.total));
                    if better {
                        best = Some((enc, m));
                    }
                }
            }
            match (best, opts.encoding) {
                (Some(found), _) => Ok(found),
                (None, EncodingChoice::Gsm7) => Err(unrepresentable(first_bad, "GSM7")),
                (None, _) => measure(text, &Encoding::Ucs2, opts.concat)
                    .map(|m| (Encoding::Ucs2, m))
                    .map_err(|bad| unrepresentable(bad, "UCS2")),
            }
        }
        EncodingChoice::Ucs2 => measure(text, &Encoding::Ucs2, opts.concat)
            .map(|m| (Encoding::Ucs2, m))
            .map_err(|bad| unrepresentable(bad, "UCS2")),
        EncodingChoice::Latin1 => measure(text, &Encoding::Latin1, opts.concat)
            .map(|m| (Encoding::Latin1, m))
            .map_err(|bad| unrepresentable(bad, "LATIN1")),
    }
}

/// Octets the whole text takes in one message_payload, UDH included.
fn payload_octets(enc: &Encoding, total: usize, packed: bool) -> usize {
    let udh = udh_len(national_ie_len(enc));
    let body = match enc {
        Encoding::Gsm7 | Encoding::Gsm7National { .. } if packed => {
            packing::packed_len(total, packing::fill_bits(udh))
        }
        Encoding::Ucs2 => total.saturating_mul(2),
        _ => total,
    };
    body.saturating_add(udh)
}

fn check_limits(enc: &Encoding, m: Measure, opts: &SplitOptions) -> Result<(), TextError> {
    let max = opts.max_parts.min(MAX_PARTS);
    if m.segments > max {
        return Err(TextError::TooManyParts {
            parts: m.segments,
            max,
        });
    }
    if opts.concat == Concat::Payload {
        let octets = payload_octets(enc, m.total, opts.packed_gsm7);
        if octets > MAX_PAYLOAD {
            return Err(TextError::PayloadTooLong {
                octets,
                max: MAX_PAYLOAD,
            });
        }
    }
    Ok(())
}

/// The encoding [`split`] would use and the SMS segments the text takes, without building
/// the parts. Errors exactly when [`split`] does.
pub fn analyze(text: &str, opts: &SplitOptions) -> Result<(Encoding, usize), TextError> {
    let (enc, m) = choose(text, opts)?;
    check_limits(&enc, m, opts)?;
    Ok((enc, m.segments))
}

/// Encodes `text` and cuts it into parts (see the module documentation for the sizes).
pub fn split(text: &str, opts: &SplitOptions) -> Result<SplitMessage, TextError> {
    let (enc, m) = choose(text, opts)?;
    check_limits(&enc, m, opts)?;
    let parts = if opts.concat == Concat::Payload {
        let whole = Measure { segments: 1, ..m };
        build(text, &enc, opts, &whole, usize::MAX)?
    } else {
        build(text, &enc, opts, &m, Layout::of(&enc, opts.concat).multi)?
    };
    Ok(SplitMessage {
        encoding: enc,
        data_coding: enc.data_coding(),
        parts,
        segments: m.segments,
    })
}

/// Byte ranges of `text` (start, end, units) for each part of a message of several.
fn cut(text: &str, coder: &Coder, cap: usize, m: &Measure) -> Vec<(usize, usize, usize)> {
    let one_byte_units = text.is_ascii() && !m.doubles && !matches!(coder, Coder::Ucs2);
    let mut out = Vec::with_capacity(m.segments);
    if one_byte_units {
        let mut start = 0usize;
        while start < text.len() {
            let end = start.saturating_add(cap).min(text.len());
            out.push((start, end, end.saturating_sub(start)));
            start = end;
        }
        return out;
    }
    if !m.doubles {
        // One unit per character: a part starts every `cap` characters.
        let mut starts = text
            .char_indices()
            .step_by(cap.max(1))
            .map(|(at, _)| at)
            .peekable();
        let mut left = m.total;
        while let Some(start) = starts.next() {
            let end = starts.peek().copied().unwrap_or(text.len());
            let units = left.min(cap);
            left = left.saturating_sub(units);
            out.push((start, end, units));
        }
        return out;
    }
    let mut start = 0usize;
    let last = greedy(text, coder, cap, |at, units| {
        out.push((start, at, units));
        start = at;
    });
    out.push((start, text.len(), last));
    out
}

/// Writes every part into one buffer (UDH then payload, part after part) and slices it.
fn build(
    text: &str,
    enc: &Encoding,
    opts: &SplitOptions,
    m: &Measure,
    cap: usize,
) -> Result<Vec<Part>, TextError> {
    let coder = Coder::of(enc);
    let (single_shift, locking_shift) = match *enc {
        Encoding::Gsm7National {
            language,
            single_shift,
            locking_shift,
        } => (
            single_shift.then_some(language),
            locking_shift.then_some(language),
        ),
        _ => (None, None),
    };
    let bad = || {
        let (ch, position) = first_missing(text, &coder);
        TextError::Unrepresentable {
            ch,
            position,
            encoding: enc.name(),
        }
    };
    let packed = opts.packed_gsm7 && matches!(coder, Coder::Gsm(_));
    let per_unit = if matches!(coder, Coder::Ucs2) { 2 } else { 1 };
    let mut septets: Vec<u8> = Vec::new();
    // Writes the part `from..to` of `text`, number `seq` of `total`, at the end of `buf`:
    // where its UDH ends.
    let mut write_part = |buf: &mut Vec<u8>,
                          (from, to): (usize, usize),
                          (seq, total): (u8, u8)|
     -> Result<usize, TextError> {
        let start = buf.len();
        let concat = match opts.concat {
            _ if total <= 1 => None,
            Concat::Udh8 => Some((opts.reference & 0xFF, total, seq, false)),
            Concat::Udh16 => Some((opts.reference, total, seq, true)),
            Concat::Sar | Concat::Payload => None,
        };
        UdhSpec {
            concat,
            single_shift,
            locking_shift,
        }
        .write(buf);
        let udh_end = buf.len();
        let sub = text.get(from..to).ok_or_else(bad)?;
        match coder {
            Coder::Gsm(cs) => {
                let target = if packed { &mut septets } else { &mut *buf };
                if sub.is_ascii() && !m.doubles {
                    target.extend(sub.bytes().map(|b| cs.locking.septet_of_byte(b)));
                } else {
                    for ch in sub.chars() {
                        cs.code(ch).ok_or_else(bad)?.push_to(target);
                    }
                }
                if packed {
                    let fill = packing::fill_bits(udh_end.saturating_sub(start));
                    packing::pack_into(&septets, fill, buf);
                    septets.clear();
                }
            }
            Coder::Ucs2 => ucs2::push_str(sub, buf),
            Coder::Latin1 => {
                for ch in sub.chars() {
                    buf.push(latin1::octet(ch).ok_or_else(bad)?);
                }
            }
        }
        Ok(udh_end)
    };

    if m.segments <= 1 {
        // One part, the usual OTP: its buffer is its payload when it has no UDH, not a slice
        // of it (a slice shares the buffer: one more allocation), and no list of ranges.
        let mut buf = Vec::with_capacity(m.total.saturating_mul(per_unit).saturating_add(16));
        let udh_end = write_part(&mut buf, (0, text.len()), (1, 1))?;
        let (udh, payload) = if udh_end == 0 {
            (None, Bytes::from(buf))
        } else {
            let all = Bytes::from(buf);
            (Some(all.slice(..udh_end)), all.slice(udh_end..))
        };
        return Ok(vec![Part {
            udh,
            payload,
            sar: None,
            units: m.total,
        }]);
    }
    let ranges = cut(text, &coder, cap, m);
    let total = u8::try_from(ranges.len()).map_err(|_| TextError::TooManyParts {
        parts: ranges.len(),
        max: MAX_PARTS,
    })?;
    let mut buf = Vec::with_capacity(
        m.total
            .saturating_mul(per_unit)
            .saturating_add(usize::from(total).saturating_mul(16)),
    );
    // (start, udh_end, end, units) of each part in `buf`.
    let mut spans = Vec::with_capacity(ranges.len());
    for ((from, to, units), seq) in ranges.into_iter().zip(1u8..) {
        let start = buf.len();
        let udh_end = write_part(&mut buf, (from, to), (seq, total))?;
        spans.push((start, udh_end, buf.len(), units));
    }

    let all = Bytes::from(buf);
    Ok(spans
        .into_iter()
        .zip(1u8..)
        .map(|((start, udh_end, end, units), seqnum)| Part {
            udh: (udh_end > start).then(|| all.slice(start..udh_end)),
            payload: all.slice(udh_end..end),
            sar: (opts.concat == Concat::Sar && total > 1).then_some(SarInfo {
                reference: opts.reference,
                total,
                seqnum,
            }),
            units,
        })
        .collect())
}
